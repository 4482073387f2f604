//! The methods: one dispatch `match` over [`EthRequest`], one method per RPC, and the conversions of the
//! node's blocks, transactions, receipts and logs to their JSON-RPC shapes (alloy's types).

use std::{collections::BTreeMap, time::Duration};

use alloy_consensus::{
    transaction::Recovered, Signed, Transaction as _, TxEip1559, TxEip2930, TxEnvelope, TxLegacy,
};
use alloy_primitives::{Address, Bytes, TxKind, B256, U256};
use alloy_rpc_types_eth::{
    state::StateOverride, Block as RpcBlock, BlockId, BlockNumberOrTag, BlockTransactions, FeeHistory,
    Filter, FilterBlockOption, Header as RpcHeader, Log as RpcLog, Transaction as RpcTransaction,
    TransactionReceipt, TransactionRequest,
};
use serde::Serialize;
use serde_json::{json, Value};

use super::{
    error::RpcError,
    request::{EthRequest, MineOptions},
};
use crate::node::{
    AccountOverride, Block, BlockRef, CallRequest, Devnode, NodeError, Receipt, StateDump, StoredTx, TypedTx,
};

/// One ether, in wei.
pub const WEI_PER_ETHER: U256 = U256::from_limbs([1_000_000_000_000_000_000, 0, 0, 0]);

/// What a method returns.
type RpcResult = Result<Value, RpcError>;

fn ok<T: Serialize>(value: T) -> RpcResult {
    serde_json::to_value(value).map_err(|e| RpcError::new(super::error::INTERNAL_ERROR, e.to_string()))
}

fn quantity(value: u64) -> Value {
    Value::String(format!("{value:#x}"))
}

/// A polling filter (`eth_newFilter`, `eth_newBlockFilter`).
#[derive(Debug, Clone)]
enum PollFilter {
    Logs { filter: Box<Filter>, next_block: u64 },
    Blocks { next_block: u64 },
}

/// The node behind the server, with the server-side state (filters, interval mining).
#[derive(Debug)]
pub struct EthApi {
    node: Devnode,
    block_time: Option<Duration>,
    filters: BTreeMap<U256, PollFilter>,
    next_filter: u64,
}

impl EthApi {
    /// Serves `node`, mining every `block_time` if given (and then with automine off).
    pub fn new(mut node: Devnode, block_time: Option<Duration>) -> Self {
        if block_time.is_some() {
            node.set_automine(false);
        }
        Self {
            node,
            block_time,
            filters: BTreeMap::new(),
            next_filter: 0,
        }
    }

    /// The node.
    pub fn node(&self) -> &Devnode {
        &self.node
    }

    /// The node, mutably.
    pub fn node_mut(&mut self) -> &mut Devnode {
        &mut self.node
    }

    /// The interval-mining period, if on.
    pub fn block_time(&self) -> Option<Duration> {
        self.block_time
    }

    /// Handles one HTTP body: a request object or a batch (array) of them; returns the response body.
    pub fn handle_body(&mut self, body: &[u8]) -> Value {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Array(batch)) if batch.is_empty() => {
                response(Value::Null, Err(RpcError::invalid_request()))
            }
            Ok(Value::Array(batch)) => {
                Value::Array(batch.into_iter().map(|call| self.handle_call(call)).collect())
            }
            Ok(call) => self.handle_call(call),
            Err(_) => response(Value::Null, Err(RpcError::invalid_request())),
        }
    }

    fn handle_call(&mut self, call: Value) -> Value {
        let Value::Object(mut call) = call else {
            return response(Value::Null, Err(RpcError::invalid_request()));
        };
        let id = call.remove("id").unwrap_or(Value::Null);
        let Some(Value::String(method)) = call.remove("method") else {
            return response(id, Err(RpcError::invalid_request()));
        };
        let result =
            EthRequest::parse(&method, call.remove("params")).and_then(|request| self.execute(request));
        response(id, result)
    }

    /// Runs one request.
    ///
    /// # Errors
    ///
    /// The request's error, as Anvil reports it.
    pub fn execute(&mut self, request: EthRequest) -> RpcResult {
        use EthRequest as R;
        match request {
            R::ClientVersion => ok(concat!("damm-devnode/v", env!("CARGO_PKG_VERSION"))),
            R::NetVersion => ok(self.node.chain_id().to_string()),
            R::NetListening => ok(true),
            R::ChainId => Ok(quantity(self.node.chain_id())),
            R::Syncing => ok(false),
            R::Accounts => ok(self.node.accounts()),
            R::BlockNumber => Ok(quantity(self.node.head().number)),
            R::GetBalance(address, block) => self.get_balance(address, block),
            R::GetCode(address, block) => self.get_code(address, block),
            R::GetStorageAt(address, slot, block) => self.get_storage_at(address, slot, block),
            R::GetTransactionCount(address, block) => self.get_transaction_count(address, block),
            R::GasPrice => Ok(quantity(self.node.base_fee())),
            R::MaxPriorityFeePerGas => Ok(quantity(0)),
            R::FeeHistory(count, newest, percentiles) => self.fee_history(count.0, newest, percentiles),
            R::EstimateGas(request, block, overrides) => self.estimate_gas(&request, block, overrides),
            R::Call(request, block, overrides) => self.call(&request, block, overrides),
            R::SendRawTransaction(raw) => self.send_raw_transaction(&raw),
            R::SendTransaction(request) => self.send_transaction(*request),
            R::GetTransactionByHash(hash) => self.get_transaction_by_hash(hash),
            R::GetTransactionReceipt(hash) => self.get_transaction_receipt(hash),
            R::GetBlockByNumber(number, full) => self.get_block_by_number(number, full),
            R::GetBlockTransactionCountByHash(hash) => match self.node.block_by_hash(hash) {
                Some(block) => Ok(quantity(block.transactions.len() as u64)),
                None => Ok(Value::Null),
            },
            R::GetTransactionByBlockNumberAndIndex(number, index) => {
                let number = self.tag_number(number);
                self.transaction_in(self.node.block(number).map(|b| b.hash), index.0)
            }
            R::GetTransactionByBlockHashAndIndex(hash, index) => self.transaction_in(Some(hash), index.0),
            R::GetBlockByHash(hash, full) => self.get_block_by_hash(hash, full),
            R::GetBlockReceipts(block) => self.get_block_receipts(block),
            R::GetBlockTransactionCountByNumber(number) => self.get_block_transaction_count(number),
            R::GetLogs(filter) => self.get_logs(&filter),
            R::NewFilter(filter) => self.new_filter(filter),
            R::NewBlockFilter => self.new_block_filter(),
            R::GetFilterChanges(id) => self.get_filter_changes(id),
            R::GetFilterLogs(id) => self.get_filter_logs(id),
            R::UninstallFilter(id) => ok(self.filters.remove(&id).is_some()),
            R::SetBalance(address, balance) => {
                self.node.set_balance(address, balance);
                Ok(Value::Null)
            }
            R::SetCode(address, code) => {
                self.node.set_code(address, code);
                Ok(Value::Null)
            }
            R::SetNonce(address, nonce) => {
                self.node.set_nonce(address, nonce.0);
                Ok(Value::Null)
            }
            R::SetStorageAt(address, slot, value) => {
                self.node.set_storage(address, slot, value.into());
                ok(true)
            }
            R::ImpersonateAccount(address) => {
                self.node.impersonate(address, true);
                Ok(Value::Null)
            }
            R::StopImpersonatingAccount(address) => {
                self.node.impersonate(address, false);
                Ok(Value::Null)
            }
            R::Mine(blocks, interval) => self.mine(blocks.map_or(1, |b| b.0), interval.map(|i| i.0)),
            R::EvmMine(options) => self.evm_mine(options),
            R::SetAutomine(on) => {
                self.node.set_automine(on);
                if on {
                    self.block_time = None;
                }
                Ok(Value::Null)
            }
            R::SetIntervalMining(seconds) => {
                self.block_time = (seconds.0 > 0).then(|| Duration::from_secs(seconds.0));
                self.node.set_automine(self.block_time.is_none());
                Ok(Value::Null)
            }
            // Anvil answers with a JSON number: the total offset in seconds.
            R::IncreaseTime(seconds) => ok(self.node.increase_time(seconds.0)),
            R::GetAutomine => ok(self.node.automine()),
            R::SetNextBlockTimestamp(timestamp) => {
                self.set_next_timestamp(timestamp.0)?;
                Ok(Value::Null)
            }
            R::Snapshot => Ok(quantity(self.node.snapshot())),
            R::Revert(id) => ok(u64::try_from(id).is_ok_and(|id| self.node.revert_to(id))),
            // As Anvil: the dropped transaction's hash, or null if it was not in the pool.
            R::DropTransaction(hash) => ok(self.node.drop_transaction(hash)),
            R::DropAllTransactions => {
                self.node.drop_all_transactions();
                Ok(Value::Null)
            }
            R::DumpState => {
                let json = serde_json::to_vec(&self.node.dump_state())
                    .map_err(|e| RpcError::new(super::error::INTERNAL_ERROR, e.to_string()))?;
                ok(Bytes::from(json))
            }
            R::LoadState(bytes) => {
                let dump: StateDump = serde_json::from_slice(&bytes)
                    .map_err(|e| RpcError::invalid_params(format!("invalid state: {e}")))?;
                self.node.load_state(&dump)?;
                ok(true)
            }
        }
    }

    /// Mines the interval block (called by the server when the block time elapses).
    pub fn mine_interval(&mut self) {
        self.node.mine();
    }

    // --- block references ----------------------------------------------------------------------------------

    fn block_ref(&self, block: Option<BlockId>) -> Result<BlockRef, RpcError> {
        match block {
            None => Ok(BlockRef::Latest),
            Some(BlockId::Number(tag)) => Ok(self.tag_ref(tag)),
            Some(BlockId::Hash(hash)) => self
                .node
                .block_by_hash(hash.block_hash)
                .map(|b| BlockRef::Number(b.number))
                .ok_or_else(|| NodeError::BlockNotFound.into()),
        }
    }

    fn tag_ref(&self, tag: BlockNumberOrTag) -> BlockRef {
        match tag {
            BlockNumberOrTag::Latest => BlockRef::Latest,
            // As Anvil: "safe" is 32 blocks back, "finalized" 64.
            BlockNumberOrTag::Safe => BlockRef::Number(
                self.node
                    .head()
                    .number
                    .saturating_sub(32)
                    .max(self.node.first_block()),
            ),
            BlockNumberOrTag::Finalized => BlockRef::Number(
                self.node
                    .head()
                    .number
                    .saturating_sub(64)
                    .max(self.node.first_block()),
            ),
            BlockNumberOrTag::Pending => BlockRef::Pending,
            BlockNumberOrTag::Earliest => BlockRef::Number(self.node.first_block()),
            BlockNumberOrTag::Number(n) => BlockRef::Number(n),
        }
    }

    fn tag_number(&self, tag: BlockNumberOrTag) -> u64 {
        match self.tag_ref(tag) {
            BlockRef::Pending => self.node.head().number,
            other => self.node.block_number(other),
        }
    }

    // --- state ---------------------------------------------------------------------------------------------

    fn get_balance(&self, address: Address, block: Option<BlockId>) -> RpcResult {
        ok(self.node.account_at(address, self.block_ref(block)?)?.balance)
    }

    fn get_code(&self, address: Address, block: Option<BlockId>) -> RpcResult {
        let info = self.node.account_at(address, self.block_ref(block)?)?;
        ok(info.code.map(|c| c.original_bytes()).unwrap_or_default())
    }

    fn get_storage_at(&self, address: Address, slot: U256, block: Option<BlockId>) -> RpcResult {
        let value = self.node.storage_at(address, slot, self.block_ref(block)?)?;
        ok(B256::from(value))
    }

    fn get_transaction_count(&self, address: Address, block: Option<BlockId>) -> RpcResult {
        Ok(quantity(
            self.node.account_at(address, self.block_ref(block)?)?.nonce,
        ))
    }

    fn fee_history(&self, count: u64, newest: BlockNumberOrTag, percentiles: Option<Vec<f64>>) -> RpcResult {
        let newest = self.tag_number(newest).min(self.node.head().number);
        if newest < self.node.first_block() {
            return Err(NodeError::BlockNotFound.into());
        }
        let count = count.min(1024).min(newest + 1 - self.node.first_block());
        let oldest = newest + 1 - count;
        let blocks: Vec<&Block> = (oldest..=newest).filter_map(|n| self.node.block(n)).collect();
        let base_fee = u128::from(self.node.base_fee());
        let reward = percentiles.map(|percentiles| {
            blocks
                .iter()
                .map(|block| self.block_rewards(block, &percentiles))
                .collect()
        });
        ok(FeeHistory {
            base_fee_per_gas: vec![base_fee; blocks.len() + 1],
            gas_used_ratio: blocks
                .iter()
                .map(|b| b.header.gas_used as f64 / b.header.gas_limit as f64)
                .collect(),
            // No blobs: the blob base fee stays at its minimum, one wei.
            base_fee_per_blob_gas: vec![1; blocks.len() + 1],
            blob_gas_used_ratio: vec![0.0; blocks.len()],
            oldest_block: oldest,
            reward,
        })
    }

    /// The priority fee paid at each gas percentile of `block` (as Anvil: transactions sorted by tip, the
    /// tip of the one in which the percentile's gas falls; 0 for an empty block).
    fn block_rewards(&self, block: &Block, percentiles: &[f64]) -> Vec<u128> {
        let mut tips: Vec<(u64, u128)> = block
            .transactions
            .iter()
            .filter_map(|hash| self.node.transaction(*hash))
            .filter_map(|(tx, receipt)| {
                let tip = tx
                    .envelope
                    .effective_tip_per_gas(self.node.base_fee())
                    .unwrap_or_default();
                receipt.map(|r| (r.gas_used, tip))
            })
            .collect();
        tips.sort_by_key(|(_, tip)| *tip);
        percentiles
            .iter()
            .map(|percentile| {
                let target = (percentile * block.header.gas_used as f64 / 100.0) as u64;
                let mut gas = 0u64;
                tips.iter()
                    .find(|(used, _)| {
                        gas += used;
                        target <= gas
                    })
                    .map_or(0, |(_, tip)| *tip)
            })
            .collect()
    }

    // --- calls ---------------------------------------------------------------------------------------------

    fn call_request(request: &TransactionRequest) -> CallRequest {
        CallRequest {
            from: request.from,
            to: match request.to {
                Some(TxKind::Call(to)) => Some(to),
                _ => None,
            },
            gas: request.gas,
            gas_price: request.gas_price.or(request.max_fee_per_gas),
            max_priority_fee_per_gas: request.max_priority_fee_per_gas,
            value: request.value,
            input: request.input.input().cloned().unwrap_or_default(),
            access_list: request.access_list.clone(),
        }
    }

    fn overrides(overrides: Option<StateOverride>) -> Vec<(Address, AccountOverride)> {
        let to_slots = |map: alloy_primitives::map::B256HashMap<B256>| -> Vec<(U256, U256)> {
            map.into_iter().map(|(k, v)| (k.into(), v.into())).collect()
        };
        overrides
            .unwrap_or_default()
            .into_iter()
            .map(|(address, o)| {
                (
                    address,
                    AccountOverride {
                        balance: o.balance,
                        nonce: o.nonce,
                        code: o.code,
                        state: o.state.map(to_slots),
                        state_diff: o.state_diff.map(to_slots),
                    },
                )
            })
            .collect()
    }

    fn call(
        &mut self,
        request: &TransactionRequest,
        block: Option<BlockId>,
        overrides: Option<StateOverride>,
    ) -> RpcResult {
        let block = self.block_ref(block)?;
        let result = self
            .node
            .call_at(&Self::call_request(request), block, &Self::overrides(overrides))?;
        use revm::context::result::ExecutionResult as E;
        match result {
            E::Success { output, .. } => ok(output.into_data()),
            E::Revert { output, .. } => Err(RpcError::revert(&output)),
            E::Halt { reason, .. } => Err(RpcError::new(
                super::error::INTERNAL_ERROR,
                format!("EVM error {}", crate::node::halt_name(&reason)),
            )),
        }
    }

    fn estimate_gas(
        &mut self,
        request: &TransactionRequest,
        block: Option<BlockId>,
        overrides: Option<StateOverride>,
    ) -> RpcResult {
        let block = match block {
            None => BlockRef::Pending,
            some => self.block_ref(some)?,
        };
        let gas = self
            .node
            .estimate_gas(&Self::call_request(request), block, &Self::overrides(overrides))?;
        Ok(quantity(gas))
    }

    // --- transactions --------------------------------------------------------------------------------------

    fn send_raw_transaction(&mut self, raw: &[u8]) -> RpcResult {
        if raw.is_empty() {
            return Err(RpcError::invalid_params("Empty transaction data"));
        }
        let tx = Devnode::decode_raw(raw)?;
        ok(self.node.submit(tx)?)
    }

    fn send_transaction(&mut self, request: TransactionRequest) -> RpcResult {
        let from = match request.from {
            Some(from) => from,
            None => *self
                .node
                .accounts()
                .first()
                .ok_or_else(|| RpcError::invalid_params("No Signer available"))?,
        };
        if !self.node.can_send_from(from) {
            return Err(NodeError::UnknownSender(from).into());
        }
        let chain_id = self.node.chain_id();
        let nonce = request.nonce.unwrap_or_else(|| self.node.pending_nonce(from));
        let to = request.to.unwrap_or(TxKind::Create);
        let value = request.value.unwrap_or_default();
        let input = request.input.input().cloned().unwrap_or_default();
        let gas_limit = match request.gas {
            Some(gas) => gas,
            None => {
                let mut call = Self::call_request(&request);
                call.from = Some(from);
                self.node.estimate_gas(&call, BlockRef::Pending, &[])?
            }
        };
        let base_fee = u128::from(self.node.base_fee());
        let tx = match (request.gas_price, request.max_fee_per_gas) {
            (Some(gas_price), None) => match request.access_list {
                Some(access_list) => TypedTx::Eip2930(TxEip2930 {
                    chain_id,
                    nonce,
                    gas_price,
                    gas_limit,
                    to,
                    value,
                    access_list,
                    input,
                }),
                None => TypedTx::Legacy(TxLegacy {
                    chain_id: Some(chain_id),
                    nonce,
                    gas_price,
                    gas_limit,
                    to,
                    value,
                    input,
                }),
            },
            (_, max_fee) => {
                let priority = request.max_priority_fee_per_gas.unwrap_or(0);
                TypedTx::Eip1559(TxEip1559 {
                    chain_id,
                    nonce,
                    gas_limit,
                    max_fee_per_gas: max_fee.unwrap_or(base_fee + priority),
                    max_priority_fee_per_gas: priority,
                    to,
                    value,
                    access_list: request.access_list.unwrap_or_default(),
                    input,
                })
            }
        };
        ok(self.node.send_typed(from, tx)?)
    }

    fn get_transaction_by_hash(&self, hash: B256) -> RpcResult {
        match self.node.transaction(hash) {
            Some((tx, receipt)) => Ok(self.tx_json(tx, receipt)),
            None => Ok(Value::Null),
        }
    }

    fn transaction_in(&self, block: Option<B256>, index: u64) -> RpcResult {
        let hash = block
            .and_then(|hash| self.node.block_by_hash(hash))
            .and_then(|block| block.transactions.get(usize::try_from(index).ok()?).copied());
        match hash {
            Some(hash) => self.get_transaction_by_hash(hash),
            None => Ok(Value::Null),
        }
    }

    /// A transaction as Anvil shows it: alloy's shape plus the block's timestamp (a hex quantity).
    fn tx_json(&self, tx: &StoredTx, receipt: Option<&Receipt>) -> Value {
        let mut json =
            serde_json::to_value(rpc_transaction(tx, receipt, self.node.base_fee())).unwrap_or_default();
        if let (Some(receipt), Value::Object(map)) = (receipt, &mut json) {
            if let Some(block) = self.node.block(receipt.block_number) {
                map.insert("blockTimestamp".into(), quantity(block.timestamp));
            }
        }
        json
    }

    /// A receipt as Anvil shows it: alloy's shape plus the block's timestamp (a JSON number).
    fn receipt_json(&self, receipt: &Receipt) -> Value {
        let timestamp = self.node.block(receipt.block_number).map(|b| b.timestamp);
        let mut json = serde_json::to_value(rpc_receipt(receipt, timestamp)).unwrap_or_default();
        if let (Some(timestamp), Value::Object(map)) = (timestamp, &mut json) {
            map.insert("blockTimestamp".into(), Value::from(timestamp));
        }
        json
    }

    fn get_transaction_receipt(&self, hash: B256) -> RpcResult {
        match self.node.receipt(hash) {
            Some(receipt) => Ok(self.receipt_json(receipt)),
            None => Ok(Value::Null),
        }
    }

    // --- blocks --------------------------------------------------------------------------------------------

    fn rpc_block(&self, block: &Block, full: bool) -> Value {
        let envelopes: Vec<TxEnvelope> = block
            .transactions
            .iter()
            .filter_map(|hash| self.node.transaction(*hash))
            .map(|(tx, _)| tx.envelope.clone())
            .collect();
        // The size of the block's RLP: header, transactions, no ommers (and, as Anvil counts it, no
        // withdrawals list).
        let size = alloy_rlp::Encodable::length(&alloy_consensus::Block {
            header: block.header.clone(),
            body: alloy_consensus::BlockBody {
                transactions: envelopes,
                ommers: Vec::<alloy_consensus::Header>::new(),
                withdrawals: None,
            },
        });
        let rpc: RpcBlock = RpcBlock {
            header: RpcHeader {
                hash: block.hash,
                inner: block.header.clone(),
                total_difficulty: Some(U256::ZERO),
                size: Some(U256::from(size)),
            },
            uncles: Vec::new(),
            transactions: BlockTransactions::Hashes(block.transactions.clone()),
            withdrawals: Some(Default::default()),
        };
        let mut json = serde_json::to_value(rpc).unwrap_or_default();
        if full {
            let txs: Vec<Value> = block
                .transactions
                .iter()
                .filter_map(|hash| self.node.transaction(*hash))
                .map(|(tx, receipt)| self.tx_json(tx, receipt))
                .collect();
            if let Value::Object(map) = &mut json {
                map.insert("transactions".into(), Value::Array(txs));
            }
        }
        json
    }

    fn get_block_by_number(&mut self, number: BlockNumberOrTag, full: bool) -> RpcResult {
        if number == BlockNumberOrTag::Pending {
            let header = self.node.pending_header();
            let block = Block {
                number: header.number,
                timestamp: header.timestamp,
                hash: header.hash_slow(),
                transactions: Vec::new(),
                header,
            };
            return Ok(self.rpc_block(&block, full));
        }
        let number = self.tag_number(number);
        match self.node.block(number) {
            Some(block) => Ok(self.rpc_block(block, full)),
            None => Ok(Value::Null),
        }
    }

    fn get_block_by_hash(&self, hash: B256, full: bool) -> RpcResult {
        match self.node.block_by_hash(hash) {
            Some(block) => Ok(self.rpc_block(block, full)),
            None => Ok(Value::Null),
        }
    }

    fn get_block_receipts(&self, block: BlockId) -> RpcResult {
        let number = match self.block_ref(Some(block)) {
            Ok(BlockRef::Pending) => self.node.head().number,
            Ok(other) => self.node.block_number(other),
            Err(_) => return Ok(Value::Null),
        };
        let Some(block) = self.node.block(number) else {
            return Ok(Value::Null);
        };
        let receipts: Vec<Value> = block
            .transactions
            .iter()
            .filter_map(|hash| self.node.receipt(*hash))
            .map(|r| self.receipt_json(r))
            .collect();
        ok(receipts)
    }

    fn get_block_transaction_count(&self, number: BlockNumberOrTag) -> RpcResult {
        let number = self.tag_number(number);
        match self.node.block(number) {
            Some(block) => Ok(quantity(block.transactions.len() as u64)),
            None => Ok(Value::Null),
        }
    }

    // --- logs and filters ----------------------------------------------------------------------------------

    fn logs_in(&self, filter: &Filter, from: u64, to: u64) -> Vec<RpcLog> {
        let mut logs = Vec::new();
        for number in from..=to {
            let Some(block) = self.node.block(number) else {
                continue;
            };
            if !filter.matches_bloom(block.header.logs_bloom) {
                continue;
            }
            for hash in &block.transactions {
                let Some(receipt) = self.node.receipt(*hash) else {
                    continue;
                };
                for log in rpc_logs(receipt, Some(block.timestamp)) {
                    if filter.matches_address(log.address()) && filter.matches_topics(log.topics()) {
                        logs.push(log);
                    }
                }
            }
        }
        logs
    }

    fn get_logs(&self, filter: &Filter) -> RpcResult {
        let (from, to) = match filter.block_option {
            FilterBlockOption::AtBlockHash(hash) => {
                let block = self
                    .node
                    .block_by_hash(hash)
                    .ok_or_else(|| RpcError::from(NodeError::BlockNotFound))?;
                (block.number, block.number)
            }
            FilterBlockOption::Range { from_block, to_block } => {
                let head = self.node.head().number;
                let from = from_block.map_or(head, |tag| self.tag_number(tag));
                let to = to_block.map_or(head, |tag| self.tag_number(tag));
                if from > to {
                    return ok(Vec::<RpcLog>::new());
                }
                if from > head {
                    return Err(RpcError::invalid_params(format!(
                        "BlockOutOfRangeError: block height is {head} but requested was {from}"
                    )));
                }
                (from, to.min(head))
            }
        };
        ok(self.logs_in(filter, from.max(self.node.first_block()), to))
    }

    fn add_filter(&mut self, filter: PollFilter) -> RpcResult {
        let id = U256::from(self.next_filter);
        self.next_filter += 1;
        self.filters.insert(id, filter);
        ok(id)
    }

    fn new_filter(&mut self, filter: Box<Filter>) -> RpcResult {
        let next_block = match filter.block_option {
            FilterBlockOption::Range {
                from_block: Some(tag),
                ..
            } => self.tag_number(tag),
            _ => self.node.head().number + 1,
        };
        self.add_filter(PollFilter::Logs { filter, next_block })
    }

    fn new_block_filter(&mut self) -> RpcResult {
        let next_block = self.node.head().number + 1;
        self.add_filter(PollFilter::Blocks { next_block })
    }

    fn get_filter_changes(&mut self, id: U256) -> RpcResult {
        let head = self.node.head().number;
        let filter = self
            .filters
            .get(&id)
            .cloned()
            .ok_or_else(|| RpcError::invalid_params("filter not found"))?;
        let (result, next) = match &filter {
            PollFilter::Logs { filter, next_block } => {
                let to = match filter.block_option {
                    FilterBlockOption::Range {
                        to_block: Some(tag), ..
                    } => self.tag_number(tag).min(head),
                    _ => head,
                };
                (ok(self.logs_in(filter, *next_block, to))?, head + 1)
            }
            PollFilter::Blocks { next_block } => {
                let hashes: Vec<B256> = (*next_block..=head)
                    .filter_map(|n| self.node.block(n).map(|b| b.hash))
                    .collect();
                (ok(hashes)?, head + 1)
            }
        };
        if let Some(filter) = self.filters.get_mut(&id) {
            match filter {
                PollFilter::Logs { next_block, .. } | PollFilter::Blocks { next_block } => *next_block = next,
            }
        }
        Ok(result)
    }

    fn get_filter_logs(&self, id: U256) -> RpcResult {
        match self.filters.get(&id) {
            Some(PollFilter::Logs { filter, .. }) => self.get_logs(filter),
            _ => Err(RpcError::invalid_params("filter not found")),
        }
    }

    // --- mining --------------------------------------------------------------------------------------------

    fn mine(&mut self, blocks: u64, interval: Option<u64>) -> RpcResult {
        for index in 0..blocks {
            if let (Some(interval), true) = (interval, index > 0) {
                let next = self.node.head().timestamp + interval;
                self.node.set_next_block_timestamp(next);
            }
            self.node.mine();
        }
        Ok(Value::Null)
    }

    fn evm_mine(&mut self, options: Option<MineOptions>) -> RpcResult {
        let (timestamp, blocks) = match options {
            None => (None, 1),
            Some(MineOptions::Timestamp(t)) => (Some(t.0), 1),
            Some(MineOptions::Options { timestamp, blocks }) => {
                (timestamp.map(|t| t.0), blocks.map_or(1, |b| b.0))
            }
        };
        if let Some(timestamp) = timestamp {
            self.set_next_timestamp(timestamp)?;
        }
        for _ in 0..blocks {
            self.node.mine();
        }
        Ok(Value::String("0x0".to_owned()))
    }

    /// Sets the next block's timestamp, which must be after the latest block's.
    fn set_next_timestamp(&mut self, timestamp: u64) -> Result<(), RpcError> {
        if timestamp <= self.node.head().timestamp {
            return Err(RpcError::invalid_params(format!(
                "Timestamp error: {timestamp} is lower than or equal to previous block's timestamp"
            )));
        }
        self.node.set_next_block_timestamp(timestamp);
        Ok(())
    }
}

fn response(id: Value, result: RpcResult) -> Value {
    match result {
        Ok(result) => json!({ "jsonrpc": "2.0", "id": id, "result": result }),
        Err(error) => json!({ "jsonrpc": "2.0", "id": id, "error": error.to_json() }),
    }
}

fn rpc_transaction(tx: &StoredTx, receipt: Option<&Receipt>, base_fee: u64) -> RpcTransaction {
    // The stored hash is authoritative (an impersonated sender's transaction hashes differently).
    let envelope = with_hash(tx.envelope.clone(), tx.hash);
    RpcTransaction {
        effective_gas_price: receipt.map(|_| envelope.effective_gas_price(Some(base_fee))),
        inner: Recovered::new_unchecked(envelope, tx.from),
        block_hash: receipt.map(|r| r.block_hash),
        block_number: receipt.map(|r| r.block_number),
        transaction_index: receipt.map(|r| r.transaction_index),
    }
}

fn with_hash(envelope: TxEnvelope, hash: B256) -> TxEnvelope {
    if *envelope.tx_hash() == hash {
        return envelope;
    }
    match envelope {
        TxEnvelope::Legacy(s) => {
            let (tx, sig, _) = s.into_parts();
            TxEnvelope::Legacy(Signed::new_unchecked(tx, sig, hash))
        }
        TxEnvelope::Eip2930(s) => {
            let (tx, sig, _) = s.into_parts();
            TxEnvelope::Eip2930(Signed::new_unchecked(tx, sig, hash))
        }
        TxEnvelope::Eip1559(s) => {
            let (tx, sig, _) = s.into_parts();
            TxEnvelope::Eip1559(Signed::new_unchecked(tx, sig, hash))
        }
        other => other,
    }
}

fn rpc_logs(receipt: &Receipt, timestamp: Option<u64>) -> Vec<RpcLog> {
    receipt
        .logs
        .iter()
        .zip(receipt.first_log_index..)
        .map(|(log, index)| RpcLog {
            inner: log.clone(),
            block_hash: Some(receipt.block_hash),
            block_number: Some(receipt.block_number),
            block_timestamp: timestamp,
            transaction_hash: Some(receipt.transaction_hash),
            transaction_index: Some(receipt.transaction_index),
            log_index: Some(index),
            removed: false,
        })
        .collect()
}

fn rpc_receipt(receipt: &Receipt, timestamp: Option<u64>) -> TransactionReceipt {
    TransactionReceipt {
        inner: receipt.envelope_with_logs(rpc_logs(receipt, timestamp)),
        transaction_hash: receipt.transaction_hash,
        transaction_index: Some(receipt.transaction_index),
        block_hash: Some(receipt.block_hash),
        block_number: Some(receipt.block_number),
        gas_used: receipt.gas_used,
        effective_gas_price: receipt.effective_gas_price,
        blob_gas_used: None,
        // The blob base fee, at its minimum (as Anvil reports it for every receipt).
        blob_gas_price: Some(1),
        from: receipt.from,
        to: receipt.to,
        contract_address: receipt.contract_address,
    }
}
