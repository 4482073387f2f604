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
    wide::{mul_div_u256, mul_shr_256, shl_div_256, sqrt_u256, to_u128, u256, Rounding, U256},
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

/// What a market can still pay out of its pool in each direction, at the worst, and the price it starts from
/// (PROTOCOL.md, "Admission"). "Up" is the market's price rising to the top of its range (traders buy token A
/// = token0, paying token B = token1), "down" falling to the bottom (traders buy token1 with token0).
///
/// Only payouts are kept: what traders pay in is bounded below from `sqrt_price` by [`worst_case`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Exposure {
    /// Token0 paid out if the price goes to the top of the range, `Δa(√P, √P_max)` rounded up; a
    /// compounding market's whole token0 reserve.
    pub up_out0: u128,
    /// Token1 paid out if the price goes to the bottom of the range, `Δb(√P_min, √P)` rounded up; a
    /// compounding market's whole token1 reserve.
    pub down_out1: u128,
    /// The market's current square-root price `√P` (Q64.64); 0, and unused, for a compounding market.
    pub sqrt_price: u128,
    /// A compounding market: counted with its whole reserves paid out and nothing paid in.
    pub compounding: bool,
}

impl Exposure {
    /// A concentrated market at `√P = sqrt_price` in `[sqrt_min, sqrt_max]` with liquidity `liquidity` (2^64
    /// scaled): it pays at most `Δa(√P, √P_max)` token0 on the way up and `Δb(√P_min, √P)` token1 on the way
    /// down, both rounded up.
    ///
    /// A swap pays its output rounded down and takes its input rounded up (fees only add to the pool's side),
    /// and the exact amounts of a batch's swaps telescope: a market that has moved from `√P` to `s` has paid out
    /// at most the exact `Δ(√P, s)` of one token and taken in at least the exact `Δ(√P, s)` of the other,
    /// whatever its swaps in between.
    ///
    /// # Errors
    ///
    /// As [`crate::curve::delta_a`] and [`crate::curve::delta_b`]: [`MathError::MathOverflow`] for a price
    /// outside the range or an amount over `u128`, [`MathError::InvalidInput`] for a zero price.
    pub fn concentrated(
        sqrt_min: u128,
        sqrt_price: u128,
        sqrt_max: u128,
        liquidity: U256,
    ) -> Result<Exposure> {
        use crate::curve::{delta_a, delta_b};
        Ok(Exposure {
            up_out0: delta_a(sqrt_price, sqrt_max, liquidity, Rounding::Up)?,
            down_out1: delta_b(sqrt_min, sqrt_price, liquidity, Rounding::Up)?,
            sqrt_price,
            compounding: false,
        })
    }

    /// A compounding market with reserves `reserve_a` (token0) and `reserve_b` (token1): it can pay out at
    /// most its whole reserve of either token, and is counted as taking nothing in.
    pub fn compounding(reserve_a: u128, reserve_b: u128) -> Exposure {
        Exposure {
            up_out0: reserve_a,
            down_out1: reserve_b,
            sqrt_price: 0,
            compounding: true,
        }
    }
}

/// The exposure of a market with pricing state `state`: [`Exposure::compounding`] of its reserves for a
/// compounding market, [`Exposure::concentrated`] of its range, price and liquidity otherwise.
///
/// # Errors
///
/// As [`Exposure::concentrated`].
pub fn exposure(state: &crate::PoolState) -> Result<Exposure> {
    if state.collect_fee_mode == crate::CollectFeeMode::Compounding {
        return Ok(Exposure::compounding(state.token_a_amount, state.token_b_amount));
    }
    Exposure::concentrated(
        state.sqrt_min_price,
        state.sqrt_price,
        state.sqrt_max_price,
        state.liquidity,
    )
}

/// Applies net flows to a pool: `in0`/`in1` paid in, `out0`/`out1` paid out, raw balances first and the
/// shortfall from LP tokens burnt at the pair (what the pair pays beyond it joins the raw balances). Returns
/// the pool's holdings and the pair's state afterwards.
///
/// A burn pays both tokens, so if both fall short (summed flows of markets moving in opposite directions,
/// as [`worst_case`] settles them; one market's net flows never are) one burn covers both: the larger of the
/// two burns [`lp_to_burn`] sizes.
///
/// # Errors
///
/// [`MathError::InsufficientLiquidity`] if even burning every LP token the pool holds leaves a payout
/// uncovered; [`MathError::MathOverflow`] on overflow.
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
    let burn = lp_to_burn(short0, pair.reserve0, pair.total_supply)?.max(lp_to_burn(
        short1,
        pair.reserve1,
        pair.total_supply,
    )?);
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
    /// A payout could go uncovered, of token0 (`up`: paid out as the markets' prices rise) or of token1.
    Uncovered {
        /// `true` if token0 falls short at the first point found uncovered ([`worst_case`]'s corners 1 to 4),
        /// even if token1 does too.
        up: bool,
    },
    /// The health factor could fall below the minimum.
    HealthFactor {
        /// The direction of the lowest point found ([`WorstCase::up`]).
        up: bool,
        /// The lower bound it could fall to ([`WorstCase::health_factor`], 1e18 fixed point).
        health_factor: U256,
    },
}

/// The lowest health factor found by [`worst_case`], and the direction it was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorstCase {
    /// A lower bound of the health factor (1e18 fixed point) at every point the markets can reach, each moving
    /// in either direction.
    pub health_factor: U256,
    /// The direction of the lowest point: `true` for the markets' prices rising. A point that pays out token0
    /// on net and not token1 is up, the reverse down; one that pays out both (markets moving in opposite
    /// directions) or neither is named after the lower of the two one-way points (up on a tie).
    pub up: bool,
}

/// A sound lower bound of the health factor a pool can reach while its markets trade within their ranges,
/// each in either direction (PROTOCOL.md, "Admission", takes them all one way: see "Opposite directions"
/// below); or the token whose payout could go uncovered.
///
/// The health factor is not monotone along a market's path: `sqrt(raw0 · raw1)` can dip half-way and recover
/// (a market priced below the pool's ratio sells token0 cheaply first, dearly later), so the ends of the
/// ranges are not enough; nor are the two directions taken apart. Four settlements are valued instead, the
/// corners of a box that holds every reachable point, and the pool's liquidity is lowest at one of them.
///
/// # The reachable points
///
/// Take any point the markets can reach, each having moved up, down, or not at all:
///
/// - A concentrated market at `√P` that has moved up to `s ∈ [√P, √P_max]` has paid out at most `a = L·(s −
///   √P)/(√P·s)` token0 and taken in at least `b = L·(s − √P)/2^128` token1 (exact values, see
///   [`Exposure::concentrated`]), and `b/a = √P·s/2^128 ≥ √P²/2^128`: it never sells token0 below its current
///   price. So the markets that moved up have paid `α ≤ A_c = Σ up_out0` token0 for at least `p_low·α` token1,
///   with `p_low = √P_low²/2^128` and `√P_low` the lowest price among the concentrated markets with an up
///   payout. Likewise those that moved down have paid `β ≤ B_c = Σ down_out1` token1 for at least `β/p_high`
///   token0 (`a/b = 2^128/(√P·s) ≥ 2^128/√P²`), `√P_high` the highest price among those with a down payout.
/// - The compounding markets have paid at most `A_k` token0 and `B_k` token1 (the sums of their reserves,
///   both at once although each moves one way), and are counted as taking nothing in.
/// - Let `r1 = ⌊⌊A_c·√P_low/2^64⌋·√P_low/2^64⌋ ≤ p_low·A_c` and `r0 = ⌊⌊B_c·2^64/√P_high⌋·2^64/√P_high⌋ ≤
///   B_c/p_high` (both capped so that no balance overflows, which only lowers them), `p = r1/A_c ≤ p_low` and
///   `q = r0/B_c ≤ 1/p_high`. The pool's net balances before any LP burn, `u = X + in0 − out0` and `v = Y + in1
///   − out1` (`X`, `Y` its raw balances), are then at least, coordinate by coordinate, `F(α, β) = (X − A_k − α
///   + q·β, Y − B_k + p·α − β)` for some `(α, β)` in the box `[0, A_c] × [0, B_c]`.
///
/// `F` is affine, and the box's corners are four settlements `[in0, in1, out0, out1]`:
///
/// 1. up, `F(A_c, 0)`: `[0, r1, A_c + A_k, B_k]`;
/// 2. down, `F(0, B_c)`: `[r0, 0, A_k, B_c + B_k]`;
/// 3. neither, `F(0, 0)`: `[0, 0, A_k, B_k]` (the current holdings if no market is compounding);
/// 4. both, `F(A_c, B_c)`: `[r0, r1, A_c + A_k, B_c + B_k]`.
///
/// # The value of net balances
///
/// [`settle`] turns net balances `(u, v)` into holdings. If `u, v ≥ 0` it burns nothing and the liquidity is
/// `⌊sqrt(u·v)⌋ + C` (`C` the LP tokens' value). Otherwise it burns `n(u, v) = max(⌈s0·T/r0⌉, ⌈s1·T/r1⌉)` LP
/// tokens for the shortfalls `s0 = max(0, −u)` and `s1 = max(0, −v)` (the pair's reserves `r0`, `r1` and
/// supply `T`), which covers them if the pool holds that many (`ℓ`). The pair pays rounded down, so the LP
/// tokens left are worth `Λ(n) = (ℓ − n)·sqrt(k_n)/(T − n)` with `k_n` never growing in `n`, and, as `ℓ ≤ T`,
/// neither does `(ℓ − n)/(T − n)`: `Λ` only falls as the burn grows, from `Λ(0) = C`. Value net balances by
/// `V(u, v) = ⌊sqrt(u·v)⌋ + C` without a burn and `Λ(n(u, v))` with one: a point that burns is valued by its
/// LP tokens alone, since its raw part is the burn's rounding residue beside the other token, which a point
/// before it need not have, so counting it could rank the point above that one.
///
/// The liquidity after settling is at least `V` (the raw part is not negative). `n` never grows with `u` or
/// `v`, so neither coverage nor `V` is lost as `u` or `v` grows (a point that burns is worth at most `C`, one
/// that does not at least `C`). Every reachable point is therefore covered, with liquidity at least `V(F(α,
/// β))`, whenever `F(α, β)` is covered (`V` and `n` taken by the same formulas on real balances).
///
/// # Why the four corners bound the whole box
///
/// Let `z = F(α, β)`. Its first coordinate falls with `α` and grows with `β`, so it is lowest at corner 1; the
/// second is lowest at corner 2.
///
/// - If `z` burns: its shortfalls are at most corner 1's of token0 and corner 2's of token1, so `n(z)` is at
///   most the larger of the two corners' burns `n*`. So `z` is covered if both corners are, and `V(z) =
///   Λ(n(z)) ≥ Λ(n*)`, the value of the corner that burns `n*`.
/// - If not: on the part of the box that `F` maps to `u, v ≥ 0` (a convex polygon), `sqrt(u·v)` is concave (a
///   geometric mean of two affine functions), so at `z` it is at least its value at a vertex of that polygon:
///   either a corner of the box that burns nothing, or a point where `u = 0` or `v = 0`, valued `C`. In the
///   latter case corner 1 has `u ≤ 0` (or corner 2 has `v ≤ 0`) and is worth at most `C`.
///
/// So if corners 1 and 2 are covered, every reachable point is (corners 3 and 4 too), and its health factor is
/// at least the lowest of the four corners' [`pool_liquidity`] (or LP value alone, for a corner that burns)
/// over `total_shares`. Each corner can be the only lowest (corner 3 is the current state if no market is
/// compounding, corner 4 see below), so no fewer points bound this box. With no markets, the four are the
/// current holdings and the result is the current health factor; otherwise it is never above it.
///
/// # Opposite directions
///
/// PROTOCOL.md checks the markets all at the top of their ranges and all at the bottom, and holds that trades
/// in opposite directions only help the pool. For the health factor they need not: over a pool of 10,000 of
/// each token (HF 1), a market priced at 1/4 selling 1,000 token0 (for at least 250 token1) and one priced at
/// 4 selling 1,000 token1 (for at least 250 token0) each leave `sqrt(9,000 · 10,250)`, HF 0.960, but together
/// about 9,276 of each, HF 0.928 (corner 4 bounds it by `sqrt(9,250 · 9,250)`, 0.925): each market sells
/// cheaply against the pool's ratio, and what the pool takes in of one token no longer sits beside the other.
///
/// # Limits
///
/// - It is conservative: the box lets a concentrated market move both ways at once (harmless when its receipts
///   make up for its payouts, as for a market priced like the pool), a compounding market pays both its
///   reserves at once for nothing, and receipts are priced at the extreme current price, not along the curve,
///   so a market mirroring the pool over a wide range is bounded well below its true (flat) health factor.
/// - A point short of both tokens counts as covered by one burn, as [`settle`] pays it, not as uncovered:
///   markets moving in opposite directions over a pool of few raw tokens do reach such points, and the box
///   reaches them even for a single market over a pool of LP tokens alone (next to corner 4, where its
///   receipts, rounded down, fall just short of its payouts), so refusing them would refuse almost every such
///   pool.
/// - The bound is for one settlement of the summed flows against the pair as it is now. The vault settles
///   market by market, rounding each LP burn up separately, and the pair's reserves move with its own trading.
///
/// # Errors
///
/// `Ok(Err(AdmissionFailure::Uncovered { up }))` if a payout could go uncovered (`up` if token0 could fall
/// short); [`MathError::InvalidInput`] if the pool holds more LP tokens than the pair's supply (the bound relies
/// on `ℓ ≤ T`); other errors are arithmetic faults.
pub fn worst_case(
    holdings: &PoolHoldings,
    pair: &PairState,
    total_shares: U256,
    markets: &[Exposure],
) -> Result<core::result::Result<WorstCase, AdmissionFailure>> {
    if holdings.lp > pair.total_supply {
        return Err(MathError::InvalidInput);
    }
    let uncovered = |up| -> Result<core::result::Result<WorstCase, AdmissionFailure>> {
        Ok(Err(AdmissionFailure::Uncovered { up }))
    };
    // Per direction: the payouts of the concentrated and of the compounding markets, and the receipts'
    // lower bound (r1 up, r0 down).
    let mut sides = [(0u128, 0u128, 0u128); 2];
    for (side, up) in sides.iter_mut().zip([true, false]) {
        let (mut concentrated, mut compounding, mut extreme) = (0u128, 0u128, None::<u128>);
        for m in markets {
            let out = if up { m.up_out0 } else { m.down_out1 };
            let total = if m.compounding {
                &mut compounding
            } else {
                if out > 0 {
                    let price = m.sqrt_price;
                    extreme = Some(extreme.map_or(price, |e| if up { e.min(price) } else { e.max(price) }));
                }
                &mut concentrated
            };
            // A sum of payouts over u128 is more than any pool holds.
            let Some(sum) = total.checked_add(out) else {
                return uncovered(up);
            };
            *total = sum;
        }
        if concentrated.checked_add(compounding).is_none() {
            return uncovered(up);
        }
        let (raw, reserve) = if up {
            (holdings.raw1, pair.reserve1)
        } else {
            (holdings.raw0, pair.reserve0)
        };
        let cap = u128::MAX.saturating_sub(raw).saturating_sub(reserve);
        *side = (
            concentrated,
            compounding,
            receipts_bound(concentrated, extreme, up, cap),
        );
    }
    let [(a_c, a_k, r1), (b_c, b_k, r0)] = sides;
    // The corners 1–4, as `[in0, in1, out0, out1]` (the sums cannot overflow: checked above).
    let corners = [
        [0, r1, a_c + a_k, b_k],
        [r0, 0, a_k, b_c + b_k],
        [0, 0, a_k, b_k],
        [r0, r1, a_c + a_k, b_c + b_k],
    ];
    let mut values = [U256::ZERO; 4];
    for (value, [in0, in1, out0, out1]) in values.iter_mut().zip(corners) {
        // Corners 1 and 2 settle coverage; 3 and 4 are covered if they are.
        let Some(hf) = point_health_factor(holdings, pair, total_shares, [in0, in1, out0, out1])? else {
            return uncovered(out0 > holdings.raw0.saturating_add(in0));
        };
        *value = hf;
    }
    let mut worst = WorstCase {
        health_factor: U256::MAX,
        up: true,
    };
    for (health_factor, [in0, in1, out0, out1]) in values.into_iter().zip(corners) {
        if health_factor < worst.health_factor {
            let (pays0, pays1) = (out0 > in0, out1 > in1);
            let up = if pays0 == pays1 {
                values[0] <= values[1]
            } else {
                pays0
            };
            worst = WorstCase { health_factor, up };
        }
    }
    Ok(Ok(worst))
}

/// A lower bound of what concentrated markets paying `paid` in total take in, from the extreme current price
/// `sqrt_price` ([`worst_case`]): up, `⌊⌊paid·√P/2^64⌋·√P/2^64⌋ ≤ paid·√P²/2^128` token1; down,
/// `⌊⌊paid·2^64/√P⌋·2^64/√P⌋ ≤ paid·2^128/√P²` token0; at most `cap`.
fn receipts_bound(paid: u128, sqrt_price: Option<u128>, up: bool, cap: u128) -> u128 {
    let Some(price) = sqrt_price else {
        return 0;
    };
    let (paid, price) = (u256(paid), u256(price));
    // Neither step overflows (paid < 2^128, √P < 2^128: up, < 2^192 then < 2^256; down, < 2^192 then < 2^256),
    // so `None` means a zero price, for which nothing received is still a lower bound.
    let bound = if up {
        mul_shr_256(paid, price, 64).and_then(|x| mul_shr_256(x, price, 64))
    } else {
        shl_div_256(paid, price, 64).and_then(|x| shl_div_256(x, price, 64))
    };
    bound.map_or(0, |b| to_u128(b).map_or(cap, |b| b.min(cap)))
}

/// The health factor after settling `[in0, in1, out0, out1]`, or `None` if a payout is not covered. The
/// liquidity is [`pool_liquidity`], or the LP tokens' value alone if the settlement burns LP tokens (see
/// [`worst_case`]).
fn point_health_factor(
    holdings: &PoolHoldings,
    pair: &PairState,
    total_shares: U256,
    [in0, in1, out0, out1]: [u128; 4],
) -> Result<Option<U256>> {
    let (after, pair_after) = match settle(holdings, pair, in0, in1, out0, out1) {
        Ok(settled) => settled,
        Err(MathError::InsufficientLiquidity) => return Ok(None),
        Err(e) => return Err(e),
    };
    let liquidity = if after.lp == holdings.lp {
        pool_liquidity(&after, &pair_after)?
    } else {
        lp_liquidity(after.lp, &pair_after)?
    };
    health_factor(liquidity, total_shares).map(Some)
}

/// The admission check (PROTOCOL.md, "Admission"): [`worst_case`], which must be covered, and whose health
/// factor bound must be at or above `hf_min`.
///
/// # Errors
///
/// `Ok(Err(failure))` names the failing check and direction; `Err` is as for [`worst_case`].
pub fn admission(
    holdings: &PoolHoldings,
    pair: &PairState,
    total_shares: U256,
    markets: &[Exposure],
    hf_min: U256,
) -> Result<core::result::Result<(), AdmissionFailure>> {
    Ok(match worst_case(holdings, pair, total_shares, markets)? {
        Err(failure) => Err(failure),
        Ok(w) if w.health_factor < hf_min => Err(AdmissionFailure::HealthFactor {
            up: w.up,
            health_factor: w.health_factor,
        }),
        Ok(_) => Ok(()),
    })
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
        let q64 = crate::constants::ONE_Q64;
        let e = exposure(&market(crate::CollectFeeMode::BothToken)).unwrap();
        assert_eq!(
            e,
            Exposure {
                up_out0: 500,
                down_out1: 500,
                sqrt_price: q64,
                compounding: false,
            }
        );
        // At the top of its range a market can only move down.
        let mut top = market(crate::CollectFeeMode::OnlyB);
        top.sqrt_price = top.sqrt_max_price;
        let e = exposure(&top).unwrap();
        assert_eq!((e.up_out0, e.down_out1), (0, 1500));
        // Compounding: the whole reserves.
        let e = exposure(&market(crate::CollectFeeMode::Compounding)).unwrap();
        assert_eq!(e, Exposure::compounding(600, 700));
        assert_eq!(
            e,
            Exposure {
                up_out0: 600,
                down_out1: 700,
                sqrt_price: 0,
                compounding: true,
            }
        );
        // Payouts round up; a price outside the range, or zero, is refused.
        let l = u256(1) << 64;
        assert_eq!(
            Exposure::concentrated(q64, q64, q64 + 1, l).map(|e| e.up_out0),
            Ok(1)
        );
        assert_eq!(
            Exposure::concentrated(q64, 2 * q64, q64, l),
            Err(MathError::MathOverflow)
        );
        assert_eq!(Exposure::concentrated(0, 0, q64, l), Err(MathError::InvalidInput));
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
        // Short of both tokens, 1 each: one burn covers both, the larger of ceil(1 * 2000 / 1000) = 2 and
        // ceil(1 * 2000 / 4000) = 1, which pays 1 token0 and 4 token1.
        assert_eq!(
            settle(&held, &p, 0, 0, 101, 51),
            Ok((
                PoolHoldings {
                    raw0: 0,
                    raw1: 3,
                    lp: u256(398)
                },
                pair(999, 3_996, 1_998)
            ))
        );
        // More than the LP tokens can give, of one token or of both.
        assert_eq!(
            settle(&held, &p, 0, 0, 301, 0),
            Err(MathError::InsufficientLiquidity)
        );
        assert_eq!(
            settle(&held, &p, 0, 0, 301, 51),
            Err(MathError::InsufficientLiquidity)
        );
    }

    /// A pool of `raw` of each token, no LP tokens, and `raw` shares (HF 1).
    fn raw_pool(raw: u128) -> (PoolHoldings, PairState, U256) {
        let held = PoolHoldings {
            raw0: raw,
            raw1: raw,
            lp: U256::ZERO,
        };
        (held, pair(1, 1, 1), u256(raw))
    }

    /// A health factor from ten-thousandths (1e18 fixed point).
    fn hf(ten_thousandths: u128) -> U256 {
        u256(ten_thousandths * 100_000_000_000_000)
    }

    #[test]
    fn receipts_are_bounded_from_the_extreme_price_rounded_down() {
        let q64 = crate::constants::ONE_Q64;
        // Up at √P = 1/2 (price 1/4): 150 token0 paid bring at least 37 (37.5) token1.
        assert_eq!(receipts_bound(150, Some(q64 / 2), true, u128::MAX), 37);
        // Down at √P = 2 (price 4): 1,001 token1 paid bring at least 250 (250.25) token0.
        assert_eq!(receipts_bound(1_001, Some(2 * q64), false, u128::MAX), 250);
        // No concentrated market, a zero price, or the cap: less is always a lower bound.
        assert_eq!(receipts_bound(150, None, true, u128::MAX), 0);
        assert_eq!(receipts_bound(150, Some(0), false, u128::MAX), 0);
        assert_eq!(receipts_bound(1_000, Some(q64), true, 999), 999);
        // The extremes do not overflow: the largest payout at the lowest price, down.
        assert_eq!(receipts_bound(u128::MAX, Some(1), false, 7), 7);
        assert_eq!(
            receipts_bound(u128::MAX, Some(u128::MAX), true, u128::MAX),
            u128::MAX
        );
    }

    #[test]
    fn with_no_markets_the_worst_case_is_the_current_health_factor() {
        let p = pair(400, 100, 200);
        let held = PoolHoldings {
            raw0: 40,
            raw1: 10,
            lp: u256(50),
        };
        // Liquidity 20 + 50 for 50 shares.
        assert_eq!(
            worst_case(&held, &p, u256(50), &[]),
            Ok(Ok(WorstCase {
                health_factor: hf(14000),
                up: true
            }))
        );
        // More LP tokens than the pair's supply is not a state the bound holds for.
        let too_many = PoolHoldings {
            lp: u256(201),
            ..held
        };
        assert_eq!(
            worst_case(&too_many, &p, u256(50), &[]),
            Err(MathError::InvalidInput)
        );
    }

    #[test]
    fn admission_takes_every_market_the_whole_way_in_the_same_direction() {
        let (held, p, shares) = raw_pool(10_000);
        let one = exposure(&market(crate::CollectFeeMode::BothToken)).unwrap();
        // Three markets at √P = 1 pay 1,500 token0 for at least 1,500 token1: sqrt(8,500 · 11,500) = 9,886.8.
        // The way down is the mirror image, so the way up (checked first) is named.
        assert_eq!(
            worst_case(&held, &p, shares, &[one; 3]),
            Ok(Ok(WorstCase {
                health_factor: hf(9886),
                up: true
            }))
        );
        assert_eq!(
            admission(&held, &p, shares, &[one; 3], DEFAULT_HF_MIN),
            Ok(Ok(()))
        );
        // Twenty such markets pay the whole 10,000 token0: sqrt(0 · 20,000) leaves nothing of HF.
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
        // The way down is checked too, and a compounding market pays its whole reserve for nothing.
        let down = Exposure::compounding(0, 10_001);
        assert_eq!(
            admission(&held, &p, shares, &[down], DEFAULT_HF_MIN),
            Ok(Err(AdmissionFailure::Uncovered { up: false }))
        );
        // 1,000 token1 for nothing: sqrt(10,000 · 9,000) = 9,486.8.
        assert_eq!(
            admission(
                &held,
                &p,
                shares,
                &[Exposure::compounding(0, 1_000)],
                DEFAULT_HF_MIN
            ),
            Ok(Err(AdmissionFailure::HealthFactor {
                up: false,
                health_factor: hf(9486)
            }))
        );
    }

    #[test]
    fn admission_catches_a_health_factor_dip_between_the_ends_of_a_range() {
        // A market at the bottom of its range [0.5, 2] (√P), L = 100, over a pool of 1,000 of each token: on
        // its way up it first sells token0 cheaply (HF falls), then dearly (HF recovers). The lowest HF is
        // half-way, below both ends.
        let q64 = crate::constants::ONE_Q64;
        let (held, p, shares) = raw_pool(1_000);
        let l = u256(100) << 64;
        let (low, high) = (q64 / 2, 2 * q64);
        // The pool's HF with the market moved to `s`, rounded as its swaps are: payout down, receipt up.
        let hf_at = |s: u128| {
            let out0 = crate::curve::delta_a(low, s, l, Rounding::Down).unwrap();
            let in1 = crate::curve::delta_b(low, s, l, Rounding::Up).unwrap();
            let (after, pair_after) = settle(&held, &p, 0, in1, out0, 0).unwrap();
            health_factor(pool_liquidity(&after, &pair_after).unwrap(), shares).unwrap()
        };
        let (start, middle, end) = (hf_at(low), hf_at(q64 + q64 / 10), hf_at(high));
        assert_eq!((start, end), (HF_ONE, hf(9880)));
        assert!(middle < hf(9720), "{middle}");
        // A minimum of 0.98 passes at both ends, but not half-way: the bound catches it. The receipts are
        // priced at √P = 1/2: 150 token0 for at least 37 token1, sqrt(850 · 1,037) = 938.9.
        let hf_min = hf(9800);
        let m = Exposure::concentrated(low, low, high, l).unwrap();
        assert_eq!(
            admission(&held, &p, shares, &[m], hf_min),
            Ok(Err(AdmissionFailure::HealthFactor {
                up: true,
                health_factor: hf(9380)
            }))
        );
        assert!(hf(9380) <= middle);
        assert_eq!(admission(&held, &p, shares, &[m], hf(9380)), Ok(Ok(())));
    }

    #[test]
    fn a_market_mirroring_the_pool_keeps_a_bound_close_to_one_over_a_narrow_range() {
        // A market with the pool's own curve (L = sqrt(raw0 · raw1) at the pool's price) keeps HF at 1 along its
        // whole path. The bound prices its receipts at the starting price, so it loses the curvature: over
        // ±10% of price it stays above 0.998, over [0.25, 4] it falls to sqrt(1 − 0.5²) = 0.866.
        let q64 = crate::constants::ONE_Q64;
        let (held, p, shares) = raw_pool(1_000_000);
        let l = u256(1_000_000) << 64;
        let narrow = Exposure::concentrated(q64 / 21 * 20, q64, q64 / 20 * 21, l).unwrap();
        let w = worst_case(&held, &p, shares, &[narrow]).unwrap().unwrap();
        assert!(w.health_factor > hf(9980) && w.health_factor < HF_ONE, "{w:?}");
        assert_eq!(
            admission(&held, &p, shares, &[narrow], DEFAULT_HF_MIN),
            Ok(Ok(()))
        );
        let wide = Exposure::concentrated(q64 / 2, q64, 2 * q64, l).unwrap();
        assert_eq!(
            worst_case(&held, &p, shares, &[wide]),
            Ok(Ok(WorstCase {
                health_factor: U256::from(866_025_000_000_000_000u128),
                up: true
            }))
        );
        // The truth at the top of the wide range: 500,000 token0 for 1,000,000 token1, HF 1.
        let (after, pair_after) = settle(&held, &p, 0, 1_000_000, 500_000, 0).unwrap();
        assert_eq!(
            health_factor(pool_liquidity(&after, &pair_after).unwrap(), shares),
            Ok(HF_ONE)
        );
    }

    #[test]
    fn a_point_paid_by_lp_burns_is_valued_by_its_lp_tokens_alone() {
        // All token1 raw, all token0 in 10 LP tokens of a pair where one LP token pays 1,000 of each token.
        let p = pair(10_000, 10_000, 10);
        let held = PoolHoldings {
            raw0: 0,
            raw1: 1_000_000,
            lp: u256(10),
        };
        let shares = u256(10_000);
        let hf_after_paying = |out0: u128| {
            let (after, pair_after) = settle(&held, &p, 0, 0, out0, 0).unwrap();
            health_factor(pool_liquidity(&after, &pair_after).unwrap(), shares).unwrap()
        };
        // Paying 1,000 token0 burns one LP token and leaves no raw token0: HF 0.9. Paying 1,001 burns two and
        // leaves 999 raw token0 beside 1,002,000 token1: sqrt(999 · 1,002,000) = 31,638 counts, HF 3.96.
        assert_eq!(hf_after_paying(1_000), hf(9000));
        assert_eq!(hf_after_paying(1_001), U256::from(3_963_800_000_000_000_000u128));
        // So the end of a path can be valued above a point before it; the bound values it by its 8 LP tokens.
        let m = Exposure::compounding(1_001, 0);
        assert_eq!(
            worst_case(&held, &p, shares, &[m]),
            Ok(Ok(WorstCase {
                health_factor: hf(8000),
                up: true
            }))
        );
        assert_eq!(
            admission(&held, &p, shares, &[Exposure::compounding(10_001, 0)], U256::ZERO),
            Ok(Err(AdmissionFailure::Uncovered { up: true }))
        );
    }

    /// A market priced at 1/4 paying 1,000 token0 (√P in [1/2, 11/20], L = 5,500) and one priced at 4
    /// paying 1,000 token1 (√P in [9/5, 2], L = 5,000), and the pool's HF with both moved all the way,
    /// rounded as their swaps are.
    fn opposite_markets(held: &PoolHoldings, p: &PairState, shares: U256) -> ([Exposure; 2], U256) {
        use crate::curve::{delta_a, delta_b};
        let q64 = crate::constants::ONE_Q64;
        let (up_low, up_high, up_l) = (q64 / 2, q64 / 20 * 11, u256(5_500) << 64);
        let (down_low, down_high, down_l) = (q64 / 5 * 9, 2 * q64, u256(5_000) << 64);
        let markets = [
            Exposure::concentrated(up_low, up_low, up_high, up_l).unwrap(),
            Exposure::concentrated(down_low, down_high, down_high, down_l).unwrap(),
        ];
        let out0 = delta_a(up_low, up_high, up_l, Rounding::Down).unwrap();
        let in1 = delta_b(up_low, up_high, up_l, Rounding::Up).unwrap();
        let out1 = delta_b(down_low, down_high, down_l, Rounding::Down).unwrap();
        let in0 = delta_a(down_low, down_high, down_l, Rounding::Up).unwrap();
        let (after, pair_after) = settle(held, p, in0, in1, out0, out1).unwrap();
        let both = health_factor(pool_liquidity(&after, &pair_after).unwrap(), shares).unwrap();
        (markets, both)
    }

    #[test]
    fn markets_moving_in_opposite_directions_are_bounded_too() {
        // Both markets sell cheaply against the pool's 1:1 (see `worst_case`, "Opposite directions"). Each
        // direction alone is bounded by 0.96; together they drain both balances to about 9,276.
        let (held, p, shares) = raw_pool(10_000);
        let (markets, both) = opposite_markets(&held, &p, shares);
        for (i, m) in markets.iter().enumerate() {
            let alone = worst_case(&held, &p, shares, core::slice::from_ref(m))
                .unwrap()
                .unwrap();
            assert!(alone.health_factor >= hf(9600), "{i}: {alone:?}");
            assert_eq!(alone.up, i == 0);
        }
        assert!(both < hf(9280) && both < DEFAULT_HF_MIN, "{both}");
        // Corner 4, both paying everything (exposures rounded up: 1,000 token0 and 1,001 token1) for at least
        // 250 of the other token: sqrt(9,250 · 9,249) = 9,249.5. The directions' own corners tie at 9,604 (up
        // sqrt(9,000 · 10,250), down sqrt(10,250 · 8,999)), so up is named.
        let w = worst_case(&held, &p, shares, &markets).unwrap().unwrap();
        assert_eq!(
            w,
            WorstCase {
                health_factor: hf(9249),
                up: true
            }
        );
        assert!(w.health_factor <= both);
        assert_eq!(
            admission(&held, &p, shares, &markets, DEFAULT_HF_MIN),
            Ok(Err(AdmissionFailure::HealthFactor {
                up: true,
                health_factor: hf(9249)
            }))
        );
    }

    #[test]
    fn a_point_short_of_both_tokens_is_paid_by_one_burn() {
        // The same two markets over a pool of LP tokens alone (one LP token pays one of each token): moving
        // in opposite directions they leave the pool short of both tokens, which one burn covers. Corners 1
        // and 2 burn 1,000 and 1,001 LP tokens for their payouts, corner 4 only 751 for both: the way down
        // is the lowest.
        let p = pair(10_000, 10_000, 10_000);
        let held = PoolHoldings {
            raw0: 0,
            raw1: 0,
            lp: u256(10_000),
        };
        let shares = u256(10_000);
        let (markets, both) = opposite_markets(&held, &p, shares);
        let w = worst_case(&held, &p, shares, &markets).unwrap().unwrap();
        assert_eq!(
            w,
            WorstCase {
                health_factor: hf(8999),
                up: false
            }
        );
        assert!(w.health_factor <= both && both < hf(9300), "{both}");
        assert_eq!(admission(&held, &p, shares, &markets, hf(8999)), Ok(Ok(())));
    }

    #[test]
    fn a_market_mirroring_the_pool_over_ten_percent_is_admitted_either_way() {
        // √P in [20/21, 21/20] (price about ±10%), L the pool's: moving both ways at once (corner 4) it pays out
        // about what it takes in, so the bound is that of one direction, 0.998 on raw tokens. Over LP tokens
        // alone a payout burns them and its receipts sit alone: the bound is 20/21, the true HF at the top.
        let q64 = crate::constants::ONE_Q64;
        let l = u256(1_000_000) << 64;
        let m = Exposure::concentrated(q64 / 21 * 20, q64, q64 / 20 * 21, l).unwrap();
        let (held, p, shares) = raw_pool(1_000_000);
        let w = worst_case(&held, &p, shares, &[m]).unwrap().unwrap();
        assert!(w.health_factor > hf(9980), "{w:?}");
        let p = pair(1_000_000, 1_000_000, 1_000_000);
        let held = PoolHoldings {
            raw0: 0,
            raw1: 0,
            lp: u256(1_000_000),
        };
        let w = worst_case(&held, &p, shares, &[m]).unwrap().unwrap();
        assert!(w.health_factor > hf(9520) && w.health_factor < hf(9530), "{w:?}");
        assert_eq!(admission(&held, &p, shares, &[m], DEFAULT_HF_MIN), Ok(Ok(())));
    }

    #[test]
    fn compounding_markets_pay_at_every_corner() {
        use crate::curve::{delta_a, delta_b};
        let q64 = crate::constants::ONE_Q64;
        let (held, p, shares) = raw_pool(10_000);
        // The pool's HF after settling `flows`.
        let hf_after = |[in0, in1, out0, out1]: [u128; 4]| {
            let (after, pair_after) = settle(&held, &p, in0, in1, out0, out1).unwrap();
            health_factor(pool_liquidity(&after, &pair_after).unwrap(), shares).unwrap()
        };
        // A market priced at 1/4 (√P in [0.45, 0.55], L = 5,500) moving all the way up, selling 1,000 token0
        // cheaply, while a compounding market pays 1,000 token1: corner 1 must count the compounding payout
        // too, for corner 4 (this market's own way down is dear) and corner 3 are both higher. And the mirror
        // image: priced at 4 (√P in [20/11, 20/9]), moving down, with a compounding market paying token0.
        let l = u256(5_500) << 64;
        for up in [true, false] {
            let (flows, markets) = if up {
                let (low, mid, high) = (q64 / 20 * 9, q64 / 2, q64 / 20 * 11);
                let paid = delta_a(mid, high, l, Rounding::Down).unwrap();
                let got = delta_b(mid, high, l, Rounding::Up).unwrap();
                let m = Exposure::concentrated(low, mid, high, l).unwrap();
                ([0, got, paid, 1_000], [m, Exposure::compounding(0, 1_000)])
            } else {
                let (low, mid, high) = (q64 / 11 * 20, 2 * q64, q64 / 9 * 20);
                let paid = delta_b(low, mid, l, Rounding::Down).unwrap();
                let got = delta_a(low, mid, l, Rounding::Up).unwrap();
                let m = Exposure::concentrated(low, mid, high, l).unwrap();
                ([got, 0, 1_000, paid], [m, Exposure::compounding(1_000, 0)])
            };
            let truth = hf_after(flows);
            let w = worst_case(&held, &p, shares, &markets).unwrap().unwrap();
            assert!(
                w.health_factor <= truth && truth < hf(9140),
                "{up}: {w:?} {truth}"
            );
        }
        // Markets selling dearly either way (one priced at 4 that can only rise, one at 1/4 that can only
        // fall) and compounding markets paying 1,000 of each token: corner 3, compounding alone, is the lowest.
        let markets = [
            Exposure::concentrated(2 * q64, 2 * q64, 3 * q64, l).unwrap(),
            Exposure::concentrated(q64 / 4, q64 / 2, q64 / 2, l).unwrap(),
            Exposure::compounding(1_000, 0),
            Exposure::compounding(0, 1_000),
        ];
        assert_eq!(
            worst_case(&held, &p, shares, &markets),
            Ok(Ok(WorstCase {
                health_factor: hf(9000),
                up: true
            }))
        );
        assert_eq!(hf_after([0, 0, 1_000, 1_000]), hf(9000));
    }
}
