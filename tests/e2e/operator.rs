//! The operator daemon's end-to-end harness (`tests/operator_e2e.rs`): a chain with the vault, the pool and an
//! L2 market whose operator is `accounts.operator` ([`operator_world`]; more markets, of any operator, with
//! [`World::add_market`]), the deployment file the daemon reads, the daemon itself as a child process (`damm
//! operator run`, [`Daemon`]; several side by side, each with its own key, markets and journal:
//! [`DaemonConfig::serving`]), a tiny blocking HTTP/1.1 client for its API, random traders, and the settlement
//! checks every test ends with ([`World::assert_all_settled`]; of any market:
//! [`MarketView::assert_all_settled`]).
//!
//! # What "settled exactly once" means here
//!
//! Acknowledged trades are the 200 answers to `POST /swap` the test received ([`Ack`]); settled trades are the
//! `swaps` of the market's `BatchSettled` events on the chain. The final check waits until the daemon has
//! nothing pending, then requires:
//!
//! - every seq from 1 to the chain's seq settled by exactly one `BatchSettled` or `ResizeApplied` event (no
//!   transition twice, none missing);
//! - the settled count equal to the acknowledged count, and every acknowledged trade `settled` in
//!   `GET /trades/{id}`, in a batch whose event names the same transaction;
//! - replaying the acknowledged trades with the shared codec from the market's initial state, batch by batch
//!   (ordered by trade id; a resize where the chain applied it), gives every trade exactly its acknowledged
//!   amounts and fee, every batch exactly its event's flows, LP fees and state hash;
//! - the chain's `stateHash()` equal to the keccak of its `state()` bytes, to the replay's, and to the
//!   daemon's `/state`.
//!
//! The devnode's restarts drop its logs, so the events are read incrementally and kept ([`ChainEvents`]).

#![allow(dead_code, unreachable_pub, missing_docs)]

use std::{
    collections::{BTreeMap, BTreeSet},
    fs::{self, OpenOptions},
    future::Future,
    io::{self, BufRead, BufReader, Read, Write},
    net::{SocketAddr, TcpStream},
    os::unix::process::ExitStatusExt,
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    sync::{
        atomic::{AtomicU64, Ordering},
        mpsc, Arc, Mutex,
    },
    thread,
    time::{Duration, Instant},
};

use alloy::{
    network::TransactionBuilder,
    primitives::{keccak256, Address, Bytes, B256, U256},
    providers::Provider,
    rpc::types::{Filter, TransactionRequest},
    sol_types::SolEvent,
};
use damm::{
    deployment::{Deployment, MarketEntry, MarketKind, PoolEntry, VaultPrograms},
    market_codec::{exec::execute_op, MarketState, Op, Totals},
    math::CollectFeeMode,
};
use serde_json::{json, Value};

use crate::e2e::{
    market::{concentrated, events, l2_market, operator_market, world_on, MarketTrack, Rng},
    Harness, PoolTrack,
};

/// The market's name in the deployment file.
pub const MARKET: &str = "l2-a";

// ---- a temporary directory -----------------------------------------------------------------------------------

/// A directory for one test's files (deployment, journal, logs, the devnode's state), removed when the test
/// passes and kept (its path printed) when it fails.
pub struct TestDir {
    pub path: PathBuf,
}

impl TestDir {
    pub fn new(test: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let path = std::env::temp_dir().join(format!("damm-operator-{test}-{}-{nanos}", std::process::id()));
        fs::create_dir_all(&path).expect("a temporary directory");
        Self { path }
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        if thread::panicking() {
            println!("test files kept in {}", self.path.display());
        } else {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

// ---- HTTP ----------------------------------------------------------------------------------------------------

/// An HTTP answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: String,
}

impl Reply {
    /// The body as JSON (panics, quoting it, if it is not).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("the answer ({}) is not JSON ({e}): {:?}", self.status, self.body))
    }
}

/// One HTTP/1.1 request with `Connection: close`, blocking. An error means no complete answer arrived (the
/// connection was refused, reset or closed early).
pub fn http(addr: SocketAddr, method: &str, path: &str, body: Option<&[u8]>) -> io::Result<Reply> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    stream.set_write_timeout(Some(Duration::from_secs(10)))?;
    let body = body.unwrap_or_default();
    let content_type = if body.is_empty() {
        ""
    } else {
        "Content-Type: application/json\r\n"
    };
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAccept: */*\r\n{content_type}\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    stream.flush()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse_response(&raw)
}

fn truncated(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, what.to_string())
}

fn parse_response(raw: &[u8]) -> io::Result<Reply> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| truncated("no complete HTTP head"))?;
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("bad status line {status_line:?}"),
            )
        })?;
    let headers: BTreeMap<String, String> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let rest = &raw[end + 4..];
    let body = if headers
        .get("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
    {
        let mut body = Vec::new();
        let mut at = 0;
        loop {
            let line_end = rest[at..]
                .windows(2)
                .position(|w| w == b"\r\n")
                .ok_or_else(|| truncated("a chunk size"))?;
            let size_text = String::from_utf8_lossy(&rest[at..at + line_end]).to_string();
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))?;
            at += line_end + 2;
            if size == 0 {
                break;
            }
            if rest.len() < at + size {
                return Err(truncated("a chunk"));
            }
            body.extend_from_slice(&rest[at..at + size]);
            at += size + 2;
        }
        body
    } else if let Some(length) = headers.get("content-length") {
        let length: usize = length
            .parse()
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad Content-Length"))?;
        if rest.len() < length {
            return Err(truncated("the body"));
        }
        rest[..length].to_vec()
    } else {
        rest.to_vec()
    };
    Ok(Reply {
        status,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// A JSON amount (a decimal string, a `0x` hex string or a number) as `u128`.
pub fn amount(v: &Value) -> u128 {
    match v {
        Value::String(s) => match s.strip_prefix("0x") {
            Some(hex) => u128::from_str_radix(hex, 16),
            None => s.parse(),
        }
        .unwrap_or_else(|_| panic!("not an amount: {v}")),
        Value::Number(n) => n
            .as_u64()
            .map(u128::from)
            .unwrap_or_else(|| panic!("not an amount: {v}")),
        _ => panic!("not an amount: {v}"),
    }
}

/// A JSON amount that may exceed 128 bits (liquidity) as `U256`.
pub fn wide(v: &Value) -> U256 {
    match v {
        Value::String(s) => match s.strip_prefix("0x") {
            Some(hex) => U256::from_str_radix(hex, 16),
            None => U256::from_str_radix(s, 10),
        }
        .unwrap_or_else(|_| panic!("not a number: {v}")),
        Value::Number(n) => U256::from(n.as_u64().unwrap_or_else(|| panic!("not a number: {v}"))),
        _ => panic!("not a number: {v}"),
    }
}

/// A JSON integer (a number or a decimal string) as `u64`.
pub fn int(v: &Value) -> u64 {
    match v {
        Value::Number(n) => n.as_u64().unwrap_or_else(|| panic!("not an integer: {v}")),
        Value::String(s) => s.parse().unwrap_or_else(|_| panic!("not an integer: {v}")),
        _ => panic!("not an integer: {v}"),
    }
}

/// A JSON hash.
pub fn hash(v: &Value) -> B256 {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not a hash: {v}"))
}

// ---- trades --------------------------------------------------------------------------------------------------

/// A swap (or quote) request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwapReq {
    pub zero_for_one: bool,
    pub exact_in: bool,
    pub amount: u128,
    pub limit: Option<u128>,
    /// The client's idempotency key.
    pub id: Option<String>,
}

impl SwapReq {
    pub fn new(zero_for_one: bool, exact_in: bool, amount: u128) -> Self {
        Self {
            zero_for_one,
            exact_in,
            amount,
            limit: None,
            id: None,
        }
    }

    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    pub fn with_limit(mut self, limit: u128) -> Self {
        self.limit = Some(limit);
        self
    }

    /// The `POST /swap` body.
    pub fn json(&self) -> Value {
        let mut v = self.quote_json();
        if let Some(id) = &self.id {
            v["id"] = json!(id);
        }
        v
    }

    /// The `POST /quote` body (no `id`).
    pub fn quote_json(&self) -> Value {
        let mut v = json!({
            "zeroForOne": self.zero_for_one,
            "exactIn": self.exact_in,
            "amount": self.amount.to_string(),
        });
        if let Some(limit) = self.limit {
            v["limit"] = json!(limit.to_string());
        }
        v
    }
}

/// An acknowledged trade: a 200 answer to `POST /swap`.
#[derive(Debug, Clone)]
pub struct Ack {
    pub trade: u64,
    pub req: SwapReq,
    pub amount_in: u128,
    pub amount_out: u128,
    pub fee: u128,
    pub timestamp: u64,
    pub answer: Value,
}

impl Ack {
    pub fn new(req: SwapReq, answer: Value) -> Self {
        let field = |name: &str| {
            answer
                .get(name)
                .unwrap_or_else(|| panic!("the swap answer has no {name}: {answer}"))
                .clone()
        };
        if let Some(id) = &req.id {
            assert_eq!(field("id"), json!(id), "the answer echoes the client id");
        }
        Self {
            trade: int(&field("trade")),
            amount_in: amount(&field("amountIn")),
            amount_out: amount(&field("amountOut")),
            fee: amount(&field("fee")),
            timestamp: int(&field("timestamp")),
            req,
            answer,
        }
    }
}

/// What the clients saw.
#[derive(Debug, Default)]
pub struct Ledger {
    /// Every 200 answer to `POST /swap`.
    pub acks: Vec<Ack>,
    /// Refusals by `error` name.
    pub refused: BTreeMap<String, u64>,
    /// Requests that got no complete answer (the daemon died, or was not there).
    pub unanswered: Vec<SwapReq>,
}

pub type SharedLedger = Arc<Mutex<Ledger>>;

/// The outcome of one `POST /swap`.
#[derive(Debug)]
pub enum Outcome {
    Acked(Ack),
    Refused(u16, Value),
    Unanswered(io::Error),
}

/// A client of one daemon (an address: cheap to copy into threads), and of one of its markets: its quotes,
/// swaps and `/state` go to the daemon's only market (`market` `None`), or under `/markets/{market}`
/// ([`Client::at`]).
#[derive(Debug, Clone, Copy)]
pub struct Client {
    pub addr: SocketAddr,
    pub market: Option<&'static str>,
}

impl Client {
    /// The client of the daemon's market `market` (its paths under `/markets/{market}`).
    pub fn at(self, market: &'static str) -> Self {
        Self {
            market: Some(market),
            ..self
        }
    }

    /// `path` (`/swap`, `/quote`, `/state`) of this client's market.
    pub fn path(&self, path: &str) -> String {
        match self.market {
            Some(market) => format!("/markets/{market}{path}"),
            None => path.to_string(),
        }
    }

    pub fn request(&self, method: &str, path: &str, body: Option<&Value>) -> io::Result<Reply> {
        let body = body.map(|b| serde_json::to_vec(b).expect("JSON"));
        http(self.addr, method, path, body.as_deref())
    }

    /// `method path` with a raw body; panics when no answer arrives.
    pub fn raw(&self, method: &str, path: &str, body: &[u8]) -> Reply {
        http(self.addr, method, path, Some(body))
            .unwrap_or_else(|e| panic!("no answer to {method} {path}: {e}"))
    }

    pub fn get(&self, path: &str) -> Reply {
        self.request("GET", path, None)
            .unwrap_or_else(|e| panic!("no answer to GET {path}: {e}"))
    }

    pub fn post(&self, path: &str, body: &Value) -> Reply {
        self.request("POST", path, Some(body))
            .unwrap_or_else(|e| panic!("no answer to POST {path}: {e}"))
    }

    fn split(reply: Reply) -> Result<Value, (u16, Value)> {
        let json = reply.json();
        if reply.status == 200 {
            Ok(json)
        } else {
            Err((reply.status, json))
        }
    }

    /// `POST /swap`: the answer, or the refusal's status and body. Panics when no answer arrives.
    pub fn swap(&self, body: &Value) -> Result<Value, (u16, Value)> {
        Self::split(self.post(&self.path("/swap"), body))
    }

    /// `POST /quote`.
    pub fn quote(&self, body: &Value) -> Result<Value, (u16, Value)> {
        Self::split(self.post(&self.path("/quote"), body))
    }

    /// `POST /swap` of `req`, recorded in `ledger`.
    pub fn send(&self, ledger: &SharedLedger, req: SwapReq) -> Outcome {
        let outcome = match self.request("POST", &self.path("/swap"), Some(&req.json())) {
            Err(e) => Outcome::Unanswered(e),
            Ok(reply) if reply.status == 200 => Outcome::Acked(Ack::new(req.clone(), reply.json())),
            Ok(reply) => Outcome::Refused(reply.status, reply.json()),
        };
        let mut ledger = ledger.lock().unwrap();
        match &outcome {
            Outcome::Acked(ack) => ledger.acks.push(ack.clone()),
            Outcome::Refused(status, body) => {
                let name = body["error"].as_str().unwrap_or("?").to_string();
                assert!(*status >= 400, "a refusal has an error status: {status} {body}");
                *ledger.refused.entry(name).or_default() += 1;
            }
            Outcome::Unanswered(_) => ledger.unanswered.push(req),
        }
        outcome
    }

    /// `POST /swap` of `req`, which must be acknowledged (recorded in `ledger`).
    pub fn must_swap(&self, ledger: &SharedLedger, req: SwapReq) -> Ack {
        match self.send(ledger, req.clone()) {
            Outcome::Acked(ack) => ack,
            other => panic!("{req:?} was not acknowledged: {other:?}"),
        }
    }

    /// `GET /state`'s first (only) market: this client's market.
    pub fn state(&self) -> Value {
        let reply = self.get(&self.path("/state"));
        assert_eq!(reply.status, 200, "GET /state: {}", reply.body);
        reply.json()["markets"][0].clone()
    }

    /// `GET /health`: status and body.
    pub fn health(&self) -> (u16, Value) {
        let reply = self.get("/health");
        (reply.status, reply.json())
    }

    /// `GET /metrics`, parsed.
    pub fn metrics(&self) -> Metrics {
        let reply = self.get("/metrics");
        assert_eq!(reply.status, 200, "GET /metrics: {}", reply.body);
        Metrics::parse(&reply.body)
    }

    /// `GET /trades/{id}`: status and body.
    pub fn trade(&self, id: u64) -> (u16, Value) {
        let reply = self.get(&format!("/trades/{id}"));
        (reply.status, reply.json())
    }
}

/// Prometheus text, by series (`name{labels}`).
#[derive(Debug, Clone, Default)]
pub struct Metrics(pub BTreeMap<String, f64>);

impl Metrics {
    pub fn parse(text: &str) -> Self {
        let mut series = BTreeMap::new();
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (name, value) = line
                .rsplit_once(' ')
                .unwrap_or_else(|| panic!("not a metric line: {line:?}"));
            let value: f64 = value
                .parse()
                .unwrap_or_else(|_| panic!("not a metric value: {line:?}"));
            series.insert(name.trim().to_string(), value);
        }
        Self(series)
    }

    /// The sum over every series of metric `name` (every label set).
    pub fn sum(&self, name: &str) -> f64 {
        self.0
            .iter()
            .filter(|(series, _)| series.split('{').next() == Some(name))
            .map(|(_, value)| value)
            .sum()
    }

    /// Whether metric `name` is present at all.
    pub fn has(&self, name: &str) -> bool {
        self.0.keys().any(|series| series.split('{').next() == Some(name))
    }
}

/// Random trades a user could make on a market with reserves `(token0, token1)`: either direction, exact in
/// (2/3) or out, between 1/100,000 and 1/250 of the reserve of the token the amount is in.
pub struct TradeGen {
    pub rng: Rng,
    reserves: (u128, u128),
    prefix: Option<String>,
    count: u64,
}

impl TradeGen {
    /// Trades with client ids `{prefix}-{n}` when `prefix` is given.
    pub fn new(seed: u64, reserves: (u128, u128), prefix: Option<&str>) -> Self {
        Self {
            rng: Rng(seed.max(1)),
            reserves,
            prefix: prefix.map(str::to_string),
            count: 0,
        }
    }

    pub fn next_req(&mut self) -> SwapReq {
        let zero_for_one = self.rng.below(2) == 0;
        let exact_in = self.rng.below(3) != 0;
        // Selling token0 or buying token0 is sized by token0.
        let reserve = if zero_for_one == exact_in {
            self.reserves.0
        } else {
            self.reserves.1
        };
        let amount = (reserve / 100_000).max(1) * (1 + u128::from(self.rng.below(400)));
        let mut req = SwapReq::new(zero_for_one, exact_in, amount);
        if let Some(prefix) = &self.prefix {
            req.id = Some(format!("{prefix}-{}", self.count));
        }
        self.count += 1;
        req
    }
}

/// One trading client: `count` random trades, one after the other; a third of them ask for a quote first and
/// swap with a limit a little worse than it (a limit other clients' trades may make it miss). Stops at the
/// first request without an answer (the daemon is gone).
pub fn trade_loop(client: Client, ledger: SharedLedger, mut gen: TradeGen, count: usize, pause: Duration) {
    for _ in 0..count {
        let mut req = gen.next_req();
        if gen.rng.below(3) == 0 {
            match client.request("POST", &client.path("/quote"), Some(&req.quote_json())) {
                Err(_) => return,
                Ok(reply) if reply.status == 200 => {
                    let quote = reply.json();
                    // Up to 1 % worse than the quote.
                    let quoted = if req.exact_in {
                        amount(&quote["amountOut"])
                    } else {
                        amount(&quote["amountIn"])
                    };
                    let slack = quoted / 10_000 * u128::from(gen.rng.below(101));
                    req.limit = Some(if req.exact_in {
                        amount(&quote["amountOut"]).saturating_sub(slack)
                    } else {
                        amount(&quote["amountIn"]) + slack
                    });
                }
                Ok(_) => {}
            }
        }
        if let Outcome::Unanswered(_) = client.send(&ledger, req) {
            return;
        }
        if !pause.is_zero() {
            thread::sleep(pause);
        }
    }
}

/// Runs `threads` clients ([`trade_loop`]) of `count` trades each in the background.
#[allow(clippy::too_many_arguments)]
pub fn spawn_traders(
    client: Client,
    ledger: &SharedLedger,
    reserves: (u128, u128),
    seed: u64,
    threads: usize,
    count: usize,
    pause: Duration,
    id_prefix: Option<&str>,
) -> Vec<thread::JoinHandle<()>> {
    (0..threads)
        .map(|i| {
            let ledger = ledger.clone();
            let prefix = id_prefix.map(|p| format!("{p}{i}"));
            let gen = TradeGen::new(
                seed.wrapping_mul(31).wrapping_add(i as u64),
                reserves,
                prefix.as_deref(),
            );
            thread::spawn(move || trade_loop(client, ledger, gen, count, pause))
        })
        .collect()
}

/// Waits for the threads.
pub fn join_all(handles: Vec<thread::JoinHandle<()>>) {
    for handle in handles {
        handle.join().expect("a client thread panicked");
    }
}

// ---- waiting -------------------------------------------------------------------------------------------------

/// Polls `check` every 50 ms until it gives `Some`, or fails after `timeout` naming `what`.
pub async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Polls `check` every 50 ms until it holds, or fails after `timeout` naming `what`.
pub async fn wait_until<F, Fut>(what: &str, timeout: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    wait_for(what, timeout, || {
        let fut = check();
        async move { fut.await.then_some(()) }
    })
    .await
}

/// [`wait_until`] for a blocking check (the daemon's API).
pub fn wait_until_sync(what: &str, timeout: Duration, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        thread::sleep(Duration::from_millis(50));
    }
}

// ---- the daemon ----------------------------------------------------------------------------------------------

/// How to run the daemon.
#[derive(Debug, Clone)]
pub struct DaemonConfig {
    pub batch_size: usize,
    pub batch_age_ms: u64,
    pub receipt_timeout_ms: Option<u64>,
    /// `DAMM_FAULT` and `DAMM_FAULT_AFTER`.
    pub fault: Option<(&'static str, u64)>,
    /// More arguments.
    pub extra: Vec<String>,
    /// Let the daemon estimate each transaction's gas (`eth_estimateGas`, which the devnode answers by running
    /// the batch a few dozen times); otherwise a fixed `--gas-limit` keeps the tests quick.
    pub estimate_gas: bool,
    /// The markets served (a `--market` each); empty: [`MARKET`].
    pub markets: Vec<&'static str>,
    /// The account whose key signs; `None`: `accounts.operator`.
    pub signer: Option<Address>,
    /// Names the process's journal and log (`operator-{instance}.sqlite`, `operator-{instance}.log`), for
    /// processes side by side; `None`: the world's `operator.sqlite` and `operator.log`.
    pub instance: Option<&'static str>,
}

impl Default for DaemonConfig {
    fn default() -> Self {
        Self {
            batch_size: 50,
            batch_age_ms: 500,
            receipt_timeout_ms: None,
            fault: None,
            extra: Vec::new(),
            estimate_gas: false,
            markets: Vec::new(),
            signer: None,
            instance: None,
        }
    }
}

impl DaemonConfig {
    pub fn batches(batch_size: usize, batch_age_ms: u64) -> Self {
        Self {
            batch_size,
            batch_age_ms,
            ..Self::default()
        }
    }

    pub fn fault(mut self, point: &'static str, after: u64) -> Self {
        self.fault = Some((point, after));
        self
    }

    pub fn receipt_timeout(mut self, ms: u64) -> Self {
        self.receipt_timeout_ms = Some(ms);
        self
    }

    /// A process of its own (`instance`: its journal and log) serving `markets` with `signer`'s key.
    pub fn serving(mut self, instance: &'static str, signer: Address, markets: &[&'static str]) -> Self {
        self.instance = Some(instance);
        self.signer = Some(signer);
        self.markets = markets.to_vec();
        self
    }
}

/// `damm operator run` as a child process: stdout's first line gives its address, stderr goes to the test's
/// log file (printed, its tail, when the test fails). Killed if still running when dropped.
pub struct Daemon {
    child: Child,
    pub client: Client,
    pub log: PathBuf,
    /// The markets it serves (its `--market` arguments).
    pub markets: Vec<String>,
}

/// A `Command` for the `damm` binary in `dir`, with no `DAMM_*` variable of the test's environment.
pub fn damm_command(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_damm"));
    command.current_dir(dir).stdin(Stdio::null());
    for (name, _) in std::env::vars() {
        if name.starts_with("DAMM_") {
            command.env_remove(name);
        }
    }
    command
}

/// The last `lines` lines of a file.
pub fn tail(path: &Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn append_line(path: &Path, line: &str) {
    if let Ok(mut file) = OpenOptions::new().create(true).append(true).open(path) {
        let _ = writeln!(file, "{line}");
    }
}

impl Daemon {
    /// Starts `damm operator run` with `args` in `dir`, logging to `log`; returns once it printed its address.
    pub fn spawn(dir: &Path, args: &[String], fault: Option<(&str, u64)>, log: &Path) -> Daemon {
        append_line(log, &format!("==== damm {} (fault: {fault:?})", args.join(" ")));
        let stderr = OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .expect("the log file");
        let mut command = damm_command(dir);
        command.args(args).stdout(Stdio::piped()).stderr(stderr);
        if let Some((point, after)) = fault {
            command
                .env("DAMM_FAULT", point)
                .env("DAMM_FAULT_AFTER", after.to_string());
        }
        let mut child = command.spawn().expect("the damm binary starts");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        let stdout_log = log.to_path_buf();
        thread::spawn(move || {
            let mut first = true;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if first {
                    let _ = tx.send(line.clone());
                    first = false;
                }
                append_line(&stdout_log, &format!("stdout: {line}"));
            }
        });
        let start = Instant::now();
        let line = loop {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(line) => break line,
                Err(mpsc::RecvTimeoutError::Timeout) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                    if let Ok(Some(status)) = child.try_wait() {
                        panic!(
                            "the daemon exited ({status}) before listening; its log:\n{}",
                            tail(log, 40)
                        );
                    }
                    if start.elapsed() > Duration::from_secs(120) {
                        let _ = child.kill();
                        let _ = child.wait();
                        panic!("the daemon printed nothing in 120 s; its log:\n{}", tail(log, 40));
                    }
                }
            }
        };
        let addr: SocketAddr = line
            .strip_prefix("listening on http://")
            .and_then(|a| a.trim().parse().ok())
            .unwrap_or_else(|| panic!("the daemon's first line is not `listening on http://ADDR`: {line:?}"));
        let markets = args
            .windows(2)
            .filter(|pair| pair[0] == "--market")
            .map(|pair| pair[1].clone())
            .collect();
        Daemon {
            child,
            client: Client { addr, market: None },
            log: log.to_path_buf(),
            markets,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until the daemon has synchronised with the chain: a quote (on each of its markets, when it serves
    /// several) is no longer refused as `NotReady`.
    pub fn wait_ready(&mut self) {
        let start = Instant::now();
        let paths: Vec<String> = if self.markets.len() > 1 {
            self.markets
                .iter()
                .map(|market| format!("/markets/{market}/quote"))
                .collect()
        } else {
            vec!["/quote".to_string()]
        };
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "the daemon exited ({status}) while starting; its log:\n{}",
                    tail(&self.log, 40)
                );
            }
            let probe = json!({"zeroForOne": true, "exactIn": true, "amount": "1000"});
            let ready = paths.iter().all(|path| {
                self.client
                    .request("POST", path, Some(&probe))
                    .is_ok_and(|reply| {
                        let not_ready = reply.status == 503
                            && serde_json::from_str::<Value>(&reply.body)
                                .is_ok_and(|v| v["error"] == json!("NotReady"));
                        !not_ready
                    })
            });
            if ready {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "the daemon is not ready after 120 s; its log:\n{}",
                tail(&self.log, 40)
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([format!("-{signal}"), self.pid().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{signal} {} failed", self.pid());
    }

    fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            if start.elapsed() > timeout {
                return None;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the daemon with SIGTERM and waits (up to 60 s) for it to exit cleanly.
    pub fn stop(mut self) -> ExitStatus {
        self.signal("TERM");
        let status = self.wait_exit(Duration::from_secs(60)).unwrap_or_else(|| {
            let _ = self.child.kill();
            panic!(
                "the daemon did not stop within 60 s of SIGTERM; its log:\n{}",
                tail(&self.log, 40)
            )
        });
        append_line(&self.log, &format!("==== stopped by SIGTERM: {status}"));
        assert!(
            status.success(),
            "the daemon exits cleanly on SIGTERM, not {status}; its log:\n{}",
            tail(&self.log, 40)
        );
        status
    }

    /// Waits (up to `timeout`) for the daemon to abort at its fault point (SIGABRT).
    pub fn wait_abort(mut self, timeout: Duration) {
        let status = self.wait_exit(timeout).unwrap_or_else(|| {
            let _ = self.child.kill();
            panic!(
                "the daemon did not reach its fault point within {timeout:?}; its log:\n{}",
                tail(&self.log, 40)
            )
        });
        append_line(&self.log, &format!("==== exited: {status}"));
        assert_eq!(
            status.signal(),
            Some(6),
            "the daemon aborts (SIGABRT) at the fault point, not {status}; its log:\n{}",
            tail(&self.log, 40)
        );
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs `damm` with `args` to its exit (at most `timeout`): its status, stdout and stderr.
pub fn run_to_exit(dir: &Path, args: &[String], timeout: Duration) -> (ExitStatus, String, String) {
    static RUNS: AtomicU64 = AtomicU64::new(0);
    let run = RUNS.fetch_add(1, Ordering::Relaxed);
    let out = dir.join(format!("exit-{run}.out"));
    let err = dir.join(format!("exit-{run}.err"));
    let mut child = damm_command(dir)
        .args(args)
        .stdout(fs::File::create(&out).expect("a file"))
        .stderr(fs::File::create(&err).expect("a file"))
        .spawn()
        .expect("the damm binary starts");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "damm {} did not exit within {timeout:?}; stderr:\n{}",
                args.join(" "),
                tail(&err, 40)
            );
        }
        thread::sleep(Duration::from_millis(20));
    };
    (
        status,
        fs::read_to_string(&out).unwrap_or_default(),
        fs::read_to_string(&err).unwrap_or_default(),
    )
}

// ---- the chain's record --------------------------------------------------------------------------------------

/// The market's settlement events, read incrementally (a devnode restart drops the logs before it).
#[derive(Debug, Default)]
pub struct ChainEvents {
    seen: BTreeSet<(u64, u64)>,
    /// `BatchSettled` by seq, with its transaction.
    pub batches: BTreeMap<u64, (events::BatchSettled, B256)>,
    /// `ResizeApplied` by seq, with its transaction.
    pub resizes: BTreeMap<u64, (events::ResizeApplied, B256)>,
    /// Transitions seen twice (a seq settled twice).
    pub duplicates: Vec<String>,
}

impl ChainEvents {
    pub fn settled_swaps(&self) -> u64 {
        self.batches
            .values()
            .map(|(b, _)| u64::try_from(b.swaps).expect("a count"))
            .sum()
    }

    fn transition_seen(&mut self, seq: u64, what: &str) -> bool {
        if self.batches.contains_key(&seq) || self.resizes.contains_key(&seq) {
            self.duplicates.push(format!("seq {seq} again ({what})"));
            true
        } else {
            false
        }
    }
}

// ---- the world -----------------------------------------------------------------------------------------------

/// Options of [`operator_world`].
#[derive(Debug, Clone, Copy, Default)]
pub struct WorldOptions {
    /// The market's dynamic fee.
    pub dynamic_fee: bool,
    /// The in-process devnode keeps a state file (for [`Harness::restart_devnode`]).
    pub state_file: bool,
}

/// One test's chain, market, files and record of the chain's settlements.
pub struct World {
    pub h: Harness,
    pub pool: PoolTrack,
    pub admin: Address,
    /// The market ([`MARKET`]), its `state` the initial one (seq 0).
    pub market: MarketTrack,
    pub dir: TestDir,
    pub deployment: PathBuf,
    pub db: PathBuf,
    pub log: PathBuf,
    pub chain_id: u64,
    /// The settlements of [`MARKET`].
    pub events: Mutex<ChainEvents>,
    /// More markets on the pool ([`World::add_market`]).
    pub more: Vec<WorldMarket>,
}

/// A market of the world besides [`MARKET`]: its name in the deployment file, the market (its `state` the
/// initial one) and its settlements.
pub struct WorldMarket {
    pub name: &'static str,
    pub market: MarketTrack,
    pub events: Mutex<ChainEvents>,
}

/// One market of a [`World`] with its record of settlements: the chain reads and settlement checks of a
/// market. [`World`]'s own methods of the same names are [`MARKET`]'s.
pub struct MarketView<'a> {
    pub h: &'a Harness,
    pub name: &'static str,
    /// The market, its `state` the initial one (seq 0).
    pub market: &'a MarketTrack,
    pub events: &'a Mutex<ChainEvents>,
}

/// The vault, the main pool holding Alice's Uniswap position, and the operator's L2 market (concentrated,
/// 100,000 tokens of liquidity, fees in both tokens; the operator funded with both tokens and approving the
/// vault), registered; the deployment file written.
pub async fn operator_world(test: &str, options: WorldOptions) -> World {
    let started = Instant::now();
    let dir = TestDir::new(test);
    let h = if options.state_file {
        Harness::with_state_file(dir.path.join("devnode-state.json")).await
    } else {
        Harness::new().await
    };
    let (h, pool, admin) = world_on(h).await;
    let market = operator_market(&h, &pool, admin, options.dynamic_fee).await;
    let chain_id = h.provider.get_chain_id().await.expect("chain id");
    let call = TransactionRequest::default()
        .with_to(h.vault)
        .with_input(Bytes::copy_from_slice(&keccak256(b"programs()")[..4]));
    let output = h.provider.call(call).await.expect("programs()");
    let programs: Vec<Address> = output
        .chunks(32)
        .map(|word| Address::from_word(B256::from_slice(word)))
        .collect();
    let deployment = Deployment {
        chain_id,
        factory: h.factory,
        vault: h.vault,
        vault_programs: VaultPrograms {
            settlement: programs[0],
            withdrawals: programs[1],
            markets: programs[2],
            admin: programs[3],
        },
        market_admin: admin,
        pools: vec![PoolEntry {
            pair: pool.pair,
            token0: pool.token0,
            token1: pool.token1,
        }],
        markets: vec![MarketEntry {
            name: MARKET.into(),
            address: market.address,
            pool: pool.pair,
            operator: h.accounts.operator,
            kind: MarketKind::L2,
        }],
    };
    let path = dir.path.join("deployment.json");
    deployment.save(&path).expect("the deployment file is written");
    println!(
        "{test}: the chain and the market are ready after {:?}",
        started.elapsed()
    );
    World {
        db: dir.path.join("operator.sqlite"),
        log: dir.path.join("operator.log"),
        deployment: path,
        h,
        pool,
        admin,
        market,
        dir,
        chain_id,
        events: Mutex::new(ChainEvents::default()),
        more: Vec::new(),
    }
}

impl Drop for World {
    fn drop(&mut self) {
        if thread::panicking() {
            // The world's daemon's, then those of the processes beside it (`operator-{instance}.log`).
            let mut logs = vec![self.log.clone()];
            let mut instances: Vec<PathBuf> = fs::read_dir(&self.dir.path)
                .map(|dir| {
                    dir.filter_map(|entry| entry.ok().map(|e| e.path()))
                        .filter(|path| {
                            path.file_name()
                                .and_then(|n| n.to_str())
                                .is_some_and(|n| n.starts_with("operator-") && n.ends_with(".log"))
                        })
                        .collect()
                })
                .unwrap_or_default();
            instances.sort();
            logs.extend(instances);
            for log in logs.iter().filter(|log| log.exists()) {
                println!(
                    "---- the daemon's log ({}), last lines:\n{}\n----",
                    log.display(),
                    tail(log, 80)
                );
            }
        }
    }
}

impl World {
    /// The journal of the process `config` runs: the world's, or its instance's.
    pub fn db_of(&self, config: &DaemonConfig) -> PathBuf {
        match config.instance {
            Some(instance) => self.dir.path.join(format!("operator-{instance}.sqlite")),
            None => self.db.clone(),
        }
    }

    /// The log of the process `config` runs: the world's, or its instance's.
    pub fn log_of(&self, config: &DaemonConfig) -> PathBuf {
        match config.instance {
            Some(instance) => self.dir.path.join(format!("operator-{instance}.log")),
            None => self.log.clone(),
        }
    }

    /// The daemon's arguments: `operator run` on this world's chain and deployment, with the configuration's
    /// markets (by default [`MARKET`]), key (by default the operator's) and journal (by default the world's).
    pub fn daemon_args(&self, config: &DaemonConfig) -> Vec<String> {
        let signer = config.signer.unwrap_or(self.h.accounts.operator);
        let mut args: Vec<String> = [
            "operator",
            "run",
            "--rpc-url",
            &self.h.url,
            "--private-key",
            &self.h.private_key(signer).to_string(),
            "--deployment",
            &self.deployment.display().to_string(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let markets = if config.markets.is_empty() {
            &[MARKET][..]
        } else {
            &config.markets[..]
        };
        for market in markets {
            args.extend(["--market".to_string(), market.to_string()]);
        }
        args.extend(
            [
                "--listen",
                "127.0.0.1:0",
                "--db",
                &self.db_of(config).display().to_string(),
                "--batch-size",
                &config.batch_size.to_string(),
                "--batch-age-ms",
                &config.batch_age_ms.to_string(),
            ]
            .iter()
            .map(|s| s.to_string()),
        );
        if let Some(ms) = config.receipt_timeout_ms {
            args.extend(["--receipt-timeout-ms".to_string(), ms.to_string()]);
        }
        if !config.estimate_gas {
            args.extend(["--gas-limit".to_string(), "30000000".to_string()]);
        }
        args.extend(config.extra.iter().cloned());
        args
    }

    /// Starts the daemon and waits until it is ready (unless it is to abort at `after-ack`-like points before:
    /// every fault point here is reached only after trades).
    pub fn start_daemon(&self, config: &DaemonConfig) -> Daemon {
        let log = self.log_of(config);
        let mut daemon = Daemon::spawn(&self.dir.path, &self.daemon_args(config), config.fault, &log);
        daemon.wait_ready();
        daemon
    }

    /// Deploys another L2 market on the pool, `name`d in the deployment file, operated by `operator` (funded
    /// with both tokens and approving the vault): [`concentrated`] with fees in both tokens, a static fee and
    /// `tokens` of real liquidity, registered at its own liquidity (the vault's admission must allow it beside
    /// the markets already there).
    pub async fn add_market(&mut self, name: &'static str, operator: Address, tokens: u64) {
        assert!(
            name != MARKET && self.more.iter().all(|m| m.name != name),
            "a second market {name}"
        );
        let params = concentrated(CollectFeeMode::BothToken, tokens, false);
        let market = l2_market(&self.h, &self.pool, self.admin, operator, params).await;
        let mut deployment = Deployment::load(&self.deployment).expect("the deployment file");
        deployment.markets.push(MarketEntry {
            name: name.into(),
            address: market.address,
            pool: self.pool.pair,
            operator,
            kind: MarketKind::L2,
        });
        deployment
            .save(&self.deployment)
            .expect("the deployment file is written");
        self.more.push(WorldMarket {
            name,
            market,
            events: Mutex::new(ChainEvents::default()),
        });
    }

    /// Market `name` ([`MARKET`] or one of [`World::add_market`]'s).
    pub fn on(&self, name: &str) -> MarketView<'_> {
        if name == MARKET {
            return MarketView {
                h: &self.h,
                name: MARKET,
                market: &self.market,
                events: &self.events,
            };
        }
        let m = self
            .more
            .iter()
            .find(|m| m.name == name)
            .unwrap_or_else(|| panic!("the world has no market {name}"));
        MarketView {
            h: &self.h,
            name: m.name,
            market: &m.market,
            events: &m.events,
        }
    }

    /// [`MARKET`]'s view.
    fn main(&self) -> MarketView<'_> {
        self.on(MARKET)
    }

    /// [`MARKET`]'s initial reserves `(token0, token1)`, which size the random trades.
    pub fn reserves(&self) -> (u128, u128) {
        self.main().reserves()
    }

    pub async fn chain_seq(&self) -> u64 {
        self.main().chain_seq().await
    }

    pub async fn chain_state_hash(&self) -> B256 {
        self.main().chain_state_hash().await
    }

    /// [`MarketView::chain_state`] of [`MARKET`].
    pub async fn chain_state(&self) -> (MarketState, B256) {
        self.main().chain_state().await
    }

    /// [`MarketView::pending_resize`] of [`MARKET`].
    pub async fn pending_resize(&self) -> (U256, u64) {
        self.main().pending_resize().await
    }

    pub async fn frozen(&self) -> bool {
        self.main().frozen().await
    }

    /// [`MarketView::refresh_events`] of [`MARKET`].
    pub async fn refresh_events(&self) {
        self.main().refresh_events().await
    }

    /// [`MarketView::settled_swaps`] of [`MARKET`].
    pub async fn settled_swaps(&self) -> u64 {
        self.main().settled_swaps().await
    }

    /// [`MarketView::assert_mirror`] of [`MARKET`].
    pub async fn assert_mirror(&self, client: Client) -> u64 {
        self.main().assert_mirror(client).await
    }

    /// [`MarketView::assert_idle_mirror`] of [`MARKET`].
    pub async fn assert_idle_mirror(&self, client: Client) {
        self.main().assert_idle_mirror(client).await
    }

    /// [`MarketView::assert_no_failed_operator_tx`] of [`MARKET`].
    pub async fn assert_no_failed_operator_tx(&self) {
        self.main().assert_no_failed_operator_tx().await
    }

    /// [`MarketView::assert_all_settled`] of [`MARKET`].
    pub async fn assert_all_settled(&self, client: Client, acks: &[Ack], timeout: Duration) {
        self.main().assert_all_settled(client, acks, timeout).await
    }
}

impl MarketView<'_> {
    /// The market's initial reserves `(token0, token1)`, which size the random trades.
    pub fn reserves(&self) -> (u128, u128) {
        let p = &self.market.state.pool;
        (p.token_a_amount, p.token_b_amount)
    }

    // ---- chain reads ----

    pub async fn chain_seq(&self) -> u64 {
        self.market.contract(self.h).seq().call().await.expect("seq()")
    }

    pub async fn chain_state_hash(&self) -> B256 {
        self.market
            .contract(self.h)
            .stateHash()
            .call()
            .await
            .expect("stateHash()")
    }

    /// The chain's `state()`, decoded, and the keccak of its bytes.
    pub async fn chain_state(&self) -> (MarketState, B256) {
        let bytes = self
            .market
            .contract(self.h)
            .state()
            .call()
            .await
            .expect("state()");
        (
            MarketState::decode(&bytes).expect("the market's state decodes"),
            keccak256(&bytes),
        )
    }

    /// `pendingResize()`: `(liquidity, deadline)`.
    pub async fn pending_resize(&self) -> (U256, u64) {
        let r = self
            .market
            .contract(self.h)
            .pendingResize()
            .call()
            .await
            .expect("pendingResize()");
        (r._0, r._1)
    }

    pub async fn frozen(&self) -> bool {
        self.market
            .contract(self.h)
            .frozen()
            .call()
            .await
            .expect("frozen()")
    }

    /// Reads the market's new `BatchSettled` and `ResizeApplied` logs into [`World::events`].
    pub async fn refresh_events(&self) {
        let filter = Filter::new()
            .address(self.market.address)
            .from_block(self.h.start_block);
        let logs = self.h.provider.get_logs(&filter).await.expect("eth_getLogs");
        let mut events = self.events.lock().unwrap();
        for log in logs {
            let key = (
                log.block_number.expect("a mined log"),
                log.log_index.expect("a mined log"),
            );
            if !events.seen.insert(key) {
                continue;
            }
            let tx = log.transaction_hash.expect("a mined log");
            match log.topic0() {
                Some(&events::BatchSettled::SIGNATURE_HASH) => {
                    let e = log
                        .log_decode::<events::BatchSettled>()
                        .expect("BatchSettled decodes")
                        .inner
                        .data;
                    if !events.transition_seen(e.seq, "BatchSettled") {
                        events.batches.insert(e.seq, (e, tx));
                    }
                }
                Some(&events::ResizeApplied::SIGNATURE_HASH) => {
                    let e = log
                        .log_decode::<events::ResizeApplied>()
                        .expect("ResizeApplied decodes")
                        .inner
                        .data;
                    if !events.transition_seen(e.seq, "ResizeApplied") {
                        events.resizes.insert(e.seq, (e, tx));
                    }
                }
                _ => {}
            }
        }
    }

    /// The sum of `swaps` over the market's `BatchSettled` events.
    pub async fn settled_swaps(&self) -> u64 {
        self.refresh_events().await;
        self.events.lock().unwrap().settled_swaps()
    }

    /// Checks that the daemon's mirror (`/state`'s `seq` and `stateHash`, which docs/OPERATOR.md says are the
    /// chain's) is the chain's state, at a moment both agree on the seq; returns that seq. (`sqrtPrice`,
    /// `liquidity` and `lastTimestamp` are those trades are priced at — the chain's state with the pending
    /// trades applied — so they are compared when nothing is pending: [`World::assert_idle_mirror`].)
    pub async fn assert_mirror(&self, client: Client) -> u64 {
        for _ in 0..200 {
            let before = self.chain_seq().await;
            let mirror = client.state();
            let (state, _) = self.chain_state().await;
            if int(&mirror["seq"]) != before || state.seq != before {
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
            assert_eq!(
                hash(&mirror["stateHash"]),
                state.hash(),
                "the mirror's stateHash: {mirror}"
            );
            return before;
        }
        panic!("the daemon's /state never caught up with the chain's seq")
    }

    /// With nothing pending, `/state` is the chain's state in every field.
    pub async fn assert_idle_mirror(&self, client: Client) {
        let mirror = client.state();
        let (state, _) = self.chain_state().await;
        assert_eq!(int(&mirror["pendingTrades"]), 0, "{mirror}");
        assert_eq!(int(&mirror["seq"]), state.seq, "the mirror's seq: {mirror}");
        assert_eq!(
            hash(&mirror["stateHash"]),
            state.hash(),
            "the mirror's stateHash: {mirror}"
        );
        assert_eq!(
            amount(&mirror["sqrtPrice"]),
            state.pool.sqrt_price,
            "the mirror's sqrtPrice: {mirror}"
        );
        assert_eq!(
            wide(&mirror["liquidity"]),
            state.pool.liquidity,
            "the mirror's liquidity: {mirror}"
        );
        assert_eq!(
            int(&mirror["lastTimestamp"]),
            state.last_timestamp,
            "the mirror's lastTimestamp: {mirror}"
        );
    }

    /// Fails if a transaction of the market's operator failed on chain (a batch the chain refused, such as a
    /// second settlement of one seq): the devnode's blocks only (on an external node there are too many).
    pub async fn assert_no_failed_operator_tx(&self) {
        if !self.h.is_devnode() {
            return;
        }
        let (head, _) = self.h.head().await;
        let operator = self.market.operator;
        for number in self.h.start_block..=head {
            let Ok(Some(receipts)) = self.h.provider.get_block_receipts(number.into()).await else {
                // Gone with a devnode restart.
                continue;
            };
            for receipt in receipts {
                assert!(
                    receipt.from != operator || receipt.status(),
                    "a transaction of the operator failed on chain: {receipt:?}"
                );
            }
        }
    }

    /// Waits (up to `timeout`) until the daemon has settled everything, then checks that the `acks` — and
    /// nothing else — settled exactly once with their acknowledged amounts (see the module documentation).
    #[allow(clippy::await_holding_lock)] // the guard is dropped (explicitly) before the first await
    pub async fn assert_all_settled(&self, client: Client, acks: &[Ack], timeout: Duration) {
        let expected = acks.len() as u64;
        let start = Instant::now();
        loop {
            let settled = self.settled_swaps().await;
            let chain_seq = self.chain_seq().await;
            let mirror = client.state();
            let idle = int(&mirror["pendingTrades"]) == 0
                && mirror["inflight"].is_null()
                && int(&mirror["seq"]) == chain_seq;
            if settled == expected && idle {
                break;
            }
            assert!(
                settled <= expected,
                "more trades settled ({settled}) than were acknowledged ({expected}); /state: {mirror}"
            );
            if start.elapsed() > timeout {
                let (status, health) = client.health();
                panic!(
                    "after {timeout:?}: {settled} trades settled of {expected} acknowledged; chain seq \
                     {chain_seq}; /state {mirror}; /health {status} {health}"
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // The daemon's own checks of each settlement (the chain's state and the settling event against its
        // books) never disagreed with the chain.
        let (_, health) = client.health();
        for kind in ["StateMismatch", "BatchReverted", "Journal"] {
            assert!(
                alerts_of(&health, kind).is_empty(),
                "the daemon raised {kind} at the end: {health}"
            );
        }
        self.refresh_events().await;
        let chain_seq = self.chain_seq().await;
        let events = self.events.lock().unwrap();
        assert!(
            events.duplicates.is_empty(),
            "transitions settled twice: {:?}",
            events.duplicates
        );
        let seqs: BTreeSet<u64> = events
            .batches
            .keys()
            .chain(events.resizes.keys())
            .copied()
            .collect();
        assert_eq!(
            seqs,
            (1..=chain_seq).collect::<BTreeSet<u64>>(),
            "every seq up to the chain's ({chain_seq}) settled by exactly one batch or resize"
        );
        assert_eq!(events.settled_swaps(), expected, "settled == acknowledged");

        // Every acknowledged trade is settled in a batch the chain has.
        let mut trades = BTreeSet::new();
        let mut null_tx = BTreeSet::new();
        let mut by_seq: BTreeMap<u64, Vec<&Ack>> = BTreeMap::new();
        for ack in acks {
            assert!(trades.insert(ack.trade), "trade {} acknowledged twice", ack.trade);
            let (status, body) = client.trade(ack.trade);
            assert_eq!(status, 200, "GET /trades/{}: {body}", ack.trade);
            assert_eq!(body["trade"], json!(ack.trade), "{body}");
            if !body["market"].is_null() {
                assert_eq!(body["market"], json!(self.name), "trade {}'s market", ack.trade);
            }
            assert_eq!(body["status"], json!("settled"), "trade {}: {body}", ack.trade);
            let seq = int(&body["batchSeq"]);
            let (_, tx) = events
                .batches
                .get(&seq)
                .unwrap_or_else(|| panic!("trade {} names batch {seq}, which the chain has not", ack.trade));
            // The transaction is named when the daemon saw its receipt; a batch it found settled on the chain
            // without one (the devnode forgets receipts across a restart) may have none.
            if !body["txHash"].is_null() {
                assert_eq!(hash(&body["txHash"]), *tx, "trade {}'s transaction", ack.trade);
            } else {
                null_tx.insert(seq);
            }
            by_seq.entry(seq).or_default().push(ack);
        }

        // The replay.
        let mut state = self.market.state;
        for seq in 1..=chain_seq {
            if let Some((resize, _)) = events.resizes.get(&seq) {
                assert!(!by_seq.contains_key(&seq), "trades in resize {seq}");
                state.resize(resize.liquidity).expect("the resize applies");
                assert_eq!(state.seq, seq);
                assert_eq!(state.hash(), resize.stateHash, "the state after resize {seq}");
                continue;
            }
            let (batch, _) = &events.batches[&seq];
            let mut trades = by_seq.remove(&seq).unwrap_or_default();
            trades.sort_by_key(|ack| ack.trade);
            assert_eq!(
                U256::from(trades.len()),
                batch.swaps,
                "batch {seq}: its swaps are the trades acknowledged in it"
            );
            let mut totals = Totals::default();
            for (index, ack) in trades.iter().enumerate() {
                let op = Op {
                    zero_for_one: ack.req.zero_for_one,
                    exact_out: !ack.req.exact_in,
                    amount: ack.req.amount,
                    limit: None,
                    timestamp: ack.timestamp,
                };
                let r = execute_op(&mut state, &op, index, true, u64::MAX, &mut totals)
                    .unwrap_or_else(|e| panic!("trade {} does not replay in batch {seq}: {e:?}", ack.trade));
                let fee = r.claiming_fee + r.compounding_fee + r.protocol_fee + r.referral_fee;
                assert_eq!(
                    (r.included_fee_input_amount, r.output_amount, fee),
                    (ack.amount_in, ack.amount_out, ack.fee),
                    "trade {} ({:?}) settled in batch {seq} at its acknowledged (in, out, fee)",
                    ack.trade,
                    ack.req
                );
            }
            state.seq += 1;
            assert_eq!(
                totals.flows.map(U256::from),
                batch.flows,
                "batch {seq}'s flows are its acknowledged trades'"
            );
            assert_eq!(
                (U256::from(totals.lp_fees[0]), U256::from(totals.lp_fees[1])),
                (batch.lpFee0, batch.lpFee1),
                "batch {seq}'s LP fees"
            );
            assert_eq!(state.hash(), batch.stateHash, "the state after batch {seq}");
        }
        assert!(
            by_seq.is_empty(),
            "trades in batches the chain has not: {by_seq:?}"
        );
        drop(events);

        let (chain, bytes_hash) = self.chain_state().await;
        let state_hash = self.chain_state_hash().await;
        assert_eq!(state_hash, bytes_hash, "stateHash() is the keccak of state()");
        assert_eq!(chain, state, "the chain's state is the replay's");
        let mirror = client.state();
        assert_eq!(
            hash(&mirror["stateHash"]),
            state_hash,
            "the daemon's stateHash: {mirror}"
        );
        assert_eq!(int(&mirror["seq"]), chain_seq, "the daemon's seq: {mirror}");
        self.assert_idle_mirror(client).await;
        self.assert_no_failed_operator_tx().await;
        if !null_tx.is_empty() {
            println!("settled batches whose trades name no transaction: {null_tx:?}");
        }
        let (batches, resizes) = {
            let events = self.events.lock().unwrap();
            (events.batches.len(), events.resizes.len())
        };
        println!(
            "{}: {expected} acknowledged trades settled exactly once in {batches} batches ({resizes} resizes); \
             seq {chain_seq}",
            self.name
        );
    }
}

/// The alerts of a `/health` body of `kind`.
pub fn alerts_of(health: &Value, kind: &str) -> Vec<Value> {
    health["alerts"]
        .as_array()
        .map(|alerts| {
            alerts
                .iter()
                .filter(|a| a["kind"] == json!(kind))
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

/// What is wrong with a refusal, if anything: it must have `status`, `error` and a message.
pub fn refusal_problem(
    result: Result<Value, (u16, Value)>,
    status: u16,
    error: &str,
    what: &str,
) -> Option<String> {
    match result {
        Ok(answer) => Some(format!("{what}: expected {status} {error}, got 200 {answer}")),
        Err((got, body)) => {
            if (got, body["error"].as_str()) != (status, Some(error)) {
                Some(format!("{what}: expected {status} {error}, got {got} {body}"))
            } else if body["message"].as_str().is_none_or(|m| m.is_empty()) {
                Some(format!("{what}: the refusal has no message: {body}"))
            } else {
                None
            }
        }
    }
}

/// Asserts a refusal: `status` and `error` name (and a message).
pub fn assert_refusal(result: Result<Value, (u16, Value)>, status: u16, error: &str, what: &str) {
    if let Some(problem) = refusal_problem(result, status, error, what) {
        panic!("{problem}");
    }
}
