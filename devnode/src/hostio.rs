//! The `vm_hooks` host functions (nitro's Stylus ABI) and the `console` imports of stylus-sdk's `debug`
//! feature, over the revm context a program's store owns while it runs.
//!
//! Costs: every host function charges [`HOSTIO_INK`] plus the ink of its pointer arguments and copied
//! bytes, and the EVM gas of what it does (storage, calls, logs, account access) exactly as the matching EVM
//! opcode would (revm's gas parameters). Failures a transaction can cause (out-of-bounds pointers, writes in a
//! static context, running out of ink) trap the program; they never panic the node.

use std::{collections::BTreeMap, rc::Rc};

use alloy_primitives::{Address, Bytes, Log, LogData, B256, U256};
use revm::{
    context_interface::{ContextTr, Host, JournalTr},
    handler::FrameResult,
    interpreter::{
        CallInput, CallInputs, CallScheme, CallValue, CreateInputs, CreateScheme, FrameInput,
        InstructionResult,
    },
};
use wasmi::{errors::LinkerError, Caller, Error, Linker, Memory, Module, ResourceLimiter, Store};
use wasmi_core::LimiterError;

use crate::stylus::{memory_gas, run_nested, DevContext, StylusRuntime, INK_PER_FUEL, INK_PER_GAS};

/// Base ink of every host function (nitro's `HOSTIO_INK`).
pub const HOSTIO_INK: u64 = 8_400;
/// Extra ink per pointer argument (nitro's `PTR_INK`).
pub const PTR_INK: u64 = 13_440 - HOSTIO_INK;
/// Extra ink of a host function that calls into the EVM (nitro's `EVM_API_INK`).
pub const EVM_API_INK: u64 = 59_673;
/// Ink per byte copied between the program's memory and the host.
pub const BYTE_INK: u64 = 40;

/// The call frame a program runs in.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Frame {
    pub(crate) address: Address,
    pub(crate) caller: Address,
    pub(crate) value: U256,
    pub(crate) is_static: bool,
    pub(crate) reentrant: bool,
    pub(crate) footprint: u16,
}

/// How a program ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Success,
    Revert,
    Failure,
    OutOfInk,
}

/// The result of [`run`].
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) status: Status,
    pub(crate) gas_left: u64,
    pub(crate) refund: i64,
}

/// Why a host function trapped.
#[derive(Debug, Clone, Copy)]
enum Exit {
    Early(u32),
    OutOfInk,
    Failure,
}

/// Counts memory growth so it can be charged (wasmi grows memory itself; nitro instruments `memory.grow`
/// with `pay_for_memory_grow`).
#[derive(Debug, Default)]
struct Limiter {
    grown_pages: u64,
    pages: u64,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> Result<bool, LimiterError> {
        const PAGE: usize = 65_536;
        let desired_pages = desired.div_ceil(PAGE) as u64;
        if desired_pages > crate::program::limits::MAX_PAGES {
            return Ok(false);
        }
        self.grown_pages += desired_pages.saturating_sub(current.div_ceil(PAGE) as u64);
        self.pages = desired_pages;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> Result<bool, LimiterError> {
        Ok(desired <= crate::program::limits::MAX_TABLE_ENTRIES as usize)
    }

    fn instances(&self) -> usize {
        1
    }

    fn tables(&self) -> usize {
        1
    }

    fn memories(&self) -> usize {
        1
    }
}

/// What a running program's host functions work on.
pub struct HostState {
    ctx: DevContext,
    runtime: Rc<StylusRuntime>,
    frame: Frame,
    args: Bytes,
    output: Vec<u8>,
    return_data: Bytes,
    /// The storage cache: value and whether it is dirty (written and not flushed).
    cache: BTreeMap<B256, (B256, bool)>,
    refund: i64,
    exit: Option<Exit>,
    memory: Option<Memory>,
    limiter: Limiter,
    /// Pages whose growth has been charged.
    charged_growth: u64,
    /// Pages this call opened (its footprint and its growth), released when it returns.
    pages_added: u64,
}

impl std::fmt::Debug for HostState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostState")
            .field("frame", &self.frame)
            .finish_non_exhaustive()
    }
}

impl HostState {
    pub(crate) fn new(ctx: DevContext, runtime: Rc<StylusRuntime>, frame: Frame, args: Bytes) -> Self {
        Self {
            ctx,
            runtime,
            frame,
            args,
            output: Vec::new(),
            return_data: Bytes::new(),
            cache: BTreeMap::new(),
            refund: 0,
            exit: None,
            memory: None,
            limiter: Limiter::default(),
            charged_growth: 0,
            pages_added: u64::from(frame.footprint),
        }
    }

    /// Gives back the context and the program's output.
    pub(crate) fn finish(self) -> (DevContext, Bytes) {
        (self.ctx, self.output.into())
    }
}

type Ctx<'a> = Caller<'a, HostState>;

fn trap(caller: &mut Ctx<'_>, exit: Exit) -> Error {
    caller.data_mut().exit = Some(exit);
    Error::new(match exit {
        Exit::Early(_) => "exit_early",
        Exit::OutOfInk => "out of ink",
        Exit::Failure => "host function failed",
    })
}

/// Ink left, in ink.
fn ink_left(caller: &Ctx<'_>) -> u64 {
    caller.get_fuel().unwrap_or(0).saturating_mul(INK_PER_FUEL)
}

/// Charges `ink` (and any memory growth not yet paid for); traps when the program runs out.
fn charge_ink(caller: &mut Ctx<'_>, ink: u64) -> Result<(), Error> {
    let growth_gas = settle_growth(caller.data_mut());
    let ink = ink.saturating_add(growth_gas.saturating_mul(INK_PER_GAS));
    let fuel = caller.get_fuel().unwrap_or(0);
    let cost = ink.div_ceil(INK_PER_FUEL);
    if cost > fuel {
        let _ = caller.set_fuel(0);
        return Err(trap(caller, Exit::OutOfInk));
    }
    caller
        .set_fuel(fuel - cost)
        .map_err(|_| trap(caller, Exit::Failure))
}

fn charge_gas(caller: &mut Ctx<'_>, gas: u64) -> Result<(), Error> {
    charge_ink(caller, gas.saturating_mul(INK_PER_GAS))
}

/// Gas owed for memory growth since the last settlement (nitro's memory model over the transaction's pages).
fn settle_growth(state: &mut HostState) -> u64 {
    let grown = state.limiter.grown_pages - state.charged_growth;
    if grown == 0 {
        return 0;
    }
    state.charged_growth = state.limiter.grown_pages;
    let pages = u16::try_from(grown).unwrap_or(u16::MAX);
    let (open, ever) = state.runtime.pages();
    let gas = memory_gas(pages, open, ever);
    state.runtime.add_pages(pages);
    state.pages_added += grown;
    gas
}

fn gas_left(caller: &Ctx<'_>) -> u64 {
    ink_left(caller) / INK_PER_GAS
}

fn memory(caller: &mut Ctx<'_>) -> Result<Memory, Error> {
    match caller.data().memory {
        Some(memory) => Ok(memory),
        None => Err(trap(caller, Exit::Failure)),
    }
}

fn read(caller: &mut Ctx<'_>, ptr: u32, len: u32) -> Result<Vec<u8>, Error> {
    let memory = memory(caller)?;
    let mut buffer = vec![0u8; len as usize];
    if memory.read(&*caller, ptr as usize, &mut buffer).is_err() {
        return Err(trap(caller, Exit::Failure));
    }
    Ok(buffer)
}

fn read_word(caller: &mut Ctx<'_>, ptr: u32) -> Result<B256, Error> {
    Ok(B256::from_slice(&read(caller, ptr, 32)?))
}

fn read_address(caller: &mut Ctx<'_>, ptr: u32) -> Result<Address, Error> {
    Ok(Address::from_slice(&read(caller, ptr, 20)?))
}

fn write(caller: &mut Ctx<'_>, ptr: u32, data: &[u8]) -> Result<(), Error> {
    let memory = memory(caller)?;
    if memory.write(&mut *caller, ptr as usize, data).is_err() {
        return Err(trap(caller, Exit::Failure));
    }
    Ok(())
}

fn write_u32(caller: &mut Ctx<'_>, ptr: u32, value: u32) -> Result<(), Error> {
    write(caller, ptr, &value.to_le_bytes())
}

/// Host functions a program may import: `(module, name)`.
pub(crate) fn provides(module: &str, name: &str) -> bool {
    match module {
        "vm_hooks" => VM_HOOKS.contains(&name),
        "console" => ["log_f32", "log_f64", "log_i32", "log_i64", "log_txt"].contains(&name),
        _ => false,
    }
}

/// Every `vm_hooks` function the devnode provides.
pub const VM_HOOKS: &[&str] = &[
    "read_args",
    "write_result",
    "exit_early",
    "storage_load_bytes32",
    "storage_cache_bytes32",
    "storage_flush_cache",
    "transient_load_bytes32",
    "transient_store_bytes32",
    "call_contract",
    "delegate_call_contract",
    "static_call_contract",
    "create1",
    "create2",
    "read_return_data",
    "return_data_size",
    "emit_log",
    "account_balance",
    "account_code",
    "account_code_size",
    "account_codehash",
    "evm_gas_left",
    "evm_ink_left",
    "block_basefee",
    "block_coinbase",
    "block_gas_limit",
    "block_number",
    "block_timestamp",
    "chainid",
    "contract_address",
    "math_div",
    "math_mod",
    "math_pow",
    "math_add_mod",
    "math_mul_mod",
    "msg_reentrant",
    "msg_sender",
    "msg_value",
    "native_keccak256",
    "tx_gas_price",
    "tx_ink_price",
    "tx_origin",
    "pay_for_memory_grow",
];

/// Instantiates `module` in `store` and runs its `user_entrypoint` with `gas` gas (as ink).
pub(crate) fn run(
    store: &mut Store<HostState>,
    linker: &Linker<HostState>,
    module: &Module,
    gas: u64,
) -> Outcome {
    let fuel = gas.saturating_mul(INK_PER_GAS) / INK_PER_FUEL;
    let _ = store.set_fuel(fuel);
    store.limiter(|state| &mut state.limiter);
    let args_len = i32::try_from(store.data().args.len()).unwrap_or(i32::MAX);
    let outcome = (|| {
        let instance = linker.instantiate_and_start(&mut *store, module).ok()?;
        let memory = instance.get_memory(&*store, "memory")?;
        store.data_mut().memory = Some(memory);
        // Pages present at instantiation were paid for on entry.
        let initial = store.data().limiter.grown_pages;
        store.data_mut().charged_growth = initial;
        let entry = instance
            .get_typed_func::<i32, i32>(&*store, "user_entrypoint")
            .ok()?;
        Some(entry.call(&mut *store, args_len))
    })();
    let growth_gas = settle_growth(store.data_mut());
    let mut fuel_left = store.get_fuel().unwrap_or(0);
    let growth_fuel = growth_gas.saturating_mul(INK_PER_GAS).div_ceil(INK_PER_FUEL);
    let mut status = match outcome {
        None => Status::Failure,
        Some(Ok(0)) => Status::Success,
        Some(Ok(_)) => Status::Revert,
        Some(Err(error)) => match store.data().exit {
            Some(Exit::Early(0)) => Status::Success,
            Some(Exit::Early(_)) => Status::Revert,
            Some(Exit::OutOfInk) => Status::OutOfInk,
            Some(Exit::Failure) => Status::Failure,
            None if error.as_trap_code() == Some(wasmi::TrapCode::OutOfFuel) => Status::OutOfInk,
            None => Status::Failure,
        },
    };
    if growth_fuel > fuel_left {
        status = Status::OutOfInk;
        fuel_left = 0;
    } else {
        fuel_left -= growth_fuel;
    }
    let state = store.data_mut();
    state.runtime.release_pages(state.pages_added);
    if status == Status::Failure || status == Status::OutOfInk {
        state.output.clear();
    }
    Outcome {
        status,
        gas_left: fuel_left.saturating_mul(INK_PER_FUEL) / INK_PER_GAS,
        refund: state.refund,
    }
}

/// Defines every host function in `linker`.
pub(crate) fn define(linker: &mut Linker<HostState>) {
    // Defining distinct names in a fresh linker cannot fail; an error would be a bug in this list, which
    // the integration tests (linking real programs) would catch.
    let def = |name: &str, result: Result<(), LinkerError>| {
        debug_assert!(result.is_ok(), "defining {name}");
    };
    macro_rules! hook {
        ($name:literal, $func:expr) => {
            def(
                $name,
                linker.func_wrap("vm_hooks", $name, $func).map(|_| ()),
            )
        };
    }
    macro_rules! console {
        ($name:literal, $func:expr) => {
            def($name, linker.func_wrap("console", $name, $func).map(|_| ()))
        };
    }

    hook!("read_args", |mut c: Ctx<'_>, dest: u32| -> Result<(), Error> {
        let args = c.data().args.clone();
        charge_ink(&mut c, HOSTIO_INK + PTR_INK + BYTE_INK * args.len() as u64)?;
        write(&mut c, dest, &args)
    });
    hook!("write_result", |mut c: Ctx<'_>,
                           data: u32,
                           len: u32|
     -> Result<(), Error> {
        charge_ink(&mut c, HOSTIO_INK + PTR_INK + BYTE_INK * u64::from(len))?;
        let bytes = read(&mut c, data, len)?;
        c.data_mut().output = bytes;
        Ok(())
    });
    hook!("exit_early", |mut c: Ctx<'_>, status: u32| -> Result<(), Error> {
        charge_ink(&mut c, HOSTIO_INK)?;
        Err(trap(&mut c, Exit::Early(status)))
    });
    hook!("storage_load_bytes32", |mut c: Ctx<'_>,
                                   key: u32,
                                   dest: u32|
     -> Result<(), Error> {
        charge_ink(&mut c, HOSTIO_INK + 2 * PTR_INK)?;
        let key = read_word(&mut c, key)?;
        let value = match c.data().cache.get(&key) {
            Some((value, _)) => *value,
            None => {
                charge_ink(&mut c, EVM_API_INK)?;
                let state = c.data_mut();
                let address = state.frame.address;
                let Some(load) = state.ctx.sload(address, key.into()) else {
                    return Err(trap(&mut c, Exit::Failure));
                };
                let gas = if load.is_cold { 2_100 } else { 100 };
                let value = B256::from(load.data);
                c.data_mut().cache.insert(key, (value, false));
                charge_gas(&mut c, gas)?;
                value
            }
        };
        write(&mut c, dest, value.as_slice())
    });
    hook!("storage_cache_bytes32", |mut c: Ctx<'_>,
                                    key: u32,
                                    value: u32|
     -> Result<(), Error> {
        charge_ink(&mut c, HOSTIO_INK + 2 * PTR_INK)?;
        // Nitro requires the SSTORE sentry (2,300 gas) to be left, as SSTORE does.
        if gas_left(&c) <= 2_300 {
            return Err(trap(&mut c, Exit::OutOfInk));
        }
        let key = read_word(&mut c, key)?;
        let value = read_word(&mut c, value)?;
        c.data_mut().cache.insert(key, (value, true));
        Ok(())
    });
    hook!("storage_flush_cache", |mut c: Ctx<'_>,
                                  clear: u32|
     -> Result<(), Error> {
        charge_ink(&mut c, HOSTIO_INK + EVM_API_INK)?;
        flush(&mut c)?;
        if clear != 0 {
            c.data_mut().cache.clear();
        }
        Ok(())
    });
    hook!("transient_load_bytes32", |mut c: Ctx<'_>,
                                     key: u32,
                                     dest: u32|
     -> Result<(), Error> {
        charge_ink(&mut c, HOSTIO_INK + 2 * PTR_INK + EVM_API_INK)?;
        charge_gas(&mut c, 100)?;
        let key = read_word(&mut c, key)?;
        let state = c.data_mut();
        let value = state.ctx.tload(state.frame.address, key.into());
        write(&mut c, dest, &value.to_be_bytes::<32>())
    });
    hook!("transient_store_bytes32", |mut c: Ctx<'_>,
                                      key: u32,
                                      value: u32|
     -> Result<(), Error> {
        charge_ink(&mut c, HOSTIO_INK + 2 * PTR_INK + EVM_API_INK)?;
        if c.data().frame.is_static {
            return Err(trap(&mut c, Exit::Failure));
        }
        charge_gas(&mut c, 100)?;
        let key = read_word(&mut c, key)?;
        let value = read_word(&mut c, value)?;
        let state = c.data_mut();
        let address = state.frame.address;
        state.ctx.tstore(address, key.into(), value.into());
        Ok(())
    });
    hook!("call_contract", |mut c: Ctx<'_>,
                            contract: u32,
                            data: u32,
                            len: u32,
                            value: u32,
                            gas: u64,
                            out_len: u32|
     -> Result<u32, Error> {
        let value = U256::from_be_bytes(read_word(&mut c, value)?.0);
        call(&mut c, CallScheme::Call, contract, data, len, value, gas, out_len)
    });
    hook!("delegate_call_contract", |mut c: Ctx<'_>,
                                     contract: u32,
                                     data: u32,
                                     len: u32,
                                     gas: u64,
                                     out_len: u32|
     -> Result<u32, Error> {
        call(
            &mut c,
            CallScheme::DelegateCall,
            contract,
            data,
            len,
            U256::ZERO,
            gas,
            out_len,
        )
    });
    hook!("static_call_contract", |mut c: Ctx<'_>,
                                   contract: u32,
                                   data: u32,
                                   len: u32,
                                   gas: u64,
                                   out_len: u32|
     -> Result<u32, Error> {
        call(
            &mut c,
            CallScheme::StaticCall,
            contract,
            data,
            len,
            U256::ZERO,
            gas,
            out_len,
        )
    });
    hook!("create1", |mut c: Ctx<'_>,
                      code: u32,
                      len: u32,
                      endowment: u32,
                      contract: u32,
                      revert_len: u32|
     -> Result<(), Error> {
        create(&mut c, code, len, endowment, None, contract, revert_len)
    });
    hook!("create2", |mut c: Ctx<'_>,
                      code: u32,
                      len: u32,
                      endowment: u32,
                      salt: u32,
                      contract: u32,
                      revert_len: u32|
     -> Result<(), Error> {
        let salt = U256::from_be_bytes(read_word(&mut c, salt)?.0);
        create(&mut c, code, len, endowment, Some(salt), contract, revert_len)
    });
    hook!("read_return_data", |mut c: Ctx<'_>,
                               dest: u32,
                               offset: u32,
                               size: u32|
     -> Result<u32, Error> {
        let data = c.data().return_data.clone();
        let start = (offset as usize).min(data.len());
        let end = start.saturating_add(size as usize).min(data.len());
        charge_ink(&mut c, HOSTIO_INK + PTR_INK + BYTE_INK * (end - start) as u64)?;
        charge_gas(&mut c, 3 * ((end - start) as u64).div_ceil(32))?;
        write(&mut c, dest, &data[start..end])?;
        Ok((end - start) as u32)
    });
    hook!("return_data_size", |mut c: Ctx<'_>| -> Result<u32, Error> {
        charge_ink(&mut c, HOSTIO_INK)?;
        Ok(c.data().return_data.len() as u32)
    });
    hook!("emit_log", |mut c: Ctx<'_>,
                       data: u32,
                       len: u32,
                       topics: u32|
     -> Result<(), Error> {
        charge_ink(
            &mut c,
            HOSTIO_INK + PTR_INK + BYTE_INK * u64::from(len) + EVM_API_INK,
        )?;
        if c.data().frame.is_static || topics > 4 || u64::from(len) < u64::from(topics) * 32 {
            return Err(trap(&mut c, Exit::Failure));
        }
        let bytes = read(&mut c, data, len)?;
        let topic_bytes = topics as usize * 32;
        charge_gas(
            &mut c,
            375 + 375 * u64::from(topics) + 8 * (bytes.len() - topic_bytes) as u64,
        )?;
        let topic_list = bytes[..topic_bytes].chunks(32).map(B256::from_slice).collect();
        let state = c.data_mut();
        let log = Log {
            address: state.frame.address,
            data: LogData::new_unchecked(topic_list, Bytes::copy_from_slice(&bytes[topic_bytes..])),
        };
        state.ctx.log(log);
        Ok(())
    });
    hook!("account_balance", |mut c: Ctx<'_>,
                              address: u32,
                              dest: u32|
     -> Result<(), Error> {
        charge_ink(&mut c, HOSTIO_INK + 2 * PTR_INK + EVM_API_INK)?;
        let address = read_address(&mut c, address)?;
        let Some(load) = c.data_mut().ctx.balance(address) else {
            return Err(trap(&mut c, Exit::Failure));
        };
        charge_gas(&mut c, if load.is_cold { 2_600 } else { 100 })?;
        write(&mut c, dest, &load.data.to_be_bytes::<32>())
    });
    hook!("account_code", |mut c: Ctx<'_>,
                           address: u32,
                           offset: u32,
                           size: u32,
                           dest: u32|
     -> Result<u32, Error> {
        charge_ink(&mut c, HOSTIO_INK + 2 * PTR_INK + EVM_API_INK)?;
        let address = read_address(&mut c, address)?;
        let Some(load) = c.data_mut().ctx.load_account_code(address) else {
            return Err(trap(&mut c, Exit::Failure));
        };
        let code = load.data;
        let start = (offset as usize).min(code.len());
        let end = start.saturating_add(size as usize).min(code.len());
        let words = ((end - start) as u64).div_ceil(32);
        charge_gas(&mut c, if load.is_cold { 2_600 } else { 100 } + 3 * words)?;
        charge_ink(&mut c, BYTE_INK * (end - start) as u64)?;
        write(&mut c, dest, &code[start..end])?;
        Ok((end - start) as u32)
    });
    hook!("account_code_size", |mut c: Ctx<'_>,
                                address: u32|
     -> Result<u32, Error> {
        charge_ink(&mut c, HOSTIO_INK + PTR_INK + EVM_API_INK)?;
        let address = read_address(&mut c, address)?;
        let Some(load) = c.data_mut().ctx.load_account_code(address) else {
            return Err(trap(&mut c, Exit::Failure));
        };
        charge_gas(&mut c, if load.is_cold { 2_600 } else { 100 })?;
        Ok(load.data.len() as u32)
    });
    hook!("account_codehash", |mut c: Ctx<'_>,
                               address: u32,
                               dest: u32|
     -> Result<(), Error> {
        charge_ink(&mut c, HOSTIO_INK + 2 * PTR_INK + EVM_API_INK)?;
        let address = read_address(&mut c, address)?;
        let Some(load) = c.data_mut().ctx.load_account_code_hash(address) else {
            return Err(trap(&mut c, Exit::Failure));
        };
        charge_gas(&mut c, if load.is_cold { 2_600 } else { 100 })?;
        write(&mut c, dest, load.data.as_slice())
    });
    hook!("evm_gas_left", |mut c: Ctx<'_>| -> Result<u64, Error> {
        charge_ink(&mut c, HOSTIO_INK)?;
        Ok(gas_left(&c))
    });
    hook!("evm_ink_left", |mut c: Ctx<'_>| -> Result<u64, Error> {
        charge_ink(&mut c, HOSTIO_INK)?;
        Ok(ink_left(&c))
    });
    hook!("block_basefee", |mut c: Ctx<'_>,
                            dest: u32|
     -> Result<(), Error> {
        charge_ink(&mut c, HOSTIO_INK + PTR_INK)?;
        let value = c.data().ctx.basefee();
        write(&mut c, dest, &value.to_be_bytes::<32>())
    });
    hook!("block_coinbase", |mut c: Ctx<'_>,
                             dest: u32|
     -> Result<(), Error> {
        charge_ink(&mut c, HOSTIO_INK + PTR_INK)?;
        let value = c.data().ctx.beneficiary();
        write(&mut c, dest, value.as_slice())
    });
    hook!("block_gas_limit", |mut c: Ctx<'_>| -> Result<u64, Error> {
        charge_ink(&mut c, HOSTIO_INK)?;
        Ok(c.data().ctx.gas_limit().saturating_to())
    });
    hook!("block_number", |mut c: Ctx<'_>| -> Result<u64, Error> {
        charge_ink(&mut c, HOSTIO_INK)?;
        Ok(c.data().ctx.block_number().saturating_to())
    });
    hook!("block_timestamp", |mut c: Ctx<'_>| -> Result<u64, Error> {
        charge_ink(&mut c, HOSTIO_INK)?;
        Ok(c.data().ctx.timestamp().saturating_to())
    });
    hook!("chainid", |mut c: Ctx<'_>| -> Result<u64, Error> {
        charge_ink(&mut c, HOSTIO_INK)?;
        Ok(c.data().ctx.chain_id().saturating_to())
    });
    hook!("contract_address", |mut c: Ctx<'_>,
                               dest: u32|
     -> Result<(), Error> {
        charge_ink(&mut c, HOSTIO_INK + PTR_INK)?;
        let value = c.data().frame.address;
        write(&mut c, dest, value.as_slice())
    });
    hook!("msg_reentrant", |mut c: Ctx<'_>| -> Result<u32, Error> {
        charge_ink(&mut c, HOSTIO_INK)?;
        Ok(u32::from(c.data().frame.reentrant))
    });
    hook!("msg_sender", |mut c: Ctx<'_>, dest: u32| -> Result<(), Error> {
        charge_ink(&mut c, HOSTIO_INK + PTR_INK)?;
        let value = c.data().frame.caller;
        write(&mut c, dest, value.as_slice())
    });
    hook!("msg_value", |mut c: Ctx<'_>, dest: u32| -> Result<(), Error> {
        charge_ink(&mut c, HOSTIO_INK + PTR_INK)?;
        let value = c.data().frame.value;
        write(&mut c, dest, &value.to_be_bytes::<32>())
    });
    hook!("native_keccak256", |mut c: Ctx<'_>,
                               data: u32,
                               len: u32,
                               dest: u32|
     -> Result<(), Error> {
        charge_ink(&mut c, HOSTIO_INK + 2 * PTR_INK)?;
        charge_gas(&mut c, 30 + 6 * u64::from(len).div_ceil(32))?;
        let bytes = read(&mut c, data, len)?;
        write(&mut c, dest, alloy_primitives::keccak256(bytes).as_slice())
    });
    hook!("tx_gas_price", |mut c: Ctx<'_>, dest: u32| -> Result<(), Error> {
        charge_ink(&mut c, HOSTIO_INK + PTR_INK)?;
        let value = c.data().ctx.effective_gas_price();
        write(&mut c, dest, &value.to_be_bytes::<32>())
    });
    hook!("tx_ink_price", |mut c: Ctx<'_>| -> Result<u32, Error> {
        charge_ink(&mut c, HOSTIO_INK)?;
        Ok(INK_PER_GAS as u32)
    });
    hook!("tx_origin", |mut c: Ctx<'_>, dest: u32| -> Result<(), Error> {
        charge_ink(&mut c, HOSTIO_INK + PTR_INK)?;
        let value = c.data().ctx.caller();
        write(&mut c, dest, value.as_slice())
    });
    hook!("pay_for_memory_grow", |mut c: Ctx<'_>,
                                  pages: u32|
     -> Result<(), Error> {
        // Growth is charged when wasmi grows the memory (see `Limiter`); this only costs the call.
        let _ = pages;
        charge_ink(&mut c, HOSTIO_INK)
    });
    hook!("math_div", |mut c: Ctx<'_>,
                       value: u32,
                       divisor: u32|
     -> Result<(), Error> {
        math(&mut c, value, &[divisor], |a, b| {
            a.checked_div(b[0]).unwrap_or_default()
        })
    });
    hook!("math_mod", |mut c: Ctx<'_>,
                       value: u32,
                       modulus: u32|
     -> Result<(), Error> {
        math(&mut c, value, &[modulus], |a, b| {
            a.checked_rem(b[0]).unwrap_or_default()
        })
    });
    hook!("math_pow", |mut c: Ctx<'_>,
                       value: u32,
                       exponent: u32|
     -> Result<(), Error> {
        math(&mut c, value, &[exponent], |a, b| a.wrapping_pow(b[0]))
    });
    hook!("math_add_mod", |mut c: Ctx<'_>,
                           value: u32,
                           addend: u32,
                           modulus: u32|
     -> Result<(), Error> {
        math(&mut c, value, &[addend, modulus], |a, b| a.add_mod(b[0], b[1]))
    });
    hook!("math_mul_mod", |mut c: Ctx<'_>,
                           value: u32,
                           multiplier: u32,
                           modulus: u32|
     -> Result<(), Error> {
        math(&mut c, value, &[multiplier, modulus], |a, b| {
            a.mul_mod(b[0], b[1])
        })
    });

    console!("log_txt", |mut c: Ctx<'_>,
                         text: u32,
                         len: u32|
     -> Result<(), Error> {
        let bytes = read(&mut c, text, len)?;
        console_line(&c, String::from_utf8_lossy(&bytes).into_owned());
        Ok(())
    });
    console!("log_i32", |c: Ctx<'_>, value: i32| console_line(
        &c,
        value.to_string()
    ));
    console!("log_i64", |c: Ctx<'_>, value: i64| console_line(
        &c,
        value.to_string()
    ));
    console!("log_f32", |c: Ctx<'_>, value: f32| console_line(
        &c,
        value.to_string()
    ));
    console!("log_f64", |c: Ctx<'_>, value: f64| console_line(
        &c,
        value.to_string()
    ));
}

fn console_line(caller: &Ctx<'_>, line: String) {
    let runtime = &caller.data().runtime;
    if runtime.config().print_console {
        eprintln!("[stylus console] {line}");
    }
    runtime.push_console(line);
}

fn math(
    caller: &mut Ctx<'_>,
    value: u32,
    others: &[u32],
    op: impl Fn(U256, &[U256]) -> U256,
) -> Result<(), Error> {
    charge_ink(caller, HOSTIO_INK + PTR_INK * (1 + others.len() as u64) + 2_000)?;
    let a = U256::from_be_bytes(read_word(caller, value)?.0);
    let mut operands = Vec::with_capacity(others.len());
    for &ptr in others {
        operands.push(U256::from_be_bytes(read_word(caller, ptr)?.0));
    }
    write(caller, value, &op(a, &operands).to_be_bytes::<32>())
}

/// Writes the dirty slots of the storage cache to the journal, charging SSTORE gas and recording refunds.
fn flush(c: &mut Ctx<'_>) -> Result<(), Error> {
    let dirty: Vec<(B256, B256)> = c
        .data()
        .cache
        .iter()
        .filter(|(_, (_, dirty))| *dirty)
        .map(|(k, (v, _))| (*k, *v))
        .collect();
    if dirty.is_empty() {
        return Ok(());
    }
    if c.data().frame.is_static {
        return Err(trap(c, Exit::Failure));
    }
    for (key, value) in dirty {
        if gas_left(c) <= 2_300 {
            return Err(trap(c, Exit::OutOfInk));
        }
        let state = c.data_mut();
        let address = state.frame.address;
        let Some(load) = state.ctx.sstore(address, key.into(), value.into()) else {
            return Err(trap(c, Exit::Failure));
        };
        let params = state.ctx.gas_params().clone();
        let gas = params.sstore_static_gas() + params.sstore_dynamic_gas(true, &load.data, load.is_cold);
        state.refund += params.sstore_refund(true, &load.data);
        if let Some(entry) = state.cache.get_mut(&key) {
            entry.1 = false;
        }
        charge_gas(c, gas)?;
    }
    Ok(())
}

/// Loads `address`'s code for a call: `(hash, code, is_cold)`.
fn load_code(ctx: &mut DevContext, address: Address) -> Option<(B256, revm::bytecode::Bytecode, bool)> {
    let load = ctx.journal_mut().load_account_with_code(address).ok()?;
    let is_cold = load.is_cold;
    let info = &load.data.info;
    Some((info.code_hash, info.code.clone().unwrap_or_default(), is_cold))
}

#[allow(clippy::too_many_arguments)]
fn call(
    c: &mut Ctx<'_>,
    scheme: CallScheme,
    contract: u32,
    data: u32,
    len: u32,
    value: U256,
    gas_requested: u64,
    out_len: u32,
) -> Result<u32, Error> {
    charge_ink(
        c,
        HOSTIO_INK + 3 * PTR_INK + BYTE_INK * u64::from(len) + EVM_API_INK,
    )?;
    let target = read_address(c, contract)?;
    let input = read(c, data, len)?;
    let frame = c.data().frame;
    if frame.is_static && !value.is_zero() {
        return Err(trap(c, Exit::Failure));
    }
    let Some((hash, bytecode, is_cold)) = load_code(&mut c.data_mut().ctx, target) else {
        return Err(trap(c, Exit::Failure));
    };
    // EIP-2929 access, value transfer and new-account costs, as CALL charges them.
    let mut base = if is_cold { 2_600 } else { 100 };
    if !value.is_zero() {
        base += 9_000;
        let empty = c
            .data_mut()
            .ctx
            .journal_mut()
            .load_account(target)
            .map(|a| a.data.is_empty())
            .unwrap_or(false);
        if empty {
            base += 25_000;
        }
    }
    charge_gas(c, base)?;
    // The 63/64 rule.
    let left = gas_left(c);
    let mut gas = gas_requested.min(left - left / 64);
    charge_gas(c, gas)?;
    if !value.is_zero() {
        gas += 2_300;
    }
    let (target_address, caller, call_value) = match scheme {
        CallScheme::DelegateCall => (frame.address, frame.caller, CallValue::Apparent(frame.value)),
        _ => (target, frame.address, CallValue::Transfer(value)),
    };
    let inputs = CallInputs {
        input: CallInput::Bytes(input.into()),
        return_memory_offset: 0..0,
        gas_limit: gas,
        reservoir: 0,
        bytecode_address: target,
        known_bytecode: (hash, bytecode),
        target_address,
        caller,
        value: call_value,
        scheme,
        is_static: frame.is_static || scheme == CallScheme::StaticCall,
        charged_new_account_state_gas: false,
    };
    let result = nested(c, FrameInput::Call(Box::new(inputs)));
    let FrameResult::Call(outcome) = result else {
        return Err(trap(c, Exit::Failure));
    };
    let ok = outcome.result.result.is_ok();
    let returned = settle(c, &outcome.result, gas);
    let output = outcome.result.output;
    write_u32(c, out_len, output.len() as u32)?;
    c.data_mut().return_data = output;
    returned?;
    Ok(u32::from(!ok))
}

/// Gives back the unused gas of a nested frame that was given `given` gas, and adopts its refund.
fn settle(c: &mut Ctx<'_>, result: &revm::interpreter::InterpreterResult, given: u64) -> Result<(), Error> {
    let kind = result.result;
    let unused = if kind.is_ok_or_revert() {
        result.gas.remaining()
    } else {
        0
    };
    if kind.is_ok() {
        c.data_mut().refund += result.gas.refunded();
    }
    // Gas given beyond what was charged (the value stipend) is not returned.
    let unused = unused.min(given);
    let fuel = c.get_fuel().unwrap_or(0);
    let back = unused.saturating_mul(INK_PER_GAS) / INK_PER_FUEL;
    c.set_fuel(fuel.saturating_add(back))
        .map_err(|_| trap(c, Exit::Failure))
}

fn nested(c: &mut Ctx<'_>, input: FrameInput) -> FrameResult {
    let state = c.data_mut();
    let runtime = state.runtime.clone();
    run_nested(&mut state.ctx, &runtime, input)
}

fn create(
    c: &mut Ctx<'_>,
    code: u32,
    len: u32,
    endowment: u32,
    salt: Option<U256>,
    contract: u32,
    revert_len: u32,
) -> Result<(), Error> {
    charge_ink(
        c,
        HOSTIO_INK + 3 * PTR_INK + BYTE_INK * u64::from(len) + EVM_API_INK,
    )?;
    let frame = c.data().frame;
    if frame.is_static {
        return Err(trap(c, Exit::Failure));
    }
    let init_code = read(c, code, len)?;
    let value = U256::from_be_bytes(read_word(c, endowment)?.0);
    let words = u64::from(len).div_ceil(32);
    // CREATE: 32,000 + EIP-3860 init code words; CREATE2 also hashes the init code.
    let base = 32_000 + 2 * words + if salt.is_some() { 6 * words } else { 0 };
    charge_gas(c, base)?;
    let left = gas_left(c);
    let gas = left - left / 64;
    charge_gas(c, gas)?;
    let scheme = match salt {
        Some(salt) => CreateScheme::Create2 { salt },
        None => CreateScheme::Create,
    };
    let inputs = CreateInputs::new(frame.address, scheme, value, init_code.into(), gas, 0);
    let result = nested(c, FrameInput::Create(Box::new(inputs)));
    let FrameResult::Create(outcome) = result else {
        return Err(trap(c, Exit::Failure));
    };
    let settled = settle(c, &outcome.result, gas);
    let address = if outcome.result.result.is_ok() {
        outcome.address.unwrap_or_default()
    } else {
        Address::ZERO
    };
    let revert_data = if outcome.result.result == InstructionResult::Revert {
        outcome.result.output.clone()
    } else {
        Bytes::new()
    };
    write(c, contract, address.as_slice())?;
    write_u32(c, revert_len, revert_data.len() as u32)?;
    c.data_mut().return_data = revert_data;
    settled
}
