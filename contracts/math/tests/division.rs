//! The hand-written long division in `wide` against ruint's, on random and adversarial operands.
//!
//! Digits are drawn from values that stress Knuth's algorithm D (all ones, top bit only, one below, zero), which
//! is how the rare "add back" correction step gets exercised.
#![allow(missing_docs)]

use damm_math::{
    wide::{div_rem, div_rem_wide, div_round, mul_div_u256, sqrt_u256},
    Rounding, U256, U512,
};
use proptest::prelude::*;

fn digit() -> impl Strategy<Value = u32> {
    prop_oneof![
        Just(0u32),
        Just(1),
        Just(0x7FFF_FFFF),
        Just(0x8000_0000),
        Just(0xFFFF_FFFE),
        Just(0xFFFF_FFFF),
        any::<u32>(),
    ]
}

/// A number of `n` 32-bit digits, with a random number of leading digits zeroed.
fn number<const L: usize>(n: usize) -> impl Strategy<Value = [u64; L]> {
    (proptest::collection::vec(digit(), n), 0..=n).prop_map(move |(d, zeros)| {
        let mut limbs = [0u64; L];
        for (i, x) in d.iter().enumerate().take(n - zeros) {
            limbs[i / 2] |= (*x as u64) << (32 * (i % 2));
        }
        limbs
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 50_000, ..ProptestConfig::default() })]

    #[test]
    fn div_rem_256_matches_ruint(n in number::<4>(8), d in number::<4>(8)) {
        let (n, d) = (U256::from_limbs(n), U256::from_limbs(d));
        match div_rem(n, d) {
            None => prop_assert!(d.is_zero()),
            Some((q, r)) => {
                prop_assert_eq!(q, n / d);
                prop_assert_eq!(r, n % d);
            }
        }
    }

    #[test]
    fn div_rem_512_by_256_matches_ruint(n in number::<8>(16), d in number::<4>(8)) {
        let (n, d) = (U512::from_limbs(n), U256::from_limbs(d));
        match div_rem_wide(n, d) {
            None => prop_assert!(d.is_zero()),
            Some((q, r)) => {
                let d512 = U512::from(d);
                prop_assert_eq!(q, n / d512);
                prop_assert_eq!(U512::from(r), n % d512);
            }
        }
    }

    #[test]
    fn sqrt_is_the_exact_floor_root(n in number::<4>(8)) {
        let n = U256::from_limbs(n);
        let r = U512::from(sqrt_u256(n));
        let n = U512::from(n);
        prop_assert!(r * r <= n);
        prop_assert!((r + U512::from(1u8)) * (r + U512::from(1u8)) > n);
    }

    #[test]
    fn mul_div_matches_exact_arithmetic(x in number::<4>(8), y in number::<4>(8), d in number::<4>(8), up in any::<bool>()) {
        let (x, y, d) = (U256::from_limbs(x), U256::from_limbs(y), U256::from_limbs(d));
        let rounding = if up { Rounding::Up } else { Rounding::Down };
        let got = mul_div_u256(x, y, d, rounding);
        if d.is_zero() {
            prop_assert_eq!(got, None);
        } else {
            let p: U512 = x.widening_mul(y);
            let d512 = U512::from(d);
            let mut q = p / d512;
            if up && !(p % d512).is_zero() {
                q += U512::from(1u8);
            }
            let expected = if q > U512::from(U256::MAX) { None } else { Some(U256::from(q)) };
            prop_assert_eq!(got, expected);
        }
    }
}

#[test]
fn division_edge_cases() {
    let one = U256::from(1u8);
    assert_eq!(div_rem(U256::MAX, one), Some((U256::MAX, U256::ZERO)));
    assert_eq!(div_rem(U256::MAX, U256::MAX), Some((one, U256::ZERO)));
    assert_eq!(div_rem(one, U256::MAX), Some((U256::ZERO, one)));
    assert_eq!(div_rem(U256::ZERO, one), Some((U256::ZERO, U256::ZERO)));
    assert_eq!(div_rem(one, U256::ZERO), None);
    assert_eq!(
        div_round(U256::from(7u8), U256::from(2u8), Rounding::Up),
        Some(U256::from(4u8))
    );
    assert_eq!(
        div_round(U256::from(7u8), U256::from(2u8), Rounding::Down),
        Some(U256::from(3u8))
    );
    let (q, r) = div_rem_wide(U512::MAX, U256::MAX).unwrap();
    assert_eq!(q, U512::MAX / U512::from(U256::MAX));
    assert_eq!(U512::from(r), U512::MAX % U512::from(U256::MAX));
    // The classic add-back trigger (Hacker's Delight's divmnu tests, scaled to 32-bit digits).
    let n = U256::from_limbs([0, 0x7FFF_FFFF_8000_0000, 0, 0]);
    let d = U256::from_limbs([0x8000_0000_0000_0001, 0, 0, 0]);
    assert_eq!(div_rem(n, d), Some((n / d, n % d)));
    let n = U256::from_limbs([0x0000_0003_0000_0000, 0x8000_0000, 0, 0]);
    let d = U256::from_limbs([0x0000_0001_0000_0000, 0x2000_0000, 0, 0]);
    assert_eq!(div_rem(n, d), Some((n / d, n % d)));
}
