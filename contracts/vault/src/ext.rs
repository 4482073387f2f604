//! Calls to the ERC-20 tokens and Uniswap V2 pairs the vault holds, hand-encoded.
//!
//! The vault needs eight external functions with at most three word-sized arguments each. Encoding them by
//! hand (a selector and 32-byte words) costs a fraction of the code the SDK's typed interfaces generate, and
//! the Stylus size limit is the vault's scarcest resource.
//!
//! No call flushes the vault's storage cache: stylus-sdk's entrypoint refuses every reentrant call, so no
//! callee can observe the vault's storage before the outer call ends (and a failed call reverts everything).

use alloc::vec::Vec;

use stylus_sdk::{
    alloy_primitives::{Address, U256},
    call::RawCall,
    stylus_core::host::Host,
};

/// `balanceOf(address)`.
const BALANCE_OF: [u8; 4] = [0x70, 0xa0, 0x82, 0x31];
/// `transfer(address,uint256)`.
const TRANSFER: [u8; 4] = [0xa9, 0x05, 0x9c, 0xbb];
/// `transferFrom(address,address,uint256)`.
const TRANSFER_FROM: [u8; 4] = [0x23, 0xb8, 0x72, 0xdd];
/// `totalSupply()`.
const TOTAL_SUPPLY: [u8; 4] = [0x18, 0x16, 0x0d, 0xdd];
/// `getReserves()` of a Uniswap V2 pair.
const GET_RESERVES: [u8; 4] = [0x09, 0x02, 0xf1, 0xac];
/// `token0()` of a Uniswap V2 pair.
const TOKEN0: [u8; 4] = [0x0d, 0xfe, 0x16, 0x81];
/// `token1()` of a Uniswap V2 pair.
const TOKEN1: [u8; 4] = [0xd2, 0x12, 0x20, 0xa7];
/// `getPair(address,address)` of a Uniswap V2 factory.
const GET_PAIR: [u8; 4] = [0xe6, 0xa4, 0x39, 0x05];
/// `mint(address)` of a Uniswap V2 pair.
const MINT: [u8; 4] = [0x6a, 0x62, 0x78, 0x42];
/// `burn(address)` of a Uniswap V2 pair.
const BURN: [u8; 4] = [0x89, 0xaf, 0xcb, 0x44];

/// A failed external call: the callee's revert data (empty for a call that returned something unusable).
pub(crate) type CallError = Vec<u8>;

pub(crate) use damm_stylus_abi::word_of;
use damm_stylus_abi::{return_word as word, with_selector as calldata};

fn call<H: Host + ?Sized>(
    host: &H,
    target: Address,
    selector: [u8; 4],
    args: &[U256],
) -> Result<Vec<u8>, CallError> {
    // SAFETY: the vault cannot be reentered (see the module documentation), so no storage it caches can change
    // during the call.
    unsafe { RawCall::new(host).call(target, &calldata(selector, args)) }
}

fn view<H: Host + ?Sized>(
    host: &H,
    target: Address,
    selector: [u8; 4],
    args: &[U256],
) -> Result<Vec<u8>, CallError> {
    // SAFETY: a static call changes no state.
    unsafe { RawCall::new_static(host).call(target, &calldata(selector, args)) }
}

/// A token call "succeeded" as OpenZeppelin's `SafeERC20` reads it: it did not revert and returned nothing
/// or `true`.
fn token_ok(result: Result<Vec<u8>, CallError>) -> Result<(), CallError> {
    let data = result?;
    if data.is_empty() || word(&data, 0)? == U256::from(1) {
        Ok(())
    } else {
        Err(data)
    }
}

/// `token.balanceOf(account)`.
pub(crate) fn balance_of<H: Host + ?Sized>(
    host: &H,
    token: Address,
    account: Address,
) -> Result<U256, CallError> {
    word(&view(host, token, BALANCE_OF, &[word_of(account)])?, 0)
}

/// `token.transfer(to, amount)`.
pub(crate) fn transfer<H: Host + ?Sized>(
    host: &H,
    token: Address,
    to: Address,
    amount: U256,
) -> Result<(), CallError> {
    token_ok(call(host, token, TRANSFER, &[word_of(to), amount]))
}

/// `token.transferFrom(from, to, amount)`.
pub(crate) fn transfer_from<H: Host + ?Sized>(
    host: &H,
    token: Address,
    from: Address,
    to: Address,
    amount: U256,
) -> Result<(), CallError> {
    token_ok(call(
        host,
        token,
        TRANSFER_FROM,
        &[word_of(from), word_of(to), amount],
    ))
}

/// `token.totalSupply()`.
pub(crate) fn total_supply<H: Host + ?Sized>(host: &H, token: Address) -> Result<U256, CallError> {
    word(&view(host, token, TOTAL_SUPPLY, &[])?, 0)
}

/// `pair.getReserves()`: `(reserve0, reserve1)`.
pub(crate) fn reserves<H: Host + ?Sized>(host: &H, pair: Address) -> Result<(U256, U256), CallError> {
    let data = view(host, pair, GET_RESERVES, &[])?;
    Ok((word(&data, 0)?, word(&data, 1)?))
}

/// `pair.token0()` and `pair.token1()`.
pub(crate) fn pair_tokens<H: Host + ?Sized>(
    host: &H,
    pair: Address,
) -> Result<(Address, Address), CallError> {
    let token = |selector| -> Result<Address, CallError> {
        let w = word(&view(host, pair, selector, &[])?, 0)?;
        if w >> 160 != U256::ZERO {
            return Err(Vec::new());
        }
        Ok(Address::from_word(w.to_be_bytes::<32>().into()))
    };
    Ok((token(TOKEN0)?, token(TOKEN1)?))
}

/// `pair.mint(to)`: the LP tokens minted.
pub(crate) fn mint<H: Host + ?Sized>(host: &H, pair: Address, to: Address) -> Result<U256, CallError> {
    word(&call(host, pair, MINT, &[word_of(to)])?, 0)
}

/// `pair.burn(to)`: `(amount0, amount1)` paid.
pub(crate) fn burn<H: Host + ?Sized>(
    host: &H,
    pair: Address,
    to: Address,
) -> Result<(U256, U256), CallError> {
    let data = call(host, pair, BURN, &[word_of(to)])?;
    Ok((word(&data, 0)?, word(&data, 1)?))
}

/// `factory.getPair(token0, token1)`.
pub(crate) fn get_pair<H: Host + ?Sized>(
    host: &H,
    factory: Address,
    token0: Address,
    token1: Address,
) -> Result<Address, CallError> {
    let w = word(
        &view(host, factory, GET_PAIR, &[word_of(token0), word_of(token1)])?,
        0,
    )?;
    Ok(Address::from_word(w.to_be_bytes::<32>().into()))
}
