//! The dAMM vault's admin program: administration, pools, rewards and views, run by delegation from the vault
//! on the vault's storage ([`damm_vault::router::route_admin`]).
//!
//! One Stylus program holds at most 24 KiB of compressed code, and the vault's interface does not fit in one.
//! So the vault is four programs built from one library (`damm-vault`): the vault itself runs deposits and
//! shares and delegates the other selectors to the settlement, markets and admin programs, each of which runs
//! the same methods of the same storage struct. Users see one contract at the vault's address, with the one
//! interface `contracts/vault/IVault.sol`.
//!
//! Called directly rather than by delegation, the program runs on its own storage, which is empty: no owner,
//! no pools, no funds, so nothing can be done through it.

#![cfg_attr(target_arch = "wasm32", no_main)]
#![cfg_attr(target_arch = "wasm32", no_std)]

/// The admin program's entrypoint.
#[cfg(target_arch = "wasm32")]
#[no_mangle]
pub extern "C" fn user_entrypoint(len: usize) -> usize {
    damm_vault::router::entrypoint(len, damm_vault::router::route_admin)
}
