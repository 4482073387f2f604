//! `damm deploy`: the vault (five Stylus programs), the market-admin program, the pools and the markets of a
//! deploy spec, recorded in the deployment file after every step; re-running it only does what is missing.
//!
//! # The deploy spec (TOML)
//!
//! ```toml
//! # Optional: wei sent with each Stylus deployment for its activation fee, the rest refunded (0.01 ether by
//! # default; `--activation-value` overrides it), and a fixed gas limit instead of estimating each transaction.
//! activation_value = "0.01 ether"
//! # gas_limit = 30000000
//!
//! [vault]
//! factory = "0x…"            # the Uniswap V2 factory
//! owner = "0x…"              # owner, treasury, guardian: the signer by default
//!
//! [[pools]]
//! name = "main"              # optional, for markets to name the pool
//! pair = "0x…"               # or token_a = "0x…" and token_b = "0x…": the factory's pair of them, created if absent
//! hf_min = "0.95"            # optional: the pool's minimum health factor (the vault's default is 0.95)
//! deposit = { amount0 = "1000000e18", amount1 = "4000000e18" }  # optional: the signer's first deposit
//!
//! [[markets]]
//! name = "l2-a"
//! pool = "main"              # a pool's name or pair address
//! operator = "0x…"           # the signer by default
//! kind = "l2"                # or "l1"
//! liquidity_limit = "…"      # the vault's admission limit; default: the market's liquidity
//! mode = "concentrated"      # or "only-b", "compounding"
//! sqrt_price = "36893488147419103232"       # Q64.64
//! sqrt_min_price = "33204139332677191680"   # concentrated only (compounding: the full range)
//! sqrt_max_price = "40582836962161013555"
//! liquidity = "…"            # 2^64-scaled
//! base_fee_numerator = 3000000              # over 1e9
//! protocol_fee_percent = 20  # default 20
//! referral_fee_percent = 20  # default 20
//! compounding_fee_bps = 0    # default 0 (compounding pools: in (0, 10000])
//! fee_version = 1            # default 1
//! dynamic_fee = { max_volatility_accumulator = 14460000, variable_fee_control = 5000, filter_period = 10, decay_period = 120, reduction_factor = 5000 }
//! ```
//!
//! Big numbers are strings (TOML integers stop at 2^63): decimal, with `_` separators and an optional
//! `e<exponent>` (`"1_000e18"`), or `0x` hexadecimal. Every market's parameters are validated as the market's
//! constructor validates them before anything is sent.
//!
//! # Steps
//!
//! The four programs the vault delegates to, the vault with its constructor, the market-admin program; per
//! pool: the pair if it must be created, `createPool`, `setHfMin`; its deposit; per market: the market with its
//! constructor, then `registerMarket` with the mode, range and state read from the deployed market. Stylus
//! programs go through the StylusDeployer (deploy, activate, construct in one transaction). Every address the
//! deployment file records is checked to hold code (a file for another chain or with a wrong address is refused
//! before anything is sent), and every step already done is skipped. A crash between a transaction and the
//! file's update can leave one orphaned contract, never a wrong file.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use alloy::{
    network::TransactionBuilder,
    primitives::{keccak256, utils::format_units, Address, Bytes, B256, U256},
    providers::{DynProvider, Provider},
    rpc::types::{TransactionReceipt, TransactionRequest},
    sol_types::{SolCall, SolValue},
};
use damm_devnode::{
    deployer::{StylusDeployer, STYLUS_DEPLOYER},
    evm_code::init_code_for,
    program::{prepare_program, PreparedProgram},
};
use damm_market_codec::{MarketParams, MarketState};
use damm_math::{
    constants::{max_fee_numerator, BIN_STEP_BPS_U128_DEFAULT, MIN_FEE_NUMERATOR},
    CollectFeeMode, DynamicFee, MathError,
};
use serde::{de, Deserialize, Deserializer};

use crate::{
    bindings::{IMarket, IUniswapV2Factory, IUniswapV2Pair, IVault, IERC20},
    client::{connect, require_code, Client, ClientError},
    config::{parse_toml, ChainArgs, ConfigError},
    deployment::{Deployment, DeploymentError, MarketEntry, MarketKind, PoolEntry},
    errors::{explain_contract, explain_transport},
};

/// The vault's programs: the vault itself (the address users call) and the programs it delegates to, in the
/// order its constructor takes them (after the factory, owner, treasury and guardian).
pub const VAULT_PROGRAMS: [&str; 5] = [
    "damm-vault",
    "damm-vault-settlement",
    "damm-vault-withdrawals",
    "damm-vault-markets",
    "damm-vault-admin",
];
/// The market program (one deployment per market).
pub const MARKET_PROGRAM: &str = "damm-market";
/// The program every market delegates its constructor and administration to (one deployment).
pub const MARKET_ADMIN_PROGRAM: &str = "damm-market-admin";
/// Where `scripts/build-contracts.sh` puts the programs.
pub const DEFAULT_WASM_DIR: &str = "target/contracts";
/// What each Stylus deployment sends for its activation fee by default (0.01 ether; the rest is refunded).
pub const DEFAULT_ACTIVATION_VALUE: u128 = 10_000_000_000_000_000;
/// How long a transaction may take to be mined.
pub const RECEIPT_TIMEOUT: Duration = Duration::from_secs(300);

/// Options of `damm deploy`.
#[derive(clap::Args, Debug, Clone)]
pub struct DeployArgs {
    /// The chain, the signer and the deployment file.
    #[command(flatten)]
    pub chain: ChainArgs,
    /// The deploy spec (TOML): the vault, its pools and the markets (see `damm::deploy`'s documentation).
    #[arg(long, value_name = "FILE")]
    pub spec: PathBuf,
    /// The directory holding the compiled programs (`scripts/build-contracts.sh` writes them there).
    #[arg(long, value_name = "DIR", default_value = DEFAULT_WASM_DIR)]
    pub wasm_dir: PathBuf,
    /// Sent with each Stylus deployment for its activation fee, the rest refunded: wei, or with a unit
    /// ("0.01ether", "5gwei") [default: the spec's `activation_value`, else 0.01 ether].
    #[arg(long, value_name = "AMOUNT", value_parser = parse_amount)]
    pub activation_value: Option<U256>,
    /// A fixed gas limit for every transaction instead of estimating each [default: the spec's `gas_limit`].
    #[arg(long, value_name = "GAS")]
    pub gas_limit: Option<u64>,
}

// ---- the spec ------------------------------------------------------------------------------------------------

/// A deploy spec: what `damm deploy` makes exist.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeploySpec {
    /// Wei sent with each Stylus deployment for its activation fee ([`DEFAULT_ACTIVATION_VALUE`] if absent).
    #[serde(default, deserialize_with = "de_amount")]
    pub activation_value: Option<U256>,
    /// A fixed gas limit for every transaction (estimated if absent).
    #[serde(default)]
    pub gas_limit: Option<u64>,
    /// The vault.
    pub vault: VaultSpec,
    /// Its pools.
    #[serde(default)]
    pub pools: Vec<PoolSpec>,
    /// The markets.
    #[serde(default)]
    pub markets: Vec<MarketSpec>,
}

/// `[vault]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaultSpec {
    /// The Uniswap V2 factory the vault checks pairs against.
    pub factory: Address,
    /// The owner (default: the signer).
    #[serde(default)]
    pub owner: Option<Address>,
    /// The treasury (default: the signer).
    #[serde(default)]
    pub treasury: Option<Address>,
    /// The guardian (default: the signer).
    #[serde(default)]
    pub guardian: Option<Address>,
}

/// `[[pools]]`: a pair given, or two tokens whose pair is looked up (and created if absent).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolSpec {
    /// A name markets may refer to it by.
    #[serde(default)]
    pub name: Option<String>,
    /// The Uniswap V2 pair.
    #[serde(default)]
    pub pair: Option<Address>,
    /// One token of the pair (with `token_b`, instead of `pair`).
    #[serde(default)]
    pub token_a: Option<Address>,
    /// The other token.
    #[serde(default)]
    pub token_b: Option<Address>,
    /// The pool's minimum health factor, 1e18 fixed point (given as a decimal: `"0.95"`).
    #[serde(default, deserialize_with = "de_fraction")]
    pub hf_min: Option<U256>,
    /// The signer's first deposit (`depositPair`), made while the pool has no shares.
    #[serde(default)]
    pub deposit: Option<DepositSpec>,
}

/// A pool's first deposit: at most these amounts of the pair's token0 and token1, at the pair's ratio.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DepositSpec {
    /// Of the pair's token0 (the smaller address).
    pub amount0: Num,
    /// Of the pair's token1.
    pub amount1: Num,
}

/// The fee collection mode of a market.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModeSpec {
    /// Concentrated, fees in both tokens (DAMM v2's `BothToken`).
    Concentrated,
    /// Concentrated, fees in token B only.
    OnlyB,
    /// Full range, priced from reserves, part of the LP fee compounding.
    Compounding,
}

impl From<ModeSpec> for CollectFeeMode {
    fn from(mode: ModeSpec) -> Self {
        match mode {
            ModeSpec::Concentrated => CollectFeeMode::BothToken,
            ModeSpec::OnlyB => CollectFeeMode::OnlyB,
            ModeSpec::Compounding => CollectFeeMode::Compounding,
        }
    }
}

/// `[[markets]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarketSpec {
    /// Its name in the deployment file (unique).
    pub name: String,
    /// The pool: a pool's name or its pair's address.
    pub pool: String,
    /// The operator (default: the signer).
    #[serde(default)]
    pub operator: Option<Address>,
    /// L2 (batches, the default) or L1 (swaps).
    #[serde(default)]
    pub kind: MarketKind,
    /// The vault's liquidity limit for it (default: its liquidity).
    #[serde(default)]
    pub liquidity_limit: Option<Num>,
    /// The fee collection mode.
    pub mode: ModeSpec,
    /// Initial sqrt price, Q64.64.
    pub sqrt_price: Num,
    /// Lower end of the range, Q64.64 (concentrated only).
    #[serde(default)]
    pub sqrt_min_price: Option<Num>,
    /// Upper end of the range, Q64.64 (concentrated only).
    #[serde(default)]
    pub sqrt_max_price: Option<Num>,
    /// Initial liquidity, 2^64-scaled.
    pub liquidity: Num,
    /// Static base fee, over 1e9.
    pub base_fee_numerator: u64,
    /// Protocol share of each fee, percent (default 20).
    #[serde(default = "default_percent")]
    pub protocol_fee_percent: u8,
    /// Referral share of the protocol fee, percent (default 20).
    #[serde(default = "default_percent")]
    pub referral_fee_percent: u8,
    /// Compounding share of the LP fee, basis points (default 0).
    #[serde(default)]
    pub compounding_fee_bps: u16,
    /// Fee version: 0 caps the total fee at 50 %, 1 at 99 % (default 1).
    #[serde(default = "default_fee_version")]
    pub fee_version: u8,
    /// The dynamic fee (none if absent).
    #[serde(default)]
    pub dynamic_fee: Option<DynamicFeeSpec>,
}

fn default_percent() -> u8 {
    20
}

fn default_fee_version() -> u8 {
    1
}

/// A market's dynamic-fee parameters (DAMM v2's).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DynamicFeeSpec {
    /// Cap of the volatility accumulator.
    pub max_volatility_accumulator: u32,
    /// Scales the squared volatility into a fee.
    pub variable_fee_control: u32,
    /// Bin step in bps (must be 1, the default).
    #[serde(default = "default_bin_step")]
    pub bin_step: u16,
    /// Seconds within which trades count as high-frequency.
    pub filter_period: u16,
    /// Seconds after which the volatility reference resets.
    pub decay_period: u16,
    /// Decay of the volatility reference, bps.
    pub reduction_factor: u16,
    /// Bin step in Q64.64 (default: DAMM v2's, the only valid one).
    #[serde(default)]
    pub bin_step_u128: Option<Num>,
}

fn default_bin_step() -> u16 {
    1
}

/// A non-negative integer of up to 256 bits: a TOML integer, or a string (decimal with `_` separators and an
/// optional `e<exponent>`, or `0x` hexadecimal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Num(pub U256);

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = Num;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a non-negative integer, or a string holding one (\"1_000e18\", \"0x…\")")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Num, E> {
                u64::try_from(v)
                    .map(|v| Num(U256::from(v)))
                    .map_err(|_| E::custom(format!("{v} is negative")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Num, E> {
                Ok(Num(U256::from(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Num, E> {
                parse_num(v).map(Num).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// Parses `"123"`, `"1_000e18"` or `"0xff"` into a `U256`.
///
/// # Errors
///
/// What is wrong with the text.
pub fn parse_num(text: &str) -> Result<U256, String> {
    let t = text.trim().replace('_', "");
    if let Some(hex) = t.strip_prefix("0x") {
        return U256::from_str_radix(hex, 16)
            .map_err(|e| format!("{text:?} is not a hexadecimal integer: {e}"));
    }
    let (mantissa, exponent) = match t.split_once(['e', 'E']) {
        Some((m, e)) => (
            m,
            e.parse::<u32>()
                .map_err(|_| format!("{text:?}: the exponent is not a small integer"))?,
        ),
        None => (t.as_str(), 0),
    };
    if mantissa.is_empty() || !mantissa.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("{text:?} is not a non-negative integer"));
    }
    let m = U256::from_str_radix(mantissa, 10).map_err(|_| format!("{text:?} does not fit 256 bits"))?;
    U256::from(10u8)
        .checked_pow(U256::from(exponent))
        .and_then(|p| m.checked_mul(p))
        .ok_or_else(|| format!("{text:?} does not fit 256 bits"))
}

/// Parses a decimal with up to `decimals` fractional digits into an integer of `10^-decimals` units
/// (`"0.95"`, 18 → 95·10^16).
fn parse_decimal(text: &str, decimals: usize) -> Result<U256, String> {
    let t = text.trim().replace('_', "");
    let (int, frac) = t.split_once('.').unwrap_or((&t, ""));
    if int.is_empty() && frac.is_empty()
        || !int.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
    {
        return Err(format!("{text:?} is not a non-negative decimal number"));
    }
    if frac.len() > decimals {
        return Err(format!("{text:?} has more than {decimals} decimals"));
    }
    let digits = format!("{int}{frac}{}", "0".repeat(decimals - frac.len()));
    U256::from_str_radix(&digits, 10).map_err(|_| format!("{text:?} is too large"))
}

/// Parses an amount of ether: wei (`"12345"`), or a decimal with a unit (`"0.01ether"`, `"0.01 eth"`,
/// `"5gwei"`, `"7wei"`).
///
/// # Errors
///
/// What is wrong with the text.
pub fn parse_amount(text: &str) -> Result<U256, String> {
    let t = text.trim().to_ascii_lowercase();
    for (unit, decimals) in [("ether", 18), ("eth", 18), ("gwei", 9), ("wei", 0)] {
        if let Some(number) = t.strip_suffix(unit) {
            return parse_decimal(number.trim(), decimals);
        }
    }
    parse_num(&t)
}

fn de_amount<'de, D: Deserializer<'de>>(d: D) -> Result<Option<U256>, D::Error> {
    struct V;
    impl de::Visitor<'_> for V {
        type Value = Option<U256>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an amount: wei, or a string with a unit (\"0.01 ether\", \"5 gwei\")")
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Num::deserialize(de::value::I64Deserializer::<E>::new(v)).map(|n| Some(n.0))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            parse_amount(v).map(Some).map_err(E::custom)
        }
    }
    d.deserialize_any(V)
}

fn de_fraction<'de, D: Deserializer<'de>>(d: D) -> Result<Option<U256>, D::Error> {
    struct V;
    impl de::Visitor<'_> for V {
        type Value = Option<U256>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a decimal number such as 0.95 or \"0.95\"")
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            self.visit_str(&v.to_string())
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            self.visit_str(&v.to_string())
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            parse_decimal(v, 18).map(Some).map_err(E::custom)
        }
    }
    d.deserialize_any(V)
}

impl DeploySpec {
    /// Parses a spec.
    ///
    /// # Errors
    ///
    /// [`DeployError::SpecInvalid`] naming the line and key at fault.
    pub fn parse(path: &Path, text: &str) -> Result<Self, DeployError> {
        parse_toml(path, text).map_err(|e| match e {
            ConfigError::ConfigInvalid {
                path,
                line,
                key,
                message,
            } => DeployError::SpecInvalid {
                path,
                line,
                key,
                message,
            },
            other => DeployError::Spec(other.to_string()),
        })
    }

    /// Reads and parses a spec file.
    ///
    /// # Errors
    ///
    /// [`DeployError::SpecUnreadable`] or [`DeployError::SpecInvalid`].
    pub fn load(path: &Path) -> Result<Self, DeployError> {
        let text = std::fs::read_to_string(path).map_err(|source| DeployError::SpecUnreadable {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(path, &text)
    }
}

// ---- errors --------------------------------------------------------------------------------------------------

/// Why reading the chain or a transaction failed: [`DeployError::Chain`], and
/// [`crate::lp::CommandError::Chain`] of the `lp` and `admin` commands.
#[derive(Debug, thiserror::Error)]
pub enum TxError {
    /// Reading the chain failed.
    #[error("reading {what}: {reason}")]
    Read {
        /// What was read.
        what: String,
        /// The decoded cause.
        reason: String,
    },
    /// A transaction was refused by the node (its revert decoded): nothing was mined.
    #[error("{step}: {reason}")]
    Transaction {
        /// What was being sent.
        step: String,
        /// The decoded cause.
        reason: String,
    },
    /// A transaction was mined as failed.
    #[error("{step}: transaction {tx} failed on chain (gas used {gas_used})")]
    Reverted {
        /// What was sent.
        step: String,
        /// The transaction.
        tx: B256,
        /// Its gas.
        gas_used: u64,
    },
    /// A transaction was not mined in time.
    #[error("{step}: transaction {tx} not mined after {} s", RECEIPT_TIMEOUT.as_secs())]
    NotMined {
        /// What was sent.
        step: String,
        /// The transaction.
        tx: B256,
    },
}

/// Why a deployment cannot proceed.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// The spec file cannot be read.
    #[error("cannot read deploy spec {path}: {source}")]
    SpecUnreadable {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The spec is not valid TOML or has a wrong or unknown key.
    #[error("deploy spec {path}{}: {message}", spec_location(*line, key.as_deref()))]
    SpecInvalid {
        /// The file.
        path: PathBuf,
        /// The line, if known.
        line: Option<usize>,
        /// The key, if known.
        key: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// The spec is inconsistent (names, pool references, owner).
    #[error("deploy spec: {0}")]
    Spec(String),
    /// A market's parameter is invalid (checked as the market's constructor checks it).
    #[error("deploy spec: market {market:?}: {field}: {reason}")]
    InvalidMarketParam {
        /// The market's name.
        market: String,
        /// The field at fault.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// The deployment file was written for another chain.
    #[error("deployment file {path} is for chain {file_chain_id}, but the endpoint is chain {chain_id}")]
    WrongChain {
        /// The file.
        path: PathBuf,
        /// Its chain id.
        file_chain_id: u64,
        /// The endpoint's.
        chain_id: u64,
    },
    /// The deployment file disagrees with the chain or the spec.
    #[error("deployment file {path}: {message}")]
    Inconsistent {
        /// The file.
        path: PathBuf,
        /// What disagrees.
        message: String,
    },
    /// A compiled program is missing or invalid.
    #[error("program {program}: {message}")]
    Program {
        /// The program.
        program: String,
        /// What is wrong.
        message: String,
    },
    /// The signer cannot do what the spec asks.
    #[error("{0}")]
    Signer(String),
    /// Reading the chain or a transaction failed.
    #[error(transparent)]
    Chain(#[from] TxError),
    /// The chain connection.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The deployment file cannot be read or written.
    #[error(transparent)]
    Deployment(#[from] DeploymentError),
}

/// Where in a TOML file: `, line 3, key `mode``, `, line 3`, `, key `mode`` or nothing.
pub(crate) fn spec_location(line: Option<usize>, key: Option<&str>) -> String {
    match (line, key) {
        (Some(line), Some(key)) => format!(", line {line}, key `{key}`"),
        (Some(line), None) => format!(", line {line}"),
        (None, Some(key)) => format!(", key `{key}`"),
        (None, None) => String::new(),
    }
}

// ---- validation ----------------------------------------------------------------------------------------------

/// A market's parameters as the constructor takes them, validated.
///
/// # Errors
///
/// [`DeployError::InvalidMarketParam`] naming the market and the field at fault.
pub fn market_params(m: &MarketSpec) -> Result<MarketParams, DeployError> {
    let invalid = |field: &str, reason: String| DeployError::InvalidMarketParam {
        market: m.name.clone(),
        field: field.to_string(),
        reason,
    };
    let small = |field: &str, n: Num| {
        u128::try_from(n.0).map_err(|_| invalid(field, format!("{} does not fit 128 bits", n.0)))
    };
    let mode = CollectFeeMode::from(m.mode);
    let sqrt_price = small("sqrt_price", m.sqrt_price)?;
    let (sqrt_min_price, sqrt_max_price) = match (m.mode, m.sqrt_min_price, m.sqrt_max_price) {
        (ModeSpec::Compounding, None, None) => (0, u128::MAX),
        (ModeSpec::Compounding, _, _) => {
            return Err(invalid(
                "sqrt_min_price",
                "a compounding market has the full range: leave sqrt_min_price and sqrt_max_price out".into(),
            ))
        }
        (_, Some(min), Some(max)) => (small("sqrt_min_price", min)?, small("sqrt_max_price", max)?),
        (_, None, _) => {
            return Err(invalid(
                "sqrt_min_price",
                "required for a concentrated market".into(),
            ))
        }
        (_, _, None) => {
            return Err(invalid(
                "sqrt_max_price",
                "required for a concentrated market".into(),
            ))
        }
    };
    let dynamic_fee = match m.dynamic_fee {
        None => DynamicFee::default(),
        Some(d) => DynamicFee {
            initialized: true,
            max_volatility_accumulator: d.max_volatility_accumulator,
            variable_fee_control: d.variable_fee_control,
            bin_step: d.bin_step,
            filter_period: d.filter_period,
            decay_period: d.decay_period,
            reduction_factor: d.reduction_factor,
            bin_step_u128: match d.bin_step_u128 {
                Some(n) => small("dynamic_fee.bin_step_u128", n)?,
                None => BIN_STEP_BPS_U128_DEFAULT,
            },
            ..DynamicFee::default()
        },
    };
    let params = MarketParams {
        mode,
        sqrt_price,
        sqrt_min_price,
        sqrt_max_price,
        liquidity: m.liquidity.0,
        base_fee_numerator: m.base_fee_numerator,
        protocol_fee_percent: m.protocol_fee_percent,
        referral_fee_percent: m.referral_fee_percent,
        compounding_fee_bps: m.compounding_fee_bps,
        fee_version: m.fee_version,
        dynamic_fee,
    };
    let state = params.initial_state(0).map_err(|e| {
        let (field, reason) = explain_params_error(&params, e);
        invalid(field, reason)
    })?;
    if let Some(limit) = m.liquidity_limit {
        if limit.0 < state.pool.liquidity {
            return Err(invalid(
                "liquidity_limit",
                format!(
                    "{} is below the market's liquidity {}: the vault would refuse its settlements",
                    limit.0, state.pool.liquidity
                ),
            ));
        }
    }
    Ok(params)
}

/// The field a [`MarketParams::initial_state`] error is about, and why (the checks in its order).
fn explain_params_error(p: &MarketParams, e: MathError) -> (&'static str, String) {
    let name = e.name();
    match e {
        MathError::InvalidPoolVersion => ("fee_version", format!("{name}: {} is not 0 or 1", p.fee_version)),
        MathError::InvalidFee if p.base_fee_numerator < MIN_FEE_NUMERATOR => (
            "base_fee_numerator",
            format!(
                "{name}: {} is below the minimum {MIN_FEE_NUMERATOR} (1 bps)",
                p.base_fee_numerator
            ),
        ),
        MathError::InvalidFee if p.protocol_fee_percent > 100 => (
            "protocol_fee_percent",
            format!("{name}: {} is above 100", p.protocol_fee_percent),
        ),
        MathError::InvalidFee if p.referral_fee_percent > 100 => (
            "referral_fee_percent",
            format!("{name}: {} is above 100", p.referral_fee_percent),
        ),
        MathError::InvalidFee | MathError::ExceedMaxFeeBps => (
            "base_fee_numerator",
            format!(
                "{name}: {} is above the maximum {} of fee version {}",
                p.base_fee_numerator,
                max_fee_numerator(p.fee_version).unwrap_or_default(),
                p.fee_version
            ),
        ),
        MathError::InvalidCompoundingFeeBps => (
            "compounding_fee_bps",
            format!(
                "{name}: {} (a compounding market needs one in (0, 10000], the others 0)",
                p.compounding_fee_bps
            ),
        ),
        MathError::InvalidInput => (
            "dynamic_fee",
            format!(
                "{name}: bin_step must be 1, bin_step_u128 {BIN_STEP_BPS_U128_DEFAULT}, filter_period below \
                 decay_period, reduction_factor at most 10000, the others at most 2^24 − 1"
            ),
        ),
        MathError::InvalidPriceRange => {
            let in_range = p.sqrt_min_price <= p.sqrt_price && p.sqrt_price <= p.sqrt_max_price;
            if p.mode != CollectFeeMode::Compounding && (p.sqrt_min_price >= p.sqrt_max_price || in_range) {
                (
                    "sqrt_min_price",
                    format!(
                        "{name}: the range [{}, {}] is empty or outside DAMM v2's sqrt prices",
                        p.sqrt_min_price, p.sqrt_max_price
                    ),
                )
            } else {
                (
                    "sqrt_price",
                    format!(
                        "{name}: {} is outside the market's range of sqrt prices",
                        p.sqrt_price
                    ),
                )
            }
        }
        MathError::InvalidMinimumLiquidity | MathError::AmountIsZero => (
            "liquidity",
            format!("{name}: {} is zero or too small", p.liquidity),
        ),
        other => ("parameters", other.name().to_string()),
    }
}

/// Checks what can be checked without the chain: names, pools, markets' parameters.
fn validate_spec(spec: &DeploySpec) -> Result<Vec<MarketParams>, DeployError> {
    let spec_error = |m: String| DeployError::Spec(m);
    let mut pool_names = BTreeSet::new();
    for (i, pool) in spec.pools.iter().enumerate() {
        let label = pool_label(i, pool);
        match (pool.pair, pool.token_a, pool.token_b) {
            (Some(_), None, None) => {}
            (None, Some(a), Some(b)) if a != b && !a.is_zero() && !b.is_zero() => {}
            (None, Some(_), Some(_)) => {
                return Err(spec_error(format!(
                    "{label}: token_a and token_b must be two different tokens"
                )))
            }
            _ => {
                return Err(spec_error(format!(
                    "{label}: give either `pair` or both `token_a` and `token_b`"
                )))
            }
        }
        if let Some(name) = &pool.name {
            if !pool_names.insert(name.clone()) {
                return Err(spec_error(format!("two pools are named {name:?}")));
            }
        }
        if let Some(hf) = pool.hf_min {
            if hf.is_zero() || hf > U256::from(10u64).pow(U256::from(18u64)) {
                return Err(spec_error(format!("{label}: hf_min must be in (0, 1]")));
            }
        }
        if let Some(d) = pool.deposit {
            if d.amount0.0.is_zero() || d.amount1.0.is_zero() {
                return Err(spec_error(format!("{label}: deposit amounts must not be zero")));
            }
        }
    }
    let mut names = BTreeSet::new();
    let mut params = Vec::new();
    for m in &spec.markets {
        if m.name.trim().is_empty() {
            return Err(spec_error("a market has an empty name".into()));
        }
        if !names.insert(m.name.clone()) {
            return Err(spec_error(format!("two markets are named {:?}", m.name)));
        }
        params.push(market_params(m)?);
    }
    Ok(params)
}

fn pool_label(index: usize, pool: &PoolSpec) -> String {
    match (&pool.name, pool.pair) {
        (Some(name), _) => format!("pool {name:?}"),
        (None, Some(pair)) => format!("pool {pair}"),
        (None, None) => format!("pool #{}", index + 1),
    }
}

// ---- transactions --------------------------------------------------------------------------------------------

/// Sends transactions from the signer and waits for them.
struct Sender<'a> {
    provider: &'a DynProvider,
    from: Address,
    gas_limit: Option<u64>,
    poll: Duration,
}

impl Sender<'_> {
    /// Sends `tx` and waits for its successful receipt.
    async fn send(&self, step: &str, mut tx: TransactionRequest) -> Result<TransactionReceipt, DeployError> {
        tx.from = Some(self.from);
        if let Some(gas) = self.gas_limit {
            tx.gas = Some(gas);
            // Not estimated: ask first, so that a revert is explained before anything is sent.
            if let Err(e) = self.provider.call(tx.clone()).await {
                return Err(TxError::Transaction {
                    step: step.to_string(),
                    reason: explain_transport(&e),
                }
                .into());
            }
        }
        Ok(send_and_wait(self.provider, step, tx, self.poll).await?)
    }

    /// Deploys, activates and constructs (with `init`, unless empty) a Stylus program through the
    /// StylusDeployer; returns the contract and the gas used.
    async fn deploy_stylus(
        &self,
        step: &str,
        program: &PreparedProgram,
        init: Bytes,
        value: U256,
    ) -> Result<(Address, u64), DeployError> {
        let call = StylusDeployer::deployCall {
            bytecode: init_code_for(program.code()),
            initData: init,
            initValue: U256::ZERO,
            salt: B256::ZERO,
        };
        let tx = TransactionRequest::default()
            .with_to(STYLUS_DEPLOYER)
            .with_input(call.abi_encode())
            .with_value(value);
        let receipt = self.send(step, tx).await?;
        let deployed = receipt
            .inner
            .logs()
            .iter()
            .filter(|log| log.address() == STYLUS_DEPLOYER)
            .find_map(|log| log.log_decode::<StylusDeployer::ContractDeployed>().ok())
            .ok_or_else(|| TxError::Transaction {
                step: step.to_string(),
                reason: format!(
                    "the StylusDeployer emitted no ContractDeployed in {}",
                    receipt.transaction_hash
                ),
            })?;
        Ok((deployed.inner.data.deployedContract, receipt.gas_used))
    }
}

/// Sends `tx` (for `step`) and waits for its receipt, polling every `poll`: the receipt of a successful
/// transaction.
///
/// # Errors
///
/// [`TxError::Transaction`] (refused by the node, or the receipt unreadable), [`TxError::NotMined`] after
/// [`RECEIPT_TIMEOUT`] or [`TxError::Reverted`], naming `step`.
pub(crate) async fn send_and_wait(
    provider: &DynProvider,
    step: &str,
    tx: TransactionRequest,
    poll: Duration,
) -> Result<TransactionReceipt, TxError> {
    let refused = |reason: String| TxError::Transaction {
        step: step.to_string(),
        reason,
    };
    let pending = provider
        .send_transaction(tx)
        .await
        .map_err(|e| refused(explain_transport(&e)))?;
    let hash = *pending.tx_hash();
    let start = Instant::now();
    let receipt = loop {
        match provider.get_transaction_receipt(hash).await {
            Ok(Some(receipt)) => break receipt,
            Ok(None) => {}
            Err(e) => return Err(refused(format!("waiting for {hash}: {}", explain_transport(&e)))),
        }
        if start.elapsed() > RECEIPT_TIMEOUT {
            return Err(TxError::NotMined {
                step: step.to_string(),
                tx: hash,
            });
        }
        tokio::time::sleep(poll).await;
    };
    if !receipt.status() {
        return Err(TxError::Reverted {
            step: step.to_string(),
            tx: hash,
            gas_used: receipt.gas_used,
        });
    }
    Ok(receipt)
}

/// Maps a failed view call to [`TxError::Read`].
fn read_error(what: impl Into<String>) -> impl FnOnce(alloy::contract::Error) -> DeployError {
    let what = what.into();
    move |e| {
        TxError::Read {
            what,
            reason: explain_contract(&e),
        }
        .into()
    }
}

/// `stylus_constructor()`'s selector followed by `args`.
fn constructor_input(args: &[u8]) -> Bytes {
    let mut input = keccak256(b"stylus_constructor()")[..4].to_vec();
    input.extend_from_slice(args);
    input.into()
}

/// The vault's constructor calldata: `(factory, owner, treasury, guardian, settlement, withdrawals, markets,
/// admin)`.
pub fn vault_constructor_input(
    factory: Address,
    owner: Address,
    treasury: Address,
    guardian: Address,
    delegates: [Address; 4],
) -> Bytes {
    let mut words = Vec::with_capacity(8 * 32);
    for address in [factory, owner, treasury, guardian].iter().chain(&delegates) {
        words.extend_from_slice(address.into_word().as_slice());
    }
    constructor_input(&words)
}

/// A market's constructor calldata: `(admin, vault, pool, operator, l1, params)`.
pub fn market_constructor_input(
    admin: Address,
    vault: Address,
    pool: Address,
    operator: Address,
    l1: bool,
    params: &MarketParams,
) -> Bytes {
    let encoded = Bytes::copy_from_slice(&params.encode());
    constructor_input(&(admin, vault, pool, operator, l1, encoded).abi_encode_params())
}

// ---- programs ------------------------------------------------------------------------------------------------

/// The compiled programs, read from the wasm directory and prepared (compressed) on first use.
struct Programs {
    dir: PathBuf,
    loaded: BTreeMap<&'static str, PreparedProgram>,
}

impl Programs {
    fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
            loaded: BTreeMap::new(),
        }
    }

    /// Reads, prepares and checks `name`'s program.
    fn load(&mut self, name: &'static str) -> Result<(), DeployError> {
        if self.loaded.contains_key(name) {
            return Ok(());
        }
        let file = self.dir.join(format!("{}.wasm", name.replace('-', "_")));
        let program_error = |message: String| DeployError::Program {
            program: name.to_string(),
            message,
        };
        let wasm = std::fs::read(&file).map_err(|e| {
            program_error(format!(
                "cannot read {} ({e}): build the contracts with scripts/build-contracts.sh, or give --wasm-dir",
                file.display()
            ))
        })?;
        let program = prepare_program(&wasm)
            .map_err(|e| program_error(format!("{} is not a valid program: {e}", file.display())))?;
        program
            .check_limits()
            .map_err(|e| program_error(format!("{}: {e}", file.display())))?;
        self.loaded.insert(name, program);
        Ok(())
    }

    fn get(&self, name: &str) -> &PreparedProgram {
        self.loaded
            .get(name)
            .expect("loaded before the deployment starts")
    }
}

// ---- the deployment ------------------------------------------------------------------------------------------

/// A pool of the spec, resolved against the chain.
#[derive(Debug, Clone)]
struct PoolPlan {
    label: String,
    /// The pair, or zero when it must be created.
    pair: Address,
    token0: Address,
    token1: Address,
}

/// Progress lines: `[3/9] what … outcome`.
struct Progress<'a> {
    step: usize,
    total: usize,
    out: &'a mut dyn FnMut(&str),
}

impl Progress<'_> {
    fn report(&mut self, what: &str, outcome: &str) {
        self.step += 1;
        (self.out)(&format!("[{}/{}] {what} … {outcome}", self.step, self.total));
    }
}

/// What is at `address` according to the vault, if it is registered: `marketInfo`'s pool.
async fn registered_pool_of(
    vault: &IVault::IVaultInstance<DynProvider>,
    market: Address,
) -> Result<Address, DeployError> {
    let info = vault
        .marketInfo(market)
        .call()
        .await
        .map_err(read_error(format!("the vault's marketInfo({market})")))?;
    Ok(info._0)
}

/// Whether the vault has the pool `pair`.
async fn has_pool(vault: &IVault::IVaultInstance<DynProvider>, pair: Address) -> Result<bool, DeployError> {
    match vault.poolInfo(pair).call().await {
        Ok(info) => Ok(!info._0.is_zero()),
        Err(e) => match e.as_decoded_interface_error::<IVault::IVaultErrors>() {
            Some(IVault::IVaultErrors::UnknownPool(_)) => Ok(false),
            _ => Err(read_error(format!("the vault's poolInfo({pair})"))(e)),
        },
    }
}

/// Deploys what `spec` describes and the deployment file at `deployment_path` lacks, recording each step in
/// that file as it completes, and reporting it through `progress` (one line per step). Nothing is sent before
/// the whole spec is validated, every address the file records is checked to hold code, and every program
/// needed is read from `wasm_dir`.
///
/// # Errors
///
/// A [`DeployError`] naming the step and the decoded cause; the deployment file holds every step done before.
pub async fn deploy(
    client: &Client,
    spec: &DeploySpec,
    wasm_dir: &Path,
    deployment_path: &Path,
    progress: &mut dyn FnMut(&str),
) -> Result<Deployment, DeployError> {
    let signer = client
        .signer
        .ok_or_else(|| ClientError::NoSigner("damm deploy".to_string()))?;
    let provider = &client.provider;
    let file_error = |message: String| DeployError::Inconsistent {
        path: deployment_path.to_path_buf(),
        message,
    };

    // 1. The spec on its own.
    let params = validate_spec(spec)?;

    // 2. The deployment file.
    let mut d = if deployment_path.exists() {
        let d = Deployment::load(deployment_path)?;
        if d.chain_id != client.chain_id {
            return Err(DeployError::WrongChain {
                path: deployment_path.to_path_buf(),
                file_chain_id: d.chain_id,
                chain_id: client.chain_id,
            });
        }
        if !d.vault.is_zero() && d.factory != spec.vault.factory {
            return Err(file_error(format!(
                "its vault {} uses the factory {}, the spec names {}",
                d.vault, d.factory, spec.vault.factory
            )));
        }
        d
    } else {
        Deployment {
            chain_id: client.chain_id,
            ..Deployment::default()
        }
    };
    d.factory = spec.vault.factory;

    // 3. What the file records must be on the chain.
    require_code(provider, spec.vault.factory, "Uniswap V2 factory").await?;
    let recorded = [
        d.vault_programs.settlement,
        d.vault_programs.withdrawals,
        d.vault_programs.markets,
        d.vault_programs.admin,
    ];
    for (address, name) in recorded.iter().zip(&VAULT_PROGRAMS[1..]) {
        if !address.is_zero() {
            require_code(provider, *address, &format!("vault program {name}")).await?;
        }
    }
    let vault = IVault::new(d.vault, provider.clone());
    if !d.vault.is_zero() {
        require_code(provider, d.vault, "vault").await?;
        let programs = vault
            .programs()
            .call()
            .await
            .map_err(read_error("the vault's programs()"))?;
        let on_chain = [programs._0, programs._1, programs._2, programs._3];
        if recorded.iter().all(|a| a.is_zero()) {
            [
                d.vault_programs.settlement,
                d.vault_programs.withdrawals,
                d.vault_programs.markets,
                d.vault_programs.admin,
            ] = on_chain;
        } else if on_chain != recorded {
            return Err(file_error(format!(
                "the vault {} delegates to {on_chain:?}, the file records {recorded:?}",
                d.vault
            )));
        }
        let factory = vault
            .factory()
            .call()
            .await
            .map_err(read_error("the vault's factory()"))?;
        if factory != spec.vault.factory {
            return Err(file_error(format!(
                "the vault {} uses the factory {factory}, the spec names {}",
                d.vault, spec.vault.factory
            )));
        }
    }
    if !d.market_admin.is_zero() {
        require_code(provider, d.market_admin, "market-admin program").await?;
    }

    // 4. The pools, resolved.
    let factory = IUniswapV2Factory::new(spec.vault.factory, provider.clone());
    let mut pools = Vec::new();
    for (i, pool) in spec.pools.iter().enumerate() {
        let label = pool_label(i, pool);
        let plan = match (pool.pair, pool.token_a, pool.token_b) {
            (Some(pair), _, _) => {
                require_code(provider, pair, &format!("Uniswap V2 pair of {label}")).await?;
                let p = IUniswapV2Pair::new(pair, provider.clone());
                let token0 = p
                    .token0()
                    .call()
                    .await
                    .map_err(read_error(format!("{label}'s token0()")))?;
                let token1 = p
                    .token1()
                    .call()
                    .await
                    .map_err(read_error(format!("{label}'s token1()")))?;
                let listed = factory
                    .getPair(token0, token1)
                    .call()
                    .await
                    .map_err(read_error("the factory's getPair"))?;
                if listed != pair {
                    return Err(DeployError::Spec(format!(
                        "{label}: {pair} is not the factory's pair of {token0} and {token1} (that is {listed})"
                    )));
                }
                PoolPlan {
                    label,
                    pair,
                    token0,
                    token1,
                }
            }
            (None, Some(a), Some(b)) => {
                require_code(provider, a, &format!("token_a of {label}")).await?;
                require_code(provider, b, &format!("token_b of {label}")).await?;
                let pair = factory
                    .getPair(a, b)
                    .call()
                    .await
                    .map_err(read_error("the factory's getPair"))?;
                let (token0, token1) = if a < b { (a, b) } else { (b, a) };
                PoolPlan {
                    label,
                    pair,
                    token0,
                    token1,
                }
            }
            _ => unreachable!("validated"),
        };
        pools.push(plan);
    }

    // 5. The markets: their pools, and what the file records of them.
    let mut market_pools = Vec::new();
    for m in &spec.markets {
        let by_address = m.pool.parse::<Address>().ok();
        let index = spec.pools.iter().zip(&pools).position(|(p, plan)| {
            p.name.as_deref() == Some(m.pool.as_str())
                || (by_address.is_some() && by_address == Some(plan.pair))
        });
        let pool = match index {
            Some(i) => MarketPool::Spec(i),
            None => match by_address.and_then(|a| d.pool(a)) {
                Some(entry) => MarketPool::Recorded(entry.pair),
                None => {
                    return Err(DeployError::Spec(format!(
                        "market {:?}: pool {:?} is neither a pool's name nor the pair of a pool of the spec or the \
                         deployment file",
                        m.name, m.pool
                    )))
                }
            },
        };
        market_pools.push(pool);
        if let Some(entry) = d.markets.iter().find(|e| e.name == m.name) {
            require_code(provider, entry.address, &format!("market {:?}", m.name)).await?;
            let market = IMarket::new(entry.address, provider.clone());
            let what = |f: &str| format!("market {:?}'s {f}()", m.name);
            let market_vault = market.vault().call().await.map_err(read_error(what("vault")))?;
            if market_vault != d.vault {
                return Err(file_error(format!(
                    "market {:?} ({}) belongs to the vault {market_vault}, not {}",
                    m.name, entry.address, d.vault
                )));
            }
            let l1 = market.isL1().call().await.map_err(read_error(what("isL1")))?;
            if l1 != (m.kind == MarketKind::L1) {
                return Err(file_error(format!(
                    "market {:?} ({}) is an {} market, the spec says {:?}: rename it to deploy a new one",
                    m.name,
                    entry.address,
                    if l1 { "L1" } else { "L2" },
                    m.kind
                )));
            }
        }
    }

    // 6. Who signs: the owner must, for pools and markets.
    let owner = if d.vault.is_zero() {
        spec.vault.owner.unwrap_or(signer)
    } else {
        vault
            .owner()
            .call()
            .await
            .map_err(read_error("the vault's owner()"))?
    };
    if owner != signer && (!spec.pools.is_empty() || !spec.markets.is_empty()) {
        return Err(DeployError::Signer(format!(
            "the vault's owner is {owner} but the signer is {signer}: only the owner creates pools and registers \
             markets — sign with the owner's key, or leave [[pools]] and [[markets]] out of the spec"
        )));
    }

    // 7. The programs needed.
    let mut programs = Programs::new(wasm_dir);
    for (address, name) in recorded.iter().zip(&VAULT_PROGRAMS[1..]) {
        if address.is_zero() && d.vault.is_zero() {
            programs.load(name)?;
        }
    }
    if d.vault.is_zero() {
        programs.load(VAULT_PROGRAMS[0])?;
    }
    if d.market_admin.is_zero() {
        programs.load(MARKET_ADMIN_PROGRAM)?;
    }
    if spec
        .markets
        .iter()
        .any(|m| d.markets.iter().all(|e| e.name != m.name))
    {
        programs.load(MARKET_PROGRAM)?;
    }
    if !programs.loaded.is_empty() {
        require_code(provider, STYLUS_DEPLOYER, "StylusDeployer").await?;
    }

    // 8. The steps.
    let activation_value = spec
        .activation_value
        .unwrap_or(U256::from(DEFAULT_ACTIVATION_VALUE));
    let local = client.url.contains("127.0.0.1") || client.url.contains("localhost");
    let sender = Sender {
        provider,
        from: signer,
        gas_limit: spec.gas_limit,
        poll: if local {
            Duration::from_millis(20)
        } else {
            Duration::from_secs(1)
        },
    };
    let deposits = spec.pools.iter().filter(|p| p.deposit.is_some()).count();
    let mut progress = Progress {
        step: 0,
        total: 6 + spec.pools.len() + deposits + 2 * spec.markets.len(),
        out: progress,
    };
    let save = |d: &Deployment| d.save(deployment_path);

    // The vault's delegates, then the vault.
    let mut delegates = recorded;
    for (i, name) in VAULT_PROGRAMS[1..].iter().enumerate() {
        let what = format!("vault program {name}");
        if !delegates[i].is_zero() {
            progress.report(&what, &format!("already deployed at {}, skipped", delegates[i]));
            continue;
        }
        if !d.vault.is_zero() {
            return Err(file_error(format!(
                "the vault {} reports no {name} program",
                d.vault
            )));
        }
        let (address, gas) = sender
            .deploy_stylus(&what, programs.get(name), Bytes::new(), activation_value)
            .await?;
        delegates[i] = address;
        [
            d.vault_programs.settlement,
            d.vault_programs.withdrawals,
            d.vault_programs.markets,
            d.vault_programs.admin,
        ] = delegates;
        save(&d)?;
        progress.report(&what, &format!("deployed at {address} (gas {gas})"));
    }
    let what = format!("vault {}", VAULT_PROGRAMS[0]);
    if d.vault.is_zero() {
        let init = vault_constructor_input(
            spec.vault.factory,
            owner,
            spec.vault.treasury.unwrap_or(signer),
            spec.vault.guardian.unwrap_or(signer),
            delegates,
        );
        let (address, gas) = sender
            .deploy_stylus(&what, programs.get(VAULT_PROGRAMS[0]), init, activation_value)
            .await?;
        d.vault = address;
        save(&d)?;
        progress.report(&what, &format!("deployed at {address} (gas {gas})"));
    } else {
        save(&d)?;
        progress.report(&what, &format!("already deployed at {}, skipped", d.vault));
    }
    let vault = IVault::new(d.vault, provider.clone());

    let what = format!("market-admin program {MARKET_ADMIN_PROGRAM}");
    if d.market_admin.is_zero() {
        let (address, gas) = sender
            .deploy_stylus(
                &what,
                programs.get(MARKET_ADMIN_PROGRAM),
                Bytes::new(),
                activation_value,
            )
            .await?;
        d.market_admin = address;
        save(&d)?;
        progress.report(&what, &format!("deployed at {address} (gas {gas})"));
    } else {
        progress.report(&what, &format!("already deployed at {}, skipped", d.market_admin));
    }

    // The pools.
    for (spec_pool, plan) in spec.pools.iter().zip(pools.iter_mut()) {
        let mut done = Vec::new();
        let what = plan.label.clone();
        if plan.pair.is_zero() {
            let call = factory.createPair(plan.token0, plan.token1);
            let receipt = sender
                .send(&format!("{what}: createPair"), call.into_transaction_request())
                .await?;
            plan.pair = factory
                .getPair(plan.token0, plan.token1)
                .call()
                .await
                .map_err(read_error("the factory's getPair"))?;
            done.push(format!("pair {} created (gas {})", plan.pair, receipt.gas_used));
        }
        if !has_pool(&vault, plan.pair).await? {
            let receipt = sender
                .send(
                    &format!("{what}: createPool"),
                    vault.createPool(plan.pair).into_transaction_request(),
                )
                .await?;
            done.push(format!("created in the vault (gas {})", receipt.gas_used));
        }
        if d.pool(plan.pair).is_none() {
            d.pools.push(PoolEntry {
                pair: plan.pair,
                token0: plan.token0,
                token1: plan.token1,
            });
            save(&d)?;
        }
        if let Some(hf_min) = spec_pool.hf_min {
            let info = vault
                .poolInfo(plan.pair)
                .call()
                .await
                .map_err(read_error(format!("the vault's poolInfo({})", plan.pair)))?;
            if info._6 != hf_min {
                let receipt = sender
                    .send(
                        &format!("{what}: setHfMin"),
                        vault.setHfMin(plan.pair, hf_min).into_transaction_request(),
                    )
                    .await?;
                done.push(format!(
                    "hf_min set to {} (gas {})",
                    format_units(hf_min, 18).unwrap_or_default(),
                    receipt.gas_used
                ));
            }
        }
        let what = format!("{what} (pair {})", plan.pair);
        if done.is_empty() {
            progress.report(&what, "already in the vault, skipped");
        } else {
            progress.report(&what, &done.join("; "));
        }

        if let Some(deposit) = spec_pool.deposit {
            let what = format!("deposit into {}", plan.label);
            let shares = vault
                .totalSupply(plan.pair)
                .call()
                .await
                .map_err(read_error(format!("the vault's totalSupply({})", plan.pair)))?;
            if !shares.is_zero() {
                progress.report(&what, "the pool has shares already, skipped");
                continue;
            }
            let mut gas = 0;
            for (token, amount) in [(plan.token0, deposit.amount0.0), (plan.token1, deposit.amount1.0)] {
                let erc20 = IERC20::new(token, provider.clone());
                let balance = erc20
                    .balanceOf(signer)
                    .call()
                    .await
                    .map_err(read_error(format!("{token}'s balanceOf")))?;
                if balance < amount {
                    return Err(DeployError::Signer(format!(
                        "{what}: the signer {signer} holds {balance} of {token}, the deposit needs {amount}"
                    )));
                }
                let allowance = erc20
                    .allowance(signer, d.vault)
                    .call()
                    .await
                    .map_err(read_error(format!("{token}'s allowance")))?;
                if allowance < amount {
                    let receipt = sender
                        .send(
                            &format!("{what}: approve {token}"),
                            erc20.approve(d.vault, amount).into_transaction_request(),
                        )
                        .await?;
                    gas += receipt.gas_used;
                }
            }
            let receipt = sender
                .send(
                    &format!("{what}: depositPair"),
                    vault
                        .depositPair(
                            plan.pair,
                            deposit.amount0.0,
                            deposit.amount1.0,
                            U256::ZERO,
                            signer,
                        )
                        .into_transaction_request(),
                )
                .await?;
            gas += receipt.gas_used;
            let shares = vault
                .totalSupply(plan.pair)
                .call()
                .await
                .map_err(read_error(format!("the vault's totalSupply({})", plan.pair)))?;
            progress.report(
                &what,
                &format!("deposited; the pool has {shares} shares (gas {gas})"),
            );
        }
    }

    // The markets.
    for ((m, params), pool) in spec.markets.iter().zip(&params).zip(&market_pools) {
        let pair = match pool {
            MarketPool::Spec(i) => pools[*i].pair,
            MarketPool::Recorded(pair) => *pair,
        };
        let kind = match m.kind {
            MarketKind::L2 => "l2",
            MarketKind::L1 => "l1",
        };
        let what = format!("market {:?} ({kind}, {MARKET_PROGRAM})", m.name);
        let address = match d.markets.iter().find(|e| e.name == m.name) {
            Some(entry) => {
                progress.report(&what, &format!("already deployed at {}, skipped", entry.address));
                entry.address
            }
            None => {
                let operator = m.operator.unwrap_or(signer);
                let init = market_constructor_input(
                    d.market_admin,
                    d.vault,
                    pair,
                    operator,
                    m.kind == MarketKind::L1,
                    params,
                );
                let (address, gas) = sender
                    .deploy_stylus(&what, programs.get(MARKET_PROGRAM), init, activation_value)
                    .await?;
                d.markets.push(MarketEntry {
                    name: m.name.clone(),
                    address,
                    pool: pair,
                    operator,
                    kind: m.kind,
                });
                save(&d)?;
                progress.report(&what, &format!("deployed at {address} (gas {gas})"));
                address
            }
        };

        let what = format!("market {:?} registration", m.name);
        let registered = registered_pool_of(&vault, address).await?;
        if !registered.is_zero() {
            if registered != pair {
                return Err(file_error(format!(
                    "market {:?} ({address}) is registered for the pool {registered}, the spec says {pair}",
                    m.name
                )));
            }
            progress.report(&what, "already registered, skipped");
            continue;
        }
        // The mode, range, operator and state the vault records are the market's own, read from it.
        let market = IMarket::new(address, provider.clone());
        let read = |f: &str| read_error(format!("market {:?}'s {f}()", m.name));
        let bytes = market.state().call().await.map_err(read("state"))?;
        let state = MarketState::decode(&bytes).map_err(|e| TxError::Read {
            what: format!("market {:?}'s state()", m.name),
            reason: format!("the state does not decode: {e:?}"),
        })?;
        let view = market.vaultState().call().await.map_err(read("vaultState"))?;
        let operator = market.operator().call().await.map_err(read("operator"))?;
        let market_pool = market.pool().call().await.map_err(read("pool"))?;
        if market_pool != pair {
            return Err(file_error(format!(
                "market {:?} ({address}) draws on the pool {market_pool}, the spec says {pair}",
                m.name
            )));
        }
        let limit = m.liquidity_limit.map_or(state.pool.liquidity, |n| n.0);
        let p = &state.pool;
        let receipt = sender
            .send(
                &what,
                vault
                    .registerMarket(
                        address,
                        pair,
                        operator,
                        p.collect_fee_mode == CollectFeeMode::Compounding,
                        (U256::from(p.sqrt_min_price), U256::from(p.sqrt_max_price)),
                        limit,
                        (view._0, view._1, view._2, view._3),
                    )
                    .into_transaction_request(),
            )
            .await
            .map_err(|e| match e {
                DeployError::Chain(TxError::Transaction { step, reason }) if reason.contains("Admission") => {
                    TxError::Transaction {
                        step,
                        reason: format!(
                            "{reason} — the pool's liquidity does not cover the market at its limit {limit}: \
                             deposit into the pool (or lower liquidity_limit) and run damm deploy again"
                        ),
                    }
                    .into()
                }
                other => other,
            })?;
        save(&d)?;
        progress.report(
            &what,
            &format!("registered with limit {limit} (gas {})", receipt.gas_used),
        );
    }
    save(&d)?;
    Ok(d)
}

/// Where a market's pool comes from.
#[derive(Debug, Clone, Copy)]
enum MarketPool {
    /// The spec's pool at this index.
    Spec(usize),
    /// A pool the deployment file records.
    Recorded(Address),
}

/// `damm deploy`: resolves the configuration, connects, reads the spec and deploys, printing one line per
/// step.
///
/// # Errors
///
/// Any configuration, connection, spec or deployment error, named.
pub async fn run(args: DeployArgs) -> anyhow::Result<()> {
    let settings = args.chain.resolve()?;
    let mut spec = DeploySpec::load(&args.spec)?;
    if args.activation_value.is_some() {
        spec.activation_value = args.activation_value;
    }
    if args.gas_limit.is_some() {
        spec.gas_limit = args.gas_limit;
    }
    let client = connect(&settings).await?;
    let signer = client.require_signer("damm deploy")?;
    println!(
        "deploying on chain {} ({}) as {signer}; deployment file {}",
        client.chain_id,
        client.url,
        settings.deployment.display()
    );
    let d = deploy(
        &client,
        &spec,
        &args.wasm_dir,
        &settings.deployment,
        &mut |line| println!("{line}"),
    )
    .await?;
    println!(
        "done: vault {}, {} pool(s), {} market(s) recorded in {}",
        d.vault,
        d.pools.len(),
        d.markets.len(),
        settings.deployment.display()
    );
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    const Q64: u128 = 1 << 64;

    fn spec_text(market: &str) -> String {
        format!(
            r#"
activation_value = "0.02 ether"
[vault]
factory = "0x1111111111111111111111111111111111111111"

[[pools]]
name = "main"
pair = "0x2222222222222222222222222222222222222222"
hf_min = 0.9
deposit = {{ amount0 = "1_000e18", amount1 = "0x10" }}

[[markets]]
name = "a"
pool = "main"
{market}
"#
        )
    }

    /// A concentrated market's keys of a spec's `[[markets]]` table (also used by `admin`'s tests).
    pub(crate) const CONCENTRATED: &str = r#"
mode = "concentrated"
sqrt_price = "36893488147419103232"
sqrt_min_price = "33204139332677191680"
sqrt_max_price = "40582836962161013555"
liquidity = "1844674407370955161600000000000000000000"
base_fee_numerator = 3000000
"#;

    #[test]
    fn a_spec_parses_with_defaults() {
        let spec = DeploySpec::parse(Path::new("s.toml"), &spec_text(CONCENTRATED)).expect("parses");
        assert_eq!(
            spec.activation_value,
            Some(U256::from(20_000_000_000_000_000u128))
        );
        assert_eq!(
            spec.pools[0].hf_min,
            Some(U256::from(900_000_000_000_000_000u128))
        );
        let deposit = spec.pools[0].deposit.unwrap();
        assert_eq!(
            deposit.amount0.0,
            U256::from(1_000u64) * U256::from(10u64).pow(U256::from(18u64))
        );
        assert_eq!(deposit.amount1.0, U256::from(16u64));
        let m = &spec.markets[0];
        assert_eq!(
            (
                m.kind,
                m.protocol_fee_percent,
                m.referral_fee_percent,
                m.fee_version
            ),
            (MarketKind::L2, 20, 20, 1)
        );
        let params = validate_spec(&spec).expect("valid");
        assert_eq!(params[0].sqrt_price, 2 * Q64);
        assert_eq!(params[0].mode, CollectFeeMode::BothToken);
    }

    #[test]
    fn invalid_market_parameters_name_the_market_and_field() {
        let cases = [
            ("base_fee_numerator = 3000000", "base_fee_numerator = 10", "base_fee_numerator"),
            ("base_fee_numerator = 3000000", "base_fee_numerator = 3000000\nfee_version = 7", "fee_version"),
            (
                "base_fee_numerator = 3000000",
                "base_fee_numerator = 3000000\nprotocol_fee_percent = 101",
                "protocol_fee_percent",
            ),
            ("sqrt_price = \"36893488147419103232\"", "sqrt_price = \"1\"", "sqrt_price"),
            (
                "sqrt_min_price = \"33204139332677191680\"",
                "sqrt_min_price = \"50000000000000000000\"",
                "sqrt_min_price",
            ),
            ("liquidity = \"1844674407370955161600000000000000000000\"", "liquidity = 0", "liquidity"),
            (
                "base_fee_numerator = 3000000",
                "base_fee_numerator = 3000000\ncompounding_fee_bps = 5",
                "compounding_fee_bps",
            ),
            (
                "base_fee_numerator = 3000000",
                "base_fee_numerator = 3000000\nliquidity_limit = 5",
                "liquidity_limit",
            ),
            (
                "base_fee_numerator = 3000000",
                "base_fee_numerator = 3000000\ndynamic_fee = { max_volatility_accumulator = 1, variable_fee_control = 1, filter_period = 10, decay_period = 5, reduction_factor = 1 }",
                "dynamic_fee",
            ),
            ("sqrt_max_price = \"40582836962161013555\"", "", "sqrt_max_price"),
        ];
        for (from, to, field) in cases {
            let text = spec_text(&CONCENTRATED.replace(from, to));
            let spec = DeploySpec::parse(Path::new("s.toml"), &text).expect("parses");
            match validate_spec(&spec) {
                Err(DeployError::InvalidMarketParam {
                    market,
                    field: f,
                    reason,
                }) => {
                    assert_eq!((market.as_str(), f.as_str()), ("a", field), "{to}: {reason}");
                }
                other => panic!("{to}: expected InvalidMarketParam, got {other:?}"),
            }
        }
    }

    #[test]
    fn spec_errors_name_the_key() {
        let text = spec_text(&CONCENTRATED.replace("mode = \"concentrated\"", "mode = \"sideways\""));
        let e = DeploySpec::parse(Path::new("s.toml"), &text).unwrap_err();
        assert!(e.to_string().contains("key `mode`"), "{e}");
        let text = spec_text(&format!("{CONCENTRATED}\nbase_fee = 1"));
        let e = DeploySpec::parse(Path::new("s.toml"), &text).unwrap_err();
        assert!(e.to_string().contains("base_fee"), "{e}");
        let text = spec_text(&CONCENTRATED.replace("\"36893488147419103232\"", "\"-5\""));
        let e = DeploySpec::parse(Path::new("s.toml"), &text).unwrap_err();
        assert!(e.to_string().contains("key `sqrt_price`"), "{e}");
    }

    #[test]
    fn inconsistent_specs_are_refused() {
        let twice = format!(
            "{}\n[[markets]]\nname = \"a\"\npool = \"main\"\n{CONCENTRATED}",
            spec_text(CONCENTRATED)
        );
        let spec = DeploySpec::parse(Path::new("s.toml"), &twice).expect("parses");
        let e = validate_spec(&spec).unwrap_err();
        assert!(e.to_string().contains("two markets are named \"a\""), "{e}");
        let text = spec_text(CONCENTRATED).replace(
            "pair = \"0x2222222222222222222222222222222222222222\"",
            "token_a = \"0x2222222222222222222222222222222222222222\"",
        );
        let spec = DeploySpec::parse(Path::new("s.toml"), &text).expect("parses");
        let e = validate_spec(&spec).unwrap_err();
        assert!(
            e.to_string()
                .contains("give either `pair` or both `token_a` and `token_b`"),
            "{e}"
        );
        let text = spec_text(CONCENTRATED).replace("hf_min = 0.9", "hf_min = 1.5");
        let spec = DeploySpec::parse(Path::new("s.toml"), &text).expect("parses");
        let e = validate_spec(&spec).unwrap_err();
        assert!(e.to_string().contains("hf_min must be in (0, 1]"), "{e}");
    }

    #[test]
    fn numbers_and_amounts() {
        assert_eq!(parse_num("1_000e3"), Ok(U256::from(1_000_000u64)));
        assert_eq!(parse_num("0xff"), Ok(U256::from(255u64)));
        assert!(parse_num("1.5").is_err());
        assert!(parse_num("1e100").is_err());
        assert_eq!(
            parse_amount("0.01ether"),
            Ok(U256::from(10_000_000_000_000_000u128))
        );
        assert_eq!(
            parse_amount("0.01 eth"),
            Ok(U256::from(10_000_000_000_000_000u128))
        );
        assert_eq!(parse_amount("5gwei"), Ok(U256::from(5_000_000_000u64)));
        assert_eq!(parse_amount("12345"), Ok(U256::from(12_345u64)));
        assert!(parse_amount("0.5wei").is_err());
        assert_eq!(
            parse_decimal("1", 18),
            Ok(U256::from(10u64).pow(U256::from(18u64)))
        );
        assert_eq!(parse_decimal("0", 18), Ok(U256::ZERO));
    }

    #[test]
    fn compounding_markets_take_the_full_range() {
        let market = CONCENTRATED
            .replace(
                "mode = \"concentrated\"",
                "mode = \"compounding\"\ncompounding_fee_bps = 5000",
            )
            .replace("sqrt_min_price = \"33204139332677191680\"\n", "")
            .replace("sqrt_max_price = \"40582836962161013555\"\n", "");
        let spec = DeploySpec::parse(Path::new("s.toml"), &spec_text(&market)).expect("parses");
        let params = validate_spec(&spec).expect("valid");
        assert_eq!(
            (params[0].sqrt_min_price, params[0].sqrt_max_price),
            (0, u128::MAX)
        );
    }

    #[test]
    fn constructor_inputs() {
        let input = vault_constructor_input(
            Address::repeat_byte(1),
            Address::repeat_byte(2),
            Address::repeat_byte(3),
            Address::repeat_byte(4),
            [
                Address::repeat_byte(5),
                Address::repeat_byte(6),
                Address::repeat_byte(7),
                Address::repeat_byte(8),
            ],
        );
        assert_eq!(input.len(), 4 + 8 * 32);
        assert_eq!(&input[..4], &keccak256(b"stylus_constructor()")[..4]);
        assert_eq!(&input[4 + 7 * 32 + 12..], Address::repeat_byte(8).as_slice());
    }
}
