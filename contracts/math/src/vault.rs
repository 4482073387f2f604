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

/// What a market can still move between the pool and its traders, in each direction, at the worst: if its
/// price went to the top of its range (traders buy token A = token0, paying token B = token1) or to the bottom.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Exposure {
    /// Token0 paid out when the price goes to the top of the range.
    pub up_out0: u128,
    /// Token1 paid in on the way up (fees aside).
    pub up_in1: u128,
    /// Token1 paid out when the price goes to the bottom of the range.
    pub down_out1: u128,
    /// Token0 paid in on the way down (fees aside).
    pub down_in0: u128,
}

/// The exposure of a market with pricing state `state` (PROTOCOL.md, "Admission"): a concentrated market
/// pays `Δa(√P, √P_max)` token0 for `Δb(√P, √P_max)` token1 on the way up and `Δb(√P_min, √P)` token1 for
/// `Δa(√P_min, √P)` token0 on the way down — payouts rounded up, receipts down, fees left out (they only
/// help the pool); a compounding market is counted with its whole reserves paid out and nothing paid in.
///
/// # Errors
///
/// As [`crate::curve::delta_a`] and [`crate::curve::delta_b`] (a price outside the range, or amounts over
/// `u128`).
pub fn exposure(state: &crate::PoolState) -> Result<Exposure> {
    use crate::curve::{delta_a, delta_b};
    if state.collect_fee_mode == crate::CollectFeeMode::Compounding {
        return Ok(Exposure {
            up_out0: state.token_a_amount,
            up_in1: 0,
            down_out1: state.token_b_amount,
            down_in0: 0,
        });
    }
    let (low, price, high, l) = (
        state.sqrt_min_price,
        state.sqrt_price,
        state.sqrt_max_price,
        state.liquidity,
    );
    Ok(Exposure {
        up_out0: delta_a(price, high, l, Rounding::Up)?,
        up_in1: delta_b(price, high, l, Rounding::Down)?,
        down_out1: delta_b(low, price, l, Rounding::Up)?,
        down_in0: delta_a(low, price, l, Rounding::Down)?,
    })
}

/// Applies net flows to a pool: `in0`/`in1` paid in, `out0`/`out1` paid out, raw balances first and the
/// shortfall from LP tokens burnt at the pair (whose other token joins the raw balance). Returns the pool's
/// holdings and the pair's state afterwards.
///
/// # Errors
///
/// [`MathError::InsufficientLiquidity`] if even burning every LP token the pool holds leaves a payout
/// uncovered (or both tokens fall short, which the vault's settlement never produces);
/// [`MathError::MathOverflow`] on overflow.
pub fn settle(
    holdings: &PoolHoldings,
    pair: &PairState,
    in0: u128,
    in1: u128,
    out0: u128,
    out1: u128,
) -> Result<(PoolHoldings, PairState)> {
    let add = |a: u128, b: u128| a.checked_add(b).ok_or(MathError::MathOverflow);
    let have0 = add(holdings.raw0, in0)?;
    let have1 = add(holdings.raw1, in1)?;
    let (short0, short1) = (out0.saturating_sub(have0), out1.saturating_sub(have1));
    if short0 > 0 && short1 > 0 {
        return Err(MathError::InsufficientLiquidity);
    }
    let (reserve_short, short) = if short0 > 0 {
        (pair.reserve0, short0)
    } else {
        (pair.reserve1, short1)
    };
    let burn = lp_to_burn(short, reserve_short, pair.total_supply)?;
    if burn > holdings.lp {
        return Err(MathError::InsufficientLiquidity);
    }
    // What the pair pays for `burn` LP tokens, rounded down as the pair does.
    let paid = |reserve: u128| -> Result<u128> {
        if burn.is_zero() {
            return Ok(0);
        }
        crate::wide::to_u128(
            mul_div_u256(burn, u256(reserve), pair.total_supply, Rounding::Down)
                .ok_or(MathError::MathOverflow)?,
        )
    };
    let (got0, got1) = (paid(pair.reserve0)?, paid(pair.reserve1)?);
    let after = PoolHoldings {
        raw0: add(have0, got0)?
            .checked_sub(out0)
            .ok_or(MathError::InsufficientLiquidity)?,
        raw1: add(have1, got1)?
            .checked_sub(out1)
            .ok_or(MathError::InsufficientLiquidity)?,
        lp: holdings.lp - burn,
    };
    let pair_after = PairState {
        reserve0: pair.reserve0 - got0,
        reserve1: pair.reserve1 - got1,
        total_supply: pair.total_supply - burn,
    };
    Ok((after, pair_after))
}

/// Why a pool's worst case fails admission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdmissionFailure {
    /// With every market at the top (`up`) or bottom of its range, a payout is not covered.
    Uncovered {
        /// The direction: `true` for every market at the top of its range.
        up: bool,
    },
    /// With every market at the top or bottom of its range, the health factor would fall below the minimum.
    HealthFactor {
        /// The direction, as above.
        up: bool,
        /// The health factor it would fall to (1e18 fixed point).
        health_factor: U256,
    },
}

/// The admission check (PROTOCOL.md, "Admission"): with every market's exposure realised in the same
/// direction — all at the top of their ranges, then all at the bottom — every payout must be covered and the
/// health factor must stay at or above `hf_min`.
///
/// Coverage is settled by the ends: along a market's path its payouts only grow, so if the end is covered,
/// every point before it is. The health factor is not: `sqrt(raw0 · raw1)` can dip along the way and
/// recover (a market selling token0 cheaply first lowers it; the dearer token1 it takes in later raises it),
/// so a batch stopping half-way could fall below `hf_min` although both ends pass. Open for the vault
/// (issue 5): check the path's minimum, or bound it, before relying on this check alone.
///
/// # Errors
///
/// `Ok(Err(failure))` names the failing direction; `Err` is an arithmetic fault.
pub fn admission(
    holdings: &PoolHoldings,
    pair: &PairState,
    total_shares: U256,
    markets: &[Exposure],
    hf_min: U256,
) -> Result<core::result::Result<(), AdmissionFailure>> {
    for up in [true, false] {
        let mut flows = [0u128; 4];
        for m in markets {
            let f = if up {
                [0, m.up_in1, m.up_out0, 0]
            } else {
                [m.down_in0, 0, 0, m.down_out1]
            };
            for (total, x) in flows.iter_mut().zip(f) {
                *total = total.checked_add(x).ok_or(MathError::MathOverflow)?;
            }
        }
        let [in0, in1, out0, out1] = flows;
        let (after, pair_after) = match settle(holdings, pair, in0, in1, out0, out1) {
            Ok(settled) => settled,
            Err(MathError::InsufficientLiquidity) => return Ok(Err(AdmissionFailure::Uncovered { up })),
            Err(e) => return Err(e),
        };
        let health_factor = health_factor(pool_liquidity(&after, &pair_after)?, total_shares)?;
        if health_factor < hf_min {
            return Ok(Err(AdmissionFailure::HealthFactor { up, health_factor }));
        }
    }
    Ok(Ok(()))
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

    /// √P = 1, L = 1000 (real), range [0.5, 2] in √P: 500 token0 out to the top, 500 token1 out to the
    /// bottom.
    fn market(mode: crate::CollectFeeMode) -> crate::PoolState {
        let q64 = crate::constants::ONE_Q64;
        crate::PoolState {
            collect_fee_mode: mode,
            sqrt_price: q64,
            sqrt_min_price: q64 / 2,
            sqrt_max_price: 2 * q64,
            liquidity: u256(1000) << 64,
            token_a_amount: 600,
            token_b_amount: 700,
            fees: crate::PoolFees::default(),
            fee_a_per_liquidity: U256::ZERO,
            fee_b_per_liquidity: U256::ZERO,
            protocol_a_fee: 0,
            protocol_b_fee: 0,
        }
    }

    #[test]
    fn exposure_is_the_rest_of_the_range_or_the_whole_reserves() {
        let e = exposure(&market(crate::CollectFeeMode::BothToken)).unwrap();
        assert_eq!(
            e,
            Exposure {
                up_out0: 500,
                up_in1: 1000,
                down_out1: 500,
                down_in0: 1000
            }
        );
        // At the top of its range a market can only move down.
        let mut top = market(crate::CollectFeeMode::OnlyB);
        top.sqrt_price = top.sqrt_max_price;
        let e = exposure(&top).unwrap();
        assert_eq!((e.up_out0, e.up_in1), (0, 0));
        assert_eq!(e.down_out1, 1500);
        // Compounding: the whole reserves, nothing counted in.
        let e = exposure(&market(crate::CollectFeeMode::Compounding)).unwrap();
        assert_eq!(
            e,
            Exposure {
                up_out0: 600,
                up_in1: 0,
                down_out1: 700,
                down_in0: 0
            }
        );
    }

    #[test]
    fn settlement_pays_from_raw_balances_then_burns_just_enough_lp() {
        let p = pair(1_000, 4_000, 2_000);
        let held = PoolHoldings {
            raw0: 100,
            raw1: 50,
            lp: u256(400),
        };
        // Covered by raw token0: no burn.
        let (after, pair_after) = settle(&held, &p, 0, 30, 100, 0).unwrap();
        assert_eq!(
            after,
            PoolHoldings {
                raw0: 0,
                raw1: 80,
                lp: u256(400)
            }
        );
        assert_eq!(pair_after, p);
        // 150 token0 out: 50 short, burn ceil(50 * 2000 / 1000) = 100 LP, which pays 50 token0 and 200 token1.
        let (after, pair_after) = settle(&held, &p, 0, 0, 150, 0).unwrap();
        assert_eq!(
            after,
            PoolHoldings {
                raw0: 0,
                raw1: 250,
                lp: u256(300)
            }
        );
        assert_eq!(pair_after, pair(950, 3_800, 1_900));
        // More than the LP tokens can give, or short of both tokens.
        assert_eq!(
            settle(&held, &p, 0, 0, 301, 0),
            Err(MathError::InsufficientLiquidity)
        );
        assert_eq!(
            settle(&held, &p, 0, 0, 101, 51),
            Err(MathError::InsufficientLiquidity)
        );
    }

    #[test]
    fn admission_takes_every_market_to_the_same_end_of_its_range() {
        // A pool of 10,000 raw of each token and 10,000 shares (HF 1), with no LP tokens.
        let held = PoolHoldings {
            raw0: 10_000,
            raw1: 10_000,
            lp: U256::ZERO,
        };
        let p = pair(1, 1, 1);
        let shares = u256(10_000);
        let one = exposure(&market(crate::CollectFeeMode::BothToken)).unwrap();
        assert_eq!(
            admission(&held, &p, shares, &[one; 3], DEFAULT_HF_MIN),
            Ok(Ok(()))
        );
        // Twenty such markets at the top pay 10,000 token0 for 20,000 token1: covered, but sqrt(0 · 30,000)
        // leaves nothing of HF.
        assert_eq!(
            admission(&held, &p, shares, &[one; 20], DEFAULT_HF_MIN),
            Ok(Err(AdmissionFailure::HealthFactor {
                up: true,
                health_factor: U256::ZERO
            }))
        );
        // Twenty-one cannot be paid at all.
        assert_eq!(
            admission(&held, &p, shares, &[one; 21], DEFAULT_HF_MIN),
            Ok(Err(AdmissionFailure::Uncovered { up: true }))
        );
        // The bottom is checked too: a market exposed downwards only.
        let down = Exposure {
            down_out1: 10_001,
            ..Exposure::default()
        };
        assert_eq!(
            admission(&held, &p, shares, &[down], DEFAULT_HF_MIN),
            Ok(Err(AdmissionFailure::Uncovered { up: false }))
        );
    }

    #[test]
    fn the_health_factor_can_dip_between_the_ends_of_a_range() {
        // A market at the bottom of its range [0.5, 2] (√P), L = 100, over a pool of 1,000 of each token:
        // on its way up it first sells token0 cheaply (HF falls), then dearly (HF recovers). The lowest HF is
        // half-way, below both ends: the known limit of an ends-only admission check (see `admission`).
        let q64 = crate::constants::ONE_Q64;
        let held = PoolHoldings {
            raw0: 1_000,
            raw1: 1_000,
            lp: U256::ZERO,
        };
        let p = pair(1, 1, 1);
        let hf_at = |sqrt_price: u128| {
            let mut m = market(crate::CollectFeeMode::BothToken);
            m.liquidity = u256(100) << 64;
            m.sqrt_min_price = q64 / 2;
            m.sqrt_price = q64 / 2;
            m.sqrt_max_price = sqrt_price;
            let e = exposure(&m).unwrap();
            let (after, pair_after) = settle(&held, &p, 0, e.up_in1, e.up_out0, 0).unwrap();
            health_factor(pool_liquidity(&after, &pair_after).unwrap(), u256(1_000)).unwrap()
        };
        let (start, middle, end) = (hf_at(q64 / 2), hf_at(q64 + q64 / 10), hf_at(2 * q64));
        assert!(middle < end && middle < start, "{start} / {middle} / {end}");
    }
}
