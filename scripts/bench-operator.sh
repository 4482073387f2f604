#!/usr/bin/env bash
# The operator's figures, as markdown tables:
# - benches/operator_throughput.rs: durable trades per second through the journal writer and through the HTTP
#   API, quote and swap latency (no chain);
# - benches/operator_settlement.rs: batch settlement latency and gas of the daemon on the devnode.
#
# Usage: scripts/bench-operator.sh
#   With DAMM_E2E_RPC=<url> DAMM_E2E_KEY=<funded key> the settlement part runs on that node instead.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# The Uniswap V2 and ERC-20 bytecode come from the npm packages the set-up installs.
scripts/setup.sh >&2
cargo bench --bench operator_throughput
exec cargo bench --bench operator_settlement
