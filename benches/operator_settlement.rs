//! Batch settlement latency of the operator daemon on the devnode (issue 7, "Report"): the real `damm operator
//! run` process, trades over HTTP, batches submitted to the compiled market and vault.
//!
//! For batches of 16, 128 and 512 trades (made due by size), the time from the acknowledgement of the trade
//! that fills the batch to the chain's `seq` moving (the daemon polls, builds and records the batch,
//! simulates it, signs, sends, waits for the receipt, verifies the mirror), and the gas of each batch. Then the
//! age trigger: 20 trades with `--batch-age-ms 500`, from the first acknowledgement to settlement.
//!
//! `cargo bench --bench operator_settlement` (or `scripts/bench-operator.sh`). Runs on the in-process devnode,
//! or on `DAMM_E2E_RPC` with `DAMM_E2E_KEY` like the end-to-end tests.

#[path = "../tests/e2e/mod.rs"]
mod e2e;
#[path = "../tests/e2e/operator.rs"]
mod operator;

use std::time::{Duration, Instant};

use operator::{operator_world, DaemonConfig, Ledger, TradeGen, WorldOptions};

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(run());
}

async fn run() {
    let world = operator_world("bench-settlement", WorldOptions::default()).await;
    println!("\noperator batch settlement on the devnode (the daemon as a process, trades over HTTP)\n");
    println!("| batch | trigger | acknowledged → settled | gas of the batch | gas per trade |");
    println!("|---|---|---|---|---|");
    let mut gen = TradeGen::new(0x005e_771e, world.reserves(), None);
    let ledger = std::sync::Arc::new(std::sync::Mutex::new(Ledger::default()));
    for size in [16usize, 128, 512] {
        let daemon = world.start_daemon(&DaemonConfig::batches(size, 600_000));
        let client = daemon.client;
        let seq = client.state()["seq"].as_u64().expect("seq");
        let gas_before = client.metrics().sum("damm_gas_used_total");
        for _ in 0..size - 1 {
            client.must_swap(&ledger, gen.next_req());
        }
        client.must_swap(&ledger, gen.next_req());
        let filled = Instant::now();
        while client.state()["seq"].as_u64().expect("seq") == seq {
            assert!(
                filled.elapsed() < Duration::from_secs(120),
                "the batch of {size} settles"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        let latency = filled.elapsed();
        let gas = client.metrics().sum("damm_gas_used_total") - gas_before;
        println!(
            "| {size} trades | size | {:.0} ms | {gas:.0} | {:.0} |",
            latency.as_secs_f64() * 1e3,
            gas / size as f64
        );
        daemon.stop();
    }
    let daemon = world.start_daemon(&DaemonConfig::batches(10_000, 500));
    let client = daemon.client;
    let seq = client.state()["seq"].as_u64().expect("seq");
    let first = Instant::now();
    for _ in 0..20 {
        client.must_swap(&ledger, gen.next_req());
    }
    while client.state()["seq"].as_u64().expect("seq") == seq {
        assert!(
            first.elapsed() < Duration::from_secs(120),
            "the aged batch settles"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    println!(
        "| 20 trades | age 500 ms | {:.0} ms (from the first trade) | | |",
        first.elapsed().as_secs_f64() * 1e3
    );
    // Every trade of the benchmark settled exactly once, at its acknowledged amounts.
    let acks = ledger.lock().unwrap().acks.clone();
    world
        .assert_all_settled(client, &acks, Duration::from_secs(60))
        .await;
    daemon.stop();
}
