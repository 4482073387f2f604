//! Fuzz target `swap`: an arbitrary pool (raw fields, or created through `initial_pool`) and up to 8 swaps.
//!
//! For every swap it calls `PoolState::swap`, `quote`, the three `swap_result_*` entry points and
//! `apply_swap_result` (on copies), and checks that nothing panics and that:
//! - `quote` returns exactly what `swap` returns, and a failed swap leaves the state unchanged;
//! - `swap` equals its documented pipeline (pre-swap dynamic-fee update, result, application);
//! - every successful result has `included_fee_input_amount >= excluded_fee_input_amount`, fee parts that add up
//!   without overflow (to `included − excluded` when the fee is on the input), no referral fee without a referral,
//!   no compounding fee without a compounding share; exact in consumes exactly the amount, a partial fill at most
//!   the amount, exact out delivers exactly the amount;
//! - an applied swap accrues exactly its protocol fee; on a concentrated pool that starts within its range the
//!   price stays within `[sqrt_min_price, sqrt_max_price]` and moves in the trade's direction.
#![no_main]

mod common;

use arbitrary::Arbitrary;
use common::{Amount, FeeSpec, PoolSpec, Time};
use damm_math::{
    CollectFeeMode, FeeMode, MathError, PoolState, SwapMode, SwapParams, SwapResult, TradeDirection,
};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct SwapInput {
    a_to_b: bool,
    mode: u8,
    amount: Amount,
    has_referral: bool,
    time: Time,
}

#[derive(Arbitrary, Debug)]
struct Input {
    pool: PoolSpec,
    fees: FeeSpec,
    start_time: u64,
    swaps: Vec<SwapInput>,
}

const MAX_SWAPS: usize = 8;

fuzz_target!(|input: Input| {
    let Some((mut pool, _)) = input.pool.build(&input.fees) else {
        return;
    };
    let mut now = input.start_time;
    for s in input.swaps.iter().take(MAX_SWAPS) {
        now = s.time.after(now);
        let mode = match s.mode % 3 {
            0 => SwapMode::ExactIn,
            1 => SwapMode::PartialFill,
            _ => SwapMode::ExactOut,
        };
        let params = SwapParams {
            direction: TradeDirection::from_a_to_b(s.a_to_b),
            mode,
            amount: s.amount.value(),
            has_referral: s.has_referral,
            current_timestamp: now,
        };
        entry_points(&pool, &params);
        swap(&mut pool, &params);
    }
});

/// `swap` and `quote` on the live pool.
fn swap(pool: &mut PoolState, params: &SwapParams) {
    let before = *pool;
    let quoted = before.quote(params);
    let result = pool.swap(params);
    assert_eq!(quoted, result, "quote differs from swap");
    assert_eq!(
        result,
        pipeline(&before, params),
        "swap differs from its pipeline"
    );
    let result = match result {
        Ok(r) => r,
        Err(_) => {
            assert_eq!(*pool, before, "a failed swap changed the state");
            return;
        }
    };
    assert_ne!(params.amount, 0);
    let fee_mode = before.fee_mode(params.direction, params.has_referral);
    check_result(&before, params.mode, params.amount, fee_mode, &result);
    check_applied(&before, pool, params.direction, &result);
    assert_eq!(result.next_sqrt_price, pool.sqrt_price);
}

/// What `swap` is documented to do, step by step, on a copy.
fn pipeline(pool: &PoolState, params: &SwapParams) -> Result<SwapResult, MathError> {
    if params.amount == 0 {
        return Err(MathError::AmountIsZero);
    }
    let mut next = *pool;
    next.fees
        .dynamic_fee
        .update_pre_swap(next.sqrt_price, params.current_timestamp)?;
    let fee_mode = next.fee_mode(params.direction, params.has_referral);
    let mut result = match params.mode {
        SwapMode::ExactIn => next.swap_result_exact_input(params.amount, fee_mode, params.direction)?,
        SwapMode::PartialFill => {
            let r = next.swap_result_partial_input(params.amount, fee_mode, params.direction)?;
            if r.included_fee_input_amount == 0 {
                return Err(MathError::AmountIsZero);
            }
            r
        }
        SwapMode::ExactOut => next.swap_result_exact_output(params.amount, fee_mode, params.direction)?,
    };
    next.apply_swap_result(&result, fee_mode, params.direction, params.current_timestamp)?;
    result.next_sqrt_price = next.sqrt_price;
    Ok(result)
}

/// The three `swap_result_*` entry points on the pool as it is (no pre-swap update), each result applied to a
/// copy; both fee modes the pool can use for this direction, plus the other (a caller may pass any).
fn entry_points(pool: &PoolState, params: &SwapParams) {
    let own = pool.fee_mode(params.direction, params.has_referral);
    let flipped = FeeMode {
        fees_on_input: !own.fees_on_input,
        ..own
    };
    for fee_mode in [own, flipped] {
        let results = [
            (
                SwapMode::ExactIn,
                pool.swap_result_exact_input(params.amount, fee_mode, params.direction),
            ),
            (
                SwapMode::PartialFill,
                pool.swap_result_partial_input(params.amount, fee_mode, params.direction),
            ),
            (
                SwapMode::ExactOut,
                pool.swap_result_exact_output(params.amount, fee_mode, params.direction),
            ),
        ];
        for (mode, result) in results {
            let Ok(result) = result else { continue };
            check_result(pool, mode, params.amount, fee_mode, &result);
            let mut copy = *pool;
            if copy
                .apply_swap_result(&result, fee_mode, params.direction, params.current_timestamp)
                .is_ok()
                && fee_mode == own
            {
                check_applied(pool, &copy, params.direction, &result);
            }
        }
    }
}

/// Invariants of any successful result.
fn check_result(pool: &PoolState, mode: SwapMode, amount: u128, fee_mode: FeeMode, r: &SwapResult) {
    assert!(
        r.included_fee_input_amount >= r.excluded_fee_input_amount,
        "included input below excluded input: {r:?}"
    );
    let total = r.fees().total().expect("fee parts overflow");
    if fee_mode.fees_on_input {
        assert_eq!(
            total,
            r.included_fee_input_amount - r.excluded_fee_input_amount,
            "fee parts: {r:?}"
        );
    } else {
        assert_eq!(
            r.included_fee_input_amount, r.excluded_fee_input_amount,
            "fee on output taken from input"
        );
    }
    if !fee_mode.has_referral {
        assert_eq!(r.referral_fee, 0, "referral fee without a referral");
    }
    if pool.fees.compounding_fee_bps == 0 {
        assert_eq!(
            r.compounding_fee, 0,
            "compounding fee without a compounding share"
        );
    }
    match mode {
        SwapMode::ExactIn => {
            assert_eq!(
                r.included_fee_input_amount, amount,
                "exact in did not consume the amount"
            );
            assert_eq!(r.amount_left, 0);
        }
        SwapMode::PartialFill => {
            assert!(
                r.included_fee_input_amount <= amount,
                "partial fill consumed more than the amount: {r:?}"
            );
            assert!(r.amount_left <= amount);
        }
        SwapMode::ExactOut => assert_eq!(r.output_amount, amount, "exact out did not deliver the amount"),
    }
}

/// Invariants of a result applied to `after` (from `before`).
fn check_applied(before: &PoolState, after: &PoolState, direction: TradeDirection, r: &SwapResult) {
    let accrued_a = after.protocol_a_fee - before.protocol_a_fee;
    let accrued_b = after.protocol_b_fee - before.protocol_b_fee;
    assert_eq!(
        accrued_a.checked_add(accrued_b),
        Some(r.protocol_fee),
        "protocol fee accrual"
    );
    if before.collect_fee_mode != CollectFeeMode::Compounding
        && before.sqrt_min_price <= before.sqrt_price
        && before.sqrt_price <= before.sqrt_max_price
    {
        assert!(
            after.sqrt_min_price <= after.sqrt_price && after.sqrt_price <= after.sqrt_max_price,
            "price left the range: {} not in [{}, {}]",
            after.sqrt_price,
            after.sqrt_min_price,
            after.sqrt_max_price
        );
        match direction {
            TradeDirection::AtoB => assert!(after.sqrt_price <= before.sqrt_price, "A in raised the price"),
            TradeDirection::BtoA => assert!(after.sqrt_price >= before.sqrt_price, "B in lowered the price"),
        }
    }
}
