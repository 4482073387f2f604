#!/usr/bin/env bash
# Builds the seven Stylus programs `damm deploy` deploys — the vault (damm-vault and its delegates
# damm-vault-settlement, -withdrawals, -markets, -admin) and the market (damm-market, damm-market-admin) — for
# wasm32-unknown-unknown with the size-optimised `contract` profile, and copies the .wasm files into
# target/contracts/ (or DIR), where `damm deploy` reads them by default.
#
# Usage: scripts/build-contracts.sh [DIR]
#
# The delegates and the market-admin program use the vault's (the market's) library without its entrypoint
# (`default-features = false`); built in one cargo run with the vault and the market, the features would unify
# (two entrypoints), and built one after the other in one target directory, each switch of features would
# rebuild the library. So they are built in two target directories, both kept between runs:
# target/contracts-build/main (damm-vault, damm-market) and target/contracts-build/delegates (the others).
#
# Idempotent: cargo rebuilds only what changed, and the copies are replaced. Installs the wasm32-unknown-unknown
# target with rustup if it is missing. Exits non-zero if a build fails.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

case "${1:-}" in
-h | --help)
	sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
	exit 0
	;;
esac

WASM_TARGET="wasm32-unknown-unknown"
out_dir="${1:-target/contracts}"
build_root="target/contracts-build"
main_programs=(damm-vault damm-market)
delegate_programs=(damm-vault-settlement damm-vault-withdrawals damm-vault-markets damm-vault-admin damm-market-admin)

log() { printf 'build-contracts: %s\n' "$*" >&2; }
die() {
	printf 'build-contracts: error: %s\n' "$*" >&2
	exit 1
}

# The wasm32 target, as scripts/setup.sh installs it.
command -v cargo >/dev/null 2>&1 || die "cargo is missing (install Rust with rustup: https://rustup.rs)"
if command -v rustup >/dev/null 2>&1; then
	installed_targets="$(rustup target list --installed)" || die "'rustup target list --installed' failed"
	if ! grep -qx "$WASM_TARGET" <<<"$installed_targets"; then
		log "adding rust target $WASM_TARGET"
		rustup target add "$WASM_TARGET" || die "could not install rust target $WASM_TARGET ('rustup target add $WASM_TARGET' failed)"
	fi
fi

# build TARGET_DIR PACKAGE...: one cargo run.
build() {
	local target_dir="$1"
	shift
	local args=()
	for package in "$@"; do
		args+=(-p "$package")
	done
	log "building $* (profile contract, $WASM_TARGET) in $target_dir"
	CARGO_TARGET_DIR="$target_dir" cargo build --profile contract --target "$WASM_TARGET" "${args[@]}" ||
		die "building $* failed"
}

build "$build_root/main" "${main_programs[@]}"
build "$build_root/delegates" "${delegate_programs[@]}"

mkdir -p "$out_dir"
copy() {
	local target_dir="$1"
	shift
	for package in "$@"; do
		local file="${package//-/_}.wasm"
		local src="$target_dir/$WASM_TARGET/contract/$file"
		[[ -f "$src" ]] || die "$src is missing after the build"
		cp -f "$src" "$out_dir/$file.tmp"
		mv -f "$out_dir/$file.tmp" "$out_dir/$file"
		printf '%s\n' "$out_dir/$file"
	done
}
copy "$build_root/main" "${main_programs[@]}"
copy "$build_root/delegates" "${delegate_programs[@]}"
log "the programs are in $out_dir"
