#!/usr/bin/env bash
# The operator's trade path (benches/operator_throughput.rs): durable trades per second through the journal
# writer and through the HTTP API, quote and swap latency. No chain needed. Prints markdown tables.
#
# Usage: scripts/bench-operator.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec cargo bench --bench operator_throughput
