//! Unit tests on the SDK's `TestVM`, grouped by public function.
//!
//! `TestVM` runs no EVM: calls and deployments return what was mocked (unmocked calls succeed with no data),
//! its return-data buffer holds the data of the *last mock registered* rather than of the last call (so each
//! call test registers one mock), `flush_cache` does nothing, and a revert does not undo storage writes. What
//! needs a real host — reentrancy, `spin`, memory limits, rollback — is for the devnode's tests.

use stylus_sdk::{
    alloy_primitives::{address, b256, keccak256},
    alloy_sol_types::{SolCall, SolError, SolEvent},
    testing::TestVM,
};

use super::*;

const ALICE: Address = address!("0x00000000000000000000000000000000000A11CE");
const TARGET: Address = address!("0x0000000000000000000000000000000000007A67");
const TOKEN: Address = address!("0x0000000000000000000000000000000000000707");
const PAIR: Address = address!("0x0000000000000000000000000000000000000FA1");

fn u(x: u64) -> U256 {
    U256::from(x)
}

fn word(x: u64) -> B256 {
    B256::from(U256::from(x))
}

sol! {
    #![sol(alloy_sol_types = stylus_sdk::alloy_sol_types)]

    function transferFrom(address from, address to, uint256 value) external returns (bool);
    function swap(uint256 amount0Out, uint256 amount1Out, address to, bytes data) external;
    function reenter(uint256 depth) external returns (uint256);
}

// ---- setSlot / getSlot ----

#[test]
fn set_slot_writes_the_raw_slot_and_get_slot_reads_it_back() {
    let vm = TestVM::default();
    let mut probe = DevnodeProbe::from(&vm);

    probe.set_slot(u(3), u(42));

    assert_eq!(vm.get_storage(u(3)), word(42));
    assert_eq!(probe.get_slot(u(3)), u(42));
}

#[test]
fn get_slot_of_an_unwritten_slot_is_zero() {
    let vm = TestVM::default();
    let probe = DevnodeProbe::from(&vm);
    assert_eq!(probe.get_slot(U256::MAX), U256::ZERO);
}

#[test]
fn get_slot_reads_values_the_host_holds() {
    let vm = TestVM::default();
    vm.set_storage(u(7), word(9));
    let probe = DevnodeProbe::from(&vm);
    assert_eq!(probe.get_slot(u(7)), u(9));
}

// ---- setThenRevert ----

#[test]
fn set_then_revert_reverts_with_the_key_and_value() {
    let vm = TestVM::default();
    let mut probe = DevnodeProbe::from(&vm);

    let err = probe.set_then_revert(u(1), u(2)).unwrap_err();

    assert_eq!(
        err,
        ProbeError::SetThenRevert(ProbeSetThenRevert {
            key: u(1),
            value: u(2)
        })
    );
    assert_eq!(
        Vec::<u8>::from(err),
        ProbeSetThenRevert {
            key: u(1),
            value: u(2)
        }
        .abi_encode()
    );
}

#[test]
fn set_then_revert_writes_before_reverting_and_leaves_the_rollback_to_the_host() {
    let vm = TestVM::default();
    let mut probe = DevnodeProbe::from(&vm);

    let _ = probe.set_then_revert(u(1), u(2));

    // The write reached the host; only the host's revert handling can undo it.
    assert_eq!(vm.get_storage(u(1)), word(2));
}

// ---- emitLog ----

#[test]
fn emit_log_emits_zero_to_four_topics_and_the_data() {
    let vm = TestVM::default();
    let mut probe = DevnodeProbe::from(&vm);

    for count in 0..=4u64 {
        let topics: Vec<B256> = (0..count).map(|i| word(100 + i)).collect();
        let data = Bytes::from(vec![count as u8; count as usize * 3]);
        probe.emit_log(topics.clone(), data.clone());
        assert_eq!(vm.get_emitted_logs().last(), Some(&(topics, data.to_vec())));
    }
    assert_eq!(vm.get_emitted_logs().len(), 5);
}

// ---- ping ----

#[test]
fn ping_emits_ping_with_the_sender_indexed() {
    let vm = TestVM::default();
    vm.set_sender(ALICE);
    let mut probe = DevnodeProbe::from(&vm);

    probe.ping(u(77));

    let logs = vm.get_emitted_logs();
    assert_eq!(logs.len(), 1);
    let (topics, data) = &logs[0];
    assert_eq!(topics, &vec![Ping::SIGNATURE_HASH, ALICE.into_word()]);
    assert_eq!(data, &word(77).to_vec());
}

// ---- callTarget / staticCallTarget / delegateCallTarget / callTargetOrRevert ----

#[test]
fn call_target_returns_success_and_the_return_data() {
    let vm = TestVM::default();
    vm.mock_call(TARGET, vec![1, 2, 3], u(5), Ok(vec![9, 8, 7]));
    let mut probe = DevnodeProbe::from(&vm);

    let (ok, ret) = probe.call_target(TARGET, u(5), Bytes::from(vec![1, 2, 3]));

    assert!(ok);
    assert_eq!(ret.to_vec(), vec![9, 8, 7]);
}

#[test]
fn call_target_returns_failure_and_the_revert_data_without_reverting() {
    let vm = TestVM::default();
    vm.mock_call(TARGET, vec![1], U256::ZERO, Err(vec![0xde, 0xad]));
    let mut probe = DevnodeProbe::from(&vm);

    let (ok, ret) = probe.call_target(TARGET, U256::ZERO, Bytes::from(vec![1]));

    assert!(!ok);
    assert_eq!(ret.to_vec(), vec![0xde, 0xad]);
}

#[test]
fn static_call_target_returns_the_outcome() {
    let vm = TestVM::default();
    vm.mock_static_call(TARGET, vec![4], Err(vec![0xbe, 0xef]));
    let probe = DevnodeProbe::from(&vm);

    let (ok, ret) = probe.static_call_target(TARGET, Bytes::from(vec![4]));

    assert!(!ok);
    assert_eq!(ret.to_vec(), vec![0xbe, 0xef]);
}

#[test]
fn delegate_call_target_returns_the_outcome() {
    let vm = TestVM::default();
    vm.mock_delegate_call(TARGET, vec![5], Ok(vec![6]));
    let mut probe = DevnodeProbe::from(&vm);

    let (ok, ret) = probe.delegate_call_target(TARGET, Bytes::from(vec![5]));

    assert!(ok);
    assert_eq!(ret.to_vec(), vec![6]);
}

#[test]
fn call_target_or_revert_bubbles_the_revert_data_unchanged() {
    let vm = TestVM::default();
    let revert = ProbeCallFailed {
        target: ALICE,
        data: Bytes::from(vec![1]),
    }
    .abi_encode();
    vm.mock_call(TARGET, vec![7], U256::ZERO, Err(revert.clone()));
    let mut probe = DevnodeProbe::from(&vm);

    let err = probe
        .call_target_or_revert(TARGET, U256::ZERO, Bytes::from(vec![7]))
        .unwrap_err();

    assert_eq!(err, revert);
}

#[test]
fn call_target_or_revert_returns_the_return_data_on_success() {
    let vm = TestVM::default();
    vm.mock_call(TARGET, vec![7], u(1), Ok(vec![3, 3]));
    let mut probe = DevnodeProbe::from(&vm);

    let ret = probe
        .call_target_or_revert(TARGET, u(1), Bytes::from(vec![7]))
        .unwrap();

    assert_eq!(ret.to_vec(), vec![3, 3]);
}

// ---- deploy1 / deploy2 ----

#[test]
fn deploy2_returns_the_deployed_address() {
    let vm = TestVM::default();
    let salt = word(1);
    vm.mock_deploy(vec![0x60, 0x00], Some(salt), Ok(TARGET));
    let mut probe = DevnodeProbe::from(&vm);

    assert_eq!(
        probe.deploy2(Bytes::from(vec![0x60, 0x00]), U256::ZERO, salt),
        Ok(TARGET)
    );
}

#[test]
fn deploy1_returns_the_deployed_address() {
    let vm = TestVM::default();
    vm.mock_deploy(vec![0x60, 0x01], None, Ok(TARGET));
    let mut probe = DevnodeProbe::from(&vm);

    assert_eq!(
        probe.deploy1(Bytes::from(vec![0x60, 0x01]), U256::ZERO),
        Ok(TARGET)
    );
}

#[test]
fn deploy1_that_fails_reverts_with_deploy_failed() {
    let vm = TestVM::default();
    let mut probe = DevnodeProbe::from(&vm);

    // Unmocked: the TestVM leaves the address zero, which the SDK reads as a failure.
    let err = probe.deploy1(Bytes::from(vec![0xfe]), U256::ZERO).unwrap_err();

    assert_eq!(
        err,
        ProbeError::DeployFailed(ProbeDeployFailed { data: Bytes::new() })
    );
}

// ---- revertWith ----

#[test]
fn revert_with_reverts_with_exactly_the_given_bytes() {
    assert_eq!(
        DevnodeProbe::revert_with(Bytes::from(vec![0, 1, 2])),
        Err(vec![0, 1, 2])
    );
    assert_eq!(DevnodeProbe::revert_with(Bytes::new()), Err(vec![]));
}

// ---- bigReturn ----

#[test]
fn big_return_returns_n_bytes_of_the_pattern() {
    let out = DevnodeProbe::big_return(u(600));
    assert_eq!(out.len(), 600);
    assert!(out.iter().enumerate().all(|(i, &b)| b == i as u8));
    assert!(DevnodeProbe::big_return(U256::ZERO).is_empty());
}

// ---- burnInk ----

#[test]
fn burn_ink_hashes_rounds_times() {
    let vm = TestVM::default();
    let probe = DevnodeProbe::from(&vm);

    assert_eq!(probe.burn_ink(U256::ZERO), B256::ZERO);
    assert_eq!(probe.burn_ink(u(1)), keccak256([0u8; 32]));
    assert_eq!(probe.burn_ink(u(2)), keccak256(keccak256([0u8; 32])));
}

// ---- whoAmI / envInfo / isReentrant ----

#[test]
fn who_am_i_reports_the_call_context() {
    let vm = TestVM::default();
    vm.set_contract_address(TARGET);
    vm.set_sender(ALICE);
    vm.set_tx_origin(TOKEN);
    vm.set_value(u(11));
    vm.set_chain_id(412_346);
    vm.set_block_number(12);
    vm.set_block_timestamp(1_700_000_000);
    vm.set_gas_left(50_000);
    let probe = DevnodeProbe::from(&vm);

    assert_eq!(
        probe.who_am_i(),
        (
            TARGET,
            ALICE,
            TOKEN,
            u(11),
            u(412_346),
            u(12),
            u(1_700_000_000),
            u(50_000)
        )
    );
}

#[test]
fn env_info_reports_the_block_and_metering_values() {
    let vm = TestVM::default();
    vm.set_ink_left(123_456);
    let probe = DevnodeProbe::from(&vm);

    let (basefee, coinbase, gas_limit, gas_price, ink_price, ink_left) = probe.env_info();

    // TestVM's defaults for the values it has no setter for.
    let state = vm.snapshot();
    assert_eq!(basefee, state.block_basefee);
    assert_eq!(coinbase, state.coinbase);
    assert_eq!(gas_limit, U256::from(state.block_gas_limit));
    assert_eq!(gas_price, state.tx_gas_price);
    assert_eq!(ink_price, U256::from(state.tx_ink_price));
    assert_eq!(ink_left, u(123_456));
}

#[test]
fn is_reentrant_is_false_for_a_direct_call() {
    let vm = TestVM::default();
    let probe = DevnodeProbe::from(&vm);
    assert!(!probe.is_reentrant());
}

// ---- balanceOf / codeSize / codeHash / codeOf ----

#[test]
fn balance_of_reads_the_host_balance() {
    let vm = TestVM::default();
    vm.set_balance(ALICE, u(1_000));
    let probe = DevnodeProbe::from(&vm);

    assert_eq!(probe.balance_of(ALICE), u(1_000));
    assert_eq!(probe.balance_of(TARGET), U256::ZERO);
}

#[test]
fn code_size_code_hash_and_code_of_read_the_host_code() {
    let vm = TestVM::default();
    vm.set_code(TARGET, vec![0x60, 0x00, 0xf3]);
    let probe = DevnodeProbe::from(&vm);

    assert_eq!(probe.code_size(TARGET), u(3));
    assert_eq!(probe.code_hash(TARGET), keccak256([0x60, 0x00, 0xf3]));
    assert_eq!(probe.code_of(TARGET).to_vec(), vec![0x60, 0x00, 0xf3]);
    assert_eq!(probe.code_size(ALICE), U256::ZERO);
}

// ---- reenter / reentryDepth / setReentryGuard ----

#[test]
fn reenter_zero_records_zero() {
    let vm = TestVM::default();
    vm.set_storage(REENTRY_DEPTH_SLOT, word(9));
    let mut probe = DevnodeProbe::from(&vm);

    assert_eq!(probe.reenter(U256::ZERO), Ok(U256::ZERO));
    assert_eq!(probe.reentry_depth(), U256::ZERO);
}

#[test]
fn reenter_counts_a_nested_call_that_returned_what_it_recorded() {
    let vm = TestVM::default();
    vm.set_contract_address(TARGET);
    // The nested frame `reenter(0)` would record 0 and return 0.
    let calldata = reenterCall { depth: U256::ZERO }.abi_encode();
    vm.mock_call(TARGET, calldata, U256::ZERO, Ok(word(0).to_vec()));
    let mut probe = DevnodeProbe::from(&vm);

    assert_eq!(probe.reenter(u(1)), Ok(u(1)));
    assert_eq!(probe.reentry_depth(), u(1));
}

#[test]
fn reenter_whose_nested_call_fails_records_zero_without_reverting() {
    let vm = TestVM::default();
    vm.set_contract_address(TARGET);
    let calldata = reenterCall { depth: u(2) }.abi_encode();
    vm.mock_call(TARGET, calldata, U256::ZERO, Err(vec![]));
    let mut probe = DevnodeProbe::from(&vm);

    assert_eq!(probe.reenter(u(3)), Ok(U256::ZERO));
    assert_eq!(probe.reentry_depth(), U256::ZERO);
}

#[test]
fn reenter_reverts_when_the_nested_write_is_not_visible() {
    let vm = TestVM::default();
    vm.set_contract_address(TARGET);
    // The mocked nested frame claims to have recorded 4 but writes nothing.
    let calldata = reenterCall { depth: u(4) }.abi_encode();
    vm.mock_call(TARGET, calldata, U256::ZERO, Ok(word(4).to_vec()));
    let mut probe = DevnodeProbe::from(&vm);

    assert_eq!(
        probe.reenter(u(5)),
        Err(ProbeError::ReentryMismatch(ProbeReentryMismatch {
            stored: U256::ZERO,
            expected: u(4)
        }))
    );
}

#[test]
fn set_reentry_guard_sets_and_clears_the_guard_slot() {
    let vm = TestVM::default();
    let mut probe = DevnodeProbe::from(&vm);

    probe.set_reentry_guard(true);
    assert_eq!(vm.get_storage(REENTRY_GUARD_SLOT), word(1));
    probe.set_reentry_guard(false);
    assert_eq!(vm.get_storage(REENTRY_GUARD_SLOT), B256::ZERO);
}

#[test]
fn probe_slots_are_the_documented_hashes() {
    assert_eq!(
        B256::from(REENTRY_DEPTH_SLOT),
        keccak256("devnode-probe.reentry-depth")
    );
    assert_eq!(
        B256::from(REENTRY_DEPTH_SLOT),
        b256!("0x591afcb927696bae541dfa7a856cfa64ca9df1c60ce61a9df1eaf8b6162e8eae")
    );
    assert_eq!(
        B256::from(REENTRY_GUARD_SLOT),
        keccak256("devnode-probe.reentry-guard")
    );
    assert_eq!(
        B256::from(REENTRY_GUARD_SLOT),
        b256!("0xebb4d830a8608225228c1dac77ec698b4175ee5063d3d66745ac0493430af5f9")
    );
}

// ---- callBack ----

#[test]
fn call_back_forwards_msg_value_and_returns_the_data() {
    let vm = TestVM::default();
    vm.set_value(u(3));
    vm.mock_call(TARGET, vec![1], u(3), Ok(vec![2]));
    let mut probe = DevnodeProbe::from(&vm);

    assert_eq!(
        probe.call_back(TARGET, Bytes::from(vec![1])),
        Ok(Bytes::from(vec![2]))
    );
}

#[test]
fn call_back_wraps_a_failure_in_call_failed() {
    let vm = TestVM::default();
    vm.mock_call(TARGET, vec![1], U256::ZERO, Err(vec![0xee]));
    let mut probe = DevnodeProbe::from(&vm);

    assert_eq!(
        probe.call_back(TARGET, Bytes::from(vec![1])),
        Err(ProbeError::CallFailed(ProbeCallFailed {
            target: TARGET,
            data: Bytes::from(vec![0xee])
        }))
    );
}

// ---- pullAndSwap ----

fn transfer_from_calldata() -> Vec<u8> {
    transferFromCall {
        from: ALICE,
        to: PAIR,
        value: u(100),
    }
    .abi_encode()
}

#[test]
fn pull_and_swap_reverts_with_transfer_from_failed_when_the_token_returns_false() {
    let vm = TestVM::default();
    vm.set_sender(ALICE);
    vm.mock_call(TOKEN, transfer_from_calldata(), U256::ZERO, Ok(word(0).to_vec()));
    let mut probe = DevnodeProbe::from(&vm);

    assert_eq!(
        probe.pull_and_swap(TOKEN, PAIR, u(100), U256::ZERO, u(90)),
        Err(ProbeError::TransferFromFailed(ProbeTransferFromFailed {
            token: TOKEN,
            from: ALICE,
            to: PAIR,
            amount: u(100),
            data: Bytes::new(),
        }))
    );
}

#[test]
fn pull_and_swap_reverts_with_transfer_from_failed_carrying_the_token_revert_data() {
    let vm = TestVM::default();
    vm.set_sender(ALICE);
    vm.mock_call(TOKEN, transfer_from_calldata(), U256::ZERO, Err(vec![0x12, 0x34]));
    let mut probe = DevnodeProbe::from(&vm);

    let err = probe
        .pull_and_swap(TOKEN, PAIR, u(100), U256::ZERO, u(90))
        .unwrap_err();

    assert!(matches!(err, ProbeError::TransferFromFailed(e) if e.data.to_vec() == vec![0x12, 0x34]));
}

#[test]
fn pull_and_swap_reverts_with_swap_failed_when_the_swap_reverts() {
    let vm = TestVM::default();
    vm.set_sender(ALICE);
    // Registered last, so the shared return-data buffer holds `true` for the `transferFrom` decode; the
    // swap's revert data therefore reads back as that same word (a TestVM limitation).
    let swap = swapCall {
        amount0Out: U256::ZERO,
        amount1Out: u(90),
        to: ALICE,
        data: Bytes::new(),
    };
    vm.mock_call(PAIR, swap.abi_encode(), U256::ZERO, Err(vec![]));
    vm.mock_call(TOKEN, transfer_from_calldata(), U256::ZERO, Ok(word(1).to_vec()));
    let mut probe = DevnodeProbe::from(&vm);

    let err = probe
        .pull_and_swap(TOKEN, PAIR, u(100), U256::ZERO, u(90))
        .unwrap_err();

    assert!(matches!(
        err,
        ProbeError::SwapFailed(ProbeSwapFailed {
            pair: PAIR,
            to: ALICE,
            ..
        })
    ));
}

// ---- sendValue / receive ----

#[test]
fn send_value_reverts_with_send_value_failed_when_the_recipient_reverts() {
    let vm = TestVM::default();
    vm.mock_call(ALICE, vec![], u(5), Err(vec![0x01]));
    let mut probe = DevnodeProbe::from(&vm);

    assert_eq!(
        probe.send_value(ALICE, u(5)),
        Err(ProbeError::SendValueFailed(ProbeSendValueFailed {
            to: ALICE,
            amount: u(5),
            data: Bytes::from(vec![0x01]),
        }))
    );
}

#[test]
fn send_value_succeeds_when_the_recipient_accepts() {
    let vm = TestVM::default();
    vm.mock_call(ALICE, vec![], u(5), Ok(vec![]));
    let mut probe = DevnodeProbe::from(&vm);

    assert_eq!(probe.send_value(ALICE, u(5)), Ok(()));
}

#[test]
fn receive_accepts_plain_transfers() {
    let vm = TestVM::default();
    vm.set_value(u(1));
    let mut probe = DevnodeProbe::from(&vm);
    assert_eq!(probe.receive(), Ok(()));
}
