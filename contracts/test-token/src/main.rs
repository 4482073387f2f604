//! `cargo run -p test-token --features export-abi`: prints the test token's Solidity interface (the committed
//! `ITestToken.sol`).

fn main() {
    test_token::print_from_args();
}
