//! A market's state, its canonical encoding and its hash.
//!
//! # Canonical encoding (`STATE_LEN` = 327 bytes, big-endian, no padding)
//! The configuration first (it never changes after creation, except `liquidity` on a resize), then what every
//! trade moves, so that the contract, which stores the encoding itself in `STATE_WORDS` storage words, rewrites
//! only the words a batch changed:
//!
//! | bytes | field | | bytes | field |
//! |---|---|---|---|---|
//! | 1 | `collect_fee_mode` (0, 1, 2) | | 8 | `seq` |
//! | 16 | `sqrt_min_price` | | 8 | `last_timestamp` |
//! | 16 | `sqrt_max_price` | | 16 | `sqrt_price` |
//! | 8 | `base_fee_numerator` | | 16 | `token_a_amount` |
//! | 1 | `protocol_fee_percent` | | 16 | `token_b_amount` |
//! | 1 | `referral_fee_percent` | | 8 | dynamic `last_update_timestamp` |
//! | 2 | `compounding_fee_bps` | | 16 | dynamic `sqrt_price_reference` |
//! | 1 | `fee_version` | | 16 | dynamic `volatility_accumulator` |
//! | 1 | dynamic `initialized` (0, 1) | | 16 | dynamic `volatility_reference` |
//! | 4 | dynamic `max_volatility_accumulator` | | 32 | `fee_a_per_liquidity` |
//! | 4 | dynamic `variable_fee_control` | | 32 | `fee_b_per_liquidity` |
//! | 2 + 2 + 2 + 2 | dynamic `bin_step`, `filter_period`, `decay_period`, `reduction_factor` | | 16 | `protocol_a_fee` |
//! | 16 | dynamic `bin_step_u128` | | 16 | `protocol_b_fee` |
//! | 32 | `liquidity` | | | |
//!
//! `stateHash = keccak256(encoding)`.

use alloy_primitives::{keccak256, B256};
use damm_math::{constants::DEAD_LIQUIDITY, CollectFeeMode, MathError, PoolState, U256};

use crate::{put_fee_config, take_fee_config, DecodeError, Reader, Writer};

/// Length of the canonical encoding, bytes.
pub const STATE_LEN: usize = 327;
/// Storage words the contract keeps the encoding in (the last one zero-padded).
pub const STATE_WORDS: usize = STATE_LEN.div_ceil(32);

/// A market's state: the DAMM v2 pricing state plus the count of state transitions and the time of the last
/// trade.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MarketState {
    /// State transitions so far (batches, L1 swaps, applied resizes); the next one is `seq + 1`.
    pub seq: u64,
    /// Timestamp of the last trade (creation time before the first); trades never go back in time.
    pub last_timestamp: u64,
    /// The pricing state.
    pub pool: PoolState,
}

impl MarketState {
    /// The canonical encoding.
    pub fn encode(&self) -> [u8; STATE_LEN] {
        let mut out = [0u8; STATE_LEN];
        let mut w = Writer::new(&mut out);
        let p = &self.pool;
        let f = &p.fees;
        let d = &f.dynamic_fee;
        w.u8(p.collect_fee_mode as u8);
        w.u128(p.sqrt_min_price);
        w.u128(p.sqrt_max_price);
        put_fee_config(&mut w, f);
        w.u256(p.liquidity);
        w.u64(self.seq);
        w.u64(self.last_timestamp);
        w.u128(p.sqrt_price);
        w.u128(p.token_a_amount);
        w.u128(p.token_b_amount);
        w.u64(d.last_update_timestamp);
        w.u128(d.sqrt_price_reference);
        w.u128(d.volatility_accumulator);
        w.u128(d.volatility_reference);
        w.u256(p.fee_a_per_liquidity);
        w.u256(p.fee_b_per_liquidity);
        w.u128(p.protocol_a_fee);
        w.u128(p.protocol_b_fee);
        debug_assert_eq!(w.position(), STATE_LEN);
        out
    }

    /// Decodes the canonical encoding (exactly [`STATE_LEN`] bytes; flags 0 or 1; a known fee mode).
    ///
    /// # Errors
    /// [`DecodeError`] at the first byte that is missing, surplus or out of range.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let mode = CollectFeeMode::try_from(r.u8()?).map_err(|_| DecodeError { offset: 0 })?;
        let sqrt_min_price = r.u128()?;
        let sqrt_max_price = r.u128()?;
        let mut fees = take_fee_config(&mut r)?;
        let liquidity = r.u256()?;
        let seq = r.u64()?;
        let last_timestamp = r.u64()?;
        let sqrt_price = r.u128()?;
        let token_a_amount = r.u128()?;
        let token_b_amount = r.u128()?;
        let d = &mut fees.dynamic_fee;
        d.last_update_timestamp = r.u64()?;
        d.sqrt_price_reference = r.u128()?;
        d.volatility_accumulator = r.u128()?;
        d.volatility_reference = r.u128()?;
        let fee_a_per_liquidity = r.u256()?;
        let fee_b_per_liquidity = r.u256()?;
        let protocol_a_fee = r.u128()?;
        let protocol_b_fee = r.u128()?;
        r.finish()?;
        Ok(Self {
            seq,
            last_timestamp,
            pool: PoolState {
                collect_fee_mode: mode,
                sqrt_price,
                sqrt_min_price,
                sqrt_max_price,
                liquidity,
                token_a_amount,
                token_b_amount,
                fees,
                fee_a_per_liquidity,
                fee_b_per_liquidity,
                protocol_a_fee,
                protocol_b_fee,
            },
        })
    }

    /// `stateHash`: keccak-256 of the canonical encoding.
    pub fn hash(&self) -> B256 {
        keccak256(self.encode())
    }

    /// The encoding as the contract stores it: [`STATE_WORDS`] 32-byte words, the last one zero-padded.
    pub fn to_words(&self) -> [[u8; 32]; STATE_WORDS] {
        let bytes = self.encode();
        let mut words = [[0u8; 32]; STATE_WORDS];
        for (i, chunk) in bytes.chunks(32).enumerate() {
            words[i][..chunk.len()].copy_from_slice(chunk);
        }
        words
    }

    /// Reads the state back from its storage words.
    ///
    /// # Errors
    /// [`DecodeError`] if the words do not hold a valid encoding (or the padding is not zero).
    pub fn from_words(words: &[[u8; 32]; STATE_WORDS]) -> Result<Self, DecodeError> {
        let mut bytes = [0u8; STATE_WORDS * 32];
        for (i, w) in words.iter().enumerate() {
            bytes[32 * i..32 * i + 32].copy_from_slice(w);
        }
        if bytes[STATE_LEN..].iter().any(|&b| b != 0) {
            return Err(DecodeError { offset: STATE_LEN });
        }
        Self::decode(&bytes[..STATE_LEN])
    }

    /// Resizes the market to `liquidity` at its current price, as a state transition (`seq + 1`): DAMM v2's
    /// add-liquidity (reserves grow by amounts rounded up) or remove-liquidity (reserves shrink by amounts
    /// rounded down) of the difference. Fees, accumulators and the price are unchanged.
    ///
    /// # Errors
    /// [`MathError::InvalidMinimumLiquidity`] for a zero liquidity (compounding: not above the dead liquidity);
    /// those of the liquidity change ([`MathError::AmountIsZero`] for a change too small to move a reserve).
    /// The state is unchanged on error.
    pub fn resize(&mut self, liquidity: U256) -> Result<(), MathError> {
        let minimum = match self.pool.collect_fee_mode {
            CollectFeeMode::Compounding => DEAD_LIQUIDITY,
            _ => U256::ZERO,
        };
        if liquidity <= minimum {
            return Err(MathError::InvalidMinimumLiquidity);
        }
        let mut pool = self.pool;
        let current = pool.liquidity;
        if liquidity > current {
            pool.add_liquidity(liquidity - current)?;
        } else if liquidity < current {
            pool.remove_liquidity(current - liquidity)?;
        }
        self.pool = pool;
        self.seq += 1;
        Ok(())
    }

    /// The part of the state the vault records at each settlement: `(sqrtPrice, liquidity, reserveA,
    /// reserveB)`.
    pub const fn vault_view(&self) -> (u128, damm_math::U256, u128, u128) {
        (
            self.pool.sqrt_price,
            self.pool.liquidity,
            self.pool.token_a_amount,
            self.pool.token_b_amount,
        )
    }
}
