//! Batch re-execution (`exec.rs`), differentially against the math crate's reference swap:
//!
//! - random batches (both directions, exact in and exact out, non-decreasing timestamps, with and without the
//!   dynamic fee, on `BothToken`, `OnlyB` and compounding markets) run through `execute_batch` end in exactly
//!   the pool state of a replay with `PoolState::swap`, with `seq + 1`, the last op's timestamp, and totals equal
//!   to those computed here from the replay's `SwapResult`s by the flow rule documented in `exec.rs`; the
//!   vault-side conservation identity `in − protocol − referral − out = Δreserve + claiming fees` holds per
//!   token; a limit equal to the actual amount passes;
//! - a failing op is reported with its index and the reference's error; a limit one past the actual amount is
//!   `LimitMissed`;
//! - timestamps in the future or before the market's last trade, empty and malformed batches;
//! - `execute_op` without a referral pays no referral (its share stays with the protocol).

mod common;

use common::{market, mode_strategy, T0};
use damm_market_codec::{encode_batch, execute_batch, execute_op, BatchError, MarketState, Op, Totals};
use damm_math::{CollectFeeMode, MathError, PoolState, SwapMode, SwapParams, SwapResult, TradeDirection};
use proptest::{prelude::*, sample::Index};

fn reference_swap(pool: &mut PoolState, op: &Op, has_referral: bool) -> Result<SwapResult, MathError> {
    pool.swap(&SwapParams {
        direction: if op.zero_for_one {
            TradeDirection::AtoB
        } else {
            TradeDirection::BtoA
        },
        mode: if op.exact_out {
            SwapMode::ExactOut
        } else {
            SwapMode::ExactIn
        },
        amount: op.amount,
        has_referral,
        current_timestamp: op.timestamp,
    })
}

/// Replays `ops` on a copy of `pool` with the reference swap (referral on, as in a batch); stops at the first
/// failure, returning its index and error.
fn replay(pool: &PoolState, ops: &[Op]) -> (PoolState, Vec<SwapResult>, Option<(usize, MathError)>) {
    let mut pool = *pool;
    let mut results = Vec::new();
    for (index, op) in ops.iter().enumerate() {
        match reference_swap(&mut pool, op, true) {
            Ok(r) => results.push(r),
            Err(e) => return (pool, results, Some((index, e))),
        }
    }
    (pool, results, None)
}

/// The flows, LP fees and claiming fees of `results`, by the rule of `exec.rs`'s documentation, with the fee
/// side taken from DAMM v2's table (not from the crate): `BothToken` takes the fee from the output token;
/// `OnlyB` and compounding pools take it in token B, from the output for A→B and from the input for B→A.
fn expected_totals(mode: CollectFeeMode, ops: &[Op], results: &[SwapResult]) -> (Totals, [u128; 2]) {
    let mut flows = [0u128; 8];
    let mut lp_fees = [0u128; 2];
    let mut claiming = [0u128; 2];
    for (op, r) in ops.iter().zip(results) {
        let (token_in, token_out) = if op.zero_for_one { (0, 1) } else { (1, 0) };
        let (fee_token, fee_on_input) = match mode {
            CollectFeeMode::BothToken => (token_out, false),
            _ => (1, !op.zero_for_one),
        };
        flows[token_in] += r.included_fee_input_amount;
        flows[2 + token_out] += r.output_amount;
        flows[4 + fee_token] += r.protocol_fee;
        flows[6 + fee_token] += r.referral_fee;
        if !fee_on_input {
            flows[fee_token] += r.protocol_fee + r.referral_fee;
            flows[2 + fee_token] += r.protocol_fee + r.referral_fee;
        }
        lp_fees[fee_token] += r.claiming_fee + r.compounding_fee;
        claiming[fee_token] += r.claiming_fee;
    }
    (
        Totals {
            swaps: results.len() as u64,
            flows,
            lp_fees,
        },
        claiming,
    )
}

fn signed(v: u128) -> i128 {
    i128::try_from(v).expect("amounts of these tests fit i128")
}

/// Vault-side conservation, per token `t`: what the vault nets in from the counterparty, minus what it pays
/// the treasury and the referrer, minus what it pays out, equals the change of the market's tracked reserve
/// plus the claiming LP fees. DAMM v2's `apply_swap_result` takes every fee part on the output out of the
/// output reserve and puts only the net input (and the compounding fee) into the reserves, so the claiming fee
/// is the one part of the input that the vault keeps outside the tracked reserves (it is owed to the LPs
/// through `fee_*_per_liquidity`); the compounding fee is inside the reserve and the protocol fee is paid out.
fn assert_conservation(before: &PoolState, after: &PoolState, totals: &Totals, claiming: [u128; 2]) {
    let reserve = |p: &PoolState, t: usize| {
        if t == 0 {
            p.token_a_amount
        } else {
            p.token_b_amount
        }
    };
    for t in 0..2 {
        let f = &totals.flows;
        let vault = signed(f[t]) - signed(f[4 + t]) - signed(f[6 + t]) - signed(f[2 + t]);
        let delta = signed(reserve(after, t)) - signed(reserve(before, t));
        assert_eq!(vault, delta + signed(claiming[t]), "token {t}");
    }
    // The protocol flows are what the pool's protocol-fee counters accrued.
    assert_eq!(totals.flows[4], after.protocol_a_fee - before.protocol_a_fee);
    assert_eq!(totals.flows[5], after.protocol_b_fee - before.protocol_b_fee);
}

/// The limit that `op` exactly meets given its result: the output (exact in) or the input (exact out).
fn actual(op: &Op, r: &SwapResult) -> u128 {
    if op.exact_out {
        r.included_fee_input_amount
    } else {
        r.output_amount
    }
}

fn amount_strategy() -> impl Strategy<Value = u128> {
    prop_oneof![
        60 => 1u128..=10u128.pow(19),
        12 => 1u128..=1_000,
        // Large enough to leave a concentrated range or drain a reserve now and then.
        1 => 10u128.pow(20)..=10u128.pow(22),
    ]
}

fn gap_strategy() -> impl Strategy<Value = u64> {
    prop_oneof![
        3 => Just(0u64),
        6 => 1u64..=30,
        2 => 30u64..=300,
        1 => 300u64..=100_000,
    ]
}

prop_compose! {
    fn ops_strategy(max: usize)(
        first_gap in 0u64..=60,
        raw in proptest::collection::vec(
            (any::<bool>(), any::<bool>(), amount_strategy(), gap_strategy()),
            1..=max,
        ),
    ) -> Vec<Op> {
        let mut t = T0 + first_gap;
        raw.into_iter()
            .enumerate()
            .map(|(i, (zero_for_one, exact_out, amount, gap))| {
                if i > 0 {
                    t += gap;
                }
                Op { zero_for_one, exact_out, amount, limit: None, timestamp: t }
            })
            .collect()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn batch_matches_the_reference_swap(
        mode in mode_strategy(),
        dynamic in any::<bool>(),
        ops in ops_strategy(30),
        slack in 0u64..=100,
    ) {
        let start = market(mode, dynamic);
        let now = ops.last().unwrap().timestamp + slack;
        let bytes = encode_batch(start.last_timestamp, &ops).unwrap();
        let mut state = start;
        let outcome = execute_batch(&mut state, &bytes, now);
        let (pool, results, failure) = replay(&start.pool, &ops);
        match failure {
            Some((index, error)) => {
                prop_assert_eq!(outcome, Err(BatchError::Swap { index, error }));
            }
            None => {
                let totals = outcome.unwrap();
                let (expected, claiming) = expected_totals(mode, &ops, &results);
                prop_assert_eq!(totals, expected);
                prop_assert_eq!(state.pool, pool);
                prop_assert_eq!(state.seq, start.seq + 1);
                prop_assert_eq!(state.last_timestamp, ops.last().unwrap().timestamp);
                assert_conservation(&start.pool, &state.pool, &totals, claiming);
                // Non-compounding markets: the LP fees are exactly the claiming fees.
                if mode != CollectFeeMode::Compounding {
                    prop_assert_eq!(totals.lp_fees, claiming);
                }

                // Every op at exactly its limit still passes, with the same outcome.
                let limited: Vec<Op> = ops
                    .iter()
                    .zip(&results)
                    .map(|(op, r)| Op { limit: Some(actual(op, r)), ..*op })
                    .collect();
                let mut again = start;
                let bytes = encode_batch(start.last_timestamp, &limited).unwrap();
                prop_assert_eq!(execute_batch(&mut again, &bytes, now), Ok(totals));
                prop_assert_eq!(again, state);
            }
        }
    }

    #[test]
    fn a_missed_limit_is_reported(
        mode in mode_strategy(),
        dynamic in any::<bool>(),
        ops in ops_strategy(12),
        pick in any::<Index>(),
    ) {
        let start = market(mode, dynamic);
        let (_, results, _) = replay(&start.pool, &ops);
        // Only the ops that succeed in the reference.
        let mut ops = ops[..results.len()].to_vec();
        if ops.is_empty() {
            return Ok(());
        }
        let k = pick.index(ops.len());
        let amount = actual(&ops[k], &results[k]);
        let limit = if ops[k].exact_out {
            if amount == 0 {
                return Ok(());
            }
            amount - 1
        } else {
            amount + 1
        };
        ops[k].limit = Some(limit);
        let bytes = encode_batch(start.last_timestamp, &ops).unwrap();
        let mut state = start;
        let now = ops.last().unwrap().timestamp;
        prop_assert_eq!(
            execute_batch(&mut state, &bytes, now),
            Err(BatchError::LimitMissed { index: k, amount, limit })
        );
    }
}

fn op(zero_for_one: bool, exact_out: bool, amount: u128, timestamp: u64) -> Op {
    Op {
        zero_for_one,
        exact_out,
        amount,
        limit: None,
        timestamp,
    }
}

#[test]
fn failing_ops_carry_their_index_and_the_math_error() {
    let small = |t| op(true, false, 10u128.pow(18), t);
    for mode in [
        CollectFeeMode::BothToken,
        CollectFeeMode::OnlyB,
        CollectFeeMode::Compounding,
    ] {
        let start = market(mode, true);
        let cases: Vec<(Op, Option<MathError>)> = vec![
            // A zero amount.
            (op(true, false, 0, T0 + 2), Some(MathError::AmountIsZero)),
            (op(false, true, 0, T0 + 2), Some(MathError::AmountIsZero)),
            // Out of a concentrated range (A in: the price falls below √Pmin = 1/4, capacity 3e21 A).
            (
                op(true, false, 4 * 10u128.pow(21), T0 + 2),
                if mode == CollectFeeMode::Compounding {
                    None
                } else {
                    Some(MathError::PriceRangeViolation)
                },
            ),
            // More output than the reserve holds (either kind of pool: the math decides which error).
            (op(false, true, 2 * 10u128.pow(21), T0 + 2), None),
            (op(true, true, u128::MAX, T0 + 2), None),
        ];
        for (bad, known) in cases {
            let ops = [small(T0), small(T0 + 1), bad, small(T0 + 3)];
            let (_, results, failure) = replay(&start.pool, &ops);
            let Some((index, error)) = failure else {
                // Compounding pools have no range: the big input simply succeeds.
                assert_eq!(mode, CollectFeeMode::Compounding);
                assert_eq!(results.len(), 4);
                continue;
            };
            assert_eq!(index, 2, "{mode:?} {bad:?}");
            if let Some(known) = known {
                assert_eq!(error, known, "{mode:?} {bad:?}");
            }
            let mut state = start;
            let bytes = encode_batch(T0, &ops).unwrap();
            assert_eq!(
                execute_batch(&mut state, &bytes, T0 + 10),
                Err(BatchError::Swap { index: 2, error }),
                "{mode:?} {bad:?}"
            );
        }
    }
}

#[test]
fn limits_by_hand() {
    let start = market(CollectFeeMode::BothToken, false);
    // `op` alone in a batch with limit `limit`, run at its time.
    let alone_with_limit = |op: Op, limit: u128| {
        let mut state = start;
        let bytes = encode_batch(
            T0,
            &[Op {
                limit: Some(limit),
                ..op
            }],
        )
        .unwrap();
        execute_batch(&mut state, &bytes, op.timestamp)
    };
    let buy = op(false, false, 10u128.pow(18), T0 + 1);
    let mut pool = start.pool;
    let r = reference_swap(&mut pool, &buy, true).unwrap();
    // Exact in: the limit is a minimum output.
    for (limit, ok) in [
        (0, true),
        (r.output_amount, true),
        (r.output_amount + 1, false),
        (u128::MAX, false),
    ] {
        let outcome = alone_with_limit(buy, limit);
        if ok {
            // BothToken B→A: the fee is on the output token A, whose protocol and referral parts are in out0.
            assert_eq!(
                outcome.map(|t| t.flows[2]),
                Ok(r.output_amount + r.protocol_fee + r.referral_fee)
            );
        } else {
            assert_eq!(
                outcome,
                Err(BatchError::LimitMissed {
                    index: 0,
                    amount: r.output_amount,
                    limit
                })
            );
        }
    }
    // Exact out: the limit is a maximum input.
    let sell = op(true, true, 10u128.pow(18), T0 + 1);
    let mut pool = start.pool;
    let r = reference_swap(&mut pool, &sell, true).unwrap();
    assert!(r.included_fee_input_amount > 10u128.pow(18));
    for (limit, ok) in [
        (u128::MAX, true),
        (r.included_fee_input_amount, true),
        (r.included_fee_input_amount - 1, false),
        (0, false),
    ] {
        let outcome = alone_with_limit(sell, limit);
        if ok {
            assert_eq!(outcome.map(|t| t.flows[0]), Ok(r.included_fee_input_amount));
        } else {
            assert_eq!(
                outcome,
                Err(BatchError::LimitMissed {
                    index: 0,
                    amount: r.included_fee_input_amount,
                    limit
                })
            );
        }
    }
}

#[test]
fn timestamps() {
    let start = market(CollectFeeMode::OnlyB, true);
    let ops = [
        op(true, false, 1000, T0 + 1),
        op(false, false, 1000, T0 + 5),
        op(true, true, 1000, T0 + 10),
    ];
    let bytes = encode_batch(T0, &ops).unwrap();

    // The last op is after the block.
    let mut state = start;
    assert_eq!(
        execute_batch(&mut state, &bytes, T0 + 7),
        Err(BatchError::TimestampInFuture {
            index: 2,
            timestamp: T0 + 10,
            now: T0 + 7
        })
    );
    // Every op after the block: the first one is reported.
    let mut state = start;
    assert_eq!(
        execute_batch(&mut state, &bytes, T0),
        Err(BatchError::TimestampInFuture {
            index: 0,
            timestamp: T0 + 1,
            now: T0
        })
    );
    // At the block's time exactly: fine.
    let mut state = start;
    assert!(execute_batch(&mut state, &bytes, T0 + 10).is_ok());
    assert_eq!(state.last_timestamp, T0 + 10);

    // Before the market's last trade.
    let early = [op(true, false, 1000, T0 - 5), op(true, false, 1000, T0 + 1)];
    let mut state = start;
    assert_eq!(
        execute_batch(&mut state, &encode_batch(T0 - 10, &early).unwrap(), T0 + 10),
        Err(BatchError::TimestampDecreased {
            index: 0,
            timestamp: T0 - 5,
            last: T0
        })
    );
    assert_eq!(state, start, "nothing ran");
    // At the last trade's time exactly: fine.
    let mut state = start;
    let same = [op(true, false, 1000, T0)];
    assert!(execute_batch(&mut state, &encode_batch(T0, &same).unwrap(), T0).is_ok());
    assert_eq!(state.last_timestamp, T0);
    assert_eq!(state.seq, 1);

    // A second batch starting before the first one's last op.
    let mut state = start;
    execute_batch(&mut state, &bytes, T0 + 10).unwrap();
    let after_first = state;
    let second = [op(true, false, 1000, T0 + 9)];
    assert_eq!(
        execute_batch(&mut state, &encode_batch(T0 + 9, &second).unwrap(), T0 + 20),
        Err(BatchError::TimestampDecreased {
            index: 0,
            timestamp: T0 + 9,
            last: T0 + 10
        })
    );
    assert_eq!(state, after_first);
}

#[test]
fn empty_and_malformed_batches() {
    let start = market(CollectFeeMode::BothToken, false);

    // The header alone.
    let mut state = start;
    assert_eq!(
        execute_batch(&mut state, &T0.to_be_bytes(), T0 + 1),
        Err(BatchError::Empty)
    );
    assert_eq!(state, start);

    // Shorter than the header.
    for len in 0..8 {
        let mut state = start;
        assert_eq!(
            execute_batch(&mut state, &T0.to_be_bytes()[..len], T0 + 1),
            Err(BatchError::Malformed { offset: 0 })
        );
        assert_eq!(state, start);
    }

    // limit_len 17.
    let mut bytes = T0.to_be_bytes().to_vec();
    bytes.extend_from_slice(&[0b1000_0000, 17, 5]);
    let mut state = start;
    assert_eq!(
        execute_batch(&mut state, &bytes, T0 + 1),
        Err(BatchError::Malformed { offset: 9 })
    );
    assert_eq!(state, start);

    // A valid op followed by a truncated one: the malformed op is reported (after the first one ran).
    let good = op(true, false, 1000, T0 + 1);
    let mut bytes = encode_batch(T0, &[good, good]).unwrap();
    bytes.pop();
    let mut state = start;
    let outcome = execute_batch(&mut state, &bytes, T0 + 1);
    assert!(
        matches!(outcome, Err(BatchError::Malformed { offset }) if offset > 8 && offset <= bytes.len()),
        "{outcome:?}"
    );
    assert_eq!(state.seq, start.seq, "seq moves only on success");
}

#[test]
fn execute_op_without_referral_pays_none() {
    for mode in [
        CollectFeeMode::BothToken,
        CollectFeeMode::OnlyB,
        CollectFeeMode::Compounding,
    ] {
        for (zero_for_one, exact_out) in [(true, false), (false, false), (true, true), (false, true)] {
            let start = market(mode, true);
            let o = op(zero_for_one, exact_out, 10u128.pow(18), T0 + 3);

            let mut without = start;
            let mut totals_without = Totals::default();
            let r0 = execute_op(&mut without, &o, 0, false, T0 + 3, &mut totals_without).unwrap();
            let mut with = start;
            let mut totals_with = Totals::default();
            let r1 = execute_op(&mut with, &o, 0, true, T0 + 3, &mut totals_with).unwrap();

            assert_eq!(r0.referral_fee, 0);
            assert_eq!(totals_without.flows[6..], [0, 0], "{mode:?} {o:?}");
            assert!(r1.referral_fee > 0, "{mode:?} {o:?}");
            assert!(totals_with.flows[6] + totals_with.flows[7] > 0);
            // The referral share is carved out of the protocol fee: without a referrer the protocol keeps it.
            assert_eq!(r0.protocol_fee, r1.protocol_fee + r1.referral_fee);
            assert_eq!(
                totals_without.flows[4] + totals_without.flows[5],
                totals_with.flows[4] + totals_with.flows[5] + totals_with.flows[6] + totals_with.flows[7]
            );
            // Same trade otherwise.
            assert_eq!(r0.output_amount, r1.output_amount);
            assert_eq!(r0.included_fee_input_amount, r1.included_fee_input_amount);
            assert_eq!(totals_without.swaps, 1);
            assert_eq!(totals_without.lp_fees, totals_with.lp_fees);

            // Matches the reference swap without referral; execute_op moves the time but not seq.
            let mut pool = start.pool;
            assert_eq!(reference_swap(&mut pool, &o, false), Ok(r0));
            assert_eq!(without.pool, pool);
            assert_eq!(without.last_timestamp, T0 + 3);
            assert_eq!(without.seq, start.seq);
            let (expected, claiming) = expected_totals(mode, &[o], &[r0]);
            assert_eq!(totals_without, expected);
            assert_conservation(&start.pool, &without.pool, &totals_without, claiming);
        }
    }
}

#[test]
fn execute_op_checks_time_and_limit_and_keeps_totals_on_error() {
    let start = market(CollectFeeMode::BothToken, false);
    let o = op(true, false, 10u128.pow(18), T0 + 3);
    let mut totals = Totals::default();

    let mut state = start;
    assert_eq!(
        execute_op(&mut state, &o, 4, true, T0 + 2, &mut totals),
        Err(BatchError::TimestampInFuture {
            index: 4,
            timestamp: T0 + 3,
            now: T0 + 2
        })
    );
    assert_eq!(state, start);
    let mut state = MarketState {
        last_timestamp: T0 + 4,
        ..start
    };
    assert_eq!(
        execute_op(&mut state, &o, 4, true, T0 + 9, &mut totals),
        Err(BatchError::TimestampDecreased {
            index: 4,
            timestamp: T0 + 3,
            last: T0 + 4
        })
    );
    assert_eq!(totals, Totals::default());

    // A missed limit: reported, no flows, the trade's time not recorded.
    let mut state = start;
    let missed = Op {
        limit: Some(u128::MAX),
        ..o
    };
    let outcome = execute_op(&mut state, &missed, 0, true, T0 + 3, &mut totals);
    assert!(
        matches!(outcome, Err(BatchError::LimitMissed { index: 0, .. })),
        "{outcome:?}"
    );
    assert_eq!(totals, Totals::default());
    assert_eq!(state.last_timestamp, start.last_timestamp);
    assert_eq!(state.seq, start.seq);
}

/// A refused op leaves everything as it was: a missed limit is found after the swap is computed, and the swap
/// must not have been applied (an off-chain quoter reuses the state after a refused trade).
#[test]
fn execute_op_missed_limit_leaves_the_pool_unchanged() {
    let start = market(CollectFeeMode::BothToken, false);
    let missed = Op {
        limit: Some(u128::MAX),
        ..op(true, false, 10u128.pow(18), T0 + 3)
    };
    let mut state = start;
    let mut totals = Totals::default();
    assert!(execute_op(&mut state, &missed, 0, true, T0 + 3, &mut totals).is_err());
    assert_eq!(state.pool, start.pool);
}
