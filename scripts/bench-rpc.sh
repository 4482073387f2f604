#!/usr/bin/env bash
# Runs the JSON-RPC throughput benchmark of the devnode against Anvil (devnode/benches/rpc_tps.rs): the same
# EVM workload (Uniswap V2 swap rounds sent one by one, then ERC-20 transfers from 8 senders at once) on both
# nodes in one run, transactions per second for each, eth_call latency, and the latency of a Stylus call over
# RPC on the devnode.
#
# Usage: scripts/bench-rpc.sh
#   Sizes (environment): RPC_BENCH_ROUNDS swap rounds (default 500, two transactions each),
#   RPC_BENCH_TRANSFERS transfers per pipelined sender (default 150), RPC_BENCH_CALLS calls (default 2000).
#   A quick run: RPC_BENCH_ROUNDS=100 RPC_BENCH_TRANSFERS=50 RPC_BENCH_CALLS=500 scripts/bench-rpc.sh
#
# Needs Anvil and the Uniswap artifacts (scripts/setup.sh installs them) and the wasm32 target (the Stylus
# counter is built on the way). Exit status: that of `cargo bench`; a missed target ("devnode at least as
# fast as Anvil") is printed but does not fail the script unless BENCH_ENFORCE_TARGET=1.
set -euo pipefail

REPO_ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

die() {
	printf 'bench-rpc: error: %s\n' "$*" >&2
	exit 1
}

command -v cargo >/dev/null 2>&1 || die "cargo not found (install Rust with rustup, then 'source \"\$HOME/.cargo/env\"')"
[ -d node_modules/@foundry-rs ] && [ -d node_modules/@uniswap/v2-core/build ] ||
	die "Anvil or the Uniswap artifacts are missing: run scripts/setup.sh"

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
cargo bench -p damm-devnode --bench rpc_tps 2>&1 | tee "$log" || status=$?
[ "$status" -eq 0 ] || exit "$status"

if [ "${BENCH_ENFORCE_TARGET:-0}" = 1 ] && grep -q "target .*: NOT met" "$log"; then
	die "the devnode is slower than Anvil (BENCH_ENFORCE_TARGET=1)"
fi
