//! What the operator asks of and sends to the chain: the market's and the vault's state, the escrow's
//! balances, simulation, signed transactions with explicit nonces and fees, receipts.

use alloy::{
    eips::{eip2718::Encodable2718, BlockId, BlockNumberOrTag},
    network::{EthereumWallet, TransactionBuilder},
    primitives::{Address, Bytes, B256, U256 as AU256},
    providers::{DynProvider, Provider, ProviderBuilder},
    rpc::types::{TransactionReceipt, TransactionRequest},
    signers::local::PrivateKeySigner,
    sol_types::SolCall,
    transports::TransportError,
};
use damm_market_codec::MarketState;
use damm_math::U256;

use super::engine::{Conditions, Transition, TransitionKind};
use crate::bindings::{IMarket, IVault, IERC20};

/// A chain error, with the revert decoded when there is one.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ChainError {
    /// The endpoint failed or did not answer.
    #[error("RPC: {0}")]
    Rpc(String),
    /// A call or transaction reverted.
    #[error("reverted: {0}")]
    Reverted(String),
    /// The chain disagrees with the journal.
    #[error("{0}")]
    Mismatch(String),
}

impl ChainError {
    fn of(e: &TransportError) -> Self {
        match crate::errors::revert_data_of_transport(e) {
            Some(data) => Self::Reverted(crate::errors::decode_revert(&data)),
            None => Self::Rpc(e.to_string()),
        }
    }

    fn of_contract(e: &alloy::contract::Error) -> Self {
        match e {
            alloy::contract::Error::TransportError(t) => Self::of(t),
            other => match other.as_revert_data() {
                Some(data) => Self::Reverted(crate::errors::decode_revert(&data)),
                None => Self::Rpc(other.to_string()),
            },
        }
    }
}

type Result<T> = std::result::Result<T, ChainError>;

/// The operator's connection: a provider without fillers (the operator sets nonces and fees itself) and the
/// signing wallet.
#[derive(Clone, Debug)]
pub struct Chain {
    /// The provider.
    pub provider: DynProvider,
    /// The operator's account.
    pub operator: Address,
    wallet: EthereumWallet,
    /// The chain id.
    pub chain_id: u64,
    /// The vault.
    pub vault: Address,
}

/// A transaction signed and ready to broadcast.
#[derive(Clone, Debug)]
pub struct SignedTx {
    /// Its hash.
    pub hash: B256,
    /// The EIP-2718 encoding.
    pub raw: Vec<u8>,
    /// Its nonce.
    pub nonce: u64,
    /// Fee cap, wei.
    pub max_fee: u128,
    /// Priority fee, wei.
    pub priority_fee: u128,
}

impl Chain {
    /// Connects to `url` as `signer`.
    ///
    /// # Errors
    ///
    /// [`ChainError::Rpc`] if the URL is invalid or the chain id cannot be read.
    pub async fn connect(url: &str, signer: PrivateKeySigner, vault: Address) -> Result<Self> {
        let provider = ProviderBuilder::new()
            .disable_recommended_fillers()
            .connect_http(
                url.parse()
                    .map_err(|e| ChainError::Rpc(format!("invalid RPC URL {url}: {e}")))?,
            )
            .erased();
        let chain_id = provider.get_chain_id().await.map_err(|e| ChainError::of(&e))?;
        Ok(Self {
            provider,
            operator: signer.address(),
            wallet: EthereumWallet::new(signer),
            chain_id,
            vault,
        })
    }

    /// The latest block's number and timestamp.
    ///
    /// # Errors
    ///
    /// [`ChainError::Rpc`].
    pub async fn head(&self) -> Result<(u64, u64)> {
        let block = self
            .provider
            .get_block_by_number(BlockNumberOrTag::Latest)
            .await
            .map_err(|e| ChainError::of(&e))?
            .ok_or_else(|| ChainError::Rpc("the endpoint has no latest block".into()))?;
        Ok((block.header.number, block.header.timestamp))
    }

    /// Market `market`'s state (at `block`, or the latest), checked against its `stateHash`.
    ///
    /// # Errors
    ///
    /// [`ChainError::Mismatch`] if the stored encoding does not decode or hash to `stateHash`.
    pub async fn market_state(&self, market: Address, block: Option<u64>) -> Result<MarketState> {
        let m = IMarket::new(market, &self.provider);
        let at = block.map_or(BlockId::latest(), BlockId::number);
        let bytes = m
            .state()
            .block(at)
            .call()
            .await
            .map_err(|e| ChainError::of_contract(&e))?;
        let hash = m
            .stateHash()
            .block(at)
            .call()
            .await
            .map_err(|e| ChainError::of_contract(&e))?;
        if alloy::primitives::keccak256(&bytes) != hash {
            return Err(ChainError::Mismatch(format!(
                "market {market}: state() does not hash to stateHash() {hash}"
            )));
        }
        MarketState::decode(&bytes)
            .map_err(|e| ChainError::Mismatch(format!("market {market}: state() does not decode: {e:?}")))
    }

    /// The market's seq and state hash.
    ///
    /// # Errors
    ///
    /// [`ChainError::Rpc`].
    pub async fn seq_and_hash(&self, market: Address) -> Result<(u64, B256)> {
        let m = IMarket::new(market, &self.provider);
        let seq = m.seq().call().await.map_err(|e| ChainError::of_contract(&e))?;
        let hash = m
            .stateHash()
            .call()
            .await
            .map_err(|e| ChainError::of_contract(&e))?;
        Ok((seq, hash))
    }

    /// The market's and the vault's conditions at block `block` (with its timestamp), and the market's seq
    /// there.
    ///
    /// # Errors
    ///
    /// [`ChainError::Rpc`].
    pub async fn conditions(&self, market: Address, block: u64, timestamp: u64) -> Result<(Conditions, u64)> {
        let at = BlockId::number(block);
        let m = IMarket::new(market, &self.provider);
        let v = IVault::new(self.vault, &self.provider);
        let c = |e: alloy::contract::Error| ChainError::of_contract(&e);
        let frozen = m.frozen().block(at).call().await.map_err(c)?;
        let resize = m.pendingResize().block(at).call().await.map_err(c)?;
        let seq = m.seq().block(at).call().await.map_err(c)?;
        let paused = v.paused().block(at).call().await.map_err(c)?;
        let info = v.marketInfo(market).block(at).call().await.map_err(c)?;
        Ok((
            Conditions {
                frozen,
                inactive: !info._2,
                paused,
                head_timestamp: timestamp,
                resize: (resize._0, resize._1),
            },
            seq,
        ))
    }

    /// The operator's balance of `token` and its allowance to the vault.
    ///
    /// # Errors
    ///
    /// [`ChainError::Rpc`].
    pub async fn escrow(&self, token: Address) -> Result<(AU256, AU256)> {
        let t = IERC20::new(token, &self.provider);
        let balance = t
            .balanceOf(self.operator)
            .call()
            .await
            .map_err(|e| ChainError::of_contract(&e))?;
        let allowance = t
            .allowance(self.operator, self.vault)
            .call()
            .await
            .map_err(|e| ChainError::of_contract(&e))?;
        Ok((balance, allowance))
    }

    /// The call data of `transition`.
    pub fn calldata(transition: &Transition) -> Bytes {
        match &transition.kind {
            TransitionKind::Batch { ops, .. } => IMarket::submitBatchCall {
                seq: transition.seq,
                prev_state_hash: transition.prev_hash,
                ops: ops.clone().into(),
                new_state_hash: transition.new_hash,
            }
            .abi_encode()
            .into(),
            TransitionKind::Resize { .. } => IMarket::applyResizeCall {
                seq: transition.seq,
                prev_state_hash: transition.prev_hash,
                new_state_hash: transition.new_hash,
            }
            .abi_encode()
            .into(),
        }
    }

    /// Runs `transition` with `eth_call` on the latest state, returning the gas limit to send it with: `fixed`,
    /// or `eth_estimateGas`'s answer with a margin.
    ///
    /// # Errors
    ///
    /// [`ChainError::Reverted`] with the decoded cause.
    pub async fn simulate(
        &self,
        market: Address,
        transition: &Transition,
        fixed: Option<u64>,
    ) -> Result<u64> {
        let request = TransactionRequest::default()
            .with_from(self.operator)
            .with_to(market)
            .with_input(Self::calldata(transition));
        self.provider
            .call(request.clone())
            .await
            .map_err(|e| ChainError::of(&e))?;
        match fixed {
            Some(gas) => Ok(gas),
            None => {
                let gas = self
                    .provider
                    .estimate_gas(request)
                    .await
                    .map_err(|e| ChainError::of(&e))?;
                Ok(gas + gas / 4 + 20_000)
            }
        }
    }

    /// The operator's nonce (latest block).
    ///
    /// # Errors
    ///
    /// [`ChainError::Rpc`].
    pub async fn nonce(&self) -> Result<u64> {
        self.provider
            .get_transaction_count(self.operator)
            .await
            .map_err(|e| ChainError::of(&e))
    }

    /// Fees for a new transaction: `(max fee, priority fee)` from the latest base fee (twice it, so the
    /// transaction survives a few rising blocks) and the endpoint's suggested tip.
    ///
    /// # Errors
    ///
    /// [`ChainError::Rpc`].
    pub async fn fees(&self) -> Result<(u128, u128)> {
        let block = self
            .provider
            .get_block_by_number(BlockNumberOrTag::Latest)
            .await
            .map_err(|e| ChainError::of(&e))?
            .ok_or_else(|| ChainError::Rpc("no latest block".into()))?;
        let base = u128::from(block.header.base_fee_per_gas.unwrap_or(1_000_000_000));
        let tip = self.provider.get_max_priority_fee_per_gas().await.unwrap_or(0);
        Ok((base * 2 + tip, tip))
    }

    /// Signs `transition` for `market` with `nonce`, `gas` and fees.
    ///
    /// # Errors
    ///
    /// [`ChainError::Rpc`] if signing fails.
    pub async fn sign(
        &self,
        market: Address,
        transition: &Transition,
        nonce: u64,
        gas: u64,
        (max_fee, priority_fee): (u128, u128),
    ) -> Result<SignedTx> {
        let request = TransactionRequest::default()
            .with_from(self.operator)
            .with_to(market)
            .with_input(Self::calldata(transition))
            .with_nonce(nonce)
            .with_chain_id(self.chain_id)
            .with_gas_limit(gas)
            .with_max_fee_per_gas(max_fee)
            .with_max_priority_fee_per_gas(priority_fee);
        let envelope = request
            .build(&self.wallet)
            .await
            .map_err(|e| ChainError::Rpc(format!("signing failed: {e}")))?;
        Ok(SignedTx {
            hash: *envelope.tx_hash(),
            raw: envelope.encoded_2718(),
            nonce,
            max_fee,
            priority_fee,
        })
    }

    /// Broadcasts a signed transaction. A node that already has it is not an error.
    ///
    /// # Errors
    ///
    /// [`ChainError::Rpc`] (the message says `nonce too low` when the nonce is used).
    pub async fn broadcast(&self, raw: &[u8]) -> Result<()> {
        match self.provider.send_raw_transaction(raw).await {
            Ok(_) => Ok(()),
            Err(e) => {
                let text = e.to_string();
                let lower = text.to_lowercase();
                if lower.contains("already known")
                    || lower.contains("already imported")
                    || lower.contains("alreadyimported")
                {
                    Ok(())
                } else {
                    Err(ChainError::of(&e))
                }
            }
        }
    }

    /// The receipt of `hash`, if mined.
    ///
    /// # Errors
    ///
    /// [`ChainError::Rpc`].
    pub async fn receipt(&self, hash: B256) -> Result<Option<TransactionReceipt>> {
        self.provider
            .get_transaction_receipt(hash)
            .await
            .map_err(|e| ChainError::of(&e))
    }

    /// The liquidity a market reports as its pending resize request (0 for none).
    ///
    /// # Errors
    ///
    /// [`ChainError::Rpc`].
    pub async fn pending_resize(&self, market: Address) -> Result<U256> {
        let r = IMarket::new(market, &self.provider)
            .pendingResize()
            .call()
            .await
            .map_err(|e| ChainError::of_contract(&e))?;
        Ok(r._0)
    }
}
