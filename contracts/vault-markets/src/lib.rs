//! The dAMM vault's markets program: the market registry (registration and resizing, each under the admission
//! check, and its views), run by delegation from the vault on the vault's storage
//! ([`damm_vault::router::route_markets`]). See `damm-vault-admin` for why the vault is several programs;
//! called directly, this program only sees its own, empty, storage.

#![cfg_attr(target_arch = "wasm32", no_main)]
#![cfg_attr(target_arch = "wasm32", no_std)]

/// The markets program's entrypoint.
#[cfg(target_arch = "wasm32")]
#[no_mangle]
pub extern "C" fn user_entrypoint(len: usize) -> usize {
    damm_vault::router::entrypoint(len, damm_vault::router::route_markets)
}
