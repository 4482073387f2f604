//! The dynamic (variable) fee: a volatility accumulator over price "bins" (DAMM v2 `DynamicFeeStruct`).
//!
//! Order within a swap: [`DynamicFee::update_references`] before it (decay), [`DynamicFee::variable_fee`] while
//! pricing it (with the accumulator the previous swap left), [`DynamicFee::update_volatility_accumulator`] after.

use crate::{
    constants::{BIN_STEP_BPS_DEFAULT, BIN_STEP_BPS_U128_DEFAULT, MAX_BASIS_POINT, ONE_Q64, U24_MAX},
    wide::{shl_div, Rounding},
    MathError, Result,
};

/// Dynamic-fee parameters and running state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DynamicFee {
    /// Off when false: no variable fee, no state updates.
    pub initialized: bool,
    /// Cap of the volatility accumulator.
    pub max_volatility_accumulator: u32,
    /// Scales the squared volatility into a fee.
    pub variable_fee_control: u32,
    /// Bin step in bps (must be 1).
    pub bin_step: u16,
    /// Seconds within which trades count as high-frequency (references unchanged).
    pub filter_period: u16,
    /// Seconds after which the volatility reference resets to 0.
    pub decay_period: u16,
    /// Decay of the volatility reference, bps of the accumulator kept.
    pub reduction_factor: u16,
    /// Time of the last swap that moved the price by at least one bin, unix seconds.
    pub last_update_timestamp: u64,
    /// Bin step in Q64.64 (must be [`BIN_STEP_BPS_U128_DEFAULT`]).
    pub bin_step_u128: u128,
    /// Sqrt price the volatility is measured from.
    pub sqrt_price_reference: u128,
    /// Current volatility, bins · 10 000.
    pub volatility_accumulator: u128,
    /// Decayed volatility carried into the next accumulation.
    pub volatility_reference: u128,
}

/// Price bins between two sqrt prices (`get_delta_bin_id`):
/// `ratio = floor(hi·2^64 / lo)`, `delta = floor((ratio − 2^64) / bin_step_u128)`, returns `2·delta`
/// (a linear approximation of `(1+b)^n`; the factor 2 turns sqrt-price steps into price steps).
///
/// # Errors
/// [`MathError::MathOverflow`] if the lower price is 0, the ratio exceeds `u128`, or `bin_step_u128 == 0`.
pub fn delta_bin_id(bin_step_u128: u128, sqrt_price_a: u128, sqrt_price_b: u128) -> Result<u128> {
    let (hi, lo) = if sqrt_price_a > sqrt_price_b {
        (sqrt_price_a, sqrt_price_b)
    } else {
        (sqrt_price_b, sqrt_price_a)
    };
    let ratio = shl_div(hi, lo, 64, Rounding::Down).ok_or(MathError::MathOverflow)?;
    let delta = ratio.checked_sub(ONE_Q64).ok_or(MathError::MathOverflow)?;
    let delta = delta.checked_div(bin_step_u128).ok_or(MathError::MathOverflow)?;
    delta.checked_mul(2).ok_or(MathError::MathOverflow)
}

impl DynamicFee {
    /// Checks the parameters as DAMM v2 does (`DynamicFeeParameters::validate`): `bin_step == 1`,
    /// `bin_step_u128 == 1844674407370955`, `filter_period < decay_period`, `reduction_factor <= 10 000`,
    /// `variable_fee_control` and `max_volatility_accumulator` at most `0xFFFFFF`.
    ///
    /// # Errors
    /// [`MathError::InvalidInput`] naming none of them individually, as DAMM v2.
    pub fn validate(&self) -> Result<()> {
        let ok = self.bin_step == BIN_STEP_BPS_DEFAULT
            && self.bin_step_u128 == BIN_STEP_BPS_U128_DEFAULT
            && self.filter_period < self.decay_period
            && self.reduction_factor <= MAX_BASIS_POINT
            && self.variable_fee_control <= U24_MAX
            && self.max_volatility_accumulator <= U24_MAX;
        if ok {
            Ok(())
        } else {
            Err(MathError::InvalidInput)
        }
    }

    /// Variable fee numerator over 1e9 (`get_variable_fee`):
    /// `v = (volatility_accumulator · bin_step)²`, `fee = ceil(v · variable_fee_control / 1e11)`; 0 when disabled.
    ///
    /// # Errors
    /// [`MathError::MathOverflow`] if a product or the rounding addend overflows `u128`;
    /// [`MathError::TypeCastFailed`] if the square does (as DAMM v2).
    pub fn variable_fee(&self) -> Result<u128> {
        if !self.initialized {
            return Ok(0);
        }
        let vb = self
            .volatility_accumulator
            .checked_mul(self.bin_step as u128)
            .ok_or(MathError::MathOverflow)?;
        let square = vb.checked_mul(vb).ok_or(MathError::TypeCastFailed)?;
        let v_fee = square
            .checked_mul(self.variable_fee_control as u128)
            .ok_or(MathError::MathOverflow)?;
        let v_fee = v_fee.checked_add(99_999_999_999).ok_or(MathError::MathOverflow)?;
        Ok(v_fee / 100_000_000_000)
    }

    /// Before a swap (`update_references`): with `elapsed = now − last_update_timestamp` (saturating at 0),
    /// if `elapsed >= filter_period` the reference price becomes the current price and the volatility reference
    /// becomes `floor(accumulator · reduction_factor / 10 000)` if `elapsed < decay_period`, else 0.
    ///
    /// # Errors
    /// [`MathError::MathOverflow`] if `accumulator · reduction_factor` overflows.
    pub fn update_references(&mut self, sqrt_price_current: u128, current_timestamp: u64) -> Result<()> {
        let elapsed = current_timestamp.saturating_sub(self.last_update_timestamp);
        if elapsed >= self.filter_period as u64 {
            self.sqrt_price_reference = sqrt_price_current;
            self.volatility_reference = if elapsed < self.decay_period as u64 {
                self.volatility_accumulator
                    .checked_mul(self.reduction_factor as u128)
                    .ok_or(MathError::MathOverflow)?
                    / MAX_BASIS_POINT as u128
            } else {
                0
            };
        }
        Ok(())
    }

    /// After a swap (`update_volatility_accumulator`):
    /// `accumulator = min(volatility_reference + delta_bin_id(√P, reference) · 10 000, max_volatility_accumulator)`.
    ///
    /// # Errors
    /// Those of [`delta_bin_id`]; [`MathError::MathOverflow`] on overflow.
    pub fn update_volatility_accumulator(&mut self, sqrt_price: u128) -> Result<()> {
        let delta = delta_bin_id(self.bin_step_u128, sqrt_price, self.sqrt_price_reference)?;
        let va = delta
            .checked_mul(MAX_BASIS_POINT as u128)
            .and_then(|x| x.checked_add(self.volatility_reference))
            .ok_or(MathError::MathOverflow)?;
        self.volatility_accumulator = va.min(self.max_volatility_accumulator as u128);
        Ok(())
    }

    /// Everything after a swap (`Pool::update_post_swap`): the accumulator from the new price, then
    /// `last_update_timestamp = now` if the swap moved the price by at least one bin. No-op when disabled.
    ///
    /// # Errors
    /// Those of [`Self::update_volatility_accumulator`] and [`delta_bin_id`].
    pub fn update_post_swap(&mut self, old_sqrt_price: u128, new_sqrt_price: u128, now: u64) -> Result<()> {
        if !self.initialized {
            return Ok(());
        }
        self.update_volatility_accumulator(new_sqrt_price)?;
        if delta_bin_id(self.bin_step_u128, old_sqrt_price, new_sqrt_price)? > 0 {
            self.last_update_timestamp = now;
        }
        Ok(())
    }

    /// Everything before a swap (`Pool::update_pre_swap`): [`Self::update_references`] when enabled.
    ///
    /// # Errors
    /// Those of [`Self::update_references`].
    pub fn update_pre_swap(&mut self, sqrt_price: u128, now: u64) -> Result<()> {
        if self.initialized {
            self.update_references(sqrt_price, now)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fee() -> DynamicFee {
        DynamicFee {
            initialized: true,
            max_volatility_accumulator: 14_460_000,
            variable_fee_control: 40_000,
            bin_step: 1,
            filter_period: 10,
            decay_period: 120,
            reduction_factor: 5_000,
            bin_step_u128: BIN_STEP_BPS_U128_DEFAULT,
            ..DynamicFee::default()
        }
    }

    #[test]
    fn delta_bin_counts_doubled_sqrt_steps() {
        let p = ONE_Q64;
        assert_eq!(delta_bin_id(BIN_STEP_BPS_U128_DEFAULT, p, p), Ok(0));
        // √P up by 0.1 %: ratio − 2^64 = floor(2^64 / 1000) = 18446744073709551, over the 1 bps step
        // 1844674407370955 gives 10 sqrt-price bins, doubled to 20 price bins.
        let up = p + p / 1000;
        assert_eq!(delta_bin_id(BIN_STEP_BPS_U128_DEFAULT, up, p), Ok(20));
        assert_eq!(delta_bin_id(BIN_STEP_BPS_U128_DEFAULT, p, up), Ok(20));
        assert_eq!(
            delta_bin_id(BIN_STEP_BPS_U128_DEFAULT, p, 0),
            Err(MathError::MathOverflow)
        );
        assert_eq!(delta_bin_id(0, up, p), Err(MathError::MathOverflow));
    }

    #[test]
    fn variable_fee_is_ceil_of_scaled_square() {
        let mut f = fee();
        f.volatility_accumulator = 10_000; // one bin
                                           // (10_000·1)² · 40_000 / 1e11 = 40 exactly.
        assert_eq!(f.variable_fee(), Ok(40));
        f.volatility_accumulator = 10_001;
        // 100_020_001 · 40_000 = 4_000_800_040_000 → /1e11 = 40.0080004 → 41.
        assert_eq!(f.variable_fee(), Ok(41));
        f.initialized = false;
        assert_eq!(f.variable_fee(), Ok(0));
        let mut g = fee();
        g.volatility_accumulator = u128::MAX;
        assert_eq!(g.variable_fee(), Err(MathError::TypeCastFailed));
    }

    #[test]
    fn references_follow_filter_and_decay() {
        let mut f = fee();
        f.volatility_accumulator = 30_000;
        f.last_update_timestamp = 1_000;
        // Within the filter period: nothing changes.
        f.update_references(5, 1_005).unwrap();
        assert_eq!((f.sqrt_price_reference, f.volatility_reference), (0, 0));
        // Between filter and decay: reference price moves, volatility reference decays by half.
        f.update_references(7, 1_050).unwrap();
        assert_eq!((f.sqrt_price_reference, f.volatility_reference), (7, 15_000));
        // Past decay: reset.
        f.update_references(9, 2_000).unwrap();
        assert_eq!((f.sqrt_price_reference, f.volatility_reference), (9, 0));
        // A clock running backwards saturates to elapsed 0 (within the filter period).
        f.update_references(11, 0).unwrap();
        assert_eq!(f.sqrt_price_reference, 9);
    }

    #[test]
    fn accumulator_after_swap_is_capped() {
        let mut f = fee();
        f.sqrt_price_reference = ONE_Q64;
        f.volatility_reference = 5;
        f.update_post_swap(ONE_Q64, ONE_Q64 + ONE_Q64 / 1000, 77).unwrap();
        assert_eq!(f.volatility_accumulator, 20 * 10_000 + 5);
        assert_eq!(f.last_update_timestamp, 77);
        // No bin moved: the accumulator falls back to the reference and the timestamp stays.
        f.update_post_swap(ONE_Q64, ONE_Q64, 99).unwrap();
        assert_eq!(f.volatility_accumulator, 5);
        assert_eq!(f.last_update_timestamp, 77);
        // The cap.
        f.max_volatility_accumulator = 100;
        f.update_post_swap(ONE_Q64, ONE_Q64 + ONE_Q64 / 1000, 99).unwrap();
        assert_eq!(f.volatility_accumulator, 100);
    }

    #[test]
    fn validation_rules() {
        let f = fee();
        assert_eq!(f.validate(), Ok(()));
        for bad in [
            DynamicFee { bin_step: 2, ..f },
            DynamicFee {
                bin_step_u128: BIN_STEP_BPS_U128_DEFAULT + 1,
                ..f
            },
            DynamicFee {
                filter_period: 120,
                ..f
            },
            DynamicFee {
                reduction_factor: 10_001,
                ..f
            },
            DynamicFee {
                variable_fee_control: U24_MAX + 1,
                ..f
            },
            DynamicFee {
                max_volatility_accumulator: U24_MAX + 1,
                ..f
            },
        ] {
            assert_eq!(bad.validate(), Err(MathError::InvalidInput));
        }
        assert_eq!(
            DynamicFee {
                filter_period: 0,
                ..f
            }
            .validate(),
            Ok(())
        );
    }
}
