//! The market's entrypoint and method router, written by hand (as the vault's: the SDK's generic router costs
//! more code than a market can spare under the 24 KiB limit).
//!
//! The `#[public]` impl stays the single description of the interface: the SDK's `export-abi` prints
//! `IMarket.sol` from it, and a test checks that this router answers exactly the selectors of that file.
//! The entrypoint keeps the SDK's semantics: reentrant calls revert, no method is payable, the constructor runs
//! once through the StylusDeployer, unknown selectors and malformed calldata revert with empty data.

use alloc::vec::Vec;

use damm_stylus_abi::{constructor_once, encode, encode_bytes, split, word_of};
use stylus_sdk::{abi::CONSTRUCTOR_SELECTOR, alloy_primitives::U256, call::RawCall, prelude::*, ArbResult};

use crate::{Market, MarketError};

damm_stylus_abi::selectors! {
    SUBMIT_BATCH = "submitBatch(uint64,bytes32,bytes,bytes32)";
    SWAP = "swap(bool,bool,uint256,uint256,address,uint256)";
    QUOTE_EXACT_IN = "quoteExactIn(bool,uint256)";
    QUOTE_EXACT_OUT = "quoteExactOut(bool,uint256)";
    ADMIN_PROGRAM = "adminProgram()";
    VAULT = "vault()";
    POOL = "pool()";
    OPERATOR = "operator()";
    PENDING_OPERATOR = "pendingOperator()";
    IS_L1 = "isL1()";
    FROZEN = "frozen()";
    SEQ = "seq()";
    STATE_HASH = "stateHash()";
    LAST_TIMESTAMP = "lastTimestamp()";
    STATE = "state()";
    VAULT_STATE = "vaultState()";
    PENDING_RESIZE = "pendingResize()";
    TRANSFER_OPERATOR = "transferOperator(address)";
    ACCEPT_OPERATOR = "acceptOperator()";
    REQUEST_RESIZE = "requestResize(uint256,uint64)";
    APPLY_RESIZE = "applyResize(uint64,bytes32,bytes32)";
    SET_FROZEN = "setFrozen(bool)";
}

fn done(result: Result<(), MarketError>) -> ArbResult {
    result.map(|()| Vec::new()).map_err(MarketError::encode)
}

fn pair(result: Result<(U256, U256), MarketError>) -> ArbResult {
    result.map(|(a, b)| encode(&[a, b])).map_err(MarketError::encode)
}

/// The market program's router: batches, L1 swaps, quotes and the state (`state`, `stateHash`, `seq`). The
/// constructor, the administration (operator transfer, resizing, freezing) and the other views are delegated to the market-admin program, whose
/// address the constructor's first argument gives.
pub fn route_core(market: &mut Market, input: &[u8]) -> ArbResult {
    let Some((selector, a)) = split(market.vm(), input) else {
        return Err(Vec::new());
    };
    match selector {
        CONSTRUCTOR_SELECTOR => {
            constructor_once(market)?;
            let admin = a.address(0)?;
            // SAFETY: the admin program runs this crate's code on the market's storage; the constructor flag
            // written above is flushed first.
            unsafe {
                RawCall::new_delegate(market.vm())
                    .flush_storage_cache()
                    .call(admin, input)
            }
        }
        SUBMIT_BATCH => done(market.submit_batch(a.u64(0)?, a.b256(1)?, a.bytes(2)?, a.b256(3)?)),
        SWAP => pair(market.swap(
            a.boolean(0)?,
            a.boolean(1)?,
            a.word(2)?,
            a.word(3)?,
            a.address(4)?,
            a.word(5)?,
        )),
        QUOTE_EXACT_IN => pair(market.quote_exact_in(a.boolean(0)?, a.word(1)?)),
        QUOTE_EXACT_OUT => pair(market.quote_exact_out(a.boolean(0)?, a.word(1)?)),
        ADMIN_PROGRAM => Ok(encode(&[word_of(market.admin_program())])),
        SEQ => Ok(encode(&[U256::from(market.seq())])),
        STATE_HASH => Ok(market.state_hash().to_vec()),
        STATE => Ok(encode_bytes(&market.state())),
        _ => {
            let admin = market.admin_program();
            // SAFETY: the admin program runs this crate's code on the market's storage; nothing is cached yet
            // but the admin program's address, which no method changes.
            unsafe { RawCall::new_delegate(market.vm()).call(admin, input) }
        }
    }
}

/// The market-admin program's router: the constructor, the administration and the other views, reached by delegation from a
/// market. Called directly, it runs on its own, empty, storage (no operator, no vault): every method fails or
/// answers zeros.
pub fn route_admin(market: &mut Market, input: &[u8]) -> ArbResult {
    let Some((selector, a)) = split(market.vm(), input) else {
        return Err(Vec::new());
    };
    match selector {
        CONSTRUCTOR_SELECTOR => done(market.constructor(
            a.address(0)?,
            a.address(1)?,
            a.address(2)?,
            a.address(3)?,
            a.boolean(4)?,
            a.bytes(5)?,
        )),
        VAULT => Ok(encode(&[word_of(market.vault())])),
        POOL => Ok(encode(&[word_of(market.pool())])),
        OPERATOR => Ok(encode(&[word_of(market.operator())])),
        IS_L1 => Ok(encode(&[U256::from(market.is_l1() as u8)])),
        FROZEN => Ok(encode(&[U256::from(market.frozen() as u8)])),
        LAST_TIMESTAMP => Ok(encode(&[U256::from(market.last_timestamp())])),
        VAULT_STATE => {
            let (p, l, r0, r1) = market.vault_state();
            Ok(encode(&[p, l, r0, r1]))
        }
        PENDING_OPERATOR => Ok(encode(&[word_of(market.pending_operator())])),
        PENDING_RESIZE => {
            let (l, d) = market.pending_resize();
            Ok(encode(&[l, U256::from(d)]))
        }
        TRANSFER_OPERATOR => done(market.transfer_operator(a.address(0)?)),
        ACCEPT_OPERATOR => done(market.accept_operator()),
        REQUEST_RESIZE => done(market.request_resize(a.word(0)?, a.u64(1)?)),
        APPLY_RESIZE => done(market.apply_resize(a.u64(0)?, a.b256(1)?, a.b256(2)?)),
        SET_FROZEN => done(market.set_frozen(a.boolean(0)?)),
        _ => Err(Vec::new()),
    }
}

/// A program's entrypoint: stylus-sdk 0.10's, with `route` for its router over the market's storage.
#[cfg(target_arch = "wasm32")]
pub fn entrypoint(len: usize, route: fn(&mut Market, &[u8]) -> ArbResult) -> usize {
    damm_stylus_abi::entrypoint(len, route)
}

/// The market program's entrypoint (the crate's `entrypoint` feature, on by default; `damm-market-admin`
/// builds this library without it and exports its own).
#[cfg(all(target_arch = "wasm32", feature = "entrypoint"))]
#[no_mangle]
pub extern "C" fn user_entrypoint(len: usize) -> usize {
    entrypoint(len, route_core)
}
