//! Compounding (constant-product) mode (DAMM v2 `liquidity_handler/compounding_liquidity.rs`).
//!
//! The pool prices from its tracked reserves `a`, `b` (`a·b` constant across a swap); there is no range
//! (`√Pmin = 0`, `√Pmax = u128::MAX`) and the stored sqrt price is re-derived from the reserves after every swap,
//! always rounded down. Compounding fees join reserve B.

use crate::{
    constants::DEAD_LIQUIDITY,
    curve::{SwapAmountFromInput, SwapAmountFromOutput},
    wide::{div_rem, div_round, mul_div_u128, mul_div_u256, sqrt_u256, to_u128, u256, Rounding, U256},
    MathError, Result,
};

/// `√P = floor(sqrt(floor(b·2^128 / a)))`, Q64.64 (`get_sqrt_price_from_amounts`).
///
/// # Errors
/// [`MathError::MathOverflow`] if `a == 0`.
pub fn sqrt_price_from_amounts(token_a_amount: u128, token_b_amount: u128) -> Result<u128> {
    if token_a_amount == 0 {
        return Err(MathError::MathOverflow);
    }
    let (price, _) =
        div_rem(u256(token_b_amount) << 128usize, u256(token_a_amount)).ok_or(MathError::MathOverflow)?;
    // cannot fail: the root of a 256-bit value fits 128 bits.
    to_u128(sqrt_u256(price))
}

/// Initial reserve A for liquidity `L` at `√P`: `ceil(L / √P)` (`get_initial_token_a`), so `a ≈ L_real / √p`.
///
/// # Errors
/// [`MathError::MathOverflow`] if `√P == 0`; [`MathError::TypeCastFailed`] if `a` exceeds `u128`.
pub fn initial_token_a(sqrt_price: u128, liquidity: U256) -> Result<u128> {
    if sqrt_price == 0 {
        return Err(MathError::MathOverflow);
    }
    let a = div_round(liquidity, u256(sqrt_price), Rounding::Up).ok_or(MathError::MathOverflow)?;
    to_u128(a)
}

/// Initial reserve B for liquidity `L` at `√P`: `ceil(L·√P / 2^128)` (`get_initial_token_b`), so `b ≈ L_real·√p`.
///
/// # Errors
/// [`MathError::TypeCastFailed`] if `b` exceeds `u128`.
pub fn initial_token_b(sqrt_price: u128, liquidity: U256) -> Result<u128> {
    let b = mul_div_u256(
        liquidity,
        u256(sqrt_price),
        U256::from(1u8) << 128usize,
        Rounding::Up,
    )
    .ok_or(MathError::TypeCastFailed)?;
    to_u128(b)
}

/// The initial state of a compounding pool created with liquidity `L` at `√P`
/// (`CompoundingLiquidity::get_initial_pool_information`).
///
/// Returns `(a, b, stored √P, position liquidity)`: the reserves are rounded up, the stored price is re-derived
/// from them (floor), and the creating position gets `L − DEAD_LIQUIDITY` (the dead part stays in the pool).
///
/// # Errors
/// [`MathError::InvalidMinimumLiquidity`] unless `L > DEAD_LIQUIDITY`; those of the formulas.
pub fn initial_pool(sqrt_price: u128, liquidity: U256) -> Result<(u128, u128, u128, U256)> {
    if liquidity <= DEAD_LIQUIDITY {
        return Err(MathError::InvalidMinimumLiquidity);
    }
    let a = initial_token_a(sqrt_price, liquidity)?;
    let b = initial_token_b(sqrt_price, liquidity)?;
    let stored = sqrt_price_from_amounts(a, b)?;
    Ok((a, b, stored, liquidity - DEAD_LIQUIDITY))
}

/// The constant-product state a swap leg works on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Compounding {
    /// Reserve of token A, atoms.
    pub token_a_amount: u128,
    /// Reserve of token B, atoms.
    pub token_b_amount: u128,
    /// Pool liquidity (only used for adding/removing liquidity).
    pub liquidity: U256,
}

impl Compounding {
    /// Token A in: `out = floor(b·x / (a + x))`.
    ///
    /// # Errors
    /// [`MathError::MathOverflow`] if `a + x` overflows or is zero.
    pub fn a_to_b_from_amount_in(&self, amount_in: u128) -> Result<SwapAmountFromInput> {
        let divisor = self
            .token_a_amount
            .checked_add(amount_in)
            .ok_or(MathError::MathOverflow)?;
        let output_amount = mul_div_u128(self.token_b_amount, amount_in, divisor, Rounding::Down)?;
        Ok(SwapAmountFromInput {
            output_amount,
            next_sqrt_price: 0,
            amount_left: 0,
        })
    }

    /// Token B in: `out = floor(a·x / (b + x))`.
    ///
    /// # Errors
    /// [`MathError::MathOverflow`] if `b + x` overflows or is zero.
    pub fn b_to_a_from_amount_in(&self, amount_in: u128) -> Result<SwapAmountFromInput> {
        let divisor = self
            .token_b_amount
            .checked_add(amount_in)
            .ok_or(MathError::MathOverflow)?;
        let output_amount = mul_div_u128(self.token_a_amount, amount_in, divisor, Rounding::Down)?;
        Ok(SwapAmountFromInput {
            output_amount,
            next_sqrt_price: 0,
            amount_left: 0,
        })
    }

    /// Token B out: `in = ceil(a·y / (b − y))`.
    ///
    /// # Errors
    /// [`MathError::MathOverflow`] if `y >= b`.
    pub fn a_to_b_from_amount_out(&self, amount_out: u128) -> Result<SwapAmountFromOutput> {
        let divisor = self
            .token_b_amount
            .checked_sub(amount_out)
            .ok_or(MathError::MathOverflow)?;
        let input_amount = mul_div_u128(self.token_a_amount, amount_out, divisor, Rounding::Up)?;
        Ok(SwapAmountFromOutput {
            input_amount,
            next_sqrt_price: 0,
        })
    }

    /// Token A out: `in = ceil(b·y / (a − y))`.
    ///
    /// # Errors
    /// [`MathError::MathOverflow`] if `y >= a`.
    pub fn b_to_a_from_amount_out(&self, amount_out: u128) -> Result<SwapAmountFromOutput> {
        let divisor = self
            .token_a_amount
            .checked_sub(amount_out)
            .ok_or(MathError::MathOverflow)?;
        let input_amount = mul_div_u128(self.token_b_amount, amount_out, divisor, Rounding::Up)?;
        Ok(SwapAmountFromOutput {
            input_amount,
            next_sqrt_price: 0,
        })
    }

    /// Token amounts for `liquidity_delta`, pro rata: `(round(ΔL·a / L), round(ΔL·b / L))`.
    ///
    /// # Errors
    /// [`MathError::MathOverflow`] if `L == 0`; [`MathError::TypeCastFailed`] if an amount exceeds `u128`.
    pub fn amounts_for_liquidity(&self, liquidity_delta: U256, rounding: Rounding) -> Result<(u128, u128)> {
        let share = |reserve: u128| -> Result<u128> {
            if self.liquidity.is_zero() {
                return Err(MathError::MathOverflow);
            }
            let v = mul_div_u256(liquidity_delta, u256(reserve), self.liquidity, rounding)
                .ok_or(MathError::TypeCastFailed)?;
            to_u128(v)
        };
        Ok((share(self.token_a_amount)?, share(self.token_b_amount)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::constants::ONE_Q64;

    #[test]
    fn price_from_amounts_is_floor_root_of_ratio() {
        // b / a = 4 → √P = 2.
        assert_eq!(sqrt_price_from_amounts(100, 400), Ok(2 * ONE_Q64));
        assert_eq!(sqrt_price_from_amounts(7, 7), Ok(ONE_Q64));
        // b / a = 2: √2 · 2^64 = 26087635650665564424.699… → floor.
        assert_eq!(sqrt_price_from_amounts(1, 2), Ok(26_087_635_650_665_564_424));
        assert_eq!(sqrt_price_from_amounts(0, 2), Err(MathError::MathOverflow));
        assert_eq!(sqrt_price_from_amounts(5, 0), Ok(0));
    }

    #[test]
    fn constant_product_legs() {
        let pool = Compounding {
            token_a_amount: 1000,
            token_b_amount: 4000,
            liquidity: u256(2000) << 64,
        };
        // 1000 A in: out = 4000·1000/2000 = 2000.
        assert_eq!(pool.a_to_b_from_amount_in(1000).unwrap().output_amount, 2000);
        // 3 B in: out = floor(1000·3/4003) = 0.
        assert_eq!(pool.b_to_a_from_amount_in(3).unwrap().output_amount, 0);
        // 2000 B out: in = ceil(1000·2000/2000) = 1000.
        assert_eq!(pool.a_to_b_from_amount_out(2000).unwrap().input_amount, 1000);
        // 1 A out: in = ceil(4000·1/999) = 5.
        assert_eq!(pool.b_to_a_from_amount_out(1).unwrap().input_amount, 5);
        assert_eq!(pool.a_to_b_from_amount_out(4000), Err(MathError::MathOverflow));
        assert_eq!(pool.b_to_a_from_amount_out(1001), Err(MathError::MathOverflow));
    }

    #[test]
    fn initial_pool_locks_dead_liquidity_and_rederives_price() {
        let l = DEAD_LIQUIDITY * U256::from(10u8); // real liquidity 1000
        let (a, b, p, pos) = initial_pool(2 * ONE_Q64, l).unwrap();
        assert_eq!((a, b), (500, 2000));
        assert_eq!(p, 2 * ONE_Q64);
        assert_eq!(pos, l - DEAD_LIQUIDITY);
        assert_eq!(
            initial_pool(ONE_Q64, DEAD_LIQUIDITY),
            Err(MathError::InvalidMinimumLiquidity)
        );
    }

    #[test]
    fn liquidity_amounts_round_in_the_pool_favour() {
        let pool = Compounding {
            token_a_amount: 10,
            token_b_amount: 7,
            liquidity: U256::from(3u8),
        };
        assert_eq!(
            pool.amounts_for_liquidity(U256::from(1u8), Rounding::Up),
            Ok((4, 3))
        );
        assert_eq!(
            pool.amounts_for_liquidity(U256::from(1u8), Rounding::Down),
            Ok((3, 2))
        );
        let empty = Compounding {
            liquidity: U256::ZERO,
            ..pool
        };
        assert_eq!(
            empty.amounts_for_liquidity(U256::from(1u8), Rounding::Up),
            Err(MathError::MathOverflow)
        );
    }
}
