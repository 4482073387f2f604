//! The committed `IVault.sol` is what `cargo run -p damm-vault --features export-abi` prints, and the vault's hand-written router answers
//! exactly the functions it declares (the checks: `contracts/stylus-abi/exported_abi_check.rs`).
//!
//! Regenerate the file with
//! `cargo run -q -p damm-vault --features export-abi > contracts/vault/IVault.sol`.

#[path = "../../stylus-abi/exported_abi_check.rs"]
mod check;

use damm_vault::router::ROUTED;

#[test]
fn committed_interface_matches_the_exported_abi() {
    check::assert_committed_is_exported("damm-vault", env!("CARGO_MANIFEST_DIR"), "IVault.sol");
}

#[test]
fn the_router_answers_exactly_the_interface() {
    check::assert_routers_answer_exactly(env!("CARGO_MANIFEST_DIR"), "IVault.sol", ROUTED, 40);
}
