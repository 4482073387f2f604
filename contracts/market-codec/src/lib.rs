//! The code a dAMM market and its operator must share byte for byte (PROTOCOL.md, "Market", "Batch").
//!
//! - [`state`]: a market's state ([`MarketState`]: the DAMM v2 pricing state, `seq` and `lastTimestamp`), its
//!   canonical encoding and its hash (`stateHash`).
//! - [`params`]: the parameters a market is created with ([`MarketParams`]), their encoding (the constructor's
//!   `bytes` argument) and their validation (DAMM v2's rules).
//! - [`batch`]: the compact binary encoding of a batch's swaps ([`Op`]), encoder and decoder.
//! - [`exec`]: the re-execution of a batch (or of one L1 swap) and its net flows with the vault.
//!
//! The market contract verifies with this crate and the operator builds batches and predicts state hashes with
//! it, so both sides run the same code to the last rounding. `no_std`; the `std` feature (default) is for the
//! host.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod batch;
pub mod exec;
pub mod params;
pub mod state;

pub use batch::{encode_batch, BatchReader, Op};
pub use exec::{execute_batch, execute_op, BatchError, Totals};
pub use params::MarketParams;
pub use state::{MarketState, STATE_LEN, STATE_WORDS};

/// A byte string that is not a valid encoding; `offset` is where reading failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodeError {
    /// Byte offset of the first byte that could not be read.
    pub offset: usize,
}

impl core::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "malformed encoding at byte {}", self.offset)
    }
}

/// Writes a fee configuration, the part the state and the parameters encode alike: base fee, protocol and
/// referral percentages, compounding share, fee version, then the dynamic fee's parameters (not its running
/// fields).
pub(crate) fn put_fee_config(w: &mut Writer<'_>, f: &damm_math::PoolFees) {
    let d = &f.dynamic_fee;
    w.u64(f.base_fee_numerator);
    w.u8(f.protocol_fee_percent);
    w.u8(f.referral_fee_percent);
    w.u16(f.compounding_fee_bps);
    w.u8(f.fee_version);
    w.u8(d.initialized as u8);
    w.u32(d.max_volatility_accumulator);
    w.u32(d.variable_fee_control);
    w.u16(d.bin_step);
    w.u16(d.filter_period);
    w.u16(d.decay_period);
    w.u16(d.reduction_factor);
    w.u128(d.bin_step_u128);
}

/// Reads what [`put_fee_config`] writes; the dynamic fee's running fields are zero.
pub(crate) fn take_fee_config(r: &mut Reader<'_>) -> Result<damm_math::PoolFees, DecodeError> {
    Ok(damm_math::PoolFees {
        base_fee_numerator: r.u64()?,
        protocol_fee_percent: r.u8()?,
        referral_fee_percent: r.u8()?,
        compounding_fee_bps: r.u16()?,
        fee_version: r.u8()?,
        dynamic_fee: damm_math::DynamicFee {
            initialized: r.flag()?,
            max_volatility_accumulator: r.u32()?,
            variable_fee_control: r.u32()?,
            bin_step: r.u16()?,
            filter_period: r.u16()?,
            decay_period: r.u16()?,
            reduction_factor: r.u16()?,
            bin_step_u128: r.u128()?,
            ..damm_math::DynamicFee::default()
        },
    })
}

/// Big-endian fixed-width writer over a byte buffer.
pub(crate) struct Writer<'a> {
    buf: &'a mut [u8],
    at: usize,
}

impl<'a> Writer<'a> {
    pub(crate) fn new(buf: &'a mut [u8]) -> Self {
        Self { buf, at: 0 }
    }

    pub(crate) fn bytes(&mut self, bytes: &[u8]) {
        self.buf[self.at..self.at + bytes.len()].copy_from_slice(bytes);
        self.at += bytes.len();
    }

    pub(crate) fn u8(&mut self, v: u8) {
        self.bytes(&[v]);
    }
    pub(crate) fn u16(&mut self, v: u16) {
        self.bytes(&v.to_be_bytes());
    }
    pub(crate) fn u32(&mut self, v: u32) {
        self.bytes(&v.to_be_bytes());
    }
    pub(crate) fn u64(&mut self, v: u64) {
        self.bytes(&v.to_be_bytes());
    }
    pub(crate) fn u128(&mut self, v: u128) {
        self.bytes(&v.to_be_bytes());
    }
    pub(crate) fn u256(&mut self, v: damm_math::U256) {
        self.bytes(&v.to_be_bytes::<32>());
    }
    pub(crate) fn position(&self) -> usize {
        self.at
    }
}

/// Big-endian fixed-width reader over a byte slice.
#[derive(Clone)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf, at: 0 }
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let out = self
            .buf
            .get(self.at..self.at + n)
            .ok_or(DecodeError { offset: self.at })?;
        self.at += n;
        Ok(out)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.uint(1)? as u8)
    }
    pub(crate) fn flag(&mut self) -> Result<bool, DecodeError> {
        let at = self.at;
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(DecodeError { offset: at }),
        }
    }
    pub(crate) fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(self.uint(2)? as u16)
    }
    pub(crate) fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(self.uint(4)? as u32)
    }
    pub(crate) fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(self.uint(8)? as u64)
    }
    pub(crate) fn u128(&mut self) -> Result<u128, DecodeError> {
        self.uint(16)
    }
    pub(crate) fn u256(&mut self) -> Result<damm_math::U256, DecodeError> {
        let high = self.uint(16)?;
        let low = self.uint(16)?;
        Ok((damm_math::U256::from(high) << 128) | damm_math::U256::from(low))
    }
    /// An unsigned big-endian number of `len` (≤ 16) bytes. (Every fixed-width read goes through this one
    /// function: in a contract, one copy of the code.)
    #[inline(never)]
    pub(crate) fn uint(&mut self, len: usize) -> Result<u128, DecodeError> {
        let mut out = [0u8; 16];
        out[16 - len..].copy_from_slice(self.take(len)?);
        Ok(u128::from_be_bytes(out))
    }
    pub(crate) fn position(&self) -> usize {
        self.at
    }
    pub(crate) fn is_empty(&self) -> bool {
        self.at >= self.buf.len()
    }
    /// Fails unless every byte was read.
    pub(crate) fn finish(&self) -> Result<(), DecodeError> {
        if self.at == self.buf.len() {
            Ok(())
        } else {
            Err(DecodeError { offset: self.at })
        }
    }
}
