//! A dAMM market (PROTOCOL.md, "Market", "Batch", "L1 market", "Resizing and freezing"): one DAMM v2 pricing
//! state pricing trades against a vault pool's liquidity.
//!
//! - An **L2 market** belongs to an operator, who posts its users' trades as batches: `submitBatch` checks the
//!   sequence number and the previous state hash, re-executes every op with the shared code
//!   ([`damm_market_codec::execute_batch`]), checks the new state hash and settles the net flows with the vault,
//!   the operator as counterparty and referrer.
//! - An **L1 market** lets anyone `swap`, settled at once with the caller.
//! - The state is stored as its canonical encoding ([`damm_market_codec::state`]) in
//!   [`STATE_WORDS`] storage words: `stateHash` is the keccak of exactly those bytes, and a batch rewrites only
//!   the words it changed.
//! - **Resizing**: the vault owner requests a new liquidity (at most the limit the vault admitted for this
//!   market); an L2 operator applies it at a batch boundary of its choosing (`applyResize`, a state
//!   transition), an L1 market at once. A request left unapplied past its deadline lets the owner freeze the
//!   market: a frozen market settles nothing until unfrozen.
//!
//! Every external call is hand-encoded ([`vault`]); the vault's own errors (health factor, uncovered payouts,
//! pause) come back unchanged. Reentrancy: the entrypoint refuses every call while the market executes.

#![cfg_attr(not(any(test, feature = "export-abi")), no_main)]
#![cfg_attr(not(any(test, feature = "export-abi")), no_std)]
// `sol!` items keep their Solidity names; `#[public]` generates undocumented items.
#![allow(missing_docs)]
#![allow(clippy::result_large_err)]

extern crate alloc;

pub mod router;
#[cfg(test)]
mod tests;
mod vault;

use alloc::{vec, vec::Vec};

use damm_market_codec::{
    exec::{execute_op, BatchError},
    execute_batch, MarketParams, MarketState, Op, Totals, STATE_WORDS,
};
use damm_math::{MathError, SwapResult, U256 as MathU256};
use stylus_sdk::{
    abi::Bytes,
    alloy_primitives::{Address, B256, U256, U64},
    alloy_sol_types::{sol, SolError, SolEvent},
    prelude::*,
    storage::{StorageAddress, StorageArray, StorageB256, StorageBool, StorageU256, StorageU64},
};

sol! {
    #![sol(all_derives, alloy_sol_types = stylus_sdk::alloy_sol_types)]

    /// The market was created (`l1`: anyone swaps; else the operator posts batches).
    event MarketCreated(address indexed vault, address indexed pool, address indexed operator, bool l1, bytes32 stateHash);
    /// A batch of `swaps` trades was settled; `flows` as the vault's `settle` takes them.
    event BatchSettled(uint64 indexed seq, bytes32 stateHash, uint256 swaps, uint256[8] flows, uint256 lpFee0, uint256 lpFee1);
    /// `trader` swapped on an L1 market; `flows` as the vault's `settle` takes them.
    event Swapped(address indexed trader, uint64 indexed seq, bytes32 stateHash, uint256[8] flows, uint256 lpFee0, uint256 lpFee1);
    /// `pendingOperator` was proposed by `operator` (two-step transfer).
    event OperatorTransferStarted(address indexed operator, address indexed pendingOperator);
    /// The operator changed.
    event OperatorTransferred(address indexed previousOperator, address indexed operator);
    /// The vault owner requested a new liquidity, to be applied by `deadline` (0 liquidity: request withdrawn).
    event ResizeRequested(uint256 liquidity, uint64 deadline);
    /// The requested liquidity was applied as state transition `seq`.
    event ResizeApplied(uint64 indexed seq, bytes32 stateHash, uint256 liquidity);
    /// The vault owner froze or unfroze the market.
    event FrozenSet(bool frozen);

    /// `caller` may not do this (not the operator, pending operator or vault owner).
    error Unauthorized(address caller);
    /// An address argument is zero.
    error InvalidAddress(address value);
    /// The constructor's `params` are not a valid encoding (`offset`: first bad byte).
    error MalformedParams(uint256 offset);
    /// The constructor's parameters break DAMM v2's rules; `code` is the math error (`damm_math::MathError`).
    error InvalidParams(uint8 code);
    /// The call is for the other kind of market (`l1`: this market's kind).
    error WrongKind(bool l1);
    /// The market is frozen: it settles nothing until the vault owner unfreezes it.
    error MarketFrozen();
    /// The batch's `seq` is not the next one.
    error BadSequence(uint64 expected, uint64 given);
    /// `prevStateHash` is not the market's current state hash.
    error StaleStateHash(bytes32 current, bytes32 given);
    /// The state after re-execution hashes to `computed`, not to the `given` new state hash.
    error StateHashMismatch(bytes32 computed, bytes32 given);
    /// `ops` is not a valid batch encoding (`offset`: first bad byte).
    error MalformedOps(uint256 offset);
    /// The batch has no op.
    error EmptyBatch();
    /// Op `index` is earlier than the market's last trade.
    error TimestampDecreased(uint256 index, uint64 timestamp, uint64 last);
    /// Op `index` is later than the block.
    error TimestampInFuture(uint256 index, uint64 timestamp, uint64 now);
    /// The math refused op `index`; `code` is the math error (`damm_math::MathError`, e.g. PriceRangeViolation).
    error OpFailed(uint256 index, uint8 code);
    /// Op `index` missed its limit: `amount` is its output (exact in) or input (exact out).
    error LimitMissed(uint256 index, uint256 amount, uint256 limit);
    /// The swap's deadline passed.
    error DeadlineExpired(uint256 deadline, uint64 now);
    /// No resize is pending.
    error NoPendingResize();
    /// The requested liquidity exceeds the limit the vault admitted for this market.
    error ResizeNotAdmitted(uint256 liquidity, uint256 limit);
    /// The pending resize's deadline has not passed: the market cannot be frozen yet.
    error ResizeNotOverdue(uint64 deadline);
    /// The resize is refused by the math (`code`: the math error).
    error InvalidResize(uint8 code);
}

macro_rules! market_errors {
    ($($name:ident),* $(,)?) => {
        /// Every way a market call fails. The vault's own errors are passed through unchanged, not wrapped
        /// ([`MarketError::Vault`]), so `IMarket.sol` lists only the market's.
        #[cfg_attr(test, derive(Debug))]
        pub enum MarketError {
            $($name($name),)*
            /// Revert data of a failed vault call, passed through as it is.
            Vault(Vec<u8>),
        }

        $(impl From<$name> for MarketError {
            fn from(e: $name) -> Self {
                Self::$name(e)
            }
        })*

        /// The errors `export-abi` lists (what `#[derive(SolidityError)]` would generate, less the pass-through).
        #[cfg(feature = "export-abi")]
        impl stylus_sdk::abi::export::internal::InnerTypes for MarketError {
            fn inner_types() -> Vec<stylus_sdk::abi::export::internal::InnerType> {
                use alloc::format;
                vec![$(stylus_sdk::abi::export::internal::InnerType {
                    name: format!("error {};", <$name as SolError>::SIGNATURE.replace(',', ", ")),
                    id: core::any::TypeId::of::<$name>(),
                }),*]
            }
        }
    };
}

market_errors!(
    Unauthorized,
    InvalidAddress,
    MalformedParams,
    InvalidParams,
    WrongKind,
    MarketFrozen,
    BadSequence,
    StaleStateHash,
    StateHashMismatch,
    MalformedOps,
    EmptyBatch,
    TimestampDecreased,
    TimestampInFuture,
    OpFailed,
    LimitMissed,
    DeadlineExpired,
    NoPendingResize,
    ResizeNotAdmitted,
    ResizeNotOverdue,
    InvalidResize,
);

impl From<MarketError> for Vec<u8> {
    fn from(e: MarketError) -> Self {
        e.encode()
    }
}

/// The result of a market method.
pub type MarketResult<T> = Result<T, MarketError>;

use damm_stylus_abi::{with_selector as error_words, word_of};

fn hash_word(hash: B256) -> U256 {
    U256::from_be_bytes(hash.0)
}

impl MarketError {
    /// The error's revert data, encoded by hand (the derive's generic encoder costs kilobytes of code; a unit
    /// test checks both agree).
    pub fn encode(self) -> Vec<u8> {
        use MarketError as E;
        let u = |x: u64| U256::from(x);
        match self {
            E::Unauthorized(e) => error_words(Unauthorized::SELECTOR, &[word_of(e.caller)]),
            E::InvalidAddress(e) => error_words(InvalidAddress::SELECTOR, &[word_of(e.value)]),
            E::MalformedParams(e) => error_words(MalformedParams::SELECTOR, &[e.offset]),
            E::InvalidParams(e) => error_words(InvalidParams::SELECTOR, &[u(e.code as u64)]),
            E::WrongKind(e) => error_words(WrongKind::SELECTOR, &[u(e.l1 as u64)]),
            E::MarketFrozen(_) => error_words(MarketFrozen::SELECTOR, &[]),
            E::BadSequence(e) => error_words(BadSequence::SELECTOR, &[u(e.expected), u(e.given)]),
            E::StaleStateHash(e) => error_words(
                StaleStateHash::SELECTOR,
                &[hash_word(e.current), hash_word(e.given)],
            ),
            E::StateHashMismatch(e) => error_words(
                StateHashMismatch::SELECTOR,
                &[hash_word(e.computed), hash_word(e.given)],
            ),
            E::MalformedOps(e) => error_words(MalformedOps::SELECTOR, &[e.offset]),
            E::EmptyBatch(_) => error_words(EmptyBatch::SELECTOR, &[]),
            E::TimestampDecreased(e) => error_words(
                TimestampDecreased::SELECTOR,
                &[e.index, u(e.timestamp), u(e.last)],
            ),
            E::TimestampInFuture(e) => {
                error_words(TimestampInFuture::SELECTOR, &[e.index, u(e.timestamp), u(e.now)])
            }
            E::OpFailed(e) => error_words(OpFailed::SELECTOR, &[e.index, u(e.code as u64)]),
            E::LimitMissed(e) => error_words(LimitMissed::SELECTOR, &[e.index, e.amount, e.limit]),
            E::DeadlineExpired(e) => error_words(DeadlineExpired::SELECTOR, &[e.deadline, u(e.now)]),
            E::NoPendingResize(_) => error_words(NoPendingResize::SELECTOR, &[]),
            E::ResizeNotAdmitted(e) => error_words(ResizeNotAdmitted::SELECTOR, &[e.liquidity, e.limit]),
            E::ResizeNotOverdue(e) => error_words(ResizeNotOverdue::SELECTOR, &[u(e.deadline)]),
            E::InvalidResize(e) => error_words(InvalidResize::SELECTOR, &[u(e.code as u64)]),
            E::Vault(data) => data,
        }
    }
}

impl From<BatchError> for MarketError {
    fn from(e: BatchError) -> Self {
        let i = |index: usize| U256::from(index);
        match e {
            BatchError::Malformed { offset } => MalformedOps { offset: i(offset) }.into(),
            BatchError::Empty => EmptyBatch {}.into(),
            BatchError::TimestampDecreased {
                index,
                timestamp,
                last,
            } => TimestampDecreased {
                index: i(index),
                timestamp,
                last,
            }
            .into(),
            BatchError::TimestampInFuture {
                index,
                timestamp,
                now,
            } => TimestampInFuture {
                index: i(index),
                timestamp,
                now,
            }
            .into(),
            BatchError::Swap { index, error } => OpFailed {
                index: i(index),
                code: error.code(),
            }
            .into(),
            BatchError::LimitMissed { index, amount, limit } => LimitMissed {
                index: i(index),
                amount: U256::from(amount),
                limit: U256::from(limit),
            }
            .into(),
        }
    }
}

/// A market's storage.
#[storage]
pub struct Market {
    /// The canonical state encoding, 32 bytes per word, the last word zero-padded.
    state: StorageArray<StorageB256, STATE_WORDS>,
    vault: StorageAddress,
    pool: StorageAddress,
    operator: StorageAddress,
    pending_operator: StorageAddress,
    l1: StorageBool,
    frozen: StorageBool,
    /// Requested liquidity (0: no request).
    resize_liquidity: StorageU256,
    resize_deadline: StorageU64,
    /// The program that runs the market's administration (see [`router`]).
    admin: StorageAddress,
}

// SAFETY: `Market` is the program's only top-level storage (what `#[entrypoint]` would declare).
unsafe impl TopLevelStorage for Market {}

fn small(x: U256) -> Option<u128> {
    u128::try_from(x).ok()
}

#[public]
impl Market {
    /// Creates the market on `vault`'s pool `pool` (its Uniswap V2 pair), owned by `operator`; `l1` makes it a
    /// market anyone swaps on directly. `params` is [`MarketParams`]' encoding, validated by DAMM v2's rules.
    /// `admin` is the deployed market-admin program (`damm-market-admin`), which runs the administration.
    /// The vault owner then registers the market with the vault (`registerMarket`, with `vaultState()`).
    #[constructor]
    pub fn constructor(
        &mut self,
        admin: Address,
        vault: Address,
        pool: Address,
        operator: Address,
        l1: bool,
        params: Bytes,
    ) -> MarketResult<()> {
        for a in [admin, vault, pool, operator] {
            if a.is_zero() {
                return Err(InvalidAddress { value: a }.into());
            }
        }
        let params = MarketParams::decode(&params).map_err(|e| MalformedParams {
            offset: U256::from(e.offset),
        })?;
        let state = params
            .initial_state(self.vm().block_timestamp())
            .map_err(|e| InvalidParams { code: e.code() })?;
        self.admin.set(admin);
        self.vault.set(vault);
        self.pool.set(pool);
        self.operator.set(operator);
        self.l1.set(l1);
        self.write_state(&state);
        self.emit(
            MarketCreated::SIGNATURE_HASH,
            &[word_of(vault), word_of(pool), word_of(operator)],
            &[U256::from(l1 as u8), hash_word(state.hash())],
        );
        Ok(())
    }

    /// Settles batch `seq` (operator only, L2 markets): `prevStateHash` must be the current state hash, `ops`
    /// ([`damm_market_codec::batch`]) are re-executed in order, the new state must hash to `newStateHash`, and the
    /// net flows are settled with the vault (the operator pays what the batch owes and receives what it is owed,
    /// the referral fees go to the operator). Any failure reverts the whole batch.
    pub fn submit_batch(
        &mut self,
        seq: u64,
        prev_state_hash: B256,
        ops: Bytes,
        new_state_hash: B256,
    ) -> MarketResult<()> {
        let operator = self.only_operator()?;
        self.kind(false)?;
        if self.frozen.get() {
            return Err(MarketFrozen {}.into());
        }
        let mut state = self.transition(seq, prev_state_hash)?;
        let totals = execute_batch(&mut state, &ops, self.vm().block_timestamp())?;
        self.commit(&state, new_state_hash)?;
        self.settle(operator, operator, &totals, &state)?;
        self.emit_totals(
            BatchSettled::SIGNATURE_HASH,
            U256::ZERO,
            &state,
            Some(totals.swaps),
            &totals,
        );
        Ok(())
    }

    /// Swaps on an L1 market, settled at once with the caller (who must have approved the vault for the
    /// input token): `amount` is the input (`exactIn`) or the output; `limit` the minimum output or maximum
    /// input; a non-zero `referral` receives the referral share of the protocol fee. Returns `(amountIn,
    /// amountOut)`.
    pub fn swap(
        &mut self,
        zero_for_one: bool,
        exact_in: bool,
        amount: U256,
        limit: U256,
        referral: Address,
        deadline: U256,
    ) -> MarketResult<(U256, U256)> {
        self.kind(true)?;
        let now = self.vm().block_timestamp();
        if U256::from(now) > deadline {
            return Err(DeadlineExpired { deadline, now }.into());
        }
        let trader = self.vm().msg_sender();
        let mut state = self.read_state();
        let op = Op {
            zero_for_one,
            exact_out: !exact_in,
            amount: small(amount).ok_or(OpFailed {
                index: U256::ZERO,
                code: MathError::TypeCastFailed.code(),
            })?,
            limit: Some(small(limit).unwrap_or(u128::MAX)),
            timestamp: now,
        };
        let mut totals = Totals::default();
        let result = execute_op(&mut state, &op, 0, !referral.is_zero(), now, &mut totals)?;
        state.seq += 1;
        self.write_state(&state);
        self.settle(trader, referral, &totals, &state)?;
        self.emit_totals(Swapped::SIGNATURE_HASH, word_of(trader), &state, None, &totals);
        Ok((
            U256::from(result.included_fee_input_amount),
            U256::from(result.output_amount),
        ))
    }

    /// What an exact-input swap of `amountIn` would pay now (no referral): `(amountOut, fee)`, the fee in the
    /// token DAMM v2 takes it from.
    pub fn quote_exact_in(&self, zero_for_one: bool, amount_in: U256) -> MarketResult<(U256, U256)> {
        let r = self.quote(zero_for_one, false, amount_in)?;
        Ok((U256::from(r.output_amount), fee_of(&r)))
    }

    /// What an exact-output swap of `amountOut` would cost now (no referral): `(amountIn, fee)`.
    pub fn quote_exact_out(&self, zero_for_one: bool, amount_out: U256) -> MarketResult<(U256, U256)> {
        let r = self.quote(zero_for_one, true, amount_out)?;
        Ok((U256::from(r.included_fee_input_amount), fee_of(&r)))
    }

    /// The market-admin program this market delegates its administration to.
    pub fn admin_program(&self) -> Address {
        self.admin.get()
    }

    /// The vault this market settles with.
    pub fn vault(&self) -> Address {
        self.vault.get()
    }

    /// The vault pool (Uniswap V2 pair) this market draws on.
    pub fn pool(&self) -> Address {
        self.pool.get()
    }

    /// The operator (L2 markets post batches through it).
    pub fn operator(&self) -> Address {
        self.operator.get()
    }

    /// The proposed next operator (zero if none).
    pub fn pending_operator(&self) -> Address {
        self.pending_operator.get()
    }

    /// True for an L1 market (anyone swaps), false for an L2 market (its operator posts batches).
    pub fn is_l1(&self) -> bool {
        self.l1.get()
    }

    /// Whether the vault owner froze the market.
    pub fn frozen(&self) -> bool {
        self.frozen.get()
    }

    /// State transitions so far; the next batch is `seq() + 1`.
    pub fn seq(&self) -> u64 {
        self.read_state().seq
    }

    /// keccak-256 of the canonical state encoding (`state()`).
    pub fn state_hash(&self) -> B256 {
        self.read_state().hash()
    }

    /// Timestamp of the last trade.
    pub fn last_timestamp(&self) -> u64 {
        self.read_state().last_timestamp
    }

    /// The canonical state encoding ([`damm_market_codec::state`]).
    pub fn state(&self) -> Bytes {
        Bytes::from(self.read_state().encode().to_vec())
    }

    /// What the vault records of this market: `(sqrtPrice, liquidity, reserve0, reserve1)`.
    pub fn vault_state(&self) -> (U256, U256, U256, U256) {
        let (price, liquidity, a, b) = self.read_state().vault_view();
        (U256::from(price), liquidity, U256::from(a), U256::from(b))
    }

    /// The pending resize: `(liquidity, deadline)`, zeros if none.
    pub fn pending_resize(&self) -> (U256, u64) {
        (
            self.resize_liquidity.get(),
            self.resize_deadline.get().as_limbs()[0],
        )
    }

    /// Proposes `newOperator` (operator only); it takes over with `acceptOperator`.
    pub fn transfer_operator(&mut self, new_operator: Address) -> MarketResult<()> {
        let operator = self.only_operator()?;
        self.pending_operator.set(new_operator);
        self.emit(
            OperatorTransferStarted::SIGNATURE_HASH,
            &[word_of(operator), word_of(new_operator)],
            &[],
        );
        Ok(())
    }

    /// The proposed operator takes over.
    pub fn accept_operator(&mut self) -> MarketResult<()> {
        let caller = self.vm().msg_sender();
        if caller.is_zero() || caller != self.pending_operator.get() {
            return Err(Unauthorized { caller }.into());
        }
        let previous = self.operator.get();
        self.operator.set(caller);
        self.pending_operator.set(Address::ZERO);
        self.emit(
            OperatorTransferred::SIGNATURE_HASH,
            &[word_of(previous), word_of(caller)],
            &[],
        );
        Ok(())
    }

    /// Requests a new liquidity (vault owner only), at most the limit the vault admitted for this market
    /// (raise it first with the vault's `updateMarket`). An L2 operator applies it with `applyResize` by
    /// `deadline`; an L1 market applies it at once. A zero liquidity withdraws the request.
    pub fn request_resize(&mut self, liquidity: U256, deadline: u64) -> MarketResult<()> {
        let owner = self.only_vault_owner()?;
        let limit = vault::liquidity_limit(self.vm(), self.vault.get(), self.vm().contract_address())
            .map_err(MarketError::Vault)?;
        if liquidity > limit {
            return Err(ResizeNotAdmitted { liquidity, limit }.into());
        }
        if self.l1.get() && !liquidity.is_zero() {
            let state = self.resized(liquidity)?;
            self.write_state(&state);
            self.settle(owner, Address::ZERO, &Totals::default(), &state)?;
            self.emit_resized(&state);
            return Ok(());
        }
        self.resize_liquidity.set(liquidity);
        self.resize_deadline
            .set(U64::from(if liquidity.is_zero() { 0 } else { deadline }));
        self.emit(
            ResizeRequested::SIGNATURE_HASH,
            &[],
            &[liquidity, U256::from(self.resize_deadline.get().as_limbs()[0])],
        );
        Ok(())
    }

    /// Applies the pending resize as state transition `seq` (operator only): as a batch, `prevStateHash` must
    /// be the current state hash and the resized state must hash to `newStateHash`. Allowed while frozen.
    pub fn apply_resize(
        &mut self,
        seq: u64,
        prev_state_hash: B256,
        new_state_hash: B256,
    ) -> MarketResult<()> {
        let operator = self.only_operator()?;
        let liquidity = self.resize_liquidity.get();
        if liquidity.is_zero() {
            return Err(NoPendingResize {}.into());
        }
        self.transition(seq, prev_state_hash)?;
        let state = self.resized(liquidity)?;
        self.commit(&state, new_state_hash)?;
        self.resize_liquidity.set(U256::ZERO);
        self.resize_deadline.set(U64::ZERO);
        self.settle(operator, Address::ZERO, &Totals::default(), &state)?;
        self.emit_resized(&state);
        Ok(())
    }

    /// Freezes or unfreezes the market (vault owner only). Freezing needs a resize request past its deadline.
    pub fn set_frozen(&mut self, frozen: bool) -> MarketResult<()> {
        self.only_vault_owner()?;
        if frozen {
            let deadline = self.resize_deadline.get().as_limbs()[0];
            if self.resize_liquidity.get().is_zero() {
                return Err(NoPendingResize {}.into());
            }
            if self.vm().block_timestamp() <= deadline {
                return Err(ResizeNotOverdue { deadline }.into());
            }
        }
        self.frozen.set(frozen);
        self.emit(FrozenSet::SIGNATURE_HASH, &[], &[U256::from(frozen as u8)]);
        Ok(())
    }
}

fn fee_of(r: &SwapResult) -> U256 {
    U256::from(r.claiming_fee + r.compounding_fee + r.protocol_fee + r.referral_fee)
}

impl Market {
    /// The stored state. Storage always holds a valid encoding (written only by [`Market::write_state`]).
    fn read_state(&self) -> MarketState {
        let mut words = [[0u8; 32]; STATE_WORDS];
        for (i, w) in words.iter_mut().enumerate() {
            *w = self.state.get(i).unwrap_or_default().0;
        }
        MarketState::from_words(&words).unwrap_or_else(|_| unreachable!())
    }

    /// Writes the words of `state` that differ from storage.
    fn write_state(&mut self, state: &MarketState) {
        for (i, w) in state.to_words().into_iter().enumerate() {
            let w = B256::from(w);
            if let Some(mut slot) = self.state.setter(i) {
                if slot.get() != w {
                    slot.set(w);
                }
            }
        }
    }

    /// The current state, checked to be the one transition `seq` starts from.
    fn transition(&self, seq: u64, prev_state_hash: B256) -> MarketResult<MarketState> {
        let state = self.read_state();
        let expected = state.seq + 1;
        if seq != expected {
            return Err(BadSequence { expected, given: seq }.into());
        }
        let current = state.hash();
        if prev_state_hash != current {
            return Err(StaleStateHash {
                current,
                given: prev_state_hash,
            }
            .into());
        }
        Ok(state)
    }

    /// Stores `state` after checking it hashes to `given`.
    fn commit(&mut self, state: &MarketState, given: B256) -> MarketResult<()> {
        let computed = state.hash();
        if computed != given {
            return Err(StateHashMismatch { computed, given }.into());
        }
        self.write_state(state);
        Ok(())
    }

    fn resized(&self, liquidity: U256) -> MarketResult<MarketState> {
        let mut state = self.read_state();
        state
            .resize(MathU256::from_limbs(*liquidity.as_limbs()))
            .map_err(|e| InvalidResize { code: e.code() })?;
        Ok(state)
    }

    /// An exact-in (`exact_out` false) or exact-out swap on a copy of the state, now (or at the last trade's
    /// time if the block's is earlier), without referral.
    fn quote(&self, zero_for_one: bool, exact_out: bool, amount: U256) -> MarketResult<SwapResult> {
        let state = self.read_state();
        let fail = |e: MathError| OpFailed {
            index: U256::ZERO,
            code: e.code(),
        };
        let op = Op {
            zero_for_one,
            exact_out,
            amount: small(amount).ok_or(fail(MathError::TypeCastFailed))?,
            limit: None,
            timestamp: self.vm().block_timestamp().max(state.last_timestamp),
        };
        let mut pool = state.pool;
        Ok(damm_market_codec::exec::swap(&mut pool, &op, false).map_err(fail)?)
    }

    fn settle(
        &self,
        counterparty: Address,
        referrer: Address,
        totals: &Totals,
        state: &MarketState,
    ) -> MarketResult<()> {
        vault::settle(
            self.vm(),
            self.vault.get(),
            counterparty,
            referrer,
            &totals.flows,
            state,
        )
        .map_err(MarketError::Vault)
    }

    fn only_operator(&self) -> MarketResult<Address> {
        let caller = self.vm().msg_sender();
        if caller != self.operator.get() {
            return Err(Unauthorized { caller }.into());
        }
        Ok(caller)
    }

    fn only_vault_owner(&self) -> MarketResult<Address> {
        let caller = self.vm().msg_sender();
        let owner = vault::owner(self.vm(), self.vault.get()).map_err(MarketError::Vault)?;
        if caller != owner {
            return Err(Unauthorized { caller }.into());
        }
        Ok(caller)
    }

    fn kind(&self, l1: bool) -> MarketResult<()> {
        let actual = self.l1.get();
        if actual != l1 {
            return Err(WrongKind { l1: actual }.into());
        }
        Ok(())
    }

    fn emit(&self, topic0: B256, indexed: &[U256], data: &[U256]) {
        damm_stylus_abi::emit(self.vm(), topic0, indexed, data);
    }

    /// `BatchSettled` (`swaps` given) or `Swapped` (`trader` indexed).
    fn emit_totals(
        &self,
        topic0: B256,
        trader: U256,
        state: &MarketState,
        swaps: Option<u64>,
        totals: &Totals,
    ) {
        let mut data = vec![hash_word(state.hash())];
        let mut indexed = vec![U256::from(state.seq)];
        match swaps {
            Some(n) => data.push(U256::from(n)),
            None => indexed.insert(0, trader),
        }
        data.extend(totals.flows.iter().map(|&f| U256::from(f)));
        data.extend(totals.lp_fees.iter().map(|&f| U256::from(f)));
        self.emit(topic0, &indexed, &data);
    }

    fn emit_resized(&self, state: &MarketState) {
        self.emit(
            ResizeApplied::SIGNATURE_HASH,
            &[U256::from(state.seq)],
            &[
                hash_word(state.hash()),
                U256::from_limbs(*state.pool.liquidity.as_limbs()),
            ],
        );
    }
}
