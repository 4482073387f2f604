//! Helpers shared by the integration tests: building the repo's Stylus contracts, deploying code, ABI.

#![allow(dead_code, unreachable_pub)]

use std::{
    path::{Path, PathBuf},
    process::Command,
    sync::OnceLock,
};

use alloy_primitives::{Address, Bytes, U256};
use alloy_sol_types::{sol, SolCall};
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

/// EVM init code that deploys `code` as is.
pub fn init_code_for(code: &[u8]) -> Bytes {
    let len = u16::try_from(code.len()).expect("code under 64 KiB");
    let mut init = vec![0x61];
    init.extend(len.to_be_bytes());
    init.extend([0x80, 0x60, 0x0c, 0x60, 0x00, 0x39, 0x60, 0x00, 0xf3]);
    init.extend(code);
    init.into()
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
