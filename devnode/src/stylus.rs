//! Running Stylus programs inside revm: the precompile provider that recognises Stylus code, the compiled
//! module cache, and one program invocation in wasmi.
//!
//! Every call frame revm opens goes through [`StylusPrecompiles::run`] before revm looks at the callee's
//! code. The provider answers for ArbSys (`0x64`), ArbWasm (`0x71`), the Ethereum precompiles, and for any
//! callee whose code ([`CallInputs::known_bytecode`]) starts with `0xEFF000`: it runs the program in wasmi
//! and hands revm an [`InterpreterResult`]. revm has already taken a journal checkpoint for the frame and
//! commits or reverts it on the result, so a reverting program leaves no trace whatever it did.
//!
//! While a program runs, the revm context is *moved* into the wasmi store (and a spare context left in its
//! place), so host functions own it and a nested call from a host function can run a nested revm frame loop
//! over it (`run_nested`); the context is moved back when the program returns, on every path.

use std::{
    collections::{HashMap, VecDeque},
    rc::Rc,
    sync::{Arc, Mutex, MutexGuard},
};

use alloy_primitives::{keccak256, Address, Bytes, B256};
use revm::{
    context::{BlockEnv, CfgEnv, Context, Evm, Journal, TxEnv},
    context_interface::{Cfg, ContextTr, JournalTr, LocalContextTr},
    database::{CacheDB, EmptyDB},
    handler::{
        instructions::EthInstructions, EthFrame, EthPrecompiles, EvmTr, FrameResult, ItemOrResult,
        PrecompileProvider,
    },
    interpreter::{
        instructions::control, interpreter::EthInterpreter, interpreter_action::FrameInit,
        interpreter_types::LoopControl, CallInputs, FrameInput, Gas, Instruction, InstructionContext,
        InstructionExecResult, InstructionResult, InterpreterAction, InterpreterResult, SharedMemory,
    },
    primitives::{hardfork::SpecId, AddressSet},
    MainContext,
};
use wasmi::{Engine, Linker, Module, Store};

use crate::{arb, deployer, hostio, hostio::HostState, program};

/// The devnode's database: everything in memory.
pub type DevDb = CacheDB<EmptyDB>;

/// The devnode's revm context.
pub type DevContext = Context<BlockEnv, TxEnv, CfgEnv, DevDb, Journal<DevDb>, ()>;

/// The instruction set: mainnet's, with `RETURN` allowing Stylus code from init code.
pub type DevInstructions<C> = EthInstructions<EthInterpreter, C>;

/// The devnode's EVM: revm with [`StylusPrecompiles`].
pub type DevEvm =
    Evm<DevContext, (), DevInstructions<DevContext>, StylusPrecompiles, EthFrame<EthInterpreter>>;

/// The EVM a host function runs a nested call with, over the context it borrows.
type NestedEvm<'a> = Evm<
    &'a mut DevContext,
    (),
    DevInstructions<&'a mut DevContext>,
    StylusPrecompiles,
    EthFrame<EthInterpreter>,
>;

/// Prefix of the code of a (single-chunk, dictionary-free) Stylus program, as the runtime recognises it.
pub const STYLUS_CODE_PREFIX: [u8; 3] = [0xEF, 0xF0, 0x00];

/// Nitro's ink price: ink per gas.
pub const INK_PER_GAS: u64 = 10_000;

/// Ink charged per unit of wasmi fuel. wasmi charges about one fuel per instruction (its default operator
/// costs); nitro prices WebAssembly operators individually (most between 50 and 1,000 ink). This single
/// factor is the devnode's approximation of nitro's per-operator table (see `docs/DEVNODE.md`).
pub const INK_PER_FUEL: u64 = 100;

/// Most Stylus programs running at once in one call stack (nested through host-function calls); a deeper
/// program call fails (reverts). Nitro has no such limit below the EVM's 1,024 frames; see `docs/DEVNODE.md`.
pub const MAX_NESTED_PROGRAMS: usize = 32;

/// Whether `code` is Stylus program code.
pub fn is_stylus_code(code: &[u8]) -> bool {
    code.starts_with(&STYLUS_CODE_PREFIX)
}

/// Creates an empty devnode context with the given spec.
pub fn new_context(spec: SpecId) -> DevContext {
    let mut ctx: DevContext = Context::mainnet()
        .with_db(CacheDB::new(EmptyDB::default()))
        .modify_cfg_chained(|cfg| cfg.spec = spec);
    // The EIP-3541 check is done by the RETURN override below, which exempts Stylus code.
    ctx.cfg.disable_eip3541 = true;
    ctx
}

/// `RETURN` with EIP-3541 as nitro applies it: a create frame may not return code starting with `0xEF`,
/// unless it is Stylus code (`0xEFF000…`).
fn stylus_aware_return<H: revm::context_interface::Host + ?Sized>(
    context: InstructionContext<'_, H, EthInterpreter>,
) -> InstructionExecResult {
    let InstructionContext { interpreter, host } = context;
    let is_create = interpreter.input.bytecode_address.is_none();
    let result = control::ret(InstructionContext {
        interpreter: &mut *interpreter,
        host,
    });
    if is_create {
        if let Some(InterpreterAction::Return(returned)) = interpreter.bytecode.action().as_mut() {
            let output = &returned.output;
            if output.first() == Some(&0xEF) && !is_stylus_code(output) {
                returned.result = InstructionResult::CreateContractStartingWithEF;
                return Err(InstructionResult::CreateContractStartingWithEF);
            }
        }
    }
    result
}

/// Mainnet instructions for `spec` with the Stylus-aware `RETURN`.
pub fn instructions<C: revm::context_interface::Host>(spec: SpecId) -> DevInstructions<C> {
    let mut instructions = EthInstructions::new_mainnet_with_spec(spec);
    let gas = instructions.gas_table()[0xF3];
    instructions.insert_instruction(0xF3, Instruction::new(stylus_aware_return::<C>), gas);
    instructions
}

/// A program compiled for wasmi, with what activation learnt about it.
#[derive(Debug)]
pub struct CompiledProgram {
    /// The wasmi module.
    pub module: Module,
    /// Structural facts (footprint, size).
    pub info: program::ProgramInfo,
}

/// One open call frame, for nitro's reentrancy rule.
#[derive(Debug, Clone, Copy)]
struct OpenFrame {
    depth: usize,
    address: Address,
    /// Whether the frame counts as a context of `address` (not a DELEGATECALL/CALLCODE).
    counts: bool,
}

/// Options of the Stylus runtime.
#[derive(Debug, Clone, Copy)]
pub struct StylusConfig {
    /// Run programs that were never activated (activating them on the fly, without charging for it).
    pub auto_activate: bool,
    /// Print the programs' `console` output to standard error (it is always kept for
    /// [`StylusRuntime::take_console`]).
    pub print_console: bool,
}

/// State shared by every EVM and nested frame of one devnode: the wasmi engine and linker, the compiled
/// modules (per code hash), the recently-run programs (for init gas) and the open frames (for reentrancy).
pub struct StylusRuntime {
    pub(crate) engine: Engine,
    pub(crate) linker: Linker<HostState>,
    modules: Mutex<HashMap<B256, Arc<CompiledProgram>>>,
    recent: Mutex<VecDeque<B256>>,
    frames: Mutex<Vec<OpenFrame>>,
    spare: Mutex<Option<DevContext>>,
    /// Stylus programs currently running (nested through host-function calls).
    running: Mutex<usize>,
    /// Memory pages open in the transaction's Stylus calls, and the most ever open: nitro's memory model.
    pages: Mutex<(u16, u16)>,
    pub(crate) config: Mutex<StylusConfig>,
    pub(crate) console: Mutex<Vec<String>>,
}

impl std::fmt::Debug for StylusRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StylusRuntime").finish_non_exhaustive()
    }
}

/// Nitro keeps the last 32 programs run in the current block "recent" (`BlockCacheSize`), and charges them the
/// cached init gas.
const RECENT_PROGRAMS: usize = 32;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these locks cannot leave the data inconsistent (each critical section
    // is a single insert/lookup), so a poisoned lock is used as is.
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl StylusRuntime {
    /// Creates the runtime: a fuel-metering wasmi engine with nitro's WebAssembly features, and the
    /// `vm_hooks`/`console` host functions.
    pub fn new(config: StylusConfig) -> Rc<Self> {
        let mut wasm_config = wasmi::Config::default();
        wasm_config
            .consume_fuel(true)
            .wasm_sign_extension(true)
            .wasm_saturating_float_to_int(true)
            .wasm_multi_value(true)
            .wasm_bulk_memory(true)
            .floats(true)
            .wasm_reference_types(false)
            .wasm_multi_memory(false)
            .wasm_tail_call(false)
            .wasm_extended_const(false)
            .allow_start_fn(false)
            .compilation_mode(wasmi::CompilationMode::Eager);
        let engine = Engine::new(&wasm_config);
        let mut linker = Linker::new(&engine);
        hostio::define(&mut linker);
        Rc::new(Self {
            engine,
            linker,
            modules: Mutex::default(),
            recent: Mutex::default(),
            frames: Mutex::default(),
            spare: Mutex::default(),
            running: Mutex::default(),
            pages: Mutex::default(),
            config: Mutex::new(config),
            console: Mutex::default(),
        })
    }

    /// The runtime's options.
    pub fn config(&self) -> StylusConfig {
        *lock(&self.config)
    }

    /// Changes the runtime's options.
    pub fn set_config(&self, config: StylusConfig) {
        *lock(&self.config) = config;
    }

    /// Lines the programs printed through the `console` imports since the last call, oldest first.
    pub fn take_console(&self) -> Vec<String> {
        std::mem::take(&mut lock(&self.console))
    }

    /// Forgets the recent programs: called at the start of each block (and of each `eth_call`, which runs in
    /// a block of its own). Nitro's recent-programs cache (`RecentWasms`, `BlockCacheSize` entries) lives for
    /// one block, so a block's first call of a program pays the not-cached init gas.
    pub fn begin_block(&self) {
        lock(&self.recent).clear();
    }

    /// Forgets the open frames and pages: called at the start of each transaction.
    pub fn begin_transaction(&self) {
        lock(&self.frames).clear();
        *lock(&self.pages) = (0, 0);
    }

    pub(crate) fn push_console(&self, line: String) {
        lock(&self.console).push(line);
    }

    /// `(open, ever)` pages of the transaction's Stylus calls.
    pub(crate) fn pages(&self) -> (u16, u16) {
        *lock(&self.pages)
    }

    pub(crate) fn add_pages(&self, pages: u16) {
        let mut guard = lock(&self.pages);
        guard.0 = guard.0.saturating_add(pages);
        guard.1 = guard.1.max(guard.0);
    }

    pub(crate) fn release_pages(&self, pages: u64) {
        let mut guard = lock(&self.pages);
        guard.0 = guard.0.saturating_sub(u16::try_from(pages).unwrap_or(u16::MAX));
    }

    /// Number of compiled modules in the cache.
    pub fn cached_modules(&self) -> usize {
        lock(&self.modules).len()
    }

    /// Empties the compiled-module cache (for benchmarks).
    pub fn clear_module_cache(&self) {
        lock(&self.modules).clear();
        lock(&self.recent).clear();
    }

    /// The compiled program for `code` (with hash `codehash`), compiling and caching it if needed.
    ///
    /// # Errors
    ///
    /// If the code does not decompress, fails [`program::validate_program`], or does not compile or link.
    pub fn compile(&self, codehash: B256, code: &[u8]) -> Result<Arc<CompiledProgram>, String> {
        if let Some(compiled) = lock(&self.modules).get(&codehash) {
            return Ok(compiled.clone());
        }
        let compiled = Arc::new(self.compile_uncached(code)?);
        lock(&self.modules).insert(codehash, compiled.clone());
        Ok(compiled)
    }

    /// Decompresses, validates and compiles `code` without touching the cache.
    ///
    /// # Errors
    ///
    /// As [`Self::compile`].
    pub fn compile_uncached(&self, code: &[u8]) -> Result<CompiledProgram, String> {
        let wasm = program::decompress_program(code).map_err(|e| e.to_string())?;
        let info = program::validate_program(&wasm).map_err(|e| e.to_string())?;
        let module = Module::new(&self.engine, &wasm).map_err(|e| e.to_string())?;
        for import in module.imports() {
            if !hostio::provides(import.module(), import.name()) {
                return Err(format!(
                    "program imports {}::{}, which is not a Stylus host function",
                    import.module(),
                    import.name()
                ));
            }
        }
        Ok(CompiledProgram { module, info })
    }

    /// Whether `codehash` ran recently (nitro charges those programs the cached init gas), marking it as
    /// run.
    pub(crate) fn touch_recent(&self, codehash: B256) -> bool {
        let mut recent = lock(&self.recent);
        let was_recent = recent.contains(&codehash);
        recent.retain(|hash| *hash != codehash);
        recent.push_back(codehash);
        if recent.len() > RECENT_PROGRAMS {
            recent.pop_front();
        }
        was_recent
    }

    /// Records a call frame opening at journal depth `depth` (every frame before it at that depth or deeper
    /// has ended).
    fn open_frame(&self, depth: usize, address: Address, counts: bool) {
        let mut frames = lock(&self.frames);
        frames.retain(|frame| frame.depth < depth);
        frames.push(OpenFrame {
            depth,
            address,
            counts,
        });
    }

    /// Nitro's `msg_reentrant` for a program acting as `address` at journal depth `depth`: more than one
    /// open call frame (DELEGATECALL/CALLCODE frames excluded) acts as `address`.
    pub(crate) fn is_reentrant(&self, depth: usize, address: Address) -> bool {
        lock(&self.frames)
            .iter()
            .filter(|frame| frame.depth <= depth && frame.address == address && frame.counts)
            .count()
            > 1
    }

    fn take_spare(&self, spec: SpecId) -> DevContext {
        lock(&self.spare).take().unwrap_or_else(|| new_context(spec))
    }

    fn put_spare(&self, spare: DevContext) {
        *lock(&self.spare) = Some(spare);
    }
}

/// The devnode's precompile provider: ArbSys, ArbWasm, the Ethereum precompiles, and Stylus programs.
#[derive(Debug, Clone)]
pub struct StylusPrecompiles {
    eth: EthPrecompiles,
    warm: AddressSet,
    runtime: Rc<StylusRuntime>,
}

impl StylusPrecompiles {
    /// A provider for `spec` over `runtime`.
    pub fn new(spec: SpecId, runtime: Rc<StylusRuntime>) -> Self {
        let eth = EthPrecompiles::new(spec);
        let warm = Self::warm_set(&eth);
        Self { eth, warm, runtime }
    }

    fn warm_set(eth: &EthPrecompiles) -> AddressSet {
        let mut warm = eth.warm_addresses().clone();
        warm.insert(arb::ARB_SYS);
        warm.insert(arb::ARB_WASM);
        warm
    }

    /// The shared runtime.
    pub fn runtime(&self) -> &Rc<StylusRuntime> {
        &self.runtime
    }

    fn set_spec_inner(&mut self, spec: SpecId) -> bool {
        let changed = <EthPrecompiles as PrecompileProvider<DevContext>>::set_spec(&mut self.eth, spec);
        self.warm = Self::warm_set(&self.eth);
        changed
    }

    fn run_inner(
        &mut self,
        ctx: &mut DevContext,
        inputs: &CallInputs,
    ) -> Result<Option<InterpreterResult>, String> {
        let depth = ctx.journal().depth();
        self.runtime.open_frame(
            depth,
            inputs.target_address,
            !(inputs.scheme.is_delegate_call() || inputs.scheme.is_call_code()),
        );
        if inputs.bytecode_address == arb::ARB_SYS {
            return Ok(Some(arb::arb_sys(ctx, inputs)));
        }
        if inputs.bytecode_address == arb::ARB_WASM {
            return Ok(Some(arb::arb_wasm(ctx, &self.runtime, inputs)));
        }
        if inputs.bytecode_address == deployer::STYLUS_DEPLOYER {
            return Ok(Some(deployer::run(ctx, &self.runtime, inputs)));
        }
        if let Some(result) =
            <EthPrecompiles as PrecompileProvider<DevContext>>::run(&mut self.eth, ctx, inputs)?
        {
            return Ok(Some(result));
        }
        if is_stylus_code(inputs.known_bytecode.1.original_byte_slice()) {
            return Ok(Some(call_program(ctx, &self.runtime, inputs)));
        }
        Ok(None)
    }
}

impl PrecompileProvider<DevContext> for StylusPrecompiles {
    type Output = InterpreterResult;

    fn set_spec(&mut self, spec: SpecId) -> bool {
        self.set_spec_inner(spec)
    }

    fn run(
        &mut self,
        context: &mut DevContext,
        inputs: &CallInputs,
    ) -> Result<Option<InterpreterResult>, String> {
        self.run_inner(context, inputs)
    }

    fn warm_addresses(&self) -> &AddressSet {
        &self.warm
    }
}

impl<'a> PrecompileProvider<&'a mut DevContext> for StylusPrecompiles {
    type Output = InterpreterResult;

    fn set_spec(&mut self, spec: SpecId) -> bool {
        self.set_spec_inner(spec)
    }

    fn run(
        &mut self,
        context: &mut &'a mut DevContext,
        inputs: &CallInputs,
    ) -> Result<Option<InterpreterResult>, String> {
        // Always reborrow to the concrete context type: a provider for `&mut &mut DevContext` would make the
        // types grow with every nesting level.
        self.run_inner(context, inputs)
    }

    fn warm_addresses(&self) -> &AddressSet {
        &self.warm
    }
}

/// Runs one frame (and everything it calls) to completion over `ctx`, as a host function's nested call.
///
/// Returns the frame's result; a database error of the nested loop becomes a failed call.
pub(crate) fn run_nested(
    ctx: &mut DevContext,
    runtime: &Rc<StylusRuntime>,
    frame_input: FrameInput,
) -> FrameResult {
    let spec = ctx.cfg.spec;
    let depth = ctx.journal().depth();
    // The nested frames' memory must live in the context's shared memory buffer, as revm's own frames' does:
    // an EVM frame passes a call's input as a range of that buffer (`CallInput::SharedBuffer`), and whoever
    // answers the call outside the interpreter (a Stylus program, ArbSys, ArbWasm, the deployer, an Ethereum
    // precompile) reads it from `ctx.local()`'s buffer. The nested memory starts where the buffer ends (the
    // frames that are open around this host call keep theirs below) and is released when the call returns.
    let mut outer = SharedMemory::new_with_buffer(ctx.local().shared_memory_buffer().clone());
    outer.set_memory_limit(ctx.cfg.memory_limit());
    let memory = outer.new_child_context();
    let mut evm: NestedEvm<'_> = Evm::new(
        ctx,
        instructions(spec),
        StylusPrecompiles::new(spec, runtime.clone()),
    );
    let init = FrameInit {
        depth,
        memory,
        frame_input: frame_input.clone(),
    };
    let outcome = (|| {
        let first = evm.frame_init(init)?;
        if let ItemOrResult::Result(result) = first {
            return Ok(result);
        }
        loop {
            let result = match evm.frame_run()? {
                ItemOrResult::Item(init) => match evm.frame_init(init)? {
                    ItemOrResult::Item(_) => continue,
                    ItemOrResult::Result(result) => result,
                },
                ItemOrResult::Result(result) => result,
            };
            if let Some(result) = evm.frame_return_result(result)? {
                return Ok(result);
            }
        }
    })();
    outer.free_child_context();
    outcome.unwrap_or_else(
        |_: revm::context_interface::context::ContextError<std::convert::Infallible>| {
            failed_frame(&frame_input)
        },
    )
}

fn failed_frame(frame_input: &FrameInput) -> FrameResult {
    let gas_limit = match frame_input {
        FrameInput::Call(inputs) => inputs.gas_limit,
        FrameInput::Create(inputs) => inputs.gas_limit(),
        FrameInput::Empty => 0,
    };
    let mut gas = Gas::new(gas_limit);
    gas.spend_all();
    let result = InterpreterResult::new(InstructionResult::FatalExternalError, Bytes::new(), gas);
    match frame_input {
        FrameInput::Create(_) => FrameResult::Create(revm::interpreter::CreateOutcome::new(result, None)),
        _ => FrameResult::Call(revm::interpreter::CallOutcome::new(result, 0..0)),
    }
}

/// Gas of nitro's memory model for opening `pages` more pages when `open` are open and at most `ever` were
/// open in this transaction: 1,000 gas per page beyond the 2 free pages, plus an exponential term on the
/// transaction's high-water mark (`docs/DEVNODE.md`).
pub(crate) fn memory_gas(pages: u16, open: u16, ever: u16) -> u64 {
    const FREE_PAGES: u16 = 2;
    const PAGE_GAS: u64 = 1000;
    let new_open = open.saturating_add(pages);
    let new_ever = ever.max(new_open);
    if new_ever <= FREE_PAGES {
        return 0;
    }
    let adding = new_open.saturating_sub(FREE_PAGES.max(open)).min(pages);
    let linear = u64::from(adding) * PAGE_GAS;
    linear.saturating_add(exp_pages(new_ever).saturating_sub(exp_pages(ever)))
}

/// Nitro's page ramp: `exp(pages) ≈ 1.1445^pages` (its table of `memoryExponents`), in gas.
fn exp_pages(pages: u16) -> u64 {
    if pages > 128 {
        return u64::MAX / 2;
    }
    // Deterministic: integer fixed point, 1.1445 ≈ 11445/10000, rounded down at each step.
    let mut value: u128 = 1_000_000;
    for _ in 0..pages {
        value = value * 11_445 / 10_000;
    }
    u64::try_from(value / 1_000_000).unwrap_or(u64::MAX)
}

/// Nitro's init gas for a program with `footprint` pages and `wasm_size` bytes (ArbOS 32+ parameters:
/// `MinInitGas` 72 × 128, `MinCachedInitGas` 11 × 32, and an init cost that nitro measures at activation,
/// approximated here from the module size; calibrated on the stylus-sdk counter).
pub(crate) fn init_gas(info: &program::ProgramInfo, cached: bool) -> u64 {
    let size_kib = (info.wasm_size as u64).div_ceil(1024);
    if cached {
        11 * 32 + size_kib * 145
    } else {
        72 * 128 + size_kib * 215
    }
}

/// Error data of a program that is not activated: `ProgramNotActivated()`.
pub(crate) fn not_activated_error() -> Bytes {
    Bytes::copy_from_slice(&keccak256("ProgramNotActivated()")[..4])
}

fn result(kind: InstructionResult, output: Bytes, gas: Gas) -> InterpreterResult {
    InterpreterResult::new(kind, output, gas)
}

/// Runs the Stylus program the call's code holds.
fn call_program(ctx: &mut DevContext, runtime: &Rc<StylusRuntime>, inputs: &CallInputs) -> InterpreterResult {
    let mut gas = Gas::new(inputs.gas_limit);
    let code = inputs.known_bytecode.1.original_bytes();
    let codehash = if inputs.known_bytecode.0.is_zero() {
        keccak256(&code)
    } else {
        inputs.known_bytecode.0
    };
    let activated = arb::program_version(ctx, codehash).is_some();
    if !activated && !runtime.config().auto_activate {
        return result(InstructionResult::Revert, not_activated_error(), gas);
    }
    let compiled = match runtime.compile(codehash, &code) {
        Ok(compiled) => compiled,
        Err(_) => return result(InstructionResult::Revert, Bytes::new(), gas),
    };
    // Each program nested through a host-function call recurses on the native stack (EVM frames do not):
    // bound it so a hostile program cannot overflow the node's stack.
    if *lock(&runtime.running) >= MAX_NESTED_PROGRAMS {
        return result(InstructionResult::Revert, Bytes::new(), gas);
    }
    let cached = runtime.touch_recent(codehash);
    let depth = ctx.journal().depth();
    let reentrant = runtime.is_reentrant(depth, inputs.target_address);
    let (open, ever) = runtime.pages();
    let entry_gas =
        init_gas(&compiled.info, cached).saturating_add(memory_gas(compiled.info.footprint, open, ever));
    if !gas.record_regular_cost(entry_gas) {
        gas.spend_all();
        return result(InstructionResult::OutOfGas, Bytes::new(), gas);
    }
    runtime.add_pages(compiled.info.footprint);
    let args = inputs.input.bytes(&*ctx);
    let spec = ctx.cfg.spec;
    let owned = std::mem::replace(ctx, runtime.take_spare(spec));
    let frame = hostio::Frame {
        address: inputs.target_address,
        caller: inputs.caller,
        value: inputs.call_value(),
        is_static: inputs.is_static,
        reentrant,
        footprint: compiled.info.footprint,
    };
    *lock(&runtime.running) += 1;
    let mut store = Store::new(
        &runtime.engine,
        HostState::new(owned, runtime.clone(), frame, args),
    );
    let outcome = hostio::run(&mut store, &runtime.linker, &compiled.module, gas.remaining());
    *lock(&runtime.running) -= 1;
    let state = store.into_data();
    let (owned, output) = state.finish();
    runtime.put_spare(std::mem::replace(ctx, owned));
    let used = gas.remaining().saturating_sub(outcome.gas_left);
    let _ = gas.record_regular_cost(used);
    match outcome.status {
        hostio::Status::Success => {
            gas.record_refund(outcome.refund);
            result(InstructionResult::Return, output, gas)
        }
        hostio::Status::Revert => result(InstructionResult::Revert, output, gas),
        hostio::Status::Failure => result(InstructionResult::Revert, Bytes::new(), gas),
        hostio::Status::OutOfInk => {
            gas.spend_all();
            result(InstructionResult::OutOfGas, Bytes::new(), gas)
        }
    }
}
