//! A Stylus contract with a constructor, for the devnode's tooling tests: `cargo stylus deploy` sends such a
//! contract through the StylusDeployer, which creates, activates and initialises it in one transaction.
//!
//! ```solidity
//! interface IConstructed {
//!     constructor(uint256 initial, address owner) payable;
//!     function number() external view returns (uint256);
//!     function owner() external view returns (address);
//!     function endowment() external view returns (uint256);
//! }
//! ```

#![cfg_attr(not(any(test, feature = "export-abi")), no_main)]
#![cfg_attr(not(any(test, feature = "export-abi")), no_std)]
// `#[entrypoint]` generates the exported `pub extern "C" fn user_entrypoint`, which cannot carry a doc comment.
#![allow(missing_docs)]

extern crate alloc;

// The SDK's macros expand to `Vec` and `vec!` unqualified, as if the std prelude were in scope.
use alloc::{vec, vec::Vec};

use stylus_sdk::{
    alloy_primitives::{Address, U256},
    prelude::*,
};

sol_storage! {
    /// The contract's storage.
    #[entrypoint]
    pub struct Constructed {
        /// A number set by the constructor.
        uint256 number;
        /// The owner named by the constructor.
        address owner;
        /// The value the constructor received.
        uint256 endowment;
    }
}

#[public]
impl Constructed {
    /// Sets the number and the owner once, at deployment, and records the value sent along.
    #[constructor]
    #[payable]
    pub fn constructor(&mut self, initial: U256, owner: Address) {
        let value = self.vm().msg_value();
        self.number.set(initial);
        self.owner.set(owner);
        self.endowment.set(value);
    }

    /// The number.
    pub fn number(&self) -> U256 {
        self.number.get()
    }

    /// The owner.
    pub fn owner(&self) -> Address {
        self.owner.get()
    }

    /// The value sent to the constructor, in wei.
    pub fn endowment(&self) -> U256 {
        self.endowment.get()
    }
}

#[cfg(test)]
mod tests {
    use stylus_sdk::testing::*;

    use super::*;

    #[test]
    fn the_constructor_sets_number_owner_and_endowment() {
        let vm = TestVMBuilder::new().value(U256::from(7)).build();
        let mut contract = Constructed::from(&vm);
        let owner = Address::repeat_byte(0x11);
        contract.constructor(U256::from(42), owner);
        assert_eq!(contract.number(), U256::from(42));
        assert_eq!(contract.owner(), owner);
        assert_eq!(contract.endowment(), U256::from(7));
    }
}
