//! The dAMM market's administration program: the constructor, the operator transfer, resizing and freezing,
//! run by delegation from every market on the market's own storage ([`damm_market::router::route_admin`]).
//! One deployment serves every market: a market is too large for one Stylus program (see `docs/DESIGN.md`,
//! "The market contract"). Called directly, this program only sees its own, empty, storage.

#![cfg_attr(target_arch = "wasm32", no_main)]
#![cfg_attr(target_arch = "wasm32", no_std)]

/// The market-admin program's entrypoint.
#[cfg(target_arch = "wasm32")]
#[no_mangle]
pub extern "C" fn user_entrypoint(len: usize) -> usize {
    damm_market::router::entrypoint(len, damm_market::router::route_admin)
}
