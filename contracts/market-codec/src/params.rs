//! The parameters a market is created with, their encoding and their validation.
//!
//! # Encoding (`PARAMS_LEN` = 127 bytes, big-endian; the market constructor's `bytes params`)
//! `collect_fee_mode` (1), `sqrt_price` (16), `sqrt_min_price` (16), `sqrt_max_price` (16), `liquidity` (32),
//! `base_fee_numerator` (8), `protocol_fee_percent` (1), `referral_fee_percent` (1), `compounding_fee_bps` (2),
//! `fee_version` (1), then the dynamic fee: `initialized` (1), `max_volatility_accumulator` (4),
//! `variable_fee_control` (4), `bin_step` (2), `filter_period` (2), `decay_period` (2), `reduction_factor` (2),
//! `bin_step_u128` (16).

use damm_math::{
    constants::{max_fee_numerator, MIN_FEE_NUMERATOR},
    liquidity::{initial_pool, validate_compounding_fee_bps},
    CollectFeeMode, DynamicFee, MathError, PoolFees, PoolState, U256,
};

use crate::{put_fee_config, take_fee_config, DecodeError, MarketState, Reader, Writer};

/// Length of the parameters' encoding, bytes.
pub const PARAMS_LEN: usize = 127;

/// What a market is created with: a DAMM v2 pool's configuration and initial price and liquidity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MarketParams {
    /// Concentrated (fee on both tokens or only B) or compounding.
    pub mode: CollectFeeMode,
    /// Initial sqrt price, Q64.64.
    pub sqrt_price: u128,
    /// Lower end of the range, Q64.64 (compounding: 0).
    pub sqrt_min_price: u128,
    /// Upper end of the range, Q64.64 (compounding: `u128::MAX`).
    pub sqrt_max_price: u128,
    /// Initial liquidity, 2^64-scaled (compounding: including the dead liquidity).
    pub liquidity: U256,
    /// Static base fee, over 1e9.
    pub base_fee_numerator: u64,
    /// Protocol share of each fee, percent (DAMM v2: 20).
    pub protocol_fee_percent: u8,
    /// Referral share of the protocol fee, percent (DAMM v2: 20).
    pub referral_fee_percent: u8,
    /// Compounding share of the LP fee, basis points (compounding pools only).
    pub compounding_fee_bps: u16,
    /// Fee version: 0 caps the total fee at 50 %, 1 at 99 %.
    pub fee_version: u8,
    /// Dynamic-fee parameters (`initialized` false and every field zero: no dynamic fee). Its running fields
    /// (`last_update_timestamp`, references, accumulator) are ignored and start at zero.
    pub dynamic_fee: DynamicFee,
}

impl MarketParams {
    /// The fee configuration as a pool state holds it (the dynamic fee's running fields zero).
    pub fn fees(&self) -> PoolFees {
        PoolFees {
            base_fee_numerator: self.base_fee_numerator,
            protocol_fee_percent: self.protocol_fee_percent,
            referral_fee_percent: self.referral_fee_percent,
            compounding_fee_bps: self.compounding_fee_bps,
            fee_version: self.fee_version,
            dynamic_fee: DynamicFee {
                last_update_timestamp: 0,
                sqrt_price_reference: 0,
                volatility_accumulator: 0,
                volatility_reference: 0,
                ..self.dynamic_fee
            },
        }
    }

    /// The encoding (the market constructor's `params`).
    pub fn encode(&self) -> [u8; PARAMS_LEN] {
        let mut out = [0u8; PARAMS_LEN];
        let mut w = Writer::new(&mut out);
        w.u8(self.mode as u8);
        w.u128(self.sqrt_price);
        w.u128(self.sqrt_min_price);
        w.u128(self.sqrt_max_price);
        w.u256(self.liquidity);
        put_fee_config(&mut w, &self.fees());
        debug_assert_eq!(w.position(), PARAMS_LEN);
        out
    }

    /// Decodes the parameters (exactly [`PARAMS_LEN`] bytes).
    ///
    /// # Errors
    /// [`DecodeError`] at the first byte that is missing, surplus or out of range (fee mode, flag).
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let mode = CollectFeeMode::try_from(r.u8()?).map_err(|_| DecodeError { offset: 0 })?;
        let (sqrt_price, sqrt_min_price, sqrt_max_price, liquidity) =
            (r.u128()?, r.u128()?, r.u128()?, r.u256()?);
        let fees = take_fee_config(&mut r)?;
        let out = Self {
            mode,
            sqrt_price,
            sqrt_min_price,
            sqrt_max_price,
            liquidity,
            base_fee_numerator: fees.base_fee_numerator,
            protocol_fee_percent: fees.protocol_fee_percent,
            referral_fee_percent: fees.referral_fee_percent,
            compounding_fee_bps: fees.compounding_fee_bps,
            fee_version: fees.fee_version,
            dynamic_fee: fees.dynamic_fee,
        };
        r.finish()?;
        Ok(out)
    }

    /// Validates the parameters as DAMM v2 validates a pool's creation and returns the market's initial state
    /// (`seq` 0, `last_timestamp` = `now`).
    ///
    /// Checks, in order: `fee_version` ∈ {0, 1} (`InvalidPoolVersion`); `MIN_FEE_NUMERATOR ≤ base fee`
    /// (`InvalidFee`) and `base fee ≤ max_fee_numerator(fee_version)` (`ExceedMaxFeeBps`); protocol and
    /// referral percentages at most 100 (`InvalidFee`); the compounding share for the mode
    /// (`InvalidCompoundingFeeBps`); the dynamic fee (`DynamicFee::validate` when on, every field zero when off:
    /// `InvalidInput`); then the range, price and liquidity (`initial_pool`: `InvalidPriceRange`,
    /// `InvalidMinimumLiquidity`, `AmountIsZero`).
    ///
    /// # Errors
    /// The first failed check.
    pub fn initial_state(&self, now: u64) -> Result<MarketState, MathError> {
        let max_fee = max_fee_numerator(self.fee_version)?;
        if self.base_fee_numerator < MIN_FEE_NUMERATOR {
            return Err(MathError::InvalidFee);
        }
        if self.base_fee_numerator > max_fee {
            return Err(MathError::ExceedMaxFeeBps);
        }
        if self.protocol_fee_percent > 100 || self.referral_fee_percent > 100 {
            return Err(MathError::InvalidFee);
        }
        validate_compounding_fee_bps(self.mode, self.compounding_fee_bps)?;
        let fees = self.fees();
        let dynamic_fee = fees.dynamic_fee;
        if dynamic_fee.initialized {
            dynamic_fee.validate()?;
        } else if dynamic_fee != DynamicFee::default() {
            return Err(MathError::InvalidInput);
        }
        let initial = initial_pool(
            self.mode,
            self.sqrt_price,
            self.liquidity,
            self.sqrt_min_price,
            self.sqrt_max_price,
        )?;
        Ok(MarketState {
            seq: 0,
            last_timestamp: now,
            pool: PoolState {
                collect_fee_mode: self.mode,
                sqrt_price: initial.sqrt_price,
                sqrt_min_price: initial.sqrt_min_price,
                sqrt_max_price: initial.sqrt_max_price,
                liquidity: initial.pool_liquidity,
                token_a_amount: initial.token_a_amount,
                token_b_amount: initial.token_b_amount,
                fees,
                fee_a_per_liquidity: U256::ZERO,
                fee_b_per_liquidity: U256::ZERO,
                protocol_a_fee: 0,
                protocol_b_fee: 0,
            },
        })
    }
}
