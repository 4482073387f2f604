//! `test-forwarder`: the "test market" of the vault's end-to-end tests on the devnode. The tests register it
//! with the vault as a market and act as that market through `forward(target, data)`: the forwarder calls
//! `target` with `data`, so the call reaches `target` with `msg.sender` = the forwarder, and the outcome comes
//! back unchanged — the return data as the result, the revert data as the forwarder's own revert data, byte for
//! byte, so a test can decode the vault's custom errors.
//!
//! Anyone may call it; it holds no storage and no ETH.
//!
//! # The entrypoint
//!
//! stylus-sdk 0.10's `#[entrypoint]` reverts every reentrant call unless the SDK's deprecated `reentrant`
//! feature is on, which would unify into every contract of a build. A market contract may be called back by
//! the vault while a `forward` is under way (a Solidity forwarder could be), so the forwarder writes its own
//! `user_entrypoint`: the SDK's without that guard (as `devnode-probe` does).

// Outside tests and ABI export the crate is a bare `cdylib` for wasm32: no `std` prelude, no `main`.
#![cfg_attr(not(any(test, feature = "export-abi")), no_main)]
#![cfg_attr(not(any(test, feature = "export-abi")), no_std)]
// `#[public]` generates an undocumented `pub fn print_from_args` for ABI export; the lint level of generated
// items can only be set for the whole crate.
#![cfg_attr(feature = "export-abi", allow(missing_docs))]

extern crate alloc;

// The SDK's macros expand to `Vec` and `vec!` unqualified, as if the std prelude were in scope.
use alloc::{vec, vec::Vec};

use stylus_sdk::{abi::Bytes, alloy_primitives::Address, call::RawCall, prelude::*};

/// The forwarder's storage: none.
#[storage]
pub struct TestForwarder {}

// SAFETY: `TestForwarder` is the program's only top-level storage; this is what `#[entrypoint]` would declare.
unsafe impl TopLevelStorage for TestForwarder {}

/// The program's entrypoint: stylus-sdk 0.10.10's `#[entrypoint]` expansion without its reentrancy guard (see
/// the crate documentation).
#[cfg(target_arch = "wasm32")]
#[no_mangle]
pub extern "C" fn user_entrypoint(len: usize) -> usize {
    let host = stylus_sdk::host::VM {
        host: stylus_sdk::host::WasmVM {},
    };
    // References `pay_for_memory_grow`, which activation requires to be imported (as the SDK does).
    host.pay_for_memory_grow(0);

    let input = host.read_args(len);
    let (data, status) =
        match stylus_sdk::abi::router_entrypoint::<TestForwarder, TestForwarder>(input, host.clone()) {
            Ok(data) => (data, 0),
            Err(data) => (data, 1),
        };
    host.flush_cache(false);
    host.write_result(&data);
    status
}

#[public]
impl TestForwarder {
    /// Calls `target` with `data` (no value, all the gas the 63/64 rule leaves) and returns its return data.
    ///
    /// # Errors
    ///
    /// If the call fails: exactly its revert data (empty if it had none, e.g. out of gas).
    pub fn forward(&mut self, target: Address, data: Bytes) -> Result<Bytes, Vec<u8>> {
        // SAFETY: the forwarder has no storage; flushing and clearing the (empty) cache first is what the SDK's
        // own calls do.
        unsafe { RawCall::new(self.vm()).clear_storage_cache().call(target, &data) }.map(Bytes::from)
    }
}

#[cfg(test)]
mod tests {
    //! Unit tests on the SDK's `TestVM`, which runs no EVM: calls return what was mocked, and its return-data
    //! buffer holds the data of the *last mock registered* (so each test registers one mock).

    use stylus_sdk::{
        alloy_primitives::U256,
        alloy_sol_types::{sol, SolCall, SolValue},
        testing::TestVM,
    };

    use super::*;

    sol! {
        #![sol(alloy_sol_types = stylus_sdk::alloy_sol_types)]

        function forward(address target, bytes data) external returns (bytes);
    }

    const TARGET: Address =
        stylus_sdk::alloy_primitives::address!("0x0000000000000000000000000000000000007A67");

    #[test]
    fn forward_returns_the_return_data() {
        let vm = TestVM::default();
        vm.mock_call(TARGET, vec![1, 2, 3], U256::ZERO, Ok(vec![9, 8, 7]));
        let mut forwarder = TestForwarder::from(&vm);

        assert_eq!(
            forwarder.forward(TARGET, Bytes::from(vec![1, 2, 3])),
            Ok(Bytes::from(vec![9, 8, 7]))
        );
    }

    #[test]
    fn forward_returns_empty_return_data() {
        let vm = TestVM::default();
        vm.mock_call(TARGET, vec![4], U256::ZERO, Ok(vec![]));
        let mut forwarder = TestForwarder::from(&vm);

        assert_eq!(forwarder.forward(TARGET, Bytes::from(vec![4])), Ok(Bytes::new()));
    }

    #[test]
    fn forward_bubbles_the_revert_data_unchanged() {
        let vm = TestVM::default();
        // A custom error's selector and one word, as the vault would revert with.
        let revert: Vec<u8> = [0xde, 0xad, 0xbe, 0xef].into_iter().chain([7u8; 32]).collect();
        vm.mock_call(TARGET, vec![5, 6], U256::ZERO, Err(revert.clone()));
        let mut forwarder = TestForwarder::from(&vm);

        assert_eq!(forwarder.forward(TARGET, Bytes::from(vec![5, 6])), Err(revert));
    }

    #[test]
    fn forward_bubbles_an_empty_revert() {
        let vm = TestVM::default();
        vm.mock_call(TARGET, vec![], U256::ZERO, Err(vec![]));
        let mut forwarder = TestForwarder::from(&vm);

        assert_eq!(forwarder.forward(TARGET, Bytes::new()), Err(vec![]));
    }

    /// Runs `calldata` through the router the entrypoint uses, on `vm`.
    fn route(vm: &TestVM, calldata: Vec<u8>) -> Result<Vec<u8>, Vec<u8>> {
        let host = stylus_sdk::host::VM {
            host: Box::new(vm.clone()),
        };
        stylus_sdk::abi::router_entrypoint::<TestForwarder, TestForwarder>(calldata, host)
    }

    #[test]
    fn through_the_router_the_result_is_abi_encoded_bytes_and_the_revert_is_raw() {
        let vm = TestVM::default();
        let calldata = forwardCall {
            target: TARGET,
            data: Bytes::from(vec![1]),
        }
        .abi_encode();

        vm.mock_call(TARGET, vec![1], U256::ZERO, Ok(vec![0xaa, 0xbb]));
        assert_eq!(
            route(&vm, calldata.clone()),
            Ok(Bytes::from(vec![0xaa, 0xbb]).abi_encode())
        );

        vm.mock_call(TARGET, vec![1], U256::ZERO, Err(vec![0xcc, 0xdd, 0xee]));
        assert_eq!(route(&vm, calldata), Err(vec![0xcc, 0xdd, 0xee]));
    }
}
