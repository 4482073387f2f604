//! `cargo run -p devnode-probe --features export-abi`: prints the probe's Solidity interface (the committed
//! `IDevnodeProbe.sol`).

fn main() {
    devnode_probe::print_from_args();
}
