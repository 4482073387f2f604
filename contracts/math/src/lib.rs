//! The dAMM pricing math: Meteora's DAMM v2 (`cp-amm`) re-implemented for ERC-20 amounts.
//!
//! One `no_std` crate, shared by the Stylus contracts (which verify trades with it) and the off-chain operator
//! (which quotes trades with it), so both sides run the same code to the last rounding.
//!
//! # Widening
//! DAMM v2 works with `u64` token amounts and `u128` liquidity. ERC-20 balances are 256-bit and 18 decimals are
//! common, so this crate uses **`u128` amounts** and **[`U256`] liquidity** (same 2^64 fixed-point scale), with
//! 256/512-bit intermediates. Square-root prices stay Q64.64 in `u128`. Every guard DAMM v2 places at `u64::MAX`
//! sits at `u128::MAX` here; nothing else changes: on inputs inside DAMM v2's own domain (u64 amounts, u128
//! liquidity) every output, rounding and failure equals DAMM v2's.
//!
//! # Failures
//! No function panics, whatever its input. Where DAMM v2 returns a program error, the same-named
//! [`MathError`] is returned; where DAMM v2 *panics* (a failed `assert!`, a raw overflow, a division by zero),
//! this crate returns [`MathError::MathOverflow`] for arithmetic faults and [`MathError::InvalidInput`] for failed
//! preconditions. Both abort the transaction on chain, as the panic would.
//!
//! # Layout
//! One module per concern, one function per formula:
//! [`wide`] (fixed-point primitives), [`curve`] (concentrated liquidity), [`compounding`] (constant product),
//! [`fee`] (fee primitives and split), [`dynamic_fee`] (volatility accumulator), [`pool`] (swaps and their
//! application to a pool state), [`liquidity`] (adding/removing liquidity, initial pool), [`position`] (position
//! fee accrual), [`reward`] (liquidity mining) and [`vault`] (the vault's pool accounting: liquidity, health factor,
//! shares, withdrawals, LP burns).
#![cfg_attr(not(feature = "std"), no_std)]

pub mod compounding;
pub mod constants;
pub mod curve;
pub mod dynamic_fee;
pub mod error;
pub mod fee;
pub mod liquidity;
pub mod pool;
pub mod position;
pub mod reward;
pub mod vault;
pub mod wide;

pub use dynamic_fee::DynamicFee;
pub use error::MathError;
pub use fee::{FeeMode, PoolFees, SplitFees};
pub use pool::{CollectFeeMode, PoolState, SwapMode, SwapParams, SwapResult, TradeDirection};
pub use reward::{PositionReward, RewardInfo};
pub use wide::{Rounding, U256, U512};

/// Result type of every fallible function of this crate.
pub type Result<T> = core::result::Result<T, MathError>;
