//! `cargo run -p test-forwarder --features export-abi`: prints the forwarder's Solidity interface (the committed
//! `ITestForwarder.sol`).

fn main() {
    test_forwarder::print_from_args();
}
