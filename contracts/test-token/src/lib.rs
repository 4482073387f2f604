//! `test-token`: an ERC-20 for the vault's end-to-end tests on the devnode, with switchable hostile
//! behaviour.
//!
//! A plain ERC-20 (18 decimals, `Transfer`/`Approval` events as in the standard, an allowance of
//! `type(uint256).max` never decreases) whose `mint` is open to anyone, plus a mode set with
//! `setMode(mode, target, data)`:
//!
//! | mode | name | every `transfer` / `transferFrom` |
//! |---|---|---|
//! | [`MODE_NORMAL`] (0) | normal | moves `value` |
//! | [`MODE_FEE_ON_TRANSFER`] (1) | fee on transfer | takes `value` from the sender, delivers `value - value / 100`, burns `value / 100` |
//! | [`MODE_REENTRANT`] (2) | reentrant | first calls `target` with `data`, records the outcome (`lastReentry`), then moves `value` whatever it was |
//! | [`MODE_REENTRANT_STRICT`] (3) | reentrant, strict | as 2, but reverts with [`ReentryFailed`] if the nested call failed |
//!
//! The nested call of modes 2 and 3 is a plain `CALL` with no value and all the gas the 63/64 rule leaves,
//! made before any check or balance change: what it sees is the state before the transfer. `target` may call
//! back into the token (a nested `transfer` runs the hook again, so a `target` that always transfers recurses
//! until the call depth or the gas runs out).
//!
//! # The entrypoint
//!
//! stylus-sdk 0.10's `#[entrypoint]` reverts every reentrant call unless the SDK's deprecated `reentrant`
//! feature is on, which would unify into every contract of a build. A Solidity token can be reentered, and a
//! vault under test that fails to guard itself must get as far as calling the token again, so the token
//! writes its own `user_entrypoint`: the SDK's without that guard (as `devnode-probe` does).
//!
//! # Storage
//!
//! Typed fields (Solidity layout): balances (slot 0), allowances (1), total supply (2), mode and target (3,
//! packed), the last reentry's `attempted` and `ok` (4, packed). The two byte strings — the calldata
//! `setMode` stores ([`DATA_SLOT`]) and the last reentry's return or revert data ([`LAST_DATA_SLOT`]) — are
//! kept in a simpler layout than Solidity's `bytes`: the length at the slot, the data from the next slot on,
//! 32 bytes a slot (the SDK's `StorageBytes` would bring in ruint's general division, 8 KB of code).

// Outside tests and ABI export the crate is a bare `cdylib` for wasm32: no `std` prelude, no `main`.
#![cfg_attr(not(any(test, feature = "export-abi")), no_main)]
#![cfg_attr(not(any(test, feature = "export-abi")), no_std)]
// `#[public]` generates an undocumented `pub fn print_from_args` for ABI export; the lint level of generated
// items can only be set for the whole crate.
#![cfg_attr(feature = "export-abi", allow(missing_docs))]

extern crate alloc;

// The SDK's macros expand to `Vec` and `vec!` unqualified, as if the std prelude were in scope.
use alloc::{string::String, vec, vec::Vec};

use stylus_sdk::{
    abi::Bytes,
    alloy_primitives::{Address, B256, U256, U8},
    alloy_sol_types::{abi::token::WordToken, sol, SolEvent, TopicList},
    call::RawCall,
    keccak_const::Keccak256,
    prelude::*,
    storage::{StorageAddress, StorageBool, StorageMap, StorageU256, StorageU8},
};

/// Mode 0: a plain ERC-20.
pub const MODE_NORMAL: u8 = 0;
/// Mode 1: every transfer burns 1% (`value / 100`, rounded down) of the amount sent.
pub const MODE_FEE_ON_TRANSFER: u8 = 1;
/// Mode 2: every transfer first calls the target, records the outcome, and goes on even if it failed.
pub const MODE_REENTRANT: u8 = 2;
/// Mode 3: as [`MODE_REENTRANT`], but a failed nested call reverts the transfer with [`ReentryFailed`].
pub const MODE_REENTRANT_STRICT: u8 = 3;

/// Where `setMode` stores the calldata of the nested call (see the crate documentation for the layout):
/// `keccak256("test-token.data")`.
pub const DATA_SLOT: U256 = U256::from_be_bytes(Keccak256::new().update(b"test-token.data").finalize());

/// Where the last nested call's return or revert data is kept: `keccak256("test-token.last-data")`.
pub const LAST_DATA_SLOT: U256 =
    U256::from_be_bytes(Keccak256::new().update(b"test-token.last-data").finalize());

/// What `name()` returns.
pub const NAME: &str = "Test Token";
/// What `symbol()` returns.
pub const SYMBOL: &str = "TEST";
/// What `decimals()` returns.
pub const DECIMALS: u8 = 18;

sol! {
    #![sol(all_derives, alloy_sol_types = stylus_sdk::alloy_sol_types)]

    /// ERC-20: `value` tokens moved from `from` to `to` (`from` zero: minted; `to` zero: burnt).
    event Transfer(address indexed from, address indexed to, uint256 value);
    /// ERC-20: `owner` allowed `spender` to spend `value` of its tokens.
    event Approval(address indexed owner, address indexed spender, uint256 value);

    /// `account` holds `balance`, less than the `needed` a transfer takes from it.
    error InsufficientBalance(address account, uint256 balance, uint256 needed);
    /// `spender` may spend `allowance` of `owner`'s tokens, less than the `needed` of a `transferFrom`.
    error InsufficientAllowance(address owner, address spender, uint256 allowance, uint256 needed);
    /// A transfer or mint to the zero address (`receiver`).
    error InvalidReceiver(address receiver);
    /// Minting `amount` would take the total supply (`totalSupply`) past `type(uint256).max`.
    error SupplyOverflow(uint256 totalSupply, uint256 amount);
    /// `setMode` with a mode other than 0 to 3.
    error InvalidMode(uint8 mode);
    /// Mode 3: the nested call to the target failed with revert data `data`.
    error ReentryFailed(bytes data);
}

/// Every way a token method fails.
#[derive(SolidityError, Debug, PartialEq, Eq)]
pub enum TokenError {
    /// See [`InsufficientBalance`].
    InsufficientBalance(InsufficientBalance),
    /// See [`InsufficientAllowance`].
    InsufficientAllowance(InsufficientAllowance),
    /// See [`InvalidReceiver`].
    InvalidReceiver(InvalidReceiver),
    /// See [`SupplyOverflow`].
    SupplyOverflow(SupplyOverflow),
    /// See [`InvalidMode`].
    InvalidMode(InvalidMode),
    /// See [`ReentryFailed`].
    ReentryFailed(ReentryFailed),
}

/// The token's storage (see the crate documentation for the layout).
#[storage]
pub struct TestToken {
    /// Balance by account.
    balances: StorageMap<Address, StorageU256>,
    /// Allowance by owner, then spender.
    allowances: StorageMap<Address, StorageMap<Address, StorageU256>>,
    /// Sum of all balances.
    total_supply: StorageU256,
    /// The current mode (`MODE_*`).
    mode: StorageU8,
    /// Modes 2 and 3: the contract the transfers call.
    target: StorageAddress,
    /// Whether a transfer made the nested call since the last `setMode`.
    last_attempted: StorageBool,
    /// Whether the last nested call succeeded.
    last_ok: StorageBool,
}

// SAFETY: `TestToken` is the program's only top-level storage; this is what `#[entrypoint]` would declare.
unsafe impl TopLevelStorage for TestToken {}

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
    let (data, status) = match stylus_sdk::abi::router_entrypoint::<TestToken, TestToken>(input, host.clone())
    {
        Ok(data) => (data, 0),
        Err(data) => (data, 1),
    };
    host.flush_cache(false);
    host.write_result(&data);
    status
}

#[public]
impl TestToken {
    // ---- ERC-20 metadata ----

    /// The token's name, [`NAME`].
    pub fn name() -> String {
        NAME.into()
    }

    /// The token's symbol, [`SYMBOL`].
    pub fn symbol() -> String {
        SYMBOL.into()
    }

    /// The token's decimals, [`DECIMALS`] (18).
    pub fn decimals() -> u8 {
        DECIMALS
    }

    // ---- ERC-20 ----

    /// The sum of all balances.
    pub fn total_supply(&self) -> U256 {
        self.total_supply.get()
    }

    /// `owner`'s balance.
    pub fn balance_of(&self, owner: Address) -> U256 {
        self.balances.get(owner)
    }

    /// How much of `owner`'s tokens `spender` may still spend with `transferFrom`.
    pub fn allowance(&self, owner: Address, spender: Address) -> U256 {
        self.allowances.getter(owner).get(spender)
    }

    /// Moves `value` of the caller's tokens to `to` (in mode 1, `to` receives 99% and 1% is burnt; in modes 2
    /// and 3, the target is called first). Returns `true`.
    ///
    /// # Errors
    ///
    /// [`InvalidReceiver`] if `to` is zero, [`InsufficientBalance`] if the caller holds less than `value`,
    /// [`ReentryFailed`] in mode 3 if the nested call fails.
    ///
    /// # Events
    ///
    /// [`Transfer`]`(caller, to, received)`, and in mode 1 [`Transfer`]`(caller, 0, value / 100)`.
    pub fn transfer(&mut self, to: Address, value: U256) -> Result<bool, TokenError> {
        self.before_transfer()?;
        let from = self.vm().msg_sender();
        self.move_tokens(from, to, value)?;
        Ok(true)
    }

    /// Sets the caller's allowance for `spender` to `value`. Returns `true`.
    ///
    /// # Events
    ///
    /// [`Approval`]`(caller, spender, value)`.
    pub fn approve(&mut self, spender: Address, value: U256) -> bool {
        let owner = self.vm().msg_sender();
        self.allowances.setter(owner).insert(spender, value);
        self.emit(Approval {
            owner,
            spender,
            value,
        });
        true
    }

    /// Moves `value` of `from`'s tokens to `to`, spending the caller's allowance (an allowance of
    /// `type(uint256).max` is not decreased); otherwise as `transfer`. Returns `true`.
    ///
    /// # Errors
    ///
    /// [`InsufficientAllowance`] if the caller may spend less than `value` of `from`'s tokens; otherwise as
    /// `transfer`.
    ///
    /// # Events
    ///
    /// As `transfer` (no [`Approval`]).
    pub fn transfer_from(&mut self, from: Address, to: Address, value: U256) -> Result<bool, TokenError> {
        self.before_transfer()?;
        let spender = self.vm().msg_sender();
        let allowance = self.allowances.getter(from).get(spender);
        if allowance != U256::MAX {
            if allowance < value {
                return Err(TokenError::InsufficientAllowance(InsufficientAllowance {
                    owner: from,
                    spender,
                    allowance,
                    needed: value,
                }));
            }
            self.allowances.setter(from).insert(spender, allowance - value);
        }
        self.move_tokens(from, to, value)?;
        Ok(true)
    }

    // ---- test controls ----

    /// Creates `amount` tokens for `to`. Open to anyone, in every mode.
    ///
    /// # Errors
    ///
    /// [`InvalidReceiver`] if `to` is zero, [`SupplyOverflow`] if the total supply would exceed
    /// `type(uint256).max`.
    ///
    /// # Events
    ///
    /// [`Transfer`]`(0, to, amount)`.
    pub fn mint(&mut self, to: Address, amount: U256) -> Result<(), TokenError> {
        if to.is_zero() {
            return Err(TokenError::InvalidReceiver(InvalidReceiver { receiver: to }));
        }
        let supply = self.total_supply.get();
        let Some(new_supply) = supply.checked_add(amount) else {
            return Err(TokenError::SupplyOverflow(SupplyOverflow {
                totalSupply: supply,
                amount,
            }));
        };
        self.total_supply.set(new_supply);
        // Cannot overflow: a balance is at most the total supply.
        let balance = self.balances.get(to);
        self.balances.insert(to, balance + amount);
        self.emit(Transfer {
            from: Address::ZERO,
            to,
            value: amount,
        });
        Ok(())
    }

    /// Sets the mode (see the crate documentation) and, for modes 2 and 3, the `target` to call and the
    /// calldata `data` (stored whatever the mode). Clears what `lastReentry` reports. Open to anyone.
    ///
    /// # Errors
    ///
    /// [`InvalidMode`] if `mode` is above 3.
    pub fn set_mode(&mut self, mode: u8, target: Address, data: Bytes) -> Result<(), TokenError> {
        if mode > MODE_REENTRANT_STRICT {
            return Err(TokenError::InvalidMode(InvalidMode { mode }));
        }
        self.mode.set(U8::from(mode));
        self.target.set(target);
        self.store_bytes(DATA_SLOT, &data);
        self.last_attempted.set(false);
        self.last_ok.set(false);
        self.store_bytes(LAST_DATA_SLOT, &[]);
        Ok(())
    }

    /// The last nested call of modes 2 and 3 since the last `setMode`: `(attempted, ok, data)`, where `data`
    /// is its return data if `ok`, its revert data otherwise. `(false, false, "")` if there was none.
    pub fn last_reentry(&self) -> (bool, bool, Bytes) {
        (
            self.last_attempted.get(),
            self.last_ok.get(),
            self.load_bytes(LAST_DATA_SLOT).into(),
        )
    }
}

impl TestToken {
    /// The current mode (`MODE_*`).
    fn current_mode(&self) -> u8 {
        // `byte(0)` rather than `to()`, whose panic path would bring in `Debug` formatting.
        self.mode.get().byte(0)
    }

    /// Modes 2 and 3: calls the target with the stored calldata and records the outcome. Other modes: nothing.
    fn before_transfer(&mut self) -> Result<(), TokenError> {
        let mode = self.current_mode();
        if mode != MODE_REENTRANT && mode != MODE_REENTRANT_STRICT {
            return Ok(());
        }
        let target = self.target.get();
        let data = self.load_bytes(DATA_SLOT);
        // SAFETY: the storage cache is flushed and cleared first (so the callee sees every write made so far,
        // and this frame reads back whatever the callee wrote), and no storage accessor lives across the call.
        let result = unsafe { RawCall::new(self.vm()).clear_storage_cache().call(target, &data) };
        let (ok, out) = match result {
            Ok(out) => (true, out),
            Err(out) => (false, out),
        };
        self.last_attempted.set(true);
        self.last_ok.set(ok);
        self.store_bytes(LAST_DATA_SLOT, &out);
        if !ok && mode == MODE_REENTRANT_STRICT {
            return Err(TokenError::ReentryFailed(ReentryFailed { data: out.into() }));
        }
        Ok(())
    }

    /// Takes `value` from `from` and credits `to` (less the 1% burnt in mode 1), emitting the events.
    fn move_tokens(&mut self, from: Address, to: Address, value: U256) -> Result<(), TokenError> {
        if to.is_zero() {
            return Err(TokenError::InvalidReceiver(InvalidReceiver { receiver: to }));
        }
        let balance = self.balances.get(from);
        if balance < value {
            return Err(TokenError::InsufficientBalance(InsufficientBalance {
                account: from,
                balance,
                needed: value,
            }));
        }
        self.balances.insert(from, balance - value);

        let fee_on_transfer = self.current_mode() == MODE_FEE_ON_TRANSFER;
        let fee = if fee_on_transfer {
            one_percent(value)
        } else {
            U256::ZERO
        };
        let received = value - fee;
        // Read after the debit, so a transfer to oneself nets to `-fee`. Cannot overflow: a balance is at most
        // the total supply.
        let to_balance = self.balances.get(to);
        self.balances.insert(to, to_balance + received);
        self.emit(Transfer {
            from,
            to,
            value: received,
        });

        if fee_on_transfer {
            // Cannot underflow: `fee` came out of `from`'s balance, which is part of the supply.
            let supply = self.total_supply.get();
            self.total_supply.set(supply - fee);
            self.emit(Transfer {
                from,
                to: Address::ZERO,
                value: fee,
            });
        }
        Ok(())
    }

    /// Stores `data` at `slot`: its length there, the data from `slot + 1` on, the last word zero-padded.
    /// (Words past the end left by a longer earlier value stay; the length says where the data ends.)
    fn store_bytes(&mut self, slot: U256, data: &[u8]) {
        let vm = self.vm();
        // SAFETY: the cache writes go through the host's storage cache like every typed field's; these slots
        // are no typed field's.
        unsafe { vm.storage_cache_bytes32(slot, B256::from(U256::from(data.len()))) };
        let mut key = slot;
        for chunk in data.chunks(32) {
            key += U256::from(1);
            let mut word = B256::ZERO;
            word[..chunk.len()].copy_from_slice(chunk);
            // SAFETY: as above.
            unsafe { vm.storage_cache_bytes32(key, word) };
        }
    }

    /// The data `store_bytes` stored at `slot` (empty if none).
    fn load_bytes(&self, slot: U256) -> Vec<u8> {
        let vm = self.vm();
        let len: usize = U256::from_be_bytes(vm.storage_load_bytes32(slot).0).saturating_to();
        let mut data = Vec::with_capacity(len);
        let mut key = slot;
        while data.len() < len {
            key += U256::from(1);
            let take = (len - data.len()).min(32);
            data.extend_from_slice(&vm.storage_load_bytes32(key)[..take]);
        }
        data
    }

    /// Emits `event`. (What the SDK's `self.vm().log(event)` does, without its `unwrap`, whose panic path
    /// pulls the `Debug` formatting of alloy's error type into the program.)
    fn emit<E: SolEvent>(&self, event: E) {
        let mut topics = [WordToken::default(); 4];
        // Cannot fail: an event has at most 4 topics.
        let _ = event.encode_topics_raw(&mut topics);
        let count = E::TopicList::COUNT;
        let mut log = Vec::with_capacity(32 * count + 32);
        for topic in &topics[..count] {
            log.extend_from_slice(topic.as_slice());
        }
        event.encode_data_to(&mut log);
        self.vm().emit_log(&log, count);
    }
}

/// `value / 100`, rounded down: long division by 32-bit digits, in `u64` arithmetic (WASM has a native 64-bit
/// division; ruint's general `/` adds 8 KB of code).
fn one_percent(value: U256) -> U256 {
    let mut limbs = value.into_limbs();
    let mut remainder: u64 = 0;
    for limb in limbs.iter_mut().rev() {
        let mut quotient: u64 = 0;
        for shift in [32, 0] {
            // Below 100 · 2^32: fits in a u64.
            let dividend = (remainder << 32) | ((*limb >> shift) & 0xffff_ffff);
            quotient |= (dividend / 100) << shift;
            remainder = dividend % 100;
        }
        *limb = quotient;
    }
    U256::from_limbs(limbs)
}

#[cfg(test)]
mod tests;
