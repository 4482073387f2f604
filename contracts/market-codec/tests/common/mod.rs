//! Fixtures shared by the codec's test binaries (`encoding.rs`, `batch.rs`, `exec.rs`): the time markets are
//! created at, valid dynamic-fee parameters, a realistic market of each fee mode, and a strategy over the modes.

// Not every test binary uses every fixture.
#![allow(dead_code)]

use damm_market_codec::{MarketParams, MarketState};
use damm_math::{
    constants::{BIN_STEP_BPS_U128_DEFAULT, ONE_Q64},
    CollectFeeMode, DynamicFee, U256,
};
use proptest::prelude::*;

/// 2^64: a sqrt price of 1.
pub(crate) const Q64: u128 = ONE_Q64;

/// The block time markets are created at.
pub(crate) const T0: u64 = 1_700_000_000;

/// Valid dynamic-fee parameters (DAMM v2's rules: bin step 1 bps, filter period < decay period); the running
/// fields are zero.
pub(crate) fn dynamic_fee() -> DynamicFee {
    DynamicFee {
        initialized: true,
        max_volatility_accumulator: 100_000,
        variable_fee_control: 2_000_000,
        bin_step: 1,
        filter_period: 10,
        decay_period: 120,
        reduction_factor: 5_000,
        bin_step_u128: BIN_STEP_BPS_U128_DEFAULT,
        ..DynamicFee::default()
    }
}

/// A realistic market's parameters: price 1, liquidity 1e21 (real), concentrated on sqrt prices [1/4, 4]
/// (reserves 7.5e20 each) or compounding (reserves 1e21 each, half of the LP fee compounding), 0.25 % base fee,
/// 20 % protocol, 20 % referral, with or without the dynamic fee.
pub(crate) fn market_params(mode: CollectFeeMode, dynamic: bool) -> MarketParams {
    let compounding = mode == CollectFeeMode::Compounding;
    MarketParams {
        mode,
        sqrt_price: Q64,
        sqrt_min_price: if compounding { 0 } else { Q64 / 4 },
        sqrt_max_price: if compounding { u128::MAX } else { Q64 * 4 },
        liquidity: U256::from(10u128.pow(21)) << 64,
        base_fee_numerator: 2_500_000,
        protocol_fee_percent: 20,
        referral_fee_percent: 20,
        compounding_fee_bps: if compounding { 5_000 } else { 0 },
        fee_version: 1,
        dynamic_fee: if dynamic {
            dynamic_fee()
        } else {
            DynamicFee::default()
        },
    }
}

/// The market of [`market_params`], created at `T0`.
pub(crate) fn market(mode: CollectFeeMode, dynamic: bool) -> MarketState {
    market_params(mode, dynamic).initial_state(T0).unwrap()
}

/// Any of the three fee modes.
pub(crate) fn mode_strategy() -> impl Strategy<Value = CollectFeeMode> {
    prop_oneof![
        Just(CollectFeeMode::BothToken),
        Just(CollectFeeMode::OnlyB),
        Just(CollectFeeMode::Compounding),
    ]
}
