//! The compact batch encoding of `damm-market-codec` (`batch.rs`):
//!
//! - `encode_batch` → `BatchReader` round trips over random ops (non-decreasing timestamps with gaps up to
//!   `u32::MAX` seconds, amounts and limits of every width including `Some(0)`), and the base timestamp;
//! - the exact size of each op (shortest forms: 19 bytes for the common case, 3 for the smallest op);
//! - the encoder's refusals (empty batch, decreasing timestamps, gaps over `u32::MAX`);
//! - the decoder's failures: every truncation inside an op, a `limit_len` over 16, a timestamp overflow and a
//!   batch shorter than its header, each reported once at the right offset; leading zero bytes are accepted;
//! - random byte strings never panic in `BatchReader` or `execute_batch`.

mod common;

use common::{market, mode_strategy, T0};
use damm_market_codec::{
    batch::EncodeError, encode_batch, execute_batch, BatchError, BatchReader, DecodeError, Op,
};
use proptest::prelude::*;

/// Bytes of `v` in its shortest big-endian form (at least one).
fn width(v: u128) -> usize {
    (16 - v.leading_zeros() as usize / 8).max(1)
}

/// The encoded size of an op `delta` seconds after the previous one, computed from the format description.
fn op_size(op: &Op, delta: u64) -> usize {
    let delta_len = match delta {
        0 => 0,
        1..=0xff => 1,
        0x100..=0xffff => 2,
        _ => 4,
    };
    2 + delta_len + width(op.amount) + op.limit.map_or(0, width)
}

fn amount_strategy() -> impl Strategy<Value = u128> {
    // Every byte width, not just the (overwhelmingly likely) 16-byte one.
    (1u32..=128, any::<u128>()).prop_map(|(bits, v)| {
        let v = if bits == 128 { v } else { v & ((1u128 << bits) - 1) };
        v.max(1)
    })
}

fn limit_strategy() -> impl Strategy<Value = Option<u128>> {
    prop_oneof![
        2 => Just(None),
        1 => Just(Some(0)),
        1 => Just(Some(u128::MAX)),
        4 => amount_strategy().prop_map(Some),
    ]
}

fn gap_strategy() -> impl Strategy<Value = u64> {
    prop_oneof![
        3 => Just(0u64),
        3 => 1u64..=0xff,
        1 => 0x100u64..=0xffff,
        1 => 0x1_0000u64..=0xffff_ffff,
        1 => Just(0xffff_ffffu64),
    ]
}

prop_compose! {
    fn batch_strategy()(
        base in 0u64..=u64::MAX / 2,
        first_gap in gap_strategy(),
        raw in proptest::collection::vec(
            (any::<bool>(), any::<bool>(), amount_strategy(), limit_strategy(), gap_strategy()),
            1..40,
        ),
    ) -> (u64, Vec<Op>) {
        let mut t = base + first_gap;
        let mut ops = Vec::with_capacity(raw.len());
        for (i, (zero_for_one, exact_out, amount, limit, gap)) in raw.into_iter().enumerate() {
            if i > 0 {
                t += gap;
            }
            ops.push(Op { zero_for_one, exact_out, amount, limit, timestamp: t });
        }
        (base, ops)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn round_trip((base, ops) in batch_strategy()) {
        let bytes = encode_batch(base, &ops).unwrap();
        prop_assert_eq!(BatchReader::base_timestamp(&bytes), Ok(base));
        prop_assert_eq!(&bytes[..8], &base.to_be_bytes()[..]);
        let decoded: Result<Vec<Op>, DecodeError> = BatchReader::new(&bytes).unwrap().collect();
        prop_assert_eq!(decoded, Ok(ops.clone()));

        // Size: the header plus every op in its shortest form.
        let mut previous = base;
        let mut size = 8;
        for op in &ops {
            size += op_size(op, op.timestamp - previous);
            previous = op.timestamp;
        }
        prop_assert_eq!(bytes.len(), size);
    }

    /// Every strict prefix that does not end on an op boundary fails exactly once, after the ops it holds.
    #[test]
    fn truncations_fail_once((base, ops) in batch_strategy()) {
        let bytes = encode_batch(base, &ops).unwrap();
        let mut boundaries = vec![8usize];
        let mut previous = base;
        for op in &ops {
            boundaries.push(boundaries.last().unwrap() + op_size(op, op.timestamp - previous));
            previous = op.timestamp;
        }
        prop_assert_eq!(*boundaries.last().unwrap(), bytes.len());
        for len in 0..bytes.len() {
            let prefix = &bytes[..len];
            if len < 8 {
                prop_assert_eq!(BatchReader::new(prefix).err(), Some(DecodeError { offset: 0 }));
                continue;
            }
            let complete = boundaries.iter().filter(|&&b| b <= len).count() - 1;
            let mut reader = BatchReader::new(prefix).unwrap();
            for op in &ops[..complete] {
                prop_assert_eq!(reader.next(), Some(Ok(*op)));
            }
            if boundaries.contains(&len) {
                prop_assert_eq!(reader.next(), None);
            } else {
                let start = boundaries[complete];
                match reader.next() {
                    Some(Err(DecodeError { offset })) => {
                        prop_assert!(offset > start && offset <= len, "len {} start {} offset {}", len, start, offset);
                    }
                    other => prop_assert!(false, "len {}: {:?}", len, other),
                }
                prop_assert_eq!(reader.next(), None);
                prop_assert_eq!(reader.next(), None);
            }
        }
    }

    /// Random bytes never panic the decoder, which yields at most one error and stops after it.
    #[test]
    fn garbage_never_panics_the_reader(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        match BatchReader::new(&bytes) {
            Err(e) => {
                prop_assert!(bytes.len() < 8);
                prop_assert_eq!(e, DecodeError { offset: 0 });
            }
            Ok(reader) => {
                let items: Vec<_> = reader.collect();
                let errors = items.iter().filter(|i| i.is_err()).count();
                prop_assert!(errors <= 1);
                if errors == 1 {
                    prop_assert!(items.last().unwrap().is_err());
                }
                // Timestamps never decrease and never go below the base.
                let mut previous = u64::from_be_bytes(bytes[..8].try_into().unwrap());
                for op in items.iter().flatten() {
                    prop_assert!(op.timestamp >= previous);
                    previous = op.timestamp;
                }
            }
        }
    }

    /// Random bytes never panic the re-execution: it fails with a typed error or executes what it decoded.
    #[test]
    fn garbage_never_panics_execute_batch(
        bytes in proptest::collection::vec(any::<u8>(), 0..120),
        mode in mode_strategy(),
        dynamic in any::<bool>(),
    ) {
        let mut state = market(mode, dynamic);
        let before = state;
        let now = u64::from_be_bytes(bytes.get(..8).map_or([0; 8], |b| b.try_into().unwrap())).saturating_add(1000);
        match execute_batch(&mut state, &bytes, now) {
            Ok(totals) => {
                prop_assert!(totals.swaps > 0);
                prop_assert_eq!(state.seq, before.seq + 1);
            }
            Err(BatchError::Malformed { offset }) => prop_assert!(offset <= bytes.len()),
            Err(_) => {}
        }
    }

    /// Headers followed by random-but-plausible ops (heads with small amounts) reach the math and never panic.
    #[test]
    fn plausible_garbage_never_panics_execute_batch(
        ops in proptest::collection::vec((any::<u8>(), 0u8..=17, proptest::collection::vec(any::<u8>(), 0..20)), 1..10),
        mode in mode_strategy(),
        dynamic in any::<bool>(),
    ) {
        let mut bytes = T0.to_be_bytes().to_vec();
        for (head, limit_len, tail) in &ops {
            bytes.push(*head);
            bytes.push(*limit_len);
            bytes.extend_from_slice(tail);
        }
        let mut state = market(mode, dynamic);
        let result = execute_batch(&mut state, &bytes, u64::MAX);
        if let Err(BatchError::Malformed { offset }) = result {
            prop_assert!(offset >= 8 && offset <= bytes.len());
        }
    }
}

#[test]
fn op_sizes() {
    // 8-byte amount, 8-byte limit, delta under 256 s: 19 bytes.
    let common = Op {
        zero_for_one: true,
        exact_out: false,
        amount: 0x0100_0000_0000_0000, // 2^56: 8 bytes
        limit: Some(u64::MAX as u128),
        timestamp: T0 + 255,
    };
    let bytes = encode_batch(T0, &[common]).unwrap();
    assert_eq!(bytes.len(), 8 + 19);
    // head: token0 in, exact in, 1-byte delta (code 1), 8-byte amount (7).
    assert_eq!(bytes[8], 0b1001_0111);
    assert_eq!(bytes[9], 8, "limit_len");
    assert_eq!(bytes[10], 255, "delta");
    assert_eq!(&bytes[11..19], &0x0100_0000_0000_0000u64.to_be_bytes());
    assert_eq!(&bytes[19..27], &[0xff; 8]);

    // Delta 0, no limit, 1-byte amount: 3 bytes.
    let smallest = Op {
        zero_for_one: false,
        exact_out: true,
        amount: 7,
        limit: None,
        timestamp: T0,
    };
    let bytes = encode_batch(T0, &[smallest]).unwrap();
    assert_eq!(bytes.len(), 8 + 3);
    assert_eq!(&bytes[8..], &[0b0100_0000, 0, 7]);

    // Some(0) keeps a 1-byte limit and decodes back to Some(0), not None.
    let zero_limit = Op {
        limit: Some(0),
        ..smallest
    };
    let bytes = encode_batch(T0, &[zero_limit]).unwrap();
    assert_eq!(&bytes[8..], &[0b0100_0000, 1, 7, 0]);
    assert_eq!(
        BatchReader::new(&bytes).unwrap().collect::<Vec<_>>(),
        vec![Ok(zero_limit)]
    );

    // Delta widths: 2 bytes for 256..=65535, 4 bytes up to u32::MAX; 16-byte amount and limit.
    let ops = [
        Op {
            timestamp: T0 + 256,
            ..smallest
        },
        Op {
            timestamp: T0 + 256 + 65_536,
            amount: u128::MAX,
            limit: Some(u128::MAX),
            ..smallest
        },
        Op {
            timestamp: T0 + 256 + 65_536 + u32::MAX as u64,
            ..common
        },
    ];
    let bytes = encode_batch(T0, &ops).unwrap();
    assert_eq!(bytes.len(), 8 + (2 + 2 + 1) + (2 + 4 + 16 + 16) + (2 + 4 + 8 + 8));
    assert_eq!(bytes[8] >> 4 & 3, 2);
    assert_eq!(bytes[13] >> 4 & 3, 3);
    assert_eq!(bytes[13] & 0x0f, 15);
    assert_eq!(
        BatchReader::new(&bytes).unwrap().collect::<Vec<_>>(),
        ops.iter().copied().map(Ok).collect::<Vec<_>>()
    );
}

#[test]
fn decoder_accepts_leading_zeros() {
    // head: token1 in, exact in, 4-byte delta, 16-byte amount; limit_len 16; all zero-padded.
    let mut bytes = T0.to_be_bytes().to_vec();
    bytes.push(0b0011_1111);
    bytes.push(16);
    bytes.extend_from_slice(&5u32.to_be_bytes());
    bytes.extend_from_slice(&42u128.to_be_bytes());
    bytes.extend_from_slice(&9u128.to_be_bytes());
    let ops: Vec<_> = BatchReader::new(&bytes).unwrap().collect();
    let expected = Op {
        zero_for_one: false,
        exact_out: false,
        amount: 42,
        limit: Some(9),
        timestamp: T0 + 5,
    };
    assert_eq!(ops, vec![Ok(expected)]);
    // The encoder writes the shortest form of the same op.
    assert_eq!(encode_batch(T0, &[expected]).unwrap().len(), 8 + 2 + 1 + 1 + 1);
}

#[test]
fn encoder_errors() {
    let op = |timestamp| Op {
        zero_for_one: true,
        exact_out: false,
        amount: 1,
        limit: None,
        timestamp,
    };
    assert_eq!(encode_batch(T0, &[]), Err(EncodeError::Empty));
    // Before the base timestamp.
    assert_eq!(
        encode_batch(T0, &[op(T0 - 1)]),
        Err(EncodeError::TimestampDecreased { index: 0 })
    );
    // Before the previous op.
    assert_eq!(
        encode_batch(T0, &[op(T0), op(T0 + 10), op(T0 + 10), op(T0 + 9)]),
        Err(EncodeError::TimestampDecreased { index: 3 })
    );
    // A gap of u32::MAX is fine, one more is too long.
    let max_gap = T0 + u32::MAX as u64;
    assert!(encode_batch(T0, &[op(T0), op(max_gap)]).is_ok());
    assert_eq!(
        encode_batch(T0, &[op(T0), op(max_gap + 1)]),
        Err(EncodeError::GapTooLong { index: 1 })
    );
    assert_eq!(
        encode_batch(0, &[op(u64::MAX)]),
        Err(EncodeError::GapTooLong { index: 0 })
    );
}

#[test]
fn decoder_errors() {
    let op = Op {
        zero_for_one: true,
        exact_out: false,
        amount: 1000,
        limit: Some(900),
        timestamp: T0 + 1,
    };
    let bytes = encode_batch(T0, &[op, op]).unwrap();
    // Each op: head, limit_len, 1-byte delta (first) / none (second), 2-byte amount, 2-byte limit.
    assert_eq!(bytes.len(), 8 + 7 + 6);

    // Shorter than the header.
    for len in 0..8 {
        assert_eq!(
            BatchReader::new(&bytes[..len]).err(),
            Some(DecodeError { offset: 0 })
        );
        assert_eq!(
            BatchReader::base_timestamp(&bytes[..len]),
            Err(DecodeError { offset: 0 })
        );
    }
    // The header alone: no op.
    assert_eq!(BatchReader::new(&bytes[..8]).unwrap().next(), None);

    // limit_len 17 in the second op (its limit_len byte is at 8 + 7 + 1).
    let mut bad = bytes.clone();
    bad[16] = 17;
    let items: Vec<_> = BatchReader::new(&bad).unwrap().collect();
    assert_eq!(items, vec![Ok(op), Err(DecodeError { offset: 16 })]);
    bad[16] = 0xff;
    let items: Vec<_> = BatchReader::new(&bad).unwrap().collect();
    assert_eq!(items, vec![Ok(op), Err(DecodeError { offset: 16 })]);
    // limit_len 16 is the maximum (here it then runs out of bytes: the limit starts at 19).
    bad[16] = 16;
    let items: Vec<_> = BatchReader::new(&bad).unwrap().collect();
    assert_eq!(items, vec![Ok(op), Err(DecodeError { offset: 19 })]);

    // Truncations of the first op, field by field: offset of the field that cannot be read.
    let cases = [(9, 9), (10, 10), (11, 11), (12, 11), (13, 13), (14, 13)];
    for (len, offset) in cases {
        let items: Vec<_> = BatchReader::new(&bytes[..len]).unwrap().collect();
        assert_eq!(items, vec![Err(DecodeError { offset })], "len {len}");
    }
    // Exactly one op.
    let items: Vec<_> = BatchReader::new(&bytes[..15]).unwrap().collect();
    assert_eq!(items, vec![Ok(op)]);

    // Timestamp overflow: base u64::MAX plus a delta of 1, reported at the delta.
    let mut overflow = u64::MAX.to_be_bytes().to_vec();
    overflow.extend_from_slice(&[0b1001_0000, 0, 1, 5]);
    let items: Vec<_> = BatchReader::new(&overflow).unwrap().collect();
    assert_eq!(items, vec![Err(DecodeError { offset: 10 })]);
    // ...while a zero delta at u64::MAX is fine.
    let mut at_max = u64::MAX.to_be_bytes().to_vec();
    at_max.extend_from_slice(&[0b1000_0000, 0, 5]);
    let items: Vec<_> = BatchReader::new(&at_max).unwrap().collect();
    assert_eq!(
        items,
        vec![Ok(Op {
            zero_for_one: true,
            exact_out: false,
            amount: 5,
            limit: None,
            timestamp: u64::MAX
        })]
    );

    // The decoder stops after its one error even if valid-looking bytes follow.
    let mut then_valid = bad.clone();
    then_valid[16] = 17;
    then_valid.extend_from_slice(&encode_batch(T0, &[op]).unwrap()[8..]);
    let items: Vec<_> = BatchReader::new(&then_valid).unwrap().collect();
    assert_eq!(items.len(), 2);
    assert!(items[1].is_err());
}
