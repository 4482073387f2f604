//! The JSON-RPC server through alloy: what the Anvil comparison (`anvil_conformance.rs`) does not cover —
//! interval mining, the pool, impersonation, time control, state files, polling filters, historical
//! queries, error codes, batches, and Stylus programs over RPC.

mod common;

use std::time::Duration;

use alloy::{
    network::{EthereumWallet, TransactionBuilder},
    primitives::{address, Address, Bytes, B256, U256},
    providers::{ext::AnvilApi, Provider, ProviderBuilder},
    rpc::types::{Filter, TransactionRequest},
    signers::local::PrivateKeySigner,
    sol_types::SolCall,
    transports::RpcError,
};
use damm_devnode::{arb::ArbWasm, DevnodeConfig, RpcServer, ServerConfig};
use serde_json::{json, Value};

const KEY0: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const ALICE: Address = address!("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
const BOB: Address = address!("0x70997970C51812dc3A010C7d01b50e0d17dc79C8");

fn server(config: ServerConfig) -> RpcServer {
    RpcServer::spawn(config).expect("the server starts")
}

fn plain() -> RpcServer {
    server(ServerConfig::default())
}

/// A provider without a wallet: `eth_sendTransaction` goes to the node (dev accounts, impersonation).
fn provider(server: &RpcServer) -> impl Provider {
    ProviderBuilder::new().connect_http(server.url().parse().expect("url"))
}

/// A provider that signs with dev key 0.
fn wallet(server: &RpcServer) -> impl Provider {
    let signer: PrivateKeySigner = KEY0.parse().expect("key");
    ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect_http(server.url().parse().expect("url"))
}

/// POSTs a raw JSON body and returns the parsed response.
async fn post(server: &RpcServer, body: Value) -> Value {
    let response = alloy::transports::http::reqwest::Client::new()
        .post(server.url())
        .json(&body)
        .send()
        .await
        .expect("request sent");
    response.json().await.expect("JSON response")
}

fn error_code<T: std::fmt::Debug>(
    result: Result<T, RpcError<alloy::transports::TransportErrorKind>>,
) -> (i64, String) {
    match result {
        Err(RpcError::ErrorResp(payload)) => (payload.code, payload.message.to_string()),
        other => panic!("expected a JSON-RPC error, got {other:?}"),
    }
}

fn transfer(to: Address, value: u64) -> TransactionRequest {
    TransactionRequest::default()
        .with_from(ALICE)
        .with_to(to)
        .with_value(U256::from(value))
}

/// Sends `tx` through the node and waits for its receipt.
async fn mined(p: &impl Provider, tx: TransactionRequest) -> alloy::rpc::types::TransactionReceipt {
    p.send_transaction(tx)
        .await
        .expect("transaction accepted")
        .get_receipt()
        .await
        .expect("transaction mined")
}

#[tokio::test]
async fn transfers_mine_one_block_each_and_history_is_queryable() {
    let server = plain();
    let p = provider(&server);
    assert_eq!(p.get_chain_id().await.unwrap(), 412_346);
    let before = p.get_balance(BOB).await.unwrap();
    let receipt = mined(&p, transfer(BOB, 1_000)).await;
    assert!(receipt.status());
    assert_eq!(receipt.gas_used, 21_000);
    assert_eq!(receipt.block_number, Some(1));
    mined(&p, transfer(BOB, 2_000)).await;
    assert_eq!(p.get_block_number().await.unwrap(), 2);
    // The balance at each block, not only the latest.
    assert_eq!(p.get_balance(BOB).block_id(0.into()).await.unwrap(), before);
    assert_eq!(
        p.get_balance(BOB).block_id(1.into()).await.unwrap(),
        before + U256::from(1_000)
    );
    assert_eq!(p.get_balance(BOB).await.unwrap(), before + U256::from(3_000));
    // Blocks link up and can be found by hash.
    let block2 = p.get_block_by_number(2.into()).await.unwrap().expect("block 2");
    let block1 = p
        .get_block_by_hash(block2.header.parent_hash)
        .await
        .unwrap()
        .expect("block 1");
    assert_eq!(block1.header.number, 1);
    assert_eq!(
        block1.transactions.hashes().next(),
        Some(receipt.transaction_hash)
    );
    assert_eq!(
        block1.header.hash,
        block1.header.hash_slow(),
        "the block hash is its header's hash"
    );
    // A future block is refused.
    let (code, _) = error_code(p.get_balance(BOB).block_id(10.into()).await);
    assert_eq!(code, -32001);
}

#[tokio::test]
async fn a_transaction_ahead_of_its_nonce_waits_for_the_gap() {
    let server = plain();
    let p = wallet(&server);
    let signer: PrivateKeySigner = KEY0.parse().unwrap();
    let sign = |nonce: u64| {
        let signer = signer.clone();
        async move {
            let tx = transfer(BOB, 1)
                .with_nonce(nonce)
                .with_chain_id(412_346)
                .with_gas_limit(21_000)
                .with_max_fee_per_gas(100_000_000)
                .with_max_priority_fee_per_gas(0);
            let envelope = tx.build(&EthereumWallet::from(signer)).await.unwrap();
            alloy::eips::Encodable2718::encoded_2718(&envelope)
        }
    };
    let later = p.send_raw_transaction(&sign(1).await).await.unwrap();
    let later_hash = *later.tx_hash();
    assert_eq!(p.get_block_number().await.unwrap(), 0, "nothing mined yet");
    assert!(p.get_transaction_receipt(later_hash).await.unwrap().is_none());
    assert_eq!(p.get_transaction_count(ALICE).pending().await.unwrap(), 0);
    // The same transaction again, while it waits: refused as a duplicate.
    let (code, message) = error_code(p.send_raw_transaction(&sign(1).await).await.map(|_| ()));
    assert_eq!((code, message.as_str()), (-32003, "transaction already imported"));
    let first = p
        .send_raw_transaction(&sign(0).await)
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    let second = p
        .get_transaction_receipt(later_hash)
        .await
        .unwrap()
        .expect("mined with the first");
    assert_eq!(
        first.block_number, second.block_number,
        "both ready transactions share a block"
    );
    assert_eq!(second.transaction_index, Some(1));
    assert_eq!(second.inner.cumulative_gas_used(), 42_000);
    // Resending a mined transaction is refused, as Anvil words it.
    let (code, message) = error_code(p.send_raw_transaction(&sign(0).await).await.map(|_| ()));
    assert_eq!((code, message.as_str()), (-32003, "nonce too low"));
}

#[tokio::test]
async fn interval_mining_holds_transactions_until_the_block_time() {
    let server = server(ServerConfig {
        block_time: Some(Duration::from_millis(300)),
        ..ServerConfig::default()
    });
    let p = provider(&server);
    assert!(!p.anvil_get_auto_mine().await.unwrap());
    let pending = p.send_transaction(transfer(BOB, 5)).await.unwrap();
    let hash = *pending.tx_hash();
    assert!(
        p.get_transaction_receipt(hash).await.unwrap().is_none(),
        "not mined before the block time"
    );
    let tx = p
        .get_transaction_by_hash(hash)
        .await
        .unwrap()
        .expect("in the pool");
    assert_eq!(tx.block_number, None);
    tokio::time::sleep(Duration::from_millis(800)).await;
    let receipt = p
        .get_transaction_receipt(hash)
        .await
        .unwrap()
        .expect("mined by now");
    assert!(receipt.status());
    assert!(
        p.get_block_number().await.unwrap() >= 2,
        "empty blocks are mined too"
    );
    // Back to automine.
    p.anvil_set_auto_mine(true).await.unwrap();
    let receipt = mined(&p, transfer(BOB, 5)).await;
    assert!(receipt.status());
}

/// `anvil_dropTransaction` / `anvil_dropAllTransactions`, as Anvil 1.7.1 answers them: the dropped
/// transaction's hash (null when it is not in the pool: unknown, dropped already, or mined), null for dropping
/// all; a dropped transaction is never mined and its nonce stays unused; the sender's later transactions, which
/// depend on it, are dropped with it.
#[tokio::test]
async fn pooled_transactions_can_be_dropped() {
    let server = plain();
    let p = provider(&server);
    // (Explicit nonces: the provider's nonce filler would count the dropped transactions.)
    p.anvil_set_auto_mine(false).await.unwrap();
    let head = p.get_block_number().await.unwrap();
    let nonce = p.get_transaction_count(ALICE).await.unwrap();
    let first = *p
        .send_transaction(transfer(BOB, 1).with_nonce(nonce))
        .await
        .unwrap()
        .tx_hash();
    let second = *p
        .send_transaction(transfer(BOB, 2).with_nonce(nonce + 1))
        .await
        .unwrap()
        .tx_hash();
    assert_eq!(p.get_transaction_count(ALICE).pending().await.unwrap(), nonce + 2);

    assert_eq!(p.anvil_drop_transaction(first).await.unwrap(), Some(first));
    assert_eq!(
        p.anvil_drop_transaction(first).await.unwrap(),
        None,
        "dropped already"
    );
    for hash in [first, second] {
        assert!(
            p.get_transaction_by_hash(hash).await.unwrap().is_none(),
            "the transaction and the one that depends on it are gone"
        );
    }
    assert_eq!(p.anvil_drop_transaction(second).await.unwrap(), None);
    assert_eq!(p.get_transaction_count(ALICE).pending().await.unwrap(), nonce);
    // The raw answers: a hash, then null.
    let third = *p
        .send_transaction(transfer(BOB, 3).with_nonce(nonce))
        .await
        .unwrap()
        .tx_hash();
    let dropped = post(
        &server,
        json!({"jsonrpc": "2.0", "id": 1, "method": "anvil_dropTransaction", "params": [third]}),
    )
    .await;
    assert_eq!(dropped, json!({"jsonrpc": "2.0", "id": 1, "result": third}));
    let all = post(
        &server,
        json!({"jsonrpc": "2.0", "id": 2, "method": "anvil_dropAllTransactions", "params": []}),
    )
    .await;
    assert_eq!(all, json!({"jsonrpc": "2.0", "id": 2, "result": null}));
    let (code, _) = error_code(
        p.raw_request::<_, Value>("anvil_dropTransaction".into(), ())
            .await,
    );
    assert_eq!(code, -32602, "the hash is required");

    p.evm_mine(None).await.unwrap();
    assert_eq!(p.get_block_number().await.unwrap(), head + 1);
    for hash in [first, second, third] {
        assert!(
            p.get_transaction_receipt(hash).await.unwrap().is_none(),
            "a dropped transaction is not mined"
        );
    }
    let block = p.get_block_by_number((head + 1).into()).await.unwrap().unwrap();
    assert_eq!(block.transactions.len(), 0, "an empty block");
    assert_eq!(
        p.get_transaction_count(ALICE).await.unwrap(),
        nonce,
        "the nonce is unchanged"
    );

    // Dropping all: several senders' transactions; a mined transaction cannot be dropped.
    let a = *p
        .send_transaction(transfer(BOB, 4).with_nonce(nonce))
        .await
        .unwrap()
        .tx_hash();
    let b = *p
        .send_transaction(transfer(ALICE, 5).with_from(BOB).with_nonce(0))
        .await
        .unwrap()
        .tx_hash();
    p.anvil_drop_all_transactions().await.unwrap();
    p.evm_mine(None).await.unwrap();
    for hash in [a, b] {
        assert!(p.get_transaction_by_hash(hash).await.unwrap().is_none());
    }
    assert_eq!(p.get_transaction_count(ALICE).await.unwrap(), nonce);
    assert_eq!(p.get_transaction_count(BOB).await.unwrap(), 0);
    let c = *p
        .send_transaction(transfer(BOB, 6).with_nonce(nonce))
        .await
        .unwrap()
        .tx_hash();
    p.evm_mine(None).await.unwrap();
    let receipt = p.get_transaction_receipt(c).await.unwrap().expect("mined");
    assert!(receipt.status());
    assert_eq!(
        p.anvil_drop_transaction(c).await.unwrap(),
        None,
        "mined, not pooled"
    );
    assert_eq!(p.get_transaction_count(ALICE).await.unwrap(), nonce + 1);
}

#[tokio::test]
async fn impersonated_accounts_send_without_a_key() {
    let server = plain();
    let p = provider(&server);
    let whale = address!("0x00000000000000000000000000000000000a11ce");
    p.anvil_set_balance(whale, U256::from(10u64).pow(U256::from(18u64)))
        .await
        .unwrap();
    let request = TransactionRequest::default()
        .with_from(whale)
        .with_to(BOB)
        .with_value(U256::from(7));
    let (code, message) = error_code(p.send_transaction(request.clone()).await.map(|_| ()));
    assert_eq!((code, message.as_str()), (-32602, "No Signer available"));
    p.anvil_impersonate_account(whale).await.unwrap();
    // alloy's nonce cache moved on after the refused send: give the nonce.
    let receipt = mined(&p, request.clone().with_nonce(0)).await;
    assert!(receipt.status());
    assert_eq!(receipt.from, whale);
    let tx = p
        .get_transaction_by_hash(receipt.transaction_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tx.inner.signer(), whale);
    assert_eq!(*tx.inner.tx_hash(), receipt.transaction_hash);
    p.anvil_stop_impersonating_account(whale).await.unwrap();
    let (code, _) = error_code(p.send_transaction(request).await.map(|_| ()));
    assert_eq!(code, -32602);
}

#[tokio::test]
async fn time_snapshots_and_dev_setters() {
    let server = plain();
    let p = provider(&server);
    let head = p
        .get_block_by_number(0.into())
        .await
        .unwrap()
        .unwrap()
        .header
        .timestamp;
    p.anvil_set_next_block_timestamp(head + 1_000).await.unwrap();
    p.evm_mine(None).await.unwrap();
    let block = p.get_block_by_number(1.into()).await.unwrap().unwrap();
    assert_eq!(block.header.timestamp, head + 1_000);
    let offset = p.anvil_increase_time(3_600).await.unwrap();
    assert!(offset >= 3_600, "the total offset includes the hour: {offset}");
    p.anvil_mine(Some(3), Some(10)).await.unwrap();
    assert_eq!(p.get_block_number().await.unwrap(), 4);
    let b2 = p
        .get_block_by_number(2.into())
        .await
        .unwrap()
        .unwrap()
        .header
        .timestamp;
    let b3 = p
        .get_block_by_number(3.into())
        .await
        .unwrap()
        .unwrap()
        .header
        .timestamp;
    assert!(b2 >= head + 1_000 + 3_600, "the offset moves time on");
    assert_eq!(b3, b2 + 10, "anvil_mine's interval");
    // A timestamp in the past is refused, by either method.
    let (code, _) = error_code(p.anvil_set_next_block_timestamp(head).await);
    assert_eq!(code, -32602);
    let (code, _) = error_code(p.raw_request::<_, String>("evm_mine".into(), (head,)).await);
    assert_eq!(code, -32602);
    // Fee history over the last blocks: the fixed base fee, no tips.
    let history = p
        .get_fee_history(3, alloy::eips::BlockNumberOrTag::Latest, &[50.0])
        .await
        .unwrap();
    assert_eq!(history.oldest_block, 2);
    assert_eq!(history.base_fee_per_gas, vec![100_000_000u128; 4]);
    assert_eq!(history.reward, Some(vec![vec![0u128]; 3]));

    let target = address!("0x000000000000000000000000000000000000c0de");
    let snapshot = p.anvil_snapshot().await.unwrap();
    p.anvil_set_code(
        target,
        Bytes::from_static(&[0x60, 0x2a, 0x5f, 0x52, 0x60, 0x20, 0x5f, 0xf3]),
    )
    .await
    .unwrap();
    p.anvil_set_storage_at(target, U256::from(1), B256::with_last_byte(9))
        .await
        .unwrap();
    p.anvil_set_nonce(target, 5).await.unwrap();
    p.anvil_mine(Some(2), None).await.unwrap();
    let call = TransactionRequest::default().with_to(target);
    assert_eq!(
        p.call(call.clone()).await.unwrap(),
        Bytes::from(U256::from(42).to_be_bytes_vec())
    );
    assert_eq!(
        p.get_storage_at(target, U256::from(1)).await.unwrap(),
        U256::from(9)
    );
    assert_eq!(p.get_transaction_count(target).await.unwrap(), 5);
    assert!(p.anvil_revert(snapshot).await.unwrap());
    assert_eq!(p.get_block_number().await.unwrap(), 4);
    assert!(p.get_code_at(target).await.unwrap().is_empty());
    assert_eq!(p.get_storage_at(target, U256::from(1)).await.unwrap(), U256::ZERO);
    assert!(
        !p.anvil_revert(snapshot).await.unwrap(),
        "a snapshot is used once"
    );
}

#[tokio::test]
async fn the_state_file_carries_the_chain_across_restarts() {
    let path = std::env::temp_dir().join(format!("damm-devnode-state-{}.json", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let config = ServerConfig {
        state_file: Some(path.clone()),
        ..ServerConfig::default()
    };
    let target = address!("0x000000000000000000000000000000000000beef");
    let head = {
        let server = server(config.clone());
        let p = provider(&server);
        mined(&p, transfer(target, 12_345)).await;
        p.anvil_set_storage_at(target, U256::from(3), B256::with_last_byte(4))
            .await
            .unwrap();
        let head = p.get_block_number().await.unwrap();
        server.shutdown().expect("the state is written");
        head
    };
    assert!(path.exists());
    let server = server(config);
    let p = provider(&server);
    assert_eq!(
        p.get_block_number().await.unwrap(),
        head,
        "the chain continues from the saved head"
    );
    assert_eq!(p.get_balance(target).await.unwrap(), U256::from(12_345));
    assert_eq!(
        p.get_storage_at(target, U256::from(3)).await.unwrap(),
        U256::from(4)
    );
    assert_eq!(p.get_transaction_count(ALICE).await.unwrap(), 1);
    let receipt = mined(&p, transfer(target, 1)).await;
    assert_eq!(receipt.block_number, Some(head + 1));
    drop(server);
    // A file that is not a state file is refused by name.
    std::fs::write(&path, b"not json").unwrap();
    let error = RpcServer::spawn(ServerConfig {
        state_file: Some(path.clone()),
        ..ServerConfig::default()
    })
    .expect_err("a corrupt state file is refused");
    assert!(error.to_string().contains("not a devnode state file"), "{error}");
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn errors_batches_and_aliases_follow_json_rpc() {
    let server = plain();
    let unknown = post(
        &server,
        json!({"jsonrpc": "2.0", "id": 1, "method": "eth_nope", "params": []}),
    )
    .await;
    assert_eq!(unknown["error"]["code"], -32601);
    let bad = post(
        &server,
        json!({"jsonrpc": "2.0", "id": 2, "method": "eth_getBalance", "params": ["0x12"]}),
    )
    .await;
    assert_eq!(bad["error"]["code"], -32602);
    let extra = post(
        &server,
        json!({"jsonrpc": "2.0", "id": 3, "method": "eth_chainId", "params": [1]}),
    )
    .await;
    assert_eq!(extra["error"]["code"], -32602);
    let response = alloy::transports::http::reqwest::Client::new()
        .post(server.url())
        .body("{not json")
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(
        response["error"]["code"], -32600,
        "Anvil answers malformed JSON with -32600"
    );
    let batch = post(
        &server,
        json!([
            {"jsonrpc": "2.0", "id": "a", "method": "eth_chainId"},
            {"jsonrpc": "2.0", "id": "b", "method": "nope"},
            {"jsonrpc": "2.0", "id": "c", "method": "hardhat_setBalance", "params": [BOB, "0x10"]},
            {"jsonrpc": "2.0", "id": "d", "method": "eth_getBalance", "params": [BOB]},
        ]),
    )
    .await;
    let batch = batch.as_array().expect("a batch answers with an array");
    assert_eq!(batch.len(), 4);
    assert_eq!(batch[0]["id"], "a");
    assert_eq!(batch[0]["result"], "0x64aba");
    assert_eq!(batch[1]["error"]["code"], -32601);
    assert_eq!(
        batch[3]["result"], "0x10",
        "trailing block tag is optional; setters apply in order"
    );
    let empty = post(&server, json!([])).await;
    assert_eq!(
        empty["error"],
        json!({"code": -32600, "message": "Invalid request"})
    );
}

#[tokio::test]
async fn polling_filters_return_each_change_once() {
    let server = plain();
    let p = provider(&server);
    // A contract whose every call logs topic 0x..aa with the caller's value: LOG1(0, 0, 0xaa).
    let logger = address!("0x0000000000000000000000000000000000001099");
    p.anvil_set_code(logger, Bytes::from_static(&[0x60, 0xaa, 0x5f, 0x5f, 0xa1, 0x00]))
        .await
        .unwrap();
    let filter = Filter::new()
        .from_block(0)
        .address(logger)
        .event_signature(B256::with_last_byte(0xaa));
    let logs_id = p.new_filter(&filter).await.unwrap();
    let blocks_id = p.new_block_filter().await.unwrap();
    let call = TransactionRequest::default().with_from(ALICE).with_to(logger);
    mined(&p, call.clone()).await;
    mined(&p, transfer(BOB, 1)).await;
    let changes: Vec<alloy::rpc::types::Log> = p.get_filter_changes(logs_id).await.unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].block_number, Some(1));
    let again: Vec<alloy::rpc::types::Log> = p.get_filter_changes(logs_id).await.unwrap();
    assert!(again.is_empty(), "changes are reported once");
    let blocks: Vec<B256> = p.get_filter_changes(blocks_id).await.unwrap();
    assert_eq!(blocks.len(), 2);
    mined(&p, call).await;
    let all = p.get_filter_logs(logs_id).await.unwrap();
    assert_eq!(all.len(), 2, "eth_getFilterLogs returns every match");
    assert!(p.uninstall_filter(logs_id).await.unwrap());
    let logs = p
        .get_logs(&Filter::new().from_block(0).address(logger))
        .await
        .unwrap();
    assert_eq!(
        logs.iter().map(|l| l.block_number).collect::<Vec<_>>(),
        vec![Some(1), Some(3)]
    );
}

#[tokio::test]
async fn a_stylus_program_deploys_activates_and_runs_over_rpc() {
    let server = server(ServerConfig {
        node: DevnodeConfig {
            wall_clock: true,
            ..DevnodeConfig::default()
        },
        ..ServerConfig::default()
    });
    let p = wallet(&server);
    let code = common::counter().code().to_vec();
    let deploy = TransactionRequest::default().with_deploy_code(common::init_code_for(&code));
    let receipt = mined(&p, deploy).await;
    assert!(receipt.status());
    let counter = receipt.contract_address.expect("deployed");
    // Not activated yet: calls revert with ArbWasm's ProgramNotActivated.
    let number = TransactionRequest::default()
        .with_to(counter)
        .with_input(common::Counter::numberCall {}.abi_encode());
    let (code, _) = error_code(p.call(number.clone()).await);
    assert_eq!(code, 3);
    // Activation: the data fee from an eth_call, then the transaction.
    let activate = TransactionRequest::default()
        .with_to(damm_devnode::arb::ARB_WASM)
        .with_input(ArbWasm::activateProgramCall { program: counter }.abi_encode())
        .with_value(U256::from(10u64).pow(U256::from(18u64)));
    let quote = p.call(activate.clone()).await.unwrap();
    let quote = ArbWasm::activateProgramCall::abi_decode_returns(&quote).unwrap();
    let stylus_version = p
        .call(
            TransactionRequest::default()
                .with_to(damm_devnode::arb::ARB_WASM)
                .with_input(ArbWasm::stylusVersionCall {}.abi_encode()),
        )
        .await
        .unwrap();
    assert_eq!(
        quote.version,
        ArbWasm::stylusVersionCall::abi_decode_returns(&stylus_version).unwrap()
    );
    let activate = activate.with_value(quote.dataFee);
    let receipt = mined(&p, activate).await;
    assert!(receipt.status());
    let set = TransactionRequest::default().with_to(counter).with_input(
        common::Counter::setNumberCall {
            newNumber: U256::from(41),
        }
        .abi_encode(),
    );
    mined(&p, set).await;
    let increment = TransactionRequest::default()
        .with_to(counter)
        .with_input(common::Counter::incrementCall {}.abi_encode());
    let gas = p.estimate_gas(increment.clone()).await.unwrap();
    let receipt = mined(&p, increment.with_gas_limit(gas)).await;
    assert!(receipt.status(), "the estimate is enough");
    let out = p.call(number).await.unwrap();
    assert_eq!(U256::from_be_slice(&out), U256::from(42));
}
