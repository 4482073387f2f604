//! Adding and removing liquidity, and a pool's initial state (DAMM v2 `get_amounts_for_modify_liquidity`,
//! `apply_add_liquidity`, `apply_remove_liquidity`, `get_initial_pool_information` and the pool validation of
//! `ix_initialize_*`).

use crate::{
    compounding,
    constants::{MAX_BASIS_POINT, MAX_SQRT_PRICE, MIN_SQRT_PRICE},
    curve::Concentrated,
    pool::{CollectFeeMode, PoolState},
    wide::{Rounding, U256},
    MathError, Result,
};

/// Whether liquidity is added (amounts rounded up) or removed (rounded down).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LiquidityAction {
    /// Deposit: the user pays, amounts round up.
    Add,
    /// Withdrawal: the pool pays, amounts round down.
    Remove,
}

impl LiquidityAction {
    const fn rounding(self) -> Rounding {
        match self {
            Self::Add => Rounding::Up,
            Self::Remove => Rounding::Down,
        }
    }
}

/// The initial state a pool is created with (`InitialPoolInformation`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InitialPool {
    /// Reserve of token A the creator deposits, atoms.
    pub token_a_amount: u128,
    /// Reserve of token B the creator deposits, atoms.
    pub token_b_amount: u128,
    /// The sqrt price stored (compounding: re-derived from the rounded reserves).
    pub sqrt_price: u128,
    /// Liquidity the creating position receives (compounding: minus the dead liquidity).
    pub position_liquidity: U256,
    /// Liquidity the pool holds.
    pub pool_liquidity: U256,
    /// Lower end of the range (compounding: 0).
    pub sqrt_min_price: u128,
    /// Upper end of the range (compounding: `u128::MAX`).
    pub sqrt_max_price: u128,
}

/// Validates a price range and initial price for a pool mode (`validate_initial_sqrt_price`, config checks).
///
/// Concentrated: `MIN_SQRT_PRICE <= √Pmin < √Pmax <= MAX_SQRT_PRICE` and `√P ∈ [√Pmin, √Pmax]`.
/// Compounding: the range must be `(0, u128::MAX)` and `√P ∈ [MIN_SQRT_PRICE, MAX_SQRT_PRICE]`.
///
/// # Errors
/// [`MathError::InvalidPriceRange`].
pub fn validate_price_range(
    mode: CollectFeeMode,
    sqrt_price: u128,
    sqrt_min: u128,
    sqrt_max: u128,
) -> Result<()> {
    let ok = match mode {
        CollectFeeMode::Compounding => {
            sqrt_min == 0 && sqrt_max == u128::MAX && (MIN_SQRT_PRICE..=MAX_SQRT_PRICE).contains(&sqrt_price)
        }
        _ => {
            MIN_SQRT_PRICE <= sqrt_min
                && sqrt_min < sqrt_max
                && sqrt_max <= MAX_SQRT_PRICE
                && (sqrt_min..=sqrt_max).contains(&sqrt_price)
        }
    };
    if ok {
        Ok(())
    } else {
        Err(MathError::InvalidPriceRange)
    }
}

/// Validates the compounding share for a pool mode: in `(0, 10 000]` for compounding pools, exactly 0 otherwise.
///
/// # Errors
/// [`MathError::InvalidCompoundingFeeBps`].
pub fn validate_compounding_fee_bps(mode: CollectFeeMode, compounding_fee_bps: u16) -> Result<()> {
    let ok = match mode {
        CollectFeeMode::Compounding => compounding_fee_bps > 0 && compounding_fee_bps <= MAX_BASIS_POINT,
        _ => compounding_fee_bps == 0,
    };
    if ok {
        Ok(())
    } else {
        Err(MathError::InvalidCompoundingFeeBps)
    }
}

/// The initial state of a pool created with liquidity `L` at `√P` (`get_initial_pool_information` plus the
/// creating instruction's checks).
///
/// Concentrated: `a = Δa(√P, √Pmax, L, Up)`, `b = Δb(√Pmin, √P, L, Up)`, the position gets all of `L`.
/// Compounding: see [`compounding::initial_pool`].
///
/// # Errors
/// [`MathError::InvalidPriceRange`]; [`MathError::InvalidMinimumLiquidity`] if `L == 0` (compounding: not above
/// the dead liquidity); [`MathError::AmountIsZero`] if both amounts are zero; those of the formulas.
pub fn initial_pool(
    mode: CollectFeeMode,
    sqrt_price: u128,
    liquidity: U256,
    sqrt_min: u128,
    sqrt_max: u128,
) -> Result<InitialPool> {
    validate_price_range(mode, sqrt_price, sqrt_min, sqrt_max)?;
    if liquidity.is_zero() {
        return Err(MathError::InvalidMinimumLiquidity);
    }
    let pool = match mode {
        CollectFeeMode::Compounding => {
            let (a, b, stored, position) = compounding::initial_pool(sqrt_price, liquidity)?;
            InitialPool {
                token_a_amount: a,
                token_b_amount: b,
                sqrt_price: stored,
                position_liquidity: position,
                pool_liquidity: liquidity,
                sqrt_min_price: 0,
                sqrt_max_price: u128::MAX,
            }
        }
        _ => {
            let curve = Concentrated {
                sqrt_price,
                liquidity,
                sqrt_min_price: sqrt_min,
                sqrt_max_price: sqrt_max,
            };
            let (a, b) = curve.reserves()?;
            InitialPool {
                token_a_amount: a,
                token_b_amount: b,
                sqrt_price,
                position_liquidity: liquidity,
                pool_liquidity: liquidity,
                sqrt_min_price: sqrt_min,
                sqrt_max_price: sqrt_max,
            }
        }
    };
    if pool.token_a_amount == 0 && pool.token_b_amount == 0 {
        return Err(MathError::AmountIsZero);
    }
    Ok(pool)
}

impl PoolState {
    /// Token amounts for a liquidity change (`get_amounts_for_modify_liquidity`): concentrated
    /// `(Δa(√P, √Pmax, ΔL), Δb(√Pmin, √P, ΔL))`; compounding `(ΔL·a/L, ΔL·b/L)`; rounded up to add, down to
    /// remove.
    ///
    /// # Errors
    /// Those of the formulas.
    pub fn amounts_for_modify_liquidity(
        &self,
        liquidity_delta: U256,
        action: LiquidityAction,
    ) -> Result<(u128, u128)> {
        match self.collect_fee_mode {
            CollectFeeMode::Compounding => self
                .compounding()
                .amounts_for_liquidity(liquidity_delta, action.rounding()),
            _ => self
                .concentrated()
                .amounts_for_liquidity(liquidity_delta, action.rounding()),
        }
    }

    /// Adds liquidity (`apply_add_liquidity`): returns the amounts the depositor pays (rounded up) and grows the
    /// pool's liquidity and reserves. All or nothing.
    ///
    /// # Errors
    /// [`MathError::InvalidParameters`] if `ΔL == 0`; [`MathError::AmountIsZero`] if both amounts are zero;
    /// [`MathError::MathOverflow`] on overflow.
    pub fn add_liquidity(&mut self, liquidity_delta: U256) -> Result<(u128, u128)> {
        if liquidity_delta.is_zero() {
            return Err(MathError::InvalidParameters);
        }
        let (a, b) = self.amounts_for_modify_liquidity(liquidity_delta, LiquidityAction::Add)?;
        if a == 0 && b == 0 {
            return Err(MathError::AmountIsZero);
        }
        let liquidity = self
            .liquidity
            .checked_add(liquidity_delta)
            .ok_or(MathError::MathOverflow)?;
        let ra = self
            .token_a_amount
            .checked_add(a)
            .ok_or(MathError::MathOverflow)?;
        let rb = self
            .token_b_amount
            .checked_add(b)
            .ok_or(MathError::MathOverflow)?;
        (self.liquidity, self.token_a_amount, self.token_b_amount) = (liquidity, ra, rb);
        Ok((a, b))
    }

    /// Removes liquidity (`apply_remove_liquidity`): returns the amounts paid out (rounded down) and shrinks the
    /// pool's liquidity and reserves. All or nothing.
    ///
    /// # Errors
    /// [`MathError::InsufficientLiquidity`] if `ΔL == 0` or `ΔL > L`; [`MathError::AmountIsZero`] if both amounts
    /// are zero; [`MathError::MathOverflow`] if a reserve would go negative.
    pub fn remove_liquidity(&mut self, liquidity_delta: U256) -> Result<(u128, u128)> {
        if liquidity_delta.is_zero() || liquidity_delta > self.liquidity {
            return Err(MathError::InsufficientLiquidity);
        }
        let (a, b) = self.amounts_for_modify_liquidity(liquidity_delta, LiquidityAction::Remove)?;
        if a == 0 && b == 0 {
            return Err(MathError::AmountIsZero);
        }
        let ra = self
            .token_a_amount
            .checked_sub(a)
            .ok_or(MathError::MathOverflow)?;
        let rb = self
            .token_b_amount
            .checked_sub(b)
            .ok_or(MathError::MathOverflow)?;
        (self.liquidity, self.token_a_amount, self.token_b_amount) =
            (self.liquidity - liquidity_delta, ra, rb);
        Ok((a, b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{constants::ONE_Q64, fee::PoolFees, wide::u256};

    const Q64: u128 = ONE_Q64;

    fn concentrated(l: u128) -> PoolState {
        PoolState {
            collect_fee_mode: CollectFeeMode::BothToken,
            sqrt_price: Q64,
            sqrt_min_price: Q64 / 2,
            sqrt_max_price: 2 * Q64,
            liquidity: u256(l) << 64,
            token_a_amount: l / 2,
            token_b_amount: l / 2,
            fees: PoolFees::default(),
            fee_a_per_liquidity: U256::ZERO,
            fee_b_per_liquidity: U256::ZERO,
            protocol_a_fee: 0,
            protocol_b_fee: 0,
        }
    }

    #[test]
    fn price_range_rules() {
        let m = CollectFeeMode::OnlyB;
        assert_eq!(validate_price_range(m, Q64, Q64 / 2, 2 * Q64), Ok(()));
        assert_eq!(
            validate_price_range(m, Q64, Q64, Q64),
            Err(MathError::InvalidPriceRange)
        );
        assert_eq!(
            validate_price_range(m, 3 * Q64, Q64 / 2, 2 * Q64),
            Err(MathError::InvalidPriceRange)
        );
        assert_eq!(
            validate_price_range(m, Q64, MIN_SQRT_PRICE - 1, 2 * Q64),
            Err(MathError::InvalidPriceRange)
        );
        let c = CollectFeeMode::Compounding;
        assert_eq!(validate_price_range(c, Q64, 0, u128::MAX), Ok(()));
        assert_eq!(
            validate_price_range(c, Q64, 1, u128::MAX),
            Err(MathError::InvalidPriceRange)
        );
        assert_eq!(
            validate_price_range(c, MAX_SQRT_PRICE + 1, 0, u128::MAX),
            Err(MathError::InvalidPriceRange)
        );
    }

    #[test]
    fn compounding_fee_bps_rules() {
        assert_eq!(
            validate_compounding_fee_bps(CollectFeeMode::Compounding, 1),
            Ok(())
        );
        assert_eq!(
            validate_compounding_fee_bps(CollectFeeMode::Compounding, 0),
            Err(MathError::InvalidCompoundingFeeBps)
        );
        assert_eq!(
            validate_compounding_fee_bps(CollectFeeMode::Compounding, 10_001),
            Err(MathError::InvalidCompoundingFeeBps)
        );
        assert_eq!(
            validate_compounding_fee_bps(CollectFeeMode::BothToken, 1),
            Err(MathError::InvalidCompoundingFeeBps)
        );
    }

    #[test]
    fn initial_concentrated_pool_rounds_up() {
        let p = initial_pool(CollectFeeMode::BothToken, Q64, u256(1001) << 64, Q64 / 2, 2 * Q64).unwrap();
        // Δa(1, 2) = 1001/2 → 501; Δb(0.5, 1) = 500.5 → 501.
        assert_eq!((p.token_a_amount, p.token_b_amount), (501, 501));
        assert_eq!(p.position_liquidity, p.pool_liquidity);
        assert_eq!(
            initial_pool(CollectFeeMode::BothToken, Q64, U256::ZERO, Q64 / 2, 2 * Q64),
            Err(MathError::InvalidMinimumLiquidity)
        );
        // Tiny liquidity at the top of the range: a = 0 but b > 0 is fine.
        let p = initial_pool(
            CollectFeeMode::BothToken,
            2 * Q64,
            U256::from(1u8),
            Q64 / 2,
            2 * Q64,
        )
        .unwrap();
        assert_eq!((p.token_a_amount, p.token_b_amount), (0, 1));
    }

    #[test]
    fn add_then_remove_never_pays_out_more() {
        let mut pool = concentrated(1000);
        let before = pool;
        let (a_in, b_in) = pool.add_liquidity(u256(333) << 64).unwrap();
        let (a_out, b_out) = pool.remove_liquidity(u256(333) << 64).unwrap();
        assert!(a_out <= a_in && b_out <= b_in);
        assert_eq!(pool.liquidity, before.liquidity);
        assert_eq!(pool.add_liquidity(U256::ZERO), Err(MathError::InvalidParameters));
        assert_eq!(
            pool.remove_liquidity(U256::ZERO),
            Err(MathError::InsufficientLiquidity)
        );
        assert_eq!(
            pool.remove_liquidity(pool.liquidity + U256::from(1u8)),
            Err(MathError::InsufficientLiquidity)
        );
        // A sliver too small to be worth a single atom on either side.
        let snapshot = pool;
        assert_eq!(
            pool.remove_liquidity(U256::from(1u8)),
            Err(MathError::AmountIsZero)
        );
        assert_eq!(pool, snapshot);
    }
}
