//! End-to-end tests of the vault (issue 5, "Tests") through JSON-RPC with alloy: the compiled WASM on the devnode
//! (or on the node named by `DAMM_E2E_RPC`, see `tests/e2e/mod.rs`), against the real Uniswap V2 factory, pairs
//! and ERC-20s of `@uniswap/v2-core`, with `test-forwarder` as the market and `test-token` as the hostile token.
//!
//! Every expected value is computed independently — with the `damm_math` crate (the same functions the vault
//! uses, run here off-chain), with Uniswap V2's formulas, or by explicit arithmetic — never copied from a run.
//! After every step, [`assert_invariants`] checks the vault's balances against its accounting and the shares
//! against their holders. Gas figures and the vault's size are printed (`--nocapture` shows them).

mod e2e;

use std::collections::BTreeMap;

use alloy::{
    contract::CallBuilder,
    network::TransactionBuilder,
    primitives::{Address, Bytes, U256},
    providers::DynProvider,
    rpc::types::{TransactionReceipt, TransactionRequest},
    sol_types::{Revert, SolCall, SolError, SolInterface},
};
use damm::{
    bindings::{IVault, IERC20},
    math::{
        vault::{
            health_factor, lp_liquidity, pool_liquidity, settle, shares_for_deposit, withdrawal, worst_case,
            AdmissionFailure, Exposure, PairState, PoolHoldings, WorstCase, DEAD_SHARES, DEFAULT_HF_MIN,
            HF_ONE,
        },
        PositionReward, RewardInfo,
    },
};
use e2e::{
    assert_invariants, e18, events, logs_of, programs, report_gas, small, snapshot, u, Harness, PoolTrack,
};

/// The vault's errors with their parameter names, as declared in the contract: an expected error is encoded
/// with these and compared byte for byte with the revert data (which must also decode as `IVault`'s).
mod errors {
    alloy::sol! {
        #[derive(Debug)]
        error Unauthorized(address caller);
        #[derive(Debug)]
        error ContractPaused();
        #[derive(Debug)]
        error InvalidAddress(address value);
        #[derive(Debug)]
        error ZeroAmount();
        #[derive(Debug)]
        error SlippageExceeded(uint256 shares, uint256 minShares);
        #[derive(Debug)]
        error FeeOnTransfer(address token, uint256 expected, uint256 received);
        #[derive(Debug)]
        error TokenCallFailed(address token, bytes data);
        #[derive(Debug)]
        error InsufficientShares(address account, uint256 balance, uint256 needed);
        #[derive(Debug)]
        error InsufficientAllowance(address owner, address spender, uint256 allowance, uint256 needed);
        #[derive(Debug)]
        error WithdrawalExceedsFree(uint256 requested, uint256 available);
        #[derive(Debug)]
        error MarketInactive(address market);
        #[derive(Debug)]
        error MarketOutOfBounds(address market);
        #[derive(Debug)]
        error InvalidFlows();
        #[derive(Debug)]
        error PayoutUncovered(uint256 out0, uint256 out1);
        #[derive(Debug)]
        error HealthFactorTooLow(uint256 before, uint256 after, uint256 minimum);
        #[derive(Debug)]
        error ReentryFailed(bytes data);
    }
}

/// Asserts that `data` is one of the vault's errors, exactly `expected` (selector and every value).
fn assert_error<E: SolError + std::fmt::Debug>(data: &Bytes, expected: E) {
    let decoded = IVault::IVaultErrors::abi_decode(data)
        .unwrap_or_else(|e| panic!("revert data {data} is not one of IVault's errors ({e})"));
    assert_eq!(
        data.as_ref(),
        expected.abi_encode().as_slice(),
        "expected {expected:?}, the vault reverted with {decoded:?}"
    );
}

/// 2^64: one in Q64.64.
const Q64: u128 = 1 << 64;

/// `floor(sqrt(x))`.
fn isqrt(x: U256) -> U256 {
    x.root(2)
}

// ---- the scenarios' building blocks ---------------------------------------------------------------------------

/// The main pool's initial Uniswap liquidity, added by Alice: 1,000,000 token0 and 4,000,000 token1 (price 4,
/// `√P` = 2).
const ALICE_0: u64 = 1_000_000;
const ALICE_1: u64 = 4_000_000;

/// Gives `who` `amount0`/`amount1` of the pool's tokens and adds them on Uniswap; returns the LP minted,
/// checked against Uniswap V2's formula (`sqrt(a0·a1) − 1000` for the first mint, else the smaller share).
async fn add_liquidity(h: &Harness, pool: &PoolTrack, who: Address, amount0: U256, amount1: U256) -> U256 {
    let before = h.pair_state(pool.pair).await;
    h.fund(pool.token0, who, amount0).await;
    h.fund(pool.token1, who, amount1).await;
    let minted = h.add_liquidity(pool, who, amount0, amount1).await;
    let expected = if before.total_supply.is_zero() {
        isqrt(amount0 * amount1) - U256::from(1_000)
    } else {
        (amount0 * before.total_supply / U256::from(before.reserve0))
            .min(amount1 * before.total_supply / U256::from(before.reserve1))
    };
    assert_eq!(minted, expected, "Uniswap mints by its formula");
    minted
}

/// The shares a deposit of `lp` LP tokens mints now, by the math crate.
async fn expected_lp_shares(h: &Harness, pool: Address, lp: U256) -> (U256, U256) {
    let info = h.pool_info(pool).await;
    let pair = h.pair_state(pool).await;
    let minted = shares_for_deposit(
        info.total_shares,
        pool_liquidity(&info.holdings(), &pair).unwrap(),
        lp_liquidity(lp, &pair).unwrap(),
    )
    .unwrap();
    (minted.shares, minted.dead)
}

/// `who` deposits `lp` LP tokens for shares to itself (approving the vault first); checks the shares against
/// the math crate, the pool's accounting, the events, and the invariants. Returns the shares and the receipt.
async fn deposit_lp(h: &Harness, pool: Address, who: Address, lp: U256) -> (U256, TransactionReceipt) {
    h.approve_max(pool, who, h.vault).await;
    let (expected, dead) = expected_lp_shares(h, pool, lp).await;
    let info = h.pool_info(pool).await;
    let shares_before = h.shares(pool, who).await;
    let receipt = h
        .send(h.vault().depositLp(pool, lp, expected, who).from(who))
        .await;
    assert_eq!(h.shares(pool, who).await, shares_before + expected);
    let after = h.pool_info(pool).await;
    assert_eq!(after.lp, info.lp + lp);
    assert_eq!(after.total_shares, info.total_shares + expected + dead);
    let mut transfers = vec![];
    if !dead.is_zero() {
        transfers.push(events::Transfer {
            pool,
            from: Address::ZERO,
            to: Address::ZERO,
            amount: dead,
        });
    }
    transfers.push(events::Transfer {
        pool,
        from: Address::ZERO,
        to: who,
        amount: expected,
    });
    assert_eq!(logs_of::<events::Transfer>(&receipt, h.vault), transfers);
    assert_eq!(
        logs_of::<events::Deposit>(&receipt, h.vault),
        vec![events::Deposit {
            pool,
            sender: who,
            receiver: who,
            lp,
            shares: expected
        }]
    );
    // The LP tokens moved from the depositor to the vault (the pair's own ERC-20 event).
    let lp_moves = logs_of::<IERC20::Transfer>(&receipt, pool);
    assert_eq!(lp_moves.len(), 1);
    assert_eq!(
        (lp_moves[0].from, lp_moves[0].to, lp_moves[0].value),
        (who, h.vault, lp)
    );
    assert_invariants(h).await;
    (expected, receipt)
}

/// A harness whose main pool holds Alice's whole Uniswap position (2,000,000 LP tokens less the pair's 1,000
/// locked): the first deposit. Returns Alice's shares too.
async fn seeded() -> (Harness, PoolTrack, U256) {
    let h = Harness::new().await;
    let pool = h.pools()[0];
    let lp = add_liquidity(&h, &pool, h.accounts.alice, e18(ALICE_0), e18(ALICE_1)).await;
    let (shares, _) = deposit_lp(&h, pool.pair, h.accounts.alice, lp).await;
    (h, pool, shares)
}

/// A market as the test registers it, and the state it last reported.
#[derive(Debug, Clone, Copy)]
struct Market {
    address: Address,
    pool: Address,
    sqrt_min: u128,
    sqrt_max: u128,
    /// The liquidity it is admitted with (2^64-scaled).
    limit: U256,
    /// Its last reported `√P` (Q64.64) and liquidity.
    sqrt_price: u128,
    liquidity: U256,
}

impl Market {
    /// A concentrated market around `√P` = 2 (price 4, the pool's) in `√P ∈ [1.8, 2.2]` with real liquidity
    /// `liquidity` (tokens).
    fn around_two(address: Address, pool: Address, liquidity: U256) -> Market {
        let limit = liquidity << 64;
        Market {
            address,
            pool,
            sqrt_min: 18 * Q64 / 10,
            sqrt_max: 22 * Q64 / 10,
            limit,
            sqrt_price: 2 * Q64,
            liquidity: limit,
        }
    }

    /// What the admission check counts for it (at its limit, from its last reported price).
    fn exposure(&self) -> Exposure {
        Exposure::concentrated(self.sqrt_min, self.sqrt_price, self.sqrt_max, self.limit).unwrap()
    }

    fn state(&self) -> (U256, U256, U256, U256) {
        (
            U256::from(self.sqrt_price),
            self.liquidity,
            U256::ZERO,
            U256::ZERO,
        )
    }
}

/// The math crate's worst case of `pool` as it is now, with `markets`.
async fn worst_case_now(
    h: &Harness,
    pool: Address,
    markets: &[Market],
) -> Result<WorstCase, AdmissionFailure> {
    let info = h.pool_info(pool).await;
    let pair = h.pair_state(pool).await;
    let exposures: Vec<Exposure> = markets.iter().map(Market::exposure).collect();
    worst_case(&info.holdings(), &pair, info.total_shares, &exposures).unwrap()
}

/// Registers `market` (owner), after checking with the math crate that its admission passes; checks the
/// `worstCase` view against the math crate and the stored registration.
async fn register(h: &Harness, market: &Market, others: &[Market]) {
    let mut all = others.to_vec();
    all.push(*market);
    let expected = worst_case_now(h, market.pool, &all)
        .await
        .expect("the worst case is covered");
    let info = h.pool_info(market.pool).await;
    assert!(
        expected.health_factor >= info.hf_min,
        "the test registers an admissible market"
    );
    let vault = h.vault();
    let call = vault
        .registerMarket(
            market.address,
            market.pool,
            h.accounts.operator,
            false,
            (U256::from(market.sqrt_min), U256::from(market.sqrt_max)),
            market.limit,
            market.state(),
        )
        .from(h.accounts.owner);
    let receipt = h.send(call).await;
    assert_eq!(
        logs_of::<events::MarketRegistered>(&receipt, h.vault),
        vec![events::MarketRegistered {
            market: market.address,
            pool: market.pool,
            operator: h.accounts.operator,
            compounding: false,
            liquidityLimit: market.limit,
        }]
    );
    let view = h.vault().worstCase(market.pool).call().await.unwrap();
    assert_eq!(
        (view._0, view._1, view._2),
        (true, expected.up, expected.health_factor)
    );
    assert_invariants(h).await;
}

/// Net flows of one settlement, in token atoms.
#[derive(Debug, Clone, Copy, Default)]
struct Flows {
    in0: u128,
    in1: u128,
    out0: u128,
    out1: u128,
    protocol0: u128,
    protocol1: u128,
    referral0: u128,
    referral1: u128,
}

impl Flows {
    fn array(&self) -> [U256; 8] {
        [
            self.in0,
            self.in1,
            self.out0,
            self.out1,
            self.protocol0,
            self.protocol1,
            self.referral0,
            self.referral1,
        ]
        .map(U256::from)
    }

    /// A trader buying `out0` token0 for `input` token1 (fees included), the fee `fee` of it: 20% of the fee
    /// to the protocol, of which 20% to the referrer.
    fn buy0(out0: u128, input: u128, fee: u128) -> Flows {
        let (protocol, referral) = split(fee);
        Flows {
            in1: input,
            out0,
            protocol1: protocol,
            referral1: referral,
            ..Flows::default()
        }
    }

    /// A trader selling `input` token0 (fees included) for `out1` token1.
    fn sell0(input: u128, out1: u128, fee: u128) -> Flows {
        let (protocol, referral) = split(fee);
        Flows {
            in0: input,
            out1,
            protocol0: protocol,
            referral0: referral,
            ..Flows::default()
        }
    }
}

/// `(protocol, referral)` of a trading fee: the protocol's 20%, less the referrer's 20% of it.
fn split(fee: u128) -> (u128, u128) {
    let protocol = fee / 5;
    let referral = protocol / 5;
    (protocol - referral, referral)
}

/// The calldata of `settle` through the market: `forward(vault, settle(...))`.
fn settle_through(
    h: &Harness,
    market: Address,
    from: Address,
    counterparty: Address,
    referrer: Address,
    flows: &Flows,
    state: (U256, U256, U256, U256),
) -> CallBuilder<DynProvider, ()> {
    let inner = h
        .vault()
        .settle(counterparty, referrer, flows.array(), state)
        .calldata()
        .clone();
    let outer = h.forwarder_at(market).forward(h.vault, inner).calldata().clone();
    CallBuilder::new_raw(h.provider.clone(), outer)
        .from(from)
        .to(market)
}

/// The operator settles `flows` through `market` as its own counterparty, the referral fees going to the
/// referrer, with the market's current state.
fn operator_settlement(
    h: &Harness,
    a: &e2e::Accounts,
    market: &Market,
    flows: &Flows,
) -> CallBuilder<DynProvider, ()> {
    settle_through(
        h,
        market.address,
        a.operator,
        a.operator,
        a.referrer,
        flows,
        market.state(),
    )
}

/// What one settlement did, as the test expected and checked it.
struct Settlement {
    receipt: TransactionReceipt,
    burnt: U256,
    hf_before: U256,
    hf_after: U256,
}

/// Settles `flows` through `market` with the operator as counterparty and the referrer, the market reporting
/// `√P` = `sqrt_price`; checks everything against the math crate's `settle` and explicit arithmetic: the pool's
/// holdings, the pair, the LP tokens burnt, the health factor, the protocol fees, every party's balances, the
/// `Settled` event, and the invariants.
async fn settle_checked(h: &Harness, market: &mut Market, flows: Flows, sqrt_price: u128) -> Settlement {
    let (operator, referrer) = (h.accounts.operator, h.accounts.referrer);
    let pool = market.pool;
    let info = h.pool_info(pool).await;
    let pair = h.pair_state(pool).await;
    let hf_before = h.hf(pool).await;
    let kept0 = flows.in0 - flows.protocol0 - flows.referral0;
    let kept1 = flows.in1 - flows.protocol1 - flows.referral1;
    let (after, pair_after) = settle(&info.holdings(), &pair, kept0, kept1, flows.out0, flows.out1).unwrap();
    let burnt = info.lp - after.lp;
    let hf_after = health_factor(pool_liquidity(&after, &pair_after).unwrap(), info.total_shares).unwrap();
    let balances = |account: Address| async move {
        (
            h.balance(info.token0, account).await,
            h.balance(info.token1, account).await,
        )
    };
    let (op0, op1) = balances(operator).await;
    let (ref0, ref1) = balances(referrer).await;
    let (fees0, fees1) = (
        h.protocol_fees(info.token0).await,
        h.protocol_fees(info.token1).await,
    );

    market.sqrt_price = sqrt_price;
    let call = settle_through(
        h,
        market.address,
        operator,
        operator,
        referrer,
        &flows,
        market.state(),
    );
    let receipt = h.send(call).await;

    let now = h.pool_info(pool).await;
    assert_eq!(now.holdings(), after, "holdings after the settlement");
    assert_eq!(
        now.total_shares, info.total_shares,
        "a settlement mints no shares"
    );
    assert_eq!(h.pair_state(pool).await, pair_after, "the pair after the burn");
    assert_eq!(h.balance(pool, h.vault).await, after.lp);
    assert_eq!(h.hf(pool).await, hf_after);
    let signed = |x: u128| U256::from(x);
    assert_eq!(
        balances(operator).await,
        (
            op0 + signed(flows.out0) - signed(flows.in0),
            op1 + signed(flows.out1) - signed(flows.in1)
        ),
        "the operator pays the inputs and gets the outputs"
    );
    assert_eq!(
        balances(referrer).await,
        (ref0 + signed(flows.referral0), ref1 + signed(flows.referral1))
    );
    assert_eq!(
        (
            h.protocol_fees(info.token0).await,
            h.protocol_fees(info.token1).await
        ),
        (fees0 + signed(flows.protocol0), fees1 + signed(flows.protocol1))
    );
    assert_eq!(
        logs_of::<events::Settled>(&receipt, h.vault),
        vec![events::Settled {
            market: market.address,
            counterparty: operator,
            in0: signed(flows.in0),
            in1: signed(flows.in1),
            out0: signed(flows.out0),
            out1: signed(flows.out1),
            lpBurned: burnt,
            healthFactor: hf_after,
        }]
    );
    let m = h.vault().marketInfo(market.address).call().await.unwrap();
    assert_eq!(m._7, market.state(), "the market's reported state is stored");
    assert_invariants(h).await;
    Settlement {
        receipt,
        burnt,
        hf_before,
        hf_after,
    }
}

/// The operator holds plenty of both tokens and lets the vault pull them.
async fn fund_operator(h: &Harness, pool: &PoolTrack) {
    let operator = h.accounts.operator;
    h.fund(pool.token0, operator, e18(10_000_000)).await;
    h.fund(pool.token1, operator, e18(10_000_000)).await;
    h.approve_max(pool.token0, operator, h.vault).await;
    h.approve_max(pool.token1, operator, h.vault).await;
}

/// The first test market (the harness's forwarder) on the main pool: real liquidity 300,000 in `√P ∈ [1.8,
/// 2.2]`, i.e. at most ~13,600 token0 out on the way up and 60,000 token1 on the way down.
async fn with_market(h: &Harness, pool: &PoolTrack) -> Market {
    let market = Market::around_two(h.forwarder, pool.pair, e18(300_000));
    register(h, &market, &[]).await;
    fund_operator(h, pool).await;
    market
}

/// Trade A: the operator's users buy 10,000 token0 for 40,120 token1 (fee 120). The pool holds no raw token0,
/// so LP tokens are burnt.
fn trade_a() -> Flows {
    Flows::buy0(small(e18(10_000)), small(e18(40_120)), small(e18(120)))
}

/// Trade B: they sell 10,030 token0 (fee 30) for 40,000 token1, paid from raw token1.
fn trade_b() -> Flows {
    Flows::sell0(small(e18(10_030)), small(e18(40_000)), small(e18(30)))
}

// ---- 1. deposits and shares -----------------------------------------------------------------------------------

#[tokio::test]
async fn deposits_mint_fair_shares_and_shares_move_like_an_erc20() {
    let h = Harness::new().await;
    let pool = h.pools()[0];
    let a = h.accounts;
    assert_invariants(&h).await;

    // Alice's Uniswap position: sqrt(1e24 · 4e24) − 1000 LP tokens.
    let lp_alice = add_liquidity(&h, &pool, a.alice, e18(ALICE_0), e18(ALICE_1)).await;
    assert_eq!(lp_alice, e18(2_000_000) - u(1_000));

    // Asking for one share more than the deposit is worth is refused, naming both numbers.
    h.approve_max(pool.pair, a.alice, h.vault).await;
    let fair = lp_alice; // the LP tokens' sqrt(k) value: lp · sqrt(r0·r1) / T = lp (T = sqrt(r0·r1))
    let data = h
        .reverts(
            h.vault()
                .depositLp(pool.pair, lp_alice, fair - DEAD_SHARES + u(1), a.alice)
                .from(a.alice),
        )
        .await;
    assert_error(
        &data,
        errors::SlippageExceeded {
            shares: fair - DEAD_SHARES,
            minShares: fair - DEAD_SHARES + u(1),
        },
    );
    assert_invariants(&h).await;

    // The first deposit: 1000 dead shares at the zero address, the rest to Alice; HF exactly 1.
    let (alice_shares, receipt) = deposit_lp(&h, pool.pair, a.alice, lp_alice).await;
    report_gas("depositLp (first deposit of a pool)", &receipt);
    assert_eq!(alice_shares, fair - DEAD_SHARES);
    assert_eq!(h.shares(pool.pair, Address::ZERO).await, DEAD_SHARES);
    assert_eq!(h.total_shares(pool.pair).await, fair);
    assert_eq!(h.hf(pool.pair).await, HF_ONE);

    // Bob's LP deposit: HF unchanged, shares by the math crate.
    let lp_bob = add_liquidity(&h, &pool, a.bob, e18(10_000), e18(40_000)).await;
    let (bob_lp_shares, receipt) = deposit_lp(&h, pool.pair, a.bob, lp_bob).await;
    report_gas("depositLp", &receipt);
    assert_eq!(h.hf(pool.pair).await, HF_ONE);

    // Bob's raw deposit through the pair: 1,000 token0 and at most 5,000 token1 at the pair's ratio (4):
    // 4,000 token1 taken, 1,000 left with Bob.
    h.fund(pool.token0, a.bob, e18(1_000)).await;
    h.fund(pool.token1, a.bob, e18(5_000)).await;
    h.approve_max(pool.token0, a.bob, h.vault).await;
    h.approve_max(pool.token1, a.bob, h.vault).await;
    let pair = h.pair_state(pool.pair).await;
    let (r0, r1) = (U256::from(pair.reserve0), U256::from(pair.reserve1));
    let (a0, a1) = (e18(1_000), e18(1_000) * r1 / r0);
    assert!(a1 <= e18(5_000));
    let minted = (a0 * pair.total_supply / r0).min(a1 * pair.total_supply / r1);
    let pair_after = PairState {
        reserve0: pair.reserve0 + small(a0),
        reserve1: pair.reserve1 + small(a1),
        total_supply: pair.total_supply + minted,
    };
    let info = h.pool_info(pool.pair).await;
    let expected = shares_for_deposit(
        info.total_shares,
        pool_liquidity(&info.holdings(), &pair_after).unwrap(),
        lp_liquidity(minted, &pair_after).unwrap(),
    )
    .unwrap()
    .shares;
    let receipt = h
        .send(
            h.vault()
                .depositPair(pool.pair, e18(1_000), e18(5_000), expected, a.bob)
                .from(a.bob),
        )
        .await;
    report_gas("depositPair", &receipt);
    assert_eq!(h.balance(pool.token0, a.bob).await, U256::ZERO);
    assert_eq!(h.balance(pool.token1, a.bob).await, e18(5_000) - a1);
    assert_eq!(h.pair_state(pool.pair).await, pair_after);
    assert_eq!(h.pool_info(pool.pair).await.lp, info.lp + minted);
    assert_eq!(h.shares(pool.pair, a.bob).await, bob_lp_shares + expected);
    assert_eq!(
        logs_of::<events::Deposit>(&receipt, h.vault),
        vec![events::Deposit {
            pool: pool.pair,
            sender: a.bob,
            receiver: a.bob,
            lp: minted,
            shares: expected
        }]
    );
    assert_invariants(&h).await;

    // The value of a share: HF (liquidity per share), as the math crate computes it from the pool.
    assert_eq!(h.hf(pool.pair).await, h.expected_hf(pool.pair).await);

    // Shares are ERC-20-like: transfer, approve, transferFrom, with their events.
    let vault = h.vault();
    let x = e18(1_000);
    let receipt = h.send(vault.transfer(pool.pair, a.carol, x).from(a.alice)).await;
    assert_eq!(
        logs_of::<events::Transfer>(&receipt, h.vault),
        vec![events::Transfer {
            pool: pool.pair,
            from: a.alice,
            to: a.carol,
            amount: x
        }]
    );
    assert_eq!(h.shares(pool.pair, a.carol).await, x);
    assert_eq!(h.shares(pool.pair, a.alice).await, alice_shares - x);
    assert_invariants(&h).await;

    let y = e18(500);
    let receipt = h.send(vault.approve(pool.pair, a.bob, y).from(a.alice)).await;
    assert_eq!(
        logs_of::<events::Approval>(&receipt, h.vault),
        vec![events::Approval {
            pool: pool.pair,
            owner: a.alice,
            spender: a.bob,
            amount: y
        }]
    );
    assert_eq!(
        vault.allowance(pool.pair, a.alice, a.bob).call().await.unwrap(),
        y
    );
    let receipt = h
        .send(
            vault
                .transferFrom(pool.pair, a.alice, a.carol, y / u(2))
                .from(a.bob),
        )
        .await;
    assert_eq!(
        logs_of::<events::Transfer>(&receipt, h.vault),
        vec![events::Transfer {
            pool: pool.pair,
            from: a.alice,
            to: a.carol,
            amount: y / u(2)
        }]
    );
    assert_eq!(
        vault.allowance(pool.pair, a.alice, a.bob).call().await.unwrap(),
        y - y / u(2)
    );
    assert_eq!(h.shares(pool.pair, a.carol).await, x + y / u(2));
    assert_invariants(&h).await;

    // Beyond the allowance, beyond the balance, to the zero address: refused with the numbers.
    let data = h
        .reverts(vault.transferFrom(pool.pair, a.alice, a.carol, y).from(a.bob))
        .await;
    assert_error(
        &data,
        errors::InsufficientAllowance {
            owner: a.alice,
            spender: a.bob,
            allowance: y - y / u(2),
            needed: y,
        },
    );
    let carol_shares = h.shares(pool.pair, a.carol).await;
    let data = h
        .reverts(
            vault
                .transfer(pool.pair, a.bob, carol_shares + u(1))
                .from(a.carol),
        )
        .await;
    assert_error(
        &data,
        errors::InsufficientShares {
            account: a.carol,
            balance: carol_shares,
            needed: carol_shares + u(1),
        },
    );
    let data = h
        .reverts(vault.transfer(pool.pair, Address::ZERO, u(1)).from(a.carol))
        .await;
    assert_error(&data, errors::InvalidAddress { value: Address::ZERO });
    assert_invariants(&h).await;

    // An infinite allowance is never spent.
    h.send(vault.approve(pool.pair, a.bob, U256::MAX).from(a.carol))
        .await;
    h.send(vault.transferFrom(pool.pair, a.carol, a.bob, u(7)).from(a.bob))
        .await;
    assert_eq!(
        vault.allowance(pool.pair, a.carol, a.bob).call().await.unwrap(),
        U256::MAX
    );
    assert_invariants(&h).await;
}

// ---- 2. settlements -------------------------------------------------------------------------------------------

#[tokio::test]
async fn settlements_flow_both_ways_burn_lp_and_pay_the_fees() {
    let (h, pool, _) = seeded().await;
    let a = h.accounts;
    let mut market = with_market(&h, &pool).await;

    // Trade A pays 10,000 token0 that the pool only holds as LP tokens: just enough LP tokens are burnt at
    // the pair (its supply drops), the pool's health factor falls (raw token1 alone counts for nothing).
    let pair_before = h.pair_state(pool.pair).await;
    let a_trade = settle_checked(&h, &mut market, trade_a(), 205 * Q64 / 100).await;
    report_gas("settle with LP burn", &a_trade.receipt);
    let expected_burn = e18(10_000) * pair_before.total_supply / U256::from(pair_before.reserve0);
    assert_eq!(a_trade.burnt, expected_burn, "ceil(10,000 · T / r0), exact here");
    assert_eq!(
        h.pair_state(pool.pair).await.total_supply,
        pair_before.total_supply - expected_burn
    );
    assert_eq!(a_trade.hf_before, HF_ONE);
    assert!(a_trade.hf_after < a_trade.hf_before, "an adverse flow lowers HF");

    // Trade B, the other way, is paid from raw token1: no burn. With both trades' fees kept, the pool is
    // worth more than its shares: HF above 1.
    let b_trade = settle_checked(&h, &mut market, trade_b(), 2 * Q64).await;
    report_gas("settle without LP burn", &b_trade.receipt);
    assert_eq!(b_trade.burnt, U256::ZERO);
    assert!(b_trade.hf_after > a_trade.hf_after);
    assert!(b_trade.hf_after > HF_ONE, "fees raise HF: {}", b_trade.hf_after);

    // The referrer was paid in both tokens; the protocol fees wait for the treasury, which anyone can pay.
    let (p1, r1) = split(small(e18(120)));
    let (p0, r0) = split(small(e18(30)));
    assert_eq!(h.balance(pool.token1, a.referrer).await, u(r1));
    assert_eq!(h.balance(pool.token0, a.referrer).await, u(r0));
    assert_eq!(h.protocol_fees(pool.token1).await, u(p1));
    assert_eq!(h.protocol_fees(pool.token0).await, u(p0));
    for (token, fee) in [(pool.token1, p1), (pool.token0, p0)] {
        let receipt = h.send(h.vault().claimProtocolFees(token).from(a.bob)).await;
        assert_eq!(
            logs_of::<events::ProtocolFeesClaimed>(&receipt, h.vault),
            vec![events::ProtocolFeesClaimed {
                token,
                treasury: a.treasury,
                amount: u(fee)
            }]
        );
        assert_eq!(h.balance(token, a.treasury).await, u(fee));
        assert_eq!(h.protocol_fees(token).await, U256::ZERO);
        assert_invariants(&h).await;
    }

    // A settlement netting both directions of one token: the operator pays in 3,000 and takes out 1,000
    // token0, so 2,000 move; token1 goes out beyond nothing in.
    let net = Flows {
        in0: small(e18(3_000)),
        out0: small(e18(1_000)),
        out1: small(e18(7_000)),
        ..Flows::default()
    };
    settle_checked(&h, &mut market, net, 195 * Q64 / 100).await;
}

// ---- 3. failed settlements ------------------------------------------------------------------------------------

#[tokio::test]
async fn failed_settlements_revert_and_leave_every_balance_unchanged() {
    let (h, pool, _) = seeded().await;
    let a = h.accounts;
    let market = with_market(&h, &pool).await;
    let parties = [a.operator, a.alice, a.carol];

    let check = |flows: Flows, state: (U256, U256, U256, U256), counterparty: Address, referrer: Address| {
        settle_through(
            &h,
            market.address,
            a.operator,
            counterparty,
            referrer,
            &flows,
            state,
        )
    };

    // Paying out 6% of the pool's token0 at the pool's price burns 6% of its LP tokens for raw token1 that
    // counts for nothing: HF 0.94 < 0.95.
    let flows = Flows {
        in1: small(e18(240_000)),
        out0: small(e18(60_000)),
        ..Flows::default()
    };
    let info = h.pool_info(pool.pair).await;
    let pair = h.pair_state(pool.pair).await;
    let (after, pair_after) = settle(&info.holdings(), &pair, 0, flows.in1, flows.out0, 0).unwrap();
    let hf_after = health_factor(pool_liquidity(&after, &pair_after).unwrap(), info.total_shares).unwrap();
    assert!(hf_after < DEFAULT_HF_MIN);
    let before = snapshot(&h, &pool, &parties).await;
    let data = h
        .reverts(check(flows, market.state(), a.operator, a.referrer))
        .await;
    assert_error(
        &data,
        errors::HealthFactorTooLow {
            before: HF_ONE,
            after: hf_after,
            minimum: DEFAULT_HF_MIN,
        },
    );
    assert_eq!(snapshot(&h, &pool, &parties).await, before);
    assert_invariants(&h).await;

    // More token1 than the pair even holds: uncovered.
    let flows = Flows {
        out1: small(e18(5_000_000)),
        ..Flows::default()
    };
    let data = h
        .reverts(check(flows, market.state(), a.operator, a.referrer))
        .await;
    assert_error(
        &data,
        errors::PayoutUncovered {
            out0: U256::ZERO,
            out1: e18(5_000_000),
        },
    );
    assert_eq!(snapshot(&h, &pool, &parties).await, before);

    // Fees larger than the input, or a referral fee without a referrer.
    let flows = Flows {
        in0: 10,
        protocol0: 11,
        ..Flows::default()
    };
    let data = h
        .reverts(check(flows, market.state(), a.operator, a.referrer))
        .await;
    assert_error(&data, errors::InvalidFlows {});
    let flows = Flows {
        in0: 100,
        referral0: 1,
        ..Flows::default()
    };
    let data = h
        .reverts(check(flows, market.state(), a.operator, Address::ZERO))
        .await;
    assert_error(&data, errors::InvalidFlows {});
    assert_eq!(snapshot(&h, &pool, &parties).await, before);

    // A reported state outside the registration: price above the range, liquidity above the limit.
    let mut outside = market;
    outside.sqrt_price = market.sqrt_max + 1;
    let data = h
        .reverts(check(Flows::default(), outside.state(), a.operator, a.referrer))
        .await;
    assert_error(
        &data,
        errors::MarketOutOfBounds {
            market: market.address,
        },
    );
    let mut too_big = market;
    too_big.liquidity = market.limit + u(1);
    let data = h
        .reverts(check(Flows::default(), too_big.state(), a.operator, a.referrer))
        .await;
    assert_error(
        &data,
        errors::MarketOutOfBounds {
            market: market.address,
        },
    );
    assert_eq!(snapshot(&h, &pool, &parties).await, before);

    // A counterparty that has not approved the vault: the token's own revert comes back inside
    // TokenCallFailed (Uniswap's ERC20 underflows its allowance).
    let flows = Flows {
        in1: small(e18(1_000)),
        ..Flows::default()
    };
    let data = h.reverts(check(flows, market.state(), a.carol, a.referrer)).await;
    assert_error(
        &data,
        errors::TokenCallFailed {
            token: pool.token1,
            data: Revert::from("ds-math-sub-underflow").abi_encode().into(),
        },
    );
    assert_eq!(snapshot(&h, &pool, &parties).await, before);

    // Paused by the guardian: settlements and deposits stop; nothing moves.
    h.send(h.vault().setPaused(true).from(a.guardian)).await;
    let before = snapshot(&h, &pool, &parties).await;
    let data = h
        .reverts(check(trade_a(), market.state(), a.operator, a.referrer))
        .await;
    assert_error(&data, errors::ContractPaused {});
    let data = h
        .reverts(
            h.vault()
                .depositLp(pool.pair, u(1), U256::ZERO, a.alice)
                .from(a.alice),
        )
        .await;
    assert_error(&data, errors::ContractPaused {});
    assert_eq!(snapshot(&h, &pool, &parties).await, before);
    // Only the owner unpauses.
    let data = h.reverts(h.vault().setPaused(false).from(a.guardian)).await;
    assert_error(&data, errors::Unauthorized { caller: a.guardian });
    h.send(h.vault().setPaused(false).from(a.owner)).await;
    assert_invariants(&h).await;
}

// ---- 4. withdrawals -------------------------------------------------------------------------------------------

/// The largest withdrawal of at most `balance` shares the math crate allows now (the vault's rule: the worst
/// case after the withdrawal is covered and at or above `HF_min`, or not below the worst case before).
async fn expected_max_withdraw(h: &Harness, pool: Address, markets: &[Market], balance: U256) -> U256 {
    let info = h.pool_info(pool).await;
    let pair = h.pair_state(pool).await;
    let exposures: Vec<Exposure> = markets.iter().map(Market::exposure).collect();
    let before = worst_case(&info.holdings(), &pair, info.total_shares, &exposures).unwrap();
    let allowed = |shares: U256| -> bool {
        if shares.is_zero() {
            return true;
        }
        let out = withdrawal(shares, info.total_shares, &info.holdings()).unwrap();
        let left = PoolHoldings {
            raw0: small(info.raw0) - out.raw0,
            raw1: small(info.raw1) - out.raw1,
            lp: info.lp - out.lp,
        };
        match worst_case(&left, &pair, info.total_shares - shares, &exposures).unwrap() {
            Err(_) => false,
            Ok(w) => {
                w.health_factor >= info.hf_min
                    || matches!(before, Ok(b) if w.health_factor >= b.health_factor)
            }
        }
    };
    if allowed(balance) {
        return balance;
    }
    let (mut lo, mut hi) = (U256::ZERO, balance);
    while hi - lo > u(1) {
        let mid = lo + (hi - lo) / u(2);
        if allowed(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

#[tokio::test]
async fn withdrawals_pay_pro_rata_in_kind_within_free_liquidity() {
    let (h, pool, _) = seeded().await;
    let a = h.accounts;
    let mut market = with_market(&h, &pool).await;
    // Two trades leave the pool with raw token0, raw token1 and LP tokens.
    settle_checked(&h, &mut market, trade_a(), 205 * Q64 / 100).await;
    settle_checked(&h, &mut market, trade_b(), 2 * Q64).await;
    let vault = h.vault();

    // Carol gets 10% of Alice's shares and withdraws them: her part of each holding, in kind.
    let alice_shares = h.shares(pool.pair, a.alice).await;
    h.send(
        vault
            .transfer(pool.pair, a.carol, alice_shares / u(10))
            .from(a.alice),
    )
    .await;
    let shares = h.shares(pool.pair, a.carol).await;
    let info = h.pool_info(pool.pair).await;
    let out = withdrawal(shares, info.total_shares, &info.holdings()).unwrap();
    assert!(out.raw0 > 0 && out.raw1 > 0 && !out.lp.is_zero());
    let receipt = h
        .send(vault.withdraw(pool.pair, shares, a.carol).from(a.carol))
        .await;
    report_gas("withdraw", &receipt);
    assert_eq!(h.balance(pool.token0, a.carol).await, u(out.raw0));
    assert_eq!(h.balance(pool.token1, a.carol).await, u(out.raw1));
    assert_eq!(h.balance(pool.pair, a.carol).await, out.lp);
    assert_eq!(h.shares(pool.pair, a.carol).await, U256::ZERO);
    let now = h.pool_info(pool.pair).await;
    assert_eq!(
        (now.raw0, now.raw1, now.lp, now.total_shares),
        (
            info.raw0 - u(out.raw0),
            info.raw1 - u(out.raw1),
            info.lp - out.lp,
            info.total_shares - shares
        )
    );
    assert_eq!(
        logs_of::<events::Withdraw>(&receipt, h.vault),
        vec![events::Withdraw {
            pool: pool.pair,
            owner: a.carol,
            receiver: a.carol,
            shares,
            amount0: u(out.raw0),
            amount1: u(out.raw1),
            lp: out.lp
        }]
    );
    assert_eq!(
        logs_of::<events::Transfer>(&receipt, h.vault),
        vec![events::Transfer {
            pool: pool.pair,
            from: a.carol,
            to: Address::ZERO,
            amount: shares
        }]
    );
    assert_invariants(&h).await;

    // Nothing, or more than one holds, is refused.
    let data = h
        .reverts(vault.withdraw(pool.pair, U256::ZERO, a.carol).from(a.carol))
        .await;
    assert_error(&data, errors::ZeroAmount {});
    let data = h
        .reverts(vault.withdraw(pool.pair, u(1), a.carol).from(a.carol))
        .await;
    assert_error(
        &data,
        errors::InsufficientShares {
            account: a.carol,
            balance: U256::ZERO,
            needed: u(1),
        },
    );

    // A second market, as large as admission allows with a worst case at HF 0.96 (found with the math
    // crate): its worst case needs most of the pool, so Alice can only withdraw part of her shares.
    let second = h.deploy_forwarder().await;
    let (info, pair) = (h.pool_info(pool.pair).await, h.pair_state(pool.pair).await);
    let (mut lo, mut hi) = (U256::ZERO, e18(10_000_000));
    let target = U256::from(960_000_000_000_000_000u128);
    while hi - lo > e18(1) {
        let mid = (lo + hi) / u(2);
        let candidate = Market::around_two(second, pool.pair, mid);
        let exposures = [market.exposure(), candidate.exposure()];
        match worst_case(&info.holdings(), &pair, info.total_shares, &exposures).unwrap() {
            Ok(w) if w.health_factor >= target => lo = mid,
            _ => hi = mid,
        }
    }
    let big = Market::around_two(second, pool.pair, lo);
    register(&h, &big, &[market]).await;
    let markets = [market, big];

    let balance = h.shares(pool.pair, a.alice).await;
    let available = vault.maxWithdraw(pool.pair, a.alice).call().await.unwrap();
    assert_eq!(
        available,
        expected_max_withdraw(&h, pool.pair, &markets, balance).await
    );
    assert!(
        !available.is_zero() && available < balance / u(2),
        "bounded: {available} of {balance}"
    );
    let before = snapshot(&h, &pool, &[a.alice]).await;
    let data = h
        .reverts(vault.withdraw(pool.pair, available + u(1), a.alice).from(a.alice))
        .await;
    assert_error(
        &data,
        errors::WithdrawalExceedsFree {
            requested: available + u(1),
            available,
        },
    );
    assert_eq!(snapshot(&h, &pool, &[a.alice]).await, before);
    // Tokens are never sent to the zero address (an ERC-20 may accept it and burn them).
    let data = h
        .reverts(vault.withdraw(pool.pair, u(1), Address::ZERO).from(a.alice))
        .await;
    assert_error(&data, errors::InvalidAddress { value: Address::ZERO });
    assert_eq!(snapshot(&h, &pool, &[a.alice]).await, before);

    // Withdrawals are never paused; exactly `available` goes through.
    h.send(vault.setPaused(true).from(a.guardian)).await;
    h.send(vault.withdraw(pool.pair, available, a.alice).from(a.alice))
        .await;
    h.send(vault.setPaused(false).from(a.owner)).await;
    assert_eq!(h.shares(pool.pair, a.alice).await, balance - available);
    let w = worst_case_now(&h, pool.pair, &markets)
        .await
        .expect("still covered");
    assert!(w.health_factor >= DEFAULT_HF_MIN);
    assert_invariants(&h).await;
}

// ---- 5. rewards -----------------------------------------------------------------------------------------------

/// The math crate's model of one reward slot: the slot and every account's position.
struct Slot {
    info: RewardInfo,
    positions: BTreeMap<Address, PositionReward>,
}

impl Slot {
    fn new(duration: u64) -> Slot {
        Slot {
            info: RewardInfo::new(duration).unwrap(),
            positions: BTreeMap::new(),
        }
    }

    /// The vault's `touch`: the slot brought up to `now` at `total` shares, then each account settled at its
    /// balance.
    fn touch(&mut self, total: U256, now: u64, accounts: &[(Address, U256)]) {
        self.info.update_rewards(total, now).unwrap();
        for (account, balance) in accounts {
            self.positions
                .entry(*account)
                .or_default()
                .update(*balance, self.info.reward_per_token_stored)
                .unwrap();
        }
    }

    /// What `pendingReward` returns at `now`.
    fn pending(&self, total: U256, now: u64, account: Address, balance: U256) -> U256 {
        let mut info = self.info;
        info.update_rewards(total, now).unwrap();
        let mut position = self.positions.get(&account).copied().unwrap_or_default();
        position.update(balance, info.reward_per_token_stored).unwrap();
        u(position.reward_pendings)
    }
}

/// Checks `pendingReward` of every slot for `accounts` at the latest block against the model.
async fn check_pending(h: &Harness, pool: Address, slots: &[Slot], accounts: &[Address]) {
    let (number, timestamp) = h.head().await;
    let total = h.total_shares(pool).await;
    for (index, slot) in slots.iter().enumerate() {
        for account in accounts {
            let balance = h.shares(pool, *account).await;
            let pending = h
                .vault()
                .pendingReward(pool, u(index as u128), *account)
                .block(Harness::at(number))
                .call()
                .await
                .unwrap();
            assert_eq!(
                pending,
                slot.pending(total, timestamp, *account, balance),
                "pendingReward of slot {index} for {account} at {timestamp}"
            );
        }
    }
}

/// Runs a share-moving step: the model touches `accounts` (at their balances before) in every slot at the
/// step's block time and with the total before. (The caller checks the invariants once its bookkeeping is
/// done.)
async fn step(
    h: &Harness,
    pool: Address,
    slots: &mut [Slot],
    accounts: &[Address],
    call: CallBuilder<DynProvider, ()>,
) -> TransactionReceipt {
    let total = h.total_shares(pool).await;
    let mut balances = vec![];
    for account in accounts {
        balances.push((*account, h.shares(pool, *account).await));
    }
    let receipt = h.send(call).await;
    let now = h.timestamp_of(&receipt).await;
    for slot in slots.iter_mut() {
        slot.touch(total, now, &balances);
    }
    receipt
}

/// A vault call as an untyped call builder (so that steps of different calls share one signature).
fn raw<C: SolCall>(h: &Harness, from: Address, call: C) -> CallBuilder<DynProvider, ()> {
    CallBuilder::new_raw(h.provider.clone(), call.abi_encode().into())
        .from(from)
        .to(h.vault)
}

/// `account` claims slot `index`: the amount must be the model's pending, paid in the slot's token.
async fn claim(
    h: &Harness,
    pool: Address,
    slots: &mut [Slot],
    index: usize,
    account: Address,
    token: Address,
) {
    let before = h.balance(token, account).await;
    let call = raw(h, account, IVault::claimRewardCall::new((pool, u(index as u128))));
    let receipt = step(h, pool, slots, &[account], call).await;
    let expected = u(slots[index].positions.entry(account).or_default().claim());
    let paid = h.balance(token, account).await - before;
    assert_eq!(paid, expected, "claim of slot {index} by {account}");
    h.track_paid(pool, index as u64, paid);
    assert_eq!(
        logs_of::<events::RewardClaimed>(&receipt, h.vault),
        vec![events::RewardClaimed {
            pool,
            index: u(index as u128),
            account,
            amount: expected
        }]
    );
    assert_invariants(h).await;
}

#[tokio::test]
async fn rewards_accrue_and_pay_exactly_as_the_math_crate_computes() {
    let (h, pool, _) = seeded().await;
    let a = h.accounts;
    let vault = h.vault();
    let p = pool.pair;

    // Slot 0 streams a separate reward token for a day; slot 1 streams token1 (a pool token) for two days.
    let reward = h.deploy_erc20(e18(1_000_000)).await;
    let (duration0, duration1) = (86_400u64, 172_800u64);
    let (amount0, amount1) = (e18(86_400), e18(1_728));
    h.fund(reward, a.funder, amount0).await;
    h.fund(pool.token1, a.funder, amount1).await;
    h.approve_max(reward, a.funder, h.vault).await;
    h.approve_max(pool.token1, a.funder, h.vault).await;
    for (index, token, duration) in [(0u64, reward, duration0), (1, pool.token1, duration1)] {
        h.send(
            vault
                .initializeReward(p, u(index.into()), token, duration, a.funder)
                .from(a.owner),
        )
        .await;
        h.track_reward(p, index, token);
    }
    let mut slots = vec![Slot::new(duration0), Slot::new(duration1)];
    let tokens = [reward, pool.token1];

    for (index, amount) in [(0usize, amount0), (1, amount1)] {
        let total = h.total_shares(p).await;
        let receipt = h
            .send(
                vault
                    .fundReward(p, u(index as u128), amount, false)
                    .from(a.funder),
            )
            .await;
        let now = h.timestamp_of(&receipt).await;
        let period = slots[index].info.fund(small(amount), now, total, false).unwrap();
        assert_eq!(
            logs_of::<events::RewardFunded>(&receipt, h.vault),
            vec![events::RewardFunded {
                pool: p,
                index: u(index as u128),
                amount,
                periodTotal: u(period)
            }]
        );
        h.track_funded(p, index as u64, amount);
        let info = vault.rewardInfo(p, u(index as u128)).call().await.unwrap();
        assert_eq!(
            (info._2, info._3, info._4, info._5),
            (
                slots[index].info.reward_duration,
                slots[index].info.reward_duration_end,
                slots[index].info.reward_rate,
                slots[index].info.reward_per_token_stored
            )
        );
        assert_invariants(&h).await;
    }

    h.advance(1_000).await;
    check_pending(&h, p, &slots, &[a.alice, Address::ZERO]).await;

    // A share transfer settles both sides' rewards first.
    let half = h.shares(p, a.alice).await / u(2);
    step(
        &h,
        p,
        &mut slots,
        &[a.alice, a.bob],
        raw(&h, a.alice, IVault::transferCall::new((p, a.bob, half))),
    )
    .await;
    assert_invariants(&h).await;
    h.advance(5_000).await;
    check_pending(&h, p, &slots, &[a.alice, a.bob, Address::ZERO]).await;

    claim(&h, p, &mut slots, 0, a.bob, reward).await;

    // A deposit settles the receiver first, a withdrawal the owner.
    let lp = add_liquidity(&h, &pool, a.carol, e18(1_000), e18(4_000)).await;
    h.approve_max(p, a.carol, h.vault).await;
    step(
        &h,
        p,
        &mut slots,
        &[a.carol],
        raw(
            &h,
            a.carol,
            IVault::depositLpCall::new((p, lp, U256::ZERO, a.carol)),
        ),
    )
    .await;
    assert_invariants(&h).await;
    h.advance(2_000).await;
    let quarter = h.shares(p, a.alice).await / u(4);
    step(
        &h,
        p,
        &mut slots,
        &[a.alice],
        raw(&h, a.alice, IVault::withdrawCall::new((p, quarter, a.alice))),
    )
    .await;
    assert_invariants(&h).await;
    h.advance(3_000).await;
    check_pending(&h, p, &slots, &[a.alice, a.bob, a.carol, Address::ZERO]).await;

    // Past both periods (on the devnode), everyone claims both slots.
    if h.can_travel() {
        h.advance(200_000).await;
    } else {
        h.advance(1).await;
    }
    for account in [a.alice, a.bob, a.carol] {
        for (index, token) in tokens.iter().enumerate() {
            claim(&h, p, &mut slots, index, account, *token).await;
        }
    }
    check_pending(&h, p, &slots, &[a.alice, a.bob, a.carol, Address::ZERO]).await;

    // Nothing paid beyond what was funded: the claims plus what the dead shares accrued (never claimable)
    // stay within the funding; past the end, only rounding dust is missing.
    let (number, timestamp) = h.head().await;
    let total = h.total_shares(p).await;
    for (index, slot) in slots.iter().enumerate() {
        let (funded, paid) = h.reward_book(p, index as u64);
        let dead = slot.pending(total, timestamp, Address::ZERO, DEAD_SHARES);
        assert!(paid + dead <= funded, "slot {index}: {paid} + {dead} > {funded}");
        if h.can_travel() {
            assert!(
                funded - paid - dead <= u(1_000),
                "slot {index}: dust {}",
                funded - paid - dead
            );
        }
        println!("slot {index}: funded {funded}, claimed {paid}, dead shares' part {dead} (block {number})");
    }
}

// ---- 6. Uniswap trades between deposits -----------------------------------------------------------------------

#[tokio::test]
async fn uniswap_trades_between_deposits_change_share_value_by_fees_only() {
    let (h, pool, alice_shares) = seeded().await;
    let a = h.accounts;
    let p = pool.pair;
    let lp_alice = h.pool_info(p).await.lp;
    let k = |s: &PairState| U256::from(s.reserve0) * U256::from(s.reserve1);
    let start = h.pair_state(p).await;
    assert_eq!(h.hf(p).await, HF_ONE);

    // Carol trades on the pair directly, both ways: k grows by the fees only.
    h.fund(pool.token0, a.carol, e18(200_000)).await;
    h.fund(pool.token1, a.carol, e18(800_000)).await;
    let out1 = h.swap(&pool, a.carol, true, e18(100_000)).await;
    h.swap(&pool, a.carol, false, out1).await;
    h.swap(&pool, a.carol, false, e18(300_000)).await;
    assert_invariants(&h).await;
    let traded = h.pair_state(p).await;
    assert!(k(&traded) > k(&start));
    assert_eq!(traded.total_supply, start.total_supply);

    // The share value (HF) grew exactly as the LP tokens' sqrt(k) value: lp · sqrt(k') / T per share.
    let hf = h.hf(p).await;
    let total = h.total_shares(p).await;
    assert_eq!(
        hf,
        lp_alice * isqrt(k(&traded)) / traded.total_supply * HF_ONE / total
    );
    assert!(hf > HF_ONE);

    // Bob adds liquidity at the new reserves and deposits: he gets the shares his LP tokens are worth, at the
    // same number of shares per LP token as Alice (the pool holds only LP tokens), up to rounding.
    let lp_bob = add_liquidity(&h, &pool, a.bob, e18(2_000), e18(9_000)).await;
    let (bob_shares, _) = deposit_lp(&h, p, a.bob, lp_bob).await;
    let per_lp = |shares: U256, lp: U256| shares * HF_ONE / lp;
    let (alice_rate, bob_rate) = (
        per_lp(alice_shares + DEAD_SHARES, lp_alice),
        per_lp(bob_shares, lp_bob),
    );
    assert!(
        alice_rate.abs_diff(bob_rate) <= u(1),
        "{alice_rate} vs {bob_rate}"
    );
    // Bob's shares are worth what he brought: value = shares · HF ≈ his LP tokens' sqrt(k) value.
    let now = h.pair_state(p).await;
    let brought = lp_liquidity(lp_bob, &now).unwrap();
    let liquidity = pool_liquidity(&h.pool_info(p).await.holdings(), &now).unwrap();
    let total = h.total_shares(p).await;
    let worth = bob_shares * liquidity / total;
    assert!(
        worth <= brought && brought - worth <= liquidity / total + u(2),
        "{worth} vs {brought}"
    );

    // A large skewing swap, then Carol deposits: still the same shares per LP token.
    h.swap(&pool, a.carol, true, e18(150_000)).await;
    let lp_carol = add_liquidity(&h, &pool, a.carol, e18(1_000), e18(2_000)).await;
    let (carol_shares, _) = deposit_lp(&h, p, a.carol, lp_carol).await;
    let carol_rate = per_lp(carol_shares, lp_carol);
    assert!(
        alice_rate.abs_diff(carol_rate) <= u(1),
        "{alice_rate} vs {carol_rate}"
    );
}

// ---- 7. attacks -----------------------------------------------------------------------------------------------

#[tokio::test]
async fn attack_first_depositor_inflation_and_donations_gain_nothing() {
    let h = Harness::new().await;
    let pool = h.pools()[0];
    let a = h.accounts;
    let p = pool.pair;
    // Alice provides the pair's liquidity on Uniswap; the attacker gets a small position of its own.
    let lp_alice = add_liquidity(&h, &pool, a.alice, e18(ALICE_0), e18(ALICE_1)).await;
    let lp_attacker = add_liquidity(&h, &pool, a.attacker, e18(2_000), e18(8_000)).await;

    // The attacker deposits the least that mints a share: 1,001 LP atoms worth 1,001 liquidity → 1 share
    // (1,000 dead).
    h.approve_max(p, a.attacker, h.vault).await;
    h.send(
        h.vault()
            .depositLp(p, u(1_001), u(1), a.attacker)
            .from(a.attacker),
    )
    .await;
    assert_eq!(h.shares(p, a.attacker).await, u(1));
    assert_eq!(h.total_shares(p).await, u(1_001));
    assert_invariants(&h).await;

    // Then it donates LP tokens and both raw tokens straight to the vault: the vault ignores them.
    let info = h.pool_info(p).await;
    let hf = h.hf(p).await;
    h.donate(p, a.attacker, lp_attacker - u(1_001)).await;
    h.fund(pool.token0, a.attacker, e18(1_000)).await;
    h.fund(pool.token1, a.attacker, e18(4_000)).await;
    h.donate(pool.token0, a.attacker, e18(1_000)).await;
    h.donate(pool.token1, a.attacker, e18(4_000)).await;
    assert_eq!(h.pool_info(p).await, info, "donations change no accounting");
    assert_eq!(h.hf(p).await, hf);
    assert_invariants(&h).await;
    // And it donates to the pair itself (raising sqrt(k) for every LP token, the vault's 1,001 atoms among
    // 2,004,000e18).
    h.fund(pool.token0, a.attacker, e18(10_000)).await;
    h.fund(pool.token1, a.attacker, e18(40_000)).await;
    h.transfer(pool.token0, a.attacker, p, e18(10_000)).await;
    h.transfer(pool.token1, a.attacker, p, e18(40_000)).await;
    h.send(h.pair(p).sync().from(a.attacker)).await;
    assert_invariants(&h).await;

    // The victim's deposit still mints its fair shares: the math crate's, worth its LP tokens to within a
    // share.
    let (victim_shares, _) = deposit_lp(&h, p, a.alice, lp_alice).await;
    let pair = h.pair_state(p).await;
    let brought = lp_liquidity(lp_alice, &pair).unwrap();
    let total = h.total_shares(p).await;
    let liquidity = pool_liquidity(&h.pool_info(p).await.holdings(), &pair).unwrap();
    let worth = victim_shares * liquidity / total;
    let one_share = liquidity / total + u(1);
    assert!(
        worth <= brought && brought - worth <= one_share,
        "{worth} vs {brought}"
    );

    // The attacker's share pays back one share's worth: 1 LP atom, against the 1,001 atoms deposited and
    // everything donated.
    let before = h.balance(p, a.attacker).await;
    h.send(h.vault().withdraw(p, u(1), a.attacker).from(a.attacker))
        .await;
    let got = h.balance(p, a.attacker).await - before;
    let info = h.pool_info(p).await;
    assert!(got <= u(2), "the attacker's share paid {got} LP atoms");
    assert!(info.raw0.is_zero() && info.raw1.is_zero());
    assert_invariants(&h).await;
}

#[tokio::test]
async fn attack_reserves_skewed_in_the_same_transaction_mint_no_extra_shares() {
    let (h, pool, _) = seeded().await;
    let a = h.accounts;
    let p = pool.pair;
    // Raw balances in the pool make the LP tokens' valuation matter.
    let mut market = with_market(&h, &pool).await;
    settle_checked(&h, &mut market, trade_a(), 205 * Q64 / 100).await;
    settle_checked(&h, &mut market, trade_b(), 2 * Q64).await;

    // The attacker's script, in one transaction: swap 500,000 token0 into the pair (skewing its reserves),
    // then deposit LP tokens valued at the skewed pair.
    let lp = add_liquidity(&h, &pool, a.attacker, e18(10_000), e18(40_000)).await;
    let swap_in = e18(500_000);
    h.fund(pool.token0, a.attacker, swap_in).await;
    let pair = h.pair_state(p).await;
    let out1 = Harness::amount_out(swap_in, u(pair.reserve0), u(pair.reserve1));
    let skewed = PairState {
        reserve0: pair.reserve0 + small(swap_in),
        reserve1: pair.reserve1 - small(out1),
        total_supply: pair.total_supply,
    };
    let info = h.pool_info(p).await;
    let shares_at = |state: &PairState| {
        shares_for_deposit(
            info.total_shares,
            pool_liquidity(&info.holdings(), state).unwrap(),
            lp_liquidity(lp, state).unwrap(),
        )
        .unwrap()
        .shares
    };
    let (fair, expected) = (shares_at(&pair), shares_at(&skewed));

    let vault = h.vault();
    let token0 = h.erc20(pool.token0);
    let uni = h.pair(p);
    let script = e2e::evm_script(&[
        (pool.token0, token0.transfer(p, swap_in).calldata().to_vec()),
        (
            p,
            uni.swap(U256::ZERO, out1, a.attacker, Bytes::new())
                .calldata()
                .to_vec(),
        ),
        (p, uni.approve(h.vault, lp).calldata().to_vec()),
        (
            h.vault,
            vault.depositLp(p, lp, U256::ZERO, a.attacker).calldata().to_vec(),
        ),
    ]);
    let tx = TransactionRequest::default()
        .with_from(a.attacker)
        .with_deploy_code(e2e::init_code_for(&script));
    let receipt = h.send_tx(tx).await;
    assert!(receipt.status());
    let runner = receipt.contract_address.expect("the script is deployed");
    h.transfer(pool.token0, a.attacker, runner, swap_in).await;
    h.transfer(p, a.attacker, runner, lp).await;
    let run = CallBuilder::new_raw(h.provider.clone(), Bytes::new())
        .from(a.attacker)
        .to(runner);
    let receipt = h.send(run).await;
    assert_eq!(
        logs_of::<events::Deposit>(&receipt, h.vault).len(),
        1,
        "swap and deposit in one transaction"
    );
    assert_eq!(h.pair_state(p).await, skewed);

    // The shares minted are those of sqrt(k) after the swap, which grew by the swap's fee only: no more than
    // the fair shares scaled by that growth.
    let minted = h.shares(p, a.attacker).await;
    assert_eq!(minted, expected);
    let (k_before, k_after) = (
        u(pair.reserve0) * u(pair.reserve1),
        u(skewed.reserve0) * u(skewed.reserve1),
    );
    assert!(minted >= fair);
    assert!(
        minted * isqrt(k_before) <= (fair + u(1)) * isqrt(k_after),
        "{minted} shares against {fair} fair, k {k_before} → {k_after}"
    );
    println!(
        "skewed deposit: {minted} shares, {fair} without the swap (sqrt(k) +{} ppm)",
        (isqrt(k_after) - isqrt(k_before)) * u(1_000_000) / isqrt(k_before)
    );
    assert_invariants(&h).await;
}

#[tokio::test]
async fn attack_unregistered_or_inactive_settlers_are_refused() {
    let (h, pool, _) = seeded().await;
    let a = h.accounts;
    let market = with_market(&h, &pool).await;
    let parties = [a.operator, a.attacker];
    let flows = trade_a();
    let before = snapshot(&h, &pool, &parties).await;

    // Straight from an account.
    let vault = h.vault();
    let call = vault
        .settle(a.attacker, Address::ZERO, flows.array(), market.state())
        .from(a.attacker);
    let data = h.reverts(call).await;
    assert_error(&data, errors::Unauthorized { caller: a.attacker });

    // Through a forwarder the vault never registered.
    let rogue = h.deploy_forwarder().await;
    let call = settle_through(
        &h,
        rogue,
        a.attacker,
        a.attacker,
        Address::ZERO,
        &flows,
        market.state(),
    );
    let data = h.reverts(call).await;
    assert_error(&data, errors::Unauthorized { caller: rogue });
    assert_eq!(snapshot(&h, &pool, &parties).await, before);

    // Deactivated by the owner: refused too, until reactivated.
    h.send(
        h.vault()
            .updateMarket(market.address, market.limit, false)
            .from(a.owner),
    )
    .await;
    let before = snapshot(&h, &pool, &parties).await;
    let call = operator_settlement(&h, &a, &market, &flows);
    let data = h.reverts(call).await;
    assert_error(
        &data,
        errors::MarketInactive {
            market: market.address,
        },
    );
    assert_eq!(snapshot(&h, &pool, &parties).await, before);
    assert_invariants(&h).await;
}

/// A pool over a fresh `test-token` (minted freely) and the main pool's token1, with Alice's Uniswap
/// position deposited. Returns the pool and the test-token.
async fn test_token_pool(h: &Harness) -> (PoolTrack, Address) {
    let a = h.accounts;
    let tt = h.deploy_test_token().await;
    let other = h.token1;
    let pool = h.create_pool(tt, other).await;
    h.send(h.test_token(tt).mint(a.owner, e18(SUPPLY_TT)).from(a.owner))
        .await;
    let lp = add_liquidity(h, &pool, a.alice, e18(100_000), e18(100_000)).await;
    deposit_lp(h, pool.pair, a.alice, lp).await;
    (pool, tt)
}

/// Test-token minted to the owner, to be handed out like the ERC-20s' supply.
const SUPPLY_TT: u64 = 1_000_000_000;

/// The router's rule `depositPair` follows: the larger deposit at the pair's ratio within both maxima.
fn pair_amounts(pair: &PairState, max0: U256, max1: U256) -> (U256, U256) {
    let (r0, r1) = (u(pair.reserve0), u(pair.reserve1));
    let a1 = max0 * r1 / r0;
    if a1 <= max1 {
        (max0, a1)
    } else {
        (max1 * r0 / r1, max1)
    }
}

/// A second test market (a fresh forwarder) on a test-token pool, whose price is 1: `√P ∈ [0.5, 2]`, real
/// liquidity 1,000; registered, with the operator funded and approving the vault.
async fn test_token_market(h: &Harness, pool: &PoolTrack) -> Market {
    let address = h.deploy_forwarder().await;
    let market = Market {
        sqrt_min: Q64 / 2,
        sqrt_max: 2 * Q64,
        sqrt_price: Q64,
        ..Market::around_two(address, pool.pair, e18(1_000))
    };
    register(h, &market, &[]).await;
    fund_operator(h, pool).await;
    market
}

/// Flows paying `input` of the test-token in and `output` of the other token out.
fn test_token_flows(pool: &PoolTrack, tt: Address, input: U256, output: U256) -> Flows {
    if tt == pool.token0 {
        Flows {
            in0: small(input),
            out1: small(output),
            ..Flows::default()
        }
    } else {
        Flows {
            in1: small(input),
            out0: small(output),
            ..Flows::default()
        }
    }
}

/// Flows paying `input` of the other token in and `output` of the test-token out.
fn other_token_flows(pool: &PoolTrack, tt: Address, input: U256, output: U256) -> Flows {
    let swapped = test_token_flows(pool, tt, output, input);
    Flows {
        in0: swapped.out0,
        in1: swapped.out1,
        out0: swapped.in0,
        out1: swapped.in1,
        ..Flows::default()
    }
}

/// The reentrant test-token `tt` called the vault back during the last transfer, the nested call failed, and
/// the approval it tried (for the attacker, on pool `p`) left nothing.
async fn assert_reentry_refused(h: &Harness, tt: Address, p: Address) {
    let last = h.test_token(tt).lastReentry().call().await.unwrap();
    assert!(last._0, "the token called the vault back");
    assert!(!last._1, "the nested call failed");
    assert_eq!(
        h.vault()
            .allowance(p, tt, h.accounts.attacker)
            .call()
            .await
            .unwrap(),
        U256::ZERO,
        "the nested approval left nothing"
    );
}

#[tokio::test]
async fn attack_a_reentrant_token_cannot_reenter_the_vault() {
    let h = Harness::new().await;
    let a = h.accounts;
    let (pool, tt) = test_token_pool(&h).await;
    let p = pool.pair;
    let token = h.test_token(tt);
    let mut market = test_token_market(&h, &pool).await;
    assert_invariants(&h).await;

    // Mode 2: every transfer of the token first calls the vault (an approval the token would make for the
    // attacker), then goes on whatever happened. The vault pulls the token from the operator in a settlement:
    // the nested call is refused, and the settlement completes exactly as the math crate says.
    let reentry = h.vault().approve(p, a.attacker, u(1)).calldata().clone();
    h.send(token.setMode(2, h.vault, reentry.clone()).from(a.attacker))
        .await;
    let flows = test_token_flows(&pool, tt, e18(500), U256::ZERO);
    settle_checked(&h, &mut market, flows, Q64).await;
    assert_reentry_refused(&h, tt, p).await;

    // The other way: the vault pays the token out of its raw balance (a transfer: the hook again).
    let other_way = other_token_flows(&pool, tt, e18(300), e18(200));
    settle_checked(&h, &mut market, other_way, Q64).await;
    assert_reentry_refused(&h, tt, p).await;

    // Mode 3: the token reverts when the nested call fails; the vault names the token and passes its revert
    // data on, and nothing moves.
    h.send(token.setMode(3, h.vault, reentry).from(a.attacker)).await;
    let before = snapshot(&h, &pool, &[a.operator]).await;
    let call = operator_settlement(&h, &a, &market, &flows);
    let data = h.reverts(call).await;
    match IVault::IVaultErrors::abi_decode(&data).expect("a vault error") {
        IVault::IVaultErrors::TokenCallFailed(failed) => {
            let failed = errors::TokenCallFailed::abi_decode(&failed.abi_encode()).unwrap();
            assert_eq!(failed.token, tt);
            let inner = errors::ReentryFailed::abi_decode(&failed.data)
                .expect("the token's ReentryFailed, passed on");
            println!("reentry refused with {} bytes of revert data", inner.data.len());
        }
        other => panic!("expected TokenCallFailed, got {other:?}"),
    }
    assert_eq!(snapshot(&h, &pool, &[a.operator]).await, before);
    assert_invariants(&h).await;
}

/// The same attack through a raw deposit: the vault pulls the token into the pair, then mints LP tokens there
/// (a Stylus call nested in an EVM call nested in a Stylus call: vault → pair.mint → test-token.balanceOf).
#[tokio::test]
async fn attack_a_reentrant_token_cannot_reenter_a_raw_deposit() {
    let h = Harness::new().await;
    let a = h.accounts;
    let (pool, tt) = test_token_pool(&h).await;
    let p = pool.pair;
    let token = h.test_token(tt);
    h.fund(pool.token0, a.bob, e18(1_000)).await;
    h.fund(pool.token1, a.bob, e18(1_000)).await;
    h.approve_max(pool.token0, a.bob, h.vault).await;
    h.approve_max(pool.token1, a.bob, h.vault).await;

    let reentry = h.vault().approve(p, a.attacker, u(1)).calldata().clone();
    h.send(token.setMode(2, h.vault, reentry).from(a.attacker)).await;
    let pair = h.pair_state(p).await;
    let (a0, a1) = pair_amounts(&pair, e18(1_000), e18(1_000));
    let minted = (a0 * pair.total_supply / u(pair.reserve0)).min(a1 * pair.total_supply / u(pair.reserve1));
    let after = PairState {
        reserve0: pair.reserve0 + small(a0),
        reserve1: pair.reserve1 + small(a1),
        total_supply: pair.total_supply + minted,
    };
    let info = h.pool_info(p).await;
    let expected = shares_for_deposit(
        info.total_shares,
        pool_liquidity(&info.holdings(), &after).unwrap(),
        lp_liquidity(minted, &after).unwrap(),
    )
    .unwrap()
    .shares;
    h.send(
        h.vault()
            .depositPair(p, e18(1_000), e18(1_000), U256::ZERO, a.bob)
            .from(a.bob),
    )
    .await;
    assert_reentry_refused(&h, tt, p).await;
    assert_eq!(h.shares(p, a.bob).await, expected);
    assert_eq!(h.pair_state(p).await, after);
    assert_invariants(&h).await;
}

#[tokio::test]
async fn attack_a_fee_on_transfer_token_is_refused() {
    let h = Harness::new().await;
    let a = h.accounts;
    let (pool, tt) = test_token_pool(&h).await;
    let p = pool.pair;
    let token = h.test_token(tt);

    // A market on this pool, and an operator holding both tokens.
    let market = test_token_market(&h, &pool).await;

    // Fee on transfer from now on: 1% of every transfer is burnt.
    h.send(token.setMode(1, Address::ZERO, Bytes::new()).from(a.attacker))
        .await;
    h.fund(pool.token0, a.bob, e18(1_000)).await;
    h.fund(pool.token1, a.bob, e18(1_000)).await;
    h.approve_max(pool.token0, a.bob, h.vault).await;
    h.approve_max(pool.token1, a.bob, h.vault).await;
    let parties = [a.bob, a.operator];
    let before = snapshot(&h, &pool, &parties).await;

    // A raw deposit: the pair receives 1% less of the test-token than the vault sent.
    let pair = h.pair_state(p).await;
    let (a0, a1) = pair_amounts(&pair, e18(500), e18(500));
    let sent = if tt == pool.token0 { a0 } else { a1 };
    let data = h
        .reverts(
            h.vault()
                .depositPair(p, e18(500), e18(500), U256::ZERO, a.bob)
                .from(a.bob),
        )
        .await;
    assert_error(
        &data,
        errors::FeeOnTransfer {
            token: tt,
            expected: sent,
            received: sent - sent / u(100),
        },
    );
    assert_eq!(snapshot(&h, &pool, &parties).await, before);

    // A settlement pulling the test-token from the operator.
    let input = small(e18(100));
    let flows = test_token_flows(&pool, tt, u(input), U256::ZERO);
    let call = operator_settlement(&h, &a, &market, &flows);
    let data = h.reverts(call).await;
    assert_error(
        &data,
        errors::FeeOnTransfer {
            token: tt,
            expected: u(input),
            received: u(input - input / 100),
        },
    );
    assert_eq!(snapshot(&h, &pool, &parties).await, before);
    assert_invariants(&h).await;
}

// ---- 9. sizes -------------------------------------------------------------------------------------------------

#[test]
fn the_vault_programs_fit_the_stylus_size_limits() {
    let mut total = 0;
    for (name, program) in &programs().vault {
        let sizes = program.sizes();
        total += sizes.code;
        println!(
            "SIZE {name}: {} bytes compressed (deploy code), {} bytes processed wasm, {} bytes raw wasm",
            sizes.code, sizes.processed, sizes.raw
        );
        assert!(sizes.within_limits(), "{name}: {sizes:?}");
    }
    println!("SIZE the vault's programs together: {total} bytes compressed");
}
