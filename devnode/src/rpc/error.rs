//! The one place where failures become JSON-RPC errors, with Anvil's codes and messages.

use alloy_primitives::{hex, Bytes};
use alloy_sol_types::{Panic, Revert, SolError};
use serde_json::{json, Value};

use crate::node::NodeError;

/// A JSON-RPC error object.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    /// The error code.
    pub code: i64,
    /// The message.
    pub message: String,
    /// Extra data (revert data for reverts).
    pub data: Option<Value>,
}

/// Invalid JSON.
pub const PARSE_ERROR: i64 = -32700;
/// Not a JSON-RPC request object.
pub const INVALID_REQUEST: i64 = -32600;
/// No such method.
pub const METHOD_NOT_FOUND: i64 = -32601;
/// Wrong parameters.
pub const INVALID_PARAMS: i64 = -32602;
/// The node failed internally.
pub const INTERNAL_ERROR: i64 = -32603;
/// A server error (Anvil's code for gas limits out of range).
pub const SERVER_ERROR: i64 = -32000;
/// Unknown block (Anvil's "resource not found").
pub const RESOURCE_NOT_FOUND: i64 = -32001;
/// A transaction the node refuses (EIP-1474's "transaction rejected").
pub const TRANSACTION_REJECTED: i64 = -32003;
/// Execution reverted (the code geth and Anvil use, with the revert data in `data`).
pub const EXECUTION_ERROR: i64 = 3;

impl RpcError {
    /// An error with `code` and `message` and no data.
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            data: None,
        }
    }

    /// `-32602` with `message`.
    pub fn invalid_params(message: impl Into<String>) -> Self {
        Self::new(INVALID_PARAMS, message)
    }

    /// `-32601`, worded as Anvil does (without the method's name).
    pub fn method_not_found() -> Self {
        Self::new(METHOD_NOT_FOUND, "Method not found")
    }

    /// `-32600`, worded as Anvil does; Anvil also answers malformed JSON with it (not with `-32700`).
    pub fn invalid_request() -> Self {
        Self::new(INVALID_REQUEST, "Invalid request")
    }

    /// A revert with its data: code 3, "execution reverted" with the decoded reason if there is one.
    pub fn revert(output: &Bytes) -> Self {
        let message = match revert_reason(output) {
            Some(reason) => format!("execution reverted: {reason}"),
            None => "execution reverted".to_owned(),
        };
        Self {
            code: EXECUTION_ERROR,
            message,
            data: Some(Value::String(hex::encode_prefixed(output))),
        }
    }

    /// The JSON error object.
    pub fn to_json(&self) -> Value {
        match &self.data {
            Some(data) => json!({ "code": self.code, "message": self.message, "data": data }),
            None => json!({ "code": self.code, "message": self.message }),
        }
    }
}

/// The reason of a revert: the string of `Error(string)`, or the kind of `Panic(uint256)`.
pub fn revert_reason(output: &[u8]) -> Option<String> {
    if let Ok(revert) = Revert::abi_decode(output) {
        return Some(revert.reason);
    }
    if let Ok(panic) = Panic::abi_decode(output) {
        let code = panic.code;
        let kind = panic.kind().map(|k| k.as_str()).unwrap_or("unknown panic");
        return Some(format!(
            "panic: {kind} (0x{code:02x})",
            code = code.saturating_to::<u64>()
        ));
    }
    None
}

impl From<NodeError> for RpcError {
    fn from(error: NodeError) -> Self {
        let message = error.to_string();
        match error {
            NodeError::Reverted(output) => Self::revert(&output),
            NodeError::Decode(_) | NodeError::Signature(_) => {
                Self::invalid_params("Failed to decode transaction")
            }
            NodeError::UnknownSender(_) => Self::invalid_params("No Signer available"),
            NodeError::GasTooLow | NodeError::GasTooHigh(_) => Self::new(SERVER_ERROR, message),
            NodeError::NonceTooLow { .. }
            | NodeError::NonceTooHigh { .. }
            | NodeError::InsufficientFunds
            | NodeError::FeeCapTooLow
            | NodeError::TipAboveFeeCap
            | NodeError::SenderNoEoa
            | NodeError::AlreadyImported
            | NodeError::ChainId { .. }
            | NodeError::UnsupportedType(_)
            | NodeError::Invalid(_) => Self::new(TRANSACTION_REJECTED, message),
            NodeError::BlockNotFound | NodeError::StateUnavailable(_) => {
                Self::new(RESOURCE_NOT_FOUND, message)
            }
            NodeError::OutOfGasEstimate(_) => Self::new(TRANSACTION_REJECTED, message),
            NodeError::Halted(_) | NodeError::Pending(_) | NodeError::State(_) => {
                Self::new(INTERNAL_ERROR, message)
            }
        }
    }
}
