//! The devnode's JSON-RPC server against the official tooling, as a user would run it:
//!
//! - `cargo stylus check` and `cargo stylus deploy` (cargo-stylus 0.10.10) build, deploy and activate
//!   `contracts/stylus-counter` on the devnode, and the deployed counter then answers alloy's calls;
//! - Foundry's `cast` reads and writes a counter on the devnode.
//!
//! The tools are located as `scripts/setup.sh` installs them: cargo-stylus in
//! `${DAMM_TOOLS_DIR:-$HOME/.cache/damm-tools}/cargo-stylus-0.10.10/bin/cargo-stylus`, cast as the native
//! binary of the `@foundry-rs/cast` platform package in `node_modules`. A missing tool fails the test, naming
//! `scripts/setup.sh`.

mod common;

use std::{
    path::{Path, PathBuf},
    process::Output,
    time::{Duration, Instant},
};

use alloy::{
    network::{EthereumWallet, TransactionBuilder},
    primitives::{keccak256, Address, U256},
    providers::{Provider, ProviderBuilder},
    rpc::types::TransactionRequest,
    signers::local::PrivateKeySigner,
    sol,
};
use damm_devnode::{
    rpc::{RpcServer, ServerConfig},
    NITRO_DEV_KEY,
};

/// The cargo-stylus version `scripts/setup.sh` installs.
const CARGO_STYLUS_VERSION: &str = "0.10.10";
/// Anvil's first dev key (funded on the devnode).
const ANVIL_KEY_0: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
/// A generous bound on one tool run (a cold `cargo stylus` builds the contract twice: wasm32 and host).
const TOOL_TIMEOUT: Duration = Duration::from_secs(600);

sol! {
    #[sol(rpc)]
    interface ICounter {
        function number() external view returns (uint256);
        function setNumber(uint256 newNumber) external;
        function increment() external;
    }

    #[sol(rpc)]
    interface IConstructed {
        function number() external view returns (uint256);
        function owner() external view returns (address);
        function endowment() external view returns (uint256);
    }

    #[sol(rpc)]
    interface IArbWasm {
        function activateProgram(address program) external payable returns (uint16 version, uint256 dataFee);
        function codehashVersion(bytes32 codehash) external view returns (uint16 version);
        function programVersion(address program) external view returns (uint16 version);
        function activationGas() external view returns (uint64 gas);

        event ProgramActivated(
            bytes32 indexed codehash,
            bytes32 moduleHash,
            address program,
            uint256 dataFee,
            uint16 version
        );

        error ProgramNotActivated();
        error ProgramUpToDate();
    }
}

const ARB_WASM: Address = damm_devnode::arb::ARB_WASM;

/// Where `scripts/setup.sh` installs the tools it caches outside the repository.
fn tools_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("DAMM_TOOLS_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").expect("HOME is set");
    Path::new(&home).join(".cache/damm-tools")
}

/// The cargo-stylus binary; fails the test when it is not installed.
fn cargo_stylus() -> PathBuf {
    let bin = tools_dir()
        .join(format!("cargo-stylus-{CARGO_STYLUS_VERSION}"))
        .join("bin/cargo-stylus");
    assert!(
        bin.is_file(),
        "cargo-stylus {CARGO_STYLUS_VERSION} is not installed at {}: run scripts/setup.sh",
        bin.display()
    );
    bin
}

/// The native cast binary of the `@foundry-rs/cast` platform package; fails the test when it is missing.
fn cast() -> PathBuf {
    let platform = match (std::env::consts::OS, std::env::consts::ARCH) {
        ("linux", "x86_64") => "linux-amd64",
        ("linux", "aarch64") => "linux-arm64",
        ("macos", "x86_64") => "darwin-amd64",
        ("macos", "aarch64") => "darwin-arm64",
        (os, arch) => panic!("no @foundry-rs/cast package for {os}-{arch}"),
    };
    let bin = common::workspace()
        .join("node_modules/@foundry-rs")
        .join(format!("cast-{platform}"))
        .join("bin/cast");
    assert!(
        bin.is_file(),
        "cast is not installed at {}: run scripts/setup.sh",
        bin.display()
    );
    bin
}

/// Removes terminal colour sequences (`ESC [ ... letter`) from tool output.
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// Standard output and error of a finished tool, colours removed.
fn text(output: &Output) -> String {
    strip_ansi(&format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    ))
}

/// Runs `command` to completion (killing it after [`TOOL_TIMEOUT`]) and fails the test, with the tool's
/// output, unless it succeeds.
async fn run(what: &str, mut command: tokio::process::Command) -> String {
    command.kill_on_drop(true).stdin(std::process::Stdio::null());
    let started = Instant::now();
    let output = tokio::time::timeout(TOOL_TIMEOUT, command.output())
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within {TOOL_TIMEOUT:?}"))
        .unwrap_or_else(|e| panic!("{what} could not start: {e}"));
    let text = text(&output);
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{text}",
        output.status
    );
    eprintln!("{what}: ok in {:.1?}", started.elapsed());
    text
}

/// `cargo-stylus stylus <args>` in `contracts/<contract>`, as `cargo stylus <args>` run there by a user.
///
/// The environment cargo gives a test is removed (`CARGO` and `RUSTUP_TOOLCHAIN` would override the toolchain
/// the contract's `rust-toolchain.toml` pins), and the build goes to its own target directory: the test's
/// `cargo` holds the workspace target directory's lock while the test runs.
fn cargo_stylus_command(contract: &str, args: &[&str]) -> tokio::process::Command {
    let workspace = common::workspace();
    let mut command = tokio::process::Command::new(cargo_stylus());
    command
        .arg("stylus")
        .args(args)
        .current_dir(workspace.join("contracts").join(contract))
        .env("CARGO_TARGET_DIR", workspace.join("target/stylus-tooling"))
        .env("NO_COLOR", "1");
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy().into_owned();
        if key == "CARGO"
            || key == "RUSTUP_TOOLCHAIN"
            || key == "RUSTC"
            || key == "RUSTDOC"
            || key == "RUSTC_WRAPPER"
            || key == "RUSTC_WORKSPACE_WRAPPER"
            || key.starts_with("CARGO_PKG_")
            || key.starts_with("CARGO_BIN_")
            || key.starts_with("CARGO_CRATE_")
            || key == "CARGO_MANIFEST_DIR"
            || key == "CARGO_MANIFEST_PATH"
            || key == "CARGO_PRIMARY_PACKAGE"
        {
            command.env_remove(&key);
        }
    }
    // `cargo` must be rustup's proxy (which reads rust-toolchain.toml): put cargo's bin directory first.
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")));
    if let Some(bin) = cargo_home
        .map(|h| h.join("bin"))
        .filter(|b| b.join("cargo").exists())
    {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let paths = std::iter::once(bin).chain(std::env::split_paths(&path));
        command.env("PATH", std::env::join_paths(paths).expect("PATH entries join"));
    }
    command
}

/// The address after `marker` in `text` (a `0x` + 40 hex digits word).
fn address_after(text: &str, marker: &str) -> Option<Address> {
    let rest = &text[text.find(marker)? + marker.len()..];
    let word = rest.split_whitespace().next()?;
    let word = word.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    let hex = word.strip_prefix("0x").unwrap_or(word);
    format!("0x{hex}").parse().ok()
}

fn signer(key: &str) -> PrivateKeySigner {
    key.parse().expect("a valid dev key")
}

/// An alloy provider on `url` that signs with `key`.
fn wallet_provider(key: PrivateKeySigner, url: &str) -> impl Provider {
    ProviderBuilder::new()
        .wallet(EthereumWallet::from(key))
        .connect_http(url.parse().expect("the server URL parses"))
}

/// Deploys the counter's code from `from` with a creation transaction (not activated), returning its address.
async fn deploy_counter(provider: &impl Provider, from: Address) -> Address {
    let tx = TransactionRequest::default()
        .with_from(from)
        .with_deploy_code(common::init_code_for(common::counter().code()));
    let receipt = provider
        .send_transaction(tx)
        .await
        .expect("deploy sent")
        .get_receipt()
        .await
        .expect("deploy mined");
    assert!(receipt.status(), "deploy failed: {receipt:?}");
    receipt.contract_address.expect("a contract address")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cargo_stylus_checks_deploys_and_activates_the_counter_on_the_devnode() {
    let bin = cargo_stylus();
    let server = RpcServer::spawn(ServerConfig::default()).expect("the RPC server starts");
    let url = server.url();

    // `check`: builds the counter, sees its code hash is not active (ArbWasm.codehashVersion reverts with
    // ProgramNotActivated), and simulates the activation with eth_call and a state override for the data fee.
    let out = run(
        "cargo stylus check",
        cargo_stylus_command("stylus-counter", &["check", "--endpoint", &url]),
    )
    .await;
    assert!(
        out.contains("wasm data fee"),
        "check did not simulate the activation:\n{out}"
    );

    // `deploy`: a CREATE transaction with the code, then ArbWasm.activateProgram, both signed locally with
    // nitro's dev key and sent with eth_sendRawTransaction.
    let out = run(
        "cargo stylus deploy",
        cargo_stylus_command(
            "stylus-counter",
            &[
                "deploy",
                "--endpoint",
                &url,
                "--private-key",
                NITRO_DEV_KEY,
                "--no-verify",
            ],
        ),
    )
    .await;
    let counter = address_after(&out, "deployed code at address:")
        .unwrap_or_else(|| panic!("no deployed address in the output of cargo stylus deploy:\n{out}"));
    assert!(
        out.contains("successfully activated contract"),
        "deploy did not activate:\n{out}"
    );
    eprintln!(
        "counter deployed by cargo stylus at {counter} ({})",
        bin.display()
    );

    // The counter, through alloy.
    let provider = wallet_provider(signer(ANVIL_KEY_0), &url);
    let code = provider.get_code_at(counter).await.expect("eth_getCode");
    assert!(
        code.starts_with(&[0xEF, 0xF0, 0x00, 0x00]),
        "not Stylus code: {code}"
    );
    let arb_wasm = IArbWasm::new(ARB_WASM, &provider);
    assert_eq!(
        arb_wasm
            .programVersion(counter)
            .call()
            .await
            .expect("programVersion"),
        2
    );
    assert_eq!(
        arb_wasm
            .codehashVersion(keccak256(&code))
            .call()
            .await
            .expect("codehashVersion: active now"),
        2
    );

    let contract = ICounter::new(counter, &provider);
    assert_eq!(contract.number().call().await.expect("number()"), U256::ZERO);
    let receipt = contract
        .setNumber(U256::from(41))
        .send()
        .await
        .expect("setNumber sent")
        .get_receipt()
        .await
        .expect("setNumber mined");
    assert!(receipt.status(), "setNumber failed: {receipt:?}");
    let receipt = contract
        .increment()
        .send()
        .await
        .expect("increment sent")
        .get_receipt()
        .await
        .expect("increment mined");
    assert!(receipt.status(), "increment failed: {receipt:?}");
    assert_eq!(contract.number().call().await.expect("number()"), U256::from(42));

    // Already active: activating the same code again is refused (ProgramUpToDate), in a simulation.
    match arb_wasm.activateProgram(counter).call().await {
        Ok(_) => panic!("a second activation of the same code succeeded"),
        Err(e) => assert!(
            matches!(
                e.as_decoded_interface_error::<IArbWasm::IArbWasmErrors>(),
                Some(IArbWasm::IArbWasmErrors::ProgramUpToDate(_))
            ),
            "a second activation should revert with ProgramUpToDate: {e}"
        ),
    }
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cargo_stylus_deploys_a_contract_with_a_constructor_through_the_deployer() {
    let server = RpcServer::spawn(ServerConfig::default()).expect("the RPC server starts");
    let url = server.url();
    let owner = "0x00000000000000000000000000000000000000aa";
    // A constructor makes the tool send one transaction to the StylusDeployer: create, activate and call
    // the constructor (with 0.001 ether) at once.
    let out = run(
        "cargo stylus deploy (constructor)",
        cargo_stylus_command(
            "stylus-constructed",
            &[
                "deploy",
                "--endpoint",
                &url,
                "--private-key",
                NITRO_DEV_KEY,
                "--no-verify",
                "--constructor-value",
                "0.001",
                "--constructor-args",
                "42",
                owner,
            ],
        ),
    )
    .await;
    let address = address_after(&out, "deployed code at address:")
        .unwrap_or_else(|| panic!("no deployed address in the output of cargo stylus deploy:\n{out}"));
    let provider = ProviderBuilder::new().connect_http(url.parse().expect("the server URL parses"));
    let contract = IConstructed::new(address, &provider);
    assert_eq!(contract.number().call().await.expect("number()"), U256::from(42));
    assert_eq!(
        contract.owner().call().await.expect("owner()"),
        owner.parse::<Address>().unwrap()
    );
    assert_eq!(
        contract.endowment().call().await.expect("endowment()"),
        U256::from(10u64).pow(U256::from(15u64)),
        "the constructor received the value"
    );
    assert_eq!(
        provider.get_balance(address).await.expect("eth_getBalance"),
        U256::from(10u64).pow(U256::from(15u64))
    );
    let code = provider.get_code_at(address).await.expect("eth_getCode");
    let arb_wasm = IArbWasm::new(ARB_WASM, &provider);
    assert_eq!(
        arb_wasm
            .codehashVersion(keccak256(&code))
            .call()
            .await
            .expect("activated by the deployer"),
        2
    );
    // The deployer kept nothing.
    assert_eq!(
        provider
            .get_balance(damm_devnode::deployer::STYLUS_DEPLOYER)
            .await
            .expect("eth_getBalance"),
        U256::ZERO
    );
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cast_reads_and_writes_a_counter_on_the_devnode() {
    let cast = cast();
    let server = RpcServer::spawn(ServerConfig::default()).expect("the RPC server starts");
    let url = server.url();
    let key = signer(ANVIL_KEY_0);
    let from = key.address();
    let provider = wallet_provider(key, &url);

    // The counter, deployed and activated through the RPC server with alloy.
    let counter = deploy_counter(&provider, from).await;
    let receipt = IArbWasm::new(ARB_WASM, &provider)
        .activateProgram(counter)
        .send()
        .await
        .expect("activation sent")
        .get_receipt()
        .await
        .expect("activation mined");
    assert!(receipt.status(), "activation failed: {receipt:?}");

    let cast_run = |args: Vec<String>| {
        let mut command = tokio::process::Command::new(&cast);
        command.args(&args).env("NO_COLOR", "1");
        (format!("cast {}", args.join(" ")), command)
    };
    let s = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    let counter_hex = counter.to_string();

    let (what, command) = cast_run(s(&["chain-id", "--rpc-url", &url]));
    assert_eq!(run(&what, command).await.trim(), "412346");

    let (what, command) = cast_run(s(&["call", &counter_hex, "number()(uint256)", "--rpc-url", &url]));
    assert_eq!(run(&what, command).await.trim(), "0");

    let (what, command) = cast_run(s(&[
        "send",
        &counter_hex,
        "setNumber(uint256)",
        "1234",
        "--private-key",
        ANVIL_KEY_0,
        "--rpc-url",
        &url,
        "--json",
    ]));
    let out = run(&what, command).await;
    let receipt: serde_json::Value = serde_json::from_str(out.trim())
        .unwrap_or_else(|e| panic!("cast send --json printed no receipt ({e}):\n{out}"));
    assert_eq!(receipt["status"], "0x1", "{receipt}");

    let (what, command) = cast_run(s(&["call", &counter_hex, "number()(uint256)", "--rpc-url", &url]));
    assert_eq!(run(&what, command).await.trim(), "1234");
    assert_eq!(
        ICounter::new(counter, &provider)
            .number()
            .call()
            .await
            .expect("number()"),
        U256::from(1234)
    );
    drop(server);
}

/// What `cargo stylus` relies on beyond the happy path: the value sent with `activateProgram` beyond the data
/// fee (0 on the devnode) comes back to the sender, as nitro's `payActivationDataFee` repays it, the
/// activation emits nitro's `ProgramActivated`, and `activationGas()` is far below the 30,000,000 the tool
/// reads as "activations paused".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activation_repays_the_value_and_emits_program_activated() {
    let server = RpcServer::spawn(ServerConfig::default()).expect("the RPC server starts");
    let key = signer(ANVIL_KEY_0);
    let from = key.address();
    let provider = wallet_provider(key, &server.url());
    let counter = deploy_counter(&provider, from).await;
    let code = provider.get_code_at(counter).await.expect("eth_getCode");

    let arb_wasm = IArbWasm::new(ARB_WASM, &provider);
    assert!(arb_wasm.activationGas().call().await.expect("activationGas") < 30_000_000);
    let one_ether = U256::from(10u64).pow(U256::from(18u64));
    // The simulation `cargo stylus` runs: a data fee of 0.
    let simulated = arb_wasm
        .activateProgram(counter)
        .value(one_ether)
        .call()
        .await
        .expect("simulated activation");
    assert_eq!((simulated.version, simulated.dataFee), (2, U256::ZERO));

    let before = provider.get_balance(from).await.expect("eth_getBalance");
    let receipt = arb_wasm
        .activateProgram(counter)
        .value(one_ether)
        .send()
        .await
        .expect("activation sent")
        .get_receipt()
        .await
        .expect("activation mined");
    assert!(receipt.status(), "activation failed: {receipt:?}");
    let after = provider.get_balance(from).await.expect("eth_getBalance");
    let fee = U256::from(receipt.gas_used) * U256::from(receipt.effective_gas_price);
    assert_eq!(
        after,
        before - fee,
        "the ether sent along came back, only gas was paid"
    );
    assert_eq!(
        provider.get_balance(ARB_WASM).await.expect("eth_getBalance"),
        U256::ZERO
    );

    let logs = receipt.inner.logs();
    assert_eq!(logs.len(), 1, "{logs:?}");
    let event = logs[0]
        .log_decode::<IArbWasm::ProgramActivated>()
        .expect("a ProgramActivated event");
    assert_eq!(event.address(), ARB_WASM);
    let event = event.inner.data;
    assert_eq!(event.codehash, keccak256(&code));
    assert_eq!(event.program, counter);
    assert_eq!(event.dataFee, U256::ZERO);
    assert_eq!(event.version, 2);
    drop(server);
}
