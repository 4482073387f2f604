//! The requests the server understands: one enum, one variant per method, parsed from the method name and
//! its positional parameters. Trailing optional parameters may be left out or given as `null`; extra
//! parameters are refused.

use std::collections::VecDeque;

use alloy_primitives::{Address, Bytes, B256, U256};
use alloy_rpc_types_eth::{state::StateOverride, BlockId, BlockNumberOrTag, Filter, TransactionRequest};
use serde::{de::DeserializeOwned, Deserialize};
use serde_json::Value;

use super::error::RpcError;

/// A number given either as a JSON number or as a (hex or decimal) string, as Anvil's dev methods accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quantity(pub u64);

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(u64),
            Text(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Number(n) => Ok(Self(n)),
            Raw::Text(text) => {
                let parsed = match text.strip_prefix("0x") {
                    Some(hex) => u64::from_str_radix(hex, 16),
                    None => text.parse(),
                };
                parsed
                    .map(Self)
                    .map_err(|_| serde::de::Error::custom(format!("invalid quantity {text:?}")))
            }
        }
    }
}

/// `evm_mine`'s optional parameter: a timestamp, or `{ timestamp, blocks }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum MineOptions {
    /// The timestamp of the block.
    Timestamp(Quantity),
    /// Options.
    Options {
        /// Timestamp of the first block.
        timestamp: Option<Quantity>,
        /// Number of blocks.
        blocks: Option<Quantity>,
    },
}

/// One request.
#[derive(Debug, Clone, PartialEq)]
pub enum EthRequest {
    /// `web3_clientVersion`
    ClientVersion,
    /// `net_version`
    NetVersion,
    /// `net_listening`
    NetListening,
    /// `eth_chainId`
    ChainId,
    /// `eth_syncing`
    Syncing,
    /// `eth_accounts`
    Accounts,
    /// `eth_blockNumber`
    BlockNumber,
    /// `eth_getBalance`
    GetBalance(Address, Option<BlockId>),
    /// `eth_getCode`
    GetCode(Address, Option<BlockId>),
    /// `eth_getStorageAt`
    GetStorageAt(Address, U256, Option<BlockId>),
    /// `eth_getTransactionCount`
    GetTransactionCount(Address, Option<BlockId>),
    /// `eth_gasPrice`
    GasPrice,
    /// `eth_maxPriorityFeePerGas`
    MaxPriorityFeePerGas,
    /// `eth_feeHistory`
    FeeHistory(Quantity, BlockNumberOrTag, Option<Vec<f64>>),
    /// `eth_estimateGas`
    EstimateGas(Box<TransactionRequest>, Option<BlockId>, Option<StateOverride>),
    /// `eth_call`
    Call(Box<TransactionRequest>, Option<BlockId>, Option<StateOverride>),
    /// `eth_sendRawTransaction`
    SendRawTransaction(Bytes),
    /// `eth_sendTransaction`
    SendTransaction(Box<TransactionRequest>),
    /// `eth_getTransactionByHash`
    GetTransactionByHash(B256),
    /// `eth_getTransactionReceipt`
    GetTransactionReceipt(B256),
    /// `eth_getBlockByNumber`
    GetBlockByNumber(BlockNumberOrTag, bool),
    /// `eth_getBlockByHash`
    GetBlockByHash(B256, bool),
    /// `eth_getBlockReceipts`
    GetBlockReceipts(BlockId),
    /// `eth_getBlockTransactionCountByNumber`
    GetBlockTransactionCountByNumber(BlockNumberOrTag),
    /// `eth_getBlockTransactionCountByHash`
    GetBlockTransactionCountByHash(B256),
    /// `eth_getTransactionByBlockNumberAndIndex`
    GetTransactionByBlockNumberAndIndex(BlockNumberOrTag, Quantity),
    /// `eth_getTransactionByBlockHashAndIndex`
    GetTransactionByBlockHashAndIndex(B256, Quantity),
    /// `eth_getLogs`
    GetLogs(Box<Filter>),
    /// `eth_newFilter`
    NewFilter(Box<Filter>),
    /// `eth_newBlockFilter`
    NewBlockFilter,
    /// `eth_getFilterChanges`
    GetFilterChanges(U256),
    /// `eth_getFilterLogs`
    GetFilterLogs(U256),
    /// `eth_uninstallFilter`
    UninstallFilter(U256),
    /// `anvil_setBalance` (also `hardhat_setBalance`)
    SetBalance(Address, U256),
    /// `anvil_setCode`
    SetCode(Address, Bytes),
    /// `anvil_setNonce`
    SetNonce(Address, Quantity),
    /// `anvil_setStorageAt`
    SetStorageAt(Address, U256, B256),
    /// `anvil_impersonateAccount`
    ImpersonateAccount(Address),
    /// `anvil_stopImpersonatingAccount`
    StopImpersonatingAccount(Address),
    /// `anvil_mine`: number of blocks, seconds between them
    Mine(Option<Quantity>, Option<Quantity>),
    /// `evm_mine`
    EvmMine(Option<MineOptions>),
    /// `anvil_setAutomine` / `evm_setAutomine`
    SetAutomine(bool),
    /// `anvil_getAutomine`
    GetAutomine,
    /// `evm_setIntervalMining`: seconds, 0 to stop
    SetIntervalMining(Quantity),
    /// `evm_increaseTime`
    IncreaseTime(Quantity),
    /// `evm_setNextBlockTimestamp`
    SetNextBlockTimestamp(Quantity),
    /// `evm_snapshot`
    Snapshot,
    /// `evm_revert`
    Revert(U256),
    /// `anvil_dropTransaction`: removes a transaction from the pool
    DropTransaction(B256),
    /// `anvil_dropAllTransactions`: empties the pool
    DropAllTransactions,
    /// `anvil_dumpState`: the state file's JSON, hex-encoded
    DumpState,
    /// `anvil_loadState`
    LoadState(Bytes),
}

/// The positional parameters of one request, taken in order.
struct Params {
    items: VecDeque<Value>,
    taken: usize,
}

impl Params {
    fn new(params: Option<Value>) -> Result<Self, RpcError> {
        let items = match params {
            None | Some(Value::Null) => VecDeque::new(),
            Some(Value::Array(items)) => items.into(),
            Some(_) => return Err(RpcError::invalid_params("params must be an array")),
        };
        Ok(Self { items, taken: 0 })
    }

    fn next_value(&mut self) -> Option<Value> {
        self.taken += 1;
        self.items.pop_front()
    }

    fn required<T: DeserializeOwned>(&mut self) -> Result<T, RpcError> {
        let index = self.taken;
        match self.next_value() {
            Some(value) => serde_json::from_value(value)
                .map_err(|e| RpcError::invalid_params(format!("invalid parameter {index}: {e}"))),
            None => Err(RpcError::invalid_params(format!(
                "missing value for required argument {index}"
            ))),
        }
    }

    fn optional<T: DeserializeOwned>(&mut self) -> Result<Option<T>, RpcError> {
        let index = self.taken;
        match self.next_value() {
            None | Some(Value::Null) => Ok(None),
            Some(value) => serde_json::from_value(value)
                .map(Some)
                .map_err(|e| RpcError::invalid_params(format!("invalid parameter {index}: {e}"))),
        }
    }

    fn end<T>(self, request: T) -> Result<T, RpcError> {
        if self.items.iter().all(Value::is_null) {
            Ok(request)
        } else {
            Err(RpcError::invalid_params(format!(
                "too many arguments, want at most {}",
                self.taken
            )))
        }
    }
}

impl EthRequest {
    /// Parses `method` with `params`.
    ///
    /// # Errors
    ///
    /// `-32601` for an unknown method, `-32602` for parameters that do not fit.
    pub fn parse(method: &str, params: Option<Value>) -> Result<Self, RpcError> {
        use EthRequest as R;
        let mut p = Params::new(params)?;
        let request = match method {
            "web3_clientVersion" => R::ClientVersion,
            "net_version" => R::NetVersion,
            "net_listening" => R::NetListening,
            "eth_chainId" => R::ChainId,
            "eth_syncing" => R::Syncing,
            "eth_accounts" => R::Accounts,
            "eth_blockNumber" => R::BlockNumber,
            "eth_getBalance" => R::GetBalance(p.required()?, p.optional()?),
            "eth_getCode" => R::GetCode(p.required()?, p.optional()?),
            "eth_getStorageAt" => R::GetStorageAt(p.required()?, p.required()?, p.optional()?),
            "eth_getTransactionCount" => R::GetTransactionCount(p.required()?, p.optional()?),
            "eth_gasPrice" => R::GasPrice,
            "eth_maxPriorityFeePerGas" => R::MaxPriorityFeePerGas,
            "eth_feeHistory" => R::FeeHistory(p.required()?, p.required()?, p.optional()?),
            "eth_estimateGas" => R::EstimateGas(p.required()?, p.optional()?, p.optional()?),
            "eth_call" => {
                let call = R::Call(p.required()?, p.optional()?, p.optional()?);
                // Block overrides are accepted only when empty.
                if let Some(block_overrides) = p.optional::<Value>()? {
                    if block_overrides.as_object().is_some_and(|o| !o.is_empty()) {
                        return Err(RpcError::invalid_params("block overrides are not supported"));
                    }
                }
                call
            }
            "eth_sendRawTransaction" => R::SendRawTransaction(p.required()?),
            "eth_sendTransaction" => R::SendTransaction(p.required()?),
            "eth_getTransactionByHash" => R::GetTransactionByHash(p.required()?),
            "eth_getTransactionReceipt" => R::GetTransactionReceipt(p.required()?),
            "eth_getBlockByNumber" => R::GetBlockByNumber(p.required()?, p.optional()?.unwrap_or(false)),
            "eth_getBlockByHash" => R::GetBlockByHash(p.required()?, p.optional()?.unwrap_or(false)),
            "eth_getBlockReceipts" => R::GetBlockReceipts(p.required()?),
            "eth_getBlockTransactionCountByNumber" => R::GetBlockTransactionCountByNumber(p.required()?),
            "eth_getBlockTransactionCountByHash" => R::GetBlockTransactionCountByHash(p.required()?),
            "eth_getTransactionByBlockNumberAndIndex" => {
                R::GetTransactionByBlockNumberAndIndex(p.required()?, p.required()?)
            }
            "eth_getTransactionByBlockHashAndIndex" => {
                R::GetTransactionByBlockHashAndIndex(p.required()?, p.required()?)
            }
            "eth_getLogs" => R::GetLogs(p.required()?),
            "eth_newFilter" => R::NewFilter(p.required()?),
            "eth_newBlockFilter" => R::NewBlockFilter,
            "eth_getFilterChanges" => R::GetFilterChanges(p.required()?),
            "eth_getFilterLogs" => R::GetFilterLogs(p.required()?),
            "eth_uninstallFilter" => R::UninstallFilter(p.required()?),
            "anvil_setBalance" | "hardhat_setBalance" => R::SetBalance(p.required()?, p.required()?),
            "anvil_setCode" | "hardhat_setCode" => R::SetCode(p.required()?, p.required()?),
            "anvil_setNonce" | "hardhat_setNonce" => R::SetNonce(p.required()?, p.required()?),
            "anvil_setStorageAt" | "hardhat_setStorageAt" => {
                R::SetStorageAt(p.required()?, p.required()?, p.required()?)
            }
            "anvil_impersonateAccount" | "hardhat_impersonateAccount" => R::ImpersonateAccount(p.required()?),
            "anvil_stopImpersonatingAccount" | "hardhat_stopImpersonatingAccount" => {
                R::StopImpersonatingAccount(p.required()?)
            }
            "anvil_mine" | "hardhat_mine" => R::Mine(p.optional()?, p.optional()?),
            "evm_mine" => R::EvmMine(p.optional()?),
            "anvil_setAutomine" | "evm_setAutomine" => R::SetAutomine(p.required()?),
            "anvil_getAutomine" | "hardhat_getAutomine" => R::GetAutomine,
            "evm_setIntervalMining" | "anvil_setIntervalMining" => R::SetIntervalMining(p.required()?),
            "evm_increaseTime" | "anvil_increaseTime" => R::IncreaseTime(p.required()?),
            "evm_setNextBlockTimestamp" | "anvil_setNextBlockTimestamp" => {
                R::SetNextBlockTimestamp(p.required()?)
            }
            "evm_snapshot" | "anvil_snapshot" => R::Snapshot,
            "evm_revert" | "anvil_revert" => R::Revert(p.required()?),
            "anvil_dropTransaction" => R::DropTransaction(p.required()?),
            "anvil_dropAllTransactions" => R::DropAllTransactions,
            "anvil_dumpState" => R::DumpState,
            "anvil_loadState" => R::LoadState(p.required()?),
            _ => return Err(RpcError::method_not_found()),
        };
        p.end(request)
    }
}
