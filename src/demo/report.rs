//! The demo's summary: its numbers (`summary.json`), the tables printed, and the HTML report with its charts.

use std::{collections::BTreeMap, fmt::Write as _, path::PathBuf};

use alloy::primitives::{utils::format_units, Address, U256};
use serde::Serialize;

/// Fees of a market per token, as computed from its events.
#[derive(Debug, Default, Clone, Copy)]
pub struct FeeSplit {
    /// Kept by the pool (the LPs).
    pub lp: [U256; 2],
    /// Accrued to the protocol's treasury.
    pub protocol: [U256; 2],
    /// Paid to referrers.
    pub referral: [U256; 2],
}

impl FeeSplit {
    /// Adds one event's fees: its LP fees and the protocol and referral parts of its flows.
    pub fn add(&mut self, lp0: U256, lp1: U256, flows: &[U256; 8]) {
        self.lp[0] += lp0;
        self.lp[1] += lp1;
        self.protocol[0] += flows[4];
        self.protocol[1] += flows[5];
        self.referral[0] += flows[6];
        self.referral[1] += flows[7];
    }

    /// Every fee, per token.
    pub fn total(&self) -> [U256; 2] {
        [0, 1].map(|t| self.lp[t] + self.protocol[t] + self.referral[t])
    }

    /// As decimal strings.
    pub fn strings(&self) -> Fees {
        let s = |x: [U256; 2]| x.map(|v| v.to_string());
        Fees {
            lp: s(self.lp),
            protocol: s(self.protocol),
            referral: s(self.referral),
            total: s(self.total()),
        }
    }
}

/// Fees per token (atoms, decimal strings): `[token0, token1]`.
#[derive(Debug, Clone, Serialize)]
pub struct Fees {
    /// To the LPs.
    pub lp: [String; 2],
    /// To the protocol.
    pub protocol: [String; 2],
    /// To referrers.
    pub referral: [String; 2],
    /// All of them.
    pub total: [String; 2],
}

/// One market's numbers.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MarketSummary {
    /// Its name.
    pub name: String,
    /// `L1` or `L2`.
    pub kind: String,
    /// Its contract.
    pub address: Address,
    /// Swaps settled (from its events).
    pub swaps: u64,
    /// Settlements: batches (L2) or swaps (L1).
    pub batches: u64,
    /// Trades the operator acknowledged (L2).
    pub acknowledged: Option<u64>,
    /// Trades the operator refused, by reason (L2).
    pub refused: BTreeMap<String, u64>,
    /// Token0 in and out, atoms.
    pub volume0: String,
    /// Token1 in and out, atoms.
    pub volume1: String,
    /// Fees settled.
    pub fees: Fees,
    /// Fees the operator quoted to its traders, per token (L2).
    pub fills_fee: Option<[String; 2]>,
}

/// Gas figures of one kind of transaction.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct GasStats {
    /// How many.
    pub count: usize,
    /// Mean.
    pub mean: f64,
    /// Least.
    pub min: f64,
    /// Most.
    pub max: f64,
}

impl GasStats {
    /// Of `values`.
    pub fn of(values: &[f64]) -> Self {
        let count = values.len();
        if count == 0 {
            return Self {
                count,
                mean: 0.0,
                min: 0.0,
                max: 0.0,
            };
        }
        Self {
            count,
            mean: values.iter().sum::<f64>() / count as f64,
            min: values.iter().copied().fold(f64::INFINITY, f64::min),
            max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        }
    }
}

/// Alice's position, valued in token B at Uniswap's price.
#[derive(Debug, Clone, Serialize)]
pub struct LpValue {
    /// In the vault (her shares' part of its holdings).
    pub damm: f64,
    /// Had she held the tokens she put into Uniswap.
    pub hold: f64,
    /// Had she kept her LP tokens in Uniswap alone.
    pub uniswap: f64,
    /// Her shares.
    pub shares: String,
    /// Her part of the vault in token0, atoms.
    pub amount0: String,
    /// Her part of the vault in token1, atoms.
    pub amount1: String,
}

/// A token the vault holds: its balance against its accounts.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reconciliation {
    /// Which.
    pub token: String,
    /// Its address.
    pub address: Address,
    /// The vault's ERC-20 balance.
    pub vault_balance: String,
    /// What the vault accounts for (pool holdings, or rewards funded less claimed).
    pub accounted: String,
    /// Protocol fees not yet claimed.
    pub protocol_fees: String,
    /// Balance = accounted + protocol fees.
    pub ok: bool,
}

/// The batch the vault refused for `HF_min`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RefusedBatch {
    /// The market.
    pub market: String,
    /// The batch's seq.
    pub seq: u64,
    /// Its trades.
    pub trades: u64,
    /// The vault's error, decoded.
    pub error: String,
    /// `HF_min` while it was refused (1e18 fixed point).
    pub hf_min: String,
    /// Whether the whale sold A (else it bought A with B).
    pub whale_sells_a: bool,
    /// What the whale paid (atoms of A if it sold A, else of B).
    pub whale_in: String,
    /// What the whale got (atoms of the other token).
    pub whale_out: String,
    /// It settled once `HF_min` was restored.
    pub settled_after_restore: bool,
}

/// One point of the charts.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Sample {
    /// Seconds since trading began.
    pub t: f64,
    /// The trading round (a half for the point between a round's trades and its arbitrage).
    pub round: f64,
    /// Uniswap's price (B per A).
    pub uniswap_price: f64,
    /// Each market's price: l2-a, l2-b (the operators' trading state), l1.
    pub market_prices: Vec<f64>,
    /// The pool's health factor.
    pub hf: f64,
    /// Alice's value in the vault (B).
    pub lp_damm: f64,
    /// Alice's value had she held her tokens (B).
    pub lp_hold: f64,
    /// Alice's value had she stayed in Uniswap alone (B).
    pub lp_uniswap: f64,
    /// What happened at this point, if anything.
    pub label: String,
}

/// A consistency check of the summary.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// What is checked.
    pub name: String,
    /// Whether it holds.
    pub ok: bool,
    /// The numbers compared.
    pub detail: String,
}

impl Check {
    /// A check.
    pub fn new(name: String, ok: bool, detail: String) -> Self {
        Self { name, ok, detail }
    }
}

/// Everything the demo reports (`summary.json`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// The seed.
    pub seed: u64,
    /// Rounds of trading.
    pub rounds: usize,
    /// Wall time of the whole demo, seconds.
    pub wall_seconds: f64,
    /// The devnode's chain id.
    pub chain_id: u64,
    /// The vault.
    pub vault: Address,
    /// The Uniswap pair (the pool).
    pub pair: Address,
    /// Token A.
    pub token0: Address,
    /// Token B.
    pub token1: Address,
    /// The reward token.
    pub reward_token: Address,
    /// Per market.
    pub markets: Vec<MarketSummary>,
    /// Protocol fees claimed by the treasury, per token.
    pub protocol_claimed: [String; 2],
    /// The pool's HF at the start of trading.
    pub hf_start: f64,
    /// Its lowest sample.
    pub hf_min_seen: f64,
    /// Its highest sample.
    pub hf_max_seen: f64,
    /// At the end.
    pub hf_end: f64,
    /// The pool's `HF_min` at the end.
    pub hf_min: f64,
    /// Gas of an L2 batch settlement.
    pub gas_per_batch: GasStats,
    /// Gas of a batch per swap in it.
    pub gas_per_l2_swap: GasStats,
    /// Gas of an L1 swap.
    pub gas_per_l1_swap: GasStats,
    /// The batch refused for `HF_min`.
    pub refused_batch: Option<RefusedBatch>,
    /// Why admission refused the over-large market.
    pub admission_refusal: Option<String>,
    /// Reward tokens funded.
    pub reward_funded: String,
    /// Rewards claimed: (who, account, amount).
    pub reward_claims: Vec<(String, Address, String)>,
    /// Alice's position at the end.
    pub lp_end: LpValue,
    /// Uniswap's price at the end.
    pub uniswap_price_end: f64,
    /// The vault's balances against its accounts.
    pub reconciliation: Vec<Reconciliation>,
    /// Consistency checks.
    pub checks: Vec<Check>,
    /// The charts' points.
    pub samples: Vec<Sample>,
    /// The HTML report.
    pub report: PathBuf,
    /// The output directory.
    pub out: PathBuf,
}

/// Whole tokens, two decimals.
fn tok(atoms: &str) -> String {
    let value: U256 = atoms.parse().unwrap_or_default();
    let text = format_units(value, 18).unwrap_or_else(|_| atoms.to_string());
    let number: f64 = text.parse().unwrap_or(0.0);
    group(number)
}

/// `1234567.891` → `1,234,567.89`.
fn group(number: f64) -> String {
    let text = format!("{:.2}", number.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, "00"));
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{}{out}.{frac}", if number < 0.0 { "-" } else { "" })
}

/// A table with aligned columns (first column left, the rest right).
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let mut out = String::from("  ");
        for (i, cell) in cells.iter().enumerate() {
            let pad = widths[i] - cell.chars().count();
            if i == 0 {
                out.push_str(cell);
                out.push_str(&" ".repeat(pad));
            } else {
                out.push_str("  ");
                out.push_str(&" ".repeat(pad));
                out.push_str(cell);
            }
        }
        out.trim_end().to_string()
    };
    let mut out = line(header.iter().map(|h| h.to_string()).collect()) + "\n";
    out += &line(widths.iter().map(|w| "-".repeat(*w)).collect());
    out.push('\n');
    for row in rows {
        out += &line(row.clone());
        out.push('\n');
    }
    out
}

/// The per-market rows: volumes and trades.
fn market_rows(s: &Summary) -> Vec<Vec<String>> {
    s.markets
        .iter()
        .map(|m| {
            vec![
                m.name.clone(),
                m.kind.clone(),
                m.swaps.to_string(),
                m.batches.to_string(),
                tok(&m.volume0),
                tok(&m.volume1),
                m.refused.values().sum::<u64>().to_string(),
            ]
        })
        .collect()
}

const MARKET_HEADER: [&str; 7] = [
    "market",
    "kind",
    "swaps",
    "settlements",
    "volume A",
    "volume B",
    "refused quotes",
];

/// The fee rows: per market and token, LP / protocol / referral.
fn fee_rows(s: &Summary) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for m in &s.markets {
        for (t, name) in ["A", "B"].iter().enumerate() {
            rows.push(vec![
                format!("{} ({name})", m.name),
                tok(&m.fees.lp[t]),
                tok(&m.fees.protocol[t]),
                tok(&m.fees.referral[t]),
                tok(&m.fees.total[t]),
            ]);
        }
    }
    rows
}

const FEE_HEADER: [&str; 5] = ["fees", "to LPs", "to protocol", "to operators/referrers", "total"];

/// Prints the summary as tables.
pub fn print(s: &Summary) {
    println!();
    println!("dAMM demo (seed {}): {:.1} s", s.seed, s.wall_seconds);
    println!();
    println!("Markets");
    print!("{}", table(&MARKET_HEADER, &market_rows(s)));
    println!();
    println!("Fees");
    print!("{}", table(&FEE_HEADER, &fee_rows(s)));
    println!(
        "  protocol fees claimed by the treasury: {} A, {} B",
        tok(&s.protocol_claimed[0]),
        tok(&s.protocol_claimed[1])
    );
    println!();
    println!("Health factor");
    println!(
        "  start {:.6}  lowest {:.6}  highest {:.6}  end {:.6}  (HF_min {:.2})",
        s.hf_start, s.hf_min_seen, s.hf_max_seen, s.hf_end, s.hf_min
    );
    match &s.refused_batch {
        Some(r) => println!(
            "  refused: {} batch {} ({} trade: a whale {}) with HF_min at {:.6}: {}; settled after HF_min was \
             restored: {}",
            r.market,
            r.seq,
            r.trades,
            whale(r),
            r.hf_min.parse::<f64>().unwrap_or(0.0) / 1e18,
            r.error,
            if r.settled_after_restore { "yes" } else { "no" }
        ),
        None => println!("  no batch was refused"),
    }
    if let Some(a) = &s.admission_refusal {
        println!("  admission refused the over-large market l2-huge: {a}");
    }
    println!();
    println!("Gas");
    let g = |x: &GasStats| {
        vec![
            x.count.to_string(),
            format!("{:.0}", x.mean),
            format!("{:.0}", x.min),
            format!("{:.0}", x.max),
        ]
    };
    let mut rows = vec![
        [vec!["L2 batch".to_string()], g(&s.gas_per_batch)].concat(),
        [vec!["L2 swap (batch / swaps)".to_string()], g(&s.gas_per_l2_swap)].concat(),
        [vec!["L1 swap".to_string()], g(&s.gas_per_l1_swap)].concat(),
    ];
    rows.retain(|r| r[1] != "0");
    print!("{}", table(&["", "count", "mean", "min", "max"], &rows));
    println!();
    println!(
        "Alice's position, valued in B at Uniswap's price ({:.4} B/A)",
        s.uniswap_price_end
    );
    let lp = &s.lp_end;
    let rel = |x: f64| format!("{:+.3}%", (lp.damm / x - 1.0) * 100.0);
    print!(
        "{}",
        table(
            &["", "value (B)", "dAMM vs this"],
            &[
                vec!["in dAMM (vault shares)".into(), group(lp.damm), String::new()],
                vec!["had she held the tokens".into(), group(lp.hold), rel(lp.hold)],
                vec![
                    "had she stayed in Uniswap only".into(),
                    group(lp.uniswap),
                    rel(lp.uniswap)
                ],
            ]
        )
    );
    for (who, _, amount) in &s.reward_claims {
        println!("  rewards claimed by {who}: {} reward tokens", tok(amount));
    }
    println!();
    println!("Checks");
    for c in &s.checks {
        println!("  [{}] {}", if c.ok { "ok" } else { "FAILED" }, c.name);
        if !c.ok {
            println!("         {}", c.detail);
        }
    }
    println!();
    println!("Report: {}", s.report.display());
    println!("Summary (JSON): {}", s.out.join("summary.json").display());
}

/// "sold 1,234.00 A for 4,900.00 B".
fn whale(r: &RefusedBatch) -> String {
    let (a, b) = if r.whale_sells_a { ("A", "B") } else { ("B", "A") };
    format!("sold {} {a} for {} {b}", tok(&r.whale_in), tok(&r.whale_out))
}

fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn html_table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = String::from("<table><thead><tr>");
    for h in header {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{}</td>", esc(cell));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    out
}

/// The HTML report: tables and three charts (drawn as SVG by the page's script from the embedded samples).
/// Self-contained: no network, no external script.
pub fn html(s: &Summary) -> String {
    let data = serde_json::json!({
        "markets": s.markets.iter().map(|m| m.name.clone()).collect::<Vec<_>>(),
        "samples": s.samples,
        "hfMin": s.hf_min,
        "refusedHfMin": s.refused_batch.as_ref().map(|r| r.hf_min.parse::<f64>().unwrap_or(0.0) / 1e18),
    });
    // `</` cannot end the script element from inside the JSON.
    let data = data.to_string().replace("</", "<\\/");
    let checks: Vec<Vec<String>> = s
        .checks
        .iter()
        .map(|c| {
            vec![
                if c.ok { "ok" } else { "FAILED" }.to_string(),
                c.name.clone(),
                c.detail.clone(),
            ]
        })
        .collect();
    let lp = &s.lp_end;
    let refused = match &s.refused_batch {
        Some(r) => format!(
            "<p>Refused: <b>{}</b> batch {} ({} trade: a whale {}) while HF_min was {:.6}: <code>{}</code>. \
             The operator held it and it settled once HF_min was restored: {}.</p>",
            esc(&r.market),
            r.seq,
            r.trades,
            whale(r),
            r.hf_min.parse::<f64>().unwrap_or(0.0) / 1e18,
            esc(&r.error),
            if r.settled_after_restore { "yes" } else { "no" }
        ),
        None => "<p>No batch was refused.</p>".to_string(),
    };
    let admission = s
        .admission_refusal
        .as_ref()
        .map(|a| {
            format!(
                "<p>Admission refused the over-large market <b>l2-huge</b>: <code>{}</code></p>",
                esc(a)
            )
        })
        .unwrap_or_default();
    format!(
        r##"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>dAMM demo report (seed {seed})</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }}
h1 {{ font-size: 1.6em; }} h2 {{ font-size: 1.2em; margin-top: 2em; }}
table {{ border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; }}
th, td {{ border-bottom: 1px solid #ddd; padding: 0.3em 0.8em; text-align: right; }}
th:first-child, td:first-child {{ text-align: left; }}
.chart {{ margin: 1em 0; }}
.chart svg {{ background: #fcfcfc; border: 1px solid #e4e4e4; }}
.legend span {{ margin-right: 1.2em; font-size: 0.9em; }}
.legend i {{ display: inline-block; width: 1.2em; height: 0.25em; vertical-align: middle; margin-right: 0.3em; }}
code {{ font-size: 0.85em; }}
</style>
</head>
<body data-render="pending">
<h1>dAMM demo report</h1>
<p>Seed {seed}, {rounds} rounds of trading, {wall:.1} s on the embedded devnode (chain {chain}). Vault <code>{vault}</code>,
Uniswap pair <code>{pair}</code>.</p>

<h2>Price per market vs. Uniswap</h2>
<div class="chart" id="chart-price"></div>
<h2>Health factor over time</h2>
<div class="chart" id="chart-hf"></div>
{refused}
{admission}
<h2>LP value: Alice in dAMM vs. Uniswap alone, relative to holding her tokens (%, valued in B at Uniswap's price)</h2>
<div class="chart" id="chart-lp"></div>

<h2>Markets</h2>
{markets}
<h2>Fees</h2>
{fees}
<p>Protocol fees claimed by the treasury: {pa} A, {pb} B.</p>
<h2>Gas</h2>
{gas}
<h2>Alice's position at the end</h2>
{lpt}
<h2>Checks</h2>
{checks}

<script type="application/json" id="demo-data">{data}</script>
<script>
"use strict";
(function () {{
  var errors = [];
  window.addEventListener("error", function (e) {{ errors.push(String(e.message)); document.body.dataset.render = "error"; }});
  var NS = "http://www.w3.org/2000/svg";
  var COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"];
  function el(name, attrs, parent) {{
    var node = document.createElementNS(NS, name);
    for (var k in attrs) node.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(node);
    return node;
  }}
  function chart(id, title, series, xs, opts) {{
    var W = 1000, H = 320, L = 70, R = 20, T = 20, B = 40;
    var host = document.getElementById(id);
    var svg = el("svg", {{ width: W, height: H, viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": title }}, host);
    var lo = Infinity, hi = -Infinity;
    series.forEach(function (s) {{ s.values.forEach(function (v) {{ if (isFinite(v)) {{ lo = Math.min(lo, v); hi = Math.max(hi, v); }} }}); }});
    (opts.lines || []).forEach(function (l) {{ if (l.fit) {{ lo = Math.min(lo, l.value); hi = Math.max(hi, l.value); }} }});
    if (!(hi > lo)) {{ hi = lo + 1; }}
    var pad = (hi - lo) * 0.08; lo -= pad; hi += pad;
    var x0 = xs[0], x1 = xs[xs.length - 1]; if (!(x1 > x0)) x1 = x0 + 1;
    function X(x) {{ return L + (x - x0) / (x1 - x0) * (W - L - R); }}
    function Y(y) {{ return T + (hi - y) / (hi - lo) * (H - T - B); }}
    for (var i = 0; i <= 4; i++) {{
      var v = lo + (hi - lo) * i / 4;
      el("line", {{ x1: L, x2: W - R, y1: Y(v), y2: Y(v), stroke: "#eee" }}, svg);
      el("text", {{ x: L - 6, y: Y(v) + 4, "text-anchor": "end", "font-size": 11 }}, svg).textContent = v.toPrecision(opts.digits || 6);
    }}
    el("text", {{ x: W / 2, y: H - 8, "text-anchor": "middle", "font-size": 11 }}, svg).textContent = "trading round";
    (opts.lines || []).forEach(function (l) {{
      if (l.value < lo || l.value > hi) return;
      el("line", {{ x1: L, x2: W - R, y1: Y(l.value), y2: Y(l.value), stroke: l.color, "stroke-dasharray": "6 4" }}, svg);
      el("text", {{ x: W - R - 4, y: Y(l.value) - 4, "text-anchor": "end", "font-size": 11, fill: l.color }}, svg).textContent = l.label;
    }});
    series.forEach(function (s, k) {{
      var d = "";
      s.values.forEach(function (v, j) {{ if (isFinite(v)) d += (d ? " L" : "M") + X(xs[j]).toFixed(1) + " " + Y(v).toFixed(1); }});
      el("path", {{ d: d, fill: "none", stroke: COLORS[k % COLORS.length], "stroke-width": 2, "data-series": s.name, "data-points": s.values.length }}, svg);
    }});
    (opts.marks || []).forEach(function (m) {{
      el("circle", {{ cx: X(m.x), cy: Y(m.y), r: 5, fill: "#d62728" }}, svg);
      var right = X(m.x) > W * 0.8;
      el("text", {{ x: X(m.x) + (right ? -8 : 8), y: Y(m.y) - 8, "text-anchor": right ? "end" : "start", "font-size": 11, fill: "#d62728" }}, svg).textContent = m.label;
    }});
    var legend = document.createElement("div"); legend.className = "legend";
    series.forEach(function (s, k) {{
      var span = document.createElement("span");
      var swatch = document.createElement("i"); swatch.style.background = COLORS[k % COLORS.length];
      span.appendChild(swatch); span.appendChild(document.createTextNode(s.name));
      legend.appendChild(span);
    }});
    host.appendChild(legend);
    svg.setAttribute("data-series-count", series.length);
  }}
  try {{
    var data = JSON.parse(document.getElementById("demo-data").textContent);
    var S = data.samples, xs = S.map(function (s) {{ return s.round; }});
    var prices = [{{ name: "Uniswap", values: S.map(function (s) {{ return s.uniswapPrice; }}) }}];
    data.markets.forEach(function (name, k) {{ prices.push({{ name: name, values: S.map(function (s) {{ return s.marketPrices[k]; }}) }}); }});
    chart("chart-price", "Price (B per A) per market vs Uniswap", prices, xs, {{ digits: 5 }});
    var marks = [];
    S.forEach(function (s) {{ if (s.label) marks.push({{ x: s.round, y: s.hf, label: s.label }}); }});
    var lines = [{{ value: data.hfMin, label: "HF_min " + data.hfMin.toFixed(2), color: "#999", fit: false }}];
    if (data.refusedHfMin) lines.push({{ value: data.refusedHfMin, label: "HF_min during the refusal", color: "#d62728", fit: true }});
    chart("chart-hf", "Health factor", [{{ name: "health factor", values: S.map(function (s) {{ return s.hf; }}) }}], xs, {{ digits: 7, lines: lines, marks: marks }});
    function rel(v, s) {{ return (v / s.lpHold - 1) * 100; }}
    chart("chart-lp", "Alice's value relative to holding her tokens, %", [
      {{ name: "in dAMM (vault shares)", values: S.map(function (s) {{ return rel(s.lpDamm, s); }}) }},
      {{ name: "Uniswap only (her LP tokens)", values: S.map(function (s) {{ return rel(s.lpUniswap, s); }}) }},
      {{ name: "holding the tokens", values: S.map(function (s) {{ return 0; }}) }}
    ], xs, {{ digits: 4 }});
    if (errors.length === 0) document.body.dataset.render = "ok";
  }} catch (e) {{
    errors.push(String(e));
    document.body.dataset.render = "error";
    console.error("report: " + e);
  }}
  document.body.dataset.errors = String(errors.length);
}})();
</script>
</body>
</html>
"##,
        seed = s.seed,
        rounds = s.rounds,
        wall = s.wall_seconds,
        chain = s.chain_id,
        vault = s.vault,
        pair = s.pair,
        refused = refused,
        admission = admission,
        markets = html_table(&MARKET_HEADER, &market_rows(s)),
        fees = html_table(&FEE_HEADER, &fee_rows(s)),
        pa = tok(&s.protocol_claimed[0]),
        pb = tok(&s.protocol_claimed[1]),
        gas = html_table(
            &["", "count", "mean", "min", "max"],
            &[
                ("L2 batch", s.gas_per_batch),
                ("L2 swap (batch / swaps)", s.gas_per_l2_swap),
                ("L1 swap", s.gas_per_l1_swap)
            ]
            .iter()
            .map(|(n, g)| vec![
                n.to_string(),
                g.count.to_string(),
                format!("{:.0}", g.mean),
                format!("{:.0}", g.min),
                format!("{:.0}", g.max)
            ])
            .collect::<Vec<_>>()
        ),
        lpt = html_table(
            &["", "value (B)"],
            &[
                vec!["in dAMM".into(), group(lp.damm)],
                vec!["had she held the tokens".into(), group(lp.hold)],
                vec!["had she stayed in Uniswap only".into(), group(lp.uniswap)],
            ]
        ),
        checks = html_table(&["", "check", "numbers"], &checks),
        data = data,
    )
}
