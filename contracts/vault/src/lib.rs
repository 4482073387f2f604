//! The dAMM vault (PROTOCOL.md, "Pool", "Admission", "Rewards", "Admin and safety"): one Stylus contract
//! holding the liquidity of every pool — raw tokens and Uniswap V2 LP tokens — that the registered markets
//! price trades against.
//!
//! - A **pool** is identified by the address of its Uniswap V2 pair (which is also its LP token). It holds
//!   raw `token0`/`token1` and LP tokens, and issues per-pool shares (ERC-20-like, with the pool as an extra
//!   indexed topic in `Transfer`/`Approval`, as ERC-6909 does for multi-token contracts).
//! - **Liquidity** is counted in `sqrt(k)` units ([`damm_math::vault`]): `sqrt(raw0·raw1)` plus each LP token's
//!   share of `sqrt(r0·r1)`. The **health factor** is liquidity per share (1e18 fixed point).
//! - **Markets** (registered by the owner) settle net flows; payouts beyond the raw balances burn LP tokens at
//!   the pair; a settlement must keep every payout covered and the health factor at or above the pool's
//!   minimum (or not lower it).
//! - **Admission**: registering or enlarging a market, and every withdrawal, must leave the worst case of all
//!   markets covered and healthy ([`damm_math::vault::worst_case`]).
//!
//! Every external call is hand-encoded ([`ext`]); every failure is a custom error carrying its values; every
//! state change emits an event. Reentrancy: stylus-sdk 0.10's entrypoint reverts any call into the vault
//! while the vault is already executing (nitro's `msg_reentrant`), which locks every method, views included.
//! A method that returns an error reverts, so the vault writes its new state first and checks it after:
//! a failed check leaves nothing behind.

#![cfg_attr(not(any(test, feature = "export-abi")), no_main)]
#![cfg_attr(not(any(test, feature = "export-abi")), no_std)]
// `#[entrypoint]` generates an undocumentable `user_entrypoint`; `sol!` items keep their Solidity names.
#![allow(missing_docs)]
// The error enum holds addresses and amounts; it is returned once, at the end of a call.
#![allow(clippy::result_large_err)]

extern crate alloc;

mod ext;
pub mod router;
#[cfg(test)]
mod tests;

use alloc::{vec, vec::Vec};

use damm_math::{
    vault::{
        health_allows, health_factor, lp_liquidity, pool_liquidity, settle as settle_flows,
        shares_for_deposit, withdrawal, worst_case, AdmissionFailure, Exposure, PairState, PoolHoldings,
        WorstCase, DEFAULT_HF_MIN, HF_ONE,
    },
    wide::mul_div_u256,
    MathError, PositionReward, RewardInfo, Rounding,
};
use ext::word_of;
use stylus_sdk::{
    alloy_primitives::{Address, B256, U128, U256, U64},
    alloy_sol_types::{sol, SolError, SolEvent},
    prelude::*,
    storage::{StorageAddress, StorageBool, StorageMap, StorageU128, StorageU256, StorageU64, StorageVec},
};

/// Markets a pool can have (bounds the admission check's work).
pub const MAX_MARKETS: usize = 8;
/// Reward slots per pool.
pub const REWARD_SLOTS: usize = 2;

sol! {
    #![sol(all_derives, alloy_sol_types = stylus_sdk::alloy_sol_types)]

    /// `pendingOwner` was proposed by `owner` (two-step transfer).
    event OwnershipTransferStarted(address indexed owner, address indexed pendingOwner);
    /// Ownership moved.
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);
    /// The pause guardian changed.
    event GuardianSet(address indexed guardian);
    /// The protocol-fee recipient changed.
    event TreasurySet(address indexed treasury);
    /// Deposits and settlements were paused or unpaused by `by`.
    event PausedSet(address indexed by, bool paused);
    /// A pool was created for a Uniswap V2 pair.
    event PoolCreated(address indexed pool, address indexed token0, address indexed token1);
    /// A pool's minimum health factor changed.
    event HfMinSet(address indexed pool, uint256 hfMin);
    /// Shares of `pool` moved (mint: from zero; burn: to zero).
    event Transfer(address indexed pool, address indexed from, address indexed to, uint256 amount);
    /// `owner` allowed `spender` to move `amount` of its shares of `pool`.
    event Approval(address indexed pool, address indexed owner, address indexed spender, uint256 amount);
    /// `sender` deposited `lp` LP tokens (minted from raw tokens for `depositPair`) for `shares` to `receiver`.
    event Deposit(address indexed pool, address indexed sender, address indexed receiver, uint256 lp, uint256 shares);
    /// `owner` burnt `shares`; `receiver` got the amounts in kind.
    event Withdraw(address indexed pool, address indexed owner, address indexed receiver, uint256 shares, uint256 amount0, uint256 amount1, uint256 lp);
    /// A market was registered.
    event MarketRegistered(address indexed market, address indexed pool, address indexed operator, bool compounding, uint256 liquidityLimit);
    /// A market's liquidity limit or activity changed.
    event MarketUpdated(address indexed market, uint256 liquidityLimit, bool active);
    /// A market settled net flows with `counterparty`; `lpBurned` LP tokens were burnt for payouts.
    event Settled(address indexed market, address indexed counterparty, uint256 in0, uint256 in1, uint256 out0, uint256 out1, uint256 lpBurned, uint256 healthFactor);
    /// Protocol fees in `token` were paid to the treasury.
    event ProtocolFeesClaimed(address indexed token, address indexed treasury, uint256 amount);
    /// A reward slot got its token, funder and period length.
    event RewardInitialized(address indexed pool, uint256 index, address token, address funder, uint64 duration);
    /// A reward slot was funded with `amount`; it now streams `periodTotal` over its next period.
    event RewardFunded(address indexed pool, uint256 index, uint256 amount, uint256 periodTotal);
    /// `account` claimed `amount` of a reward.
    event RewardClaimed(address indexed pool, uint256 index, address indexed account, uint256 amount);
    /// The funder took back what streamed while the pool had no shares.
    event IneligibleRewardWithdrawn(address indexed pool, uint256 index, uint256 amount);

    /// `caller` may not do this (not the owner, pending owner, guardian, funder or a market).
    error Unauthorized(address caller);
    /// Deposits and settlements are paused.
    error ContractPaused();
    /// An address argument is zero or otherwise unusable.
    error InvalidAddress(address value);
    /// `pair` is not the factory's pair of its two tokens.
    error InvalidPair(address pair);
    /// A pool for `pool` already exists.
    error PoolExists(address pool);
    /// No pool for `pool`.
    error UnknownPool(address pool);
    /// An amount is zero (or mints no shares).
    error ZeroAmount();
    /// The deposit mints `shares`, fewer than `minShares`.
    error SlippageExceeded(uint256 shares, uint256 minShares);
    /// `token` delivered `received` where `expected` was sent: fee-on-transfer tokens are not supported.
    error FeeOnTransfer(address token, uint256 expected, uint256 received);
    /// A call to `token` (or pair) failed; `data` is its revert data.
    error TokenCallFailed(address token, bytes data);
    /// `account` has `balance` shares, fewer than `needed`.
    error InsufficientShares(address account, uint256 balance, uint256 needed);
    /// `spender` may move `allowance` of `owner`'s shares, fewer than `needed`.
    error InsufficientAllowance(address owner, address spender, uint256 allowance, uint256 needed);
    /// Only `available` of the `requested` shares can be withdrawn now: the rest backs the markets' worst case.
    error WithdrawalExceedsFree(uint256 requested, uint256 available);
    /// `market` is already registered.
    error MarketExists(address market);
    /// `market` is not registered.
    error UnknownMarket(address market);
    /// `market` is registered but deactivated.
    error MarketInactive(address market);
    /// `pool` has the maximum number of markets.
    error TooManyMarkets(address pool);
    /// The state `market` reported lies outside what it was admitted with (liquidity above its limit, or price
    /// outside its range).
    error MarketOutOfBounds(address market);
    /// Fees exceed the inputs they are part of, or a referral fee has no referrer.
    error InvalidFlows();
    /// The pool cannot pay `out0`/`out1` even by burning all its LP tokens.
    error PayoutUncovered(uint256 out0, uint256 out1);
    /// A settlement would lower the health factor from `before` to `after`, below `minimum`.
    error HealthFactorTooLow(uint256 before, uint256 after, uint256 minimum);
    /// With every market at the top (`up`) or bottom of its range, a payout would be uncovered.
    error AdmissionUncovered(bool up);
    /// With every market at the top (`up`) or bottom of its range, the health factor would be `healthFactor`,
    /// below `minimum`.
    error AdmissionHealthFactor(bool up, uint256 healthFactor, uint256 minimum);
    /// `hfMin` is not in (0, 1e18].
    error InvalidHfMin(uint256 hfMin);
    /// No reward slot `index` (there are two), or it is (or is not) initialized as required.
    error InvalidReward(uint256 index);
    /// The math library refused: `code` is `damm_math::MathError`'s code.
    error Math(uint8 code);
}

/// Every way a vault call fails.
#[derive(SolidityError)]
#[cfg_attr(test, derive(Debug))]
pub enum VaultError {
    Unauthorized(Unauthorized),
    ContractPaused(ContractPaused),
    InvalidAddress(InvalidAddress),
    InvalidPair(InvalidPair),
    PoolExists(PoolExists),
    UnknownPool(UnknownPool),
    ZeroAmount(ZeroAmount),
    SlippageExceeded(SlippageExceeded),
    FeeOnTransfer(FeeOnTransfer),
    TokenCallFailed(TokenCallFailed),
    InsufficientShares(InsufficientShares),
    InsufficientAllowance(InsufficientAllowance),
    WithdrawalExceedsFree(WithdrawalExceedsFree),
    MarketExists(MarketExists),
    UnknownMarket(UnknownMarket),
    MarketInactive(MarketInactive),
    TooManyMarkets(TooManyMarkets),
    MarketOutOfBounds(MarketOutOfBounds),
    InvalidFlows(InvalidFlows),
    PayoutUncovered(PayoutUncovered),
    HealthFactorTooLow(HealthFactorTooLow),
    AdmissionUncovered(AdmissionUncovered),
    AdmissionHealthFactor(AdmissionHealthFactor),
    InvalidHfMin(InvalidHfMin),
    InvalidReward(InvalidReward),
    Math(Math),
}

impl From<MathError> for VaultError {
    fn from(e: MathError) -> Self {
        VaultError::Math(Math { code: e.code() })
    }
}

use damm_stylus_abi::with_selector as error_words;

impl VaultError {
    /// The error's ABI encoding (its revert data), written out by hand: the `SolidityError` derive's generic
    /// encoder costs about 4 KB in every program (a unit test checks both encodings agree).
    pub fn encode(self) -> Vec<u8> {
        match self {
            VaultError::Unauthorized(e) => error_words(Unauthorized::SELECTOR, &[word_of(e.caller)]),
            VaultError::ContractPaused(_) => error_words(ContractPaused::SELECTOR, &[]),
            VaultError::InvalidAddress(e) => error_words(InvalidAddress::SELECTOR, &[word_of(e.value)]),
            VaultError::InvalidPair(e) => error_words(InvalidPair::SELECTOR, &[word_of(e.pair)]),
            VaultError::PoolExists(e) => error_words(PoolExists::SELECTOR, &[word_of(e.pool)]),
            VaultError::UnknownPool(e) => error_words(UnknownPool::SELECTOR, &[word_of(e.pool)]),
            VaultError::ZeroAmount(_) => error_words(ZeroAmount::SELECTOR, &[]),
            VaultError::SlippageExceeded(e) => {
                error_words(SlippageExceeded::SELECTOR, &[e.shares, e.minShares])
            }
            VaultError::FeeOnTransfer(e) => error_words(
                FeeOnTransfer::SELECTOR,
                &[word_of(e.token), e.expected, e.received],
            ),
            VaultError::TokenCallFailed(e) => {
                let mut out = error_words(
                    TokenCallFailed::SELECTOR,
                    &[word_of(e.token), U256::from(64), U256::from(e.data.len())],
                );
                out.extend_from_slice(&e.data);
                out.resize(4 + 96 + e.data.len().div_ceil(32) * 32, 0);
                out
            }
            VaultError::InsufficientShares(e) => error_words(
                InsufficientShares::SELECTOR,
                &[word_of(e.account), e.balance, e.needed],
            ),
            VaultError::InsufficientAllowance(e) => error_words(
                InsufficientAllowance::SELECTOR,
                &[word_of(e.owner), word_of(e.spender), e.allowance, e.needed],
            ),
            VaultError::WithdrawalExceedsFree(e) => {
                error_words(WithdrawalExceedsFree::SELECTOR, &[e.requested, e.available])
            }
            VaultError::MarketExists(e) => error_words(MarketExists::SELECTOR, &[word_of(e.market)]),
            VaultError::UnknownMarket(e) => error_words(UnknownMarket::SELECTOR, &[word_of(e.market)]),
            VaultError::MarketInactive(e) => error_words(MarketInactive::SELECTOR, &[word_of(e.market)]),
            VaultError::TooManyMarkets(e) => error_words(TooManyMarkets::SELECTOR, &[word_of(e.pool)]),
            VaultError::MarketOutOfBounds(e) => {
                error_words(MarketOutOfBounds::SELECTOR, &[word_of(e.market)])
            }
            VaultError::InvalidFlows(_) => error_words(InvalidFlows::SELECTOR, &[]),
            VaultError::PayoutUncovered(e) => error_words(PayoutUncovered::SELECTOR, &[e.out0, e.out1]),
            VaultError::HealthFactorTooLow(e) => {
                error_words(HealthFactorTooLow::SELECTOR, &[e.before, e.after, e.minimum])
            }
            VaultError::AdmissionUncovered(e) => {
                error_words(AdmissionUncovered::SELECTOR, &[U256::from(e.up as u8)])
            }
            VaultError::AdmissionHealthFactor(e) => error_words(
                AdmissionHealthFactor::SELECTOR,
                &[U256::from(e.up as u8), e.healthFactor, e.minimum],
            ),
            VaultError::InvalidHfMin(e) => error_words(InvalidHfMin::SELECTOR, &[e.hfMin]),
            VaultError::InvalidReward(e) => error_words(InvalidReward::SELECTOR, &[e.index]),
            VaultError::Math(e) => error_words(Math::SELECTOR, &[U256::from(e.code)]),
        }
    }
}

type VaultResult<T> = Result<T, VaultError>;

/// A market's state as it reports it: `(sqrtPrice, liquidity, reserve0, reserve1)` — its Q64.64 square-root
/// price, its DAMM v2 liquidity, and (compounding markets) its reserves of token0 and token1.
pub type MarketState = (U256, U256, U256, U256);

/// A market's registration as `marketInfo` returns it: `(pool, operator, active, compounding, sqrtMin, sqrtMax,
/// liquidityLimit, state)`.
pub type MarketInfo = (Address, Address, bool, bool, U256, U256, U256, MarketState);

/// The net flows of a settlement: `[in0, in1, out0, out1, protocolFee0, protocolFee1, referralFee0,
/// referralFee1]`. Inputs include the fees; the protocol and referral fees are parts of the inputs.
pub type Flows = [U256; 8];

/// One reward slot's position of one account.
#[storage]
pub struct RewardCheckpoint {
    per_share: StorageU256,
    pending: StorageU128,
}

/// One reward slot of a pool (DAMM v2 `RewardInfo` plus its token and funder).
#[storage]
pub struct Reward {
    token: StorageAddress,
    funder: StorageAddress,
    duration: StorageU64,
    end: StorageU64,
    last_update: StorageU64,
    empty_seconds: StorageU64,
    rate: StorageU256,
    per_share: StorageU256,
    accounts: StorageMap<Address, RewardCheckpoint>,
}

/// A pool: its tokens, holdings, shares and markets.
#[storage]
pub struct Pool {
    token0: StorageAddress,
    token1: StorageAddress,
    raw0: StorageU128,
    raw1: StorageU128,
    lp: StorageU256,
    total_shares: StorageU256,
    hf_min: StorageU256,
    balances: StorageMap<Address, StorageU256>,
    allowances: StorageMap<Address, StorageMap<Address, StorageU256>>,
    markets: StorageVec<StorageAddress>,
    rewards: StorageVec<Reward>,
}

/// A registered market and the latest state it reported.
#[storage]
pub struct Market {
    pool: StorageAddress,
    operator: StorageAddress,
    active: StorageBool,
    compounding: StorageBool,
    sqrt_min: StorageU128,
    sqrt_max: StorageU128,
    sqrt_price: StorageU128,
    reserve0: StorageU128,
    reserve1: StorageU128,
    liquidity: StorageU256,
    limit: StorageU256,
}

/// The vault's storage.
#[storage]
pub struct Vault {
    settlement_program: StorageAddress,
    withdrawals_program: StorageAddress,
    markets_program: StorageAddress,
    admin_program: StorageAddress,
    factory: StorageAddress,
    owner: StorageAddress,
    pending_owner: StorageAddress,
    guardian: StorageAddress,
    treasury: StorageAddress,
    paused: StorageBool,
    pools: StorageMap<Address, Pool>,
    markets: StorageMap<Address, Market>,
    protocol_fees: StorageMap<Address, StorageU256>,
}

// SAFETY: `Vault` is the program's only top-level storage (rooted at slot 0 by `router::user_entrypoint`).
unsafe impl TopLevelStorage for Vault {}

/// A pool's scalars, read once.
struct PoolView {
    token0: Address,
    token1: Address,
    holdings: PoolHoldings,
    total: U256,
    hf_min: U256,
}

/// A stored `uint128` as `u128` (ruint's `to` would pull in panic formatting).
fn lo128(x: U128) -> u128 {
    let [lo, hi] = *x.as_limbs();
    (u128::from(hi) << 64) | u128::from(lo)
}

fn small(x: U256) -> VaultResult<u128> {
    u128::try_from(x).map_err(|_| MathError::TypeCastFailed.into())
}

fn call_failed(token: Address) -> impl FnOnce(Vec<u8>) -> VaultError {
    move |data| {
        VaultError::TokenCallFailed(TokenCallFailed {
            token,
            data: data.into(),
        })
    }
}

/// Whether withdrawing `shares` leaves the worst case covered and healthy (or no less healthy than `before`).
fn withdrawal_allowed(
    view: &PoolView,
    pair: &PairState,
    markets: &[Exposure],
    before: &Result<WorstCase, AdmissionFailure>,
    shares: U256,
) -> VaultResult<bool> {
    if shares.is_zero() {
        return Ok(true);
    }
    let out = withdrawal(shares, view.total, &view.holdings)?;
    let left = PoolHoldings {
        raw0: view.holdings.raw0 - out.raw0,
        raw1: view.holdings.raw1 - out.raw1,
        lp: view.holdings.lp - out.lp,
    };
    Ok(match worst_case(&left, pair, view.total - shares, markets)? {
        Err(_) => false,
        Ok(after) => {
            after.health_factor >= view.hf_min
                || matches!(before, Ok(b) if after.health_factor >= b.health_factor)
        }
    })
}

/// The largest number of shares, at most `balance`, that [`withdrawal_allowed`] allows (a bisection: a larger
/// withdrawal never leaves the worst case better).
fn max_withdrawable(
    view: &PoolView,
    pair: &PairState,
    markets: &[Exposure],
    before: &Result<WorstCase, AdmissionFailure>,
    balance: U256,
) -> VaultResult<U256> {
    if withdrawal_allowed(view, pair, markets, before, balance)? {
        return Ok(balance);
    }
    let (mut lo, mut hi) = (U256::ZERO, balance);
    while hi - lo > U256::from(1) {
        let mid = lo + ((hi - lo) >> 1);
        if withdrawal_allowed(view, pair, markets, before, mid)? {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(lo)
}

#[public]
impl Vault {
    /// Sets the Uniswap V2 factory whose pairs pools bind to, the owner, the protocol-fee treasury, the
    /// pause guardian, and the three programs the vault delegates to (run once, by the StylusDeployer, at
    /// deployment; see `router`).
    #[constructor]
    #[allow(clippy::too_many_arguments)]
    pub fn constructor(
        &mut self,
        factory: Address,
        owner: Address,
        treasury: Address,
        guardian: Address,
        settlement_program: Address,
        withdrawals_program: Address,
        markets_program: Address,
        admin_program: Address,
    ) -> VaultResult<()> {
        for address in [
            factory,
            owner,
            treasury,
            settlement_program,
            withdrawals_program,
            markets_program,
            admin_program,
        ] {
            if address.is_zero() {
                return Err(InvalidAddress { value: address }.into());
            }
        }
        self.settlement_program.set(settlement_program);
        self.withdrawals_program.set(withdrawals_program);
        self.markets_program.set(markets_program);
        self.admin_program.set(admin_program);
        self.factory.set(factory);
        self.owner.set(owner);
        self.treasury.set(treasury);
        self.guardian.set(guardian);
        self.emit(
            OwnershipTransferred::SIGNATURE_HASH,
            &[word_of(Address::ZERO), word_of(owner)],
            &[],
        );
        Ok(())
    }

    // ---- admin ----

    /// The programs the vault delegates to: `(settlement, withdrawals, markets, admin)` (see `router`).
    pub fn programs(&self) -> (Address, Address, Address, Address) {
        (
            self.settlement_program.get(),
            self.withdrawals_program.get(),
            self.markets_program.get(),
            self.admin_program.get(),
        )
    }

    /// The Uniswap V2 factory.
    pub fn factory(&self) -> Address {
        self.factory.get()
    }

    /// The owner.
    pub fn owner(&self) -> Address {
        self.owner.get()
    }

    /// The proposed next owner (zero if none).
    pub fn pending_owner(&self) -> Address {
        self.pending_owner.get()
    }

    /// The pause guardian.
    pub fn guardian(&self) -> Address {
        self.guardian.get()
    }

    /// The protocol-fee recipient.
    pub fn treasury(&self) -> Address {
        self.treasury.get()
    }

    /// Whether deposits and settlements are paused.
    pub fn paused(&self) -> bool {
        self.paused.get()
    }

    /// Proposes `new_owner` (owner only); it takes over with `acceptOwnership`.
    pub fn transfer_ownership(&mut self, new_owner: Address) -> VaultResult<()> {
        let owner = self.only_owner()?;
        self.pending_owner.set(new_owner);
        self.emit(
            OwnershipTransferStarted::SIGNATURE_HASH,
            &[word_of(owner), word_of(new_owner)],
            &[],
        );
        Ok(())
    }

    /// The proposed owner takes over.
    pub fn accept_ownership(&mut self) -> VaultResult<()> {
        let caller = self.vm().msg_sender();
        if caller != self.pending_owner.get() || caller.is_zero() {
            return Err(Unauthorized { caller }.into());
        }
        let previous = self.owner.get();
        self.owner.set(caller);
        self.pending_owner.set(Address::ZERO);
        self.emit(
            OwnershipTransferred::SIGNATURE_HASH,
            &[word_of(previous), word_of(caller)],
            &[],
        );
        Ok(())
    }

    /// Sets the pause guardian (owner only).
    pub fn set_guardian(&mut self, guardian: Address) -> VaultResult<()> {
        self.only_owner()?;
        self.guardian.set(guardian);
        self.emit(GuardianSet::SIGNATURE_HASH, &[word_of(guardian)], &[]);
        Ok(())
    }

    /// Sets the protocol-fee recipient (owner only).
    pub fn set_treasury(&mut self, treasury: Address) -> VaultResult<()> {
        self.only_owner()?;
        if treasury.is_zero() {
            return Err(InvalidAddress { value: treasury }.into());
        }
        self.treasury.set(treasury);
        self.emit(TreasurySet::SIGNATURE_HASH, &[word_of(treasury)], &[]);
        Ok(())
    }

    /// Pauses (guardian or owner) or unpauses (owner only) deposits and settlements. Withdrawals of free
    /// liquidity are never paused.
    pub fn set_paused(&mut self, paused: bool) -> VaultResult<()> {
        let caller = self.vm().msg_sender();
        let allowed = caller == self.owner.get() || (paused && caller == self.guardian.get());
        if !allowed {
            return Err(Unauthorized { caller }.into());
        }
        self.paused.set(paused);
        self.emit(
            PausedSet::SIGNATURE_HASH,
            &[word_of(caller)],
            &[U256::from(paused as u8)],
        );
        Ok(())
    }

    /// Protocol fees accrued in `token`, not yet claimed.
    pub fn protocol_fees(&self, token: Address) -> U256 {
        self.protocol_fees.get(token)
    }

    /// Pays the protocol fees accrued in `token` to the treasury (anyone may trigger it).
    pub fn claim_protocol_fees(&mut self, token: Address) -> VaultResult<U256> {
        let amount = self.protocol_fees.get(token);
        let treasury = self.treasury.get();
        self.protocol_fees.insert(token, U256::ZERO);
        self.push(token, treasury, amount)?;
        self.emit(
            ProtocolFeesClaimed::SIGNATURE_HASH,
            &[word_of(token), word_of(treasury)],
            &[amount],
        );
        Ok(amount)
    }

    // ---- pools ----

    /// Creates the pool of Uniswap V2 pair `pair` (owner only): the pair must be the factory's pair of its
    /// own `token0()` and `token1()`.
    pub fn create_pool(&mut self, pair: Address) -> VaultResult<()> {
        self.only_owner()?;
        if !self.pools.getter(pair).token0.get().is_zero() {
            return Err(PoolExists { pool: pair }.into());
        }
        let invalid = |_| VaultError::InvalidPair(InvalidPair { pair });
        let (token0, token1) = ext::pair_tokens(self.vm(), pair).map_err(invalid)?;
        let listed = ext::get_pair(self.vm(), self.factory.get(), token0, token1).map_err(invalid)?;
        if token0.is_zero() || token0 >= token1 || listed != pair {
            return Err(InvalidPair { pair }.into());
        }
        let mut pool = self.pools.setter(pair);
        pool.token0.set(token0);
        pool.token1.set(token1);
        pool.hf_min.set(DEFAULT_HF_MIN);
        self.emit(
            PoolCreated::SIGNATURE_HASH,
            &[word_of(pair), word_of(token0), word_of(token1)],
            &[],
        );
        self.emit(HfMinSet::SIGNATURE_HASH, &[word_of(pair)], &[DEFAULT_HF_MIN]);
        Ok(())
    }

    /// Sets a pool's minimum health factor, in (0, 1e18] (owner only).
    pub fn set_hf_min(&mut self, pool: Address, hf_min: U256) -> VaultResult<()> {
        self.only_owner()?;
        self.pool_view(pool)?;
        if hf_min.is_zero() || hf_min > HF_ONE {
            return Err(InvalidHfMin { hfMin: hf_min }.into());
        }
        self.pools.setter(pool).hf_min.set(hf_min);
        self.emit(HfMinSet::SIGNATURE_HASH, &[word_of(pool)], &[hf_min]);
        Ok(())
    }

    /// A pool: `(token0, token1, raw0, raw1, lp, totalShares, hfMin)`.
    #[allow(clippy::type_complexity)]
    pub fn pool_info(&self, pool: Address) -> VaultResult<(Address, Address, U256, U256, U256, U256, U256)> {
        let v = self.pool_view(pool)?;
        Ok((
            v.token0,
            v.token1,
            U256::from(v.holdings.raw0),
            U256::from(v.holdings.raw1),
            v.holdings.lp,
            v.total,
            v.hf_min,
        ))
    }

    /// The pool's health factor: liquidity per share, 1e18 fixed point (1e18 without shares).
    pub fn health_factor(&self, pool: Address) -> VaultResult<U256> {
        let v = self.pool_view(pool)?;
        let pair = self.pair_state(pool)?;
        Ok(health_factor(pool_liquidity(&v.holdings, &pair)?, v.total)?)
    }

    /// The admission check's worst case for the pool as it is: `(covered, up, healthFactor)` — whether every
    /// payout is covered with all active markets at the top and at the bottom of their ranges, the direction
    /// of the lowest health factor (or of the uncovered payout) and that health factor (zero if uncovered).
    pub fn worst_case(&self, pool: Address) -> VaultResult<(bool, bool, U256)> {
        let v = self.pool_view(pool)?;
        let pair = self.pair_state(pool)?;
        let markets = self.exposures(pool)?;
        Ok(match worst_case(&v.holdings, &pair, v.total, &markets)? {
            Ok(w) => (true, w.up, w.health_factor),
            Err(AdmissionFailure::Uncovered { up }) | Err(AdmissionFailure::HealthFactor { up, .. }) => {
                (false, up, U256::ZERO)
            }
        })
    }

    // ---- deposits and withdrawals ----

    /// Deposits `lp_amount` LP tokens of the pool's pair from the caller for shares to `receiver`, valued by
    /// `sqrt(k)`; fails with `SlippageExceeded` below `min_shares`. Returns the shares minted.
    pub fn deposit_lp(
        &mut self,
        pool: Address,
        lp_amount: U256,
        min_shares: U256,
        receiver: Address,
    ) -> VaultResult<U256> {
        self.not_paused()?;
        let view = self.pool_view(pool)?;
        let pair = self.pair_state(pool)?;
        let sender = self.vm().msg_sender();
        let this = self.vm().contract_address();
        let shares = self.credit(pool, &view, &pair, lp_amount, min_shares, sender, receiver)?;
        self.pull(pool, sender, this, lp_amount)?;
        Ok(shares)
    }

    /// Deposits raw tokens: as much of `amount0_max`/`amount1_max` as the pair's current ratio takes is added
    /// to the Uniswap pair as liquidity, and the LP tokens minted are credited as by `depositLp`. Returns the
    /// shares minted.
    pub fn deposit_pair(
        &mut self,
        pool: Address,
        amount0_max: U256,
        amount1_max: U256,
        min_shares: U256,
        receiver: Address,
    ) -> VaultResult<U256> {
        self.not_paused()?;
        let view = self.pool_view(pool)?;
        let (r0, r1) = ext::reserves(self.vm(), pool).map_err(call_failed(pool))?;
        // The router's rule: the larger deposit at the pair's ratio that fits both maxima (rounded down).
        let quote = |amount: U256, num: U256, den: U256| {
            mul_div_u256(amount, num, den, Rounding::Down).ok_or(VaultError::from(MathError::MathOverflow))
        };
        let (a0, a1) = if r0.is_zero() || r1.is_zero() {
            (amount0_max, amount1_max)
        } else {
            let a1 = quote(amount0_max, r1, r0)?;
            if a1 <= amount1_max {
                (amount0_max, a1)
            } else {
                (quote(amount1_max, r0, r1)?, amount1_max)
            }
        };
        if a0.is_zero() || a1.is_zero() {
            return Err(ZeroAmount {}.into());
        }
        let sender = self.vm().msg_sender();
        let this = self.vm().contract_address();
        self.pull(view.token0, sender, pool, a0)?;
        self.pull(view.token1, sender, pool, a1)?;
        let lp_before = self.balance(pool, this)?;
        let minted = ext::mint(self.vm(), pool, this).map_err(call_failed(pool))?;
        let received = self.balance(pool, this)? - lp_before;
        if received != minted {
            return Err(FeeOnTransfer {
                token: pool,
                expected: minted,
                received,
            }
            .into());
        }
        // Valued with the pair as the mint left it (the pool's own LP tokens too).
        let pair = self.pair_state(pool)?;
        self.credit(pool, &view, &pair, minted, min_shares, sender, receiver)
    }

    /// Burns `shares` of the caller's and pays `receiver` their part of each holding in kind: `(amount0, amount1,
    /// lp)`. Refused with `WithdrawalExceedsFree` (naming what can be withdrawn now) where the rest of the
    /// pool would not cover the markets' worst case. Never paused.
    pub fn withdraw(
        &mut self,
        pool: Address,
        shares: U256,
        receiver: Address,
    ) -> VaultResult<(U256, U256, U256)> {
        let owner = self.vm().msg_sender();
        let view = self.pool_view(pool)?;
        let balance = self.pools.getter(pool).balances.get(owner);
        if receiver.is_zero() {
            return Err(InvalidAddress { value: receiver }.into());
        }
        if shares.is_zero() {
            return Err(ZeroAmount {}.into());
        }
        if shares > balance {
            return Err(InsufficientShares {
                account: owner,
                balance,
                needed: shares,
            }
            .into());
        }
        let pair = self.pair_state(pool)?;
        let markets = self.exposures(pool)?;
        let before = worst_case(&view.holdings, &pair, view.total, &markets)?;
        if !withdrawal_allowed(&view, &pair, &markets, &before, shares)? {
            let available = max_withdrawable(&view, &pair, &markets, &before, balance)?;
            return Err(WithdrawalExceedsFree {
                requested: shares,
                available,
            }
            .into());
        }
        let out = withdrawal(shares, view.total, &view.holdings)?;
        self.touch(pool, &[owner])?;
        {
            let mut p = self.pools.setter(pool);
            p.raw0.set(U128::from(view.holdings.raw0 - out.raw0));
            p.raw1.set(U128::from(view.holdings.raw1 - out.raw1));
            p.lp.set(view.holdings.lp - out.lp);
            p.total_shares.set(view.total - shares);
            p.balances.insert(owner, balance - shares);
        }
        let (amount0, amount1) = (U256::from(out.raw0), U256::from(out.raw1));
        self.push(view.token0, receiver, amount0)?;
        self.push(view.token1, receiver, amount1)?;
        self.push(pool, receiver, out.lp)?;
        self.emit(
            Transfer::SIGNATURE_HASH,
            &[word_of(pool), word_of(owner), word_of(Address::ZERO)],
            &[shares],
        );
        self.emit(
            Withdraw::SIGNATURE_HASH,
            &[word_of(pool), word_of(owner), word_of(receiver)],
            &[shares, amount0, amount1, out.lp],
        );
        Ok((amount0, amount1, out.lp))
    }

    /// The most shares `account` can withdraw now (its balance, unless the markets' worst case needs some).
    pub fn max_withdraw(&self, pool: Address, account: Address) -> VaultResult<U256> {
        let view = self.pool_view(pool)?;
        let pair = self.pair_state(pool)?;
        let markets = self.exposures(pool)?;
        let before = worst_case(&view.holdings, &pair, view.total, &markets)?;
        let balance = self.pools.getter(pool).balances.get(account);
        max_withdrawable(&view, &pair, &markets, &before, balance)
    }

    // ---- shares ----

    /// Shares of `pool` held by `account`.
    pub fn balance_of(&self, pool: Address, account: Address) -> U256 {
        self.pools.getter(pool).balances.get(account)
    }

    /// All shares of `pool` (including the dead shares held by the zero address).
    pub fn total_supply(&self, pool: Address) -> U256 {
        self.pools.getter(pool).total_shares.get()
    }

    /// Shares of `pool` that `spender` may move for `owner`.
    pub fn allowance(&self, pool: Address, owner: Address, spender: Address) -> U256 {
        self.pools.getter(pool).allowances.getter(owner).get(spender)
    }

    /// Allows `spender` to move `amount` of the caller's shares of `pool`.
    pub fn approve(&mut self, pool: Address, spender: Address, amount: U256) -> bool {
        let owner = self.vm().msg_sender();
        self.pools
            .setter(pool)
            .allowances
            .setter(owner)
            .insert(spender, amount);
        self.emit(
            Approval::SIGNATURE_HASH,
            &[word_of(pool), word_of(owner), word_of(spender)],
            &[amount],
        );
        true
    }

    /// Moves `amount` of the caller's shares of `pool` to `to` (rewards of both settled first).
    pub fn transfer(&mut self, pool: Address, to: Address, amount: U256) -> VaultResult<bool> {
        let from = self.vm().msg_sender();
        self.move_shares(pool, from, to, amount)?;
        Ok(true)
    }

    /// Moves `amount` of `from`'s shares of `pool` to `to`, spending the caller's allowance (an allowance of
    /// `2^256 - 1` is never spent).
    pub fn transfer_from(
        &mut self,
        pool: Address,
        from: Address,
        to: Address,
        amount: U256,
    ) -> VaultResult<bool> {
        let spender = self.vm().msg_sender();
        let allowance = self.allowance(pool, from, spender);
        if allowance != U256::MAX {
            if allowance < amount {
                return Err(InsufficientAllowance {
                    owner: from,
                    spender,
                    allowance,
                    needed: amount,
                }
                .into());
            }
            self.pools
                .setter(pool)
                .allowances
                .setter(from)
                .insert(spender, allowance - amount);
        }
        self.move_shares(pool, from, to, amount)?;
        Ok(true)
    }

    // ---- markets ----

    /// Registers `market` (a market contract) for `pool`, run by `operator` (owner only): its mode, its price
    /// range `(sqrtMin, sqrtMax)`, the liquidity it is admitted with, and its initial state. Refused when the
    /// pool's worst case with the new market would fail admission.
    #[allow(clippy::too_many_arguments)]
    pub fn register_market(
        &mut self,
        market: Address,
        pool: Address,
        operator: Address,
        compounding: bool,
        range: (U256, U256),
        liquidity_limit: U256,
        state: MarketState,
    ) -> VaultResult<()> {
        self.only_owner()?;
        self.pool_view(pool)?;
        if market.is_zero() {
            return Err(InvalidAddress { value: market }.into());
        }
        if !self.markets.getter(market).pool.get().is_zero() {
            return Err(MarketExists { market }.into());
        }
        if self.pools.getter(pool).markets.len() >= MAX_MARKETS {
            return Err(TooManyMarkets { pool }.into());
        }
        {
            let mut m = self.markets.setter(market);
            m.pool.set(pool);
            m.operator.set(operator);
            m.active.set(true);
            m.compounding.set(compounding);
            m.sqrt_min.set(U128::from(small(range.0)?));
            m.sqrt_max.set(U128::from(small(range.1)?));
            m.limit.set(liquidity_limit);
        }
        self.pools.setter(pool).markets.push(market);
        self.store_state(market, state)?;
        self.emit(
            MarketRegistered::SIGNATURE_HASH,
            &[word_of(market), word_of(pool), word_of(operator)],
            &[U256::from(compounding as u8), liquidity_limit],
        );
        self.admit(pool)
    }

    /// Changes a market's liquidity limit and activity (owner only). Deactivating or shrinking is always
    /// allowed; activating or enlarging must pass admission.
    pub fn update_market(&mut self, market: Address, liquidity_limit: U256, active: bool) -> VaultResult<()> {
        self.only_owner()?;
        let (pool, was_active, old_limit) = {
            let m = self.markets.getter(market);
            (m.pool.get(), m.active.get(), m.limit.get())
        };
        if pool.is_zero() {
            return Err(UnknownMarket { market }.into());
        }
        {
            let mut m = self.markets.setter(market);
            m.limit.set(liquidity_limit);
            m.active.set(active);
        }
        self.emit(
            MarketUpdated::SIGNATURE_HASH,
            &[word_of(market)],
            &[liquidity_limit, U256::from(active as u8)],
        );
        if active && (!was_active || liquidity_limit > old_limit) {
            self.admit(pool)?;
        }
        Ok(())
    }

    /// The markets registered for `pool`.
    pub fn pool_markets(&self, pool: Address) -> Vec<Address> {
        let p = self.pools.getter(pool);
        (0..p.markets.len()).filter_map(|i| p.markets.get(i)).collect()
    }

    /// A market's registration and its latest reported state.
    pub fn market_info(&self, market: Address) -> MarketInfo {
        let m = self.markets.getter(market);
        (
            m.pool.get(),
            m.operator.get(),
            m.active.get(),
            m.compounding.get(),
            U256::from(m.sqrt_min.get()),
            U256::from(m.sqrt_max.get()),
            m.limit.get(),
            (
                U256::from(m.sqrt_price.get()),
                m.liquidity.get(),
                U256::from(m.reserve0.get()),
                U256::from(m.reserve1.get()),
            ),
        )
    }

    /// Settles a market's net flows with `counterparty` (the operator for a batch, the trader for an L1 swap);
    /// only a registered, active market may call it, for its own pool, reporting its new `state`.
    ///
    /// The counterparty pays `in0`/`in1` and receives `out0`/`out1` (netted per token). Of the inputs, the
    /// protocol fees accrue to the treasury, the referral fees are paid to `referrer`, the rest (LP fees
    /// included) stays in the pool. Payouts beyond the raw balances burn just enough LP tokens at the pair.
    /// Then every payout must be covered and the health factor must stay at or above the pool's minimum, or
    /// not go down.
    pub fn settle(
        &mut self,
        counterparty: Address,
        referrer: Address,
        flows: Flows,
        state: MarketState,
    ) -> VaultResult<()> {
        self.not_paused()?;
        let market = self.vm().msg_sender();
        let (pool, active) = {
            let m = self.markets.getter(market);
            (m.pool.get(), m.active.get())
        };
        if pool.is_zero() {
            return Err(Unauthorized { caller: market }.into());
        }
        if !active {
            return Err(MarketInactive { market }.into());
        }
        let mut f = [0u128; 8];
        for (x, flow) in f.iter_mut().zip(flows) {
            *x = small(flow)?;
        }
        let [in0, in1, out0, out1, protocol0, protocol1, referral0, referral1] = f;
        let kept = |input: u128, protocol: u128, referral: u128| {
            input
                .checked_sub(protocol)
                .and_then(|x| x.checked_sub(referral))
                .ok_or(VaultError::InvalidFlows(InvalidFlows {}))
        };
        let (pool_in0, pool_in1) = (kept(in0, protocol0, referral0)?, kept(in1, protocol1, referral1)?);
        if referrer.is_zero() && (referral0 | referral1) != 0 {
            return Err(InvalidFlows {}.into());
        }
        self.store_state(market, state)?;

        let view = self.pool_view(pool)?;
        let pair = self.pair_state(pool)?;
        let hf_before = health_factor(pool_liquidity(&view.holdings, &pair)?, view.total)?;
        let uncovered = || {
            VaultError::PayoutUncovered(PayoutUncovered {
                out0: U256::from(out0),
                out1: U256::from(out1),
            })
        };
        let burn = match settle_flows(&view.holdings, &pair, pool_in0, pool_in1, out0, out1) {
            Ok((after, _)) => view.holdings.lp - after.lp,
            Err(MathError::InsufficientLiquidity) => return Err(uncovered()),
            Err(e) => return Err(e.into()),
        };
        // Burn at the pair and count what actually arrived (a pair holding donations pays more; a pair with
        // Uniswap's protocol fee on pays a little less).
        let (mut got0, mut got1) = (0u128, 0u128);
        if !burn.is_zero() {
            let this = self.vm().contract_address();
            let before0 = self.balance(view.token0, this)?;
            let before1 = self.balance(view.token1, this)?;
            self.push(pool, pool, burn)?;
            ext::burn(self.vm(), pool, this).map_err(call_failed(pool))?;
            got0 = small(self.balance(view.token0, this)? - before0)?;
            got1 = small(self.balance(view.token1, this)? - before1)?;
        }
        let after = PoolHoldings {
            raw0: (view.holdings.raw0 + pool_in0 + got0)
                .checked_sub(out0)
                .ok_or_else(uncovered)?,
            raw1: (view.holdings.raw1 + pool_in1 + got1)
                .checked_sub(out1)
                .ok_or_else(uncovered)?,
            lp: view.holdings.lp - burn,
        };
        let pair_after = self.pair_state(pool)?;
        let hf_after = health_factor(pool_liquidity(&after, &pair_after)?, view.total)?;
        if !health_allows(hf_before, hf_after, view.hf_min) {
            return Err(HealthFactorTooLow {
                before: hf_before,
                after: hf_after,
                minimum: view.hf_min,
            }
            .into());
        }
        {
            let mut p = self.pools.setter(pool);
            p.raw0.set(U128::from(after.raw0));
            p.raw1.set(U128::from(after.raw1));
            p.lp.set(after.lp);
        }
        self.accrue_protocol(view.token0, protocol0);
        self.accrue_protocol(view.token1, protocol1);

        let this = self.vm().contract_address();
        for (token, input, output, referral) in [
            (view.token0, in0, out0, referral0),
            (view.token1, in1, out1, referral1),
        ] {
            if input > output {
                self.pull(token, counterparty, this, U256::from(input - output))?;
            } else if output > input {
                self.push(token, counterparty, U256::from(output - input))?;
            }
            if referral > 0 {
                self.push(token, referrer, U256::from(referral))?;
            }
        }
        self.emit(
            Settled::SIGNATURE_HASH,
            &[word_of(market), word_of(counterparty)],
            &[
                U256::from(in0),
                U256::from(in1),
                U256::from(out0),
                U256::from(out1),
                burn,
                hf_after,
            ],
        );
        Ok(())
    }

    // ---- rewards ----

    /// Gives reward slot `index` (0 or 1) of `pool` its token, period length (seconds) and funder (owner
    /// only, once per slot).
    pub fn initialize_reward(
        &mut self,
        pool: Address,
        index: U256,
        token: Address,
        duration: u64,
        funder: Address,
    ) -> VaultResult<()> {
        self.only_owner()?;
        self.pool_view(pool)?;
        let i = self.slot(index)?;
        if !self.reward_parties(pool, i).0.is_zero() {
            return Err(InvalidReward { index }.into());
        }
        if token.is_zero() {
            return Err(InvalidAddress { value: token }.into());
        }
        let info = RewardInfo::new(duration)?;
        self.store_reward(pool, i, &info);
        {
            let mut p = self.pools.setter(pool);
            let mut r = p.rewards.setter(i).unwrap();
            r.token.set(token);
            r.funder.set(funder);
        }
        self.emit(
            RewardInitialized::SIGNATURE_HASH,
            &[word_of(pool)],
            &[index, word_of(token), word_of(funder), U256::from(duration)],
        );
        Ok(())
    }

    /// Funds reward slot `index` with `amount` from the funder (or the owner), restarting its period;
    /// `carry_forward` adds what streamed while the pool had no shares.
    pub fn fund_reward(
        &mut self,
        pool: Address,
        index: U256,
        amount: U256,
        carry_forward: bool,
    ) -> VaultResult<()> {
        self.not_paused()?;
        let view = self.pool_view(pool)?;
        let i = self.funded_slot(pool, index)?;
        let (token, funder) = self.reward_parties(pool, i);
        let caller = self.vm().msg_sender();
        if caller != funder && caller != self.owner.get() {
            return Err(Unauthorized { caller }.into());
        }
        let mut info = self.load_reward(pool, i);
        let now = self.vm().block_timestamp();
        let total = info.fund(small(amount)?, now, view.total, carry_forward)?;
        self.store_reward(pool, i, &info);
        let this = self.vm().contract_address();
        self.pull(token, caller, this, amount)?;
        self.emit(
            RewardFunded::SIGNATURE_HASH,
            &[word_of(pool)],
            &[index, amount, U256::from(total)],
        );
        Ok(())
    }

    /// Pays the caller's accrued rewards of slot `index` of `pool`. Returns the amount.
    pub fn claim_reward(&mut self, pool: Address, index: U256) -> VaultResult<U256> {
        let account = self.vm().msg_sender();
        let i = self.funded_slot(pool, index)?;
        self.touch(pool, &[account])?;
        let amount = {
            let mut p = self.pools.setter(pool);
            let mut r = p.rewards.setter(i).unwrap();
            let mut c = r.accounts.setter(account);
            let pending = c.pending.get();
            c.pending.set(U128::ZERO);
            U256::from(pending)
        };
        let (token, _) = self.reward_parties(pool, i);
        self.push(token, account, amount)?;
        self.emit(
            RewardClaimed::SIGNATURE_HASH,
            &[word_of(pool), word_of(account)],
            &[index, amount],
        );
        Ok(amount)
    }

    /// Pays the funder what streamed while the pool had no shares, once the period is over.
    pub fn withdraw_ineligible_reward(&mut self, pool: Address, index: U256) -> VaultResult<U256> {
        let view = self.pool_view(pool)?;
        let i = self.funded_slot(pool, index)?;
        let (token, funder) = self.reward_parties(pool, i);
        let caller = self.vm().msg_sender();
        if caller != funder {
            return Err(Unauthorized { caller }.into());
        }
        let mut info = self.load_reward(pool, i);
        let amount = U256::from(info.claim_ineligible_reward(view.total, self.vm().block_timestamp())?);
        self.store_reward(pool, i, &info);
        self.push(token, funder, amount)?;
        self.emit(
            IneligibleRewardWithdrawn::SIGNATURE_HASH,
            &[word_of(pool)],
            &[index, amount],
        );
        Ok(amount)
    }

    /// Reward slot `index` of `pool`: `(token, funder, duration, periodEnd, rate, perShare)` — the rate in
    /// tokens per second scaled by 2^64, the reward per share accumulated, scaled by 2^192.
    #[allow(clippy::type_complexity)]
    pub fn reward_info(
        &self,
        pool: Address,
        index: U256,
    ) -> VaultResult<(Address, Address, u64, u64, U256, U256)> {
        let i = self.slot(index)?;
        let (token, funder) = self.reward_parties(pool, i);
        let info = self.load_reward(pool, i);
        Ok((
            token,
            funder,
            info.reward_duration,
            info.reward_duration_end,
            info.reward_rate,
            info.reward_per_token_stored,
        ))
    }

    /// The rewards of slot `index` that `account` could claim now.
    pub fn pending_reward(&self, pool: Address, index: U256, account: Address) -> VaultResult<U256> {
        let i = self.slot(index)?;
        let mut info = self.load_reward(pool, i);
        let p = self.pools.getter(pool);
        info.update_rewards(p.total_shares.get(), self.vm().block_timestamp())?;
        let mut position = self.load_checkpoint(pool, i, account);
        position.update(p.balances.get(account), info.reward_per_token_stored)?;
        Ok(U256::from(position.reward_pendings))
    }
}

impl Vault {
    /// Emits event `topic0` with its indexed words and its data words (every vault event has static fields).
    fn emit(&self, topic0: B256, indexed: &[U256], data: &[U256]) {
        damm_stylus_abi::emit(self.vm(), topic0, indexed, data);
    }

    fn only_owner(&self) -> VaultResult<Address> {
        let caller = self.vm().msg_sender();
        if caller != self.owner.get() {
            return Err(Unauthorized { caller }.into());
        }
        Ok(caller)
    }

    fn not_paused(&self) -> VaultResult<()> {
        if self.paused.get() {
            return Err(ContractPaused {}.into());
        }
        Ok(())
    }

    fn pool_view(&self, pool: Address) -> VaultResult<PoolView> {
        let p = self.pools.getter(pool);
        let token0 = p.token0.get();
        if token0.is_zero() {
            return Err(UnknownPool { pool }.into());
        }
        Ok(PoolView {
            token0,
            token1: p.token1.get(),
            holdings: PoolHoldings {
                raw0: lo128(p.raw0.get()),
                raw1: lo128(p.raw1.get()),
                lp: p.lp.get(),
            },
            total: p.total_shares.get(),
            hf_min: p.hf_min.get(),
        })
    }

    fn pair_state(&self, pair: Address) -> VaultResult<PairState> {
        let (r0, r1) = ext::reserves(self.vm(), pair).map_err(call_failed(pair))?;
        let supply = ext::total_supply(self.vm(), pair).map_err(call_failed(pair))?;
        Ok(PairState {
            reserve0: small(r0)?,
            reserve1: small(r1)?,
            total_supply: supply,
        })
    }

    fn balance(&self, token: Address, account: Address) -> VaultResult<U256> {
        ext::balance_of(self.vm(), token, account).map_err(call_failed(token))
    }

    /// `token.transferFrom(from, to, amount)`, checking that `to`'s balance grew by exactly `amount`.
    fn pull(&self, token: Address, from: Address, to: Address, amount: U256) -> VaultResult<()> {
        if amount.is_zero() {
            return Ok(());
        }
        let before = self.balance(token, to)?;
        ext::transfer_from(self.vm(), token, from, to, amount).map_err(call_failed(token))?;
        let received = self.balance(token, to)?.saturating_sub(before);
        if received != amount {
            return Err(FeeOnTransfer {
                token,
                expected: amount,
                received,
            }
            .into());
        }
        Ok(())
    }

    fn push(&self, token: Address, to: Address, amount: U256) -> VaultResult<()> {
        if amount.is_zero() {
            return Ok(());
        }
        ext::transfer(self.vm(), token, to, amount).map_err(call_failed(token))
    }

    fn accrue_protocol(&mut self, token: Address, amount: u128) {
        if amount > 0 {
            let total = self.protocol_fees.get(token) + U256::from(amount);
            self.protocol_fees.insert(token, total);
        }
    }

    /// Mints the shares `lp_in` LP tokens are worth (keeping the health factor) to `receiver`.
    #[allow(clippy::too_many_arguments)]
    fn credit(
        &mut self,
        pool: Address,
        view: &PoolView,
        pair: &PairState,
        lp_in: U256,
        min_shares: U256,
        sender: Address,
        receiver: Address,
    ) -> VaultResult<U256> {
        if receiver.is_zero() {
            return Err(InvalidAddress { value: receiver }.into());
        }
        if lp_in.is_zero() {
            return Err(ZeroAmount {}.into());
        }
        let before = pool_liquidity(&view.holdings, pair)?;
        let minted = shares_for_deposit(view.total, before, lp_liquidity(lp_in, pair)?)?;
        if minted.shares < min_shares {
            return Err(SlippageExceeded {
                shares: minted.shares,
                minShares: min_shares,
            }
            .into());
        }
        self.touch(pool, &[receiver])?;
        {
            let mut p = self.pools.setter(pool);
            p.lp.set(view.holdings.lp + lp_in);
            p.total_shares.set(view.total + minted.shares + minted.dead);
            let balance = p.balances.get(receiver);
            p.balances.insert(receiver, balance + minted.shares);
            if !minted.dead.is_zero() {
                p.balances.insert(Address::ZERO, minted.dead);
            }
        }
        if !minted.dead.is_zero() {
            self.emit(
                Transfer::SIGNATURE_HASH,
                &[word_of(pool), word_of(Address::ZERO), word_of(Address::ZERO)],
                &[minted.dead],
            );
        }
        self.emit(
            Transfer::SIGNATURE_HASH,
            &[word_of(pool), word_of(Address::ZERO), word_of(receiver)],
            &[minted.shares],
        );
        self.emit(
            Deposit::SIGNATURE_HASH,
            &[word_of(pool), word_of(sender), word_of(receiver)],
            &[lp_in, minted.shares],
        );
        Ok(minted.shares)
    }

    fn move_shares(&mut self, pool: Address, from: Address, to: Address, amount: U256) -> VaultResult<()> {
        if to.is_zero() {
            return Err(InvalidAddress { value: to }.into());
        }
        let balance = self.pools.getter(pool).balances.get(from);
        if balance < amount {
            return Err(InsufficientShares {
                account: from,
                balance,
                needed: amount,
            }
            .into());
        }
        self.touch(pool, &[from, to])?;
        {
            let mut p = self.pools.setter(pool);
            p.balances.insert(from, balance - amount);
            let to_balance = p.balances.get(to);
            p.balances.insert(to, to_balance + amount);
        }
        self.emit(
            Transfer::SIGNATURE_HASH,
            &[word_of(pool), word_of(from), word_of(to)],
            &[amount],
        );
        Ok(())
    }

    /// The exposures of the pool's active markets, each at its admitted liquidity limit.
    fn exposures(&self, pool: Address) -> VaultResult<Vec<Exposure>> {
        let p = self.pools.getter(pool);
        let mut out = Vec::new();
        for i in 0..p.markets.len() {
            let Some(address) = p.markets.get(i) else { continue };
            let m = self.markets.getter(address);
            if !m.active.get() {
                continue;
            }
            out.push(if m.compounding.get() {
                Exposure::compounding(lo128(m.reserve0.get()), lo128(m.reserve1.get()))
            } else {
                Exposure::concentrated(
                    lo128(m.sqrt_min.get()),
                    lo128(m.sqrt_price.get()),
                    lo128(m.sqrt_max.get()),
                    m.limit.get(),
                )?
            });
        }
        Ok(out)
    }

    /// Fails unless the pool's worst case is covered and at or above its minimum health factor.
    fn admit(&self, pool: Address) -> VaultResult<()> {
        let view = self.pool_view(pool)?;
        let pair = self.pair_state(pool)?;
        let markets = self.exposures(pool)?;
        match worst_case(&view.holdings, &pair, view.total, &markets)? {
            Err(AdmissionFailure::Uncovered { up }) | Err(AdmissionFailure::HealthFactor { up, .. }) => {
                Err(AdmissionUncovered { up }.into())
            }
            Ok(w) if w.health_factor < view.hf_min => Err(AdmissionHealthFactor {
                up: w.up,
                healthFactor: w.health_factor,
                minimum: view.hf_min,
            }
            .into()),
            Ok(_) => Ok(()),
        }
    }

    /// Records a market's reported state, refusing one outside its registration.
    fn store_state(&mut self, market: Address, state: MarketState) -> VaultResult<()> {
        let (price, liquidity, reserve0, reserve1) =
            (small(state.0)?, state.1, small(state.2)?, small(state.3)?);
        let mut m = self.markets.setter(market);
        let (low, high): (u128, u128) = (lo128(m.sqrt_min.get()), lo128(m.sqrt_max.get()));
        let in_range = m.compounding.get() || (low <= price && price <= high);
        if !in_range || liquidity > m.limit.get() {
            return Err(MarketOutOfBounds { market }.into());
        }
        m.sqrt_price.set(U128::from(price));
        m.liquidity.set(liquidity);
        m.reserve0.set(U128::from(reserve0));
        m.reserve1.set(U128::from(reserve1));
        Ok(())
    }

    // ---- rewards ----

    /// The storage index of reward slot `index` (0 or 1).
    fn slot(&self, index: U256) -> VaultResult<usize> {
        if index >= U256::from(REWARD_SLOTS) {
            return Err(InvalidReward { index }.into());
        }
        Ok(index.as_limbs()[0] as usize)
    }

    /// The storage index of reward slot `index` of `pool`, which must have been initialized.
    fn funded_slot(&self, pool: Address, index: U256) -> VaultResult<usize> {
        let i = self.slot(index)?;
        if self.reward_parties(pool, i).0.is_zero() {
            return Err(InvalidReward { index }.into());
        }
        Ok(i)
    }

    fn reward_parties(&self, pool: Address, i: usize) -> (Address, Address) {
        let p = self.pools.getter(pool);
        match p.rewards.getter(i) {
            Some(r) => (r.token.get(), r.funder.get()),
            None => (Address::ZERO, Address::ZERO),
        }
    }

    fn load_reward(&self, pool: Address, i: usize) -> RewardInfo {
        let p = self.pools.getter(pool);
        let Some(r) = p.rewards.getter(i) else {
            return RewardInfo::default();
        };
        RewardInfo {
            initialized: !r.token.get().is_zero(),
            reward_duration: r.duration.get().as_limbs()[0],
            reward_duration_end: r.end.get().as_limbs()[0],
            reward_rate: r.rate.get(),
            last_update_time: r.last_update.get().as_limbs()[0],
            reward_per_token_stored: r.per_share.get(),
            cumulative_seconds_with_empty_liquidity_reward: r.empty_seconds.get().as_limbs()[0],
        }
    }

    fn store_reward(&mut self, pool: Address, i: usize, info: &RewardInfo) {
        let mut p = self.pools.setter(pool);
        while p.rewards.len() <= i {
            p.rewards.grow();
        }
        let mut r = p.rewards.setter(i).unwrap();
        r.duration.set(U64::from(info.reward_duration));
        r.end.set(U64::from(info.reward_duration_end));
        r.rate.set(info.reward_rate);
        r.last_update.set(U64::from(info.last_update_time));
        r.per_share.set(info.reward_per_token_stored);
        r.empty_seconds
            .set(U64::from(info.cumulative_seconds_with_empty_liquidity_reward));
    }

    fn load_checkpoint(&self, pool: Address, i: usize, account: Address) -> PositionReward {
        let p = self.pools.getter(pool);
        let Some(r) = p.rewards.getter(i) else {
            return PositionReward::default();
        };
        let c = r.accounts.getter(account);
        PositionReward {
            reward_per_token_checkpoint: c.per_share.get(),
            reward_pendings: lo128(c.pending.get()),
        }
    }

    /// Brings the pool's reward slots up to now and settles `accounts`' rewards at their current balances:
    /// run before any balance or the total supply changes.
    fn touch(&mut self, pool: Address, accounts: &[Address]) -> VaultResult<()> {
        let now = self.vm().block_timestamp();
        let total = self.pools.getter(pool).total_shares.get();
        for i in 0..self.pools.getter(pool).rewards.len() {
            let mut info = self.load_reward(pool, i);
            if !info.initialized {
                continue;
            }
            info.update_rewards(total, now)?;
            self.store_reward(pool, i, &info);
            for &account in accounts {
                let mut position = self.load_checkpoint(pool, i, account);
                let balance = self.pools.getter(pool).balances.get(account);
                position.update(balance, info.reward_per_token_stored)?;
                let mut p = self.pools.setter(pool);
                let mut r = p.rewards.setter(i).unwrap();
                let mut c = r.accounts.setter(account);
                c.per_share.set(position.reward_per_token_checkpoint);
                c.pending.set(U128::from(position.reward_pendings));
            }
        }
        Ok(())
    }
}
