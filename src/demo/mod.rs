//! `damm demo`: the whole dAMM on the embedded devnode, with nothing else running.
//!
//! The demo starts the devnode in-process and plays one scenario:
//!
//! 1. **Uniswap**: two ERC-20s and the Uniswap V2 factory from `@uniswap/v2-core`'s artifacts, their pair,
//!    liquidity from two LPs (Alice and Bob) and a few trades on it.
//! 2. **The vault**: `damm deploy`'s own code deploys the vault; both LPs deposit their LP tokens.
//! 3. **Markets**: two L2 markets, each with its own operator, and one L1 market, deployed and admitted by the
//!    vault; then a market far larger than the pool, which admission refuses. A reward slot is funded.
//! 4. **A refusal**: the two operators are the real operator daemon (`damm operator run`'s code, each with its
//!    own key, journal and HTTP API). While the pool's health factor is still 1, the owner sets `HF_min` to 1,
//!    a whale trades on one L2 market to the end of its range, and the vault refuses the operator's batch
//!    (`HealthFactorTooLow`); the operator holds it (alert `BatchReverted`) and settles it once the owner
//!    restores `HF_min` to 0.95.
//! 5. **Trading**: each round, concurrently: outside flow trades on Uniswap (calm, then a rally, then a
//!    sell-off), random traders trade on every market (L2 through the operators' APIs, L1 on chain); then
//!    arbitrageurs bring each market back to Uniswap's price. The operators settle their batches in the
//!    background.
//! 6. **The end**: rewards vest (the devnode's clock is moved forward) and are claimed, protocol fees are
//!    claimed, and the summary is built from the chain's events and views: volumes, fees, health factor,
//!    gas, LP value, and the checks that tie them together. `summary.json` and `report.html` are written.
//!
//! `--seed` fixes every random choice (each actor draws from its own generator), so a run is reproducible
//! up to the interleaving of concurrent transactions.

pub mod chain;
pub mod report;

use std::{
    collections::BTreeMap,
    io::{IsTerminal, Write},
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use alloy::{
    primitives::{Address, B256, U256},
    providers::{DynProvider, Provider},
    rpc::types::{Filter, TransactionReceipt},
    signers::local::PrivateKeySigner,
    sol_types::SolEvent,
};
use anyhow::{anyhow, bail, Context, Result};
use damm_devnode::rpc::{RpcServer, ServerConfig};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use self::{
    chain::{e18, erc20_args, tokens, uniswap_artifact, Actor, Pair},
    report::{
        Check, FeeSplit, GasStats, LpValue, MarketSummary, Reconciliation, RefusedBatch, Sample, Summary,
    },
};
use crate::{
    bindings::{IMarket, IUniswapV2Factory, IVault, MarketEvents},
    client::connect,
    config::{ChainArgs, Settings},
    deploy::{deploy, DeploySpec, DEFAULT_WASM_DIR},
    deployment::{Deployment, MarketKind},
    market_codec::MarketState,
    operator::{self, Market, RunArgs},
};

/// 2^64.
const Q64: f64 = 18_446_744_073_709_551_616.0;
/// The health factor's one (1e18).
const HF_ONE: u128 = 1_000_000_000_000_000_000;
/// The pool's `HF_min` outside the refusal scene.
const HF_MIN: u128 = 950_000_000_000_000_000;

/// Options of `damm demo`.
#[derive(Debug, Clone, clap::Args)]
pub struct DemoArgs {
    /// Seed of every random choice (traders, sizes, directions).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Rounds of trading (each: outside flow on Uniswap, random trades on every market, arbitrage).
    #[arg(long, default_value_t = 48)]
    pub rounds: usize,
    /// Random trades per L2 market per round.
    #[arg(long, default_value_t = 12)]
    pub trades_per_round: usize,
    /// Where the report, the summary, the deployment file and the operators' journals go (emptied first).
    #[arg(long, default_value = "demo-out", value_name = "DIR")]
    pub out: PathBuf,
    /// The compiled Stylus programs (`scripts/build-contracts.sh` writes them there).
    #[arg(long, default_value = DEFAULT_WASM_DIR, value_name = "DIR")]
    pub wasm_dir: PathBuf,
    /// The `@uniswap/v2-core` build artifacts (`scripts/setup.sh` installs them).
    #[arg(
        long,
        default_value = "node_modules/@uniswap/v2-core/build",
        value_name = "DIR"
    )]
    pub uniswap_build: PathBuf,
    /// Print the summary as JSON on stdout instead of tables.
    #[arg(long)]
    pub json: bool,
    /// After the summary, keep the devnode and both operators running (until Ctrl-C) for the other commands to
    /// use: the chain at http://127.0.0.1:PORT, the deployment file in the output directory.
    #[arg(long)]
    pub serve: bool,
    /// The devnode's port [default: 8547 with --serve, any free port otherwise].
    #[arg(long)]
    pub port: Option<u16>,
}

/// Runs the demo: prints the summary and the report's path (with `--serve`, then keeps the chain and the
/// operators running until Ctrl-C).
///
/// # Errors
///
/// A missing program or artifact (named, with the command that makes it), or any step that failed.
pub async fn run(args: DemoArgs) -> Result<()> {
    let summary = play(&args).await?;
    if args.serve {
        return Ok(());
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        report::print(&summary);
    }
    Ok(())
}

/// A small deterministic generator (SplitMix64), one per actor.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64, stream: u64) -> Self {
        Rng(seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn range(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.unit()
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}

/// Whole tokens (a float) to atoms.
fn atoms(amount: f64) -> U256 {
    U256::from((amount.max(0.0) * 1e6) as u128) * U256::from(1_000_000_000_000u64)
}

/// A Q64.64 square root price as a price (token1 per token0).
fn price_of(sqrt_price: u128) -> f64 {
    let s = sqrt_price as f64 / Q64;
    s * s
}

/// The progress line on stderr: a bar on a terminal, one line per phase otherwise.
struct Progress {
    start: Instant,
    tty: bool,
    phase: String,
}

impl Progress {
    fn new() -> Self {
        Self {
            start: Instant::now(),
            tty: std::io::stderr().is_terminal(),
            phase: String::new(),
        }
    }
    fn set(&mut self, fraction: f64, phase: &str) {
        let elapsed = self.start.elapsed().as_secs_f64();
        if self.tty {
            let width = 30;
            let done = ((fraction.clamp(0.0, 1.0)) * width as f64).round() as usize;
            eprint!(
                "\r\x1b[2K[{}{}] {:>3.0}% {:>5.1}s  {phase}",
                "#".repeat(done),
                "-".repeat(width - done),
                fraction * 100.0,
                elapsed
            );
            let _ = std::io::stderr().flush();
        } else if phase != self.phase {
            eprintln!("demo: [{:>3.0}%] {elapsed:>5.1}s {phase}", fraction * 100.0);
        }
        self.phase = phase.to_string();
    }
    fn note(&mut self, line: &str) {
        if self.tty {
            eprint!("\r\x1b[2K");
        }
        eprintln!("demo: {line}");
    }
    fn finish(&mut self) {
        if self.tty {
            eprintln!();
        }
    }
}

/// An L2 market served by its operator daemon, with what its traders saw.
struct L2 {
    name: String,
    running: operator::Running,
    book: Mutex<FillBook>,
}

impl L2 {
    fn market(&self) -> &Arc<Market> {
        &self.running.markets[0]
    }
    /// The operator's trading state (every acknowledged trade applied).
    fn soft(&self) -> MarketState {
        *self.market().engine.lock().expect("engine lock").soft()
    }
    fn settled(&self) -> bool {
        let engine = self.market().engine.lock().expect("engine lock");
        engine.trades_pending() == 0 && engine.inflight().is_none()
    }
}

/// What an L2 market's traders were answered.
#[derive(Default)]
struct FillBook {
    acknowledged: u64,
    refused: BTreeMap<String, u64>,
    /// Fees of the acknowledged trades, per token (the fee's token follows the market's mode).
    fees: [U256; 2],
}

/// Who plays.
struct Cast {
    admin: Actor,
    alice: Actor,
    bob: Actor,
    flow: Actor,
    l1_trader: Actor,
    l1_arb: Actor,
    operator_a: PrivateKeySigner,
    operator_b: PrivateKeySigner,
}

/// Everything deployed.
struct World {
    url: String,
    pair: Pair,
    reward_token: Address,
    deployment: Deployment,
    l1: Address,
    /// Alice's deposit: the tokens she put into Uniswap and the LP tokens she got for them.
    alice_tokens: (U256, U256),
    alice_lp: U256,
}

async fn play(args: &DemoArgs) -> Result<Summary> {
    let started = Instant::now();
    let mut progress = Progress::new();
    check_inputs(args)?;
    prepare_out(&args.out)?;
    let log = args.out.join("operators.log");
    operator::set_log_file(
        std::fs::File::create(&log).with_context(|| format!("cannot create {}", log.display()))?,
    );

    progress.set(0.0, "starting the devnode");
    let port = args.port.unwrap_or(if args.serve { 8547 } else { 0 });
    let server = RpcServer::spawn(ServerConfig {
        port,
        ..ServerConfig::default()
    })
    .with_context(|| format!("cannot start the embedded devnode on port {port}"))?;
    let url = server.url();
    let keys: Vec<PrivateKeySigner> = server
        .dev_accounts()
        .iter()
        .map(|(_, key)| PrivateKeySigner::from_bytes(key).expect("dev keys are valid"))
        .collect();
    if keys.len() < 8 {
        bail!("the devnode has {} dev accounts, the demo needs 8", keys.len());
    }
    let cast = Cast {
        admin: Actor::new("owner", keys[0].clone(), &url)?,
        alice: Actor::new("Alice (LP)", keys[1].clone(), &url)?,
        bob: Actor::new("Bob (LP)", keys[2].clone(), &url)?,
        operator_a: keys[3].clone(),
        operator_b: keys[4].clone(),
        flow: Actor::new("Uniswap flow", keys[5].clone(), &url)?,
        l1_trader: Actor::new("L1 trader", keys[6].clone(), &url)?,
        l1_arb: Actor::new("L1 arbitrageur", keys[7].clone(), &url)?,
    };
    let chain_id = cast.admin.provider.get_chain_id().await?;

    progress.set(0.02, "Uniswap V2: tokens, factory, pair, liquidity, trades");
    let uni = uniswap(args, &cast).await?;
    let (pair, reward_token) = (uni.pair, uni.reward_token);

    progress.set(0.08, "deploying the vault (damm deploy)");
    let deployment_path = args.out.join("deployment.json");
    let mut sink = |_: &str| {};
    let settings = Settings {
        rpc_url: url.clone(),
        signer: Some(cast.admin.key.clone()),
        chain_id: Some(chain_id),
        deployment: deployment_path.clone(),
    };
    let client = connect(&settings).await?;
    let factory = uni.factory;
    let spec = |markets: &str| -> Result<DeploySpec> {
        let text = format!(
            "gas_limit = 30000000\n[vault]\nfactory = \"{factory}\"\n\n[[pools]]\nname = \"main\"\npair = \"{}\"\nhf_min = \"0.95\"\n{markets}",
            pair.address
        );
        Ok(DeploySpec::parse(Path::new("the demo's deploy spec"), &text)?)
    };
    let deployment = deploy(&client, &spec("")?, &args.wasm_dir, &deployment_path, &mut sink).await?;
    let vault = deployment.vault;

    progress.set(0.20, "LPs deposit their Uniswap LP tokens");
    for lp in [&cast.alice, &cast.bob] {
        let amount = chain::balance(&lp.provider, pair.address, lp.address()).await?;
        lp.approve_max(pair.address, vault).await?;
        let contract = IVault::new(vault, &lp.provider);
        let call = contract.depositLp(pair.address, amount, U256::ZERO, lp.address());
        lp.send("depositLp", call.into_transaction_request()).await?;
    }

    progress.set(0.24, "deploying and admitting three markets");
    let markets_toml = markets_spec(&cast);
    let deployment = deploy(
        &client,
        &spec(&markets_toml)?,
        &args.wasm_dir,
        &deployment_path,
        &mut sink,
    )
    .await?;
    let l1 = deployment.market("l1")?.address;

    // Admission: a market far larger than the pool. Tried on a copy of the deployment file, so the real one
    // lists only admitted markets.
    progress.set(0.30, "admission: a market larger than the pool");
    let admission_path = args.out.join("deployment-admission-attempt.json");
    std::fs::copy(&deployment_path, &admission_path)?;
    let huge = format!(
        "{markets_toml}\n{}",
        market_toml(
            "l2-huge",
            "l2",
            cast.operator_a.address(),
            (2.0, 1.8, 2.2),
            100_000_000,
            3_000_000,
            false
        )
    );
    let admission_refusal =
        match deploy(&client, &spec(&huge)?, &args.wasm_dir, &admission_path, &mut sink).await {
            Ok(_) => None,
            Err(e) => Some(e.to_string()),
        };
    if let Some(refusal) = &admission_refusal {
        progress.note(&format!("admission refused l2-huge: {refusal}"));
    }

    progress.set(0.32, "funding a reward slot; starting two operators");
    let reward_funded = e18(100_000);
    let v = IVault::new(vault, &cast.admin.provider);
    cast.admin
        .send(
            "initializeReward",
            v.initializeReward(
                pair.address,
                U256::ZERO,
                reward_token,
                86_400,
                cast.admin.address(),
            )
            .into_transaction_request(),
        )
        .await?;
    cast.admin.approve_max(reward_token, vault).await?;
    cast.admin
        .send(
            "fundReward",
            v.fundReward(pair.address, U256::ZERO, reward_funded, false)
                .into_transaction_request(),
        )
        .await?;

    let world = World {
        url: url.clone(),
        pair,
        reward_token,
        deployment: deployment.clone(),
        l1,
        alice_tokens: uni.alice_tokens,
        alice_lp: uni.alice_lp,
    };
    let l2s = vec![
        start_operator(args, &world, "l2-a", &cast.operator_a, &deployment_path).await?,
        start_operator(args, &world, "l2-b", &cast.operator_b, &deployment_path).await?,
    ];
    for trader in [&cast.l1_trader, &cast.l1_arb] {
        trader.approve_max(pair.token0, vault).await?;
        trader.approve_max(pair.token1, vault).await?;
    }

    // The refusal, while the pool's HF is still exactly 1: HF_min is raised to 1 (no market may lower it).
    let mut samples = Vec::new();
    let t0 = Instant::now();
    let rounds = args.rounds.max(3);
    let mut rngs = Rngs::new(args.seed);
    samples.push(sample(&world, &cast, &l2s, (t0, 0.0), "start").await?);
    progress.set(0.34, "HF_min raised to the pool's HF; a whale trades on l2-b");
    let refused = refusal_scene(&world, &cast, &l2s[1], &mut progress).await?;
    samples.push(sample(&world, &cast, &l2s, (t0, 0.0), "refused batch settled").await?);

    // Trading: calm, then a rally on Uniswap, then a sell-off.
    for round in 0..rounds {
        progress.set(
            0.36 + 0.46 * round as f64 / rounds as f64,
            &format!("trading: round {}/{rounds}", round + 1),
        );
        let trend = match round * 3 / rounds {
            0 => 0.0,
            1 => 1.0,
            _ => -1.0,
        };
        trade_round(
            args,
            &world,
            &cast,
            &l2s,
            &mut rngs,
            trend,
            (&mut samples, t0, round as f64),
        )
        .await?;
        samples.push(sample(&world, &cast, &l2s, (t0, round as f64 + 1.0), "").await?);
    }
    progress.set(0.82, "waiting for every batch to settle");
    wait_settled(&l2s, Duration::from_secs(120)).await?;
    samples.push(sample(&world, &cast, &l2s, (t0, rounds as f64), "end of trading").await?);

    // Rewards vest: twelve hours pass.
    progress.set(0.86, "rewards vest (12 h pass); LPs claim; protocol fees claimed");
    cast.admin
        .provider
        .raw_request::<_, Value>("evm_increaseTime".into(), (43_200u64,))
        .await?;
    cast.admin
        .provider
        .raw_request::<_, Value>("evm_mine".into(), ())
        .await?;
    let mut reward_claims = Vec::new();
    for lp in [&cast.alice, &cast.bob] {
        let before = lp.balance(reward_token).await?;
        let contract = IVault::new(vault, &lp.provider);
        let call = contract.claimReward(pair.address, U256::ZERO);
        lp.send("claimReward", call.into_transaction_request()).await?;
        reward_claims.push((
            lp.role.to_string(),
            lp.address(),
            lp.balance(reward_token).await? - before,
        ));
    }
    let mut protocol_claimed = [U256::ZERO; 2];
    let mut protocol_accrued = [U256::ZERO; 2];
    for (i, token) in [pair.token0, pair.token1].into_iter().enumerate() {
        protocol_accrued[i] = v.protocolFees(token).call().await?;
        let before = cast.admin.balance(token).await?;
        cast.admin
            .send(
                "claimProtocolFees",
                v.claimProtocolFees(token).into_transaction_request(),
            )
            .await?;
        protocol_claimed[i] = cast.admin.balance(token).await? - before;
    }

    progress.set(0.92, "reading the chain's events; writing the report");
    let summary = summarize(Inputs {
        args,
        world: &world,
        cast: &cast,
        l2s: &l2s,
        samples,
        refused,
        admission_refusal,
        reward_funded,
        reward_claims,
        protocol_accrued,
        protocol_claimed,
        chain_id,
        started,
    })
    .await?;
    std::fs::write(
        args.out.join("summary.json"),
        serde_json::to_string_pretty(&summary)?,
    )?;
    std::fs::write(args.out.join("report.html"), report::html(&summary))?;
    progress.set(1.0, "done");
    progress.finish();
    if args.serve {
        report::print(&summary);
        serve(&summary, &url, &cast, &l2s, &deployment_path).await?;
    }
    drop(l2s);
    // The daemons' tasks end with the runtime; the devnode stops here.
    server.shutdown().context("stopping the devnode")?;
    Ok(summary)
}

/// What the Uniswap scene made.
struct Uniswap {
    factory: Address,
    pair: Pair,
    reward_token: Address,
    alice_tokens: (U256, U256),
    alice_lp: U256,
}

/// Refuses to start without the programs and artifacts, naming the command that makes them.
fn check_inputs(args: &DemoArgs) -> Result<()> {
    let mut programs: Vec<&str> = crate::deploy::VAULT_PROGRAMS.to_vec();
    programs.extend([crate::deploy::MARKET_PROGRAM, crate::deploy::MARKET_ADMIN_PROGRAM]);
    for program in programs {
        let file = args.wasm_dir.join(format!("{}.wasm", program.replace('-', "_")));
        if !file.is_file() {
            bail!(
                "the Stylus program {} is missing: build the contracts with scripts/build-contracts.sh (or run \
                 scripts/demo.sh, which does everything)",
                file.display()
            );
        }
    }
    for name in ["UniswapV2Factory", "ERC20"] {
        let file = args.uniswap_build.join(format!("{name}.json"));
        if !file.is_file() {
            bail!(
                "the Uniswap V2 artifact {} is missing: run scripts/setup.sh (it installs @uniswap/v2-core)",
                file.display()
            );
        }
    }
    Ok(())
}

/// Empties (or creates) the output directory; only files a demo writes are removed.
fn prepare_out(out: &Path) -> Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    for entry in std::fs::read_dir(out)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let ours = name.starts_with("operator-")
            || name.starts_with("deployment")
            || matches!(name, "summary.json" | "report.html" | "operators.log");
        if ours && path.is_file() {
            std::fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
        }
    }
    Ok(())
}

/// Two tokens, the factory, the pair; Alice's and Bob's liquidity with trades between; the reward token.
async fn uniswap(args: &DemoArgs, cast: &Cast) -> Result<Uniswap> {
    let admin = &cast.admin;
    let erc20 = uniswap_artifact(&args.uniswap_build, "ERC20")?;
    let supply = e18(1_000_000_000);
    let a = admin.deploy_evm("token A", &erc20, &erc20_args(supply)).await?;
    let b = admin.deploy_evm("token B", &erc20, &erc20_args(supply)).await?;
    let reward_token = admin
        .deploy_evm("reward token", &erc20, &erc20_args(supply))
        .await?;
    let factory = admin
        .deploy_evm(
            "UniswapV2Factory",
            &uniswap_artifact(&args.uniswap_build, "UniswapV2Factory")?,
            &alloy::sol_types::SolValue::abi_encode(&admin.address()),
        )
        .await?;
    let f = IUniswapV2Factory::new(factory, &admin.provider);
    admin
        .send("createPair", f.createPair(a, b).into_transaction_request())
        .await?;
    let address = f.getPair(a, b).call().await?;
    let (token0, token1) = if a < b { (a, b) } else { (b, a) };
    let pair = Pair {
        address,
        token0,
        token1,
    };
    // Balances: the LPs, the operators' escrow, the traders.
    let fund = [
        (cast.alice.address(), 1_000_000, 4_000_000),
        (cast.bob.address(), 500_000, 2_500_000),
        (cast.operator_a.address(), 2_000_000, 8_000_000),
        (cast.operator_b.address(), 2_000_000, 8_000_000),
        (cast.flow.address(), 5_000_000, 20_000_000),
        (cast.l1_trader.address(), 1_000_000, 4_000_000),
        (cast.l1_arb.address(), 1_000_000, 4_000_000),
    ];
    for (to, amount0, amount1) in fund {
        admin.transfer(token0, to, e18(amount0)).await?;
        admin.transfer(token1, to, e18(amount1)).await?;
    }
    // Alice opens the pool at 4 B per A; outside flow trades; Bob joins at the price of the moment.
    let alice_tokens = (e18(1_000_000), e18(4_000_000));
    let alice_lp = cast
        .alice
        .add_liquidity(&pair, alice_tokens.0, alice_tokens.1)
        .await?;
    let mut rng = Rng::new(args.seed, 99);
    for _ in 0..3 {
        let zero_for_one = rng.chance(0.5);
        let amount = if zero_for_one {
            rng.range(2_000.0, 8_000.0)
        } else {
            rng.range(8_000.0, 32_000.0)
        };
        cast.flow.uniswap_swap(&pair, zero_for_one, atoms(amount)).await?;
    }
    let (r0, r1) = pair.reserves(&admin.provider).await?;
    let bob0 = e18(500_000);
    cast.bob.add_liquidity(&pair, bob0, bob0 * r1 / r0).await?;
    Ok(Uniswap {
        factory,
        pair,
        reward_token,
        alice_tokens,
        alice_lp,
    })
}

/// One `[[markets]]` table of the deploy spec: a concentrated market around `sqrt` in `[low, high]` (square
/// roots of prices), with `liquidity` whole tokens of real liquidity.
fn market_toml(
    name: &str,
    kind: &str,
    operator: Address,
    (sqrt, low, high): (f64, f64, f64),
    liquidity: u64,
    base_fee: u64,
    dynamic: bool,
) -> String {
    let q = |x: f64| format!("{}", (x * Q64) as u128);
    let dynamic = if dynamic {
        "dynamic_fee = { max_volatility_accumulator = 14460000, variable_fee_control = 5000, filter_period = 10, \
         decay_period = 120, reduction_factor = 5000 }\n"
    } else {
        ""
    };
    format!(
        "\n[[markets]]\nname = \"{name}\"\npool = \"main\"\noperator = \"{operator}\"\nkind = \"{kind}\"\nmode = \
         \"concentrated\"\nsqrt_price = \"{}\"\nsqrt_min_price = \"{}\"\nsqrt_max_price = \"{}\"\nliquidity = \
         \"{}\"\nbase_fee_numerator = {base_fee}\n{dynamic}",
        q(sqrt),
        q(low),
        q(high),
        (U256::from(liquidity) * U256::from(10u64).pow(U256::from(18))) << 64
    )
}

/// The three markets: two L2 markets (each its own operator) and one L1 market.
fn markets_spec(cast: &Cast) -> String {
    [
        market_toml(
            "l2-a",
            "l2",
            cast.operator_a.address(),
            (2.0, 1.8, 2.2),
            300_000,
            3_000_000,
            true,
        ),
        market_toml(
            "l2-b",
            "l2",
            cast.operator_b.address(),
            (2.0, 1.85, 2.15),
            200_000,
            2_500_000,
            false,
        ),
        market_toml(
            "l1",
            "l1",
            cast.admin.address(),
            (2.0, 1.8, 2.2),
            150_000,
            3_000_000,
            false,
        ),
    ]
    .concat()
}

/// Starts the operator daemon of market `name` in-process, with its own configuration file and journal;
/// funds its escrow approval first.
async fn start_operator(
    args: &DemoArgs,
    world: &World,
    name: &str,
    key: &PrivateKeySigner,
    deployment: &Path,
) -> Result<L2> {
    let operator = Actor::new("operator", key.clone(), &world.url)?;
    operator
        .approve_max(world.pair.token0, world.deployment.vault)
        .await?;
    operator
        .approve_max(world.pair.token1, world.deployment.vault)
        .await?;
    let config = args.out.join(format!("operator-{name}.toml"));
    std::fs::write(
        &config,
        format!(
            "# The configuration of the demo's operator of {name} (a dev key of the embedded devnode).\nrpc_url = \
             \"{}\"\nprivate_key = \"{}\"\ndeployment = \"{}\"\n",
            world.url,
            B256::from_slice(&key.to_bytes()[..]),
            std::path::absolute(deployment)?.display()
        ),
    )?;
    let run = RunArgs {
        chain: ChainArgs {
            rpc_url: None,
            private_key: None,
            keystore: None,
            chain_id: None,
            deployment: None,
            config: Some(config),
        },
        markets: vec![name.to_string()],
        listen: "127.0.0.1:0".parse()?,
        db: args.out.join(format!("operator-{name}.sqlite")),
        batch_size: 64,
        batch_age_ms: 150,
        poll_ms: 40,
        receipt_timeout_ms: 15_000,
        fee_bump_percent: 25,
        gas_limit: Some(chain::GAS),
        max_pending: 100_000,
    };
    let running = operator::start(run)
        .await
        .with_context(|| format!("starting the operator of {name}"))?;
    Ok(L2 {
        name: name.to_string(),
        running,
        book: Mutex::new(FillBook::default()),
    })
}

/// One generator per actor.
struct Rngs {
    flow: Rng,
    l2: Vec<Rng>,
    l1: Rng,
}

impl Rngs {
    fn new(seed: u64) -> Self {
        Self {
            flow: Rng::new(seed, 1),
            l2: vec![Rng::new(seed, 2), Rng::new(seed, 3)],
            l1: Rng::new(seed, 4),
        }
    }
}

/// One round: outside flow on Uniswap, random trades on every market (concurrently), then arbitrage on every
/// market (concurrently).
async fn trade_round(
    args: &DemoArgs,
    world: &World,
    cast: &Cast,
    l2s: &[L2],
    rngs: &mut Rngs,
    trend: f64,
    (samples, t0, round): (&mut Vec<Sample>, Instant, f64),
) -> Result<()> {
    // The flow's direction: random when calm; mostly buying A in a rally (trend 1), selling it in a sell-off.
    let buy_a = if trend == 0.0 {
        rngs.flow.chance(0.5)
    } else {
        rngs.flow.chance(if trend > 0.0 { 0.85 } else { 0.15 })
    };
    let flow_amount = if buy_a {
        rngs.flow.range(20_000.0, 60_000.0)
    } else {
        rngs.flow.range(5_000.0, 15_000.0)
    };
    let flow = cast.flow.uniswap_swap(&world.pair, !buy_a, atoms(flow_amount));
    let mut batches = Vec::new();
    for (l2, rng) in l2s.iter().zip(rngs.l2.iter_mut()) {
        let mut trades = Vec::new();
        for i in 0..args.trades_per_round {
            let zero_for_one = rng.chance(0.5);
            let exact_in = rng.chance(0.8);
            // Sizes in the token the amount is of: A (sold, or bought exact-out) or B.
            let in_a = zero_for_one == exact_in;
            let amount = if in_a {
                rng.range(100.0, 2_500.0)
            } else {
                rng.range(400.0, 10_000.0)
            };
            trades.push((zero_for_one, exact_in, atoms(amount), i));
        }
        batches.push(async move {
            for (zero_for_one, exact_in, amount, _) in trades {
                l2_trade(l2, zero_for_one, exact_in, amount).await?;
            }
            Ok::<_, anyhow::Error>(())
        });
    }
    let l1_trade = async {
        if rngs.l1.chance(0.8) {
            let zero_for_one = rngs.l1.chance(0.5);
            let amount = if zero_for_one {
                rngs.l1.range(200.0, 3_000.0)
            } else {
                rngs.l1.range(800.0, 12_000.0)
            };
            l1_swap(world, &cast.l1_trader, zero_for_one, atoms(amount)).await?;
        }
        Ok::<_, anyhow::Error>(())
    };
    let mut a = batches.into_iter();
    let (x, y) = (
        a.next().expect("two L2 markets"),
        a.next().expect("two L2 markets"),
    );
    let (f, x, y, l) = tokio::join!(flow, x, y, l1_trade);
    f?;
    x?;
    y?;
    l?;

    // The markets before arbitrage: the flow and the random trades have pushed them apart.
    samples.push(sample(world, cast, l2s, (t0, round + 0.5), "").await?);

    // Arbitrage against Uniswap's new price.
    let (r0, r1) = world.pair.reserves(&cast.flow.provider).await?;
    let target = (tokens(r1) / tokens(r0)).sqrt();
    let (x, y, l) = tokio::join!(
        arbitrage_l2(&l2s[0], target),
        arbitrage_l2(&l2s[1], target),
        arbitrage_l1(world, &cast.l1_arb, target)
    );
    x?;
    y?;
    l?;
    Ok(())
}

/// The trade that brings a concentrated market at `state` to the square root price `target` (clamped inside
/// its range): `(zero_for_one, amount in)`, or `None` when it is within its fee of the target.
fn arbitrage_trade(state: &MarketState, target: f64, fee: f64) -> Option<(bool, U256)> {
    let pool = &state.pool;
    let s = pool.sqrt_price as f64 / Q64;
    let low = pool.sqrt_min_price as f64 / Q64;
    let high = pool.sqrt_max_price as f64 / Q64;
    let target = target.clamp(low * 1.002, high * 0.998);
    let gap = target / s - 1.0;
    if gap.abs() < fee / 2.0 {
        return None;
    }
    let liquidity: u128 = u128::try_from(pool.liquidity >> 64).unwrap_or(u128::MAX);
    let l = liquidity as f64 / 1e18;
    let (zero_for_one, amount) = if target > s {
        (false, l * (target - s))
    } else {
        (true, l * (1.0 / target - 1.0 / s))
    };
    Some((zero_for_one, atoms(amount * (1.0 + fee))))
}

async fn arbitrage_l2(l2: &L2, target: f64) -> Result<()> {
    if let Some((zero_for_one, amount)) = arbitrage_trade(&l2.soft(), target, 0.004) {
        l2_trade(l2, zero_for_one, true, amount).await?;
    }
    Ok(())
}

async fn arbitrage_l1(world: &World, arb: &Actor, target: f64) -> Result<()> {
    let state = l1_state(world, &arb.provider).await?;
    if let Some((zero_for_one, amount)) = arbitrage_trade(&state, target, 0.004) {
        l1_swap(world, arb, zero_for_one, amount).await?;
    }
    Ok(())
}

async fn l1_state(world: &World, provider: &DynProvider) -> Result<MarketState> {
    let bytes = IMarket::new(world.l1, provider).state().call().await?;
    MarketState::decode(&bytes).map_err(|e| anyhow!("the L1 market's state does not decode: {e:?}"))
}

/// An L1 swap, exact in, no limit (the demo's traders take the price).
async fn l1_swap(world: &World, trader: &Actor, zero_for_one: bool, amount: U256) -> Result<()> {
    let contract = IMarket::new(world.l1, &trader.provider);
    let call = contract.swap(zero_for_one, true, amount, U256::ZERO, Address::ZERO, U256::MAX);
    // A swap beyond the range is refused by the market; the trader just does not trade.
    match trader.send("L1 swap", call.into_transaction_request()).await {
        Ok(_) => Ok(()),
        Err(e) if e.to_string().contains("PriceRangeViolation") => Ok(()),
        Err(e) => Err(e),
    }
}

/// A trade through the operator's HTTP API; the answer goes into the market's book.
async fn l2_trade(l2: &L2, zero_for_one: bool, exact_in: bool, amount: U256) -> Result<Value> {
    let body = json!({
        "zeroForOne": zero_for_one,
        "exactIn": exact_in,
        "amount": amount.to_string(),
    });
    let (status, answer) = http(l2.running.addr, "POST", "/swap", Some(&body)).await?;
    let mut book = l2.book.lock().expect("book lock");
    if status == 200 {
        book.acknowledged += 1;
        let fee: U256 = answer["fee"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| anyhow!("the operator's answer has no fee: {answer}"))?;
        // Concentrated markets (BothToken) take the fee from the output token.
        book.fees[usize::from(zero_for_one)] += fee;
    } else {
        let name = answer["error"].as_str().unwrap_or("unknown").to_string();
        if status >= 500 {
            bail!("the operator of {} failed: {answer}", l2.name);
        }
        *book.refused.entry(name).or_default() += 1;
    }
    Ok(answer)
}

/// One HTTP/1.1 request to an operator's API (`Connection: close`); the status and the JSON body.
async fn http(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Result<(u16, Value)> {
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .with_context(|| format!("cannot reach the operator at {addr}"))?;
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: \
         close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| anyhow!("a malformed HTTP answer from {addr}"))?;
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow!("a malformed HTTP status line from {addr}: {head}"))?;
    let value = serde_json::from_str(body).unwrap_or(Value::Null);
    Ok((status, value))
}

/// Waits until both operators have settled every acknowledged trade.
async fn wait_settled(l2s: &[L2], timeout: Duration) -> Result<()> {
    let start = Instant::now();
    while !l2s.iter().all(L2::settled) {
        if start.elapsed() > timeout {
            let alerts: Vec<String> = l2s
                .iter()
                .flat_map(|l| l.market().alerts.list())
                .map(|(k, m)| format!("{k}: {m}"))
                .collect();
            bail!(
                "the operators did not settle every trade within {timeout:?} (alerts: {})",
                alerts.join("; ")
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// `HF_min` raised to the pool's HF, a whale's sale on `l2`: the vault refuses the operator's batch. The
/// operator holds it (alert `BatchReverted`); once `HF_min` is back at 0.95 it settles.
async fn refusal_scene(
    world: &World,
    cast: &Cast,
    l2: &L2,
    progress: &mut Progress,
) -> Result<Option<RefusedBatch>> {
    let v = IVault::new(world.deployment.vault, &cast.admin.provider);
    let pool = world.pair.address;
    let hf = v.healthFactor(pool).call().await?;
    let hf_min = hf.min(U256::from(HF_ONE));
    cast.admin
        .send("setHfMin", v.setHfMin(pool, hf_min).into_transaction_request())
        .await?;
    // The whale trades to the end of the market's range, in the direction that leaves the vault's raw tokens
    // more unpaired (raw tokens count as √(raw0·raw1), so that lowers HF): selling A when the vault already
    // holds more A than B at Uniswap's price, buying A otherwise.
    let info = v.poolInfo(pool).call().await?;
    let (r0, r1) = world.pair.reserves(&cast.admin.provider).await?;
    let price = tokens(r1) / tokens(r0);
    let sell_a = tokens(info._2) * price >= tokens(info._3);
    let soft = l2.soft();
    let s = soft.pool.sqrt_price as f64 / Q64;
    let low = soft.pool.sqrt_min_price as f64 / Q64 * 1.003;
    let high = soft.pool.sqrt_max_price as f64 / Q64 * 0.997;
    let liquidity = u128::try_from(soft.pool.liquidity >> 64).unwrap_or(u128::MAX) as f64 / 1e18;
    let amount = if sell_a {
        liquidity * (1.0 / low - 1.0 / s).max(0.0)
    } else {
        liquidity * (high - s).max(0.0)
    };
    let answer = l2_trade(l2, sell_a, true, atoms(amount)).await?;
    if answer["trade"].is_null() {
        bail!("the operator refused the whale's trade: {answer}");
    }
    let whale = json!({
        "amountIn": answer["amountIn"],
        "amountOut": answer["amountOut"],
    });
    let start = Instant::now();
    let mut refused = None;
    while start.elapsed() < Duration::from_secs(60) {
        let alert = l2
            .market()
            .alerts
            .list()
            .into_iter()
            .find(|(kind, _)| *kind == "BatchReverted");
        if let Some((_, message)) = alert {
            let engine = l2.market().engine.lock().expect("engine lock");
            let (seq, trades) = engine.inflight().map(|t| (t.seq, t.trades())).unwrap_or_default();
            refused = Some(RefusedBatch {
                market: l2.name.clone(),
                seq,
                trades,
                error: message,
                hf_min: hf_min.to_string(),
                whale_sells_a: sell_a,
                whale_in: whale["amountIn"].as_str().unwrap_or_default().to_string(),
                whale_out: whale["amountOut"].as_str().unwrap_or_default().to_string(),
                settled_after_restore: false,
            });
            break;
        }
        if l2.settled() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    match &refused {
        Some(r) => progress.note(&format!(
            "the vault refused {}'s batch {} ({} trade): {}",
            r.market, r.seq, r.trades, r.error
        )),
        None => progress.note("the whale's batch was not refused (it did not lower HF below HF_min)"),
    }
    cast.admin
        .send(
            "setHfMin",
            v.setHfMin(pool, U256::from(HF_MIN)).into_transaction_request(),
        )
        .await?;
    wait_settled(std::slice::from_ref(l2), Duration::from_secs(60)).await?;
    if let Some(r) = &mut refused {
        r.settled_after_restore = true;
    }
    Ok(refused)
}

/// A point of the report's charts.
async fn sample(
    world: &World,
    cast: &Cast,
    l2s: &[L2],
    (t0, round): (Instant, f64),
    label: &str,
) -> Result<Sample> {
    let p = &cast.admin.provider;
    let (r0, r1) = world.pair.reserves(p).await?;
    let price = tokens(r1) / tokens(r0);
    let mut market_prices = Vec::new();
    for l2 in l2s {
        let soft = l2.soft();
        market_prices.push(price_of(soft.pool.sqrt_price));
    }
    market_prices.push(price_of(l1_state(world, p).await?.pool.sqrt_price));
    let v = IVault::new(world.deployment.vault, p);
    let hf = v.healthFactor(world.pair.address).call().await?;
    let lp = lp_value(world, cast, price).await?;
    Ok(Sample {
        t: t0.elapsed().as_secs_f64(),
        round,
        uniswap_price: price,
        market_prices,
        hf: hf_float(hf),
        lp_damm: lp.damm,
        lp_hold: lp.hold,
        lp_uniswap: lp.uniswap,
        label: label.to_string(),
    })
}

fn hf_float(hf: U256) -> f64 {
    let x: u128 = hf.try_into().unwrap_or(u128::MAX);
    x as f64 / 1e18
}

/// Alice's position valued in B at `price`: in the vault, as if she had held her tokens, as if she had stayed
/// in Uniswap alone.
async fn lp_value(world: &World, cast: &Cast, price: f64) -> Result<LpValue> {
    let p = &cast.admin.provider;
    let v = IVault::new(world.deployment.vault, p);
    let info = v.poolInfo(world.pair.address).call().await?;
    let (raw0, raw1, lp, total) = (info._2, info._3, info._4, info._5);
    let shares = v
        .balanceOf(world.pair.address, cast.alice.address())
        .call()
        .await?;
    let (r0, r1) = world.pair.reserves(p).await?;
    let supply = world.pair.supply(p).await?;
    let part = |x: U256| {
        if total.is_zero() {
            U256::ZERO
        } else {
            x * shares / total
        }
    };
    let a0 = part(raw0) + part(lp) * r0 / supply;
    let a1 = part(raw1) + part(lp) * r1 / supply;
    let u0 = world.alice_lp * r0 / supply;
    let u1 = world.alice_lp * r1 / supply;
    Ok(LpValue {
        damm: tokens(a0) * price + tokens(a1),
        hold: tokens(world.alice_tokens.0) * price + tokens(world.alice_tokens.1),
        uniswap: tokens(u0) * price + tokens(u1),
        shares: shares.to_string(),
        amount0: a0.to_string(),
        amount1: a1.to_string(),
    })
}

/// What the summary is built from.
struct Inputs<'a> {
    args: &'a DemoArgs,
    world: &'a World,
    cast: &'a Cast,
    l2s: &'a [L2],
    samples: Vec<Sample>,
    refused: Option<RefusedBatch>,
    admission_refusal: Option<String>,
    reward_funded: U256,
    reward_claims: Vec<(String, Address, U256)>,
    protocol_accrued: [U256; 2],
    protocol_claimed: [U256; 2],
    chain_id: u64,
    started: Instant,
}

/// Builds the summary from the chain's events and views, and checks that its numbers agree.
async fn summarize(i: Inputs<'_>) -> Result<Summary> {
    let p = &i.cast.admin.provider;
    let world = i.world;
    let mut markets = Vec::new();
    let mut batch_gas = Vec::new();
    let mut l2_swap_gas = Vec::new();
    let mut l1_swap_gas = Vec::new();
    let mut checks = Vec::new();
    let mut receipts: BTreeMap<B256, TransactionReceipt> = BTreeMap::new();
    for entry in &world.deployment.markets {
        let l1 = entry.kind == MarketKind::L1;
        let signature = if l1 {
            MarketEvents::Swapped::SIGNATURE_HASH
        } else {
            MarketEvents::BatchSettled::SIGNATURE_HASH
        };
        let logs = p
            .get_logs(
                &Filter::new()
                    .address(entry.address)
                    .event_signature(signature)
                    .from_block(0),
            )
            .await?;
        let mut fees = FeeSplit::default();
        let (mut swaps, mut batches) = (0u64, 0u64);
        let (mut volume0, mut volume1) = (U256::ZERO, U256::ZERO);
        for log in &logs {
            let (n, flows, lp0, lp1) = if l1 {
                let e = log.log_decode::<MarketEvents::Swapped>()?.inner.data;
                (U256::from(1), e.flows, e.lpFee0, e.lpFee1)
            } else {
                let e = log.log_decode::<MarketEvents::BatchSettled>()?.inner.data;
                (e.swaps, e.flows, e.lpFee0, e.lpFee1)
            };
            let n: u64 = n.try_into().unwrap_or(u64::MAX);
            swaps += n;
            batches += 1;
            volume0 += flows[0] + flows[2];
            volume1 += flows[1] + flows[3];
            fees.add(lp0, lp1, &flows);
            let hash = log
                .transaction_hash
                .ok_or_else(|| anyhow!("a log without its transaction"))?;
            let gas = match receipts.entry(hash) {
                std::collections::btree_map::Entry::Occupied(known) => known.get().gas_used,
                std::collections::btree_map::Entry::Vacant(slot) => {
                    let receipt = p
                        .get_transaction_receipt(hash)
                        .await?
                        .ok_or_else(|| anyhow!("no receipt for {hash}"))?;
                    slot.insert(receipt).gas_used
                }
            };
            if l1 {
                l1_swap_gas.push(gas as f64);
            } else {
                batch_gas.push(gas as f64);
                if n > 0 {
                    l2_swap_gas.push(gas as f64 / n as f64);
                }
            }
        }
        let l2 = i.l2s.iter().find(|l| l.name == entry.name);
        let (acknowledged, refused, fills_fee) = match l2 {
            Some(l2) => {
                let book = l2.book.lock().expect("book lock");
                (
                    Some(book.acknowledged),
                    book.refused.clone(),
                    Some([book.fees[0].to_string(), book.fees[1].to_string()]),
                )
            }
            None => (None, BTreeMap::new(), None),
        };
        if let Some(l2) = l2 {
            let book = l2.book.lock().expect("book lock");
            checks.push(Check::new(
                format!("{}: every acknowledged trade settled", entry.name),
                book.acknowledged == swaps,
                format!(
                    "{} acknowledged, {} in BatchSettled events",
                    book.acknowledged, swaps
                ),
            ));
            let total = fees.total();
            checks.push(Check::new(
                format!(
                    "{}: fees quoted to traders = LP + protocol + referral fees settled",
                    entry.name
                ),
                book.fees == total,
                format!(
                    "quoted {:?}, settled {:?}",
                    book.fees.map(|x| x.to_string()),
                    total.map(|x| x.to_string())
                ),
            ));
        }
        markets.push(MarketSummary {
            name: entry.name.clone(),
            kind: if l1 { "L1" } else { "L2" }.to_string(),
            address: entry.address,
            swaps,
            batches,
            acknowledged,
            refused,
            volume0: volume0.to_string(),
            volume1: volume1.to_string(),
            fees: fees.strings(),
            fills_fee,
        });
    }
    let mut protocol_from_events = [U256::ZERO; 2];
    for m in &markets {
        for (t, total) in protocol_from_events.iter_mut().enumerate() {
            *total += m.fees.protocol[t].parse::<U256>()?;
        }
    }
    checks.push(Check::new(
        "protocol fees in the markets' events = accrued in the vault = claimed".to_string(),
        protocol_from_events == i.protocol_accrued && i.protocol_accrued == i.protocol_claimed,
        format!(
            "events {:?}, accrued {:?}, claimed {:?}",
            protocol_from_events.map(|x| x.to_string()),
            i.protocol_accrued.map(|x| x.to_string()),
            i.protocol_claimed.map(|x| x.to_string())
        ),
    ));

    // Balances: the vault holds exactly what it accounts for.
    let v = IVault::new(world.deployment.vault, p);
    let info = v.poolInfo(world.pair.address).call().await?;
    let vault = world.deployment.vault;
    let claimed: U256 = i.reward_claims.iter().map(|c| c.2).sum();
    let mut reconciliation = Vec::new();
    for (name, token, accounted) in [
        ("token A (token0)", world.pair.token0, info._2),
        ("token B (token1)", world.pair.token1, info._3),
        ("Uniswap LP", world.pair.address, info._4),
        ("reward token", world.reward_token, i.reward_funded - claimed),
    ] {
        let held = chain::balance(p, token, vault).await?;
        let fees = if token == world.pair.token0 || token == world.pair.token1 {
            v.protocolFees(token).call().await?
        } else {
            U256::ZERO
        };
        reconciliation.push(Reconciliation {
            token: name.to_string(),
            address: token,
            vault_balance: held.to_string(),
            accounted: accounted.to_string(),
            protocol_fees: fees.to_string(),
            ok: held == accounted + fees,
        });
    }
    for r in &reconciliation {
        checks.push(Check::new(
            format!("the vault's {} balance = its accounts", r.token),
            r.ok,
            format!(
                "held {}, accounted {} + protocol fees {}",
                r.vault_balance, r.accounted, r.protocol_fees
            ),
        ));
    }
    let holders = [i.cast.alice.address(), i.cast.bob.address()];
    let mut share_sum = U256::ZERO;
    for h in holders {
        share_sum += v.balanceOf(world.pair.address, h).call().await?;
    }
    let dead = v.totalSupply(world.pair.address).call().await? - share_sum;
    checks.push(Check::new(
        "shares: total = Alice + Bob + the locked dead shares".to_string(),
        dead == damm_math::vault::DEAD_SHARES,
        format!("total - holders = {dead}"),
    ));
    checks.push(Check::new(
        "rewards: claimed ≤ funded, something claimed".to_string(),
        claimed <= i.reward_funded && !claimed.is_zero(),
        format!("funded {}, claimed {claimed}", i.reward_funded),
    ));
    checks.push(Check::new(
        "one batch refused for HF_min, then settled".to_string(),
        i.refused
            .as_ref()
            .is_some_and(|r| r.error.contains("HealthFactorTooLow") && r.settled_after_restore),
        i.refused
            .as_ref()
            .map_or("no refusal".to_string(), |r| r.error.clone()),
    ));
    checks.push(Check::new(
        "admission refused the over-large market".to_string(),
        i.admission_refusal
            .as_ref()
            .is_some_and(|e| e.contains("Admission")),
        i.admission_refusal
            .clone()
            .unwrap_or_else(|| "admitted".to_string()),
    ));

    let (r0, r1) = world.pair.reserves(p).await?;
    let price = tokens(r1) / tokens(r0);
    let lp = lp_value(world, i.cast, price).await?;
    let hf_values: Vec<f64> = i.samples.iter().map(|s| s.hf).collect();
    let summary = Summary {
        seed: i.args.seed,
        rounds: i.args.rounds,
        wall_seconds: i.started.elapsed().as_secs_f64(),
        chain_id: i.chain_id,
        vault,
        pair: world.pair.address,
        token0: world.pair.token0,
        token1: world.pair.token1,
        reward_token: world.reward_token,
        markets,
        protocol_claimed: i.protocol_claimed.map(|x| x.to_string()),
        hf_start: hf_values.first().copied().unwrap_or(1.0),
        hf_min_seen: hf_values.iter().copied().fold(f64::INFINITY, f64::min),
        hf_max_seen: hf_values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        hf_end: hf_values.last().copied().unwrap_or(1.0),
        hf_min: hf_float(info._6),
        gas_per_batch: GasStats::of(&batch_gas),
        gas_per_l2_swap: GasStats::of(&l2_swap_gas),
        gas_per_l1_swap: GasStats::of(&l1_swap_gas),
        refused_batch: i.refused,
        admission_refusal: i.admission_refusal,
        reward_funded: i.reward_funded.to_string(),
        reward_claims: i
            .reward_claims
            .iter()
            .map(|(who, address, amount)| (who.clone(), *address, amount.to_string()))
            .collect(),
        lp_end: lp,
        uniswap_price_end: price,
        reconciliation,
        checks,
        samples: i.samples,
        report: std::path::absolute(i.args.out.join("report.html"))?,
        out: std::path::absolute(&i.args.out)?,
    };
    Ok(summary)
}

/// `--serve`: what is running and how to use it, then wait for Ctrl-C.
async fn serve(summary: &Summary, url: &str, cast: &Cast, l2s: &[L2], deployment: &Path) -> Result<()> {
    let deployment = std::path::absolute(deployment)?;
    println!();
    println!("Serving (Ctrl-C stops):");
    println!("  devnode      {url}  (chain {})", summary.chain_id);
    println!("  deployment   {}", deployment.display());
    for l2 in l2s {
        println!("  operator     {}: http://{}", l2.name, l2.running.addr);
    }
    for actor in [&cast.admin, &cast.alice, &cast.bob] {
        println!(
            "  {:<12} {}  key {}",
            actor.role,
            actor.address(),
            B256::from_slice(&actor.key.to_bytes()[..])
        );
    }
    println!();
    println!(
        "  export DAMM_RPC_URL={url} DAMM_DEPLOYMENT={}",
        deployment.display()
    );
    println!("  damm admin status");
    println!("  damm lp status --account {}", cast.alice.address());
    println!(
        "  curl -s http://{}/quote -d '{{\"zeroForOne\":true,\"exactIn\":true,\"amount\":\"1000000000000000000\"}}'",
        l2s[0].running.addr
    );
    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
    Ok(())
}
