//! Property tests of the vault's accounting: depositors and withdrawers never take value from the pool.
//!
//! - a deposit never lowers the health factor (shares are minted rounded down);
//! - a withdrawal never pays more than the withdrawn shares' part of each holding, and never lowers the health
//!   factor of what stays;
//! - an LP burn sized by `lp_to_burn` always covers the payout it is for, with at most one LP token to spare;
//! - the worst case of admission bounds every point the markets can reach, each moving its own way: covered,
//!   and a health factor at or above the bound.
#![allow(missing_docs)]

use damm_math::{
    vault::{
        health_factor, lp_to_burn, pool_liquidity, settle, shares_for_deposit, withdrawal, worst_case,
        Exposure, PairState, PoolHoldings,
    },
    wide::{mul_div_u256, sqrt_u256, u256, widen},
    Rounding, U256,
};
use proptest::prelude::*;

fn pair() -> impl Strategy<Value = PairState> {
    (1u128..1 << 112, 1u128..1 << 112, 1u128..u128::MAX).prop_map(|(r0, r1, supply)| PairState {
        reserve0: r0,
        reserve1: r1,
        total_supply: u256(supply),
    })
}

fn holdings() -> impl Strategy<Value = PoolHoldings> {
    (0u128..1 << 100, 0u128..1 << 100, 0u128..1 << 100).prop_map(|(raw0, raw1, lp)| PoolHoldings {
        raw0,
        raw1,
        lp: u256(lp),
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    #[test]
    fn a_deposit_never_lowers_the_health_factor(
        total in 1u128..1 << 120,
        liquidity in 1u128..1 << 120,
        added in 1u128..1 << 120,
    ) {
        let (total, liquidity, added) = (u256(total), u256(liquidity), u256(added));
        if let Ok(minted) = shares_for_deposit(total, liquidity, added) {
            // Exactly, not at 1e18 precision: (L + a) / (S + m) >= L / S.
            let after_total = total + minted.shares + minted.dead;
            prop_assert!(
                widen(liquidity + added) * widen(total) >= widen(liquidity) * widen(after_total),
                "shares {} for {added} at L {liquidity}, S {total}", minted.shares
            );
        }
    }

    #[test]
    fn a_withdrawal_pays_at_most_its_part_and_keeps_the_health_factor(
        held in holdings(),
        p in pair(),
        total in 1u128..1 << 120,
        fraction in 1u64..=1_000_000,
    ) {
        let total = u256(total);
        let shares = mul_div_u256(total, U256::from(fraction), U256::from(1_000_000u64), Rounding::Down).unwrap();
        prop_assume!(!shares.is_zero());
        let paid = withdrawal(shares, total, &held).unwrap();
        prop_assert!(paid.raw0 <= held.raw0 && paid.raw1 <= held.raw1 && paid.lp <= held.lp);
        let rest = PoolHoldings { raw0: held.raw0 - paid.raw0, raw1: held.raw1 - paid.raw1, lp: held.lp - paid.lp };
        // Exactly: what stays is worth at least its shares' part, less the two units (one per rounded term
        // of the liquidity) that rounding down can cost: (L_rest + 2) * S >= L * (S - s).
        let before = pool_liquidity(&held, &p).unwrap();
        let after = pool_liquidity(&rest, &p).unwrap();
        prop_assert!(
            widen(after + U256::from(2u64)) * widen(total) >= widen(before) * widen(total - shares),
            "L {before} -> {after}, S {total} -> {}", total - shares
        );
    }

    #[test]
    fn an_lp_burn_covers_its_payout(fraction in 1u64..=1_000_000, p in pair()) {
        // Any payout up to the whole reserve.
        let needed = (mul_div_u256(u256(p.reserve0), U256::from(fraction), U256::from(1_000_000u64), Rounding::Down)
            .unwrap()
            .to::<u128>())
        .max(1);
        let burn = lp_to_burn(needed, p.reserve0, p.total_supply).unwrap();
        let paid = mul_div_u256(burn, u256(p.reserve0), p.total_supply, Rounding::Down).unwrap();
        prop_assert!(paid >= u256(needed));
        if burn > U256::ZERO {
            let less = mul_div_u256(burn - U256::from(1u64), u256(p.reserve0), p.total_supply, Rounding::Down).unwrap();
            prop_assert!(less < u256(needed), "one LP token fewer would also do");
        }
    }
}

/// Where a market moves: towards the top of its range (paying token0), towards the bottom (paying token1), or
/// nowhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Move {
    Up,
    Down,
    Stay,
}

fn movement() -> impl Strategy<Value = Move> {
    prop_oneof![Just(Move::Up), Just(Move::Down), Just(Move::Stay)]
}

/// How far along its path a market moves, out of `u64::MAX`: often all the way or not at all.
fn along() -> impl Strategy<Value = u64> {
    prop_oneof![Just(0u64), Just(u64::MAX), any::<u64>()]
}

/// A concentrated market: `(sqrt_min, sqrt_price, sqrt_max)` and its liquidity, where it moves and how far.
#[derive(Debug, Clone, Copy)]
struct Market {
    sqrt: [u128; 3],
    liquidity: U256,
    moves: Move,
    along: u64,
}

/// A compounding market: its reserves `[token0, token1]`, where it moves and how much of that reserve it pays.
#[derive(Debug, Clone, Copy)]
struct Compounding {
    reserves: [u128; 2],
    moves: Move,
    along: u64,
}

/// `0` or a value of up to `bits` bits, its size spread evenly over the bit lengths.
fn amount(bits: u32) -> impl Strategy<Value = u128> {
    (0..=bits, any::<u128>()).prop_map(|(b, x)| if b == 0 { 0 } else { x >> (128 - b) })
}

/// A liquidity of up to 150 bits, its size spread evenly over the bit lengths.
fn liquidity() -> impl Strategy<Value = U256> {
    (0u32..=150, any::<[u64; 4]>()).prop_map(|(b, limbs)| {
        if b == 0 {
            U256::ZERO
        } else {
            U256::from_limbs(limbs) >> (256 - b as usize)
        }
    })
}

fn sqrt_price() -> impl Strategy<Value = u128> {
    // Prices from 2^-48 to 2^48.
    (40u32..=88, any::<u128>()).prop_map(|(b, x)| (1u128 << (b - 1)) | (x >> (129 - b)))
}

fn market() -> impl Strategy<Value = Market> {
    (
        [sqrt_price(), sqrt_price(), sqrt_price()],
        liquidity(),
        movement(),
        along(),
    )
        .prop_map(|(mut sqrt, liquidity, moves, along)| {
            sqrt.sort_unstable();
            Market {
                sqrt,
                liquidity,
                moves,
                along,
            }
        })
}

fn compounding() -> impl Strategy<Value = Compounding> {
    ([amount(100), amount(100)], movement(), along()).prop_map(|(reserves, moves, along)| Compounding {
        reserves,
        moves,
        along,
    })
}

/// A pair, and holdings whose LP tokens are part of its supply.
fn pool() -> impl Strategy<Value = (PoolHoldings, PairState)> {
    (
        amount(100),
        amount(100),
        0u64..=1 << 32,
        1u128..1 << 112,
        1u128..1 << 112,
        amount(100),
    )
        .prop_map(|(raw0, raw1, part, r0, r1, supply)| {
            let supply = u256(supply.max(1));
            let lp = (supply * U256::from(part)) >> 32;
            (
                PoolHoldings { raw0, raw1, lp },
                PairState {
                    reserve0: r0,
                    reserve1: r1,
                    total_supply: supply,
                },
            )
        })
}

/// `x · along / u64::MAX`, rounded down.
fn part(x: u128, along: u64) -> u128 {
    mul_div_u256(u256(x), U256::from(along), U256::from(u64::MAX), Rounding::Down)
        .unwrap()
        .to::<u128>()
}

/// The summed flows `[in0, in1, out0, out1]` of `markets` and `compounding`, each moved its own way and part of
/// its path, rounded as their swaps are (payouts down, receipts up), a compounding market paying part of one
/// reserve for nothing; `None` if an amount overflows.
fn moved(markets: &[Market], compounding: &[Compounding]) -> Option<[u128; 4]> {
    use damm_math::curve::{delta_a, delta_b};
    let mut flows = [0u128; 4];
    let mut add = |i: usize, x: u128| -> Option<()> {
        flows[i] = flows[i].checked_add(x)?;
        Some(())
    };
    for m in markets {
        let [low, price, high] = m.sqrt;
        match m.moves {
            Move::Up => {
                let s = price + part(high - price, m.along);
                add(2, delta_a(price, s, m.liquidity, Rounding::Down).ok()?)?;
                add(1, delta_b(price, s, m.liquidity, Rounding::Up).ok()?)?;
            }
            Move::Down => {
                let s = price - part(price - low, m.along);
                add(3, delta_b(s, price, m.liquidity, Rounding::Down).ok()?)?;
                add(0, delta_a(s, price, m.liquidity, Rounding::Up).ok()?)?;
            }
            Move::Stay => {}
        }
    }
    for c in compounding {
        match c.moves {
            Move::Up => add(2, part(c.reserves[0], c.along))?,
            Move::Down => add(3, part(c.reserves[1], c.along))?,
            Move::Stay => {}
        }
    }
    Some(flows)
}

/// Checks that the worst case of `markets` and `compounding` over a pool bounds their summed settlement: covered,
/// and a health factor at or above the bound, exactly. And that it is at most each direction's alone (the
/// markets' payouts the other way left out), uncovered if either is.
fn check_bound(
    held: &PoolHoldings,
    p: &PairState,
    shares: U256,
    markets: &[Market],
    compounding: &[Compounding],
) -> Result<(), TestCaseError> {
    // Markets whose exposure does not fit u128 cannot be registered: leave them out.
    let markets: Vec<_> = markets
        .iter()
        .filter_map(|m| {
            let [low, price, high] = m.sqrt;
            Exposure::concentrated(low, price, high, m.liquidity)
                .ok()
                .map(|e| (*m, e))
        })
        .collect();
    let exposures: Vec<Exposure> = markets
        .iter()
        .map(|(_, e)| *e)
        .chain(
            compounding
                .iter()
                .map(|c| Exposure::compounding(c.reserves[0], c.reserves[1])),
        )
        .collect();
    let markets: Vec<Market> = markets.into_iter().map(|(m, _)| m).collect();
    let Some([in0, in1, out0, out1]) = moved(&markets, compounding) else {
        return Ok(());
    };
    let bound = worst_case(held, p, shares, &exposures).unwrap();
    for up in [true, false] {
        let one_way: Vec<Exposure> = exposures
            .iter()
            .map(|e| {
                if up {
                    Exposure { down_out1: 0, ..*e }
                } else {
                    Exposure { up_out0: 0, ..*e }
                }
            })
            .collect();
        match (worst_case(held, p, shares, &one_way).unwrap(), &bound) {
            (Err(_), bound) => prop_assert!(bound.is_err(), "{bound:?}, yet up = {up} alone is uncovered"),
            (Ok(alone), Ok(bound)) => prop_assert!(bound.health_factor <= alone.health_factor),
            (Ok(_), Err(_)) => {}
        }
    }
    if let Ok(bound) = bound {
        let settled = settle(held, p, in0, in1, out0, out1);
        prop_assert!(
            settled.is_ok(),
            "covered, yet {settled:?} for {:?}",
            [in0, in1, out0, out1]
        );
        let (after, pair_after) = settled.unwrap();
        let hf = health_factor(pool_liquidity(&after, &pair_after).unwrap(), shares).unwrap();
        prop_assert!(
            hf >= bound.health_factor,
            "HF {hf} below the bound {} for {:?}",
            bound.health_factor,
            [in0, in1, out0, out1]
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    /// The worst case bounds every point the markets can reach: 1–4 concentrated markets and up to two
    /// compounding ones, each moving up, down or not at all and part of its way, settled together — over
    /// pools, pairs and markets of any size.
    #[test]
    fn the_worst_case_bounds_every_point_on_the_way(
        (held, p) in pool(),
        shares in amount(110),
        markets in prop::collection::vec(market(), 1..=4),
        compounding in prop::collection::vec(compounding(), 0..=2),
    ) {
        check_bound(&held, &p, u256(shares.max(1)), &markets, &compounding)?;
    }

    /// The same over markets sized like their pool and priced near it, where the bound is between 0 and 1
    /// and markets moving in opposite directions matter.
    #[test]
    fn the_worst_case_bounds_every_point_of_markets_sized_like_their_pool(
        (held, p, shares, markets, compounding) in sized_pool(),
    ) {
        check_bound(&held, &p, shares, &markets, &compounding)?;
    }
}

/// A market sized like its pool: its square-root price is the pool's `√(Y/X)` times `n/64` (from 1/8 to 8,
/// mostly within ±25%), its range reaches `w/256` of that below and above (mostly within 1/32), its liquidity
/// is the pool's times `l/256` (up to four times the pool's, half the time at most a quarter), and it often
/// moves all the way: markets on either side of the pool's price moving in opposite directions are common.
fn sized_market(center: u128, pool_liquidity: U256) -> impl Strategy<Value = Market> {
    let width = || prop_oneof![3 => 0u128..=8, 1 => 0u128..=255];
    (
        prop_oneof![3 => 48u128..=80, 1 => 8u128..=512],
        [width(), width()],
        prop_oneof![1u64..=64, 64u64..=1024],
        any::<u16>(),
        movement(),
        prop_oneof![2 => Just(u64::MAX), 1 => any::<u64>()],
    )
        .prop_map(move |(n, [below, above], l, jitter, moves, along)| {
            // A little off the round multiples, so that receipts round.
            let price = mul_div_u256(u256(center), u256(n), u256(64), Rounding::Down)
                .unwrap()
                .to::<u128>()
                + u128::from(jitter);
            let at = |w: u128| {
                mul_div_u256(u256(price), u256(w), u256(256), Rounding::Down)
                    .unwrap()
                    .to::<u128>()
            };
            Market {
                sqrt: [at(256 - below), price, price + at(above)],
                liquidity: ((pool_liquidity << 64usize) * U256::from(l)) >> 8usize,
                moves,
                along,
            }
        })
}

/// A pool whose raw balances (none, sometimes) sit beside LP tokens (none, sometimes, or up to the pair's
/// whole supply) of a pair at the same price and up to four times the size, with `shares` about its liquidity;
/// 1–4 markets and up to two compounding ones (reserves up to the pool's balances) sized like it.
fn sized_pool() -> impl Strategy<Value = (PoolHoldings, PairState, U256, Vec<Market>, Vec<Compounding>)> {
    (
        prop_oneof![Just(false), Just(true), Just(true)],
        10u32..=90,
        10u32..=90,
        any::<[u128; 2]>(),
        prop_oneof![Just(0u64), 0u64..=1 << 32, Just(1 << 32)],
        1u32..=100,
        1u64..=1 << 10,
    )
        .prop_flat_map(|(raw, bits0, bits1, mantissa, part, supply_bits, depth)| {
            let x = (1u128 << (bits0 - 1)) | (mantissa[0] >> (129 - bits0));
            let y = (1u128 << (bits1 - 1)) | (mantissa[1] >> (129 - bits1));
            // The pair at the pool's price, `depth / 2^8` times its size.
            let r0 = (mul_div_u256(u256(x), U256::from(depth), U256::from(256u64), Rounding::Down).unwrap())
                .min(u256((1 << 112) - 1))
                .to::<u128>()
                .max(1);
            let r1 = (mul_div_u256(u256(y), U256::from(depth), U256::from(256u64), Rounding::Down).unwrap())
                .min(u256((1 << 112) - 1))
                .to::<u128>()
                .max(1);
            let supply = (U256::from(1u64) << (supply_bits as usize)) - U256::from(1u64);
            let lp = (supply * U256::from(part)) >> 32;
            let held = PoolHoldings {
                raw0: if raw { x } else { 0 },
                raw1: if raw { y } else { 0 },
                lp,
            };
            let p = PairState {
                reserve0: r0,
                reserve1: r1,
                total_supply: supply,
            };
            let center = sqrt_u256((u256(y) << 128) / u256(x)).to::<u128>();
            let liquidity: U256 = pool_liquidity(&held, &p).unwrap().max(U256::from(1u64));
            let compounding = (
                [0u128..=256, 0u128..=256],
                movement(),
                prop_oneof![2 => Just(u64::MAX), 1 => any::<u64>()],
            )
                .prop_map(move |(f, moves, along)| Compounding {
                    reserves: [x / 256 * f[0], y / 256 * f[1]],
                    moves,
                    along,
                });
            (
                Just(held),
                Just(p),
                (128u64..=512)
                    .prop_map(move |s| ((liquidity * U256::from(s)) >> 8usize).max(U256::from(1u64))),
                prop::collection::vec(sized_market(center, liquidity), 1..=4),
                prop::collection::vec(compounding, 0..=2),
            )
        })
}
