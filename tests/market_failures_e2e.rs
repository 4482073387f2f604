//! End-to-end tests of the market contract's refusals: every bad batch, L1 swap or administrative call reverts
//! with its named error (`IMarket.sol`'s, or the vault's passed through unchanged) and leaves nothing behind.
//!
//! For every refused call the test records, before and after: the harness's [`snapshot`] (every balance and
//! share of the accounts involved, the vault's pool, fees and market records, the pair), and each market's
//! `state()`, `stateHash()`, `seq()`, `frozen()` and `pendingResize()`; it checks that the chain's state is the
//! local mirror's (the codec's) before the call, that the call reverts in `eth_call` and as a mined transaction
//! ([`Harness::reverts`]), that the revert data is exactly the expected error with every field, that nothing
//! changed, and the vault's invariants ([`assert_invariants`]). Each test then shows the market still works.
//!
//! Every expected value is computed independently of the contract: sequence numbers and state hashes from the
//! mirror (`MarketTrack::state`, advanced with the shared codec as an operator does), outputs, inputs and math
//! errors with the codec and math crates, byte offsets from the encoding's layout (and cross-checked with the
//! codec's `BatchReader`), the vault's health factors and payouts with `damm::math::vault`. The only values read
//! from the revert data itself are block timestamps (`now` of `TimestampInFuture` and `DeadlineExpired`), which
//! the `eth_call` and the mined transaction may see differently; they are checked to lie in the range they must.

mod e2e;

use std::collections::BTreeMap;

use alloy::{
    contract::{CallBuilder, CallDecoder, SolCallBuilder},
    primitives::{keccak256, Address, Bytes, B256, U256},
    providers::{DynProvider, Provider},
    sol_types::SolError,
};
use damm::{
    bindings::IMarket,
    market_codec::{
        encode_batch, exec, execute_batch, execute_op, BatchError, BatchReader, MarketState, Op, Totals,
    },
    math::{
        vault::{
            health_factor, pool_liquidity, settle as settle_flows, PairState, PoolHoldings, DEFAULT_HF_MIN,
            HF_ONE,
        },
        CollectFeeMode, MathError,
    },
};
use e2e::{
    assert_invariants, e18,
    market::{
        apply, assert_market_error, concentrated, errors, l1_market, op, operator_market, random_batch,
        round_trips, sell, world, MarketTrack, Rng,
    },
    snapshot, Harness, PoolInfo, PoolTrack,
};

alloy::sol! {
    /// The vault's error for a deactivated market (not in `e2e::market::errors`), passed through by the market.
    #[derive(Debug)]
    error MarketInactive(address market);
}

// ---- helpers -------------------------------------------------------------------------------------------------

/// What a market shows of itself.
#[derive(Debug, PartialEq, Eq)]
struct MarketView {
    state: Bytes,
    hash: B256,
    seq: u64,
    frozen: bool,
    pending_resize: (U256, u64),
}

/// Everything a refused call must leave as it was.
#[derive(Debug, PartialEq, Eq)]
struct Untouched {
    balances: BTreeMap<String, String>,
    markets: Vec<MarketView>,
}

/// Records [`Untouched`]; checks on the way that each market's chain state is its mirror's.
async fn untouched(
    h: &Harness,
    pool: &PoolTrack,
    markets: &[&MarketTrack],
    accounts: &[Address],
) -> Untouched {
    let mut views = Vec::with_capacity(markets.len());
    for market in markets {
        let m = market.contract(h);
        let state = m.state().call().await.expect("state()");
        let hash = m.stateHash().call().await.expect("stateHash()");
        assert_eq!(
            state.as_ref(),
            market.state.encode().as_slice(),
            "the chain's state of {} is the mirror's",
            market.address
        );
        assert_eq!(hash, keccak256(&state), "stateHash() is the keccak of state()");
        let pending = m.pendingResize().call().await.expect("pendingResize()");
        views.push(MarketView {
            state,
            hash,
            seq: m.seq().call().await.expect("seq()"),
            frozen: m.frozen().call().await.expect("frozen()"),
            pending_resize: (pending._0, pending._1),
        });
    }
    Untouched {
        balances: snapshot(h, pool, accounts).await,
        markets: views,
    }
}

/// The refused calls of a test: the chain, the pool, and the accounts whose balances they must leave alone.
struct Refusals<'a> {
    h: &'a Harness,
    pool: &'a PoolTrack,
    who: Vec<Address>,
}

impl<'a> Refusals<'a> {
    /// The refusals on `pool`, watching the balances of `who`.
    fn new(h: &'a Harness, pool: &'a PoolTrack, who: &[Address]) -> Self {
        Self {
            h,
            pool,
            who: who.to_vec(),
        }
    }

    /// Sends `call`, which must revert (in `eth_call` and mined), and checks that it left every balance, view
    /// and market state of [`Untouched`] (of `markets` and the accounts) as it was and the vault's invariants.
    /// Returns the revert data.
    async fn call<P: Provider, D: CallDecoder>(
        &self,
        markets: &[&MarketTrack],
        call: CallBuilder<P, D>,
    ) -> Bytes {
        let before = untouched(self.h, self.pool, markets, &self.who).await;
        let data = self.h.reverts(call).await;
        let after = untouched(self.h, self.pool, markets, &self.who).await;
        assert_eq!(after.markets, before.markets, "a refused call changes no market");
        assert_eq!(after.balances, before.balances, "a refused call moves nothing");
        assert_invariants(self.h).await;
        data
    }

    /// [`Refusals::call`], whose revert data must be exactly `expected` ([`assert_market_error`]).
    async fn expect<P: Provider, D: CallDecoder, E: SolError + std::fmt::Debug>(
        &self,
        markets: &[&MarketTrack],
        call: CallBuilder<P, D>,
        expected: E,
    ) {
        let data = self.call(markets, call).await;
        assert_market_error(&data, expected);
    }

    /// [`Refusals::call`] of [`next_batch`] (`encoded` to `new_hash` on `market`), `market` the only market
    /// watched. Returns the revert data.
    async fn batch(&self, market: &MarketTrack, encoded: Vec<u8>, new_hash: B256) -> Bytes {
        self.call(&[market], next_batch(self.h, market, encoded, new_hash))
            .await
    }

    /// [`Refusals::batch`], whose revert data must be exactly `expected`.
    async fn expect_batch<E: SolError + std::fmt::Debug>(
        &self,
        market: &MarketTrack,
        encoded: Vec<u8>,
        new_hash: B256,
        expected: E,
    ) {
        let data = self.batch(market, encoded, new_hash).await;
        assert_market_error(&data, expected);
    }
}

/// `submitBatch` of `encoded` as `market`'s next batch, by its operator: in sequence, from its current state, to
/// the state hash `new_hash`.
fn next_batch(
    h: &Harness,
    market: &MarketTrack,
    encoded: Vec<u8>,
    new_hash: B256,
) -> SolCallBuilder<DynProvider, IMarket::submitBatchCall> {
    let m = market.contract(h);
    m.submitBatch(
        market.state.seq + 1,
        market.state.hash(),
        encoded.into(),
        new_hash,
    )
    .from(market.operator)
    .with_cloned_provider()
}

/// The state `encoded` leads `state` to, and its totals (the batch must be valid: checked at no time limit).
fn predict(state: &MarketState, encoded: &[u8]) -> (MarketState, Totals) {
    let mut next = *state;
    let totals = execute_batch(&mut next, encoded, u64::MAX).expect("the batch is valid");
    (next, totals)
}

/// Why the codec refuses `encoded` on `state` at block time `now`.
fn codec_error(state: &MarketState, encoded: &[u8], now: u64) -> BatchError {
    let mut copy = *state;
    execute_batch(&mut copy, encoded, now).expect_err("the codec refuses the batch")
}

/// `n` random round trips ([`round_trips`]) at `now` on `state`: the ops, their encoding (base `now`) and the
/// state they lead to.
fn round_trip_batch(
    rng: &mut Rng,
    state: &MarketState,
    now: u64,
    n: usize,
) -> (Vec<Op>, Vec<u8>, MarketState) {
    let ops = round_trips(rng, state, now, n);
    let encoded = encode_batch(now, &ops).expect("encodes");
    let (next, _) = predict(state, &encoded);
    (ops, encoded, next)
}

/// The state `ops` lead `state` to, applied one by one as the market does.
fn applied(state: &MarketState, ops: &[Op]) -> MarketState {
    let mut s = *state;
    for o in ops {
        apply(&mut s, o);
    }
    s
}

/// What `op` gives on `state` as op `index` of a batch (the operator is the referrer).
fn quote_op(state: &MarketState, op: &Op, index: usize) -> damm::math::SwapResult {
    let mut copy = *state;
    let mut totals = Totals::default();
    execute_op(&mut copy, op, index, true, u64::MAX, &mut totals).expect("the op is valid")
}

/// Where the codec's reader stops reading `ops`: the offset of its error.
fn reader_error_offset(ops: &[u8]) -> usize {
    match BatchReader::new(ops) {
        Err(e) => e.offset,
        Ok(reader) => reader
            .filter_map(Result::err)
            .map(|e| e.offset)
            .next()
            .expect("the reader fails"),
    }
}

/// What the vault would do with a batch's flows, as the math crate computes it from the vault's holdings and the
/// pair as they are (the vault keeps the inputs less the protocol and referral fees): the pool's record, and the
/// holdings and pair after, or the math's error.
async fn vault_settles(
    h: &Harness,
    pool: &PoolTrack,
    flows: [u128; 8],
) -> (PoolInfo, Result<(PoolHoldings, PairState), MathError>) {
    let info = h.pool_info(pool.pair).await;
    let pair = h.pair_state(pool.pair).await;
    let kept0 = flows[0] - flows[4] - flows[6];
    let kept1 = flows[1] - flows[5] - flows[7];
    let result = settle_flows(&info.holdings(), &pair, kept0, kept1, flows[2], flows[3]);
    (info, result)
}

/// `n` tokens of 1e18 atoms, in atoms.
fn tokens(n: u64) -> u128 {
    u128::try_from(e18(n)).expect("fits")
}

/// Waits until the head block is later than `timestamp`: time travel on the devnode, real time (and a block
/// per second, a zero transfer) on an external node.
async fn wait_past(h: &Harness, pool: &PoolTrack, timestamp: u64) {
    while h.head().await.1 <= timestamp {
        if h.can_travel() {
            let (_, now) = h.head().await;
            h.advance(timestamp + 1 - now).await;
        } else {
            h.advance(1).await;
            let owner = h.accounts.owner;
            h.transfer(pool.token0, owner, owner, U256::ZERO).await;
        }
    }
}

// ---- 1-4, 6: batches that do not chain on the market's state, foreign senders, malformed ops -------------------

#[tokio::test(flavor = "multi_thread")]
async fn unchained_foreign_and_malformed_batches_revert() {
    let (h, pool, admin) = world().await;
    let operator = h.accounts.operator;
    let attacker = h.accounts.attacker;
    let mut a = operator_market(&h, &pool, admin, false).await;
    h.fund_trader(&pool, attacker).await;
    let check = Refusals::new(&h, &pool, &[operator, attacker]);
    let mut rng = Rng(0xfa11);

    // 1. A replayed batch: the same calldata again after it settled.
    let (_, now) = h.head().await;
    let prev = a.state;
    let (ops, encoded, next) = round_trip_batch(&mut rng, &prev, now, 4);
    assert_eq!(next.seq, prev.seq + 1);
    h.submit_ops(&pool, &mut a, now, &ops).await;
    assert_eq!(a.state, next, "the mirror took the batch");
    let m = a.contract(&h);
    let replay = m
        .submitBatch(next.seq, prev.hash(), encoded.into(), next.hash())
        .from(operator);
    check
        .expect(
            &[&a],
            replay,
            errors::BadSequence {
                expected: a.state.seq + 1,
                given: prev.seq + 1,
            },
        )
        .await;

    // The next batch, built correctly: the cases below break one thing at a time (`batch(seq, previous hash,
    // new hash, sender)`).
    let (_, now) = h.head().await;
    let (ops, encoded, next) = round_trip_batch(&mut rng, &a.state, now, 2);
    let seq = a.state.seq + 1;
    let current = a.state.hash();
    let batch = |seq: u64, previous: B256, new_hash: B256, from: Address| {
        m.submitBatch(seq, previous, encoded.clone().into(), new_hash)
            .from(from)
    };

    // 1'. A sequence number from the future (a batch skipped).
    check
        .expect(
            &[&a],
            batch(seq + 1, current, next.hash(), operator),
            errors::BadSequence {
                expected: seq,
                given: seq + 1,
            },
        )
        .await;

    // 2. A stale previous state hash (the state before the last batch), and one that is no state's.
    for given in [prev.hash(), keccak256(b"no market's state")] {
        assert_ne!(given, current);
        check
            .expect(
                &[&a],
                batch(seq, given, next.hash(), operator),
                errors::StaleStateHash { current, given },
            )
            .await;
    }

    // 3. A wrong new state hash: the current one (the operator forgot to advance), and the right state with
    //    the old sequence number.
    let mut old_seq = next;
    old_seq.seq -= 1;
    for given in [current, old_seq.hash()] {
        assert_ne!(given, next.hash());
        check
            .expect(
                &[&a],
                batch(seq, current, given, operator),
                errors::StateHashMismatch {
                    computed: next.hash(),
                    given,
                },
            )
            .await;
    }

    // 4. Another account (funded, approved) sends the exact batch the operator would.
    check
        .expect(
            &[&a],
            batch(seq, current, next.hash(), attacker),
            errors::Unauthorized { caller: attacker },
        )
        .await;

    // 6. Malformed ops. Three valid ops at the base timestamp: every delta is 0 bytes wide, so an op is
    //    head (1), limit_len (1), amount, limit.
    let three = random_batch(&mut rng, &a.state, now, 3);
    let full = encode_batch(now, &three).expect("encodes");
    let (full_next, _) = predict(&a.state, &full);
    let start1 = encode_batch(now, &three[..1]).expect("encodes").len();
    let start2 = encode_batch(now, &three[..2]).expect("encodes").len();
    assert_eq!(full[start2] & 0x30, 0, "op 2's delta takes no byte");
    assert!((full[start2] & 0x0F) >= 1, "op 2's amount takes at least 2 bytes");
    let mut malformed: Vec<(&str, Vec<u8>, usize)> = Vec::new();
    // Cut in the middle of op 2's amount: the reader fails where the amount starts.
    malformed.push(("op 2 cut short", full[..start2 + 3].to_vec(), start2 + 2));
    // Op 1's limit_len is 0x20 (at most 16): the reader fails at that byte.
    let mut garbage = full.clone();
    garbage[start1 + 1] = 0x20;
    malformed.push(("limit_len 0x20", garbage, start1 + 1));
    // A valid batch followed by one stray byte: read as the head of a fourth op whose limit_len is missing.
    let mut trailing = full.clone();
    trailing.push(0x80);
    malformed.push(("a stray byte after the ops", trailing, full.len() + 1));
    // A timestamp past u64::MAX: base u64::MAX, op 0 with a 1-byte delta of 1 (head: token0 in, delta width
    // 1, amount 1 byte), reported at the delta (offset 10).
    let overflow = [&u64::MAX.to_be_bytes()[..], &[0x90, 0x00, 0x01, 0x05]].concat();
    malformed.push(("a timestamp past u64::MAX", overflow, 10));
    // Shorter than the base timestamp.
    malformed.push(("7 bytes", full[..7].to_vec(), 0));
    malformed.push(("no bytes", Vec::new(), 0));
    for (what, bytes, offset) in malformed {
        assert_eq!(
            reader_error_offset(&bytes),
            offset,
            "{what}: the codec's reader agrees"
        );
        assert_eq!(
            codec_error(&a.state, &bytes, u64::MAX),
            BatchError::Malformed { offset },
            "{what}"
        );
        println!("malformed ops ({what}): offset {offset}");
        check
            .expect_batch(
                &a,
                bytes,
                full_next.hash(),
                errors::MalformedOps {
                    offset: U256::from(offset),
                },
            )
            .await;
    }
    // The base timestamp and no op.
    assert_eq!(codec_error(&a.state, &full[..8], u64::MAX), BatchError::Empty);
    check
        .expect_batch(&a, full[..8].to_vec(), current, errors::EmptyBatch {})
        .await;

    // The market still works: the batch the failures were built around settles.
    h.submit_ops(&pool, &mut a, now, &ops).await;
    assert_eq!(a.state, next);
    assert_invariants(&h).await;
}

// ---- 5, 7, 8: ops out of time, missing their limit, beyond the range -------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn ops_out_of_time_limit_or_range_revert() {
    let (h, pool, admin) = world().await;
    let mut a = operator_market(&h, &pool, admin, true).await;
    let check = Refusals::new(&h, &pool, &[h.accounts.operator]);
    let mut rng = Rng(0x7135);

    // 5. An op later than the block: alone (index 0), then after two valid ops (index 2). The block time the
    //    contract compares with is read from the revert data (`eth_call`'s block; the mined transaction's is
    //    as late or later, and fails too): it must be at least the head's and before the op.
    for valid in [0, 2] {
        let (_, head) = h.head().await;
        let future = head + 1_000;
        let mut ops = random_batch(&mut rng, &a.state, head, valid);
        let last = sell(true, tokens(10), future);
        quote_op(&applied(&a.state, &ops), &last, valid);
        ops.push(last);
        let encoded = encode_batch(head, &ops).expect("encodes");
        assert_eq!(
            codec_error(&a.state, &encoded, head),
            BatchError::TimestampInFuture {
                index: valid,
                timestamp: future,
                now: head,
            }
        );
        let (next, _) = predict(&a.state, &encoded);
        let data = check.batch(&a, encoded, next.hash()).await;
        let e = errors::TimestampInFuture::abi_decode(&data).expect("TimestampInFuture");
        assert!(
            head <= e.now && e.now < future,
            "the block time {} is in [{head}, {future})",
            e.now
        );
        assert_market_error(
            &data,
            errors::TimestampInFuture {
                index: U256::from(valid),
                timestamp: future,
                now: e.now,
            },
        );
    }

    // 5'. Ops earlier than the market's last trade. A batch settles at `t`; the next one's ops are at `t - 1`.
    //     (An op earlier than the op before it in the same batch cannot be encoded: deltas are unsigned, so
    //     only the first op — the base timestamp — can go back in time, and the error's index is always 0.)
    let (_, t) = h.head().await;
    let ops = round_trips(&mut rng, &a.state, t, 2);
    h.submit_ops(&pool, &mut a, t, &ops).await;
    assert_eq!(a.state.last_timestamp, t);
    let earlier = vec![sell(false, tokens(20), t - 1), sell(true, tokens(5), t - 1)];
    let encoded = encode_batch(t - 1, &earlier).expect("encodes");
    // The new state hash the same ops would give at `t` (a plausible one).
    let at_t: Vec<Op> = earlier.iter().map(|o| Op { timestamp: t, ..*o }).collect();
    let (next, _) = predict(&a.state, &encode_batch(t, &at_t).expect("encodes"));
    assert_eq!(
        codec_error(&a.state, &encoded, u64::MAX),
        BatchError::TimestampDecreased {
            index: 0,
            timestamp: t - 1,
            last: t,
        }
    );
    check
        .expect_batch(
            &a,
            encoded,
            next.hash(),
            errors::TimestampDecreased {
                index: U256::ZERO,
                timestamp: t - 1,
                last: t,
            },
        )
        .await;

    // 7. Limits. An exact-in op (index 0) asking one atom more than its output, and an exact-out op at index 2,
    //    after two valid ops, allowing one atom less than its input.
    let (_, now) = h.head().await;
    let mut exact_in = sell(true, tokens(1_000), now);
    let out = quote_op(&a.state, &exact_in, 0).output_amount;
    assert!(out > 0);
    exact_in.limit = Some(out + 1);
    let mut exact_out = random_batch(&mut rng, &a.state, now, 2);
    let mut buy = op(false, true, tokens(300), now);
    let input = quote_op(&applied(&a.state, &exact_out), &buy, 2).included_fee_input_amount;
    buy.limit = Some(input - 1);
    exact_out.push(buy);
    for (ops, index, amount, limit) in [
        (vec![exact_in], 0, out, out + 1),
        (exact_out, 2, input, input - 1),
    ] {
        let encoded = encode_batch(now, &ops).expect("encodes");
        assert_eq!(
            codec_error(&a.state, &encoded, u64::MAX),
            BatchError::LimitMissed { index, amount, limit }
        );
        check
            .expect_batch(
                &a,
                encoded,
                a.state.hash(),
                errors::LimitMissed {
                    index: U256::from(index),
                    amount: U256::from(amount),
                    limit: U256::from(limit),
                },
            )
            .await;
    }

    // 8. Beyond the range: op 1 sells a million token0 into a market that absorbs about 5,600 before its price
    //    reaches the bottom of its range (√P from 2 to 1.8 at a real liquidity of 100,000: L·(1/1.8 − 1/2)).
    //    DAMM v2 refuses a concentrated swap past the range rather than filling it partly. Then an op of zero
    //    (index 1), and an exact-out op asking for more token0 than the market holds (index 0): the math's
    //    errors, as the codec reports them.
    let mut beyond = random_batch(&mut rng, &a.state, now, 1);
    beyond.push(sell(true, tokens(1_000_000), now));
    let mut zero = random_batch(&mut rng, &a.state, now, 1);
    zero.push(sell(false, 0, now));
    let too_much = vec![op(false, true, a.state.pool.token_a_amount + 1, now)];
    for (ops, index, known) in [
        (beyond, 1usize, Some(MathError::PriceRangeViolation)),
        (zero, 1, Some(MathError::AmountIsZero)),
        (too_much, 0, None),
    ] {
        let encoded = encode_batch(now, &ops).expect("encodes");
        let BatchError::Swap { index: i, error } = codec_error(&a.state, &encoded, u64::MAX) else {
            panic!("the math refuses op {index}");
        };
        assert_eq!(i, index);
        if let Some(known) = known {
            assert_eq!(error, known);
        }
        println!("op {index} of {ops:?}: {error:?}");
        check
            .expect_batch(
                &a,
                encoded,
                a.state.hash(),
                errors::OpFailed {
                    index: U256::from(index),
                    code: error.code(),
                },
            )
            .await;
    }

    // The market still works. The base timestamp may be earlier than the last trade, only the ops' timestamps
    // are checked: here the base is 100 s before it and op 0's delta brings it to now.
    let (_, now) = h.head().await;
    let ops = random_batch(&mut rng, &a.state, now, 4);
    let base = a.state.last_timestamp - 100;
    h.submit_ops(&pool, &mut a, base, &ops).await;
    assert_invariants(&h).await;
}

// ---- 9, 10: the wrong kind of market, bad L1 swaps ---------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn wrong_kind_and_bad_l1_swaps_revert() {
    let (h, pool, admin) = world().await;
    let operator = h.accounts.operator;
    let (carol, bob) = (h.accounts.carol, h.accounts.bob);
    let mut a = operator_market(&h, &pool, admin, false).await;
    // An L1 market operated by Carol, without dynamic fee (its quotes do not depend on the block time); Bob
    // trades on it.
    let params = concentrated(CollectFeeMode::OnlyB, 50_000, false);
    let mut l1 = l1_market(&h, &pool, admin, carol, params).await;
    let check = Refusals::new(&h, &pool, &[operator, carol, bob]);
    let markets = [&a, &l1];
    let (ma, m1) = (a.contract(&h), l1.contract(&h));
    // Bob's swap on the L1 market, without referral and deadline.
    let swap = |zero_for_one: bool, exact_in: bool, amount: U256, limit: U256| {
        m1.swap(zero_for_one, exact_in, amount, limit, Address::ZERO, U256::MAX)
            .from(bob)
    };

    // 9. `swap` on the L2 market.
    check
        .expect(
            &markets,
            ma.swap(true, true, e18(10), U256::ZERO, Address::ZERO, U256::MAX)
                .from(bob),
            errors::WrongKind { l1: false },
        )
        .await;

    // `submitBatch` on the L1 market, by its operator, with a batch valid for its state.
    let (_, now) = h.head().await;
    let encoded = encode_batch(now, &[sell(true, tokens(10), now)]).expect("encodes");
    let (next, _) = predict(&l1.state, &encoded);
    check
        .expect(
            &markets,
            next_batch(&h, &l1, encoded, next.hash()),
            errors::WrongKind { l1: true },
        )
        .await;

    // 10. A deadline in the past. `now` is the block time of the `eth_call` (see the module documentation).
    let (_, head) = h.head().await;
    let deadline = U256::from(head - 1);
    let data = check
        .call(
            &markets,
            m1.swap(true, true, e18(10), U256::ZERO, Address::ZERO, deadline)
                .from(bob),
        )
        .await;
    let e = errors::DeadlineExpired::abi_decode(&data).expect("DeadlineExpired");
    assert!(
        e.now >= head,
        "the block time {} is at least the head's {head}",
        e.now
    );
    assert_market_error(&data, errors::DeadlineExpired { deadline, now: e.now });

    // An exact-in swap asking one atom more than its quote, and an exact-out swap allowing one atom less. The
    // quotes are the codec's (no referral) and the views agree.
    let (_, head) = h.head().await;
    let at = head.max(l1.state.last_timestamp);
    let codec_quote = |o: &Op| {
        let mut p = l1.state.pool;
        exec::swap(&mut p, o, false).expect("the swap is valid")
    };
    let sold = tokens(1_000);
    let out = codec_quote(&sell(true, sold, at)).output_amount;
    let view = m1
        .quoteExactIn(true, U256::from(sold))
        .call()
        .await
        .expect("quoteExactIn");
    assert_eq!(view._0, U256::from(out), "quoteExactIn is the codec's");
    let bought = tokens(2_000);
    let input = codec_quote(&op(false, true, bought, at)).included_fee_input_amount;
    let view = m1
        .quoteExactOut(false, U256::from(bought))
        .call()
        .await
        .expect("quoteExactOut");
    assert_eq!(view._0, U256::from(input), "quoteExactOut is the codec's");
    for (zero_for_one, exact_in, amount, limit, expected, reported) in [
        (true, true, sold, U256::from(out + 1), out, out + 1),
        (false, false, bought, U256::from(input - 1), input, input - 1),
        // A minimum output beyond u128 (no output can meet it): the contract clamps a limit to u128::MAX, so
        // the error reports the clamped limit, not the one given.
        (true, true, sold, U256::MAX, out, u128::MAX),
    ] {
        check
            .expect(
                &markets,
                swap(zero_for_one, exact_in, U256::from(amount), limit),
                errors::LimitMissed {
                    index: U256::ZERO,
                    amount: U256::from(expected),
                    limit: U256::from(reported),
                },
            )
            .await;
    }

    // A swap of nothing, and an amount of 2^128 (amounts are u128), exact in and exact out.
    for (exact_in, amount, error) in [
        (true, U256::ZERO, MathError::AmountIsZero),
        (true, U256::from(1) << 128, MathError::TypeCastFailed),
        (false, U256::from(1) << 128, MathError::TypeCastFailed),
    ] {
        check
            .expect(
                &markets,
                swap(true, exact_in, amount, U256::ZERO),
                errors::OpFailed {
                    index: U256::ZERO,
                    code: error.code(),
                },
            )
            .await;
    }

    // Both markets still work.
    h.l1_swap(&pool, &mut l1, bob, true, true, sold, h.accounts.referrer)
        .await;
    h.settle_round_trips(&pool, &mut a, &mut Rng(0x9), 2).await;
    assert_invariants(&h).await;
}

// ---- 11: the vault's refusals, passed through ----------------------------------------------------------------

/// Checks that a batch's flows `f` go one way (token0 in, token1 out), and returns what the vault would do with
/// them ([`vault_settles`]).
async fn one_way(
    h: &Harness,
    pool: &PoolTrack,
    f: [u128; 8],
) -> (PoolInfo, Result<(PoolHoldings, PairState), MathError>) {
    assert!(
        f[1] == f[5] + f[7] && f[2] == 0,
        "one way: token0 in, token1 out (flows {f:?})"
    );
    vault_settles(h, pool, f).await
}

#[tokio::test(flavor = "multi_thread")]
async fn vault_refusals_pass_through_unchanged() {
    let (h, pool, admin) = world().await;
    let operator = h.accounts.operator;
    let (owner, carol) = (h.accounts.owner, h.accounts.carol);
    let mut a = operator_market(&h, &pool, admin, false).await;
    let check = Refusals::new(&h, &pool, &[operator, carol]);
    let mut rng = Rng(0x11);
    h.settle_round_trips(&pool, &mut a, &mut rng, 2).await;

    // (a) The health factor. HF_min raised to 1, with the pool's HF about 1 (here just under it): a settlement
    //     passes only if it leaves HF at least 1 or does not lower it. A large one-way sale of token0 (within
    //     the range) lowers it: the vault takes token0 in, which stays raw and unpaired (it counts as
    //     √(raw0·raw1)), and pays token1 by burning LP tokens, whose liquidity it loses; the fees it keeps are
    //     far smaller. (A sale small enough for the fees to win, or a round trip, would pass.)
    h.send(h.vault().setHfMin(pool.pair, HF_ONE).from(owner)).await;
    let (_, now) = h.head().await;
    let mut amount = tokens(4_000);
    let (encoded, next, totals) = loop {
        let encoded = encode_batch(now, &[sell(true, amount, now)]).expect("encodes");
        let mut next = a.state;
        if let Ok(totals) = execute_batch(&mut next, &encoded, u64::MAX) {
            break (encoded, next, totals);
        }
        amount /= 2;
    };
    let f = totals.flows;
    let (info, settled) = one_way(&h, &pool, f).await;
    let (holdings, pair_after) = settled.expect("the payout is covered");
    let hf_before = h.hf(pool.pair).await;
    let hf_after = health_factor(
        pool_liquidity(&holdings, &pair_after).expect("liquidity"),
        info.total_shares,
    )
    .expect("health factor");
    println!(
        "HF: sale of {amount} token0 atoms for {} token1 atoms: {hf_before} -> {hf_after}",
        f[3]
    );
    assert!(
        hf_after < hf_before && hf_after < HF_ONE,
        "the batch must lower HF below 1"
    );
    let data = check.batch(&a, encoded, next.hash()).await;
    let e = errors::HealthFactorTooLow::abi_decode(&data).expect("HealthFactorTooLow");
    assert_eq!(e.minimum, HF_ONE);
    assert!(e.after < e.before);
    assert_market_error(
        &data,
        errors::HealthFactorTooLow {
            before: hf_before,
            after: hf_after,
            minimum: HF_ONE,
        },
    );
    h.send(h.vault().setHfMin(pool.pair, DEFAULT_HF_MIN).from(owner))
        .await;
    h.settle_round_trips(&pool, &mut a, &mut rng, 2).await;

    // The vault's other checks on a settlement: the vault paused by its guardian, the market deactivated by
    //     the vault owner, its liquidity limit lowered below its liquidity (lowering needs no admission). A
    //     valid batch is refused by each, undone after; then it settles.
    let (_, now) = h.head().await;
    let (_, encoded, next) = round_trip_batch(&mut rng, &a.state, now, 2);
    let batch = next_batch(&h, &a, encoded, next.hash());
    let vault = h.vault();
    let below = a.state.pool.liquidity - U256::from(1);
    let update = |limit: U256, active: bool| vault.updateMarket(a.address, limit, active).from(owner);
    h.send(vault.setPaused(true).from(h.accounts.guardian)).await;
    check
        .expect(&[&a], batch.clone(), errors::ContractPaused {})
        .await;
    h.send(vault.setPaused(false).from(owner)).await;

    h.send(update(a.limit, false)).await;
    check
        .expect(&[&a], batch.clone(), MarketInactive { market: a.address })
        .await;
    h.send(update(a.limit, true)).await;

    h.send(update(below, true)).await;
    check
        .expect(
            &[&a],
            batch.clone(),
            errors::MarketOutOfBounds { market: a.address },
        )
        .await;
    h.send(update(a.limit, true)).await;
    h.send(batch).await;
    h.confirm_state(&mut a, next).await;

    // (b) An uncovered payout. Carol sells a billion token0 on Uniswap directly: the pair keeps a few thousand
    //     token1, and so do the vault's LP tokens (nearly all of the pair's). A one-way sale of token0 on the
    //     market that pays out more token1 than the vault's raw token1 plus all its LP tokens' share cannot be
    //     settled.
    let drain = e18(1_000_000_000);
    h.fund(pool.token0, carol, drain).await;
    h.swap(&pool, carol, true, drain).await;
    let pair = h.pair_state(pool.pair).await;
    println!("the pair after the drain: {pair:?}");
    assert_invariants(&h).await;
    let (_, now) = h.head().await;
    let encoded = encode_batch(now, &[sell(true, tokens(3_000), now)]).expect("encodes");
    let (next, totals) = predict(&a.state, &encoded);
    let f = totals.flows;
    let (info, settled) = one_way(&h, &pool, f).await;
    assert_eq!(
        settled,
        Err(MathError::InsufficientLiquidity),
        "the payout is uncovered"
    );
    let backing = info.lp * U256::from(pair.reserve1) / pair.total_supply;
    assert!(
        U256::from(f[3]) > U256::from(info.raw1) + backing,
        "{} token1 out exceeds raw {} + the LP's {backing}",
        f[3],
        info.raw1
    );
    check
        .expect_batch(
            &a,
            encoded,
            next.hash(),
            errors::PayoutUncovered {
                out0: U256::from(f[2]),
                out1: U256::from(f[3]),
            },
        )
        .await;

    // The market still works: buying a little token0 with token1 (paid from the LP tokens, backed by plenty of
    // token0).
    let (_, now) = h.head().await;
    h.submit_ops(&pool, &mut a, now, &[sell(false, tokens(100), now)])
        .await;
    assert_invariants(&h).await;
}

// ---- 12: resizing and freezing ---------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn a_frozen_market_settles_nothing() {
    let (h, pool, admin) = world().await;
    let operator = h.accounts.operator;
    let (owner, attacker) = (h.accounts.owner, h.accounts.attacker);
    let mut a = operator_market(&h, &pool, admin, false).await;
    let check = Refusals::new(&h, &pool, &[operator, owner, attacker]);
    let m = a.contract(&h);
    let info = h.vault().marketInfo(a.address).call().await.expect("marketInfo");
    assert_eq!(info._6, a.limit, "the vault's limit for the market");

    // Freezing, and applying, need a pending resize.
    check
        .expect(&[&a], m.setFrozen(true).from(owner), errors::NoPendingResize {})
        .await;
    check
        .expect(
            &[&a],
            m.applyResize(a.state.seq + 1, a.state.hash(), a.state.hash())
                .from(operator),
            errors::NoPendingResize {},
        )
        .await;

    // A resize above the vault's limit is refused; so is one from anyone but the vault owner.
    let (_, head) = h.head().await;
    let too_much = a.limit + U256::from(1);
    check
        .expect(
            &[&a],
            m.requestResize(too_much, head + 60).from(owner),
            errors::ResizeNotAdmitted {
                liquidity: too_much,
                limit: a.limit,
            },
        )
        .await;
    let smaller = a.state.pool.liquidity - a.state.pool.liquidity / U256::from(100);
    check
        .expect(
            &[&a],
            m.requestResize(smaller, head + 60).from(attacker),
            errors::Unauthorized { caller: attacker },
        )
        .await;

    // A valid request, 60 s to apply it (a margin: the devnode's blocks follow the wall clock, and the mined
    // transaction must still see the deadline ahead). Too early to freeze.
    let (_, head) = h.head().await;
    let deadline = head + 60;
    h.send(m.requestResize(smaller, deadline).from(owner)).await;
    let pending = m.pendingResize().call().await.expect("pendingResize");
    assert_eq!((pending._0, pending._1), (smaller, deadline));
    check
        .expect(
            &[&a],
            m.setFrozen(true).from(owner),
            errors::ResizeNotOverdue { deadline },
        )
        .await;

    // Applying it is a state transition like a batch: the operator's, in sequence, from the current state, to
    // the state the codec's resize predicts.
    let mut resized = a.state;
    resized.resize(smaller).expect("the resize is valid");
    let (seq, current) = (a.state.seq + 1, a.state.hash());
    let apply_resize = |seq: u64, previous: B256, new_hash: B256, from: Address| {
        m.applyResize(seq, previous, new_hash).from(from)
    };
    check
        .expect(
            &[&a],
            apply_resize(seq, current, resized.hash(), attacker),
            errors::Unauthorized { caller: attacker },
        )
        .await;
    check
        .expect(
            &[&a],
            apply_resize(seq - 1, current, resized.hash(), operator),
            errors::BadSequence {
                expected: seq,
                given: seq - 1,
            },
        )
        .await;
    let stale = keccak256(b"not the current state");
    check
        .expect(
            &[&a],
            apply_resize(seq, stale, resized.hash(), operator),
            errors::StaleStateHash {
                current,
                given: stale,
            },
        )
        .await;
    check
        .expect(
            &[&a],
            apply_resize(seq, current, current, operator),
            errors::StateHashMismatch {
                computed: resized.hash(),
                given: current,
            },
        )
        .await;

    // Past the deadline the owner freezes the market (a stranger cannot).
    if !h.can_travel() {
        println!("external node: waiting in real time until the resize deadline {deadline} passes");
    }
    wait_past(&h, &pool, deadline).await;
    check
        .expect(
            &[&a],
            m.setFrozen(true).from(attacker),
            errors::Unauthorized { caller: attacker },
        )
        .await;
    h.send(m.setFrozen(true).from(owner)).await;
    assert!(m.frozen().call().await.expect("frozen()"));

    // A frozen market settles no batch, however valid; the operator may still apply the resize, after which it
    // stays frozen.
    for resize in [false, true] {
        let (_, now) = h.head().await;
        let (_, encoded, next) = round_trip_batch(&mut Rng(0x12), &a.state, now, 2);
        check
            .expect_batch(&a, encoded, next.hash(), errors::MarketFrozen {})
            .await;
        if resize {
            break;
        }
        h.send(apply_resize(seq, current, resized.hash(), operator)).await;
        h.confirm_state(&mut a, resized).await;
        let pending = m.pendingResize().call().await.expect("pendingResize");
        assert_eq!((pending._0, pending._1), (U256::ZERO, 0));
        assert!(m.frozen().call().await.expect("frozen()"));
        assert_invariants(&h).await;
    }
    check
        .expect(
            &[&a],
            m.setFrozen(false).from(attacker),
            errors::Unauthorized { caller: attacker },
        )
        .await;

    // Unfrozen, it settles batches again.
    h.send(m.setFrozen(false).from(owner)).await;
    assert!(!m.frozen().call().await.expect("frozen()"));
    h.settle_round_trips(&pool, &mut a, &mut Rng(0x12), 2).await;
    assert_invariants(&h).await;
}
