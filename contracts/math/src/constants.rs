//! Constants and fixed-point conventions (DAMM v2 `constants.rs`).
//!
//! Square-root prices are Q64.64 (`sqrt(price) * 2^64`, price = token B atoms per token A atom). Liquidity also
//! carries 64 fractional bits: the real `sqrt(a * b)` is `L / 2^64`.

use crate::{wide::U256, MathError, Result};

/// Lowest allowed sqrt price, Q64.64 (price ≈ 2^-64).
pub const MIN_SQRT_PRICE: u128 = 4_295_048_016;
/// Highest allowed sqrt price, Q64.64 (price ≈ 2^64).
pub const MAX_SQRT_PRICE: u128 = 79_226_673_521_066_979_257_578_248_091;
/// 1.0 in Q64.64.
pub const ONE_Q64: u128 = 1 << 64;
/// Fractional bits of the fee-per-liquidity and reward-per-liquidity accumulators.
pub const LIQUIDITY_SCALE: usize = 128;
/// Fractional bits of a reward rate.
pub const REWARD_RATE_SCALE: usize = 64;
/// Shift turning reward-per-liquidity into a position reward (`LIQUIDITY_SCALE + REWARD_RATE_SCALE`).
pub const TOTAL_REWARD_SCALE: usize = 192;
/// Denominator of every fee numerator (1e9 = 100 %).
pub const FEE_DENOMINATOR: u64 = 1_000_000_000;
/// 100 % in basis points.
pub const MAX_BASIS_POINT: u16 = 10_000;
/// Lowest base fee numerator: 1 bps.
pub const MIN_FEE_NUMERATOR: u64 = 100_000;
/// Cap of the total fee numerator for `fee_version` 0 (50 %).
pub const MAX_FEE_NUMERATOR_V0: u64 = 500_000_000;
/// Cap of the total fee numerator for `fee_version` 1 (99 %).
pub const MAX_FEE_NUMERATOR_V1: u64 = 990_000_000;
/// [`MAX_FEE_NUMERATOR_V0`] in bps.
pub const MAX_FEE_BPS_V0: u64 = 5_000;
/// [`MAX_FEE_NUMERATOR_V1`] in bps.
pub const MAX_FEE_BPS_V1: u64 = 9_900;
/// The `fee_version` written into every new pool.
pub const CURRENT_POOL_VERSION: u8 = 1;
/// Cap on a base fee changed after creation (10 %).
pub const MAX_FEE_NUMERATOR_POST_UPDATE: u64 = 100_000_000;
/// Default protocol share of each trading fee, in percent.
pub const PROTOCOL_FEE_PERCENT: u8 = 20;
/// Default referral share, in percent **of the protocol fee**.
pub const REFERRAL_FEE_PERCENT: u8 = 20;
/// The only allowed dynamic-fee bin step, in bps.
pub const BIN_STEP_BPS_DEFAULT: u16 = 1;
/// `floor(2^64 / 10_000)`: 1 bps in Q64.64, the only allowed `bin_step_u128`.
pub const BIN_STEP_BPS_U128_DEFAULT: u128 = 1_844_674_407_370_955;
/// Cap of `variable_fee_control` and `max_volatility_accumulator` (a 24-bit maximum).
pub const U24_MAX: u32 = 0xFF_FFFF;
/// Liquidity locked forever when a compounding pool is created (`100 << 64`).
pub const DEAD_LIQUIDITY: U256 = U256::from_limbs([0, 100, 0, 0]);
/// Reward slots per pool.
pub const NUM_REWARDS: usize = 2;
/// Shortest allowed reward duration, seconds.
pub const MIN_REWARD_DURATION: u64 = 86_400;
/// Longest allowed reward duration, seconds.
pub const MAX_REWARD_DURATION: u64 = 31_536_000;

/// The cap of the total fee numerator for a pool's `fee_version`.
///
/// # Errors
/// [`MathError::InvalidPoolVersion`] for a version other than 0 or 1.
pub const fn max_fee_numerator(fee_version: u8) -> Result<u64> {
    match fee_version {
        0 => Ok(MAX_FEE_NUMERATOR_V0),
        1 => Ok(MAX_FEE_NUMERATOR_V1),
        _ => Err(MathError::InvalidPoolVersion),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dead_liquidity_is_100_shifted_by_64() {
        assert_eq!(DEAD_LIQUIDITY, U256::from(100u128 << 64));
    }

    #[test]
    fn bin_step_u128_is_one_bps_in_q64() {
        assert_eq!(BIN_STEP_BPS_U128_DEFAULT, ONE_Q64 / 10_000);
    }

    #[test]
    fn max_fee_numerator_by_version() {
        assert_eq!(max_fee_numerator(0), Ok(500_000_000));
        assert_eq!(max_fee_numerator(1), Ok(990_000_000));
        assert_eq!(max_fee_numerator(2), Err(MathError::InvalidPoolVersion));
    }
}
