#!/usr/bin/env bash
# End-to-end test in real n8n: packs this package, installs it into real n8n (2.x on Node 24
# and 1.x on Node 22, from the npm registry, cached outside the repo) the way n8n installs a
# community package, and runs examples/inpaint.workflow.json against the Replicate-compatible
# test server (tools/fake-replicate). `npm run test:e2e` builds dist/ first and then runs this.
#
# Usage: test/e2e/run-e2e.sh [2|1|queue|all]   (default: all = 2 1 queue)
#   KEEP_E2E_TMP=1   keep the work folder (n8n logs, executions, server records) and print it
#   E2E_PARTS="…"    only these parts of a version's checks (default "example webhook models"):
#                    example = 2-8, webhook = w1-w6, models = the model workflows (1 always runs)
#   E2E_MODELS="…"   only these model workflows (owner/name or name, space-separated)
#
# Per n8n version, in a fresh N8N_USER_FOLDER, each numbered check passes or fails:
#   1 installed          npm pack's tarball placed in .n8n/nodes as n8n's installer does (with
#                        npm), nothing beside it (no n8n-workflow or zod copy), no dependencies
#   2 loader             `n8n start` serves node and credential in /types/*.json (n8n's loader
#                        accepted the description), no warning/error about the package logged
#   3 credential-test    n8n's credentials service runs the credential's test (POST
#                        /rest/credentials/test): right token OK, wrong token Error; the server
#                        saw GET /account with each Bearer token
#   4 example-run        `n8n execute --id` of the example (imported with import:workflow, the
#                        credential with import:credentials): exit 0, status success, each node
#                        once, one item per output image with a PNG binary
#   5 example-files      out/ (cwd of n8n execute) holds one file per output, a PNG of the
#                        requested size, byte-identical to the model's output
#   6 example-requests   the server's records: exactly one create, body = the example's fields
#                        and defaults with image/mask as data URIs of the input files; the
#                        Authorization header on every API request, none to the output origin
#   7 resolution         inside n8n's process (traced), the package's bare imports (zod,
#                        n8n-workflow) resolve to the very copies n8n itself uses
#   8 wrong-token        same workflow on a wrong token: exit 1, status error, message
#                        "Replicate API error 401 on POST /predictions: Unauthenticated", one
#                        request, nothing created or written
#   w1-w6                Wait Mode: Webhook in n8n start (test/e2e/webhook-mode.js): single item,
#                        many items, forged calls, timeout, restart while executions wait, the
#                        last-created prediction's call answered before a restart
#   model workflows      one workflow per model of test/e2e/models/specs.js (lib/models.sh): files
#                        read from disk, the model run (Create and Wait), its outputs written;
#                        success, the model's prediction, exactly the input set, PNG files
#                        written; prints "model <owner/name> on n8n <version>: passed|failed"
# and then prints "n8n <version> on node <version>: N passed, N failed" per version and the
# model lines again.
# "queue" is n8n 2.x in queue mode (PostgreSQL, Redis, workers, two webhook processes behind a
# round-robin proxy):
# queue/run-queue.sh, whose own header lists its checks; it adds its line and the held-workers
# line to the summary.
# Exits non-zero if any check failed (or a version could not be installed).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/common.sh
source "$SCRIPT_DIR/lib/common.sh"
# shellcheck source=lib/webhook-mode.sh
source "$SCRIPT_DIR/lib/webhook-mode.sh"
# shellcheck source=lib/models.sh
source "$SCRIPT_DIR/lib/models.sh"
CHECK=("node" "$SCRIPT_DIR/check-run.js")

e2e_lines 2 1 queue -- "$@"
# ---- 0. what the test needs built, its work folder -------------------------------------------
e2e_require_build test:e2e
e2e_work_folder n8n-e2e KEEP_E2E_TMP

log() { printf '# %s\n' "$*"; }
part() { [[ " ${E2E_PARTS:-example webhook models} " == *" $1 "* ]]; }

# ---- 1. npm pack -----------------------------------------------------------------------------
e2e_pack
PACKAGE_NAME=$(node -p 'require(process.argv[1]).name' "$ROOT/package.json")

SUMMARY=()
ANY_FAILED=0

# ---- 2-6 per n8n version -----------------------------------------------------------------------
run_version() { # line (2|1)
	local line=$1 installed version node_version launcher dir user started=$SECONDS
	local passed=0 failed=0
	check() { e2e_check "n8n $version" "$@"; } # name, command…

	# 2. Real n8n from the npm registry, cached (install-n8n.sh reuses a valid cache). Its
	# progress goes to stderr as it happens (a cold install takes minutes).
	IFS=$'\t' read -r version node_version < <("$SCRIPT_DIR/install-n8n.sh" --versions "$line")
	if ! installed=$("$SCRIPT_DIR/install-n8n.sh" "$line" 2> >(tee "$WORK/install-$line.err" >&2)); then
		sleep 0.5 # let tee finish the log
		echo "not ok - n8n $version: install-n8n.sh failed: $(grep -m1 'ERROR' "$WORK/install-$line.err" || tail -n 1 "$WORK/install-$line.err")"
		SUMMARY+=("n8n $version on node $node_version: 0 passed, 1 failed")
		ANY_FAILED=1
		return
	fi
	IFS=$'\t' read -r version node_version launcher <<<"$installed"
	log "n8n $version on node $node_version ($(dirname "$launcher")), install check took $((SECONDS - started))s"
	dir="$WORK/n8n-$version"
	user="$dir/user"
	mkdir -p "$user"
	cp "$WORK/pack.json" "$dir/pack.json"

	e2e_server_start "$dir" || {
		failed=$((failed + 1))
		echo "not ok - n8n $version: the test server did not start"
		SUMMARY+=("n8n $version on node $node_version: $passed passed, $failed failed")
		ANY_FAILED=1
		return
	}
	E2E_N8N_VERSION=$version E2E_NODE_VERSION=$node_version E2E_N8N_DIR=$(dirname "$launcher") \
		E2E_USER_FOLDER=$user E2E_TARBALL=$TARBALL "${CHECK[@]}" prepare "$dir" || {
		echo "not ok - n8n $version: preparing the fixtures failed"
		SUMMARY+=("n8n $version on node $node_version: 0 passed, 1 failed")
		ANY_FAILED=1
		e2e_server_stop
		return
	}

	# 3. The tarball into <N8N_USER_FOLDER>/.n8n/nodes as n8n's installer does it.
	if n8n_e2e_install_community_package "$user" "$TARBALL" 2>"$dir/install-package.log"; then
		check "1 installed like a community package" "${CHECK[@]}" installed "$dir"
	else
		echo "    $(tail -n 3 "$dir/install-package.log")"
		check "1 installed like a community package" false
	fi

	# 4. Credentials and workflows through n8n's own import commands.
	n8n_e2e_import_credentials "$launcher" "$user" "$dir/credentials.json" "$dir/import-credentials.log" ||
		echo "    import:credentials failed: $(tail -n 2 "$dir/import-credentials.log" | cut -c1-400)"
	n8n_e2e_import_workflow "$launcher" "$user" "$dir/workflows.json" "$dir/import-workflows.log" ||
		echo "    import:workflow failed: $(tail -n 2 "$dir/import-workflows.log" | cut -c1-400)"

	if part example; then example_checks "$launcher" "$dir"; fi
	if part models; then model_workflow_checks "$launcher" "$user" "$dir" "$version"; fi
	if part webhook; then webhook_mode_checks "$launcher" "$user" "$dir/webhook-mode"; fi

	e2e_server_stop
	log "n8n $version: $((SECONDS - started))s"
	SUMMARY+=("n8n $version on node $node_version: $passed passed, $failed failed")
	[ "$failed" -eq 0 ] || ANY_FAILED=1
}

# Checks 2-8 (loader, credential test, the example, wrong token) of one version, inside
# run_version (its user, version, passed, failed and check).
example_checks() { # launcher version-dir
	local launcher=$1 dir=$2 port
	# n8n start: the loader's view (the editor's node types) and the credential test.
	port=$(n8n_e2e_free_port)
	if n8n_e2e_start "$launcher" "$user" "$port" "$dir/start.log"; then
		check "2 loader accepts node and credential" "${CHECK[@]}" loader "$dir" "http://127.0.0.1:$port"
		check "3 credential test in n8n's credentials service" "${CHECK[@]}" credential-test "$dir" "http://127.0.0.1:$port"
	else
		echo "    $(grep -m3 '"level":"error"' "$dir/start.log" | cut -c1-400)"
		check "2 loader accepts node and credential" false
		check "3 credential test in n8n's credentials service" false
	fi
	n8n_e2e_stop
	"${CHECK[@]}" snapshot "$dir" start || echo "    could not read the test server's records"

	# 5. The example, as shipped, by id; relative paths against the cwd, the only folder n8n may touch.
	local rc=0
	(
		cd "$dir/run-example"
		export N8N_RESTRICT_FILE_ACCESS_TO="$dir/run-example"
		export NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--require \"$SCRIPT_DIR/lib/trace-resolve.js\""
		export N8N_E2E_RESOLVE_LOG="$dir/resolve.jsonl" N8N_E2E_RESOLVE_PACKAGE="/node_modules/$PACKAGE_NAME/"
		n8n_e2e_execute "$launcher" "$user" e2eInpaintExample "$dir/example.json"
	) || rc=$?
	echo "$rc" >"$dir/example.rc"
	"${CHECK[@]}" snapshot "$dir" example || echo "    could not read the test server's records"
	check "4 example workflow runs to success" "${CHECK[@]}" example-run "$dir"
	check "5 output files are PNGs of the requested size, one per output" "${CHECK[@]}" example-files "$dir"
	check "6 one create with the expected body, token only to the API origin" "${CHECK[@]}" example-requests "$dir"
	check "7 zod and n8n-workflow resolve to n8n's own copies" "${CHECK[@]}" resolution "$dir"

	# The checks above fetched the output file themselves: start the next records clean.
	"${CHECK[@]}" snapshot "$dir" after-example-checks || echo "    could not reset the test server's records"
	rc=0
	(
		cd "$dir/run-wrong"
		export N8N_RESTRICT_FILE_ACCESS_TO="$dir/run-wrong"
		n8n_e2e_execute "$launcher" "$user" e2eInpaintWrongToken "$dir/wrong.json"
	) || rc=$?
	echo "$rc" >"$dir/wrong.rc"
	"${CHECK[@]}" snapshot "$dir" wrong || echo "    could not read the test server's records"
	check "8 wrong token ends with the node's 401 error" "${CHECK[@]}" wrong-token "$dir"
}

# Queue mode (n8n 2.x): its own script, with the same tarball; its summary lines join ours.
run_queue() {
	local rc=0
	"$SCRIPT_DIR/queue/run-queue.sh" "$TARBALL" "$WORK/queue" | tee "$WORK/queue.out" || rc=$?
	mapfile -t -O "${#SUMMARY[@]}" SUMMARY < <(grep -E '^(n8n .* queue mode \(|held workers:)' "$WORK/queue.out")
	[ "$rc" -eq 0 ] || ANY_FAILED=1
}

for line in "${LINES[@]}"; do
	if [ "$line" = queue ]; then run_queue; else run_version "$line"; fi
done

printf '%s\n' "${SUMMARY[@]}" ${MODEL_SUMMARY[@]+"${MODEL_SUMMARY[@]}"}
exit "$ANY_FAILED"
