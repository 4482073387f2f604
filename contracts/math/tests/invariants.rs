//! Property tests: the invariants the pool's safety rests on, over random inputs.
//!
//! - the pool never loses to rounding (a round trip never returns more than was put in; an exact-out's input
//!   buys at least the requested output);
//! - rounding up minus rounding down is at most 1;
//! - a concentrated pool's price never leaves its range, and its tracked reserves always cover what the curve
//!   owes (they never go "negative"); a compounding pool's `a·b` never shrinks;
//! - the total fee never exceeds its cap, and the fee parts add up;
//! - rewards never pay out more than was funded.
#![allow(missing_docs)]

use damm_math::{
    constants::{max_fee_numerator, BIN_STEP_BPS_U128_DEFAULT, MAX_SQRT_PRICE, MIN_SQRT_PRICE, ONE_Q64},
    curve::{delta_a, delta_b},
    fee::{excluded_fee_amount, included_fee_amount},
    liquidity::initial_pool,
    wide::{mul_div_u256, u256},
    CollectFeeMode, DynamicFee, MathError, PoolFees, PoolState, PositionReward, RewardInfo, Rounding,
    SwapMode, SwapParams, TradeDirection, U256,
};
use proptest::prelude::*;

fn mode() -> impl Strategy<Value = CollectFeeMode> {
    prop_oneof![Just(CollectFeeMode::BothToken), Just(CollectFeeMode::OnlyB)]
}

fn dynamic_fee() -> impl Strategy<Value = DynamicFee> {
    prop_oneof![
        Just(DynamicFee::default()),
        (
            0u32..=0xFF_FFFF,
            0u32..=0xFF_FFFF,
            0u16..100,
            100u16..1000,
            0u16..=10_000
        )
            .prop_map(|(max_va, vfc, f, d, r)| {
                DynamicFee {
                    initialized: true,
                    max_volatility_accumulator: max_va,
                    variable_fee_control: vfc,
                    bin_step: 1,
                    filter_period: f,
                    decay_period: d,
                    reduction_factor: r,
                    bin_step_u128: BIN_STEP_BPS_U128_DEFAULT,
                    ..DynamicFee::default()
                }
            }),
    ]
}

/// A valid concentrated pool, created as DAMM v2 creates one (reserves from the curve, rounded up).
fn concentrated_pool() -> impl Strategy<Value = PoolState> {
    (
        mode(),
        // √Pmin, √Pmax as Q64.64 around 1.0 (factor up to 2^±20), current price between them.
        (1u128..1 << 20, 1u128..1 << 20, 0u128..=1_000_000),
        // Real liquidity: 1 .. 2^100 (beyond u64 amounts: ERC-20 sizes).
        (1u128..=1 << 100),
        (0u64..=500_000_000, 0u8..=1),
        dynamic_fee(),
    )
        .prop_filter_map(
            "valid range",
            |(mode, (lo, hi, pos), real_l, (fee, version), dynamic)| {
                let sqrt_min = (ONE_Q64 / lo).max(MIN_SQRT_PRICE);
                let sqrt_max = ONE_Q64.checked_mul(hi)?.min(MAX_SQRT_PRICE);
                if sqrt_min >= sqrt_max {
                    return None;
                }
                let sqrt_price = sqrt_min + ((sqrt_max - sqrt_min) / 1_000_000) * pos;
                let liquidity = u256(real_l) << 64usize;
                let init = initial_pool(mode, sqrt_price, liquidity, sqrt_min, sqrt_max).ok()?;
                Some(PoolState {
                    collect_fee_mode: mode,
                    sqrt_price,
                    sqrt_min_price: sqrt_min,
                    sqrt_max_price: sqrt_max,
                    liquidity,
                    token_a_amount: init.token_a_amount,
                    token_b_amount: init.token_b_amount,
                    fees: PoolFees {
                        base_fee_numerator: fee,
                        fee_version: version,
                        dynamic_fee: dynamic,
                        ..PoolFees::default()
                    },
                    fee_a_per_liquidity: U256::ZERO,
                    fee_b_per_liquidity: U256::ZERO,
                    protocol_a_fee: 0,
                    protocol_b_fee: 0,
                })
            },
        )
}

fn compounding_pool() -> impl Strategy<Value = PoolState> {
    (
        1u128..=1 << 100,
        1u128..=1 << 100,
        0u64..=500_000_000,
        1u16..=10_000,
    )
        .prop_map(|(a, b, fee, bps)| {
            let sqrt_price = damm_math::compounding::sqrt_price_from_amounts(a, b).unwrap();
            PoolState {
                collect_fee_mode: CollectFeeMode::Compounding,
                sqrt_price,
                sqrt_min_price: 0,
                sqrt_max_price: u128::MAX,
                liquidity: damm_math::wide::sqrt_u256(u256(a) * u256(b)) << 64usize,
                token_a_amount: a,
                token_b_amount: b,
                fees: PoolFees {
                    base_fee_numerator: fee,
                    compounding_fee_bps: bps,
                    ..PoolFees::default()
                },
                fee_a_per_liquidity: U256::ZERO,
                fee_b_per_liquidity: U256::ZERO,
                protocol_a_fee: 0,
                protocol_b_fee: 0,
            }
        })
}

fn swap_params() -> impl Strategy<Value = SwapParams> {
    (
        any::<bool>(),
        0u8..3,
        1u128..=1 << 110,
        any::<bool>(),
        0u64..10_000,
    )
        .prop_map(|(a_to_b, m, amount, referral, t)| {
            SwapParams {
                direction: TradeDirection::from_a_to_b(a_to_b),
                mode: [SwapMode::ExactIn, SwapMode::PartialFill, SwapMode::ExactOut][m as usize],
                // Spread amounts over many magnitudes.
                amount: amount >> (t % 100),
                has_referral: referral,
                current_timestamp: t,
            }
        })
}

fn opposite(d: TradeDirection) -> TradeDirection {
    match d {
        TradeDirection::AtoB => TradeDirection::BtoA,
        TradeDirection::BtoA => TradeDirection::AtoB,
    }
}

/// What the curve owes at the current price if all liquidity left: `(Δa(√P, √Pmax), Δb(√Pmin, √P))`, floored.
fn curve_owes(pool: &PoolState) -> (u128, u128) {
    let a = delta_a(
        pool.sqrt_price,
        pool.sqrt_max_price,
        pool.liquidity,
        Rounding::Down,
    )
    .unwrap();
    let b = delta_b(
        pool.sqrt_min_price,
        pool.sqrt_price,
        pool.liquidity,
        Rounding::Down,
    )
    .unwrap();
    (a, b)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10_000, ..ProptestConfig::default() })]

    #[test]
    fn rounding_up_minus_down_is_at_most_one(lo in MIN_SQRT_PRICE..MAX_SQRT_PRICE, width in 0u128..u128::MAX, l in any::<u128>(), hi_l in 0u64..1 << 20) {
        let hi = lo.saturating_add(width).min(MAX_SQRT_PRICE);
        let liquidity = u256(l) + (U256::from(hi_l) << 128usize);
        if let (Ok(up), Ok(down)) = (delta_a(lo, hi, liquidity, Rounding::Up), delta_a(lo, hi, liquidity, Rounding::Down)) {
            prop_assert!(up >= down && up - down <= 1);
        }
        if let (Ok(up), Ok(down)) = (delta_b(lo, hi, liquidity, Rounding::Up), delta_b(lo, hi, liquidity, Rounding::Down)) {
            prop_assert!(up >= down && up - down <= 1);
        }
        let (x, y, d) = (u256(l), u256(width), u256(lo));
        if let (Some(up), Some(down)) = (mul_div_u256(x, y, d, Rounding::Up), mul_div_u256(x, y, d, Rounding::Down)) {
            prop_assert!(up >= down && up - down <= U256::from(1u8));
        }
    }

    #[test]
    fn fee_gross_up_covers_the_net_amount(n in 0u64..1_000_000_000, amount in any::<u128>()) {
        if let Ok((included, fee)) = included_fee_amount(n, amount) {
            prop_assert_eq!(included - fee, amount);
            // Taking the fee back off the grossed-up amount leaves at least the net amount.
            let (excluded, _) = excluded_fee_amount(n, included).unwrap();
            prop_assert!(excluded >= amount);
        }
        let (excluded, fee) = excluded_fee_amount(n, amount).unwrap();
        prop_assert_eq!(excluded + fee, amount);
    }

    #[test]
    fn round_trip_never_returns_more_than_was_put_in(pool in concentrated_pool(), a_to_b in any::<bool>(), amount in 1u128..=1 << 100) {
        let mut p = pool;
        p.fees.dynamic_fee = DynamicFee::default();
        let dir = TradeDirection::from_a_to_b(a_to_b);
        let first = SwapParams { direction: dir, mode: SwapMode::ExactIn, amount, has_referral: false, current_timestamp: 0 };
        if let Ok(r1) = p.swap(&first) {
            if r1.output_amount > 0 {
                let back = SwapParams { direction: opposite(dir), amount: r1.output_amount, ..first };
                if let Ok(r2) = p.swap(&back) {
                    prop_assert!(r2.output_amount <= amount, "put in {amount}, got back {}", r2.output_amount);
                }
            }
        }
    }

    #[test]
    fn compounding_round_trip_never_returns_more(pool in compounding_pool(), a_to_b in any::<bool>(), amount in 1u128..=1 << 100) {
        let mut p = pool;
        let dir = TradeDirection::from_a_to_b(a_to_b);
        let first = SwapParams { direction: dir, mode: SwapMode::ExactIn, amount, has_referral: false, current_timestamp: 0 };
        if let Ok(r1) = p.swap(&first) {
            if r1.output_amount > 0 {
                let back = SwapParams { direction: opposite(dir), amount: r1.output_amount, ..first };
                if let Ok(r2) = p.swap(&back) {
                    prop_assert!(r2.output_amount <= amount);
                }
            }
        }
    }

    #[test]
    fn exact_out_input_buys_at_least_the_output(pool in concentrated_pool(), params in swap_params()) {
        let p = SwapParams { mode: SwapMode::ExactOut, ..params };
        if let Ok(r) = pool.quote(&p) {
            prop_assert_eq!(r.output_amount, p.amount);
            // Paying the exact-out's input as an exact-in buys at least as much.
            let back = SwapParams { mode: SwapMode::ExactIn, amount: r.included_fee_input_amount, ..p };
            match pool.quote(&back) {
                Ok(r2) => prop_assert!(r2.output_amount >= p.amount, "exact out {} for {}, exact in gives {}", p.amount, r.included_fee_input_amount, r2.output_amount),
                // The exact-out landed on the range edge and rounding makes the exact-in cross it: still safe.
                Err(MathError::PriceRangeViolation) => {}
                Err(e) => prop_assert!(false, "exact in failed: {e}"),
            }
        }
    }

    #[test]
    fn price_stays_in_range_and_reserves_cover_the_curve(pool in concentrated_pool(), swaps in proptest::collection::vec(swap_params(), 1..12)) {
        let mut p = pool;
        let mut t = 0;
        for mut s in swaps {
            t += s.current_timestamp % 50;
            s.current_timestamp = t;
            let before = p;
            match p.swap(&s) {
                Ok(r) => {
                    prop_assert!(p.sqrt_price >= p.sqrt_min_price && p.sqrt_price <= p.sqrt_max_price);
                    prop_assert!(r.included_fee_input_amount >= r.excluded_fee_input_amount);
                    prop_assert!(r.fees().total().is_ok());
                    let (owed_a, owed_b) = curve_owes(&p);
                    prop_assert!(p.token_a_amount >= owed_a, "A reserve {} < curve {}", p.token_a_amount, owed_a);
                    prop_assert!(p.token_b_amount >= owed_b, "B reserve {} < curve {}", p.token_b_amount, owed_b);
                }
                Err(_) => prop_assert_eq!(p, before),
            }
        }
    }

    #[test]
    fn compounding_product_never_shrinks(pool in compounding_pool(), swaps in proptest::collection::vec(swap_params(), 1..12)) {
        let mut p = pool;
        for s in swaps {
            let k_before = u256(p.token_a_amount) * u256(p.token_b_amount);
            let before = p;
            match p.swap(&s) {
                Ok(_) => {
                    let k_after = u256(p.token_a_amount) * u256(p.token_b_amount);
                    prop_assert!(k_after >= k_before);
                    prop_assert!(p.token_a_amount > 0 && p.token_b_amount > 0);
                }
                Err(_) => prop_assert_eq!(p, before),
            }
        }
    }

    #[test]
    fn total_fee_never_exceeds_its_cap(base in any::<u64>(), va in any::<u128>(), vfc in any::<u32>(), version in 0u8..=1) {
        let fees = PoolFees {
            base_fee_numerator: base,
            fee_version: version,
            dynamic_fee: DynamicFee { initialized: true, volatility_accumulator: va >> (vfc % 128), variable_fee_control: vfc, bin_step: 1, ..DynamicFee::default() },
            ..PoolFees::default()
        };
        if let Ok(n) = fees.total_fee_numerator() {
            prop_assert!(n <= max_fee_numerator(version).unwrap());
        }
    }

    #[test]
    fn rewards_never_pay_out_more_than_funded(
        duration in 86_400u64..=31_536_000,
        fundings in proptest::collection::vec((1u128..=1 << 90, 0u64..200_000), 1..4),
        positions in proptest::collection::vec(1u128..=1 << 80, 1..5),
        steps in proptest::collection::vec((0usize..5, 0u64..100_000), 1..20),
    ) {
        let mut reward = RewardInfo::new(duration).unwrap();
        let liquidity: Vec<U256> = positions.iter().map(|l| u256(*l) << 64usize).collect();
        let supply = liquidity.iter().fold(U256::ZERO, |acc, l| acc + l);
        let mut users = vec![PositionReward::default(); liquidity.len()];
        let mut now = 0u64;
        let mut funded = 0u128;
        let mut fundings = fundings.into_iter();
        for (who, dt) in steps {
            now += dt;
            if who == 4 {
                if let Some((amount, _)) = fundings.next() {
                    reward.fund(amount, now, supply, true).unwrap();
                    funded += amount;
                }
            }
            reward.update_rewards(supply, now).unwrap();
            let i = who % users.len();
            users[i].update(liquidity[i], reward.reward_per_token_stored).unwrap();
        }
        now += duration * 2;
        reward.update_rewards(supply, now).unwrap();
        let mut paid = 0u128;
        for (u, l) in users.iter_mut().zip(&liquidity) {
            u.update(*l, reward.reward_per_token_stored).unwrap();
            paid += u.claim();
        }
        prop_assert!(paid <= funded, "paid {paid} of {funded} funded");
    }
}
