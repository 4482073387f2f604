//! The pieces of a hand-written Stylus router that the dAMM's programs (the vault's five, the market's two)
//! share.
//!
//! stylus-sdk's `#[entrypoint]` router decodes and encodes every method through alloy's generic ABI code, which
//! costs more than a program of this project can spare under the 24 KiB limit. Every argument and return value
//! of these programs is a 32-byte word, a tuple of words, or one `bytes`, so their routers read and write words
//! directly with these helpers, and their entrypoint keeps the SDK's semantics: reentrant calls revert, the
//! storage cache is flushed at the end, the constructor runs once.

#![no_std]

extern crate alloc;

use alloc::vec::Vec;

use stylus_sdk::{
    abi::{internal::CONSTRUCTOR_EXECUTED_SLOT, Bytes},
    alloy_primitives::{Address, B256, U256},
    prelude::*,
    storage::StorageBool,
    stylus_core::host::Host,
};

/// The 4-byte selector of a function (or error) signature, as a big-endian `u32`.
pub const fn selector(signature: &str) -> u32 {
    let d = stylus_sdk::keccak_const::Keccak256::new()
        .update(signature.as_bytes())
        .finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// Declares a `const` selector per signature, and `ROUTED`: every `(selector, signature)` a router answers (a
/// test checks it against the exported interface).
#[macro_export]
macro_rules! selectors {
    ($($name:ident = $sig:literal;)*) => {
        $(const $name: u32 = $crate::selector($sig);)*
        /// Every selector the router answers, with its signature (checked against the exported interface by a
        /// test).
        pub const ROUTED: &[(u32, &str)] = &[$(($name, $sig)),*];
    };
}

/// Calldata after the selector, read as 32-byte words. Malformed input (too short, a word out of its type's
/// range, a `bytes` out of bounds) is an `Err` with empty data: a revert without reason, as the SDK's validating
/// decoder gives.
pub struct Args<'a>(pub &'a [u8]);

impl Args<'_> {
    /// Word `i`.
    pub fn word(&self, i: usize) -> Result<U256, Vec<u8>> {
        self.0
            .get(32 * i..32 * i + 32)
            .map(U256::from_be_slice)
            .ok_or_else(Vec::new)
    }

    /// Word `i`, which must fit in `bits` bits.
    pub fn bounded(&self, i: usize, bits: usize) -> Result<U256, Vec<u8>> {
        let w = self.word(i)?;
        if w >> bits != U256::ZERO {
            return Err(Vec::new());
        }
        Ok(w)
    }

    /// Word `i` as an `address`.
    pub fn address(&self, i: usize) -> Result<Address, Vec<u8>> {
        Ok(Address::from_word(
            self.bounded(i, 160)?.to_be_bytes::<32>().into(),
        ))
    }

    /// Word `i` as a `bool`.
    pub fn boolean(&self, i: usize) -> Result<bool, Vec<u8>> {
        Ok(!self.bounded(i, 1)?.is_zero())
    }

    /// Word `i` as a `uint64`.
    pub fn u64(&self, i: usize) -> Result<u64, Vec<u8>> {
        Ok(self.bounded(i, 64)?.as_limbs()[0])
    }

    /// Word `i` as a `bytes32`.
    pub fn b256(&self, i: usize) -> Result<B256, Vec<u8>> {
        Ok(B256::from(self.word(i)?.to_be_bytes::<32>()))
    }

    /// The `bytes` argument whose offset is word `i`.
    pub fn bytes(&self, i: usize) -> Result<Bytes, Vec<u8>> {
        let at = usize::try_from(self.bounded(i, 32)?).map_err(|_| Vec::new())?;
        let len = self
            .0
            .get(at..at + 32)
            .map(U256::from_be_slice)
            .ok_or_else(Vec::new)?;
        let len = usize::try_from(len).map_err(|_| Vec::new())?;
        let end = (at + 32).checked_add(len).ok_or_else(Vec::new)?;
        let data = self.0.get(at + 32..end).ok_or_else(Vec::new)?;
        Ok(Bytes::from(data.to_vec()))
    }
}

/// The selector and the arguments of a call; `None` (a revert) for calldata shorter than a selector, or with
/// ETH attached (no method of these programs is payable).
pub fn split<'a, H: Host + ?Sized>(host: &H, input: &'a [u8]) -> Option<(u32, Args<'a>)> {
    if !host.msg_value().is_zero() {
        return None;
    }
    let selector = u32::from_be_bytes(input.get(..4)?.try_into().ok()?);
    Some((selector, Args(&input[4..])))
}

/// An address as an ABI word.
pub fn word_of(address: Address) -> U256 {
    U256::from_be_slice(address.as_slice())
}

/// Appends words to `out`, ABI-encoded.
fn put(out: &mut Vec<u8>, words: &[U256]) {
    for w in words {
        out.extend_from_slice(&w.to_be_bytes::<32>());
    }
}

/// Words, ABI-encoded.
pub fn encode(words: &[U256]) -> Vec<u8> {
    let mut out = Vec::with_capacity(32 * words.len());
    put(&mut out, words);
    out
}

/// A selector followed by words: a call's data, or a custom error's revert data.
pub fn with_selector(selector: [u8; 4], words: &[U256]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + 32 * words.len());
    out.extend_from_slice(&selector);
    put(&mut out, words);
    out
}

/// `bytes` as an ABI return value: offset, length, the data padded to words.
pub fn encode_bytes(data: &[u8]) -> Vec<u8> {
    let mut out = encode(&[U256::from(32), U256::from(data.len())]);
    out.extend_from_slice(data);
    out.resize(64 + data.len().div_ceil(32) * 32, 0);
    out
}

/// Word `i` of ABI-encoded return data (empty revert data if it is missing).
pub fn return_word(data: &[u8], i: usize) -> Result<U256, Vec<u8>> {
    Args(data).word(i)
}

/// Emits a log: `topic0`, then the indexed words as topics, then the data words.
pub fn emit<H: Host + ?Sized>(host: &H, topic0: B256, indexed: &[U256], data: &[U256]) {
    let mut bytes = Vec::with_capacity(32 * (1 + indexed.len() + data.len()));
    bytes.extend_from_slice(topic0.as_slice());
    put(&mut bytes, indexed);
    put(&mut bytes, data);
    host.emit_log(&bytes, 1 + indexed.len());
}

/// Marks the constructor as run (the SDK's flag slot); `Err` (a revert) if it already ran.
pub fn constructor_once<S: HostAccess<Host = stylus_sdk::host::VM>>(storage: &S) -> Result<(), Vec<u8>> {
    // SAFETY: the SDK's constructor flag slot, read and written only here.
    let mut executed = unsafe { StorageBool::new(CONSTRUCTOR_EXECUTED_SLOT, 0, storage.vm().clone()) };
    if executed.get() {
        return Err(Vec::new());
    }
    executed.set(true);
    Ok(())
}

/// A program's entrypoint: stylus-sdk 0.10's, with `route` for its router over the top-level storage `S`
/// (rooted at slot 0). A call into the program while it runs reverts (the SDK's reentrancy lock).
#[cfg(target_arch = "wasm32")]
pub fn entrypoint<S: StorageType>(len: usize, route: fn(&mut S, &[u8]) -> stylus_sdk::ArbResult) -> usize {
    let host = stylus_sdk::host::VM {
        host: stylus_sdk::host::WasmVM {},
    };
    if host.msg_reentrant() {
        return 1;
    }
    // References `pay_for_memory_grow`, which activation requires to be imported (as the SDK does).
    host.pay_for_memory_grow(0);
    let input = host.read_args(len);
    // SAFETY: `S` is the program's only top-level storage, rooted at slot 0 (what the SDK does).
    let mut storage = unsafe { S::new(U256::ZERO, 0, host.clone()) };
    let (data, status) = match route(&mut storage, &input) {
        Ok(data) => (data, 0),
        Err(data) => (data, 1),
    };
    host.flush_cache(false);
    host.write_result(&data);
    status
}
