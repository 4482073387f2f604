//! A position's share of the claiming fees (DAMM v2 `Position::update_fee`).

use crate::{
    wide::{narrow, to_u128, U256, U512},
    MathError, Result,
};

/// Fees a position has earned but not claimed, with its accumulator checkpoints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PositionFees {
    /// Accumulator of token A fees at the last update, 2^128-scaled.
    pub fee_a_per_liquidity_checkpoint: U256,
    /// Accumulator of token B fees at the last update, 2^128-scaled.
    pub fee_b_per_liquidity_checkpoint: U256,
    /// Token A fees owed, atoms.
    pub fee_a_pending: u128,
    /// Token B fees owed, atoms.
    pub fee_b_pending: u128,
}

/// `floor(L_pos · (acc − checkpoint) / 2^shift)` in 512 bits, as an amount.
///
/// # Errors
/// [`MathError::MathOverflow`] if `acc < checkpoint`; [`MathError::TypeCastFailed`] if the amount exceeds `u128`.
pub fn accrued(liquidity: U256, acc: U256, checkpoint: U256, shift: usize) -> Result<u128> {
    let delta = acc.checked_sub(checkpoint).ok_or(MathError::MathOverflow)?;
    let product: U512 = liquidity.widening_mul(delta);
    to_u128(narrow(product >> shift).ok_or(MathError::TypeCastFailed)?)
}

impl PositionFees {
    /// Accrues fees up to the pool's accumulators (`update_fee`): if `L_pos > 0`,
    /// `pending += floor(L_pos · (acc − checkpoint) / 2^128)` per token; then the checkpoints move to the
    /// accumulators (also when `L_pos == 0`).
    ///
    /// # Errors
    /// Those of [`accrued`]; [`MathError::MathOverflow`] if a pending amount overflows.
    pub fn update(
        &mut self,
        position_liquidity: U256,
        fee_a_per_liquidity: U256,
        fee_b_per_liquidity: U256,
    ) -> Result<()> {
        if !position_liquidity.is_zero() {
            let a = accrued(
                position_liquidity,
                fee_a_per_liquidity,
                self.fee_a_per_liquidity_checkpoint,
                128,
            )?;
            let b = accrued(
                position_liquidity,
                fee_b_per_liquidity,
                self.fee_b_per_liquidity_checkpoint,
                128,
            )?;
            self.fee_a_pending = self.fee_a_pending.checked_add(a).ok_or(MathError::MathOverflow)?;
            self.fee_b_pending = self.fee_b_pending.checked_add(b).ok_or(MathError::MathOverflow)?;
        }
        self.fee_a_per_liquidity_checkpoint = fee_a_per_liquidity;
        self.fee_b_per_liquidity_checkpoint = fee_b_per_liquidity;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wide::u256;

    #[test]
    fn accrues_pro_rata_and_truncates() {
        let mut p = PositionFees::default();
        // Accumulator: 3 atoms per unit of raw liquidity → L_pos = 2^64·5 real... use raw L = 7.
        let acc = u256(3) << 128;
        p.update(U256::from(7u8), acc, acc >> 1).unwrap();
        assert_eq!((p.fee_a_pending, p.fee_b_pending), (21, 10));
        assert_eq!(p.fee_a_per_liquidity_checkpoint, acc);
        // No new fees: nothing more.
        p.update(U256::from(7u8), acc, acc >> 1).unwrap();
        assert_eq!(p.fee_a_pending, 21);
        // A checkpoint above the accumulator is corrupt state.
        assert_eq!(
            p.update(U256::from(1u8), U256::ZERO, U256::ZERO),
            Err(MathError::MathOverflow)
        );
    }
}
