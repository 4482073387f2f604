//! The canonical encodings of `damm-market-codec` and the state transitions outside swaps:
//!
//! - `MarketState`: encode/decode and `to_words`/`from_words` round trips over random states, the exact byte
//!   layout documented in `state.rs`, `hash()` against an independent keccak-256 (`tiny-keccak`), and every
//!   decoding failure (length, fee mode, flag, storage padding);
//! - `MarketParams`: encode/decode round trip, its byte layout and decoding failures;
//! - `MarketParams::initial_state`: a valid market matches `damm_math::liquidity::initial_pool`, and each of the
//!   documented validation rules fails with its `MathError`;
//! - `MarketState::resize`: growing and shrinking concentrated and compounding markets moves the reserves by
//!   DAMM v2's add/remove-liquidity amounts, and a refused resize leaves the state alone.

mod common;

use common::{dynamic_fee, market_params, mode_strategy, Q64, T0};
use damm_market_codec::{params::PARAMS_LEN, DecodeError, MarketParams, MarketState, STATE_LEN, STATE_WORDS};
use damm_math::{
    constants::{max_fee_numerator, DEAD_LIQUIDITY, MIN_FEE_NUMERATOR},
    liquidity::{initial_pool, LiquidityAction},
    CollectFeeMode, DynamicFee, MathError, PoolFees, PoolState, U256,
};
use proptest::prelude::*;
use tiny_keccak::{Hasher, Keccak};

/// keccak-256, computed without the crate under test.
fn keccak(bytes: &[u8]) -> [u8; 32] {
    let mut k = Keccak::v256();
    k.update(bytes);
    let mut out = [0u8; 32];
    k.finalize(&mut out);
    out
}

fn u256_from(limbs: [u64; 4]) -> U256 {
    U256::from_limbs(limbs)
}

fn u256_strategy() -> impl Strategy<Value = U256> {
    any::<[u64; 4]>().prop_map(u256_from)
}

prop_compose! {
    fn dynamic_fee_strategy()(
        initialized in any::<bool>(),
        (max_volatility_accumulator, variable_fee_control) in any::<(u32, u32)>(),
        (bin_step, filter_period, decay_period, reduction_factor) in any::<(u16, u16, u16, u16)>(),
        last_update_timestamp in any::<u64>(),
        (bin_step_u128, sqrt_price_reference, volatility_accumulator, volatility_reference)
            in any::<(u128, u128, u128, u128)>(),
    ) -> DynamicFee {
        DynamicFee {
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
        }
    }
}

prop_compose! {
    fn state_strategy()(
        collect_fee_mode in mode_strategy(),
        (sqrt_price, sqrt_min_price, sqrt_max_price) in any::<(u128, u128, u128)>(),
        liquidity in u256_strategy(),
        (token_a_amount, token_b_amount) in any::<(u128, u128)>(),
        (base_fee_numerator, protocol_fee_percent, referral_fee_percent, compounding_fee_bps, fee_version)
            in any::<(u64, u8, u8, u16, u8)>(),
        dynamic_fee in dynamic_fee_strategy(),
        (fee_a_per_liquidity, fee_b_per_liquidity) in (u256_strategy(), u256_strategy()),
        (protocol_a_fee, protocol_b_fee) in any::<(u128, u128)>(),
        (seq, last_timestamp) in any::<(u64, u64)>(),
    ) -> MarketState {
        MarketState {
            seq,
            last_timestamp,
            pool: PoolState {
                collect_fee_mode,
                sqrt_price,
                sqrt_min_price,
                sqrt_max_price,
                liquidity,
                token_a_amount,
                token_b_amount,
                fees: PoolFees {
                    base_fee_numerator,
                    protocol_fee_percent,
                    referral_fee_percent,
                    compounding_fee_bps,
                    fee_version,
                    dynamic_fee,
                },
                fee_a_per_liquidity,
                fee_b_per_liquidity,
                protocol_a_fee,
                protocol_b_fee,
            },
        }
    }
}

prop_compose! {
    fn params_strategy()(
        mode in mode_strategy(),
        (sqrt_price, sqrt_min_price, sqrt_max_price) in any::<(u128, u128, u128)>(),
        liquidity in u256_strategy(),
        (base_fee_numerator, protocol_fee_percent, referral_fee_percent, compounding_fee_bps, fee_version)
            in any::<(u64, u8, u8, u16, u8)>(),
        dynamic_fee in dynamic_fee_strategy(),
    ) -> MarketParams {
        MarketParams {
            mode,
            sqrt_price,
            sqrt_min_price,
            sqrt_max_price,
            liquidity,
            base_fee_numerator,
            protocol_fee_percent,
            referral_fee_percent,
            compounding_fee_bps,
            fee_version,
            // The running fields are not part of the parameters' encoding.
            dynamic_fee: DynamicFee {
                last_update_timestamp: 0,
                sqrt_price_reference: 0,
                volatility_accumulator: 0,
                volatility_reference: 0,
                ..dynamic_fee
            },
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn state_round_trips(state in state_strategy()) {
        let bytes = state.encode();
        prop_assert_eq!(bytes.len(), STATE_LEN);
        prop_assert_eq!(MarketState::decode(&bytes), Ok(state));

        let words = state.to_words();
        prop_assert_eq!(words.len(), STATE_WORDS);
        // The words are the encoding, then zero padding.
        let flat: Vec<u8> = words.iter().flatten().copied().collect();
        prop_assert_eq!(&flat[..STATE_LEN], &bytes[..]);
        prop_assert!(flat[STATE_LEN..].iter().all(|&b| b == 0));
        prop_assert_eq!(MarketState::from_words(&words), Ok(state));

        prop_assert_eq!(state.hash().0, keccak(&bytes));
    }

    #[test]
    fn params_round_trip(params in params_strategy()) {
        let bytes = params.encode();
        prop_assert_eq!(bytes.len(), PARAMS_LEN);
        prop_assert_eq!(MarketParams::decode(&bytes), Ok(params));
    }

    /// Decoding any byte string of the right length either fails or re-encodes to the same bytes.
    #[test]
    fn state_decode_is_canonical(bytes in proptest::collection::vec(any::<u8>(), STATE_LEN)) {
        match MarketState::decode(&bytes) {
            Ok(state) => prop_assert_eq!(&state.encode()[..], &bytes[..]),
            Err(e) => {
                // Only the mode byte and the flag byte can be out of range.
                prop_assert!(e.offset == 0 || e.offset == 46, "{:?}", e);
            }
        }
    }
}

#[test]
fn sizes() {
    assert_eq!(STATE_LEN, 327);
    assert_eq!(STATE_WORDS, 11);
    assert_eq!(PARAMS_LEN, 127);
}

/// A state whose every field holds a distinct, recognisable value.
fn marked_state() -> MarketState {
    // Values whose big-endian bytes are easy to spot: 0x11.., 0x12.., etc.
    let fill128 = |b: u8| u128::from_be_bytes([b; 16]);
    let fill256 = |b: u8| U256::from_be_bytes([b; 32]);
    MarketState {
        seq: u64::from_be_bytes([0x31; 8]),
        last_timestamp: u64::from_be_bytes([0x32; 8]),
        pool: PoolState {
            collect_fee_mode: CollectFeeMode::Compounding,
            sqrt_price: fill128(0x33),
            sqrt_min_price: fill128(0x11),
            sqrt_max_price: fill128(0x12),
            liquidity: fill256(0x21),
            token_a_amount: fill128(0x34),
            token_b_amount: fill128(0x35),
            fees: PoolFees {
                base_fee_numerator: u64::from_be_bytes([0x13; 8]),
                protocol_fee_percent: 0x14,
                referral_fee_percent: 0x15,
                compounding_fee_bps: 0x1616,
                fee_version: 0x17,
                dynamic_fee: DynamicFee {
                    initialized: true,
                    max_volatility_accumulator: 0x1818_1818,
                    variable_fee_control: 0x1919_1919,
                    bin_step: 0x1a1a,
                    filter_period: 0x1b1b,
                    decay_period: 0x1c1c,
                    reduction_factor: 0x1d1d,
                    last_update_timestamp: u64::from_be_bytes([0x36; 8]),
                    bin_step_u128: fill128(0x1e),
                    sqrt_price_reference: fill128(0x37),
                    volatility_accumulator: fill128(0x38),
                    volatility_reference: fill128(0x39),
                },
            },
            fee_a_per_liquidity: fill256(0x3a),
            fee_b_per_liquidity: fill256(0x3b),
            protocol_a_fee: fill128(0x3c),
            protocol_b_fee: fill128(0x3d),
        },
    }
}

#[test]
fn state_layout_matches_the_documented_table() {
    let state = marked_state();
    let bytes = state.encode();
    // (offset, length, byte) in the documented order: configuration column, then the moving fields.
    let layout: &[(&str, usize, usize, u8)] = &[
        ("collect_fee_mode", 0, 1, 2),
        ("sqrt_min_price", 1, 16, 0x11),
        ("sqrt_max_price", 17, 16, 0x12),
        ("base_fee_numerator", 33, 8, 0x13),
        ("protocol_fee_percent", 41, 1, 0x14),
        ("referral_fee_percent", 42, 1, 0x15),
        ("compounding_fee_bps", 43, 2, 0x16),
        ("fee_version", 45, 1, 0x17),
        ("initialized", 46, 1, 1),
        ("max_volatility_accumulator", 47, 4, 0x18),
        ("variable_fee_control", 51, 4, 0x19),
        ("bin_step", 55, 2, 0x1a),
        ("filter_period", 57, 2, 0x1b),
        ("decay_period", 59, 2, 0x1c),
        ("reduction_factor", 61, 2, 0x1d),
        ("bin_step_u128", 63, 16, 0x1e),
        ("liquidity", 79, 32, 0x21),
        ("seq", 111, 8, 0x31),
        ("last_timestamp", 119, 8, 0x32),
        ("sqrt_price", 127, 16, 0x33),
        ("token_a_amount", 143, 16, 0x34),
        ("token_b_amount", 159, 16, 0x35),
        ("last_update_timestamp", 175, 8, 0x36),
        ("sqrt_price_reference", 183, 16, 0x37),
        ("volatility_accumulator", 199, 16, 0x38),
        ("volatility_reference", 215, 16, 0x39),
        ("fee_a_per_liquidity", 231, 32, 0x3a),
        ("fee_b_per_liquidity", 263, 32, 0x3b),
        ("protocol_a_fee", 295, 16, 0x3c),
        ("protocol_b_fee", 311, 16, 0x3d),
    ];
    let mut expected_at = 0;
    for &(name, offset, len, byte) in layout {
        assert_eq!(offset, expected_at, "{name} starts where the previous field ends");
        assert!(
            bytes[offset..offset + len].iter().all(|&b| b == byte),
            "{name} at {offset}..{}: {:02x?}",
            offset + len,
            &bytes[offset..offset + len]
        );
        expected_at = offset + len;
    }
    assert_eq!(expected_at, STATE_LEN);
    assert_eq!(MarketState::decode(&bytes), Ok(state));

    // Big-endian, not just "the right bytes": distinct bytes within one field.
    let mut s = MarketState {
        seq: 0x0102_0304_0506_0708,
        ..state
    };
    s.pool.sqrt_min_price = 0x0102_0304_0506_0708_090a_0b0c_0d0e_0f10;
    s.pool.liquidity = U256::from(0xabcd_u32);
    s.pool.collect_fee_mode = CollectFeeMode::OnlyB;
    s.pool.fees.dynamic_fee.initialized = false;
    let b = s.encode();
    assert_eq!(b[0], 1);
    assert_eq!(b[46], 0);
    assert_eq!(&b[1..17], &(1u8..=16).collect::<Vec<_>>()[..]);
    assert_eq!(&b[111..119], &[1, 2, 3, 4, 5, 6, 7, 8]);
    assert!(b[79..109].iter().all(|&x| x == 0));
    assert_eq!(&b[109..111], &[0xab, 0xcd]);

    // Storage words: word 3 holds bytes 96..128 (the end of the liquidity, seq, the start of last_timestamp).
    let words = state.to_words();
    assert_eq!(&words[3][..], &bytes[96..128]);
    assert_eq!(&words[10][..7], &bytes[320..327]);
    assert_eq!(&words[10][7..], &[0u8; 25][..]);
}

#[test]
fn hash_is_keccak_of_the_encoding() {
    let state = marked_state();
    assert_eq!(state.hash().0, keccak(&state.encode()));
    // The empty-input digest, as a sanity check of the reference keccak itself.
    assert_eq!(
        keccak(b"")[..4],
        [0xc5, 0xd2, 0x46, 0x01],
        "keccak256(\"\") = c5d24601…"
    );
    // Any change of any field changes the hash.
    let mut other = state;
    other.seq += 1;
    assert_ne!(other.hash(), state.hash());
}

#[test]
fn state_decode_failures() {
    let state = marked_state();
    let bytes = state.encode();

    // Short by one: the last field (protocol_b_fee, 16 bytes at 311) cannot be read.
    assert_eq!(
        MarketState::decode(&bytes[..STATE_LEN - 1]),
        Err(DecodeError { offset: 311 })
    );
    // Long by one: the surplus byte.
    let mut long = bytes.to_vec();
    long.push(0);
    assert_eq!(MarketState::decode(&long), Err(DecodeError { offset: STATE_LEN }));
    // Empty.
    assert_eq!(MarketState::decode(&[]), Err(DecodeError { offset: 0 }));

    // A fee mode other than 0, 1, 2.
    for mode in [3u8, 0x80, 0xff] {
        let mut bad = bytes;
        bad[0] = mode;
        assert_eq!(MarketState::decode(&bad), Err(DecodeError { offset: 0 }));
    }
    // The dynamic `initialized` flag is 0 or 1.
    for flag in [2u8, 0xff] {
        let mut bad = bytes;
        bad[46] = flag;
        assert_eq!(MarketState::decode(&bad), Err(DecodeError { offset: 46 }));
    }
    // Other bytes are free: every value of every other byte decodes.
    for at in (1..STATE_LEN).filter(|&at| at != 46) {
        let mut ok = bytes;
        ok[at] ^= 0xff;
        let decoded = MarketState::decode(&ok).unwrap_or_else(|e| panic!("byte {at}: {e}"));
        assert_ne!(decoded, state);
        assert_eq!(decoded.encode(), ok);
    }

    // Storage words: non-zero padding in the last word.
    let words = state.to_words();
    for at in 7..32 {
        let mut bad = words;
        bad[STATE_WORDS - 1][at] = 1;
        assert_eq!(
            MarketState::from_words(&bad),
            Err(DecodeError { offset: STATE_LEN })
        );
    }
    // A bad mode in the words.
    let mut bad = words;
    bad[0][0] = 3;
    assert_eq!(MarketState::from_words(&bad), Err(DecodeError { offset: 0 }));
}

/// A concentrated market with a static fee: √P = 1 on [1/2, 2], liquidity 1e24 (real).
fn valid_params() -> MarketParams {
    MarketParams {
        sqrt_min_price: Q64 / 2,
        sqrt_max_price: 2 * Q64,
        liquidity: U256::from(10u128.pow(24)) << 64,
        ..market_params(CollectFeeMode::BothToken, false)
    }
}

/// A compounding market at √P = 1 with liquidity 1e21 (real), half of its LP fee compounding.
fn compounding_params() -> MarketParams {
    market_params(CollectFeeMode::Compounding, false)
}

#[test]
fn params_layout_and_decode_failures() {
    let params = MarketParams {
        mode: CollectFeeMode::OnlyB,
        sqrt_price: u128::from_be_bytes([0x11; 16]),
        sqrt_min_price: u128::from_be_bytes([0x12; 16]),
        sqrt_max_price: u128::from_be_bytes([0x13; 16]),
        liquidity: U256::from_be_bytes([0x14; 32]),
        base_fee_numerator: u64::from_be_bytes([0x15; 8]),
        protocol_fee_percent: 0x16,
        referral_fee_percent: 0x17,
        compounding_fee_bps: 0x1818,
        fee_version: 0x19,
        dynamic_fee: DynamicFee {
            initialized: true,
            max_volatility_accumulator: 0x1a1a_1a1a,
            variable_fee_control: 0x1b1b_1b1b,
            bin_step: 0x1c1c,
            filter_period: 0x1d1d,
            decay_period: 0x1e1e,
            reduction_factor: 0x1f1f,
            bin_step_u128: u128::from_be_bytes([0x20; 16]),
            ..DynamicFee::default()
        },
    };
    let bytes = params.encode();
    let layout: &[(usize, usize, u8)] = &[
        (0, 1, 1),
        (1, 16, 0x11),
        (17, 16, 0x12),
        (33, 16, 0x13),
        (49, 32, 0x14),
        (81, 8, 0x15),
        (89, 1, 0x16),
        (90, 1, 0x17),
        (91, 2, 0x18),
        (93, 1, 0x19),
        (94, 1, 1),
        (95, 4, 0x1a),
        (99, 4, 0x1b),
        (103, 2, 0x1c),
        (105, 2, 0x1d),
        (107, 2, 0x1e),
        (109, 2, 0x1f),
        (111, 16, 0x20),
    ];
    for &(offset, len, byte) in layout {
        assert!(
            bytes[offset..offset + len].iter().all(|&b| b == byte),
            "{offset}: {:02x?}",
            &bytes[offset..offset + len]
        );
    }
    assert_eq!(MarketParams::decode(&bytes), Ok(params));

    // The running dynamic-fee fields are not encoded: they decode as zero.
    let mut running = params;
    running.dynamic_fee.volatility_accumulator = 7;
    running.dynamic_fee.last_update_timestamp = 9;
    assert_eq!(running.encode(), bytes);
    assert_eq!(MarketParams::decode(&running.encode()), Ok(params));

    assert_eq!(
        MarketParams::decode(&bytes[..PARAMS_LEN - 1]),
        Err(DecodeError { offset: 111 })
    );
    let mut long = bytes.to_vec();
    long.push(0);
    assert_eq!(
        MarketParams::decode(&long),
        Err(DecodeError { offset: PARAMS_LEN })
    );
    assert_eq!(MarketParams::decode(&[]), Err(DecodeError { offset: 0 }));
    let mut bad = bytes;
    bad[0] = 3;
    assert_eq!(MarketParams::decode(&bad), Err(DecodeError { offset: 0 }));
    let mut bad = bytes;
    bad[94] = 2;
    assert_eq!(MarketParams::decode(&bad), Err(DecodeError { offset: 94 }));
}

#[test]
fn initial_state_of_valid_params() {
    for params in [
        valid_params(),
        MarketParams {
            mode: CollectFeeMode::OnlyB,
            dynamic_fee: dynamic_fee(),
            ..valid_params()
        },
        compounding_params(),
    ] {
        let state = params.initial_state(T0).expect("valid params");
        let init = initial_pool(
            params.mode,
            params.sqrt_price,
            params.liquidity,
            params.sqrt_min_price,
            params.sqrt_max_price,
        )
        .unwrap();
        assert_eq!(state.seq, 0);
        assert_eq!(state.last_timestamp, T0);
        let p = &state.pool;
        assert_eq!(p.collect_fee_mode, params.mode);
        assert_eq!(
            (p.token_a_amount, p.token_b_amount),
            (init.token_a_amount, init.token_b_amount)
        );
        assert_eq!(p.sqrt_price, init.sqrt_price);
        assert_eq!(p.liquidity, init.pool_liquidity);
        assert_eq!(p.liquidity, params.liquidity);
        assert_eq!(
            (p.sqrt_min_price, p.sqrt_max_price),
            (init.sqrt_min_price, init.sqrt_max_price)
        );
        assert_eq!(
            p.fees,
            PoolFees {
                base_fee_numerator: params.base_fee_numerator,
                protocol_fee_percent: params.protocol_fee_percent,
                referral_fee_percent: params.referral_fee_percent,
                compounding_fee_bps: params.compounding_fee_bps,
                fee_version: params.fee_version,
                dynamic_fee: params.dynamic_fee,
            }
        );
        assert_eq!(p.fee_a_per_liquidity, U256::ZERO);
        assert_eq!(p.fee_b_per_liquidity, U256::ZERO);
        assert_eq!((p.protocol_a_fee, p.protocol_b_fee), (0, 0));
        // The initial state survives its own encoding.
        assert_eq!(MarketState::decode(&state.encode()), Ok(state));
    }

    // By hand: L = 1e24 at √P = 1 on [1/2, 2] (sqrt): a = L·(1 − 1/2) = 5e23, b = L·(1 − 1/2) = 5e23.
    let state = valid_params().initial_state(T0).unwrap();
    assert_eq!(
        (state.pool.token_a_amount, state.pool.token_b_amount),
        (5 * 10u128.pow(23), 5 * 10u128.pow(23))
    );
    // Compounding: a = ceil(L/√P) = 1e21, b = ceil(L·√P/2^128) = 1e21.
    let state = compounding_params().initial_state(T0).unwrap();
    assert_eq!(
        (state.pool.token_a_amount, state.pool.token_b_amount),
        (10u128.pow(21), 10u128.pow(21))
    );
    assert_eq!(
        (state.pool.sqrt_min_price, state.pool.sqrt_max_price),
        (0, u128::MAX)
    );

    // The running fields of the dynamic fee given in the params are ignored.
    let mut with_running = MarketParams {
        dynamic_fee: dynamic_fee(),
        ..valid_params()
    };
    with_running.dynamic_fee.volatility_accumulator = 123;
    with_running.dynamic_fee.sqrt_price_reference = 456;
    with_running.dynamic_fee.last_update_timestamp = 789;
    with_running.dynamic_fee.volatility_reference = 1;
    let state = with_running.initial_state(T0).unwrap();
    assert_eq!(state.pool.fees.dynamic_fee, dynamic_fee());

    // Fee bounds are inclusive.
    for fee in [MIN_FEE_NUMERATOR, max_fee_numerator(1).unwrap()] {
        let p = MarketParams {
            base_fee_numerator: fee,
            ..valid_params()
        };
        assert!(p.initial_state(T0).is_ok(), "fee {fee}");
    }
    let p = MarketParams {
        base_fee_numerator: max_fee_numerator(0).unwrap(),
        fee_version: 0,
        ..valid_params()
    };
    assert!(p.initial_state(T0).is_ok());
    let p = MarketParams {
        protocol_fee_percent: 100,
        referral_fee_percent: 100,
        ..valid_params()
    };
    assert!(p.initial_state(T0).is_ok());
}

#[test]
fn initial_state_validation_rules() {
    let v = valid_params();
    let dynamic = dynamic_fee();
    let cases: Vec<(&str, MarketParams, MathError)> = vec![
        (
            "fee_version 2",
            MarketParams { fee_version: 2, ..v },
            MathError::InvalidPoolVersion,
        ),
        (
            "base fee below the minimum",
            MarketParams {
                base_fee_numerator: MIN_FEE_NUMERATOR - 1,
                ..v
            },
            MathError::InvalidFee,
        ),
        (
            "base fee above the v1 cap",
            MarketParams {
                base_fee_numerator: max_fee_numerator(1).unwrap() + 1,
                ..v
            },
            MathError::ExceedMaxFeeBps,
        ),
        (
            "base fee above the v0 cap",
            MarketParams {
                base_fee_numerator: max_fee_numerator(0).unwrap() + 1,
                fee_version: 0,
                ..v
            },
            MathError::ExceedMaxFeeBps,
        ),
        (
            "protocol 101",
            MarketParams {
                protocol_fee_percent: 101,
                ..v
            },
            MathError::InvalidFee,
        ),
        (
            "referral 101",
            MarketParams {
                referral_fee_percent: 101,
                ..v
            },
            MathError::InvalidFee,
        ),
        (
            "compounding share on a concentrated market",
            MarketParams {
                compounding_fee_bps: 1,
                ..v
            },
            MathError::InvalidCompoundingFeeBps,
        ),
        (
            "no compounding share on a compounding market",
            MarketParams {
                compounding_fee_bps: 0,
                ..compounding_params()
            },
            MathError::InvalidCompoundingFeeBps,
        ),
        (
            "compounding share over 100 %",
            MarketParams {
                compounding_fee_bps: 10_001,
                ..compounding_params()
            },
            MathError::InvalidCompoundingFeeBps,
        ),
        (
            "dynamic fee with bin_step 2",
            MarketParams {
                dynamic_fee: DynamicFee {
                    bin_step: 2,
                    ..dynamic
                },
                ..v
            },
            MathError::InvalidInput,
        ),
        (
            "dynamic fee with filter_period >= decay_period",
            MarketParams {
                dynamic_fee: DynamicFee {
                    filter_period: 120,
                    ..dynamic
                },
                ..v
            },
            MathError::InvalidInput,
        ),
        (
            "dynamic fee off with a non-zero field",
            MarketParams {
                dynamic_fee: DynamicFee {
                    initialized: false,
                    ..dynamic
                },
                ..v
            },
            MathError::InvalidInput,
        ),
        (
            "dynamic fee off with only reduction_factor set",
            MarketParams {
                dynamic_fee: DynamicFee {
                    reduction_factor: 1,
                    ..DynamicFee::default()
                },
                ..v
            },
            MathError::InvalidInput,
        ),
        (
            "range inverted",
            MarketParams {
                sqrt_min_price: 2 * Q64,
                sqrt_max_price: Q64 / 2,
                ..v
            },
            MathError::InvalidPriceRange,
        ),
        (
            "price outside the range",
            MarketParams {
                sqrt_price: 3 * Q64,
                ..v
            },
            MathError::InvalidPriceRange,
        ),
        (
            "compounding market with a concentrated range",
            MarketParams {
                sqrt_min_price: Q64 / 2,
                sqrt_max_price: 2 * Q64,
                ..compounding_params()
            },
            MathError::InvalidPriceRange,
        ),
        (
            "liquidity 0",
            MarketParams {
                liquidity: U256::ZERO,
                ..v
            },
            MathError::InvalidMinimumLiquidity,
        ),
        (
            "compounding at the dead liquidity",
            MarketParams {
                liquidity: DEAD_LIQUIDITY,
                ..compounding_params()
            },
            MathError::InvalidMinimumLiquidity,
        ),
        (
            "compounding below the dead liquidity",
            MarketParams {
                liquidity: U256::from(1u8),
                ..compounding_params()
            },
            MathError::InvalidMinimumLiquidity,
        ),
    ];
    for (name, params, error) in cases {
        assert_eq!(params.initial_state(T0), Err(error), "{name}");
    }

    // Just above the dead liquidity is accepted.
    let p = MarketParams {
        liquidity: DEAD_LIQUIDITY + U256::from(1u8),
        ..compounding_params()
    };
    assert!(p.initial_state(T0).is_ok());

    // The checks run in the documented order: the version first, then the fee, then the percentages...
    let everything_wrong = MarketParams {
        fee_version: 2,
        base_fee_numerator: 0,
        protocol_fee_percent: 200,
        compounding_fee_bps: 1,
        liquidity: U256::ZERO,
        ..v
    };
    // Righting one field at a time reveals the next check's error.
    let mut p = everything_wrong;
    assert_eq!(p.initial_state(T0), Err(MathError::InvalidPoolVersion));
    p.fee_version = 1;
    assert_eq!(p.initial_state(T0), Err(MathError::InvalidFee));
    p.base_fee_numerator = 2_500_000;
    assert_eq!(p.initial_state(T0), Err(MathError::InvalidFee));
    p.protocol_fee_percent = 20;
    assert_eq!(p.initial_state(T0), Err(MathError::InvalidCompoundingFeeBps));
    p.compounding_fee_bps = 0;
    p.dynamic_fee = DynamicFee {
        bin_step: 2,
        ..dynamic
    };
    assert_eq!(p.initial_state(T0), Err(MathError::InvalidInput));
}

/// Checks a resize of `state` to `target`: the liquidity becomes the target, the reserves move by DAMM v2's
/// add (rounded up) or remove (rounded down) amounts of the difference, everything else stays, `seq + 1`.
fn check_resize(state: MarketState, target: U256) {
    let mut resized = state;
    resized.resize(target).expect("resize");
    let current = state.pool.liquidity;
    let (a, b) = if target > current {
        let (a, b) = state
            .pool
            .amounts_for_modify_liquidity(target - current, LiquidityAction::Add)
            .unwrap();
        (state.pool.token_a_amount + a, state.pool.token_b_amount + b)
    } else {
        let (a, b) = state
            .pool
            .amounts_for_modify_liquidity(current - target, LiquidityAction::Remove)
            .unwrap();
        (state.pool.token_a_amount - a, state.pool.token_b_amount - b)
    };
    assert_eq!(resized.pool.liquidity, target);
    assert_eq!((resized.pool.token_a_amount, resized.pool.token_b_amount), (a, b));
    assert_eq!(resized.seq, state.seq + 1);
    assert_eq!(resized.last_timestamp, state.last_timestamp);
    let expected = MarketState {
        seq: state.seq + 1,
        pool: PoolState {
            liquidity: target,
            token_a_amount: a,
            token_b_amount: b,
            ..state.pool
        },
        ..state
    };
    assert_eq!(resized, expected, "only liquidity, reserves and seq change");
}

#[test]
fn resize_grows_and_shrinks() {
    let concentrated = valid_params().initial_state(T0).unwrap();
    let compounding = compounding_params().initial_state(T0).unwrap();
    for state in [concentrated, compounding] {
        let l = state.pool.liquidity;
        check_resize(state, l * U256::from(3u8));
        check_resize(state, l / U256::from(3u8));
        check_resize(state, l + (U256::from(1u8) << 64));
        check_resize(state, l - (U256::from(7u8) << 64));
        // To the same liquidity: nothing moves but seq.
        let mut same = state;
        same.resize(l).unwrap();
        assert_eq!(
            same,
            MarketState {
                seq: state.seq + 1,
                ..state
            }
        );
    }

    // By hand, concentrated at √P = 1 on [1/2, 2]: adding L·2^64 costs L/2 of each token (rounded up), removing
    // gives L/2 back (rounded down).
    let c = concentrated.pool;
    let step = U256::from(1001u32) << 64;
    for (target, a, b) in [
        (c.liquidity + step, c.token_a_amount + 501, c.token_b_amount + 501),
        (c.liquidity - step, c.token_a_amount - 500, c.token_b_amount - 500),
    ] {
        let mut s = concentrated;
        s.resize(target).unwrap();
        assert_eq!((s.pool.token_a_amount, s.pool.token_b_amount), (a, b));
    }

    // After trading, the price is not 1 and the accumulators are non-zero: resize keeps them.
    let mut traded = compounding;
    traded.pool.token_a_amount += 10u128.pow(18);
    traded.pool.sqrt_price = damm_math::compounding::sqrt_price_from_amounts(
        traded.pool.token_a_amount,
        traded.pool.token_b_amount,
    )
    .unwrap();
    traded.pool.fee_b_per_liquidity = U256::from(12345u32);
    traded.pool.protocol_b_fee = 99;
    traded.seq = 41;
    check_resize(traded, traded.pool.liquidity * U256::from(2u8));
    check_resize(traded, traded.pool.liquidity / U256::from(2u8));
}

#[test]
fn resize_failures_leave_the_state_unchanged() {
    let concentrated = valid_params().initial_state(T0).unwrap();
    let compounding = compounding_params().initial_state(T0).unwrap();
    for state in [concentrated, compounding] {
        let mut s = state;
        assert_eq!(s.resize(U256::ZERO), Err(MathError::InvalidMinimumLiquidity));
        assert_eq!(s, state);
    }
    // A compounding market never goes down to the dead liquidity.
    let mut s = compounding;
    assert_eq!(s.resize(DEAD_LIQUIDITY), Err(MathError::InvalidMinimumLiquidity));
    assert_eq!(s, compounding);
    // A concentrated one may go down to one unit of liquidity... but not by a sliver that moves no reserve.
    let mut s = concentrated;
    assert_eq!(
        s.resize(concentrated.pool.liquidity - U256::from(1u8)),
        Err(MathError::AmountIsZero)
    );
    assert_eq!(s, concentrated);
    let mut s = compounding;
    assert_eq!(
        s.resize(compounding.pool.liquidity - U256::from(1u8)),
        Err(MathError::AmountIsZero)
    );
    assert_eq!(s, compounding);
}
