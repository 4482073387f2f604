//! The market's calls to its vault, hand-encoded (a selector and 32-byte words), as the vault encodes its own
//! calls: the SDK's typed interfaces cost kilobytes of code per call.
//!
//! No call flushes the market's storage cache: the entrypoint refuses every reentrant call, so no callee can
//! observe the market's storage before the outer call ends, and a failed call reverts everything.

use alloc::vec::Vec;

use damm_market_codec::MarketState;
use stylus_sdk::{
    alloy_primitives::{Address, U256},
    call::RawCall,
    stylus_core::host::Host,
};

const fn selector(signature: &str) -> [u8; 4] {
    damm_stylus_abi::selector(signature).to_be_bytes()
}

/// `owner()`.
pub(crate) const OWNER: [u8; 4] = selector("owner()");
/// `marketInfo(address)`.
pub(crate) const MARKET_INFO: [u8; 4] = selector("marketInfo(address)");
/// `settle(address,address,uint256[8],(uint256,uint256,uint256,uint256))`.
pub(crate) const SETTLE: [u8; 4] =
    selector("settle(address,address,uint256[8],(uint256,uint256,uint256,uint256))");

use damm_stylus_abi::{return_word as word, with_selector as calldata, word_of as address_word};

fn view<H: Host + ?Sized>(
    host: &H,
    vault: Address,
    selector: [u8; 4],
    args: &[U256],
) -> Result<Vec<u8>, Vec<u8>> {
    // SAFETY: a static call changes no state.
    unsafe { RawCall::new_static(host).call(vault, &calldata(selector, args)) }
}

/// The vault's owner.
pub(crate) fn owner<H: Host + ?Sized>(host: &H, vault: Address) -> Result<Address, Vec<u8>> {
    let w = word(&view(host, vault, OWNER, &[])?, 0)?;
    Ok(Address::from_word(w.to_be_bytes::<32>().into()))
}

/// The liquidity limit the vault admitted for `market` (`marketInfo`'s seventh word; 0 if unregistered).
pub(crate) fn liquidity_limit<H: Host + ?Sized>(
    host: &H,
    vault: Address,
    market: Address,
) -> Result<U256, Vec<u8>> {
    word(&view(host, vault, MARKET_INFO, &[address_word(market)])?, 6)
}

/// `settle(counterparty, referrer, flows, state)`: the vault's revert data on failure.
pub(crate) fn settle<H: Host + ?Sized>(
    host: &H,
    vault: Address,
    counterparty: Address,
    referrer: Address,
    flows: &[u128; 8],
    state: &MarketState,
) -> Result<(), Vec<u8>> {
    let (price, liquidity, a, b) = state.vault_view();
    let mut args = Vec::with_capacity(14);
    args.push(address_word(counterparty));
    args.push(address_word(referrer));
    args.extend(flows.iter().map(|&f| U256::from(f)));
    args.extend([
        U256::from(price),
        U256::from_limbs(*liquidity.as_limbs()),
        U256::from(a),
        U256::from(b),
    ]);
    // SAFETY: the market cannot be reentered (see the module documentation).
    unsafe { RawCall::new(host).call(vault, &calldata(SETTLE, &args)) }.map(|_| ())
}
