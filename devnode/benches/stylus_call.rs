//! A Stylus storage-write call in-process (the counter's `increment()`, no signing), and module compilation
//! versus a cached module.

#![allow(missing_docs)]

use std::{path::Path, process::Command};

use alloy_primitives::{Address, Bytes};
use alloy_sol_types::{sol, SolCall};
use criterion::{criterion_group, criterion_main, Criterion};
use damm_devnode::{arb::ArbWasm, node::TxRequest, program::prepare_program, Devnode};

sol! {
    interface Counter {
        function increment() external;
    }
}

fn counter_code() -> Vec<u8> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace");
    let target = root.join("target/devnode-tests");
    let status = Command::new(env!("CARGO"))
        .current_dir(root)
        .args([
            "build",
            "-p",
            "stylus-counter",
            "--profile",
            "contract",
            "--target",
            "wasm32-unknown-unknown",
            "--quiet",
        ])
        .env("CARGO_TARGET_DIR", &target)
        .status()
        .expect("cargo runs");
    assert!(status.success());
    let raw =
        std::fs::read(target.join("wasm32-unknown-unknown/contract/stylus_counter.wasm")).expect("built");
    prepare_program(&raw).expect("valid").into_code()
}

fn setup() -> (Devnode, Address, Address, Vec<u8>) {
    let code = counter_code();
    let mut node = Devnode::new();
    let from = node.accounts()[0];
    let mut init = vec![0x61];
    init.extend(u16::try_from(code.len()).expect("small").to_be_bytes());
    init.extend([0x80, 0x60, 0x0c, 0x60, 0x00, 0x39, 0x60, 0x00, 0xf3]);
    init.extend(&code);
    let request = TxRequest {
        from,
        input: init.into(),
        ..Default::default()
    };
    let counter = node
        .send_unsigned(&request)
        .expect("deploys")
        .contract_address
        .expect("created");
    let activate = ArbWasm::activateProgramCall { program: counter }.abi_encode();
    let request = TxRequest {
        from,
        to: Some(damm_devnode::arb::ARB_WASM),
        input: activate.into(),
        ..Default::default()
    };
    assert!(node.send_unsigned(&request).expect("activates").status);
    (node, from, counter, code)
}

fn bench(c: &mut Criterion) {
    let (mut node, from, counter, code) = setup();
    let increment = TxRequest {
        from,
        to: Some(counter),
        input: Bytes::from(Counter::incrementCall {}.abi_encode()),
        ..Default::default()
    };
    c.bench_function("stylus increment (storage write), unsigned, committed", |b| {
        b.iter(|| assert!(node.send_unsigned(&increment).expect("runs").status))
    });
    let runtime = node.runtime().clone();
    c.bench_function("compile counter module (decompress, validate, wasmi)", |b| {
        b.iter(|| runtime.compile_uncached(&code).expect("compiles"))
    });
    c.bench_function("cached module lookup", |b| {
        let hash = alloy_primitives::keccak256(&code);
        b.iter(|| runtime.compile(hash, &code).expect("cached"))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
