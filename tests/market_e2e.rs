//! End-to-end tests of the market contract (issue 6, "Tests") through JSON-RPC with alloy: the compiled WASM of
//! the market, its admin program and the vault on the devnode (or on the node named by `DAMM_E2E_RPC`, see
//! `tests/e2e/mod.rs`), against the real Uniswap V2 factory, pair and ERC-20s of `@uniswap/v2-core`.
//!
//! Every expected state, hash and flow is computed independently off-chain with the shared codec and math
//! crates (as an operator computes them), never copied from a run. After every step the vault's invariants
//! are checked ([`assert_invariants`]).

mod e2e;

use alloy::primitives::{Address, U256};
use damm::math::CollectFeeMode;
use e2e::{
    assert_invariants, e18,
    market::{concentrated, random_batch, MarketTrack, Rng, ALICE_0, ALICE_1},
    report_gas, Harness, PoolTrack,
};

/// A harness whose main pool holds Alice's Uniswap position, with the market-admin program deployed.
async fn world() -> (Harness, PoolTrack, Address) {
    let h = Harness::new().await;
    let pool = h.pools()[0];
    let alice = h.accounts.alice;
    h.fund(pool.token0, alice, e18(ALICE_0)).await;
    h.fund(pool.token1, alice, e18(ALICE_1)).await;
    let lp = h.add_liquidity(&pool, alice, e18(ALICE_0), e18(ALICE_1)).await;
    h.approve_max(pool.pair, alice, h.vault).await;
    h.send(h.vault().depositLp(pool.pair, lp, U256::ZERO, alice).from(alice))
        .await;
    let admin = h.deploy_market_admin().await;
    (h, pool, admin)
}

/// An L2 market of `operator` on the main pool, registered at its own liquidity, the operator funded.
async fn l2_market(
    h: &Harness,
    pool: &PoolTrack,
    admin: Address,
    operator: Address,
    params: damm::market_codec::MarketParams,
) -> MarketTrack {
    let mut m = h.deploy_market(admin, pool.pair, operator, false, params).await;
    let limit = m.state.pool.liquidity;
    h.register_market(&mut m, limit).await;
    h.fund_trader(pool, operator).await;
    m
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_and_an_l1_swap_settle_with_the_vault() {
    let (h, pool, admin) = world().await;
    let operator = h.accounts.operator;
    let mut a = l2_market(
        &h,
        &pool,
        admin,
        operator,
        concentrated(CollectFeeMode::BothToken, 100_000, false),
    )
    .await;
    let mut l1 = h
        .deploy_market(
            admin,
            pool.pair,
            h.accounts.carol,
            true,
            concentrated(CollectFeeMode::OnlyB, 50_000, true),
        )
        .await;
    let limit = l1.state.pool.liquidity;
    h.register_market(&mut l1, limit).await;
    assert_invariants(&h).await;

    let (_, now) = h.head().await;
    let mut rng = Rng(1);
    let ops = random_batch(&mut rng, &a.state, now, 16);
    let (receipt, _) = h.submit_ops(&pool, &mut a, now, &ops).await;
    report_gas("submitBatch (16 swaps)", &receipt);
    assert_invariants(&h).await;

    let bob = h.accounts.bob;
    h.fund_trader(&pool, bob).await;
    let receipt = h
        .l1_swap(
            &pool,
            &mut l1,
            bob,
            true,
            true,
            1_000 * 10u128.pow(18),
            h.accounts.referrer,
        )
        .await;
    report_gas("L1 swap", &receipt);
    assert_invariants(&h).await;
}
