//! `damm lp …` and `damm admin …` as processes, against a real deployment, every outcome read back from the
//! chain.
//!
//! The world of both tests: the e2e harness's vault and main pool with Alice's first deposit (1,000,000 token0
//! and 4,000,000 token1 as Uniswap LP tokens), the market-admin program, a deployment file recording them, and
//! one L2 market created by `damm admin create-market` (its operator a dev account) that settles a batch of
//! round trips, so the pool has LP fees and protocol fees, and the market's worst case holds back part of
//! Alice's shares.
//!
//! - `lp_commands`: `lp deposit` of LP tokens and of a token pair, `lp status` (shares, value, basis, fees
//!   earned, rewards), `lp withdraw` refused above `maxWithdraw` (nothing sent) and then within it, and `lp
//!   claim` after `admin reward-init` / `admin reward-fund` and some time.
//! - `admin_commands_and_refusals`: wrong inputs refused with one `error: …` line and the chain unchanged
//!   (unknown pool and market, an address without code, a key that is not the owner's, a bad number, `--hf
//!   1.5`, a freeze without an overdue resize), then `status`, `set-hf-min`, `pause` (a deposit refused with
//!   `ContractPaused`) / `unpause`, `set-limit`, `resize` + `freeze` / `unfreeze`, `claim-fees`,
//!   `create-pool`, `transfer-ownership` + `accept-ownership`.
//!
//! Like the other e2e tests they run against an external node with `DAMM_E2E_RPC`/`DAMM_E2E_KEY` (see
//! `tests/e2e/mod.rs`); the clock is only moved on the devnode, elsewhere the tests wait.

mod e2e;

use std::{
    path::PathBuf,
    process::{Command, Output},
    time::{Duration, Instant},
};

use alloy::{
    primitives::{Address, U256},
    providers::Provider,
};
use damm::{
    bindings::IMarket,
    deployment::{Deployment, PoolEntry, VaultPrograms},
    math::CollectFeeMode,
};
use e2e::{
    e18,
    market::{concentrated, MarketTrack, Rng, Q64},
    snapshot, workspace, Harness, PoolTrack,
};
use serde_json::Value;

/// A test's chain, deployment file and market.
struct World {
    h: Harness,
    pool: PoolTrack,
    dir: PathBuf,
    deployment: PathBuf,
    market: MarketTrack,
}

/// What a `damm` run left.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is one JSON document ({e}): {}", self.stdout))
    }
}

/// A fresh directory for this suite under the system's temporary directory.
fn temp_dir(name: &str) -> PathBuf {
    e2e::temp_dir("damm-lp-admin", name)
}

/// The one market of the tests: the harness's [`concentrated`] market (√P = 2 in [1.8, 2.2], 100,000 tokens
/// of real liquidity, fees in both tokens), as a deploy-spec table.
fn market_spec(operator: Address) -> String {
    format!(
        r#"
[[markets]]
name = "l2-a"
pool = "0"
operator = "{operator}"
kind = "l2"
mode = "concentrated"
sqrt_price = "{}"
sqrt_min_price = "{}"
sqrt_max_price = "{}"
liquidity = "{}"
base_fee_numerator = 3000000
"#,
        2 * Q64,
        18 * Q64 / 10,
        22 * Q64 / 10,
        e18(100_000) << 64
    )
}

impl World {
    /// Runs `damm args… --rpc-url … --deployment …`, signing with `key`'s account (none: no key at all).
    fn damm(&self, key: Option<Address>, args: &[&str]) -> Run {
        let mut command = Command::new(env!("CARGO_BIN_EXE_damm"));
        command
            .args(args)
            .args(["--rpc-url", &self.h.url, "--deployment"])
            .arg(&self.deployment)
            .env_remove("DAMM_PRIVATE_KEY")
            .env_remove("DAMM_KEYSTORE")
            .env_remove("DAMM_CONFIG")
            .env_remove("DAMM_RPC_URL")
            .env_remove("DAMM_DEPLOYMENT")
            .env_remove("DAMM_CHAIN_ID")
            .current_dir(&self.dir);
        if let Some(account) = key {
            command.env("DAMM_PRIVATE_KEY", self.h.private_key(account).to_string());
        }
        let start = Instant::now();
        let Output {
            status,
            stdout,
            stderr,
        } = command.output().expect("damm runs");
        let run = Run {
            code: status.code(),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        };
        println!(
            "$ damm {} ({:.1} s, exit {:?})\n{}{}",
            args.join(" "),
            start.elapsed().as_secs_f64(),
            run.code,
            run.stdout,
            run.stderr
        );
        run
    }

    /// A run that must succeed; its JSON output.
    fn ok(&self, key: Option<Address>, args: &[&str]) -> Value {
        let run = self.damm(key, args);
        assert_eq!(run.code, Some(0), "damm {args:?} succeeds: {}", run.stderr);
        run.json()
    }

    /// A run that must be refused: exit 1, nothing on stdout, one `error: …` line naming every one of `needles`.
    fn refused(&self, key: Option<Address>, args: &[&str], needles: &[&str]) -> String {
        let run = self.damm(key, args);
        assert_eq!(run.code, Some(1), "damm {args:?} is refused: {}", run.stderr);
        assert!(run.stdout.is_empty(), "nothing on stdout: {}", run.stdout);
        // Notes may come first (withdraw shows maxWithdraw); the error is one line, the last.
        let lines: Vec<&str> = run.stderr.trim_end().lines().collect();
        let line = *lines.last().expect("stderr says why");
        assert!(
            line.starts_with("error: "),
            "the last line is the error: {}",
            run.stderr
        );
        assert_eq!(
            lines.iter().filter(|l| l.starts_with("error")).count(),
            1,
            "one error line: {}",
            run.stderr
        );
        for needle in needles {
            assert!(line.contains(needle), "{line:?} names {needle:?}");
        }
        for account in [self.h.accounts.owner, self.h.accounts.bob] {
            let key = self.h.private_key(account).to_string();
            assert!(!line.contains(&key[2..]), "the key is never printed");
        }
        line.to_string()
    }

    async fn block(&self) -> u64 {
        self.h.provider.get_block_number().await.expect("block number")
    }
}

/// The raw integer of an amount in the JSON output.
fn raw(v: &Value) -> U256 {
    v["raw"]
        .as_str()
        .unwrap_or_else(|| panic!("an amount: {v}"))
        .parse()
        .expect("a decimal")
}

/// A signed raw amount.
fn signed(v: &Value) -> i128 {
    v["raw"].as_str().expect("an amount").parse().expect("an i128")
}

fn i(x: U256) -> i128 {
    i128::try_from(x).expect("fits i128")
}

/// The world of both tests (see the module's documentation).
async fn world(name: &str) -> World {
    let (h, pool, admin) = e2e::market::world().await;
    let dir = temp_dir(name);
    let deployment = dir.join("deployment.json");
    let programs = h.vault().programs().call().await.expect("programs()");
    Deployment {
        chain_id: h.provider.get_chain_id().await.expect("chain id"),
        factory: h.factory,
        vault: h.vault,
        vault_programs: VaultPrograms {
            settlement: programs._0,
            withdrawals: programs._1,
            markets: programs._2,
            admin: programs._3,
        },
        market_admin: admin,
        pools: vec![PoolEntry {
            pair: pool.pair,
            token0: pool.token0,
            token1: pool.token1,
        }],
        markets: Vec::new(),
    }
    .save(&deployment)
    .expect("the deployment file");
    // The market program, where `e2e::programs` built it (as scripts/build-contracts.sh lays it out).
    let wasm = dir.join("wasm");
    std::fs::create_dir_all(&wasm).unwrap();
    std::fs::copy(
        workspace().join("target/devnode-tests/wasm32-unknown-unknown/contract/damm_market.wasm"),
        wasm.join("damm_market.wasm"),
    )
    .expect("the market program");
    let operator = h.accounts.operator;
    std::fs::write(dir.join("market.toml"), market_spec(operator)).unwrap();
    let mut w = World {
        h,
        pool,
        dir,
        deployment,
        market: MarketTrack {
            address: Address::ZERO,
            pool: pool.pair,
            operator,
            l1: false,
            params: concentrated(CollectFeeMode::BothToken, 100_000, false),
            limit: U256::ZERO,
            // A placeholder until the market exists: its state is read from the chain below.
            state: concentrated(CollectFeeMode::BothToken, 100_000, false)
                .initial_state(0)
                .expect("valid parameters"),
        },
    };
    let owner = Some(w.h.accounts.owner);
    let spec = w.dir.join("market.toml");
    let created = w.ok(
        owner,
        &[
            "admin",
            "create-market",
            "--spec",
            spec.to_str().unwrap(),
            "--wasm-dir",
            wasm.to_str().unwrap(),
            "--json",
        ],
    );
    let address: Address = created["address"].as_str().unwrap().parse().unwrap();
    let d = Deployment::load(&w.deployment).expect("the file");
    assert_eq!(d.markets.len(), 1);
    assert_eq!(
        (
            d.markets[0].name.as_str(),
            d.markets[0].address,
            d.markets[0].operator
        ),
        ("l2-a", address, operator),
        "create-market records the market"
    );
    let info = w.h.vault().marketInfo(address).call().await.expect("marketInfo");
    assert_eq!(
        (info._0, info._1, info._2),
        (pool.pair, operator, true),
        "registered"
    );
    assert_eq!(info._6, e18(100_000) << 64, "the limit is the market's liquidity");
    // A batch of round trips: LP fees for the pool, protocol fees for the treasury.
    w.market.address = address;
    w.market.limit = info._6;
    w.market.state = w.h.market_state(&w.market).await;
    w.h.fund_trader(&pool, operator).await;
    let mut rng = Rng(0x5eed_1234);
    w.h.settle_round_trips(&pool, &mut w.market, &mut rng, 6).await;
    w
}

#[tokio::test(flavor = "multi_thread")]
async fn lp_commands() {
    let start = Instant::now();
    let w = world("lp").await;
    let h = &w.h;
    let pool = w.pool;
    let (alice, bob, carol) = (h.accounts.alice, h.accounts.bob, h.accounts.carol);
    println!("setup in {:.1} s", start.elapsed().as_secs_f64());

    // Bob deposits Uniswap LP tokens, then a token pair.
    h.fund(pool.token0, bob, e18(20_000)).await;
    h.fund(pool.token1, bob, e18(80_000)).await;
    let lp = h.add_liquidity(&pool, bob, e18(10_000), e18(40_000)).await;
    let lp_arg = format!("{lp}wei");
    let out = w.ok(Some(bob), &["lp", "deposit", "--lp", &lp_arg, "--json"]);
    let shares = h.shares(pool.pair, bob).await;
    assert_eq!(raw(&out["sharesMinted"]), shares, "the shares minted");
    assert_eq!(raw(&out["balance"]), shares);
    assert_eq!(raw(&out["lpUsed"]), lp);
    assert_eq!(out["kind"], "lp");
    assert_eq!(
        h.balance(pool.pair, bob).await,
        U256::ZERO,
        "every LP token went in"
    );
    assert!(raw(&out["minShares"]) <= raw(&out["sharesMinted"]));
    assert_eq!(
        raw(&out["minShares"]),
        raw(&out["previewShares"]) * U256::from(9_950u64) / U256::from(10_000u64),
        "50 bps below the preview"
    );
    assert_eq!(raw(&out["healthFactor"]), h.hf(pool.pair).await);

    let before = (
        h.balance(pool.token0, bob).await,
        h.balance(pool.token1, bob).await,
    );
    let out = w.ok(
        Some(bob),
        &[
            "lp",
            "deposit",
            "--pool",
            &pool.pair.to_string(),
            "--amount0",
            "1000",
            "--amount1",
            "4000",
            "--json",
        ],
    );
    let after = (
        h.balance(pool.token0, bob).await,
        h.balance(pool.token1, bob).await,
    );
    assert_eq!(out["kind"], "pair");
    assert_eq!(raw(&out["token0Used"]), before.0 - after.0);
    assert_eq!(raw(&out["token1Used"]), before.1 - after.1);
    assert!(before.0 - after.0 <= e18(1_000) && before.1 - after.1 <= e18(4_000));
    assert_eq!(
        h.shares(pool.pair, bob).await,
        shares + raw(&out["sharesMinted"]),
        "more shares"
    );
    let bob_lp = lp + raw(&out["lpUsed"]);

    // Positions: Alice's (no key needed with --account) and Bob's.
    let alice_arg = alice.to_string();
    let status = w.ok(None, &["lp", "status", "--account", &alice_arg, "--json"]);
    assert_eq!(status["account"], alice.to_checksum(None));
    let p = &status["pools"][0];
    let alice_shares = h.shares(pool.pair, alice).await;
    assert_eq!(raw(&p["shares"]), alice_shares, "shares = balanceOf");
    let info = h.pool_info(pool.pair).await;
    let pair = h.pair_state(pool.pair).await;
    let part = |x: U256| x * alice_shares / info.total_shares;
    let lp_part = part(info.lp);
    assert_eq!(raw(&p["value"]["lpTokens"]), lp_part);
    assert_eq!(
        raw(&p["value"]["token0"]),
        part(info.raw0) + lp_part * U256::from(pair.reserve0) / pair.total_supply,
        "token0: raw part + the LP part's underlying"
    );
    assert_eq!(
        raw(&p["value"]["token1"]),
        part(info.raw1) + lp_part * U256::from(pair.reserve1) / pair.total_supply
    );
    let as_lp =
        |amount: U256, reserve: u128| amount * pair.total_supply / (U256::from(reserve) * U256::from(2u8));
    assert_eq!(
        raw(&p["value"]["lp"]),
        lp_part + as_lp(part(info.raw0), pair.reserve0) + as_lp(part(info.raw1), pair.reserve1),
        "in LP tokens: the LP part, and the raw parts at the pair's price"
    );
    // Alice's one deposit: the pair's first mint, √(1e6·4e6) tokens less Uniswap's 1000 locked atoms.
    let alice_lp = e18(2_000_000) - U256::from(1_000u64);
    assert_eq!(raw(&p["basisLp"]), alice_lp, "the basis is the LP deposited");
    assert!(p["historyComplete"].as_bool().unwrap());
    let earned = signed(&p["earned"]["lp"]);
    assert_eq!(
        earned,
        i(raw(&p["value"]["lp"])) - i(alice_lp),
        "earned = value − basis"
    );
    assert!(earned > 0, "the batch's LP fees: {earned}");
    assert_eq!(raw(&p["maxWithdraw"]), {
        h.vault().maxWithdraw(pool.pair, alice).call().await.unwrap()
    });
    assert_eq!(raw(&p["hfMin"]), info.hf_min);
    assert_eq!(p["rewards"].as_array().unwrap().len(), 0, "no reward slot yet");
    let run = w.damm(None, &["lp", "status", "--account", &alice_arg]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    for needle in [
        "shares",
        "value in LP",
        "cost basis",
        "fees earned",
        "maxWithdraw",
    ] {
        assert!(run.stdout.contains(needle), "{needle}: {}", run.stdout);
    }
    let status = w.ok(Some(bob), &["lp", "status", "--json"]);
    let p = &status["pools"][0];
    assert_eq!(raw(&p["basisLp"]), bob_lp, "both of Bob's deposits");
    // Just deposited: what the deposit was credited at (the vault values an unpaired raw token at nothing) and
    // what the shares are worth at the pair's price differ by the pool's few unpaired raw tokens, no more.
    assert!(
        signed(&p["earned"]["lp"]).unsigned_abs() < bob_lp.to::<u128>() / 1_000_000,
        "next to nothing earned yet: {}",
        p["earned"]
    );

    // Alice cannot take all her shares: the market's worst case holds some back. Refused, nothing sent.
    let max = raw(&p["maxWithdraw"]);
    assert_eq!(max, h.shares(pool.pair, bob).await, "Bob's are all free");
    let alice_max = h.vault().maxWithdraw(pool.pair, alice).call().await.unwrap();
    assert!(alice_max < alice_shares, "the worst case holds part back");
    let block = w.block().await;
    let all = format!("{alice_shares}wei");
    let line = w.refused(
        Some(alice),
        &["lp", "withdraw", "--shares", &all],
        &[
            "maxWithdraw",
            "worst case",
            "HF_min",
            &format!("WithdrawalExceedsFree {{ requested: {alice_shares}, available: {alice_max} }}"),
        ],
    );
    assert!(line.contains("refused before sending"), "{line}");
    assert_eq!(w.block().await, block, "nothing was sent");
    assert_eq!(h.shares(pool.pair, alice).await, alice_shares, "shares unchanged");

    // Within maxWithdraw it goes through, paid in kind.
    let balances = |who: Address| async move {
        (
            h.balance(pool.token0, who).await,
            h.balance(pool.token1, who).await,
            h.balance(pool.pair, who).await,
        )
    };
    let before = balances(alice).await;
    let out = w.ok(Some(alice), &["lp", "withdraw", "--shares", "1000", "--json"]);
    let after = balances(alice).await;
    assert_eq!(raw(&out["sharesBurnt"]), e18(1_000));
    assert_eq!(h.shares(pool.pair, alice).await, alice_shares - e18(1_000));
    assert_eq!(raw(&out["received"]["token0"]), after.0 - before.0);
    assert_eq!(raw(&out["received"]["token1"]), after.1 - before.1);
    assert_eq!(raw(&out["received"]["lp"]), after.2 - before.2);
    assert!(after.2 > before.2, "LP tokens came back");

    // Rewards: slot 0 streams token1, 1 token a second; Alice claims what accrued.
    let owner = Some(h.accounts.owner);
    let out = w.ok(
        owner,
        &[
            "admin",
            "reward-init",
            "--pool",
            "0",
            "--index",
            "0",
            "--token",
            "token1",
            "--duration-secs",
            "86400",
            "--json",
        ],
    );
    assert_eq!(out["token"]["address"], pool.token1.to_checksum(None), "{out}");
    let out = w.ok(
        owner,
        &[
            "admin",
            "reward-fund",
            "--index",
            "0",
            "--amount",
            "86400",
            "--json",
        ],
    );
    assert_eq!(raw(&out["amount"]), e18(86_400));
    let slot = h.vault().rewardInfo(pool.pair, U256::ZERO).call().await.unwrap();
    assert_eq!((slot._0, slot._2), (pool.token1, 86_400));
    h.advance(100).await;
    let status = w.ok(None, &["lp", "status", "--account", &alice_arg, "--json"]);
    let pending = h
        .vault()
        .pendingReward(pool.pair, U256::ZERO, alice)
        .call()
        .await
        .unwrap();
    assert!(!pending.is_zero());
    assert_eq!(raw(&status["pools"][0]["rewards"][0]["pending"]), pending);
    let before = h.balance(pool.token1, alice).await;
    let out = w.ok(Some(alice), &["lp", "claim", "--json"]);
    let claimed = raw(&out["claimed"][0]["amount"]);
    assert!(
        claimed >= pending,
        "at least what was pending: {claimed} < {pending}"
    );
    assert_eq!(h.balance(pool.token1, alice).await - before, claimed);
    // Carol has no shares: nothing to claim, and that is no error.
    let carol_key = Some(carol);
    let run = w.damm(carol_key, &["lp", "claim"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stdout.contains("nothing to claim"), "{}", run.stdout);
    println!("lp_commands in {:.1} s", start.elapsed().as_secs_f64());
    let _ = std::fs::remove_dir_all(&w.dir);
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_commands_and_refusals() {
    let start = Instant::now();
    let w = world("admin").await;
    let h = &w.h;
    let pool = w.pool;
    let (owner_account, alice, bob) = (h.accounts.owner, h.accounts.alice, h.accounts.bob);
    let owner = Some(owner_account);
    let market = w.market.address;
    println!("setup in {:.1} s", start.elapsed().as_secs_f64());

    // Wrong inputs: one named error line each, and nothing changes.
    let block = w.block().await;
    let state = snapshot(h, &pool, &[alice, bob, owner_account]).await;
    w.refused(
        Some(bob),
        &["lp", "deposit", "--pool", "nope", "--lp", "1"],
        &["no pool \"nope\"", &format!("known: #0 {}", pool.pair)],
    );
    let nowhere = "0x000000000000000000000000000000000000dEaD";
    w.refused(
        Some(bob),
        &["lp", "deposit", "--pool", nowhere, "--lp", "1"],
        &[&format!("at {nowhere} has no code on chain")],
    );
    w.refused(
        owner,
        &[
            "admin",
            "reward-init",
            "--index",
            "1",
            "--token",
            nowhere,
            "--duration-secs",
            "86400",
        ],
        &[
            "reward token (--token) at",
            "has no code",
            "wrong address or wrong chain",
        ],
    );
    w.refused(
        Some(bob),
        &["admin", "pause"],
        &[&format!(
            "the key's account {bob} is not the vault's owner {owner_account}"
        )],
    );
    w.refused(
        Some(bob),
        &["admin", "set-hf-min", "--hf", "0.9"],
        &["is not the vault's owner"],
    );
    w.refused(
        Some(bob),
        &["lp", "deposit", "--lp", "abc"],
        &["--lp: \"abc\" is not a non-negative number"],
    );
    w.refused(
        owner,
        &["admin", "set-limit", "--market", "l2-a", "--limit", "12x"],
        &["--limit:", "\"12x\""],
    );
    w.refused(
        owner,
        &["admin", "set-hf-min", "--hf", "1.5"],
        &["--hf 1.5", "not in (0, 1]", "InvalidHfMin"],
    );
    w.refused(
        owner,
        &["admin", "freeze", "--market", "nope"],
        &["no market named or at \"nope\"", "known: l2-a"],
    );
    w.refused(
        owner,
        &["admin", "freeze", "--market", "l2-a"],
        &["market \"l2-a\" cannot be frozen", "NoPendingResize"],
    );
    w.refused(
        Some(alice),
        &["admin", "accept-ownership"],
        &["is not the vault's pending owner"],
    );
    assert_eq!(w.block().await, block, "nothing was sent");
    assert_eq!(
        snapshot(h, &pool, &[alice, bob, owner_account]).await,
        state,
        "nothing changed"
    );

    // The status.
    let s = w.ok(None, &["admin", "status", "--json"]);
    assert_eq!(s["owner"], owner_account.to_checksum(None));
    assert_eq!(s["treasury"], h.accounts.treasury.to_checksum(None));
    assert_eq!(s["guardian"], h.accounts.guardian.to_checksum(None));
    assert_eq!(
        (s["paused"].clone(), s["pendingOwner"].clone()),
        (false.into(), Value::Null)
    );
    let p = &s["pools"][0];
    assert_eq!(p["pair"], pool.pair.to_checksum(None));
    assert_eq!(raw(&p["totalShares"]), h.total_shares(pool.pair).await);
    assert_eq!(raw(&p["healthFactor"]), h.hf(pool.pair).await);
    let fees = (
        h.protocol_fees(pool.token0).await,
        h.protocol_fees(pool.token1).await,
    );
    assert!(
        !fees.0.is_zero() && !fees.1.is_zero(),
        "the batch left protocol fees"
    );
    assert_eq!(
        (
            raw(&p["protocolFees"]["token0"]),
            raw(&p["protocolFees"]["token1"])
        ),
        fees
    );
    let m = &s["markets"][0];
    assert_eq!(m["name"], "l2-a");
    assert_eq!(m["address"], market.to_checksum(None));
    assert_eq!(m["operator"], h.accounts.operator.to_checksum(None));
    assert_eq!(
        (m["kind"].as_str(), m["active"].as_bool()),
        (Some("l2"), Some(true))
    );
    assert_eq!((m["frozen"].as_bool(), m["seq"].as_u64()), (Some(false), Some(1)));

    // For people: tables.
    let run = w.damm(None, &["admin", "status"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    for needle in ["owner", "pools", "markets", "l2-a", &pool.pair.to_string()] {
        assert!(run.stdout.contains(needle), "{needle}: {}", run.stdout);
    }

    // HF_min.
    let out = w.ok(owner, &["admin", "set-hf-min", "--hf", "0.97", "--json"]);
    assert_eq!(raw(&out["hfMin"]), U256::from(970_000_000_000_000_000u128));
    assert_eq!(
        h.pool_info(pool.pair).await.hf_min,
        U256::from(970_000_000_000_000_000u128)
    );

    // Pause: deposits are refused, before anything is sent; unpause.
    let out = w.ok(owner, &["admin", "pause", "--json"]);
    assert_eq!(out["changed"], true);
    assert!(h.vault().paused().call().await.unwrap());
    h.fund(pool.token0, bob, e18(100)).await;
    h.fund(pool.token1, bob, e18(400)).await;
    let block = w.block().await;
    w.refused(
        Some(bob),
        &["lp", "deposit", "--amount0", "100", "--amount1", "400"],
        &["the vault is paused", "ContractPaused"],
    );
    assert_eq!(w.block().await, block, "no approval was sent either");
    w.ok(owner, &["admin", "unpause", "--json"]);
    assert!(!h.vault().paused().call().await.unwrap());

    // The market's limit, a resize, and a freeze once the resize is overdue.
    let liquidity: U256 = e18(100_000) << 64;
    let limit = (liquidity * U256::from(2u8)).to_string();
    let out = w.ok(
        owner,
        &[
            "admin",
            "set-limit",
            "--market",
            "l2-a",
            "--limit",
            &limit,
            "--json",
        ],
    );
    assert_eq!(out["liquidityLimit"], limit.as_str());
    let info = h.vault().marketInfo(market).call().await.unwrap();
    assert_eq!((info._6.to_string(), info._2), (limit.clone(), true));
    let target = (liquidity * U256::from(3u8) / U256::from(2u8)).to_string();
    let deadline_secs: u64 = if h.can_travel() { 600 } else { 3 };
    w.ok(
        owner,
        &[
            "admin",
            "resize",
            "--market",
            "l2-a",
            "--liquidity",
            &target,
            "--deadline-secs",
            &deadline_secs.to_string(),
            "--json",
        ],
    );
    let m = IMarket::new(market, h.provider.clone());
    let pending = m.pendingResize().call().await.unwrap();
    assert_eq!(pending._0.to_string(), target);
    if h.can_travel() {
        w.refused(
            owner,
            &["admin", "freeze", "--market", "l2-a"],
            &["ResizeNotOverdue", "its operator may still apply it"],
        );
    }
    // Past the deadline: the clock moved on the devnode, waited for elsewhere.
    loop {
        let (_, now) = h.head().await;
        if now > pending._1 {
            break;
        }
        if h.can_travel() {
            h.advance(pending._1 - now + 1).await;
        } else {
            tokio::time::sleep(Duration::from_secs(1)).await;
            // A block, so that the head's timestamp moves.
            h.fund(pool.token0, bob, U256::from(1u8)).await;
        }
    }
    let out = w.ok(owner, &["admin", "freeze", "--market", "l2-a", "--json"]);
    assert_eq!(out["changed"], true);
    assert!(m.frozen().call().await.unwrap());
    let s = w.ok(None, &["admin", "status", "--json"]);
    assert_eq!(s["markets"][0]["frozen"], true);
    assert_eq!(s["markets"][0]["pendingResize"]["liquidity"], target.as_str());
    w.ok(owner, &["admin", "unfreeze", "--market", "l2-a", "--json"]);
    assert!(!m.frozen().call().await.unwrap());

    // Protocol fees to the treasury.
    let treasury = h.accounts.treasury;
    let before = (
        h.balance(pool.token0, treasury).await,
        h.balance(pool.token1, treasury).await,
    );
    let out = w.ok(owner, &["admin", "claim-fees", "--json"]);
    assert_eq!(out["claimed"].as_array().unwrap().len(), 2, "{out}");
    assert_eq!(h.balance(pool.token0, treasury).await - before.0, fees.0);
    assert_eq!(h.balance(pool.token1, treasury).await - before.1, fees.1);
    assert_eq!(h.protocol_fees(pool.token0).await, U256::ZERO);
    let run = w.damm(owner, &["admin", "claim-fees"]);
    assert_eq!(run.code, Some(0));
    assert!(run.stdout.contains("no protocol fees to claim"), "{}", run.stdout);

    // A second pool: the pair of token0 and a new token, created by the command and recorded.
    let other = h.deploy_erc20(e18(1_000)).await;
    let (a, b) = (pool.token0.to_string(), other.to_string());
    let out = w.ok(
        owner,
        &[
            "admin",
            "create-pool",
            "--token-a",
            &a,
            "--token-b",
            &b,
            "--hf-min",
            "0.9",
            "--json",
        ],
    );
    let pair: Address = out["pair"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        h.factory().getPair(pool.token0, other).call().await.unwrap(),
        pair
    );
    assert_eq!(
        h.pool_info(pair).await.hf_min,
        U256::from(900_000_000_000_000_000u128)
    );
    let d = Deployment::load(&w.deployment).unwrap();
    assert_eq!(d.pools.len(), 2);
    assert_eq!(d.pools[1].pair, pair);
    // With two pools, --pool is needed.
    w.refused(
        Some(bob),
        &["lp", "deposit", "--lp", "1"],
        &["give --pool: the deployment has 2 pools"],
    );

    // Ownership: proposed, then taken by the new owner; the old key is no longer the owner's.
    let bob_arg = bob.to_string();
    let out = w.ok(
        owner,
        &["admin", "transfer-ownership", "--to", &bob_arg, "--json"],
    );
    assert_eq!(out["pendingOwner"], bob.to_checksum(None));
    assert_eq!(h.vault().pendingOwner().call().await.unwrap(), bob);
    let out = w.ok(Some(bob), &["admin", "accept-ownership", "--json"]);
    assert_eq!(out["owner"], bob.to_checksum(None));
    assert_eq!(h.vault().owner().call().await.unwrap(), bob);
    w.refused(owner, &["admin", "unpause"], &["is not the vault's owner"]);
    println!(
        "admin_commands_and_refusals in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&w.dir);
}
