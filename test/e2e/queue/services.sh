# shellcheck shell=bash
# PostgreSQL and Redis for the queue-mode e2e: Debian's packages (installed with apt-get when
# absent), each a private instance on a free 127.0.0.1 port with its own data folder, so that
# nothing else on the machine (another test, a system service) is touched. Source this file
# after lib/n8n-e2e.sh (for n8n_e2e_free_port).
#
#   queue_services_install          apt-get install -y postgresql redis-server, only if missing
#   queue_pg_start <dir>            sets QUEUE_PG_PORT, QUEUE_PG_VERSION; database "n8n", user postgres
#   queue_pg_stop
#   queue_redis_start <dir>         sets QUEUE_REDIS_PORT, QUEUE_REDIS_VERSION
#   queue_redis_stop
# The stop functions are safe to call at any time (also from a trap, twice).

QUEUE_PG_DATA=
QUEUE_PG_BIN=
QUEUE_REDIS_PIDFILE=

# sudo only when not root (CI runners have passwordless sudo; this machine runs as root).
queue_as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# The newest installed PostgreSQL server's bin folder (Debian: /usr/lib/postgresql/<major>/bin).
queue_pg_bin() {
	local dir
	dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	[ -n "$dir" ] && [ -x "$dir/initdb" ] && echo "$dir"
}

queue_services_install() {
	if [ -n "$(queue_pg_bin)" ] && command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then
		return 0
	fi
	echo "# installing postgresql and redis-server from Debian's packages (apt-get)" >&2
	queue_as_root apt-get update -qq >&2 &&
		queue_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql redis-server >&2 || return 1
	[ -n "$(queue_pg_bin)" ] && command -v redis-server >/dev/null
}

# PostgreSQL refuses to run as root: as root, the cluster belongs to the "postgres" user the
# package creates and every server command runs as that user; otherwise as the caller.
queue_pg_as_owner() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

queue_pg_start() { # dir (must not exist yet; its parent must be traversable by user postgres)
	local dir=$1
	QUEUE_PG_BIN=$(queue_pg_bin) || { echo "no PostgreSQL server installed" >&2; return 1; }
	mkdir -p "$dir/data" "$dir/socket"
	touch "$dir/postgres.log"
	if [ "$(id -u)" = 0 ]; then chown -R postgres:postgres "$dir"; fi
	queue_pg_as_owner "$QUEUE_PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-sync \
		>"$dir/initdb.log" 2>&1 || { echo "initdb failed: $(tail -n 3 "$dir/initdb.log")" >&2; return 1; }
	QUEUE_PG_PORT=$(n8n_e2e_free_port)
	# fsync off: a throw-away test database, and the machine is shared.
	queue_pg_as_owner "$QUEUE_PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
		-o "-p $QUEUE_PG_PORT -k $dir/socket -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" \
		start >"$dir/pg_ctl.log" 2>&1 || { echo "PostgreSQL did not start: $(tail -n 3 "$dir/postgres.log")" >&2; return 1; }
	QUEUE_PG_DATA="$dir/data"
	"$QUEUE_PG_BIN/psql" -h 127.0.0.1 -p "$QUEUE_PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qc 'CREATE DATABASE n8n' >&2 || return 1
	QUEUE_PG_VERSION=$("$QUEUE_PG_BIN/psql" -h 127.0.0.1 -p "$QUEUE_PG_PORT" -U postgres -Atc 'SHOW server_version' | cut -d' ' -f1)
}

queue_pg_stop() {
	[ -n "$QUEUE_PG_DATA" ] || return 0
	queue_pg_as_owner "$QUEUE_PG_BIN/pg_ctl" -D "$QUEUE_PG_DATA" -m fast -w -t 30 stop >/dev/null 2>&1 || true
	QUEUE_PG_DATA=
}

queue_redis_start() { # dir
	local dir=$1 waited=0
	mkdir -p "$dir"
	QUEUE_REDIS_PORT=$(n8n_e2e_free_port)
	QUEUE_REDIS_PIDFILE="$dir/redis.pid"
	redis-server --port "$QUEUE_REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
		--daemonize yes --pidfile "$QUEUE_REDIS_PIDFILE" --dir "$dir" --logfile "$dir/redis.log" >&2 || return 1
	until redis-cli -p "$QUEUE_REDIS_PORT" ping 2>/dev/null | grep -q PONG; do
		[ "$waited" -lt 100 ] || { echo "Redis did not answer: $(tail -n 3 "$dir/redis.log")" >&2; return 1; }
		sleep 0.1
		waited=$((waited + 1))
	done
	QUEUE_REDIS_VERSION=$(redis-cli -p "$QUEUE_REDIS_PORT" info server | tr -d '\r' | sed -n 's/^redis_version://p')
}

queue_redis_stop() {
	[ -n "$QUEUE_REDIS_PIDFILE" ] || return 0
	redis-cli -p "$QUEUE_REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
	local pid
	pid=$(cat "$QUEUE_REDIS_PIDFILE" 2>/dev/null || true)
	[ -z "$pid" ] || kill "$pid" 2>/dev/null || true
	QUEUE_REDIS_PIDFILE=
}
