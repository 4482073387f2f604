//! The `damm` command-line tool.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use damm::wasm::{self, ProgramSizes};
use serde::Serialize;

/// dAMM on Arbitrum Stylus.
#[derive(Debug, Parser)]
#[command(name = "damm", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Report the deploy size of compiled Stylus contracts (raw, processed, compressed) against the
    /// 24 KiB limit. Exits with an error if any contract is over a limit.
    WasmSize {
        /// Contract modules, as built with `--profile contract --target wasm32-unknown-unknown`.
        #[arg(required = true, value_name = "FILE.wasm")]
        files: Vec<PathBuf>,
        /// Print one JSON array (sizes in bytes) instead of text.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::WasmSize { files, json } => wasm_size(&files, json),
    }
}

/// One line of `damm wasm-size --json`.
#[derive(Debug, Serialize)]
struct SizeReport {
    file: PathBuf,
    #[serde(flatten)]
    sizes: ProgramSizes,
    code_limit: usize,
    code_margin: i64,
    within_limits: bool,
}

fn wasm_size(files: &[PathBuf], json: bool) -> Result<()> {
    let mut reports = Vec::with_capacity(files.len());
    for file in files {
        let raw = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
        let prepared = wasm::prepare_program(&raw).with_context(|| format!("{}", file.display()))?;
        let sizes = prepared.sizes();
        reports.push(SizeReport {
            file: file.clone(),
            sizes,
            code_limit: wasm::MAX_CODE_SIZE,
            code_margin: sizes.code_margin(),
            within_limits: sizes.within_limits(),
        });
    }

    if json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    } else {
        for (i, report) in reports.iter().enumerate() {
            if i > 0 {
                println!();
            }
            print_report(report);
        }
    }

    let over: Vec<_> = reports
        .iter()
        .filter(|r| !r.within_limits)
        .map(|r| r.file.display())
        .collect();
    if !over.is_empty() {
        bail!(
            "over a Stylus limit ({} KiB deploy code, {} KiB processed module): {}",
            wasm::MAX_CODE_SIZE / 1024,
            wasm::MAX_WASM_SIZE / 1024,
            over.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(())
}

fn print_report(report: &SizeReport) {
    let ProgramSizes { raw, processed, code } = report.sizes;
    println!("{}", report.file.display());
    println!("  raw          {}", bytes(raw));
    println!(
        "  processed    {}  (custom sections dropped, re-encoded)",
        bytes(processed)
    );
    println!(
        "  compressed   {}  (deploy code: 4-byte prefix + brotli)",
        bytes(code)
    );
    let margin = report.code_margin;
    let verdict = if margin >= 0 { "under" } else { "OVER" };
    println!(
        "  margin       {}{}  {verdict} the {} KiB limit",
        if margin < 0 { "-" } else { "" },
        bytes(margin.unsigned_abs() as usize),
        report.code_limit / 1024
    );
    if processed > wasm::MAX_WASM_SIZE {
        println!(
            "  processed module is OVER nitro's {} KiB limit",
            wasm::MAX_WASM_SIZE / 1024
        );
    }
}

/// `12345 B (12.06 KiB)`, right-aligned.
fn bytes(n: usize) -> String {
    format!("{n:>7} B ({:>6.2} KiB)", n as f64 / 1024.0)
}
