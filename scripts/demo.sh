#!/usr/bin/env bash
# The README's first command: everything `damm demo` needs, then the demo itself on the embedded devnode.
#
#   scripts/demo.sh [damm demo options]      e.g. scripts/demo.sh --seed 7 --out /tmp/demo
#
# 1. scripts/setup.sh (idempotent): the wasm32 target, the npm packages with Uniswap V2's artifacts, …
# 2. scripts/build-contracts.sh: the seven Stylus programs into target/contracts/.
# 3. a release build of the `damm` binary, then `damm demo` (it prints a summary and the path of its HTML
#    report, demo-out/report.html by default).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n==> %s\n' "$*" >&2; }

step "set-up (scripts/setup.sh)"
scripts/setup.sh >/dev/null

step "the Stylus programs (scripts/build-contracts.sh)"
scripts/build-contracts.sh >&2

step "the damm binary (release build)"
cargo build --release --locked --bin damm >&2

step "damm demo $*"
exec cargo run --release --locked --quiet --bin damm -- demo "$@"
