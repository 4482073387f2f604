//! TestVM unit tests of the vault's own logic: access control, the constructor, pause rules, share bookkeeping
//! errors, the hand-written router's decoding and the hand-written error encoding.
//!
//! Nothing here makes an external call: stylus-test 0.10.10's `TestVM` answers every mocked call with the
//! return data of the *last mock registered* (its `call_contract` never sets the return buffer), so a method
//! making two different calls cannot be unit-tested faithfully. Pool creation, deposits, withdrawals,
//! settlement and rewards are covered by the end-to-end suite (`tests/vault_e2e.rs` at the workspace root),
//! which runs the compiled programs on the devnode next to the real Uniswap V2 bytecode.

use stylus_sdk::{
    alloy_primitives::{address, Address, U256},
    alloy_sol_types::SolError,
    testing::*,
};

use super::*;
use crate::router::{route_core, route_settlement};

const FACTORY: Address = address!("0x00000000000000000000000000000000000000fa");
const OWNER: Address = address!("0x0000000000000000000000000000000000000001");
const TREASURY: Address = address!("0x0000000000000000000000000000000000000002");
const GUARDIAN: Address = address!("0x0000000000000000000000000000000000000003");
const STRANGER: Address = address!("0x0000000000000000000000000000000000000004");
const PAIR: Address = address!("0x00000000000000000000000000000000000000a0");

fn programs() -> [Address; 4] {
    [5, 6, 7, 8].map(Address::with_last_byte)
}

fn deployed(vm: &TestVM) -> Vault {
    vm.set_sender(OWNER);
    let mut vault = Vault::from(vm);
    let [s, w, m, a] = programs();
    assert!(vault
        .constructor(FACTORY, OWNER, TREASURY, GUARDIAN, s, w, m, a)
        .is_ok());
    vault
}

fn encoded(err: VaultError) -> Vec<u8> {
    err.encode()
}

fn word(address: Address) -> Vec<u8> {
    let mut w = vec![0u8; 12];
    w.extend_from_slice(address.as_slice());
    w
}

fn call(selector: [u8; 4], args: &[&[u8]]) -> Vec<u8> {
    let mut data = selector.to_vec();
    for a in args {
        data.extend_from_slice(a);
    }
    data
}

#[test]
fn the_constructor_sets_the_roles_and_refuses_zero_addresses() {
    let vm = TestVM::default();
    let vault = deployed(&vm);
    assert_eq!(vault.owner(), OWNER);
    assert_eq!(vault.treasury(), TREASURY);
    assert_eq!(vault.guardian(), GUARDIAN);
    assert_eq!(vault.factory(), FACTORY);
    let [s, w, m, a] = programs();
    assert_eq!(vault.programs(), (s, w, m, a));

    let vm = TestVM::default();
    let mut vault = Vault::from(&vm);
    let err = vault
        .constructor(FACTORY, OWNER, TREASURY, GUARDIAN, s, Address::ZERO, m, a)
        .unwrap_err();
    assert_eq!(encoded(err), InvalidAddress { value: Address::ZERO }.abi_encode());
}

#[test]
fn the_constructor_runs_once_through_the_router() {
    let vm = TestVM::default();
    let mut vault = Vault::from(&vm);
    let selector = stylus_sdk::abi::CONSTRUCTOR_SELECTOR.to_be_bytes();
    let [s, w, m, a] = programs();
    let args: Vec<Vec<u8>> = [FACTORY, OWNER, TREASURY, GUARDIAN, s, w, m, a]
        .iter()
        .map(|x| word(*x))
        .collect();
    let refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
    let input = call(selector, &refs);
    assert_eq!(route_core(&mut vault, &input), Ok(Vec::new()));
    assert_eq!(vault.owner(), OWNER);
    assert_eq!(route_core(&mut vault, &input), Err(Vec::new()), "a second run");
}

#[test]
fn the_router_refuses_malformed_calldata_and_ether() {
    let vm = TestVM::default();
    let mut vault = deployed(&vm);
    // `balanceOf(address,address)` with a dirty address word.
    let selector = [0xf7, 0x88, 0x8a, 0xec];
    let mut dirty = word(PAIR);
    dirty[0] = 1;
    assert_eq!(
        route_core(&mut vault, &call(selector, &[&dirty, &word(OWNER)])),
        Err(Vec::new())
    );
    // Too short.
    assert_eq!(
        route_core(&mut vault, &call(selector, &[&word(PAIR)])),
        Err(Vec::new())
    );
    assert_eq!(
        route_core(&mut vault, &call(selector, &[&word(PAIR), &word(OWNER)])),
        Ok(vec![0u8; 32])
    );
    assert_eq!(route_core(&mut vault, &[0x01, 0x02]), Err(Vec::new()));

    let vm = TestVMBuilder::new().value(U256::from(1)).build();
    let mut vault = Vault::from(&vm);
    assert_eq!(
        route_core(&mut vault, &call(selector, &[&word(PAIR), &word(OWNER)])),
        Err(Vec::new()),
        "no method is payable"
    );
}

#[test]
fn ownership_moves_in_two_steps() {
    let vm = TestVM::default();
    let mut vault = deployed(&vm);
    vm.set_sender(STRANGER);
    assert_eq!(
        encoded(vault.transfer_ownership(STRANGER).unwrap_err()),
        Unauthorized { caller: STRANGER }.abi_encode()
    );
    vm.set_sender(OWNER);
    vault.transfer_ownership(GUARDIAN).unwrap();
    assert_eq!(vault.owner(), OWNER, "nothing changes before acceptance");
    assert_eq!(vault.pending_owner(), GUARDIAN);
    vm.set_sender(STRANGER);
    assert_eq!(
        encoded(vault.accept_ownership().unwrap_err()),
        Unauthorized { caller: STRANGER }.abi_encode()
    );
    vm.set_sender(GUARDIAN);
    vault.accept_ownership().unwrap();
    assert_eq!(vault.owner(), GUARDIAN);
    assert_eq!(vault.pending_owner(), Address::ZERO);
}

#[test]
fn the_guardian_pauses_and_only_the_owner_unpauses() {
    let vm = TestVM::default();
    let mut vault = deployed(&vm);
    vm.set_sender(GUARDIAN);
    vault.set_paused(true).unwrap();
    assert!(vault.paused());
    assert_eq!(
        encoded(vault.set_paused(false).unwrap_err()),
        Unauthorized { caller: GUARDIAN }.abi_encode()
    );
    vm.set_sender(STRANGER);
    assert!(vault.set_paused(true).is_err());
    // Paused: deposits and settlements refuse before anything else.
    assert_eq!(
        encoded(
            vault
                .deposit_lp(PAIR, U256::from(1), U256::ZERO, STRANGER)
                .unwrap_err()
        ),
        ContractPaused {}.abi_encode()
    );
    assert_eq!(
        encoded(
            vault
                .settle(STRANGER, Address::ZERO, [U256::ZERO; 8], Default::default())
                .unwrap_err()
        ),
        ContractPaused {}.abi_encode()
    );
    vm.set_sender(OWNER);
    vault.set_paused(false).unwrap();
    assert!(!vault.paused());
}

#[test]
fn hf_min_and_markets_need_a_pool() {
    let vm = TestVM::default();
    let mut vault = deployed(&vm);
    assert_eq!(
        encoded(vault.set_hf_min(PAIR, HF_ONE).unwrap_err()),
        UnknownPool { pool: PAIR }.abi_encode()
    );
    assert_eq!(
        encoded(vault.health_factor(PAIR).unwrap_err()),
        UnknownPool { pool: PAIR }.abi_encode()
    );
    let market = Address::with_last_byte(0x77);
    assert_eq!(
        encoded(
            vault
                .register_market(
                    market,
                    PAIR,
                    STRANGER,
                    false,
                    (U256::ZERO, U256::ZERO),
                    U256::ZERO,
                    Default::default()
                )
                .unwrap_err()
        ),
        UnknownPool { pool: PAIR }.abi_encode()
    );
    assert_eq!(
        encoded(vault.update_market(market, U256::from(1), true).unwrap_err()),
        UnknownMarket { market }.abi_encode()
    );
    vm.set_sender(STRANGER);
    assert_eq!(
        encoded(vault.update_market(market, U256::from(1), true).unwrap_err()),
        Unauthorized { caller: STRANGER }.abi_encode()
    );
    assert_eq!(
        encoded(vault.create_pool(PAIR).unwrap_err()),
        Unauthorized { caller: STRANGER }.abi_encode()
    );
    assert_eq!(
        encoded(
            vault
                .initialize_reward(PAIR, U256::ZERO, STRANGER, 86_400, STRANGER)
                .unwrap_err()
        ),
        Unauthorized { caller: STRANGER }.abi_encode()
    );
    assert_eq!(
        encoded(vault.claim_reward(PAIR, U256::from(2)).unwrap_err()),
        InvalidReward { index: U256::from(2) }.abi_encode()
    );
    assert_eq!(
        encoded(vault.claim_reward(PAIR, U256::ZERO).unwrap_err()),
        InvalidReward { index: U256::ZERO }.abi_encode(),
        "an uninitialized slot"
    );
}

#[test]
fn only_a_registered_market_settles() {
    let vm = TestVM::default();
    let mut vault = deployed(&vm);
    vm.set_sender(STRANGER);
    let flows = [U256::from(1); 8];
    assert_eq!(
        encoded(
            vault
                .settle(STRANGER, STRANGER, flows, Default::default())
                .unwrap_err()
        ),
        Unauthorized { caller: STRANGER }.abi_encode()
    );
    // Through the settlement program's router too.
    let mut input = vec![0u8; 4 + 14 * 32];
    input[..4].copy_from_slice(
        &crate::router::ROUTED
            .iter()
            .find(|(_, s)| s.starts_with("settle("))
            .unwrap()
            .0
            .to_be_bytes(),
    );
    assert_eq!(
        route_settlement(&mut vault, &input),
        Err(Unauthorized { caller: STRANGER }.abi_encode())
    );
}

#[test]
fn share_transfers_need_balance_and_allowance() {
    let vm = TestVM::default();
    let mut vault = deployed(&vm);
    vm.set_sender(STRANGER);
    assert!(vault.approve(PAIR, OWNER, U256::from(5)));
    assert_eq!(vault.allowance(PAIR, STRANGER, OWNER), U256::from(5));
    assert_eq!(
        encoded(vault.transfer(PAIR, OWNER, U256::from(1)).unwrap_err()),
        InsufficientShares {
            account: STRANGER,
            balance: U256::ZERO,
            needed: U256::from(1)
        }
        .abi_encode()
    );
    vm.set_sender(OWNER);
    assert_eq!(
        encoded(
            vault
                .transfer_from(PAIR, STRANGER, OWNER, U256::from(6))
                .unwrap_err()
        ),
        InsufficientAllowance {
            owner: STRANGER,
            spender: OWNER,
            allowance: U256::from(5),
            needed: U256::from(6)
        }
        .abi_encode()
    );
    assert_eq!(
        encoded(vault.transfer(PAIR, Address::ZERO, U256::ZERO).unwrap_err()),
        InvalidAddress { value: Address::ZERO }.abi_encode()
    );
}

#[test]
fn the_hand_written_error_encoding_is_the_abi_encoding() {
    let a = address!("0x00000000000000000000000000000000000000aa");
    let (x, y, z) = (U256::from(7), U256::MAX, U256::from(1) << 200);
    let cases: Vec<(VaultError, Vec<u8>)> = vec![
        (
            Unauthorized { caller: a }.into(),
            Unauthorized { caller: a }.abi_encode(),
        ),
        (ContractPaused {}.into(), ContractPaused {}.abi_encode()),
        (
            UnknownMarket { market: a }.into(),
            UnknownMarket { market: a }.abi_encode(),
        ),
        (
            FeeOnTransfer {
                token: a,
                expected: x,
                received: y,
            }
            .into(),
            FeeOnTransfer {
                token: a,
                expected: x,
                received: y,
            }
            .abi_encode(),
        ),
        (
            AdmissionHealthFactor {
                up: true,
                healthFactor: z,
                minimum: x,
            }
            .into(),
            AdmissionHealthFactor {
                up: true,
                healthFactor: z,
                minimum: x,
            }
            .abi_encode(),
        ),
        (Math { code: 9 }.into(), Math { code: 9 }.abi_encode()),
        (
            WithdrawalExceedsFree {
                requested: y,
                available: x,
            }
            .into(),
            WithdrawalExceedsFree {
                requested: y,
                available: x,
            }
            .abi_encode(),
        ),
    ];
    for (err, expected) in cases {
        assert_eq!(err.encode(), expected);
    }
    // Dynamic data, padded to whole words, of every length around a word boundary.
    for len in [0usize, 1, 31, 32, 33, 64, 65] {
        let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let e = TokenCallFailed {
            token: a,
            data: data.clone().into(),
        };
        assert_eq!(
            VaultError::from(e.clone()).encode(),
            e.abi_encode(),
            "{len} bytes"
        );
    }
}
