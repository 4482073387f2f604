//! The StylusDeployer (`0xcEcb…A990`): deploy, activate and initialise the counter in one transaction,
//! with CREATE and CREATE2, value accounting to the wei, and each of its failures reverting everything.

mod common;

use alloy_primitives::{keccak256, Address, Bytes, B256, U256};
use alloy_sol_types::{SolCall, SolError, SolEvent};
use common::{counter, init_code_for, u, view, Counter};
use damm_devnode::{
    arb::{ArbWasm, ARB_WASM, STYLUS_VERSION},
    deployer::{StylusDeployer, STYLUS_DEPLOYER},
    node::TxRequest,
    Devnode, Receipt,
};

fn deploy_through(node: &mut Devnode, value: U256, call: &StylusDeployer::deployCall) -> Receipt {
    let from = node.accounts()[0];
    node.send(&TxRequest {
        from,
        to: Some(STYLUS_DEPLOYER),
        value,
        input: call.abi_encode().into(),
        gas_limit: Some(10_000_000),
    })
    .expect("transaction accepted")
}

fn deployed_address(receipt: &Receipt) -> Address {
    let log = receipt
        .logs
        .iter()
        .find(|l| l.address == STYLUS_DEPLOYER)
        .expect("ContractDeployed is emitted");
    StylusDeployer::ContractDeployed::decode_log_data(&log.data)
        .expect("decodes")
        .deployedContract
}

fn ether(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18u64))
}

#[test]
fn deploys_activates_and_initialises_in_one_transaction() {
    let mut node = Devnode::new();
    let from = node.accounts()[0];
    let init_code = init_code_for(counter().code());
    let init_data: Bytes = Counter::setNumberCall { newNumber: u(7) }.abi_encode().into();
    let salt = B256::with_last_byte(1);
    let balance = node.balance(from);
    let receipt = deploy_through(
        &mut node,
        ether(1),
        &StylusDeployer::deployCall {
            bytecode: init_code.clone(),
            initData: init_data.clone(),
            initValue: U256::ZERO,
            salt,
        },
    );
    assert!(receipt.status, "{receipt:?}");
    let program = deployed_address(&receipt);
    // CREATE2 from the deployer with keccak(salt ‖ initData), as nitro's contract derives it.
    let derived_salt = keccak256([salt.as_slice(), &init_data].concat());
    assert_eq!(
        program,
        STYLUS_DEPLOYER.create2(derived_salt, keccak256(&init_code))
    );
    let returned = StylusDeployer::deployCall::abi_decode_returns(&receipt.output).unwrap();
    assert_eq!(returned, program);
    // Activated, initialised, and the whole ether came back (data fee 0): only gas was paid.
    let code = node.code(program);
    let version = view(
        &mut node,
        ARB_WASM,
        &ArbWasm::codehashVersionCall {
            codehash: keccak256(&code),
        },
    );
    assert_eq!(version, STYLUS_VERSION);
    assert_eq!(view(&mut node, program, &Counter::numberCall {}), u(7));
    let gas_cost = U256::from(receipt.gas_used) * U256::from(receipt.effective_gas_price);
    assert_eq!(node.balance(from), balance - gas_cost);
    assert_eq!(node.balance(STYLUS_DEPLOYER), U256::ZERO);
    assert!(
        receipt.logs.iter().any(|l| l.address == ARB_WASM),
        "ArbWasm's ProgramActivated is in the receipt"
    );

    // The same code again with salt 0 (CREATE): already active, so no activation.
    let needs = view(
        &mut node,
        STYLUS_DEPLOYER,
        &StylusDeployer::requiresActivationCall { addr: program },
    );
    assert!(!needs);
    let receipt = deploy_through(
        &mut node,
        U256::ZERO,
        &StylusDeployer::deployCall {
            bytecode: init_code,
            initData: Bytes::new(),
            initValue: U256::ZERO,
            salt: B256::ZERO,
        },
    );
    assert!(receipt.status, "{receipt:?}");
    let second = deployed_address(&receipt);
    assert_eq!(
        second,
        STYLUS_DEPLOYER.create(1),
        "CREATE from the deployer, its second creation"
    );
    assert!(
        !receipt.logs.iter().any(|l| l.address == ARB_WASM),
        "no second activation"
    );
    assert_eq!(view(&mut node, second, &Counter::numberCall {}), u(0));
}

#[test]
fn each_failure_reverts_the_whole_deployment() {
    let mut node = Devnode::new();
    let init_code = init_code_for(counter().code());
    let salt = B256::with_last_byte(9);
    let ok = StylusDeployer::deployCall {
        bytecode: init_code.clone(),
        initData: Counter::incrementCall {}.abi_encode().into(),
        initValue: U256::ZERO,
        salt,
    };
    assert!(deploy_through(&mut node, U256::ZERO, &ok).status);
    let nonce = node.nonce(STYLUS_DEPLOYER);

    // The same salt and init data: CREATE2 collides.
    let again = deploy_through(&mut node, U256::ZERO, &ok);
    assert!(!again.status);
    let expected = StylusDeployer::ContractDeploymentError {
        bytecode: init_code.clone(),
    }
    .abi_encode();
    assert_eq!(again.output.as_ref(), expected.as_slice());

    // Value for the initialisation without init data.
    let receipt = deploy_through(
        &mut node,
        u(5),
        &StylusDeployer::deployCall {
            bytecode: init_code.clone(),
            initData: Bytes::new(),
            initValue: u(5),
            salt: B256::ZERO,
        },
    );
    assert!(!receipt.status);
    assert_eq!(
        receipt.output.as_ref(),
        StylusDeployer::InitValueButNotInitData {}.abi_encode().as_slice()
    );

    // An initialisation call that fails (the counter is not payable).
    let receipt = deploy_through(
        &mut node,
        u(5),
        &StylusDeployer::deployCall {
            bytecode: init_code.clone(),
            initData: Counter::incrementCall {}.abi_encode().into(),
            initValue: u(5),
            salt: B256::ZERO,
        },
    );
    assert!(!receipt.status);
    let program = STYLUS_DEPLOYER.create(nonce);
    let expected = StylusDeployer::ContractInitializationError { newContract: program }.abi_encode();
    assert_eq!(receipt.output.as_ref(), expected.as_slice());
    // Nothing of the failed attempts stays: no code, no nonce used, no value kept.
    assert!(node.code(program).is_empty());
    assert_eq!(node.nonce(STYLUS_DEPLOYER), nonce);
    assert_eq!(node.balance(STYLUS_DEPLOYER), U256::ZERO);

    // Code that is not a valid program: the activation's refusal comes back.
    let receipt = deploy_through(
        &mut node,
        U256::ZERO,
        &StylusDeployer::deployCall {
            bytecode: init_code_for(&[0xEF, 0xF0, 0x00, 0x00, 0x01, 0x02]),
            initData: Bytes::new(),
            initValue: U256::ZERO,
            salt: B256::ZERO,
        },
    );
    assert!(!receipt.status);
    assert!(!receipt.output.is_empty(), "the validator's message is passed on");
}
