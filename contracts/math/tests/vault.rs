//! Property tests of the vault's accounting: depositors and withdrawers never take value from the pool.
//!
//! - a deposit never lowers the health factor (shares are minted rounded down);
//! - a withdrawal never pays more than the withdrawn shares' part of each holding, and never lowers the health
//!   factor of what stays;
//! - an LP burn sized by `lp_to_burn` always covers the payout it is for, with at most one LP token to spare.
#![allow(missing_docs)]

use damm_math::{
    vault::{lp_to_burn, pool_liquidity, shares_for_deposit, withdrawal, PairState, PoolHoldings},
    wide::{mul_div_u256, u256, widen},
    Rounding, U256,
};
use proptest::prelude::*;

fn pair() -> impl Strategy<Value = PairState> {
    (1u128..1 << 112, 1u128..1 << 112, 1u128..u128::MAX).prop_map(|(r0, r1, supply)| PairState {
        reserve0: r0,
        reserve1: r1,
        total_supply: u256(supply),
    })
}

fn holdings() -> impl Strategy<Value = PoolHoldings> {
    (0u128..1 << 100, 0u128..1 << 100, 0u128..1 << 100).prop_map(|(raw0, raw1, lp)| PoolHoldings {
        raw0,
        raw1,
        lp: u256(lp),
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    #[test]
    fn a_deposit_never_lowers_the_health_factor(
        total in 1u128..1 << 120,
        liquidity in 1u128..1 << 120,
        added in 1u128..1 << 120,
    ) {
        let (total, liquidity, added) = (u256(total), u256(liquidity), u256(added));
        if let Ok(minted) = shares_for_deposit(total, liquidity, added) {
            // Exactly, not at 1e18 precision: (L + a) / (S + m) >= L / S.
            let after_total = total + minted.shares + minted.dead;
            prop_assert!(
                widen(liquidity + added) * widen(total) >= widen(liquidity) * widen(after_total),
                "shares {} for {added} at L {liquidity}, S {total}", minted.shares
            );
        }
    }

    #[test]
    fn a_withdrawal_pays_at_most_its_part_and_keeps_the_health_factor(
        held in holdings(),
        p in pair(),
        total in 1u128..1 << 120,
        fraction in 1u64..=1_000_000,
    ) {
        let total = u256(total);
        let shares = mul_div_u256(total, U256::from(fraction), U256::from(1_000_000u64), Rounding::Down).unwrap();
        prop_assume!(!shares.is_zero());
        let paid = withdrawal(shares, total, &held).unwrap();
        prop_assert!(paid.raw0 <= held.raw0 && paid.raw1 <= held.raw1 && paid.lp <= held.lp);
        let rest = PoolHoldings { raw0: held.raw0 - paid.raw0, raw1: held.raw1 - paid.raw1, lp: held.lp - paid.lp };
        // Exactly: what stays is worth at least its shares' part, less the two units (one per rounded term
        // of the liquidity) that rounding down can cost: (L_rest + 2) * S >= L * (S - s).
        let before = pool_liquidity(&held, &p).unwrap();
        let after = pool_liquidity(&rest, &p).unwrap();
        prop_assert!(
            widen(after + U256::from(2u64)) * widen(total) >= widen(before) * widen(total - shares),
            "L {before} -> {after}, S {total} -> {}", total - shares
        );
    }

    #[test]
    fn an_lp_burn_covers_its_payout(fraction in 1u64..=1_000_000, p in pair()) {
        // Any payout up to the whole reserve.
        let needed = (mul_div_u256(u256(p.reserve0), U256::from(fraction), U256::from(1_000_000u64), Rounding::Down)
            .unwrap()
            .to::<u128>())
        .max(1);
        let burn = lp_to_burn(needed, p.reserve0, p.total_supply).unwrap();
        let paid = mul_div_u256(burn, u256(p.reserve0), p.total_supply, Rounding::Down).unwrap();
        prop_assert!(paid >= u256(needed));
        if burn > U256::ZERO {
            let less = mul_div_u256(burn - U256::from(1u64), u256(p.reserve0), p.total_supply, Rounding::Down).unwrap();
            prop_assert!(less < u256(needed), "one LP token fewer would also do");
        }
    }
}
