# shellcheck shell=bash
# Helpers to drive a real n8n (installed by test/e2e/install-n8n.sh) from the command
# line. Source this file; every function takes the launcher path (…/run-n8n) where it
# runs n8n. Works for n8n 1.123.x and 2.40.x alike.

# A free TCP port on 127.0.0.1 (for the task broker of n8n 2.x, which otherwise always
# takes 5679: two n8n processes at once would clash).
n8n_e2e_free_port() {
	node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# The environment every n8n command of these tests gets (as `env` arguments), in the array
# N8N_E2E_ENV: a fresh task-broker port, sqlite, JSON logs at level info on the console, then
# the caller's array N8N_E2E_EXTRA_ENV (NAME=value entries; later ones win, so queue mode puts
# its database there). Anything else (N8N_RESTRICT_FILE_ACCESS_TO, NODE_OPTIONS, …) is
# inherited from the caller.
n8n_e2e_env() { # user-folder
	N8N_E2E_ENV=(
		N8N_USER_FOLDER="$1"
		DB_TYPE=sqlite
		N8N_LOG_FORMAT=json
		N8N_LOG_LEVEL=info
		N8N_LOG_OUTPUT=console
		N8N_DIAGNOSTICS_ENABLED=false
		N8N_VERSION_NOTIFICATIONS_ENABLED=false
		N8N_TEMPLATES_ENABLED=false
		N8N_LICENSE_AUTO_RENEW_ENABLED=false
		N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS=true
		N8N_RUNNERS_BROKER_PORT="$(n8n_e2e_free_port)"
		GENERIC_TIMEZONE=UTC
		${N8N_E2E_EXTRA_ENV[@]+"${N8N_E2E_EXTRA_ENV[@]}"}
	)
}

# Runs one n8n CLI command with that environment:
#   n8n_e2e_run <launcher> <user folder> <n8n args…>
# stdout: n8n's log, one JSON object per line ({"level","message","metadata"}).
# A command still running after N8N_E2E_TIMEOUT seconds (default 300) is killed: exit 124.
n8n_e2e_run() {
	local launcher=$1 user_folder=$2
	shift 2
	n8n_e2e_env "$user_folder"
	timeout --kill-after=10 "${N8N_E2E_TIMEOUT:-300}" env "${N8N_E2E_ENV[@]}" "$launcher" "$@"
}

# Starts an n8n command in the background: `n8n_e2e_spawn <launcher> <user folder> <log file>
# [NAME=value…] -- <n8n args…>`, with n8n_e2e_env's environment plus the NAME=value entries.
# Sets N8N_E2E_SPAWNED_PID (the n8n process itself: the launcher execs node).
n8n_e2e_spawn() {
	local launcher=$1 user_folder=$2 log=$3 extra=()
	shift 3
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		extra+=("$1")
		shift
	done
	shift
	n8n_e2e_env "$user_folder"
	# A server would fetch from api.n8n.io: the list of verified community nodes (1.x, 2.x) and
	# the MCP server registry (2.x module mcp-registry; naming it on 1.x is an error).
	N8N_E2E_ENV+=(N8N_VERIFIED_PACKAGES_ENABLED=false)
	if [ -d "$(dirname "$launcher")/node_modules/n8n/dist/modules/mcp-registry" ]; then
		N8N_E2E_ENV+=(N8N_DISABLED_MODULES="${N8N_DISABLED_MODULES:+$N8N_DISABLED_MODULES,}mcp-registry")
	fi
	(exec env "${N8N_E2E_ENV[@]}" "${extra[@]}" "$launcher" "$@") >"$log" 2>&1 &
	N8N_E2E_SPAWNED_PID=$!
}

# Waits until a spawned n8n has logged <line> and <url> answers 2xx (at most
# N8N_E2E_READY_TIMEOUT seconds, default 120). Returns non-zero if it exits or never gets ready.
n8n_e2e_wait_ready() { # pid log-file line url
	local pid=$1 log=$2 line=$3 url=$4 waited=0 limit=$((${N8N_E2E_READY_TIMEOUT:-120} * 10))
	until grep -qF "$line" "$log" &&
		node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$url"; do
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "n8n exited before it was ready (log: $log)" >&2
			wait "$pid" 2>/dev/null || true
			return 1
		fi
		if [ "$waited" -ge "$limit" ]; then
			echo "n8n not ready after $((limit / 10)) s (log: $log)" >&2
			return 1
		fi
		sleep 0.1
		waited=$((waited + 1))
	done
}

# Stops a spawned n8n: SIGTERM, then SIGKILL after 30 s.
n8n_e2e_kill() { # pid
	local pid=$1 waited=0
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt 300 ]; do
		sleep 0.1
		waited=$((waited + 1))
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# Starts `n8n start` (editor UI + REST API) in the background on 127.0.0.1:<port> and waits
# until it has logged "Editor is now accessible via" and answers /healthz/readiness (at most
# 120 s). Readiness alone is not enough: 1.x answers it before the REST routes exist. Sets
# N8N_E2E_START_PID. Returns non-zero if n8n exits or never gets ready.
n8n_e2e_start() { # launcher user-folder port log-file
	local launcher=$1 user_folder=$2 port=$3 log=$4
	n8n_e2e_spawn "$launcher" "$user_folder" "$log" N8N_PORT="$port" N8N_LISTEN_ADDRESS=127.0.0.1 \
		N8N_SECURE_COOKIE=false N8N_PERSONALIZATION_ENABLED=false -- start
	N8N_E2E_START_PID=$N8N_E2E_SPAWNED_PID
	n8n_e2e_wait_ready "$N8N_E2E_START_PID" "$log" 'Editor is now accessible via' \
		"http://127.0.0.1:$port/healthz/readiness" || {
		kill -0 "$N8N_E2E_START_PID" 2>/dev/null || N8N_E2E_START_PID=
		return 1
	}
}

# Stops the n8n started by n8n_e2e_start (SIGTERM, then SIGKILL after 30 s).
n8n_e2e_stop() {
	n8n_e2e_kill "${N8N_E2E_START_PID:-}"
	N8N_E2E_START_PID=
}

# Imports a workflow file (one workflow object or an array of them; give each an "id"
# of at most 21 characters so it can be executed by that id). n8n's log goes to <log>.
n8n_e2e_import_workflow() { # launcher user-folder file [log]
	n8n_e2e_run "$1" "$2" import:workflow --input="$3" >"${4:-/dev/null}" 2>&1
}

# Imports credentials: a JSON array of {id, name, type, data} where data is the plain
# object (n8n encrypts it with this instance's key on import). n8n's log goes to <log>.
n8n_e2e_import_credentials() { # launcher user-folder file [log]
	n8n_e2e_run "$1" "$2" import:credentials --input="$3" >"${4:-/dev/null}" 2>&1
}

# Executes a workflow by id and writes the execution (IRun JSON: {data:{resultData:
# {runData, error?, lastNodeExecuted}}, status, finished, mode, …}) to <out file>.
# Returns n8n's exit code (0 success, 1 when the workflow failed — the file is still
# written then if n8n got as far as running it). The raw log goes to <out file>.log.
n8n_e2e_execute() { # launcher user-folder workflow-id out-file
	local launcher=$1 user_folder=$2 id=$3 out=$4 rc=0
	n8n_e2e_run "$launcher" "$user_folder" execute --id="$id" --rawOutput >"$out.log" 2>&1 || rc=$?
	node -e '
		const fs = require("fs");
		const [log, out] = process.argv.slice(1);
		let found = null;
		for (const line of fs.readFileSync(log, "utf8").split("\n")) {
			let entry;
			try { entry = JSON.parse(line); } catch { continue; }
			if (typeof entry.message !== "string" || !entry.message.startsWith("{")) continue;
			try {
				const run = JSON.parse(entry.message);
				if (run && run.data && run.data.resultData) found = run;
			} catch {}
		}
		if (!found) { console.error("no execution result in " + log); process.exit(3); }
		fs.writeFileSync(out, JSON.stringify(found, null, 2));
	' "$out.log" "$out" || return 3
	return "$rc"
}

# Installs a community-node package tarball (from `npm pack`) into an instance exactly
# as n8n's CommunityPackagesService.downloadPackage does (1.123 and 2.40): unpack into
# <user folder>/.n8n/nodes/node_modules/<name>, drop devDependencies, peerDependencies and
# optionalDependencies from its package.json, run `npm install` there with n8n's flags
# (installs its own runtime dependencies, if any) and record it in .n8n/nodes/package.json.
# n8n then loads every node_modules/n8n-nodes-* (and @scope/n8n-nodes-*) in that folder at
# start, for `n8n execute` too. Node types are named "<package name>.<node name>".
# Do NOT `npm install <tarball>` there plainly: npm would also install the peer
# dependency n8n-workflow (latest) next to it, and the node would use that copy instead
# of n8n's own.
n8n_e2e_install_community_package() { # user-folder tarball
	local user_folder=$1 tarball nodes name version
	tarball=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
	nodes="$user_folder/.n8n/nodes"
	read -r name version < <(tar -xzOf "$tarball" package/package.json |
		node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const p=JSON.parse(s);console.log(p.name+" "+p.version)})')
	local dir="$nodes/node_modules/$name"
	rm -rf "$dir"
	mkdir -p "$dir"
	tar -xzf "$tarball" -C "$dir" --strip-components=1 || return 1
	node -e '
		const fs = require("fs"), f = process.argv[1];
		const { devDependencies, peerDependencies, optionalDependencies, ...pkg } = JSON.parse(fs.readFileSync(f, "utf8"));
		fs.writeFileSync(f, JSON.stringify(pkg, null, 2));
	' "$dir/package.json" || return 1
	(cd "$dir" && npm install --audit=false --fund=false --bin-links=false \
		--install-strategy=shallow --ignore-scripts=true --package-lock=false >&2) || return 1
	node -e '
		const fs = require("fs"), [f, name, version] = process.argv.slice(1);
		let pkg = { name: "installed-nodes", private: true, dependencies: {} };
		try { pkg = JSON.parse(fs.readFileSync(f, "utf8")); } catch {}
		pkg.dependencies = { ...(pkg.dependencies || {}), [name]: version };
		fs.writeFileSync(f, JSON.stringify(pkg, null, 2));
	' "$nodes/package.json" "$name" "$version"
}
