//! EVM code the tests, benchmarks and tools deploy on a chain: the `@uniswap/v2-core` build artifacts, init code
//! that deploys given runtime code as is, and a straight-line script contract that makes several calls in one
//! transaction.

use std::path::Path;

use alloy_primitives::{Address, Bytes};

/// The `bytecode` of the `@uniswap/v2-core` build artifact `name` (`ERC20`, `UniswapV2Factory`, …) under
/// `workspace`'s `node_modules`. Panics (never skips) when the package is missing, naming the set-up script.
pub fn uniswap_artifact(workspace: &Path, name: &str) -> Vec<u8> {
    let path = workspace
        .join("node_modules/@uniswap/v2-core/build")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{} is missing ({e}): run scripts/setup.sh to install @uniswap/v2-core",
            path.display()
        )
    });
    let json: serde_json::Value = serde_json::from_str(&text).expect("artifact is JSON");
    let hex = json["bytecode"].as_str().expect("artifact has a bytecode");
    alloy_primitives::hex::decode(hex).expect("bytecode is hex")
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

/// Runtime code of an EVM contract that executes `calls` in order, each `(target, calldata)` with all the
/// gas and no value, and reverts with the failing call's revert data, byte for byte, if one fails; else
/// stops. (Straight-line code, generated per script: the calldata lives after the code.)
pub fn evm_script(calls: &[(Address, Vec<u8>)]) -> Vec<u8> {
    // Per call: PUSH2 len, PUSH2 offset, PUSH1 0, CODECOPY (9 bytes); PUSH1 0, PUSH1 0, PUSH2 len, PUSH1 0,
    // PUSH1 0, PUSH20 target, GAS, CALL (34 bytes); PUSH2 ok, JUMPI (4 bytes); RETURNDATASIZE, PUSH1 0,
    // PUSH1 0, RETURNDATACOPY, RETURNDATASIZE, PUSH1 0, REVERT (10 bytes); JUMPDEST (1 byte).
    const PER_CALL: usize = 9 + 34 + 4 + 10 + 1;
    let code_len = PER_CALL * calls.len() + 1;
    let mut code = Vec::new();
    let mut data: Vec<u8> = Vec::new();
    for (target, calldata) in calls {
        let len = u16::try_from(calldata.len()).expect("short calldata");
        let offset = u16::try_from(code_len + data.len()).expect("short script");
        code.push(0x61);
        code.extend(len.to_be_bytes());
        code.push(0x61);
        code.extend(offset.to_be_bytes());
        code.extend([0x60, 0x00, 0x39]);
        code.extend([0x60, 0x00, 0x60, 0x00, 0x61]);
        code.extend(len.to_be_bytes());
        code.extend([0x60, 0x00, 0x60, 0x00, 0x73]);
        code.extend(target.as_slice());
        code.extend([0x5a, 0xf1]);
        let ok = u16::try_from(code.len() + 4 + 10).expect("short script");
        code.push(0x61);
        code.extend(ok.to_be_bytes());
        code.push(0x57);
        code.extend([0x3d, 0x60, 0x00, 0x60, 0x00, 0x3e, 0x3d, 0x60, 0x00, 0xfd]);
        code.push(0x5b);
        data.extend(calldata);
    }
    code.push(0x00);
    assert_eq!(code.len(), code_len);
    code.extend(data);
    code
}
