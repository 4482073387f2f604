//! An in-process chain that runs EVM bytecode (revm) and Arbitrum Stylus WebAssembly programs (wasmi)
//! together, for tests and for the `damm` tool.
//!
//! - [`program`]: the Stylus deploy-code pipeline and nitro's activation rules (shared with deployment).
//! - [`stylus`]: the precompile provider that runs Stylus programs inside revm, and the module cache.
//! - [`hostio`]: the `vm_hooks` host functions.
//! - [`arb`]: the ArbSys and ArbWasm precompiles.
//! - [`deployer`]: the StylusDeployer (deploy, activate and initialise in one transaction).
//! - [`node`]: the chain: blocks, the pool, dev accounts, signed transactions, receipts, snapshots.
//! - [`rpc`]: the JSON-RPC server (Anvil's methods over HTTP).
//!
//! See `docs/DEVNODE.md` for what is emulated and what is approximate.

pub mod arb;
pub mod deployer;
pub mod evm_code;
pub mod hostio;
pub mod node;
pub mod program;
pub mod rpc;
pub mod stylus;

pub use node::{Devnode, DevnodeConfig, NodeError, Receipt, DEV_MNEMONIC, NITRO_DEV_KEY};
pub use rpc::{RpcServer, ServerConfig};
