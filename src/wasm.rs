//! Turning a compiled Stylus contract into the code nitro accepts, and back.
//!
//! The pipeline lives in the devnode crate ([`damm_devnode::program`]), so that deployment and the devnode's
//! activation validate programs with the same code; this module re-exports it for the client and the
//! `damm wasm-size` command.

pub use damm_devnode::program::*;
