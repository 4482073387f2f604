//! `damm lp …`: a liquidity provider's commands — deposit Uniswap V2 LP tokens (or the pair's two tokens) into
//! a vault pool for shares, withdraw them, see a position (value, fees earned, rewards, what can be withdrawn
//! now) and claim rewards.
//!
//! Also the ground every `lp` and `admin` command stands on ([`Context`]): the configuration resolved, the
//! chain connected, the deployment file read and its vault checked to hold code, pools named on the command
//! line resolved ([`Context::pool`]), tokens described ([`Token`]), transactions sent and awaited
//! ([`Context::send`]), amounts parsed ([`parse_token_amount`]). Everything that can be checked before sending
//! is checked first and refused with a named error ([`CommandError`]); a transaction's revert is decoded by
//! [`crate::errors`].
//!
//! # Pools on the command line
//!
//! `--pool` takes the pair's address, the pool's index in the deployment file (`0` or `#0`), its tokens'
//! symbols (`WETH/USDC`, either order, when they tell the pools apart) or the name of a market drawing on it;
//! without `--pool`, the deployment's only pool. An address the deployment file does not list is accepted
//! when the vault has a pool for it.

use std::{collections::HashMap, path::PathBuf, time::Duration};

use alloy::{
    contract::{CallBuilder, CallDecoder},
    primitives::{Address, B256, U256},
    providers::{DynProvider, Provider},
    rpc::types::{Filter, Log, TransactionReceipt, TransactionRequest},
    sol_types::SolEvent,
};
use anyhow::Result;
use clap::{ArgGroup, Args, Subcommand};
use serde_json::{json, Value};

use crate::{
    bindings::{IUniswapV2Pair, IVault, IERC20},
    client::{connect, Client, ClientError},
    config::{ChainArgs, ConfigError},
    deploy::{parse_num, send_and_wait, TxError},
    deployment::{Deployment, DeploymentError, PoolEntry},
    errors::{explain_contract, explain_transport},
    math::{vault::PairState, wide::mul_div_u256, Rounding},
    output::{self, note, KeyValues},
};

/// Reward slots per pool (the vault's `REWARD_SLOTS`).
pub const REWARD_SLOTS: u64 = 2;
/// The decimals shares are shown with (shares are liquidity units of 1e-18).
pub const SHARE_DECIMALS: u8 = 18;
/// The decimals of a Uniswap V2 LP token.
pub const LP_DECIMALS: u8 = 18;
/// `--slippage-bps`' default: 0.5 %.
pub const DEFAULT_SLIPPAGE_BPS: u64 = 50;

/// The vault's events the client reads (declared in `contracts/vault/src/lib.rs`; the exported interface
/// lists none).
pub mod events {
    #![allow(missing_docs)]

    alloy::sol! {
        /// Shares of `pool` moved (mint: from zero; burn: to zero).
        #[derive(Debug, PartialEq, Eq)]
        event Transfer(address indexed pool, address indexed from, address indexed to, uint256 amount);
        /// `sender` deposited `lp` LP tokens for `shares` to `receiver`.
        #[derive(Debug, PartialEq, Eq)]
        event Deposit(address indexed pool, address indexed sender, address indexed receiver, uint256 lp, uint256 shares);
        /// `owner` burnt `shares`; `receiver` got the amounts in kind.
        #[derive(Debug, PartialEq, Eq)]
        event Withdraw(address indexed pool, address indexed owner, address indexed receiver, uint256 shares, uint256 amount0, uint256 amount1, uint256 lp);
        /// `account` claimed `amount` of a reward.
        #[derive(Debug, PartialEq, Eq)]
        event RewardClaimed(address indexed pool, uint256 index, address indexed account, uint256 amount);
        /// Protocol fees in `token` were paid to the treasury.
        #[derive(Debug, PartialEq, Eq)]
        event ProtocolFeesClaimed(address indexed token, address indexed treasury, uint256 amount);
    }
}

// ---- errors --------------------------------------------------------------------------------------------------

/// Why an `lp` or `admin` command refuses or fails: every one a single line naming the cause.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The configuration cannot be resolved.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The chain cannot be used (unreachable, wrong chain, an address without code, no signer).
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The deployment file cannot be used.
    #[error(transparent)]
    Deployment(#[from] DeploymentError),
    /// There is no deployment file.
    #[error("no deployment file at {0}: run `damm deploy` first, or give --deployment (DAMM_DEPLOYMENT)")]
    NoDeployment(PathBuf),
    /// `--pool` names no pool.
    #[error("no pool {key:?}{detail} (known: {known}; a pool is named by its pair's address, its index, its tokens' symbols as A/B, or a market's name)")]
    UnknownPool {
        /// What was given.
        key: String,
        /// Why it matches nothing, if more can be said (starts with `: `).
        detail: String,
        /// The known pools.
        known: String,
    },
    /// `--pool` is needed: the deployment has several pools, or none.
    #[error("give --pool: the deployment has {count} pools (known: {known})")]
    PoolRequired {
        /// How many.
        count: usize,
        /// The known pools.
        known: String,
    },
    /// A number on the command line cannot be used.
    #[error("{flag}: {reason}")]
    BadNumber {
        /// The flag.
        flag: String,
        /// What is wrong.
        reason: String,
    },
    /// An address on the command line cannot be used.
    #[error("{flag}: {text:?} is not an address (0x and 40 hexadecimal digits)")]
    BadAddress {
        /// The flag.
        flag: String,
        /// What was given.
        text: String,
    },
    /// A balance is short of what the command needs.
    #[error("{holder} holds {balance}, {what} needs {needed} — nothing was sent")]
    InsufficientBalance {
        /// The account.
        holder: Address,
        /// What it holds, formatted.
        balance: String,
        /// What is needed, formatted.
        needed: String,
        /// What needs it.
        what: String,
    },
    /// The vault is paused.
    #[error("the vault is paused: {what} is refused until its owner unpauses it (ContractPaused) — nothing was sent")]
    Paused {
        /// What is refused.
        what: String,
    },
    /// A withdrawal above what can be withdrawn now, refused before sending.
    #[error(transparent)]
    WithdrawalBlocked(Box<WithdrawalBlocked>),
    /// A precondition the contract would refuse, checked before sending.
    #[error("{0} — nothing was sent")]
    Refused(String),
    /// Reading the chain or a transaction failed.
    #[error(transparent)]
    Chain(#[from] TxError),
}

/// A withdrawal above `maxWithdraw`, refused before sending: the account, the amounts and the worst case.
#[derive(Debug, thiserror::Error)]
#[error(
    "withdrawing {requested} shares is refused before sending: only {available} of the {balance} shares of \
     {account} can be withdrawn now (maxWithdraw) — withdrawing more would leave the markets' worst case \
     uncovered or below the pool's HF_min {hf_min} (worst case now: {worst_case}) \
     (WithdrawalExceedsFree {{ requested: {requested_raw}, available: {available_raw} }})"
)]
pub struct WithdrawalBlocked {
    /// The account.
    pub account: Address,
    /// Shares asked for, formatted.
    pub requested: String,
    /// Shares asked for, raw.
    pub requested_raw: U256,
    /// `maxWithdraw`, formatted.
    pub available: String,
    /// `maxWithdraw`, raw.
    pub available_raw: U256,
    /// The account's shares, formatted.
    pub balance: String,
    /// The pool's minimum health factor, formatted.
    pub hf_min: String,
    /// The worst case as it is, described.
    pub worst_case: String,
}

/// Maps a failed view call to [`TxError::Read`], its revert decoded.
pub fn read_error(what: impl Into<String>) -> impl FnOnce(alloy::contract::Error) -> CommandError {
    let what = what.into();
    move |e| {
        TxError::Read {
            what,
            reason: explain_contract(&e),
        }
        .into()
    }
}

/// Makes the view call `call`; a failure is [`TxError::Read`] of `what`, its revert decoded.
///
/// # Errors
///
/// [`TxError::Read`].
pub async fn read_view<P: Provider, D: CallDecoder>(
    call: CallBuilder<P, D>,
    what: impl Into<String>,
) -> Result<D::CallOutput, CommandError> {
    call.call().await.map_err(read_error(what))
}

// ---- parsing -------------------------------------------------------------------------------------------------

/// Parses an amount of a token with `decimals` decimals: a decimal number of whole tokens (`"1.5"`,
/// `"1_000"`, `"2e3"`), or base units with a `wei`/`atoms` suffix (`"1500wei"`, `"0xffatoms"`).
///
/// # Errors
///
/// [`CommandError::BadNumber`] naming `flag`.
pub fn parse_token_amount(flag: &str, text: &str, decimals: u8) -> Result<U256, CommandError> {
    scaled(text, decimals).map_err(|reason| CommandError::BadNumber {
        flag: flag.to_string(),
        reason,
    })
}

fn scaled(text: &str, decimals: u8) -> Result<U256, String> {
    let t = text.trim().replace('_', "").to_ascii_lowercase();
    for suffix in ["wei", "atoms"] {
        if let Some(number) = t.strip_suffix(suffix) {
            return parse_num(number.trim());
        }
    }
    let not_a_number = || {
        format!(
            "{text:?} is not a non-negative number (whole tokens such as 1.5, or base units such as 1500wei)"
        )
    };
    let (mantissa, exponent) = match t.split_once('e') {
        Some((m, e)) => (m, e.parse::<u32>().map_err(|_| not_a_number())?),
        None => (t.as_str(), 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if (int.is_empty() && frac.is_empty())
        || !int.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
    {
        return Err(not_a_number());
    }
    let scale = u32::from(decimals) + exponent;
    let frac_len = u32::try_from(frac.len()).unwrap_or(u32::MAX);
    if frac_len > scale {
        return Err(format!("{text:?} has more decimals than the token's {decimals}"));
    }
    if scale - frac_len > 80 {
        return Err(format!("{text:?} does not fit 256 bits"));
    }
    let digits = format!("{int}{frac}{}", "0".repeat((scale - frac_len) as usize));
    let digits = digits.trim_start_matches('0');
    if digits.is_empty() {
        return Ok(U256::ZERO);
    }
    U256::from_str_radix(digits, 10).map_err(|_| format!("{text:?} does not fit 256 bits"))
}

/// Parses a small non-negative integer flag (an index, basis points, seconds).
///
/// # Errors
///
/// [`CommandError::BadNumber`] naming `flag`.
pub fn parse_int(flag: &str, text: &str) -> Result<u64, CommandError> {
    text.trim()
        .replace('_', "")
        .parse::<u64>()
        .map_err(|_| CommandError::BadNumber {
            flag: flag.to_string(),
            reason: format!("{text:?} is not a non-negative integer"),
        })
}

/// Parses an address flag.
///
/// # Errors
///
/// [`CommandError::BadAddress`] naming `flag`.
pub fn parse_address(flag: &str, text: &str) -> Result<Address, CommandError> {
    text.trim().parse().map_err(|_| CommandError::BadAddress {
        flag: flag.to_string(),
        text: text.to_string(),
    })
}

// ---- the context ---------------------------------------------------------------------------------------------

/// An ERC-20 as the commands show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Its contract.
    pub address: Address,
    /// Its symbol (or a short form of its address if it has none).
    pub symbol: String,
    /// Its decimals (18 if it does not say).
    pub decimals: u8,
}

impl Token {
    /// `amount` of this token for people (`1.5 WETH`).
    pub fn show(&self, amount: U256) -> String {
        output::token_amount(amount, self.decimals, &self.symbol)
    }

    /// `amount` of this token as JSON (`{"raw", "formatted"}`).
    pub fn json(&self, amount: U256) -> Value {
        output::amount(amount, self.decimals)
    }

    /// The token as JSON: address, symbol, decimals.
    pub fn describe(&self) -> Value {
        json!({
            "address": output::address(self.address),
            "symbol": self.symbol,
            "decimals": self.decimals,
        })
    }
}

/// A vault pool: its pair (also its LP token) and its two tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pool {
    /// The Uniswap V2 pair: the pool's id in the vault.
    pub pair: Address,
    /// The pair's LP token (the pair itself).
    pub lp: Token,
    /// The pair's token0.
    pub token0: Token,
    /// The pair's token1.
    pub token1: Token,
}

impl Pool {
    /// `TOKEN0/TOKEN1 (0x…)`.
    pub fn label(&self) -> String {
        format!("{}/{} ({})", self.token0.symbol, self.token1.symbol, self.pair)
    }
}

/// What every `lp` and `admin` command starts from: the connected chain, the deployment and its vault.
#[derive(Debug, Clone)]
pub struct Context {
    /// The chain.
    pub client: Client,
    /// The deployment file's contents.
    pub deployment: Deployment,
    /// The deployment file.
    pub deployment_path: PathBuf,
    /// The vault.
    pub vault: IVault::IVaultInstance<DynProvider>,
}

impl Context {
    /// Resolves `chain`, connects, reads the deployment file and checks that its vault holds code.
    ///
    /// # Errors
    ///
    /// A [`CommandError`] naming the configuration, connection or deployment problem.
    pub async fn open(chain: &ChainArgs) -> Result<Self, CommandError> {
        let settings = chain.resolve()?;
        if !settings.deployment.exists() {
            return Err(CommandError::NoDeployment(settings.deployment));
        }
        let client = connect(&settings).await?;
        let deployment = Deployment::load(&settings.deployment)?;
        client.require_code(deployment.vault, "vault").await?;
        let vault = IVault::new(deployment.vault, client.provider.clone());
        Ok(Self {
            client,
            deployment,
            deployment_path: settings.deployment,
            vault,
        })
    }

    /// The provider.
    pub fn provider(&self) -> &DynProvider {
        &self.client.provider
    }

    /// The ERC-20 at `address`: symbol and decimals (an address, and 18, when it does not answer them).
    ///
    /// # Errors
    ///
    /// [`ClientError::NoCode`] if nothing is deployed there.
    pub async fn token(&self, address: Address) -> Result<Token, CommandError> {
        self.client.require_code(address, "token").await?;
        let erc20 = IERC20::new(address, self.provider().clone());
        let symbol = match erc20.symbol().call().await {
            Ok(s) if !s.trim().is_empty() => s,
            _ => {
                let text = address.to_string();
                format!("{}…{}", &text[..6], &text[text.len() - 4..])
            }
        };
        let decimals = erc20.decimals().call().await.unwrap_or(18);
        Ok(Token {
            address,
            symbol,
            decimals,
        })
    }

    /// The pool `entry` with its tokens described.
    async fn describe(&self, entry: &PoolEntry) -> Result<Pool, CommandError> {
        Ok(Pool {
            pair: entry.pair,
            lp: Token {
                decimals: LP_DECIMALS,
                ..self.token(entry.pair).await?
            },
            token0: self.token(entry.token0).await?,
            token1: self.token(entry.token1).await?,
        })
    }

    /// The deployment's pools, for error messages: `#0 0x… (A/B), #1 …`.
    async fn known_pools(&self) -> String {
        let mut known = Vec::new();
        for (i, entry) in self.deployment.pools.iter().enumerate() {
            let symbols = match self.describe(entry).await {
                Ok(p) => format!(" ({}/{})", p.token0.symbol, p.token1.symbol),
                Err(_) => String::new(),
            };
            known.push(format!("#{i} {}{symbols}", entry.pair));
        }
        if known.is_empty() {
            "none".to_string()
        } else {
            known.join(", ")
        }
    }

    /// The vault's pool of `pair`, if it has one.
    async fn pool_on_chain(&self, pair: Address) -> Result<Option<PoolEntry>, CommandError> {
        match self.vault.poolInfo(pair).call().await {
            Ok(info) => Ok(Some(PoolEntry {
                pair,
                token0: info._0,
                token1: info._1,
            })),
            Err(e) => match e.as_decoded_interface_error::<IVault::IVaultErrors>() {
                Some(IVault::IVaultErrors::UnknownPool(_)) => Ok(None),
                _ => Err(read_error(format!("the vault's poolInfo({pair})"))(e)),
            },
        }
    }

    /// The pool `key` names (see the module's documentation), or the deployment's only pool.
    ///
    /// # Errors
    ///
    /// [`CommandError::UnknownPool`] listing the known pools, [`CommandError::PoolRequired`], or
    /// [`ClientError::NoCode`] for an address without code.
    pub async fn pool(&self, key: Option<&str>) -> Result<Pool, CommandError> {
        let pools = &self.deployment.pools;
        let unknown = |detail: String, known: String| CommandError::UnknownPool {
            key: key.unwrap_or_default().to_string(),
            detail,
            known,
        };
        let Some(key) = key.map(str::trim) else {
            return match pools.as_slice() {
                [only] => self.describe(only).await,
                _ => Err(CommandError::PoolRequired {
                    count: pools.len(),
                    known: self.known_pools().await,
                }),
            };
        };
        if key.starts_with("0x") || key.starts_with("0X") {
            let pair = parse_address("--pool", key)?;
            if let Some(entry) = self.deployment.pool(pair) {
                return self.describe(&entry.clone()).await;
            }
            self.client.require_code(pair, "pool (Uniswap V2 pair)").await?;
            return match self.pool_on_chain(pair).await? {
                Some(entry) => self.describe(&entry).await,
                None => Err(unknown(
                    format!(": the vault {} has no pool for this pair", self.deployment.vault),
                    self.known_pools().await,
                )),
            };
        }
        if let Ok(index) = key.strip_prefix('#').unwrap_or(key).parse::<usize>() {
            return match pools.get(index) {
                Some(entry) => self.describe(entry).await,
                None => Err(unknown(
                    format!(": the deployment has {} pool(s)", pools.len()),
                    self.known_pools().await,
                )),
            };
        }
        if let Some(market) = self.deployment.markets.iter().find(|m| m.name == key) {
            let entry = match self.deployment.pool(market.pool) {
                Some(entry) => entry.clone(),
                None => self.pool_on_chain(market.pool).await?.ok_or_else(|| {
                    CommandError::Refused(format!(
                        "market {key:?} draws on {}, which is not a pool of the vault",
                        market.pool
                    ))
                })?,
            };
            return self.describe(&entry).await;
        }
        if let Some((a, b)) = key.split_once('/') {
            let (a, b) = (a.trim().to_lowercase(), b.trim().to_lowercase());
            let mut found = Vec::new();
            for entry in pools {
                let p = self.describe(entry).await?;
                let (s0, s1) = (p.token0.symbol.to_lowercase(), p.token1.symbol.to_lowercase());
                if (s0 == a && s1 == b) || (s0 == b && s1 == a) {
                    found.push(p);
                }
            }
            return match found.len() {
                1 => Ok(found.remove(0)),
                0 => Err(unknown(String::new(), self.known_pools().await)),
                n => Err(unknown(
                    format!(": {n} pools have these symbols, name one by address or index"),
                    self.known_pools().await,
                )),
            };
        }
        Err(unknown(String::new(), self.known_pools().await))
    }

    /// Sends `tx` from the signer and waits for its successful receipt. The provider estimates the gas first,
    /// so a transaction that would revert is refused with its decoded error and nothing is mined.
    ///
    /// # Errors
    ///
    /// [`ClientError::NoSigner`], [`TxError::Transaction`], [`TxError::Reverted`] or [`TxError::NotMined`],
    /// naming `step`.
    pub async fn send(
        &self,
        step: &str,
        mut tx: TransactionRequest,
    ) -> Result<TransactionReceipt, CommandError> {
        let from = self.client.require_signer(step)?;
        tx.from = Some(from);
        let local = self.client.url.contains("127.0.0.1") || self.client.url.contains("localhost");
        let poll = if local {
            Duration::from_millis(20)
        } else {
            Duration::from_millis(500)
        };
        Ok(send_and_wait(self.provider(), step, tx, poll).await?)
    }

    /// [`Self::send`] of a contract call.
    ///
    /// # Errors
    ///
    /// As [`Self::send`].
    pub async fn send_call<P: Provider, D: CallDecoder>(
        &self,
        step: &str,
        call: CallBuilder<P, D>,
    ) -> Result<TransactionReceipt, CommandError> {
        self.send(step, call.into_transaction_request()).await
    }

    /// Checks that `owner` holds `amount` of `token` for `what`.
    ///
    /// # Errors
    ///
    /// [`CommandError::InsufficientBalance`].
    pub async fn require_balance(
        &self,
        token: &Token,
        owner: Address,
        amount: U256,
        what: &str,
    ) -> Result<(), CommandError> {
        let erc20 = IERC20::new(token.address, self.provider().clone());
        let balance = read_view(
            erc20.balanceOf(owner),
            format!("{}'s balanceOf({owner})", token.symbol),
        )
        .await?;
        if balance < amount {
            return Err(CommandError::InsufficientBalance {
                holder: owner,
                balance: token.show(balance),
                needed: token.show(amount),
                what: what.to_string(),
            });
        }
        Ok(())
    }

    /// Approves the vault to take `amount` of `token` from `owner` (the signer), unless it may already.
    /// Returns the approval's transaction, if one was sent.
    ///
    /// # Errors
    ///
    /// As [`Self::send`].
    pub async fn ensure_allowance(
        &self,
        token: &Token,
        owner: Address,
        amount: U256,
    ) -> Result<Option<B256>, CommandError> {
        let erc20 = IERC20::new(token.address, self.provider().clone());
        let allowance = read_view(
            erc20.allowance(owner, self.vault.address().to_owned()),
            format!("{}'s allowance", token.symbol),
        )
        .await?;
        if allowance >= amount {
            return Ok(None);
        }
        let step = format!("approving the vault to take {}", token.show(amount));
        note(format!("{step} …"));
        let receipt = self
            .send_call(&step, erc20.approve(*self.vault.address(), amount))
            .await?;
        Ok(Some(receipt.transaction_hash))
    }

    /// Refuses with [`CommandError::Paused`] when the vault is paused.
    ///
    /// # Errors
    ///
    /// [`CommandError::Paused`] or [`TxError::Read`].
    pub async fn require_unpaused(&self, what: &str) -> Result<(), CommandError> {
        if read_view(self.vault.paused(), "the vault's paused()").await? {
            return Err(CommandError::Paused {
                what: what.to_string(),
            });
        }
        Ok(())
    }

    /// The latest block's timestamp.
    ///
    /// # Errors
    ///
    /// [`TxError::Read`].
    pub async fn now(&self) -> Result<u64, CommandError> {
        let block = self
            .provider()
            .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
            .await
            .map_err(|e| TxError::Read {
                what: "the latest block".into(),
                reason: explain_transport(&e),
            })?
            .ok_or_else(|| TxError::Read {
                what: "the latest block".into(),
                reason: "the node has none".into(),
            })?;
        Ok(block.header.timestamp)
    }
}

/// The events of type `E` the vault emitted in `receipt`.
pub fn logs_of<E: SolEvent>(receipt: &TransactionReceipt, emitter: Address) -> Vec<E> {
    receipt
        .inner
        .logs()
        .iter()
        .filter(|log| log.address() == emitter)
        .filter_map(|log| log.log_decode::<E>().ok())
        .map(|log| log.inner.data)
        .collect()
}

/// The first event of type `E` (named `name`) the vault emitted in `receipt`, the receipt of `what`.
fn first_event<E: SolEvent>(
    receipt: &TransactionReceipt,
    vault: Address,
    what: &str,
    name: &str,
) -> Result<E, TxError> {
    logs_of::<E>(receipt, vault)
        .into_iter()
        .next()
        .ok_or_else(|| TxError::Read {
            what: format!("the {what}'s receipt {}", receipt.transaction_hash),
            reason: format!("the vault emitted no {name} event"),
        })
}

/// A transacting command's start: the context, the signer (for `what`) and the pool of `--pool`.
async fn open_signed(common: &LpCommon, what: &str) -> Result<(Context, Address, Pool), CommandError> {
    let ctx = Context::open(&common.chain).await?;
    let me = ctx.client.require_signer(what)?;
    let pool = ctx.pool(common.pool.as_deref()).await?;
    Ok((ctx, me, pool))
}

/// `--receiver`, or `me` without it.
fn receiver_or(text: Option<&str>, me: Address) -> Result<Address, CommandError> {
    text.map_or(Ok(me), |t| parse_address("--receiver", t))
}

// ---- the commands' arguments ---------------------------------------------------------------------------------

/// `damm lp …`.
#[derive(Debug, Subcommand)]
pub enum LpCommand {
    /// Deposit LP tokens (--lp) or the pair's two tokens (--amount0/--amount1) for shares.
    ///
    /// Approves the vault first when its allowance is short; previews the shares with an eth_call of the same
    /// deposit and sends it with a minimum of the preview less --slippage-bps. Refused before anything is sent
    /// while the vault is paused or the signer's balance is short.
    Deposit(DepositArgs),
    /// Burn shares for the pool's holdings in kind (token0, token1 and LP tokens).
    ///
    /// Shows maxWithdraw first, and refuses before sending more than the markets' worst case leaves free
    /// (naming the worst case and the pool's HF_min).
    Withdraw(WithdrawArgs),
    /// A position: shares, value, fees earned, pending rewards, HF and maxWithdraw.
    ///
    /// Without --pool, every pool of the deployment.
    ///
    /// Value: the account's part of the pool's raw token0/token1 plus its part of the pool's LP tokens at
    /// the pair's reserves; in LP tokens, its part of the pool's LP tokens plus its raw tokens at the pair's
    /// price (an LP token is worth 2·reserve0/supply of token0, or 2·reserve1/supply of token1).
    ///
    /// Fees earned: the vault's Transfer and Deposit events of the account are replayed from block 0
    /// (eth_getLogs). The cost basis, in LP tokens, grows by the `lp` of every deposit the account received,
    /// and by today's value of shares it received by transfer; every share it sent or burnt takes its pro
    /// rata part of the basis away. Earned = value now in LP tokens − basis, also shown in both tokens at the
    /// pair's reserves: what dAMM earned beyond the LP tokens' own Uniswap fees, net of the markets'
    /// impermanent loss. It can be negative.
    Status(StatusArgs),
    /// Claim the pending rewards of every initialized reward slot with something pending (or of --index).
    Claim(ClaimArgs),
}

/// The options every `lp` command takes.
#[derive(Debug, Clone, Args)]
pub struct LpCommon {
    /// The chain, the signer and the deployment file.
    #[command(flatten)]
    pub chain: ChainArgs,
    /// The pool: its pair's address, its index in the deployment file (0 or #0), its tokens' symbols (A/B),
    /// or a market's name [default: the deployment's only pool].
    #[arg(long, value_name = "POOL")]
    pub pool: Option<String>,
    /// Print one JSON object on stdout instead of tables (amounts as raw integers and formatted).
    #[arg(long)]
    pub json: bool,
}

/// Options of `damm lp deposit`.
#[derive(Debug, Clone, Args)]
#[command(group(ArgGroup::new("what").required(true).args(["lp", "amount0"])))]
pub struct DepositArgs {
    /// Chain, pool, output.
    #[command(flatten)]
    pub common: LpCommon,
    /// Uniswap V2 LP tokens to deposit, in whole tokens (1.5) or base units (1500wei).
    #[arg(long, value_name = "AMOUNT", conflicts_with_all = ["amount0", "amount1"])]
    pub lp: Option<String>,
    /// At most this much token0 (with --amount1): the vault adds both to the pair at its ratio.
    #[arg(long, value_name = "AMOUNT", requires = "amount1")]
    pub amount0: Option<String>,
    /// At most this much token1 (with --amount0).
    #[arg(long, value_name = "AMOUNT", requires = "amount0")]
    pub amount1: Option<String>,
    /// Accept this many basis points fewer shares than the preview.
    #[arg(long, value_name = "BPS", default_value_t = DEFAULT_SLIPPAGE_BPS.to_string())]
    pub slippage_bps: String,
    /// Who gets the shares [default: the signer].
    #[arg(long, value_name = "ADDRESS")]
    pub receiver: Option<String>,
}

/// Options of `damm lp withdraw`.
#[derive(Debug, Clone, Args)]
#[command(group(ArgGroup::new("how").required(true).args(["shares", "all", "max"])))]
pub struct WithdrawArgs {
    /// Chain, pool, output.
    #[command(flatten)]
    pub common: LpCommon,
    /// Shares to burn, in whole shares (18 decimals) or base units (…wei).
    #[arg(long, value_name = "AMOUNT")]
    pub shares: Option<String>,
    /// Every share (refused if the markets' worst case needs some: see --max).
    #[arg(long)]
    pub all: bool,
    /// As many shares as can be withdrawn now (maxWithdraw).
    #[arg(long)]
    pub max: bool,
    /// Who gets the tokens [default: the signer].
    #[arg(long, value_name = "ADDRESS")]
    pub receiver: Option<String>,
}

/// Options of `damm lp status`.
#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    /// Chain, pool, output.
    #[command(flatten)]
    pub common: LpCommon,
    /// Whose position [default: the signer; no key is needed with --account].
    #[arg(long, value_name = "ADDRESS")]
    pub account: Option<String>,
}

/// Options of `damm lp claim`.
#[derive(Debug, Clone, Args)]
pub struct ClaimArgs {
    /// Chain, pool, output.
    #[command(flatten)]
    pub common: LpCommon,
    /// Only this reward slot (0 or 1).
    #[arg(long, value_name = "N")]
    pub index: Option<String>,
}

/// Runs `damm lp …`.
///
/// # Errors
///
/// A named [`CommandError`] (or a configuration error).
pub async fn run(command: LpCommand) -> Result<()> {
    match command {
        LpCommand::Deposit(args) => deposit(args).await,
        LpCommand::Withdraw(args) => withdraw(args).await,
        LpCommand::Status(args) => status(args).await,
        LpCommand::Claim(args) => claim(args).await,
    }
}

// ---- deposit -------------------------------------------------------------------------------------------------

/// What a deposit puts in.
#[derive(Debug, Clone, Copy)]
enum Amounts {
    /// LP tokens (`depositLp`).
    Lp(U256),
    /// At most these amounts of token0 and token1 (`depositPair`).
    Pair(U256, U256),
}

async fn deposit(args: DepositArgs) -> Result<()> {
    let (ctx, me, pool) = open_signed(&args.common, "damm lp deposit").await?;
    let receiver = receiver_or(args.receiver.as_deref(), me)?;
    let bps = parse_int("--slippage-bps", &args.slippage_bps)?;
    if bps > 10_000 {
        return Err(CommandError::BadNumber {
            flag: "--slippage-bps".into(),
            reason: format!("{bps} is above 10000 (100 %)"),
        }
        .into());
    }
    let vault = &ctx.vault;
    // What, checked before anything is sent.
    let amounts = match (&args.lp, &args.amount0, &args.amount1) {
        (Some(lp), _, _) => {
            let lp = parse_token_amount("--lp", lp, pool.lp.decimals)?;
            if lp.is_zero() {
                return Err(
                    CommandError::Refused("--lp: a deposit of zero LP tokens mints nothing".into()).into(),
                );
            }
            Amounts::Lp(lp)
        }
        (None, Some(a0), Some(a1)) => {
            let a0 = parse_token_amount("--amount0", a0, pool.token0.decimals)?;
            let a1 = parse_token_amount("--amount1", a1, pool.token1.decimals)?;
            if a0.is_zero() || a1.is_zero() {
                return Err(CommandError::Refused(
                    "--amount0/--amount1: a pair deposit needs some of both tokens".into(),
                )
                .into());
            }
            Amounts::Pair(a0, a1)
        }
        _ => unreachable!("clap requires --lp or both amounts"),
    };
    ctx.require_unpaused("depositing").await?;
    let needs = match amounts {
        Amounts::Lp(lp) => vec![(&pool.lp, lp)],
        Amounts::Pair(a0, a1) => vec![(&pool.token0, a0), (&pool.token1, a1)],
    };
    for (token, amount) in &needs {
        ctx.require_balance(token, me, *amount, "the deposit").await?;
    }
    // Approvals, then the preview of the very call.
    for (token, amount) in &needs {
        ctx.ensure_allowance(token, me, *amount).await?;
    }
    let call = |min_shares: U256| match amounts {
        Amounts::Lp(lp) => vault
            .depositLp(pool.pair, lp, min_shares, receiver)
            .from(me)
            .into_transaction_request(),
        Amounts::Pair(a0, a1) => vault
            .depositPair(pool.pair, a0, a1, min_shares, receiver)
            .from(me)
            .into_transaction_request(),
    };
    let preview = ctx
        .provider()
        .call(call(U256::ZERO))
        .await
        .map_err(|e| TxError::Transaction {
            step: "previewing the deposit".into(),
            reason: explain_transport(&e),
        })?;
    let preview = U256::try_from_be_slice(&preview).unwrap_or_default();
    let min_shares = preview * U256::from(10_000 - bps) / U256::from(10_000u64);
    note(format!(
        "depositing into {}: the preview mints {} shares; sending with at least {} ({bps} bps slippage) …",
        pool.label(),
        output::units(preview, SHARE_DECIMALS),
        output::units(min_shares, SHARE_DECIMALS)
    ));
    let balances_before = token_balances(&ctx, &pool, me).await?;
    let receipt = ctx.send("depositing", call(min_shares)).await?;
    let balances_after = token_balances(&ctx, &pool, me).await?;
    let event = first_event::<events::Deposit>(&receipt, *vault.address(), "deposit", "Deposit")?;
    let balance = read_view(vault.balanceOf(pool.pair, receiver), "the vault's balanceOf").await?;
    let hf = read_view(vault.healthFactor(pool.pair), "the vault's healthFactor").await?;
    let used0 = balances_before.0.saturating_sub(balances_after.0);
    let used1 = balances_before.1.saturating_sub(balances_after.1);

    if args.common.json {
        let mut out = json!({
            "pool": output::address(pool.pair),
            "account": output::address(me),
            "receiver": output::address(receiver),
            "kind": if matches!(amounts, Amounts::Pair(..)) { "pair" } else { "lp" },
            "sharesMinted": output::amount(event.shares, SHARE_DECIMALS),
            "previewShares": output::amount(preview, SHARE_DECIMALS),
            "minShares": output::amount(min_shares, SHARE_DECIMALS),
            "lpUsed": pool.lp.json(event.lp),
            "balance": output::amount(balance, SHARE_DECIMALS),
            "healthFactor": output::amount(hf, output::HF_DECIMALS),
            "tx": receipt.transaction_hash.to_string(),
        });
        if matches!(amounts, Amounts::Pair(..)) {
            out["token0Used"] = pool.token0.json(used0);
            out["token1Used"] = pool.token1.json(used1);
        }
        output::print_json(&out);
    } else {
        let mut t = KeyValues::titled(format!("deposited into {}", pool.label()));
        t.row("shares minted", output::units(event.shares, SHARE_DECIMALS));
        if matches!(amounts, Amounts::Pair(..)) {
            t.row("token0 used", pool.token0.show(used0));
            t.row("token1 used", pool.token1.show(used1));
        }
        t.row("LP used", pool.lp.show(event.lp))
            .row(
                "balance",
                format!("{} shares of {receiver}", output::units(balance, SHARE_DECIMALS)),
            )
            .row("pool HF", output::hf(hf))
            .row("transaction", receipt.transaction_hash.to_string());
        t.print();
    }
    Ok(())
}

/// `owner`'s balances of the pool's token0 and token1.
async fn token_balances(ctx: &Context, pool: &Pool, owner: Address) -> Result<(U256, U256), CommandError> {
    let mut out = [U256::ZERO; 2];
    for (slot, token) in out.iter_mut().zip([&pool.token0, &pool.token1]) {
        let erc20 = IERC20::new(token.address, ctx.provider().clone());
        *slot = read_view(erc20.balanceOf(owner), format!("{}'s balanceOf", token.symbol)).await?;
    }
    Ok((out[0], out[1]))
}

// ---- withdraw ------------------------------------------------------------------------------------------------

/// The worst case as `worstCase` reports it, for people.
pub fn describe_worst_case(covered: bool, up: bool, hf: U256) -> String {
    let side = if up { "top" } else { "bottom" };
    if covered {
        format!(
            "covered, health factor {} with every market at the {side} of its range",
            output::hf(hf)
        )
    } else {
        format!("a payout uncovered with every market at the {side} of its range")
    }
}

async fn withdraw(args: WithdrawArgs) -> Result<()> {
    let (ctx, me, pool) = open_signed(&args.common, "damm lp withdraw").await?;
    let receiver = receiver_or(args.receiver.as_deref(), me)?;
    let vault = &ctx.vault;
    let balance = read_view(vault.balanceOf(pool.pair, me), "the vault's balanceOf").await?;
    let max = read_view(vault.maxWithdraw(pool.pair, me), "the vault's maxWithdraw").await?;
    let shares_text = |x: U256| output::units(x, SHARE_DECIMALS);
    note(format!(
        "maxWithdraw: {} of the {} shares of {me} in {} can be withdrawn now",
        shares_text(max),
        shares_text(balance),
        pool.label()
    ));
    let shares = match (&args.shares, args.all, args.max) {
        (Some(text), _, _) => parse_token_amount("--shares", text, SHARE_DECIMALS)?,
        (None, true, _) => balance,
        (None, false, true) => max,
        _ => unreachable!("clap requires one of --shares, --all, --max"),
    };
    if shares.is_zero() {
        return Err(CommandError::Refused(format!(
            "nothing to withdraw: {me} can withdraw 0 shares of {} now",
            pool.label()
        ))
        .into());
    }
    if shares > balance {
        return Err(CommandError::Refused(format!(
            "withdrawing {} shares is refused: {me} holds {} shares of {} (InsufficientShares)",
            shares_text(shares),
            shares_text(balance),
            pool.label()
        ))
        .into());
    }
    if shares > max {
        let worst = read_view(vault.worstCase(pool.pair), "the vault's worstCase").await?;
        let info = read_view(vault.poolInfo(pool.pair), "the vault's poolInfo").await?;
        return Err(CommandError::WithdrawalBlocked(Box::new(WithdrawalBlocked {
            account: me,
            requested: shares_text(shares),
            requested_raw: shares,
            available: shares_text(max),
            available_raw: max,
            balance: shares_text(balance),
            hf_min: output::hf(info._6),
            worst_case: describe_worst_case(worst._0, worst._1, worst._2),
        }))
        .into());
    }
    note(format!(
        "withdrawing {} shares of {} to {receiver} …",
        shares_text(shares),
        pool.label()
    ));
    let receipt = ctx
        .send_call("withdrawing", vault.withdraw(pool.pair, shares, receiver))
        .await?;
    let event = first_event::<events::Withdraw>(&receipt, *vault.address(), "withdrawal", "Withdraw")?;
    let left = read_view(vault.balanceOf(pool.pair, me), "the vault's balanceOf").await?;
    let max_now = read_view(vault.maxWithdraw(pool.pair, me), "the vault's maxWithdraw").await?;
    let hf = read_view(vault.healthFactor(pool.pair), "the vault's healthFactor").await?;
    if args.common.json {
        output::print_json(&json!({
            "pool": output::address(pool.pair),
            "account": output::address(me),
            "receiver": output::address(receiver),
            "sharesBurnt": output::amount(event.shares, SHARE_DECIMALS),
            "received": {
                "token0": pool.token0.json(event.amount0),
                "token1": pool.token1.json(event.amount1),
                "lp": pool.lp.json(event.lp),
            },
            "balance": output::amount(left, SHARE_DECIMALS),
            "maxWithdraw": output::amount(max_now, SHARE_DECIMALS),
            "healthFactor": output::amount(hf, output::HF_DECIMALS),
            "tx": receipt.transaction_hash.to_string(),
        }));
    } else {
        let mut t = KeyValues::titled(format!("withdrew from {}", pool.label()));
        t.row("shares burnt", shares_text(event.shares))
            .row("received token0", pool.token0.show(event.amount0))
            .row("received token1", pool.token1.show(event.amount1))
            .row("received LP", pool.lp.show(event.lp))
            .row("receiver", receiver.to_string())
            .row("shares left", shares_text(left))
            .row("maxWithdraw now", shares_text(max_now))
            .row("pool HF", output::hf(hf))
            .row("transaction", receipt.transaction_hash.to_string());
        t.print();
    }
    Ok(())
}

// ---- status --------------------------------------------------------------------------------------------------

/// A pool's holdings and its pair, to value shares with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Valuation {
    /// The pool's raw token0.
    pub raw0: U256,
    /// The pool's raw token1.
    pub raw1: U256,
    /// The pool's LP tokens.
    pub lp: U256,
    /// The pool's shares.
    pub total_shares: U256,
    /// The pair's reserves and LP supply.
    pub pair: PairState,
}

impl Valuation {
    /// The part of the pool's raw token0, raw token1 and LP tokens that `shares` stand for (rounded down).
    pub fn parts(&self, shares: U256) -> (U256, U256, U256) {
        if self.total_shares.is_zero() {
            return (U256::ZERO, U256::ZERO, U256::ZERO);
        }
        let part = |x: U256| mul_div_u256(x, shares, self.total_shares, Rounding::Down).unwrap_or_default();
        (part(self.raw0), part(self.raw1), part(self.lp))
    }

    /// What `shares` are worth in LP tokens at the pair's price: their LP tokens, plus their raw tokens as
    /// LP tokens (an LP token is worth `2·reserve0/supply` of token0, or `2·reserve1/supply` of token1).
    pub fn lp_value(&self, shares: U256) -> U256 {
        let (raw0, raw1, lp) = self.parts(shares);
        let as_lp = |amount: U256, reserve: u128| {
            if reserve == 0 {
                return U256::ZERO;
            }
            mul_div_u256(
                amount,
                self.pair.total_supply,
                U256::from(reserve) * U256::from(2u8),
                Rounding::Down,
            )
            .unwrap_or_default()
        };
        lp + as_lp(raw0, self.pair.reserve0) + as_lp(raw1, self.pair.reserve1)
    }

    /// What `lp` LP tokens hold of token0 and token1 at the pair's reserves.
    pub fn lp_underlying(&self, lp: U256) -> (U256, U256) {
        let of = |reserve: u128| {
            mul_div_u256(lp, U256::from(reserve), self.pair.total_supply, Rounding::Down).unwrap_or_default()
        };
        (of(self.pair.reserve0), of(self.pair.reserve1))
    }
}

/// The cost basis of an account's shares, from the vault's events (see `damm lp status --help`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Basis {
    /// The shares the events add up to.
    pub shares: U256,
    /// The cost basis in LP tokens.
    pub lp: U256,
}

/// What a position earned: its value now in LP tokens less its cost basis, also in both tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Earned {
    /// The cost basis.
    pub basis: Basis,
    /// Whether it is a loss.
    pub negative: bool,
    /// Its magnitude in LP tokens.
    pub lp: U256,
    /// What those LP tokens hold of token0 at the pair's reserves.
    pub token0: U256,
    /// And of token1.
    pub token1: U256,
}

impl Earned {
    /// `value_lp − basis`, with the pair's reserves of `v`.
    pub fn new(v: &Valuation, basis: Basis, value_lp: U256) -> Self {
        let (negative, lp) = if value_lp >= basis.lp {
            (false, value_lp - basis.lp)
        } else {
            (true, basis.lp - value_lp)
        };
        let (token0, token1) = v.lp_underlying(lp);
        Self {
            basis,
            negative,
            lp,
            token0,
            token1,
        }
    }
}

/// One share movement of the account's history: a transfer, or a deposit's mint with its LP tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Movement {
    /// Shares minted to the account by a deposit of `lp` LP tokens.
    Deposited {
        /// Shares minted.
        shares: U256,
        /// LP tokens deposited.
        lp: U256,
    },
    /// Shares received otherwise (transfers, mints without a matching deposit).
    Received(U256),
    /// Shares sent or burnt.
    Sent(U256),
}

impl Basis {
    /// Applies one movement; shares received by transfer are valued with `value_of`.
    pub fn apply(&mut self, movement: Movement, value_of: impl Fn(U256) -> U256) {
        match movement {
            Movement::Deposited { shares, lp } => {
                self.shares += shares;
                self.lp += lp;
            }
            Movement::Received(shares) => {
                self.shares += shares;
                self.lp += value_of(shares);
            }
            Movement::Sent(shares) => {
                let shares = shares.min(self.shares);
                let part = mul_div_u256(self.lp, shares, self.shares, Rounding::Down).unwrap_or(self.lp);
                self.lp -= part;
                self.shares -= shares;
            }
        }
    }
}

/// The account's share movements in `pool`, in chain order, from the vault's `Transfer` and `Deposit` logs.
async fn movements(ctx: &Context, pool: Address, account: Address) -> Result<Vec<Movement>, CommandError> {
    let vault = *ctx.vault.address();
    let base = Filter::new()
        .address(vault)
        .from_block(0u64)
        .topic1(pool.into_word());
    let queries = [
        base.clone()
            .event_signature(events::Transfer::SIGNATURE_HASH)
            .topic2(account.into_word()),
        base.clone()
            .event_signature(events::Transfer::SIGNATURE_HASH)
            .topic3(account.into_word()),
        base.event_signature(events::Deposit::SIGNATURE_HASH)
            .topic3(account.into_word()),
    ];
    let mut logs: Vec<Log> = Vec::new();
    for filter in &queries {
        let found = ctx.provider().get_logs(filter).await.map_err(|e| TxError::Read {
            what: "the vault's share events (eth_getLogs)".into(),
            reason: explain_transport(&e),
        })?;
        logs.extend(found);
    }
    let position = |log: &Log| (log.block_number.unwrap_or(0), log.log_index.unwrap_or(0));
    logs.sort_by_key(position);
    logs.dedup_by_key(|log| position(log));
    // Deposits to the account, by transaction: each claims the mint Transfer of the same shares.
    let mut deposits: HashMap<Option<B256>, Vec<(U256, U256)>> = HashMap::new();
    for log in &logs {
        if let Ok(d) = log.log_decode::<events::Deposit>() {
            deposits
                .entry(log.transaction_hash)
                .or_default()
                .push((d.inner.data.shares, d.inner.data.lp));
        }
    }
    let mut out = Vec::new();
    for log in &logs {
        let Ok(t) = log.log_decode::<events::Transfer>() else {
            continue;
        };
        let t = t.inner.data;
        if t.from == account && t.to == account {
            continue;
        }
        if t.from == account {
            out.push(Movement::Sent(t.amount));
        } else if t.to == account {
            let deposit = t.from.is_zero().then(|| {
                let list = deposits.get_mut(&log.transaction_hash)?;
                let i = list.iter().position(|(shares, _)| *shares == t.amount)?;
                Some(list.remove(i))
            });
            match deposit.flatten() {
                Some((shares, lp)) => out.push(Movement::Deposited { shares, lp }),
                None => out.push(Movement::Received(t.amount)),
            }
        }
    }
    Ok(out)
}

/// The pool's valuation now.
async fn valuation(ctx: &Context, pool: &Pool) -> Result<(Valuation, IVault::poolInfoReturn), CommandError> {
    let info = read_view(ctx.vault.poolInfo(pool.pair), "the vault's poolInfo").await?;
    let pair = IUniswapV2Pair::new(pool.pair, ctx.provider().clone());
    let reserves = read_view(pair.getReserves(), "the pair's getReserves").await?;
    let supply = read_view(pair.totalSupply(), "the pair's totalSupply").await?;
    let state = PairState {
        reserve0: reserves.reserve0.to::<u128>(),
        reserve1: reserves.reserve1.to::<u128>(),
        total_supply: supply,
    };
    Ok((
        Valuation {
            raw0: info._2,
            raw1: info._3,
            lp: info._4,
            total_shares: info._5,
            pair: state,
        },
        info,
    ))
}

/// Reward slot `index` of the pool of `pair` (`rewardInfo`) and what it holds pending for `account`; `None`
/// if the slot is not initialized.
async fn reward_pending(
    ctx: &Context,
    pair: Address,
    index: u64,
    account: Address,
) -> Result<Option<(IVault::rewardInfoReturn, U256)>, CommandError> {
    let slot = read_view(
        ctx.vault.rewardInfo(pair, U256::from(index)),
        format!("the vault's rewardInfo({index})"),
    )
    .await?;
    if slot._0.is_zero() {
        return Ok(None);
    }
    let pending = read_view(
        ctx.vault.pendingReward(pair, U256::from(index), account),
        format!("the vault's pendingReward({index})"),
    )
    .await?;
    Ok(Some((slot, pending)))
}

/// One pool's part of `damm lp status`.
async fn pool_status(
    ctx: &Context,
    pool: &Pool,
    account: Address,
) -> Result<(Value, KeyValues), CommandError> {
    let vault = &ctx.vault;
    let (v, info) = valuation(ctx, pool).await?;
    let shares = read_view(vault.balanceOf(pool.pair, account), "the vault's balanceOf").await?;
    let total = info._5;
    let (raw0, raw1, lp_part) = v.parts(shares);
    let (under0, under1) = v.lp_underlying(lp_part);
    let (value0, value1) = (raw0 + under0, raw1 + under1);
    let value_lp = v.lp_value(shares);

    // Fees earned, from the account's history; unknown when the node does not give the logs.
    let earned = match movements(ctx, pool.pair, account).await {
        Ok(history) => {
            let mut basis = Basis::default();
            for movement in history {
                basis.apply(movement, |s| v.lp_value(s));
            }
            if basis.shares != shares {
                note(format!(
                    "note: the vault's events add up to {} shares of {account}, balanceOf says {}: the node's \
                     logs are incomplete, so fees earned are approximate",
                    output::units(basis.shares, SHARE_DECIMALS),
                    output::units(shares, SHARE_DECIMALS)
                ));
            }
            Some(Earned::new(&v, basis, value_lp))
        }
        Err(e) => {
            note(format!("note: fees earned unknown: {e}"));
            None
        }
    };

    let mut rewards = Vec::new();
    let mut reward_rows = Vec::new();
    for index in 0..REWARD_SLOTS {
        let Some((slot, pending)) = reward_pending(ctx, pool.pair, index, account).await? else {
            continue;
        };
        let token = ctx.token(slot._0).await?;
        reward_rows.push((format!("reward #{index} pending"), token.show(pending)));
        rewards.push(json!({
            "index": index,
            "token": token.describe(),
            "pending": token.json(pending),
            "periodEnd": slot._3,
        }));
    }
    let hf = read_view(vault.healthFactor(pool.pair), "the vault's healthFactor").await?;
    let max = read_view(vault.maxWithdraw(pool.pair, account), "the vault's maxWithdraw").await?;

    let json = json!({
        "pool": output::address(pool.pair),
        "token0": pool.token0.describe(),
        "token1": pool.token1.describe(),
        "lpToken": pool.lp.describe(),
        "shares": output::amount(shares, SHARE_DECIMALS),
        "totalShares": output::amount(total, SHARE_DECIMALS),
        "sharePercent": output::percent(shares, total),
        "value": {
            "token0": pool.token0.json(value0),
            "token1": pool.token1.json(value1),
            "lp": pool.lp.json(value_lp),
            "rawToken0": pool.token0.json(raw0),
            "rawToken1": pool.token1.json(raw1),
            "lpTokens": pool.lp.json(lp_part),
        },
        "basisLp": earned.map_or(Value::Null, |e| pool.lp.json(e.basis.lp)),
        "earned": earned.map_or(Value::Null, |e| json!({
            "lp": output::signed_amount(e.negative, e.lp, pool.lp.decimals),
            "token0": output::signed_amount(e.negative, e.token0, pool.token0.decimals),
            "token1": output::signed_amount(e.negative, e.token1, pool.token1.decimals),
        })),
        "historyComplete": earned.is_some_and(|e| e.basis.shares == shares),
        "rewards": rewards,
        "healthFactor": output::amount(hf, output::HF_DECIMALS),
        "hfMin": output::amount(info._6, output::HF_DECIMALS),
        "maxWithdraw": output::amount(max, SHARE_DECIMALS),
    });
    let mut t = KeyValues::titled(format!("pool {}", pool.label()));
    t.row(
        "shares",
        format!(
            "{} of {} ({} %)",
            output::units(shares, SHARE_DECIMALS),
            output::units(total, SHARE_DECIMALS),
            output::percent(shares, total)
        ),
    )
    .row(
        "value",
        format!(
            "{} + {} (raw {} + {}, LP {})",
            pool.token0.show(value0),
            pool.token1.show(value1),
            pool.token0.show(raw0),
            pool.token1.show(raw1),
            pool.lp.show(lp_part)
        ),
    )
    .row("value in LP", pool.lp.show(value_lp))
    .row(
        "cost basis",
        earned.map_or("unknown".to_string(), |e| pool.lp.show(e.basis.lp)),
    )
    .row(
        "fees earned",
        earned.map_or("unknown".to_string(), |e| {
            format!(
                "{} (at the pair's reserves: {} and {})",
                output::signed_units(e.negative, e.lp, pool.lp.decimals) + " " + &pool.lp.symbol,
                output::signed_units(e.negative, e.token0, pool.token0.decimals) + " " + &pool.token0.symbol,
                output::signed_units(e.negative, e.token1, pool.token1.decimals) + " " + &pool.token1.symbol,
            )
        }),
    );
    for (k, val) in reward_rows {
        t.row(k, val);
    }
    t.row(
        "pool HF",
        format!("{} (HF_min {})", output::hf(hf), output::hf(info._6)),
    )
    .row(
        "maxWithdraw",
        format!("{} shares", output::units(max, SHARE_DECIMALS)),
    );
    Ok((json, t))
}

async fn status(args: StatusArgs) -> Result<()> {
    let ctx = Context::open(&args.common.chain).await?;
    let account = match &args.account {
        Some(text) => parse_address("--account", text)?,
        None => ctx.client.require_signer("damm lp status without --account")?,
    };
    // Without --pool: every pool of the deployment.
    let pools = match (&args.common.pool, ctx.deployment.pools.len()) {
        (None, n) if n != 1 => {
            let mut all = Vec::new();
            for entry in ctx.deployment.pools.clone() {
                all.push(ctx.describe(&entry).await?);
            }
            all
        }
        (key, _) => vec![ctx.pool(key.as_deref()).await?],
    };
    let mut json_pools = Vec::new();
    let mut tables = Vec::new();
    for pool in &pools {
        let (json, table) = pool_status(&ctx, pool, account).await?;
        json_pools.push(json);
        tables.push(table);
    }
    if args.common.json {
        output::print_json(&json!({
            "account": output::address(account),
            "pools": json_pools,
        }));
    } else {
        println!("position of {account}");
        for t in tables {
            println!();
            t.print();
        }
    }
    Ok(())
}

// ---- claim ---------------------------------------------------------------------------------------------------

/// Checks a reward slot index.
///
/// # Errors
///
/// [`CommandError::BadNumber`] unless it is 0 or 1.
pub fn parse_slot(flag: &str, text: &str) -> Result<u64, CommandError> {
    let index = parse_int(flag, text)?;
    if index >= REWARD_SLOTS {
        return Err(CommandError::BadNumber {
            flag: flag.to_string(),
            reason: format!("a pool has reward slots 0 and 1, not {index}"),
        });
    }
    Ok(index)
}

async fn claim(args: ClaimArgs) -> Result<()> {
    let (ctx, me, pool) = open_signed(&args.common, "damm lp claim").await?;
    let indices: Vec<u64> = match &args.index {
        Some(text) => vec![parse_slot("--index", text)?],
        None => (0..REWARD_SLOTS).collect(),
    };
    let vault = &ctx.vault;
    let mut claimed = Vec::new();
    let mut t = KeyValues::titled(format!("rewards of {me} in {}", pool.label()));
    for index in indices {
        let Some((slot, pending)) = reward_pending(&ctx, pool.pair, index, me).await? else {
            if args.index.is_some() {
                return Err(CommandError::Refused(format!(
                    "reward slot {index} of {} is not initialized",
                    pool.label()
                ))
                .into());
            }
            continue;
        };
        if pending.is_zero() {
            continue;
        }
        let token = ctx.token(slot._0).await?;
        note(format!(
            "claiming reward #{index}: about {} pending …",
            token.show(pending)
        ));
        let receipt = ctx
            .send_call(
                &format!("claiming reward #{index}"),
                vault.claimReward(pool.pair, U256::from(index)),
            )
            .await?;
        let amount = logs_of::<events::RewardClaimed>(&receipt, *vault.address())
            .into_iter()
            .map(|e| e.amount)
            .next()
            .unwrap_or_default();
        t.row(format!("reward #{index}"), token.show(amount));
        claimed.push(json!({
            "index": index,
            "token": token.describe(),
            "amount": token.json(amount),
            "tx": receipt.transaction_hash.to_string(),
        }));
    }
    if args.common.json {
        if claimed.is_empty() {
            note(format!(
                "nothing to claim: {me} has no pending rewards in {}",
                pool.label()
            ));
        }
        output::print_json(&json!({
            "pool": output::address(pool.pair),
            "account": output::address(me),
            "claimed": claimed,
        }));
    } else if claimed.is_empty() {
        println!(
            "nothing to claim: {me} has no pending rewards in {}",
            pool.label()
        );
    } else {
        t.print();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::chain::e18;

    #[test]
    fn token_amounts_parse() {
        assert_eq!(scaled("1.5", 18), Ok(e18(3) / U256::from(2u8)));
        assert_eq!(scaled("1_000", 18), Ok(e18(1_000)));
        assert_eq!(scaled("2e3", 6), Ok(U256::from(2_000_000_000u64)));
        assert_eq!(scaled("1500wei", 18), Ok(U256::from(1_500u64)));
        assert_eq!(scaled("0xffatoms", 18), Ok(U256::from(255u64)));
        assert_eq!(scaled(".5", 1), Ok(U256::from(5u8)));
        assert_eq!(scaled("0", 18), Ok(U256::ZERO));
        assert!(scaled("abc", 18)
            .unwrap_err()
            .contains("is not a non-negative number"));
        assert!(scaled("1.0000001", 6).unwrap_err().contains("more decimals"));
        assert!(scaled("-1", 18).is_err());
        assert!(scaled("1e99", 18).is_err());
        let e = parse_token_amount("--lp", "x", 18).unwrap_err();
        assert!(e.to_string().starts_with("--lp: \"x\""), "{e}");
    }

    #[test]
    fn the_basis_follows_the_shares() {
        let mut b = Basis::default();
        let value = |s: U256| s * U256::from(2u8);
        b.apply(
            Movement::Deposited {
                shares: U256::from(100u8),
                lp: U256::from(50u8),
            },
            value,
        );
        b.apply(Movement::Received(U256::from(10u8)), value);
        assert_eq!(
            b,
            Basis {
                shares: U256::from(110u8),
                lp: U256::from(70u8)
            }
        );
        // Half the shares leave with half the basis.
        b.apply(Movement::Sent(U256::from(55u8)), value);
        assert_eq!(
            b,
            Basis {
                shares: U256::from(55u8),
                lp: U256::from(35u8)
            }
        );
        b.apply(Movement::Sent(U256::from(55u8)), value);
        assert_eq!(b, Basis::default());
    }

    #[test]
    fn a_valuation_in_lp_tokens() {
        // A pair of 100 token0 / 400 token1 with 50 LP tokens (one LP token: 2 token0 + 8 token1); a pool of
        // 200 shares holding 20 LP tokens, 10 token0 and 8 token1.
        let v = Valuation {
            raw0: U256::from(10u64),
            raw1: U256::from(8u64),
            lp: U256::from(20u64),
            total_shares: U256::from(200u64),
            pair: PairState {
                reserve0: 100,
                reserve1: 400,
                total_supply: U256::from(50u64),
            },
        };
        // Half the shares: 10 LP tokens, 5 token0 (1.25 LP tokens), 4 token1 (0.25 LP tokens), rounded down.
        assert_eq!(
            v.parts(U256::from(100u64)),
            (U256::from(5u64), U256::from(4u64), U256::from(10u64))
        );
        assert_eq!(v.lp_value(U256::from(100u64)), U256::from(11u64));
        assert_eq!(v.lp_value(U256::from(200u64)), U256::from(20 + 2));
        assert_eq!(
            v.lp_underlying(U256::from(25u64)),
            (U256::from(50u64), U256::from(200u64))
        );
        assert_eq!(Valuation::default().lp_value(U256::from(1u8)), U256::ZERO);
    }

    #[test]
    fn addresses_and_slots_parse() {
        assert!(parse_address("--to", "0x12").is_err());
        assert_eq!(parse_slot("--index", "1").unwrap(), 1);
        assert!(parse_slot("--index", "2")
            .unwrap_err()
            .to_string()
            .contains("slots 0 and 1"));
        assert!(parse_int("--x", "1.5").is_err());
    }
}
