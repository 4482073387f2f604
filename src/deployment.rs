//! The deployment file: what `damm deploy` created, read by every other command.

use std::path::Path;

use alloy::primitives::Address;
use serde::{Deserialize, Serialize};

/// Everything one deployment of the dAMM consists of (JSON, camelCase; see `docs/OPERATOR.md`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    /// The chain it lives on.
    pub chain_id: u64,
    /// The Uniswap V2 factory the vault checks pairs against.
    pub factory: Address,
    /// The vault (the address everyone calls).
    pub vault: Address,
    /// The programs the vault delegates to.
    #[serde(default)]
    pub vault_programs: VaultPrograms,
    /// The market-admin program every market delegates to.
    #[serde(default)]
    pub market_admin: Address,
    /// The vault's pools.
    #[serde(default)]
    pub pools: Vec<PoolEntry>,
    /// The markets.
    #[serde(default)]
    pub markets: Vec<MarketEntry>,
}

/// The vault's delegate programs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VaultPrograms {
    /// `damm-vault-settlement`.
    pub settlement: Address,
    /// `damm-vault-withdrawals`.
    pub withdrawals: Address,
    /// `damm-vault-markets`.
    pub markets: Address,
    /// `damm-vault-admin`.
    pub admin: Address,
}

/// A pool: a Uniswap V2 pair and its tokens.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PoolEntry {
    /// The pair (the pool's identifier in the vault).
    pub pair: Address,
    /// The pair's token0.
    pub token0: Address,
    /// The pair's token1.
    pub token1: Address,
}

/// Whether a market settles in batches (an L2's operator) or trade by trade on L1.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MarketKind {
    /// Batches posted by an operator.
    #[default]
    L2,
    /// Swaps settled at once.
    L1,
}

/// A market.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MarketEntry {
    /// Its name (unique in the file).
    pub name: String,
    /// Its contract.
    pub address: Address,
    /// The pool (pair) it draws on.
    pub pool: Address,
    /// Its operator at deployment.
    pub operator: Address,
    /// L2 or L1.
    pub kind: MarketKind,
}

/// Why a deployment file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DeploymentError {
    /// The file cannot be read or written.
    #[error("deployment file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not a deployment.
    #[error("deployment file {path} is not a deployment: {message}")]
    Parse {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// No market has this name or address.
    #[error("no market named or at {0:?} in the deployment (known: {1})")]
    UnknownMarket(String, String),
}

impl Deployment {
    /// Reads `path`.
    ///
    /// # Errors
    ///
    /// [`DeploymentError::Io`] or [`DeploymentError::Parse`].
    pub fn load(path: &Path) -> Result<Self, DeploymentError> {
        let bytes = std::fs::read(path).map_err(|source| DeploymentError::Io {
            path: path.display().to_string(),
            source,
        })?;
        serde_json::from_slice(&bytes).map_err(|e| DeploymentError::Parse {
            path: path.display().to_string(),
            message: e.to_string(),
        })
    }

    /// Writes `path` atomically (a temporary file renamed over it), so a crash never leaves half a file.
    ///
    /// # Errors
    ///
    /// [`DeploymentError::Io`].
    pub fn save(&self, path: &Path) -> Result<(), DeploymentError> {
        let io = |source| DeploymentError::Io {
            path: path.display().to_string(),
            source,
        };
        let json = serde_json::to_vec_pretty(self).expect("a deployment serialises");
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, json).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    }

    /// The market named `key`, or at address `key`.
    ///
    /// # Errors
    ///
    /// [`DeploymentError::UnknownMarket`].
    pub fn market(&self, key: &str) -> Result<&MarketEntry, DeploymentError> {
        let by_address = key.parse::<Address>().ok();
        self.markets
            .iter()
            .find(|m| m.name == key || Some(m.address) == by_address)
            .ok_or_else(|| {
                let known: Vec<&str> = self.markets.iter().map(|m| m.name.as_str()).collect();
                DeploymentError::UnknownMarket(key.to_string(), known.join(", "))
            })
    }

    /// The pool of pair `pair`.
    pub fn pool(&self, pair: Address) -> Option<&PoolEntry> {
        self.pools.iter().find(|p| p.pair == pair)
    }
}
