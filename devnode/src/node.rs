//! The chain around the execution core: blocks, a transaction pool, funded dev accounts and impersonated
//! ones, signed transactions with sender recovery, receipts and logs, the state of recent blocks, snapshots,
//! time control, state overrides for calls, gas estimation, and dumping and loading the state.
//!
//! By default the node mines a block as soon as a transaction is ready ("automine"), one block per
//! transaction; a transaction whose nonce is ahead of its sender's waits in the pool until the gap is
//! filled. With automine off ([`Devnode::set_automine`]), transactions wait until [`Devnode::mine`], which
//! the RPC server calls on its block-time interval.

use std::{
    collections::{BTreeMap, HashMap, HashSet, VecDeque},
    rc::Rc,
};

use alloy_consensus::{
    proofs, transaction::SignerRecoverable, Eip658Value, Header, ReceiptEnvelope, ReceiptWithBloom,
    SignableTransaction, Transaction as _, TxEip1559, TxEip2930, TxEnvelope, TxLegacy, EMPTY_OMMER_ROOT_HASH,
};
use alloy_eips::{
    eip2718::{Decodable2718, Encodable2718},
    eip2930::AccessList,
    Typed2718,
};
use alloy_primitives::{
    keccak256, logs_bloom, Address, Bloom, Bytes, Log, Signature, TxKind, B256, B64, U256,
};
use alloy_signer::SignerSync;
use alloy_signer_local::{coins_bip39::English, MnemonicBuilder, PrivateKeySigner};
use revm::{
    bytecode::Bytecode,
    context::{
        result::{EVMError, ExecutionResult, InvalidTransaction},
        TxEnv,
    },
    context_interface::ContextTr,
    database::{AccountState, DatabaseRef},
    handler::{ExecuteCommitEvm, ExecuteEvm},
    primitives::hardfork::SpecId,
    state::AccountInfo,
};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::{
    arb,
    stylus::{instructions, new_context, DevDb, DevEvm, StylusConfig, StylusPrecompiles, StylusRuntime},
};

/// Anvil's default mnemonic: the dev accounts are its first [`DevnodeConfig::dev_accounts`] keys.
pub const DEV_MNEMONIC: &str = "test test test test test test test test test test test junk";

/// The funded key of nitro's devnode, funded here too so scripts written for it run unchanged.
pub const NITRO_DEV_KEY: &str = "0xb6b15c8cb491557369f3c7d2c287b053eb229daa9c22138887752191c9520659";

/// The signature given to transactions sent from impersonated accounts (they have no key): `r = s = 0`,
/// as Anvil signs them.
const IMPERSONATED_SIGNATURE: Signature = Signature::new(U256::ZERO, U256::ZERO, false);

/// The hash of a transaction from an impersonated account, as Anvil computes it: the keccak of its network
/// encoding (for a typed transaction, the RLP string around type and payload) followed by the sender.
fn impersonated_hash(envelope: &TxEnvelope, from: Address) -> B256 {
    let mut preimage = Vec::with_capacity(envelope.encode_2718_len() + 24);
    alloy_rlp::Encodable::encode(envelope, &mut preimage);
    preimage.extend_from_slice(from.as_slice());
    keccak256(preimage)
}

/// How the node is set up.
#[derive(Debug, Clone)]
pub struct DevnodeConfig {
    /// Chain id (nitro's devnode: 412,346).
    pub chain_id: u64,
    /// Number of dev accounts derived from [`DEV_MNEMONIC`].
    pub dev_accounts: u32,
    /// Balance of each dev account, in wei.
    pub balance: U256,
    /// Block gas limit.
    pub block_gas_limit: u64,
    /// Base fee of every block, in wei (fixed, as on an idle Arbitrum chain: no EIP-1559 adjustment).
    pub base_fee: u64,
    /// Timestamp of the genesis block, in seconds.
    pub genesis_timestamp: u64,
    /// Block timestamps follow the wall clock (plus any `evm_increaseTime` offset) instead of advancing one
    /// second per block from the genesis timestamp.
    pub wall_clock: bool,
    /// How many recent blocks' states are kept for calls and queries at a past block.
    pub history: usize,
    /// Gas limit of an `eth_call` or `eth_estimateGas` that gives none (nitro's default RPC gas cap).
    pub call_gas_cap: u64,
    /// Run Stylus programs that were never activated.
    pub auto_activate: bool,
    /// Print the programs' `console` output to standard error.
    pub print_console: bool,
}

impl Default for DevnodeConfig {
    fn default() -> Self {
        Self {
            chain_id: 412_346,
            dev_accounts: 10,
            balance: U256::from(10_000u64) * U256::from(10u64).pow(U256::from(18u64)),
            block_gas_limit: 1_125_899_906_842_624,
            base_fee: 100_000_000,
            genesis_timestamp: 1_700_000_000,
            wall_clock: false,
            history: 256,
            call_gas_cap: 50_000_000,
            auto_activate: false,
            print_console: false,
        }
    }
}

/// A mined block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// Block number.
    pub number: u64,
    /// Timestamp, in seconds.
    pub timestamp: u64,
    /// Block hash: the keccak of the RLP header (whose state root is zero: see `docs/DEVNODE.md`).
    pub hash: B256,
    /// Hashes of the block's transactions, in order.
    pub transactions: Vec<B256>,
    /// The header.
    pub header: Header,
}

/// The receipt of a mined transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// Transaction hash.
    pub transaction_hash: B256,
    /// Position of the transaction in its block.
    pub transaction_index: u64,
    /// Block it was mined in.
    pub block_number: u64,
    /// Hash of that block.
    pub block_hash: B256,
    /// Sender.
    pub from: Address,
    /// Recipient (`None` for a contract creation).
    pub to: Option<Address>,
    /// Address of the created contract, if any and if the creation succeeded.
    pub contract_address: Option<Address>,
    /// Whether the transaction succeeded.
    pub status: bool,
    /// Gas used, refunds deducted.
    pub gas_used: u64,
    /// Gas used by the block up to and including this transaction.
    pub cumulative_gas_used: u64,
    /// Price paid per gas, in wei.
    pub effective_gas_price: u128,
    /// EIP-2718 type of the transaction.
    pub tx_type: u8,
    /// Logs emitted (none if it failed).
    pub logs: Vec<Log>,
    /// Block-wide index of the first log.
    pub first_log_index: u64,
    /// Return or revert data.
    pub output: Bytes,
}

impl Receipt {
    /// The consensus receipt (what the block's receipts root commits to).
    pub fn envelope(&self) -> ReceiptEnvelope {
        self.envelope_with_logs(self.logs.clone())
    }

    /// The consensus receipt with its logs in another shape (the RPC's logs carry block and index fields);
    /// the bloom is the logs'.
    pub fn envelope_with_logs<T>(&self, logs: Vec<T>) -> ReceiptEnvelope<T> {
        let receipt = alloy_consensus::Receipt {
            status: Eip658Value::Eip658(self.status),
            cumulative_gas_used: self.cumulative_gas_used,
            logs,
        };
        let with_bloom = ReceiptWithBloom::new(receipt, logs_bloom(self.logs.iter()));
        match self.tx_type {
            0 => ReceiptEnvelope::Legacy(with_bloom),
            1 => ReceiptEnvelope::Eip2930(with_bloom),
            _ => ReceiptEnvelope::Eip1559(with_bloom),
        }
    }
}

/// A transaction the node holds: signed (or, from an impersonated account, with a placeholder signature).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTx {
    /// The transaction.
    pub envelope: TxEnvelope,
    /// Its sender.
    pub from: Address,
    /// Its hash (for an impersonated sender: the keccak of the encoding followed by the sender).
    pub hash: B256,
}

impl StoredTx {
    fn nonce(&self) -> u64 {
        self.envelope.nonce()
    }
}

/// A transaction before signing: what [`Devnode::call`] and [`Devnode::send`] take.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TxRequest {
    /// Sender.
    pub from: Address,
    /// Recipient; `None` creates a contract from `input`.
    pub to: Option<Address>,
    /// Value, in wei.
    pub value: U256,
    /// Call data or init code.
    pub input: Bytes,
    /// Gas limit; `None` means 30,000,000.
    pub gas_limit: Option<u64>,
}

/// A call as `eth_call` and `eth_estimateGas` take it: every field optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallRequest {
    /// Sender (zero address if absent).
    pub from: Option<Address>,
    /// Recipient; `None` runs `input` as init code.
    pub to: Option<Address>,
    /// Gas limit ([`DevnodeConfig::call_gas_cap`] if absent).
    pub gas: Option<u64>,
    /// Price per gas: the legacy gas price or the EIP-1559 fee cap (zero if absent: a free call).
    pub gas_price: Option<u128>,
    /// EIP-1559 priority fee.
    pub max_priority_fee_per_gas: Option<u128>,
    /// Value, in wei.
    pub value: Option<U256>,
    /// Call data or init code.
    pub input: Bytes,
    /// Access list.
    pub access_list: Option<AccessList>,
}

/// What a state override sets for one account (`eth_call`'s third parameter).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountOverride {
    /// New balance.
    pub balance: Option<U256>,
    /// New nonce.
    pub nonce: Option<u64>,
    /// New code.
    pub code: Option<Bytes>,
    /// Replaces the whole storage.
    pub state: Option<Vec<(U256, U256)>>,
    /// Sets these slots, keeping the others.
    pub state_diff: Option<Vec<(U256, U256)>>,
}

/// Which state a query or call runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockRef {
    /// The latest block (and any changes made since by the `anvil_set*` methods).
    Latest,
    /// The block being built: the latest state, on the next block's number and timestamp.
    Pending,
    /// A mined block, by number.
    Number(u64),
}

/// Why the node refused a transaction, call or query (a transaction that runs and fails gets a receipt
/// instead).
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum NodeError {
    /// The raw transaction does not decode.
    #[error("failed to decode signed transaction: {0}")]
    Decode(String),
    /// The signature does not recover to a sender.
    #[error("invalid signature: {0}")]
    Signature(String),
    /// Blob and EIP-7702 transactions are not supported.
    #[error("unsupported transaction type {0}")]
    UnsupportedType(u8),
    /// The transaction is for another chain.
    #[error("invalid chain id for signer")]
    ChainId {
        /// The transaction's chain id.
        got: u64,
        /// The node's.
        expected: u64,
    },
    /// The nonce is below the sender's.
    #[error("nonce too low")]
    NonceTooLow {
        /// The transaction's nonce.
        tx: u64,
        /// The sender's.
        state: u64,
    },
    /// The nonce is above the sender's (only where a transaction cannot wait, as in [`Devnode::send_raw`]).
    #[error("nonce too high")]
    NonceTooHigh {
        /// The transaction's nonce.
        tx: u64,
        /// The sender's.
        state: u64,
    },
    /// The sender cannot pay `gas limit × fee cap + value`.
    #[error("Insufficient funds for gas * price + value")]
    InsufficientFunds,
    /// The gas limit is below the intrinsic gas (or the EIP-7623 floor).
    #[error("intrinsic gas too low")]
    GasTooLow,
    /// The gas limit is above the block gas limit (a transaction), or below the intrinsic gas (a call:
    /// Anvil's wording, naming revm's check).
    #[error("intrinsic gas too high -- {0}")]
    GasTooHigh(&'static str),
    /// The fee cap is below the base fee.
    #[error("max fee per gas less than block base fee")]
    FeeCapTooLow,
    /// The priority fee is above the fee cap.
    #[error("max priority fee per gas higher than max fee per gas")]
    TipAboveFeeCap,
    /// The sender has code (EIP-3607).
    #[error("sender not an eoa")]
    SenderNoEoa,
    /// The same transaction is already in the pool or mined.
    #[error("transaction already imported")]
    AlreadyImported,
    /// Any other rejection by the EVM.
    #[error("{0}")]
    Invalid(String),
    /// No dev key for the sender of an unsigned request, and it is not impersonated.
    #[error("no signer available for {0}")]
    UnknownSender(Address),
    /// The transaction was accepted but not mined (its nonce is ahead, or automine is off).
    #[error("transaction {0} is pending")]
    Pending(B256),
    /// The block is not known (never mined, or older than the kept history).
    #[error("block not found")]
    BlockNotFound,
    /// The state of that block is no longer kept.
    #[error("state of block {0} is not available (only the last blocks' states are kept)")]
    StateUnavailable(u64),
    /// The call runs out of gas at every gas limit the estimate may use.
    #[error("Out of gas: gas required exceeds allowance: {0}")]
    OutOfGasEstimate(u64),
    /// The call reverts (`eth_call` and `eth_estimateGas`), with its revert data.
    #[error("execution reverted")]
    Reverted(Bytes),
    /// The call halts for a reason other than running out of gas.
    #[error("EVM error {0}")]
    Halted(String),
    /// A state file or dump is malformed.
    #[error("invalid state: {0}")]
    State(String),
}

impl NodeError {
    fn from_evm<E: std::fmt::Display>(error: EVMError<E>) -> Self {
        match error {
            EVMError::Transaction(invalid) => match invalid {
                InvalidTransaction::NonceTooLow { tx, state } => Self::NonceTooLow { tx, state },
                InvalidTransaction::NonceTooHigh { tx, state } => Self::NonceTooHigh { tx, state },
                InvalidTransaction::LackOfFundForMaxFee { .. }
                | InvalidTransaction::OverflowPaymentInTransaction => Self::InsufficientFunds,
                InvalidTransaction::CallGasCostMoreThanGasLimit { .. }
                | InvalidTransaction::GasFloorMoreThanGasLimit { .. } => Self::GasTooLow,
                InvalidTransaction::CallerGasLimitMoreThanBlock
                | InvalidTransaction::TxGasLimitGreaterThanCap { .. } => {
                    Self::GasTooHigh("tx.gas_limit > env.block.gas_limit")
                }
                InvalidTransaction::GasPriceLessThanBasefee => Self::FeeCapTooLow,
                InvalidTransaction::PriorityFeeGreaterThanMaxFee => Self::TipAboveFeeCap,
                InvalidTransaction::RejectCallerWithCode => Self::SenderNoEoa,
                other => Self::Invalid(other.to_string()),
            },
            other => Self::Invalid(other.to_string()),
        }
    }
}

/// The parts of the chain that snapshots save and restore (with the state).
#[derive(Debug, Clone)]
struct Chain {
    /// Mined blocks; `blocks[i].number == first_block + i`.
    blocks: Vec<Block>,
    first_block: u64,
    block_numbers: HashMap<B256, u64>,
    transactions: HashMap<B256, (StoredTx, Receipt)>,
    pool: Vec<StoredTx>,
    /// States after recent blocks (the latest block's is the live state).
    /// (Shared, so that a snapshot of the chain does not copy them.)
    history: VecDeque<(u64, Rc<DevDb>)>,
    /// Seconds added to the wall clock by `evm_increaseTime` (wall-clock mode), or to the next block's
    /// timestamp (deterministic mode).
    time_offset: i64,
    next_timestamp: Option<u64>,
}

/// A saved chain: `evm_snapshot` / `evm_revert`.
#[derive(Debug, Clone)]
struct Snapshot {
    chain: Chain,
    db: DevDb,
}

/// The block being built.
#[derive(Debug, Clone, Copy)]
struct PendingBlock {
    number: u64,
    timestamp: u64,
}

/// The dev chain.
#[derive(Debug)]
pub struct Devnode {
    evm: DevEvm,
    config: DevnodeConfig,
    signers: Vec<PrivateKeySigner>,
    impersonated: HashSet<Address>,
    automine: bool,
    chain: Chain,
    snapshots: BTreeMap<u64, Snapshot>,
    next_snapshot: u64,
    pending: Option<PendingBlock>,
}

const SPEC: SpecId = SpecId::PRAGUE;
const DEFAULT_GAS: u64 = 30_000_000;

fn now_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

impl Devnode {
    /// A node with the default configuration.
    pub fn new() -> Self {
        Self::with_config(DevnodeConfig::default())
    }

    /// A node with `config`: genesis with the funded dev accounts and the Arbitrum precompiles' accounts.
    pub fn with_config(config: DevnodeConfig) -> Self {
        let runtime = StylusRuntime::new(StylusConfig {
            auto_activate: config.auto_activate,
            print_console: config.print_console,
        });
        let mut ctx = new_context(SPEC);
        ctx.cfg.chain_id = config.chain_id;
        ctx.cfg.limit_contract_code_size = Some(crate::program::MAX_CODE_SIZE);
        // As in Anvil: accounts given code by `anvil_setCode`, or impersonated contracts, may send.
        ctx.cfg.disable_eip3607 = true;
        let mut signers = Vec::new();
        for index in 0..config.dev_accounts {
            // The mnemonic and the derivation path are constants: derivation cannot fail.
            if let Ok(signer) = MnemonicBuilder::<English>::default()
                .phrase(DEV_MNEMONIC)
                .index(index)
                .and_then(|b| b.build())
            {
                signers.push(signer);
            }
        }
        if let Ok(signer) = NITRO_DEV_KEY.parse::<PrivateKeySigner>() {
            signers.push(signer);
        }
        for signer in &signers {
            ctx.journaled_state.database.insert_account_info(
                signer.address(),
                AccountInfo {
                    balance: config.balance,
                    ..Default::default()
                },
            );
        }
        // Nitro's precompile accounts hold the code 0xFE, so they are never empty.
        for address in [arb::ARB_SYS, arb::ARB_WASM, crate::deployer::STYLUS_DEPLOYER] {
            let code = Bytecode::new_raw(Bytes::from_static(&[0xFE]));
            ctx.journaled_state
                .database
                .insert_account_info(address, AccountInfo::default().with_code(code));
        }
        let evm = DevEvm::new(ctx, instructions(SPEC), StylusPrecompiles::new(SPEC, runtime));
        let genesis_timestamp = if config.wall_clock {
            now_seconds()
        } else {
            config.genesis_timestamp
        };
        let mut node = Self {
            evm,
            signers,
            impersonated: HashSet::new(),
            automine: true,
            chain: Chain {
                blocks: Vec::new(),
                first_block: 0,
                block_numbers: HashMap::new(),
                transactions: HashMap::new(),
                pool: Vec::new(),
                history: VecDeque::new(),
                time_offset: 0,
                next_timestamp: None,
            },
            snapshots: BTreeMap::new(),
            next_snapshot: 0,
            pending: None,
            config,
        };
        node.push_genesis(0, genesis_timestamp, B256::ZERO);
        node
    }

    fn push_genesis(&mut self, number: u64, timestamp: u64, parent_hash: B256) {
        let header = Header {
            parent_hash,
            number,
            gas_limit: self.config.block_gas_limit,
            timestamp,
            ..self.prague_header_fields()
        };
        let hash = header.hash_slow();
        self.chain.blocks = vec![Block {
            number,
            timestamp,
            hash,
            transactions: Vec::new(),
            header,
        }];
        self.chain.first_block = number;
        self.chain.block_numbers = HashMap::from([(hash, number)]);
        self.chain.history = VecDeque::from([(number, Rc::new(self.evm.ctx.db_ref().clone()))]);
    }

    /// The header fields every block has from Cancun and Prague on (no blobs, withdrawals or requests).
    fn prague_header_fields(&self) -> Header {
        Header {
            ommers_hash: EMPTY_OMMER_ROOT_HASH,
            transactions_root: alloy_consensus::EMPTY_ROOT_HASH,
            receipts_root: alloy_consensus::EMPTY_ROOT_HASH,
            base_fee_per_gas: Some(self.config.base_fee),
            withdrawals_root: Some(alloy_consensus::EMPTY_ROOT_HASH),
            blob_gas_used: Some(0),
            excess_blob_gas: Some(0),
            parent_beacon_block_root: Some(B256::ZERO),
            requests_hash: Some(alloy_eips::eip7685::EMPTY_REQUESTS_HASH),
            ..Default::default()
        }
    }

    /// The block being built, as a header (for the `pending` tag): no transactions yet.
    pub fn pending_header(&mut self) -> Header {
        let pending = self.pending_block();
        Header {
            parent_hash: self.head().hash,
            number: pending.number,
            gas_limit: self.config.block_gas_limit,
            timestamp: pending.timestamp,
            ..self.prague_header_fields()
        }
    }

    /// The dev accounts: the mnemonic's keys, then nitro's dev key.
    pub fn accounts(&self) -> Vec<Address> {
        self.signers.iter().map(PrivateKeySigner::address).collect()
    }

    /// The dev keys, in the order of [`Self::accounts`].
    pub fn dev_keys(&self) -> Vec<B256> {
        self.signers.iter().map(|s| B256::from(s.to_bytes())).collect()
    }

    /// The configuration.
    pub fn config(&self) -> &DevnodeConfig {
        &self.config
    }

    /// The shared Stylus runtime (module cache, options, console output).
    pub fn runtime(&self) -> &std::rc::Rc<StylusRuntime> {
        self.evm.precompiles.runtime()
    }

    /// The chain id.
    pub fn chain_id(&self) -> u64 {
        self.config.chain_id
    }

    /// The base fee of every block, in wei.
    pub fn base_fee(&self) -> u64 {
        self.config.base_fee
    }

    /// The latest block.
    pub fn head(&self) -> &Block {
        // There is always at least the first block.
        &self.chain.blocks[self.chain.blocks.len() - 1]
    }

    /// Block `number`, if mined (and not before a loaded state's first block).
    pub fn block(&self, number: u64) -> Option<&Block> {
        let index = number.checked_sub(self.chain.first_block)?;
        self.chain.blocks.get(usize::try_from(index).ok()?)
    }

    /// The block with hash `hash`.
    pub fn block_by_hash(&self, hash: B256) -> Option<&Block> {
        self.block(*self.chain.block_numbers.get(&hash)?)
    }

    /// The number of the first block this node knows (0, or the head of a loaded state).
    pub fn first_block(&self) -> u64 {
        self.chain.first_block
    }

    /// Resolves a block reference to a number (`Pending` is the next block's).
    pub fn block_number(&self, block: BlockRef) -> u64 {
        match block {
            BlockRef::Latest => self.head().number,
            BlockRef::Pending => self.head().number + 1,
            BlockRef::Number(n) => n,
        }
    }

    /// The receipt of transaction `hash`.
    pub fn receipt(&self, hash: B256) -> Option<&Receipt> {
        self.chain.transactions.get(&hash).map(|(_, r)| r)
    }

    /// Transaction `hash` and, if mined, its receipt.
    pub fn transaction(&self, hash: B256) -> Option<(&StoredTx, Option<&Receipt>)> {
        if let Some((tx, receipt)) = self.chain.transactions.get(&hash) {
            return Some((tx, Some(receipt)));
        }
        self.chain
            .pool
            .iter()
            .find(|tx| tx.hash == hash)
            .map(|tx| (tx, None))
    }

    /// The transactions waiting in the pool, in arrival order.
    pub fn pool(&self) -> &[StoredTx] {
        &self.chain.pool
    }

    /// Removes transaction `hash` from the pool (Anvil's `anvil_dropTransaction`): it will not be mined, and
    /// its sender's nonce is not used. As in Anvil, the transactions that depend on it go too: its sender's
    /// pooled transactions with the following nonces, up to the first gap. Returns its hash, or `None` if it was
    /// not waiting in the pool (unknown, dropped already, or mined).
    pub fn drop_transaction(&mut self, hash: B256) -> Option<B256> {
        let index = self.chain.pool.iter().position(|tx| tx.hash == hash)?;
        let dropped = self.chain.pool.remove(index);
        let mut next = dropped.nonce() + 1;
        while let Some(index) = self
            .chain
            .pool
            .iter()
            .position(|tx| tx.from == dropped.from && tx.nonce() == next)
        {
            self.chain.pool.remove(index);
            next += 1;
        }
        Some(dropped.hash)
    }

    /// Empties the pool (Anvil's `anvil_dropAllTransactions`).
    pub fn drop_all_transactions(&mut self) {
        self.chain.pool.clear();
    }

    /// Balance of `address`, in wei.
    pub fn balance(&self, address: Address) -> U256 {
        self.account(address).map(|a| a.balance).unwrap_or_default()
    }

    /// Nonce of `address`.
    pub fn nonce(&self, address: Address) -> u64 {
        self.account(address).map(|a| a.nonce).unwrap_or_default()
    }

    /// The nonce the next transaction of `address` should have: its nonce, plus its transactions waiting in
    /// the pool in sequence.
    pub fn pending_nonce(&self, address: Address) -> u64 {
        let mut nonce = self.nonce(address);
        while self
            .chain
            .pool
            .iter()
            .any(|tx| tx.from == address && tx.nonce() == nonce)
        {
            nonce += 1;
        }
        nonce
    }

    /// Code of `address`.
    pub fn code(&self, address: Address) -> Bytes {
        self.account(address)
            .and_then(|a| a.code)
            .map(|c| c.original_bytes())
            .unwrap_or_default()
    }

    /// Storage slot `key` of `address`.
    pub fn storage(&self, address: Address, key: U256) -> U256 {
        self.evm
            .ctx
            .db_ref()
            .storage_ref(address, key)
            .unwrap_or_default()
    }

    fn account(&self, address: Address) -> Option<AccountInfo> {
        self.evm.ctx.db_ref().basic_ref(address).ok().flatten()
    }

    /// The state after block `block` (the live state for the latest and pending blocks).
    ///
    /// # Errors
    ///
    /// [`NodeError::BlockNotFound`] for a block not mined, [`NodeError::StateUnavailable`] for one older
    /// than the kept history.
    pub fn state_at(&self, block: BlockRef) -> Result<&DevDb, NodeError> {
        let number = self.block_number(block);
        if matches!(block, BlockRef::Latest | BlockRef::Pending) || number == self.head().number {
            return Ok(self.evm.ctx.db_ref());
        }
        if number > self.head().number || number < self.chain.first_block {
            return Err(NodeError::BlockNotFound);
        }
        self.chain
            .history
            .iter()
            .find(|(n, _)| *n == number)
            .map(|(_, db)| &**db)
            .ok_or(NodeError::StateUnavailable(number))
    }

    /// Balance, nonce and code of `address` at `block`.
    ///
    /// # Errors
    ///
    /// As [`Self::state_at`].
    pub fn account_at(&self, address: Address, block: BlockRef) -> Result<AccountInfo, NodeError> {
        let db = self.state_at(block)?;
        let mut info = with_code(db, db.basic_ref(address).ok().flatten().unwrap_or_default());
        if block == BlockRef::Pending {
            info.nonce = self.pending_nonce(address);
        }
        Ok(info)
    }

    /// Storage slot `key` of `address` at `block`.
    ///
    /// # Errors
    ///
    /// As [`Self::state_at`].
    pub fn storage_at(&self, address: Address, key: U256, block: BlockRef) -> Result<U256, NodeError> {
        Ok(self
            .state_at(block)?
            .storage_ref(address, key)
            .unwrap_or_default())
    }

    // --- dev controls ------------------------------------------------------------------------------------

    /// Sets the timestamp of the next block (later blocks follow it).
    pub fn set_next_block_timestamp(&mut self, timestamp: u64) {
        self.chain.next_timestamp = Some(timestamp);
    }

    /// Moves time forward by `seconds`, returning the total offset added so far.
    pub fn increase_time(&mut self, seconds: u64) -> i64 {
        self.chain.time_offset = self
            .chain
            .time_offset
            .saturating_add(i64::try_from(seconds).unwrap_or(i64::MAX));
        self.chain.time_offset
    }

    /// Whether blocks are mined as soon as transactions are ready.
    pub fn automine(&self) -> bool {
        self.automine
    }

    /// Turns automine on or off (off: transactions wait for [`Self::mine`]).
    pub fn set_automine(&mut self, on: bool) {
        self.automine = on;
    }

    /// Lets `address` send transactions without a key (`eth_sendTransaction`), or stops letting it.
    pub fn impersonate(&mut self, address: Address, on: bool) {
        if on {
            self.impersonated.insert(address);
        } else {
            self.impersonated.remove(&address);
        }
    }

    /// Whether transactions from `address` can be sent unsigned: a dev account or an impersonated one.
    pub fn can_send_from(&self, address: Address) -> bool {
        self.impersonated.contains(&address) || self.signers.iter().any(|s| s.address() == address)
    }

    /// Sets the balance of `address`.
    pub fn set_balance(&mut self, address: Address, balance: U256) {
        self.modify_account(address, |info| info.balance = balance);
    }

    /// Sets the nonce of `address`.
    pub fn set_nonce(&mut self, address: Address, nonce: u64) {
        self.modify_account(address, |info| info.nonce = nonce);
    }

    /// Sets the code of `address`.
    pub fn set_code(&mut self, address: Address, code: Bytes) {
        self.modify_account(address, |info| {
            let bytecode = Bytecode::new_raw(code);
            info.code_hash = bytecode.hash_slow();
            info.code = Some(bytecode);
        });
    }

    /// Sets storage slot `key` of `address`.
    pub fn set_storage(&mut self, address: Address, key: U256, value: U256) {
        let db = &mut self.evm.ctx.journaled_state.database;
        // `insert_account_storage` fails only on a database error; the in-memory one has none.
        let _ = db.insert_account_storage(address, key, value);
    }

    fn modify_account(&mut self, address: Address, change: impl FnOnce(&mut AccountInfo)) {
        let mut info = with_code(self.evm.ctx.db_ref(), self.account(address).unwrap_or_default());
        change(&mut info);
        self.evm
            .ctx
            .journaled_state
            .database
            .insert_account_info(address, info);
    }

    /// Saves the chain and its state, returning the snapshot's id.
    pub fn snapshot(&mut self) -> u64 {
        let id = self.next_snapshot;
        self.next_snapshot += 1;
        self.snapshots.insert(
            id,
            Snapshot {
                chain: self.chain.clone(),
                db: self.evm.ctx.db_ref().clone(),
            },
        );
        id
    }

    /// Restores snapshot `id`, dropping it and every later snapshot; `false` if there is no such snapshot.
    pub fn revert_to(&mut self, id: u64) -> bool {
        let Some(snapshot) = self.snapshots.remove(&id) else {
            return false;
        };
        self.snapshots.retain(|&other, _| other < id);
        self.chain = snapshot.chain;
        self.evm.ctx.journaled_state.database = snapshot.db;
        self.pending = None;
        true
    }

    // --- blocks ------------------------------------------------------------------------------------------

    fn next_timestamp(&self) -> u64 {
        let parent = self.head().timestamp;
        if let Some(timestamp) = self.chain.next_timestamp {
            return timestamp;
        }
        let base = if self.config.wall_clock {
            now_seconds().saturating_add_signed(self.chain.time_offset)
        } else {
            parent
                .saturating_add(1)
                .saturating_add_signed(self.chain.time_offset)
        };
        base.max(parent + 1)
    }

    fn pending_block(&mut self) -> PendingBlock {
        if let Some(pending) = self.pending {
            return pending;
        }
        let pending = PendingBlock {
            number: self.head().number + 1,
            timestamp: self.next_timestamp(),
        };
        self.pending = Some(pending);
        pending
    }

    /// Sets the EVM's block environment to block `number`/`timestamp`.
    fn set_block_env(&mut self, number: u64, timestamp: u64) {
        let block = &mut self.evm.ctx.block;
        block.number = U256::from(number);
        block.timestamp = U256::from(timestamp);
        block.gas_limit = self.config.block_gas_limit;
        block.basefee = self.config.base_fee;
        block.prevrandao = Some(B256::ZERO);
        block.beneficiary = Address::ZERO;
    }

    fn prepare_block(&mut self) -> PendingBlock {
        let pending = self.pending_block();
        self.runtime().begin_block();
        self.set_block_env(pending.number, pending.timestamp);
        let cfg = &mut self.evm.ctx.cfg;
        cfg.disable_base_fee = false;
        cfg.disable_nonce_check = false;
        pending
    }

    /// Mines a block with every ready transaction in the pool (possibly none), returning its number.
    pub fn mine(&mut self) -> u64 {
        let pending = self.prepare_block();
        let mut mined = Vec::new();
        self.execute_ready(&mut mined, None);
        self.seal_block(pending, mined)
    }

    /// Executes the pool's ready transactions into `mined`. A transaction the EVM rejects is dropped; if it
    /// is `watch`, its error is returned.
    fn execute_ready(
        &mut self,
        mined: &mut Vec<(StoredTx, ExecutionResult)>,
        watch: Option<B256>,
    ) -> Option<NodeError> {
        let mut watched_error = None;
        loop {
            // Transactions whose nonce has been passed can never run.
            let nonces: HashMap<Address, u64> = self
                .chain
                .pool
                .iter()
                .map(|tx| (tx.from, self.nonce(tx.from)))
                .collect();
            self.chain.pool.retain(|tx| tx.nonce() >= nonces[&tx.from]);
            let Some(index) = self
                .chain
                .pool
                .iter()
                .position(|tx| tx.nonce() == nonces[&tx.from])
            else {
                break;
            };
            let tx = self.chain.pool.remove(index);
            self.runtime().begin_transaction();
            match self.evm.transact_commit(tx_env(&tx)) {
                Ok(result) => mined.push((tx, result)),
                Err(error) => {
                    if Some(tx.hash) == watch {
                        watched_error = Some(NodeError::from_evm(error));
                    }
                }
            }
        }
        watched_error
    }

    fn seal_block(&mut self, pending: PendingBlock, mined: Vec<(StoredTx, ExecutionResult)>) -> u64 {
        let number = pending.number;
        let parent_hash = self.head().hash;
        let mut receipts = Vec::with_capacity(mined.len());
        let mut cumulative = 0u64;
        let mut log_index = 0u64;
        for (index, (tx, result)) in mined.iter().enumerate() {
            let gas_used = result.tx_gas_used();
            cumulative += gas_used;
            let logs = result.logs().to_vec();
            let first_log_index = log_index;
            log_index += logs.len() as u64;
            receipts.push(Receipt {
                transaction_hash: tx.hash,
                transaction_index: index as u64,
                block_number: number,
                block_hash: B256::ZERO,
                from: tx.from,
                to: tx.envelope.to(),
                // As geth and Anvil report it: the address a creation has (or would have had).
                contract_address: match tx.envelope.kind() {
                    TxKind::Create => Some(tx.from.create(tx.nonce())),
                    TxKind::Call(_) => None,
                },
                status: result.is_success(),
                gas_used,
                cumulative_gas_used: cumulative,
                effective_gas_price: tx.envelope.effective_gas_price(Some(self.config.base_fee)),
                tx_type: tx.envelope.ty(),
                logs,
                first_log_index,
                output: result.output().cloned().unwrap_or_default(),
            });
        }
        let envelopes: Vec<ReceiptEnvelope> = receipts.iter().map(Receipt::envelope).collect();
        let txs: Vec<&TxEnvelope> = mined.iter().map(|(tx, _)| &tx.envelope).collect();
        let mut bloom = Bloom::ZERO;
        for receipt in &receipts {
            bloom.accrue_bloom(&logs_bloom(receipt.logs.iter()));
        }
        let header = Header {
            parent_hash,
            beneficiary: Address::ZERO,
            state_root: B256::ZERO,
            transactions_root: proofs::calculate_transaction_root(&txs),
            receipts_root: proofs::calculate_receipt_root(&envelopes),
            logs_bloom: bloom,
            difficulty: U256::ZERO,
            number,
            gas_limit: self.config.block_gas_limit,
            gas_used: cumulative,
            timestamp: pending.timestamp,
            extra_data: Bytes::new(),
            mix_hash: B256::ZERO,
            nonce: B64::ZERO,
            ..self.prague_header_fields()
        };
        let hash = header.hash_slow();
        let mut hashes = Vec::with_capacity(mined.len());
        for ((tx, _), mut receipt) in mined.into_iter().zip(receipts) {
            receipt.block_hash = hash;
            hashes.push(tx.hash);
            self.chain.transactions.insert(tx.hash, (tx, receipt));
        }
        self.chain.blocks.push(Block {
            number,
            timestamp: pending.timestamp,
            hash,
            transactions: hashes,
            header,
        });
        self.chain.block_numbers.insert(hash, number);
        // Time moves on from an explicitly set timestamp.
        if let Some(next) = self.chain.next_timestamp.take() {
            if self.config.wall_clock {
                self.chain.time_offset =
                    i64::try_from(next).unwrap_or(i64::MAX) - i64::try_from(now_seconds()).unwrap_or(0);
            }
        }
        if !self.config.wall_clock {
            self.chain.time_offset = 0;
        }
        self.pending = None;
        if self.config.history > 0 {
            // The state after each block, as it is sealed (the live state moves on).
            self.chain
                .history
                .push_back((number, Rc::new(self.evm.ctx.db_ref().clone())));
            while self.chain.history.len() > self.config.history {
                self.chain.history.pop_front();
            }
        }
        number
    }

    // --- transactions ------------------------------------------------------------------------------------

    /// Adds a transaction to the pool; with automine on, mines it (with every other ready transaction) if
    /// it is ready. Returns its hash.
    ///
    /// # Errors
    ///
    /// The transaction is checked against the latest state before it is accepted: a nonce already used, a
    /// fee cap below the base fee, a gas limit below the intrinsic gas or above the block's, or a sender
    /// who cannot pay `gas × fee cap + value` are refused, and nothing changes.
    pub fn submit(&mut self, tx: StoredTx) -> Result<B256, NodeError> {
        if let Some(chain_id) = tx.envelope.chain_id() {
            if chain_id != self.config.chain_id {
                return Err(NodeError::ChainId {
                    got: chain_id,
                    expected: self.config.chain_id,
                });
            }
        }
        let state_nonce = self.nonce(tx.from);
        if tx.nonce() < state_nonce {
            return Err(NodeError::NonceTooLow {
                tx: tx.nonce(),
                state: state_nonce,
            });
        }
        if self.chain.transactions.contains_key(&tx.hash) || self.chain.pool.iter().any(|p| p.hash == tx.hash)
        {
            return Err(NodeError::AlreadyImported);
        }
        let hash = tx.hash;
        let ready = tx.nonce() == state_nonce;
        if !(self.automine && ready) {
            // Checked now, run later: a dry run on the latest state, nonce aside.
            self.validate(&tx)?;
            // A transaction with the same sender and nonce is replaced.
            self.chain
                .pool
                .retain(|p| !(p.from == tx.from && p.nonce() == tx.nonce()));
            self.chain.pool.push(tx);
            return Ok(hash);
        }
        let pending = self.prepare_block();
        self.chain.pool.push(tx);
        let mut mined = Vec::new();
        let error = self.execute_ready(&mut mined, Some(hash));
        if !mined.is_empty() {
            self.seal_block(pending, mined);
        }
        match error {
            Some(error) => Err(error),
            None => Ok(hash),
        }
    }

    fn validate(&mut self, tx: &StoredTx) -> Result<(), NodeError> {
        self.prepare_block();
        self.evm.ctx.cfg.disable_nonce_check = true;
        self.runtime().begin_transaction();
        let result = self
            .evm
            .transact(tx_env(tx))
            .map(|_| ())
            .map_err(NodeError::from_evm);
        self.evm.ctx.cfg.disable_nonce_check = false;
        result
    }

    /// Decodes a signed transaction (legacy, EIP-2930 or EIP-1559) and recovers its sender.
    ///
    /// # Errors
    ///
    /// [`NodeError::Decode`], [`NodeError::UnsupportedType`] or [`NodeError::Signature`].
    pub fn decode_raw(raw: &[u8]) -> Result<StoredTx, NodeError> {
        let envelope = TxEnvelope::decode_2718_exact(raw).map_err(|e| NodeError::Decode(e.to_string()))?;
        if !matches!(
            envelope,
            TxEnvelope::Legacy(_) | TxEnvelope::Eip2930(_) | TxEnvelope::Eip1559(_)
        ) {
            return Err(NodeError::UnsupportedType(envelope.ty()));
        }
        let from = envelope
            .recover_signer()
            .map_err(|e| NodeError::Signature(e.to_string()))?;
        let hash = *envelope.tx_hash();
        Ok(StoredTx { envelope, from, hash })
    }

    /// Submits a signed transaction ([`Self::submit`]) and returns its receipt.
    ///
    /// # Errors
    ///
    /// As [`Self::decode_raw`] and [`Self::submit`]; [`NodeError::Pending`] if it was accepted but not
    /// mined (nonce ahead, or automine off).
    pub fn send_raw(&mut self, raw: &[u8]) -> Result<Receipt, NodeError> {
        let tx = Self::decode_raw(raw)?;
        let hash = self.submit(tx)?;
        self.receipt(hash).cloned().ok_or(NodeError::Pending(hash))
    }

    /// Signs `request` with the sender's dev key (EIP-1559) and submits it: see [`Self::send_raw`].
    ///
    /// # Errors
    ///
    /// [`NodeError::UnknownSender`] if the sender is not a dev account, else as [`Self::send_raw`].
    pub fn send(&mut self, request: &TxRequest) -> Result<Receipt, NodeError> {
        let raw = self.sign(request)?;
        self.send_raw(&raw)
    }

    /// `request` as an EIP-1559 transaction paying the base fee, no tip.
    fn eip1559(&self, request: &TxRequest, nonce: u64) -> TxEip1559 {
        TxEip1559 {
            chain_id: self.config.chain_id,
            nonce,
            gas_limit: request.gas_limit.unwrap_or(DEFAULT_GAS),
            max_fee_per_gas: u128::from(self.config.base_fee),
            max_priority_fee_per_gas: 0,
            to: request.to.map_or(TxKind::Create, TxKind::Call),
            value: request.value,
            access_list: Default::default(),
            input: request.input.clone(),
        }
    }

    /// Signs `request` with the sender's dev key as an EIP-1559 transaction, returning its 2718 encoding.
    ///
    /// # Errors
    ///
    /// [`NodeError::UnknownSender`] if the sender is not a dev account.
    pub fn sign(&self, request: &TxRequest) -> Result<Vec<u8>, NodeError> {
        let tx = self.eip1559(request, self.pending_nonce(request.from));
        Ok(self
            .sign_typed(request.from, TypedTx::Eip1559(tx))?
            .encoded_2718())
    }

    /// Signs `tx` for `from`: with its dev key, or with the placeholder signature if `from` is impersonated.
    ///
    /// # Errors
    ///
    /// [`NodeError::UnknownSender`] if `from` is neither.
    pub fn sign_typed(&self, from: Address, tx: TypedTx) -> Result<TxEnvelope, NodeError> {
        let signer = self.signers.iter().find(|s| s.address() == from);
        let sign = |hash: B256| -> Result<Signature, NodeError> {
            match signer {
                Some(signer) => signer
                    .sign_hash_sync(&hash)
                    .map_err(|e| NodeError::Signature(e.to_string())),
                None if self.impersonated.contains(&from) => Ok(IMPERSONATED_SIGNATURE),
                None => Err(NodeError::UnknownSender(from)),
            }
        };
        Ok(match tx {
            TypedTx::Legacy(tx) => {
                let signature = sign(tx.signature_hash())?;
                TxEnvelope::from(tx.into_signed(signature))
            }
            TypedTx::Eip2930(tx) => {
                let signature = sign(tx.signature_hash())?;
                TxEnvelope::from(tx.into_signed(signature))
            }
            TypedTx::Eip1559(tx) => {
                let signature = sign(tx.signature_hash())?;
                TxEnvelope::from(tx.into_signed(signature))
            }
        })
    }

    /// Submits a transaction from a dev or impersonated account (`eth_sendTransaction`), returning its hash.
    ///
    /// # Errors
    ///
    /// [`NodeError::UnknownSender`], else as [`Self::submit`].
    pub fn send_typed(&mut self, from: Address, tx: TypedTx) -> Result<B256, NodeError> {
        let envelope = self.sign_typed(from, tx)?;
        let hash = if self.signers.iter().any(|s| s.address() == from) {
            *envelope.tx_hash()
        } else {
            impersonated_hash(&envelope, from)
        };
        self.submit(StoredTx { envelope, from, hash })
    }

    /// Executes an unsigned request as a transaction from `request.from` and commits it in a new block,
    /// skipping the signature (for benchmarks and tests that do not exercise signing).
    ///
    /// # Errors
    ///
    /// As [`Self::submit`].
    pub fn send_unsigned(&mut self, request: &TxRequest) -> Result<Receipt, NodeError> {
        let tx = self.eip1559(request, self.nonce(request.from));
        let envelope = TxEnvelope::from(tx.into_signed(IMPERSONATED_SIGNATURE));
        let hash = impersonated_hash(&envelope, request.from);
        self.submit(StoredTx {
            envelope,
            from: request.from,
            hash,
        })?;
        self.receipt(hash).cloned().ok_or(NodeError::Pending(hash))
    }

    // --- calls -------------------------------------------------------------------------------------------

    /// Executes `request` on the pending block without committing anything; the sender pays the base fee
    /// for its gas, as a transaction would.
    ///
    /// # Errors
    ///
    /// [`NodeError`] if revm rejects the transaction.
    pub fn call(&mut self, request: &TxRequest) -> Result<ExecutionResult, NodeError> {
        let pending = self.pending_block();
        self.call_at(
            &CallRequest {
                from: Some(request.from),
                to: request.to,
                gas: Some(request.gas_limit.unwrap_or(DEFAULT_GAS)),
                gas_price: Some(u128::from(self.config.base_fee)),
                value: Some(request.value),
                input: request.input.clone(),
                ..Default::default()
            },
            BlockRef::Number(pending.number),
            &[],
        )
    }

    /// Executes `request` against the state at `block` with `overrides` applied, committing nothing
    /// (`eth_call`). With no gas price the call is free and the base fee is not enforced; the nonce is not
    /// checked.
    ///
    /// # Errors
    ///
    /// As [`Self::state_at`]; other [`NodeError`]s if revm rejects the call.
    pub fn call_at(
        &mut self,
        request: &CallRequest,
        block: BlockRef,
        overrides: &[(Address, AccountOverride)],
    ) -> Result<ExecutionResult, NodeError> {
        let (number, timestamp) = self.block_env_for(block)?;
        let head = self.head().number;
        // A past block's state, or the latest one to be overridden, runs on a copy.
        let saved = if number < head || !overrides.is_empty() {
            let mut db = self.state_at(BlockRef::Number(number.min(head)))?.clone();
            apply_overrides(&mut db, overrides);
            Some(std::mem::replace(&mut self.evm.ctx.journaled_state.database, db))
        } else {
            None
        };
        self.runtime().begin_block();
        self.set_block_env(number, timestamp);
        let cfg = &mut self.evm.ctx.cfg;
        cfg.disable_base_fee = request.gas_price.is_none_or(|p| p == 0);
        cfg.disable_nonce_check = true;
        let from = request.from.unwrap_or_default();
        let tx = TxEnv {
            tx_type: if request.max_priority_fee_per_gas.is_some() {
                2
            } else {
                0
            },
            caller: from,
            gas_limit: request.gas.unwrap_or(self.config.call_gas_cap),
            gas_price: request.gas_price.unwrap_or(0),
            gas_priority_fee: request.max_priority_fee_per_gas,
            kind: request.to.map_or(TxKind::Create, TxKind::Call),
            value: request.value.unwrap_or_default(),
            data: request.input.clone(),
            nonce: 0,
            chain_id: Some(self.config.chain_id),
            access_list: request.access_list.clone().unwrap_or_default(),
            ..Default::default()
        };
        self.runtime().begin_transaction();
        let result = self
            .evm
            .transact(tx)
            .map(|r| r.result)
            .map_err(|error| match error {
                EVMError::Transaction(InvalidTransaction::CallGasCostMoreThanGasLimit { .. }) => {
                    NodeError::GasTooHigh("CallGasCostMoreThanGasLimit")
                }
                EVMError::Transaction(InvalidTransaction::GasFloorMoreThanGasLimit { .. }) => {
                    NodeError::GasTooHigh("GasFloorMoreThanGasLimit")
                }
                other => NodeError::from_evm(other),
            });
        let cfg = &mut self.evm.ctx.cfg;
        cfg.disable_base_fee = false;
        cfg.disable_nonce_check = false;
        if let Some(db) = saved {
            self.evm.ctx.journaled_state.database = db;
        }
        result
    }

    /// Number and timestamp of the block a call at `block` runs in: a mined block's own, or the pending
    /// block's.
    fn block_env_for(&mut self, block: BlockRef) -> Result<(u64, u64), NodeError> {
        let head = self.head().number;
        let number = self.block_number(block);
        if number > head {
            if number > head + 1 {
                return Err(NodeError::BlockNotFound);
            }
            let pending = self.pending_block();
            return Ok((pending.number, pending.timestamp));
        }
        let block = self.block(number).ok_or(NodeError::BlockNotFound)?;
        Ok((block.number, block.timestamp))
    }

    /// The smallest gas limit with which `request` succeeds (`eth_estimateGas`), found by bisection like
    /// Anvil's: the call first runs with the highest limit allowed (the request's, the call gas cap, or what
    /// the sender can pay for at the given price), then the range is halved until it is one gas wide.
    ///
    /// # Errors
    ///
    /// [`NodeError::Reverted`] with the revert data if the call reverts at the highest limit;
    /// [`NodeError::OutOfGasEstimate`] if it runs out of gas there; [`NodeError::InsufficientFunds`] if the
    /// sender cannot pay the value; as [`Self::call_at`] otherwise.
    pub fn estimate_gas(
        &mut self,
        request: &CallRequest,
        block: BlockRef,
        overrides: &[(Address, AccountOverride)],
    ) -> Result<u64, NodeError> {
        let mut highest = request.gas.unwrap_or(self.config.call_gas_cap);
        let price = request.gas_price.unwrap_or(0);
        if price > 0 {
            if let Some(from) = request.from {
                let mut funds = self.account_at(from, block)?.balance;
                if let Some((_, o)) = overrides.iter().find(|(a, _)| *a == from) {
                    funds = o.balance.unwrap_or(funds);
                }
                let value = request.value.unwrap_or_default();
                if value > funds {
                    return Err(NodeError::InsufficientFunds);
                }
                let allowance = (funds - value) / U256::from(price);
                highest = highest.min(allowance.saturating_to());
            }
        }
        // A plain transfer to an account without code costs exactly the base transaction gas.
        if let Some(to) = request.to {
            if request.input.is_empty() && self.account_at(to, block)?.code.is_none_or(|c| c.is_empty()) {
                let has_code_override = overrides
                    .iter()
                    .any(|(a, o)| *a == to && o.code.as_ref().is_some_and(|c| !c.is_empty()));
                if !has_code_override {
                    return Ok(21_000);
                }
            }
        }
        let mut attempt = request.clone();
        attempt.gas = Some(highest);
        let result = match self.call_at(&attempt, block, overrides) {
            Err(NodeError::GasTooHigh(_)) => return Err(NodeError::OutOfGasEstimate(highest)),
            other => other?,
        };
        let gas_used = result.tx_gas_used();
        match result {
            ExecutionResult::Success { .. } => {}
            ExecutionResult::Revert { output, .. } => return Err(NodeError::Reverted(output)),
            ExecutionResult::Halt { reason, .. } => {
                return Err(
                    if matches!(reason, revm::context::result::HaltReason::OutOfGas(_)) {
                        NodeError::OutOfGasEstimate(highest)
                    } else {
                        NodeError::Halted(halt_name(&reason))
                    },
                )
            }
        }
        let mut lowest = if request.to.is_some() { 21_000 } else { 53_000 };
        lowest = lowest.min(highest);
        let mut mid = gas_used.saturating_mul(3).min((highest + lowest) / 2);
        while highest - lowest > 1 {
            attempt.gas = Some(mid);
            match self.call_at(&attempt, block, overrides) {
                Ok(ExecutionResult::Success { .. }) => highest = mid,
                _ => lowest = mid,
            }
            mid = (highest + lowest) / 2;
        }
        Ok(highest)
    }

    // --- state files -------------------------------------------------------------------------------------

    /// The state as JSON: every account (balance, nonce, code, storage) and the head block, for
    /// [`Self::load_state`]. Transactions, receipts and older blocks are not included.
    pub fn dump_state(&self) -> StateDump {
        let db = self.evm.ctx.db_ref();
        let mut accounts = BTreeMap::new();
        for (address, account) in &db.cache.accounts {
            if matches!(account.account_state, AccountState::NotExisting) {
                continue;
            }
            let info = &account.info;
            let code = info
                .code
                .clone()
                .or_else(|| db.cache.contracts.get(&info.code_hash).cloned())
                .map(|c| c.original_bytes())
                .unwrap_or_default();
            let storage: BTreeMap<U256, U256> = account
                .storage
                .iter()
                .filter(|(_, v)| !v.is_zero())
                .map(|(k, v)| (*k, *v))
                .collect();
            if info.balance.is_zero() && info.nonce == 0 && code.is_empty() && storage.is_empty() {
                continue;
            }
            accounts.insert(
                *address,
                AccountDump {
                    balance: info.balance,
                    nonce: info.nonce,
                    code,
                    storage,
                },
            );
        }
        let head = self.head();
        StateDump {
            chain_id: self.config.chain_id,
            block_number: head.number,
            block_timestamp: head.timestamp,
            block_hash: head.hash,
            accounts,
        }
    }

    /// Replaces the whole state with `dump` ([`Self::dump_state`]): the chain continues from the dumped
    /// head block, with no transactions before it.
    ///
    /// # Errors
    ///
    /// [`NodeError::State`] if the dump is for another chain id.
    pub fn load_state(&mut self, dump: &StateDump) -> Result<(), NodeError> {
        if dump.chain_id != self.config.chain_id {
            return Err(NodeError::State(format!(
                "the state is of chain {}, this node is {}",
                dump.chain_id, self.config.chain_id
            )));
        }
        let mut ctx = new_context(SPEC);
        for (address, account) in &dump.accounts {
            let mut info = AccountInfo {
                balance: account.balance,
                nonce: account.nonce,
                ..Default::default()
            };
            if !account.code.is_empty() {
                let code = Bytecode::new_raw(account.code.clone());
                info.code_hash = code.hash_slow();
                info.code = Some(code);
            }
            ctx.journaled_state.database.insert_account_info(*address, info);
            for (key, value) in &account.storage {
                let _ = ctx
                    .journaled_state
                    .database
                    .insert_account_storage(*address, *key, *value);
            }
        }
        self.evm.ctx.journaled_state.database = ctx.journaled_state.database;
        self.chain.transactions.clear();
        self.chain.pool.clear();
        self.snapshots.clear();
        self.pending = None;
        self.push_genesis(dump.block_number, dump.block_timestamp, dump.block_hash);
        Ok(())
    }
}

impl Default for Devnode {
    fn default() -> Self {
        Self::new()
    }
}

/// An unsigned transaction of one of the types the node accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypedTx {
    /// Legacy (EIP-155).
    Legacy(TxLegacy),
    /// EIP-2930.
    Eip2930(TxEip2930),
    /// EIP-1559.
    Eip1559(TxEip1559),
}

/// A state file: see [`Devnode::dump_state`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateDump {
    /// Chain id the state belongs to.
    pub chain_id: u64,
    /// Head block number.
    pub block_number: u64,
    /// Head block timestamp.
    pub block_timestamp: u64,
    /// Head block hash (the parent of the next block).
    pub block_hash: B256,
    /// Every non-empty account.
    pub accounts: BTreeMap<Address, AccountDump>,
}

/// One account of a [`StateDump`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountDump {
    /// Balance, in wei.
    pub balance: U256,
    /// Nonce.
    pub nonce: u64,
    /// Code.
    pub code: Bytes,
    /// Non-zero storage slots.
    pub storage: BTreeMap<U256, U256>,
}

fn tx_env(tx: &StoredTx) -> TxEnv {
    let envelope = &tx.envelope;
    TxEnv {
        tx_type: envelope.ty(),
        caller: tx.from,
        gas_limit: envelope.gas_limit(),
        gas_price: envelope.max_fee_per_gas(),
        gas_priority_fee: envelope.max_priority_fee_per_gas(),
        kind: envelope.kind(),
        value: envelope.value(),
        data: envelope.input().clone(),
        nonce: envelope.nonce(),
        chain_id: envelope.chain_id(),
        access_list: envelope.access_list().cloned().unwrap_or_default(),
        ..Default::default()
    }
}

/// `info` with its code filled in from `db` (the database keeps code apart, by hash).
fn with_code(db: &DevDb, mut info: AccountInfo) -> AccountInfo {
    if info.code.is_none() && info.code_hash != revm::primitives::KECCAK_EMPTY {
        info.code = db.code_by_hash_ref(info.code_hash).ok();
    }
    info
}

fn apply_overrides(db: &mut DevDb, overrides: &[(Address, AccountOverride)]) {
    for (address, o) in overrides {
        let mut info = with_code(db, db.basic_ref(*address).ok().flatten().unwrap_or_default());
        if let Some(balance) = o.balance {
            info.balance = balance;
        }
        if let Some(nonce) = o.nonce {
            info.nonce = nonce;
        }
        if let Some(code) = &o.code {
            let bytecode = Bytecode::new_raw(code.clone());
            info.code_hash = bytecode.hash_slow();
            info.code = Some(bytecode);
        }
        db.insert_account_info(*address, info);
        if let Some(state) = &o.state {
            let _ = db.replace_account_storage(*address, state.iter().copied().collect());
        }
        if let Some(diff) = &o.state_diff {
            for (key, value) in diff {
                let _ = db.insert_account_storage(*address, *key, *value);
            }
        }
    }
}

/// The name of a halt as revm's instruction result calls it ("OutOfGas", "ReentrancySentryOOG", ...), which
/// is how Anvil reports it ("EVM error ...").
pub fn halt_name(reason: &revm::context::result::HaltReason) -> String {
    format!("{:?}", revm::interpreter::InstructionResult::from(reason.clone()))
}
