//! The operator daemon (`damm operator run`): serves an L2's trades on one or several markets and settles them
//! on L1 in batches. See `docs/OPERATOR.md` for the API and `docs/DESIGN.md` for the design.
//!
//! - [`engine`]: one market's books (pure): confirmed state, journal, trading state, transitions.
//! - [`journal`]: SQLite (WAL, `synchronous=FULL`): every acknowledged trade, every transition and every
//!   transaction before it is sent.
//! - [`writer`]: the one thread that writes the journal, with group commit.
//! - [`submit`]: reconciliation with the chain, polling, and driving transitions to their receipts.
//! - [`chain`]: the RPC side. [`http`]: the API. [`metrics`]: counters and alerts. [`fault`]: crash hooks.

pub mod chain;
pub mod engine;
pub mod fault;
pub mod http;
pub mod journal;
pub mod metrics;
pub mod submit;
pub mod writer;

use std::{
    io::Write,
    net::SocketAddr,
    path::PathBuf,
    sync::{Arc, Mutex},
    time::Duration,
};

use alloy::primitives::{Address, B256};
use anyhow::{bail, Context};

use self::{chain::Chain, engine::Engine, journal::Journal, metrics::Alerts, writer::Writer};
use crate::{
    bindings::{IMarket, IUniswapV2Pair},
    config::ChainArgs,
    deployment::{Deployment, MarketKind},
};

/// Where the daemon's log lines go: stderr, unless [`set_log_file`] named a file (the demo runs two daemons
/// in its own process and keeps its terminal for its progress line).
static LOG_FILE: Mutex<Option<std::fs::File>> = Mutex::new(None);

/// Sends the daemon's log lines (settlements, alerts, replacements) to `file` instead of stderr.
pub fn set_log_file(file: std::fs::File) {
    *LOG_FILE.lock().unwrap_or_else(|e| e.into_inner()) = Some(file);
}

/// Writes one log line of the daemon (see [`set_log_file`]).
pub fn log_line(line: std::fmt::Arguments<'_>) {
    let mut file = LOG_FILE.lock().unwrap_or_else(|e| e.into_inner());
    match file.as_mut() {
        Some(f) => {
            let _ = writeln!(f, "{line}");
        }
        None => eprintln!("{line}"),
    }
}

/// `eprintln!` for the daemon's log lines, through [`log_line`].
macro_rules! log {
    ($($arg:tt)*) => {
        $crate::operator::log_line(format_args!($($arg)*))
    };
}
pub(crate) use log;

/// One market served: its books, counters and alerts.
#[derive(Debug)]
pub struct Market {
    /// Its name (from the deployment file).
    pub name: String,
    /// Its contract.
    pub address: Address,
    /// The pool's token0 and token1.
    pub tokens: [Address; 2],
    /// The books.
    pub engine: Mutex<Engine>,
    /// Counters.
    pub metrics: metrics::Metrics,
    /// Alerts (`GET /health`).
    pub alerts: Alerts,
    /// The last transaction sent for the transition in flight.
    pub inflight_tx: Mutex<Option<B256>>,
}

/// How batches are built and sent.
#[derive(Debug, Clone, Copy)]
pub struct Tuning {
    /// Most trades per batch.
    pub batch_size: usize,
    /// A batch is due when its oldest trade is this old (milliseconds).
    pub batch_age_ms: u64,
    /// How often the chain is polled.
    pub poll: Duration,
    /// How long a transaction may stay unmined before it is replaced.
    pub receipt_timeout: Duration,
    /// Fee bump of a replacement, percent.
    pub fee_bump_percent: u32,
    /// A fixed gas limit instead of estimating each transaction.
    pub gas_limit: Option<u64>,
}

/// Options of `damm operator run`.
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// Chain, key and deployment file.
    #[command(flatten)]
    pub chain: ChainArgs,
    /// A market to serve, by name (deployment file) or address; repeat for several.
    #[arg(long = "market", required = true, value_name = "NAME")]
    pub markets: Vec<String>,
    /// Address the HTTP API listens on (port 0: any free port; the first line printed names it).
    #[arg(long, default_value = "127.0.0.1:8600")]
    pub listen: SocketAddr,
    /// The journal (SQLite); one per operator process.
    #[arg(long, default_value = "operator.sqlite", value_name = "FILE")]
    pub db: PathBuf,
    /// Most trades per batch.
    #[arg(long, default_value_t = 512)]
    pub batch_size: usize,
    /// Settle a batch when its oldest trade is this old.
    #[arg(long, default_value_t = 1000, value_name = "MS")]
    pub batch_age_ms: u64,
    /// How often the chain is polled.
    #[arg(long, default_value_t = 250, value_name = "MS")]
    pub poll_ms: u64,
    /// Replace a transaction not mined within this long.
    #[arg(long, default_value_t = 15_000, value_name = "MS")]
    pub receipt_timeout_ms: u64,
    /// Fee bump of a replacement transaction, percent.
    #[arg(long, default_value_t = 25)]
    pub fee_bump_percent: u32,
    /// A fixed gas limit for batch transactions instead of `eth_estimateGas` (batches are still simulated with
    /// `eth_call` first).
    #[arg(long, value_name = "GAS")]
    pub gas_limit: Option<u64>,
    /// Refuse trades (`Backlog`) while this many await settlement.
    #[arg(long, default_value_t = 100_000)]
    pub max_pending: usize,
}

/// Runs the daemon until Ctrl-C or SIGTERM.
///
/// # Errors
///
/// A configuration, chain or journal problem at start, named.
pub async fn run(args: RunArgs) -> anyhow::Result<()> {
    let running = start(args).await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on http://{}", running.addr)?;
        out.flush()?;
    }
    eprintln!(
        "operator: serving {} as {} on chain {}",
        running
            .markets
            .iter()
            .map(|m| m.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        running.operator,
        running.chain_id
    );
    shutdown_signal().await;
    eprintln!("operator: stopping (every acknowledged trade is in the journal)");
    Ok(())
}

/// A daemon started by [`start`]: its tasks run on the caller's runtime until it ends.
#[derive(Debug, Clone)]
pub struct Running {
    /// Where the HTTP API listens.
    pub addr: SocketAddr,
    /// The markets served, with their books, counters and alerts.
    pub markets: Vec<Arc<Market>>,
    /// The operator's account.
    pub operator: Address,
    /// The chain's id.
    pub chain_id: u64,
}

/// Starts the daemon on the current runtime: reconciles every market with the chain, then spawns the poller,
/// the settlement loop and the HTTP API, and returns once the API listens (what `damm operator run` and
/// `damm demo` both run).
///
/// # Errors
///
/// A configuration, chain or journal problem at start, named.
pub async fn start(args: RunArgs) -> anyhow::Result<Running> {
    if args.batch_size == 0 {
        bail!("--batch-size must be at least 1");
    }
    let settings = args.chain.resolve()?;
    let signer = settings
        .signer
        .clone()
        .context("the operator signs its batches: give --private-key, --keystore or DAMM_PRIVATE_KEY")?;
    let client = crate::client::connect(&settings).await?;
    let deployment = Deployment::load(&settings.deployment)?;
    client.require_code(deployment.vault, "the vault").await?;
    let chain = Chain::connect(&settings.rpc_url, signer.clone(), deployment.vault).await?;

    let mut markets = Vec::new();
    for key in &args.markets {
        let entry = deployment.market(key)?;
        if markets.iter().any(|m: &Arc<Market>| m.address == entry.address) {
            bail!("market {} is given twice", entry.name);
        }
        if entry.kind != MarketKind::L2 {
            bail!("market {} is an L1 market: it has no operator to run", entry.name);
        }
        client
            .require_code(entry.address, &format!("market {}", entry.name))
            .await?;
        let operator = IMarket::new(entry.address, &client.provider)
            .operator()
            .call()
            .await
            .map_err(|e| anyhow::anyhow!(crate::errors::explain_contract(&e)))
            .with_context(|| format!("reading market {}'s operator", entry.name))?;
        if operator != signer.address() {
            bail!(
                "the key's account {} is not the operator of market {} ({}): it could not submit its batches",
                signer.address(),
                entry.name,
                operator
            );
        }
        let tokens = match deployment.pool(entry.pool) {
            Some(pool) => [pool.token0, pool.token1],
            None => {
                let pair = IUniswapV2Pair::new(entry.pool, &client.provider);
                [
                    pair.token0().call().await.context("reading the pool's token0")?,
                    pair.token1().call().await.context("reading the pool's token1")?,
                ]
            }
        };
        let state = chain
            .market_state(entry.address, None)
            .await
            .with_context(|| format!("reading market {}'s state", entry.name))?;
        let mut engine = Engine::new(entry.name.clone(), entry.address, tokens, state);
        engine.max_pending = args.max_pending;
        markets.push(Arc::new(Market {
            name: entry.name.clone(),
            address: entry.address,
            tokens,
            engine: Mutex::new(engine),
            metrics: metrics::Metrics::default(),
            alerts: Alerts::default(),
            inflight_tx: Mutex::new(None),
        }));
    }

    let journal = Journal::open(&args.db, chain.chain_id)
        .with_context(|| format!("opening the journal {}", args.db.display()))?;
    for m in &markets {
        journal.bind_market(&m.name, m.address)?;
    }
    let writer = Writer::spawn(journal, markets.clone());
    for m in &markets {
        submit::reconcile(&chain, &writer, m)
            .await
            .with_context(|| format!("reconciling market {} with the chain", m.name))?;
        let engine = m.engine.lock().expect("engine lock");
        log!(
            "operator: {}: chain seq {}, {} acknowledged trades to settle{}",
            m.name,
            engine.confirmed().seq,
            engine.trades_pending(),
            engine
                .inflight()
                .map(|t| format!(", transition {} in flight", t.seq))
                .unwrap_or_default()
        );
    }

    let tuning = Tuning {
        batch_size: args.batch_size,
        batch_age_ms: args.batch_age_ms,
        poll: Duration::from_millis(args.poll_ms.max(10)),
        receipt_timeout: Duration::from_millis(args.receipt_timeout_ms.max(100)),
        fee_bump_percent: args.fee_bump_percent.max(10),
        gas_limit: args.gas_limit,
    };
    // The first poll completes before the API opens, so the first trade gets the chain's time.
    let (number, timestamp) = chain.head().await?;
    for m in &markets {
        let (conditions, _) = chain.conditions(m.address, number, timestamp).await?;
        m.engine.lock().expect("engine lock").conditions = conditions;
    }
    tokio::spawn(submit::poll(
        chain.clone(),
        writer.clone(),
        markets.clone(),
        tuning.poll,
    ));
    tokio::spawn(submit::run(
        chain.clone(),
        writer.clone(),
        markets.clone(),
        tuning,
    ));

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    let app = Arc::new(http::App {
        markets: markets.clone(),
        writer,
    });
    tokio::spawn(http::serve(listener, app));
    Ok(Running {
        addr,
        markets,
        operator: chain.operator,
        chain_id: chain.chain_id,
    })
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("a SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
