//! The vault's pool accounting (PROTOCOL.md, "Pool"): the pool's liquidity in `sqrt(k)` units, the health
//! factor, the shares a deposit mints, what a withdrawal pays in kind, and the Uniswap V2 LP tokens to burn
//! for a payout. Shared by the vault contract and the client, so a quote and the contract agree to the unit.
//!
//! Every rounding favours the pool: liquidity, shares minted and withdrawal amounts round down; LP tokens
//! to burn for a payout round up.
//!
//! Units: token amounts are `u128` (as in the rest of the crate), Uniswap LP amounts and shares are
//! [`U256`], and the health factor is a 1e18 fixed-point [`U256`].

use crate::{
    wide::{mul_div_u256, sqrt_u256, u256, Rounding, U256},
    MathError, Result,
};

/// A health factor of exactly 1 (1e18 fixed point): a pool worth exactly its shares, as a plain
/// Uniswap-V2-like pool is.
pub const HF_ONE: U256 = U256::from_limbs([1_000_000_000_000_000_000, 0, 0, 0]);

/// The default minimum health factor of a pool, 0.95: LPs can lose at most 5% of `sqrt(k)` to dAMM's markets.
pub const DEFAULT_HF_MIN: U256 = U256::from_limbs([950_000_000_000_000_000, 0, 0, 0]);

/// Shares locked forever at a pool's first deposit (minted to no one), so that no depositor can own all the
/// shares and inflate their value against the next depositor.
pub const DEAD_SHARES: U256 = U256::from_limbs([1_000, 0, 0, 0]);

/// A Uniswap V2 pair as the vault reads it: its reserves and its LP token supply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PairState {
    /// `reserve0` (a `uint112`).
    pub reserve0: u128,
    /// `reserve1` (a `uint112`).
    pub reserve1: u128,
    /// The LP token's `totalSupply`.
    pub total_supply: U256,
}

/// What a pool holds: accounted raw token balances and Uniswap LP tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolHoldings {
    /// Raw `token0`.
    pub raw0: u128,
    /// Raw `token1`.
    pub raw1: u128,
    /// Uniswap V2 LP tokens of the pool's pair.
    pub lp: U256,
}

/// The shares a deposit mints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepositShares {
    /// Shares for the depositor.
    pub shares: U256,
    /// Shares locked forever ([`DEAD_SHARES`] at the first deposit, 0 after).
    pub dead: U256,
}

/// `sqrt(a * b)`, rounded down: the liquidity of raw balances `a` and `b`.
pub fn raw_liquidity(a: u128, b: u128) -> U256 {
    // u128 × u128 < 2^256: the product cannot overflow.
    sqrt_u256(u256(a) * u256(b))
}

/// The liquidity `lp` LP tokens of `pair` stand for: `lp * sqrt(reserve0 * reserve1) / total_supply`, rounded
/// down. Valued by `sqrt(k)`, so a swap that skews the pair's reserves inside a transaction cannot raise it
/// (a swap never lowers `k`, and the pair's LP supply does not change).
///
/// # Errors
///
/// [`MathError::InvalidInput`] if the pair has no LP supply while `lp` is not zero;
/// [`MathError::MathOverflow`] if the result does not fit 256 bits.
pub fn lp_liquidity(lp: U256, pair: &PairState) -> Result<U256> {
    if lp.is_zero() {
        return Ok(U256::ZERO);
    }
    if pair.total_supply.is_zero() {
        return Err(MathError::InvalidInput);
    }
    let k_root = raw_liquidity(pair.reserve0, pair.reserve1);
    mul_div_u256(lp, k_root, pair.total_supply, Rounding::Down).ok_or(MathError::MathOverflow)
}

/// The pool's liquidity `Lp = sqrt(raw0 * raw1) + lp * sqrt(r0 * r1) / T`.
///
/// # Errors
///
/// As [`lp_liquidity`]; [`MathError::MathOverflow`] if the sum overflows.
pub fn pool_liquidity(holdings: &PoolHoldings, pair: &PairState) -> Result<U256> {
    raw_liquidity(holdings.raw0, holdings.raw1)
        .checked_add(lp_liquidity(holdings.lp, pair)?)
        .ok_or(MathError::MathOverflow)
}

/// The health factor `HF = liquidity / total_shares` (1e18 fixed point, rounded down); [`HF_ONE`] for a pool
/// without shares (nothing is owed to anyone).
///
/// # Errors
///
/// [`MathError::MathOverflow`] if the result does not fit 256 bits.
pub fn health_factor(liquidity: U256, total_shares: U256) -> Result<U256> {
    if total_shares.is_zero() {
        return Ok(HF_ONE);
    }
    mul_div_u256(liquidity, HF_ONE, total_shares, Rounding::Down).ok_or(MathError::MathOverflow)
}

/// Whether a change of the health factor from `before` to `after` is allowed: it stays at or above `min`, or
/// it does not go down (a settlement that raises HF is always allowed, even below the minimum).
pub fn health_allows(before: U256, after: U256, min: U256) -> bool {
    after >= min || after >= before
}

/// The shares a deposit adding `added` liquidity mints, keeping the health factor: `total_shares * added /
/// liquidity_before`, rounded down. The first deposit (no shares yet) mints `added` shares, of which
/// [`DEAD_SHARES`] are locked.
///
/// # Errors
///
/// [`MathError::AmountIsZero`] if nothing would be minted to the depositor (a deposit too small for even
/// one share, or a first deposit not above [`DEAD_SHARES`]); [`MathError::InvalidInput`] if shares exist
/// but the pool has no liquidity (the pool was drained: its shares are worth nothing and new money would
/// be given away); [`MathError::MathOverflow`] if the result does not fit 256 bits.
pub fn shares_for_deposit(total_shares: U256, liquidity_before: U256, added: U256) -> Result<DepositShares> {
    if total_shares.is_zero() {
        if added <= DEAD_SHARES {
            return Err(MathError::AmountIsZero);
        }
        return Ok(DepositShares {
            shares: added - DEAD_SHARES,
            dead: DEAD_SHARES,
        });
    }
    if liquidity_before.is_zero() {
        return Err(MathError::InvalidInput);
    }
    let shares =
        mul_div_u256(total_shares, added, liquidity_before, Rounding::Down).ok_or(MathError::MathOverflow)?;
    if shares.is_zero() {
        return Err(MathError::AmountIsZero);
    }
    Ok(DepositShares {
        shares,
        dead: U256::ZERO,
    })
}

/// What burning `shares` of `total_shares` pays, pro rata in kind: each holding times `shares /
/// total_shares`, rounded down.
///
/// # Errors
///
/// [`MathError::InvalidInput`] if `shares` exceeds `total_shares` (or there are no shares);
/// [`MathError::AmountIsZero`] for zero shares.
pub fn withdrawal(shares: U256, total_shares: U256, holdings: &PoolHoldings) -> Result<PoolHoldings> {
    if shares.is_zero() {
        return Err(MathError::AmountIsZero);
    }
    if shares > total_shares {
        return Err(MathError::InvalidInput);
    }
    let part = |amount: U256| {
        mul_div_u256(amount, shares, total_shares, Rounding::Down).ok_or(MathError::MathOverflow)
    };
    let raw = |amount: u128| -> Result<u128> { crate::wide::to_u128(part(u256(amount))?) };
    Ok(PoolHoldings {
        raw0: raw(holdings.raw0)?,
        raw1: raw(holdings.raw1)?,
        lp: part(holdings.lp)?,
    })
}

/// The LP tokens to burn at the pair so that it pays out at least `needed` of the token whose reserve is
/// `reserve`: `ceil(needed * total_supply / reserve)` (the pair pays `lp * reserve / total_supply`, rounded
/// down).
///
/// # Errors
///
/// [`MathError::InsufficientLiquidity`] if the pair does not hold `needed` (or has no LP supply);
/// [`MathError::MathOverflow`] if the result does not fit 256 bits.
pub fn lp_to_burn(needed: u128, reserve: u128, total_supply: U256) -> Result<U256> {
    if needed == 0 {
        return Ok(U256::ZERO);
    }
    if needed > reserve || total_supply.is_zero() {
        return Err(MathError::InsufficientLiquidity);
    }
    mul_div_u256(u256(needed), total_supply, u256(reserve), Rounding::Up).ok_or(MathError::MathOverflow)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(r0: u128, r1: u128, supply: u128) -> PairState {
        PairState {
            reserve0: r0,
            reserve1: r1,
            total_supply: u256(supply),
        }
    }

    #[test]
    fn liquidity_counts_raw_balances_and_lp_tokens_by_sqrt_k() {
        // A pair with k = 400 * 100 (sqrt 200) and 200 LP tokens: one LP token is worth one unit of sqrt(k).
        let p = pair(400, 100, 200);
        assert_eq!(lp_liquidity(u256(50), &p), Ok(u256(50)));
        let holdings = PoolHoldings {
            raw0: 40,
            raw1: 10,
            lp: u256(50),
        };
        assert_eq!(pool_liquidity(&holdings, &p), Ok(u256(20 + 50)));
        // Rounded down: sqrt(2) -> 1.
        assert_eq!(raw_liquidity(1, 2), u256(1));
        assert_eq!(
            lp_liquidity(u256(1), &pair(0, 0, 0)),
            Err(MathError::InvalidInput)
        );
        assert_eq!(lp_liquidity(U256::ZERO, &pair(0, 0, 0)), Ok(U256::ZERO));
    }

    #[test]
    fn a_swap_on_the_pair_cannot_raise_the_lp_value() {
        // Skewing the reserves by a swap (k only grows by the fee) never lowers the value; a swap without
        // fee keeps it, up to rounding down.
        let before = pair(1_000_000, 1_000_000, 1_000_000);
        let skewed = pair(4_000_000, 250_000, 1_000_000);
        assert_eq!(
            lp_liquidity(u256(1_000), &before),
            lp_liquidity(u256(1_000), &skewed)
        );
    }

    #[test]
    fn health_factor_is_liquidity_per_share() {
        assert_eq!(health_factor(u256(100), u256(100)), Ok(HF_ONE));
        assert_eq!(health_factor(u256(95), u256(100)), Ok(DEFAULT_HF_MIN));
        assert_eq!(health_factor(u256(1), U256::ZERO), Ok(HF_ONE));
        // Rounded down.
        assert_eq!(
            health_factor(u256(2), u256(3)),
            Ok(U256::from(666_666_666_666_666_666u128))
        );
    }

    #[test]
    fn health_allows_changes_above_the_minimum_or_upwards() {
        let min = DEFAULT_HF_MIN;
        assert!(health_allows(HF_ONE, min, min));
        assert!(!health_allows(HF_ONE, min - U256::from(1), min));
        // Below the minimum already: a settlement that raises HF is allowed, one that lowers it is not.
        let low = U256::from(900_000_000_000_000_000u128);
        assert!(health_allows(low, low + U256::from(1), min));
        assert!(health_allows(low, low, min));
        assert!(!health_allows(low, low - U256::from(1), min));
    }

    #[test]
    fn the_first_deposit_locks_dead_shares_and_later_ones_keep_the_health_factor() {
        let first = shares_for_deposit(U256::ZERO, U256::ZERO, u256(1_000_000)).unwrap();
        assert_eq!(first.dead, DEAD_SHARES);
        assert_eq!(first.shares, u256(1_000_000) - DEAD_SHARES);
        assert_eq!(
            shares_for_deposit(U256::ZERO, U256::ZERO, DEAD_SHARES),
            Err(MathError::AmountIsZero)
        );
        // HF 1.1: 110 liquidity for 100 shares; adding 11 mints 10.
        let later = shares_for_deposit(u256(100), u256(110), u256(11)).unwrap();
        assert_eq!((later.shares, later.dead), (u256(10), U256::ZERO));
        // Rounded down: 10 liquidity mints 9 shares (9.09...).
        assert_eq!(
            shares_for_deposit(u256(100), u256(110), u256(10)).unwrap().shares,
            u256(9)
        );
        // Too small for one share.
        assert_eq!(
            shares_for_deposit(u256(100), u256(1_000), u256(9)),
            Err(MathError::AmountIsZero)
        );
        // Shares outstanding but nothing behind them.
        assert_eq!(
            shares_for_deposit(u256(100), U256::ZERO, u256(9)),
            Err(MathError::InvalidInput)
        );
    }

    #[test]
    fn the_inflation_attack_gains_the_attacker_nothing() {
        // The attacker deposits just above the dead shares, then donates a lot to raise the share value;
        // the victim's deposit still mints shares worth its deposit up to one share's rounding.
        let first = shares_for_deposit(U256::ZERO, U256::ZERO, DEAD_SHARES + u256(1)).unwrap();
        let total = first.shares + first.dead;
        let liquidity = DEAD_SHARES + u256(1) + u256(10_000_000);
        let victim = shares_for_deposit(total, liquidity, u256(5_000_000)).unwrap();
        assert!(!victim.shares.is_zero());
        // Most of the donation accrues to the dead shares, not to the attacker's single share.
        let attacker_value = mul_div_u256(first.shares, liquidity, total, Rounding::Down).unwrap();
        assert!(attacker_value < u256(10_000));
    }

    #[test]
    fn withdrawals_pay_pro_rata_rounded_down() {
        let holdings = PoolHoldings {
            raw0: 1_001,
            raw1: 7,
            lp: u256(3),
        };
        let paid = withdrawal(u256(1), u256(3), &holdings).unwrap();
        assert_eq!(
            paid,
            PoolHoldings {
                raw0: 333,
                raw1: 2,
                lp: u256(1)
            }
        );
        assert_eq!(withdrawal(u256(3), u256(3), &holdings), Ok(holdings));
        assert_eq!(
            withdrawal(u256(4), u256(3), &holdings),
            Err(MathError::InvalidInput)
        );
        assert_eq!(
            withdrawal(U256::ZERO, u256(3), &holdings),
            Err(MathError::AmountIsZero)
        );
    }

    #[test]
    fn lp_burns_cover_the_payout() {
        // The pair pays lp * reserve / supply, rounded down: burning the result pays at least `needed`.
        let burn = lp_to_burn(333, 1_000, u256(700)).unwrap();
        // 333 * 700 / 1000 = 233.1 -> 234: burning 234 pays 334, burning 233 would pay only 332.
        assert_eq!(burn, u256(234));
        assert_eq!(lp_to_burn(0, 0, U256::ZERO), Ok(U256::ZERO));
        assert_eq!(
            lp_to_burn(1_001, 1_000, u256(700)),
            Err(MathError::InsufficientLiquidity)
        );
    }
}
