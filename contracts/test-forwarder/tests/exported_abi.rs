//! The committed `ITestForwarder.sol` is what `cargo run -p test-forwarder --features export-abi` prints.
//!
//! Regenerate it with
//! `cargo run -q -p test-forwarder --features export-abi > contracts/test-forwarder/ITestForwarder.sol`.
//! The test builds the exporter (a host build of the crate with the SDK's `export-abi` feature) on its first
//! run, which takes a minute.

use std::{path::Path, process::Command};

#[test]
fn committed_interface_matches_the_exported_abi() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args(["run", "-q", "-p", "test-forwarder", "--features", "export-abi"])
        .current_dir(crate_dir)
        .output()
        .expect("failed to run cargo");
    assert!(
        output.status.success(),
        "`cargo run -p test-forwarder --features export-abi` failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let exported = String::from_utf8(output.stdout).expect("the exported interface is not UTF-8");
    let committed = std::fs::read_to_string(crate_dir.join("ITestForwarder.sol"))
        .expect("failed to read contracts/test-forwarder/ITestForwarder.sol");
    assert!(
        exported == committed,
        "contracts/test-forwarder/ITestForwarder.sol is out of date; regenerate it with \
         `cargo run -q -p test-forwarder --features export-abi > contracts/test-forwarder/ITestForwarder.sol`.\n\
         The exporter prints:\n{exported}"
    );
}
