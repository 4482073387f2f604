//! dAMM on Arbitrum Stylus: the client library behind the `damm` command-line tool.
//!
//! The pricing math is re-exported from [`damm_math`], so the client quotes trades with exactly the code the
//! contracts verify them with.

pub use damm_math as math;

pub mod bindings;
pub mod wasm;
