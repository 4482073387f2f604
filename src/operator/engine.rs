//! One market's books: the state the chain has confirmed, the journal of acknowledged trades and resizes not
//! yet settled, and the state users trade against (the confirmed state with the journal applied).
//!
//! Everything here is pure: no I/O, no clock. The journal's durability is the writer's job
//! ([`super::journal`]); settlement is the submitter's ([`super::submit`]).

use std::collections::VecDeque;

use alloy::primitives::{Address, B256};
use damm_market_codec::{encode_batch, execute_batch, execute_op, BatchError, MarketState, Op, Totals};
use damm_math::{MathError, U256};

/// A trade as a user asks for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TradeRequest {
    /// Token 0 in, token 1 out (else the other way).
    pub zero_for_one: bool,
    /// `amount` is the input (else the output).
    pub exact_in: bool,
    /// Input (exact in) or output (exact out), atoms; not zero.
    pub amount: u128,
    /// Minimum output (exact in) or maximum input (exact out).
    pub limit: Option<u128>,
}

/// What a trade gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fill {
    /// What the user pays, fee included.
    pub amount_in: u128,
    /// What the user receives.
    pub amount_out: u128,
    /// The whole fee (LP, protocol, referral).
    pub fee: u128,
    /// The market's sqrt price after the trade (Q64.64).
    pub sqrt_price: u128,
    /// The trade's timestamp (the time its dynamic fee is computed at).
    pub timestamp: u64,
}

/// Why a trade is refused; each has a stable name (the HTTP API's `error`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The amount is zero.
    ZeroAmount,
    /// The trade would give nothing (its whole input goes to fees and rounding).
    ZeroOutput,
    /// The market's range cannot fill the trade.
    OutOfRange(MathError),
    /// The trade misses its limit: `amount` is what it would get (exact in) or pay (exact out).
    LimitMissed {
        /// Output (exact in) or input (exact out).
        amount: u128,
        /// The limit.
        limit: u128,
    },
    /// Any other refusal of the math.
    Math(MathError),
    /// The market is frozen on L1.
    Frozen,
    /// The vault does not list the market as active.
    Inactive,
    /// The vault is paused.
    VaultPaused,
    /// Too many trades await settlement.
    Backlog(usize),
    /// The daemon has not read the chain yet.
    NotReady,
}

impl Refusal {
    /// The refusal's name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::ZeroAmount => "ZeroAmount",
            Self::ZeroOutput => "ZeroOutput",
            Self::OutOfRange(_) => "OutOfRange",
            Self::LimitMissed { .. } => "LimitMissed",
            Self::Math(_) => "MathError",
            Self::Frozen => "MarketFrozen",
            Self::Inactive => "MarketInactive",
            Self::VaultPaused => "VaultPaused",
            Self::Backlog(_) => "Backlog",
            Self::NotReady => "NotReady",
        }
    }

    /// Whether the refusal is about the market's condition (HTTP 503) rather than the trade (422).
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            Self::Frozen | Self::Inactive | Self::VaultPaused | Self::Backlog(_) | Self::NotReady
        )
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::ZeroAmount => f.write_str("the amount is zero"),
            Self::ZeroOutput => {
                f.write_str("the trade is too small: it would give nothing after fees and rounding")
            }
            Self::OutOfRange(e) => write!(f, "the market's price range cannot fill this trade ({e:?})"),
            Self::LimitMissed { amount, limit } => {
                write!(f, "the trade would get {amount}, beyond its limit {limit}")
            }
            Self::Math(e) => write!(f, "the pricing math refuses the trade ({e:?})"),
            Self::Frozen => f.write_str("the market is frozen on L1; trades resume when it is unfrozen"),
            Self::Inactive => f.write_str("the vault does not list this market as active"),
            Self::VaultPaused => f.write_str("the vault is paused"),
            Self::Backlog(n) => write!(f, "{n} trades await settlement; try again shortly"),
            Self::NotReady => f.write_str("the operator has not synchronised with the chain yet"),
        }
    }
}

/// An acknowledged trade.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trade {
    /// Journal id (global, increasing).
    pub id: i64,
    /// The client's key, if it gave one.
    pub client_id: Option<String>,
    /// The op as the batch carries it.
    pub op: Op,
    /// What it got.
    pub fill: Fill,
    /// When it was acknowledged (unix milliseconds).
    pub accepted_at_ms: u64,
}

/// A journal entry: a trade, or a resize the vault owner requested, applied in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// A trade.
    Trade(Trade),
    /// A resize to `liquidity`.
    Resize {
        /// Journal id.
        id: i64,
        /// The new liquidity.
        liquidity: U256,
    },
}

impl Entry {
    /// The journal id.
    pub fn id(&self) -> i64 {
        match self {
            Self::Trade(t) => t.id,
            Self::Resize { id, .. } => *id,
        }
    }
}

/// A state transition the operator sends to the market: a batch of trades, or a resize.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transition {
    /// Its sequence number (the market's `seq` after it).
    pub seq: u64,
    /// The state hash before.
    pub prev_hash: B256,
    /// The state hash after.
    pub new_hash: B256,
    /// Batch or resize.
    pub kind: TransitionKind,
    /// First and last journal id it covers.
    pub first_id: i64,
    /// Last journal id it covers.
    pub last_id: i64,
    /// The state after it.
    pub new_state: MarketState,
}

/// What a transition does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransitionKind {
    /// `submitBatch` with these ops.
    Batch {
        /// The encoded ops.
        ops: Vec<u8>,
        /// Its trades.
        trades: u64,
        /// Its net flows.
        totals: Totals,
    },
    /// `applyResize` to this liquidity.
    Resize {
        /// The new liquidity.
        liquidity: U256,
    },
}

impl Transition {
    /// Trades it settles.
    pub fn trades(&self) -> u64 {
        match &self.kind {
            TransitionKind::Batch { trades, .. } => *trades,
            TransitionKind::Resize { .. } => 0,
        }
    }
}

/// The market's condition on L1, as last polled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Conditions {
    /// The market is frozen.
    pub frozen: bool,
    /// The vault lists it as inactive.
    pub inactive: bool,
    /// The vault is paused.
    pub paused: bool,
    /// The latest block's timestamp.
    pub head_timestamp: u64,
    /// The pending resize request `(liquidity, deadline)`, liquidity 0 for none.
    pub resize: (U256, u64),
}

/// One market's books.
#[derive(Debug)]
pub struct Engine {
    /// The market's name.
    pub name: String,
    /// Its contract.
    pub address: Address,
    /// The pool's tokens.
    pub tokens: [Address; 2],
    /// The state the chain has confirmed.
    confirmed: MarketState,
    /// Durable, unsettled entries, in journal order.
    entries: VecDeque<Entry>,
    /// Entries applied to `soft` but not durable yet (the writer's current group).
    staged: Vec<Entry>,
    /// `confirmed` with `entries` and `staged` applied: what users trade against (its `seq` is not meaningful:
    /// trades do not move it until they are batched).
    soft: MarketState,
    /// The transition being settled (recorded in the journal, immutable).
    inflight: Option<Transition>,
    /// The chain's conditions.
    pub conditions: Conditions,
    /// Whether the chain has been read.
    pub ready: bool,
    /// Refuse trades beyond this many awaiting settlement.
    pub max_pending: usize,
    trades_pending: usize,
}

/// Why the journal cannot be replayed over the chain's state (the journal is not this market's history).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("journal entry {id} cannot be replayed over the chain's state: {cause}")]
pub struct ReplayError {
    /// The entry.
    pub id: i64,
    /// What failed.
    pub cause: String,
}

impl Engine {
    /// Books over the chain's `confirmed` state with no journal.
    pub fn new(name: String, address: Address, tokens: [Address; 2], confirmed: MarketState) -> Self {
        Self {
            name,
            address,
            tokens,
            confirmed,
            entries: VecDeque::new(),
            staged: Vec::new(),
            soft: confirmed,
            inflight: None,
            conditions: Conditions::default(),
            ready: false,
            max_pending: usize::MAX,
            trades_pending: 0,
        }
    }

    /// Resets the books to the chain's `confirmed` state with the unsettled `entries` (journal order) and the
    /// recorded `inflight` transition (whose entries lead `entries`).
    ///
    /// # Errors
    ///
    /// [`ReplayError`] if an entry fails over that state.
    pub fn restore(
        &mut self,
        confirmed: MarketState,
        entries: Vec<Entry>,
        inflight: Option<Transition>,
    ) -> Result<(), ReplayError> {
        self.confirmed = confirmed;
        self.entries = entries.into();
        self.staged.clear();
        self.inflight = inflight;
        self.trades_pending = self
            .entries
            .iter()
            .filter(|e| matches!(e, Entry::Trade(_)))
            .count();
        self.soft = replay(&self.confirmed, self.entries.iter())?;
        Ok(())
    }

    /// The state the chain confirmed.
    pub fn confirmed(&self) -> &MarketState {
        &self.confirmed
    }

    /// The state users trade against.
    pub fn soft(&self) -> &MarketState {
        &self.soft
    }

    /// The transition being settled.
    pub fn inflight(&self) -> Option<&Transition> {
        self.inflight.as_ref()
    }

    /// Acknowledged trades not yet settled.
    pub fn trades_pending(&self) -> usize {
        self.trades_pending
    }

    /// Durable, unsettled entries.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter()
    }

    /// The timestamp a trade taken now gets: the latest block's, never before the market's last trade (so
    /// the market, which refuses ops later than its block, accepts it in any later block).
    pub fn trade_timestamp(&self) -> u64 {
        self.conditions.head_timestamp.max(self.soft.last_timestamp)
    }

    fn check_open(&self) -> Result<(), Refusal> {
        if !self.ready {
            return Err(Refusal::NotReady);
        }
        if self.conditions.frozen {
            return Err(Refusal::Frozen);
        }
        if self.conditions.paused {
            return Err(Refusal::VaultPaused);
        }
        if self.conditions.inactive {
            return Err(Refusal::Inactive);
        }
        Ok(())
    }

    fn price(&self, request: &TradeRequest) -> Result<(MarketState, Op, Fill), Refusal> {
        if request.amount == 0 {
            return Err(Refusal::ZeroAmount);
        }
        let op = Op {
            zero_for_one: request.zero_for_one,
            exact_out: !request.exact_in,
            amount: request.amount,
            limit: request.limit,
            timestamp: self.trade_timestamp(),
        };
        let mut state = self.soft;
        let mut totals = Totals::default();
        let result =
            execute_op(&mut state, &op, 0, true, op.timestamp, &mut totals).map_err(|e| match e {
                BatchError::LimitMissed { amount, limit, .. } => Refusal::LimitMissed { amount, limit },
                BatchError::Swap { error, .. } => match error {
                    MathError::PriceRangeViolation | MathError::InsufficientLiquidity => {
                        Refusal::OutOfRange(error)
                    }
                    other => Refusal::Math(other),
                },
                // The timestamp is chosen above so that these cannot happen.
                _ => Refusal::Math(MathError::InvalidInput),
            })?;
        if result.output_amount == 0 {
            return Err(Refusal::ZeroOutput);
        }
        let fill = Fill {
            amount_in: result.included_fee_input_amount,
            amount_out: result.output_amount,
            fee: result.claiming_fee + result.compounding_fee + result.protocol_fee + result.referral_fee,
            sqrt_price: state.pool.sqrt_price,
            timestamp: op.timestamp,
        };
        Ok((state, op, fill))
    }

    /// What `request` would get now; changes nothing.
    ///
    /// # Errors
    ///
    /// The [`Refusal`] a swap would meet.
    pub fn quote(&self, request: &TradeRequest) -> Result<Fill, Refusal> {
        self.check_open()?;
        self.price(request).map(|(_, _, fill)| fill)
    }

    /// Takes `request` as trade `id`: applies it to the trading state and stages it until the writer makes it
    /// durable ([`Self::commit_staged`]) or gives up ([`Self::abort_staged`]).
    ///
    /// # Errors
    ///
    /// The [`Refusal`]; nothing changes then.
    pub fn stage_trade(
        &mut self,
        request: &TradeRequest,
        id: i64,
        client_id: Option<String>,
        now_ms: u64,
    ) -> Result<Trade, Refusal> {
        self.check_open()?;
        if self.trades_pending + self.staged.len() >= self.max_pending {
            return Err(Refusal::Backlog(self.trades_pending + self.staged.len()));
        }
        let (state, op, fill) = self.price(request)?;
        self.soft = state;
        let trade = Trade {
            id,
            client_id,
            op,
            fill,
            accepted_at_ms: now_ms,
        };
        self.staged.push(Entry::Trade(trade.clone()));
        Ok(trade)
    }

    /// Stages the resize request `liquidity` as entry `id`, after every trade taken so far.
    ///
    /// # Errors
    ///
    /// The math's error (the resize is then not journaled).
    pub fn stage_resize(&mut self, id: i64, liquidity: U256) -> Result<(), MathError> {
        let mut state = self.soft;
        state.resize(liquidity)?;
        self.soft = state;
        self.staged.push(Entry::Resize { id, liquidity });
        Ok(())
    }

    /// Whether a resize to `liquidity` is journaled and not yet applied on chain.
    pub fn resize_journaled(&self, liquidity: U256) -> bool {
        self.entries
            .iter()
            .chain(&self.staged)
            .any(|e| matches!(e, Entry::Resize { liquidity: l, .. } if *l == liquidity))
    }

    /// The staged entries became durable.
    pub fn commit_staged(&mut self) {
        for entry in self.staged.drain(..) {
            if matches!(entry, Entry::Trade(_)) {
                self.trades_pending += 1;
            }
            self.entries.push_back(entry);
        }
    }

    /// The staged entries could not be made durable: they are forgotten, and the trading state is rebuilt
    /// without them.
    pub fn abort_staged(&mut self) {
        self.staged.clear();
        self.soft = replay(&self.confirmed, self.entries.iter())
            .expect("durable entries replay over the confirmed state");
    }

    /// The next transition to settle: the inflight one, or a new one from the head of the journal — a resize
    /// on its own, or up to `max_trades` trades (never across a resize). `None` when nothing is due: a batch
    /// is due when it is full, when its oldest trade is `max_age_ms` old at `now_ms`, or when a resize waits
    /// behind it. A new transition must be recorded ([`Self::set_inflight`]) before it is sent.
    pub fn next_transition(&self, max_trades: usize, max_age_ms: u64, now_ms: u64) -> Option<Transition> {
        if let Some(inflight) = &self.inflight {
            return Some(inflight.clone());
        }
        let first = self.entries.front()?;
        let prev_hash = self.confirmed.hash();
        if let Entry::Resize { id, liquidity } = first {
            let mut state = self.confirmed;
            state.resize(*liquidity).ok()?;
            return Some(Transition {
                seq: state.seq,
                prev_hash,
                new_hash: state.hash(),
                kind: TransitionKind::Resize {
                    liquidity: *liquidity,
                },
                first_id: *id,
                last_id: *id,
                new_state: state,
            });
        }
        let mut ops = Vec::new();
        let mut last_id = first.id();
        let mut resize_waits = false;
        for entry in &self.entries {
            match entry {
                Entry::Trade(t) if ops.len() < max_trades => {
                    ops.push(t.op);
                    last_id = t.id;
                }
                Entry::Trade(_) => break,
                Entry::Resize { .. } => {
                    resize_waits = true;
                    break;
                }
            }
        }
        let oldest = match first {
            Entry::Trade(t) => t.accepted_at_ms,
            Entry::Resize { .. } => now_ms,
        };
        let due = ops.len() >= max_trades || resize_waits || now_ms.saturating_sub(oldest) >= max_age_ms;
        if !due {
            return None;
        }
        let encoded = encode_batch(ops[0].timestamp, &ops).expect("journaled ops encode");
        let now = ops.last().map_or(0, |op| op.timestamp);
        let mut state = self.confirmed;
        let totals = execute_batch(&mut state, &encoded, now).expect("journaled ops re-execute");
        Some(Transition {
            seq: state.seq,
            prev_hash,
            new_hash: state.hash(),
            kind: TransitionKind::Batch {
                ops: encoded,
                trades: ops.len() as u64,
                totals,
            },
            first_id: first.id(),
            last_id,
            new_state: state,
        })
    }

    /// `transition` is recorded in the journal: it is now the one being settled.
    pub fn set_inflight(&mut self, transition: Transition) {
        self.inflight = Some(transition);
    }

    /// The inflight transition settled on chain: its entries leave the journal and its state is the confirmed
    /// one.
    pub fn settled(&mut self) -> Option<Transition> {
        let transition = self.inflight.take()?;
        while self.entries.front().is_some_and(|e| e.id() <= transition.last_id) {
            if let Some(Entry::Trade(_)) = self.entries.pop_front() {
                self.trades_pending -= 1;
            }
        }
        self.confirmed = transition.new_state;
        Some(transition)
    }
}

/// `confirmed` with `entries` applied in order (trades at their own timestamps).
///
/// # Errors
///
/// [`ReplayError`] naming the first entry that fails.
pub fn replay<'a>(
    confirmed: &MarketState,
    entries: impl Iterator<Item = &'a Entry>,
) -> Result<MarketState, ReplayError> {
    let mut state = *confirmed;
    let mut totals = Totals::default();
    for entry in entries {
        match entry {
            Entry::Trade(t) => {
                execute_op(&mut state, &t.op, 0, true, t.op.timestamp, &mut totals).map_err(|e| {
                    ReplayError {
                        id: t.id,
                        cause: format!("{e:?}"),
                    }
                })?;
            }
            Entry::Resize { id, liquidity } => state.resize(*liquidity).map_err(|e| ReplayError {
                id: *id,
                cause: format!("{e:?}"),
            })?,
        }
    }
    Ok(state)
}

/// Rebuilds a recorded transition from its journal record over the chain's state before it.
///
/// # Errors
///
/// A description if the record does not re-execute over `confirmed` or does not reach `new_hash`.
pub fn rebuild_transition(
    confirmed: &MarketState,
    seq: u64,
    first_id: i64,
    last_id: i64,
    ops: Option<&[u8]>,
    liquidity: Option<U256>,
    new_hash: B256,
) -> Result<Transition, String> {
    let mut state = *confirmed;
    let kind = match (ops, liquidity) {
        (Some(ops), _) => {
            let last = damm_market_codec::BatchReader::new(ops)
                .map_err(|e| format!("recorded batch {seq} does not decode: {e:?}"))?
                .filter_map(Result::ok)
                .last()
                .map_or(0, |op| op.timestamp);
            let totals = execute_batch(&mut state, ops, last)
                .map_err(|e| format!("recorded batch {seq} does not re-execute: {e:?}"))?;
            TransitionKind::Batch {
                ops: ops.to_vec(),
                trades: totals.swaps,
                totals,
            }
        }
        (None, Some(liquidity)) => {
            state
                .resize(liquidity)
                .map_err(|e| format!("recorded resize {seq} fails: {e:?}"))?;
            TransitionKind::Resize { liquidity }
        }
        (None, None) => return Err(format!("recorded transition {seq} has neither ops nor liquidity")),
    };
    if state.seq != seq || state.hash() != new_hash {
        return Err(format!(
            "recorded transition {seq} reaches seq {} hash {}, not {new_hash}",
            state.seq,
            state.hash()
        ));
    }
    Ok(Transition {
        seq,
        prev_hash: confirmed.hash(),
        new_hash,
        kind,
        first_id,
        last_id,
        new_state: state,
    })
}

#[cfg(test)]
mod tests {
    use damm_market_codec::MarketParams;
    use damm_math::{CollectFeeMode, DynamicFee};

    use super::*;

    const Q64: u128 = 1 << 64;
    const T0: u64 = 1_700_000_000;

    fn engine() -> Engine {
        let params = MarketParams {
            mode: CollectFeeMode::BothToken,
            sqrt_price: Q64,
            sqrt_min_price: Q64 / 2,
            sqrt_max_price: Q64 * 2,
            liquidity: U256::from(10u128.pow(12)) << 64,
            base_fee_numerator: 2_500_000,
            protocol_fee_percent: 20,
            referral_fee_percent: 20,
            compounding_fee_bps: 0,
            fee_version: 1,
            dynamic_fee: DynamicFee::default(),
        };
        let mut e = Engine::new(
            "m".into(),
            Address::ZERO,
            [Address::ZERO; 2],
            params.initial_state(T0).unwrap(),
        );
        e.ready = true;
        e.conditions.head_timestamp = T0 + 10;
        e
    }

    fn sell(zero_for_one: bool, amount: u128) -> TradeRequest {
        TradeRequest {
            zero_for_one,
            exact_in: true,
            amount,
            limit: None,
        }
    }

    #[test]
    fn staged_trades_batch_and_settle_as_the_market_would() {
        let mut e = engine();
        let quote = e.quote(&sell(true, 1_000_000)).unwrap();
        let t1 = e.stage_trade(&sell(true, 1_000_000), 1, None, 0).unwrap();
        assert_eq!(t1.fill, quote, "a quote is what the same trade gets next");
        e.conditions.head_timestamp += 5;
        let t2 = e
            .stage_trade(&sell(false, 3_000_000), 2, Some("k".into()), 10)
            .unwrap();
        assert!(t2.op.timestamp > t1.op.timestamp);
        assert!(
            e.next_transition(10, 1_000, 10_000).is_none(),
            "staged trades are not durable yet"
        );
        e.commit_staged();
        assert_eq!(e.trades_pending(), 2);
        assert!(
            e.next_transition(10, 1_000, 500).is_none(),
            "neither full nor old"
        );
        let batch = e.next_transition(2, 1_000, 500).expect("full");
        assert_eq!(
            (batch.seq, batch.first_id, batch.last_id, batch.trades()),
            (1, 1, 2, 2)
        );
        assert_eq!(
            batch.new_state.pool,
            e.soft().pool,
            "the batch reaches the trading state"
        );
        assert_eq!(batch.prev_hash, e.confirmed().hash());
        e.set_inflight(batch.clone());
        // More trades while the batch is in flight; the in-flight one is returned until it settles.
        e.stage_trade(&sell(true, 500), 3, None, 20).unwrap();
        e.commit_staged();
        assert_eq!(e.next_transition(1, 0, 10_000), Some(batch.clone()));
        e.settled();
        assert_eq!(*e.confirmed(), batch.new_state);
        assert_eq!(e.trades_pending(), 1);
        let next = e.next_transition(10, 0, 10_000).expect("old enough");
        assert_eq!((next.seq, next.first_id, next.last_id), (2, 3, 3));
        assert_eq!(next.new_state.pool, e.soft().pool);
    }

    #[test]
    fn a_resize_waits_for_the_trades_before_it_and_goes_alone() {
        let mut e = engine();
        e.stage_trade(&sell(true, 1_000_000), 1, None, 0).unwrap();
        let doubled = e.soft().pool.liquidity * U256::from(2);
        e.stage_resize(2, doubled).unwrap();
        e.stage_trade(&sell(false, 1_000_000), 3, None, 0).unwrap();
        e.commit_staged();
        assert!(e.resize_journaled(doubled));
        let batch = e
            .next_transition(100, u64::MAX, 0)
            .expect("a waiting resize makes the batch due");
        assert_eq!((batch.first_id, batch.last_id, batch.trades()), (1, 1, 1));
        e.set_inflight(batch);
        e.settled();
        let resize = e.next_transition(100, u64::MAX, 0).expect("the resize");
        assert_eq!(resize.kind, TransitionKind::Resize { liquidity: doubled });
        assert_eq!(resize.new_state.pool.liquidity, doubled);
        e.set_inflight(resize);
        e.settled();
        let last = e.next_transition(100, 0, 0).expect("the trade after the resize");
        assert_eq!(
            last.new_state.pool,
            e.soft().pool,
            "the trade after the resize was priced at the new liquidity"
        );
    }

    #[test]
    fn refusals_change_nothing_and_aborted_writes_roll_back() {
        let mut e = engine();
        let before = *e.soft();
        assert_eq!(
            e.stage_trade(&sell(true, 0), 1, None, 0),
            Err(Refusal::ZeroAmount)
        );
        let huge = e.stage_trade(&sell(true, u128::MAX / 2), 1, None, 0).unwrap_err();
        assert!(
            matches!(huge, Refusal::OutOfRange(_) | Refusal::Math(_)),
            "{huge:?}"
        );
        let mut limited = sell(true, 1_000);
        limited.limit = Some(1_000);
        assert!(matches!(
            e.stage_trade(&limited, 1, None, 0),
            Err(Refusal::LimitMissed { .. })
        ));
        assert_eq!(*e.soft(), before);
        e.stage_trade(&sell(true, 1_000), 1, None, 0).unwrap();
        e.abort_staged();
        assert_eq!(*e.soft(), before);
        e.conditions.frozen = true;
        assert_eq!(e.quote(&sell(true, 1_000)), Err(Refusal::Frozen));
        e.conditions.frozen = false;
        e.max_pending = 1;
        e.stage_trade(&sell(true, 1_000), 1, None, 0).unwrap();
        assert_eq!(
            e.stage_trade(&sell(true, 1_000), 2, None, 0),
            Err(Refusal::Backlog(1))
        );
    }

    #[test]
    fn recorded_transitions_rebuild_and_journals_replay() {
        let mut e = engine();
        for id in 1..=5 {
            e.stage_trade(&sell(id % 2 == 0, 10_000 * id as u128), id, None, 0)
                .unwrap();
        }
        e.commit_staged();
        let batch = e.next_transition(3, 0, 0).unwrap();
        let TransitionKind::Batch { ops, .. } = &batch.kind else {
            panic!("a batch")
        };
        let rebuilt = rebuild_transition(e.confirmed(), batch.seq, 1, 3, Some(ops), None, batch.new_hash)
            .expect("rebuilds");
        assert_eq!(rebuilt, batch);
        assert!(rebuild_transition(e.confirmed(), batch.seq, 1, 3, Some(ops), None, B256::ZERO).is_err());
        let entries: Vec<Entry> = e.entries().cloned().collect();
        let mut fresh = engine();
        fresh.restore(*e.confirmed(), entries, Some(batch)).unwrap();
        assert_eq!(fresh.soft(), e.soft());
        assert_eq!(fresh.trades_pending(), 5);
    }
}
