//! The dAMM vault's withdrawals program: withdrawals in kind, bounded by what the markets' worst case does not
//! need, and the admission views (`maxWithdraw`, `worstCase`, `healthFactor`), run by delegation from the vault
//! on the vault's storage ([`damm_vault::router::route_withdrawals`]). See `damm-vault-admin` for why the vault
//! is several programs; called directly, this program only sees its own, empty, storage.

#![cfg_attr(target_arch = "wasm32", no_main)]
#![cfg_attr(target_arch = "wasm32", no_std)]

/// The withdrawals program's entrypoint.
#[cfg(target_arch = "wasm32")]
#[no_mangle]
pub extern "C" fn user_entrypoint(len: usize) -> usize {
    damm_vault::router::entrypoint(len, damm_vault::router::route_withdrawals)
}
