//! TestVM unit tests of the market's own logic: the constructor's validation, access control, kinds, batch
//! checks that fail before any external call (sequence, hashes, timestamps, limits, malformed ops), the storage
//! layout of the state, the routers' decoding and the hand-written error encoding.
//!
//! Nothing here reaches the vault: stylus-test 0.10.10's `TestVM` answers every mocked call with the return
//! data of the last mock registered, so settlement, resizing and freezing (which call the vault) are covered by
//! the end-to-end suites (`tests/market_e2e.rs`, `tests/market_failures_e2e.rs`) on the devnode.

use alloc::vec::Vec;

use damm_market_codec::{encode_batch, params::PARAMS_LEN, MarketParams};
use damm_math::{CollectFeeMode, DynamicFee};
use stylus_sdk::{
    alloy_primitives::{address, Address, B256, U256},
    alloy_sol_types::SolError,
    testing::*,
};

use super::*;
use crate::router::{route_admin, route_core};

const ADMIN: Address = address!("0x00000000000000000000000000000000000000ad");
const VAULT: Address = address!("0x00000000000000000000000000000000000000fa");
const POOL: Address = address!("0x00000000000000000000000000000000000000a0");
const OPERATOR: Address = address!("0x0000000000000000000000000000000000000001");
const STRANGER: Address = address!("0x0000000000000000000000000000000000000004");
const T0: u64 = 1_700_000_000;
const Q64: u128 = 1 << 64;

fn params() -> MarketParams {
    MarketParams {
        mode: CollectFeeMode::BothToken,
        sqrt_price: 2 * Q64,
        sqrt_min_price: 18 * Q64 / 10,
        sqrt_max_price: 22 * Q64 / 10,
        liquidity: U256::from(10u128.pow(23)) << 64,
        base_fee_numerator: 3_000_000,
        protocol_fee_percent: 20,
        referral_fee_percent: 20,
        compounding_fee_bps: 0,
        fee_version: 1,
        dynamic_fee: DynamicFee::default(),
    }
}

/// Runs the constructor with the test's addresses, `l1` and the encoded parameters `params`.
fn construct(market: &mut Market, l1: bool, params: &[u8]) -> MarketResult<()> {
    market.constructor(ADMIN, VAULT, POOL, OPERATOR, l1, Bytes::from(params.to_vec()))
}

fn deployed(vm: &TestVM, l1: bool) -> Market {
    vm.set_block_timestamp(T0);
    vm.set_sender(OPERATOR);
    let mut market = Market::from(vm);
    assert!(construct(&mut market, l1, &params().encode()).is_ok());
    market
}

/// A sale of one token0 (exact in) at `timestamp`.
fn sell(timestamp: u64, limit: Option<u128>) -> Op {
    Op {
        zero_for_one: true,
        exact_out: false,
        amount: 10u128.pow(18),
        limit,
        timestamp,
    }
}

fn encoded<T>(result: MarketResult<T>) -> Vec<u8> {
    match result {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.encode(),
    }
}

#[test]
fn the_constructor_stores_the_codec_state_in_its_words() {
    let vm = TestVM::default();
    let market = deployed(&vm, false);
    let expected = params().initial_state(T0).unwrap();
    assert_eq!(market.read_state(), expected);
    assert_eq!(market.state_hash(), expected.hash());
    assert_eq!(market.seq(), 0);
    assert_eq!(market.last_timestamp(), T0);
    assert_eq!(market.state().to_vec(), expected.encode().to_vec());
    // The state's words are the first storage slots, in order (the root of the storage is slot 0).
    for (i, word) in expected.to_words().iter().enumerate() {
        assert_eq!(
            vm.storage_load_bytes32(U256::from(i)),
            B256::from(*word),
            "word {i}"
        );
    }
    assert_eq!(
        (
            market.admin_program(),
            market.vault(),
            market.pool(),
            market.operator(),
            market.is_l1()
        ),
        (ADMIN, VAULT, POOL, OPERATOR, false)
    );
    let (price, liquidity, a, b) = market.vault_state();
    assert_eq!(
        (price, liquidity, a, b),
        (
            U256::from(expected.pool.sqrt_price),
            expected.pool.liquidity,
            U256::from(expected.pool.token_a_amount),
            U256::from(expected.pool.token_b_amount)
        )
    );
}

#[test]
fn the_constructor_refuses_zero_addresses_and_bad_params() {
    let vm = TestVM::default();
    vm.set_block_timestamp(T0);
    let mut market = Market::from(&vm);
    let good = Bytes::from(params().encode().to_vec());
    assert_eq!(
        encoded(market.constructor(ADMIN, VAULT, Address::ZERO, OPERATOR, false, good.clone())),
        InvalidAddress { value: Address::ZERO }.abi_encode()
    );
    assert_eq!(
        encoded(construct(&mut market, false, &[0u8; PARAMS_LEN - 1])),
        MalformedParams {
            offset: U256::from(PARAMS_LEN - 16)
        }
        .abi_encode()
    );
    for (bad, error) in [
        (
            MarketParams {
                fee_version: 2,
                ..params()
            },
            MathError::InvalidPoolVersion,
        ),
        (
            MarketParams {
                base_fee_numerator: 1,
                ..params()
            },
            MathError::InvalidFee,
        ),
        (
            MarketParams {
                sqrt_price: 3 * Q64,
                ..params()
            },
            MathError::InvalidPriceRange,
        ),
        (
            MarketParams {
                liquidity: U256::ZERO,
                ..params()
            },
            MathError::InvalidMinimumLiquidity,
        ),
        (
            MarketParams {
                compounding_fee_bps: 1,
                ..params()
            },
            MathError::InvalidCompoundingFeeBps,
        ),
    ] {
        assert_eq!(
            encoded(construct(&mut market, false, &bad.encode())),
            InvalidParams { code: error.code() }.abi_encode(),
            "{error:?}"
        );
    }
}

#[test]
fn batches_are_checked_before_the_vault_is_called() {
    let vm = TestVM::default();
    let mut market = deployed(&vm, false);
    let state = market.read_state();
    let ops = |o: &[Op]| Bytes::from(encode_batch(T0, o).unwrap());
    let hash = state.hash();
    vm.set_block_timestamp(T0 + 10);

    vm.set_sender(STRANGER);
    assert_eq!(
        encoded(market.submit_batch(1, hash, ops(&[sell(T0, None)]), hash)),
        Unauthorized { caller: STRANGER }.abi_encode()
    );
    vm.set_sender(OPERATOR);
    assert_eq!(
        encoded(market.submit_batch(2, hash, ops(&[sell(T0, None)]), hash)),
        BadSequence {
            expected: 1,
            given: 2
        }
        .abi_encode()
    );
    assert_eq!(
        encoded(market.submit_batch(1, B256::ZERO, ops(&[sell(T0, None)]), hash)),
        StaleStateHash {
            current: hash,
            given: B256::ZERO
        }
        .abi_encode()
    );
    assert_eq!(
        encoded(market.submit_batch(1, hash, ops(&[sell(T0 + 11, None)]), hash)),
        TimestampInFuture {
            index: U256::ZERO,
            timestamp: T0 + 11,
            now: T0 + 10
        }
        .abi_encode()
    );
    assert_eq!(
        encoded(market.submit_batch(1, hash, Bytes::from((T0 - 5).to_be_bytes().to_vec()), hash)),
        EmptyBatch {}.abi_encode()
    );
    let early = Bytes::from(encode_batch(T0 - 5, &[sell(T0 - 5, None)]).unwrap());
    assert_eq!(
        encoded(market.submit_batch(1, hash, early, hash)),
        TimestampDecreased {
            index: U256::ZERO,
            timestamp: T0 - 5,
            last: T0
        }
        .abi_encode()
    );
    let mut garbage = ops(&[sell(T0, None)]).to_vec();
    garbage[9] = 17;
    assert_eq!(
        encoded(market.submit_batch(1, hash, Bytes::from(garbage), hash)),
        MalformedOps {
            offset: U256::from(9)
        }
        .abi_encode()
    );
    // The op's predicted output, then a limit one above it.
    let mut next = state;
    let totals = execute_batch(&mut next, &ops(&[sell(T0, None)]), T0 + 10).unwrap();
    let out = totals.flows[3];
    assert_eq!(
        encoded(market.submit_batch(1, hash, ops(&[sell(T0, None), sell(T0, Some(out + 1))]), hash)),
        LimitMissed {
            index: U256::from(1),
            amount: U256::from(market_output_after(&state, out)),
            limit: U256::from(out + 1)
        }
        .abi_encode()
    );
    assert_eq!(
        encoded(market.submit_batch(1, hash, ops(&[sell(T0, None)]), B256::ZERO)),
        StateHashMismatch {
            computed: next.hash(),
            given: B256::ZERO
        }
        .abi_encode()
    );
    // Nothing changed.
    assert_eq!(market.read_state(), state);

    let mut l1 = deployed(&TestVM::default(), true);
    assert_eq!(
        encoded(l1.submit_batch(1, hash, ops(&[sell(T0, None)]), hash)),
        WrongKind { l1: true }.abi_encode()
    );
    assert_eq!(
        encoded(market.swap(true, true, U256::from(1), U256::ZERO, Address::ZERO, U256::MAX)),
        WrongKind { l1: false }.abi_encode()
    );
}

/// The output of a second identical swap after the first (for the `LimitMissed` amount above).
fn market_output_after(state: &MarketState, _first_out: u128) -> u128 {
    let mut s = *state;
    let op = sell(T0, None);
    let mut totals = Totals::default();
    execute_op(&mut s, &op, 0, true, u64::MAX, &mut totals).unwrap();
    execute_op(&mut s, &op, 1, true, u64::MAX, &mut totals)
        .unwrap()
        .output_amount
}

#[test]
fn l1_swaps_check_deadline_amount_and_limit_before_settling() {
    let vm = TestVM::default();
    let mut market = deployed(&vm, true);
    vm.set_block_timestamp(T0 + 100);
    assert_eq!(
        encoded(market.swap(
            true,
            true,
            U256::from(1),
            U256::ZERO,
            Address::ZERO,
            U256::from(T0 + 99)
        )),
        DeadlineExpired {
            deadline: U256::from(T0 + 99),
            now: T0 + 100
        }
        .abi_encode()
    );
    assert_eq!(
        encoded(market.swap(
            true,
            true,
            U256::from(1) << 128,
            U256::ZERO,
            Address::ZERO,
            U256::MAX
        )),
        OpFailed {
            index: U256::ZERO,
            code: MathError::TypeCastFailed.code()
        }
        .abi_encode()
    );
    // An exact-in swap asking one atom more than its quoted output, an exact-out swap allowing one atom less
    // than its quoted input.
    let amount = U256::from(10u128.pow(18));
    for (zero_for_one, exact_in) in [(true, true), (false, false)] {
        let (quoted, limit) = if exact_in {
            let (out, _) = market.quote_exact_in(zero_for_one, amount).unwrap();
            (out, out + U256::from(1))
        } else {
            let (input, _) = market.quote_exact_out(zero_for_one, amount).unwrap();
            (input, input - U256::from(1))
        };
        assert_eq!(
            encoded(market.swap(zero_for_one, exact_in, amount, limit, Address::ZERO, U256::MAX)),
            LimitMissed {
                index: U256::ZERO,
                amount: quoted,
                limit
            }
            .abi_encode()
        );
    }
}

#[test]
fn operator_transfer_takes_two_steps() {
    let vm = TestVM::default();
    let mut market = deployed(&vm, false);
    vm.set_sender(STRANGER);
    assert_eq!(
        encoded(market.transfer_operator(STRANGER)),
        Unauthorized { caller: STRANGER }.abi_encode()
    );
    assert_eq!(
        encoded(market.accept_operator()),
        Unauthorized { caller: STRANGER }.abi_encode()
    );
    vm.set_sender(OPERATOR);
    assert!(market.transfer_operator(STRANGER).is_ok());
    assert_eq!(
        (market.operator(), market.pending_operator()),
        (OPERATOR, STRANGER)
    );
    vm.set_sender(STRANGER);
    assert!(market.accept_operator().is_ok());
    assert_eq!(
        (market.operator(), market.pending_operator()),
        (STRANGER, Address::ZERO)
    );
    vm.set_sender(OPERATOR);
    assert_eq!(
        encoded(market.apply_resize(1, B256::ZERO, B256::ZERO)),
        Unauthorized { caller: OPERATOR }.abi_encode()
    );
    vm.set_sender(STRANGER);
    assert_eq!(
        encoded(market.apply_resize(1, B256::ZERO, B256::ZERO)),
        NoPendingResize {}.abi_encode()
    );
}

#[test]
fn the_routers_decode_calls_and_refuse_malformed_ones() {
    let vm = TestVM::default();
    let mut market = deployed(&vm, false);
    let sel = |sig: &str| {
        stylus_sdk::keccak_const::Keccak256::new()
            .update(sig.as_bytes())
            .finalize()[..4]
            .to_vec()
    };
    // `seq()` and `stateHash()` answer from the market program.
    assert_eq!(
        route_core(&mut market, &sel("seq()")).unwrap(),
        U256::ZERO.to_be_bytes::<32>().to_vec()
    );
    assert_eq!(
        route_core(&mut market, &sel("stateHash()")).unwrap(),
        market.state_hash().to_vec()
    );
    // `state()` is ABI `bytes`: offset, length, padded data.
    let out = route_core(&mut market, &sel("state()")).unwrap();
    assert_eq!(U256::from_be_slice(&out[..32]), U256::from(32));
    assert_eq!(U256::from_be_slice(&out[32..64]), U256::from(STATE_LEN_FOR_TESTS));
    assert_eq!(&out[64..64 + STATE_LEN_FOR_TESTS], &market.state()[..]);
    assert_eq!(out.len() % 32, 0);
    // The admin program answers the operator's views; unknown selectors and short calldata revert empty.
    let mut call = sel("pendingOperator()");
    assert_eq!(route_admin(&mut market, &call).unwrap(), [0u8; 32].to_vec());
    call = sel("nope()");
    assert_eq!(route_admin(&mut market, &call), Err(Vec::new()));
    assert_eq!(route_core(&mut market, &[1, 2]), Err(Vec::new()));
    // `submitBatch` with a `bytes` offset out of the calldata reverts empty.
    let mut bad = sel("submitBatch(uint64,bytes32,bytes,bytes32)");
    bad.extend_from_slice(&U256::from(1).to_be_bytes::<32>());
    bad.extend_from_slice(&[0u8; 32]);
    bad.extend_from_slice(&U256::from(4096).to_be_bytes::<32>());
    bad.extend_from_slice(&[0u8; 32]);
    vm.set_sender(OPERATOR);
    assert_eq!(route_core(&mut market, &bad), Err(Vec::new()));
    // Value is refused.
    vm.set_value(U256::from(1));
    assert_eq!(route_core(&mut market, &sel("seq()")), Err(Vec::new()));
}

const STATE_LEN_FOR_TESTS: usize = damm_market_codec::STATE_LEN;

/// `error` converted to the market's error type, and as the Solidity ABI encodes it.
fn market_and_abi<E: SolError + Clone + Into<MarketError>>(error: E) -> (MarketError, Vec<u8>) {
    (error.clone().into(), error.abi_encode())
}

#[test]
fn the_hand_written_errors_encode_as_solidity_does() {
    let h = B256::repeat_byte(7);
    let u = U256::from(12_345);
    let cases: Vec<(MarketError, Vec<u8>)> = vec![
        market_and_abi(Unauthorized { caller: STRANGER }),
        market_and_abi(InvalidAddress { value: VAULT }),
        market_and_abi(MalformedParams { offset: u }),
        market_and_abi(InvalidParams { code: 9 }),
        market_and_abi(WrongKind { l1: true }),
        market_and_abi(MarketFrozen {}),
        market_and_abi(BadSequence {
            expected: 3,
            given: 9,
        }),
        market_and_abi(StaleStateHash {
            current: h,
            given: B256::ZERO,
        }),
        market_and_abi(StateHashMismatch {
            computed: h,
            given: B256::ZERO,
        }),
        market_and_abi(MalformedOps { offset: u }),
        market_and_abi(EmptyBatch {}),
        market_and_abi(TimestampDecreased {
            index: u,
            timestamp: 5,
            last: 6,
        }),
        market_and_abi(TimestampInFuture {
            index: u,
            timestamp: 7,
            now: 6,
        }),
        market_and_abi(OpFailed { index: u, code: 2 }),
        market_and_abi(LimitMissed {
            index: u,
            amount: u,
            limit: U256::MAX,
        }),
        market_and_abi(DeadlineExpired { deadline: u, now: 99 }),
        market_and_abi(NoPendingResize {}),
        market_and_abi(ResizeNotAdmitted {
            liquidity: u,
            limit: U256::MAX,
        }),
        market_and_abi(ResizeNotOverdue { deadline: 77 }),
        market_and_abi(InvalidResize { code: 4 }),
        (MarketError::Vault(vec![1, 2, 3]), vec![1, 2, 3]),
    ];
    for (error, expected) in cases {
        assert_eq!(error.encode(), expected);
    }
}
