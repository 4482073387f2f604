#!/usr/bin/env bash
# Gas of the market contract on the devnode (benches/market_gas.rs): `submitBatch` with 2, 16, 64 and 256 swaps
# for three kinds of market, the marginal gas per swap, the calldata bytes per swap, and L1 swaps. Prints
# markdown tables.
#
# Usage: scripts/bench-market-gas.sh
#   With DAMM_E2E_RPC=<url> DAMM_E2E_KEY=<funded key> it measures on that node instead of the devnode.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# The Uniswap V2 and ERC-20 bytecode come from the npm packages the set-up installs.
scripts/setup.sh >&2
exec cargo bench --bench market_gas
