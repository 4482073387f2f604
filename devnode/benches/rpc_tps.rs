//! Throughput of the devnode's JSON-RPC server against Anvil, measured in one run, and the latency of a
//! Stylus call over RPC.
//!
//! Both nodes run the same configuration as the conformance suite (chain id 412,346, Prague, base fee 0,
//! automine: one block per transaction); every transaction is signed before the clock starts, so the figures
//! are the nodes' (HTTP, decoding, execution, mining, receipts) plus the client's HTTP round trips, not the
//! signing. Measured:
//!
//! - **sequential**: Uniswap V2 swap rounds (an ERC-20 `transfer` to the pair, then `swap`, alternating
//!   direction), each transaction sent with `eth_sendRawTransaction` and its receipt polled before the next;
//! - **pipelined**: ERC-20 transfers from 8 senders at once, each sender sending its next transaction as soon
//!   as the node answered the previous send, receipts awaited at the end;
//! - **calls**: `eth_call` latency of an EVM view (`balanceOf`) on both nodes, and of the Stylus counter's
//!   `number()` on the devnode (Anvil does not run Stylus), plus a Stylus `increment()` transaction.
//!
//! Run with `scripts/bench-rpc.sh` or `cargo bench -p damm-devnode --bench rpc_tps`. Sizes:
//! `RPC_BENCH_ROUNDS` swap rounds (default 500, i.e. 1,000 transactions), `RPC_BENCH_TRANSFERS` transfers
//! per pipelined sender (default 150), `RPC_BENCH_CALLS` calls (default 2,000).

#![allow(missing_docs)]

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/common/rpc.rs"]
mod rpc;

use std::time::{Duration, Instant};

use alloy_primitives::{keccak256, Address, Bytes, U256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{sol, SolCall, SolConstructor};
use damm_devnode::{
    arb::{ArbWasm, ARB_WASM},
    rpc::{RpcServer, ServerConfig},
    DevnodeConfig,
};
use rpc::{dev_key, Anvil, Rpc, TxSpec, BLOCK_GAS_LIMIT, CHAIN_ID, GENESIS_TIMESTAMP};
use serde_json::{json, Value};

sol! {
    interface IERC20 {
        constructor(uint256 totalSupply);
        function balanceOf(address owner) external view returns (uint256);
        function transfer(address to, uint256 value) external returns (bool);
    }
    interface IFactory {
        constructor(address feeToSetter);
        function createPair(address tokenA, address tokenB) external returns (address pair);
    }
    interface IPair {
        function mint(address to) external returns (uint256 liquidity);
        function swap(uint256 amount0Out, uint256 amount1Out, address to, bytes data) external;
    }
    interface Counter {
        function number() external view returns (uint256);
        function increment() external;
    }
}

const PIPELINE_SENDERS: usize = 8;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn e18(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18u64))
}

/// Uniswap V2's `getAmountOut` (0.3% fee).
fn amount_out(amount_in: U256, reserve_in: U256, reserve_out: U256) -> U256 {
    let with_fee = amount_in * U256::from(997u64);
    with_fee * reserve_out / (reserve_in * U256::from(1000u64) + with_fee)
}

/// A sender whose nonces are counted locally (every transaction here succeeds).
struct Sender {
    key: PrivateKeySigner,
    nonce: u64,
}

impl Sender {
    fn sign(&mut self, to: Option<Address>, input: Vec<u8>, gas: u64) -> Bytes {
        let spec = TxSpec::new(self.nonce, to, input, gas);
        self.nonce += 1;
        spec.sign(&self.key).0
    }
}

/// Sends `raw` and waits for its receipt, panicking unless it succeeded.
async fn send_and_wait(rpc: &Rpc, raw: &Bytes) -> Value {
    let hash = rpc.send_raw(raw).await.expect("transaction accepted");
    let receipt = rpc.wait_receipt(&hash, Duration::from_secs(30)).await;
    assert_eq!(receipt["status"], json!("0x1"), "transaction failed: {receipt}");
    receipt
}

/// The Uniswap set-up (two ERC-20s, the factory, a pair with 10^21 of each token) and the tokens handed to the
/// pipelined senders; returns `(token0, token1, pair)`.
async fn setup_uniswap(rpc: &Rpc, alice: &mut Sender, others: &[Address]) -> (Address, Address, Address) {
    let from = alice.key.address();
    let token_a = from.create(alice.nonce);
    let token_b = from.create(alice.nonce + 1);
    let factory = from.create(alice.nonce + 2);
    let mut erc20 = common::uniswap_artifact("ERC20");
    erc20.extend(
        IERC20::constructorCall {
            totalSupply: e18(1_000_000_000),
        }
        .abi_encode(),
    );
    let mut factory_code = common::uniswap_artifact("UniswapV2Factory");
    factory_code.extend(IFactory::constructorCall { feeToSetter: from }.abi_encode());
    for (input, gas) in [
        (erc20.clone(), 1_000_000),
        (erc20, 1_000_000),
        (factory_code, 5_000_000),
    ] {
        send_and_wait(rpc, &alice.sign(None, input, gas)).await;
    }
    let (token0, token1) = if token_a < token_b {
        (token_a, token_b)
    } else {
        (token_b, token_a)
    };
    let create = IFactory::createPairCall {
        tokenA: token0,
        tokenB: token1,
    };
    send_and_wait(rpc, &alice.sign(Some(factory), create.abi_encode(), 4_000_000)).await;
    let mut salt = token0.to_vec();
    salt.extend(token1.as_slice());
    let pair = factory.create2(
        keccak256(salt),
        keccak256(common::uniswap_artifact("UniswapV2Pair")),
    );
    for token in [token0, token1] {
        let transfer = IERC20::transferCall {
            to: pair,
            value: e18(1_000),
        };
        send_and_wait(rpc, &alice.sign(Some(token), transfer.abi_encode(), 300_000)).await;
    }
    send_and_wait(
        rpc,
        &alice.sign(Some(pair), IPair::mintCall { to: from }.abi_encode(), 300_000),
    )
    .await;
    for &other in others {
        let transfer = IERC20::transferCall {
            to: other,
            value: e18(1_000_000),
        };
        send_and_wait(rpc, &alice.sign(Some(token0), transfer.abi_encode(), 300_000)).await;
    }
    (token0, token1, pair)
}

/// `rounds` swap rounds, signed: a transfer of the input token to the pair, then the swap, alternating the
/// direction, amounts from the locally tracked reserves.
fn swap_rounds(
    alice: &mut Sender,
    (token0, token1, pair): (Address, Address, Address),
    (r0, r1): &mut (U256, U256),
    rounds: usize,
) -> Vec<Bytes> {
    let amount = e18(1);
    let to = alice.key.address();
    let mut txs = Vec::with_capacity(rounds * 2);
    for round in 0..rounds {
        let (token, out0, out1) = if round % 2 == 0 {
            let out = amount_out(amount, *r0, *r1);
            *r0 += amount;
            *r1 -= out;
            (token0, U256::ZERO, out)
        } else {
            let out = amount_out(amount, *r1, *r0);
            *r1 += amount;
            *r0 -= out;
            (token1, out, U256::ZERO)
        };
        let transfer = IERC20::transferCall {
            to: pair,
            value: amount,
        };
        txs.push(alice.sign(Some(token), transfer.abi_encode(), 100_000));
        let swap = IPair::swapCall {
            amount0Out: out0,
            amount1Out: out1,
            to,
            data: Bytes::new(),
        };
        txs.push(alice.sign(Some(pair), swap.abi_encode(), 200_000));
    }
    txs
}

/// Sends `txs` one by one, each receipt awaited before the next send; transactions per second.
async fn sequential(rpc: &Rpc, txs: &[Bytes]) -> f64 {
    let start = Instant::now();
    for raw in txs {
        send_and_wait(rpc, raw).await;
    }
    txs.len() as f64 / start.elapsed().as_secs_f64()
}

/// Each sender's transactions sent back to back (the next as soon as the node answered), all senders at once;
/// then every receipt awaited. Transactions per second.
async fn pipelined(rpc: &Rpc, per_sender: Vec<Vec<Bytes>>) -> f64 {
    let total: usize = per_sender.iter().map(Vec::len).sum();
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for txs in per_sender {
        let rpc = rpc.clone();
        tasks.spawn(async move {
            let mut last = Value::Null;
            for raw in &txs {
                last = rpc.send_raw(raw).await.expect("transaction accepted");
            }
            last
        });
    }
    let mut last_hashes = Vec::new();
    while let Some(hash) = tasks.join_next().await {
        last_hashes.push(hash.expect("sender task"));
    }
    for hash in &last_hashes {
        let receipt = rpc.wait_receipt(hash, Duration::from_secs(60)).await;
        assert_eq!(receipt["status"], json!("0x1"), "{receipt}");
    }
    total as f64 / start.elapsed().as_secs_f64()
}

/// Latencies of `count` `eth_call`s of `data` on `to`: (median, mean, 99th percentile), in microseconds.
async fn call_latency(rpc: &Rpc, to: Address, data: Vec<u8>, count: usize) -> (f64, f64, f64) {
    let params = json!([{ "to": to, "data": Bytes::from(data) }, "latest"]);
    let mut samples = Vec::with_capacity(count);
    for _ in 0..count {
        let start = Instant::now();
        let result = rpc.call("eth_call", params.clone()).await;
        samples.push(start.elapsed().as_secs_f64() * 1e6);
        assert!(result.is_ok(), "{result:?}");
    }
    stats(samples)
}

fn stats(mut samples: Vec<f64>) -> (f64, f64, f64) {
    samples.sort_by(f64::total_cmp);
    let mean = samples.iter().sum::<f64>() / samples.len() as f64;
    let p99 = samples[(samples.len() * 99 / 100).min(samples.len() - 1)];
    (samples[samples.len() / 2], mean, p99)
}

/// The measured figures of one node.
struct Figures {
    sequential: f64,
    pipelined: f64,
    evm_call: (f64, f64, f64),
}

async fn measure(name: &str, url: &str, rounds: usize, transfers: usize, calls: usize) -> Figures {
    let rpc = Rpc::new(url);
    let mut alice = Sender {
        key: dev_key(0),
        nonce: rpc.nonce(dev_key(0).address()).await,
    };
    let mut senders: Vec<Sender> = Vec::new();
    for index in 1..=PIPELINE_SENDERS {
        let key = dev_key(u32::try_from(index).expect("small"));
        let nonce = rpc.nonce(key.address()).await;
        senders.push(Sender { key, nonce });
    }
    let others: Vec<Address> = senders.iter().map(|s| s.key.address()).collect();
    let (token0, token1, pair) = setup_uniswap(&rpc, &mut alice, &others).await;

    // Warm-up (connections, caches), then the measured sequential rounds.
    let pool = (token0, token1, pair);
    let mut reserves = (e18(1_000), e18(1_000));
    let warm = swap_rounds(&mut alice, pool, &mut reserves, 20);
    sequential(&rpc, &warm).await;
    let txs = swap_rounds(&mut alice, pool, &mut reserves, rounds);
    let sequential_tps = sequential(&rpc, &txs).await;

    let per_sender: Vec<Vec<Bytes>> = senders
        .iter_mut()
        .map(|sender| {
            (0..transfers)
                .map(|i| {
                    let transfer = IERC20::transferCall {
                        to: Address::with_last_byte(u8::try_from(i % 200).expect("small") + 1),
                        value: U256::from(1u64),
                    };
                    sender.sign(Some(token0), transfer.abi_encode(), 100_000)
                })
                .collect()
        })
        .collect();
    let pipelined_tps = pipelined(&rpc, per_sender).await;

    let balance = IERC20::balanceOfCall {
        owner: alice.key.address(),
    };
    call_latency(&rpc, token0, balance.abi_encode(), calls / 10).await;
    let evm_call = call_latency(&rpc, token0, balance.abi_encode(), calls).await;
    println!(
        "{name:>8}: sequential {sequential_tps:>8.0} tx/s ({} swap-round txs), pipelined {pipelined_tps:>8.0} tx/s \
         ({PIPELINE_SENDERS} senders x {transfers} transfers), eth_call balanceOf median {:.0} µs mean {:.0} µs \
         p99 {:.0} µs",
        txs.len(),
        evm_call.0,
        evm_call.1,
        evm_call.2
    );
    Figures {
        sequential: sequential_tps,
        pipelined: pipelined_tps,
        evm_call,
    }
}

/// Deploys and activates the Stylus counter on the devnode over RPC; measures `number()` calls and
/// `increment()` transactions.
async fn stylus(url: &str, calls: usize) -> ((f64, f64, f64), (f64, f64, f64)) {
    let rpc = Rpc::new(url);
    let key = dev_key(9);
    let mut sender = Sender {
        nonce: rpc.nonce(key.address()).await,
        key,
    };
    let counter = sender.key.address().create(sender.nonce);
    let init = common::init_code_for(common::counter().code());
    send_and_wait(&rpc, &sender.sign(None, init.to_vec(), 20_000_000)).await;
    let activate = ArbWasm::activateProgramCall { program: counter };
    send_and_wait(
        &rpc,
        &sender.sign(Some(ARB_WASM), activate.abi_encode(), 20_000_000),
    )
    .await;
    send_and_wait(
        &rpc,
        &sender.sign(Some(counter), Counter::incrementCall {}.abi_encode(), 1_000_000),
    )
    .await;
    call_latency(&rpc, counter, Counter::numberCall {}.abi_encode(), calls / 10).await;
    let call = call_latency(&rpc, counter, Counter::numberCall {}.abi_encode(), calls).await;
    let txs: Vec<Bytes> = (0..calls / 4)
        .map(|_| sender.sign(Some(counter), Counter::incrementCall {}.abi_encode(), 1_000_000))
        .collect();
    let mut samples = Vec::with_capacity(txs.len());
    for raw in &txs {
        let start = Instant::now();
        send_and_wait(&rpc, raw).await;
        samples.push(start.elapsed().as_secs_f64() * 1e6);
    }
    (call, stats(samples))
}

fn main() {
    let rounds = env_usize("RPC_BENCH_ROUNDS", 500);
    let transfers = env_usize("RPC_BENCH_TRANSFERS", 150);
    let calls = env_usize("RPC_BENCH_CALLS", 2_000);
    // The counter is built (nested cargo) before any node starts.
    let _ = common::counter();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let anvil = Anvil::spawn_silent();
    let server = runtime
        .block_on(async {
            RpcServer::spawn(ServerConfig {
                node: DevnodeConfig {
                    base_fee: 0,
                    chain_id: CHAIN_ID,
                    genesis_timestamp: GENESIS_TIMESTAMP,
                    block_gas_limit: BLOCK_GAS_LIMIT,
                    ..Default::default()
                },
                ..Default::default()
            })
        })
        .expect("the devnode RPC server starts");
    let devnode_url = server.url();
    rpc::wait_ready(&devnode_url);
    println!(
        "rpc_tps: {rounds} swap rounds ({} txs) sequential, {PIPELINE_SENDERS} x {transfers} transfers pipelined, \
         {calls} calls",
        rounds * 2
    );
    let reference = runtime.block_on(measure("anvil", anvil.url(), rounds, transfers, calls));
    drop(anvil);
    let devnode = runtime.block_on(measure("devnode", &devnode_url, rounds, transfers, calls));
    let (call, tx) = runtime.block_on(stylus(&devnode_url, calls));
    println!(
        " stylus: eth_call counter.number() median {:.0} µs mean {:.0} µs p99 {:.0} µs; increment() send+receipt \
         median {:.0} µs mean {:.0} µs p99 {:.0} µs",
        call.0, call.1, call.2, tx.0, tx.1, tx.2
    );
    println!(
        "devnode / anvil: sequential x{:.2}, pipelined x{:.2}, eth_call latency x{:.2} (median)",
        devnode.sequential / reference.sequential,
        devnode.pipelined / reference.pipelined,
        devnode.evm_call.0 / reference.evm_call.0
    );
    let met = devnode.sequential >= reference.sequential && devnode.pipelined >= reference.pipelined;
    println!(
        "target (devnode at least as fast as Anvil, sequential and pipelined): {}",
        if met { "met" } else { "NOT met" }
    );
}
