//! The real Uniswap V2 core bytecode on the devnode, through plain EVM transactions.

mod common;

use alloy_primitives::{Address, Bytes, U256};
use alloy_sol_types::{sol, SolConstructor};
use common::*;
use damm_devnode::{node::TxRequest, Devnode};

sol! {
    interface IERC20 {
        constructor(uint256 totalSupply);
        function balanceOf(address owner) external view returns (uint256);
        function transfer(address to, uint256 value) external returns (bool);
    }
    interface IFactory {
        constructor(address feeToSetter);
        function createPair(address tokenA, address tokenB) external returns (address pair);
        function getPair(address tokenA, address tokenB) external view returns (address pair);
    }
    interface IPair {
        function mint(address to) external returns (uint256 liquidity);
        function swap(uint256 amount0Out, uint256 amount1Out, address to, bytes data) external;
        function getReserves() external view returns (uint112 reserve0, uint112 reserve1, uint32 blockTimestampLast);
        function token0() external view returns (address);
    }
}

fn create(node: &mut Devnode, from: Address, code: Vec<u8>, args: Vec<u8>) -> (Address, u64) {
    let mut input = code;
    input.extend(args);
    let receipt = node
        .send(&TxRequest {
            from,
            to: None,
            input: Bytes::from(input),
            ..Default::default()
        })
        .expect("accepted");
    assert!(receipt.status, "{receipt:?}");
    (receipt.contract_address.expect("created"), receipt.gas_used)
}

#[test]
fn erc20_deploys_and_transfers_with_nitro_gas() {
    let mut node = Devnode::new();
    let [alice, bob] = [node.accounts()[0], node.accounts()[1]];
    let supply = U256::from(10u64).pow(U256::from(24u64));
    let (token, deploy_gas) = create(
        &mut node,
        alice,
        uniswap_artifact("ERC20"),
        IERC20::constructorCall { totalSupply: supply }.abi_encode(),
    );
    let receipt = send(
        &mut node,
        alice,
        token,
        &IERC20::transferCall {
            to: bob,
            value: u(1_000),
        },
    );
    assert!(receipt.status);
    assert_eq!(receipt.logs.len(), 1, "Transfer event");
    assert_eq!(
        view(&mut node, token, &IERC20::balanceOfCall { owner: bob }),
        u(1_000)
    );
    println!(
        "ERC20 deploy {deploy_gas} (nitro 716,193), transfer {} (nitro 51,357)",
        receipt.gas_used
    );
    // EVM gas is revm's, exact: the same bytecode costs the same on both nodes.
    assert_eq!(deploy_gas, 716_193);
    assert_eq!(receipt.gas_used, 51_357);
}

#[test]
fn uniswap_factory_creates_a_pair_that_mints_and_swaps() {
    let mut node = Devnode::new();
    let alice = node.accounts()[0];
    let supply = U256::from(10u64).pow(U256::from(24u64));
    let erc20 = uniswap_artifact("ERC20");
    let (a, _) = create(
        &mut node,
        alice,
        erc20.clone(),
        IERC20::constructorCall { totalSupply: supply }.abi_encode(),
    );
    let (b, _) = create(
        &mut node,
        alice,
        erc20,
        IERC20::constructorCall { totalSupply: supply }.abi_encode(),
    );
    let (factory, _) = create(
        &mut node,
        alice,
        uniswap_artifact("UniswapV2Factory"),
        IFactory::constructorCall { feeToSetter: alice }.abi_encode(),
    );
    assert!(
        send(
            &mut node,
            alice,
            factory,
            &IFactory::createPairCall { tokenA: a, tokenB: b }
        )
        .status
    );
    let pair = view(
        &mut node,
        factory,
        &IFactory::getPairCall { tokenA: a, tokenB: b },
    );
    assert_ne!(pair, Address::ZERO);

    let liquidity = U256::from(10u64).pow(U256::from(21u64));
    assert!(
        send(
            &mut node,
            alice,
            a,
            &IERC20::transferCall {
                to: pair,
                value: liquidity
            }
        )
        .status
    );
    assert!(
        send(
            &mut node,
            alice,
            b,
            &IERC20::transferCall {
                to: pair,
                value: liquidity
            }
        )
        .status
    );
    assert!(send(&mut node, alice, pair, &IPair::mintCall { to: alice }).status);

    let token0 = view(&mut node, pair, &IPair::token0Call {});
    let (token_in, token_out) = if token0 == a { (a, b) } else { (b, a) };
    let amount_in = U256::from(10u64).pow(U256::from(18u64));
    // Uniswap V2's getAmountOut with the 0.3% fee.
    let amount_out = amount_in * u(997) * liquidity / (liquidity * u(1000) + amount_in * u(997));
    let before = view(&mut node, token_out, &IERC20::balanceOfCall { owner: alice });
    assert!(
        send(
            &mut node,
            alice,
            token_in,
            &IERC20::transferCall {
                to: pair,
                value: amount_in
            }
        )
        .status
    );
    let swap = send(
        &mut node,
        alice,
        pair,
        &IPair::swapCall {
            amount0Out: U256::ZERO,
            amount1Out: amount_out,
            to: alice,
            data: Bytes::new(),
        },
    );
    assert!(swap.status, "{swap:?}");
    let after = view(&mut node, token_out, &IERC20::balanceOfCall { owner: alice });
    assert_eq!(after - before, amount_out);
    // Asking for one more wei breaks the constant product: the swap reverts and changes nothing.
    assert!(
        send(
            &mut node,
            alice,
            token_in,
            &IERC20::transferCall {
                to: pair,
                value: amount_in
            }
        )
        .status
    );
    let greedy = send(
        &mut node,
        alice,
        pair,
        &IPair::swapCall {
            amount0Out: U256::ZERO,
            amount1Out: amount_out * u(2),
            to: alice,
            data: Bytes::new(),
        },
    );
    assert!(!greedy.status);
    assert_eq!(
        view(&mut node, token_out, &IERC20::balanceOfCall { owner: alice }),
        after
    );
}
