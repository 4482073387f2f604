#!/usr/bin/env bash
# Builds Stylus contract crates for wasm32 with the size-optimised `contract` profile and reports their
# deploy sizes (raw, processed, compressed, margin to the 24 KiB limit) with `damm wasm-size`.
#
# Usage: scripts/contract-size.sh [--json] [CRATE...]
#   CRATE   package names (e.g. stylus-counter); default: every crate under contracts/ whose Cargo.toml
#           declares a `cdylib`, except the math library.
#   --json  passed on to `damm wasm-size`.
#
# Exits non-zero if a build fails or a contract is over a Stylus size limit.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

json=()
crates=()
for arg in "$@"; do
    case "$arg" in
        --json) json=(--json) ;;
        -h | --help)
            sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        -*)
            echo "contract-size.sh: unknown option $arg" >&2
            exit 2
            ;;
        *) crates+=("$arg") ;;
    esac
done

# The package name declared in a Cargo.toml's [package] section.
package_name() {
    sed -n '/^\[package\]/,/^\[/{s/^name[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p}' "$1" | head -n 1
}

if [[ ${#crates[@]} -eq 0 ]]; then
    for manifest in contracts/*/Cargo.toml; do
        [[ -e "$manifest" ]] || continue
        [[ "$manifest" == contracts/math/Cargo.toml ]] && continue
        grep -q '"cdylib"' "$manifest" || continue
        crates+=("$(package_name "$manifest")")
    done
fi
if [[ ${#crates[@]} -eq 0 ]]; then
    echo "contract-size.sh: no contract crates found under contracts/" >&2
    exit 1
fi

target_dir="${CARGO_TARGET_DIR:-target}"
files=()
for crate in "${crates[@]}"; do
    files+=("$target_dir/wasm32-unknown-unknown/contract/${crate//-/_}.wasm")
done

echo "Building ${crates[*]} (profile contract, wasm32-unknown-unknown)..." >&2
# One crate at a time: the vault's programs share the `damm-vault` library, whose `entrypoint` feature must be
# on for the vault itself and off for the others — a joint build would unify it.
for crate in "${crates[@]}"; do
    cargo build -p "$crate" --profile contract --target wasm32-unknown-unknown
done
cargo run -q --release -- wasm-size "${json[@]}" "${files[@]}"
