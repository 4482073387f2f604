//! The devnode probe (`contracts/devnode-probe`, a stylus-sdk 0.10 contract reaching every host function)
//! composed with itself, with EVM code and with the real Uniswap V2 bytecode: the scenarios of issue 3.

mod common;

use alloy_primitives::{keccak256, Address, Bytes, B256, U256};
use alloy_sol_types::{sol, SolCall, SolConstructor, SolError, SolEvent, SolValue};
use common::*;
use damm_devnode::{node::TxRequest, Devnode, Receipt};

// The probe's interface straight from the committed export (checked up to date by the probe's own test), so
// these bindings cannot drift from the contract; the export omits events, declared below.
sol!("../contracts/devnode-probe/IDevnodeProbe.sol");

sol! {
    interface IProbeEvents {
        event Ping(address indexed from, uint256 value);
    }

    interface IToken {
        constructor(uint256 totalSupply);
        function balanceOf(address owner) external view returns (uint256);
        function transfer(address to, uint256 value) external returns (bool);
        function approve(address spender, uint256 value) external returns (bool);
        event Transfer(address indexed from, address indexed to, uint256 value);
    }

    interface IFactory {
        constructor(address feeToSetter);
        function createPair(address tokenA, address tokenB) external returns (address pair);
        function getPair(address tokenA, address tokenB) external view returns (address pair);
    }

    interface IPair {
        function mint(address to) external returns (uint256 liquidity);
        function getReserves() external view returns (uint112 reserve0, uint112 reserve1, uint32 blockTimestampLast);
        function token0() external view returns (address);
    }

    error Error(string);
}

use IDevnodeProbe as P;

/// Base fee (= gas price) of every devnode block.
const GAS_PRICE: u64 = 100_000_000;

fn ether(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18u64))
}

fn supply() -> U256 {
    U256::from(10u64).pow(U256::from(24u64))
}

/// Sends `call` to `to` with `value` wei.
fn send_value<C: SolCall>(node: &mut Devnode, from: Address, to: Address, value: U256, call: &C) -> Receipt {
    send_raw_call(node, from, Some(to), value, call.abi_encode(), None)
}

/// Sends `call` and asserts it succeeded, decoding its return value.
fn send_ok<C: SolCall>(node: &mut Devnode, from: Address, to: Address, call: &C) -> C::Return {
    let receipt = send(node, from, to, call);
    assert!(receipt.status, "{receipt:?}");
    C::abi_decode_returns(&receipt.output).expect("decodes")
}

fn slot(node: &mut Devnode, probe: Address, key: u64) -> U256 {
    let via_program = view(node, probe, &P::getSlotCall { key: u(key) });
    assert_eq!(
        via_program,
        node.storage(probe, u(key)),
        "getSlot reads the state"
    );
    via_program
}

fn set_slot(key: u64, value: u64) -> Vec<u8> {
    P::setSlotCall {
        key: u(key),
        value: u(value),
    }
    .abi_encode()
}

fn call_target(to: Address, data: Vec<u8>) -> Vec<u8> {
    P::callTargetCall {
        to,
        value: U256::ZERO,
        data: data.into(),
    }
    .abi_encode()
}

fn call_target_or_revert(to: Address, data: Vec<u8>) -> Vec<u8> {
    P::callTargetOrRevertCall {
        to,
        value: U256::ZERO,
        data: data.into(),
    }
    .abi_encode()
}

/// Decodes the `(bool, bytes)` that `callTarget` and `staticCallTarget` return.
fn outcome(output: &[u8]) -> (bool, Bytes) {
    let decoded = P::callTargetCall::abi_decode_returns(output).expect("(bool, bytes)");
    (decoded._0, decoded._1)
}

fn deploy_token(node: &mut Devnode, from: Address) -> Address {
    let mut init = uniswap_artifact("ERC20");
    init.extend(
        IToken::constructorCall {
            totalSupply: supply(),
        }
        .abi_encode(),
    );
    let receipt = send_raw_call(node, from, None, U256::ZERO, init, None);
    assert!(receipt.status, "{receipt:?}");
    receipt.contract_address.expect("created")
}

fn token_balance(node: &mut Devnode, token: Address, owner: Address) -> U256 {
    view(node, token, &IToken::balanceOfCall { owner })
}

#[test]
fn storage_persists_across_transactions_and_logs_reach_the_receipt_exactly() {
    let mut node = Devnode::new();
    let [a] = deploy_probes(&mut node, 1)[..] else {
        unreachable!()
    };
    let [alice, bob] = [node.accounts()[0], node.accounts()[1]];

    assert_eq!(slot(&mut node, a, 1), U256::ZERO);
    let receipt = send(
        &mut node,
        alice,
        a,
        &P::setSlotCall {
            key: u(1),
            value: u(42),
        },
    );
    assert!(receipt.status && receipt.logs.is_empty(), "{receipt:?}");
    assert_eq!(slot(&mut node, a, 1), u(42));
    send_ok(
        &mut node,
        alice,
        a,
        &P::setSlotCall {
            key: u(2),
            value: u(43),
        },
    );
    send_ok(
        &mut node,
        alice,
        a,
        &P::setSlotCall {
            key: u(1),
            value: u(7),
        },
    );
    assert_eq!(slot(&mut node, a, 1), u(7));
    assert_eq!(slot(&mut node, a, 2), u(43));

    for count in 0..=4u8 {
        let topics: Vec<B256> = (0..count).map(|i| keccak256([count, i])).collect();
        let data = Bytes::from(vec![count; 33 + usize::from(count)]);
        let receipt = send(
            &mut node,
            alice,
            a,
            &P::emitLogCall {
                topics: topics.clone(),
                data: data.clone(),
            },
        );
        assert!(receipt.status, "{receipt:?}");
        assert_eq!(receipt.logs.len(), 1);
        assert_eq!(receipt.logs[0].address, a);
        assert_eq!(receipt.logs[0].topics(), &topics[..]);
        assert_eq!(receipt.logs[0].data.data, data);
    }
    let five: Vec<B256> = (0..5u8).map(|i| keccak256([i])).collect();
    let receipt = send(
        &mut node,
        alice,
        a,
        &P::emitLogCall {
            topics: five,
            data: Bytes::new(),
        },
    );
    assert!(
        !receipt.status && receipt.logs.is_empty(),
        "five topics fail: {receipt:?}"
    );

    let receipt = send(&mut node, bob, a, &P::pingCall { value: u(77) });
    assert!(receipt.status, "{receipt:?}");
    assert_eq!(receipt.logs.len(), 1);
    assert_eq!(
        receipt.logs[0].topics(),
        &[IProbeEvents::Ping::SIGNATURE_HASH, bob.into_word()]
    );
    let ping = IProbeEvents::Ping::decode_log(&receipt.logs[0]).expect("a Ping");
    assert_eq!((ping.address, ping.from, ping.value), (a, bob, u(77)));
}

#[test]
fn an_evm_contract_calls_stylus_which_calls_an_evm_erc20() {
    let mut node = Devnode::new();
    let [a] = deploy_probes(&mut node, 1)[..] else {
        unreachable!()
    };
    let [alice, bob] = [node.accounts()[0], node.accounts()[1]];
    let token = deploy_token(&mut node, alice);
    let forwarder = deploy_evm(&mut node, alice, &evm_forwarder(a));
    send_ok(
        &mut node,
        alice,
        token,
        &IToken::transferCall {
            to: a,
            value: u(1_000),
        },
    );

    // EOA → EVM forwarder → probe → ERC-20.
    let transfer = IToken::transferCall {
        to: bob,
        value: u(300),
    }
    .abi_encode();
    let receipt = send_raw_call(
        &mut node,
        alice,
        Some(forwarder),
        U256::ZERO,
        call_target(token, transfer),
        None,
    );
    assert!(receipt.status, "{receipt:?}");
    let (ok, returned) = outcome(&receipt.output);
    assert!(ok);
    assert_eq!(returned, Bytes::from(true.abi_encode()));
    assert_eq!(token_balance(&mut node, token, a), u(700));
    assert_eq!(token_balance(&mut node, token, bob), u(300));
    assert_eq!(receipt.logs.len(), 1);
    let log = IToken::Transfer::decode_log(&receipt.logs[0]).expect("a Transfer");
    assert_eq!(
        (log.address, log.from, log.to, log.value),
        (token, a, bob, u(300))
    );

    // The probe sees the EVM contract as its caller and the EOA as the origin.
    let receipt = send_raw_call(
        &mut node,
        alice,
        Some(forwarder),
        U256::ZERO,
        P::whoAmICall {}.abi_encode(),
        None,
    );
    let who = P::whoAmICall::abi_decode_returns(&receipt.output).expect("whoAmI");
    assert_eq!((who._0, who._1, who._2), (a, forwarder, alice));

    // A token revert comes back through the probe as ok = false with the token's revert data.
    let too_much = IToken::transferCall {
        to: bob,
        value: u(701),
    }
    .abi_encode();
    let (ok, returned) = outcome(&call_raw(&mut node, forwarder, call_target(token, too_much)).1);
    assert!(!ok);
    assert_eq!(
        returned,
        Bytes::from(Error("ds-math-sub-underflow".into()).abi_encode())
    );
}

/// Probe `a`, called by `from`, calls `target` (probe `b` itself or something forwarding to it) with
/// `b.setSlot(5, 55)`: the call succeeds with `b`'s empty return data and the write lands in `b`, not `a`.
fn a_sets_a_slot_of_b_through(node: &mut Devnode, from: Address, a: Address, b: Address, target: Address) {
    let receipt = send_raw_call(
        node,
        from,
        Some(a),
        U256::ZERO,
        call_target(target, set_slot(5, 55)),
        None,
    );
    assert!(receipt.status, "{receipt:?}");
    assert_eq!(outcome(&receipt.output), (true, Bytes::new()));
    assert_eq!(slot(node, b, 5), u(55));
    assert_eq!(slot(node, a, 5), U256::ZERO, "B's storage, not A's");
}

#[test]
fn a_stylus_program_calls_another_and_gets_its_return_data() {
    let mut node = Devnode::new();
    let [a, b] = deploy_probes(&mut node, 2)[..] else {
        unreachable!()
    };
    let alice = node.accounts()[0];

    a_sets_a_slot_of_b_through(&mut node, alice, a, b, b);

    let get = P::getSlotCall { key: u(5) }.abi_encode();
    let (ok, direct) = call_raw(&mut node, b, get.clone());
    assert!(ok);
    let (ok, via_a) = call_raw(&mut node, a, call_target(b, get));
    assert!(ok);
    assert_eq!(outcome(&via_a), (true, direct.clone()));
    assert_eq!(direct, Bytes::from(u(55).abi_encode()));
}

#[test]
fn a_stylus_program_calls_evm_code_which_calls_another_program() {
    let mut node = Devnode::new();
    let [a, b] = deploy_probes(&mut node, 2)[..] else {
        unreachable!()
    };
    let alice = node.accounts()[0];
    let to_b = deploy_evm(&mut node, alice, &evm_forwarder(b));

    // A → EVM forwarder → B.setSlot: B's write lands, A sees B's (empty) return data.
    a_sets_a_slot_of_b_through(&mut node, alice, a, b, to_b);

    // Return data crosses both boundaries.
    let get = P::getSlotCall { key: u(5) }.abi_encode();
    let (ok, via_evm) = call_raw(&mut node, a, call_target(to_b, get));
    assert!(ok);
    assert_eq!(outcome(&via_evm), (true, Bytes::from(u(55).abi_encode())));

    // Under an EVM frame too (the nested frames' memory goes after the outer frame's): EOA → EVM → A → EVM → B.
    let to_a = deploy_evm(&mut node, alice, &evm_forwarder(a));
    let get = P::getSlotCall { key: u(5) }.abi_encode();
    let (ok, via_both) = call_raw(&mut node, to_a, call_target(to_b, get));
    assert!(ok);
    assert_eq!(outcome(&via_both), (true, Bytes::from(u(55).abi_encode())));

    // B sees the EVM contract as its caller.
    let (ok, who) = call_raw(&mut node, a, call_target(to_b, P::whoAmICall {}.abi_encode()));
    assert!(ok);
    let (ok, who) = outcome(&who);
    assert!(ok);
    let who = P::whoAmICall::abi_decode_returns(&who).expect("whoAmI");
    assert_eq!((who._0, who._1, who._2), (b, to_b, alice));

    // A revert in B comes back through the EVM contract as ok = false with B's bytes, and B's write is gone.
    let then_revert = P::setThenRevertCall {
        key: u(6),
        value: u(66),
    }
    .abi_encode();
    let receipt = send_raw_call(
        &mut node,
        alice,
        Some(a),
        U256::ZERO,
        call_target(to_b, then_revert),
        None,
    );
    assert!(receipt.status, "{receipt:?}");
    let (ok, returned) = outcome(&receipt.output);
    assert!(!ok);
    assert_eq!(
        returned,
        Bytes::from(P::ProbeSetThenRevert { _0: u(6), _1: u(66) }.abi_encode())
    );
    assert_eq!(slot(&mut node, b, 6), U256::ZERO);

    // A → EVM → A: A is reentrant there.
    let (ok, out) = call_raw(
        &mut node,
        a,
        call_target(to_a, P::isReentrantCall {}.abi_encode()),
    );
    assert!(ok);
    assert_eq!(outcome(&out), (true, Bytes::from(true.abi_encode())));

    // EVM code under a program reaches the Ethereum precompiles with its input: A → EVM → SHA-256.
    let sha256 = Address::with_last_byte(2);
    let to_sha256 = deploy_evm(&mut node, alice, &evm_forwarder(sha256));
    let (ok, out) = call_raw(&mut node, a, call_target(to_sha256, b"abc".to_vec()));
    assert!(ok);
    let digest = alloy_primitives::hex!("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_eq!(outcome(&out), (true, Bytes::from(digest.to_vec())));
}

#[test]
fn a_revert_at_any_depth_leaves_no_trace_and_its_bytes_reach_the_sender() {
    let mut node = Devnode::new();
    let [a, b, c] = deploy_probes(&mut node, 3)[..] else {
        unreachable!()
    };
    let alice = node.accounts()[0];

    // setThenRevert alone: its write is discarded, its typed error is the revert data.
    let receipt = send(
        &mut node,
        alice,
        c,
        &P::setThenRevertCall {
            key: u(3),
            value: u(33),
        },
    );
    assert!(!receipt.status);
    assert_eq!(
        receipt.output,
        Bytes::from(P::ProbeSetThenRevert { _0: u(3), _1: u(33) }.abi_encode())
    );
    assert_eq!(slot(&mut node, c, 3), U256::ZERO);

    // Exact bytes through EOA → A → B → C(revertWith).
    let bytes = Bytes::from(vec![0xde, 0xad, 0xbe, 0xef, 0x01]);
    let chain = call_target_or_revert(
        b,
        call_target_or_revert(c, P::revertWithCall { data: bytes.clone() }.abi_encode()),
    );
    let receipt = send_raw_call(&mut node, alice, Some(a), U256::ZERO, chain, None);
    assert!(!receipt.status);
    assert_eq!(receipt.output, bytes);

    // A script writes to A, B and C, then runs A → B → C where C writes and reverts: every write is gone.
    let failing = call_target_or_revert(
        b,
        call_target_or_revert(
            c,
            P::setThenRevertCall {
                key: u(3),
                value: u(33),
            }
            .abi_encode(),
        ),
    );
    let script = deploy_evm(
        &mut node,
        alice,
        &evm_script(&[
            (a, set_slot(1, 11)),
            (b, set_slot(2, 22)),
            (c, set_slot(4, 44)),
            (a, call_target(b, set_slot(6, 66))),
            (a, failing),
        ]),
    );
    let nonce = node.nonce(alice);
    let receipt = send_raw_call(&mut node, alice, Some(script), U256::ZERO, Vec::new(), None);
    assert!(!receipt.status);
    assert!(receipt.logs.is_empty());
    assert_eq!(
        receipt.output,
        Bytes::from(P::ProbeSetThenRevert { _0: u(3), _1: u(33) }.abi_encode())
    );
    for (probe, key) in [(a, 1), (b, 2), (c, 4), (b, 6), (c, 3)] {
        assert_eq!(slot(&mut node, probe, key), U256::ZERO, "slot {key} of {probe}");
    }
    assert_eq!(node.nonce(alice), nonce + 1);
}

#[test]
fn a_failed_sub_call_under_a_successful_call_keeps_only_the_callers_writes() {
    let mut node = Devnode::new();
    let [a, b] = deploy_probes(&mut node, 2)[..] else {
        unreachable!()
    };
    let alice = node.accounts()[0];
    let revert = P::setThenRevertCall {
        key: u(2),
        value: u(22),
    }
    .abi_encode();

    let receipt = send_raw_call(
        &mut node,
        alice,
        Some(a),
        U256::ZERO,
        call_target(b, revert.clone()),
        None,
    );
    assert!(receipt.status, "{receipt:?}");
    assert_eq!(
        outcome(&receipt.output),
        (
            false,
            Bytes::from(P::ProbeSetThenRevert { _0: u(2), _1: u(22) }.abi_encode())
        )
    );
    assert_eq!(slot(&mut node, b, 2), U256::ZERO);

    // In one transaction: A writes (through a self-call), then A's call to B fails; A's write stays.
    let script = deploy_evm(
        &mut node,
        alice,
        &evm_script(&[
            (a, set_slot(1, 11)),
            (a, call_target(a, set_slot(7, 77))),
            (a, call_target(b, revert)),
        ]),
    );
    let receipt = send_raw_call(&mut node, alice, Some(script), U256::ZERO, Vec::new(), None);
    assert!(receipt.status, "{receipt:?}");
    assert_eq!(slot(&mut node, a, 1), u(11));
    assert_eq!(slot(&mut node, a, 7), u(77));
    assert_eq!(slot(&mut node, b, 2), U256::ZERO);
}

#[test]
fn a_static_call_cannot_write_storage_or_emit_logs() {
    let mut node = Devnode::new();
    let [a, b] = deploy_probes(&mut node, 2)[..] else {
        unreachable!()
    };
    let alice = node.accounts()[0];
    send_ok(
        &mut node,
        alice,
        b,
        &P::setSlotCall {
            key: u(4),
            value: u(40),
        },
    );

    let receipt = send(
        &mut node,
        alice,
        a,
        &P::staticCallTargetCall {
            to: b,
            data: set_slot(4, 44).into(),
        },
    );
    assert!(receipt.status, "{receipt:?}");
    assert!(!outcome(&receipt.output).0, "the write fails");
    assert_eq!(slot(&mut node, b, 4), u(40));

    let receipt = send(
        &mut node,
        alice,
        a,
        &P::staticCallTargetCall {
            to: b,
            data: P::pingCall { value: u(1) }.abi_encode().into(),
        },
    );
    assert!(receipt.status && receipt.logs.is_empty(), "{receipt:?}");
    assert!(!outcome(&receipt.output).0, "the log fails");

    let read = P::staticCallTargetCall {
        to: b,
        data: P::getSlotCall { key: u(4) }.abi_encode().into(),
    };
    assert_eq!(
        outcome(&send(&mut node, alice, a, &read).output),
        (true, Bytes::from(u(40).abi_encode()))
    );
}

#[test]
fn reentrancy_is_reported_and_can_be_guarded() {
    let mut node = Devnode::new();
    let [a, b] = deploy_probes(&mut node, 2)[..] else {
        unreachable!()
    };
    let alice = node.accounts()[0];

    assert_eq!(
        send_ok(&mut node, alice, a, &P::reenterCall { depth: u(3) }),
        u(3)
    );
    assert_eq!(view(&mut node, a, &P::reentryDepthCall {}), u(3));
    assert!(!view(&mut node, a, &P::isReentrantCall {}));

    let is_reentrant = P::isReentrantCall {}.abi_encode();
    // A → B.isReentrant: B is not reentrant.
    let (ok, out) = call_raw(&mut node, a, call_target(b, is_reentrant.clone()));
    assert!(ok);
    assert_eq!(outcome(&out), (true, Bytes::from(false.abi_encode())));
    // A → B → A.isReentrant: A is.
    let a_b_a = call_target(b, call_target(a, is_reentrant.clone()));
    let (ok, out) = call_raw(&mut node, a, a_b_a.clone());
    assert!(ok);
    let (ok, inner) = outcome(&out);
    assert!(ok);
    assert_eq!(outcome(&inner), (true, Bytes::from(true.abi_encode())));

    send_ok(&mut node, alice, a, &P::setReentryGuardCall { enabled: true });
    // The guard reverts the reentrant frame with no data; the calls around it go on.
    let (ok, out) = call_raw(&mut node, a, a_b_a);
    assert!(ok);
    let (ok, inner) = outcome(&out);
    assert!(ok);
    assert_eq!(outcome(&inner), (false, Bytes::new()));
    assert_eq!(
        send_ok(&mut node, alice, a, &P::reenterCall { depth: u(2) }),
        U256::ZERO
    );
    assert_eq!(view(&mut node, a, &P::reentryDepthCall {}), U256::ZERO);
    assert!(
        !view(&mut node, a, &P::isReentrantCall {}),
        "a direct call still runs"
    );

    send_ok(&mut node, alice, a, &P::setReentryGuardCall { enabled: false });
    assert_eq!(
        send_ok(&mut node, alice, a, &P::reenterCall { depth: u(2) }),
        u(2)
    );
}

#[test]
fn create_and_create2_from_stylus_land_at_the_predicted_addresses() {
    let mut node = Devnode::new();
    let [a] = deploy_probes(&mut node, 1)[..] else {
        unreachable!()
    };
    let alice = node.accounts()[0];
    let mut init = uniswap_artifact("ERC20");
    init.extend(
        IToken::constructorCall {
            totalSupply: supply(),
        }
        .abi_encode(),
    );
    let init = Bytes::from(init);

    let nonce = node.nonce(a);
    let token = send_ok(
        &mut node,
        alice,
        a,
        &P::deploy1Call {
            init_code: init.clone(),
            value: U256::ZERO,
        },
    );
    assert_eq!(token, a.create(nonce));
    assert_eq!(node.nonce(a), nonce + 1);
    assert!(!node.code(token).is_empty());
    assert_eq!(
        token_balance(&mut node, token, a),
        supply(),
        "the probe was msg.sender"
    );

    let salt = B256::repeat_byte(0x5a);
    let deploy2 = P::deploy2Call {
        init_code: init.clone(),
        value: U256::ZERO,
        salt,
    };
    let token2 = send_ok(&mut node, alice, a, &deploy2);
    assert_eq!(token2, a.create2(salt, keccak256(&init)));
    assert_eq!(token_balance(&mut node, token2, a), supply());

    // The same salt again: the address is taken, the create fails and the probe reverts.
    let code_before = node.code(token2);
    let receipt = send(&mut node, alice, a, &deploy2);
    assert!(!receipt.status);
    assert_eq!(
        receipt.output,
        Bytes::from(P::ProbeDeployFailed(Bytes::new()).abi_encode())
    );
    assert_eq!(node.code(token2), code_before);

    // A reverting constructor: its revert data comes back.
    let reverting = Bytes::from(vec![0x60, 0x2a, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xfd]);
    let receipt = send(
        &mut node,
        alice,
        a,
        &P::deploy1Call {
            init_code: reverting,
            value: U256::ZERO,
        },
    );
    assert!(!receipt.status);
    assert_eq!(
        receipt.output,
        Bytes::from(P::ProbeDeployFailed(Bytes::from(u(42).abi_encode())).abi_encode())
    );

    // Stylus code deployed from Stylus runs (its code hash is activated).
    let nonce = node.nonce(a);
    let child = send_ok(
        &mut node,
        alice,
        a,
        &P::deploy1Call {
            init_code: init_code_for(probe().code()),
            value: U256::ZERO,
        },
    );
    assert_eq!(child, a.create(nonce));
    send_ok(
        &mut node,
        alice,
        child,
        &P::setSlotCall {
            key: u(1),
            value: u(9),
        },
    );
    assert_eq!(slot(&mut node, child, 1), u(9));
}

#[test]
fn value_moves_exactly_through_payable_calls_sends_and_sub_calls() {
    let mut node = Devnode::new();
    let [a, b] = deploy_probes(&mut node, 2)[..] else {
        unreachable!()
    };
    let [alice, carol] = [node.accounts()[0], node.accounts()[2]];
    let fee = |r: &Receipt| U256::from(r.gas_used) * U256::from(GAS_PRICE);

    // A payable method.
    let before = node.balance(alice);
    let receipt = send_value(&mut node, alice, a, ether(5), &P::whoAmICall {});
    assert!(receipt.status, "{receipt:?}");
    assert_eq!(node.balance(a), ether(5));
    assert_eq!(node.balance(alice), before - ether(5) - fee(&receipt));
    // A plain transfer (the receive function).
    let receipt = send_raw_call(&mut node, alice, Some(a), ether(1), Vec::new(), None);
    assert!(receipt.status, "{receipt:?}");
    assert_eq!(node.balance(a), ether(6));
    // A non-payable method refuses value.
    let receipt = send_value(
        &mut node,
        alice,
        a,
        u(1),
        &P::setSlotCall {
            key: u(1),
            value: u(1),
        },
    );
    assert!(!receipt.status);
    assert_eq!(node.balance(a), ether(6));

    // sendValue to an EOA.
    let carol_before = node.balance(carol);
    send_ok(
        &mut node,
        alice,
        a,
        &P::sendValueCall {
            to: carol,
            amount: ether(2),
        },
    );
    assert_eq!(node.balance(carol), carol_before + ether(2));
    assert_eq!(node.balance(a), ether(4));
    // More than the balance: the send fails and the probe reverts.
    let receipt = send(
        &mut node,
        alice,
        a,
        &P::sendValueCall {
            to: carol,
            amount: ether(5),
        },
    );
    assert!(!receipt.status);
    assert_eq!(
        receipt.output,
        Bytes::from(
            P::ProbeSendValueFailed {
                _0: carol,
                _1: ether(5),
                _2: Bytes::new()
            }
            .abi_encode()
        )
    );
    assert_eq!(node.balance(carol), carol_before + ether(2));
    assert_eq!(node.balance(a), ether(4));

    // callTarget with value, to another probe's payable method (it sees the value) and to an EOA.
    let receipt = send_raw_call(
        &mut node,
        alice,
        Some(a),
        U256::ZERO,
        P::callTargetCall {
            to: b,
            value: ether(1),
            data: P::whoAmICall {}.abi_encode().into(),
        }
        .abi_encode(),
        None,
    );
    assert!(receipt.status, "{receipt:?}");
    let (ok, inner) = outcome(&receipt.output);
    assert!(ok);
    let who = P::whoAmICall::abi_decode_returns(&inner).expect("whoAmI");
    assert_eq!((who._0, who._1, who._3), (b, a, ether(1)));
    assert_eq!(node.balance(b), ether(1));
    assert_eq!(node.balance(a), ether(3));
    // msg.value forwarded: alice pays A 1 ether, A passes it to carol.
    let receipt = send_value(
        &mut node,
        alice,
        a,
        ether(1),
        &P::callTargetCall {
            to: carol,
            value: ether(1),
            data: Bytes::new(),
        },
    );
    assert!(receipt.status, "{receipt:?}");
    assert_eq!(node.balance(a), ether(3));
    assert_eq!(node.balance(carol), carol_before + ether(3));
}

#[test]
fn a_100_kb_return_arrives_intact_directly_and_through_another_program() {
    let mut node = Devnode::new();
    let [a, b] = deploy_probes(&mut node, 2)[..] else {
        unreachable!()
    };
    let n = 100_000usize;
    let expected: Vec<u8> = (0..n).map(|i| i as u8).collect();
    let big = P::bigReturnCall { n: U256::from(n) }.abi_encode();

    let (ok, out) = call_raw(&mut node, b, big.clone());
    assert!(ok);
    assert_eq!(out.len(), 64 + n.div_ceil(32) * 32);
    assert_eq!(
        P::bigReturnCall::abi_decode_returns(&out)
            .expect("bytes")
            .to_vec(),
        expected
    );

    let (ok, via) = call_raw(&mut node, a, call_target(b, big));
    assert!(ok);
    let (ok, inner) = outcome(&via);
    assert!(ok);
    assert_eq!(inner, out);
}

#[test]
fn running_out_of_ink_consumes_the_gas_given_and_keeps_nothing() {
    let mut node = Devnode::new();
    let [a, b] = deploy_probes(&mut node, 2)[..] else {
        unreachable!()
    };
    let alice = node.accounts()[0];
    let before = node.balance(alice);

    let receipt = send_raw_call(
        &mut node,
        alice,
        Some(b),
        U256::ZERO,
        P::spinCall {}.abi_encode(),
        Some(200_000),
    );
    assert!(!receipt.status);
    assert_eq!(receipt.gas_used, 200_000);
    assert_eq!(node.balance(alice), before - u(200_000) * U256::from(GAS_PRICE));

    // Writes before the spin in the same transaction are gone.
    let script = deploy_evm(
        &mut node,
        alice,
        &evm_script(&[(a, set_slot(1, 11)), (b, P::spinCall {}.abi_encode())]),
    );
    let receipt = send_raw_call(
        &mut node,
        alice,
        Some(script),
        U256::ZERO,
        Vec::new(),
        Some(400_000),
    );
    assert!(!receipt.status);
    // B burnt the 63/64 it was given; the script's REVERT hands back what the script had kept.
    assert!(receipt.gas_used >= 400_000 - 400_000 / 64, "{}", receipt.gas_used);
    assert_eq!(slot(&mut node, a, 1), U256::ZERO);

    // Nested: B runs out of the 63/64 it was given; A goes on and returns ok = false, and a write earlier in
    // the transaction stays.
    let script = deploy_evm(
        &mut node,
        alice,
        &evm_script(&[
            (a, set_slot(1, 11)),
            (a, call_target(b, P::spinCall {}.abi_encode())),
        ]),
    );
    let receipt = send_raw_call(
        &mut node,
        alice,
        Some(script),
        U256::ZERO,
        Vec::new(),
        Some(800_000),
    );
    assert!(receipt.status, "{receipt:?}");
    assert_eq!(slot(&mut node, a, 1), u(11));
    let receipt = send_raw_call(
        &mut node,
        alice,
        Some(a),
        U256::ZERO,
        call_target(b, P::spinCall {}.abi_encode()),
        Some(800_000),
    );
    assert!(receipt.status, "{receipt:?}");
    assert_eq!(outcome(&receipt.output), (false, Bytes::new()));
    assert!(
        receipt.gas_used > 800_000 - 800_000 / 64,
        "B burnt its share: {}",
        receipt.gas_used
    );
}

#[test]
fn a_stylus_program_pulls_erc20s_and_swaps_on_a_uniswap_pair() {
    let mut node = Devnode::new();
    let [probe] = deploy_probes(&mut node, 1)[..] else {
        unreachable!()
    };
    let [alice, bob] = [node.accounts()[0], node.accounts()[1]];
    let (x, y) = (deploy_token(&mut node, alice), deploy_token(&mut node, alice));
    let mut init = uniswap_artifact("UniswapV2Factory");
    init.extend(IFactory::constructorCall { feeToSetter: alice }.abi_encode());
    let receipt = send_raw_call(&mut node, alice, None, U256::ZERO, init, None);
    let factory = receipt.contract_address.expect("factory");
    send_ok(
        &mut node,
        alice,
        factory,
        &IFactory::createPairCall { tokenA: x, tokenB: y },
    );
    let pair = view(
        &mut node,
        factory,
        &IFactory::getPairCall { tokenA: x, tokenB: y },
    );
    assert_ne!(pair, Address::ZERO);
    let liquidity = U256::from(10u64).pow(U256::from(21u64));
    send_ok(
        &mut node,
        alice,
        x,
        &IToken::transferCall {
            to: pair,
            value: liquidity,
        },
    );
    send_ok(
        &mut node,
        alice,
        y,
        &IToken::transferCall {
            to: pair,
            value: liquidity * u(2),
        },
    );
    send_ok(&mut node, alice, pair, &IPair::mintCall { to: alice });

    let token0 = view(&mut node, pair, &IPair::token0Call {});
    let (reserve_x, reserve_y) = (liquidity, liquidity * u(2));
    let amount_in = ether(3);
    let amount_out = amount_in * u(997) * reserve_y / (reserve_x * u(1000) + amount_in * u(997));
    let (out0, out1) = if token0 == x {
        (U256::ZERO, amount_out)
    } else {
        (amount_out, U256::ZERO)
    };
    send_ok(
        &mut node,
        alice,
        x,
        &IToken::transferCall {
            to: bob,
            value: ether(10),
        },
    );
    send_ok(
        &mut node,
        bob,
        x,
        &IToken::approveCall {
            spender: probe,
            value: ether(10),
        },
    );

    // Greedy: one wei more breaks the constant product; everything is rolled back, the pair's revert data
    // comes back inside the probe's error.
    let greedy = P::pullAndSwapCall {
        token: x,
        pair,
        amount_in,
        amount0_out: if out0.is_zero() { out0 } else { out0 + u(1) },
        amount1_out: if out1.is_zero() { out1 } else { out1 + u(1) },
    };
    let receipt = send(&mut node, bob, probe, &greedy);
    assert!(!receipt.status);
    assert_eq!(
        receipt.output,
        Bytes::from(
            P::ProbeSwapFailed {
                _0: pair,
                _1: greedy.amount0_out,
                _2: greedy.amount1_out,
                _3: bob,
                _4: Bytes::from(Error("UniswapV2: K".into()).abi_encode()),
            }
            .abi_encode()
        )
    );
    assert_eq!(token_balance(&mut node, x, bob), ether(10));
    assert_eq!(token_balance(&mut node, x, pair), reserve_x);

    let receipt = send(
        &mut node,
        bob,
        probe,
        &P::pullAndSwapCall {
            token: x,
            pair,
            amount_in,
            amount0_out: out0,
            amount1_out: out1,
        },
    );
    assert!(receipt.status, "{receipt:?}");
    assert_eq!(token_balance(&mut node, x, bob), ether(7));
    assert_eq!(token_balance(&mut node, y, bob), amount_out);
    assert_eq!(token_balance(&mut node, x, pair), reserve_x + amount_in);
    assert_eq!(token_balance(&mut node, y, pair), reserve_y - amount_out);
    assert_eq!(token_balance(&mut node, x, probe), U256::ZERO);
    let reserves = view(&mut node, pair, &IPair::getReservesCall {});
    let (r0, r1) = (U256::from(reserves.reserve0), U256::from(reserves.reserve1));
    let (rx, ry) = if token0 == x { (r0, r1) } else { (r1, r0) };
    assert_eq!((rx, ry), (reserve_x + amount_in, reserve_y - amount_out));
}

#[test]
fn who_am_i_reports_the_transaction_and_block() {
    let mut node = Devnode::new();
    let [a] = deploy_probes(&mut node, 1)[..] else {
        unreachable!()
    };
    let bob = node.accounts()[1];
    node.set_next_block_timestamp(1_800_000_000);

    let receipt = send_value(&mut node, bob, a, u(123), &P::whoAmICall {});
    assert!(receipt.status, "{receipt:?}");
    let who = P::whoAmICall::abi_decode_returns(&receipt.output).expect("whoAmI");
    let block = node.block(receipt.block_number).expect("mined").clone();
    assert_eq!(block.timestamp, 1_800_000_000);
    assert_eq!(
        (who._0, who._1, who._2, who._3, who._4, who._5, who._6),
        (
            a,
            bob,
            bob,
            u(123),
            u(node.chain_id()),
            u(receipt.block_number),
            u(block.timestamp)
        )
    );
    assert!(
        who._7 > U256::ZERO && who._7 < u(30_000_000),
        "gas left {}",
        who._7
    );

    // eth_call: the pending block.
    let result = node
        .call(&TxRequest {
            from: bob,
            to: Some(a),
            input: P::whoAmICall {}.abi_encode().into(),
            ..Default::default()
        })
        .expect("call accepted");
    let who = P::whoAmICall::abi_decode_returns(result.output().expect("output")).expect("whoAmI");
    assert_eq!(who._5, u(node.head().number + 1));
    assert_eq!(who._6, u(block.timestamp + 1));
}
