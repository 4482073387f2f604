//! `damm demo` as a process, the way a newcomer runs it (on the embedded devnode, whatever `DAMM_E2E_RPC` says:
//! the demo is defined on the devnode it starts itself), with a fixed seed and fewer rounds than by default.
//!
//! - The summary's numbers must agree with each other, recomputed here from `summary.json` (not from the
//!   demo's own checks, which are also required to pass): every fee split adds up to its total, the
//!   operators' quoted fees equal the fees settled on chain, the protocol fees in the markets' events equal
//!   what the treasury claimed, the vault's balances equal its accounts, rewards claimed do not exceed those
//!   funded, the refused batch is reported (`HealthFactorTooLow`) and settled after, admission refused the
//!   over-large market, and the health factor both rose and fell.
//! - The HTML report renders in headless Chromium (Debian's `chromium`, installed by `scripts/setup.sh
//!   --browser`; the test fails if it is missing) with no console error and no script error, and each of its
//!   three charts has lines with points.
//! - Without its programs the demo stops at once with a named error saying how to build them.

mod e2e;

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Instant,
};

use alloy::primitives::U256;
use e2e::{program_dir, workspace};
use serde_json::Value;

/// A fresh directory for this suite under the system's temporary directory.
fn temp_dir(name: &str) -> PathBuf {
    e2e::temp_dir("damm-demo-e2e", name)
}

fn big(v: &Value) -> U256 {
    v.as_str()
        .unwrap_or_else(|| panic!("a decimal string, got {v}"))
        .parse()
        .unwrap_or_else(|_| panic!("a decimal integer, got {v}"))
}

fn pair(v: &Value) -> [U256; 2] {
    [big(&v[0]), big(&v[1])]
}

fn uniswap_build() -> PathBuf {
    workspace().join("node_modules/@uniswap/v2-core/build")
}

#[tokio::test(flavor = "multi_thread")]
async fn demo_summary_is_consistent_and_its_report_renders() {
    let wasm = temp_dir("wasm");
    program_dir(&wasm).await;
    let out = temp_dir("out");
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_damm"))
        .args(["demo", "--seed", "7", "--rounds", "8", "--json", "--out"])
        .arg(&out)
        .arg("--wasm-dir")
        .arg(&wasm)
        .arg("--uniswap-build")
        .arg(uniswap_build())
        .output()
        .expect("damm runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "damm demo failed:\n{stderr}");
    println!("damm demo (debug build, 8 rounds) took {:?}", started.elapsed());
    let s: Value = serde_json::from_slice(&output.stdout).expect("--json prints the summary");
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).expect("summary.json"))
            .expect("summary.json is JSON");
    assert_eq!(s, file, "the summary printed is the one written");

    // The demo's own checks all pass…
    let checks = s["checks"].as_array().expect("checks");
    assert!(checks.len() >= 10, "the demo checks its numbers: {checks:?}");
    for c in checks {
        assert_eq!(c["ok"], Value::Bool(true), "demo check failed: {c}");
    }

    // …and the numbers agree when recomputed here.
    let markets = s["markets"].as_array().expect("markets");
    let names: Vec<&str> = markets.iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["l2-a", "l2-b", "l1"]);
    let mut protocol = [U256::ZERO; 2];
    for m in markets {
        let fees = &m["fees"];
        let (lp, pr, rf, total) = (
            pair(&fees["lp"]),
            pair(&fees["protocol"]),
            pair(&fees["referral"]),
            pair(&fees["total"]),
        );
        for t in 0..2 {
            assert_eq!(
                lp[t] + pr[t] + rf[t],
                total[t],
                "{}: the fee split of token {t} adds up",
                m["name"]
            );
            protocol[t] += pr[t];
        }
        assert!(
            !total[0].is_zero() && !total[1].is_zero(),
            "{} earned fees in both tokens",
            m["name"]
        );
        assert!(m["swaps"].as_u64().unwrap() > 0, "{} traded", m["name"]);
        if m["kind"] == "L2" {
            assert_eq!(
                pair(&m["fillsFee"]),
                total,
                "{}: the fees its operator quoted are the fees settled",
                m["name"]
            );
            assert_eq!(
                m["acknowledged"], m["swaps"],
                "{}: every acknowledged trade settled",
                m["name"]
            );
            assert!(
                m["batches"].as_u64().unwrap() >= 2,
                "{} settled in batches",
                m["name"]
            );
        }
    }
    assert_eq!(
        protocol,
        pair(&s["protocolClaimed"]),
        "protocol fees in events = claimed by the treasury"
    );
    for r in s["reconciliation"].as_array().expect("reconciliation") {
        assert_eq!(
            big(&r["vaultBalance"]),
            big(&r["accounted"]) + big(&r["protocolFees"]),
            "the vault's balance of {} reconciles",
            r["token"]
        );
    }
    let funded = big(&s["rewardFunded"]);
    let claimed: U256 = s["rewardClaims"]
        .as_array()
        .expect("reward claims")
        .iter()
        .map(|c| big(&c[2]))
        .sum();
    assert!(
        !claimed.is_zero() && claimed <= funded,
        "rewards: claimed {claimed} of {funded}"
    );

    let refused = &s["refusedBatch"];
    assert_eq!(refused["market"], "l2-b", "the refused batch: {refused}");
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .starts_with("HealthFactorTooLow"),
        "{refused}"
    );
    assert!(refused["trades"].as_u64().unwrap() >= 1);
    assert_eq!(refused["settledAfterRestore"], Value::Bool(true));
    let admission = s["admissionRefusal"].as_str().expect("admission was refused");
    assert!(admission.contains("Admission"), "{admission}");

    let hf: Vec<f64> = s["samples"]
        .as_array()
        .expect("samples")
        .iter()
        .map(|p| p["hf"].as_f64().unwrap())
        .collect();
    assert!(hf.len() >= 16, "{} samples", hf.len());
    assert!(
        hf.windows(2).any(|w| w[1] > w[0]),
        "HF rose at some point: {hf:?}"
    );
    assert!(
        hf.windows(2).any(|w| w[1] < w[0]),
        "HF fell at some point: {hf:?}"
    );
    for key in ["gasPerBatch", "gasPerL2Swap", "gasPerL1Swap"] {
        assert!(
            s[key]["count"].as_u64().unwrap() > 0 && s[key]["mean"].as_f64().unwrap() > 21_000.0,
            "{key}"
        );
    }
    let lp = &s["lpEnd"];
    for key in ["damm", "hold", "uniswap"] {
        assert!(lp[key].as_f64().unwrap() > 0.0, "LP value {key}");
    }

    render_report(&out.join("report.html"));
}

/// Renders the report in headless Chromium: no console or script error, three charts with points.
fn render_report(report: &Path) {
    let chromium = ["chromium", "chromium-browser"]
        .into_iter()
        .find(|c| {
            Command::new(c)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .expect(
            "headless Chromium is missing: run scripts/setup.sh --browser (it installs Debian's chromium)",
        );
    let profile = temp_dir("chromium");
    let output = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=5000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("file://{}", report.display()))
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&output.stdout);
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "chromium failed:\n{log}");
    let console: Vec<&str> = log.lines().filter(|l| l.contains("CONSOLE")).collect();
    assert!(
        console.is_empty(),
        "the report wrote to the console: {console:#?}"
    );
    assert!(
        dom.contains(r#"data-render="ok""#),
        "the report's script did not finish:\n{dom}"
    );
    assert!(
        dom.contains(r#"data-errors="0""#),
        "the report's script saw errors"
    );
    for chart in ["chart-price", "chart-hf", "chart-lp"] {
        let start = dom
            .find(&format!(r#"id="{chart}""#))
            .unwrap_or_else(|| panic!("{chart} is missing"));
        let end = dom[start..].find("</svg>").expect("the chart's svg") + start;
        let svg = &dom[start..end];
        let lines: Vec<usize> = svg
            .split("data-points=\"")
            .skip(1)
            .map(|rest| rest[..rest.find('"').unwrap()].parse().unwrap())
            .collect();
        assert!(!lines.is_empty(), "{chart} has no line");
        assert!(
            lines.iter().all(|&n| n >= 16),
            "{chart}: points per line {lines:?}"
        );
        let drawn = svg.matches(" L").count();
        assert!(
            drawn >= 16 * lines.len(),
            "{chart}: {drawn} segments drawn for {} lines",
            lines.len()
        );
    }
    println!("the report rendered in headless Chromium: three charts, no console output");
}

#[test]
fn demo_without_its_programs_says_how_to_build_them() {
    let out = temp_dir("missing");
    let output = Command::new(env!("CARGO_BIN_EXE_damm"))
        .args(["demo", "--out"])
        .arg(&out)
        .arg("--wasm-dir")
        .arg(out.join("nothing-here"))
        .arg("--uniswap-build")
        .arg(uniswap_build())
        .output()
        .expect("damm runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("error: the Stylus program ") && stderr.contains("scripts/build-contracts.sh"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
}
