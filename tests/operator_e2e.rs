//! End-to-end and fault-injection tests of the operator daemon (`damm operator run`, docs/OPERATOR.md): the
//! real binary as a child process, serving trades over its HTTP API against a market deployed on the
//! in-process devnode (or on the node named by `DAMM_E2E_RPC`, see `tests/e2e/mod.rs`), and settling them on
//! chain.
//!
//! Every test ends with the same check ([`World::assert_all_settled`], see `tests/e2e/operator.rs`): the
//! trades acknowledged (200 answers to `POST /swap`) and nothing else settle, each exactly once, at exactly
//! their acknowledged amounts, and the chain, the daemon's mirror and the codec's replay agree on the final
//! state hash. Faults are injected with `DAMM_FAULT` (the daemon aborts at the point) and by the devnode
//! (restart from its state file, dropped transactions, automine off). Tests that need the devnode's powers
//! say so and return on an external node.

mod e2e;
#[path = "e2e/operator.rs"]
mod operator;

use std::{
    collections::{BTreeMap, BTreeSet},
    thread,
    time::{Duration, Instant},
};

use alloy::{
    consensus::Transaction as _,
    primitives::{Address, U256},
    providers::{ext::AnvilApi, Provider},
};
use e2e::e18;
use operator::{
    alerts_of, amount, assert_refusal, hash, int, join_all, operator_world, refusal_problem, run_to_exit,
    spawn_traders, wait_for, wait_until, wait_until_sync, Ack, Client, DaemonConfig, Outcome, SharedLedger,
    SwapReq, TradeGen, World, WorldOptions, MARKET,
};
use serde_json::{json, Value};

/// How long settling everything may take at the end of a test.
const SETTLE: Duration = Duration::from_secs(120);

fn acks(ledger: &SharedLedger) -> Vec<Ack> {
    ledger.lock().unwrap().acks.clone()
}

/// 1. Several clients send a few hundred random trades (both directions, exact in and out, some with limits
/// taken from a quote); batches settle by size and by age; after every settled batch the daemon's mirror is
/// the chain's state; the metrics count what the clients and the chain saw.
#[tokio::test(flavor = "multi_thread")]
#[allow(clippy::await_holding_lock)] // the events' guard is dropped (explicitly) before the next await
async fn serves_and_settles_trades() {
    let w = operator_world("serves", WorldOptions::default()).await;
    const BATCH: usize = 64;
    // This test lets the daemon estimate each batch's gas (the others give it a fixed limit, for speed).
    let daemon = w.start_daemon(&DaemonConfig {
        estimate_gas: true,
        ..DaemonConfig::batches(BATCH, 700)
    });
    let client = daemon.client;
    let ledger = SharedLedger::default();
    let mut seqs_checked = BTreeSet::new();

    // One client: a quote and then the same swap get the same amounts (nothing traded between; static fee).
    let mut gen = TradeGen::new(0xda77_0001, w.reserves(), None);
    for _ in 0..12 {
        let req = gen.next_req();
        let quote = client.quote(&req.quote_json()).expect("a quote");
        let ack = client.must_swap(&ledger, req.clone());
        assert_eq!(
            (
                amount(&quote["amountIn"]),
                amount(&quote["amountOut"]),
                amount(&quote["fee"]),
                amount(&quote["sqrtPrice"])
            ),
            (
                ack.amount_in,
                ack.amount_out,
                ack.fee,
                amount(&ack.answer["sqrtPrice"])
            ),
            "{req:?}: the swap gets what its quote said"
        );
    }
    // Fewer than a batch: they settle by age.
    wait_until(
        "the first batch settles by age",
        Duration::from_secs(30),
        || async { w.chain_seq().await >= 1 },
    )
    .await;
    seqs_checked.insert(w.assert_mirror(client).await);

    // Four clients at once; the mirror is checked whenever the daemon's seq moves.
    let threads = spawn_traders(
        client,
        &ledger,
        w.reserves(),
        0xda77_0002,
        4,
        60,
        Duration::ZERO,
        None,
    );
    // Until the clients are done and the daemon has settled everything.
    let mut last_seq = int(&client.state()["seq"]);
    let start = Instant::now();
    loop {
        let state = client.state();
        let seq = int(&state["seq"]);
        if seq != last_seq {
            seqs_checked.insert(w.assert_mirror(client).await);
            last_seq = seq;
        }
        let idle = int(&state["pendingTrades"]) == 0 && state["inflight"].is_null();
        if idle && threads.iter().all(|t| t.is_finished()) {
            break;
        }
        assert!(
            start.elapsed() < SETTLE,
            "the trades never settled: /state {state}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    join_all(threads);
    let acks = acks(&ledger);
    w.assert_all_settled(client, &acks, SETTLE).await;
    seqs_checked.insert(w.assert_mirror(client).await);

    let events = w.events.lock().unwrap();
    let sizes: Vec<u64> = events
        .batches
        .values()
        .map(|(b, _)| b.swaps.to::<u64>())
        .collect();
    drop(events);
    println!(
        "batch sizes {sizes:?}; mirror checked at seqs {seqs_checked:?}; refusals {:?}",
        ledger.lock().unwrap().refused
    );
    assert!(
        sizes.iter().all(|&n| n as usize <= BATCH),
        "no batch above --batch-size: {sizes:?}"
    );
    assert!(
        sizes.iter().any(|&n| n as usize == BATCH),
        "full batches settle by size: {sizes:?}"
    );
    assert!(
        sizes[0] < BATCH as u64,
        "the first batch (12 trades) settled by age: {sizes:?}"
    );
    assert!(
        acks.len() >= 200,
        "a few hundred trades acknowledged: {}",
        acks.len()
    );
    assert_eq!(
        seqs_checked,
        (1..=w.chain_seq().await).collect::<BTreeSet<u64>>(),
        "the mirror was checked after every batch"
    );

    let metrics = client.metrics();
    let chain_seq = w.chain_seq().await;
    assert_eq!(
        metrics.sum("damm_trades_accepted_total"),
        acks.len() as f64,
        "accepted == acknowledged"
    );
    assert_eq!(
        metrics.sum("damm_trades_settled_total"),
        w.settled_swaps().await as f64,
        "settled == the chain's"
    );
    assert_eq!(metrics.sum("damm_batches_settled_total"), sizes.len() as f64);
    assert_eq!(metrics.sum("damm_trades_pending"), 0.0);
    assert_eq!(metrics.sum("damm_chain_seq"), chain_seq as f64);
    assert!(metrics.sum("damm_gas_used_total") > 0.0);
    if !ledger.lock().unwrap().refused.is_empty() {
        assert!(
            metrics.has("damm_trades_refused_total"),
            "the refusals are counted: {:?}",
            metrics.0
        );
    }
    assert!(metrics.sum("damm_batches_submitted_total") >= sizes.len() as f64);
    let (status, health) = client.health();
    assert_eq!((status, health["status"].as_str()), (200, Some("ok")), "{health}");
    daemon.stop();
}

/// The daemon dies at `point` (its `after`-th time there) while clients trade with client ids; restarted
/// without the fault on the same journal, it settles every acknowledged trade exactly once. Requests that got
/// no answer are sent again with the same id (the journal answers the first one's result if it kept it).
async fn crash_and_recover(test: &str, point: &'static str, after: u64) {
    let w = operator_world(
        test,
        WorldOptions {
            dynamic_fee: true,
            ..WorldOptions::default()
        },
    )
    .await;
    let ledger = SharedLedger::default();
    let config = DaemonConfig::batches(30, 400);
    let daemon = w.start_daemon(&config.clone().fault(point, after));
    let client = daemon.client;
    let threads = spawn_traders(
        client,
        &ledger,
        w.reserves(),
        0xc4a5_0000 + after,
        3,
        40,
        // Paced, so that the clients are still trading when the second batch reaches the fault.
        Duration::from_millis(200),
        Some("before"),
    );
    daemon.wait_abort(Duration::from_secs(120));
    join_all(threads);
    let seq = w.chain_seq().await;
    let (acked, unanswered) = {
        let l = ledger.lock().unwrap();
        (l.acks.len(), l.unanswered.len())
    };
    println!(
        "{point}: the daemon aborted with {acked} trades acknowledged, {unanswered} requests unanswered, chain seq \
         {seq}, {} trades settled",
        w.settled_swaps().await
    );
    if w.h.is_devnode() {
        // Automine: every transaction sent is mined at once.
        let expected = match point {
            "before-submit" => after - 1,
            _ => after,
        };
        assert_eq!(
            seq,
            expected,
            "at {point}, the {after}-th batch's transaction is {} sent",
            if point == "before-submit" {
                "not yet"
            } else {
                "already"
            }
        );
    }

    let daemon = w.start_daemon(&config);
    let client = daemon.client;
    // The requests without an answer, again with their ids.
    let retries = std::mem::take(&mut ledger.lock().unwrap().unanswered);
    for req in retries {
        if let Outcome::Unanswered(e) = client.send(&ledger, req.clone()) {
            panic!("the restarted daemon does not answer {req:?}: {e}");
        }
    }
    // An acknowledged trade's id again: the same trade, nothing traded.
    let first = ledger.lock().unwrap().acks[0].clone();
    let again = client.swap(&first.req.json()).expect("the same id answers again");
    assert_eq!(
        int(&again["trade"]),
        first.trade,
        "the same id is the same trade: {again}"
    );
    assert_eq!(
        (amount(&again["amountIn"]), amount(&again["amountOut"])),
        (first.amount_in, first.amount_out),
        "with the same amounts"
    );
    join_all(spawn_traders(
        client,
        &ledger,
        w.reserves(),
        0xc4a5_1000 + after,
        2,
        8,
        Duration::ZERO,
        Some("after"),
    ));
    let acks = acks(&ledger);
    w.assert_all_settled(client, &acks, SETTLE).await;
    daemon.stop();
}

/// 2. The daemon dies after a batch is recorded in the journal, before its transaction is sent.
#[tokio::test(flavor = "multi_thread")]
async fn kill_between_ack_and_submit() {
    crash_and_recover("before-submit", "before-submit", 2).await;
}

/// 3. The daemon dies after sending a batch's transaction, before seeing its receipt: restarted, it finds the
/// batch settled and never sends it again (no `BadSequence`, no failed transaction of the operator).
#[tokio::test(flavor = "multi_thread")]
async fn kill_between_submit_and_receipt() {
    crash_and_recover("after-submit", "after-submit", 2).await;
}

/// 4. The daemon dies inside a journal write (rows written, not committed): the requests of that write got no
/// answer and never settle; the trades acknowledged before do, exactly once.
#[tokio::test(flavor = "multi_thread")]
async fn kill_during_journal_write() {
    let w = operator_world(
        "mid-write",
        WorldOptions {
            dynamic_fee: true,
            ..WorldOptions::default()
        },
    )
    .await;
    let ledger = SharedLedger::default();
    let config = DaemonConfig::batches(1_000, 300);
    let daemon = w.start_daemon(&config.clone().fault("mid-write", 3));
    let client = daemon.client;
    let mut gen = TradeGen::new(0x3d, w.reserves(), Some("one"));
    // Two writes, one trade each (one client, one after the other).
    for _ in 0..2 {
        client.must_swap(&ledger, gen.next_req());
    }
    // A burst at once: the third write (whatever of the burst it holds) is interrupted, and the process dies.
    let mut burst_gen = TradeGen::new(0x3e, w.reserves(), Some("burst"));
    let burst: Vec<SwapReq> = (0..8).map(|_| burst_gen.next_req()).collect();
    let threads: Vec<_> = burst
        .iter()
        .cloned()
        .map(|req| {
            let ledger = ledger.clone();
            thread::spawn(move || {
                client.send(&ledger, req);
            })
        })
        .collect();
    daemon.wait_abort(Duration::from_secs(60));
    join_all(threads);
    {
        let l = ledger.lock().unwrap();
        assert_eq!(
            l.acks.len(),
            2,
            "no request of the interrupted write (or after it) is acknowledged: {:?}",
            l.acks
        );
        assert_eq!(l.unanswered.len(), burst.len(), "{:?}", l.refused);
    }
    let daemon = w.start_daemon(&config);
    let client = daemon.client;
    // Only the two acknowledged trades were journaled: they settle, the burst does not.
    let state = client.state();
    assert_eq!(
        int(&state["pendingTrades"]) + w.settled_swaps().await,
        2,
        "the journal holds the two acknowledged trades only: {state}"
    );
    let first_two = acks(&ledger);
    w.assert_all_settled(client, &first_two, SETTLE).await;

    // The burst again, with the same ids: new trades now.
    let retries = std::mem::take(&mut ledger.lock().unwrap().unanswered);
    for req in retries {
        let ack = client.must_swap(&ledger, req);
        assert!(
            first_two.iter().all(|a| a.trade != ack.trade),
            "a retried request is a new trade"
        );
    }
    for _ in 0..5 {
        client.must_swap(&ledger, gen.next_req());
    }
    w.assert_all_settled(client, &acks(&ledger), SETTLE).await;
    daemon.stop();
}

/// 5. The in-process devnode stops mid-run and starts again from its state file on the same port; the daemon
/// rides out the outage (reporting it in `/health`), and nothing acknowledged is lost. Mining is switched off
/// just before the stop, so that the logs read before it are complete; the pool (with the daemon's transaction
/// in flight, if any) is lost with the restart, as a real node's would be, and the daemon sends it again.
#[tokio::test(flavor = "multi_thread")]
async fn devnode_restart_from_state_file() {
    let mut w = operator_world(
        "restart",
        WorldOptions {
            state_file: true,
            ..WorldOptions::default()
        },
    )
    .await;
    if !w.h.is_devnode() {
        println!(
            "devnode_restart_from_state_file: needs the in-process devnode (a restart from its state file); not run \
             against the external node"
        );
        return;
    }
    let daemon = w.start_daemon(&DaemonConfig::batches(40, 300).receipt_timeout(2_000));
    let client = daemon.client;
    let ledger = SharedLedger::default();
    let threads = spawn_traders(
        client,
        &ledger,
        w.reserves(),
        0x5e5e,
        2,
        60,
        Duration::from_millis(40),
        Some("r"),
    );
    wait_until("a batch settles", Duration::from_secs(60), || async {
        w.chain_seq().await >= 1
    })
    .await;
    w.h.provider
        .anvil_set_auto_mine(false)
        .await
        .expect("automine off");
    w.refresh_events().await;
    let seq_before = w.chain_seq().await;
    w.h.stop_devnode();
    let down = Instant::now();
    wait_until_sync("the daemon reports the outage", Duration::from_secs(30), || {
        let (status, health) = client.health();
        status == 503 && !alerts_of(&health, "Rpc").is_empty()
    });
    println!("the daemon reported the outage after {:?}", down.elapsed());
    thread::sleep(Duration::from_millis(500));
    w.h.start_devnode();
    assert_eq!(w.chain_seq().await, seq_before, "the state file kept the market");
    join_all(threads);
    let acks = acks(&ledger);
    println!(
        "{} trades acknowledged, refusals {:?}",
        acks.len(),
        ledger.lock().unwrap().refused
    );
    w.assert_all_settled(client, &acks, SETTLE).await;
    wait_until_sync("/health is ok again", Duration::from_secs(30), || {
        let (status, health) = client.health();
        status == 200 && alerts_of(&health, "Rpc").is_empty()
    });
    println!(
        "damm_rpc_errors_total {} after an outage of about a second",
        client.metrics().sum("damm_rpc_errors_total")
    );
    daemon.stop();
}

/// 6. With automine off the daemon's batch waits in the pool; the test drops it; the daemon (a short receipt
/// timeout) sends it again with a bumped fee; the test mines until it settles, once.
#[tokio::test(flavor = "multi_thread")]
async fn dropped_transaction_is_replaced() {
    let w = operator_world("dropped", WorldOptions::default()).await;
    if !w.h.is_devnode() {
        println!(
            "dropped_transaction_is_replaced: needs the in-process devnode (automine off, anvil_dropAllTransactions); \
             not run against the external node"
        );
        return;
    }
    let daemon = w.start_daemon(&DaemonConfig::batches(10, 300).receipt_timeout(1_500));
    let client = daemon.client;
    let ledger = SharedLedger::default();
    let p = &w.h.provider;
    p.anvil_set_auto_mine(false).await.expect("automine off");
    let mut gen = TradeGen::new(0xd20, w.reserves(), None);
    for _ in 0..10 {
        client.must_swap(&ledger, gen.next_req());
    }
    let first = wait_for(
        "the daemon submits the batch",
        Duration::from_secs(30),
        || async {
            client.state()["inflight"]["txHash"]
                .as_str()
                .and_then(|h| h.parse::<alloy::primitives::B256>().ok())
        },
    )
    .await;
    let pooled = p
        .get_transaction_by_hash(first)
        .await
        .expect("query")
        .expect("the batch waits in the pool");
    assert!(pooled.block_number.is_none(), "not mined: automine is off");
    let fee = pooled.inner.max_fee_per_gas();
    p.anvil_drop_all_transactions().await.expect("dropped");
    assert!(p.get_transaction_by_hash(first).await.expect("query").is_none());

    wait_until_sync(
        "the daemon replaces the transaction",
        Duration::from_secs(30),
        || client.metrics().sum("damm_tx_replacements_total") >= 1.0,
    );
    let start = Instant::now();
    while w.chain_seq().await < 1 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the replacement never settled; /state {}",
            client.state()
        );
        p.evm_mine(None).await.expect("evm_mine");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    w.refresh_events().await;
    let mined = w.events.lock().unwrap().batches[&1].1;
    assert_ne!(mined, first, "a new transaction settled the batch");
    let replacement = p
        .get_transaction_by_hash(mined)
        .await
        .expect("query")
        .expect("mined");
    assert!(
        replacement.inner.max_fee_per_gas() > fee,
        "the replacement pays more: {} after {fee}",
        replacement.inner.max_fee_per_gas()
    );
    assert_eq!(
        replacement.inner.nonce(),
        pooled.inner.nonce(),
        "it replaces the same nonce"
    );

    p.anvil_set_auto_mine(true).await.expect("automine on");
    for _ in 0..10 {
        client.must_swap(&ledger, gen.next_req());
    }
    w.assert_all_settled(client, &acks(&ledger), SETTLE).await;
    daemon.stop();
}

/// 7. The owner requests a resize (after raising the vault's limit) while trades are pending; the daemon
/// applies it at a batch boundary: the trades acknowledged before settle at the old liquidity, exactly as
/// acknowledged, and the trades after are priced at the new one (the replay in `assert_all_settled` applies the
/// resize where the chain did).
#[tokio::test(flavor = "multi_thread")]
#[allow(clippy::await_holding_lock)] // the events' guard is dropped (explicitly) before the next await
async fn resize_applied_at_batch_boundary() {
    let w = operator_world("resize", WorldOptions::default()).await;
    let daemon = w.start_daemon(&DaemonConfig::batches(1_000, 1_500));
    let client = daemon.client;
    let ledger = SharedLedger::default();
    let mut gen = TradeGen::new(0x7e51, w.reserves(), None);
    for _ in 0..10 {
        client.must_swap(&ledger, gen.next_req());
    }
    let owner = w.h.accounts.owner;
    let m = w.market.contract(&w.h);
    let old = w.market.state.pool.liquidity;
    let bigger = old * U256::from(3) / U256::from(2);
    w.h.send(
        w.h.vault()
            .updateMarket(w.market.address, bigger, true)
            .from(owner),
    )
    .await;
    let (_, now) = w.h.head().await;
    w.h.send(m.requestResize(bigger, now + 3_600).from(owner)).await;

    // Trade on until the daemon has applied it, then some more.
    let start = Instant::now();
    while w.pending_resize().await.0 != U256::ZERO {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the daemon never applied the resize; /state {}",
            client.state()
        );
        client.must_swap(&ledger, gen.next_req());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for _ in 0..10 {
        client.must_swap(&ledger, gen.next_req());
    }
    let acks = acks(&ledger);
    w.assert_all_settled(client, &acks, SETTLE).await;

    let events = w.events.lock().unwrap();
    assert_eq!(events.resizes.len(), 1, "one resize");
    let (&resize_seq, (resize, _)) = events.resizes.iter().next().unwrap();
    assert_eq!(resize.liquidity, bigger);
    assert!(
        events.batches.keys().any(|&s| s < resize_seq),
        "trades settled before the resize"
    );
    assert!(
        events.batches.keys().any(|&s| s > resize_seq),
        "trades settled after the resize"
    );
    // The batches before the resize pay, per token, exactly what their trades were acknowledged at.
    let mut net: BTreeMap<u64, [i128; 2]> = BTreeMap::new();
    for ack in &acks {
        let seq = int(&client.trade(ack.trade).1["batchSeq"]);
        let (tin, tout) = if ack.req.zero_for_one { (0, 1) } else { (1, 0) };
        let n = net.entry(seq).or_default();
        n[tin] += ack.amount_in as i128;
        n[tout] -= ack.amount_out as i128;
    }
    for (seq, (batch, _)) in events.batches.range(..resize_seq) {
        let f: Vec<i128> = batch.flows.iter().map(|x| x.to::<u128>() as i128).collect();
        assert_eq!(
            [f[0] - f[2], f[1] - f[3]],
            net[seq],
            "batch {seq}'s net flows are its acknowledged amounts"
        );
    }
    drop(events);
    let (state, _) = w.chain_state().await;
    assert_eq!(state.pool.liquidity, bigger, "the chain's liquidity");
    assert_eq!(w.pending_resize().await, (U256::ZERO, 0), "no resize pending");
    assert_eq!(
        w.h.vault()
            .marketInfo(w.market.address)
            .call()
            .await
            .unwrap()
            ._7
            .1,
        bigger,
        "the vault records the resized liquidity"
    );
    assert_eq!(
        mirror_liquidity(client),
        bigger,
        "the daemon mirrors the new liquidity"
    );
    daemon.stop();
}

fn mirror_liquidity(client: Client) -> U256 {
    operator::wide(&client.state()["liquidity"])
}

/// Moves the chain's clock past `deadline`: time travel on the devnode; elsewhere, waiting for the wall clock.
async fn pass_deadline(w: &World, deadline: u64) {
    if w.h.can_travel() {
        w.h.provider
            .anvil_increase_time(30)
            .await
            .expect("evm_increaseTime");
        w.h.provider.evm_mine(None).await.expect("evm_mine");
        assert!(w.h.head().await.1 > deadline);
    } else {
        let now = || {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs()
        };
        while now() <= deadline + 2 {
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

/// 8. The daemon is stopped with acknowledged trades pending; the owner requests a resize with a near deadline,
/// lets it pass and freezes the market. Restarted, the daemon refuses swaps (`MarketFrozen`), reports the freeze
/// in `/health` and keeps its trades; once the owner unfreezes, everything settles and the resize is applied.
#[tokio::test(flavor = "multi_thread")]
async fn freeze_while_pending() {
    let w = operator_world("freeze", WorldOptions::default()).await;
    let ledger = SharedLedger::default();
    let daemon = w.start_daemon(&DaemonConfig::batches(1_000, 600_000));
    let client = daemon.client;
    let mut gen = TradeGen::new(0xf2ee, w.reserves(), None);
    for _ in 0..12 {
        client.must_swap(&ledger, gen.next_req());
    }
    daemon.stop();
    let settled = w.settled_swaps().await;
    println!("{settled} of 12 acknowledged trades settled when the daemon stopped");

    let owner = w.h.accounts.owner;
    let m = w.market.contract(&w.h);
    let smaller = w.market.state.pool.liquidity / U256::from(2);
    let (_, now) = w.h.head().await;
    let deadline = now + 5;
    w.h.send(m.requestResize(smaller, deadline).from(owner)).await;
    pass_deadline(&w, deadline).await;
    w.h.send(m.setFrozen(true).from(owner)).await;
    assert!(w.frozen().await);
    let seq = w.chain_seq().await;

    let daemon = w.start_daemon(&DaemonConfig::batches(1_000, 300));
    let client = daemon.client;
    wait_until_sync("the daemon sees the freeze", Duration::from_secs(30), || {
        client.state()["frozen"] == json!(true)
    });
    assert_refusal(
        client.swap(&gen.next_req().json()),
        503,
        "MarketFrozen",
        "a swap on a frozen market",
    );
    wait_until_sync("/health reports the freeze", Duration::from_secs(30), || {
        let (status, health) = client.health();
        status == 503 && !alerts_of(&health, "Frozen").is_empty()
    });
    let state = client.state();
    assert_eq!(
        int(&state["pendingTrades"]),
        12 - settled,
        "the acknowledged trades are kept: {state}"
    );
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(w.settled_swaps().await, settled, "nothing settles while frozen");
    assert_eq!(w.chain_seq().await, seq);

    w.h.send(m.setFrozen(false).from(owner)).await;
    wait_until("the daemon applies the resize", SETTLE, || async {
        w.pending_resize().await.0 == U256::ZERO
    })
    .await;
    // Trading again, at the new liquidity.
    let probe = gen.next_req();
    wait_until_sync("quotes are answered again", Duration::from_secs(30), || {
        !matches!(client.quote(&probe.quote_json()), Err((503, _)))
    });
    for _ in 0..5 {
        client.must_swap(&ledger, gen.next_req());
    }
    w.assert_all_settled(client, &acks(&ledger), SETTLE).await;
    assert_eq!(w.chain_state().await.0.pool.liquidity, smaller);
    wait_until_sync("/health is ok again", Duration::from_secs(30), || {
        let (status, health) = client.health();
        status == 200 && health["alerts"].as_array().is_some_and(Vec::is_empty)
    });
    daemon.stop();
}

/// Waits until `/health` is 503 with an alert of `kind` that names `token`; returns it.
fn wait_escrow_alert(client: Client, kind: &str, token: Address) -> Value {
    let token = format!("{token:x}").to_lowercase();
    let mut found = Value::Null;
    wait_until_sync(
        &format!("a {kind} alert naming {token}"),
        Duration::from_secs(60),
        || {
            let (status, health) = client.health();
            if let Some(alert) = alerts_of(&health, kind)
                .into_iter()
                .find(|a| a.to_string().to_lowercase().contains(&token))
            {
                assert_eq!(status, 503, "/health with an alert: {health}");
                assert_eq!(health["status"], json!("degraded"), "{health}");
                found = alert;
                true
            } else {
                false
            }
        },
    );
    found
}

/// 9. The operator's account (the L2's escrow) cannot pay a batch: first without the vault's allowance for the
/// input token, then without the balance. Trades are acknowledged and kept, `/health` names the token; once the
/// escrow is restored, everything settles and the alert clears.
#[tokio::test(flavor = "multi_thread")]
async fn escrow_without_allowance() {
    let w = operator_world("escrow", WorldOptions::default()).await;
    let (operator, carol) = (w.h.accounts.operator, w.h.accounts.carol);
    let token0 = w.pool.token0;
    let ledger = SharedLedger::default();
    let config = DaemonConfig::batches(8, 300);
    // Users sell token0: the operator pays the vault token0. No allowance (sent before the daemon starts: no
    // race for the operator's nonce).
    w.h.send(w.h.erc20(token0).approve(w.h.vault, U256::ZERO).from(operator))
        .await;
    let daemon = w.start_daemon(&config);
    let client = daemon.client;
    let sell = |i: u64| SwapReq::new(true, true, w.reserves().0 / 2_000 * u128::from(1 + i % 3));
    for i in 0..8 {
        client.must_swap(&ledger, sell(i));
    }
    let alert = wait_escrow_alert(client, "EscrowAllowance", token0);
    println!("allowance alert: {alert}");
    assert_eq!(
        w.settled_swaps().await,
        0,
        "nothing settled without the allowance"
    );
    assert_eq!(int(&client.state()["pendingTrades"]), 8, "the trades are kept");
    daemon.stop();
    w.h.approve_max(token0, operator, w.h.vault).await;
    let daemon = w.start_daemon(&config);
    let client = daemon.client;
    w.assert_all_settled(client, &acks(&ledger), SETTLE).await;
    wait_until_sync("the alert clears", Duration::from_secs(30), || {
        let (status, health) = client.health();
        status == 200 && alerts_of(&health, "EscrowAllowance").is_empty()
    });
    daemon.stop();

    // The balance: the operator's token0 goes to Carol (the daemon stopped), and comes back while it runs.
    let balance = w.h.balance(token0, operator).await;
    w.h.transfer(token0, operator, carol, balance).await;
    let daemon = w.start_daemon(&config);
    let client = daemon.client;
    for i in 0..8 {
        client.must_swap(&ledger, sell(i));
    }
    let alert = wait_escrow_alert(client, "EscrowBalance", token0);
    println!("balance alert: {alert}");
    assert_eq!(int(&client.state()["pendingTrades"]), 8, "the trades are kept");
    w.h.transfer(token0, carol, operator, balance).await;
    w.assert_all_settled(client, &acks(&ledger), SETTLE).await;
    wait_until_sync("the alert clears", Duration::from_secs(30), || {
        let (status, health) = client.health();
        status == 200 && alerts_of(&health, "EscrowBalance").is_empty()
    });
    daemon.stop();
}

/// 10. Bad requests get their named refusals and change nothing; bad configurations stop the process with a
/// message naming what is wrong.
#[tokio::test(flavor = "multi_thread")]
async fn bad_input() {
    let w = operator_world("bad-input", WorldOptions::default()).await;
    let daemon = w.start_daemon(&DaemonConfig::batches(10, 300));
    let client = daemon.client;
    let before = client.state();
    // Every mismatch is collected, and all are reported at the end.
    let problems = std::cell::RefCell::new(Vec::<String>::new());
    let check = |result: Result<Value, (u16, Value)>, status: u16, error: &str, what: &str| {
        if let Some(problem) = refusal_problem(result, status, error, what) {
            problems.borrow_mut().push(problem);
        }
    };

    let swap = |body: Value| client.swap(&body);
    let raw = |body: &str| {
        let reply = client.raw("POST", "/swap", body.as_bytes());
        if reply.status == 200 {
            Ok(reply.json())
        } else {
            Err((reply.status, reply.json()))
        }
    };
    let two_200 = (U256::from(1u64) << 200usize).to_string();
    check(raw("{not json"), 400, "BadRequest", "malformed JSON");
    check(raw(""), 400, "BadRequest", "an empty body");
    check(
        swap(json!({"zeroForOne": true, "exactIn": true})),
        400,
        "BadRequest",
        "no amount",
    );
    check(
        swap(json!({"zeroForOne": true, "amount": "1000"})),
        400,
        "BadRequest",
        "no exactIn",
    );
    check(
        swap(json!({"exactIn": true, "amount": "1000"})),
        400,
        "BadRequest",
        "no zeroForOne",
    );
    check(
        swap(json!({"zeroForOne": true, "exactIn": true, "amount": "1000", "slippage": 1})),
        400,
        "BadRequest",
        "an unknown field",
    );
    check(
        swap(json!({"zeroForOne": true, "exactIn": true, "amount": "0"})),
        422,
        "ZeroAmount",
        "amount 0",
    );
    check(
        swap(json!({"zeroForOne": true, "exactIn": true, "amount": two_200})),
        422,
        "AmountTooLarge",
        "amount 2^200",
    );
    check(
        swap(json!({"zeroForOne": true, "exactIn": true, "amount": u128::MAX.to_string() + "0"})),
        422,
        "AmountTooLarge",
        "amount 10·(2^128 − 1)",
    );
    for bad in [
        json!("-5"),
        json!(-5),
        json!("12abc"),
        json!("1.5"),
        json!(1.5),
        json!(""),
        json!(null),
    ] {
        check(
            swap(json!({"zeroForOne": true, "exactIn": true, "amount": bad})),
            400,
            "BadRequest",
            &format!("amount {bad}"),
        );
    }
    check(
        swap(json!({"zeroForOne": true, "exactIn": true, "amount": "1000", "limit": "-1"})),
        400,
        "BadRequest",
        "a negative limit",
    );
    check(
        swap(json!({"zeroForOne": "yes", "exactIn": true, "amount": "1000"})),
        400,
        "BadRequest",
        "a direction that is not a boolean",
    );
    check(
        swap(json!({"zeroForOne": true, "exactIn": true, "amount": "1000", "id": "x".repeat(129)})),
        400,
        "BadRequest",
        "an id above 128 bytes",
    );
    check(
        client.quote(&json!({"zeroForOne": true, "amount": "1000"})),
        400,
        "BadRequest",
        "a quote without exactIn",
    );

    // The math's refusals.
    let sell = SwapReq::new(true, true, e18(1_000).to::<u128>());
    let quote = client.quote(&sell.quote_json()).expect("a quote");
    let out = amount(&quote["amountOut"]);
    check(
        swap(sell.clone().with_limit(out + 1).json()),
        422,
        "LimitMissed",
        "exact in below its minimum output",
    );
    let buy = SwapReq::new(false, false, e18(100).to::<u128>());
    let quote = client.quote(&buy.quote_json()).expect("a quote");
    let pay = amount(&quote["amountIn"]);
    check(
        swap(buy.clone().with_limit(pay - 1).json()),
        422,
        "LimitMissed",
        "exact out above its maximum input",
    );
    check(
        client.quote(&sell.clone().with_limit(out + 1).quote_json()),
        422,
        "LimitMissed",
        "a quote that misses its limit",
    );
    // The market holds about 4,545 token0 and 20,000 token1 in its range: a million token0 leaves it.
    check(
        swap(SwapReq::new(true, true, e18(1_000_000).to::<u128>()).json()),
        422,
        "OutOfRange",
        "a swap beyond the range",
    );
    check(
        client.quote(&SwapReq::new(false, true, e18(1_000_000).to::<u128>()).quote_json()),
        422,
        "OutOfRange",
        "a quote beyond the range",
    );

    // Paths.
    let not_found = |method: &str, path: &str, error: &str| {
        let reply = client
            .request(method, path, None)
            .unwrap_or_else(|e| panic!("no answer to {method} {path}: {e}"));
        let result = if reply.status == 200 {
            Ok(reply.json())
        } else {
            Err((
                reply.status,
                serde_json::from_str(&reply.body).unwrap_or(json!(reply.body)),
            ))
        };
        check(result, 404, error, &format!("{method} {path}"));
    };
    not_found("GET", "/nope", "NotFound");
    not_found("POST", "/nope", "NotFound");
    not_found("GET", "/trades/999999", "NotFound");
    not_found("POST", "/markets/nope/quote", "UnknownMarket");
    // The market's own paths work too.
    let reply = client.post(&format!("/markets/{MARKET}/quote"), &sell.quote_json());
    if reply.status != 200 {
        problems.borrow_mut().push(format!(
            "POST /markets/{MARKET}/quote: {} {}",
            reply.status, reply.body
        ));
    }

    // Nothing changed.
    let after = client.state();
    if after != before {
        problems
            .borrow_mut()
            .push(format!("/state changed: before {before}, after {after}"));
    }
    let metrics = client.metrics();
    if metrics.sum("damm_trades_accepted_total") != 0.0 {
        problems.borrow_mut().push(format!(
            "damm_trades_accepted_total is {}",
            metrics.sum("damm_trades_accepted_total")
        ));
    }
    if metrics.sum("damm_trades_refused_total") < 10.0 {
        problems
            .borrow_mut()
            .push(format!("the refusals are not counted: {:?}", metrics.0));
    }
    if w.chain_seq().await != 0 {
        problems.borrow_mut().push("a batch settled".into());
    }
    daemon.stop();

    // Bad configurations: the process exits non-zero, naming the problem.
    let chain = w.chain_id.to_string();
    let db = |name: &str| w.dir.path.join(name).display().to_string();
    let mut args = w.daemon_args(&DaemonConfig::default());
    set_arg(&mut args, "--db", &db("chain-id.sqlite"));
    args.extend(["--chain-id".to_string(), "1".to_string()]);
    let (status, _, stderr) = run_to_exit(&w.dir.path, &args, Duration::from_secs(60));
    let numbers: BTreeSet<&str> = stderr
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .collect();
    if status.success() || !(numbers.contains("1") && numbers.contains(chain.as_str())) {
        problems.borrow_mut().push(format!(
            "--chain-id 1 on chain {chain}: the process must exit non-zero naming both ids; it exited {status}: \
             {stderr}"
        ));
    }

    let nowhere = Address::repeat_byte(0x5a);
    let mut deployment = damm::deployment::Deployment::load(&w.deployment).expect("the deployment");
    deployment.markets[0].address = nowhere;
    let file = w.dir.path.join("no-code.json");
    deployment.save(&file).expect("written");
    let mut args = w.daemon_args(&DaemonConfig::default());
    set_arg(&mut args, "--deployment", &file.display().to_string());
    set_arg(&mut args, "--db", &db("no-code.sqlite"));
    let (status, _, stderr) = run_to_exit(&w.dir.path, &args, Duration::from_secs(60));
    if status.success()
        || !stderr
            .to_lowercase()
            .contains(&format!("{nowhere:x}").to_lowercase())
    {
        problems.borrow_mut().push(format!(
            "a market without code ({nowhere}): the process must exit non-zero naming it; it exited {status}: \
             {stderr}"
        ));
    }

    let mut args = w.daemon_args(&DaemonConfig::default());
    set_arg(&mut args, "--market", "no-such-market");
    set_arg(&mut args, "--db", &db("unknown.sqlite"));
    let (status, _, stderr) = run_to_exit(&w.dir.path, &args, Duration::from_secs(60));
    if status.success() || !stderr.contains("no-such-market") {
        problems.borrow_mut().push(format!(
            "an unknown --market: the process must exit non-zero naming it; it exited {status}: {stderr}"
        ));
    }
    let problems = problems.into_inner();
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// Replaces the value of `flag` in `args`.
fn set_arg(args: &mut [String], flag: &str, value: &str) {
    let i = args
        .iter()
        .position(|a| a == flag)
        .unwrap_or_else(|| panic!("no {flag} in {args:?}"));
    args[i + 1] = value.to_string();
}

/// 11. Operators of several markets side by side: on one pool, the operator's markets `l2-a` and `l2-b` served
/// by one process (`--market l2-a --market l2-b`, each under `/markets/{name}`), and Carol's market `l2-c`
/// served by a second process with her key and its own journal. Clients trade on all three at once; each
/// market's acknowledged trades settle exactly once, in batches its own operator sent, and each process's
/// `/state` holds its markets' chain state.
#[tokio::test(flavor = "multi_thread")]
async fn several_markets_side_by_side() {
    const B: &str = "l2-b";
    const C: &str = "l2-c";
    let started = Instant::now();
    let mut w = operator_world("side-by-side", WorldOptions::default()).await;
    let (operator, carol) = (w.h.accounts.operator, w.h.accounts.carol);
    // Beside l2-a's 100,000 tokens of liquidity, two markets of 50,000: the vault admits all three.
    w.add_market(B, operator, 50_000).await;
    w.add_market(C, carol, 50_000).await;
    let config = DaemonConfig::batches(10, 300);
    let ab = w.start_daemon(&config.clone().serving("ab", operator, &[MARKET, B]));
    let c = w.start_daemon(&config.serving("c", carol, &[C]));
    // The clients: each of the first process's markets under its own paths; the second process's only market
    // under the plain ones.
    let clients = [
        (MARKET, ab.client.at(MARKET)),
        (B, ab.client.at(B)),
        (C, c.client),
    ];

    // `GET /state` lists each process's markets; with two, a swap or quote must name its market.
    let listed = |client: Client| -> Vec<(String, Address)> {
        let reply = client.get("/state");
        assert_eq!(reply.status, 200, "GET /state: {}", reply.body);
        reply.json()["markets"]
            .as_array()
            .expect("a list of markets")
            .iter()
            .map(|m| {
                let name = m["name"].as_str().expect("a name").to_string();
                let address = m["address"]
                    .as_str()
                    .and_then(|a| a.parse().ok())
                    .expect("an address");
                (name, address)
            })
            .collect()
    };
    let named = |names: &[&str]| -> Vec<(String, Address)> {
        names
            .iter()
            .map(|&name| (name.to_string(), w.on(name).market.address))
            .collect()
    };
    assert_eq!(
        listed(ab.client),
        named(&[MARKET, B]),
        "the first process's /state"
    );
    assert_eq!(listed(c.client), named(&[C]), "the second process's /state");
    let probe = SwapReq::new(true, true, w.reserves().0 / 10_000);
    assert_refusal(
        ab.client.swap(&probe.json()),
        404,
        "UnknownMarket",
        "POST /swap to a process of two markets",
    );
    assert_refusal(
        ab.client.quote(&probe.quote_json()),
        404,
        "UnknownMarket",
        "POST /quote to a process of two markets",
    );
    assert_refusal(
        ab.client.at(C).swap(&probe.json()),
        404,
        "UnknownMarket",
        "POST /markets/l2-c/swap to the process without l2-c",
    );
    assert_refusal(
        c.client.at(MARKET).quote(&probe.quote_json()),
        404,
        "UnknownMarket",
        "POST /markets/l2-a/quote to the process without l2-a",
    );
    for (name, client) in clients {
        client
            .quote(&probe.quote_json())
            .unwrap_or_else(|e| panic!("a quote on {name}: {e:?}"));
    }

    // Three clients per market, all at once.
    let ledgers: Vec<SharedLedger> = clients.iter().map(|_| SharedLedger::default()).collect();
    let threads: Vec<_> = clients
        .iter()
        .zip(&ledgers)
        .enumerate()
        .flat_map(|(i, ((name, client), ledger))| {
            spawn_traders(
                *client,
                ledger,
                w.on(name).reserves(),
                0x51de_0000 + i as u64,
                3,
                12,
                Duration::ZERO,
                Some(name),
            )
        })
        .collect();
    join_all(threads);

    for ((name, client), ledger) in clients.iter().zip(&ledgers) {
        let market = w.on(name);
        let acks = acks(ledger);
        println!(
            "{name}: {} trades acknowledged, refusals {:?}",
            acks.len(),
            ledger.lock().unwrap().refused
        );
        assert!(
            acks.len() >= 24,
            "{name}: most of its 36 trades acknowledged: {}",
            acks.len()
        );
        // acknowledged == settled, every seq settled once, the chain's stateHash the daemon's.
        market.assert_all_settled(*client, &acks, SETTLE).await;
        let batches: Vec<_> = market
            .events
            .lock()
            .unwrap()
            .batches
            .values()
            .map(|(_, tx)| *tx)
            .collect();
        assert!(
            batches.len() >= 2,
            "{name}: its trades settled in batches: {batches:?}"
        );
        // Sent by the market's own operator (one key for l2-a and l2-b, Carol's for l2-c).
        for tx in batches {
            let receipt =
                w.h.provider
                    .get_transaction_receipt(tx)
                    .await
                    .expect("a receipt query")
                    .expect("the batch's receipt");
            assert_eq!(
                receipt.from, market.market.operator,
                "{name}'s batch {tx} sent by its operator"
            );
        }
        let metrics = client.metrics();
        assert_eq!(
            metrics
                .0
                .get(&format!("damm_trades_accepted_total{{market=\"{name}\"}}")),
            Some(&(acks.len() as f64)),
            "{name}: accepted == acknowledged: {:?}",
            metrics.0
        );
    }

    // At the end, each process's /state lists every one of its markets at its chain's seq and stateHash.
    for (daemon, names) in [(&ab, &[MARKET, B][..]), (&c, &[C][..])] {
        let reply = daemon.client.get("/state");
        let state = reply.json();
        let listed = state["markets"].as_array().expect("a list of markets");
        assert_eq!(listed.len(), names.len(), "{state}");
        for (entry, name) in listed.iter().zip(names) {
            let market = w.on(name);
            assert_eq!(entry["name"], json!(name), "{state}");
            assert_eq!(
                int(&entry["seq"]),
                market.chain_seq().await,
                "{name}'s seq: {state}"
            );
            assert_eq!(
                hash(&entry["stateHash"]),
                market.chain_state_hash().await,
                "{name}'s stateHash: {state}"
            );
        }
        let (status, health) = daemon.client.health();
        assert_eq!((status, health["status"].as_str()), (200, Some("ok")), "{health}");
    }
    ab.stop();
    c.stop();
    println!("several_markets_side_by_side: {:?}", started.elapsed());
}
