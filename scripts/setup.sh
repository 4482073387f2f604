#!/usr/bin/env bash
# Idempotent set-up of everything the project needs besides its crates:
#   - the wasm32-unknown-unknown target (Stylus contracts),
#   - the nightly toolchain (cargo fuzz, nightly rustfmt for the import options in rustfmt.toml),
#   - cargo-fuzz,
#   - the toolchains pinned by the contracts' rust-toolchain.toml files (what `cargo stylus` builds with),
#     each with the wasm32-unknown-unknown target,
#   - cargo-stylus (the official Stylus CLI, pinned version), installed with `cargo install --locked` into
#     its own cached root: ${DAMM_TOOLS_DIR:-$HOME/.cache/damm-tools}/cargo-stylus-<version>/bin/cargo-stylus.
#     It is not put on PATH; the tests find it by the same rule (cache that directory in CI),
#   - the pinned npm dev dependencies (package-lock.json): anvil, the reference dev node, cast (Foundry's
#     RPC client, for the devnode's conformance tests), and the Uniswap V2 core build artifacts
#     (UniswapV2Factory, UniswapV2Pair, ERC20) the tests and the demo deploy,
#   - with --browser: Debian's chromium (headless), in which the tests render the demo's HTML report.
#
# Safe to run from any directory and as often as wanted: when everything is in place it only checks
# (a couple of seconds). npm dependencies are reinstalled (`npm ci`) only when node_modules is missing,
# incomplete, or was installed from a different package-lock.json/package.json (compared by sha256 with
# the stamp file node_modules/.damm-setup-stamp, never by mtime).
#
# Progress and errors go to stderr prefixed "setup:"; the final summary ("ok: ...") goes to stdout.
# Exit status 0 when everything is ready, 1 otherwise (the message names what is missing).
set -euo pipefail

REPO_ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

WASM_TARGET="wasm32-unknown-unknown"
STAMP_FILE="node_modules/.damm-setup-stamp"
UNISWAP_BUILD="node_modules/@uniswap/v2-core/build"
UNISWAP_ARTIFACTS=(UniswapV2Factory UniswapV2Pair ERC20)
MIN_NODE_MAJOR=20 # the anvil platform packages declare engines.node >= 20
CARGO_STYLUS_VERSION="0.10.10"
TOOLS_DIR="${DAMM_TOOLS_DIR:-$HOME/.cache/damm-tools}"
CARGO_STYLUS_ROOT="$TOOLS_DIR/cargo-stylus-$CARGO_STYLUS_VERSION"
CARGO_STYLUS_BIN="$CARGO_STYLUS_ROOT/bin/cargo-stylus"

SUMMARY=()

WITH_BROWSER=0
for arg in "$@"; do
	case "$arg" in
	--browser) WITH_BROWSER=1 ;;
	-h | --help)
		sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		printf 'setup: error: unknown option %s (known: --browser)\n' "$arg" >&2
		exit 1
		;;
	esac
done

log() { printf 'setup: %s\n' "$*" >&2; }
die() {
	printf 'setup: error: %s\n' "$*" >&2
	exit 1
}
ok() { SUMMARY+=("ok: $*"); }

# --- 1. required tools -------------------------------------------------------------------------------
# rustup installs to ~/.cargo/bin; a shell that never sourced ~/.cargo/env may lack it on PATH.
CARGO_BIN_DIR="${CARGO_HOME:-$HOME/.cargo}/bin"
if ! command -v cargo >/dev/null 2>&1 && [ -x "$CARGO_BIN_DIR/cargo" ]; then
	log "adding $CARGO_BIN_DIR to PATH"
	export PATH="$CARGO_BIN_DIR:$PATH"
fi

missing=()
for tool in cargo rustup node npm; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		case "$tool" in
		cargo | rustup)
			missing+=("$tool (install Rust with rustup: https://rustup.rs, then 'source \"\$HOME/.cargo/env\"')")
			;;
		node | npm)
			missing+=("$tool (install Node.js >= $MIN_NODE_MAJOR with npm: https://nodejs.org, or on Debian/Ubuntu 'apt-get install nodejs npm')")
			;;
		esac
	fi
done
if [ "${#missing[@]}" -gt 0 ]; then
	for m in "${missing[@]}"; do
		printf 'setup: error: missing required tool: %s\n' "$m" >&2
	done
	exit 1
fi

node_version="$(node --version 2>/dev/null || true)"
node_major="${node_version#v}"
node_major="${node_major%%.*}"
if ! [[ "$node_major" =~ ^[0-9]+$ ]] || [ "$node_major" -lt "$MIN_NODE_MAJOR" ]; then
	die "Node.js >= $MIN_NODE_MAJOR is required, found '${node_version:-unknown}' (https://nodejs.org)"
fi
ok "tools: $(cargo --version | cut -d' ' -f1-2), $(rustup --version 2>/dev/null | cut -d' ' -f1-2), node $node_version, npm $(npm --version 2>/dev/null)"

# --- 2. wasm32 target for the active toolchain --------------------------------------------------------
# (Captured into a variable first: `rustup ... | grep -q` can trip pipefail with SIGPIPE.)
installed_targets="$(rustup target list --installed)" || die "'rustup target list --installed' failed"
if ! grep -qx "$WASM_TARGET" <<<"$installed_targets"; then
	log "adding rust target $WASM_TARGET"
	rustup target add "$WASM_TARGET" || die "could not install rust target $WASM_TARGET ('rustup target add $WASM_TARGET' failed)"
	installed_targets="$(rustup target list --installed)"
	grep -qx "$WASM_TARGET" <<<"$installed_targets" || die "rust target $WASM_TARGET is still missing after 'rustup target add'"
fi
ok "$WASM_TARGET target"

# --- 3. nightly toolchain (cargo fuzz, nightly rustfmt) -----------------------------------------------
toolchains="$(rustup toolchain list)" || die "'rustup toolchain list' failed"
if ! grep -q '^nightly-' <<<"$toolchains"; then
	log "installing the nightly toolchain (needed for cargo fuzz and nightly rustfmt)"
	rustup toolchain install nightly --profile minimal --component rustfmt ||
		die "the nightly toolchain is missing and 'rustup toolchain install nightly --profile minimal' failed; cargo fuzz and 'cargo +nightly fmt' need it"
fi
if ! rustfmt +nightly --version >/dev/null 2>&1; then
	log "adding rustfmt to the nightly toolchain"
	rustup component add rustfmt --toolchain nightly ||
		die "nightly rustfmt is missing and 'rustup component add rustfmt --toolchain nightly' failed"
fi
ok "nightly toolchain: $(rustc +nightly --version 2>/dev/null | cut -d' ' -f2-) (with rustfmt)"

# --- 4. cargo-fuzz ------------------------------------------------------------------------------------
if ! cargo fuzz --version >/dev/null 2>&1; then
	log "installing cargo-fuzz ('cargo install cargo-fuzz --locked'; this takes a few minutes)"
	cargo install cargo-fuzz --locked || die "cargo-fuzz is missing and 'cargo install cargo-fuzz --locked' failed"
	cargo fuzz --version >/dev/null 2>&1 || die "cargo-fuzz was installed but 'cargo fuzz --version' still fails (is $CARGO_BIN_DIR on PATH?)"
fi
ok "cargo-fuzz: $(cargo fuzz --version 2>/dev/null)"

# --- 5. toolchains pinned by the contracts (cargo stylus) ---------------------------------------------
# `cargo stylus check/deploy` refuse a contract without a rust-toolchain.toml naming an exact channel, and
# build it with that toolchain (rustup reads the file in the contract's directory).
pinned_channels=()
for toolchain_file in contracts/*/rust-toolchain.toml; do
	[ -f "$toolchain_file" ] || continue
	channel="$(sed -n 's/^[[:space:]]*channel[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' "$toolchain_file" | head -n1)"
	[ -n "$channel" ] || die "$toolchain_file has no 'channel = \"...\"' line"
	if [[ " ${pinned_channels[*]-} " != *" $channel "* ]]; then
		pinned_channels+=("$channel")
	fi
done
for channel in ${pinned_channels[@]+"${pinned_channels[@]}"}; do
	toolchains="$(rustup toolchain list)" || die "'rustup toolchain list' failed"
	if ! grep -q "^$channel-" <<<"$toolchains"; then
		# When the pinned version is the installed stable one, the toolchain is already here under another
		# name: make the version name point at it (rustup treats a directory named <version>-<host> under
		# toolchains/ as that release) rather than download it again, which a machine without access to
		# static.rust-lang.org cannot do.
		host="$(rustc -vV | sed -n 's/^host: //p')"
		stable_version="$(rustup run stable rustc --version 2>/dev/null | cut -d' ' -f2 || true)"
		toolchains_dir="${RUSTUP_HOME:-$HOME/.rustup}/toolchains"
		if [ -n "$host" ] && [ "$stable_version" = "$channel" ] && [ -d "$toolchains_dir/stable-$host" ]; then
			log "toolchain $channel is the installed stable toolchain: linking $toolchains_dir/$channel-$host to it"
			ln -sfn "$toolchains_dir/stable-$host" "$toolchains_dir/$channel-$host" ||
				die "could not link $toolchains_dir/$channel-$host to the stable toolchain"
		else
			log "installing toolchain $channel (pinned by a contract's rust-toolchain.toml, used by cargo stylus)"
			rustup toolchain install "$channel" --profile minimal --target "$WASM_TARGET" ||
				die "could not install toolchain $channel ('rustup toolchain install $channel --profile minimal --target $WASM_TARGET' failed)"
		fi
	fi
	installed_targets="$(rustup target list --installed --toolchain "$channel")" ||
		die "'rustup target list --installed --toolchain $channel' failed"
	if ! grep -qx "$WASM_TARGET" <<<"$installed_targets"; then
		log "adding rust target $WASM_TARGET to toolchain $channel"
		rustup target add "$WASM_TARGET" --toolchain "$channel" ||
			die "could not install rust target $WASM_TARGET for toolchain $channel"
	fi
	ok "toolchain $channel with $WASM_TARGET (pinned by the contracts' rust-toolchain.toml)"
done

# --- 6. cargo-stylus ----------------------------------------------------------------------------------
# Its own install root per version, so a cached directory never holds a stale binary and a version bump
# installs next to it. `cargo-stylus stylus --version` prints "stylus <version>".
cargo_stylus_version() {
	local out
	out="$("$CARGO_STYLUS_BIN" stylus --version 2>/dev/null)" || return 1
	sed -n 's/^stylus \([^ ]*\).*/\1/p' <<<"$out" | head -n1
}
if [ "$(cargo_stylus_version || true)" != "$CARGO_STYLUS_VERSION" ]; then
	# --debug: the tool only drives cargo and JSON-RPC, so an unoptimised build serves as well and compiles
	# in about 4 minutes on 2 cores instead of 12.
	log "installing cargo-stylus $CARGO_STYLUS_VERSION into $CARGO_STYLUS_ROOT (cargo install --locked --debug; about 4 minutes on 2 cores, then cached)"
	mkdir -p "$TOOLS_DIR" || die "cannot create $TOOLS_DIR"
	cargo install cargo-stylus --version "=$CARGO_STYLUS_VERSION" --locked --debug --force --root "$CARGO_STYLUS_ROOT" >&2 ||
		die "'cargo install cargo-stylus --version =$CARGO_STYLUS_VERSION --locked --debug --root $CARGO_STYLUS_ROOT' failed"
	got="$(cargo_stylus_version || true)"
	[ "$got" = "$CARGO_STYLUS_VERSION" ] ||
		die "cargo-stylus was installed but '$CARGO_STYLUS_BIN stylus --version' reports '${got:-nothing}', not $CARGO_STYLUS_VERSION"
fi
ok "cargo-stylus $CARGO_STYLUS_VERSION ($CARGO_STYLUS_BIN)"

# --- 7. npm dependencies ------------------------------------------------------------------------------
[ -f package.json ] || die "package.json is missing at the repository root ($REPO_ROOT)"
[ -f package-lock.json ] || die "package-lock.json is missing at the repository root ($REPO_ROOT)"

sha256_of() {
	if command -v sha256sum >/dev/null 2>&1; then
		sha256sum "$@" | cut -d' ' -f1
	elif command -v shasum >/dev/null 2>&1; then
		shasum -a 256 "$@" | cut -d' ' -f1
	else
		node -e 'const c=require("crypto"),f=require("fs");for(const p of process.argv.slice(1))console.log(c.createHash("sha256").update(f.readFileSync(p)).digest("hex"))' "$@"
	fi
}
# The stamp records both files: npm ci also refuses a package.json that drifted from the lock.
wanted_stamp="$(sha256_of package-lock.json package.json | tr '\n' ' ')"

# The anvil launcher (node_modules/.bin/anvil) runs the native binary of the platform package.
case "$(uname -s)-$(uname -m)" in
Linux-x86_64 | Linux-amd64) anvil_platform="linux-amd64" ;;
Linux-aarch64 | Linux-arm64) anvil_platform="linux-arm64" ;;
Darwin-x86_64) anvil_platform="darwin-amd64" ;;
Darwin-arm64) anvil_platform="darwin-arm64" ;;
*) anvil_platform="" ;;
esac
anvil_native="node_modules/@foundry-rs/anvil-$anvil_platform/bin/anvil"
anvil_wanted="$(node -p 'require("./package-lock.json").packages["node_modules/@foundry-rs/anvil"].version' 2>/dev/null)" ||
	die "package-lock.json does not record @foundry-rs/anvil"
# cast: same layout (launcher package + one native binary per platform package).
cast_native="node_modules/@foundry-rs/cast-$anvil_platform/bin/cast"
cast_wanted="$(node -p 'require("./package-lock.json").packages["node_modules/@foundry-rs/cast"].version' 2>/dev/null)" ||
	die "package-lock.json does not record @foundry-rs/cast"

# Checks node_modules; prints what is wrong (one line each) and fails if anything is.
check_node_deps() {
	local bad=0 out
	if [ -z "$anvil_platform" ]; then
		echo "anvil: no @foundry-rs/anvil platform package for $(uname -s)-$(uname -m)"
		bad=1
	elif [ ! -x "$anvil_native" ]; then
		echo "anvil: native binary $anvil_native is missing (optional dependency @foundry-rs/anvil-$anvil_platform not installed)"
		bad=1
	elif [ ! -e node_modules/.bin/anvil ]; then
		echo "anvil: launcher node_modules/.bin/anvil is missing"
		bad=1
	elif ! out="$(node_modules/.bin/anvil --version 2>&1)"; then
		echo "anvil: 'node_modules/.bin/anvil --version' failed: $(head -n1 <<<"$out")"
		bad=1
	elif [ "$(sed -n 's/^anvil Version: \([^ ]*\).*/\1/p' <<<"$out" | head -n1)" != "$anvil_wanted" ]; then
		echo "anvil: expected version $anvil_wanted, got '$(head -n1 <<<"$out")'"
		bad=1
	fi
	if [ -z "$anvil_platform" ]; then
		echo "cast: no @foundry-rs/cast platform package for $(uname -s)-$(uname -m)"
		bad=1
	elif [ ! -x "$cast_native" ]; then
		echo "cast: native binary $cast_native is missing (optional dependency @foundry-rs/cast-$anvil_platform not installed)"
		bad=1
	elif ! out="$("$cast_native" --version 2>&1)"; then
		echo "cast: '$cast_native --version' failed: $(head -n1 <<<"$out")"
		bad=1
	elif [ "$(sed -n 's/^cast Version: \([^ ]*\).*/\1/p' <<<"$out" | head -n1)" != "$cast_wanted" ]; then
		echo "cast: expected version $cast_wanted, got '$(head -n1 <<<"$out")'"
		bad=1
	fi
	# Each artifact must hold deployable creation code: "bytecode" (= evm.bytecode.object), hex without 0x.
	if ! out="$(node -e '
		const fs = require("fs");
		let bad = 0;
		for (const name of process.argv.slice(2)) {
			const path = process.argv[1] + "/" + name + ".json";
			if (!fs.existsSync(path)) { console.log("uniswap: artifact " + path + " is missing"); bad = 1; continue; }
			let j;
			try { j = JSON.parse(fs.readFileSync(path, "utf8")); } catch (e) { console.log("uniswap: " + path + " is not valid JSON"); bad = 1; continue; }
			if (typeof j.bytecode !== "string" || !/^(0x)?([0-9a-fA-F]{2})+$/.test(j.bytecode)) {
				console.log("uniswap: " + path + " has no deployable \"bytecode\""); bad = 1;
			}
		}
		process.exit(bad);
	' "$UNISWAP_BUILD" "${UNISWAP_ARTIFACTS[@]}" 2>&1)"; then
		printf '%s\n' "$out"
		bad=1
	fi
	return "$bad"
}

reason=""
if [ ! -d node_modules ]; then
	reason="node_modules is missing"
elif [ ! -f "$STAMP_FILE" ]; then
	reason="no install stamp ($STAMP_FILE)"
elif [ "$(cat "$STAMP_FILE")" != "$wanted_stamp" ]; then
	reason="package-lock.json or package.json changed since the last install"
elif ! problems="$(check_node_deps)"; then
	reason="node_modules is incomplete: $(head -n1 <<<"$problems")"
fi

if [ -n "$reason" ]; then
	log "installing npm dependencies with 'npm ci' ($reason)"
	# --ignore-scripts: the only install script is @foundry-rs/anvil's postinstall, a fallback that
	# downloads the binary itself when the platform package is absent; the lock file records the platform
	# packages, so npm installs the binary and nothing outside npm is fetched.
	npm ci --no-audit --no-fund --ignore-scripts >&2 ||
		die "'npm ci' failed (is package-lock.json in sync with package.json? regenerate it with 'npm install')"
	printf '%s' "$wanted_stamp" >"$STAMP_FILE"
else
	log "npm dependencies are up to date with package-lock.json"
fi

if ! problems="$(check_node_deps)"; then
	while IFS= read -r line; do
		printf 'setup: error: %s\n' "$line" >&2
	done <<<"$problems"
	rm -f "$STAMP_FILE" # force a reinstall next time
	exit 1
fi
ok "anvil $anvil_wanted ($anvil_native)"
ok "cast $cast_wanted ($cast_native)"
for name in "${UNISWAP_ARTIFACTS[@]}"; do
	ok "uniswap artifact $UNISWAP_BUILD/$name.json"
done

# --- 8. headless Chromium (the test suite renders the demo's HTML report in it) -------------------------
# Only with --browser (scripts/test.sh passes it): the demo itself does not need a browser. Debian's package
# (/usr/bin/chromium), installed with apt-get as root (or through sudo).
if [ "$WITH_BROWSER" = 1 ]; then
	if ! command -v chromium >/dev/null 2>&1; then
		if [ "$(id -u)" = 0 ]; then
			apt_get=(apt-get)
		elif command -v sudo >/dev/null 2>&1; then
			apt_get=(sudo apt-get)
		else
			die "chromium is missing and this user cannot install it (not root, no sudo): install Debian's 'chromium' package"
		fi
		log "installing Debian's chromium package (headless browser for the report test; a minute or two)"
		DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" update -qq >&2 || die "'apt-get update' failed"
		DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" install -y -qq chromium >&2 ||
			die "'apt-get install chromium' failed"
		command -v chromium >/dev/null 2>&1 || die "chromium was installed but is not on PATH"
	fi
	ok "chromium: $(chromium --version 2>/dev/null | head -n1)"
fi

# --- summary ------------------------------------------------------------------------------------------
log "done in ${SECONDS}s"
printf '%s\n' "${SUMMARY[@]}"
