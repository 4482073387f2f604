//! Market helpers of the end-to-end tests: deploying the market programs, registering markets with the vault,
//! and submitting batches and swaps while a local mirror of each market's state — advanced with the shared
//! codec crate, as an operator does — predicts every state hash and every flow.

use alloy::{
    primitives::{keccak256, Address, Bytes, U256},
    providers::DynProvider,
    rpc::types::TransactionReceipt,
    sol_types::{SolError, SolValue},
};
/// The market's events (the exported interface has none), as the client declares them.
pub use damm::bindings::MarketEvents as events;
use damm::{
    bindings::IMarket,
    market_codec::{encode_batch, exec::execute_op, execute_batch, MarketParams, MarketState, Op, Totals},
    math::{constants::BIN_STEP_BPS_U128_DEFAULT, CollectFeeMode, DynamicFee},
};

use super::{e18, logs_of, programs, small, Harness, PoolTrack};

/// The market's errors with their parameter names, as the contract declares them: an expected error is encoded
/// with these and compared byte for byte with the revert data.
pub mod errors {
    #[allow(unused_imports)] // not every binary that includes this module matches every error
    pub use damm::errors::named::{
        MarketErrors::*,
        VaultErrors::{ContractPaused, HealthFactorTooLow, MarketOutOfBounds, PayoutUncovered},
    };
}

/// Asserts that revert data is exactly `expected` (selector and every value), and one of `IMarket`'s errors
/// unless it is a vault error passed through.
pub fn assert_market_error<E: SolError + std::fmt::Debug>(data: &Bytes, expected: E) {
    assert_eq!(
        data.as_ref(),
        expected.abi_encode().as_slice(),
        "expected {expected:?}, the revert data is {data}"
    );
}

/// 2^64.
pub const Q64: u128 = 1 << 64;

/// The main pool's price is 4 (Alice deposits 1,000,000 token0 and 4,000,000 token1): √P = 2.
pub const ALICE_0: u64 = 1_000_000;
pub const ALICE_1: u64 = 4_000_000;

/// A concentrated market's parameters around the pool's price: √P = 2 in `[1.8, 2.2]`, real liquidity
/// `tokens` (so `L = tokens·1e18·2^64`), 0.3 % base fee, DAMM v2's 20 % / 20 % split.
pub fn concentrated(mode: CollectFeeMode, tokens: u64, dynamic: bool) -> MarketParams {
    MarketParams {
        mode,
        sqrt_price: 2 * Q64,
        sqrt_min_price: 18 * Q64 / 10,
        sqrt_max_price: 22 * Q64 / 10,
        liquidity: e18(tokens) << 64,
        base_fee_numerator: 3_000_000,
        protocol_fee_percent: 20,
        referral_fee_percent: 20,
        compounding_fee_bps: 0,
        fee_version: 1,
        dynamic_fee: if dynamic {
            dynamic_fee()
        } else {
            DynamicFee::default()
        },
    }
}

/// A compounding market at the pool's price with real liquidity `tokens`, half of its LP fee compounding.
pub fn compounding(tokens: u64) -> MarketParams {
    MarketParams {
        mode: CollectFeeMode::Compounding,
        sqrt_price: 2 * Q64,
        sqrt_min_price: 0,
        sqrt_max_price: u128::MAX,
        liquidity: e18(tokens) << 64,
        base_fee_numerator: 3_000_000,
        protocol_fee_percent: 20,
        referral_fee_percent: 20,
        compounding_fee_bps: 5_000,
        fee_version: 1,
        dynamic_fee: DynamicFee::default(),
    }
}

/// Valid dynamic-fee parameters (DAMM v2's rules: bin step 1 bps, filter < decay).
pub fn dynamic_fee() -> DynamicFee {
    DynamicFee {
        initialized: true,
        max_volatility_accumulator: 14_460_000,
        variable_fee_control: 5_000,
        bin_step: 1,
        filter_period: 10,
        decay_period: 120,
        reduction_factor: 5_000,
        bin_step_u128: BIN_STEP_BPS_U128_DEFAULT,
        ..DynamicFee::default()
    }
}

/// A market on the chain and the mirror of its state.
#[derive(Debug, Clone)]
pub struct MarketTrack {
    pub address: Address,
    pub pool: Address,
    pub operator: Address,
    pub l1: bool,
    pub params: MarketParams,
    /// The liquidity limit the vault admitted it with.
    pub limit: U256,
    /// The state the chain holds (checked after every transition).
    pub state: MarketState,
}

impl MarketTrack {
    pub fn contract(&self, h: &Harness) -> IMarket::IMarketInstance<DynProvider> {
        IMarket::new(self.address, h.provider.clone())
    }
}

/// The constructor's calldata: `stylus_constructor()`'s selector and `(admin, vault, pool, operator, l1,
/// params)`.
pub fn constructor_input(
    admin: Address,
    vault: Address,
    pool: Address,
    operator: Address,
    l1: bool,
    params: &[u8],
) -> Bytes {
    let mut init = keccak256(b"stylus_constructor()")[..4].to_vec();
    init.extend((admin, vault, pool, operator, l1, Bytes::copy_from_slice(params)).abi_encode_params());
    init.into()
}

impl Harness {
    /// Deploys the market-admin program (one for every market).
    pub async fn deploy_market_admin(&self) -> Address {
        self.deploy_stylus(programs().market_admin.code(), Bytes::new())
            .await
    }

    /// Deploys a market on `pool` and checks its initial state against the codec's; does not register it.
    pub async fn deploy_market(
        &self,
        admin: Address,
        pool: Address,
        operator: Address,
        l1: bool,
        params: MarketParams,
    ) -> MarketTrack {
        let input = constructor_input(admin, self.vault, pool, operator, l1, &params.encode());
        let address = self.deploy_stylus(programs().market.code(), input).await;
        let m = IMarket::new(address, self.provider.clone());
        let bytes = m.state().call().await.expect("state()");
        let state = MarketState::decode(&bytes).expect("the market's state decodes");
        assert_eq!(
            state,
            params
                .initial_state(state.last_timestamp)
                .expect("valid parameters"),
            "the constructor's state is the codec's"
        );
        assert_eq!(m.stateHash().call().await.expect("stateHash"), state.hash());
        assert_eq!(m.adminProgram().call().await.expect("adminProgram"), admin);
        assert_eq!(m.vault().call().await.expect("vault"), self.vault);
        assert_eq!(m.pool().call().await.expect("pool"), pool);
        assert_eq!(m.operator().call().await.expect("operator"), operator);
        assert_eq!(m.isL1().call().await.expect("isL1"), l1);
        MarketTrack {
            address,
            pool,
            operator,
            l1,
            params,
            limit: U256::ZERO,
            state,
        }
    }

    /// Registers `market` with the vault at liquidity limit `limit` (owner).
    pub async fn register_market(&self, market: &mut MarketTrack, limit: U256) -> TransactionReceipt {
        let m = market.contract(self);
        let view = m.vaultState().call().await.expect("vaultState");
        let p = &market.state.pool;
        assert_eq!(
            (view._0, view._1, view._2, view._3),
            (
                U256::from(p.sqrt_price),
                p.liquidity,
                U256::from(p.token_a_amount),
                U256::from(p.token_b_amount)
            )
        );
        let receipt = self
            .send(
                self.vault()
                    .registerMarket(
                        market.address,
                        market.pool,
                        market.operator,
                        p.collect_fee_mode == CollectFeeMode::Compounding,
                        (U256::from(p.sqrt_min_price), U256::from(p.sqrt_max_price)),
                        limit,
                        (view._0, view._1, view._2, view._3),
                    )
                    .from(self.accounts.owner),
            )
            .await;
        market.limit = limit;
        receipt
    }

    /// Gives `who` plenty of both tokens of `pool` and lets the vault pull them.
    pub async fn fund_trader(&self, pool: &PoolTrack, who: Address) {
        for token in [pool.token0, pool.token1] {
            self.fund(token, who, e18(50_000_000)).await;
            self.approve_max(token, who, self.vault).await;
        }
    }

    /// The chain's state of `market`, decoded.
    pub async fn market_state(&self, market: &MarketTrack) -> MarketState {
        let bytes = market.contract(self).state().call().await.expect("state()");
        MarketState::decode(&bytes).expect("the market's state decodes")
    }

    /// Takes `next` as the mirror's state of `market` and checks that the chain holds it.
    pub async fn confirm_state(&self, market: &mut MarketTrack, next: MarketState) {
        market.state = next;
        assert_eq!(
            self.market_state(market).await,
            next,
            "the chain's state is the codec's"
        );
    }

    /// Submits `ops` as the next batch of `market`, predicting the new state and flows with the codec;
    /// asserts the transaction succeeded, the chain's state is the prediction, the operator's balances moved
    /// by the flows (its referral share included) and the event. Returns the receipt and the totals.
    pub async fn submit_ops(
        &self,
        pool: &PoolTrack,
        market: &mut MarketTrack,
        base: u64,
        ops: &[Op],
    ) -> (TransactionReceipt, Totals) {
        let encoded = encode_batch(base, ops).expect("the batch encodes");
        let mut next = market.state;
        let totals = execute_batch(&mut next, &encoded, u64::MAX).expect("the batch is valid");
        let operator = market.operator;
        let before = (
            self.balance(pool.token0, operator).await,
            self.balance(pool.token1, operator).await,
        );
        let receipt = self
            .send(
                market
                    .contract(self)
                    .submitBatch(next.seq, market.state.hash(), encoded.into(), next.hash())
                    .from(operator),
            )
            .await;
        let after = (
            self.balance(pool.token0, operator).await,
            self.balance(pool.token1, operator).await,
        );
        let f = totals.flows.map(U256::from);
        // The operator pays `in`, receives `out` and, as the referrer, the referral fees.
        assert_eq!(after.0 + f[0], before.0 + f[2] + f[6], "token0 of the operator");
        assert_eq!(after.1 + f[1], before.1 + f[3] + f[7], "token1 of the operator");
        assert_eq!(
            logs_of::<events::BatchSettled>(&receipt, market.address),
            vec![events::BatchSettled {
                seq: next.seq,
                stateHash: next.hash(),
                swaps: U256::from(totals.swaps),
                flows: f,
                lpFee0: U256::from(totals.lp_fees[0]),
                lpFee1: U256::from(totals.lp_fees[1]),
            }]
        );
        self.confirm_state(market, next).await;
        (receipt, totals)
    }

    /// An L1 swap by `trader` (exact in or out, limit, referral), predicted with the codec at the block's time;
    /// asserts the trader's balances, the referral and the event. Returns the receipt.
    #[allow(clippy::too_many_arguments)]
    pub async fn l1_swap(
        &self,
        pool: &PoolTrack,
        market: &mut MarketTrack,
        trader: Address,
        zero_for_one: bool,
        exact_in: bool,
        amount: u128,
        referral: Address,
    ) -> TransactionReceipt {
        let balances = |who: Address| async move {
            (
                self.balance(pool.token0, who).await,
                self.balance(pool.token1, who).await,
            )
        };
        let before = balances(trader).await;
        let referral_before = balances(referral).await;
        let receipt = self
            .send(
                market
                    .contract(self)
                    .swap(
                        zero_for_one,
                        exact_in,
                        U256::from(amount),
                        if exact_in { U256::ZERO } else { U256::MAX },
                        referral,
                        U256::MAX,
                    )
                    .from(trader),
            )
            .await;
        let now = self.timestamp_of(&receipt).await;
        let mut next = market.state;
        let mut totals = Totals::default();
        let op = Op {
            zero_for_one,
            exact_out: !exact_in,
            amount,
            limit: Some(if exact_in { 0 } else { u128::MAX }),
            timestamp: now,
        };
        execute_op(&mut next, &op, 0, !referral.is_zero(), now, &mut totals).expect("the swap is valid");
        next.seq += 1;
        let f = totals.flows.map(U256::from);
        let after = balances(trader).await;
        assert_eq!(after.0 + f[0], before.0 + f[2], "token0 of the trader");
        assert_eq!(after.1 + f[1], before.1 + f[3], "token1 of the trader");
        if !referral.is_zero() {
            let r = balances(referral).await;
            assert_eq!(
                (r.0, r.1),
                (referral_before.0 + f[6], referral_before.1 + f[7]),
                "the referral fees"
            );
        }
        assert_eq!(
            logs_of::<events::Swapped>(&receipt, market.address),
            vec![events::Swapped {
                trader,
                seq: next.seq,
                stateHash: next.hash(),
                flows: f,
                lpFee0: U256::from(totals.lp_fees[0]),
                lpFee1: U256::from(totals.lp_fees[1]),
            }]
        );
        self.confirm_state(market, next).await;
        receipt
    }

    /// Settles `n` (even) random round trips ([`round_trips`]) as the next batch of `market` at the head's time
    /// ([`Harness::submit_ops`]).
    pub async fn settle_round_trips(
        &self,
        pool: &PoolTrack,
        market: &mut MarketTrack,
        rng: &mut Rng,
        n: usize,
    ) {
        let (_, now) = self.head().await;
        let ops = round_trips(rng, &market.state, now, n);
        self.submit_ops(pool, market, now, &ops).await;
    }
}

/// A harness whose main pool holds Alice's Uniswap position, with the market-admin program deployed.
pub async fn world() -> (Harness, PoolTrack, Address) {
    world_on(Harness::new().await).await
}

/// [`world`] on a harness made otherwise (for example [`Harness::with_state_file`]).
pub async fn world_on(h: Harness) -> (Harness, PoolTrack, Address) {
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

/// A market (L1 or L2) of `operator` on the main pool, registered at its own liquidity.
pub async fn registered_market(
    h: &Harness,
    pool: &PoolTrack,
    admin: Address,
    operator: Address,
    l1: bool,
    params: MarketParams,
) -> MarketTrack {
    let mut m = h.deploy_market(admin, pool.pair, operator, l1, params).await;
    let limit = m.state.pool.liquidity;
    h.register_market(&mut m, limit).await;
    m
}

/// An L2 market of `operator` on the main pool, registered at its own liquidity, the operator funded.
pub async fn l2_market(
    h: &Harness,
    pool: &PoolTrack,
    admin: Address,
    operator: Address,
    params: MarketParams,
) -> MarketTrack {
    let m = registered_market(h, pool, admin, operator, false, params).await;
    h.fund_trader(pool, operator).await;
    m
}

/// An L1 market of `operator` on the main pool, registered at its own liquidity, Bob (who trades on it in the
/// tests) funded.
pub async fn l1_market(
    h: &Harness,
    pool: &PoolTrack,
    admin: Address,
    operator: Address,
    params: MarketParams,
) -> MarketTrack {
    let m = registered_market(h, pool, admin, operator, true, params).await;
    h.fund_trader(pool, h.accounts.bob).await;
    m
}

/// The operator's L2 market of most tests ([`l2_market`]): [`concentrated`] with fees in both tokens and
/// 100,000 tokens of real liquidity, with or without the dynamic fee.
pub async fn operator_market(h: &Harness, pool: &PoolTrack, admin: Address, dynamic: bool) -> MarketTrack {
    let params = concentrated(CollectFeeMode::BothToken, 100_000, dynamic);
    l2_market(h, pool, admin, h.accounts.operator, params).await
}

/// An op without limit of `amount` at `timestamp`: exact in, or exact out (`exact_out`).
pub fn op(zero_for_one: bool, exact_out: bool, amount: u128, timestamp: u64) -> Op {
    Op {
        zero_for_one,
        exact_out,
        amount,
        limit: None,
        timestamp,
    }
}

/// An exact-in op without limit: sells `amount` of token0 (`zero_for_one`) or of token1 at `timestamp`.
pub fn sell(zero_for_one: bool, amount: u128, timestamp: u64) -> Op {
    op(zero_for_one, false, amount, timestamp)
}

/// A small deterministic generator (xorshift64*), so a failing random run can be replayed from its seed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `[0, n)`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A random trade a user of `state`'s market could make now: either direction, exact in or out, between
/// 1/100,000 and 1/50 of the token it takes from the market's reserves, sometimes with a limit a little short of
/// its quote. Returns `None` when the trade is refused by the math (e.g. beyond the range): an operator
/// refuses it to its user.
pub fn random_op(rng: &mut Rng, state: &MarketState, timestamp: u64) -> Option<Op> {
    let zero_for_one = rng.below(2) == 0;
    let exact_out = rng.below(3) == 0;
    let reserve = if zero_for_one != exact_out {
        // Selling token0 (exact in) or buying token0 (exact out): size by token0.
        state.pool.token_a_amount
    } else {
        state.pool.token_b_amount
    };
    let amount = (reserve / 100_000).max(1) * (1 + u128::from(rng.below(2_000)));
    let mut op = op(zero_for_one, exact_out, amount, timestamp);
    let mut copy = *state;
    let mut totals = Totals::default();
    let result = execute_op(&mut copy, &op, 0, true, u64::MAX, &mut totals).ok()?;
    if rng.below(2) == 0 {
        // A limit that the trade meets: the quote itself, or a little worse.
        let slack = u128::from(rng.below(3));
        op.limit = Some(if exact_out {
            result.included_fee_input_amount + slack
        } else {
            result.output_amount.saturating_sub(slack)
        });
    }
    Some(op)
}

/// Applies `op` to `state` (as the market will), for building a batch op by op.
pub fn apply(state: &mut MarketState, op: &Op) {
    let mut totals = Totals::default();
    execute_op(state, op, 0, true, u64::MAX, &mut totals).expect("a valid op");
}

/// `n` valid random ops on `state` at `timestamp` (the state is not changed).
pub fn random_batch(rng: &mut Rng, state: &MarketState, timestamp: u64, n: usize) -> Vec<Op> {
    let mut s = *state;
    let mut ops = Vec::with_capacity(n);
    while ops.len() < n {
        if let Some(op) = random_op(rng, &s, timestamp) {
            apply(&mut s, &op);
            ops.push(op);
        }
    }
    ops
}

/// `n` (even) valid ops on `state` at `timestamp` in round trips: a random exact-in swap, then the opposite
/// exact-in swap of what it paid out. The batch's net flows are its fees, so settling it never burns LP tokens
/// once the vault holds some of both tokens (the gas benchmark measures the market's own cost with them).
pub fn round_trips(rng: &mut Rng, state: &MarketState, timestamp: u64, n: usize) -> Vec<Op> {
    let mut s = *state;
    let mut ops = Vec::with_capacity(n);
    while ops.len() < n {
        let Some(mut first) = random_op(rng, &s, timestamp) else {
            continue;
        };
        first.exact_out = false;
        first.limit = None;
        let mut copy = s;
        let mut totals = Totals::default();
        let Ok(out) = execute_op(&mut copy, &first, 0, true, u64::MAX, &mut totals) else {
            continue;
        };
        let back = sell(!first.zero_for_one, out.output_amount, timestamp);
        if out.output_amount == 0 || execute_op(&mut copy, &back, 1, true, u64::MAX, &mut totals).is_err() {
            continue;
        }
        s = copy;
        ops.extend([first, back]);
    }
    ops
}

/// `x` as u128 (amounts on the chain fit).
pub fn atoms(x: U256) -> u128 {
    small(x)
}
