//! End-to-end tests of the market contract (issue 6, "Tests") through JSON-RPC with alloy: the compiled WASM of
//! the market, its admin program and the vault on the devnode (or on the node named by `DAMM_E2E_RPC`, see
//! `tests/e2e/mod.rs`), against the real Uniswap V2 factory, pair and ERC-20s of `@uniswap/v2-core`.
//!
//! Every expected state, hash and flow is computed independently off-chain with the shared codec and math
//! crates (as an operator computes them), never copied from a run; the vault's side of every settlement with
//! the math crate's `settle` (holdings, LP burnt, health factor, protocol fees). After every step the vault's
//! invariants are checked ([`assert_invariants`]). The failure cases are in `tests/market_failures_e2e.rs`.

mod e2e;

use alloy::{
    primitives::{Address, U256},
    providers::ext::AnvilApi,
    rpc::types::TransactionReceipt,
};
use damm::{
    market_codec::{MarketParams, MarketState, Op, Totals},
    math::{
        vault::{health_factor, pool_liquidity, settle},
        CollectFeeMode,
    },
};
use e2e::{
    assert_invariants, e18, logs_of,
    market::{
        compounding, concentrated, events, l1_market, l2_market, op, operator_market, random_batch,
        round_trips, sell, world, MarketTrack, Rng,
    },
    programs, report_gas, Harness, PoolTrack,
};

/// What the vault's side of a settlement must be, predicted with the math crate before it happens.
struct VaultPrediction {
    holdings: damm::math::vault::PoolHoldings,
    hf: U256,
    fees: (U256, U256),
}

async fn predict_vault(h: &Harness, pool: &PoolTrack, totals: &Totals) -> VaultPrediction {
    let info = h.pool_info(pool.pair).await;
    let pair = h.pair_state(pool.pair).await;
    let f = totals.flows;
    let (after, pair_after) = settle(
        &info.holdings(),
        &pair,
        f[0] - f[4] - f[6],
        f[1] - f[5] - f[7],
        f[2],
        f[3],
    )
    .expect("the settlement is covered");
    VaultPrediction {
        holdings: after,
        hf: health_factor(pool_liquidity(&after, &pair_after).unwrap(), info.total_shares).unwrap(),
        fees: (
            h.protocol_fees(pool.token0).await + U256::from(f[4]),
            h.protocol_fees(pool.token1).await + U256::from(f[5]),
        ),
    }
}

async fn assert_vault(h: &Harness, pool: &PoolTrack, expected: &VaultPrediction) {
    assert_eq!(
        h.pool_info(pool.pair).await.holdings(),
        expected.holdings,
        "the pool's holdings"
    );
    assert_eq!(h.hf(pool.pair).await, expected.hf, "the pool's health factor");
    assert_eq!(
        (
            h.protocol_fees(pool.token0).await,
            h.protocol_fees(pool.token1).await
        ),
        expected.fees,
        "the protocol fees"
    );
    assert_invariants(h).await;
}

/// Submits `ops` on `market` (see `Harness::submit_ops`) and checks the vault's side against the math crate
/// and the market's state as the vault records it.
async fn submit_checked(
    h: &Harness,
    pool: &PoolTrack,
    market: &mut MarketTrack,
    base: u64,
    ops: &[Op],
) -> Totals {
    let mut next = market.state;
    let totals = damm::market_codec::execute_batch(
        &mut next,
        &damm::market_codec::encode_batch(base, ops).unwrap(),
        u64::MAX,
    )
    .expect("a valid batch");
    let expected = predict_vault(h, pool, &totals).await;
    h.submit_ops(pool, market, base, ops).await;
    assert_vault(h, pool, &expected).await;
    let recorded = h.vault().marketInfo(market.address).call().await.unwrap()._7;
    let p = &market.state.pool;
    assert_eq!(
        recorded,
        (
            U256::from(p.sqrt_price),
            p.liquidity,
            U256::from(p.token_a_amount),
            U256::from(p.token_b_amount)
        ),
        "the vault records the market's state"
    );
    totals
}

/// Three markets on the main pool, each registered at its own liquidity: the operator's market A
/// ([`operator_market`], static fee), Carol's L2 market B (concentrated, fees in token1, the dynamic fee,
/// `b_tokens` of real liquidity), and the funder's L1 market with parameters `l1` (Bob funded to trade on it).
async fn three_markets(
    h: &Harness,
    pool: &PoolTrack,
    admin: Address,
    b_tokens: u64,
    l1: MarketParams,
) -> (MarketTrack, MarketTrack, MarketTrack) {
    let b = concentrated(CollectFeeMode::OnlyB, b_tokens, true);
    (
        operator_market(h, pool, admin, false).await,
        l2_market(h, pool, admin, h.accounts.carol, b).await,
        l1_market(h, pool, admin, h.accounts.funder, l1).await,
    )
}

/// Three markets on one pool — two L2 markets (a concentrated one with a static fee, one with the dynamic fee)
/// and an L1 market — trade thousands of random trades: every batch inside its market's range settles (the
/// markets were admitted, so none may fail on liquidity or the health factor), and after every batch the chain
/// holds exactly the state the codec predicts, the vault exactly the holdings and health factor the math crate
/// predicts.
#[tokio::test(flavor = "multi_thread")]
async fn thousands_of_random_trades_on_three_markets_match_the_math() {
    let (h, pool, admin) = world().await;
    let (mut a, mut b, mut l1) = three_markets(&h, &pool, admin, 100_000, compounding(20_000)).await;
    let bob = h.accounts.bob;
    assert_invariants(&h).await;

    // `DAMM_MARKET_SEED` replays (or varies) the run; the default is fixed.
    let seed = std::env::var("DAMM_MARKET_SEED")
        .ok()
        .map(|s| s.parse::<u64>().expect("DAMM_MARKET_SEED is a number"))
        .unwrap_or(0xda77_0006);
    println!("seed {seed}");
    let mut rng = Rng(seed.max(1));
    let mut trades = 0;
    for round in 0..16 {
        for market in [&mut a, &mut b] {
            let (_, now) = h.head().await;
            let n = 32 + rng.below(97) as usize;
            let ops = random_batch(&mut rng, &market.state, now, n);
            let totals = submit_checked(&h, &pool, market, now, &ops).await;
            assert_eq!(totals.swaps, n as u64);
            trades += n;
        }
        let zero_for_one = rng.below(2) == 0;
        let amount = (1 + u128::from(rng.below(1_000))) * 10u128.pow(18);
        h.l1_swap(
            &pool,
            &mut l1,
            bob,
            zero_for_one,
            rng.below(2) == 0,
            amount,
            Address::ZERO,
        )
        .await;
        trades += 1;
        assert_invariants(&h).await;
        if round % 4 == 3 {
            // Time passes between batches: the dynamic fee's references decay.
            h.advance(30 + rng.below(300)).await;
        }
    }
    println!("{trades} trades settled, each batch as predicted");
    assert!(trades >= 2_000, "thousands of trades: {trades}");
}

/// The largest exact-in trade the math accepts on `state` in a direction (the price stays in the range):
/// bisection with the codec (acceptance is monotone in the amount).
fn largest_exact_in(state: &MarketState, zero_for_one: bool, timestamp: u64) -> u128 {
    let accepts = |amount: u128| {
        let mut s = *state;
        let op = sell(zero_for_one, amount, timestamp);
        damm::market_codec::exec::execute_op(&mut s, &op, 0, true, u64::MAX, &mut Totals::default()).is_ok()
    };
    let (mut lo, mut hi) = (0u128, 1u128 << 100);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if accepts(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

/// Admission's promise (PROTOCOL.md, "Admission"): once the markets are admitted, trades that stay in their
/// ranges never fail on liquidity or the health factor — even when every market runs to the end of its range
/// in the same direction (down, then on a fresh chain up) and the compounding L1 market pays most of its
/// reserve. Every batch settles, the vault's side is the math crate's, and the health factor stays at or above
/// the pool's minimum.
#[tokio::test(flavor = "multi_thread")]
async fn markets_run_to_their_range_ends_in_one_direction_still_settle() {
    for zero_for_one in [true, false] {
        let (h, pool, admin) = world().await;
        let (mut a, mut b, mut l1) = three_markets(&h, &pool, admin, 150_000, compounding(20_000)).await;
        let hf_min = h.pool_info(pool.pair).await.hf_min;
        for market in [&mut a, &mut b] {
            let (_, now) = h.head().await;
            // Eight trades of a fifth of the way each, then the largest trade that still fits.
            let mut state = market.state;
            let step = largest_exact_in(&state, zero_for_one, now) / 5;
            let mut ops = Vec::new();
            for _ in 0..8 {
                let amount = step.min(largest_exact_in(&state, zero_for_one, now));
                if amount == 0 {
                    break;
                }
                let op = sell(zero_for_one, amount, now);
                e2e::market::apply(&mut state, &op);
                ops.push(op);
            }
            let last = largest_exact_in(&state, zero_for_one, now);
            if last > 0 {
                ops.push(sell(zero_for_one, last, now));
            }
            submit_checked(&h, &pool, market, now, &ops).await;
            let p = &market.state.pool;
            let (end, distance) = if zero_for_one {
                (p.sqrt_min_price, p.sqrt_price - p.sqrt_min_price)
            } else {
                (p.sqrt_max_price, p.sqrt_max_price - p.sqrt_price)
            };
            assert!(
                distance < end / 1_000_000,
                "the market ran to its range end: {} vs {end}",
                p.sqrt_price
            );
            let hf = h.hf(pool.pair).await;
            assert!(hf >= hf_min, "health factor {hf} stays at or above {hf_min}");
        }
        // The L1 compounding market: a trade of fifty times its input-side reserve takes most of the other.
        let bob = h.accounts.bob;
        let reserve = if zero_for_one {
            l1.state.pool.token_a_amount
        } else {
            l1.state.pool.token_b_amount
        };
        h.l1_swap(
            &pool,
            &mut l1,
            bob,
            zero_for_one,
            true,
            reserve * 50,
            Address::ZERO,
        )
        .await;
        let hf = h.hf(pool.pair).await;
        println!("all markets at their ends (token0 in: {zero_for_one}): HF {hf}, minimum {hf_min}");
        assert!(hf >= hf_min, "health factor {hf} stays at or above {hf_min}");
        assert_invariants(&h).await;
    }
}

/// The transitions of three markets — a batch of each L2 market and an L1 swap — settle independently: in every
/// order, each market ends in the same state, each counterparty pays and receives the same amounts. (Devnode:
/// all six orders from one snapshot; an external node runs two orders on fresh batches.)
#[tokio::test(flavor = "multi_thread")]
async fn batches_interleaved_in_any_order_settle_independently() {
    let (h, pool, admin) = world().await;
    let l1 = concentrated(CollectFeeMode::BothToken, 50_000, false);
    let (mut a, mut b, mut l1) = three_markets(&h, &pool, admin, 100_000, l1).await;
    let bob = h.accounts.bob;

    let mut rng = Rng(7);
    let orders: Vec<[usize; 3]> = if h.can_travel() {
        vec![[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]]
    } else {
        println!("external node: no snapshots, two orders on fresh batches instead of six");
        vec![[0, 1, 2], [2, 1, 0]]
    };
    let mut outcomes: Vec<(MarketState, MarketState, U256, U256)> = Vec::new();
    let (_, now) = h.head().await;
    // The same batches in every order (fresh ones per order on an external node).
    let mut batch_a = random_batch(&mut rng, &a.state, now, 24);
    let mut batch_b = random_batch(&mut rng, &b.state, now, 24);
    let start = (a.clone(), b.clone(), l1.clone());
    for order in &orders {
        let snapshot = if h.can_travel() {
            Some(h.provider.anvil_snapshot().await.expect("evm_snapshot"))
        } else {
            let (_, now) = h.head().await;
            batch_a = random_batch(&mut rng, &a.state, now, 24);
            batch_b = random_batch(&mut rng, &b.state, now, 24);
            None
        };
        let (a_start, b_start) = (a.state, b.state);
        let bob_before = (
            h.balance(pool.token0, bob).await,
            h.balance(pool.token1, bob).await,
        );
        for step in order {
            match step {
                0 => {
                    submit_checked(&h, &pool, &mut a, now, &batch_a).await;
                }
                1 => {
                    submit_checked(&h, &pool, &mut b, now, &batch_b).await;
                }
                _ => {
                    h.l1_swap(
                        &pool,
                        &mut l1,
                        bob,
                        true,
                        true,
                        500 * 10u128.pow(18),
                        Address::ZERO,
                    )
                    .await;
                }
            }
        }
        let bob_after = (
            h.balance(pool.token0, bob).await,
            h.balance(pool.token1, bob).await,
        );
        // Bob sold 500 token0 on a static-fee market: what he got does not depend on the order.
        assert_eq!(bob_before.0 - bob_after.0, e18(500));
        outcomes.push((
            a.state,
            b.state,
            bob_after.1 - bob_before.1,
            U256::from(l1.state.pool.sqrt_price),
        ));
        assert_ne!(a.state, a_start);
        assert_ne!(b.state, b_start);
        if let Some(id) = snapshot {
            assert!(h.provider.anvil_revert(id).await.expect("evm_revert"));
            (a, b, l1) = start.clone();
        }
    }
    if h.can_travel() {
        for o in &outcomes[1..] {
            assert_eq!(o, &outcomes[0], "every order gives every market the same outcome");
        }
    }
}

/// The asynchronous scenario (PROTOCOL.md, "Admission"): two operators trade against the same funds without
/// talking to each other. Trading in the same direction, both markets take token0 and pay token1, which the
/// vault burns LP tokens for: its health factor falls. In opposite directions each market's input pays the
/// other's output: the health factor ends higher than in the same-direction case. Round trips leave only fees:
/// the health factor (liquidity per share) rises, and the LP's shares are worth more. Every health factor is
/// the math crate's prediction.
#[tokio::test(flavor = "multi_thread")]
async fn two_operators_move_the_health_factor_as_the_protocol_says() {
    let mut hf_after = Vec::new();
    for same_direction in [true, false] {
        let (h, pool, admin) = world().await;
        let mut a = operator_market(&h, &pool, admin, false).await;
        let params = concentrated(CollectFeeMode::BothToken, 100_000, false);
        let mut b = l2_market(&h, &pool, admin, h.accounts.carol, params).await;
        let hf_start = h.hf(pool.pair).await;
        let (_, now) = h.head().await;
        // Each operator's users sell 4,000 token0 (or, on B in the opposite case, 16,000 token1) in 8 trades.
        let sells =
            |zero_for_one: bool, amount: u128| -> Vec<Op> { vec![sell(zero_for_one, amount, now); 8] };
        submit_checked(&h, &pool, &mut a, now, &sells(true, 500 * 10u128.pow(18))).await;
        let hf_one = h.hf(pool.pair).await;
        let b_ops = if same_direction {
            sells(true, 500 * 10u128.pow(18))
        } else {
            sells(false, 2_000 * 10u128.pow(18))
        };
        submit_checked(&h, &pool, &mut b, now, &b_ops).await;
        let hf_two = h.hf(pool.pair).await;
        println!("same direction {same_direction}: HF {hf_start} → {hf_one} → {hf_two}");
        if same_direction {
            assert!(
                hf_one < hf_start,
                "one-way flows burn LP for raw token0 that counts for nothing alone"
            );
            assert!(
                hf_two < hf_one,
                "a second market in the same direction lowers it further"
            );
        } else {
            assert!(
                hf_two > hf_one,
                "the opposite market's input pays the first one's output"
            );
        }
        hf_after.push(hf_two);

        if !same_direction {
            // Round trips on A: only fees stay; liquidity per share rises.
            let alice = h.accounts.alice;
            let shares = h.shares(pool.pair, alice).await;
            let before = h.hf(pool.pair).await;
            let mut rng = Rng(3);
            let (_, now) = h.head().await;
            let ops = round_trips(&mut rng, &a.state, now, 32);
            let totals = submit_checked(&h, &pool, &mut a, now, &ops).await;
            assert!(totals.lp_fees[0] + totals.lp_fees[1] > 0);
            let after = h.hf(pool.pair).await;
            assert!(
                after > before,
                "fees raise the liquidity per share: {before} → {after}"
            );
            assert_eq!(h.shares(pool.pair, alice).await, shares, "no shares minted");
        }
    }
    assert!(
        hf_after[1] > hf_after[0],
        "opposite directions leave the pool healthier than the same direction"
    );
}

/// `state` resized to `liquidity`, as the codec predicts.
fn resized(state: &MarketState, liquidity: U256) -> MarketState {
    let mut resized = *state;
    resized.resize(liquidity).expect("a valid resize");
    resized
}

/// Checks that `receipt` resized `market` to `liquidity` (its `ResizeApplied` event, with the codec's resized
/// state) and that the chain holds the resized state, which the mirror takes.
async fn assert_resized(
    h: &Harness,
    receipt: &TransactionReceipt,
    market: &mut MarketTrack,
    liquidity: U256,
) {
    let next = resized(&market.state, liquidity);
    assert_eq!(
        logs_of::<events::ResizeApplied>(receipt, market.address),
        vec![events::ResizeApplied {
            seq: next.seq,
            stateHash: next.hash(),
            liquidity
        }]
    );
    h.confirm_state(market, next).await;
}

/// The operator of `market` applies its pending resize to `liquidity` at a batch boundary ([`assert_resized`]).
async fn apply_resize(h: &Harness, market: &mut MarketTrack, liquidity: U256) {
    let next = resized(&market.state, liquidity);
    let m = market.contract(h);
    let receipt = h
        .send(
            m.applyResize(next.seq, market.state.hash(), next.hash())
                .from(market.operator),
        )
        .await;
    assert_resized(h, &receipt, market, liquidity).await;
}

/// Operator transfer (two steps), resizing (the owner requests within the vault's admitted limit, the operator
/// applies at a batch boundary, trades confirmed before are priced at the old liquidity), an L1 market resized
/// at once, and freezing after an overdue request.
#[tokio::test(flavor = "multi_thread")]
async fn operators_change_and_markets_resize_at_batch_boundaries() {
    let (h, pool, admin) = world().await;
    let owner = h.accounts.owner;
    let (operator, carol) = (h.accounts.operator, h.accounts.carol);
    let mut a = operator_market(&h, &pool, admin, false).await;
    let m = a.contract(&h);
    let mut rng = Rng(11);

    // Operator transfer.
    let receipt = h.send(m.transferOperator(carol).from(operator)).await;
    assert_eq!(
        logs_of::<events::OperatorTransferStarted>(&receipt, a.address),
        vec![events::OperatorTransferStarted {
            operator,
            pendingOperator: carol
        }]
    );
    assert_eq!(m.pendingOperator().call().await.unwrap(), carol);
    assert_eq!(
        m.operator().call().await.unwrap(),
        operator,
        "not before acceptance"
    );
    let receipt = h.send(m.acceptOperator().from(carol)).await;
    assert_eq!(
        logs_of::<events::OperatorTransferred>(&receipt, a.address),
        vec![events::OperatorTransferred {
            previousOperator: operator,
            operator: carol
        }]
    );
    assert_eq!(m.operator().call().await.unwrap(), carol);
    assert_eq!(m.pendingOperator().call().await.unwrap(), Address::ZERO);
    a.operator = carol;
    h.fund_trader(&pool, carol).await;
    let (_, now) = h.head().await;
    let ops = random_batch(&mut rng, &a.state, now, 8);
    submit_checked(&h, &pool, &mut a, now, &ops).await;

    // Resize up: the owner raises the vault's limit (admission), then requests; the operator confirms more
    // trades at the old liquidity, then applies the resize at a batch boundary.
    let old = a.state.pool.liquidity;
    let bigger = old * U256::from(3) / U256::from(2);
    h.send(h.vault().updateMarket(a.address, bigger, true).from(owner))
        .await;
    let (_, now) = h.head().await;
    let receipt = h.send(m.requestResize(bigger, now + 3_600).from(owner)).await;
    assert_eq!(
        logs_of::<events::ResizeRequested>(&receipt, a.address),
        vec![events::ResizeRequested {
            liquidity: bigger,
            deadline: now + 3_600
        }]
    );
    let pending = m.pendingResize().call().await.unwrap();
    assert_eq!((pending._0, pending._1), (bigger, now + 3_600));
    assert_eq!(
        h.market_state(&a).await.pool.liquidity,
        old,
        "a request changes no price"
    );
    let ops = random_batch(&mut rng, &a.state, now, 8);
    submit_checked(&h, &pool, &mut a, now, &ops).await;
    assert_eq!(
        a.state.pool.liquidity, old,
        "trades confirmed before the resize keep the old liquidity"
    );

    apply_resize(&h, &mut a, bigger).await;
    assert_eq!(
        h.vault().marketInfo(a.address).call().await.unwrap()._7.1,
        bigger,
        "the vault records the resized liquidity"
    );
    let pending = m.pendingResize().call().await.unwrap();
    assert_eq!((pending._0, pending._1), (U256::ZERO, 0));
    assert_invariants(&h).await;
    let ops = random_batch(&mut rng, &a.state, now, 8);
    submit_checked(&h, &pool, &mut a, now, &ops).await;

    // Resize down, overdue: the owner freezes the market; the operator can still apply; the owner unfreezes.
    let smaller = old / U256::from(2);
    let (_, now) = h.head().await;
    h.send(m.requestResize(smaller, now + 5).from(owner)).await;
    h.advance(10).await;
    while h.head().await.1 <= now + 5 {
        h.advance(1).await;
    }
    let receipt = h.send(m.setFrozen(true).from(owner)).await;
    assert_eq!(
        logs_of::<events::FrozenSet>(&receipt, a.address),
        vec![events::FrozenSet { frozen: true }]
    );
    assert!(m.frozen().call().await.unwrap());
    apply_resize(&h, &mut a, smaller).await;
    h.send(m.setFrozen(false).from(owner)).await;
    assert!(!m.frozen().call().await.unwrap());
    let (_, now) = h.head().await;
    let ops = random_batch(&mut rng, &a.state, now, 8);
    submit_checked(&h, &pool, &mut a, now, &ops).await;

    // An L1 market applies a resize at once.
    let mut l1 = h
        .deploy_market(
            admin,
            pool.pair,
            h.accounts.funder,
            true,
            concentrated(CollectFeeMode::OnlyB, 50_000, false),
        )
        .await;
    let limit = l1.state.pool.liquidity * U256::from(2);
    h.register_market(&mut l1, limit).await;
    let receipt = h.send(l1.contract(&h).requestResize(limit, 0).from(owner)).await;
    assert_resized(&h, &receipt, &mut l1, limit).await;
    let bob = h.accounts.bob;
    h.fund_trader(&pool, bob).await;
    h.l1_swap(
        &pool,
        &mut l1,
        bob,
        false,
        false,
        200 * 10u128.pow(18),
        h.accounts.referrer,
    )
    .await;
    assert_invariants(&h).await;
}

/// Quotes answer what a swap then pays (same block time, no referral).
#[tokio::test(flavor = "multi_thread")]
async fn quotes_match_the_codec() {
    let (h, pool, admin) = world().await;
    let params = concentrated(CollectFeeMode::OnlyB, 100_000, true);
    let a = l2_market(&h, &pool, admin, h.accounts.operator, params).await;
    let m = a.contract(&h);
    let (_, now) = h.head().await;
    for (zero_for_one, amount) in [(true, 1_000u128), (false, 3_000), (true, 1), (false, 2_000)] {
        let amount = amount * 10u128.pow(18);
        for exact_out in [false, true] {
            let op = op(zero_for_one, exact_out, amount, now);
            let mut pool_state = a.state.pool;
            let r = damm::market_codec::exec::swap(&mut pool_state, &op, false).expect("a valid quote");
            let fee = U256::from(r.claiming_fee + r.compounding_fee + r.protocol_fee + r.referral_fee);
            let q = if exact_out {
                let q = m
                    .quoteExactOut(zero_for_one, U256::from(amount))
                    .call()
                    .await
                    .unwrap();
                (q._0, q._1)
            } else {
                let q = m
                    .quoteExactIn(zero_for_one, U256::from(amount))
                    .call()
                    .await
                    .unwrap();
                (q._0, q._1)
            };
            let expected = if exact_out {
                r.included_fee_input_amount
            } else {
                r.output_amount
            };
            assert_eq!(
                q,
                (U256::from(expected), fee),
                "{zero_for_one} {exact_out} {amount}"
            );
        }
    }
    // The same block time is assumed: the market's last trade is its creation, so the dynamic fee is at rest.
    assert_eq!(a.state.pool.fees.dynamic_fee.volatility_accumulator, 0);
}

#[test]
fn the_market_programs_fit_the_stylus_size_limit() {
    for (name, program) in [
        ("damm-market", &programs().market),
        ("damm-market-admin", &programs().market_admin),
    ] {
        let sizes = program.sizes();
        println!(
            "SIZE {name}: {} bytes compressed (deploy code), {} bytes processed wasm, {} bytes raw wasm",
            sizes.code, sizes.processed, sizes.raw
        );
        assert!(sizes.within_limits(), "{name}: {sizes:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_and_an_l1_swap_report_their_gas() {
    let (h, pool, admin) = world().await;
    let mut a = operator_market(&h, &pool, admin, false).await;
    let (_, now) = h.head().await;
    let ops = random_batch(&mut Rng(1), &a.state, now, 16);
    let (receipt, _) = h.submit_ops(&pool, &mut a, now, &ops).await;
    report_gas("submitBatch (16 swaps)", &receipt);
    let params = concentrated(CollectFeeMode::OnlyB, 50_000, true);
    let mut l1 = l1_market(&h, &pool, admin, h.accounts.carol, params).await;
    let receipt = h
        .l1_swap(
            &pool,
            &mut l1,
            h.accounts.bob,
            true,
            true,
            1_000 * 10u128.pow(18),
            h.accounts.referrer,
        )
        .await;
    report_gas("L1 swap", &receipt);
    assert_invariants(&h).await;
}
