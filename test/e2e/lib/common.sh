# shellcheck shell=bash
# The common start of the scripts that test the package in a real n8n (test/e2e/run-e2e.sh,
# test/e2e/queue/run-queue.sh, test/ui/run-ui.sh). Sourcing it sets E2E_DIR (test/e2e) and ROOT
# (the repository), sources the helpers they all use (lib/n8n-e2e.sh, lib/test-server.sh,
# lib/npm-env.sh) and scrubs the settings of an `npm run` around them (npm_env_scrub). Then:
#
#   e2e_lines <known line…> -- <args…>   LINES = the args (none or "all": every known line);
#                                        exits 2 with the usage on an unknown one
#   e2e_require_build <npm script>       exits 2 unless dist/ is built; compiles the test server
#   e2e_enter <folder> <cleanup>         cd there, <cleanup> at exit (Ctrl+C included)
#   e2e_work_folder <name> <KEEP var> [--keep-failed]
#                                        a fresh WORK folder, entered: at exit n8n and the test
#                                        server stop and WORK goes unless $<KEEP var> is set (or,
#                                        with --keep-failed, ANY_FAILED is not 0)
#   e2e_pack                             npm pack into WORK; sets TARBALL
#   e2e_check <label> <name> <command…>  one check: "ok - <label>: <name>" or "not ok - …",
#                                        counted in the caller's passed/failed
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROOT=$(cd "$E2E_DIR/../.." && pwd)
# shellcheck source=n8n-e2e.sh
source "$E2E_DIR/lib/n8n-e2e.sh"
# shellcheck source=test-server.sh
source "$E2E_DIR/lib/test-server.sh"
# shellcheck source=npm-env.sh
source "$E2E_DIR/lib/npm-env.sh"

npm_env_scrub

e2e_lines() { # known line… -- args…
	local known=() line
	while [ "$1" != -- ]; do
		known+=("$1")
		shift
	done
	shift
	LINES=("$@")
	[ ${#LINES[@]} -gt 0 ] || LINES=(all)
	case " ${LINES[*]} " in *" all "*) LINES=("${known[@]}") ;; esac
	for line in "${LINES[@]}"; do
		case " ${known[*]} " in
		*" $line "*) ;;
		*)
			local IFS='|'
			echo "usage: $0 [${known[*]}|all]" >&2
			exit 2
			;;
		esac
	done
}

e2e_require_build() { # npm script that builds first
	[ -f "$ROOT/dist/nodes/ReplicateInpainting/ReplicateInpainting.node.js" ] || {
		echo "dist/ is not built: run npm run $1 (or npm run build first)" >&2
		exit 2
	}
	# The test server and its PNG decoder (TypeScript under tools/fake-replicate), into .build/ as
	# build:tools does, but only these files: work in progress elsewhere cannot stop the tests.
	(cd "$ROOT" && node_modules/.bin/tsc -p "$E2E_DIR/tsconfig.json" >&2)
}

e2e_enter() { # folder cleanup-function
	trap "$2" EXIT
	trap 'exit 130' INT TERM
	# n8n loads ./.env (dotenv): never run it from a folder that could have one.
	cd "$1"
}

e2e_work_folder() { # name KEEP-variable [--keep-failed]
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
	E2E_KEEP_VARIABLE=$2
	E2E_KEEP_FAILED=${3:-}
	e2e_enter "$WORK" e2e_work_cleanup
}

e2e_work_cleanup() {
	n8n_e2e_stop
	e2e_server_stop
	if [ -n "${!E2E_KEEP_VARIABLE:-}" ] || { [ -n "$E2E_KEEP_FAILED" ] && [ "${ANY_FAILED:-0}" -ne 0 ]; }; then
		echo "# kept $WORK" >&2
	else
		rm -rf "$WORK"
	fi
}

e2e_pack() {
	(cd "$ROOT" && npm pack --json --pack-destination "$WORK" 2>/dev/null) >"$WORK/pack.json"
	TARBALL="$WORK/$(node -p 'require(process.argv[1])[0].filename' "$WORK/pack.json")"
	[ -f "$TARBALL" ] || {
		echo "npm pack produced no tarball" >&2
		exit 1
	}
	echo "# packed $(basename "$TARBALL")"
}

e2e_check() { # label name command…
	local label=$1 name=$2
	shift 2
	if "$@"; then
		passed=$((passed + 1))
		echo "ok - $label: $name"
	else
		failed=$((failed + 1))
		echo "not ok - $label: $name"
	fi
}
