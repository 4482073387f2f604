//! `cargo run -p stylus-constructed --features export-abi`: prints the contract's Solidity interface.

fn main() {
    stylus_constructed::print_from_args();
}
