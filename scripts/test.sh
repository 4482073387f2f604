#!/usr/bin/env bash
# The whole test suite, as CI runs it (`.ci/run` calls exactly this script).
#
#   scripts/test.sh            set-up, formatting, lints, docs, every test, contract builds and sizes, fuzz smoke run
#
# Environment:
#   DAMM_FUZZ_SECONDS   seconds per fuzz target in the smoke run (default 30)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n==> %s\n' "$*" >&2; }

step "set-up"
scripts/setup.sh --browser

step "formatting (nightly rustfmt: rustfmt.toml uses its import options)"
cargo +nightly fmt --all --check

step "lints"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "documentation (rustdoc, warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --locked -p damm-math -p damm-market-codec -p damm-devnode -p damm

step "tests"
cargo test --workspace --locked

step "contracts: WASM build and size"
scripts/contract-size.sh

step "fuzz smoke run"
scripts/fuzz.sh "${DAMM_FUZZ_SECONDS:-30}"

step "all checks passed"
