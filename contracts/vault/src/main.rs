//! `cargo run -p damm-vault --features export-abi`: prints the vault's Solidity interface (the committed
//! `IVault.sol`).

fn main() {
    damm_vault::print_from_args();
}
