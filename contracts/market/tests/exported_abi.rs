//! The committed `IMarket.sol` is what `cargo run -p damm-market --features export-abi` prints, and the market's two hand-written routers answer
//! exactly the functions it declares (the checks: `contracts/stylus-abi/exported_abi_check.rs`).
//!
//! Regenerate the file with
//! `cargo run -q -p damm-market --features export-abi > contracts/market/IMarket.sol`.

#[path = "../../stylus-abi/exported_abi_check.rs"]
mod check;

use damm_market::router::ROUTED;

#[test]
fn committed_interface_matches_the_exported_abi() {
    check::assert_committed_is_exported("damm-market", env!("CARGO_MANIFEST_DIR"), "IMarket.sol");
}

#[test]
fn the_router_answers_exactly_the_interface() {
    check::assert_routers_answer_exactly(env!("CARGO_MANIFEST_DIR"), "IMarket.sol", ROUTED, 22);
}
