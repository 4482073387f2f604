//! `devnode-probe`: one stylus-sdk 0.10 contract whose methods exercise every host function a Stylus devnode
//! must emulate, so the devnode's tests can deploy it (several instances) and compose scenarios: storage and
//! its cache, logs, the three call kinds with and without value, CREATE and CREATE2, reverts with exact data,
//! running out of ink, large return data, reentrancy, ETH transfers, and an ERC-20 → Uniswap v2 swap through
//! typed calls.
//!
//! Every method says which host functions (`vm_hooks` imports) it reaches. Besides those, every call goes
//! through the entrypoint: `msg_reentrant`, `pay_for_memory_grow(0)`, `read_args`, the method, then
//! `storage_flush_cache(false)` and `write_result` — in that order, **also when the method reverts** (the
//! host, not the program, must discard the flushed writes of a reverted call). In a reentrant call the probe's
//! entrypoint also reads the guard slot (`storage_load_bytes32`) right after `msg_reentrant`.
//!
//! # The entrypoint
//!
//! stylus-sdk 0.10's `#[entrypoint]` reverts every reentrant call (status 1, no return data) unless the
//! deprecated `reentrant` feature is on — and features unify across a build, so enabling it here would also
//! change the calibration counter when both are built together. The probe therefore writes its own
//! `user_entrypoint`: the SDK's, with that guard made switchable ([`DevnodeProbe::set_reentry_guard`]). With
//! the guard off (the default) the probe can be reentered; with it on, a reentrant call fails exactly as in a
//! default SDK 0.10 contract.
//!
//! # Storage
//!
//! The storage struct has no fields. `setSlot`/`getSlot` address raw slots (slot `key`, unhashed), and the
//! probe's own two words live at hashed slots ([`REENTRY_DEPTH_SLOT`], [`REENTRY_GUARD_SLOT`]) that small
//! test keys never reach.
//!
//! # Host functions not reached
//!
//! None of the SDK's: every `vm_hooks` import of stylus-sdk 0.10.10 except the `console` debug ones is used by
//! some method. (The SDK never imports nitro's `math_*` host functions.)

// Outside tests and ABI export the crate is a bare `cdylib` for wasm32: no `std` prelude, no `main`.
#![cfg_attr(not(any(test, feature = "export-abi")), no_main)]
#![cfg_attr(not(any(test, feature = "export-abi")), no_std)]

extern crate alloc;

// The SDK's macros expand to `Vec` and `vec!` unqualified, as if the std prelude were in scope.
use alloc::{vec, vec::Vec};

use stylus_sdk::{
    abi::Bytes,
    alloy_primitives::{Address, B256, U256},
    alloy_sol_types::{abi::token::WordToken, sol, SolEvent},
    call::RawCall,
    deploy::RawDeploy,
    keccak_const::Keccak256,
    prelude::*,
    storage::StorageU256,
    ArbResult,
};

use crate::interfaces::{IReenter, IUniswapV2Pair, IERC20};

sol! {
    #![sol(all_derives, alloy_sol_types = stylus_sdk::alloy_sol_types)]

    /// Emitted by `ping`: the caller and the value it passed.
    event Ping(address indexed from, uint256 value);

    /// `setThenRevert` wrote `value` to slot `key`, then reverted.
    error ProbeSetThenRevert(uint256 key, uint256 value);
    /// `callBack`'s call to `target` failed with revert data `data`.
    error ProbeCallFailed(address target, bytes data);
    /// `sendValue` could not send `amount` wei to `to`, which reverted with `data`.
    error ProbeSendValueFailed(address to, uint256 amount, bytes data);
    /// `deploy1` or `deploy2` failed; `data` is the init code's revert data (empty if it ran out of gas, the
    /// address was taken, or the balance did not cover the endowment).
    error ProbeDeployFailed(bytes data);
    /// `pullAndSwap`: `token.transferFrom(from, to, amount)` reverted with `data`, returned `false` (`data`
    /// empty), or returned something that is not a `bool` (`data` empty).
    error ProbeTransferFromFailed(address token, address from, address to, uint256 amount, bytes data);
    /// `pullAndSwap`: `pair.swap(amount0Out, amount1Out, to, "")` reverted with `data`.
    error ProbeSwapFailed(address pair, uint256 amount0Out, uint256 amount1Out, address to, bytes data);
    /// `reenter`: a nested frame returned `expected` (and recorded it), but this frame then read `stored` from
    /// the depth slot — the callee's write was not visible to its caller.
    error ProbeReentryMismatch(uint256 stored, uint256 expected);
}

/// Typed bindings for the contracts the probe calls with `sol_interface!`.
mod interfaces {
    // The macro's expansion has undocumented items and keeps the Solidity parameter names.
    #![allow(missing_docs, unreachable_pub, non_snake_case)]

    use alloc::vec;

    use stylus_sdk::prelude::*;

    sol_interface! {
        /// The one ERC-20 function `pullAndSwap` needs.
        interface IERC20 {
            function transferFrom(address from, address to, uint256 value) external returns (bool);
        }

        /// The one Uniswap v2 pair function `pullAndSwap` needs.
        interface IUniswapV2Pair {
            function swap(uint256 amount0Out, uint256 amount1Out, address to, bytes calldata data) external;
        }

        /// The probe itself, for `reenter`'s self-calls.
        interface IReenter {
            function reenter(uint256 depth) external returns (uint256);
        }
    }
}

/// Every way a probe method fails with a typed error. (`revertWith` and `callTargetOrRevert` revert with raw
/// bytes instead: reproducing arbitrary revert data is their purpose.)
#[derive(SolidityError, Debug, PartialEq, Eq)]
pub enum ProbeError {
    /// See [`ProbeSetThenRevert`].
    SetThenRevert(ProbeSetThenRevert),
    /// See [`ProbeCallFailed`].
    CallFailed(ProbeCallFailed),
    /// See [`ProbeSendValueFailed`].
    SendValueFailed(ProbeSendValueFailed),
    /// See [`ProbeDeployFailed`].
    DeployFailed(ProbeDeployFailed),
    /// See [`ProbeTransferFromFailed`].
    TransferFromFailed(ProbeTransferFromFailed),
    /// See [`ProbeSwapFailed`].
    SwapFailed(ProbeSwapFailed),
    /// See [`ProbeReentryMismatch`].
    ReentryMismatch(ProbeReentryMismatch),
}

/// Slot of the depth the last `reenter` reached: `keccak256("devnode-probe.reentry-depth")`
/// = `0x591afcb927696bae541dfa7a856cfa64ca9df1c60ce61a9df1eaf8b6162e8eae`.
pub const REENTRY_DEPTH_SLOT: U256 =
    U256::from_be_bytes(Keccak256::new().update(b"devnode-probe.reentry-depth").finalize());

/// Slot of the reentry guard flag (non-zero: reentrant calls revert before reaching a method):
/// `keccak256("devnode-probe.reentry-guard")`
/// = `0xebb4d830a8608225228c1dac77ec698b4175ee5063d3d66745ac0493430af5f9`.
pub const REENTRY_GUARD_SLOT: U256 =
    U256::from_be_bytes(Keccak256::new().update(b"devnode-probe.reentry-guard").finalize());

/// `whoAmI`'s result: `(self, sender, origin, value, chainId, blockNumber, timestamp, gasLeft)`.
pub type WhoAmI = (Address, Address, Address, U256, U256, U256, U256, U256);

/// `envInfo`'s result: `(basefee, coinbase, blockGasLimit, gasPrice, inkPrice, inkLeft)`.
pub type EnvInfo = (U256, Address, U256, U256, U256, U256);

/// The probe's storage: no fields (see the crate documentation for the slots it uses).
#[storage]
pub struct DevnodeProbe {}

// SAFETY: `DevnodeProbe` is the program's only top-level storage; this is what `#[entrypoint]` would declare.
unsafe impl TopLevelStorage for DevnodeProbe {}

/// The program's entrypoint: stylus-sdk 0.10.10's `#[entrypoint]` expansion, with its reentrancy guard taken
/// only when [`REENTRY_GUARD_SLOT`] is set (see the crate documentation).
#[cfg(target_arch = "wasm32")]
#[no_mangle]
pub extern "C" fn user_entrypoint(len: usize) -> usize {
    let host = stylus_sdk::host::VM {
        host: stylus_sdk::host::WasmVM {},
    };
    if host.msg_reentrant() && !host.storage_load_bytes32(REENTRY_GUARD_SLOT).is_zero() {
        return 1; // revert, no return data: what the SDK's guard does
    }
    // References `pay_for_memory_grow`, which activation requires to be imported (as the SDK does).
    host.pay_for_memory_grow(0);

    let input = host.read_args(len);
    let (data, status) =
        match stylus_sdk::abi::router_entrypoint::<DevnodeProbe, DevnodeProbe>(input, host.clone()) {
            Ok(data) => (data, 0),
            Err(data) => (data, 1),
        };
    host.flush_cache(false);
    host.write_result(&data);
    status
}

// `ProbeError` is large (its variants hold addresses, amounts and revert data), but it is returned once, at the
// end of a call, and boxing it would only add code.
#[allow(clippy::result_large_err)]
#[public]
impl DevnodeProbe {
    // ---- storage ----

    /// Writes `value` to the raw storage slot `key` (no hashing).
    ///
    /// Host: `storage_cache_bytes32` (persisted by the entrypoint's `storage_flush_cache`).
    pub fn set_slot(&mut self, key: U256, value: U256) {
        self.slot(key).set(value);
    }

    /// Reads the raw storage slot `key`.
    ///
    /// Host: `storage_load_bytes32`.
    pub fn get_slot(&self, key: U256) -> U256 {
        self.slot(key).get()
    }

    /// Writes `value` to slot `key`, then reverts. The SDK still flushes the write to the host before
    /// returning the revert status: the host must discard it.
    ///
    /// Host: `storage_cache_bytes32`, then the entrypoint's `storage_flush_cache`.
    ///
    /// # Errors
    ///
    /// Always [`ProbeSetThenRevert`]`(key, value)`.
    pub fn set_then_revert(&mut self, key: U256, value: U256) -> Result<(), ProbeError> {
        self.slot(key).set(value);
        Err(ProbeError::SetThenRevert(ProbeSetThenRevert { key, value }))
    }

    // ---- events ----

    /// Emits a raw log with `topics` (passed to the host unchecked: more than 4 makes nitro fail the call)
    /// and `data`.
    ///
    /// Host: `emit_log(topics ‖ data, topics.len())`.
    ///
    /// # Events
    ///
    /// `LOG0`–`LOG4` with exactly these topics and data.
    pub fn emit_log(&mut self, topics: Vec<B256>, data: Bytes) {
        let mut buffer = Vec::with_capacity(32 * topics.len() + data.len());
        for topic in &topics {
            buffer.extend_from_slice(topic.as_slice());
        }
        buffer.extend_from_slice(&data);
        self.vm().emit_log(&buffer, topics.len());
    }

    /// Emits the typed event [`Ping`]`(msg.sender, value)`.
    ///
    /// Host: `msg_sender`, `emit_log(…, 2)`.
    ///
    /// # Events
    ///
    /// [`Ping`].
    pub fn ping(&mut self, value: U256) {
        let event = Ping {
            from: self.vm().msg_sender(),
            value,
        };
        // What the SDK's `self.vm().log(event)` does, without its `unwrap`: the panic path would pull the `Debug`
        // formatting of alloy's error type into the program (measured: 5.4 KiB of the compressed size).
        let mut topics = [WordToken::default(); 2];
        // Cannot fail: `topics` holds exactly the event's two topics.
        let _ = event.encode_topics_raw(&mut topics);
        let mut log = Vec::with_capacity(4 * 32);
        for topic in &topics {
            log.extend_from_slice(topic.as_slice());
        }
        event.encode_data_to(&mut log);
        self.vm().emit_log(&log, topics.len());
    }

    // ---- calls ----

    /// Calls `to` with `data`, sending `value` wei of the probe's balance (payable: `msg.value` can fund it).
    /// Returns `(true, returnData)` or `(false, revertData)`; never reverts itself.
    ///
    /// Host: `storage_flush_cache(true)`, `call_contract` (all gas, 63/64 rule), `return_data_size`,
    /// `read_return_data`.
    #[payable]
    pub fn call_target(&mut self, to: Address, value: U256, data: Bytes) -> (bool, Bytes) {
        // SAFETY: the storage cache is flushed and cleared first, and no storage accessor outlives the call.
        split(unsafe {
            RawCall::new_with_value(self.vm(), value)
                .clear_storage_cache()
                .call(to, &data)
        })
    }

    /// Static-calls `to` with `data`. Returns `(true, returnData)` or `(false, revertData)`.
    ///
    /// Host: `storage_flush_cache(false)`, `static_call_contract`, `return_data_size`, `read_return_data`.
    pub fn static_call_target(&self, to: Address, data: Bytes) -> (bool, Bytes) {
        // SAFETY: the storage cache is flushed first, and a static call cannot write storage.
        split(unsafe {
            RawCall::new_static(self.vm())
                .flush_storage_cache()
                .call(to, &data)
        })
    }

    /// Delegate-calls `to` with `data`: `to`'s code runs on the probe's storage, balance and `msg.value`
    /// (payable, so a test can check the value is seen). Returns `(true, returnData)` or `(false, revertData)`.
    ///
    /// Host: `storage_flush_cache(true)`, `delegate_call_contract`, `return_data_size`, `read_return_data`.
    #[payable]
    pub fn delegate_call_target(&mut self, to: Address, data: Bytes) -> (bool, Bytes) {
        // SAFETY: the storage cache is flushed and cleared first; trusting `to` is the caller's business.
        split(unsafe {
            RawCall::new_delegate(self.vm())
                .clear_storage_cache()
                .call(to, &data)
        })
    }

    /// Like `callTarget`, but a failed call reverts the probe with the callee's revert data, byte for byte.
    /// Returns the callee's return data.
    ///
    /// Host: as `callTarget`.
    ///
    /// # Errors
    ///
    /// The callee's revert data, unchanged.
    #[payable]
    pub fn call_target_or_revert(&mut self, to: Address, value: U256, data: Bytes) -> Result<Bytes, Vec<u8>> {
        // SAFETY: as in `call_target`.
        unsafe {
            RawCall::new_with_value(self.vm(), value)
                .clear_storage_cache()
                .call(to, &data)
        }
        .map(Bytes::from)
    }

    // ---- create ----

    /// CREATE: deploys `initCode` (EVM init code; it may return a `0xEFF00000…` Stylus program) with an
    /// endowment of `value` wei from the probe's balance (payable: `msg.value` can fund it). Returns the new
    /// address.
    ///
    /// Host: `storage_flush_cache(true)`, `create1`, and on failure `return_data_size`, `read_return_data`.
    ///
    /// # Errors
    ///
    /// [`ProbeDeployFailed`] with the init code's revert data.
    #[payable]
    pub fn deploy1(&mut self, init_code: Bytes, value: U256) -> Result<Address, ProbeError> {
        self.deploy_internal(&init_code, value, None)
    }

    /// CREATE2: as `deploy1`, at the address given by `salt`.
    ///
    /// Host: `storage_flush_cache(true)`, `create2`, and on failure `return_data_size`, `read_return_data`.
    ///
    /// # Errors
    ///
    /// [`ProbeDeployFailed`] with the init code's revert data.
    #[payable]
    pub fn deploy2(&mut self, init_code: Bytes, value: U256, salt: B256) -> Result<Address, ProbeError> {
        self.deploy_internal(&init_code, value, Some(salt))
    }

    // ---- failure modes ----

    /// Reverts with exactly `data` as revert data (empty `data`: an empty revert).
    ///
    /// Host: none beyond the entrypoint.
    ///
    /// # Errors
    ///
    /// Always: `data`.
    pub fn revert_with(data: Bytes) -> Result<(), Vec<u8>> {
        Err(data.to_vec())
    }

    /// Loops forever: the call runs out of ink and fails, consuming all its gas.
    ///
    /// Host: none beyond the entrypoint (the loop is pure WASM).
    pub fn spin() {
        let mut rounds: u64 = 0;
        loop {
            // `black_box` keeps the optimiser from reasoning about the loop.
            rounds = core::hint::black_box(rounds.wrapping_add(1));
        }
    }

    /// Returns `n` bytes whose byte `i` is `i mod 256` (ABI-encoded as `bytes`, so the return data is
    /// `64 + n` rounded up to 32 bytes). An `n` beyond the memory limit fails the call.
    ///
    /// Host: none beyond the entrypoint; the memory growth is charged through `pay_for_memory_grow`, which
    /// activation inserts.
    pub fn big_return(n: U256) -> Bytes {
        let len = n.saturating_to::<usize>();
        // Truncation intended: the pattern repeats every 256 bytes.
        (0..len).map(|i| i as u8).collect::<Vec<u8>>().into()
    }

    /// Hashes 32 zero bytes with keccak-256, then the hash, `rounds` times in all, and returns the result
    /// (`bytes32(0)` for zero rounds). A bounded way to spend ink.
    ///
    /// Host: `native_keccak256`, `rounds` times.
    pub fn burn_ink(&self, rounds: U256) -> B256 {
        let mut hash = B256::ZERO;
        for _ in 0..rounds.saturating_to::<u64>() {
            hash = self.vm().native_keccak256(hash.as_slice());
        }
        hash
    }

    // ---- context ----

    /// Returns `(address(this), msg.sender, tx.origin, msg.value, block.chainid, block.number,
    /// block.timestamp, gasleft())`. Payable, so `msg.value` can be non-zero.
    ///
    /// Host: `contract_address`, `msg_sender`, `tx_origin`, `msg_value`, `chainid`, `block_number`,
    /// `block_timestamp`, `evm_gas_left`.
    #[payable]
    pub fn who_am_i(&self) -> WhoAmI {
        let vm = self.vm();
        (
            vm.contract_address(),
            vm.msg_sender(),
            vm.tx_origin(),
            vm.msg_value(),
            U256::from(vm.chain_id()),
            U256::from(vm.block_number()),
            U256::from(vm.block_timestamp()),
            U256::from(vm.evm_gas_left()),
        )
    }

    /// Returns `(block.basefee, block.coinbase, block.gaslimit, tx.gasprice, inkPrice, inkLeft)`: the host
    /// values `whoAmI` leaves out.
    ///
    /// Host: `block_basefee`, `block_coinbase`, `block_gas_limit`, `tx_gas_price`, `tx_ink_price`,
    /// `evm_ink_left`.
    pub fn env_info(&self) -> EnvInfo {
        let vm = self.vm();
        (
            vm.block_basefee(),
            vm.block_coinbase(),
            U256::from(vm.block_gas_limit()),
            vm.tx_gas_price(),
            U256::from(vm.tx_ink_price()),
            U256::from(vm.evm_ink_left()),
        )
    }

    /// Whether this call is reentrant (the probe already has a frame lower in the call stack).
    ///
    /// Host: `msg_reentrant`.
    pub fn is_reentrant(&self) -> bool {
        self.vm().msg_reentrant()
    }

    /// The ETH balance of `account`, in wei.
    ///
    /// Host: `account_balance`.
    pub fn balance_of(&self, account: Address) -> U256 {
        self.vm().balance(account)
    }

    /// The size of `account`'s code, in bytes (for a Stylus program: its compressed, prefixed deploy code).
    ///
    /// Host: `account_code_size`.
    pub fn code_size(&self, account: Address) -> U256 {
        U256::from(self.vm().code_size(account))
    }

    /// The hash of `account`'s code (`keccak256("")` for an account without code, zero for one that does not
    /// exist).
    ///
    /// Host: `account_codehash`.
    pub fn code_hash(&self, account: Address) -> B256 {
        self.vm().code_hash(account)
    }

    /// `account`'s code.
    ///
    /// Host: `account_code_size`, `account_code`.
    pub fn code_of(&self, account: Address) -> Bytes {
        self.vm().code(account).into()
    }

    // ---- reentrancy ----

    /// Calls `reenter(depth - 1)` on the probe itself (`address(this)`), recursively, and records in
    /// [`REENTRY_DEPTH_SLOT`] (readable with `reentryDepth`) how many nested calls succeeded below this frame:
    /// `depth` if all did, fewer if one failed (the reentry guard, the call depth limit, gas). Each frame
    /// records its own count, so after a nested frame returns, the caller checks it reads back what the callee
    /// wrote. Returns the count. A failed nested call does not revert this frame.
    ///
    /// Host: `contract_address`, `storage_flush_cache(true)`, `call_contract`, `read_return_data`,
    /// `storage_load_bytes32`, `storage_cache_bytes32`.
    ///
    /// # Errors
    ///
    /// [`ProbeReentryMismatch`] if the depth slot, read after a nested call returned, does not hold what that
    /// call recorded.
    pub fn reenter(&mut self, depth: U256) -> Result<U256, ProbeError> {
        let reached = match depth.checked_sub(U256::from(1)) {
            None => U256::ZERO,
            Some(inner_depth) => {
                let this = IReenter::new(self.vm().contract_address());
                let context = Call::new_mutating(self);
                match this.reenter(self.vm(), context, inner_depth) {
                    Ok(inner_reached) => {
                        let stored = self.slot(REENTRY_DEPTH_SLOT).get();
                        if stored != inner_reached {
                            return Err(ProbeError::ReentryMismatch(ProbeReentryMismatch {
                                stored,
                                expected: inner_reached,
                            }));
                        }
                        // Cannot overflow: inner_reached <= inner_depth < depth.
                        inner_reached + U256::from(1)
                    }
                    Err(_) => U256::ZERO,
                }
            }
        };
        self.slot(REENTRY_DEPTH_SLOT).set(reached);
        Ok(reached)
    }

    /// The count the last `reenter` recorded.
    ///
    /// Host: `storage_load_bytes32`.
    pub fn reentry_depth(&self) -> U256 {
        self.slot(REENTRY_DEPTH_SLOT).get()
    }

    /// Turns the reentry guard on or off (off at deployment). On, every reentrant call to the probe reverts
    /// with empty data before reaching a method, as in a default stylus-sdk 0.10 contract.
    ///
    /// Host: `storage_cache_bytes32`; the guard itself reads `storage_load_bytes32` in reentrant calls.
    pub fn set_reentry_guard(&mut self, enabled: bool) {
        self.slot(REENTRY_GUARD_SLOT).set(U256::from(enabled));
    }

    /// Calls `target` with `data`, forwarding `msg.value`; returns its return data. For call-backs: `target`
    /// can call into this probe (or another) again.
    ///
    /// Host: `msg_value`, `storage_flush_cache(true)`, `call_contract`, `return_data_size`, `read_return_data`.
    ///
    /// # Errors
    ///
    /// [`ProbeCallFailed`]`(target, revertData)` if the call fails.
    #[payable]
    pub fn call_back(&mut self, target: Address, data: Bytes) -> Result<Bytes, ProbeError> {
        let value = self.vm().msg_value();
        // SAFETY: as in `call_target`.
        unsafe {
            RawCall::new_with_value(self.vm(), value)
                .clear_storage_cache()
                .call(target, &data)
        }
        .map(Bytes::from)
        .map_err(|data| {
            ProbeError::CallFailed(ProbeCallFailed {
                target,
                data: data.into(),
            })
        })
    }

    // ---- ERC-20 / Uniswap v2 ----

    /// `IERC20(token).transferFrom(msg.sender, pair, amountIn)`, then
    /// `IUniswapV2Pair(pair).swap(amount0Out, amount1Out, msg.sender, "")`: a swap paid from the caller's
    /// allowance to the probe, through typed calls.
    ///
    /// Host: `msg_sender`, then twice `storage_flush_cache(true)`, `call_contract`, `return_data_size`,
    /// `read_return_data`.
    ///
    /// # Errors
    ///
    /// [`ProbeTransferFromFailed`] if the transfer reverts or does not return `true`; [`ProbeSwapFailed`] if
    /// the swap reverts.
    pub fn pull_and_swap(
        &mut self,
        token: Address,
        pair: Address,
        amount_in: U256,
        amount0_out: U256,
        amount1_out: U256,
    ) -> Result<(), ProbeError> {
        let sender = self.vm().msg_sender();

        let context = Call::new_mutating(self);
        let transferred = IERC20::new(token).transfer_from(self.vm(), context, sender, pair, amount_in);
        if !matches!(transferred, Ok(true)) {
            return Err(ProbeError::TransferFromFailed(ProbeTransferFromFailed {
                token,
                from: sender,
                to: pair,
                amount: amount_in,
                data: revert_data(transferred.err()),
            }));
        }

        let context = Call::new_mutating(self);
        IUniswapV2Pair::new(pair)
            .swap(self.vm(), context, amount0_out, amount1_out, sender, Bytes::new())
            .map_err(|err| {
                ProbeError::SwapFailed(ProbeSwapFailed {
                    pair,
                    amount0Out: amount0_out,
                    amount1Out: amount1_out,
                    to: sender,
                    data: revert_data(Some(err)),
                })
            })
    }

    // ---- value ----

    /// Accepts plain ETH transfers (empty calldata).
    ///
    /// Host: none beyond the entrypoint.
    #[receive]
    pub fn receive(&mut self) -> Result<(), Vec<u8>> {
        Ok(())
    }

    /// Sends `amount` wei of the probe's balance to `to` (a call with empty calldata and all gas).
    ///
    /// Host: `storage_flush_cache(true)`, `call_contract`, `return_data_size`, `read_return_data`.
    ///
    /// # Errors
    ///
    /// [`ProbeSendValueFailed`] with the recipient's revert data if the transfer fails.
    pub fn send_value(&mut self, to: Address, amount: U256) -> Result<(), ProbeError> {
        // SAFETY: as in `call_target`.
        unsafe {
            RawCall::new_with_value(self.vm(), amount)
                .clear_storage_cache()
                .call(to, &[])
        }
        .map(drop)
        .map_err(|data| {
            ProbeError::SendValueFailed(ProbeSendValueFailed {
                to,
                amount,
                data: data.into(),
            })
        })
    }
}

#[allow(clippy::result_large_err)] // See the `#[public]` impl.
impl DevnodeProbe {
    /// An accessor for the raw storage slot `key`.
    fn slot(&self, key: U256) -> StorageU256 {
        // SAFETY: a raw accessor may alias any other; the probe has no typed fields for it to alias, and its
        // callers let each accessor go before the next call out.
        unsafe { StorageU256::new(key, 0, self.vm().clone()) }
    }

    /// `deploy1`/`deploy2`: CREATE, or CREATE2 with `salt`.
    fn deploy_internal(
        &mut self,
        init_code: &[u8],
        value: U256,
        salt: Option<B256>,
    ) -> Result<Address, ProbeError> {
        // `RawDeploy` only flushes the storage cache with the SDK's `reentrant` feature; the init code can call
        // back into the probe, so flush and clear here, as the SDK's calls do.
        self.vm().flush_cache(true);
        // SAFETY: the cache is flushed and cleared, and no storage accessor lives across the deployment.
        unsafe {
            RawDeploy::new()
                .salt_option(salt)
                .deploy(self.vm(), init_code, value)
        }
        .map_err(|data| ProbeError::DeployFailed(ProbeDeployFailed { data: data.into() }))
    }
}

/// A raw call's outcome as `(success, returnOrRevertData)`.
fn split(result: ArbResult) -> (bool, Bytes) {
    match result {
        Ok(data) => (true, data.into()),
        Err(data) => (false, data.into()),
    }
}

/// The revert data of a typed call's failure; empty when there is none (the call succeeded but its return
/// data did not decode, or returned `false`).
fn revert_data(err: Option<stylus_sdk::stylus_core::calls::errors::Error>) -> Bytes {
    match err {
        Some(stylus_sdk::stylus_core::calls::errors::Error::Revert(data)) => data.into(),
        _ => Bytes::new(),
    }
}

#[cfg(test)]
mod tests;
