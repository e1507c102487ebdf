# shellcheck shell=bash
# Wait Mode: Webhook checks (test/e2e/webhook-mode.js) for run-e2e.sh: called inside run_version
# after the regular checks, it adds each of its "ok"/"not ok" lines to that version's counts.
webhook_mode_checks() { # launcher user-folder work-dir
	local line
	while IFS= read -r line; do
		echo "$line"
		case "$line" in
		"ok - "*) passed=$((passed + 1)) ;;
		"not ok - "*) failed=$((failed + 1)) ;;
		esac
	done < <(
		rc=0
		node "$SCRIPT_DIR/webhook-mode.js" "$1" "$2" "$3" 2>"$3.err" || rc=$?
		# 1 = a check failed (already reported); anything else: the script broke.
		[ "$rc" -le 1 ] || echo "not ok - webhook mode: webhook-mode.js exited with $rc: $(tail -n 3 "$3.err" | tr '\n' ' ')"
	)
}
