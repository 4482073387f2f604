//! The vault's entrypoint and method router, written by hand.
//!
//! stylus-sdk's `#[entrypoint]` router decodes and encodes every method through alloy's generic ABI code; for
//! 45 methods that alone was over half of the vault's 52 KiB (compressed) program, twice the Stylus limit.
//! Every argument and return value of the vault is a static ABI type (words, tuples of words, a fixed array)
//! except `poolMarkets`' `address[]`, so this router reads and writes 32-byte words directly.
//!
//! The `#[public]` impl stays the single description of the interface: the SDK's `export-abi` prints
//! `IVault.sol` from it, and `tests/router.rs` checks that this router answers exactly the selectors of that
//! file, while the end-to-end tests call every method through bindings generated from it.
//!
//! The entrypoint keeps the SDK's semantics: reentrant calls revert (the vault's reentrancy lock), methods
//! refuse ETH (none is payable), the constructor runs once through the StylusDeployer, unknown selectors and
//! malformed calldata revert with empty data.

use alloc::{vec, vec::Vec};

use damm_stylus_abi::{encode, word_of, Args};
use stylus_sdk::{
    abi::CONSTRUCTOR_SELECTOR,
    alloy_primitives::{Address, U256},
    call::RawCall,
    prelude::*,
    ArbResult,
};

use crate::{Vault, VaultError};

damm_stylus_abi::selectors! {
    PROGRAMS = "programs()";
    FACTORY = "factory()";
    OWNER = "owner()";
    PENDING_OWNER = "pendingOwner()";
    GUARDIAN = "guardian()";
    TREASURY = "treasury()";
    PAUSED = "paused()";
    TRANSFER_OWNERSHIP = "transferOwnership(address)";
    ACCEPT_OWNERSHIP = "acceptOwnership()";
    SET_GUARDIAN = "setGuardian(address)";
    SET_TREASURY = "setTreasury(address)";
    SET_PAUSED = "setPaused(bool)";
    PROTOCOL_FEES = "protocolFees(address)";
    CLAIM_PROTOCOL_FEES = "claimProtocolFees(address)";
    CREATE_POOL = "createPool(address)";
    SET_HF_MIN = "setHfMin(address,uint256)";
    POOL_INFO = "poolInfo(address)";
    HEALTH_FACTOR = "healthFactor(address)";
    WORST_CASE = "worstCase(address)";
    DEPOSIT_LP = "depositLp(address,uint256,uint256,address)";
    DEPOSIT_PAIR = "depositPair(address,uint256,uint256,uint256,address)";
    WITHDRAW = "withdraw(address,uint256,address)";
    MAX_WITHDRAW = "maxWithdraw(address,address)";
    BALANCE_OF = "balanceOf(address,address)";
    TOTAL_SUPPLY = "totalSupply(address)";
    ALLOWANCE = "allowance(address,address,address)";
    APPROVE = "approve(address,address,uint256)";
    TRANSFER = "transfer(address,address,uint256)";
    TRANSFER_FROM = "transferFrom(address,address,address,uint256)";
    REGISTER_MARKET = "registerMarket(address,address,address,bool,(uint256,uint256),uint256,(uint256,uint256,uint256,uint256))";
    UPDATE_MARKET = "updateMarket(address,uint256,bool)";
    POOL_MARKETS = "poolMarkets(address)";
    MARKET_INFO = "marketInfo(address)";
    SETTLE = "settle(address,address,uint256[8],(uint256,uint256,uint256,uint256))";
    INITIALIZE_REWARD = "initializeReward(address,uint256,address,uint64,address)";
    FUND_REWARD = "fundReward(address,uint256,uint256,bool)";
    CLAIM_REWARD = "claimReward(address,uint256)";
    WITHDRAW_INELIGIBLE_REWARD = "withdrawIneligibleReward(address,uint256)";
    REWARD_INFO = "rewardInfo(address,uint256)";
    PENDING_REWARD = "pendingReward(address,uint256,address)";
}

/// A return value as ABI words.
trait Word {
    fn word(self) -> U256;
}

impl Word for U256 {
    fn word(self) -> U256 {
        self
    }
}

impl Word for Address {
    fn word(self) -> U256 {
        word_of(self)
    }
}

impl Word for bool {
    fn word(self) -> U256 {
        U256::from(self as u8)
    }
}

impl Word for u64 {
    fn word(self) -> U256 {
        U256::from(self)
    }
}

fn one<T: Word>(value: T) -> ArbResult {
    Ok(encode(&[value.word()]))
}

fn done(result: Result<(), VaultError>) -> ArbResult {
    result.map(|()| Vec::new()).map_err(VaultError::encode)
}

fn fallible<T: Word>(result: Result<T, VaultError>) -> ArbResult {
    result.map(|v| encode(&[v.word()])).map_err(VaultError::encode)
}

fn split<'a>(vault: &Vault, input: &'a [u8]) -> Option<(u32, Args<'a>)> {
    damm_stylus_abi::split(vault.vm(), input)
}

/// The vault program's router: deposits, shares and the constructor; every other selector is delegated to
/// the program that runs it: `settle` to the settlement program, withdrawals and the admission views to the
/// withdrawals program, the market registry to the markets program, everything else to the admin program.
pub fn route_core(vault: &mut Vault, input: &[u8]) -> ArbResult {
    let Some((selector, a)) = split(vault, input) else {
        return Err(Vec::new());
    };
    match selector {
        CONSTRUCTOR_SELECTOR => {
            damm_stylus_abi::constructor_once(vault)?;
            done(vault.constructor(
                a.address(0)?,
                a.address(1)?,
                a.address(2)?,
                a.address(3)?,
                a.address(4)?,
                a.address(5)?,
                a.address(6)?,
                a.address(7)?,
            ))
        }
        PROGRAMS => {
            let (settlement, withdrawals, markets, admin) = vault.programs();
            Ok(encode(&[
                settlement.word(),
                withdrawals.word(),
                markets.word(),
                admin.word(),
            ]))
        }
        DEPOSIT_LP => fallible(vault.deposit_lp(a.address(0)?, a.word(1)?, a.word(2)?, a.address(3)?)),
        DEPOSIT_PAIR => {
            fallible(vault.deposit_pair(a.address(0)?, a.word(1)?, a.word(2)?, a.word(3)?, a.address(4)?))
        }
        BALANCE_OF => one(vault.balance_of(a.address(0)?, a.address(1)?)),
        TOTAL_SUPPLY => one(vault.total_supply(a.address(0)?)),
        ALLOWANCE => one(vault.allowance(a.address(0)?, a.address(1)?, a.address(2)?)),
        APPROVE => one(vault.approve(a.address(0)?, a.address(1)?, a.word(2)?)),
        TRANSFER => fallible(vault.transfer(a.address(0)?, a.address(1)?, a.word(2)?)),
        TRANSFER_FROM => {
            fallible(vault.transfer_from(a.address(0)?, a.address(1)?, a.address(2)?, a.word(3)?))
        }
        _ => {
            let (settlement, withdrawals, markets, admin) = vault.programs();
            let program = match selector {
                SETTLE => settlement,
                WITHDRAW | MAX_WITHDRAW | WORST_CASE | HEALTH_FACTOR => withdrawals,
                REGISTER_MARKET | UPDATE_MARKET | POOL_MARKETS | MARKET_INFO => markets,
                _ => admin,
            };
            // SAFETY: the program runs the vault's own code on the vault's storage; nothing is cached yet but
            // the programs' addresses, which no method changes.
            unsafe { RawCall::new_delegate(vault.vm()).call(program, input) }
        }
    }
}

/// The settlement program's router: `settle`, reached by delegation from the vault.
pub fn route_settlement(vault: &mut Vault, input: &[u8]) -> ArbResult {
    let Some((selector, a)) = split(vault, input) else {
        return Err(Vec::new());
    };
    match selector {
        SETTLE => {
            let mut flows = [U256::ZERO; 8];
            for (i, flow) in flows.iter_mut().enumerate() {
                *flow = a.word(2 + i)?;
            }
            done(vault.settle(
                a.address(0)?,
                a.address(1)?,
                flows,
                (a.word(10)?, a.word(11)?, a.word(12)?, a.word(13)?),
            ))
        }
        _ => Err(Vec::new()),
    }
}

/// The withdrawals program's router: withdrawals and the admission views, reached by delegation from the
/// vault.
pub fn route_withdrawals(vault: &mut Vault, input: &[u8]) -> ArbResult {
    let Some((selector, a)) = split(vault, input) else {
        return Err(Vec::new());
    };
    match selector {
        WITHDRAW => {
            let (amount0, amount1, lp) = vault
                .withdraw(a.address(0)?, a.word(1)?, a.address(2)?)
                .map_err(VaultError::encode)?;
            Ok(encode(&[amount0, amount1, lp]))
        }
        MAX_WITHDRAW => fallible(vault.max_withdraw(a.address(0)?, a.address(1)?)),
        WORST_CASE => {
            let (covered, up, hf) = vault.worst_case(a.address(0)?).map_err(VaultError::encode)?;
            Ok(encode(&[covered.word(), up.word(), hf]))
        }
        HEALTH_FACTOR => fallible(vault.health_factor(a.address(0)?)),
        _ => Err(Vec::new()),
    }
}

/// The markets program's router: the market registry, reached by delegation from the vault.
pub fn route_markets(vault: &mut Vault, input: &[u8]) -> ArbResult {
    let Some((selector, a)) = split(vault, input) else {
        return Err(Vec::new());
    };
    match selector {
        REGISTER_MARKET => done(vault.register_market(
            a.address(0)?,
            a.address(1)?,
            a.address(2)?,
            a.boolean(3)?,
            (a.word(4)?, a.word(5)?),
            a.word(6)?,
            (a.word(7)?, a.word(8)?, a.word(9)?, a.word(10)?),
        )),
        UPDATE_MARKET => done(vault.update_market(a.address(0)?, a.word(1)?, a.boolean(2)?)),
        POOL_MARKETS => {
            let markets = vault.pool_markets(a.address(0)?);
            let mut words = vec![U256::from(32), U256::from(markets.len())];
            words.extend(markets.into_iter().map(word_of));
            Ok(encode(&words))
        }
        MARKET_INFO => {
            let (pool, operator, active, compounding, low, high, limit, s) = vault.market_info(a.address(0)?);
            Ok(encode(&[
                pool.word(),
                operator.word(),
                active.word(),
                compounding.word(),
                low,
                high,
                limit,
                s.0,
                s.1,
                s.2,
                s.3,
            ]))
        }
        _ => Err(Vec::new()),
    }
}

/// The admin program's router: administration, pools, rewards and views, reached by delegation from the
/// vault.
pub fn route_admin(vault: &mut Vault, input: &[u8]) -> ArbResult {
    let Some((selector, a)) = split(vault, input) else {
        return Err(Vec::new());
    };
    match selector {
        FACTORY => one(vault.factory()),
        OWNER => one(vault.owner()),
        PENDING_OWNER => one(vault.pending_owner()),
        GUARDIAN => one(vault.guardian()),
        TREASURY => one(vault.treasury()),
        PAUSED => one(vault.paused()),
        TRANSFER_OWNERSHIP => done(vault.transfer_ownership(a.address(0)?)),
        ACCEPT_OWNERSHIP => done(vault.accept_ownership()),
        SET_GUARDIAN => done(vault.set_guardian(a.address(0)?)),
        SET_TREASURY => done(vault.set_treasury(a.address(0)?)),
        SET_PAUSED => done(vault.set_paused(a.boolean(0)?)),
        PROTOCOL_FEES => one(vault.protocol_fees(a.address(0)?)),
        CLAIM_PROTOCOL_FEES => fallible(vault.claim_protocol_fees(a.address(0)?)),
        CREATE_POOL => done(vault.create_pool(a.address(0)?)),
        SET_HF_MIN => done(vault.set_hf_min(a.address(0)?, a.word(1)?)),
        POOL_INFO => {
            let (t0, t1, raw0, raw1, lp, total, hf_min) =
                vault.pool_info(a.address(0)?).map_err(VaultError::encode)?;
            Ok(encode(&[t0.word(), t1.word(), raw0, raw1, lp, total, hf_min]))
        }
        INITIALIZE_REWARD => {
            done(vault.initialize_reward(a.address(0)?, a.word(1)?, a.address(2)?, a.u64(3)?, a.address(4)?))
        }
        FUND_REWARD => done(vault.fund_reward(a.address(0)?, a.word(1)?, a.word(2)?, a.boolean(3)?)),
        CLAIM_REWARD => fallible(vault.claim_reward(a.address(0)?, a.word(1)?)),
        WITHDRAW_INELIGIBLE_REWARD => fallible(vault.withdraw_ineligible_reward(a.address(0)?, a.word(1)?)),
        REWARD_INFO => {
            let (token, funder, duration, end, rate, per_share) = vault
                .reward_info(a.address(0)?, a.word(1)?)
                .map_err(VaultError::encode)?;
            Ok(encode(&[
                token.word(),
                funder.word(),
                duration.word(),
                end.word(),
                rate,
                per_share,
            ]))
        }
        PENDING_REWARD => fallible(vault.pending_reward(a.address(0)?, a.word(1)?, a.address(2)?)),
        _ => Err(Vec::new()),
    }
}

/// A program's entrypoint: stylus-sdk 0.10's, with `route` for its router over the vault's storage.
#[cfg(target_arch = "wasm32")]
pub fn entrypoint(len: usize, route: fn(&mut Vault, &[u8]) -> ArbResult) -> usize {
    damm_stylus_abi::entrypoint(len, route)
}

/// The vault program's entrypoint (the crate's `entrypoint` feature, on by default; the extension crate builds
/// this library without it and exports its own).
#[cfg(all(target_arch = "wasm32", feature = "entrypoint"))]
#[no_mangle]
pub extern "C" fn user_entrypoint(len: usize) -> usize {
    entrypoint(len, route_core)
}
