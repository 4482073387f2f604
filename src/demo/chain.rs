//! The demo's chain side: one wallet per actor, transactions with named failures, the Uniswap V2 contracts
//! from `@uniswap/v2-core`'s build artifacts.

use std::{path::Path, time::Duration};

use alloy::{
    network::{EthereumWallet, TransactionBuilder},
    primitives::{Address, Bytes, U256},
    providers::{DynProvider, Provider, ProviderBuilder},
    rpc::types::{TransactionReceipt, TransactionRequest},
    signers::local::PrivateKeySigner,
    sol_types::SolValue,
};
use anyhow::{anyhow, bail, Context, Result};

use crate::{
    bindings::{IUniswapV2Pair, IERC20},
    deploy::{send_and_wait, TxError},
    errors::explain_transport,
};

/// Gas limit of every demo transaction (not estimated: the devnode's estimate re-runs Stylus programs).
pub const GAS: u64 = 30_000_000;

/// An account of the demo with its own wallet (its own nonces).
#[derive(Clone)]
pub struct Actor {
    /// Its role, for messages.
    pub role: &'static str,
    /// Its key.
    pub key: PrivateKeySigner,
    /// A provider signing with that key.
    pub provider: DynProvider,
}

impl std::fmt::Debug for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.role, self.key.address())
    }
}

impl Actor {
    /// An actor with `key` on the node at `url`.
    pub fn new(role: &'static str, key: PrivateKeySigner, url: &str) -> Result<Self> {
        let provider = ProviderBuilder::new()
            .disable_recommended_fillers()
            .with_gas_estimation()
            .with_simple_nonce_management()
            .fetch_chain_id()
            .wallet(EthereumWallet::new(key.clone()))
            .connect_http(url.parse().context("the devnode's URL")?)
            .erased();
        Ok(Self { role, key, provider })
    }

    /// Its address.
    pub fn address(&self) -> Address {
        self.key.address()
    }

    /// Sends `tx` and waits for its receipt (`damm deploy`'s sender); a revert is named, the call replayed for
    /// its reason.
    pub async fn send(&self, what: &str, tx: TransactionRequest) -> Result<TransactionReceipt> {
        let tx = tx.with_from(self.address()).with_gas_limit(GAS);
        let what = format!("{what} ({})", self.role);
        match send_and_wait(&self.provider, &what, tx.clone(), Duration::from_millis(2)).await {
            Ok(receipt) => Ok(receipt),
            Err(TxError::Reverted { tx: hash, .. }) => {
                let reason = match self.provider.call(tx).await {
                    Err(e) => explain_transport(&e),
                    Ok(_) => "reverted".to_string(),
                };
                bail!("{what} reverted in {hash}: {reason}")
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Deploys EVM creation code with constructor arguments.
    pub async fn deploy_evm(&self, what: &str, code: &[u8], args: &[u8]) -> Result<Address> {
        let tx = TransactionRequest::default().with_deploy_code([code, args].concat());
        self.send(what, tx)
            .await?
            .contract_address
            .ok_or_else(|| anyhow!("{what}: the receipt names no contract"))
    }

    /// Transfers `amount` of `token` to `to`.
    pub async fn transfer(&self, token: Address, to: Address, amount: U256) -> Result<TransactionReceipt> {
        let contract = IERC20::new(token, &self.provider);
        let call = contract.transfer(to, amount);
        self.send("transfer", call.into_transaction_request()).await
    }

    /// Approves `spender` for all of `token`.
    pub async fn approve_max(&self, token: Address, spender: Address) -> Result<()> {
        let contract = IERC20::new(token, &self.provider);
        let call = contract.approve(spender, U256::MAX);
        self.send("approve", call.into_transaction_request()).await?;
        Ok(())
    }

    /// Balance of `token` held by this actor.
    pub async fn balance(&self, token: Address) -> Result<U256> {
        balance(&self.provider, token, self.address()).await
    }

    /// Sells `amount_in` of token0 (`zero_for_one`) or token1 on the Uniswap pair at its own price: the
    /// input is sent to the pair, then `swap` takes the output (the router's formula, 0.3% fee, less 0.5% of
    /// slack). Without a router the two are separate transactions, and a vault settlement between them that
    /// burns or mints LP tokens takes part or all of the input sent (the pair counts its balance): the swap then
    /// fails (`UniswapV2: K` or `INSUFFICIENT_INPUT_AMOUNT`), what is left of the input is skimmed back, and
    /// the sale is tried again.
    pub async fn uniswap_swap(&self, pair: &Pair, zero_for_one: bool, amount_in: U256) -> Result<U256> {
        let token_in = if zero_for_one { pair.token0 } else { pair.token1 };
        let contract = IUniswapV2Pair::new(pair.address, &self.provider);
        for _ in 0..5 {
            let (r0, r1) = pair.reserves(&self.provider).await?;
            let (r_in, r_out) = if zero_for_one { (r0, r1) } else { (r1, r0) };
            let out = uniswap_out(amount_in, r_in, r_out) * U256::from(995) / U256::from(1000);
            if out.is_zero() {
                return Ok(U256::ZERO);
            }
            self.transfer(token_in, pair.address, amount_in).await?;
            let (out0, out1) = if zero_for_one {
                (U256::ZERO, out)
            } else {
                (out, U256::ZERO)
            };
            let call = contract.swap(out0, out1, self.address(), Bytes::new());
            match self.send("Uniswap swap", call.into_transaction_request()).await {
                Ok(_) => return Ok(out),
                Err(e)
                    if e.to_string().contains("UniswapV2: K")
                        || e.to_string().contains("INSUFFICIENT_INPUT") =>
                {
                    self.send(
                        "Uniswap skim",
                        contract.skim(self.address()).into_transaction_request(),
                    )
                    .await?;
                }
                Err(e) => return Err(e),
            }
        }
        bail!("the Uniswap sale failed five times (vault settlements kept taking its input)")
    }

    /// Adds liquidity to the pair (tokens sent, then `mint`); returns the LP tokens minted.
    pub async fn add_liquidity(&self, pair: &Pair, amount0: U256, amount1: U256) -> Result<U256> {
        let lp = IUniswapV2Pair::new(pair.address, &self.provider);
        let before = lp.balanceOf(self.address()).call().await?;
        self.transfer(pair.token0, pair.address, amount0).await?;
        self.transfer(pair.token1, pair.address, amount1).await?;
        self.send("Uniswap mint", lp.mint(self.address()).into_transaction_request())
            .await?;
        Ok(lp.balanceOf(self.address()).call().await? - before)
    }
}

/// The Uniswap V2 router's output for `amount_in` against reserves `(r_in, r_out)`.
pub fn uniswap_out(amount_in: U256, r_in: U256, r_out: U256) -> U256 {
    let with_fee = amount_in * U256::from(997);
    with_fee * r_out / (r_in * U256::from(1000) + with_fee)
}

/// `token`'s balance of `owner`.
pub async fn balance(provider: &DynProvider, token: Address, owner: Address) -> Result<U256> {
    Ok(IERC20::new(token, provider).balanceOf(owner).call().await?)
}

/// The demo's Uniswap V2 pair.
#[derive(Debug, Clone, Copy)]
pub struct Pair {
    /// The pair (and its LP token).
    pub address: Address,
    /// Its token0.
    pub token0: Address,
    /// Its token1.
    pub token1: Address,
}

impl Pair {
    /// Its reserves.
    pub async fn reserves(&self, provider: &DynProvider) -> Result<(U256, U256)> {
        let r = IUniswapV2Pair::new(self.address, provider)
            .getReserves()
            .call()
            .await?;
        Ok((U256::from(r.reserve0), U256::from(r.reserve1)))
    }

    /// Its LP token supply.
    pub async fn supply(&self, provider: &DynProvider) -> Result<U256> {
        Ok(IUniswapV2Pair::new(self.address, provider)
            .totalSupply()
            .call()
            .await?)
    }
}

/// Creation code of a `@uniswap/v2-core` build artifact (`UniswapV2Factory`, `ERC20`, …).
pub fn uniswap_artifact(build: &Path, name: &str) -> Result<Vec<u8>> {
    let path = build.join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "cannot read the Uniswap V2 artifact {} (run scripts/setup.sh, which installs @uniswap/v2-core)",
            path.display()
        )
    })?;
    let json: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    let hex = json["bytecode"]
        .as_str()
        .ok_or_else(|| anyhow!("{} has no \"bytecode\"", path.display()))?;
    alloy::primitives::hex::decode(hex.trim_start_matches("0x"))
        .with_context(|| format!("{}'s bytecode is not hex", path.display()))
}

/// The constructor arguments of the Uniswap V2 test `ERC20` (its whole supply to the deployer).
pub fn erc20_args(supply: U256) -> Vec<u8> {
    supply.abi_encode()
}

/// `amount` atoms of an 18-decimal token, as a float of whole tokens (for display and the report only).
pub fn tokens(amount: U256) -> f64 {
    let atoms: u128 = amount.try_into().unwrap_or(u128::MAX);
    atoms as f64 / 1e18
}

/// `n` whole tokens (18 decimals).
pub fn e18(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18))
}
