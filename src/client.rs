//! A connection to a chain for the CLI's commands: the provider (with a wallet when there is a signer), after
//! checking that the endpoint answers and is the chain the settings and the deployment file expect.

use std::time::Duration;

use alloy::{
    network::EthereumWallet,
    primitives::Address,
    providers::{DynProvider, Provider, ProviderBuilder},
    transports::{http::reqwest::Url, RpcError, TransportError},
};

use crate::{
    config::Settings,
    deployment::{Deployment, DeploymentError},
};

/// How long the endpoint has to answer the first question (its chain id).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// A connected chain.
#[derive(Debug, Clone)]
pub struct Client {
    /// The provider; it signs with the settings' signer, if any.
    pub provider: DynProvider,
    /// The signer's address, if there is a signer.
    pub signer: Option<Address>,
    /// The endpoint's chain id.
    pub chain_id: u64,
    /// The endpoint.
    pub url: String,
}

/// Why a chain cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The RPC URL cannot be parsed.
    #[error("invalid RPC URL {url:?}: {reason}")]
    BadUrl {
        /// The URL.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// The endpoint does not answer.
    #[error("the JSON-RPC endpoint {url} does not answer: {cause}")]
    Unreachable {
        /// The endpoint.
        url: String,
        /// What happened.
        cause: String,
    },
    /// The endpoint answers with an error.
    #[error("the JSON-RPC endpoint {url} fails: {cause}")]
    Rpc {
        /// The endpoint.
        url: String,
        /// Its error.
        cause: String,
    },
    /// The endpoint is another chain than expected.
    #[error("the endpoint is chain {got}, but {expected_by} expects chain {expected}")]
    ChainIdMismatch {
        /// The chain id expected.
        expected: u64,
        /// The endpoint's chain id.
        got: u64,
        /// What expects it (`--chain-id`, the deployment file).
        expected_by: String,
    },
    /// The deployment file exists but cannot be used.
    #[error(transparent)]
    Deployment(#[from] DeploymentError),
    /// An address that should hold a contract holds no code.
    #[error("the {what} at {address} has no code on chain {chain_id} — wrong address or wrong chain?")]
    NoCode {
        /// What should be there.
        what: String,
        /// The address.
        address: Address,
        /// The chain.
        chain_id: u64,
    },
    /// A command needs a signer and none is configured.
    #[error("{0} needs a signer: give --private-key (DAMM_PRIVATE_KEY) or --keystore (DAMM_KEYSTORE)")]
    NoSigner(String),
}

/// A transport error classified: no answer at all, or an error answer.
fn classify(url: &str, e: &TransportError) -> ClientError {
    match e {
        RpcError::Transport(kind) => {
            // The transport's own text is generic ("error sending request"): add its causes.
            let mut cause = kind.to_string();
            let mut source = std::error::Error::source(kind);
            while let Some(inner) = source {
                let text = inner.to_string();
                if !cause.contains(&text) {
                    cause = format!("{cause}: {text}");
                }
                source = inner.source();
            }
            ClientError::Unreachable {
                url: url.to_string(),
                cause,
            }
        }
        other => ClientError::Rpc {
            url: url.to_string(),
            cause: crate::errors::explain_transport(other),
        },
    }
}

/// Connects to `settings.rpc_url`: asks its chain id first (within [`CONNECT_TIMEOUT`]) and refuses another
/// chain than `settings.chain_id` or than the one the deployment file (if it exists) was written for, then
/// builds the provider — signing with `settings.signer` when given (gas estimated, nonces asked of the node for
/// every transaction).
///
/// # Errors
///
/// [`ClientError::BadUrl`], [`ClientError::Unreachable`], [`ClientError::Rpc`],
/// [`ClientError::ChainIdMismatch`], or [`ClientError::Deployment`] for a deployment file that cannot be read.
pub async fn connect(settings: &Settings) -> Result<Client, ClientError> {
    let url_text = settings.rpc_url.clone();
    let url: Url = url_text.parse().map_err(|e| ClientError::BadUrl {
        url: url_text.clone(),
        reason: format!("{e}"),
    })?;
    let probe = ProviderBuilder::new()
        .disable_recommended_fillers()
        .connect_http(url.clone());
    let chain_id = match tokio::time::timeout(CONNECT_TIMEOUT, probe.get_chain_id()).await {
        Err(_) => {
            return Err(ClientError::Unreachable {
                url: url_text,
                cause: format!("no answer within {} s", CONNECT_TIMEOUT.as_secs()),
            })
        }
        Ok(Err(e)) => return Err(classify(&url_text, &e)),
        Ok(Ok(id)) => id,
    };
    if let Some(expected) = settings.chain_id {
        if expected != chain_id {
            return Err(ClientError::ChainIdMismatch {
                expected,
                got: chain_id,
                expected_by: "--chain-id (DAMM_CHAIN_ID, chain_id)".to_string(),
            });
        }
    }
    if settings.deployment.exists() {
        let deployment = Deployment::load(&settings.deployment)?;
        if deployment.chain_id != chain_id {
            return Err(ClientError::ChainIdMismatch {
                expected: deployment.chain_id,
                got: chain_id,
                expected_by: format!("the deployment file {}", settings.deployment.display()),
            });
        }
    }
    let builder = ProviderBuilder::new()
        .disable_recommended_fillers()
        .with_gas_estimation()
        .with_simple_nonce_management()
        .with_chain_id(chain_id);
    let (provider, signer) = match &settings.signer {
        Some(signer) => (
            builder
                .wallet(EthereumWallet::new(signer.clone()))
                .connect_http(url)
                .erased(),
            Some(signer.address()),
        ),
        None => (builder.connect_http(url).erased(), None),
    };
    Ok(Client {
        provider,
        signer,
        chain_id,
        url: url_text,
    })
}

impl Client {
    /// The signer's address, or [`ClientError::NoSigner`] naming `what` needs it.
    ///
    /// # Errors
    ///
    /// [`ClientError::NoSigner`].
    pub fn require_signer(&self, what: &str) -> Result<Address, ClientError> {
        self.signer.ok_or_else(|| ClientError::NoSigner(what.to_string()))
    }

    /// [`require_code`] on this chain.
    ///
    /// # Errors
    ///
    /// As [`require_code`].
    pub async fn require_code(&self, address: Address, what: &str) -> Result<(), ClientError> {
        require_code(&self.provider, address, what).await
    }
}

/// Checks that `address` holds code, or fails with [`ClientError::NoCode`] naming `what` was expected there
/// (`the vault at 0x… has no code on chain 412346 — wrong address or wrong chain?`).
///
/// # Errors
///
/// [`ClientError::NoCode`]; [`ClientError::Unreachable`] or [`ClientError::Rpc`] if the endpoint fails.
pub async fn require_code<P: Provider>(
    provider: &P,
    address: Address,
    what: &str,
) -> Result<(), ClientError> {
    let url = "in use";
    let code = provider
        .get_code_at(address)
        .await
        .map_err(|e| classify(url, &e))?;
    if !code.is_empty() {
        return Ok(());
    }
    let chain_id = provider.get_chain_id().await.map_err(|e| classify(url, &e))?;
    Err(ClientError::NoCode {
        what: what.to_string(),
        address,
        chain_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(url: &str) -> Settings {
        Settings {
            rpc_url: url.to_string(),
            signer: None,
            chain_id: None,
            deployment: std::env::temp_dir().join("damm-client-tests-no-such-deployment.json"),
        }
    }

    #[tokio::test]
    async fn an_endpoint_that_does_not_answer_is_named() {
        // Port 1 on the loopback refuses connections.
        match connect(&settings("http://127.0.0.1:1")).await {
            Err(e @ ClientError::Unreachable { .. }) => {
                let text = e.to_string();
                assert!(
                    text.starts_with("the JSON-RPC endpoint http://127.0.0.1:1 does not answer"),
                    "{text}"
                );
                assert!(text.contains("onnection refused"), "the cause is given: {text}");
            }
            other => panic!("expected Unreachable, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_bad_url_is_named() {
        let e = connect(&settings("not a url")).await.unwrap_err();
        assert!(matches!(e, ClientError::BadUrl { .. }), "{e}");
    }
}
