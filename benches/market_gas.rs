//! Gas of the market on the devnode (issue 6, "Benchmarks"): `submitBatch` with 2, 16, 64 and 256 swaps for a
//! concentrated market with a static fee, one with the dynamic fee and a compounding market, the marginal gas
//! per swap, the calldata per swap, and L1 `swap`s. Every batch is random (seeded) and checked against the
//! codec's prediction, as in the end-to-end tests.
//!
//! The batches are round trips (a swap, then the opposite swap of its output), so their net flows are fees and
//! the vault settles them from its raw balances, without burning LP tokens at the pair: the figures measure the
//! market, not how often the vault burns. A last row shows one-way random batches, with LP burns.
//!
//! `cargo bench --bench market_gas` (or `scripts/bench-market-gas.sh`). Runs on the in-process devnode, or on
//! `DAMM_E2E_RPC` with `DAMM_E2E_KEY` like the end-to-end tests.

#[path = "../tests/e2e/mod.rs"]
mod e2e;

use alloy::primitives::Address;
use damm::{market_codec::encode_batch, math::CollectFeeMode};
use e2e::market::{compounding, concentrated, l1_market, l2_market, random_batch, round_trips, world, Rng};

const SIZES: [usize; 4] = [2, 16, 64, 256];

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(run());
}

async fn run() {
    let (h, pool, admin) = world().await;
    let operator = h.accounts.operator;
    let mut rng = Rng(0x5eed_0006);
    println!("\nsubmitBatch gas on the devnode\n");
    println!(
        "| market | {} | marginal per swap (16→256) | marginal (64→256) | ops bytes per swap |",
        SIZES.map(|n| format!("{n} swaps")).join(" | ")
    );
    println!("|---|---|---|---|---|---|---|---|");
    let markets = [
        (
            "concentrated, static fee",
            concentrated(CollectFeeMode::BothToken, 200_000, false),
            false,
        ),
        (
            "concentrated, dynamic fee (OnlyB)",
            concentrated(CollectFeeMode::OnlyB, 200_000, true),
            false,
        ),
        ("compounding", compounding(20_000), false),
        (
            "concentrated, static fee, one-way batches",
            concentrated(CollectFeeMode::BothToken, 200_000, false),
            true,
        ),
    ];
    for (label, params, one_way) in markets {
        let mut market = l2_market(&h, &pool, admin, operator, params).await;
        // A first round trip leaves the vault some of both tokens.
        h.settle_round_trips(&pool, &mut market, &mut rng, 2).await;
        let mut gas = Vec::new();
        let mut bytes = Vec::new();
        for n in SIZES {
            let (_, now) = h.head().await;
            let ops = if one_way {
                random_batch(&mut rng, &market.state, now, n)
            } else {
                round_trips(&mut rng, &market.state, now, n)
            };
            bytes.push(encode_batch(now, &ops).expect("encodes").len());
            let (receipt, totals) = h.submit_ops(&pool, &mut market, now, &ops).await;
            assert_eq!(totals.swaps, n as u64);
            gas.push(receipt.gas_used);
        }
        let marginal = (gas[3] as f64 - gas[1] as f64) / 240.0;
        let marginal_large = (gas[3] as f64 - gas[2] as f64) / 192.0;
        let per_swap = (bytes[3] - 8) as f64 / 256.0;
        println!(
            "| {label} | {} | {marginal:.0} | {marginal_large:.0} | {per_swap:.1} |",
            gas.iter().map(u64::to_string).collect::<Vec<_>>().join(" | ")
        );
    }

    let params = concentrated(CollectFeeMode::BothToken, 100_000, false);
    let mut l1 = l1_market(&h, &pool, admin, h.accounts.carol, params).await;
    let bob = h.accounts.bob;
    println!("\nL1 swap gas (1,000 tokens)\n\n| swap | gas |\n|---|---|");
    for (label, zero_for_one, exact_in, referral) in [
        (
            "exact in, token0 → token1, no referral",
            true,
            true,
            Address::ZERO,
        ),
        (
            "exact in, token1 → token0, with referral",
            false,
            true,
            h.accounts.referrer,
        ),
        (
            "exact out, token0 → token1, no referral",
            true,
            false,
            Address::ZERO,
        ),
        (
            "exact in, token1 → token0, no referral",
            false,
            true,
            Address::ZERO,
        ),
    ] {
        let receipt = h
            .l1_swap(
                &pool,
                &mut l1,
                bob,
                zero_for_one,
                exact_in,
                1_000 * 10u128.pow(18),
                referral,
            )
            .await;
        println!("| {label} | {} |", receipt.gas_used);
    }
}
