//! Arbitrum precompiles the Stylus tooling needs: ArbSys (`0x64`) and ArbWasm (`0x71`).
//!
//! Activation records live in the storage of the ArbWasm account (slot = code hash), so they are journaled
//! like any state: an activation in a reverted call or in an `eth_call` leaves nothing behind.
//!
//! The methods `cargo stylus` 0.10 calls are all here: `codehashVersion` (is the code already active?),
//! `activateProgram` (simulated with `eth_call` for the data fee, then sent), and `activationGas` (read when
//! the simulated activation fails, to tell "activations paused" from other failures).

use std::rc::Rc;

use alloy_primitives::{address, keccak256, Address, Bytes, Log, B256, U256};
use alloy_sol_types::{sol, SolError, SolEvent, SolInterface};
use revm::{
    context_interface::{ContextTr, Host, JournalTr},
    interpreter::{CallInputs, Gas, InstructionResult, InterpreterResult},
};

use crate::stylus::{init_gas, is_stylus_code, DevContext, StylusRuntime, INK_PER_GAS};

/// ArbSys precompile address.
pub const ARB_SYS: Address = address!("0000000000000000000000000000000000000064");
/// ArbWasm precompile address.
pub const ARB_WASM: Address = address!("0000000000000000000000000000000000000071");

/// The Stylus version programs are activated at (ArbOS 42: Stylus v2).
pub const STYLUS_VERSION: u16 = 2;
/// The ArbOS version the devnode reports.
pub const ARBOS_VERSION: u64 = 42;

/// Gas per ArbOS storage read a precompile method does (nitro's `StorageReadCost`).
const STORAGE_READ_GAS: u64 = 800;
/// Gas an activation costs beyond [`NITRO_ACTIVATION_GAS`]: the program record's storage, the
/// `ProgramActivated` event and the precompile call, together 4,658 gas on nitro (its measured total for the
/// counter, 1,685,258, less the transaction's 21,432 intrinsic gas and the up-front charge). Nitro's cost does
/// not depend on the program's size (only the data fee does), and neither does the devnode's.
pub const ACTIVATION_RECORD_GAS: u64 = 4_658;
/// Nitro's constant up-front charge of every activation (1,659,168 gas, hard-coded in
/// `ArbWasm.ActivateProgram` before ArbOS 60, its default `ActivationGas` parameter since), which
/// `ArbWasm.activationGas()` reports.
pub const NITRO_ACTIVATION_GAS: u64 = 1_659_168;

sol! {
    /// ArbSys, the subset the devnode implements.
    interface ArbSys {
        function arbBlockNumber() external view returns (uint256);
        function arbChainID() external view returns (uint256);
        function arbOSVersion() external view returns (uint256);
    }

    /// ArbWasm (nitro `precompiles/ArbWasm.go`).
    interface ArbWasm {
        function activateProgram(address program) external payable returns (uint16 version, uint256 dataFee);
        function stylusVersion() external view returns (uint16 version);
        function codehashVersion(bytes32 codehash) external view returns (uint16 version);
        function codehashKeepalive(bytes32 codehash) external payable;
        function codehashAsmSize(bytes32 codehash) external view returns (uint32 size);
        function programVersion(address program) external view returns (uint16 version);
        function programInitGas(address program) external view returns (uint64 gas, uint64 gasWhenCached);
        function programMemoryFootprint(address program) external view returns (uint16 footprint);
        function programTimeLeft(address program) external view returns (uint64 timeLeft);
        function inkPrice() external view returns (uint32 price);
        function maxStackDepth() external view returns (uint32 depth);
        function freePages() external view returns (uint16 pages);
        function pageGas() external view returns (uint16 gas);
        function pageRamp() external view returns (uint64 ramp);
        function pageLimit() external view returns (uint16 limit);
        function minInitGas() external view returns (uint64 gas, uint64 cached);
        function initCostScalar() external view returns (uint64 percent);
        function expiryDays() external view returns (uint16 _days);
        function keepaliveDays() external view returns (uint16 _days);
        function blockCacheSize() external view returns (uint16 count);
        function activationGas() external view returns (uint64 gas);

        event ProgramActivated(
            bytes32 indexed codehash,
            bytes32 moduleHash,
            address program,
            uint256 dataFee,
            uint16 version
        );

        error ProgramNotWasm();
        error ProgramNotActivated();
        error ProgramNeedsUpgrade(uint16 version, uint16 stylusVersion);
        error ProgramExpired(uint64 ageInSeconds);
        error ProgramUpToDate();
        error ProgramKeepaliveTooSoon(uint64 ageInSeconds);
        error ProgramInsufficientValue(uint256 have, uint256 want);
    }
}

/// What is stored for an activated code hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Activation {
    /// Stylus version.
    pub version: u16,
    /// Memory footprint, pages.
    pub footprint: u16,
    /// Processed module size, bytes (stands in for nitro's native asm size).
    pub wasm_size: u32,
    /// Block timestamp of activation.
    pub activated_at: u64,
}

impl Activation {
    fn pack(self) -> U256 {
        U256::from(self.version)
            | (U256::from(self.footprint) << 16)
            | (U256::from(self.wasm_size) << 32)
            | (U256::from(self.activated_at) << 64)
    }

    fn unpack(word: U256) -> Option<Self> {
        if word.is_zero() {
            return None;
        }
        let limbs = word.as_limbs();
        Some(Self {
            version: (limbs[0] & 0xFFFF) as u16,
            footprint: ((limbs[0] >> 16) & 0xFFFF) as u16,
            wasm_size: (limbs[0] >> 32) as u32,
            activated_at: limbs[1],
        })
    }
}

fn load_arb_wasm(ctx: &mut DevContext) -> bool {
    ctx.journal_mut().load_account(ARB_WASM).is_ok()
}

/// The activation record of `codehash`, if it is activated.
pub fn activation(ctx: &mut DevContext, codehash: B256) -> Option<Activation> {
    if !load_arb_wasm(ctx) {
        return None;
    }
    let word = ctx.sload(ARB_WASM, codehash.into())?.data;
    Activation::unpack(word)
}

/// The Stylus version `codehash` is activated at, if any.
pub(crate) fn program_version(ctx: &mut DevContext, codehash: B256) -> Option<u16> {
    activation(ctx, codehash).map(|a| a.version)
}

fn output(kind: InstructionResult, bytes: Vec<u8>, gas_limit: u64, used: u64) -> InterpreterResult {
    let mut gas = Gas::new(gas_limit);
    if !gas.record_regular_cost(used) {
        gas.spend_all();
        return InterpreterResult::new(InstructionResult::PrecompileOOG, Bytes::new(), gas);
    }
    InterpreterResult::new(kind, bytes.into(), gas)
}

fn ok(bytes: Vec<u8>, inputs: &CallInputs, used: u64) -> InterpreterResult {
    output(InstructionResult::Return, bytes, inputs.gas_limit, used)
}

fn revert(bytes: Vec<u8>, inputs: &CallInputs, used: u64) -> InterpreterResult {
    output(InstructionResult::Revert, bytes, inputs.gas_limit, used)
}

/// Runs an ArbSys method.
pub(crate) fn arb_sys(ctx: &mut DevContext, inputs: &CallInputs) -> InterpreterResult {
    use alloy_sol_types::SolValue;
    let data = inputs.input.bytes(&*ctx);
    let Ok(call) = ArbSys::ArbSysCalls::abi_decode(&data) else {
        return revert(Vec::new(), inputs, 0);
    };
    let value = match call {
        ArbSys::ArbSysCalls::arbBlockNumber(_) => ctx.block_number(),
        ArbSys::ArbSysCalls::arbChainID(_) => ctx.chain_id(),
        // Nitro reports 55 + the ArbOS version (Arbitrum Classic used the numbers below 56).
        ArbSys::ArbSysCalls::arbOSVersion(_) => U256::from(55 + ARBOS_VERSION),
    };
    ok(value.abi_encode(), inputs, STORAGE_READ_GAS)
}

/// The code and code hash of `program`.
fn program_code(ctx: &mut DevContext, program: Address) -> Option<(B256, Bytes)> {
    let code = ctx.load_account_code(program)?.data;
    let hash = ctx.load_account_code_hash(program)?.data;
    Some((hash, code))
}

/// Runs an ArbWasm method.
pub(crate) fn arb_wasm(
    ctx: &mut DevContext,
    runtime: &Rc<StylusRuntime>,
    inputs: &CallInputs,
) -> InterpreterResult {
    use alloy_sol_types::SolValue;
    use ArbWasm::ArbWasmCalls as C;
    let data = inputs.input.bytes(&*ctx);
    let Ok(call) = C::abi_decode(&data) else {
        return revert(Vec::new(), inputs, 0);
    };
    let not_activated = |inputs: &CallInputs| {
        revert(
            ArbWasm::ProgramNotActivated {}.abi_encode(),
            inputs,
            STORAGE_READ_GAS,
        )
    };
    let read = STORAGE_READ_GAS;
    match call {
        C::activateProgram(call) => activate(ctx, runtime, inputs, call.program),
        C::stylusVersion(_) => ok(STYLUS_VERSION.abi_encode(), inputs, read),
        C::inkPrice(_) => ok((INK_PER_GAS as u32).abi_encode(), inputs, read),
        C::maxStackDepth(_) => ok(262_144u32.abi_encode(), inputs, read),
        C::freePages(_) => ok(2u16.abi_encode(), inputs, read),
        C::pageGas(_) => ok(1_000u16.abi_encode(), inputs, read),
        C::pageRamp(_) => ok(620_674_314u64.abi_encode(), inputs, read),
        C::pageLimit(_) => ok(128u16.abi_encode(), inputs, read),
        C::minInitGas(_) => ok((72u64 * 128, 11u64 * 32).abi_encode(), inputs, read),
        C::initCostScalar(_) => ok(100u64.abi_encode(), inputs, read),
        C::expiryDays(_) => ok(365u16.abi_encode(), inputs, read),
        C::keepaliveDays(_) => ok(31u16.abi_encode(), inputs, read),
        C::blockCacheSize(_) => ok(32u16.abi_encode(), inputs, read),
        // An ArbOS 60 method, answered although the devnode reports ArbOS 42 (nitro before 60 reverts): tools
        // such as `cargo stylus` read it to tell paused activations (a charge above 30,000,000) from failures.
        C::activationGas(_) => ok(NITRO_ACTIVATION_GAS.abi_encode(), inputs, read),
        C::codehashVersion(call) => match activation(ctx, call.codehash) {
            Some(a) => ok(a.version.abi_encode(), inputs, read),
            None => not_activated(inputs),
        },
        C::codehashAsmSize(call) => match activation(ctx, call.codehash) {
            Some(a) => ok(a.wasm_size.abi_encode(), inputs, read),
            None => not_activated(inputs),
        },
        C::codehashKeepalive(call) => match activation(ctx, call.codehash) {
            // Programs never expire on the devnode: a keepalive is always too soon.
            Some(_) => revert(
                ArbWasm::ProgramKeepaliveTooSoon { ageInSeconds: 0 }.abi_encode(),
                inputs,
                read,
            ),
            None => not_activated(inputs),
        },
        C::programVersion(call) => with_program(ctx, inputs, call.program, |a, _| a.version.abi_encode()),
        C::programMemoryFootprint(call) => {
            with_program(ctx, inputs, call.program, |a, _| a.footprint.abi_encode())
        }
        C::programTimeLeft(call) => with_program(ctx, inputs, call.program, |a, now| {
            let expiry = a.activated_at.saturating_add(365 * 24 * 3600);
            expiry.saturating_sub(now).abi_encode()
        }),
        C::programInitGas(call) => with_program(ctx, inputs, call.program, |a, _| {
            let info = crate::program::ProgramInfo {
                footprint: a.footprint,
                functions: 0,
                opcodes: 0,
                wasm_size: a.wasm_size as usize,
            };
            (init_gas(&info, false), init_gas(&info, true)).abi_encode()
        }),
    }
}

fn with_program(
    ctx: &mut DevContext,
    inputs: &CallInputs,
    program: Address,
    f: impl FnOnce(Activation, u64) -> Vec<u8>,
) -> InterpreterResult {
    let now = ctx.timestamp().saturating_to();
    let Some((hash, code)) = program_code(ctx, program) else {
        return revert(Vec::new(), inputs, STORAGE_READ_GAS);
    };
    if !is_stylus_code(&code) {
        return revert(ArbWasm::ProgramNotWasm {}.abi_encode(), inputs, STORAGE_READ_GAS);
    }
    match activation(ctx, hash) {
        Some(a) => ok(f(a, now), inputs, 2 * STORAGE_READ_GAS),
        None => revert(
            ArbWasm::ProgramNotActivated {}.abi_encode(),
            inputs,
            2 * STORAGE_READ_GAS,
        ),
    }
}

/// `activateProgram(program)`: validates the program with nitro's rules, compiles it, records it, emits
/// nitro's `ProgramActivated` event and, as nitro's `payActivationDataFee`, returns the value sent beyond the
/// data fee (always 0 here) to the caller.
fn activate(
    ctx: &mut DevContext,
    runtime: &Rc<StylusRuntime>,
    inputs: &CallInputs,
    program: Address,
) -> InterpreterResult {
    use alloy_sol_types::SolValue;
    if inputs.is_static {
        return revert(Vec::new(), inputs, STORAGE_READ_GAS);
    }
    let Some((hash, code)) = program_code(ctx, program) else {
        return revert(Vec::new(), inputs, STORAGE_READ_GAS);
    };
    if !is_stylus_code(&code) {
        return revert(ArbWasm::ProgramNotWasm {}.abi_encode(), inputs, STORAGE_READ_GAS);
    }
    if activation(ctx, hash).is_some_and(|a| a.version == STYLUS_VERSION) {
        return revert(ArbWasm::ProgramUpToDate {}.abi_encode(), inputs, STORAGE_READ_GAS);
    }
    let compiled = match runtime.compile(hash, &code) {
        Ok(compiled) => compiled,
        // Nitro fails activation of an invalid program with the validator's message.
        Err(message) => return revert(message.into_bytes(), inputs, STORAGE_READ_GAS),
    };
    let info = compiled.info;
    let gas = NITRO_ACTIVATION_GAS + ACTIVATION_RECORD_GAS;
    let record = Activation {
        version: STYLUS_VERSION,
        footprint: info.footprint,
        wasm_size: u32::try_from(info.wasm_size).unwrap_or(u32::MAX),
        activated_at: ctx.timestamp().saturating_to(),
    };
    if !load_arb_wasm(ctx) || ctx.sstore(ARB_WASM, hash.into(), record.pack()).is_none() {
        return revert(Vec::new(), inputs, STORAGE_READ_GAS);
    }
    // The data fee is 0, as on the node STYLUS_NOTES measured: all the value sent along (revm moved it to
    // ArbWasm before the precompile ran) goes back to the caller, as nitro's `payActivationDataFee` repays
    // `value - dataFee`. Nothing to repay for a DELEGATECALL/CALLCODE (no value moved).
    let data_fee = U256::ZERO;
    if let Some(value) = inputs.transfer_value().filter(|v| !v.is_zero()) {
        let repaid = ctx
            .journal_mut()
            .transfer(ARB_WASM, inputs.caller, value.saturating_sub(data_fee));
        if !matches!(repaid, Ok(None)) {
            return revert(Vec::new(), inputs, STORAGE_READ_GAS);
        }
    }
    // Nitro's event. `moduleHash` is nitro's hash of the compiled (WAVM) module, which the devnode does not
    // build: it stands in the keccak of the decompressed WebAssembly. The event's gas is in the calibrated
    // activation gas.
    let module_hash = crate::program::decompress_program(&code)
        .map(keccak256)
        .unwrap_or_default();
    let event = ArbWasm::ProgramActivated {
        codehash: hash,
        moduleHash: module_hash,
        program,
        dataFee: data_fee,
        version: STYLUS_VERSION,
    };
    ctx.journal_mut().log(Log {
        address: ARB_WASM,
        data: event.encode_log_data(),
    });
    // A freshly activated program counts as recent for the rest of the block (the recent-programs cache lives
    // one block, `StylusRuntime::begin_block`); with one transaction per block, a later call pays the
    // not-cached init gas, as every call on the nitro node STYLUS_NOTES measured did.
    runtime.touch_recent(hash);
    ok((STYLUS_VERSION, data_fee).abi_encode(), inputs, gas)
}
