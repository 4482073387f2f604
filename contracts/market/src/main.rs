//! `cargo run -p damm-market --features export-abi`: prints the market's Solidity interface (the committed
//! `IMarket.sol`).

fn main() {
    damm_market::print_from_args();
}
