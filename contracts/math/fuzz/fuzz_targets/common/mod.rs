//! Arbitrary inputs shared by the fuzz targets: amounts, times, liquidity, fee configurations and pools.
//!
//! Every value can be fully raw (any bit pattern, to reach the error paths) or shaped (log-uniform amounts,
//! prices clamped into the valid range, pools created through `initial_pool`), so the fuzzer also spends its
//! time on states a real pool can be in.
#![allow(dead_code)] // each target uses part of this module

use arbitrary::Arbitrary;
use damm_math::{
    constants::{BIN_STEP_BPS_U128_DEFAULT, DEAD_LIQUIDITY, MAX_SQRT_PRICE, MIN_SQRT_PRICE},
    liquidity::initial_pool,
    CollectFeeMode, DynamicFee, MathError, PoolFees, PoolState, U256,
};

/// An amount of atoms.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Amount {
    /// Any `u128`.
    Raw(u128),
    /// `mantissa · 10^(exponent % 40)`, saturating: spreads amounts over every order of magnitude.
    Decimal { mantissa: u16, exponent: u8 },
    /// A handful of atoms (rounding edge cases).
    Small(u8),
}

impl Amount {
    pub fn value(self) -> u128 {
        match self {
            Self::Raw(v) => v,
            Self::Decimal { mantissa, exponent } => {
                (mantissa as u128).saturating_mul(10u128.saturating_pow(u32::from(exponent % 40)))
            }
            Self::Small(v) => v as u128,
        }
    }
}

/// A 2^64-scaled liquidity.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Liquidity {
    /// Any 256-bit value.
    Limbs([u64; 4]),
    /// A real liquidity (`sqrt(a·b)` in atoms), shifted left by 64.
    Real(Amount),
}

impl Liquidity {
    pub fn value(self) -> U256 {
        match self {
            Self::Limbs(limbs) => U256::from_limbs(limbs),
            Self::Real(amount) => U256::from(amount.value()) << 64usize,
        }
    }
}

/// A point in time, relative to the previous one or absolute.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Time {
    /// Seconds after the previous time (saturating).
    After(u16),
    /// Any unix time (may go backwards).
    Absolute(u64),
}

impl Time {
    pub fn after(self, now: u64) -> u64 {
        match self {
            Self::After(dt) => now.saturating_add(u64::from(dt)),
            Self::Absolute(t) => t,
        }
    }
}

/// `CollectFeeMode` from any byte: checks `try_from` (valid for 0..=2, `InvalidCollectFeeMode` otherwise), then
/// folds an invalid byte onto a valid mode so the input stays useful.
pub fn collect_fee_mode(byte: u8) -> CollectFeeMode {
    match CollectFeeMode::try_from(byte) {
        Ok(mode) => {
            assert!(
                byte <= 2 && mode as u8 == byte,
                "mode {byte} accepted as {mode:?}"
            );
            mode
        }
        Err(e) => {
            assert!(byte > 2, "valid mode byte {byte} rejected");
            assert_eq!(e, MathError::InvalidCollectFeeMode);
            CollectFeeMode::try_from(byte % 3).expect("0..=2 is a valid mode")
        }
    }
}

/// A dynamic-fee configuration and state.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum DynamicSpec {
    /// Every field raw.
    Raw {
        initialized: bool,
        max_volatility_accumulator: u32,
        variable_fee_control: u32,
        bin_step: u16,
        filter_period: u16,
        decay_period: u16,
        reduction_factor: u16,
        last_update_timestamp: u64,
        bin_step_u128: u128,
        sqrt_price_reference: u128,
        volatility_accumulator: u128,
        volatility_reference: u128,
    },
    /// DAMM v2's default parameters with an arbitrary running state.
    Default {
        volatility_accumulator: u32,
        volatility_reference: u32,
        last_update_timestamp: u64,
        /// `None`: the pool's current price.
        sqrt_price_reference: Option<u128>,
    },
}

impl DynamicSpec {
    pub fn build(self, sqrt_price: u128) -> DynamicFee {
        match self {
            Self::Raw {
                initialized,
                max_volatility_accumulator,
                variable_fee_control,
                bin_step,
                filter_period,
                decay_period,
                reduction_factor,
                last_update_timestamp,
                bin_step_u128,
                sqrt_price_reference,
                volatility_accumulator,
                volatility_reference,
            } => DynamicFee {
                initialized,
                max_volatility_accumulator,
                variable_fee_control,
                bin_step,
                filter_period,
                decay_period,
                reduction_factor,
                last_update_timestamp,
                bin_step_u128,
                sqrt_price_reference,
                volatility_accumulator,
                volatility_reference,
            },
            Self::Default {
                volatility_accumulator,
                volatility_reference,
                last_update_timestamp,
                sqrt_price_reference,
            } => {
                let max_volatility_accumulator = 2_000_000;
                let fee = DynamicFee {
                    initialized: true,
                    max_volatility_accumulator,
                    variable_fee_control: 40_000,
                    bin_step: 1,
                    filter_period: 10,
                    decay_period: 120,
                    reduction_factor: 5_000,
                    last_update_timestamp,
                    bin_step_u128: BIN_STEP_BPS_U128_DEFAULT,
                    sqrt_price_reference: sqrt_price_reference.unwrap_or(sqrt_price),
                    volatility_accumulator: u128::from(
                        volatility_accumulator % (max_volatility_accumulator + 1),
                    ),
                    volatility_reference: u128::from(volatility_reference % (max_volatility_accumulator + 1)),
                };
                assert_eq!(
                    fee.validate(),
                    Ok(()),
                    "DAMM v2's default dynamic-fee parameters are valid"
                );
                fee
            }
        }
    }
}

/// A fee configuration.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub struct FeeSpec {
    pub base_fee_numerator: u64,
    pub protocol_fee_percent: u8,
    pub referral_fee_percent: u8,
    pub compounding_fee_bps: u16,
    pub fee_version: u8,
    pub dynamic: Option<DynamicSpec>,
}

impl FeeSpec {
    pub fn build(self, sqrt_price: u128) -> PoolFees {
        PoolFees {
            base_fee_numerator: self.base_fee_numerator,
            protocol_fee_percent: self.protocol_fee_percent,
            referral_fee_percent: self.referral_fee_percent,
            compounding_fee_bps: self.compounding_fee_bps,
            fee_version: self.fee_version,
            dynamic_fee: self.dynamic.map(|d| d.build(sqrt_price)).unwrap_or_default(),
        }
    }
}

/// A pool state with every field raw.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub struct RawPool {
    pub collect_fee_mode: u8,
    pub sqrt_price: u128,
    pub sqrt_min_price: u128,
    pub sqrt_max_price: u128,
    pub liquidity: Liquidity,
    pub token_a_amount: Amount,
    pub token_b_amount: Amount,
    pub fee_a_per_liquidity: [u64; 4],
    pub fee_b_per_liquidity: [u64; 4],
    pub protocol_a_fee: u128,
    pub protocol_b_fee: u128,
}

/// A sqrt price folded into `[MIN_SQRT_PRICE, MAX_SQRT_PRICE]`.
pub fn clamp_sqrt_price(x: u128) -> u128 {
    MIN_SQRT_PRICE + x % (MAX_SQRT_PRICE - MIN_SQRT_PRICE + 1)
}

/// A pool created the way a real one is: valid range and price, reserves from `initial_pool`.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub struct CreatedPool {
    pub collect_fee_mode: u8,
    pub sqrt_price: u128,
    pub bound_a: u128,
    pub bound_b: u128,
    pub liquidity: Liquidity,
}

impl CreatedPool {
    /// `(mode, sqrt_price, sqrt_min, sqrt_max)` folded into a valid configuration.
    pub fn valid_parameters(&self) -> (CollectFeeMode, u128, u128, u128) {
        let mode = collect_fee_mode(self.collect_fee_mode);
        if mode == CollectFeeMode::Compounding {
            return (mode, clamp_sqrt_price(self.sqrt_price), 0, u128::MAX);
        }
        let (a, b) = (clamp_sqrt_price(self.bound_a), clamp_sqrt_price(self.bound_b));
        let (mut lo, mut hi) = (a.min(b), a.max(b));
        if lo == hi {
            if hi < MAX_SQRT_PRICE {
                hi += 1;
            } else {
                lo -= 1;
            }
        }
        (mode, lo + self.sqrt_price % (hi - lo + 1), lo, hi)
    }
}

/// A pool: raw, or created.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum PoolSpec {
    Raw(RawPool),
    Created(CreatedPool),
}

/// A zero-accumulator pool state from `initial_pool`'s result.
pub fn state_from_initial(
    mode: CollectFeeMode,
    init: &damm_math::liquidity::InitialPool,
    fees: &FeeSpec,
) -> PoolState {
    PoolState {
        collect_fee_mode: mode,
        sqrt_price: init.sqrt_price,
        sqrt_min_price: init.sqrt_min_price,
        sqrt_max_price: init.sqrt_max_price,
        liquidity: init.pool_liquidity,
        token_a_amount: init.token_a_amount,
        token_b_amount: init.token_b_amount,
        fees: fees.build(init.sqrt_price),
        fee_a_per_liquidity: U256::ZERO,
        fee_b_per_liquidity: U256::ZERO,
        protocol_a_fee: 0,
        protocol_b_fee: 0,
    }
}

/// Checks what `initial_pool` promises about a pool it created.
pub fn check_initial_pool(
    mode: CollectFeeMode,
    sqrt_price: u128,
    liquidity: U256,
    init: &damm_math::liquidity::InitialPool,
) {
    assert!(
        init.token_a_amount > 0 || init.token_b_amount > 0,
        "a created pool holds something"
    );
    assert_eq!(init.pool_liquidity, liquidity);
    match mode {
        CollectFeeMode::Compounding => {
            assert_eq!(init.pool_liquidity - init.position_liquidity, DEAD_LIQUIDITY);
            assert_eq!((init.sqrt_min_price, init.sqrt_max_price), (0, u128::MAX));
        }
        _ => {
            assert_eq!(init.position_liquidity, init.pool_liquidity);
            assert_eq!(init.sqrt_price, sqrt_price);
            assert!(init.sqrt_min_price <= init.sqrt_price && init.sqrt_price <= init.sqrt_max_price);
        }
    }
}

impl PoolSpec {
    /// The pool state and the liquidity of its creating position (raw pools: all of it), or `None` when
    /// `initial_pool` rejects the parameters (checked to be an error, not a panic).
    pub fn build(&self, fees: &FeeSpec) -> Option<(PoolState, U256)> {
        match *self {
            Self::Raw(raw) => {
                let state = PoolState {
                    collect_fee_mode: collect_fee_mode(raw.collect_fee_mode),
                    sqrt_price: raw.sqrt_price,
                    sqrt_min_price: raw.sqrt_min_price,
                    sqrt_max_price: raw.sqrt_max_price,
                    liquidity: raw.liquidity.value(),
                    token_a_amount: raw.token_a_amount.value(),
                    token_b_amount: raw.token_b_amount.value(),
                    fees: fees.build(raw.sqrt_price),
                    fee_a_per_liquidity: U256::from_limbs(raw.fee_a_per_liquidity),
                    fee_b_per_liquidity: U256::from_limbs(raw.fee_b_per_liquidity),
                    protocol_a_fee: raw.protocol_a_fee,
                    protocol_b_fee: raw.protocol_b_fee,
                };
                Some((state, state.liquidity))
            }
            Self::Created(created) => {
                let (mode, sqrt_price, sqrt_min, sqrt_max) = created.valid_parameters();
                let liquidity = created.liquidity.value();
                let init = initial_pool(mode, sqrt_price, liquidity, sqrt_min, sqrt_max).ok()?;
                check_initial_pool(mode, sqrt_price, liquidity, &init);
                Some((state_from_initial(mode, &init, fees), init.position_liquidity))
            }
        }
    }
}
