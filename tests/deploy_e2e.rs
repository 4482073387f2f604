//! `damm deploy` end to end on the in-process devnode: the real Uniswap V2 factory, ERC-20s and pair of
//! `@uniswap/v2-core`, the compiled Stylus programs (built by the e2e harness's [`programs`], copied into a
//! wasm directory as `scripts/build-contracts.sh` lays it out).
//!
//! - A spec of one pool (with its first deposit), one L2 and one L1 market is deployed in-process with
//!   [`deploy`]; every address holds code and the vault's `programs()`, `poolMarkets` and `marketInfo` agree
//!   with the deployment file and with the markets' own state. Run again, it sends nothing (same block, same
//!   nonce) and reports every step skipped. Then the `damm deploy` binary, given the same file and a spec with
//!   one more market, deploys and registers only that market.
//! - Refusals before anything is sent: a wrong `--chain-id`, a deployment file of another chain, an invalid
//!   market parameter, a deployment file naming a vault that has no code, a missing program.

mod e2e;

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use alloy::{
    network::{EthereumWallet, TransactionBuilder},
    primitives::{Address, U256},
    providers::{DynProvider, Provider, ProviderBuilder},
    rpc::types::{TransactionReceipt, TransactionRequest},
    signers::local::PrivateKeySigner,
    sol_types::SolValue,
};
use damm::{
    bindings::{IMarket, IUniswapV2Factory, IVault},
    client::{connect, Client, ClientError},
    config::Settings,
    deploy::{deploy, DeployError, DeploySpec},
    deployment::{Deployment, MarketKind},
    market_codec::MarketState,
    math::CollectFeeMode,
};
use damm_devnode::rpc::{RpcServer, ServerConfig};
use e2e::{e18, uniswap_artifact};

/// 2^64.
const Q64: u128 = 1 << 64;

/// A devnode with the Uniswap V2 factory, two ERC-20s (their supply held by the signer) and their pair.
struct Chain {
    _server: RpcServer,
    url: String,
    key: PrivateKeySigner,
    provider: DynProvider,
    factory: Address,
    pair: Address,
    /// A scratch directory for this chain's files.
    dir: PathBuf,
}

/// A fresh directory for this suite under the system's temporary directory.
fn temp_dir(name: &str) -> PathBuf {
    e2e::temp_dir("damm-deploy-e2e", name)
}

async fn send(provider: &DynProvider, from: Address, tx: TransactionRequest) -> TransactionReceipt {
    let tx = tx.with_from(from).with_gas_limit(30_000_000);
    let hash = *provider.send_transaction(tx).await.expect("accepted").tx_hash();
    let start = Instant::now();
    loop {
        if let Some(receipt) = provider
            .get_transaction_receipt(hash)
            .await
            .expect("receipt query")
        {
            assert!(receipt.status(), "transaction failed: {receipt:?}");
            return receipt;
        }
        assert!(start.elapsed() < Duration::from_secs(120), "no receipt");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn deploy_evm(provider: &DynProvider, from: Address, code: Vec<u8>, args: Vec<u8>) -> Address {
    let tx = TransactionRequest::default().with_deploy_code([code, args].concat());
    send(provider, from, tx)
        .await
        .contract_address
        .expect("a contract was created")
}

async fn chain(name: &str) -> Chain {
    let server = RpcServer::spawn(ServerConfig::default()).expect("the devnode starts");
    let url = server.url();
    let key = PrivateKeySigner::from_bytes(&server.dev_accounts()[0].1).expect("a dev key");
    let me = key.address();
    let provider = ProviderBuilder::new()
        .disable_recommended_fillers()
        .with_gas_estimation()
        .with_simple_nonce_management()
        .fetch_chain_id()
        .wallet(EthereumWallet::new(key.clone()))
        .connect_http(url.parse().expect("a URL"))
        .erased();
    let supply = e18(1_000_000_000_000);
    let a = deploy_evm(&provider, me, uniswap_artifact("ERC20"), supply.abi_encode()).await;
    let b = deploy_evm(&provider, me, uniswap_artifact("ERC20"), supply.abi_encode()).await;
    let factory = deploy_evm(
        &provider,
        me,
        uniswap_artifact("UniswapV2Factory"),
        me.abi_encode(),
    )
    .await;
    let f = IUniswapV2Factory::new(factory, provider.clone());
    send(&provider, me, f.createPair(a, b).into_transaction_request()).await;
    let pair = f.getPair(a, b).call().await.expect("getPair");
    Chain {
        _server: server,
        url,
        key,
        provider,
        factory,
        pair,
        dir: temp_dir(name),
    }
}

impl Chain {
    fn settings(&self, deployment: &Path) -> Settings {
        Settings {
            rpc_url: self.url.clone(),
            signer: Some(self.key.clone()),
            chain_id: None,
            deployment: deployment.to_path_buf(),
        }
    }

    async fn client(&self, deployment: &Path) -> Client {
        connect(&self.settings(deployment)).await.expect("connects")
    }

    /// The block number and the signer's nonce: unchanged when nothing was sent.
    async fn sent(&self) -> (u64, u64) {
        (
            self.provider.get_block_number().await.expect("block number"),
            self.provider
                .get_transaction_count(self.key.address())
                .await
                .expect("nonce"),
        )
    }
}

/// The seven programs in one directory, as `scripts/build-contracts.sh` lays them out.
async fn wasm_dir() -> PathBuf {
    let dir = temp_dir("wasm");
    e2e::program_dir(&dir).await;
    dir
}

/// A concentrated market around √P = 2 (the pool's price 4): `[1.8, 2.2]`, real liquidity `tokens`.
fn concentrated_market(name: &str, kind: &str, mode: &str, tokens: u64, extra: &str) -> String {
    format!(
        r#"
[[markets]]
name = "{name}"
pool = "main"
kind = "{kind}"
mode = "{mode}"
sqrt_price = "{}"
sqrt_min_price = "{}"
sqrt_max_price = "{}"
liquidity = "{}"
base_fee_numerator = 3000000
{extra}
"#,
        2 * Q64,
        18 * Q64 / 10,
        22 * Q64 / 10,
        e18(tokens) << 64
    )
}

/// The spec: the vault, the pool of `pair` with Alice-sized first deposit (1,000,000 token0 and 4,000,000
/// token1: price 4), an L2 and an L1 market, and `more`.
fn spec_text(c: &Chain, gas_limit: bool, more: &str) -> String {
    format!(
        r#"
{}
[vault]
factory = "{}"

[[pools]]
name = "main"
pair = "{}"
hf_min = "0.9"
deposit = {{ amount0 = "1_000_000e18", amount1 = "4_000_000e18" }}
{}{}{more}"#,
        if gas_limit { "gas_limit = 30000000" } else { "" },
        c.factory,
        c.pair,
        concentrated_market("l2-a", "l2", "concentrated", 100_000, ""),
        concentrated_market(
            "l1-a",
            "l1",
            "only-b",
            50_000,
            &format!(
                "liquidity_limit = \"{}\"\ndynamic_fee = {{ max_volatility_accumulator = 14460000, \
                 variable_fee_control = 5000, filter_period = 10, decay_period = 120, reduction_factor = 5000 }}",
                l1_limit()
            ),
        ),
    )
}

/// The L1 market's liquidity limit in the spec: 60,000 tokens of real liquidity (it has 50,000).
fn l1_limit() -> U256 {
    e18(60_000) << 64
}

fn parse(text: &str) -> DeploySpec {
    DeploySpec::parse(Path::new("spec.toml"), text).expect("the spec parses")
}

async fn has_code(c: &Chain, address: Address) -> bool {
    !c.provider.get_code_at(address).await.expect("getCode").is_empty()
}

/// Checks the chain against the deployment file.
async fn check_deployment(c: &Chain, d: &Deployment) {
    let p = &d.vault_programs;
    for address in [
        d.vault,
        p.settlement,
        p.withdrawals,
        p.markets,
        p.admin,
        d.market_admin,
    ] {
        assert!(has_code(c, address).await, "{address} has code");
    }
    let vault = IVault::new(d.vault, c.provider.clone());
    let programs = vault.programs().call().await.expect("programs()");
    assert_eq!(
        [programs._0, programs._1, programs._2, programs._3],
        [p.settlement, p.withdrawals, p.markets, p.admin],
        "the vault delegates to the recorded programs"
    );
    assert_eq!(vault.factory().call().await.unwrap(), c.factory);
    assert_eq!(vault.owner().call().await.unwrap(), c.key.address());
    assert_eq!(d.pools.len(), 1);
    let pool = &d.pools[0];
    assert_eq!(pool.pair, c.pair);
    let info = vault.poolInfo(pool.pair).call().await.expect("poolInfo");
    assert_eq!((info._0, info._1), (pool.token0, pool.token1));
    assert_eq!(info._6, U256::from(900_000_000_000_000_000u128), "hf_min");
    assert!(!info._5.is_zero(), "the first deposit minted shares");
    let listed = vault.poolMarkets(pool.pair).call().await.expect("poolMarkets");
    let recorded: Vec<Address> = d
        .markets
        .iter()
        .filter(|m| m.pool == pool.pair)
        .map(|m| m.address)
        .collect();
    assert_eq!(listed, recorded, "the vault lists the recorded markets, in order");
    for entry in &d.markets {
        assert!(has_code(c, entry.address).await, "market {} has code", entry.name);
        let market = IMarket::new(entry.address, c.provider.clone());
        assert_eq!(market.vault().call().await.unwrap(), d.vault);
        assert_eq!(market.adminProgram().call().await.unwrap(), d.market_admin);
        assert_eq!(market.pool().call().await.unwrap(), entry.pool);
        assert_eq!(market.operator().call().await.unwrap(), entry.operator);
        assert_eq!(market.isL1().call().await.unwrap(), entry.kind == MarketKind::L1);
        let state = MarketState::decode(&market.state().call().await.unwrap()).expect("a state");
        let m = vault.marketInfo(entry.address).call().await.expect("marketInfo");
        let s = &state.pool;
        assert_eq!(m._0, entry.pool, "{}: pool", entry.name);
        assert_eq!(m._1, entry.operator, "{}: operator", entry.name);
        assert!(m._2, "{}: active", entry.name);
        assert_eq!(
            m._3,
            s.collect_fee_mode == CollectFeeMode::Compounding,
            "{}: compounding",
            entry.name
        );
        assert_eq!(
            (m._4, m._5),
            (U256::from(s.sqrt_min_price), U256::from(s.sqrt_max_price)),
            "{}: the market's own range",
            entry.name
        );
        let view = market.vaultState().call().await.unwrap();
        assert_eq!(
            m._7,
            (view._0, view._1, view._2, view._3),
            "{}: the market's own state",
            entry.name
        );
        assert!(
            m._6 >= s.liquidity,
            "{}: the limit covers the liquidity",
            entry.name
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn deploys_everything_then_skips_it_all() {
    let (wasm, c) = tokio::join!(wasm_dir(), chain("full"));
    let path = c.dir.join("deployment.json");
    let client = c.client(&path).await;
    let spec = parse(&spec_text(&c, true, ""));

    let mut lines = Vec::new();
    let start = Instant::now();
    let d = deploy(&client, &spec, &wasm, &path, &mut |line| {
        println!("{line}");
        lines.push(line.to_string());
    })
    .await
    .unwrap_or_else(|e| panic!("deploys: {e}"));
    println!("deployed in {:.1} s", start.elapsed().as_secs_f64());
    // 6 programs, the pool, its deposit, two markets and their registrations.
    assert_eq!(lines.len(), 12, "{lines:#?}");
    assert!(
        lines[0].starts_with("[1/12] vault program damm-vault-settlement … deployed at 0x"),
        "{}",
        lines[0]
    );
    assert!(lines.iter().all(|l| !l.contains("skipped")), "{lines:#?}");
    assert_eq!(
        Deployment::load(&path).expect("the file"),
        d,
        "the file is what deploy returned"
    );
    assert_eq!(d.chain_id, client.chain_id);
    assert_eq!(d.markets.len(), 2);
    assert_eq!(
        (d.markets[0].name.as_str(), d.markets[0].kind),
        ("l2-a", MarketKind::L2)
    );
    assert_eq!(
        (d.markets[1].name.as_str(), d.markets[1].kind),
        ("l1-a", MarketKind::L1)
    );
    check_deployment(&c, &d).await;
    let vault = IVault::new(d.vault, c.provider.clone());
    let l1 = vault.marketInfo(d.markets[1].address).call().await.unwrap();
    assert_eq!(l1._6, l1_limit(), "the spec's liquidity limit");
    let l2 = vault.marketInfo(d.markets[0].address).call().await.unwrap();
    assert_eq!(l2._6, e18(100_000) << 64, "the market's liquidity by default");

    // Again: nothing is sent, every step is skipped.
    let before = c.sent().await;
    let mut again = Vec::new();
    let d2 = deploy(&client, &spec, &wasm, &path, &mut |line| {
        again.push(line.to_string())
    })
    .await
    .expect("re-runs");
    assert_eq!(c.sent().await, before, "nothing was sent");
    assert_eq!(d2, d);
    assert_eq!(again.len(), 12, "{again:#?}");
    assert!(again.iter().all(|l| l.contains("skipped")), "{again:#?}");

    // The binary, through the environment's key: one more market, the rest skipped.
    let more = concentrated_market(
        "l2-b",
        "l2",
        "concentrated",
        20_000,
        &format!("operator = \"{}\"", Address::repeat_byte(0x42)),
    );
    let spec_file = c.dir.join("spec.toml");
    std::fs::write(&spec_file, spec_text(&c, false, &more)).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_damm"))
        .args(["deploy", "--spec"])
        .arg(&spec_file)
        .arg("--wasm-dir")
        .arg(&wasm)
        .args([
            "--rpc-url",
            &c.url,
            "--chain-id",
            &client.chain_id.to_string(),
            "--deployment",
        ])
        .arg(&path)
        .env("DAMM_PRIVATE_KEY", c.key.to_bytes().to_string())
        .env_remove("DAMM_KEYSTORE")
        .env_remove("DAMM_CONFIG")
        .current_dir(&c.dir)
        .output()
        .expect("damm runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}{stderr}");
    assert!(output.status.success(), "damm deploy succeeds: {stderr}");
    assert_eq!(stdout.matches("skipped").count(), 12, "{stdout}");
    assert!(
        stdout.contains("[13/14] market \"l2-b\" (l2, damm-market) … deployed at 0x"),
        "{stdout}"
    );
    assert!(
        stdout.contains("[14/14] market \"l2-b\" registration … registered with limit"),
        "{stdout}"
    );
    let d3 = Deployment::load(&path).expect("the file");
    assert_eq!(d3.markets.len(), 3);
    assert_eq!(d3.markets[2].operator, Address::repeat_byte(0x42));
    check_deployment(&c, &d3).await;

    // The binary's refusals are named, on stderr, with a failing status.
    let output = Command::new(env!("CARGO_BIN_EXE_damm"))
        .args(["deploy", "--spec"])
        .arg(&spec_file)
        .args(["--rpc-url", &c.url, "--chain-id", "1"])
        .env("DAMM_PRIVATE_KEY", c.key.to_bytes().to_string())
        .current_dir(&c.dir)
        .output()
        .expect("damm runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains(&format!(
            "the endpoint is chain {}, but --chain-id",
            client.chain_id
        )),
        "{stderr}"
    );
    assert!(
        !stderr.contains(&c.key.to_bytes().to_string()[2..]),
        "the key is never printed"
    );
    let _ = std::fs::remove_dir_all(&c.dir);
    let _ = std::fs::remove_dir_all(&wasm);
}

#[tokio::test(flavor = "multi_thread")]
async fn refusals_before_anything_is_sent() {
    let (wasm, c) = tokio::join!(wasm_dir(), chain("refusals"));
    let path = c.dir.join("deployment.json");
    let client = c.client(&path).await;
    let spec = parse(&spec_text(&c, true, ""));
    let before = c.sent().await;

    // A wrong chain id.
    let settings = Settings {
        chain_id: Some(client.chain_id + 1),
        ..c.settings(&path)
    };
    match connect(&settings).await {
        Err(ClientError::ChainIdMismatch { expected, got, .. }) => {
            assert_eq!((expected, got), (client.chain_id + 1, client.chain_id));
        }
        other => panic!("expected ChainIdMismatch, got {other:?}"),
    }

    // A deployment file of another chain: refused by `connect` and by `deploy`.
    let other_chain = c.dir.join("other-chain.json");
    Deployment {
        chain_id: 1,
        factory: c.factory,
        ..Deployment::default()
    }
    .save(&other_chain)
    .unwrap();
    let e = connect(&c.settings(&other_chain)).await.unwrap_err();
    assert!(
        matches!(e, ClientError::ChainIdMismatch { expected: 1, .. }),
        "{e}"
    );
    assert!(e.to_string().contains("other-chain.json"), "{e}");
    let e = deploy(&client, &spec, &wasm, &other_chain, &mut |_| {})
        .await
        .unwrap_err();
    assert!(
        matches!(e, DeployError::WrongChain { file_chain_id: 1, .. }),
        "{e}"
    );

    // An invalid market parameter: named, and no file written.
    // (The first market of the spec is l2-a.)
    let bad = parse(&spec_text(&c, true, "").replacen(
        "base_fee_numerator = 3000000",
        "base_fee_numerator = 10",
        1,
    ));
    let e = deploy(&client, &bad, &wasm, &path, &mut |_| {})
        .await
        .unwrap_err();
    match &e {
        DeployError::InvalidMarketParam { market, field, .. } => {
            assert_eq!(
                (market.as_str(), field.as_str()),
                ("l2-a", "base_fee_numerator"),
                "{e}"
            );
        }
        other => panic!("expected InvalidMarketParam, got {other}"),
    }
    assert!(!path.exists(), "no deployment file");

    // A deployment file whose vault has no code.
    let wrong_vault = c.dir.join("wrong-vault.json");
    let nowhere = Address::repeat_byte(0x77);
    Deployment {
        chain_id: client.chain_id,
        factory: c.factory,
        vault: nowhere,
        ..Deployment::default()
    }
    .save(&wrong_vault)
    .unwrap();
    let e = deploy(&client, &spec, &wasm, &wrong_vault, &mut |_| {})
        .await
        .unwrap_err();
    match &e {
        DeployError::Client(ClientError::NoCode {
            what,
            address,
            chain_id,
        }) => {
            assert_eq!(
                (what.as_str(), *address, *chain_id),
                ("vault", nowhere, client.chain_id)
            );
        }
        other => panic!("expected NoCode, got {other}"),
    }
    assert!(
        e.to_string().contains(&format!(
            "the vault at {nowhere} has no code on chain {}",
            client.chain_id
        )),
        "{e}"
    );

    // A missing program.
    let empty = temp_dir("empty-wasm");
    let e = deploy(&client, &spec, &empty, &path, &mut |_| {})
        .await
        .unwrap_err();
    assert!(matches!(e, DeployError::Program { .. }), "{e}");
    assert!(e.to_string().contains("scripts/build-contracts.sh"), "{e}");
    assert!(!path.exists(), "no deployment file");

    // A spec whose owner is not the signer, with pools.
    let not_owner = parse(&spec_text(&c, true, "").replace(
        &format!("factory = \"{}\"", c.factory),
        &format!(
            "factory = \"{}\"\nowner = \"{}\"",
            c.factory,
            Address::repeat_byte(0x55)
        ),
    ));
    let e = deploy(&client, &not_owner, &wasm, &path, &mut |_| {})
        .await
        .unwrap_err();
    assert!(matches!(e, DeployError::Signer(_)), "{e}");

    assert_eq!(c.sent().await, before, "nothing was sent");
    for dir in [&c.dir, &wasm, &empty] {
        let _ = std::fs::remove_dir_all(dir);
    }
}
