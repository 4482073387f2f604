//! The harness of the vault's end-to-end tests (`tests/vault_e2e.rs`): a chain, funded accounts, the real
//! contracts deployed on it, helpers to send transactions and read state through JSON-RPC with alloy, and the
//! invariants checked after every step.
//!
//! # The chain
//!
//! By default every test starts its own in-process devnode ([`RpcServer::spawn`] on a free port) and uses its
//! dev accounts. With `DAMM_E2E_RPC=<url>` and `DAMM_E2E_KEY=<funded private key>` the same tests run against
//! that node instead, taking turns: the funded key deploys everything and pays fresh keys for the other roles
//! (`DAMM_E2E_FUND` wei each, 0.2 ETH by default), and sends `DAMM_E2E_ACTIVATION_VALUE` wei (0.01 ETH by
//! default) with each Stylus deployment for its activation fee. Time travel (`evm_increaseTime`, `evm_mine`)
//! is only used on the devnode ([`Harness::can_travel`]); elsewhere the tests use the timestamps blocks
//! actually have. Each test prints which it runs on.
//!
//! # The contracts
//!
//! - `ERC20.json` and `UniswapV2Factory.json` from `node_modules/@uniswap/v2-core/build` (EVM bytecode); pairs
//!   come from `createPair`.
//! - The vault's programs ([`VAULT_PROGRAMS`]: the vault and the programs it delegates to),
//!   `test-token` and `test-forwarder`, built for wasm32 with the `contract` profile (in
//!   `target/devnode-tests` and `target/devnode-tests-vault-delegates`, see [`programs`]: never in the test's
//!   own target directory, whose build lock the test holds), prepared with
//!   [`damm::wasm::prepare_program`] and deployed through the StylusDeployer: deploy, activate and construct in
//!   one transaction.
//!
//! # Bookkeeping
//!
//! The harness remembers what the invariants need and the chain does not say: the pools, tokens sent to the
//! vault outside its methods (donations), and the rewards funded and claimed per slot.

#![allow(dead_code, unreachable_pub, missing_docs)]

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
    process::Command,
    sync::{Mutex, OnceLock},
    time::{Duration, Instant},
};

use alloy::{
    contract::{CallBuilder, CallDecoder},
    network::{EthereumWallet, TransactionBuilder},
    primitives::{keccak256, Address, Bytes, B256, U256},
    providers::{ext::AnvilApi, DynProvider, Provider, ProviderBuilder},
    rpc::types::{BlockId, Filter, Log, TransactionReceipt, TransactionRequest},
    signers::local::PrivateKeySigner,
    sol,
    sol_types::{SolCall, SolEvent, SolInterface, SolValue},
};
use damm::{
    bindings::{IUniswapV2Factory, IUniswapV2Pair, IVault, IERC20},
    math::vault::{health_factor, pool_liquidity, PairState, PoolHoldings},
    wasm::{prepare_program, PreparedProgram},
};
// Not every test binary uses both.
#[allow(unused_imports)]
pub use damm_devnode::evm_code::{evm_script, init_code_for};
use damm_devnode::{
    deployer::StylusDeployer,
    rpc::{RpcServer, ServerConfig},
};

pub mod market;

sol!(
    #[sol(rpc)]
    "contracts/test-token/ITestToken.sol"
);

sol!(
    #[sol(rpc)]
    "contracts/test-forwarder/ITestForwarder.sol"
);

/// The vault's events, declared here from the contract's `sol!` block (the exported interface has no events):
/// decoding the receipts with them checks the signatures and the indexed topics too.
pub mod events {
    alloy::sol! {
        #[derive(Debug, PartialEq, Eq)]
        event Transfer(address indexed pool, address indexed from, address indexed to, uint256 amount);
        #[derive(Debug, PartialEq, Eq)]
        event Approval(address indexed pool, address indexed owner, address indexed spender, uint256 amount);
        #[derive(Debug, PartialEq, Eq)]
        event Deposit(address indexed pool, address indexed sender, address indexed receiver, uint256 lp, uint256 shares);
        #[derive(Debug, PartialEq, Eq)]
        event Withdraw(address indexed pool, address indexed owner, address indexed receiver, uint256 shares, uint256 amount0, uint256 amount1, uint256 lp);
        #[derive(Debug, PartialEq, Eq)]
        event Settled(address indexed market, address indexed counterparty, uint256 in0, uint256 in1, uint256 out0, uint256 out1, uint256 lpBurned, uint256 healthFactor);
        #[derive(Debug, PartialEq, Eq)]
        event ProtocolFeesClaimed(address indexed token, address indexed treasury, uint256 amount);
        #[derive(Debug, PartialEq, Eq)]
        event RewardFunded(address indexed pool, uint256 index, uint256 amount, uint256 periodTotal);
        #[derive(Debug, PartialEq, Eq)]
        event RewardClaimed(address indexed pool, uint256 index, address indexed account, uint256 amount);
        #[derive(Debug, PartialEq, Eq)]
        event MarketRegistered(address indexed market, address indexed pool, address indexed operator, bool compounding, uint256 liquidityLimit);
    }
}

/// The StylusDeployer's address (the same on every Arbitrum chain, and on the devnode).
pub const STYLUS_DEPLOYER: Address = damm_devnode::deployer::STYLUS_DEPLOYER;

/// Gas limit of every transaction on the devnode (estimating would run each Stylus call a few dozen times).
const DEVNODE_GAS: u64 = 30_000_000;
/// Gas limit of a transaction expected to revert on an external node (it cannot be estimated).
const EXTERNAL_REVERT_GAS: u64 = 10_000_000;

/// `n · 10^18`.
pub fn e18(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18u64))
}

/// `U256` shorthand.
pub fn u(n: u128) -> U256 {
    U256::from(n)
}

/// A `U256` that fits 128 bits, as the math crate takes token amounts.
pub fn small(x: U256) -> u128 {
    u128::try_from(x).expect("fits 128 bits")
}

// ---- contracts: build and prepare ----------------------------------------------------------------------------

/// The workspace root.
pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The vault's programs, in the order its constructor takes them and `programs()` returns them: the list
/// `damm deploy` uses.
pub use damm::deploy::VAULT_PROGRAMS;

/// The Stylus programs under test, built once per test binary.
pub struct Programs {
    /// The vault and its delegates, as [`VAULT_PROGRAMS`] lists them.
    pub vault: Vec<(&'static str, PreparedProgram)>,
    pub token: PreparedProgram,
    pub forwarder: PreparedProgram,
    /// The market program (one deployment per market) and the market-admin program it delegates to (one
    /// deployment for every market).
    pub market: PreparedProgram,
    pub market_admin: PreparedProgram,
}

/// Builds `packages` for wasm32 with the contract profile in one cargo run, in `target/<target_dir>` (never
/// the test's own target directory, whose build lock the test holds), and returns them prepared for
/// deployment.
pub fn build_programs(packages: &[&str], target_dir: &str) -> Vec<PreparedProgram> {
    let target_dir = workspace().join("target").join(target_dir);
    let mut command = Command::new(env!("CARGO"));
    command.current_dir(workspace()).args([
        "build",
        "--profile",
        "contract",
        "--target",
        "wasm32-unknown-unknown",
        "--quiet",
    ]);
    for package in packages {
        command.args(["-p", package]);
    }
    let status = command
        .env("CARGO_TARGET_DIR", &target_dir)
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building {packages:?} for wasm32 failed");
    packages
        .iter()
        .map(|package| {
            let file = target_dir
                .join("wasm32-unknown-unknown/contract")
                .join(format!("{}.wasm", package.replace('-', "_")));
            let wasm = std::fs::read(&file).unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
            prepare_program(&wasm).unwrap_or_else(|e| panic!("{package} is not a valid program: {e}"))
        })
        .collect()
}

/// The vault's programs, `test-token`, `test-forwarder` and the market's two programs, built and prepared once
/// per test binary.
///
/// The vault's delegates (and the market-admin program) use the vault's (the market's) library without its
/// entrypoint (`default-features = false`): built
/// in one cargo run with the vault, the features would unify (two entrypoints), and built one after the other
/// in one target directory, each switch of features rebuilds the library. So the delegates have a target
/// directory of their own, and both stay cached between runs.
pub fn programs() -> &'static Programs {
    static PROGRAMS: OnceLock<Programs> = OnceLock::new();
    PROGRAMS.get_or_init(|| {
        let mut main = build_programs(
            &[VAULT_PROGRAMS[0], "test-token", "test-forwarder", "damm-market"],
            "devnode-tests",
        )
        .into_iter();
        let (vault, token, forwarder, market) = (
            main.next().expect("vault"),
            main.next().expect("test-token"),
            main.next().expect("test-forwarder"),
            main.next().expect("damm-market"),
        );
        let mut delegates = build_programs(
            &[&VAULT_PROGRAMS[1..], &["damm-market-admin"][..]].concat(),
            "devnode-tests-vault-delegates",
        );
        let market_admin = delegates.pop().expect("damm-market-admin");
        Programs {
            vault: VAULT_PROGRAMS
                .iter()
                .copied()
                .zip(std::iter::once(vault).chain(delegates))
                .collect(),
            token,
            forwarder,
            market,
            market_admin,
        }
    })
}

/// A fresh directory `{suite}-{name}-{pid}-{nanos}` under the system's temporary directory.
pub fn temp_dir(suite: &str, name: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_nanos();
    let dir = std::env::temp_dir().join(format!("{suite}-{name}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    dir
}

/// Copies the seven programs `damm deploy` reads (the vault's five, the market, the market-admin program) from
/// where [`programs`] builds them into `dir`, laid out as `scripts/build-contracts.sh` lays them out.
pub async fn program_dir(dir: &Path) {
    tokio::task::spawn_blocking(programs)
        .await
        .expect("the contracts are built");
    let target = workspace().join("target");
    let main = target.join("devnode-tests/wasm32-unknown-unknown/contract");
    let delegates = target.join("devnode-tests-vault-delegates/wasm32-unknown-unknown/contract");
    for (name, from) in [
        (VAULT_PROGRAMS[0], &main),
        (damm::deploy::MARKET_PROGRAM, &main),
        (VAULT_PROGRAMS[1], &delegates),
        (VAULT_PROGRAMS[2], &delegates),
        (VAULT_PROGRAMS[3], &delegates),
        (VAULT_PROGRAMS[4], &delegates),
        (damm::deploy::MARKET_ADMIN_PROGRAM, &delegates),
    ] {
        let file = format!("{}.wasm", name.replace('-', "_"));
        std::fs::copy(from.join(&file), dir.join(&file)).expect("copies a program");
    }
}

/// The `bytecode` of a `@uniswap/v2-core` build artifact; fails (never skips) when the package is missing.
pub fn uniswap_artifact(name: &str) -> Vec<u8> {
    damm_devnode::evm_code::uniswap_artifact(&workspace(), name)
}

// ---- the harness ---------------------------------------------------------------------------------------------

/// The accounts of the scenarios, by role.
#[derive(Debug, Clone, Copy)]
pub struct Accounts {
    /// Deploys everything; the vault's owner; holds the initial token supplies.
    pub owner: Address,
    pub treasury: Address,
    pub guardian: Address,
    /// The test market's operator (the counterparty of its settlements).
    pub operator: Address,
    pub referrer: Address,
    pub alice: Address,
    pub bob: Address,
    pub carol: Address,
    pub attacker: Address,
    /// Funds rewards.
    pub funder: Address,
}

/// A pool the harness created: its pair (which is also the pool's id and its LP token) and its tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolTrack {
    pub pair: Address,
    pub token0: Address,
    pub token1: Address,
}

/// A pool's state as `poolInfo` returns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolInfo {
    pub token0: Address,
    pub token1: Address,
    pub raw0: U256,
    pub raw1: U256,
    pub lp: U256,
    pub total_shares: U256,
    pub hf_min: U256,
}

impl PoolInfo {
    /// The holdings as the math crate takes them.
    pub fn holdings(&self) -> PoolHoldings {
        PoolHoldings {
            raw0: small(self.raw0),
            raw1: small(self.raw1),
            lp: self.lp,
        }
    }
}

/// Funded and claimed amounts of one reward slot.
#[derive(Debug, Clone, Copy, Default)]
struct RewardBook {
    token: Address,
    funded: U256,
    claimed: U256,
}

/// Tests against one external node take turns: they all deploy from the one funded key, whose nonces two
/// tests at once would race for.
static EXTERNAL_TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// One test's chain, accounts and contracts.
pub struct Harness {
    /// The in-process devnode, when no external node was given (`None` while it is stopped, see
    /// [`Harness::stop_devnode`]).
    node: Option<RpcServer>,
    /// How the in-process devnode was started (`None` on an external node): restarts reuse it, on the same port.
    devnode_config: Option<ServerConfig>,
    /// The private keys of the accounts (the devnode's dev keys, or the external node's funded key and the
    /// fresh keys it paid), in the order of [`Accounts`]' fields.
    keys: Vec<PrivateKeySigner>,
    /// This test's turn on the external node.
    _turn: Option<tokio::sync::MutexGuard<'static, ()>>,
    pub url: String,
    pub provider: DynProvider,
    pub accounts: Accounts,
    /// The first block of this test's deployment (logs are read from here).
    pub start_block: u64,
    pub factory: Address,
    /// The two ERC-20s (`ERC20.json`) of the main pool, sorted: `token0 < token1`.
    pub token0: Address,
    pub token1: Address,
    /// The main pool (its Uniswap V2 pair), created in the vault.
    pub pool: Address,
    pub vault: Address,
    /// The test market: a `test-forwarder` instance (not registered yet).
    pub forwarder: Address,
    pools: Mutex<Vec<PoolTrack>>,
    /// Tokens sent to the vault outside its methods, by token.
    donations: Mutex<BTreeMap<Address, U256>>,
    /// Reward slots, by `(pool, index)`.
    rewards: Mutex<BTreeMap<(Address, u64), RewardBook>>,
}

/// The supply each `ERC20.json` token is created with (all to the owner).
pub const SUPPLY: u64 = 1_000_000_000_000; // tokens of 1e18 atoms

impl Harness {
    /// Starts (or connects to) the chain, funds the accounts, and deploys the tokens, the Uniswap V2 factory
    /// and the main pair, the vault (with the main pool created) and the test market.
    pub async fn new() -> Harness {
        Self::start(None).await
    }

    /// As [`Harness::new`], with the in-process devnode keeping its state in `state_file` (written when it
    /// stops, loaded when it starts again: see [`Harness::restart_devnode`]). On an external node the file is
    /// not used.
    pub async fn with_state_file(state_file: PathBuf) -> Harness {
        Self::start(Some(state_file)).await
    }

    async fn start(state_file: Option<PathBuf>) -> Harness {
        let programs = tokio::task::spawn_blocking(programs)
            .await
            .expect("the contract build finished");
        let external = std::env::var("DAMM_E2E_RPC").ok().filter(|s| !s.is_empty());
        let turn = match external {
            Some(_) => Some(EXTERNAL_TURN.lock().await),
            None => None,
        };
        let (node, devnode_config, url, keys) = match external {
            Some(url) => {
                let key = std::env::var("DAMM_E2E_KEY")
                    .expect("DAMM_E2E_KEY (a funded private key) must be set with DAMM_E2E_RPC");
                let key: PrivateKeySigner = key.trim().parse().expect("DAMM_E2E_KEY is a private key");
                println!("vault e2e: external node at {url} (deployer {})", key.address());
                let mut keys = vec![key];
                keys.extend((0..9).map(|_| PrivateKeySigner::random()));
                (None, None, url, keys)
            }
            None => {
                let config = ServerConfig {
                    state_file,
                    ..ServerConfig::default()
                };
                let server = RpcServer::spawn(config.clone()).expect("the devnode starts");
                let url = server.url();
                println!("vault e2e: in-process devnode at {url}");
                let keys: Vec<PrivateKeySigner> = server
                    .dev_accounts()
                    .iter()
                    .map(|(_, key)| PrivateKeySigner::from_bytes(key).expect("dev key"))
                    .collect();
                assert!(keys.len() >= 10, "the devnode has ten dev accounts");
                // Restarts listen on the same port.
                let config = ServerConfig {
                    port: server.local_addr().port(),
                    ..config
                };
                (Some(server), Some(config), url, keys)
            }
        };
        let mut wallet = EthereumWallet::new(keys[0].clone());
        for key in &keys[1..] {
            wallet.register_signer(key.clone());
        }
        // Nonces are asked of the node for every transaction (not cached), so a test may revert the devnode to a
        // snapshot and go on sending.
        let provider = ProviderBuilder::new()
            .disable_recommended_fillers()
            .with_gas_estimation()
            .with_simple_nonce_management()
            .fetch_chain_id()
            .wallet(wallet)
            .connect_http(url.parse().expect("a URL"))
            .erased();
        let a: Vec<Address> = keys.iter().map(PrivateKeySigner::address).collect();
        let accounts = Accounts {
            owner: a[0],
            treasury: a[1],
            guardian: a[2],
            operator: a[3],
            referrer: a[4],
            alice: a[5],
            bob: a[6],
            carol: a[7],
            attacker: a[8],
            funder: a[9],
        };
        let start_block = provider.get_block_number().await.expect("block number");
        let mut h = Harness {
            node,
            devnode_config,
            keys: keys.clone(),
            _turn: turn,
            url,
            provider,
            accounts,
            start_block,
            factory: Address::ZERO,
            token0: Address::ZERO,
            token1: Address::ZERO,
            pool: Address::ZERO,
            vault: Address::ZERO,
            forwarder: Address::ZERO,
            pools: Mutex::new(Vec::new()),
            donations: Mutex::new(BTreeMap::new()),
            rewards: Mutex::new(BTreeMap::new()),
        };
        if !h.is_devnode() {
            let amount = std::env::var("DAMM_E2E_FUND")
                .ok()
                .map(|v| v.parse::<U256>().expect("DAMM_E2E_FUND is a wei amount"))
                .unwrap_or(U256::from(200_000_000_000_000_000u128));
            for to in &a[1..] {
                let tx = TransactionRequest::default()
                    .with_from(a[0])
                    .with_to(*to)
                    .with_value(amount);
                h.send_tx(tx).await;
            }
        }

        let (t_a, t_b) = (
            h.deploy_erc20(e18(SUPPLY)).await,
            h.deploy_erc20(e18(SUPPLY)).await,
        );
        (h.token0, h.token1) = if t_a < t_b { (t_a, t_b) } else { (t_b, t_a) };
        h.factory = h
            .deploy_evm(uniswap_artifact("UniswapV2Factory"), accounts.owner.abi_encode())
            .await;
        // The programs the vault delegates to first, then the vault with its constructor
        // `(factory, owner, treasury, guardian, ...the delegates)`.
        let mut delegates = Vec::new();
        for (_, program) in &programs.vault[1..] {
            delegates.push(h.deploy_stylus(program.code(), Bytes::new()).await);
        }
        let mut init = keccak256(b"stylus_constructor()")[..4].to_vec();
        for address in [h.factory, accounts.owner, accounts.treasury, accounts.guardian]
            .iter()
            .chain(&delegates)
        {
            init.extend_from_slice(address.into_word().as_slice());
        }
        h.vault = h.deploy_stylus(programs.vault[0].1.code(), init.into()).await;
        let call = TransactionRequest::default()
            .with_to(h.vault)
            .with_input(keccak256(b"programs()")[..4].to_vec());
        let output = h.provider.call(call).await.expect("programs()");
        let words: Vec<Address> = output
            .chunks(32)
            .map(|word| Address::from_word(B256::from_slice(word)))
            .collect();
        assert_eq!(
            words, delegates,
            "the vault delegates to the programs it was constructed with"
        );
        h.forwarder = h.deploy_stylus(programs.forwarder.code(), Bytes::new()).await;
        h.pool = h.create_pool(h.token0, h.token1).await.pair;
        h
    }

    /// Whether the chain is the in-process devnode.
    pub fn is_devnode(&self) -> bool {
        self.devnode_config.is_some()
    }

    /// The private key of `account` (one of [`Accounts`]).
    pub fn private_key(&self, account: Address) -> B256 {
        self.keys
            .iter()
            .find(|key| key.address() == account)
            .map(|key| key.to_bytes())
            .unwrap_or_else(|| panic!("{account} is not one of the harness's accounts"))
    }

    /// Stops the in-process devnode (writing its state file, if it has one); its port stays reserved for
    /// [`Harness::start_devnode`]. Requests meanwhile fail to connect.
    pub fn stop_devnode(&mut self) {
        let node = self.node.take().expect("the devnode is running");
        node.shutdown().expect("the devnode stops and writes its state");
    }

    /// Starts the in-process devnode again on the same port, from its state file (the accounts and the head
    /// block: transactions, receipts and logs before it are gone, and so is its pool).
    pub fn start_devnode(&mut self) {
        assert!(self.node.is_none(), "the devnode is running already");
        let config = self.devnode_config.clone().expect("an in-process devnode");
        // The port was just released: retry briefly should the system not have freed it yet.
        let start = Instant::now();
        let server = loop {
            match RpcServer::spawn(config.clone()) {
                Ok(server) => break server,
                Err(e) if start.elapsed() < Duration::from_secs(10) => {
                    println!("devnode restart: {e}; retrying");
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => panic!("the devnode does not start again: {e}"),
            }
        };
        assert_eq!(server.url(), self.url, "the devnode is back on its port");
        self.node = Some(server);
    }

    /// Stops the in-process devnode, waits `outage`, and starts it again ([`Harness::stop_devnode`],
    /// [`Harness::start_devnode`]).
    pub fn restart_devnode(&mut self, outage: Duration) {
        self.stop_devnode();
        std::thread::sleep(outage);
        self.start_devnode();
    }

    /// Whether the clock can be moved (the devnode only).
    pub fn can_travel(&self) -> bool {
        self.is_devnode()
    }

    // ---- contract handles ----

    pub fn vault(&self) -> IVault::IVaultInstance<DynProvider> {
        IVault::new(self.vault, self.provider.clone())
    }

    pub fn erc20(&self, token: Address) -> IERC20::IERC20Instance<DynProvider> {
        IERC20::new(token, self.provider.clone())
    }

    pub fn pair(&self, pair: Address) -> IUniswapV2Pair::IUniswapV2PairInstance<DynProvider> {
        IUniswapV2Pair::new(pair, self.provider.clone())
    }

    pub fn factory(&self) -> IUniswapV2Factory::IUniswapV2FactoryInstance<DynProvider> {
        IUniswapV2Factory::new(self.factory, self.provider.clone())
    }

    pub fn test_token(&self, token: Address) -> ITestToken::ITestTokenInstance<DynProvider> {
        ITestToken::new(token, self.provider.clone())
    }

    pub fn forwarder_at(&self, forwarder: Address) -> ITestForwarder::ITestForwarderInstance<DynProvider> {
        ITestForwarder::new(forwarder, self.provider.clone())
    }

    // ---- transactions ----

    /// Sends `tx` and waits for its receipt, whatever its status.
    pub async fn send_tx(&self, mut tx: TransactionRequest) -> TransactionReceipt {
        if tx.gas.is_none() && self.is_devnode() {
            tx.gas = Some(DEVNODE_GAS);
        }
        let pending = self
            .provider
            .send_transaction(tx)
            .await
            .expect("the transaction is accepted");
        self.receipt(*pending.tx_hash()).await
    }

    /// Polls for the receipt of `hash`.
    pub async fn receipt(&self, hash: B256) -> TransactionReceipt {
        let (pause, limit) = if self.is_devnode() {
            (Duration::from_millis(2), Duration::from_secs(120))
        } else {
            (Duration::from_millis(100), Duration::from_secs(300))
        };
        let start = Instant::now();
        loop {
            if let Some(receipt) = self
                .provider
                .get_transaction_receipt(hash)
                .await
                .expect("receipt query")
            {
                return receipt;
            }
            assert!(start.elapsed() < limit, "no receipt for {hash} after {limit:?}");
            tokio::time::sleep(pause).await;
        }
    }

    /// Sends a contract call (set `.from(...)` on it) and asserts it succeeded.
    pub async fn send<P, D>(&self, call: CallBuilder<P, D>) -> TransactionReceipt
    where
        P: Provider,
        D: CallDecoder,
    {
        let receipt = self.send_tx(call.into_transaction_request()).await;
        assert!(receipt.status(), "transaction failed: {receipt:?}");
        receipt
    }

    /// A call expected to fail: its revert data from `eth_call`, after which the transaction itself is sent and
    /// must be mined as failed. Returns the revert data.
    pub async fn reverts<P, D>(&self, call: CallBuilder<P, D>) -> Bytes
    where
        P: Provider,
        D: CallDecoder,
    {
        let error = call.call_raw().await.expect_err("the call must revert");
        let data = error
            .as_revert_data()
            .unwrap_or_else(|| panic!("not a revert: {error:?}"));
        let mut tx = call.into_transaction_request();
        if !self.is_devnode() {
            tx.gas = Some(EXTERNAL_REVERT_GAS);
        }
        let receipt = self.send_tx(tx).await;
        assert!(!receipt.status(), "the transaction must fail as its eth_call did");
        data
    }

    /// Deploys EVM `code` with constructor arguments `args`.
    pub async fn deploy_evm(&self, code: Vec<u8>, args: Vec<u8>) -> Address {
        let input = [code, args].concat();
        let tx = TransactionRequest::default()
            .with_from(self.accounts.owner)
            .with_deploy_code(input);
        let receipt = self.send_tx(tx).await;
        assert!(receipt.status(), "deployment failed: {receipt:?}");
        receipt.contract_address.expect("a contract was created")
    }

    /// Deploys an `ERC20.json` token with `supply` minted to the owner.
    pub async fn deploy_erc20(&self, supply: U256) -> Address {
        self.deploy_evm(uniswap_artifact("ERC20"), supply.abi_encode())
            .await
    }

    /// Deploys, activates and initialises (with `init`, unless empty) a Stylus program through the
    /// StylusDeployer, in one transaction.
    pub async fn deploy_stylus(&self, code: &[u8], init: Bytes) -> Address {
        // What activation may cost (`DAMM_E2E_ACTIVATION_VALUE` wei, 0.01 ETH by default; the devnode charges no
        // data fee); the deployer refunds the rest.
        let value = std::env::var("DAMM_E2E_ACTIVATION_VALUE")
            .ok()
            .map(|v| {
                v.parse::<U256>()
                    .expect("DAMM_E2E_ACTIVATION_VALUE is a wei amount")
            })
            .unwrap_or(U256::from(10_000_000_000_000_000u128));
        let deploy = StylusDeployer::deployCall {
            bytecode: init_code_for(code),
            initData: init,
            initValue: U256::ZERO,
            salt: B256::ZERO,
        };
        let call = CallBuilder::new_raw(self.provider.clone(), deploy.abi_encode().into())
            .from(self.accounts.owner)
            .to(STYLUS_DEPLOYER)
            .value(value);
        if let Err(error) = call.call_raw().await {
            let data = error.as_revert_data().unwrap_or_default();
            let reason = StylusDeployer::StylusDeployerErrors::abi_decode(&data)
                .map(|e| format!("{e:?}"))
                .unwrap_or_else(|_| format!("{error}"));
            panic!("the StylusDeployer refuses the deployment: {reason}");
        }
        let receipt = self.send(call).await;
        let deployed = receipt
            .inner
            .logs()
            .iter()
            .filter(|log| log.address() == STYLUS_DEPLOYER)
            .find_map(|log| log.log_decode::<StylusDeployer::ContractDeployed>().ok())
            .expect("ContractDeployed is emitted");
        deployed.inner.data.deployedContract
    }

    /// Deploys a `test-token` (mode 0, nothing minted).
    pub async fn deploy_test_token(&self) -> Address {
        self.deploy_stylus(programs().token.code(), Bytes::new()).await
    }

    /// Deploys another `test-forwarder`.
    pub async fn deploy_forwarder(&self) -> Address {
        self.deploy_stylus(programs().forwarder.code(), Bytes::new())
            .await
    }

    /// Creates the Uniswap pair of `a` and `b` and its pool in the vault (owner), returning it.
    pub async fn create_pool(&self, a: Address, b: Address) -> PoolTrack {
        let owner = self.accounts.owner;
        self.send(self.factory().createPair(a, b).from(owner)).await;
        let pair = self.factory().getPair(a, b).call().await.expect("getPair");
        self.send(self.vault().createPool(pair).from(owner)).await;
        let (token0, token1) = if a < b { (a, b) } else { (b, a) };
        let track = PoolTrack { pair, token0, token1 };
        self.pools.lock().unwrap().push(track);
        track
    }

    /// The pools created so far.
    pub fn pools(&self) -> Vec<PoolTrack> {
        self.pools.lock().unwrap().clone()
    }

    // ---- tokens and Uniswap ----

    /// `token.balanceOf(account)`.
    pub async fn balance(&self, token: Address, account: Address) -> U256 {
        self.erc20(token)
            .balanceOf(account)
            .call()
            .await
            .expect("balanceOf")
    }

    /// Moves `amount` of `token` from `from` to `to`.
    pub async fn transfer(
        &self,
        token: Address,
        from: Address,
        to: Address,
        amount: U256,
    ) -> TransactionReceipt {
        self.send(self.erc20(token).transfer(to, amount).from(from)).await
    }

    /// Gives `to` `amount` of a token from the owner's balance (the ERC-20s' supply, test-tokens minted to it).
    pub async fn fund(&self, token: Address, to: Address, amount: U256) {
        self.transfer(token, self.accounts.owner, to, amount).await;
    }

    /// `token.approve(spender, MAX)` from `owner`.
    pub async fn approve_max(&self, token: Address, owner: Address, spender: Address) {
        self.send(self.erc20(token).approve(spender, U256::MAX).from(owner))
            .await;
    }

    /// Sends `amount` of `token` to the vault outside its methods, and remembers it.
    pub async fn donate(&self, token: Address, from: Address, amount: U256) {
        self.transfer(token, from, self.vault, amount).await;
        *self.donations.lock().unwrap().entry(token).or_default() += amount;
    }

    /// The pair's `(reserve0, reserve1, totalSupply)` as the math crate takes them.
    pub async fn pair_state(&self, pair: Address) -> PairState {
        let p = self.pair(pair);
        let reserves = p.getReserves().call().await.expect("getReserves");
        let supply = p.totalSupply().call().await.expect("totalSupply");
        PairState {
            reserve0: u128::try_from(reserves.reserve0).expect("uint112"),
            reserve1: u128::try_from(reserves.reserve1).expect("uint112"),
            total_supply: supply,
        }
    }

    /// `from` adds `amount0`/`amount1` to the pair on Uniswap (transfer both, `mint`); returns the LP minted.
    pub async fn add_liquidity(&self, pool: &PoolTrack, from: Address, amount0: U256, amount1: U256) -> U256 {
        let before = self.balance(pool.pair, from).await;
        self.transfer(pool.token0, from, pool.pair, amount0).await;
        self.transfer(pool.token1, from, pool.pair, amount1).await;
        self.send(self.pair(pool.pair).mint(from).from(from)).await;
        self.balance(pool.pair, from).await - before
    }

    /// Uniswap V2's `getAmountOut`: what `amount_in` buys against reserves `(reserve_in, reserve_out)`.
    pub fn amount_out(amount_in: U256, reserve_in: U256, reserve_out: U256) -> U256 {
        let with_fee = amount_in * U256::from(997);
        with_fee * reserve_out / (reserve_in * U256::from(1000) + with_fee)
    }

    /// `from` swaps `amount_in` of token0 (`zero_for_one`) or token1 on the pair directly; returns the output.
    pub async fn swap(&self, pool: &PoolTrack, from: Address, zero_for_one: bool, amount_in: U256) -> U256 {
        let state = self.pair_state(pool.pair).await;
        let (r0, r1) = (U256::from(state.reserve0), U256::from(state.reserve1));
        let p = self.pair(pool.pair);
        if zero_for_one {
            let out = Self::amount_out(amount_in, r0, r1);
            self.transfer(pool.token0, from, pool.pair, amount_in).await;
            self.send(p.swap(U256::ZERO, out, from, Bytes::new()).from(from))
                .await;
            out
        } else {
            let out = Self::amount_out(amount_in, r1, r0);
            self.transfer(pool.token1, from, pool.pair, amount_in).await;
            self.send(p.swap(out, U256::ZERO, from, Bytes::new()).from(from))
                .await;
            out
        }
    }

    // ---- vault views ----

    pub async fn pool_info(&self, pool: Address) -> PoolInfo {
        let r = self.vault().poolInfo(pool).call().await.expect("poolInfo");
        PoolInfo {
            token0: r._0,
            token1: r._1,
            raw0: r._2,
            raw1: r._3,
            lp: r._4,
            total_shares: r._5,
            hf_min: r._6,
        }
    }

    pub async fn shares(&self, pool: Address, account: Address) -> U256 {
        self.vault()
            .balanceOf(pool, account)
            .call()
            .await
            .expect("balanceOf")
    }

    pub async fn total_shares(&self, pool: Address) -> U256 {
        self.vault().totalSupply(pool).call().await.expect("totalSupply")
    }

    pub async fn hf(&self, pool: Address) -> U256 {
        self.vault()
            .healthFactor(pool)
            .call()
            .await
            .expect("healthFactor")
    }

    pub async fn protocol_fees(&self, token: Address) -> U256 {
        self.vault()
            .protocolFees(token)
            .call()
            .await
            .expect("protocolFees")
    }

    /// The health factor the math crate computes from the vault's holdings and the pair as they are.
    pub async fn expected_hf(&self, pool: Address) -> U256 {
        let info = self.pool_info(pool).await;
        let pair = self.pair_state(pool).await;
        health_factor(
            pool_liquidity(&info.holdings(), &pair).expect("liquidity"),
            info.total_shares,
        )
        .expect("health factor")
    }

    /// Every address that ever received shares of `pool` (from the vault's `Transfer` logs), and the zero
    /// address.
    pub async fn share_holders(&self, pool: Address) -> BTreeSet<Address> {
        let filter = Filter::new()
            .address(self.vault)
            .event_signature(events::Transfer::SIGNATURE_HASH)
            .topic1(pool.into_word())
            .from_block(self.start_block);
        let logs: Vec<Log> = self.provider.get_logs(&filter).await.expect("getLogs");
        let mut holders: BTreeSet<Address> = logs
            .iter()
            .map(|log| {
                log.log_decode::<events::Transfer>()
                    .expect("a share Transfer")
                    .inner
                    .data
                    .to
            })
            .collect();
        holders.insert(Address::ZERO);
        holders
    }

    // ---- rewards bookkeeping ----

    /// Records a reward slot's token (after `initializeReward`).
    pub fn track_reward(&self, pool: Address, index: u64, token: Address) {
        self.rewards.lock().unwrap().insert(
            (pool, index),
            RewardBook {
                token,
                ..RewardBook::default()
            },
        );
    }

    /// Records `amount` funded into a slot.
    pub fn track_funded(&self, pool: Address, index: u64, amount: U256) {
        self.rewards
            .lock()
            .unwrap()
            .get_mut(&(pool, index))
            .expect("a tracked slot")
            .funded += amount;
    }

    /// Records `amount` paid out of a slot (claims, ineligible withdrawals); asserts that a slot never pays
    /// out more than was funded into it.
    pub fn track_paid(&self, pool: Address, index: u64, amount: U256) {
        let mut rewards = self.rewards.lock().unwrap();
        let book = rewards.get_mut(&(pool, index)).expect("a tracked slot");
        book.claimed += amount;
        assert!(
            book.claimed <= book.funded,
            "slot {index} paid {} of {} funded",
            book.claimed,
            book.funded
        );
    }

    /// `(funded, paid)` of a slot.
    pub fn reward_book(&self, pool: Address, index: u64) -> (U256, U256) {
        let rewards = self.rewards.lock().unwrap();
        let book = rewards.get(&(pool, index)).expect("a tracked slot");
        (book.funded, book.claimed)
    }

    // ---- time ----

    /// The latest block's number and timestamp.
    pub async fn head(&self) -> (u64, u64) {
        let block = self
            .provider
            .get_block_by_number(alloy::rpc::types::BlockNumberOrTag::Latest)
            .await
            .expect("block query")
            .expect("the latest block");
        (block.header.number, block.header.timestamp)
    }

    /// The timestamp of the block a receipt is in.
    pub async fn timestamp_of(&self, receipt: &TransactionReceipt) -> u64 {
        let number = receipt.block_number.expect("mined");
        self.provider
            .get_block_by_number(number.into())
            .await
            .expect("block query")
            .expect("the block")
            .header
            .timestamp
    }

    /// Moves the clock `seconds` forward and mines a block (devnode); on an external node, waits for the next
    /// second instead so that the next block has a later timestamp.
    pub async fn advance(&self, seconds: u64) {
        if self.can_travel() {
            self.provider
                .anvil_increase_time(seconds)
                .await
                .expect("evm_increaseTime");
            self.provider.evm_mine(None).await.expect("evm_mine");
        } else {
            tokio::time::sleep(Duration::from_millis(1_100)).await;
        }
    }

    /// A block id for views at `number`.
    pub fn at(number: u64) -> BlockId {
        BlockId::number(number)
    }
}

// ---- invariants ----------------------------------------------------------------------------------------------

/// The invariants that hold after every step of every scenario:
///
/// - for every token the vault may hold (each pool's two tokens, each pair's LP token, each reward token), the
///   vault's balance is exactly the sum over pools of what they account for (raw balances, LP tokens), plus the
///   protocol fees accrued in it, plus the rewards funded and not yet paid out, plus what was donated;
/// - every pool's total shares equal the sum of the balances of every address that ever received shares
///   (read from the vault's `Transfer` logs), the dead shares at the zero address included;
/// - every pool's `healthFactor` is what the math crate computes from its holdings and its pair.
pub async fn assert_invariants(h: &Harness) {
    let mut expected: BTreeMap<Address, U256> = BTreeMap::new();
    for pool in h.pools() {
        let info = h.pool_info(pool.pair).await;
        assert_eq!((info.token0, info.token1), (pool.token0, pool.token1));
        *expected.entry(pool.token0).or_default() += info.raw0;
        *expected.entry(pool.token1).or_default() += info.raw1;
        *expected.entry(pool.pair).or_default() += info.lp;

        let holders = h.share_holders(pool.pair).await;
        let mut sum = U256::ZERO;
        for holder in &holders {
            sum += h.shares(pool.pair, *holder).await;
        }
        assert_eq!(
            h.total_shares(pool.pair).await,
            sum,
            "total shares of {} = the sum over its {} holders",
            pool.pair,
            holders.len()
        );
        assert_eq!(info.total_shares, sum);

        let pair = h.pair_state(pool.pair).await;
        let liquidity = pool_liquidity(&info.holdings(), &pair).expect("liquidity");
        assert_eq!(
            h.hf(pool.pair).await,
            health_factor(liquidity, info.total_shares).expect("health factor"),
            "healthFactor of {}",
            pool.pair
        );
    }
    let rewards: Vec<RewardBook> = h.rewards.lock().unwrap().values().copied().collect();
    for book in rewards {
        *expected.entry(book.token).or_default() += book.funded - book.claimed;
    }
    let donations = h.donations.lock().unwrap().clone();
    for (token, amount) in &donations {
        *expected.entry(*token).or_default() += *amount;
    }
    for (token, accounted) in expected {
        let fees = h.protocol_fees(token).await;
        let held = h.balance(token, h.vault).await;
        assert_eq!(
            held,
            accounted + fees,
            "the vault's balance of {token}: accounted {accounted} + protocol fees {fees}"
        );
    }
}

/// A snapshot of every balance and view a failed step must leave unchanged.
pub async fn snapshot(h: &Harness, pool: &PoolTrack, accounts: &[Address]) -> BTreeMap<String, String> {
    let mut s = BTreeMap::new();
    let mut everyone: Vec<Address> = vec![h.vault, pool.pair, h.accounts.treasury, h.accounts.referrer];
    everyone.extend_from_slice(accounts);
    for account in &everyone {
        for token in [pool.token0, pool.token1, pool.pair] {
            s.insert(
                format!("balance {token} of {account}"),
                h.balance(token, *account).await.to_string(),
            );
        }
        s.insert(
            format!("shares of {account}"),
            h.shares(pool.pair, *account).await.to_string(),
        );
    }
    let info = h.pool_info(pool.pair).await;
    s.insert("poolInfo".into(), format!("{info:?}"));
    s.insert("pair".into(), format!("{:?}", h.pair_state(pool.pair).await));
    s.insert("hf".into(), h.hf(pool.pair).await.to_string());
    s.insert("fees0".into(), h.protocol_fees(pool.token0).await.to_string());
    s.insert("fees1".into(), h.protocol_fees(pool.token1).await.to_string());
    for market in h
        .vault()
        .poolMarkets(pool.pair)
        .call()
        .await
        .expect("poolMarkets")
    {
        let m = h.vault().marketInfo(market).call().await.expect("marketInfo");
        s.insert(format!("market {market}"), format!("{m:?}"));
    }
    s
}

/// Decodes the logs of `E` emitted by `address` in a receipt.
pub fn logs_of<E: SolEvent>(receipt: &TransactionReceipt, address: Address) -> Vec<E> {
    receipt
        .inner
        .logs()
        .iter()
        .filter(|log| log.address() == address)
        .filter_map(|log| log.log_decode::<E>().ok())
        .map(|log| log.inner.data)
        .collect()
}

/// Prints a gas figure (visible with `--nocapture`).
pub fn report_gas(what: &str, receipt: &TransactionReceipt) {
    println!("GAS {what}: {}", receipt.gas_used);
}
