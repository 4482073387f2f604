//! Fee primitives, the fee split and the pool's fee configuration (DAMM v2 `state/fee.rs`).
//!
//! Fee numerators are over [`FEE_DENOMINATOR`] (1e9 = 100 %).

use crate::{
    constants::{
        max_fee_numerator, FEE_DENOMINATOR, MAX_BASIS_POINT, PROTOCOL_FEE_PERCENT, REFERRAL_FEE_PERCENT,
    },
    dynamic_fee::DynamicFee,
    wide::{mul_div_u128, Rounding},
    MathError, Result,
};

/// Which token pays the fee, and whether a referral share is carved out (`FeeMode`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FeeMode {
    /// The fee is taken from the input amount (else from the output).
    pub fees_on_input: bool,
    /// The fee is in token A (else token B).
    pub fees_on_token_a: bool,
    /// A referral share is paid out of the protocol fee.
    pub has_referral: bool,
}

/// A trading fee split into its parts (`SplitFees`); the four add up to the fee.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SplitFees {
    /// LP share claimable through the fee-per-liquidity accumulator.
    pub claiming_fee: u128,
    /// LP share added to reserve B (compounding pools only).
    pub compounding_fee: u128,
    /// Protocol share, after the referral share is carved out.
    pub protocol_fee: u128,
    /// Referral share (a part of the protocol share).
    pub referral_fee: u128,
}

impl SplitFees {
    /// Sum of the four parts.
    ///
    /// # Errors
    /// [`MathError::MathOverflow`] on overflow.
    pub fn total(&self) -> Result<u128> {
        self.claiming_fee
            .checked_add(self.compounding_fee)
            .and_then(|x| x.checked_add(self.protocol_fee))
            .and_then(|x| x.checked_add(self.referral_fee))
            .ok_or(MathError::MathOverflow)
    }
}

/// The fee charged on an amount that already contains it: `fee = ceil(included · n / 1e9)`,
/// `excluded = included − fee` (`get_excluded_fee_amount`). Returns `(excluded, fee)`.
///
/// Rounding: the fee rounds up (in the pool's favour).
///
/// # Errors
/// [`MathError::MathOverflow`] if `n > 1e9` makes the fee exceed the amount.
pub fn excluded_fee_amount(fee_numerator: u64, included_fee_amount: u128) -> Result<(u128, u128)> {
    let fee = mul_div_u128(
        included_fee_amount,
        fee_numerator as u128,
        FEE_DENOMINATOR as u128,
        Rounding::Up,
    )?;
    let excluded = included_fee_amount
        .checked_sub(fee)
        .ok_or(MathError::MathOverflow)?;
    Ok((excluded, fee))
}

/// The gross amount whose fee leaves `excluded`: `included = ceil(excluded · 1e9 / (1e9 − n))`,
/// `fee = included − excluded` (`get_included_fee_amount`). Returns `(included, fee)`.
///
/// # Errors
/// [`MathError::MathOverflow`] if `n >= 1e9`; [`MathError::TypeCastFailed`] if `included` exceeds `u128`.
pub fn included_fee_amount(fee_numerator: u64, excluded_fee_amount: u128) -> Result<(u128, u128)> {
    let denominator = FEE_DENOMINATOR
        .checked_sub(fee_numerator)
        .ok_or(MathError::MathOverflow)?;
    let included = mul_div_u128(
        excluded_fee_amount,
        FEE_DENOMINATOR as u128,
        denominator as u128,
        Rounding::Up,
    )?;
    let fee = included
        .checked_sub(excluded_fee_amount)
        .ok_or(MathError::MathOverflow)?;
    Ok((included, fee))
}

/// Splits a trading fee (`split_fees`):
/// `protocol = floor(fee · protocol% / 100)`, `lp = fee − protocol`;
/// `compounding = floor(lp · compounding_bps / 10_000)`, `claiming = lp − compounding`;
/// `referral = has_referral ? floor(protocol · referral% / 100) : 0`, and the protocol keeps the rest.
///
/// # Errors
/// [`MathError::MathOverflow`] if a percentage above 100 (or bps above 10 000) makes a part exceed its whole.
pub fn split_fees(
    fee: u128,
    has_referral: bool,
    protocol_fee_percent: u8,
    referral_fee_percent: u8,
    compounding_fee_bps: u16,
) -> Result<SplitFees> {
    let protocol = mul_div_u128(fee, protocol_fee_percent as u128, 100, Rounding::Down)?;
    let lp = fee.checked_sub(protocol).ok_or(MathError::MathOverflow)?;
    let (compounding_fee, claiming_fee) = if compounding_fee_bps > 0 {
        let compounding = mul_div_u128(
            lp,
            compounding_fee_bps as u128,
            MAX_BASIS_POINT as u128,
            Rounding::Down,
        )?;
        (
            compounding,
            lp.checked_sub(compounding).ok_or(MathError::MathOverflow)?,
        )
    } else {
        (0, lp)
    };
    let referral_fee = if has_referral {
        mul_div_u128(protocol, referral_fee_percent as u128, 100, Rounding::Down)?
    } else {
        0
    };
    let protocol_fee = protocol
        .checked_sub(referral_fee)
        .ok_or(MathError::MathOverflow)?;
    Ok(SplitFees {
        claiming_fee,
        compounding_fee,
        protocol_fee,
        referral_fee,
    })
}

/// A pool's fee configuration (`PoolFeesStruct`): a static base fee plus the dynamic fee.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolFees {
    /// Static base fee numerator over 1e9.
    pub base_fee_numerator: u64,
    /// Protocol share of each trading fee, percent (20 in DAMM v2).
    pub protocol_fee_percent: u8,
    /// Referral share of the protocol fee, percent (20 in DAMM v2).
    pub referral_fee_percent: u8,
    /// Share of the LP fee compounded into reserve B, bps (compounding pools only).
    pub compounding_fee_bps: u16,
    /// Caps the total fee: 0 → 50 %, 1 → 99 %.
    pub fee_version: u8,
    /// The dynamic (variable) fee; disabled when not `initialized`.
    pub dynamic_fee: DynamicFee,
}

impl Default for PoolFees {
    fn default() -> Self {
        Self {
            base_fee_numerator: 0,
            protocol_fee_percent: PROTOCOL_FEE_PERCENT,
            referral_fee_percent: REFERRAL_FEE_PERCENT,
            compounding_fee_bps: 0,
            fee_version: crate::constants::CURRENT_POOL_VERSION,
            dynamic_fee: DynamicFee::default(),
        }
    }
}

impl PoolFees {
    /// Total fee numerator `min(base + variable, max_fee_numerator(fee_version))` (`get_total_fee_numerator`).
    ///
    /// The variable fee uses the accumulator left by the previous swap. The sum is taken in `u128` and cast
    /// to `u64` before the cap, as DAMM v2 does.
    ///
    /// # Errors
    /// [`MathError::InvalidPoolVersion`]; those of [`DynamicFee::variable_fee`];
    /// [`MathError::TypeCastFailed`] if the sum exceeds `u64`.
    pub fn total_fee_numerator(&self) -> Result<u64> {
        let max = max_fee_numerator(self.fee_version)?;
        let variable = self.dynamic_fee.variable_fee()?;
        let total = variable
            .checked_add(self.base_fee_numerator as u128)
            .ok_or(MathError::MathOverflow)?;
        let total: u64 = total.try_into().map_err(|_| MathError::TypeCastFailed)?;
        Ok(total.min(max))
    }

    /// Fee on an amount that contains it, split (`get_fee_on_amount`): returns `(excluded amount, split)`.
    ///
    /// # Errors
    /// Those of [`excluded_fee_amount`] and [`split_fees`].
    pub fn fee_on_amount(
        &self,
        amount: u128,
        fee_numerator: u64,
        has_referral: bool,
    ) -> Result<(u128, SplitFees)> {
        let (excluded, fee) = excluded_fee_amount(fee_numerator, amount)?;
        Ok((excluded, self.split(fee, has_referral)?))
    }

    /// [`split_fees`] with this pool's percentages.
    ///
    /// # Errors
    /// Those of [`split_fees`].
    pub fn split(&self, fee: u128, has_referral: bool) -> Result<SplitFees> {
        split_fees(
            fee,
            has_referral,
            self.protocol_fee_percent,
            self.referral_fee_percent,
            self.compounding_fee_bps,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excluded_fee_rounds_the_fee_up() {
        // 0.3 % of 1000 = 3 exactly; of 1001 = 3.003 → 4.
        assert_eq!(excluded_fee_amount(3_000_000, 1000), Ok((997, 3)));
        assert_eq!(excluded_fee_amount(3_000_000, 1001), Ok((997, 4)));
        assert_eq!(excluded_fee_amount(0, 1001), Ok((1001, 0)));
        assert_eq!(
            excluded_fee_amount(2_000_000_000, 10),
            Err(MathError::MathOverflow)
        );
    }

    #[test]
    fn included_fee_grosses_up_with_ceil() {
        // 997 net at 0.3 %: 997e9 / 997e6 = 1000 exactly.
        assert_eq!(included_fee_amount(3_000_000, 997), Ok((1000, 3)));
        // 998 net: 1001.003… → 1002.
        assert_eq!(included_fee_amount(3_000_000, 998), Ok((1002, 4)));
        assert_eq!(
            included_fee_amount(1_000_000_000, 1),
            Err(MathError::MathOverflow)
        );
        assert_eq!(
            included_fee_amount(1_000_000_001, 1),
            Err(MathError::MathOverflow)
        );
        assert_eq!(
            included_fee_amount(500_000_000, u128::MAX),
            Err(MathError::TypeCastFailed)
        );
    }

    #[test]
    fn split_adds_up_and_carves_referral_from_protocol() {
        let s = split_fees(1000, true, 20, 20, 0).unwrap();
        assert_eq!(
            s,
            SplitFees {
                claiming_fee: 800,
                compounding_fee: 0,
                protocol_fee: 160,
                referral_fee: 40
            }
        );
        let s = split_fees(1000, false, 20, 20, 5000).unwrap();
        assert_eq!(
            s,
            SplitFees {
                claiming_fee: 400,
                compounding_fee: 400,
                protocol_fee: 200,
                referral_fee: 0
            }
        );
        // Floors: 7 → protocol 1, lp 6, compounding floor(6·0.3333) = 1.
        let s = split_fees(7, true, 20, 20, 3333).unwrap();
        assert_eq!(
            s,
            SplitFees {
                claiming_fee: 5,
                compounding_fee: 1,
                protocol_fee: 1,
                referral_fee: 0
            }
        );
        assert_eq!(s.total(), Ok(7));
        assert_eq!(split_fees(10, false, 150, 20, 0), Err(MathError::MathOverflow));
    }

    #[test]
    fn total_fee_is_capped_by_version() {
        let mut fees = PoolFees {
            base_fee_numerator: 600_000_000,
            fee_version: 0,
            ..PoolFees::default()
        };
        assert_eq!(fees.total_fee_numerator(), Ok(500_000_000));
        fees.fee_version = 1;
        assert_eq!(fees.total_fee_numerator(), Ok(600_000_000));
        fees.base_fee_numerator = 999_999_999;
        assert_eq!(fees.total_fee_numerator(), Ok(990_000_000));
        fees.fee_version = 7;
        assert_eq!(fees.total_fee_numerator(), Err(MathError::InvalidPoolVersion));
    }
}
