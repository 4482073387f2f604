//! The dAMM vault's settlement program: `settle`, run by delegation from the vault on the vault's storage
//! ([`damm_vault::router::route_settlement`]). See `damm-vault-admin` for why the vault is
//! several programs; called directly, this program only sees its own, empty, storage (no market is
//! registered there), so every call fails.

#![cfg_attr(target_arch = "wasm32", no_main)]
#![cfg_attr(target_arch = "wasm32", no_std)]

/// The settlement program's entrypoint.
#[cfg(target_arch = "wasm32")]
#[no_mangle]
pub extern "C" fn user_entrypoint(len: usize) -> usize {
    damm_vault::router::entrypoint(len, damm_vault::router::route_settlement)
}
