//! Helpers shared by the integration tests: building the repo's Stylus contracts, deploying code, ABI.

#![allow(dead_code, unreachable_pub)]

use std::{
    path::{Path, PathBuf},
    process::Command,
    sync::OnceLock,
};

use alloy_primitives::{Address, Bytes, U256};
use alloy_sol_types::{sol, SolCall};
// Not every test binary uses both.
#[allow(unused_imports)]
pub use damm_devnode::evm_code::{evm_script, init_code_for};
use damm_devnode::{
    arb::{ArbWasm, ARB_WASM},
    node::TxRequest,
    program::{prepare_program, PreparedProgram},
    Devnode, Receipt,
};

sol! {
    interface Counter {
        function number() external view returns (uint256);
        function setNumber(uint256 newNumber) external;
        function increment() external;
    }
}

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("devnode/ is in the workspace")
        .to_path_buf()
}

/// Builds workspace contract `package` for wasm32 with the contract profile (in its own target directory,
/// so the nested cargo does not wait on the test's build lock) and returns the raw module.
pub fn build_contract(package: &str) -> Vec<u8> {
    let target_dir = workspace().join("target/devnode-tests");
    let status = Command::new(env!("CARGO"))
        .current_dir(workspace())
        .args([
            "build",
            "-p",
            package,
            "--profile",
            "contract",
            "--target",
            "wasm32-unknown-unknown",
            "--quiet",
        ])
        .env("CARGO_TARGET_DIR", &target_dir)
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building {package} for wasm32 failed");
    let file = target_dir
        .join("wasm32-unknown-unknown/contract")
        .join(format!("{}.wasm", package.replace('-', "_")));
    std::fs::read(&file).unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()))
}

/// The raw counter module (built once per test binary).
pub fn counter_wasm() -> &'static [u8] {
    static WASM: OnceLock<Vec<u8>> = OnceLock::new();
    WASM.get_or_init(|| build_contract("stylus-counter"))
}

/// The counter, processed and compressed.
pub fn counter() -> PreparedProgram {
    prepare_program(counter_wasm()).expect("the counter is a valid program")
}

/// Deploys `code` with a CREATE transaction from `from`.
pub fn deploy(node: &mut Devnode, from: Address, code: &[u8]) -> Receipt {
    node.send(&TxRequest {
        from,
        to: None,
        input: init_code_for(code),
        ..Default::default()
    })
    .expect("deploy transaction accepted")
}

/// Sends `call` to `to` from `from`.
pub fn send<C: SolCall>(node: &mut Devnode, from: Address, to: Address, call: &C) -> Receipt {
    node.send(&TxRequest {
        from,
        to: Some(to),
        input: call.abi_encode().into(),
        ..Default::default()
    })
    .expect("transaction accepted")
}

/// Calls `call` on `to` without committing, decoding the return value.
pub fn view<C: SolCall>(node: &mut Devnode, to: Address, call: &C) -> C::Return {
    let from = node.accounts()[0];
    let result = node
        .call(&TxRequest {
            from,
            to: Some(to),
            input: call.abi_encode().into(),
            ..Default::default()
        })
        .expect("call accepted");
    assert!(result.is_success(), "call failed: {result:?}");
    C::abi_decode_returns(result.output().expect("output")).expect("decodes")
}

/// Activates `program` through ArbWasm.
pub fn activate(node: &mut Devnode, from: Address, program: Address) -> Receipt {
    send(node, from, ARB_WASM, &ArbWasm::activateProgramCall { program })
}

/// Deploys and activates the counter, returning its address.
pub fn deploy_counter(node: &mut Devnode) -> Address {
    let from = node.accounts()[0];
    let receipt = deploy(node, from, counter().code());
    assert!(receipt.status, "{receipt:?}");
    let address = receipt.contract_address.expect("created");
    let receipt = activate(node, from, address);
    assert!(receipt.status, "activation failed: {receipt:?}");
    address
}

/// `U256` shorthand.
pub fn u(value: u64) -> U256 {
    U256::from(value)
}

/// The raw devnode probe module (built once per test binary).
pub fn probe_wasm() -> &'static [u8] {
    static WASM: OnceLock<Vec<u8>> = OnceLock::new();
    WASM.get_or_init(|| build_contract("devnode-probe"))
}

/// The devnode probe, processed and compressed.
pub fn probe() -> PreparedProgram {
    prepare_program(probe_wasm()).expect("the probe is a valid program")
}

/// Deploys `count` probes from the first dev account and activates their (shared) code hash through
/// ArbWasm, returning their addresses.
pub fn deploy_probes(node: &mut Devnode, count: usize) -> Vec<Address> {
    let from = node.accounts()[0];
    let code = probe().into_code();
    let probes: Vec<Address> = (0..count)
        .map(|_| {
            let receipt = deploy(node, from, &code);
            assert!(receipt.status, "{receipt:?}");
            receipt.contract_address.expect("created")
        })
        .collect();
    let receipt = activate(node, from, probes[0]);
    assert!(receipt.status, "activation failed: {receipt:?}");
    probes
}

/// The `bytecode` of a `@uniswap/v2-core` build artifact; fails (never skips) when the package is missing.
pub fn uniswap_artifact(name: &str) -> Vec<u8> {
    damm_devnode::evm_code::uniswap_artifact(&workspace(), name)
}

/// Sends a raw transaction `input` to `to` (`None`: create) with `value` wei and an optional gas limit.
pub fn send_raw_call(
    node: &mut Devnode,
    from: Address,
    to: Option<Address>,
    value: U256,
    input: Vec<u8>,
    gas_limit: Option<u64>,
) -> Receipt {
    node.send(&TxRequest {
        from,
        to,
        value,
        input: input.into(),
        gas_limit,
    })
    .expect("transaction accepted")
}

/// Executes raw `input` on `to` without committing, returning `(success, output)`.
pub fn call_raw(node: &mut Devnode, to: Address, input: Vec<u8>) -> (bool, Bytes) {
    let from = node.accounts()[0];
    let result = node
        .call(&TxRequest {
            from,
            to: Some(to),
            input: input.into(),
            ..Default::default()
        })
        .expect("call accepted");
    (result.is_success(), result.output().cloned().unwrap_or_default())
}

/// Runtime code of an EVM contract that forwards its calldata and value to `target` with all the gas and
/// returns (or reverts with) exactly what `target` returned.
pub fn evm_forwarder(target: Address) -> Vec<u8> {
    let mut code = vec![0x36, 0x60, 0x00, 0x60, 0x00, 0x37]; // CALLDATACOPY(0, 0, CALLDATASIZE)
    code.extend([0x60, 0x00, 0x60, 0x00, 0x36, 0x60, 0x00, 0x34, 0x73]);
    code.extend(target.as_slice());
    code.extend([0x5a, 0xf1]); // CALL(GAS, target, CALLVALUE, 0, CALLDATASIZE, 0, 0)
    code.extend([0x3d, 0x60, 0x00, 0x60, 0x00, 0x3e]); // RETURNDATACOPY(0, 0, RETURNDATASIZE)
    let ok = u8::try_from(code.len() + 3 + 4).expect("short");
    code.extend([0x60, ok, 0x57]);
    code.extend([0x3d, 0x60, 0x00, 0xfd]); // REVERT(0, RETURNDATASIZE)
    code.extend([0x5b, 0x3d, 0x60, 0x00, 0xf3]); // RETURN(0, RETURNDATASIZE)
    code
}

/// Deploys `runtime` (EVM code) and returns its address.
pub fn deploy_evm(node: &mut Devnode, from: Address, runtime: &[u8]) -> Address {
    let receipt = deploy(node, from, runtime);
    assert!(receipt.status, "{receipt:?}");
    receipt.contract_address.expect("created")
}
