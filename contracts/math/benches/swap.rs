//! Swap throughput of the pricing math on realistic ERC-20 sized pools.
//!
//! Pools: a WETH/DAI-like pair (both 18 decimals) at price 2000 (B atoms per A atom), real liquidity 1e24
//! (`L = 1e24 << 64`, a U256), concentrated range [500, 8000] for modes 0 and 1, constant product for mode 2,
//! 0.25 % base fee, optionally the dynamic fee with DAMM v2's default parameters.
//!
//! Every iteration of a `swap/*` benchmark runs a pair of opposite swaps through the full [`PoolState::swap`]
//! (result and application): 1 A in then 2000 B in (exact in), or 2000 B out then 1 A out (exact out). The pair
//! is near-neutral, and the pool is reset to its initial state (outside the timing) every 1024 pairs, so it stays
//! close to its initial price and well inside its range. Throughput is reported per
//! swap (`Throughput::Elements(2)`). `quote/*` benchmarks time the pure quote
//! [`PoolState::swap_result_exact_input`] alone (no state change), also in pairs of opposite directions.
//!
//! Run with `scripts/bench.sh` for a swaps/second summary. Target: >= 2 million exact-in concentrated swaps per
//! second on one core.
#![allow(missing_docs)]

use std::{
    hint::black_box,
    time::{Duration, Instant},
};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use damm_math::{
    constants::BIN_STEP_BPS_U128_DEFAULT,
    liquidity::initial_pool,
    wide::{sqrt_u256, to_u128},
    CollectFeeMode, DynamicFee, PoolFees, PoolState, SwapMode, SwapParams, TradeDirection, U256,
};

/// One ETH (18 decimals).
const ONE: u128 = 1_000_000_000_000_000_000;
/// Real liquidity `sqrt(a·b)` in atoms.
const REAL_LIQUIDITY: u128 = 1_000_000 * ONE;
/// Price, token B atoms per token A atom.
const PRICE: u128 = 2_000;
/// Swap pairs run on one pool before it is reset to its initial state (outside the timing), so neither the
/// price nor the dynamic fee's state drifts far from a freshly created pool.
const CHUNK: u64 = 1_024;
/// Start of the benchmark clock, unix seconds.
const T0: u64 = 1_700_000_000;

/// `sqrt(price) · 2^64`, floor.
fn sqrt_price_q64(price: u128) -> u128 {
    to_u128(sqrt_u256(U256::from(price) << 128usize)).expect("a sqrt of a 256-bit value fits 128 bits")
}

/// DAMM v2's default dynamic-fee parameters (they pass [`DynamicFee::validate`]).
fn dynamic_fee(sqrt_price: u128) -> DynamicFee {
    let fee = DynamicFee {
        initialized: true,
        max_volatility_accumulator: 2_000_000,
        variable_fee_control: 40_000,
        bin_step: 1,
        filter_period: 10,
        decay_period: 120,
        reduction_factor: 5_000,
        last_update_timestamp: T0,
        bin_step_u128: BIN_STEP_BPS_U128_DEFAULT,
        sqrt_price_reference: sqrt_price,
        volatility_accumulator: 0,
        volatility_reference: 0,
    };
    fee.validate().expect("valid dynamic-fee parameters");
    fee
}

/// A freshly created pool of the given mode, built through [`initial_pool`] so its reserves match its curve.
fn pool(mode: CollectFeeMode, with_dynamic_fee: bool) -> PoolState {
    let sqrt_price = sqrt_price_q64(PRICE);
    let liquidity = U256::from(REAL_LIQUIDITY) << 64usize;
    let (sqrt_min, sqrt_max) = match mode {
        CollectFeeMode::Compounding => (0, u128::MAX),
        _ => (sqrt_price_q64(500), sqrt_price_q64(8_000)),
    };
    let init = initial_pool(mode, sqrt_price, liquidity, sqrt_min, sqrt_max).expect("valid pool");
    let fees = PoolFees {
        base_fee_numerator: 2_500_000, // 0.25 %
        compounding_fee_bps: if mode == CollectFeeMode::Compounding {
            5_000
        } else {
            0
        },
        dynamic_fee: if with_dynamic_fee {
            dynamic_fee(init.sqrt_price)
        } else {
            DynamicFee::default()
        },
        ..PoolFees::default()
    };
    PoolState {
        collect_fee_mode: mode,
        sqrt_price: init.sqrt_price,
        sqrt_min_price: init.sqrt_min_price,
        sqrt_max_price: init.sqrt_max_price,
        liquidity: init.pool_liquidity,
        token_a_amount: init.token_a_amount,
        token_b_amount: init.token_b_amount,
        fees,
        fee_a_per_liquidity: U256::ZERO,
        fee_b_per_liquidity: U256::ZERO,
        protocol_a_fee: 0,
        protocol_b_fee: 0,
    }
}

const MODES: [(CollectFeeMode, &str); 3] = [
    (CollectFeeMode::BothToken, "concentrated_both_token"),
    (CollectFeeMode::OnlyB, "concentrated_only_b"),
    (CollectFeeMode::Compounding, "compounding"),
];

const FEES: [(bool, &str); 2] = [(false, "static_fee"), (true, "dynamic_fee")];

/// The pair of opposite swaps one iteration runs: `(A→B, B→A)` with the amounts of `mode`.
fn swap_pair(mode: SwapMode) -> (SwapParams, SwapParams) {
    let (a_to_b_amount, b_to_a_amount) = match mode {
        // 1 A in, then 2000 B in.
        SwapMode::ExactIn | SwapMode::PartialFill => (ONE, PRICE * ONE),
        // 2000 B out, then 1 A out.
        SwapMode::ExactOut => (PRICE * ONE, ONE),
    };
    let params = |direction, amount| SwapParams {
        direction,
        mode,
        amount,
        has_referral: false,
        current_timestamp: T0,
    };
    (
        params(TradeDirection::AtoB, a_to_b_amount),
        params(TradeDirection::BtoA, b_to_a_amount),
    )
}

fn bench_swaps(c: &mut Criterion) {
    for (swap_mode, swap_name) in [(SwapMode::ExactIn, "exact_in"), (SwapMode::ExactOut, "exact_out")] {
        for (mode, mode_name) in MODES {
            let mut group = c.benchmark_group(format!("swap/{swap_name}/{mode_name}"));
            group.throughput(Throughput::Elements(2));
            for (with_dynamic_fee, fee_name) in FEES {
                let start = pool(mode, with_dynamic_fee);
                let (mut first, mut second) = swap_pair(swap_mode);
                // Sanity check outside the timing: both swaps succeed from the initial state.
                let mut check = start;
                check.swap(&first).expect("first swap of the pair");
                check.swap(&second).expect("second swap of the pair");
                group.bench_function(fee_name, |b| {
                    b.iter_custom(|iters| {
                        let mut elapsed = Duration::ZERO;
                        let mut remaining = iters;
                        while remaining > 0 {
                            let chunk = remaining.min(CHUNK);
                            remaining -= chunk;
                            // Reset outside the timing: a fresh pool and clock every CHUNK pairs.
                            let mut state = start;
                            first.current_timestamp = T0;
                            let started = Instant::now();
                            for _ in 0..chunk {
                                // One second per pair, so the dynamic fee's filter/decay windows are exercised.
                                first.current_timestamp += 1;
                                second.current_timestamp = first.current_timestamp;
                                let x = state.swap(black_box(&first)).expect("A to B swap");
                                let y = state.swap(black_box(&second)).expect("B to A swap");
                                black_box((x.output_amount, y.output_amount));
                            }
                            elapsed += started.elapsed();
                            assert!(
                                state.sqrt_min_price <= state.sqrt_price
                                    && state.sqrt_price <= state.sqrt_max_price
                            );
                        }
                        elapsed
                    });
                });
            }
            group.finish();
        }
    }
}

fn bench_quotes(c: &mut Criterion) {
    for (mode, mode_name) in MODES {
        let mut group = c.benchmark_group(format!("quote/exact_in/{mode_name}"));
        group.throughput(Throughput::Elements(2));
        for (with_dynamic_fee, fee_name) in FEES {
            let mut state = pool(mode, with_dynamic_fee);
            if with_dynamic_fee {
                // A non-zero volatility so the variable fee is really computed.
                state.fees.dynamic_fee.volatility_accumulator = 150_000;
            }
            let a_to_b = state.fee_mode(TradeDirection::AtoB, false);
            let b_to_a = state.fee_mode(TradeDirection::BtoA, false);
            state
                .swap_result_exact_input(ONE, a_to_b, TradeDirection::AtoB)
                .expect("A to B quote");
            state
                .swap_result_exact_input(PRICE * ONE, b_to_a, TradeDirection::BtoA)
                .expect("B to A quote");
            group.bench_function(fee_name, |b| {
                b.iter(|| {
                    let s = black_box(&state);
                    let x = s.swap_result_exact_input(black_box(ONE), a_to_b, TradeDirection::AtoB);
                    let y = s.swap_result_exact_input(black_box(PRICE * ONE), b_to_a, TradeDirection::BtoA);
                    (
                        x.expect("A to B quote").output_amount,
                        y.expect("B to A quote").output_amount,
                    )
                });
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench_swaps, bench_quotes);
criterion_main!(benches);
