//! The operator's trade path without a chain (issue 7, "Report"): trades accepted per second with durable
//! persistence (SQLite WAL, `synchronous=FULL`, group commit) — through the journal writer directly and through
//! the HTTP API — and the HTTP quote latency (p50/p99).
//!
//! `cargo bench --bench operator_throughput` (or `scripts/bench-operator.sh`). Settlement needs a chain; its
//! latency is measured on the devnode by `benches/operator_settlement.rs`.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use alloy::primitives::Address;
use damm::{
    market_codec::MarketParams,
    math::{CollectFeeMode, DynamicFee, U256},
    operator::{
        engine::{Engine, TradeRequest},
        http::{serve, App},
        journal::Journal,
        metrics::{Alerts, Metrics},
        writer::Writer,
        Market,
    },
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

const Q64: u128 = 1 << 64;

fn market() -> Arc<Market> {
    let params = MarketParams {
        mode: CollectFeeMode::BothToken,
        sqrt_price: Q64,
        sqrt_min_price: Q64 / 4,
        sqrt_max_price: Q64 * 4,
        liquidity: U256::from(10u128.pow(24)) << 64,
        base_fee_numerator: 2_500_000,
        protocol_fee_percent: 20,
        referral_fee_percent: 20,
        compounding_fee_bps: 0,
        fee_version: 1,
        dynamic_fee: DynamicFee::default(),
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_secs();
    let mut engine = Engine::new(
        "bench".into(),
        Address::ZERO,
        [Address::ZERO; 2],
        params.initial_state(now).expect("valid parameters"),
    );
    engine.ready = true;
    engine.conditions.head_timestamp = now;
    Arc::new(Market {
        name: "bench".into(),
        address: Address::ZERO,
        tokens: [Address::ZERO; 2],
        engine: Mutex::new(engine),
        metrics: Metrics::default(),
        alerts: Alerts::default(),
        inflight_tx: Mutex::new(None),
    })
}

fn fresh_journal(tag: &str) -> (Journal, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("damm-bench-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let path = dir.join("operator.sqlite");
    (Journal::open(&path, 1).expect("the journal opens"), dir)
}

/// One keep-alive HTTP/1.1 connection.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    async fn open(addr: std::net::SocketAddr) -> Self {
        let stream = TcpStream::connect(addr).await.expect("connects");
        stream.set_nodelay(true).expect("nodelay");
        Self {
            stream,
            buf: Vec::with_capacity(4096),
        }
    }

    /// POSTs `body` to `path`; returns the status.
    async fn post(&mut self, path: &str, body: &str) -> u16 {
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        self.stream.write_all(request.as_bytes()).await.expect("writes");
        self.buf.clear();
        loop {
            let mut chunk = [0u8; 4096];
            let n = self.stream.read(&mut chunk).await.expect("reads");
            assert!(n > 0, "the server closed the connection");
            self.buf.extend_from_slice(&chunk[..n]);
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = std::str::from_utf8(&self.buf[..end])
                    .expect("ASCII headers")
                    .to_string();
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse().ok())?
                    })
                    .expect("a content length");
                while self.buf.len() < end + 4 + length {
                    let n = self.stream.read(&mut chunk).await.expect("reads");
                    assert!(n > 0, "the server closed the connection");
                    self.buf.extend_from_slice(&chunk[..n]);
                }
                return head[9..12].parse().expect("a status");
            }
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(run());
}

async fn run() {
    println!("\noperator trade path (no chain): durable trades per second and quote latency\n");
    println!("| path | concurrency | trades | seconds | trades/s |");
    println!("|---|---|---|---|---|");
    // 1. The journal writer directly: each task awaits its trade's durable acknowledgement.
    for concurrency in [1usize, 64, 512] {
        let (journal, dir) = fresh_journal("writer");
        let m = market();
        let writer = Writer::spawn(journal, vec![m.clone()]);
        let per_task = if concurrency == 1 {
            300
        } else {
            40_000 / concurrency
        };
        let start = Instant::now();
        let mut tasks = Vec::new();
        for t in 0..concurrency {
            let writer = writer.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..per_task {
                    let request = TradeRequest {
                        zero_for_one: (t + i) % 2 == 0,
                        exact_in: true,
                        amount: 1_000_000 + i as u128,
                        limit: None,
                    };
                    writer.swap(0, request, None).await.expect("the trade is taken");
                }
            }));
        }
        for task in tasks {
            task.await.expect("the task finishes");
        }
        let elapsed = start.elapsed();
        let trades = concurrency * per_task;
        assert_eq!(
            m.engine.lock().unwrap().trades_pending(),
            trades,
            "every trade is journaled"
        );
        println!(
            "| journal writer | {concurrency} | {trades} | {:.2} | {:.0} |",
            elapsed.as_secs_f64(),
            trades as f64 / elapsed.as_secs_f64()
        );
        let _ = std::fs::remove_dir_all(dir);
    }
    // 2. Over HTTP: keep-alive connections posting swaps.
    for concurrency in [1usize, 64, 256] {
        let (journal, dir) = fresh_journal("http");
        let m = market();
        let writer = Writer::spawn(journal, vec![m.clone()]);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let addr = listener.local_addr().expect("an address");
        tokio::spawn(serve(
            listener,
            Arc::new(App {
                markets: vec![m.clone()],
                writer,
            }),
        ));
        let per_conn = if concurrency == 1 {
            300
        } else {
            40_000 / concurrency
        };
        let start = Instant::now();
        let mut tasks = Vec::new();
        for c in 0..concurrency {
            tasks.push(tokio::spawn(async move {
                let mut conn = Conn::open(addr).await;
                for i in 0..per_conn {
                    let body = format!(
                        r#"{{"zeroForOne":{},"exactIn":true,"amount":"{}"}}"#,
                        (c + i) % 2 == 0,
                        1_000_000 + i
                    );
                    assert_eq!(conn.post("/swap", &body).await, 200);
                }
            }));
        }
        for task in tasks {
            task.await.expect("the task finishes");
        }
        let elapsed = start.elapsed();
        let trades = concurrency * per_conn;
        assert_eq!(
            m.engine.lock().unwrap().trades_pending(),
            trades,
            "every trade is journaled"
        );
        println!(
            "| HTTP POST /swap | {concurrency} | {trades} | {:.2} | {:.0} |",
            elapsed.as_secs_f64(),
            trades as f64 / elapsed.as_secs_f64()
        );
        if concurrency == 1 {
            // 3. Quote latency on one connection, over a market with trades pending.
            let mut conn = Conn::open(addr).await;
            let mut samples = Vec::new();
            for i in 0..5_000 {
                let body = format!(r#"{{"zeroForOne":{},"amount":"{}"}}"#, i % 2 == 0, 1_000 + i);
                let t = Instant::now();
                assert_eq!(conn.post("/quote", &body).await, 200);
                samples.push(t.elapsed());
            }
            samples.sort();
            println!(
                "\nquote latency over HTTP (one keep-alive connection, 5,000 quotes): p50 {:?}, p99 {:?}, max {:?}\n",
                percentile(&samples, 0.50),
                percentile(&samples, 0.99),
                samples[samples.len() - 1]
            );
            let mut samples = Vec::new();
            for i in 0..300 {
                let body = format!(r#"{{"zeroForOne":{},"amount":"{}"}}"#, i % 2 == 0, 1_000 + i);
                let t = Instant::now();
                assert_eq!(conn.post("/swap", &body).await, 200);
                samples.push(t.elapsed());
            }
            samples.sort();
            println!(
                "swap latency over HTTP, one at a time (each waits for its own fsync): p50 {:?}, p99 {:?}\n",
                percentile(&samples, 0.50),
                percentile(&samples, 0.99)
            );
            println!("| path | concurrency | trades | seconds | trades/s |");
            println!("|---|---|---|---|---|");
        }
        let _ = std::fs::remove_dir_all(dir);
    }
}
