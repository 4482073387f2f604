//! Counters, alerts and their Prometheus rendering.

use std::{
    collections::BTreeMap,
    fmt::Write,
    sync::{
        atomic::{AtomicU64, Ordering},
        Mutex,
    },
};

/// One market's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Trades acknowledged.
    pub accepted: AtomicU64,
    /// Trades refused, by reason.
    pub refused: Mutex<BTreeMap<&'static str, u64>>,
    /// Trades settled on chain.
    pub settled: AtomicU64,
    /// Transactions sent for transitions (first sends, not replacements).
    pub submitted: AtomicU64,
    /// Transitions settled (batches and resizes).
    pub batches_settled: AtomicU64,
    /// Failed attempts, by reason.
    pub failures: Mutex<BTreeMap<String, u64>>,
    /// Transactions replaced (fee bump) or re-broadcast.
    pub replacements: AtomicU64,
    /// Gas used by settled transactions.
    pub gas_used: AtomicU64,
    /// Failed RPC requests.
    pub rpc_errors: AtomicU64,
}

impl Metrics {
    /// Counts a refusal.
    pub fn refuse(&self, reason: &'static str) {
        *self
            .refused
            .lock()
            .expect("metrics lock")
            .entry(reason)
            .or_default() += 1;
    }

    /// Counts a failed attempt.
    pub fn fail(&self, reason: &str) {
        *self
            .failures
            .lock()
            .expect("metrics lock")
            .entry(reason.to_string())
            .or_default() += 1;
    }
}

/// One market's alerts: at most one per kind, cleared when the condition goes.
#[derive(Debug, Default)]
pub struct Alerts(Mutex<BTreeMap<&'static str, String>>);

impl Alerts {
    /// Raises (or updates) alert `kind`.
    pub fn raise(&self, kind: &'static str, message: String) {
        let mut alerts = self.0.lock().expect("alerts lock");
        if alerts.get(kind) != Some(&message) {
            crate::operator::log!("operator: alert {kind}: {message}");
            alerts.insert(kind, message);
        }
    }

    /// Clears alert `kind`.
    pub fn clear(&self, kind: &'static str) {
        if self.0.lock().expect("alerts lock").remove(kind).is_some() {
            crate::operator::log!("operator: alert {kind} cleared");
        }
    }

    /// The alerts, by kind.
    pub fn list(&self) -> Vec<(&'static str, String)> {
        self.0
            .lock()
            .expect("alerts lock")
            .iter()
            .map(|(k, v)| (*k, v.clone()))
            .collect()
    }
}

/// Gauges read from the books at rendering time.
#[derive(Debug, Clone, Copy)]
pub struct Gauges {
    /// Trades acknowledged, not settled.
    pub pending: usize,
    /// The chain's seq as mirrored.
    pub chain_seq: u64,
}

/// Renders the markets' metrics in Prometheus' text format.
pub fn render(markets: &[(&str, &Metrics, Gauges)]) -> String {
    let mut out = String::new();
    let counter = |out: &mut String,
                   name: &str,
                   help: &str,
                   kind: &str,
                   values: &mut dyn Iterator<Item = (String, u64)>| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, value) in values {
            let _ = writeln!(out, "{name}{{{labels}}} {value}");
        }
    };
    let simple = |get: &dyn Fn(&Metrics, Gauges) -> u64| -> Vec<(String, u64)> {
        markets
            .iter()
            .map(|(name, m, g)| (format!("market=\"{name}\""), get(m, *g)))
            .collect()
    };
    let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
    counter(
        &mut out,
        "damm_trades_accepted_total",
        "Trades acknowledged (durable).",
        "counter",
        &mut simple(&|m, _| load(&m.accepted)).into_iter(),
    );
    let refused: Vec<(String, u64)> = markets
        .iter()
        .flat_map(|(name, m, _)| {
            m.refused
                .lock()
                .expect("metrics lock")
                .iter()
                .map(|(r, n)| (format!("market=\"{name}\",reason=\"{r}\""), *n))
                .collect::<Vec<_>>()
        })
        .collect();
    counter(
        &mut out,
        "damm_trades_refused_total",
        "Trades refused, by reason.",
        "counter",
        &mut refused.into_iter(),
    );
    counter(
        &mut out,
        "damm_trades_settled_total",
        "Trades settled on chain.",
        "counter",
        &mut simple(&|m, _| load(&m.settled)).into_iter(),
    );
    counter(
        &mut out,
        "damm_trades_pending",
        "Trades acknowledged and not yet settled.",
        "gauge",
        &mut simple(&|_, g| g.pending as u64).into_iter(),
    );
    counter(
        &mut out,
        "damm_batches_submitted_total",
        "Transactions sent for state transitions.",
        "counter",
        &mut simple(&|m, _| load(&m.submitted)).into_iter(),
    );
    counter(
        &mut out,
        "damm_batches_settled_total",
        "State transitions (batches, resizes) settled.",
        "counter",
        &mut simple(&|m, _| load(&m.batches_settled)).into_iter(),
    );
    let failures: Vec<(String, u64)> = markets
        .iter()
        .flat_map(|(name, m, _)| {
            m.failures
                .lock()
                .expect("metrics lock")
                .iter()
                .map(|(r, n)| {
                    (
                        format!("market=\"{name}\",reason=\"{}\"", r.replace('"', "'")),
                        *n,
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect();
    counter(
        &mut out,
        "damm_batch_failures_total",
        "Failed settlement attempts, by reason.",
        "counter",
        &mut failures.into_iter(),
    );
    counter(
        &mut out,
        "damm_tx_replacements_total",
        "Transactions replaced or re-broadcast.",
        "counter",
        &mut simple(&|m, _| load(&m.replacements)).into_iter(),
    );
    counter(
        &mut out,
        "damm_gas_used_total",
        "Gas used by settled transactions.",
        "counter",
        &mut simple(&|m, _| load(&m.gas_used)).into_iter(),
    );
    counter(
        &mut out,
        "damm_rpc_errors_total",
        "Failed JSON-RPC requests.",
        "counter",
        &mut simple(&|m, _| load(&m.rpc_errors)).into_iter(),
    );
    counter(
        &mut out,
        "damm_chain_seq",
        "The market's seq on chain, as mirrored.",
        "gauge",
        &mut simple(&|_, g| g.chain_seq).into_iter(),
    );
    out
}
