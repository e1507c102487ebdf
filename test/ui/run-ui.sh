#!/usr/bin/env bash
# Real-browser test of the package in n8n's editor: packs the package, installs it into real n8n
# (the e2e cache, test/e2e/install-n8n.sh) as n8n installs a community package, starts the
# project's Replicate-compatible test server and `n8n start`, then drives Debian's chromium with
# playwright-core (test/ui/ui-test.js) through what a new user does. `npm run test:ui` builds
# dist/ first and then runs this.
#
# Usage: test/ui/run-ui.sh [2|1|all]   (default: all; 1 = on 1.123.81 the nodes panel search and
#                                       any model)
#   KEEP_UI_TMP=1   keep the work folder (n8n log, browser console, server records)
#   UI_HOLD=1       leave n8n and the server running after the test (for looking around)
# Screenshots (2.x run) go to .build/ui-screenshots/, so a test run leaves the tree clean;
#   UPDATE_DOCS=1   write them to docs/ instead (the README's images)
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../e2e/lib/common.sh
source "$SCRIPT_DIR/../e2e/lib/common.sh"

SCREENSHOTS="$ROOT/.build/ui-screenshots"
[ -n "${UPDATE_DOCS:-}" ] && SCREENSHOTS="$ROOT/docs"

e2e_lines 2 1 -- "$@"

# Debian's chromium (Playwright's own browser download does not work offline).
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
	echo "# installing Debian's chromium" >&2
	SUDO=
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	$SUDO apt-get update >&2
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y chromium >&2
fi

e2e_require_build test:ui
ANY_FAILED=0
# A failed run keeps its folder: failure screenshots, n8n's log, the browser console.
e2e_work_folder n8n-ui KEEP_UI_TMP --keep-failed
e2e_pack

SUMMARY=()

run_version() { # line
	local line=$1 installed version node_version launcher dir user port rc=0
	if ! installed=$("$E2E_DIR/install-n8n.sh" "$line"); then
		SUMMARY+=("n8n line $line: install-n8n.sh failed")
		ANY_FAILED=1
		return
	fi
	IFS=$'\t' read -r version node_version launcher <<<"$installed"
	dir="$WORK/n8n-$version"
	user="$dir/user"
	mkdir -p "$user"
	n8n_e2e_install_community_package "$user" "$TARBALL" 2>"$dir/install-package.log" || {
		SUMMARY+=("n8n $version: installing the package failed ($(tail -n 1 "$dir/install-package.log"))")
		ANY_FAILED=1
		return
	}

	e2e_server_start "$dir" || {
		SUMMARY+=("n8n $version: the test server did not start")
		ANY_FAILED=1
		return
	}

	port=$(n8n_e2e_free_port)
	if ! n8n_e2e_start "$launcher" "$user" "$port" "$dir/n8n.log"; then
		SUMMARY+=("n8n $version: n8n start failed (log: $dir/n8n.log)")
		ANY_FAILED=1
	else
		echo "# n8n $version on node $node_version at http://127.0.0.1:$port"
		UI_N8N_URL="http://127.0.0.1:$port" UI_N8N_VERSION="$version" UI_SERVER_JSON="$dir/server.json" \
			UI_WORK="$dir" UI_DOCS="$SCREENSHOTS" UI_CHROMIUM="$CHROMIUM" UI_N8N_LOG="$dir/n8n.log" \
			node "$SCRIPT_DIR/ui-test.js" "$line" > >(tee "$dir/ui-test.log") 2>&1 || rc=$?
		sleep 0.5 # let tee finish the log
		local totals
		totals=$(grep -E '^# totals' "$dir/ui-test.log" | tail -n 1 | sed 's/^# totals //')
		SUMMARY+=("n8n $version on node $node_version (browser): ${totals:-no result}")
		[ "$rc" -eq 0 ] || ANY_FAILED=1
		if [ -n "${UI_HOLD:-}" ]; then
			echo "# holding n8n at http://127.0.0.1:$port (Ctrl+C to end)"
			wait "$N8N_E2E_START_PID" || true
		fi
	fi
	n8n_e2e_stop
	e2e_server_stop
}

for line in "${LINES[@]}"; do
	run_version "$line"
done
printf '%s\n' "${SUMMARY[@]}"
exit "$ANY_FAILED"
