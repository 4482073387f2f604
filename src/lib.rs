//! dAMM on Arbitrum Stylus: the client library behind the `damm` command-line tool.
//!
//! The pricing math is re-exported from [`damm_math`], so the client quotes trades with exactly the code the
//! contracts verify them with; the market's shared code (state encoding and hash, batch encoding, batch
//! re-execution) from [`damm_market_codec`], so an operator predicts state hashes with the market's own code.

pub use damm_market_codec as market_codec;
pub use damm_math as math;

pub mod admin;
pub mod bindings;
pub mod client;
pub mod config;
pub mod demo;
pub mod deploy;
pub mod deployment;
pub mod errors;
pub mod lp;
pub mod operator;
pub mod output;
pub mod wasm;
