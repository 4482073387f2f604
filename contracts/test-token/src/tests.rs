//! Unit tests on the SDK's `TestVM`, grouped by public function.
//!
//! `TestVM` runs no EVM: calls return what was mocked, its return-data buffer holds the data of the *last mock
//! registered* rather than of the last call (so each call test registers one mock), and a revert does not undo
//! storage writes. Real reentrancy — a target calling back into the token — is for the devnode's tests.

use stylus_sdk::{
    alloy_primitives::{address, B256},
    alloy_sol_types::{SolCall, SolError},
    testing::TestVM,
};

use super::*;

const ALICE: Address = address!("0x00000000000000000000000000000000000A11CE");
const BOB: Address = address!("0x0000000000000000000000000000000000000B0B");
const CAROL: Address = address!("0x00000000000000000000000000000000000CA201");
const TARGET: Address = address!("0x0000000000000000000000000000000000007A67");

sol! {
    #![sol(alloy_sol_types = stylus_sdk::alloy_sol_types)]

    function poke(uint256 x) external returns (uint256);
    function transfer(address to, uint256 value) external returns (bool);
}

fn u(x: u64) -> U256 {
    U256::from(x)
}

/// A token on `vm` with `amount` minted to ALICE, the caller.
fn token_with_alice_balance(vm: &TestVM, amount: u64) -> TestToken {
    vm.set_sender(ALICE);
    let mut token = TestToken::from(vm);
    token.mint(ALICE, u(amount)).unwrap();
    token
}

/// The `(topics, data)` of a `Transfer(from, to, value)` log.
fn transfer_log(from: Address, to: Address, value: u64) -> (Vec<B256>, Vec<u8>) {
    (
        vec![Transfer::SIGNATURE_HASH, from.into_word(), to.into_word()],
        B256::from(u(value)).to_vec(),
    )
}

/// The `(topics, data)` of an `Approval(owner, spender, value)` log.
fn approval_log(owner: Address, spender: Address, value: U256) -> (Vec<B256>, Vec<u8>) {
    (
        vec![Approval::SIGNATURE_HASH, owner.into_word(), spender.into_word()],
        B256::from(value).to_vec(),
    )
}

/// Runs `calldata` through the router the entrypoint uses, on `vm`.
fn route(vm: &TestVM, calldata: Vec<u8>) -> Result<Vec<u8>, Vec<u8>> {
    let host = stylus_sdk::host::VM {
        host: Box::new(vm.clone()),
    };
    stylus_sdk::abi::router_entrypoint::<TestToken, TestToken>(calldata, host)
}

// ---- metadata ----

#[test]
fn metadata_is_test_token_test_18() {
    assert_eq!(TestToken::name(), "Test Token");
    assert_eq!(TestToken::symbol(), "TEST");
    assert_eq!(TestToken::decimals(), 18);
}

// ---- mint ----

#[test]
fn mint_credits_the_receiver_raises_the_supply_and_emits_transfer_from_zero() {
    let vm = TestVM::default();
    vm.set_sender(BOB); // anyone may mint
    let mut token = TestToken::from(&vm);

    token.mint(ALICE, u(100)).unwrap();
    token.mint(ALICE, u(5)).unwrap();

    assert_eq!(token.balance_of(ALICE), u(105));
    assert_eq!(token.balance_of(BOB), U256::ZERO);
    assert_eq!(token.total_supply(), u(105));
    assert_eq!(
        vm.get_emitted_logs(),
        vec![
            transfer_log(Address::ZERO, ALICE, 100),
            transfer_log(Address::ZERO, ALICE, 5)
        ]
    );
}

#[test]
fn mint_to_zero_reverts_with_invalid_receiver() {
    let vm = TestVM::default();
    let mut token = TestToken::from(&vm);

    assert_eq!(
        token.mint(Address::ZERO, u(1)),
        Err(TokenError::InvalidReceiver(InvalidReceiver {
            receiver: Address::ZERO
        }))
    );
}

#[test]
fn mint_past_the_maximum_supply_reverts_with_supply_overflow() {
    let vm = TestVM::default();
    let mut token = TestToken::from(&vm);
    token.mint(ALICE, U256::MAX).unwrap();

    assert_eq!(
        token.mint(BOB, u(1)),
        Err(TokenError::SupplyOverflow(SupplyOverflow {
            totalSupply: U256::MAX,
            amount: u(1)
        }))
    );
}

// ---- transfer ----

#[test]
fn transfer_moves_the_value_and_emits_transfer() {
    let vm = TestVM::default();
    let mut token = token_with_alice_balance(&vm, 100);

    assert_eq!(token.transfer(BOB, u(30)), Ok(true));

    assert_eq!(token.balance_of(ALICE), u(70));
    assert_eq!(token.balance_of(BOB), u(30));
    assert_eq!(token.total_supply(), u(100));
    assert_eq!(vm.get_emitted_logs().last(), Some(&transfer_log(ALICE, BOB, 30)));
}

#[test]
fn transfer_of_the_whole_balance_and_of_zero_succeed() {
    let vm = TestVM::default();
    let mut token = token_with_alice_balance(&vm, 100);

    assert_eq!(token.transfer(BOB, u(100)), Ok(true));
    assert_eq!(token.transfer(BOB, U256::ZERO), Ok(true));

    assert_eq!(token.balance_of(ALICE), U256::ZERO);
    assert_eq!(token.balance_of(BOB), u(100));
}

#[test]
fn transfer_to_oneself_keeps_the_balance() {
    let vm = TestVM::default();
    let mut token = token_with_alice_balance(&vm, 100);

    assert_eq!(token.transfer(ALICE, u(40)), Ok(true));

    assert_eq!(token.balance_of(ALICE), u(100));
}

#[test]
fn transfer_beyond_the_balance_reverts_with_insufficient_balance() {
    let vm = TestVM::default();
    let mut token = token_with_alice_balance(&vm, 100);

    assert_eq!(
        token.transfer(BOB, u(101)),
        Err(TokenError::InsufficientBalance(InsufficientBalance {
            account: ALICE,
            balance: u(100),
            needed: u(101)
        }))
    );
    assert_eq!(token.balance_of(ALICE), u(100));
}

#[test]
fn transfer_to_zero_reverts_with_invalid_receiver() {
    let vm = TestVM::default();
    let mut token = token_with_alice_balance(&vm, 100);

    assert_eq!(
        token.transfer(Address::ZERO, u(1)),
        Err(TokenError::InvalidReceiver(InvalidReceiver {
            receiver: Address::ZERO
        }))
    );
}

// ---- approve / allowance ----

#[test]
fn approve_sets_the_allowance_and_emits_approval() {
    let vm = TestVM::default();
    vm.set_sender(ALICE);
    let mut token = TestToken::from(&vm);

    assert!(token.approve(BOB, u(50)));
    assert_eq!(token.allowance(ALICE, BOB), u(50));
    assert_eq!(token.allowance(BOB, ALICE), U256::ZERO);
    assert!(token.approve(BOB, u(7)));
    assert_eq!(token.allowance(ALICE, BOB), u(7));

    assert_eq!(
        vm.get_emitted_logs(),
        vec![approval_log(ALICE, BOB, u(50)), approval_log(ALICE, BOB, u(7))]
    );
}

// ---- transferFrom ----

#[test]
fn transfer_from_moves_the_value_and_spends_the_allowance() {
    let vm = TestVM::default();
    let mut token = token_with_alice_balance(&vm, 100);
    token.approve(BOB, u(60));

    vm.set_sender(BOB);
    assert_eq!(token.transfer_from(ALICE, CAROL, u(25)), Ok(true));

    assert_eq!(token.balance_of(ALICE), u(75));
    assert_eq!(token.balance_of(CAROL), u(25));
    assert_eq!(token.balance_of(BOB), U256::ZERO);
    assert_eq!(token.allowance(ALICE, BOB), u(35));
    assert_eq!(
        vm.get_emitted_logs().last(),
        Some(&transfer_log(ALICE, CAROL, 25))
    );
}

#[test]
fn transfer_from_with_an_infinite_allowance_leaves_it_infinite() {
    let vm = TestVM::default();
    let mut token = token_with_alice_balance(&vm, 100);
    token.approve(BOB, U256::MAX);

    vm.set_sender(BOB);
    assert_eq!(token.transfer_from(ALICE, BOB, u(100)), Ok(true));

    assert_eq!(token.allowance(ALICE, BOB), U256::MAX);
    assert_eq!(token.balance_of(BOB), u(100));
}

#[test]
fn transfer_from_beyond_the_allowance_reverts_with_insufficient_allowance() {
    let vm = TestVM::default();
    let mut token = token_with_alice_balance(&vm, 100);
    token.approve(BOB, u(10));

    vm.set_sender(BOB);
    assert_eq!(
        token.transfer_from(ALICE, BOB, u(11)),
        Err(TokenError::InsufficientAllowance(InsufficientAllowance {
            owner: ALICE,
            spender: BOB,
            allowance: u(10),
            needed: u(11)
        }))
    );
    assert_eq!(token.allowance(ALICE, BOB), u(10));
}

#[test]
fn transfer_from_beyond_the_balance_reverts_with_insufficient_balance() {
    let vm = TestVM::default();
    let mut token = token_with_alice_balance(&vm, 100);
    token.approve(BOB, U256::MAX);

    vm.set_sender(BOB);
    assert_eq!(
        token.transfer_from(ALICE, BOB, u(101)),
        Err(TokenError::InsufficientBalance(InsufficientBalance {
            account: ALICE,
            balance: u(100),
            needed: u(101)
        }))
    );
}

// ---- fee on transfer (mode 1) ----

#[test]
fn fee_on_transfer_delivers_99_percent_and_burns_1_percent() {
    let vm = TestVM::default();
    let mut token = token_with_alice_balance(&vm, 1_000);
    token
        .set_mode(MODE_FEE_ON_TRANSFER, Address::ZERO, Bytes::new())
        .unwrap();

    assert_eq!(token.transfer(BOB, u(250)), Ok(true));

    // 250 / 100 = 2 burnt (rounded down), 248 delivered.
    assert_eq!(token.balance_of(ALICE), u(750));
    assert_eq!(token.balance_of(BOB), u(248));
    assert_eq!(token.total_supply(), u(998));
    let logs = vm.get_emitted_logs();
    assert_eq!(
        logs[logs.len() - 2..],
        [
            transfer_log(ALICE, BOB, 248),
            transfer_log(ALICE, Address::ZERO, 2)
        ]
    );
}

#[test]
fn one_percent_is_value_over_100_rounded_down() {
    let samples = [
        U256::ZERO,
        u(99),
        u(100),
        u(12_345),
        U256::from(u64::MAX),
        U256::from(u128::MAX) + u(7),
        U256::MAX,
        U256::MAX - u(1),
        U256::from_limbs([0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210, 0xdead_beef, 1 << 63]),
    ];
    for value in samples {
        assert_eq!(one_percent(value), value / u(100), "{value}");
    }
    // And a spread of values from a simple linear congruential sequence.
    let mut x = U256::from(0x9e37_79b9_7f4a_7c15_u64);
    for _ in 0..1_000 {
        x = x * U256::from(6_364_136_223_846_793_005_u64) + u(1_442_695_040_888_963_407);
        assert_eq!(one_percent(x), x / u(100), "{x}");
        assert_eq!(one_percent(x >> 128), (x >> 128) / u(100), "{x}");
    }
}

#[test]
fn fee_on_transfer_applies_to_transfer_from_and_spends_the_full_value() {
    let vm = TestVM::default();
    let mut token = token_with_alice_balance(&vm, 1_000);
    token.approve(BOB, u(500));
    token
        .set_mode(MODE_FEE_ON_TRANSFER, Address::ZERO, Bytes::new())
        .unwrap();

    vm.set_sender(BOB);
    assert_eq!(token.transfer_from(ALICE, CAROL, u(500)), Ok(true));

    assert_eq!(token.balance_of(ALICE), u(500));
    assert_eq!(token.balance_of(CAROL), u(495));
    assert_eq!(token.allowance(ALICE, BOB), U256::ZERO);
    assert_eq!(token.total_supply(), u(995));
}

#[test]
fn fee_on_transfer_of_less_than_100_burns_nothing() {
    let vm = TestVM::default();
    let mut token = token_with_alice_balance(&vm, 1_000);
    token
        .set_mode(MODE_FEE_ON_TRANSFER, Address::ZERO, Bytes::new())
        .unwrap();

    assert_eq!(token.transfer(BOB, u(99)), Ok(true));

    assert_eq!(token.balance_of(BOB), u(99));
    assert_eq!(token.total_supply(), u(1_000));
    assert_eq!(
        vm.get_emitted_logs().last(),
        Some(&transfer_log(ALICE, Address::ZERO, 0))
    );
}

#[test]
fn fee_on_transfer_mint_is_not_charged() {
    let vm = TestVM::default();
    let mut token = TestToken::from(&vm);
    token
        .set_mode(MODE_FEE_ON_TRANSFER, Address::ZERO, Bytes::new())
        .unwrap();

    token.mint(ALICE, u(1_000)).unwrap();

    assert_eq!(token.balance_of(ALICE), u(1_000));
    assert_eq!(token.total_supply(), u(1_000));
}

#[test]
fn back_to_normal_mode_charges_no_fee() {
    let vm = TestVM::default();
    let mut token = token_with_alice_balance(&vm, 1_000);
    token
        .set_mode(MODE_FEE_ON_TRANSFER, Address::ZERO, Bytes::new())
        .unwrap();
    token.set_mode(MODE_NORMAL, Address::ZERO, Bytes::new()).unwrap();

    assert_eq!(token.transfer(BOB, u(500)), Ok(true));

    assert_eq!(token.balance_of(BOB), u(500));
    assert_eq!(token.total_supply(), u(1_000));
}

// ---- reentrant (modes 2 and 3) / lastReentry ----

fn poke_calldata() -> Vec<u8> {
    pokeCall { x: u(1) }.abi_encode()
}

#[test]
fn last_reentry_is_empty_before_any_reentry() {
    let vm = TestVM::default();
    let token = TestToken::from(&vm);
    assert_eq!(token.last_reentry(), (false, false, Bytes::new()));
}

#[test]
fn reentrant_transfer_calls_the_target_records_success_and_transfers() {
    let vm = TestVM::default();
    vm.mock_call(TARGET, poke_calldata(), U256::ZERO, Ok(vec![4, 5]));
    let mut token = token_with_alice_balance(&vm, 100);
    token
        .set_mode(MODE_REENTRANT, TARGET, poke_calldata().into())
        .unwrap();

    assert_eq!(token.transfer(BOB, u(10)), Ok(true));

    assert_eq!(token.last_reentry(), (true, true, Bytes::from(vec![4, 5])));
    assert_eq!(token.balance_of(BOB), u(10));
}

#[test]
fn reentrant_transfer_records_a_failure_and_still_transfers() {
    let vm = TestVM::default();
    vm.mock_call(TARGET, poke_calldata(), U256::ZERO, Err(vec![0xde, 0xad]));
    let mut token = token_with_alice_balance(&vm, 100);
    token
        .set_mode(MODE_REENTRANT, TARGET, poke_calldata().into())
        .unwrap();

    assert_eq!(token.transfer(BOB, u(10)), Ok(true));

    assert_eq!(token.last_reentry(), (true, false, Bytes::from(vec![0xde, 0xad])));
    assert_eq!(token.balance_of(BOB), u(10));
}

#[test]
fn reentrant_transfer_from_calls_the_target_too() {
    let vm = TestVM::default();
    vm.mock_call(TARGET, poke_calldata(), U256::ZERO, Err(vec![0x01]));
    let mut token = token_with_alice_balance(&vm, 100);
    token.approve(BOB, u(10));
    token
        .set_mode(MODE_REENTRANT, TARGET, poke_calldata().into())
        .unwrap();

    vm.set_sender(BOB);
    assert_eq!(token.transfer_from(ALICE, BOB, u(10)), Ok(true));

    assert_eq!(token.last_reentry(), (true, false, Bytes::from(vec![0x01])));
    assert_eq!(token.balance_of(BOB), u(10));
}

#[test]
fn strict_reentrant_transfer_reverts_with_reentry_failed_when_the_call_fails() {
    let vm = TestVM::default();
    vm.mock_call(TARGET, poke_calldata(), U256::ZERO, Err(vec![0xbe, 0xef]));
    let mut token = token_with_alice_balance(&vm, 100);
    token
        .set_mode(MODE_REENTRANT_STRICT, TARGET, poke_calldata().into())
        .unwrap();

    assert_eq!(
        token.transfer(BOB, u(10)),
        Err(TokenError::ReentryFailed(ReentryFailed {
            data: Bytes::from(vec![0xbe, 0xef])
        }))
    );
    assert_eq!(token.balance_of(BOB), U256::ZERO);
}

#[test]
fn strict_reentrant_transfer_succeeds_when_the_call_succeeds() {
    let vm = TestVM::default();
    vm.mock_call(TARGET, poke_calldata(), U256::ZERO, Ok(vec![]));
    let mut token = token_with_alice_balance(&vm, 100);
    token
        .set_mode(MODE_REENTRANT_STRICT, TARGET, poke_calldata().into())
        .unwrap();

    assert_eq!(token.transfer(BOB, u(10)), Ok(true));

    assert_eq!(token.last_reentry(), (true, true, Bytes::new()));
    assert_eq!(token.balance_of(BOB), u(10));
}

#[test]
fn non_reentrant_modes_make_no_call() {
    let vm = TestVM::default();
    let mut token = token_with_alice_balance(&vm, 1_000);

    for mode in [MODE_NORMAL, MODE_FEE_ON_TRANSFER] {
        // A target is stored, but only modes 2 and 3 call it.
        token.set_mode(mode, TARGET, poke_calldata().into()).unwrap();
        assert_eq!(token.transfer(BOB, u(100)), Ok(true));
        assert_eq!(token.last_reentry(), (false, false, Bytes::new()));
    }
}

#[test]
fn set_mode_clears_the_last_reentry() {
    let vm = TestVM::default();
    vm.mock_call(TARGET, poke_calldata(), U256::ZERO, Ok(vec![1]));
    let mut token = token_with_alice_balance(&vm, 100);
    token
        .set_mode(MODE_REENTRANT, TARGET, poke_calldata().into())
        .unwrap();
    token.transfer(BOB, u(1)).unwrap();

    token
        .set_mode(MODE_REENTRANT, TARGET, poke_calldata().into())
        .unwrap();

    assert_eq!(token.last_reentry(), (false, false, Bytes::new()));
}

#[test]
fn set_mode_above_3_reverts_with_invalid_mode() {
    let vm = TestVM::default();
    let mut token = TestToken::from(&vm);

    assert_eq!(
        token.set_mode(4, TARGET, Bytes::new()),
        Err(TokenError::InvalidMode(InvalidMode { mode: 4 }))
    );
}

// ---- the byte-string storage ----

#[test]
fn stored_bytes_read_back_at_every_length_and_after_a_shorter_overwrite() {
    let vm = TestVM::default();
    let mut token = TestToken::from(&vm);

    for len in [0usize, 1, 31, 32, 33, 64, 65, 100] {
        let data: Vec<u8> = (0..len).map(|i| i as u8 ^ 0x5a).collect();
        token.store_bytes(DATA_SLOT, &data);
        assert_eq!(token.load_bytes(DATA_SLOT), data, "length {len}");
    }
    token.store_bytes(DATA_SLOT, &[1, 2, 3]);
    assert_eq!(token.load_bytes(DATA_SLOT), vec![1, 2, 3]);
    assert_eq!(vm.get_storage(DATA_SLOT), B256::from(u(3)));
    assert!(token.load_bytes(LAST_DATA_SLOT).is_empty());
}

#[test]
fn byte_string_slots_are_the_documented_hashes() {
    use stylus_sdk::alloy_primitives::keccak256;

    assert_eq!(B256::from(DATA_SLOT), keccak256("test-token.data"));
    assert_eq!(B256::from(LAST_DATA_SLOT), keccak256("test-token.last-data"));
}

#[test]
fn set_mode_stores_the_calldata_the_reentry_uses() {
    let vm = TestVM::default();
    let mut token = TestToken::from(&vm);
    let data: Vec<u8> = (0..70).collect();

    token
        .set_mode(MODE_REENTRANT, TARGET, data.clone().into())
        .unwrap();

    assert_eq!(token.load_bytes(DATA_SLOT), data);
    assert_eq!(token.current_mode(), MODE_REENTRANT);
}

// ---- the router ----

#[test]
fn through_the_router_errors_revert_with_their_abi_encoding() {
    let vm = TestVM::default();
    vm.set_sender(ALICE);

    let calldata = transferCall { to: BOB, value: u(1) }.abi_encode();

    assert_eq!(
        route(&vm, calldata),
        Err(InsufficientBalance {
            account: ALICE,
            balance: U256::ZERO,
            needed: u(1)
        }
        .abi_encode())
    );
}

#[test]
fn through_the_router_transfer_returns_true() {
    let vm = TestVM::default();
    let _ = token_with_alice_balance(&vm, 5);

    let calldata = transferCall { to: BOB, value: u(5) }.abi_encode();

    assert_eq!(route(&vm, calldata), Ok(B256::from(u(1)).to_vec()));
    assert_eq!(TestToken::from(&vm).balance_of(BOB), u(5));
}
