//! The error type, named after DAMM v2's `PoolError` variants.

use core::fmt;

/// Every failure of the pricing math. Variant names are those of DAMM v2's `PoolError`, so a failure can be
/// compared by name with DAMM v2's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MathError {
    /// A checked arithmetic operation overflowed or underflowed, or divided by zero.
    MathOverflow,
    /// A value did not fit the type it is converted to.
    TypeCastFailed,
    /// A concentrated-liquidity swap would move the price outside `[sqrt_min_price, sqrt_max_price]`.
    PriceRangeViolation,
    /// An amount that must be non-zero is zero.
    AmountIsZero,
    /// An input violates a precondition (DAMM v2 panics there), or a dynamic-fee parameter is invalid.
    InvalidInput,
    /// A liquidity delta is zero where it must not be.
    InvalidParameters,
    /// A price range or initial price is invalid.
    InvalidPriceRange,
    /// Initial liquidity is zero, or (compounding) not above the dead liquidity.
    InvalidMinimumLiquidity,
    /// `collect_fee_mode` is not 0, 1 or 2.
    InvalidCollectFeeMode,
    /// `compounding_fee_bps` is out of range for the pool's mode.
    InvalidCompoundingFeeBps,
    /// `fee_version` is not 0 or 1.
    InvalidPoolVersion,
    /// A base fee is below the minimum (1 bps) or not below 100 %.
    InvalidFee,
    /// A fee exceeds the maximum allowed.
    ExceedMaxFeeBps,
    /// A swap's output is below its minimum, or its input above its maximum.
    ExceededSlippage,
    /// More liquidity is removed than the pool or position holds.
    InsufficientLiquidity,
    /// A reward duration is outside `[MIN_REWARD_DURATION, MAX_REWARD_DURATION]`.
    InvalidRewardDuration,
    /// Funding without carry-forward while seconds with empty liquidity are still unclaimed.
    MustWithdrawnIneligibleReward,
    /// The reward slot is not initialized.
    RewardUninitialized,
    /// The reward campaign has not ended yet.
    RewardCampaignInProgress,
}

impl MathError {
    /// The variant's name, as DAMM v2 spells it.
    pub const fn name(&self) -> &'static str {
        match self {
            Self::MathOverflow => "MathOverflow",
            Self::TypeCastFailed => "TypeCastFailed",
            Self::PriceRangeViolation => "PriceRangeViolation",
            Self::AmountIsZero => "AmountIsZero",
            Self::InvalidInput => "InvalidInput",
            Self::InvalidParameters => "InvalidParameters",
            Self::InvalidPriceRange => "InvalidPriceRange",
            Self::InvalidMinimumLiquidity => "InvalidMinimumLiquidity",
            Self::InvalidCollectFeeMode => "InvalidCollectFeeMode",
            Self::InvalidCompoundingFeeBps => "InvalidCompoundingFeeBps",
            Self::InvalidPoolVersion => "InvalidPoolVersion",
            Self::InvalidFee => "InvalidFee",
            Self::ExceedMaxFeeBps => "ExceedMaxFeeBps",
            Self::ExceededSlippage => "ExceededSlippage",
            Self::InsufficientLiquidity => "InsufficientLiquidity",
            Self::InvalidRewardDuration => "InvalidRewardDuration",
            Self::MustWithdrawnIneligibleReward => "MustWithdrawnIneligibleReward",
            Self::RewardUninitialized => "RewardUninitialized",
            Self::RewardCampaignInProgress => "RewardCampaignInProgress",
        }
    }

    /// A stable one-byte code for the variant (its declaration index), used in compact on-chain errors.
    pub const fn code(&self) -> u8 {
        *self as u8
    }
}

impl fmt::Display for MathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(feature = "std")]
impl std::error::Error for MathError {}
