#!/usr/bin/env bash
# Runs the math crate's fuzz targets (cargo-fuzz project contracts/math/fuzz), each for a fixed time.
#
# Usage: scripts/fuzz.sh [seconds] [target...]
#   seconds  time per target, libFuzzer's -max_total_time (default 60)
#   target   fuzz targets to run (default: every target of the project, one after the other)
#
# Environment:
#   FUZZ_SANITIZER  sanitizer for `cargo fuzz` (default: none — the crate is safe Rust without `unsafe`, so
#                   AddressSanitizer finds nothing more and halves the speed; set `address` to use it anyway)
#   FUZZ_ARGS       extra libFuzzer arguments, e.g. "-jobs=2 -workers=2" or "-dict=..."
#
# Needs the nightly toolchain and cargo-fuzz (both installed by scripts/setup.sh). Fails with a clear message
# when either is missing. The corpus of each target lives in contracts/math/fuzz/corpus/<target> and grows from
# run to run; crashing inputs are written to contracts/math/fuzz/artifacts/<target>/.
#
# Exit status: 0 when every target ran its time without a crash; 1 on a crash (panic, failed invariant,
# timeout or out-of-memory), after all targets ran, with the crashing inputs' paths and the command that
# replays each; 1 as well when nightly or cargo-fuzz is missing or the build fails.
set -euo pipefail

REPO_ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
CRATE_DIR="$REPO_ROOT/contracts/math"
FUZZ_DIR="$CRATE_DIR/fuzz"

die() {
	printf 'fuzz: error: %s\n' "$*" >&2
	exit 1
}
log() { printf 'fuzz: %s\n' "$*" >&2; }

SECONDS_PER_TARGET="${1:-60}"
[[ "$SECONDS_PER_TARGET" =~ ^[1-9][0-9]*$ ]] || die "seconds must be a positive integer, got '$SECONDS_PER_TARGET' (usage: scripts/fuzz.sh [seconds] [target...])"
shift $(($# > 0 ? 1 : 0))
SANITIZER="${FUZZ_SANITIZER:-none}"
read -r -a EXTRA_ARGS <<<"${FUZZ_ARGS:-}"

# --- tools ---------------------------------------------------------------------------------------------
CARGO_BIN_DIR="${CARGO_HOME:-$HOME/.cargo}/bin"
if ! command -v cargo >/dev/null 2>&1 && [ -x "$CARGO_BIN_DIR/cargo" ]; then
	export PATH="$CARGO_BIN_DIR:$PATH"
fi
command -v cargo >/dev/null 2>&1 || die "cargo not found (install Rust with rustup, or run scripts/setup.sh)"
if ! cargo +nightly --version >/dev/null 2>&1; then
	die "the nightly toolchain is missing (cargo fuzz needs it): run scripts/setup.sh, or 'rustup toolchain install nightly'"
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
	die "cargo-fuzz is missing: run scripts/setup.sh, or 'cargo install cargo-fuzz --locked'"
fi
[ -f "$FUZZ_DIR/Cargo.toml" ] || die "no fuzz project at $FUZZ_DIR"

cd "$CRATE_DIR"

if [ "$#" -gt 0 ]; then
	TARGETS=("$@")
else
	mapfile -t TARGETS < <(cargo +nightly fuzz list --fuzz-dir "$FUZZ_DIR")
	[ "${#TARGETS[@]}" -gt 0 ] || die "no fuzz target found in $FUZZ_DIR"
fi

# --- build once ----------------------------------------------------------------------------------------
log "building ${TARGETS[*]} (sanitizer: $SANITIZER)"
build_start=$(date +%s)
for target in "${TARGETS[@]}"; do
	cargo +nightly fuzz build --fuzz-dir "$FUZZ_DIR" -s "$SANITIZER" "$target" ||
		die "building fuzz target '$target' failed"
done
log "build took $(($(date +%s) - build_start)) s"

# --- run -----------------------------------------------------------------------------------------------
LOG_DIR="$FUZZ_DIR/target/logs"
mkdir -p "$LOG_DIR"
failed=()
summary=()
for target in "${TARGETS[@]}"; do
	corpus="$FUZZ_DIR/corpus/$target"
	mkdir -p "$corpus"
	run_log="$LOG_DIR/$target.log"
	log "running '$target' for $SECONDS_PER_TARGET s (log: $run_log)"
	status=0
	cargo +nightly fuzz run --fuzz-dir "$FUZZ_DIR" -s "$SANITIZER" "$target" "$corpus" -- \
		-max_total_time="$SECONDS_PER_TARGET" -timeout=10 -print_final_stats=1 \
		"${EXTRA_ARGS[@]}" >"$run_log" 2>&1 || status=$?
	stats="$(grep -E '^#[0-9]+[[:space:]]+DONE' "$run_log" | tail -n 1 || true)"
	runs="$(sed -n 's/^stat::number_of_executed_units:[[:space:]]*//p' "$run_log" | tail -n 1)"
	rate="$(sed -n 's/^stat::average_exec_per_sec:[[:space:]]*//p' "$run_log" | tail -n 1)"
	if [ "$status" -ne 0 ]; then
		# libFuzzer names the input it saved; cargo fuzz repeats it under "Failing input".
		inputs="$(grep -oE 'Test unit written to [^ ]+' "$run_log" | awk '{print $NF}' | sort -u || true)"
		printf '\nfuzz: CRASH in target %s (exit status %d); last lines of %s:\n' "$target" "$status" "$run_log" >&2
		grep -E -A 2 "panicked at" "$run_log" | head -n 6 >&2 || true
		grep -E "ERROR: libFuzzer|^SUMMARY" "$run_log" | head -n 2 >&2 || true
		if [ -n "$inputs" ]; then
			while read -r input; do
				printf 'fuzz: crashing input: %s\n' "$input" >&2
				printf 'fuzz: replay with:   (cd contracts/math && cargo +nightly fuzz run -s %s %s %s)\n' \
					"$SANITIZER" "$target" "$input" >&2
				printf 'fuzz: minimise with: (cd contracts/math && cargo +nightly fuzz tmin -s %s %s %s)\n' \
					"$SANITIZER" "$target" "$input" >&2
			done <<<"$inputs"
		else
			printf 'fuzz: no crashing input was saved (build or harness failure?); see %s\n' "$run_log" >&2
		fi
		failed+=("$target")
		summary+=("$target: CRASH after ${runs:-?} runs — see $run_log")
	else
		summary+=("$target: ok, ${runs:-?} runs (${rate:-?}/s); ${stats#*DONE   }")
	fi
done

printf '\nfuzz summary (%s s per target):\n' "$SECONDS_PER_TARGET"
printf '  %s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
	printf 'fuzz: FAILED: %s\n' "${failed[*]}" >&2
	exit 1
fi
