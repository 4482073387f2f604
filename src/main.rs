//! The `damm` command-line tool.

use std::{io::Write, path::PathBuf};

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
    /// Run the devnode: a local chain that runs EVM and Stylus contracts, served over JSON-RPC with
    /// Anvil's methods (see docs/DEVNODE.md). Stops on Ctrl-C or SIGTERM, writing `--state` if given.
    Devnode(DevnodeArgs),
    /// Deploy the vault and markets (and create pools) on any endpoint, writing the deployment file the other
    /// commands read. Re-running skips what exists.
    Deploy(damm::deploy::DeployArgs),
    /// The whole dAMM on the embedded devnode: Uniswap V2, the vault, two L2 operators and an L1 market trading
    /// against one pool; prints a summary and writes an HTML report (build the contracts first:
    /// scripts/demo.sh does everything).
    Demo(damm::demo::DemoArgs),
    /// The L2 operator.
    #[command(subcommand)]
    Operator(OperatorCommand),
    /// Liquidity providers: deposit into a pool, withdraw, see a position (value, fees earned, rewards), claim
    /// rewards.
    #[command(subcommand)]
    Lp(damm::lp::LpCommand),
    /// The vault owner: status, pools and markets, resizing and freezing, limits, HF_min, pause, rewards,
    /// protocol fees, ownership.
    #[command(subcommand)]
    Admin(damm::admin::AdminCommand),
}

/// `damm operator …`.
#[derive(Debug, Subcommand)]
enum OperatorCommand {
    /// Serve trades on one or several markets over HTTP and settle them on L1 in batches (docs/OPERATOR.md).
    Run(Box<damm::operator::RunArgs>),
}

/// Options of `damm devnode`.
#[derive(Debug, clap::Args)]
struct DevnodeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    /// Port to listen on (nitro's devnode uses 8547); 0 picks a free port.
    #[arg(long, short, default_value_t = 8547)]
    port: u16,
    /// Chain id (nitro's devnode: 412346).
    #[arg(long, default_value_t = 412_346)]
    chain_id: u64,
    /// Number of funded dev accounts derived from the test mnemonic (nitro's dev key is always added).
    #[arg(long, short, default_value_t = 10)]
    accounts: u32,
    /// Balance of each dev account, in ether.
    #[arg(long, default_value_t = 10_000)]
    balance: u64,
    /// Mine a block every this many seconds instead of on every transaction.
    #[arg(long, short, value_name = "SECONDS")]
    block_time: Option<f64>,
    /// Load the chain state from this file at start (if it exists) and write it there on exit.
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// Run Stylus programs without activating them first.
    #[arg(long)]
    auto_activate: bool,
    /// Base fee of every block, in wei.
    #[arg(long, default_value_t = 100_000_000)]
    base_fee: u64,
    /// Block gas limit.
    #[arg(long, default_value_t = 1_125_899_906_842_624)]
    gas_limit: u64,
    /// Print the Stylus programs' console output.
    #[arg(long)]
    print_console: bool,
}

fn main() -> std::process::ExitCode {
    // Errors are printed with their causes, one per line, never with a backtrace (RUST_BACKTRACE may be set for
    // other reasons): what went wrong is in the message, and revert data is decoded to the error's name.
    match run(Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            let full = format!("{error:#}");
            let explained = damm::errors::explain_any(&error);
            if explained == full {
                eprintln!("error: {full}");
            } else {
                // A contract or RPC error in the chain: its decoded form, after what was being done.
                eprintln!("error: {error}: {explained}");
            }
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::WasmSize { files, json } => wasm_size(&files, json),
        Command::Devnode(args) => devnode(args),
        Command::Deploy(args) => runtime()?.block_on(damm::deploy::run(args)),
        Command::Demo(args) => runtime()?.block_on(damm::demo::run(args)),
        Command::Operator(OperatorCommand::Run(args)) => runtime()?.block_on(damm::operator::run(*args)),
        Command::Lp(command) => runtime()?.block_on(damm::lp::run(command)),
        Command::Admin(command) => runtime()?.block_on(damm::admin::run(command)),
    }
}

/// The runtime of the commands that talk to a chain.
fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

fn devnode(args: DevnodeArgs) -> Result<()> {
    use damm_devnode::{DevnodeConfig, RpcServer, ServerConfig};
    let block_time = match args.block_time {
        Some(seconds) if !(seconds > 0.0 && seconds.is_finite()) => {
            bail!("--block-time must be a positive number of seconds, got {seconds}")
        }
        Some(seconds) => Some(std::time::Duration::from_secs_f64(seconds)),
        None => None,
    };
    let wei_per_ether = damm_devnode::rpc::api::WEI_PER_ETHER;
    let config = ServerConfig {
        host: args.host,
        port: args.port,
        node: DevnodeConfig {
            chain_id: args.chain_id,
            dev_accounts: args.accounts,
            balance: alloy_primitives::U256::from(args.balance) * wei_per_ether,
            block_gas_limit: args.gas_limit,
            base_fee: args.base_fee,
            wall_clock: true,
            auto_activate: args.auto_activate,
            print_console: args.print_console,
            ..DevnodeConfig::default()
        },
        block_time,
        state_file: args.state.clone(),
    };
    let server = RpcServer::spawn(config).context("cannot start the devnode")?;
    println!(
        "damm devnode v{}: EVM (revm) and Stylus (wasmi) on one chain",
        env!("CARGO_PKG_VERSION")
    );
    println!();
    println!("Available Accounts");
    println!("==================");
    for (i, (address, _)) in server.dev_accounts().iter().enumerate() {
        println!("({i}) {address} ({} ETH)", args.balance);
    }
    println!();
    println!("Private Keys");
    println!("==================");
    for (i, (_, key)) in server.dev_accounts().iter().enumerate() {
        println!("({i}) {key}");
    }
    println!();
    println!("Wallet");
    println!("==================");
    println!("Mnemonic:          {}", damm_devnode::DEV_MNEMONIC);
    println!("Derivation path:   m/44'/60'/0'/0/");
    println!("(the last account is nitro's dev key)");
    println!();
    println!("Chain ID:          {}", args.chain_id);
    println!("Base fee:          {} wei", args.base_fee);
    println!("Gas limit:         {}", args.gas_limit);
    match block_time {
        Some(t) => println!("Block time:        {} s", t.as_secs_f64()),
        None => println!("Block time:        automine (a block per transaction)"),
    }
    if let Some(state) = &args.state {
        println!("State file:        {}", state.display());
    }
    println!();
    println!("Listening on {}", server.local_addr());
    wait_for_signal()?;
    // stdout may be gone by now (a closed pipe): the shutdown must not fail on it.
    let _ = writeln!(std::io::stdout(), "\nShutting down");
    server.shutdown().context("stopping the devnode")?;
    Ok(())
}

/// Blocks until SIGINT (Ctrl-C) or SIGTERM.
fn wait_for_signal() -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the signal handler")?;
    runtime.block_on(async {
        let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result,
            _ = terminate.recv() => Ok(()),
        }
    })?;
    Ok(())
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
