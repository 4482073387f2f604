//! Reverts decoded into names and values: every error a person sees from the client and the CLI goes through
//! here, so a failed transaction reads `HealthFactorTooLow { before: …, after: …, minimum: … }` rather than
//! `execution reverted: 0x5e1a…`.
//!
//! The revert data is tried, in order, against the market's errors, the vault's errors, the StylusDeployer's
//! errors, Solidity's `Error(string)` and `Panic(uint256)`. The contracts' interface files
//! (`contracts/*/I*.sol`, from which [`crate::bindings`] is generated) declare their errors without parameter
//! names, so the errors are declared again here with the names the contracts' sources give them; a test checks
//! that the two declarations have exactly the same selectors. Error codes of the pricing math (`Math`,
//! `OpFailed`, `InvalidParams`, `InvalidResize`) are shown with the [`MathError`] they stand for.

use alloy::{
    primitives::Bytes,
    sol_types::{Panic, Revert, SolError, SolInterface},
    transports::TransportError,
};
use damm_devnode::deployer::StylusDeployer::StylusDeployerErrors;
use damm_math::MathError;

/// The errors as the contracts declare them, with their parameter names.
pub mod named {
    alloy::sol! {
        /// The market's errors (`contracts/market/src/lib.rs`).
        #[derive(Debug, PartialEq, Eq)]
        interface MarketErrors {
            error Unauthorized(address caller);
            error InvalidAddress(address value);
            error MalformedParams(uint256 offset);
            error InvalidParams(uint8 code);
            error WrongKind(bool l1);
            error MarketFrozen();
            error BadSequence(uint64 expected, uint64 given);
            error StaleStateHash(bytes32 current, bytes32 given);
            error StateHashMismatch(bytes32 computed, bytes32 given);
            error MalformedOps(uint256 offset);
            error EmptyBatch();
            error TimestampDecreased(uint256 index, uint64 timestamp, uint64 last);
            error TimestampInFuture(uint256 index, uint64 timestamp, uint64 now);
            error OpFailed(uint256 index, uint8 code);
            error LimitMissed(uint256 index, uint256 amount, uint256 limit);
            error DeadlineExpired(uint256 deadline, uint64 now);
            error NoPendingResize();
            error ResizeNotAdmitted(uint256 liquidity, uint256 limit);
            error ResizeNotOverdue(uint64 deadline);
            error InvalidResize(uint8 code);
        }

        /// The vault's errors (`contracts/vault/src/lib.rs`).
        #[derive(Debug, PartialEq, Eq)]
        interface VaultErrors {
            error Unauthorized(address caller);
            error ContractPaused();
            error InvalidAddress(address value);
            error InvalidPair(address pair);
            error PoolExists(address pool);
            error UnknownPool(address pool);
            error ZeroAmount();
            error SlippageExceeded(uint256 shares, uint256 minShares);
            error FeeOnTransfer(address token, uint256 expected, uint256 received);
            error TokenCallFailed(address token, bytes data);
            error InsufficientShares(address account, uint256 balance, uint256 needed);
            error InsufficientAllowance(address owner, address spender, uint256 allowance, uint256 needed);
            error WithdrawalExceedsFree(uint256 requested, uint256 available);
            error MarketExists(address market);
            error UnknownMarket(address market);
            error MarketInactive(address market);
            error TooManyMarkets(address pool);
            error MarketOutOfBounds(address market);
            error InvalidFlows();
            error PayoutUncovered(uint256 out0, uint256 out1);
            error HealthFactorTooLow(uint256 before, uint256 after, uint256 minimum);
            error AdmissionUncovered(bool up);
            error AdmissionHealthFactor(bool up, uint256 healthFactor, uint256 minimum);
            error InvalidHfMin(uint256 hfMin);
            error InvalidReward(uint256 index);
            error Math(uint8 code);
        }
    }
}

use named::{MarketErrors::MarketErrorsErrors as MarketError, VaultErrors::VaultErrorsErrors as VaultError};

/// Every [`MathError`], indexed by its [`MathError::code`].
const MATH_ERRORS: [MathError; 19] = [
    MathError::MathOverflow,
    MathError::TypeCastFailed,
    MathError::PriceRangeViolation,
    MathError::AmountIsZero,
    MathError::InvalidInput,
    MathError::InvalidParameters,
    MathError::InvalidPriceRange,
    MathError::InvalidMinimumLiquidity,
    MathError::InvalidCollectFeeMode,
    MathError::InvalidCompoundingFeeBps,
    MathError::InvalidPoolVersion,
    MathError::InvalidFee,
    MathError::ExceedMaxFeeBps,
    MathError::ExceededSlippage,
    MathError::InsufficientLiquidity,
    MathError::InvalidRewardDuration,
    MathError::MustWithdrawnIneligibleReward,
    MathError::RewardUninitialized,
    MathError::RewardCampaignInProgress,
];

/// The pricing math's error with code `code`, if there is one.
pub fn math_error(code: u8) -> Option<MathError> {
    MATH_ERRORS.get(usize::from(code)).copied()
}

/// `5 (InvalidPriceRange)`, or `200 (unknown)`.
fn math_code(code: u8) -> String {
    match math_error(code) {
        Some(e) => format!("{code} ({})", e.name()),
        None => format!("{code} (unknown)"),
    }
}

/// The inner value of a derived `Debug` of a one-field tuple variant: `Name(Name { a: 1 })` → `Name { a: 1 }`.
fn inner_debug(variant: &impl std::fmt::Debug) -> String {
    let text = format!("{variant:?}");
    match (text.find('('), text.ends_with(')')) {
        (Some(open), true) => text[open + 1..text.len() - 1].to_string(),
        _ => text,
    }
}

/// Bytes too long to be worth printing in full: the length and the first bytes.
fn short_bytes(bytes: &[u8]) -> String {
    const SHOWN: usize = 32;
    if bytes.len() <= SHOWN {
        format!("0x{}", alloy::primitives::hex::encode(bytes))
    } else {
        format!(
            "0x{}… ({} bytes)",
            alloy::primitives::hex::encode(&bytes[..SHOWN]),
            bytes.len()
        )
    }
}

fn market_error(e: &MarketError) -> String {
    match e {
        MarketError::InvalidParams(e) => format!("InvalidParams {{ code: {} }}", math_code(e.code)),
        MarketError::InvalidResize(e) => format!("InvalidResize {{ code: {} }}", math_code(e.code)),
        MarketError::OpFailed(e) => format!("OpFailed {{ index: {}, code: {} }}", e.index, math_code(e.code)),
        other => inner_debug(other),
    }
}

fn vault_error(e: &VaultError) -> String {
    match e {
        VaultError::Math(e) => format!("Math {{ code: {} }}", math_code(e.code)),
        VaultError::TokenCallFailed(e) => {
            let data = if e.data.is_empty() {
                "empty".to_string()
            } else {
                match try_decode(&e.data) {
                    Some(inner) => inner,
                    None => short_bytes(&e.data),
                }
            };
            format!("TokenCallFailed {{ token: {}, data: {data} }}", e.token)
        }
        other => inner_debug(other),
    }
}

fn deployer_error(e: &StylusDeployerErrors) -> String {
    match e {
        StylusDeployerErrors::ContractDeploymentError(e) => {
            format!(
                "ContractDeploymentError {{ bytecode: {} }}",
                short_bytes(&e.bytecode)
            )
        }
        other => inner_debug(other),
    }
}

/// The revert decoded with one of the known error sets, or `None`.
fn try_decode(data: &[u8]) -> Option<String> {
    if let Ok(e) = MarketError::abi_decode(data) {
        return Some(market_error(&e));
    }
    if let Ok(e) = VaultError::abi_decode(data) {
        return Some(vault_error(&e));
    }
    if let Ok(e) = StylusDeployerErrors::abi_decode(data) {
        return Some(deployer_error(&e));
    }
    if let Ok(e) = Revert::abi_decode(data) {
        return Some(format!("Error({:?})", e.reason));
    }
    if let Ok(e) = Panic::abi_decode(data) {
        let name = e.kind().map_or("unknown panic code", |kind| kind.as_str());
        return Some(format!("Panic({:#04x}: {name})", e.code));
    }
    None
}

/// Revert data as a person reads it: the error's name and its values (`StateHashMismatch { computed: 0x…,
/// given: 0x… }`, `Error("…")`, `Panic(0x11: arithmetic underflow or overflow)`), `empty revert` without data,
/// or `unknown revert 0x…` for data no known error matches.
pub fn decode_revert(data: &[u8]) -> String {
    if data.is_empty() {
        return "empty revert".to_string();
    }
    try_decode(data).unwrap_or_else(|| format!("unknown revert {}", short_bytes(data)))
}

/// The revert data an RPC error carries (an `eth_call` or `eth_estimateGas` that reverted), if any.
pub fn revert_data_of_transport(e: &TransportError) -> Option<Bytes> {
    e.as_error_resp().and_then(|payload| payload.as_revert_data())
}

/// An RPC error as a person reads it: the decoded revert if it is one ([`decode_revert`]), else the error's
/// text.
pub fn explain_transport(e: &TransportError) -> String {
    match revert_data_of_transport(e) {
        Some(data) => format!("reverted: {}", decode_revert(&data)),
        None => e.to_string(),
    }
}

/// A contract call's error as a person reads it: the decoded revert if it is one, else the error's text.
pub fn explain_contract(e: &alloy::contract::Error) -> String {
    match e {
        alloy::contract::Error::TransportError(e) => explain_transport(e),
        other => match other.as_revert_data() {
            Some(data) => format!("reverted: {}", decode_revert(&data)),
            None => other.to_string(),
        },
    }
}

/// An error of anything that may hold a contract or RPC error (in an [`anyhow::Error`]'s chain), explained.
pub fn explain_any(e: &anyhow::Error) -> String {
    for cause in e.chain() {
        if let Some(e) = cause.downcast_ref::<alloy::contract::Error>() {
            return explain_contract(e);
        }
        if let Some(e) = cause.downcast_ref::<TransportError>() {
            return explain_transport(e);
        }
    }
    format!("{e:#}")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use alloy::{
        primitives::{Address, B256, U256},
        sol_types::SolInterface,
        transports::{RpcError, TransportErrorKind},
    };
    use damm_devnode::deployer::StylusDeployer;

    use super::*;
    use crate::bindings::{IMarket, IVault};

    fn selectors<T: SolInterface>() -> BTreeSet<[u8; 4]> {
        T::selectors().collect()
    }

    #[test]
    fn the_named_errors_are_the_interfaces_errors() {
        assert_eq!(
            selectors::<MarketError>(),
            selectors::<IMarket::IMarketErrors>(),
            "the market's errors here and in IMarket.sol"
        );
        assert_eq!(
            selectors::<VaultError>(),
            selectors::<IVault::IVaultErrors>(),
            "the vault's errors here and in IVault.sol"
        );
    }

    #[test]
    fn market_errors_decode_with_names() {
        let (a, b) = (B256::repeat_byte(0xaa), B256::repeat_byte(0xbb));
        let data = IMarket::StateHashMismatch { _0: a, _1: b }.abi_encode();
        assert_eq!(
            decode_revert(&data),
            format!("StateHashMismatch {{ computed: {a}, given: {b} }}")
        );
        let data = IMarket::BadSequence { _0: 4, _1: 6 }.abi_encode();
        assert_eq!(decode_revert(&data), "BadSequence { expected: 4, given: 6 }");
        let data = IMarket::MarketFrozen {}.abi_encode();
        assert_eq!(decode_revert(&data), "MarketFrozen");
        let code = MathError::PriceRangeViolation.code();
        let data = IMarket::OpFailed {
            _0: U256::from(3),
            _1: code,
        }
        .abi_encode();
        assert_eq!(
            decode_revert(&data),
            "OpFailed { index: 3, code: 2 (PriceRangeViolation) }"
        );
        let data = IMarket::InvalidParams(MathError::InvalidPriceRange.code()).abi_encode();
        assert_eq!(
            decode_revert(&data),
            "InvalidParams { code: 6 (InvalidPriceRange) }"
        );
        let data = IMarket::InvalidParams(250).abi_encode();
        assert_eq!(decode_revert(&data), "InvalidParams { code: 250 (unknown) }");
        let data = IMarket::InvalidResize(MathError::InsufficientLiquidity.code()).abi_encode();
        assert_eq!(
            decode_revert(&data),
            "InvalidResize { code: 14 (InsufficientLiquidity) }"
        );
        // Every error of the interface decodes to its own name.
        for selector in IMarket::IMarketErrors::SELECTORS {
            let name = IMarket::IMarketErrors::name_by_selector(*selector).expect("a name");
            let mut data = selector.to_vec();
            data.extend([0u8; 32 * 3]);
            assert!(
                decode_revert(&data).starts_with(name),
                "{name}: {}",
                decode_revert(&data)
            );
        }
    }

    #[test]
    fn vault_errors_decode_with_names() {
        let data = IVault::HealthFactorTooLow {
            _0: U256::from(1),
            _1: U256::from(2),
            _2: U256::from(3),
        }
        .abi_encode();
        assert_eq!(
            decode_revert(&data),
            "HealthFactorTooLow { before: 1, after: 2, minimum: 3 }"
        );
        let pool = Address::repeat_byte(0x11);
        let data = IVault::UnknownPool(pool).abi_encode();
        assert_eq!(decode_revert(&data), format!("UnknownPool {{ pool: {pool} }}"));
        let data = IVault::Math(0).abi_encode();
        assert_eq!(decode_revert(&data), "Math { code: 0 (MathOverflow) }");
        let inner = Revert::from("ERC20: transfer amount exceeds balance").abi_encode();
        let data = IVault::TokenCallFailed {
            _0: pool,
            _1: inner.into(),
        }
        .abi_encode();
        assert_eq!(
            decode_revert(&data),
            format!("TokenCallFailed {{ token: {pool}, data: Error(\"ERC20: transfer amount exceeds balance\") }}")
        );
        let data = IVault::TokenCallFailed {
            _0: pool,
            _1: Bytes::new(),
        }
        .abi_encode();
        assert_eq!(
            decode_revert(&data),
            format!("TokenCallFailed {{ token: {pool}, data: empty }}")
        );
        for selector in IVault::IVaultErrors::SELECTORS {
            let name = IVault::IVaultErrors::name_by_selector(*selector).expect("a name");
            let error = IVault::IVaultErrors::abi_decode(&{
                // The smallest valid encoding: zero words, and an empty `bytes` for TokenCallFailed.
                let mut data = selector.to_vec();
                if name == "TokenCallFailed" {
                    data.extend(
                        IVault::TokenCallFailed {
                            _0: pool,
                            _1: Bytes::new(),
                        }
                        .abi_encode()[4..]
                            .to_vec(),
                    );
                } else {
                    data.extend([0u8; 32 * 4]);
                }
                data
            })
            .expect("decodes with the bindings");
            let text = decode_revert(&error.abi_encode());
            assert!(text.starts_with(name), "{name}: {text}");
        }
    }

    #[test]
    fn deployer_errors_decode() {
        let new = Address::repeat_byte(0x22);
        let data = StylusDeployer::ContractInitializationError { newContract: new }.abi_encode();
        assert_eq!(
            decode_revert(&data),
            format!("ContractInitializationError {{ newContract: {new} }}")
        );
        let data = StylusDeployer::InitValueButNotInitData {}.abi_encode();
        assert_eq!(decode_revert(&data), "InitValueButNotInitData");
        let data = StylusDeployer::ContractDeploymentError {
            bytecode: vec![0xef; 1000].into(),
        }
        .abi_encode();
        let text = decode_revert(&data);
        assert!(
            text.starts_with("ContractDeploymentError { bytecode: 0xefef")
                && text.ends_with("(1000 bytes) }"),
            "{text}"
        );
    }

    #[test]
    fn solidity_errors_and_unknown_data() {
        let data = Revert::from("nope").abi_encode();
        assert_eq!(decode_revert(&data), "Error(\"nope\")");
        let data = Panic::from(alloy::sol_types::PanicKind::UnderOverflow).abi_encode();
        assert_eq!(
            decode_revert(&data),
            "Panic(0x11: arithmetic underflow or overflow)"
        );
        let data = Panic {
            code: U256::from(0x99),
        }
        .abi_encode();
        assert_eq!(decode_revert(&data), "Panic(0x99: unknown panic code)");
        assert_eq!(decode_revert(&[]), "empty revert");
        assert_eq!(decode_revert(&[1, 2, 3, 4, 5]), "unknown revert 0x0102030405");
    }

    #[test]
    fn math_codes_are_indices() {
        for (i, e) in MATH_ERRORS.iter().enumerate() {
            assert_eq!(usize::from(e.code()), i, "{e}");
        }
        assert_eq!(math_error(19), None);
    }

    /// An RPC error response with revert data, as a node answers a reverting `eth_call`.
    fn revert_response(data: &[u8]) -> TransportError {
        let json = format!(
            r#"{{"code":3,"message":"execution reverted","data":"{}"}}"#,
            Bytes::copy_from_slice(data)
        );
        RpcError::ErrorResp(serde_json::from_str(&json).expect("an error payload"))
    }

    #[test]
    fn transport_and_contract_errors_explained() {
        let data = IVault::ContractPaused {}.abi_encode();
        let e = revert_response(&data);
        assert_eq!(revert_data_of_transport(&e), Some(Bytes::from(data.clone())));
        assert_eq!(explain_transport(&e), "reverted: ContractPaused");
        let contract = alloy::contract::Error::TransportError(revert_response(&data));
        assert_eq!(explain_contract(&contract), "reverted: ContractPaused");
        assert_eq!(
            explain_any(&anyhow::Error::new(contract).context("sending createPool")),
            "reverted: ContractPaused"
        );

        let e: TransportError = TransportErrorKind::custom_str("connection refused");
        assert_eq!(revert_data_of_transport(&e), None);
        assert!(explain_transport(&e).contains("connection refused"));
        let contract = alloy::contract::Error::TransportError(e);
        assert!(explain_contract(&contract).contains("connection refused"));
        let other = alloy::contract::Error::NotADeploymentTransaction;
        assert_eq!(explain_contract(&other), other.to_string());
    }
}
