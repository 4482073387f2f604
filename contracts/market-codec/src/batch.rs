//! The compact binary encoding of a batch's swaps (`submitBatch`'s `ops`).
//!
//! ```text
//! batch := base_timestamp:u64 op+
//! op    := head:u8 limit_len:u8 delta:(0|1|2|4 bytes) amount:(1..=16 bytes) limit:(limit_len bytes)
//! head  := bit 7  token0 in (zero for one; else token1 in)
//!          bit 6  exact out (amount is the output, limit the maximum input; else amount is the input, limit
//!                 the minimum output)
//!          bits 5-4  width of `delta`: 0, 1, 2 or 4 bytes
//!          bits 3-0  length of `amount` minus one
//! ```
//!
//! All numbers are unsigned big-endian. An op's timestamp is the previous op's plus `delta` (the first op's:
//! `base_timestamp` plus `delta`), so timestamps never decrease within a batch; the market checks
//! `base_timestamp` against its last trade and the last op against the block time. `limit_len` is 0 (no limit)
//! to 16. The common case — 8-byte amount and limit, a delta under 256 s — takes 19 bytes per op.
//! The encoder writes every number in its shortest form; the decoder also accepts leading zero bytes.

use alloc::vec::Vec;

use crate::{DecodeError, Reader};

/// One swap of a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Op {
    /// Token 0 (token A) in, token 1 out; else token 1 in, token 0 out.
    pub zero_for_one: bool,
    /// `amount` is the output (exact out); else the input (exact in).
    pub exact_out: bool,
    /// Input (exact in) or output (exact out), atoms.
    pub amount: u128,
    /// Minimum output (exact in) or maximum input (exact out); `None` for no limit.
    pub limit: Option<u128>,
    /// When the trade happened, unix seconds (drives the dynamic fee).
    pub timestamp: u64,
}

/// A batch the encoder refuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncodeError {
    /// The batch has no op.
    Empty,
    /// Op `index` is earlier than the op before it (or than the base timestamp).
    TimestampDecreased {
        /// Index of the op.
        index: usize,
    },
    /// Op `index` is more than `u32::MAX` seconds after the op before it.
    GapTooLong {
        /// Index of the op.
        index: usize,
    },
}

fn significant(value: u128) -> usize {
    (16 - (value.leading_zeros() / 8) as usize).max(1)
}

/// Encodes `ops` with `base_timestamp` (at most the first op's timestamp; usually the market's last trade time
/// or the first op's time).
///
/// # Errors
/// [`EncodeError`] for an empty batch, decreasing timestamps or a gap over `u32::MAX` seconds.
pub fn encode_batch(base_timestamp: u64, ops: &[Op]) -> Result<Vec<u8>, EncodeError> {
    if ops.is_empty() {
        return Err(EncodeError::Empty);
    }
    let mut out = Vec::with_capacity(8 + 24 * ops.len());
    out.extend_from_slice(&base_timestamp.to_be_bytes());
    let mut previous = base_timestamp;
    for (index, op) in ops.iter().enumerate() {
        let delta = op
            .timestamp
            .checked_sub(previous)
            .ok_or(EncodeError::TimestampDecreased { index })?;
        let (code, width) = match delta {
            0 => (0u8, 0usize),
            1..=0xFF => (1, 1),
            0x100..=0xFFFF => (2, 2),
            0x1_0000..=0xFFFF_FFFF => (3, 4),
            _ => return Err(EncodeError::GapTooLong { index }),
        };
        let amount_len = significant(op.amount);
        let head = (u8::from(op.zero_for_one) << 7)
            | (u8::from(op.exact_out) << 6)
            | (code << 4)
            | (amount_len as u8 - 1);
        let limit_len = op.limit.map_or(0, significant);
        out.push(head);
        out.push(limit_len as u8);
        out.extend_from_slice(&delta.to_be_bytes()[8 - width..]);
        out.extend_from_slice(&op.amount.to_be_bytes()[16 - amount_len..]);
        if let Some(limit) = op.limit {
            out.extend_from_slice(&limit.to_be_bytes()[16 - limit_len..]);
        }
        previous = op.timestamp;
    }
    Ok(out)
}

/// Reads a batch op by op. [`BatchReader::new`] reads the base timestamp; the iterator yields the ops, or one
/// [`DecodeError`] at the first malformed byte and nothing after it.
#[derive(Clone)]
pub struct BatchReader<'a> {
    reader: Reader<'a>,
    previous: u64,
    failed: bool,
}

impl<'a> BatchReader<'a> {
    /// Starts reading `ops`.
    ///
    /// # Errors
    /// [`DecodeError`] (offset 0) when `ops` is shorter than the base timestamp.
    pub fn new(ops: &'a [u8]) -> Result<Self, DecodeError> {
        let mut reader = Reader::new(ops);
        let base = reader.u64()?;
        Ok(Self {
            reader,
            previous: base,
            failed: false,
        })
    }

    /// The batch's base timestamp.
    pub fn base_timestamp(ops: &[u8]) -> Result<u64, DecodeError> {
        Reader::new(ops).u64()
    }

    fn op(&mut self) -> Result<Op, DecodeError> {
        let r = &mut self.reader;
        let head = r.u8()?;
        let at = r.position();
        let limit_len = r.u8()? as usize;
        if limit_len > 16 {
            return Err(DecodeError { offset: at });
        }
        let width = [0, 1, 2, 4][((head >> 4) & 3) as usize];
        let delta_at = r.position();
        let delta = r.uint(width)? as u64;
        let amount = r.uint(((head & 0x0F) + 1) as usize)?;
        let limit = if limit_len == 0 {
            None
        } else {
            Some(r.uint(limit_len)?)
        };
        let timestamp = self
            .previous
            .checked_add(delta)
            .ok_or(DecodeError { offset: delta_at })?;
        self.previous = timestamp;
        Ok(Op {
            zero_for_one: head & 0x80 != 0,
            exact_out: head & 0x40 != 0,
            amount,
            limit,
            timestamp,
        })
    }
}

impl Iterator for BatchReader<'_> {
    type Item = Result<Op, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.reader.is_empty() {
            return None;
        }
        let op = self.op();
        self.failed = op.is_err();
        Some(op)
    }
}
