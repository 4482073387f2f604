//! The chain around the execution core: one block per transaction, funded dev accounts, signed
//! transactions with sender recovery, receipts and logs.

use alloy_consensus::{
    transaction::SignerRecoverable, SignableTransaction, Transaction as _, TxEip1559, TxEnvelope,
};
use alloy_eips::{
    eip2718::{Decodable2718, Encodable2718},
    Typed2718,
};
use alloy_primitives::{keccak256, Address, Bytes, Log, TxKind, B256, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::{coins_bip39::English, MnemonicBuilder, PrivateKeySigner};
use revm::{
    bytecode::Bytecode,
    context::{result::ExecutionResult, TxEnv},
    context_interface::ContextTr,
    database::DatabaseRef,
    handler::{ExecuteCommitEvm, ExecuteEvm},
    primitives::hardfork::SpecId,
    state::AccountInfo,
};
use thiserror::Error;

use crate::{
    arb,
    stylus::{instructions, new_context, DevEvm, StylusConfig, StylusPrecompiles, StylusRuntime},
};

/// Anvil's default mnemonic: the dev accounts are its first [`DevnodeConfig::dev_accounts`] keys.
pub const DEV_MNEMONIC: &str = "test test test test test test test test test test test junk";

/// The funded key of nitro's devnode, funded here too so scripts written for it run unchanged.
pub const NITRO_DEV_KEY: &str = "0xb6b15c8cb491557369f3c7d2c287b053eb229daa9c22138887752191c9520659";

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
    /// Base fee of every block, in wei.
    pub base_fee: u64,
    /// Timestamp of the genesis block, in seconds.
    pub genesis_timestamp: u64,
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
    /// Block hash (a hash of number, timestamp, parent and transactions; not an Ethereum header hash).
    pub hash: B256,
    /// Hashes of the block's transactions.
    pub transactions: Vec<B256>,
}

/// The receipt of a mined transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// Transaction hash.
    pub transaction_hash: B256,
    /// Block it was mined in.
    pub block_number: u64,
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
    /// Logs emitted (none if it failed).
    pub logs: Vec<Log>,
    /// Return or revert data.
    pub output: Bytes,
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

/// Why the node refused a transaction (a transaction that runs and fails gets a receipt instead).
#[derive(Debug, Error)]
pub enum NodeError {
    /// The raw transaction does not decode.
    #[error("cannot decode transaction: {0}")]
    Decode(String),
    /// The signature does not recover to a sender.
    #[error("invalid signature: {0}")]
    Signature(String),
    /// Blob and EIP-7702 transactions are not supported.
    #[error("unsupported transaction type {0}")]
    UnsupportedType(u8),
    /// The transaction is for another chain.
    #[error("wrong chain id {got}, this node is {expected}")]
    ChainId {
        /// The transaction's chain id.
        got: u64,
        /// The node's.
        expected: u64,
    },
    /// revm rejected the transaction (nonce, balance, gas limit, ...).
    #[error("invalid transaction: {0}")]
    Invalid(String),
    /// No dev key for the sender of an unsigned request.
    #[error("no dev key for {0}")]
    UnknownSender(Address),
}

/// The dev chain.
#[derive(Debug)]
pub struct Devnode {
    evm: DevEvm,
    config: DevnodeConfig,
    signers: Vec<PrivateKeySigner>,
    blocks: Vec<Block>,
    receipts: Vec<Receipt>,
    next_timestamp: Option<u64>,
}

const SPEC: SpecId = SpecId::PRAGUE;
const DEFAULT_GAS: u64 = 30_000_000;

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
        for address in [arb::ARB_SYS, arb::ARB_WASM] {
            let code = Bytecode::new_raw(Bytes::from_static(&[0xFE]));
            ctx.journaled_state
                .database
                .insert_account_info(address, AccountInfo::default().with_code(code));
        }
        let evm = DevEvm::new(ctx, instructions(SPEC), StylusPrecompiles::new(SPEC, runtime));
        let genesis = Block {
            number: 0,
            timestamp: config.genesis_timestamp,
            hash: keccak256(config.genesis_timestamp.to_be_bytes()),
            transactions: Vec::new(),
        };
        Self {
            evm,
            config,
            signers,
            blocks: vec![genesis],
            receipts: Vec::new(),
            next_timestamp: None,
        }
    }

    /// The dev accounts: the mnemonic's keys, then nitro's dev key.
    pub fn accounts(&self) -> Vec<Address> {
        self.signers.iter().map(PrivateKeySigner::address).collect()
    }

    /// The shared Stylus runtime (module cache, options, console output).
    pub fn runtime(&self) -> &std::rc::Rc<StylusRuntime> {
        self.evm.precompiles.runtime()
    }

    /// The chain id.
    pub fn chain_id(&self) -> u64 {
        self.config.chain_id
    }

    /// The latest block.
    pub fn head(&self) -> &Block {
        // Genesis is always there.
        &self.blocks[self.blocks.len() - 1]
    }

    /// Block `number`, if mined.
    pub fn block(&self, number: u64) -> Option<&Block> {
        self.blocks.get(usize::try_from(number).ok()?)
    }

    /// Sets the timestamp of the next block (later blocks follow it one second apart).
    pub fn set_next_block_timestamp(&mut self, timestamp: u64) {
        self.next_timestamp = Some(timestamp);
    }

    /// Mines an empty block, returning its number.
    pub fn mine(&mut self) -> u64 {
        self.prepare_block();
        self.seal_block(Vec::new())
    }

    /// The receipt of transaction `hash`.
    pub fn receipt(&self, hash: B256) -> Option<&Receipt> {
        self.receipts.iter().find(|r| r.transaction_hash == hash)
    }

    /// Balance of `address`, in wei.
    pub fn balance(&self, address: Address) -> U256 {
        self.account(address).map(|a| a.balance).unwrap_or_default()
    }

    /// Nonce of `address`.
    pub fn nonce(&self, address: Address) -> u64 {
        self.account(address).map(|a| a.nonce).unwrap_or_default()
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

    fn pending_timestamp(&self) -> u64 {
        self.next_timestamp.unwrap_or(self.head().timestamp + 1)
    }

    fn prepare_block(&mut self) {
        self.runtime().begin_block();
        let number = self.head().number + 1;
        let timestamp = self.pending_timestamp();
        let block = &mut self.evm.ctx.block;
        block.number = U256::from(number);
        block.timestamp = U256::from(timestamp);
        block.gas_limit = self.config.block_gas_limit;
        block.basefee = self.config.base_fee;
        block.prevrandao = Some(B256::ZERO);
    }

    fn seal_block(&mut self, transactions: Vec<B256>) -> u64 {
        let number = self.head().number + 1;
        let timestamp = self.pending_timestamp();
        let mut preimage = self.head().hash.to_vec();
        preimage.extend(number.to_be_bytes());
        preimage.extend(timestamp.to_be_bytes());
        for hash in &transactions {
            preimage.extend(hash.as_slice());
        }
        self.blocks.push(Block {
            number,
            timestamp,
            hash: keccak256(preimage),
            transactions,
        });
        self.next_timestamp = None;
        number
    }

    fn tx_env(&self, request: &TxRequest, nonce: Option<u64>) -> TxEnv {
        TxEnv {
            tx_type: 2,
            caller: request.from,
            gas_limit: request.gas_limit.unwrap_or(DEFAULT_GAS),
            gas_price: u128::from(self.config.base_fee),
            gas_priority_fee: Some(0),
            kind: request.to.map_or(TxKind::Create, TxKind::Call),
            value: request.value,
            data: request.input.clone(),
            nonce: nonce.unwrap_or_else(|| self.nonce(request.from)),
            chain_id: Some(self.config.chain_id),
            ..Default::default()
        }
    }

    /// Executes `request` on the pending block without committing anything (`eth_call`); the sender must
    /// afford the gas.
    ///
    /// # Errors
    ///
    /// [`NodeError::Invalid`] if revm rejects the transaction.
    pub fn call(&mut self, request: &TxRequest) -> Result<ExecutionResult, NodeError> {
        self.prepare_block();
        let tx = self.tx_env(request, None);
        self.runtime().begin_transaction();
        self.evm
            .transact(tx)
            .map(|r| r.result)
            .map_err(|e| NodeError::Invalid(e.to_string()))
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

    /// Signs `request` with the sender's dev key as an EIP-1559 transaction, returning its 2718 encoding.
    ///
    /// # Errors
    ///
    /// [`NodeError::UnknownSender`] if the sender is not a dev account.
    pub fn sign(&self, request: &TxRequest) -> Result<Vec<u8>, NodeError> {
        let signer = self
            .signers
            .iter()
            .find(|s| s.address() == request.from)
            .ok_or(NodeError::UnknownSender(request.from))?;
        let tx = TxEip1559 {
            chain_id: self.config.chain_id,
            nonce: self.nonce(request.from),
            gas_limit: request.gas_limit.unwrap_or(DEFAULT_GAS),
            max_fee_per_gas: u128::from(self.config.base_fee),
            max_priority_fee_per_gas: 0,
            to: request.to.map_or(TxKind::Create, TxKind::Call),
            value: request.value,
            access_list: Default::default(),
            input: request.input.clone(),
        };
        let signature = signer
            .sign_hash_sync(&tx.signature_hash())
            .map_err(|e| NodeError::Signature(e.to_string()))?;
        Ok(TxEnvelope::from(tx.into_signed(signature)).encoded_2718())
    }

    /// Decodes a signed transaction (legacy, EIP-2930 or EIP-1559), recovers its sender, executes it in a
    /// new block and commits it.
    ///
    /// # Errors
    ///
    /// Any [`NodeError`] but [`NodeError::UnknownSender`]; nothing is mined then.
    pub fn send_raw(&mut self, raw: &[u8]) -> Result<Receipt, NodeError> {
        let envelope = TxEnvelope::decode_2718_exact(raw).map_err(|e| NodeError::Decode(e.to_string()))?;
        let ty = envelope.ty();
        if !matches!(
            envelope,
            TxEnvelope::Legacy(_) | TxEnvelope::Eip2930(_) | TxEnvelope::Eip1559(_)
        ) {
            return Err(NodeError::UnsupportedType(ty));
        }
        let from = envelope
            .recover_signer()
            .map_err(|e| NodeError::Signature(e.to_string()))?;
        if let Some(chain_id) = envelope.chain_id() {
            if chain_id != self.config.chain_id {
                return Err(NodeError::ChainId {
                    got: chain_id,
                    expected: self.config.chain_id,
                });
            }
        }
        let tx = TxEnv {
            tx_type: ty,
            caller: from,
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
        };
        let hash = *envelope.tx_hash();
        self.commit(tx, hash)
    }

    /// Executes an unsigned request as a transaction from `request.from` and commits it, skipping the
    /// signature (for benchmarks and tests that do not exercise signing).
    ///
    /// # Errors
    ///
    /// [`NodeError::Invalid`] if revm rejects the transaction.
    pub fn send_unsigned(&mut self, request: &TxRequest) -> Result<Receipt, NodeError> {
        let tx = self.tx_env(request, None);
        let hash = keccak256([request.from.as_slice(), &tx.nonce.to_be_bytes()].concat());
        self.commit(tx, hash)
    }

    fn commit(&mut self, tx: TxEnv, hash: B256) -> Result<Receipt, NodeError> {
        self.prepare_block();
        self.runtime().begin_transaction();
        let from = tx.caller;
        let to = tx.kind.to().copied();
        let result = self
            .evm
            .transact_commit(tx)
            .map_err(|e| NodeError::Invalid(e.to_string()))?;
        let number = self.seal_block(vec![hash]);
        let receipt = Receipt {
            transaction_hash: hash,
            block_number: number,
            from,
            to,
            contract_address: match &result {
                ExecutionResult::Success { output, .. } => output.address().copied(),
                _ => None,
            },
            status: result.is_success(),
            gas_used: result.tx_gas_used(),
            logs: result.logs().to_vec(),
            output: result.output().cloned().unwrap_or_default(),
        };
        self.receipts.push(receipt.clone());
        Ok(receipt)
    }
}

impl Default for Devnode {
    fn default() -> Self {
        Self::new()
    }
}
