//! Concentrated-liquidity curve math (DAMM v2 `liquidity_handler/concentrated_liquidity.rs`).
//!
//! State: sqrt price `√P` (Q64.64), liquidity `L` (2^64-scaled), range `[√Pmin, √Pmax]`.
//! Token A is the base (`Δa = L·Δ√P / (√P_lower·√P_upper)`), token B the quote (`Δb = L·Δ√P / 2^128`).
//! Rounding always favours the pool: what the user pays rounds up, what the pool pays rounds down, and the
//! price moves in the direction that gives the pool the better side.

use crate::{
    wide::{div_rem, div_round, mul_div_u256, to_u128, u256, Rounding, U256},
    MathError, Result,
};

/// Result of a swap leg driven by an input amount.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SwapAmountFromInput {
    /// Amount the pool pays out (before any fee on output).
    pub output_amount: u128,
    /// Sqrt price after the leg (0 for compounding pools, whose price is re-derived from reserves).
    pub next_sqrt_price: u128,
    /// Input not consumed (partial fill only).
    pub amount_left: u128,
}

/// Result of a swap leg driven by an output amount.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SwapAmountFromOutput {
    /// Amount the user must pay in (before any fee on input).
    pub input_amount: u128,
    /// Sqrt price after the leg (0 for compounding pools).
    pub next_sqrt_price: u128,
}

/// `Δa = round(L · (upper − lower) / (lower · upper))` as a 256-bit value (`get_delta_amount_a_unsigned_unchecked`).
///
/// Units: token A atoms. `L·Δ√P` is a 512-bit product.
///
/// # Errors
/// [`MathError::MathOverflow`] if `lower > upper` (DAMM v2 panics) or the quotient exceeds 256 bits;
/// [`MathError::InvalidInput`] if `lower == 0` (DAMM v2 asserts).
pub fn delta_a_unchecked(lower: u128, upper: u128, liquidity: U256, rounding: Rounding) -> Result<U256> {
    let diff = upper.checked_sub(lower).ok_or(MathError::MathOverflow)?;
    if lower == 0 {
        return Err(MathError::InvalidInput);
    }
    // cannot overflow: both factors are below 2^128.
    let denominator = u256(lower) * u256(upper);
    mul_div_u256(liquidity, u256(diff), denominator, rounding).ok_or(MathError::MathOverflow)
}

/// `Δa` as an amount (`get_delta_amount_a_unsigned`): [`delta_a_unchecked`] guarded at `u128::MAX`.
///
/// # Errors
/// As [`delta_a_unchecked`]; [`MathError::MathOverflow`] if the amount exceeds `u128::MAX`.
pub fn delta_a(lower: u128, upper: u128, liquidity: U256, rounding: Rounding) -> Result<u128> {
    to_u128(delta_a_unchecked(lower, upper, liquidity, rounding)?).map_err(|_| MathError::MathOverflow)
}

/// `Δb = round(L · (upper − lower) / 2^128)` as a 256-bit value (`get_delta_amount_b_unsigned_unchecked`).
///
/// Units: token B atoms. `Up` = ceil, `Down` = floor (`>> 128`).
///
/// # Errors
/// [`MathError::MathOverflow`] if `lower > upper` or `L · (upper − lower)` exceeds 256 bits.
pub fn delta_b_unchecked(lower: u128, upper: u128, liquidity: U256, rounding: Rounding) -> Result<U256> {
    let diff = upper.checked_sub(lower).ok_or(MathError::MathOverflow)?;
    let product = liquidity.checked_mul(u256(diff)).ok_or(MathError::MathOverflow)?;
    let floor = product >> 128;
    let exact = (floor << 128) == product;
    Ok(if rounding == Rounding::Up && !exact {
        floor + U256::from(1u8)
    } else {
        floor
    })
}

/// `Δb` as an amount (`get_delta_amount_b_unsigned`): [`delta_b_unchecked`] guarded at `u128::MAX`.
///
/// # Errors
/// As [`delta_b_unchecked`]; [`MathError::MathOverflow`] if the amount exceeds `u128::MAX`.
pub fn delta_b(lower: u128, upper: u128, liquidity: U256, rounding: Rounding) -> Result<u128> {
    to_u128(delta_b_unchecked(lower, upper, liquidity, rounding)?).map_err(|_| MathError::MathOverflow)
}

fn check_price_and_liquidity(sqrt_price: u128, liquidity: U256) -> Result<()> {
    if sqrt_price == 0 || liquidity.is_zero() {
        return Err(MathError::InvalidInput);
    }
    Ok(())
}

/// Next sqrt price after `amount_in` enters the pool (`get_next_sqrt_price_from_input`).
///
/// `a_to_b`: token A in, price falls, [`next_sqrt_price_from_amount_in_a`] (rounded up);
/// otherwise token B in, price rises, [`next_sqrt_price_from_amount_in_b`] (rounded down).
/// A zero amount leaves the price unchanged.
///
/// # Errors
/// [`MathError::InvalidInput`] if `sqrt_price == 0` or `liquidity == 0` (DAMM v2 asserts); those of the legs.
pub fn next_sqrt_price_from_input(
    sqrt_price: u128,
    liquidity: U256,
    amount_in: u128,
    a_to_b: bool,
) -> Result<u128> {
    check_price_and_liquidity(sqrt_price, liquidity)?;
    if amount_in == 0 {
        return Ok(sqrt_price);
    }
    if a_to_b {
        next_sqrt_price_from_amount_in_a(sqrt_price, liquidity, amount_in)
    } else {
        next_sqrt_price_from_amount_in_b(sqrt_price, liquidity, amount_in)
    }
}

/// Next sqrt price after `amount_out` leaves the pool (`get_next_sqrt_price_from_output`).
///
/// `a_to_b`: the user receives token B, price falls, [`next_sqrt_price_from_amount_out_b`] (rounded down);
/// otherwise the user receives token A, price rises, [`next_sqrt_price_from_amount_out_a`] (rounded up).
///
/// # Errors
/// [`MathError::InvalidInput`] if `sqrt_price == 0` or `liquidity == 0`; those of the legs.
pub fn next_sqrt_price_from_output(
    sqrt_price: u128,
    liquidity: U256,
    amount_out: u128,
    a_to_b: bool,
) -> Result<u128> {
    check_price_and_liquidity(sqrt_price, liquidity)?;
    if amount_out == 0 {
        return Ok(sqrt_price);
    }
    if a_to_b {
        next_sqrt_price_from_amount_out_b(sqrt_price, liquidity, amount_out)
    } else {
        next_sqrt_price_from_amount_out_a(sqrt_price, liquidity, amount_out)
    }
}

/// `√P' = ceil(L·√P / (L + Δa·√P))`: token A in (`get_next_sqrt_price_from_amount_in_a_rounding_up`).
///
/// Rounded up, so the price falls a little less than exact (favours the pool).
///
/// # Errors
/// [`MathError::MathOverflow`] if `L + Δa·√P` exceeds 256 bits or the quotient does;
/// [`MathError::TypeCastFailed`] if `√P'` exceeds `u128`.
pub fn next_sqrt_price_from_amount_in_a(sqrt_price: u128, liquidity: U256, amount: u128) -> Result<u128> {
    // cannot overflow: both factors are below 2^128.
    let product = u256(amount) * u256(sqrt_price);
    let denominator = liquidity.checked_add(product).ok_or(MathError::MathOverflow)?;
    let next = mul_div_u256(liquidity, u256(sqrt_price), denominator, Rounding::Up)
        .ok_or(MathError::MathOverflow)?;
    to_u128(next)
}

/// `√P' = ceil(L·√P / (L − Δa·√P))`: token A out (`get_next_sqrt_price_from_amount_out_a_rounding_up`).
///
/// # Errors
/// [`MathError::MathOverflow`] if `Δa·√P >= L` (the pool cannot pay that much A);
/// [`MathError::TypeCastFailed`] if `√P'` exceeds `u128`.
pub fn next_sqrt_price_from_amount_out_a(sqrt_price: u128, liquidity: U256, amount: u128) -> Result<u128> {
    let product = u256(amount) * u256(sqrt_price);
    let denominator = liquidity.checked_sub(product).ok_or(MathError::MathOverflow)?;
    let next = mul_div_u256(liquidity, u256(sqrt_price), denominator, Rounding::Up)
        .ok_or(MathError::MathOverflow)?;
    to_u128(next)
}

/// `√P' = √P + floor(Δb·2^128 / L)`: token B in (`get_next_sqrt_price_from_amount_in_b_rounding_down`).
///
/// Rounded down, so the price rises a little less than exact (favours the pool).
///
/// # Errors
/// [`MathError::MathOverflow`] if `L == 0`; [`MathError::TypeCastFailed`] if `√P'` exceeds `u128`.
pub fn next_sqrt_price_from_amount_in_b(sqrt_price: u128, liquidity: U256, amount: u128) -> Result<u128> {
    if liquidity.is_zero() {
        return Err(MathError::MathOverflow);
    }
    let (quotient, _) = div_rem(u256(amount) << 128usize, liquidity).ok_or(MathError::MathOverflow)?;
    // cannot overflow: quotient < 2^256 - 2^128 unless L == 1, and then the sum is checked.
    let next = u256(sqrt_price)
        .checked_add(quotient)
        .ok_or(MathError::MathOverflow)?;
    to_u128(next)
}

/// `√P' = √P − ceil(Δb·2^128 / L)`: token B out (`get_next_sqrt_price_from_amount_out_b_rounding_down`).
///
/// # Errors
/// [`MathError::MathOverflow`] if `L == 0` or the quotient exceeds `√P`.
pub fn next_sqrt_price_from_amount_out_b(sqrt_price: u128, liquidity: U256, amount: u128) -> Result<u128> {
    if liquidity.is_zero() {
        return Err(MathError::MathOverflow);
    }
    let numerator = u256(amount) << 128usize;
    let quotient = div_round(numerator, liquidity, Rounding::Up).ok_or(MathError::MathOverflow)?;
    let next = u256(sqrt_price)
        .checked_sub(quotient)
        .ok_or(MathError::MathOverflow)?;
    to_u128(next)
}

/// The concentrated-liquidity state a swap leg works on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Concentrated {
    /// Current sqrt price, Q64.64.
    pub sqrt_price: u128,
    /// Active liquidity, 2^64-scaled.
    pub liquidity: U256,
    /// Lower end of the range, Q64.64.
    pub sqrt_min_price: u128,
    /// Upper end of the range, Q64.64.
    pub sqrt_max_price: u128,
}

impl Concentrated {
    /// Token A in, exact: `√P'` from input, then `out = Δb(√P', √P, L, Down)` (`calculate_a_to_b_from_amount_in`).
    ///
    /// # Errors
    /// [`MathError::PriceRangeViolation`] if `√P' < √Pmin`; those of the formulas.
    pub fn a_to_b_from_amount_in(&self, amount_in: u128) -> Result<SwapAmountFromInput> {
        let next = next_sqrt_price_from_input(self.sqrt_price, self.liquidity, amount_in, true)?;
        if next < self.sqrt_min_price {
            return Err(MathError::PriceRangeViolation);
        }
        let output_amount = delta_b(next, self.sqrt_price, self.liquidity, Rounding::Down)?;
        Ok(SwapAmountFromInput {
            output_amount,
            next_sqrt_price: next,
            amount_left: 0,
        })
    }

    /// Token B in, exact: `√P'` from input, then `out = Δa(√P, √P', L, Down)` (`calculate_b_to_a_from_amount_in`).
    ///
    /// # Errors
    /// [`MathError::PriceRangeViolation`] if `√P' > √Pmax`; those of the formulas.
    pub fn b_to_a_from_amount_in(&self, amount_in: u128) -> Result<SwapAmountFromInput> {
        let next = next_sqrt_price_from_input(self.sqrt_price, self.liquidity, amount_in, false)?;
        if next > self.sqrt_max_price {
            return Err(MathError::PriceRangeViolation);
        }
        let output_amount = delta_a(self.sqrt_price, next, self.liquidity, Rounding::Down)?;
        Ok(SwapAmountFromInput {
            output_amount,
            next_sqrt_price: next,
            amount_left: 0,
        })
    }

    /// Token A in, partial fill: consumes at most `Δa(√Pmin, √P, L, Up)` and stops at `√Pmin`
    /// (`calculate_a_to_b_from_partial_amount_in`).
    ///
    /// # Errors
    /// Those of the formulas.
    pub fn a_to_b_from_partial_amount_in(&self, amount_in: u128) -> Result<SwapAmountFromInput> {
        // Beyond 256 bits the capacity is certainly above any u128 input (DAMM v2's domain never gets there).
        let max_in =
            match delta_a_unchecked(self.sqrt_min_price, self.sqrt_price, self.liquidity, Rounding::Up) {
                Err(MathError::MathOverflow) if self.sqrt_min_price <= self.sqrt_price => U256::MAX,
                other => other?,
            };
        let (consumed, next) = if u256(amount_in) >= max_in {
            (to_u128(max_in)?, self.sqrt_min_price)
        } else {
            (
                amount_in,
                next_sqrt_price_from_input(self.sqrt_price, self.liquidity, amount_in, true)?,
            )
        };
        let output_amount = delta_b(next, self.sqrt_price, self.liquidity, Rounding::Down)?;
        let amount_left = amount_in.checked_sub(consumed).ok_or(MathError::MathOverflow)?;
        Ok(SwapAmountFromInput {
            output_amount,
            next_sqrt_price: next,
            amount_left,
        })
    }

    /// Token B in, partial fill: consumes at most `Δb(√P, √Pmax, L, Up)` and stops at `√Pmax`
    /// (`calculate_b_to_a_from_partial_amount_in`).
    ///
    /// # Errors
    /// Those of the formulas.
    pub fn b_to_a_from_partial_amount_in(&self, amount_in: u128) -> Result<SwapAmountFromInput> {
        let max_in =
            match delta_b_unchecked(self.sqrt_price, self.sqrt_max_price, self.liquidity, Rounding::Up) {
                Err(MathError::MathOverflow) if self.sqrt_price <= self.sqrt_max_price => U256::MAX,
                other => other?,
            };
        let (consumed, next) = if u256(amount_in) >= max_in {
            (to_u128(max_in)?, self.sqrt_max_price)
        } else {
            (
                amount_in,
                next_sqrt_price_from_input(self.sqrt_price, self.liquidity, amount_in, false)?,
            )
        };
        let output_amount = delta_a(self.sqrt_price, next, self.liquidity, Rounding::Down)?;
        let amount_left = amount_in.checked_sub(consumed).ok_or(MathError::MathOverflow)?;
        Ok(SwapAmountFromInput {
            output_amount,
            next_sqrt_price: next,
            amount_left,
        })
    }

    /// Token B out, exact: `√P'` from output, then `in = Δa(√P', √P, L, Up)` (`calculate_a_to_b_from_amount_out`).
    ///
    /// # Errors
    /// [`MathError::PriceRangeViolation`] if `√P' < √Pmin`; those of the formulas.
    pub fn a_to_b_from_amount_out(&self, amount_out: u128) -> Result<SwapAmountFromOutput> {
        let next = next_sqrt_price_from_output(self.sqrt_price, self.liquidity, amount_out, true)?;
        if next < self.sqrt_min_price {
            return Err(MathError::PriceRangeViolation);
        }
        let input_amount = delta_a(next, self.sqrt_price, self.liquidity, Rounding::Up)?;
        Ok(SwapAmountFromOutput {
            input_amount,
            next_sqrt_price: next,
        })
    }

    /// Token A out, exact: `√P'` from output, then `in = Δb(√P, √P', L, Up)` (`calculate_b_to_a_from_amount_out`).
    ///
    /// # Errors
    /// [`MathError::PriceRangeViolation`] if `√P' > √Pmax`; those of the formulas.
    pub fn b_to_a_from_amount_out(&self, amount_out: u128) -> Result<SwapAmountFromOutput> {
        let next = next_sqrt_price_from_output(self.sqrt_price, self.liquidity, amount_out, false)?;
        if next > self.sqrt_max_price {
            return Err(MathError::PriceRangeViolation);
        }
        let input_amount = delta_b(self.sqrt_price, next, self.liquidity, Rounding::Up)?;
        Ok(SwapAmountFromOutput {
            input_amount,
            next_sqrt_price: next,
        })
    }

    /// Token amounts backing `liquidity_delta` at the current price (`get_amounts_for_modify_liquidity`):
    /// `(Δa(√P, √Pmax, ΔL), Δb(√Pmin, √P, ΔL))`, rounded up for deposits and down for withdrawals.
    ///
    /// # Errors
    /// Those of [`delta_a`] and [`delta_b`].
    pub fn amounts_for_liquidity(&self, liquidity_delta: U256, rounding: Rounding) -> Result<(u128, u128)> {
        let a = delta_a(self.sqrt_price, self.sqrt_max_price, liquidity_delta, rounding)?;
        let b = delta_b(self.sqrt_min_price, self.sqrt_price, liquidity_delta, rounding)?;
        Ok((a, b))
    }

    /// Reserves implied by the curve, rounded up (`get_reserves_amount`): the amounts backing the whole `L`.
    ///
    /// # Errors
    /// Those of [`delta_a`] and [`delta_b`].
    pub fn reserves(&self) -> Result<(u128, u128)> {
        self.amounts_for_liquidity(self.liquidity, Rounding::Up)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::constants::{MAX_SQRT_PRICE, MIN_SQRT_PRICE, ONE_Q64};

    const Q64: u128 = ONE_Q64;

    fn l(real: u128) -> U256 {
        u256(real) << 64
    }

    #[test]
    fn delta_b_is_liquidity_times_price_step() {
        // L = 1000 (real), √P from 1.0 to 2.0: Δb = 1000 exactly.
        assert_eq!(delta_b(Q64, 2 * Q64, l(1000), Rounding::Down), Ok(1000));
        assert_eq!(delta_b(Q64, 2 * Q64, l(1000), Rounding::Up), Ok(1000));
        // From 1.0 to 1.5 with L = 3: 1.5 exactly → floor 1, ceil 2.
        assert_eq!(delta_b(Q64, Q64 + Q64 / 2, l(3), Rounding::Down), Ok(1));
        assert_eq!(delta_b(Q64, Q64 + Q64 / 2, l(3), Rounding::Up), Ok(2));
        assert_eq!(
            delta_b(2 * Q64, Q64, l(1), Rounding::Down),
            Err(MathError::MathOverflow)
        );
    }

    #[test]
    fn delta_a_is_liquidity_over_price_product() {
        // L = 1000, √P 1.0 → 2.0: Δa = 1000 · (1/1 − 1/2) = 500.
        assert_eq!(delta_a(Q64, 2 * Q64, l(1000), Rounding::Down), Ok(500));
        // L = 1001: 500.5 → 500 / 501.
        assert_eq!(delta_a(Q64, 2 * Q64, l(1001), Rounding::Down), Ok(500));
        assert_eq!(delta_a(Q64, 2 * Q64, l(1001), Rounding::Up), Ok(501));
        assert_eq!(
            delta_a(2 * Q64, Q64, l(1), Rounding::Down),
            Err(MathError::MathOverflow)
        );
        assert_eq!(
            delta_a(0, Q64, l(1), Rounding::Down),
            Err(MathError::InvalidInput)
        );
    }

    #[test]
    fn delta_guards_amounts_at_u128_max() {
        let huge = U256::MAX >> 1;
        assert_eq!(
            delta_b(MIN_SQRT_PRICE, MAX_SQRT_PRICE, huge, Rounding::Down),
            Err(MathError::MathOverflow)
        );
        assert_eq!(
            delta_a(MIN_SQRT_PRICE, MAX_SQRT_PRICE, huge, Rounding::Down),
            Err(MathError::MathOverflow)
        );
    }

    #[test]
    fn next_price_from_b_input_adds_amount_over_liquidity() {
        // L = 100, 50 B in: √P rises by 0.5.
        assert_eq!(
            next_sqrt_price_from_input(Q64, l(100), 50, false),
            Ok(Q64 + Q64 / 2)
        );
        // 1 B in with L = 3: rises by floor(2^64/3).
        assert_eq!(next_sqrt_price_from_input(Q64, l(3), 1, false), Ok(Q64 + Q64 / 3));
    }

    #[test]
    fn next_price_from_a_input_rounds_up() {
        // L = 100, √P = 1, 100 A in: √P' = 100 / (100 + 100) = 0.5 exactly.
        assert_eq!(next_sqrt_price_from_input(Q64, l(100), 100, true), Ok(Q64 / 2));
        // L = 3, 1 A in: √P' = 3/4 exactly; L = 1, 2 A in: 1/3, rounded up.
        assert_eq!(next_sqrt_price_from_input(Q64, l(3), 1, true), Ok(3 * Q64 / 4));
        assert_eq!(next_sqrt_price_from_input(Q64, l(1), 2, true), Ok(Q64 / 3 + 1));
    }

    #[test]
    fn next_price_from_output() {
        // L = 100, 50 B out: √P falls by 0.5.
        assert_eq!(next_sqrt_price_from_output(Q64, l(100), 50, true), Ok(Q64 / 2));
        // L = 100, 50 A out: √P' = 100 / (100 − 50) = 2.
        assert_eq!(next_sqrt_price_from_output(Q64, l(100), 50, false), Ok(2 * Q64));
        // More A out than the curve holds.
        assert_eq!(
            next_sqrt_price_from_output(Q64, l(100), 100, false),
            Err(MathError::MathOverflow)
        );
        assert_eq!(
            next_sqrt_price_from_output(Q64, l(100), 101, true),
            Err(MathError::MathOverflow)
        );
    }

    #[test]
    fn zero_price_or_liquidity_is_invalid_input() {
        assert_eq!(
            next_sqrt_price_from_input(0, l(1), 0, true),
            Err(MathError::InvalidInput)
        );
        assert_eq!(
            next_sqrt_price_from_output(Q64, U256::ZERO, 0, true),
            Err(MathError::InvalidInput)
        );
    }

    #[test]
    fn swap_legs_respect_the_range() {
        let pool = Concentrated {
            sqrt_price: Q64,
            liquidity: l(100),
            sqrt_min_price: Q64 / 2,
            sqrt_max_price: 2 * Q64,
        };
        // 100 A moves √P to exactly 0.5 (allowed), 101 beyond.
        let r = pool.a_to_b_from_amount_in(100).unwrap();
        assert_eq!(r.next_sqrt_price, Q64 / 2);
        assert_eq!(r.output_amount, 50);
        assert_eq!(
            pool.a_to_b_from_amount_in(101),
            Err(MathError::PriceRangeViolation)
        );
        // 100 B moves √P to exactly 2.0; out = Δa(1, 2) = 50.
        let r = pool.b_to_a_from_amount_in(100).unwrap();
        assert_eq!((r.output_amount, r.next_sqrt_price), (50, 2 * Q64));
        assert_eq!(
            pool.b_to_a_from_amount_in(101),
            Err(MathError::PriceRangeViolation)
        );
        // Partial fills stop at the edge and report the rest.
        let r = pool.a_to_b_from_partial_amount_in(150).unwrap();
        assert_eq!(
            (r.output_amount, r.next_sqrt_price, r.amount_left),
            (50, Q64 / 2, 50)
        );
        let r = pool.b_to_a_from_partial_amount_in(130).unwrap();
        assert_eq!(
            (r.output_amount, r.next_sqrt_price, r.amount_left),
            (50, 2 * Q64, 30)
        );
        // Exact out.
        let r = pool.a_to_b_from_amount_out(50).unwrap();
        assert_eq!((r.input_amount, r.next_sqrt_price), (100, Q64 / 2));
        let r = pool.b_to_a_from_amount_out(50).unwrap();
        assert_eq!((r.input_amount, r.next_sqrt_price), (100, 2 * Q64));
        assert_eq!(
            pool.a_to_b_from_amount_out(51),
            Err(MathError::PriceRangeViolation)
        );
    }

    #[test]
    fn reserves_of_a_symmetric_range() {
        let pool = Concentrated {
            sqrt_price: Q64,
            liquidity: l(100),
            sqrt_min_price: Q64 / 2,
            sqrt_max_price: 2 * Q64,
        };
        assert_eq!(pool.reserves(), Ok((50, 50)));
    }
}
