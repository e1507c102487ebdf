# shellcheck shell=bash
# The project's Replicate-compatible test server (tools/fake-replicate, compiled into .build/ by
# `tsc -p test/e2e/tsconfig.json`) as its own process, for the e2e scripts: lib/common.sh sources
# this file (after setting ROOT).
#
#   e2e_server_start <dir> [cli args…]   writes <dir>/server.json ({apiUrl, outputOrigin, token,
#                                        sampleImageUrl, sampleMaskUrl, webhookSecret, adminUrl}),
#                                        sets E2E_SERVER_PID; a fresh random token each time
#   e2e_server_stop                      SIGTERM and wait; safe to call twice
E2E_SERVER_PID=

e2e_server_start() {
	local dir=$1 waited=0
	shift
	node "$ROOT/.build/tools/fake-replicate/cli.js" \
		--token "r8_e2e_$(node -p 'require("crypto").randomBytes(12).toString("hex")')" "$@" \
		>"$dir/server.json" 2>"$dir/server.err" &
	E2E_SERVER_PID=$!
	until [ -s "$dir/server.json" ]; do
		if ! kill -0 "$E2E_SERVER_PID" 2>/dev/null || [ "$waited" -ge 100 ]; then
			echo "test server did not start: $(cat "$dir/server.err")" >&2
			return 1
		fi
		sleep 0.1
		waited=$((waited + 1))
	done
}

e2e_server_stop() {
	[ -n "$E2E_SERVER_PID" ] || return 0
	kill -TERM "$E2E_SERVER_PID" 2>/dev/null || true
	wait "$E2E_SERVER_PID" 2>/dev/null || true
	E2E_SERVER_PID=
}
