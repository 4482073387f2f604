//! JSON-RPC helpers for the tests and benchmarks that talk to nodes over HTTP: starting Anvil (the reference
//! node), raw requests through alloy that keep the error code, message and data, and transactions signed with
//! the dev keys.
//!
//! Included with `#[path]` by `tests/anvil_conformance.rs` and `benches/rpc_tps.rs` (not by `common/mod.rs`,
//! so the other test binaries do not compile alloy's client).

#![allow(dead_code, unreachable_pub)]

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use alloy::{rpc::client::RpcClient, transports::http::reqwest};
use alloy_consensus::{SignableTransaction, TxEip1559, TxEip2930, TxEnvelope, TxLegacy};
use alloy_eips::{eip2718::Encodable2718, eip2930::AccessList};
use alloy_primitives::{Address, Bytes, TxKind, B256, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::{coins_bip39::English, MnemonicBuilder, PrivateKeySigner};
use serde_json::{json, Value};

/// Chain id of both nodes (the devnode's default, nitro's devnode).
pub const CHAIN_ID: u64 = 412_346;
/// Genesis timestamp of both nodes (the devnode's default).
pub const GENESIS_TIMESTAMP: u64 = 1_700_000_000;
/// Block gas limit of both nodes (the devnode's default, 2^50).
pub const BLOCK_GAS_LIMIT: u64 = 1_125_899_906_842_624;
/// Anvil's (and the devnode's) dev mnemonic.
pub const MNEMONIC: &str = "test test test test test test test test test test test junk";

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("devnode/ is in the workspace")
        .to_path_buf()
}

/// The native Anvil binary installed by `scripts/setup.sh` (npm `@foundry-rs/anvil`); panics, naming the
/// script, when it is missing: the conformance suite never skips.
pub fn anvil_binary() -> PathBuf {
    let platform = match (std::env::consts::OS, std::env::consts::ARCH) {
        ("linux", "x86_64") => "linux-amd64",
        ("linux", "aarch64") => "linux-arm64",
        ("macos", "x86_64") => "darwin-amd64",
        ("macos", "aarch64") => "darwin-arm64",
        (os, arch) => panic!("no @foundry-rs/anvil package for {os}-{arch}"),
    };
    let path = workspace_root().join(format!("node_modules/@foundry-rs/anvil-{platform}/bin/anvil"));
    assert!(
        path.is_file(),
        "the Anvil binary {} is missing: run scripts/setup.sh",
        path.display()
    );
    path
}

/// A running Anvil process, killed when dropped (also when the test panics).
#[derive(Debug)]
pub struct Anvil {
    child: Child,
    url: String,
}

impl Anvil {
    /// Starts Anvil on a free loopback port configured like the devnode: chain id 412,346, Prague, a fixed
    /// base fee of 0, the devnode's block gas limit and genesis timestamp; waits until it answers. Its output
    /// (one line per transaction) is read and dropped.
    pub fn spawn() -> Self {
        Self::start(false)
    }

    /// As [`Self::spawn`], with `--silent` (no output per transaction; for the benchmarks).
    pub fn spawn_silent() -> Self {
        Self::start(true)
    }

    fn start(silent: bool) -> Self {
        let binary = anvil_binary();
        let mut command = Command::new(&binary);
        command
            .args(["--host", "127.0.0.1"])
            .args(["--chain-id", &CHAIN_ID.to_string()])
            .args(["--hardfork", "prague"])
            .args(["--block-base-fee-per-gas", "0"])
            .args(["--gas-limit", &BLOCK_GAS_LIMIT.to_string()])
            .args(["--timestamp", &GENESIS_TIMESTAMP.to_string()])
            .stdin(Stdio::null())
            .stderr(Stdio::null());
        if silent {
            // Silent Anvil prints nothing, not even its address: take a free port (the gap between releasing
            // it and Anvil binding it is the usual small race).
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free loopback port")
                .port();
            command
                .args(["--port", &port.to_string(), "--silent"])
                .stdout(Stdio::null());
            let child = command
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e} (run scripts/setup.sh)", binary.display()));
            let anvil = Self {
                child,
                url: format!("http://127.0.0.1:{port}"),
            };
            wait_ready(&anvil.url);
            return anvil;
        }
        let mut child = command
            .args(["--port", "0"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e} (run scripts/setup.sh)", binary.display()));
        // Anvil prints "Listening on 127.0.0.1:<port>" once bound; the thread then keeps draining its output
        // so the pipe never fills.
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(address) = line.trim().strip_prefix("Listening on ") {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(address.to_string());
                    }
                }
            }
        });
        let mut anvil = Self {
            child,
            url: String::new(),
        };
        let address = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("Anvil did not report its address within 30 s");
        anvil.url = format!("http://{address}");
        wait_ready(&anvil.url);
        anvil
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `eth_chainId` at `url` until it answers (30 s at most).
pub fn wait_ready(url: &str) {
    let url = url.to_string();
    let ready = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let rpc = Rpc::new(&url);
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(30) {
                if rpc.call("eth_chainId", json!([])).await.is_ok() {
                    return true;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            false
        })
    })
    .join()
    .expect("readiness poll");
    assert!(ready, "the node did not answer eth_chainId within 30 s");
}

/// A JSON-RPC error as the node sent it (or a transport failure, with code 0).
#[derive(Debug, Clone, PartialEq)]
pub struct RpcFailure {
    /// The error code (`0`: the request failed below JSON-RPC).
    pub code: i64,
    /// The message.
    pub message: String,
    /// The `data` member, if any.
    pub data: Option<Value>,
}

impl RpcFailure {
    /// `{"code", "message", "data"}`.
    pub fn to_json(&self) -> Value {
        json!({ "code": self.code, "message": self.message, "data": self.data })
    }
}

/// An HTTP JSON-RPC client (alloy's `RpcClient`) returning raw JSON values.
#[derive(Debug, Clone)]
pub struct Rpc {
    client: RpcClient,
    http: reqwest::Client,
    url: String,
}

impl Rpc {
    /// A client for `url`.
    pub fn new(url: &str) -> Self {
        Self {
            client: RpcClient::new_http(url.parse().expect("node URL")),
            http: reqwest::Client::new(),
            url: url.to_string(),
        }
    }

    /// The node's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Calls `method` with `params` (a JSON array), returning the raw result or the raw error.
    pub async fn call(&self, method: &'static str, params: Value) -> Result<Value, RpcFailure> {
        self.client
            .request::<Value, Value>(method, params)
            .await
            .map_err(|e| match e.as_error_resp() {
                Some(payload) => RpcFailure {
                    code: payload.code,
                    message: payload.message.to_string(),
                    data: payload
                        .data
                        .as_ref()
                        .map(|d| serde_json::from_str(d.get()).unwrap_or(Value::Null)),
                },
                None => RpcFailure {
                    code: 0,
                    message: e.to_string(),
                    data: None,
                },
            })
    }

    /// POSTs `body` as is (`content-type: application/json`), returning the HTTP status and the body (for
    /// batches and malformed requests, which alloy's client does not send).
    pub async fn post_raw(&self, body: &str) -> (u16, String) {
        match self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
        {
            Ok(response) => {
                let status = response.status().as_u16();
                (status, response.text().await.unwrap_or_default())
            }
            Err(e) => (0, e.to_string()),
        }
    }

    /// Sends a signed transaction, returning its hash.
    pub async fn send_raw(&self, raw: &Bytes) -> Result<Value, RpcFailure> {
        self.call("eth_sendRawTransaction", json!([raw])).await
    }

    /// Polls `eth_getTransactionReceipt` until the receipt is there (`timeout` at most; `Null` then, and at once
    /// for a `Null` hash: a refused transaction).
    pub async fn wait_receipt(&self, hash: &Value, timeout: Duration) -> Value {
        if hash.is_null() {
            return Value::Null;
        }
        let start = Instant::now();
        loop {
            if let Ok(receipt) = self.call("eth_getTransactionReceipt", json!([hash])).await {
                if !receipt.is_null() || start.elapsed() > timeout {
                    return receipt;
                }
            } else if start.elapsed() > timeout {
                return Value::Null;
            }
            tokio::time::sleep(Duration::from_micros(100)).await;
        }
    }

    /// `eth_getTransactionCount(address, "latest")`.
    pub async fn nonce(&self, address: Address) -> u64 {
        self.call("eth_getTransactionCount", json!([address, "latest"]))
            .await
            .ok()
            .and_then(|v| quantity(&v))
            .unwrap_or_default()
    }
}

/// A JSON quantity (`"0x1a"`) or number as `u64`.
pub fn quantity(value: &Value) -> Option<u64> {
    match value {
        Value::String(s) => u64::from_str_radix(s.strip_prefix("0x")?, 16).ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
}

/// Dev key `index` of [`MNEMONIC`] (Anvil's accounts: index 0 is `0xf39F…2266`).
pub fn dev_key(index: u32) -> PrivateKeySigner {
    MnemonicBuilder::<English>::default()
        .phrase(MNEMONIC)
        .index(index)
        .and_then(|b| b.build())
        .expect("dev key derives")
}

/// The transaction types the workload sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxType {
    /// Type 0 with an EIP-155 chain id.
    Legacy,
    /// Type 1 (access list).
    Eip2930,
    /// Type 2 (fee market).
    Eip1559,
}

/// An unsigned transaction: every field explicit, so both nodes receive identical bytes.
#[derive(Debug, Clone)]
pub struct TxSpec {
    /// Envelope type.
    pub ty: TxType,
    /// Chain id.
    pub chain_id: u64,
    /// Nonce.
    pub nonce: u64,
    /// Recipient, `None` to create.
    pub to: Option<Address>,
    /// Value, in wei.
    pub value: U256,
    /// Call data or init code.
    pub input: Bytes,
    /// Gas limit.
    pub gas: u64,
    /// `maxFeePerGas` (type 2) or `gasPrice` (types 0 and 1).
    pub max_fee: u128,
    /// `maxPriorityFeePerGas` (type 2 only).
    pub tip: u128,
    /// Access list (types 1 and 2).
    pub access_list: AccessList,
}

impl TxSpec {
    /// A type-2 transaction with zero fees (the base fee is 0 on both nodes).
    pub fn new(nonce: u64, to: Option<Address>, input: impl Into<Bytes>, gas: u64) -> Self {
        Self {
            ty: TxType::Eip1559,
            chain_id: CHAIN_ID,
            nonce,
            to,
            value: U256::ZERO,
            input: input.into(),
            gas,
            max_fee: 0,
            tip: 0,
            access_list: AccessList::default(),
        }
    }

    /// Signs with `key`, returning the EIP-2718 encoding and the transaction hash.
    pub fn sign(&self, key: &PrivateKeySigner) -> (Bytes, B256) {
        let to = self.to.map_or(TxKind::Create, TxKind::Call);
        let envelope: TxEnvelope = match self.ty {
            TxType::Legacy => {
                let tx = TxLegacy {
                    chain_id: Some(self.chain_id),
                    nonce: self.nonce,
                    gas_price: self.max_fee,
                    gas_limit: self.gas,
                    to,
                    value: self.value,
                    input: self.input.clone(),
                };
                let signature = key.sign_hash_sync(&tx.signature_hash()).expect("signs");
                tx.into_signed(signature).into()
            }
            TxType::Eip2930 => {
                let tx = TxEip2930 {
                    chain_id: self.chain_id,
                    nonce: self.nonce,
                    gas_price: self.max_fee,
                    gas_limit: self.gas,
                    to,
                    value: self.value,
                    access_list: self.access_list.clone(),
                    input: self.input.clone(),
                };
                let signature = key.sign_hash_sync(&tx.signature_hash()).expect("signs");
                tx.into_signed(signature).into()
            }
            TxType::Eip1559 => {
                let tx = TxEip1559 {
                    chain_id: self.chain_id,
                    nonce: self.nonce,
                    gas_limit: self.gas,
                    max_fee_per_gas: self.max_fee,
                    max_priority_fee_per_gas: self.tip,
                    to,
                    value: self.value,
                    access_list: self.access_list.clone(),
                    input: self.input.clone(),
                };
                let signature = key.sign_hash_sync(&tx.signature_hash()).expect("signs");
                tx.into_signed(signature).into()
            }
        };
        (envelope.encoded_2718().into(), *envelope.tx_hash())
    }
}
