//! Size baseline for the market contract: a stylus-sdk 0.10 program whose only job is to run the dAMM
//! exact-in swap ([`damm_math::PoolState::swap`]) on a pool given in calldata.
//!
//! Its compressed size is the floor the market contract builds on: everything the swap math pulls in
//! (256/512-bit multiply-divide, the fee split, the dynamic fee) is here, and nothing else but the SDK's router.
#![cfg_attr(not(any(test, feature = "export-abi")), no_main)]
#![cfg_attr(not(any(test, feature = "export-abi")), no_std)]
// `#[entrypoint]` generates an undocumentable `user_entrypoint`.
#![allow(missing_docs)]

extern crate alloc;

use alloc::{vec, vec::Vec};

use damm_math::{
    CollectFeeMode, DynamicFee, PoolFees, PoolState, SwapMode, SwapParams, TradeDirection, U256 as MathU256,
};
use stylus_sdk::{alloy_primitives::U256, prelude::*};

sol_storage! {
    /// No state: the pool arrives in calldata.
    #[entrypoint]
    pub struct SizeBaseline {}
}

fn to_u128(x: U256) -> Result<u128, Vec<u8>> {
    u128::try_from(x).map_err(|_| b"amount too large".to_vec())
}

#[public]
impl SizeBaseline {
    /// Exact-in swap on a concentrated (modes 0, 1) or compounding (mode 2) pool with a static fee.
    /// Returns `(amountOut, nextSqrtPrice)`; a math failure reverts with the error's one-byte code.
    #[allow(clippy::too_many_arguments)]
    pub fn quote_exact_in(
        &self,
        mode: u8,
        sqrt_price: U256,
        sqrt_min: U256,
        sqrt_max: U256,
        liquidity: U256,
        reserves: (U256, U256),
        fee_numerator: u64,
        a_to_b: bool,
        amount_in: U256,
    ) -> Result<(U256, U256), Vec<u8>> {
        let collect_fee_mode = CollectFeeMode::try_from(mode).map_err(|e| vec![e.code()])?;
        let mut pool = PoolState {
            collect_fee_mode,
            sqrt_price: to_u128(sqrt_price)?,
            sqrt_min_price: to_u128(sqrt_min)?,
            sqrt_max_price: to_u128(sqrt_max)?,
            liquidity: MathU256::from_limbs(liquidity.into_limbs()),
            token_a_amount: to_u128(reserves.0)?,
            token_b_amount: to_u128(reserves.1)?,
            fees: PoolFees {
                base_fee_numerator: fee_numerator,
                dynamic_fee: DynamicFee::default(),
                ..PoolFees::default()
            },
            fee_a_per_liquidity: MathU256::ZERO,
            fee_b_per_liquidity: MathU256::ZERO,
            protocol_a_fee: 0,
            protocol_b_fee: 0,
        };
        let params = SwapParams {
            direction: TradeDirection::from_a_to_b(a_to_b),
            mode: SwapMode::ExactIn,
            amount: to_u128(amount_in)?,
            has_referral: false,
            current_timestamp: self.vm().block_timestamp(),
        };
        let result = pool.swap(&params).map_err(|e| vec![e.code()])?;
        Ok((
            U256::from(result.output_amount),
            U256::from(result.next_sqrt_price),
        ))
    }
}

#[cfg(test)]
mod tests {
    use stylus_sdk::testing::TestVM;

    use super::*;

    const Q64: u128 = 1 << 64;

    #[test]
    fn quotes_the_hand_checked_swap() {
        let vm = TestVM::default();
        let contract = SizeBaseline::from(&vm);
        // √P = 1, real L = 1000, range [0.5, 2], 1 % fee: 100 A in gives 89 B (see the math crate's tests).
        let (out, next) = contract
            .quote_exact_in(
                0,
                U256::from(Q64),
                U256::from(Q64 / 2),
                U256::from(2 * Q64),
                U256::from(1000u64) << 64,
                (U256::from(500u64), U256::from(500u64)),
                10_000_000,
                true,
                U256::from(100u64),
            )
            .unwrap();
        assert_eq!(out, U256::from(89u64));
        assert_eq!(next, U256::from(16_769_767_339_735_956_015u128));
    }

    #[test]
    fn math_errors_revert_with_their_code() {
        let vm = TestVM::default();
        let contract = SizeBaseline::from(&vm);
        let err = contract
            .quote_exact_in(
                7,
                U256::from(Q64),
                U256::ZERO,
                U256::ZERO,
                U256::ZERO,
                (U256::ZERO, U256::ZERO),
                0,
                true,
                U256::from(1u64),
            )
            .unwrap_err();
        assert_eq!(err, vec![damm_math::MathError::InvalidCollectFeeMode.code()]);
        let err = contract
            .quote_exact_in(
                0,
                U256::MAX,
                U256::ZERO,
                U256::ZERO,
                U256::ZERO,
                (U256::ZERO, U256::ZERO),
                0,
                true,
                U256::from(1u64),
            )
            .unwrap_err();
        assert_eq!(err, b"amount too large".to_vec());
    }
}
