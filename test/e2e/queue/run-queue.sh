#!/usr/bin/env bash
# Queue mode for real: n8n 2.40.7 (Node 24, from install-n8n.sh's cache) as users scale it out,
# with PostgreSQL and Redis from Debian's packages (apt-get installs them when absent; private
# instances on free 127.0.0.1 ports, own data folders, stopped at the end whatever happens):
#   main      `n8n start`, EXECUTIONS_MODE=queue: activates the workflows, enqueues nothing itself
#   webhook   `n8n webhook` ×2 (webhook1, webhook2, own ports and user folders) behind a
#             round-robin proxy (round-robin-proxy.js, the test's own): WEBHOOK_URL points at the
#             proxy, so production webhooks, the trigger's deliveries and /webhook-waiting/ resume
#             calls alternate strictly between the two processes; a process that is down gets 502
#             (a balancer without health checks). The proxy records every request (proxy.jsonl).
#   workers   `n8n worker` ×2 (own task-broker and health ports), concurrency 10; for the held-
#             workers check first a single worker with concurrency 1
# Binary data: N8N_DEFAULT_BINARY_DATA_MODE=database (supported in queue mode without a licence
# or shared disk; each process has its own N8N_USER_FOLDER, so the filesystem mode would fail).
# The packed package is installed into every process's user folder as n8n installs a community
# package (lib/n8n-e2e.sh), like one image per container.
#
# How executions start: each check POSTs to an active workflow's n8n Webhook trigger through
# the proxy (Webhook → Split Out → Replicate Inpainting → Write File). That is how
# queue-mode users start work: `n8n execute` would run the workflow inside the CLI process, not
# on a worker, and the REST "run" endpoint runs manual executions on main. The Webhook answers at
# once ("onReceived"); the checks then follow the executions in n8n's database.
#
# Checks (check-queue.js has the details):
#   1 held workers, poll     1 worker, concurrency 1: 8 executions, 20 s predictions, ≈ 8 × 20 s
#   2 held workers, webhook  the same in Webhook wait mode: ≤ 1.5 × 20 s + start-up
#   3 concurrent             20 poll + 20 webhook-mode executions × 3 items at once on 2 workers:
#                            all succeed, PNGs byte-equal to the server's, outputs in input order,
#                            one create per item; some execution's resume calls were answered by
#                            both webhook processes
#   4 trigger                Replicate Inpainting Trigger behind the proxy: signed deliveries →
#                            executions on workers; forged ones → 401, none started
#   5 worker killed          SIGKILL to a worker while it polls and 3 webhook-mode executions × 3
#                            items wait: the other executions finish, the parked ones resume on
#                            the survivor and succeed, no prediction runs past its Timeout
#   6 webhook restarted      6 webhook-mode executions × 3 items parked (item 0's prediction ends
#                            while webhook1 is down, the others after), webhook1 stopped (SIGTERM)
#                            until a resume call got 502, then started again: Replicate's retries
#                            get through, every execution succeeds in input order, some with calls
#                            answered before the restart and by the restarted process
# then prints "n8n <v> queue mode (postgres <v>, redis <v>, 2 workers, queue mode webhook
# processes: 2) on node <v>: N passed, N failed"
# and the held-workers line; exits non-zero on any failure.
#
# Usage: test/e2e/queue/run-queue.sh <package tarball> <work folder>   (run-e2e.sh calls it)
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib/common.sh
source "$SCRIPT_DIR/../lib/common.sh"
# shellcheck source=services.sh
source "$SCRIPT_DIR/services.sh"
CHECK=(node "$SCRIPT_DIR/check-queue.js")

TARBALL=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
DIR=$2
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
started=$SECONDS
log() { printf '# queue: %s (%ss)\n' "$*" "$((SECONDS - started))"; }

# QUEUE_E2E_N8N_LINE=1 runs the same on n8n 1.123.81 (a measurement, not part of npm run test:e2e).
LINE=${QUEUE_E2E_N8N_LINE:-2}
read -r version node_version < <("$E2E_DIR/install-n8n.sh" --versions "$LINE")
passed=0
failed=0
WEBHOOK_PROCESSES=(webhook1 webhook2) # behind the round-robin proxy
summary() {
	echo "n8n $version queue mode (postgres ${QUEUE_PG_VERSION:-?}, redis ${QUEUE_REDIS_VERSION:-?}, 2 workers, queue mode webhook processes: ${#WEBHOOK_PROCESSES[@]}) on node $node_version: $passed passed, $failed failed"
}
# QUEUE_E2E_CHECKS="3 4" runs only those checks (for working on one; the line then says so).
check() { # name, command…
	local name=$1
	shift
	if [ -n "${QUEUE_E2E_CHECKS:-}" ] && [[ " $QUEUE_E2E_CHECKS " != *" ${name%% *} "* ]]; then
		echo "# skipped - $name"
		return 0
	fi
	e2e_check "n8n $version queue mode" "$name" "$@"
}
give_up() { # what failed
	echo "not ok - n8n $version queue mode: $*"
	failed=$((failed + 1))
	summary
	exit 1
}

declare -A PIDS=()
PROXY_PID=
stop_all() {
	local name
	for name in "${!PIDS[@]}"; do kill -TERM "${PIDS[$name]}" 2>/dev/null || true; done
	for name in "${!PIDS[@]}"; do n8n_e2e_kill "${PIDS[$name]}"; done
	PIDS=()
	n8n_e2e_kill "$PROXY_PID"
	PROXY_PID=
	e2e_server_stop
	queue_pg_stop
	queue_redis_stop
	[ -z "${PG_DIR:-}" ] || rm -rf "$PG_DIR"
}
e2e_enter "$DIR" stop_all

if ! installed=$("$E2E_DIR/install-n8n.sh" "$LINE" 2>"$DIR/install-n8n.err"); then
	give_up "install-n8n.sh failed: $(tail -n 1 "$DIR/install-n8n.err")"
fi
IFS=$'\t' read -r version node_version LAUNCHER <<<"$installed"

# ---- PostgreSQL, Redis, the test server ---------------------------------------------------------
queue_services_install || give_up "apt-get install postgresql redis-server failed"
# The cluster belongs to user postgres: its folder lives outside $DIR (mktemp folders are 0700).
PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/n8n-e2e-pg.XXXXXX")
chmod 755 "$PG_DIR"
queue_pg_start "$PG_DIR/pg" 2>"$DIR/postgres.err" || give_up "PostgreSQL did not start: $(tail -n 2 "$DIR/postgres.err")"
queue_redis_start "$DIR/redis" 2>"$DIR/redis.err" || give_up "Redis did not start: $(tail -n 2 "$DIR/redis.err")"
log "postgres $QUEUE_PG_VERSION on 127.0.0.1:$QUEUE_PG_PORT, redis $QUEUE_REDIS_VERSION on 127.0.0.1:$QUEUE_REDIS_PORT"
e2e_server_start "$DIR" || give_up "the test server did not start"

MAIN_PORT=$(n8n_e2e_free_port)
PROXY_PORT=$(n8n_e2e_free_port)
declare -A WEBHOOK_PORTS=()
backends=()
for name in "${WEBHOOK_PROCESSES[@]}"; do
	WEBHOOK_PORTS[$name]=$(n8n_e2e_free_port)
	backends+=("$name=http://127.0.0.1:${WEBHOOK_PORTS[$name]}")
done
node "$SCRIPT_DIR/round-robin-proxy.js" "$PROXY_PORT" "$DIR/proxy.jsonl" "${backends[@]}" >"$DIR/proxy.log" 2>&1 &
PROXY_PID=$!
# What every n8n process of this instance shares (n8n_e2e_env adds it to its own environment).
N8N_E2E_EXTRA_ENV=(
	DB_TYPE=postgresdb DB_POSTGRESDB_HOST=127.0.0.1 DB_POSTGRESDB_PORT="$QUEUE_PG_PORT"
	DB_POSTGRESDB_DATABASE=n8n DB_POSTGRESDB_USER=postgres DB_POSTGRESDB_PASSWORD=
	# n8n's default pool of 2 connections per process starves a webhook process that takes ~30
	# resume calls at once (check 3): "timeout exceeded when trying to connect", 503 "Database is
	# not ready!", binary writes failing. A scaled-out install sizes its pools; 5 × 10 < 200.
	DB_POSTGRESDB_POOL_SIZE=10
	EXECUTIONS_MODE=queue QUEUE_BULL_REDIS_HOST=127.0.0.1 QUEUE_BULL_REDIS_PORT="$QUEUE_REDIS_PORT"
	N8N_ENCRYPTION_KEY="$(node -p 'require("crypto").randomBytes(24).toString("hex")')"
	WEBHOOK_URL="http://127.0.0.1:$PROXY_PORT/"
	N8N_DEFAULT_BINARY_DATA_MODE=database
	N8N_RESTRICT_FILE_ACCESS_TO="$DIR/out"
	N8N_LISTEN_ADDRESS=127.0.0.1 N8N_WORKER_SERVER_ADDRESS=127.0.0.1
	# The kill check: a dead worker's job lock expires after 20 s instead of 60 s.
	QUEUE_WORKER_LOCK_DURATION=20000 QUEUE_WORKER_LOCK_RENEW_TIME=5000 QUEUE_WORKER_STALLED_INTERVAL=5000
)

E2E_N8N_DIR=$(dirname "$LAUNCHER") E2E_PG_PORT=$QUEUE_PG_PORT E2E_WEBHOOK_BASE="http://127.0.0.1:$PROXY_PORT/" \
	"${CHECK[@]}" prepare "$DIR" || give_up "preparing the fixtures failed"

# ---- n8n processes --------------------------------------------------------------------------------
declare -A SPAWNED=() # every process ever started (its log stays evidence after it stopped)
write_processes() {
	local name json='{'
	for name in "${!SPAWNED[@]}"; do json+="\"$name\":{\"pid\":${SPAWNED[$name]},\"log\":\"$DIR/$name.log\"},"; done
	printf '%s}\n' "${json%,}" >"$DIR/processes.json"
}
spawn() { # name n8n-args… (the package goes into the process's own user folder first)
	local name=$1 user="$DIR/user-$1"
	shift
	# A restarted process keeps its user folder and package, as a container keeps its image.
	if [ ! -d "$user" ]; then
		mkdir -p "$user"
		n8n_e2e_install_community_package "$user" "$TARBALL" 2>"$DIR/$name.install.log" ||
			give_up "installing the package for $name: $(tail -n 2 "$DIR/$name.install.log")"
	fi
	n8n_e2e_spawn "$LAUNCHER" "$user" "$DIR/$name.log" "$@"
	PIDS[$name]=$N8N_E2E_SPAWNED_PID
	SPAWNED[$name]=$N8N_E2E_SPAWNED_PID
	write_processes
}
spawn_webhook() { # name
	spawn "$1" N8N_PORT="${WEBHOOK_PORTS[$1]}" -- webhook
	READY_URL[$1]="http://127.0.0.1:${WEBHOOK_PORTS[$1]}/healthz/readiness"
	READY_LINE[$1]='Webhook listener waiting for requests.'
}
spawn_worker() { # name concurrency
	local port
	port=$(n8n_e2e_free_port)
	spawn "$1" QUEUE_HEALTH_CHECK_ACTIVE=true QUEUE_HEALTH_CHECK_PORT="$port" -- worker --concurrency="$2"
	READY_URL[$1]="http://127.0.0.1:$port/healthz/readiness"
	READY_LINE[$1]='n8n worker is now ready'
}
declare -A READY_URL=() READY_LINE=()
wait_ready() { # name…
	local name
	for name in "$@"; do
		n8n_e2e_wait_ready "${PIDS[$name]}" "$DIR/$name.log" "${READY_LINE[$name]}" "${READY_URL[$name]}" 2>>"$DIR/ready.err" ||
			give_up "n8n $name did not get ready: $(grep -m2 '"level":"error"' "$DIR/$name.log" | cut -c1-300)"
	done
}
stop_process() { # name
	n8n_e2e_kill "${PIDS[$1]}"
	unset "PIDS[$1]"
}

# The database is created by the imports (they run n8n's migrations). Then `publish:workflow`
# (2.x's "activate") for each workflow, as import:workflow --activeState=fromJson is refused
# here: the CLI's import user may not activate ("You do not have permission to activate").
# Main activates published workflows when it starts.
mkdir -p "$DIR/user-import"
n8n_e2e_run "$LAUNCHER" "$DIR/user-import" import:credentials --input="$DIR/credentials.json" >"$DIR/import.log" 2>&1 ||
	give_up "import:credentials failed: $(tail -n 2 "$DIR/import.log" | cut -c1-300)"
n8n_e2e_run "$LAUNCHER" "$DIR/user-import" import:workflow --input="$DIR/workflows.json" >>"$DIR/import.log" 2>&1 ||
	give_up "import:workflow failed: $(tail -n 2 "$DIR/import.log" | cut -c1-300)"
publishing=()
activate=(publish:workflow) # 1.x: update:workflow --active=true
[ -d "$(dirname "$LAUNCHER")/node_modules/n8n/dist/commands/publish" ] || activate=(update:workflow --active=true)
for id in $(node -p 'require(process.argv[1]).map((w) => w.id).join(" ")' "$DIR/workflows.json"); do
	n8n_e2e_run "$LAUNCHER" "$DIR/user-import" "${activate[@]}" --id="$id" >"$DIR/publish-$id.log" 2>&1 &
	publishing+=("$!:$id")
done
for entry in "${publishing[@]}"; do
	wait "${entry%%:*}" || give_up "publish:workflow --id=${entry#*:} failed: $(tail -n 1 "$DIR/publish-${entry#*:}.log" | cut -c1-300)"
done
log "imported into PostgreSQL"

spawn main N8N_PORT="$MAIN_PORT" N8N_SECURE_COOKIE=false -- start
READY_URL[main]="http://127.0.0.1:$MAIN_PORT/healthz/readiness"
READY_LINE[main]='Editor is now accessible via'
wait_ready main
for name in "${WEBHOOK_PROCESSES[@]}"; do spawn_webhook "$name"; done
spawn_worker worker0 1
wait_ready "${WEBHOOK_PROCESSES[@]}" worker0
grep -q listening "$DIR/proxy.log" || give_up "the round-robin proxy did not start: $(tail -n 2 "$DIR/proxy.log")"
log "main, 2 webhook processes behind the proxy and one worker (concurrency 1) ready"

# ---- 1, 2: held workers ---------------------------------------------------------------------------
check "1 held workers, poll mode: 8 executions one after another" "${CHECK[@]}" held "$DIR" poll
if grep -q '"queueWebhookMode"' "$DIR/workflows.json"; then
	check "2 held workers, webhook mode: 8 parked executions in ≤ 1.5 × 20 s + start-up" "${CHECK[@]}" held "$DIR" webhook
else
	check "2 held workers, webhook mode (the built node has no Webhook wait mode)" false
fi
[ -n "${QUEUE_E2E_CHECKS:-}" ] || "${CHECK[@]}" held-line "$DIR"

# ---- two workers ----------------------------------------------------------------------------------
stop_process worker0
spawn_worker worker1 10
spawn_worker worker2 10
wait_ready worker1 worker2
log "two workers (concurrency 10) ready"

check "3 20 poll + 20 webhook-mode executions × 3 items at once: all succeed, PNGs equal, in order, one create per item, calls on both webhook processes" \
	"${CHECK[@]}" concurrent "$DIR"
check "4 trigger behind the webhook processes: signed deliveries run on workers, forged ones 401" \
	"${CHECK[@]}" trigger "$DIR"

# ---- 5: a worker killed while it polls --------------------------------------------------------------
# Child pids of a process, from /proc (CI's Debian image has no procps, so no pgrep).
children_of() { # pid
	local stat fields ppid pid
	for stat in /proc/[0-9]*/stat; do
		fields=$(cat "$stat" 2>/dev/null) || continue
		fields=${fields##*) } # after "pid (comm) ": state ppid …
		read -r _ ppid _ <<<"$fields"
		pid=${stat#/proc/}
		[ "$ppid" != "$1" ] || echo "${pid%/stat}"
	done
}
kill_worker() {
	local victim pid
	"${CHECK[@]}" kill-start "$DIR" || return 1
	victim=$(node -p 'require(process.argv[1]).victim' "$DIR/kill.json")
	pid=${PIDS[$victim]}
	# As when a container dies: the worker and its task-runner child, without warning.
	# shellcheck disable=SC2046 # one pid per word
	kill -KILL "$pid" $(children_of "$pid") 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	unset "PIDS[$victim]"
	log "SIGKILL to $victim (pid $pid)"
	"${CHECK[@]}" kill-finish "$DIR"
}
check "5 worker killed while polling and webhook-mode executions wait: others finish, parked ones resume, no prediction past its Timeout" kill_worker

# ---- 6: a webhook process restarted while webhook-mode executions wait ------------------------------
restart_webhook() {
	"${CHECK[@]}" restart-start "$DIR" || return 1
	n8n_e2e_kill "${PIDS[webhook1]}" # SIGTERM (SIGKILL only after 30 s)
	unset "PIDS[webhook1]"
	log "webhook1 stopped"
	"${CHECK[@]}" restart-gap "$DIR"
	mv "$DIR/webhook1.log" "$DIR/webhook1.before-restart.log"
	spawn_webhook webhook1
	wait_ready webhook1
	log "webhook1 started again"
	"${CHECK[@]}" restart-finish "$DIR"
}
if grep -q '"queueWebhookMode"' "$DIR/workflows.json"; then
	check "6 webhook process restarted while executions wait: retried calls get through, all succeed in order" restart_webhook
else
	check "6 webhook process restarted (the built node has no Webhook wait mode)" false
fi

log "done"
summary
[ "$failed" -eq 0 ]
