//! The StylusDeployer at nitro's address: deploy, activate and initialise a Stylus contract in one
//! transaction. `cargo stylus deploy` sends contracts that have a constructor through it.
//!
//! Nitro's deployer is a Solidity contract (nitro-contracts' `StylusDeployer.sol`); the devnode implements
//! its behaviour natively, with the nested-frame machinery the Stylus host functions use, so every step is a
//! real frame under the deployer's: a failure at any step reverts them all.
//!
//! `deploy(bytecode, initData, initValue, salt)`:
//! 1. creates the contract from `bytecode` with value 0: CREATE, or CREATE2 with
//!    `keccak256(salt ‖ initData)` when `salt` is not zero;
//! 2. activates it through ArbWasm with `msg.value − initValue` unless its code hash is already active at the
//!    current Stylus version (ArbWasm repays what the data fee does not take);
//! 3. calls it with `initData` and `initValue` when `initData` is not empty (reverting with
//!    `ContractInitializationError` if that fails; `initValue` without `initData` reverts with
//!    `InitValueButNotInitData`);
//! 4. refunds `msg.value − dataFee − initValue` to the caller and emits `ContractDeployed(address)`.

use std::rc::Rc;

use alloy_primitives::{address, keccak256, Address, Bytes, Log, U256};
use alloy_sol_types::{sol, SolCall, SolError, SolEvent, SolInterface};
use revm::{
    context_interface::{ContextTr, JournalTr},
    handler::FrameResult,
    interpreter::{
        CallInput, CallInputs, CallScheme, CallValue, CreateInputs, CreateScheme, FrameInput, Gas,
        InstructionResult, InterpreterResult,
    },
};

use crate::{
    arb::{self, ArbWasm, STYLUS_VERSION},
    stylus::{run_nested, DevContext, StylusRuntime},
};

/// Nitro's StylusDeployer address (the same on every Arbitrum chain).
pub const STYLUS_DEPLOYER: Address = address!("0xcEcba2F1DC234f70Dd89F2041029807F8D03A990");

/// Gas the deployer's own work costs (decoding, hashing, the log), beyond its nested frames: an
/// approximation of the Solidity contract's overhead.
const OVERHEAD_GAS: u64 = 10_000;

sol! {
    /// The StylusDeployer's interface (also what clients and tests call it with).
    #[derive(Debug)]
    interface StylusDeployer {
        /// A contract was deployed (and activated and initialised).
        event ContractDeployed(address deployedContract);

        /// The creation failed.
        error ContractDeploymentError(bytes bytecode);
        /// The initialisation call failed.
        error ContractInitializationError(address newContract);
        /// The refund of the excess value failed.
        error RefundExcessValueError(uint256 excessValue);
        /// `initValue` was given without `initData`.
        error InitValueButNotInitData();

        /// Deploys, activates if needed, initialises; returns the new contract's address.
        function deploy(bytes calldata bytecode, bytes calldata initData, uint256 initValue, bytes32 salt)
            external payable returns (address);
        /// Whether `addr`'s code needs activation.
        function requiresActivation(address addr) external view returns (bool);
        /// The CREATE2 salt `deploy` uses for `salt` and `initData`.
        function initSalt(bytes32 salt, bytes calldata initData) external pure returns (bytes32);
    }
}

/// Runs a call to the deployer.
pub(crate) fn run(
    ctx: &mut DevContext,
    runtime: &Rc<StylusRuntime>,
    inputs: &CallInputs,
) -> InterpreterResult {
    let mut gas = Gas::new(inputs.gas_limit);
    let data = inputs.input.bytes(&*ctx);
    let result = match StylusDeployer::StylusDeployerCalls::abi_decode(&data) {
        Ok(StylusDeployer::StylusDeployerCalls::deploy(call)) => {
            if inputs.is_static {
                Err(Vec::new())
            } else {
                deploy(ctx, runtime, inputs, &mut gas, call)
            }
        }
        Ok(StylusDeployer::StylusDeployerCalls::requiresActivation(call)) => {
            let needs = requires_activation(ctx, call.addr);
            Ok(StylusDeployer::requiresActivationCall::abi_encode_returns(&needs))
        }
        Ok(StylusDeployer::StylusDeployerCalls::initSalt(call)) => {
            Ok(StylusDeployer::initSaltCall::abi_encode_returns(
                &init_salt(call.salt.into(), &call.initData).into(),
            ))
        }
        Err(_) => Err(Vec::new()),
    };
    if !gas.record_regular_cost(OVERHEAD_GAS.min(gas.remaining())) {
        gas.spend_all();
    }
    match result {
        Ok(output) => InterpreterResult::new(InstructionResult::Return, output.into(), gas),
        Err(output) => InterpreterResult::new(InstructionResult::Revert, output.into(), gas),
    }
}

fn init_salt(salt: U256, init_data: &[u8]) -> U256 {
    let mut preimage = salt.to_be_bytes::<32>().to_vec();
    preimage.extend_from_slice(init_data);
    keccak256(preimage).into()
}

fn requires_activation(ctx: &mut DevContext, program: Address) -> bool {
    let Ok(account) = ctx.journal_mut().load_account_with_code(program);
    let codehash = account.data.info.code_hash;
    arb::program_version(ctx, codehash) != Some(STYLUS_VERSION)
}

/// Gives a nested frame all but a 64th of the gas left, runs it, takes back what it did not use.
fn nested(
    ctx: &mut DevContext,
    runtime: &Rc<StylusRuntime>,
    gas: &mut Gas,
    input: FrameInput,
) -> FrameResult {
    let left = gas.remaining();
    let given = left - left / 64;
    let _ = gas.record_regular_cost(given);
    let input = match input {
        FrameInput::Call(mut call) => {
            call.gas_limit = given;
            FrameInput::Call(call)
        }
        FrameInput::Create(create) => {
            let create = CreateInputs::new(
                create.caller(),
                create.scheme(),
                create.value(),
                create.init_code().clone(),
                given,
                0,
            );
            FrameInput::Create(Box::new(create))
        }
        FrameInput::Empty => FrameInput::Empty,
    };
    let result = run_nested(ctx, runtime, input);
    let outcome = match &result {
        FrameResult::Call(outcome) => &outcome.result,
        FrameResult::Create(outcome) => &outcome.result,
    };
    if outcome.result.is_ok_or_revert() {
        gas.erase_cost(outcome.gas.remaining());
    }
    result
}

fn call_inputs(ctx: &mut DevContext, from: Address, to: Address, value: U256, input: Bytes) -> CallInputs {
    let Ok(account) = ctx.journal_mut().load_account_with_code(to);
    let (hash, code) = (
        account.data.info.code_hash,
        account.data.info.code.clone().unwrap_or_default(),
    );
    CallInputs {
        input: CallInput::Bytes(input),
        return_memory_offset: 0..0,
        gas_limit: 0,
        reservoir: 0,
        bytecode_address: to,
        known_bytecode: (hash, code),
        target_address: to,
        caller: from,
        value: CallValue::Transfer(value),
        scheme: CallScheme::Call,
        is_static: false,
        charged_new_account_state_gas: false,
    }
}

fn deploy(
    ctx: &mut DevContext,
    runtime: &Rc<StylusRuntime>,
    inputs: &CallInputs,
    gas: &mut Gas,
    call: StylusDeployer::deployCall,
) -> Result<Vec<u8>, Vec<u8>> {
    let me = inputs.target_address;
    let sender = inputs.caller;
    let value = inputs.call_value();
    let init_value = call.initValue;
    // 1. Create, with value 0.
    let salt = U256::from_be_bytes(call.salt.0);
    let scheme = if salt.is_zero() {
        CreateScheme::Create
    } else {
        CreateScheme::Create2 {
            salt: init_salt(salt, &call.initData),
        }
    };
    let create = CreateInputs::new(me, scheme, U256::ZERO, call.bytecode.clone(), 0, 0);
    let created = match nested(ctx, runtime, gas, FrameInput::Create(Box::new(create))) {
        FrameResult::Create(outcome) if outcome.result.result.is_ok() => outcome.address,
        _ => None,
    };
    let Some(program) = created else {
        return Err(StylusDeployer::ContractDeploymentError {
            bytecode: call.bytecode,
        }
        .abi_encode());
    };
    // 2. Activate if needed, with what is not for the initialisation.
    let mut data_fee = U256::ZERO;
    if requires_activation(ctx, program) {
        // Solidity's checked subtraction: a panic (0x11) if initValue exceeds the value sent.
        let Some(activation_value) = value.checked_sub(init_value) else {
            return Err(alloy_sol_types::Panic::from(0x11u64).abi_encode());
        };
        let input = ArbWasm::activateProgramCall { program }.abi_encode();
        let call = call_inputs(ctx, me, arb::ARB_WASM, activation_value, input.into());
        match nested(ctx, runtime, gas, FrameInput::Call(Box::new(call))) {
            FrameResult::Call(outcome) if outcome.result.result.is_ok() => {
                match ArbWasm::activateProgramCall::abi_decode_returns(&outcome.result.output) {
                    Ok(returned) => data_fee = returned.dataFee,
                    Err(_) => return Err(Vec::new()),
                }
            }
            // The activation's revert data (e.g. the validator's message) is passed on.
            FrameResult::Call(outcome) => return Err(outcome.result.output.to_vec()),
            FrameResult::Create(_) => return Err(Vec::new()),
        }
    }
    // 3. Initialise.
    if !call.initData.is_empty() {
        let init = call_inputs(ctx, me, program, init_value, call.initData.clone());
        let ok = matches!(
            nested(ctx, runtime, gas, FrameInput::Call(Box::new(init))),
            FrameResult::Call(outcome) if outcome.result.result.is_ok()
        );
        if !ok {
            return Err(StylusDeployer::ContractInitializationError { newContract: program }.abi_encode());
        }
    } else if !init_value.is_zero() {
        return Err(StylusDeployer::InitValueButNotInitData {}.abi_encode());
    }
    // 4. Refund the excess.
    let Some(refund) = value
        .checked_sub(data_fee)
        .and_then(|v| v.checked_sub(init_value))
    else {
        return Err(alloy_sol_types::Panic::from(0x11u64).abi_encode());
    };
    if !refund.is_zero() {
        let back = call_inputs(ctx, me, sender, refund, Bytes::new());
        let ok = matches!(
            nested(ctx, runtime, gas, FrameInput::Call(Box::new(back))),
            FrameResult::Call(outcome) if outcome.result.result.is_ok()
        );
        if !ok {
            return Err(StylusDeployer::RefundExcessValueError { excessValue: refund }.abi_encode());
        }
    }
    let event = StylusDeployer::ContractDeployed {
        deployedContract: program,
    };
    ctx.journal_mut().log(Log {
        address: me,
        data: event.encode_log_data(),
    });
    Ok(StylusDeployer::deployCall::abi_encode_returns(&program))
}
