//! The stylus-sdk 0.10 counter: the program the devnode's gas figures are calibrated against (the "Gas
//! figures" table of the project's Stylus notes), and the smallest contract to exercise the deploy pipeline
//! with.
//!
//! ABI-equivalent to Foundry's `Counter`:
//!
//! ```solidity
//! contract Counter {
//!     uint256 public number;
//!     function setNumber(uint256 newNumber) public { number = newNumber; }
//!     function increment() public { number++; }
//! }
//! ```
//!
//! Keep it exactly as it is: its size and gas are reference measurements, so any change to the code (or to
//! the stylus-sdk version) invalidates the calibration table.

// Outside tests and ABI export the crate is a bare `cdylib` for wasm32: no `std` prelude, no `main`. (`std`
// is still linked: stylus-core depends on `lazy_static`, which uses it; it also supplies the panic handler.)
#![cfg_attr(not(any(test, feature = "export-abi")), no_main)]
#![cfg_attr(not(any(test, feature = "export-abi")), no_std)]
// `#[entrypoint]` generates the exported `pub extern "C" fn user_entrypoint`, which cannot carry a doc comment
// and whose lint level can only be set for the whole crate (an `allow` on a macro invocation is ignored).
#![allow(missing_docs)]

extern crate alloc;

// The SDK's macros expand to `Vec` and `vec!` unqualified, as if the std prelude were in scope.
use alloc::{vec, vec::Vec};

use stylus_sdk::{alloy_primitives::U256, prelude::*};

sol_storage! {
    /// The counter's storage: one slot.
    #[entrypoint]
    pub struct Counter {
        /// The current value (slot 0).
        uint256 number;
    }
}

#[public]
impl Counter {
    /// Returns the current value.
    pub fn number(&self) -> U256 {
        self.number.get()
    }

    /// Sets the value to `new_number`.
    pub fn set_number(&mut self, new_number: U256) {
        self.number.set(new_number);
    }

    /// Adds one to the value.
    ///
    /// Wraps to zero at `U256::MAX` (ruint's `+` wraps), unlike Solidity 0.8's checked `number++`; kept
    /// unchecked because this is the calibration program and a check would change its size and gas.
    pub fn increment(&mut self) {
        let number = self.number.get();
        self.set_number(number + U256::from(1));
    }
}

#[cfg(test)]
mod tests {
    use stylus_sdk::{alloy_primitives::B256, testing::TestVM};

    use super::*;

    #[test]
    fn number_starts_at_zero() {
        let vm = TestVM::default();
        let contract = Counter::from(&vm);
        assert_eq!(contract.number(), U256::ZERO);
    }

    #[test]
    fn set_number_then_increment_reads_back_plus_one() {
        let vm = TestVM::default();
        let mut contract = Counter::from(&vm);

        contract.set_number(U256::from(41));
        assert_eq!(contract.number(), U256::from(41));

        contract.increment();
        assert_eq!(contract.number(), U256::from(42));
    }

    #[test]
    fn increment_at_max_wraps_to_zero() {
        let vm = TestVM::default();
        let mut contract = Counter::from(&vm);

        contract.set_number(U256::MAX);
        contract.increment();
        assert_eq!(contract.number(), U256::ZERO);
    }

    #[test]
    fn value_is_kept_in_slot_zero() {
        let vm = TestVM::default();
        let mut contract = Counter::from(&vm);

        contract.set_number(U256::from(7));
        // TestVM writes through to its storage map (its `flush_cache` does nothing).
        assert_eq!(vm.storage_load_bytes32(U256::ZERO), B256::from(U256::from(7)));
    }
}
