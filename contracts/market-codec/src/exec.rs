//! Re-execution of a batch (or of one L1 swap) and its net flows with the vault.
//!
//! # Flows
//! [`Totals::flows`] is the vault's `settle` layout `[in0, in1, out0, out1, protocol0, protocol1, referral0,
//! referral1]`: the counterparty pays `in` and receives `out` (the vault nets them per token); of the inputs,
//! the protocol fee accrues to the treasury and the referral fee goes to the referrer; the rest, LP fees
//! included, stays in the pool. A swap adds its input (fee included) to `in` and its output (fee excluded) to
//! `out`. When DAMM v2 takes the fee from the *output* token (`BothToken` pools, and A→B swaps of `OnlyB` and
//! compounding pools), the protocol and referral parts leave the pool in the output token: they are added to
//! both `in` and `out` of that token, so the vault's netting still pays the trader exactly its output while the
//! pool's holding of that token falls by output + protocol + referral, and the LP part never leaves.

use damm_math::{MathError, PoolState, SwapMode, SwapParams, SwapResult, TradeDirection};

use crate::{batch::BatchReader, MarketState, Op};

/// Why a batch (or swap) fails. `index` is the op's position in the batch (0 for an L1 swap).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchError {
    /// `ops` is not a valid encoding; `offset` is the first bad byte.
    Malformed {
        /// Byte offset in `ops`.
        offset: usize,
    },
    /// The batch has no op.
    Empty,
    /// Op `index` is earlier than the market's last trade.
    TimestampDecreased {
        /// Index of the op.
        index: usize,
        /// Its timestamp.
        timestamp: u64,
        /// The market's last trade.
        last: u64,
    },
    /// Op `index` is later than the block.
    TimestampInFuture {
        /// Index of the op.
        index: usize,
        /// Its timestamp.
        timestamp: u64,
        /// The block's timestamp.
        now: u64,
    },
    /// The math refused op `index` (for example `PriceRangeViolation` beyond a concentrated range).
    Swap {
        /// Index of the op.
        index: usize,
        /// The math's error.
        error: MathError,
    },
    /// Op `index` missed its limit: `amount` is its output (exact in) or input (exact out).
    LimitMissed {
        /// Index of the op.
        index: usize,
        /// Output (exact in) or input (exact out) the trade gets.
        amount: u128,
        /// The op's limit.
        limit: u128,
    },
}

/// What a batch adds up to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Swaps executed.
    pub swaps: u64,
    /// Net flows with the vault, in the layout of `settle` (see the module documentation).
    pub flows: [u128; 8],
    /// LP fees (claiming plus compounding) per token: they stay in the pool.
    pub lp_fees: [u128; 2],
}

impl Totals {
    fn add(&mut self, i: usize, amount: u128, index: usize) -> Result<(), BatchError> {
        self.flows[i] = self.flows[i].checked_add(amount).ok_or(BatchError::Swap {
            index,
            error: MathError::MathOverflow,
        })?;
        Ok(())
    }
}

/// Executes `op` (op number `index` of its batch) on `state` at `op.timestamp`, checking that the timestamp
/// is neither before the market's last trade nor after `now`, and its limit; adds its flows to `totals`.
/// `has_referral` carves the referral share out of the protocol fee (always for a batch: the operator is the
/// referrer). On success the state's `last_timestamp` is the op's; `seq` is not changed (see
/// [`execute_batch`]).
///
/// # Errors
/// [`BatchError`]; the pricing state is unchanged on error (a swap is all or nothing).
pub fn execute_op(
    state: &mut MarketState,
    op: &Op,
    index: usize,
    has_referral: bool,
    now: u64,
    totals: &mut Totals,
) -> Result<SwapResult, BatchError> {
    if op.timestamp < state.last_timestamp {
        return Err(BatchError::TimestampDecreased {
            index,
            timestamp: op.timestamp,
            last: state.last_timestamp,
        });
    }
    if op.timestamp > now {
        return Err(BatchError::TimestampInFuture {
            index,
            timestamp: op.timestamp,
            now,
        });
    }
    let mut pool = state.pool;
    let result = swap(&mut pool, op, has_referral).map_err(|error| BatchError::Swap { index, error })?;
    if let Some(limit) = op.limit {
        let (amount, missed) = if op.exact_out {
            (
                result.included_fee_input_amount,
                result.included_fee_input_amount > limit,
            )
        } else {
            (result.output_amount, result.output_amount < limit)
        };
        if missed {
            return Err(BatchError::LimitMissed { index, amount, limit });
        }
    }
    let (token_in, token_out) = if op.zero_for_one { (0, 1) } else { (1, 0) };
    let fee_mode = pool.fee_mode(TradeDirection::from_a_to_b(op.zero_for_one), has_referral);
    let fee_token = if fee_mode.fees_on_token_a { 0 } else { 1 };
    let mut t = *totals;
    t.add(token_in, result.included_fee_input_amount, index)?;
    t.add(2 + token_out, result.output_amount, index)?;
    t.add(4 + fee_token, result.protocol_fee, index)?;
    t.add(6 + fee_token, result.referral_fee, index)?;
    if !fee_mode.fees_on_input {
        let leaving = result.protocol_fee + result.referral_fee;
        t.add(fee_token, leaving, index)?;
        t.add(2 + fee_token, leaving, index)?;
    }
    let lp = result.claiming_fee + result.compounding_fee;
    t.lp_fees[fee_token] = t.lp_fees[fee_token].checked_add(lp).ok_or(BatchError::Swap {
        index,
        error: MathError::MathOverflow,
    })?;
    t.swaps += 1;
    *totals = t;
    state.pool = pool;
    state.last_timestamp = op.timestamp;
    Ok(result)
}

/// Executes `op` on `pool` at `op.timestamp` as DAMM v2's swap (exact in or exact out; no limit check, no
/// flows): what [`execute_op`] runs, and what quotes run on a copy.
///
/// # Errors
/// Those of [`PoolState::swap`]; the pool is unchanged on error.
pub fn swap(pool: &mut PoolState, op: &Op, has_referral: bool) -> damm_math::Result<SwapResult> {
    pool.swap(&SwapParams {
        direction: TradeDirection::from_a_to_b(op.zero_for_one),
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

/// Re-executes the batch `ops` on `state` as the market does at block time `now`: every op in order
/// ([`execute_op`], the operator as referrer), then `seq + 1`. Returns the batch's totals.
///
/// # Errors
/// [`BatchError`] for the first failure; `state` is then partly updated: run it on a copy.
pub fn execute_batch(state: &mut MarketState, ops: &[u8], now: u64) -> Result<Totals, BatchError> {
    let reader = BatchReader::new(ops).map_err(|e| BatchError::Malformed { offset: e.offset })?;
    let mut totals = Totals::default();
    for (index, op) in reader.enumerate() {
        let op = op.map_err(|e| BatchError::Malformed { offset: e.offset })?;
        execute_op(state, &op, index, true, now, &mut totals)?;
    }
    if totals.swaps == 0 {
        return Err(BatchError::Empty);
    }
    state.seq += 1;
    Ok(totals)
}
