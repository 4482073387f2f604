//! `damm admin …`: the vault owner's commands — the state of the vault, its pools and markets; pools and
//! markets created (through [`crate::deploy::deploy`], recorded in the deployment file); markets resized,
//! frozen, limited; `HF_min`, pause, rewards, protocol fees and ownership.
//!
//! Before anything is sent, every command checks what it cheaply can — the signer is the owner, the pool or
//! market is known, addresses hold code, numbers are numbers and in range, the state allows the change — and
//! refuses with a named error, changing nothing. What only the contract can tell comes back as its decoded
//! revert ([`crate::errors`]): the provider estimates every transaction's gas first, so a transaction that
//! would revert is never sent.

use std::path::{Path, PathBuf};

use alloy::{
    primitives::{Address, U256},
    rpc::types::TransactionReceipt,
};
use anyhow::Result;
use clap::{ArgGroup, Args, Subcommand};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::{
    bindings::{IMarket, IVault},
    config::{parse_toml, ChainArgs, ConfigError},
    deploy::{
        deploy, parse_num, spec_location, DeploySpec, MarketSpec, PoolSpec, VaultSpec, DEFAULT_WASM_DIR,
    },
    deployment::{Deployment, MarketEntry, MarketKind},
    lp::{
        describe_worst_case, logs_of, parse_address, parse_int, parse_slot, parse_token_amount, read_error,
        read_view, CommandError, Context, Pool, Token, SHARE_DECIMALS,
    },
    math::{reward::validate_reward_duration, vault::HF_ONE},
    output::{self, note, Columns, KeyValues},
};

/// `--deadline-secs`' default for `damm admin resize`: one hour.
pub const DEFAULT_RESIZE_DEADLINE_SECS: u64 = 3_600;

/// Why an admin command refuses, before anything is sent.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The signer is not the vault's owner.
    #[error("the key's account {signer} is not the vault's owner {owner}: {what} is the owner's to do — nothing was sent")]
    NotOwner {
        /// The signer.
        signer: Address,
        /// The owner.
        owner: Address,
        /// The command.
        what: String,
    },
    /// The signer is not the pending owner.
    #[error("the key's account {signer} is not the vault's pending owner ({pending}): only the account named by `damm admin transfer-ownership` accepts — nothing was sent")]
    NotPendingOwner {
        /// The signer.
        signer: Address,
        /// The pending owner (zero if none).
        pending: Address,
    },
    /// `--hf` is not a health factor in (0, 1].
    #[error("--hf {text}: {reason} (InvalidHfMin) — nothing was sent")]
    BadHealthFactor {
        /// What was given.
        text: String,
        /// What is wrong.
        reason: String,
    },
    /// The market cannot be frozen now.
    #[error("market {market:?} cannot be frozen: {reason} — nothing was sent")]
    CannotFreeze {
        /// The market's name.
        market: String,
        /// Why.
        reason: String,
    },
    /// The market spec file cannot be used.
    #[error("market spec {path}{location}: {message}")]
    MarketSpec {
        /// The file.
        path: PathBuf,
        /// `, line 3, key `mode`` or empty.
        location: String,
        /// What is wrong.
        message: String,
    },
}

// ---- arguments -----------------------------------------------------------------------------------------------

/// `damm admin …`: the vault owner's commands (the signer must be the owner, except where said).
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// The vault, its pools and its markets. Needs no key.
    ///
    /// The vault's owner, pending owner, treasury, guardian and pause; per pool its shares, HF, HF_min, worst
    /// case and protocol fees; per market (those of the deployment file, and any other the vault lists) its
    /// kind, operator, activity, liquidity limit and liquidity, frozen flag, seq and pending resize.
    Status(AdminCommon),
    /// Create a pool for a Uniswap V2 pair and record it in the deployment file.
    ///
    /// --pair, or --token-a/--token-b (their pair, created if absent); optionally its HF_min. Re-running skips
    /// what exists.
    CreatePool(CreatePoolArgs),
    /// Deploy and register a market, and record it in the deployment file.
    ///
    /// --spec is a TOML file holding one `[[markets]]` table in the deploy spec's format (see `damm deploy`);
    /// its `pool` names a pool as `damm lp --pool` does. Re-running finishes what a failed run left.
    CreateMarket(CreateMarketArgs),
    /// Request a new liquidity for a market.
    ///
    /// At most the market's limit in the vault (raise it with set-limit first). An L2 market's operator
    /// applies it by the deadline; an L1 market applies it at once.
    Resize(ResizeArgs),
    /// Freeze a market whose resize request is past its deadline: it settles nothing until unfrozen.
    Freeze(MarketArgs),
    /// Unfreeze a market.
    Unfreeze(MarketArgs),
    /// Set a market's liquidity limit in the vault, and whether it is active.
    ///
    /// Shrinking or deactivating is always allowed; enlarging or activating must pass admission.
    SetLimit(SetLimitArgs),
    /// Set a pool's minimum health factor, a decimal in (0, 1].
    SetHfMin(SetHfMinArgs),
    /// Pause deposits and settlements (the owner or the guardian).
    ///
    /// Withdrawals of free liquidity go on.
    Pause(AdminCommon),
    /// Unpause.
    Unpause(AdminCommon),
    /// Give a pool's reward slot (0 or 1) its token, period length and funder, once.
    RewardInit(RewardInitArgs),
    /// Fund a reward slot, restarting its period.
    ///
    /// The signer must be the slot's funder or the owner; the token is approved as needed.
    RewardFund(RewardFundArgs),
    /// Pay the accrued protocol fees to the treasury.
    ///
    /// In --token, or in every token of every pool with fees due. Any signer may trigger it.
    ClaimFees(ClaimFeesArgs),
    /// Propose a new owner; it takes over with accept-ownership.
    TransferOwnership(TransferOwnershipArgs),
    /// Take over as owner (the signer must be the pending owner).
    AcceptOwnership(AdminCommon),
}

/// The options every `admin` command takes.
#[derive(Debug, Clone, Args)]
pub struct AdminCommon {
    /// The chain, the signer and the deployment file.
    #[command(flatten)]
    pub chain: ChainArgs,
    /// Print one JSON object on stdout instead of tables.
    #[arg(long)]
    pub json: bool,
}

/// Options of `damm admin create-pool`.
#[derive(Debug, Clone, Args)]
#[command(group(ArgGroup::new("which").required(true).args(["pair", "token_a"])))]
pub struct CreatePoolArgs {
    /// Chain, output.
    #[command(flatten)]
    pub common: AdminCommon,
    /// The Uniswap V2 pair.
    #[arg(long, value_name = "ADDRESS", conflicts_with_all = ["token_a", "token_b"])]
    pub pair: Option<String>,
    /// One token of the pair (with --token-b).
    #[arg(long, value_name = "ADDRESS", requires = "token_b")]
    pub token_a: Option<String>,
    /// The other token.
    #[arg(long, value_name = "ADDRESS", requires = "token_a")]
    pub token_b: Option<String>,
    /// The pool's minimum health factor, a decimal in (0, 1] [default: the vault's, 0.95].
    #[arg(long, value_name = "HF")]
    pub hf_min: Option<String>,
    /// The compiled programs (only needed if the deployment lacks its market-admin program).
    #[arg(long, value_name = "DIR", default_value = DEFAULT_WASM_DIR)]
    pub wasm_dir: PathBuf,
}

/// Options of `damm admin create-market`.
#[derive(Debug, Clone, Args)]
pub struct CreateMarketArgs {
    /// Chain, output.
    #[command(flatten)]
    pub common: AdminCommon,
    /// A TOML file with one `[[markets]]` table (name, pool, operator, kind, mode, prices, liquidity, fees).
    #[arg(long, value_name = "FILE")]
    pub spec: PathBuf,
    /// The compiled programs (`scripts/build-contracts.sh` writes them there).
    #[arg(long, value_name = "DIR", default_value = DEFAULT_WASM_DIR)]
    pub wasm_dir: PathBuf,
}

/// Options of the commands on one market.
#[derive(Debug, Clone, Args)]
pub struct MarketArgs {
    /// Chain, output.
    #[command(flatten)]
    pub common: AdminCommon,
    /// The market: its name in the deployment file, or its address.
    #[arg(long, value_name = "MARKET")]
    pub market: String,
}

/// Options of `damm admin resize`.
#[derive(Debug, Clone, Args)]
pub struct ResizeArgs {
    /// Chain, output, market.
    #[command(flatten)]
    pub market: MarketArgs,
    /// The new liquidity, 2^64-scaled as in the deploy spec ("1844674407370955161600000", "0x…"); 0 withdraws
    /// the request.
    #[arg(long, value_name = "L")]
    pub liquidity: String,
    /// Seconds from now the operator has to apply it (L2 markets).
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_RESIZE_DEADLINE_SECS.to_string())]
    pub deadline_secs: String,
}

/// Options of `damm admin set-limit`.
#[derive(Debug, Clone, Args)]
pub struct SetLimitArgs {
    /// Chain, output, market.
    #[command(flatten)]
    pub market: MarketArgs,
    /// The liquidity limit, 2^64-scaled as in the deploy spec.
    #[arg(long, value_name = "L")]
    pub limit: String,
    /// Deactivate the market (the vault refuses its settlements) instead of keeping or making it active.
    #[arg(long)]
    pub inactive: bool,
}

/// Options of the commands on one pool.
#[derive(Debug, Clone, Args)]
pub struct PoolArgs {
    /// Chain, output.
    #[command(flatten)]
    pub common: AdminCommon,
    /// The pool (as `damm lp --pool`).
    #[arg(long, value_name = "POOL")]
    pub pool: Option<String>,
}

/// Options of `damm admin set-hf-min`.
#[derive(Debug, Clone, Args)]
pub struct SetHfMinArgs {
    /// Chain, output, pool.
    #[command(flatten)]
    pub pool: PoolArgs,
    /// The minimum health factor, a decimal in (0, 1] (0.95).
    #[arg(long, value_name = "HF")]
    pub hf: String,
}

/// Options of `damm admin reward-init`.
#[derive(Debug, Clone, Args)]
pub struct RewardInitArgs {
    /// Chain, output, pool.
    #[command(flatten)]
    pub pool: PoolArgs,
    /// The slot: 0 or 1.
    #[arg(long, value_name = "N")]
    pub index: String,
    /// The reward token: an address, or token0 / token1 of the pool.
    #[arg(long, value_name = "TOKEN")]
    pub token: String,
    /// The length of each reward period, in seconds (1 day to 1 year).
    #[arg(long, value_name = "SECONDS")]
    pub duration_secs: String,
    /// Who may fund the slot besides the owner [default: the signer].
    #[arg(long, value_name = "ADDRESS")]
    pub funder: Option<String>,
}

/// Options of `damm admin reward-fund`.
#[derive(Debug, Clone, Args)]
pub struct RewardFundArgs {
    /// Chain, output, pool.
    #[command(flatten)]
    pub pool: PoolArgs,
    /// The slot: 0 or 1.
    #[arg(long, value_name = "N")]
    pub index: String,
    /// How much of the reward token, in whole tokens (1.5) or base units (1500wei).
    #[arg(long, value_name = "AMOUNT")]
    pub amount: String,
    /// Add what streamed while the pool had no shares to the new period.
    #[arg(long)]
    pub carry_forward: bool,
}

/// Options of `damm admin claim-fees`.
#[derive(Debug, Clone, Args)]
pub struct ClaimFeesArgs {
    /// Chain, output.
    #[command(flatten)]
    pub common: AdminCommon,
    /// Only this token [default: both tokens of every pool, where fees are due].
    #[arg(long, value_name = "ADDRESS")]
    pub token: Option<String>,
}

/// Options of `damm admin transfer-ownership`.
#[derive(Debug, Clone, Args)]
pub struct TransferOwnershipArgs {
    /// Chain, output.
    #[command(flatten)]
    pub common: AdminCommon,
    /// The proposed owner.
    #[arg(long, value_name = "ADDRESS")]
    pub to: String,
}

/// Runs `damm admin …`.
///
/// # Errors
///
/// A named [`CommandError`] or [`AdminError`] (or a configuration or deployment error).
pub async fn run(command: AdminCommand) -> Result<()> {
    match command {
        AdminCommand::Status(args) => status(args).await,
        AdminCommand::CreatePool(args) => create_pool(args).await,
        AdminCommand::CreateMarket(args) => create_market(args).await,
        AdminCommand::Resize(args) => resize(args).await,
        AdminCommand::Freeze(args) => set_frozen(args, true).await,
        AdminCommand::Unfreeze(args) => set_frozen(args, false).await,
        AdminCommand::SetLimit(args) => set_limit(args).await,
        AdminCommand::SetHfMin(args) => set_hf_min(args).await,
        AdminCommand::Pause(args) => set_paused(args, true).await,
        AdminCommand::Unpause(args) => set_paused(args, false).await,
        AdminCommand::RewardInit(args) => reward_init(args).await,
        AdminCommand::RewardFund(args) => reward_fund(args).await,
        AdminCommand::ClaimFees(args) => claim_fees(args).await,
        AdminCommand::TransferOwnership(args) => transfer_ownership(args).await,
        AdminCommand::AcceptOwnership(args) => accept_ownership(args).await,
    }
}

// ---- shared --------------------------------------------------------------------------------------------------

/// The signer, checked to be the vault's owner.
async fn require_owner(ctx: &Context, what: &str) -> Result<Address> {
    let signer = ctx.client.require_signer(what)?;
    let owner = read_view(ctx.vault.owner(), "the vault's owner()").await?;
    if signer != owner {
        return Err(AdminError::NotOwner {
            signer,
            owner,
            what: what.to_string(),
        }
        .into());
    }
    Ok(signer)
}

/// Parses a health factor: a decimal in (0, 1], as 1e18 fixed point.
///
/// # Errors
///
/// [`AdminError::BadHealthFactor`].
pub fn parse_hf(text: &str) -> Result<U256, AdminError> {
    let bad = |reason: String| AdminError::BadHealthFactor {
        text: text.to_string(),
        reason,
    };
    let t = text.trim();
    if t.to_ascii_lowercase().ends_with("wei") || t.to_ascii_lowercase().ends_with("atoms") {
        return Err(bad("give a decimal such as 0.95".into()));
    }
    let hf = parse_token_amount("--hf", t, 18).map_err(|e| match e {
        CommandError::BadNumber { reason, .. } => bad(reason),
        other => bad(other.to_string()),
    })?;
    if hf.is_zero() || hf > HF_ONE {
        return Err(bad(format!(
            "{t} is not in (0, 1]: HF_min is the health factor (liquidity per share) settlements may not go below"
        )));
    }
    Ok(hf)
}

/// A market of the deployment, checked to hold code.
async fn market(ctx: &Context, key: &str) -> Result<MarketEntry, CommandError> {
    let entry = ctx.deployment.market(key)?.clone();
    ctx.client
        .require_code(entry.address, &format!("market {:?}", entry.name))
        .await?;
    Ok(entry)
}

/// The context of a command on one market (`what`): the market resolved, the signer checked to be the owner.
async fn owned_market(args: &MarketArgs, what: &str) -> Result<(Context, MarketEntry)> {
    let ctx = Context::open(&args.common.chain).await?;
    let entry = market(&ctx, &args.market).await?;
    require_owner(&ctx, what).await?;
    Ok((ctx, entry))
}

/// The context of a command on one pool, and the pool.
async fn open_pool(args: &PoolArgs) -> Result<(Context, Pool)> {
    let ctx = Context::open(&args.common.chain).await?;
    let pool = ctx.pool(args.pool.as_deref()).await?;
    Ok((ctx, pool))
}

/// The vault's `marketInfo` of `entry`, refused (`UnknownMarket`) when the vault has not registered it.
async fn registered_market_info(
    ctx: &Context,
    entry: &MarketEntry,
) -> Result<IVault::marketInfoReturn, CommandError> {
    let info = read_view(ctx.vault.marketInfo(entry.address), "the vault's marketInfo").await?;
    if info._0.is_zero() {
        return Err(CommandError::Refused(format!(
            "market {:?} is not registered with the vault (UnknownMarket)",
            entry.name
        )));
    }
    Ok(info)
}

/// The vault's reward slot `index` of `pool` (`rewardInfo`).
async fn reward_slot(
    ctx: &Context,
    pool: &Pool,
    index: u64,
) -> Result<IVault::rewardInfoReturn, CommandError> {
    read_view(
        ctx.vault.rewardInfo(pool.pair, U256::from(index)),
        "the vault's rewardInfo",
    )
    .await
}

/// A 2^64-scaled liquidity flag.
fn parse_liquidity(flag: &str, text: &str) -> Result<U256, CommandError> {
    parse_num(text).map_err(|reason| CommandError::BadNumber {
        flag: flag.to_string(),
        reason,
    })
}

/// Prints a command's outcome: `json` as the JSON document, else `table`.
fn finish(json_mode: bool, json: Value, table: &KeyValues) {
    if json_mode {
        output::print_json(&json);
    } else {
        table.print();
    }
}

/// [`finish`] for a command that sent `receipt`'s transaction: its hash is the table's last row and the
/// JSON's `tx`.
fn finish_sent(json_mode: bool, mut json: Value, mut table: KeyValues, receipt: &TransactionReceipt) {
    let tx = receipt.transaction_hash.to_string();
    table.row("transaction", tx.clone());
    json["tx"] = Value::String(tx);
    finish(json_mode, json, &table);
}

// ---- status --------------------------------------------------------------------------------------------------

async fn status(args: AdminCommon) -> Result<()> {
    let ctx = Context::open(&args.chain).await?;
    let vault = &ctx.vault;
    let d = &ctx.deployment;
    let owner = read_view(vault.owner(), "the vault's owner()").await?;
    let pending = read_view(vault.pendingOwner(), "the vault's pendingOwner()").await?;
    let treasury = read_view(vault.treasury(), "the vault's treasury()").await?;
    let guardian = read_view(vault.guardian(), "the vault's guardian()").await?;
    let paused = read_view(vault.paused(), "the vault's paused()").await?;

    let mut pools_json = Vec::new();
    let mut pools_table = Columns::new([
        "#",
        "pair",
        "tokens",
        "shares",
        "HF",
        "HF_min",
        "worst case",
        "fees token0",
        "fees token1",
    ]);
    let mut markets_json = Vec::new();
    let mut markets_table = Columns::new([
        "market",
        "address",
        "kind",
        "operator",
        "active",
        "limit",
        "liquidity",
        "frozen",
        "seq",
        "resize",
    ]);
    let mut listed: Vec<MarketEntry> = d.markets.clone();
    for (i, entry) in d.pools.iter().enumerate() {
        let pool = ctx.pool(Some(&entry.pair.to_string())).await?;
        let info = read_view(vault.poolInfo(pool.pair), "the vault's poolInfo").await?;
        let hf = read_view(vault.healthFactor(pool.pair), "the vault's healthFactor").await?;
        let worst = read_view(vault.worstCase(pool.pair), "the vault's worstCase").await?;
        let fees0 = read_view(
            vault.protocolFees(pool.token0.address),
            "the vault's protocolFees",
        )
        .await?;
        let fees1 = read_view(
            vault.protocolFees(pool.token1.address),
            "the vault's protocolFees",
        )
        .await?;
        pools_table.row([
            format!("{i}"),
            pool.pair.to_string(),
            format!("{}/{}", pool.token0.symbol, pool.token1.symbol),
            output::units(info._5, SHARE_DECIMALS),
            output::hf(hf),
            output::hf(info._6),
            describe_worst_case(worst._0, worst._1, worst._2),
            pool.token0.show(fees0),
            pool.token1.show(fees1),
        ]);
        pools_json.push(json!({
            "index": i,
            "pair": output::address(pool.pair),
            "token0": pool.token0.describe(),
            "token1": pool.token1.describe(),
            "totalShares": output::amount(info._5, SHARE_DECIMALS),
            "raw0": pool.token0.json(info._2),
            "raw1": pool.token1.json(info._3),
            "lp": pool.lp.json(info._4),
            "healthFactor": output::amount(hf, output::HF_DECIMALS),
            "hfMin": output::amount(info._6, output::HF_DECIMALS),
            "worstCase": {
                "covered": worst._0,
                "up": worst._1,
                "healthFactor": output::amount(worst._2, output::HF_DECIMALS),
            },
            "protocolFees": {
                "token0": pool.token0.json(fees0),
                "token1": pool.token1.json(fees1),
            },
        }));
        // Markets the vault lists for the pool that the deployment file does not.
        let registered = read_view(vault.poolMarkets(pool.pair), "the vault's poolMarkets").await?;
        for address in registered {
            if listed.iter().all(|m| m.address != address) {
                listed.push(MarketEntry {
                    name: String::new(),
                    address,
                    pool: pool.pair,
                    ..MarketEntry::default()
                });
            }
        }
    }
    for entry in &listed {
        let m = IMarket::new(entry.address, ctx.provider().clone());
        let what = |f: &str| read_error(format!("market {}'s {f}", entry.address));
        ctx.client
            .require_code(entry.address, &format!("market {:?}", entry.name))
            .await?;
        let info = read_view(vault.marketInfo(entry.address), "the vault's marketInfo").await?;
        let operator = m.operator().call().await.map_err(what("operator()"))?;
        let l1 = m.isL1().call().await.map_err(what("isL1()"))?;
        let frozen = m.frozen().call().await.map_err(what("frozen()"))?;
        let seq = m.seq().call().await.map_err(what("seq()"))?;
        let resize = m.pendingResize().call().await.map_err(what("pendingResize()"))?;
        let registered = !info._0.is_zero();
        let kind = if l1 { "l1" } else { "l2" };
        let name = if entry.name.is_empty() {
            "(not in the deployment file)".to_string()
        } else {
            entry.name.clone()
        };
        markets_table.row([
            name.clone(),
            entry.address.to_string(),
            kind.to_string(),
            operator.to_string(),
            if !registered {
                "unregistered".to_string()
            } else {
                info._2.to_string()
            },
            info._6.to_string(),
            info._7.1.to_string(),
            frozen.to_string(),
            seq.to_string(),
            if resize._0.is_zero() {
                "-".to_string()
            } else {
                format!("{} by {}", resize._0, resize._1)
            },
        ]);
        markets_json.push(json!({
            "name": if entry.name.is_empty() { Value::Null } else { Value::String(entry.name.clone()) },
            "address": output::address(entry.address),
            "pool": output::address(if registered { info._0 } else { entry.pool }),
            "kind": kind,
            "operator": output::address(operator),
            "registered": registered,
            "active": info._2,
            "compounding": info._3,
            "liquidityLimit": output::raw(info._6),
            "liquidity": output::raw(info._7.1),
            "frozen": frozen,
            "seq": seq,
            "pendingResize": if resize._0.is_zero() {
                Value::Null
            } else {
                json!({ "liquidity": output::raw(resize._0), "deadline": resize._1 })
            },
        }));
    }

    if args.json {
        output::print_json(&json!({
            "vault": output::address(d.vault),
            "chainId": ctx.client.chain_id,
            "factory": output::address(d.factory),
            "owner": output::address(owner),
            "pendingOwner": if pending.is_zero() { Value::Null } else { output::address(pending) },
            "treasury": output::address(treasury),
            "guardian": output::address(guardian),
            "paused": paused,
            "pools": pools_json,
            "markets": markets_json,
        }));
    } else {
        let mut t = KeyValues::titled(format!("vault {} on chain {}", d.vault, ctx.client.chain_id));
        t.row("owner", owner.to_string())
            .row(
                "pending owner",
                if pending.is_zero() {
                    "-".to_string()
                } else {
                    pending.to_string()
                },
            )
            .row("treasury", treasury.to_string())
            .row("guardian", guardian.to_string())
            .row("paused", paused.to_string())
            .row("factory", d.factory.to_string());
        t.print();
        println!("\npools");
        pools_table.print();
        println!("\nmarkets");
        if markets_table.is_empty() {
            println!("(none)");
        } else {
            markets_table.print();
        }
    }
    Ok(())
}

// ---- pools and markets ---------------------------------------------------------------------------------------

/// Deploys `pools` and `markets` on the deployment's vault (what exists is skipped) and records them in the
/// deployment file; returns the deployment as written.
async fn deploy_more(
    ctx: &Context,
    pools: Vec<PoolSpec>,
    markets: Vec<MarketSpec>,
    wasm_dir: &Path,
) -> Result<Deployment> {
    let spec = DeploySpec {
        activation_value: None,
        gas_limit: None,
        vault: VaultSpec {
            factory: ctx.deployment.factory,
            owner: None,
            treasury: None,
            guardian: None,
        },
        pools,
        markets,
    };
    let written = deploy(&ctx.client, &spec, wasm_dir, &ctx.deployment_path, &mut |line| {
        note(line)
    })
    .await?;
    Ok(written)
}

async fn create_pool(args: CreatePoolArgs) -> Result<()> {
    let ctx = Context::open(&args.common.chain).await?;
    let hf_min = args.hf_min.as_deref().map(parse_hf).transpose()?;
    let mut spec_pool = PoolSpec {
        hf_min,
        ..PoolSpec::default()
    };
    if let Some(pair) = &args.pair {
        let pair = parse_address("--pair", pair)?;
        ctx.client.require_code(pair, "Uniswap V2 pair").await?;
        spec_pool.pair = Some(pair);
    } else if let (Some(a), Some(b)) = (&args.token_a, &args.token_b) {
        let (a, b) = (parse_address("--token-a", a)?, parse_address("--token-b", b)?);
        if a == b {
            return Err(CommandError::Refused("--token-a and --token-b are the same token".into()).into());
        }
        ctx.client.require_code(a, "token (--token-a)").await?;
        ctx.client.require_code(b, "token (--token-b)").await?;
        spec_pool.token_a = Some(a);
        spec_pool.token_b = Some(b);
    }
    require_owner(&ctx, "damm admin create-pool").await?;
    let d = deploy_more(&ctx, vec![spec_pool], Vec::new(), &args.wasm_dir).await?;
    // The pool is the one the file did not have, or the one the spec named.
    let entry = d
        .pools
        .iter()
        .find(|p| Some(p.pair) == args.pair.as_deref().and_then(|t| t.parse().ok()))
        .or_else(|| d.pools.iter().find(|p| ctx.deployment.pool(p.pair).is_none()))
        .or_else(|| {
            let (a, b) = (args.token_a.as_deref()?, args.token_b.as_deref()?);
            let (a, b): (Address, Address) = (a.parse().ok()?, b.parse().ok()?);
            d.pools
                .iter()
                .find(|p| (p.token0, p.token1) == (a.min(b), a.max(b)))
        })
        .cloned()
        .ok_or_else(|| CommandError::Refused("the deployment file records no such pool".into()))?;
    let info = read_view(ctx.vault.poolInfo(entry.pair), "the vault's poolInfo").await?;
    let index = d.pools.iter().position(|p| p.pair == entry.pair).unwrap_or(0);
    let mut t = KeyValues::titled("pool");
    t.row("index", index.to_string())
        .row("pair", entry.pair.to_string())
        .row("token0", entry.token0.to_string())
        .row("token1", entry.token1.to_string())
        .row("HF_min", output::hf(info._6))
        .row("deployment file", ctx.deployment_path.display().to_string());
    finish(
        args.common.json,
        json!({
            "index": index,
            "pair": output::address(entry.pair),
            "token0": output::address(entry.token0),
            "token1": output::address(entry.token1),
            "hfMin": output::amount(info._6, output::HF_DECIMALS),
            "deployment": ctx.deployment_path.display().to_string(),
        }),
        &t,
    );
    Ok(())
}

/// The market spec file: exactly one `[[markets]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MarketFile {
    markets: Vec<MarketSpec>,
}

/// Reads the market spec file.
fn load_market_spec(path: &Path) -> Result<MarketSpec, AdminError> {
    let invalid = |location: String, message: String| AdminError::MarketSpec {
        path: path.to_path_buf(),
        location,
        message,
    };
    let text =
        std::fs::read_to_string(path).map_err(|e| invalid(String::new(), format!("cannot read it: {e}")))?;
    let file: MarketFile = parse_toml(path, &text).map_err(|e| match e {
        ConfigError::ConfigInvalid {
            line, key, message, ..
        } => invalid(spec_location(line, key.as_deref()), message),
        other => invalid(String::new(), other.to_string()),
    })?;
    match <[MarketSpec; 1]>::try_from(file.markets) {
        Ok([market]) => Ok(market),
        Err(markets) => Err(invalid(
            String::new(),
            format!("it holds {} [[markets]] tables, give exactly one", markets.len()),
        )),
    }
}

async fn create_market(args: CreateMarketArgs) -> Result<()> {
    let mut market = load_market_spec(&args.spec)?;
    let ctx = Context::open(&args.common.chain).await?;
    let pool = ctx.pool(Some(&market.pool)).await?;
    market.pool = pool.pair.to_string();
    if let Some(operator) = market.operator {
        if operator.is_zero() {
            return Err(CommandError::Refused(format!(
                "market {:?}: the operator is the zero address",
                market.name
            ))
            .into());
        }
    }
    require_owner(&ctx, "damm admin create-market").await?;
    let name = market.name.clone();
    let d = deploy_more(&ctx, Vec::new(), vec![market], &args.wasm_dir).await?;
    let entry = d
        .markets
        .iter()
        .find(|m| m.name == name)
        .cloned()
        .ok_or_else(|| CommandError::Refused(format!("the deployment file records no market {name:?}")))?;
    let info = read_view(ctx.vault.marketInfo(entry.address), "the vault's marketInfo").await?;
    let kind = match entry.kind {
        MarketKind::L2 => "l2",
        MarketKind::L1 => "l1",
    };
    let mut t = KeyValues::titled(format!("market {name:?}"));
    t.row("address", entry.address.to_string())
        .row("kind", kind)
        .row("pool", pool.label())
        .row("operator", entry.operator.to_string())
        .row("liquidity limit", info._6.to_string())
        .row("liquidity", info._7.1.to_string())
        .row("deployment file", ctx.deployment_path.display().to_string());
    finish(
        args.common.json,
        json!({
            "name": name,
            "address": output::address(entry.address),
            "kind": kind,
            "pool": output::address(pool.pair),
            "operator": output::address(entry.operator),
            "liquidityLimit": output::raw(info._6),
            "liquidity": output::raw(info._7.1),
            "deployment": ctx.deployment_path.display().to_string(),
        }),
        &t,
    );
    Ok(())
}

async fn resize(args: ResizeArgs) -> Result<()> {
    let liquidity = parse_liquidity("--liquidity", &args.liquidity)?;
    let secs = parse_int("--deadline-secs", &args.deadline_secs)?;
    let (ctx, entry) = owned_market(&args.market, "damm admin resize").await?;
    let info = registered_market_info(&ctx, &entry).await?;
    if liquidity > info._6 {
        return Err(CommandError::Refused(format!(
            "market {:?}: liquidity {liquidity} exceeds the limit {} the vault admitted it with \
             (ResizeNotAdmitted): raise the limit first with `damm admin set-limit`",
            entry.name, info._6
        ))
        .into());
    }
    let deadline = ctx.now().await?.saturating_add(secs);
    let m = IMarket::new(entry.address, ctx.provider().clone());
    note(format!(
        "requesting liquidity {liquidity} for market {:?}, to be applied by {deadline} …",
        entry.name
    ));
    let receipt = ctx
        .send_call("requestResize", m.requestResize(liquidity, deadline))
        .await?;
    let pending = read_view(m.pendingResize(), "the market's pendingResize()").await?;
    let l1 = entry.kind == MarketKind::L1;
    let mut t = KeyValues::titled(format!("market {:?}", entry.name));
    if l1 {
        t.row("resized", format!("liquidity {liquidity}, applied at once (L1)"));
    } else if liquidity.is_zero() {
        t.row("resize", "request withdrawn");
    } else {
        t.row(
            "pending resize",
            format!("liquidity {} by timestamp {}", pending._0, pending._1),
        );
    }
    finish_sent(
        args.market.common.json,
        json!({
            "market": entry.name,
            "address": output::address(entry.address),
            "liquidity": output::raw(liquidity),
            "appliedAtOnce": l1 && !liquidity.is_zero(),
            "pendingResize": { "liquidity": output::raw(pending._0), "deadline": pending._1 },
        }),
        t,
        &receipt,
    );
    Ok(())
}

async fn set_frozen(args: MarketArgs, frozen: bool) -> Result<()> {
    let what = if frozen {
        "damm admin freeze"
    } else {
        "damm admin unfreeze"
    };
    let (ctx, entry) = owned_market(&args, what).await?;
    let m = IMarket::new(entry.address, ctx.provider().clone());
    let now_frozen = read_view(m.frozen(), "the market's frozen()").await?;
    let json_out = |tx: Option<String>| {
        json!({
            "market": entry.name,
            "address": output::address(entry.address),
            "frozen": frozen,
            "changed": tx.is_some(),
            "tx": tx,
        })
    };
    if now_frozen == frozen {
        let state = if frozen { "frozen" } else { "not frozen" };
        note(format!(
            "market {:?} is {state} already: nothing to do",
            entry.name
        ));
        let mut t = KeyValues::titled(format!("market {:?}", entry.name));
        t.row("frozen", frozen.to_string());
        finish(args.common.json, json_out(None), &t);
        return Ok(());
    }
    if frozen {
        let pending = read_view(m.pendingResize(), "the market's pendingResize()").await?;
        if pending._0.is_zero() {
            return Err(AdminError::CannotFreeze {
                market: entry.name.clone(),
                reason:
                    "no resize is pending (NoPendingResize): a market is frozen only when a resize requested \
                         with `damm admin resize` is left unapplied past its deadline"
                        .into(),
            }
            .into());
        }
        let now = ctx.now().await?;
        if now < pending._1 {
            return Err(AdminError::CannotFreeze {
                market: entry.name.clone(),
                reason: format!(
                    "the resize to liquidity {} is due by timestamp {}, {} s from now (ResizeNotOverdue): its \
                     operator may still apply it",
                    pending._0,
                    pending._1,
                    pending._1 - now
                ),
            }
            .into());
        }
    }
    let receipt = ctx
        .send_call(
            if frozen { "freezing" } else { "unfreezing" },
            m.setFrozen(frozen),
        )
        .await?;
    let mut t = KeyValues::titled(format!("market {:?}", entry.name));
    t.row("frozen", frozen.to_string());
    finish_sent(
        args.common.json,
        json_out(Some(receipt.transaction_hash.to_string())),
        t,
        &receipt,
    );
    Ok(())
}

async fn set_limit(args: SetLimitArgs) -> Result<()> {
    let limit = parse_liquidity("--limit", &args.limit)?;
    let (ctx, entry) = owned_market(&args.market, "damm admin set-limit").await?;
    let info = registered_market_info(&ctx, &entry).await?;
    let active = !args.inactive;
    if limit < info._7.1 && active {
        note(format!(
            "note: the market's liquidity {} is above the new limit: the vault refuses its settlements \
             (MarketOutOfBounds) until it is resized",
            info._7.1
        ));
    }
    let receipt = ctx
        .send_call(
            "updateMarket",
            ctx.vault.updateMarket(entry.address, limit, active),
        )
        .await?;
    let mut t = KeyValues::titled(format!("market {:?}", entry.name));
    t.row("liquidity limit", format!("{limit} (was {})", info._6))
        .row("active", format!("{active} (was {})", info._2));
    finish_sent(
        args.market.common.json,
        json!({
            "market": entry.name,
            "address": output::address(entry.address),
            "liquidityLimit": output::raw(limit),
            "previousLimit": output::raw(info._6),
            "active": active,
        }),
        t,
        &receipt,
    );
    Ok(())
}

async fn set_hf_min(args: SetHfMinArgs) -> Result<()> {
    let hf = parse_hf(&args.hf)?;
    let (ctx, pool) = open_pool(&args.pool).await?;
    require_owner(&ctx, "damm admin set-hf-min").await?;
    let before = read_view(ctx.vault.poolInfo(pool.pair), "the vault's poolInfo")
        .await?
        ._6;
    let receipt = ctx
        .send_call("setHfMin", ctx.vault.setHfMin(pool.pair, hf))
        .await?;
    let mut t = KeyValues::titled(format!("pool {}", pool.label()));
    t.row(
        "HF_min",
        format!("{} (was {})", output::hf(hf), output::hf(before)),
    );
    finish_sent(
        args.pool.common.json,
        json!({
            "pool": output::address(pool.pair),
            "hfMin": output::amount(hf, output::HF_DECIMALS),
            "previous": output::amount(before, output::HF_DECIMALS),
        }),
        t,
        &receipt,
    );
    Ok(())
}

async fn set_paused(args: AdminCommon, paused: bool) -> Result<()> {
    let ctx = Context::open(&args.chain).await?;
    let what = if paused {
        "damm admin pause"
    } else {
        "damm admin unpause"
    };
    let signer = ctx.client.require_signer(what)?;
    let owner = read_view(ctx.vault.owner(), "the vault's owner()").await?;
    let guardian = read_view(ctx.vault.guardian(), "the vault's guardian()").await?;
    if signer != owner && !(paused && signer == guardian) {
        let who = if paused {
            format!(" nor its guardian {guardian}")
        } else {
            String::new()
        };
        return Err(CommandError::Refused(format!(
            "the key's account {signer} is not the vault's owner {owner}{who}: {what} is refused (Unauthorized)"
        ))
        .into());
    }
    let now = read_view(ctx.vault.paused(), "the vault's paused()").await?;
    let mut t = KeyValues::new();
    t.row("paused", paused.to_string());
    if now == paused {
        note(format!(
            "the vault is {} already: nothing to do",
            if paused { "paused" } else { "not paused" }
        ));
        finish(
            args.json,
            json!({ "paused": paused, "changed": false, "tx": Value::Null }),
            &t,
        );
        return Ok(());
    }
    let receipt = ctx
        .send_call(
            if paused { "pausing" } else { "unpausing" },
            ctx.vault.setPaused(paused),
        )
        .await?;
    finish_sent(
        args.json,
        json!({
            "paused": paused,
            "changed": true,
        }),
        t,
        &receipt,
    );
    Ok(())
}

// ---- rewards -------------------------------------------------------------------------------------------------

/// A reward token flag: an address, or `token0`/`token1` of the pool.
async fn reward_token(ctx: &Context, pool: &Pool, text: &str) -> Result<Token, CommandError> {
    match text.trim().to_ascii_lowercase().as_str() {
        "token0" => Ok(pool.token0.clone()),
        "token1" => Ok(pool.token1.clone()),
        _ => {
            let address = parse_address("--token", text)?;
            ctx.client.require_code(address, "reward token (--token)").await?;
            ctx.token(address).await
        }
    }
}

async fn reward_init(args: RewardInitArgs) -> Result<()> {
    let index = parse_slot("--index", &args.index)?;
    let duration = parse_int("--duration-secs", &args.duration_secs)?;
    if validate_reward_duration(duration).is_err() {
        use crate::math::constants::{MAX_REWARD_DURATION, MIN_REWARD_DURATION};
        return Err(CommandError::BadNumber {
            flag: "--duration-secs".into(),
            reason: format!(
                "{duration} is not between {MIN_REWARD_DURATION} (1 day) and {MAX_REWARD_DURATION} (1 year) \
                 seconds (InvalidRewardDuration)"
            ),
        }
        .into());
    }
    let funder = args
        .funder
        .as_deref()
        .map(|t| parse_address("--funder", t))
        .transpose()?;
    let (ctx, pool) = open_pool(&args.pool).await?;
    let token = reward_token(&ctx, &pool, &args.token).await?;
    let signer = require_owner(&ctx, "damm admin reward-init").await?;
    let funder = funder.unwrap_or(signer);
    let slot = reward_slot(&ctx, &pool, index).await?;
    if !slot._0.is_zero() {
        return Err(CommandError::Refused(format!(
            "reward slot {index} of {} is initialized already, with token {} and funder {} (InvalidReward)",
            pool.label(),
            slot._0,
            slot._1
        ))
        .into());
    }
    let receipt = ctx
        .send_call(
            "initializeReward",
            ctx.vault
                .initializeReward(pool.pair, U256::from(index), token.address, duration, funder),
        )
        .await?;
    let mut t = KeyValues::titled(format!("reward slot {index} of {}", pool.label()));
    t.row("token", format!("{} ({})", token.symbol, token.address))
        .row("period", format!("{duration} s"))
        .row("funder", funder.to_string());
    finish_sent(
        args.pool.common.json,
        json!({
            "pool": output::address(pool.pair),
            "index": index,
            "token": token.describe(),
            "durationSecs": duration,
            "funder": output::address(funder),
        }),
        t,
        &receipt,
    );
    Ok(())
}

async fn reward_fund(args: RewardFundArgs) -> Result<()> {
    let index = parse_slot("--index", &args.index)?;
    let (ctx, pool) = open_pool(&args.pool).await?;
    let signer = ctx.client.require_signer("damm admin reward-fund")?;
    let slot = reward_slot(&ctx, &pool, index).await?;
    if slot._0.is_zero() {
        return Err(CommandError::Refused(format!(
            "reward slot {index} of {} is not initialized: run `damm admin reward-init` first (InvalidReward)",
            pool.label()
        ))
        .into());
    }
    let token = ctx.token(slot._0).await?;
    let amount = parse_token_amount("--amount", &args.amount, token.decimals)?;
    if amount.is_zero() {
        return Err(CommandError::Refused("--amount: funding zero changes nothing".into()).into());
    }
    let owner = read_view(ctx.vault.owner(), "the vault's owner()").await?;
    if signer != slot._1 && signer != owner {
        return Err(CommandError::Refused(format!(
            "the key's account {signer} is neither the slot's funder {} nor the vault's owner {owner} (Unauthorized)",
            slot._1
        ))
        .into());
    }
    ctx.require_unpaused("funding a reward").await?;
    ctx.require_balance(&token, signer, amount, "the funding").await?;
    ctx.ensure_allowance(&token, signer, amount).await?;
    let receipt = ctx
        .send_call(
            "fundReward",
            ctx.vault
                .fundReward(pool.pair, U256::from(index), amount, args.carry_forward),
        )
        .await?;
    let after = reward_slot(&ctx, &pool, index).await?;
    let mut t = KeyValues::titled(format!("reward slot {index} of {}", pool.label()));
    t.row("funded", token.show(amount))
        .row("period ends", format!("timestamp {}", after._3));
    finish_sent(
        args.pool.common.json,
        json!({
            "pool": output::address(pool.pair),
            "index": index,
            "token": token.describe(),
            "amount": token.json(amount),
            "periodEnd": after._3,
        }),
        t,
        &receipt,
    );
    Ok(())
}

// ---- fees and ownership --------------------------------------------------------------------------------------

async fn claim_fees(args: ClaimFeesArgs) -> Result<()> {
    let ctx = Context::open(&args.common.chain).await?;
    ctx.client.require_signer("damm admin claim-fees")?;
    let candidates: Vec<Address> = match &args.token {
        Some(text) => {
            let token = parse_address("--token", text)?;
            ctx.client.require_code(token, "token (--token)").await?;
            vec![token]
        }
        None => {
            let mut all = Vec::new();
            for p in &ctx.deployment.pools {
                for token in [p.token0, p.token1] {
                    if !all.contains(&token) {
                        all.push(token);
                    }
                }
            }
            all
        }
    };
    let treasury = read_view(ctx.vault.treasury(), "the vault's treasury()").await?;
    let mut claimed = Vec::new();
    let mut table = Columns::new(["token", "claimed", "transaction"]);
    for address in candidates {
        let due = read_view(ctx.vault.protocolFees(address), "the vault's protocolFees").await?;
        if due.is_zero() {
            continue;
        }
        let token = ctx.token(address).await?;
        note(format!(
            "claiming {} of protocol fees for the treasury {treasury} …",
            token.show(due)
        ));
        let receipt = ctx
            .send_call(
                &format!("claimProtocolFees({})", token.symbol),
                ctx.vault.claimProtocolFees(address),
            )
            .await?;
        let amount = logs_of::<crate::lp::events::ProtocolFeesClaimed>(&receipt, *ctx.vault.address())
            .into_iter()
            .map(|e| e.amount)
            .next()
            .unwrap_or(due);
        table.row([
            format!("{} ({})", token.symbol, address),
            token.show(amount),
            receipt.transaction_hash.to_string(),
        ]);
        claimed.push(json!({
            "token": token.describe(),
            "amount": token.json(amount),
            "tx": receipt.transaction_hash.to_string(),
        }));
    }
    if args.common.json {
        output::print_json(&json!({ "treasury": output::address(treasury), "claimed": claimed }));
    } else if claimed.is_empty() {
        println!("no protocol fees to claim");
    } else {
        println!("protocol fees paid to the treasury {treasury}");
        table.print();
    }
    Ok(())
}

async fn transfer_ownership(args: TransferOwnershipArgs) -> Result<()> {
    let to = parse_address("--to", &args.to)?;
    if to.is_zero() {
        return Err(
            CommandError::Refused("--to: the zero address could never accept the ownership".into()).into(),
        );
    }
    let ctx = Context::open(&args.common.chain).await?;
    let owner = require_owner(&ctx, "damm admin transfer-ownership").await?;
    let receipt = ctx
        .send_call("transferOwnership", ctx.vault.transferOwnership(to))
        .await?;
    let mut t = KeyValues::new();
    t.row("owner", owner.to_string()).row(
        "pending owner",
        format!("{to} (takes over with `damm admin accept-ownership`)"),
    );
    finish_sent(
        args.common.json,
        json!({
            "owner": output::address(owner),
            "pendingOwner": output::address(to),
        }),
        t,
        &receipt,
    );
    Ok(())
}

async fn accept_ownership(args: AdminCommon) -> Result<()> {
    let ctx = Context::open(&args.chain).await?;
    let signer = ctx.client.require_signer("damm admin accept-ownership")?;
    let pending = read_view(ctx.vault.pendingOwner(), "the vault's pendingOwner()").await?;
    if signer != pending {
        return Err(AdminError::NotPendingOwner { signer, pending }.into());
    }
    let previous = read_view(ctx.vault.owner(), "the vault's owner()").await?;
    let receipt = ctx
        .send_call("acceptOwnership", ctx.vault.acceptOwnership())
        .await?;
    let mut t = KeyValues::new();
    t.row("owner", format!("{signer} (was {previous})"));
    finish_sent(
        args.json,
        json!({
            "owner": output::address(signer),
            "previousOwner": output::address(previous),
        }),
        t,
        &receipt,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_factors_parse_and_are_checked() {
        assert_eq!(parse_hf("0.97").unwrap(), U256::from(970_000_000_000_000_000u128));
        assert_eq!(parse_hf("1").unwrap(), HF_ONE);
        for bad in ["1.5", "0", "abc", "-0.5", "5wei"] {
            let e = parse_hf(bad).unwrap_err();
            assert!(e.to_string().starts_with(&format!("--hf {bad}:")), "{e}");
            assert!(e.to_string().contains("InvalidHfMin"), "{e}");
        }
    }

    #[test]
    fn a_market_file_holds_one_market() {
        let dir = std::env::temp_dir().join(format!("damm-admin-tests-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("m.toml");
        let market = format!(
            "\n[[markets]]\nname = \"x\"\npool = \"0\"{}",
            crate::deploy::tests::CONCENTRATED
        );
        std::fs::write(&path, &market).unwrap();
        assert_eq!(load_market_spec(&path).unwrap().name, "x");
        std::fs::write(&path, format!("{market}{market}")).unwrap();
        let e = load_market_spec(&path).unwrap_err();
        assert!(e.to_string().contains("holds 2 [[markets]] tables"), "{e}");
        std::fs::write(&path, market.replace("mode", "mood")).unwrap();
        let e = load_market_spec(&path).unwrap_err();
        assert!(e.to_string().contains("key `mood`"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
