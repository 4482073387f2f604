//! `cargo run -p stylus-counter --features export-abi`: prints the counter's Solidity interface.

fn main() {
    stylus_counter::print_from_args();
}
