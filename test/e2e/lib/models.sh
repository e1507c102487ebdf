# shellcheck shell=bash
# The model workflows (issue 20; test/e2e/models/) for run-e2e.sh: called inside run_version with
# the version's test server running, it makes one workflow per model (check-models.js prepare),
# imports them with their credential, runs each with `n8n execute --id` in <dir>/models/run (its
# input/ files, its out/ folder: the only folder n8n may touch), saves the server's records of it
# and checks it. Prints "model <owner/name> on n8n <version>: passed|failed" per model, counts it
# in the caller's passed/failed and adds the line to MODEL_SUMMARY. E2E_MODELS picks models.
MODEL_SUMMARY=()

model_workflow_checks() { # launcher user-folder version-dir n8n-version
	local launcher=$1 user=$2 dir=$3 version=$4 models="$3/models" runs id model slug rc result
	local check_models=(node "$SCRIPT_DIR/models/check-models.js")
	if ! runs=$("${check_models[@]}" prepare "$dir"); then
		failed=$((failed + 1))
		echo "not ok - n8n $version: preparing the model workflows failed"
		return
	fi
	n8n_e2e_import_credentials "$launcher" "$user" "$models/credentials.json" "$models/import-credentials.log" ||
		echo "    import:credentials failed: $(tail -n 2 "$models/import-credentials.log" | cut -c1-400)"
	n8n_e2e_import_workflow "$launcher" "$user" "$models/workflows.json" "$models/import-workflows.log" ||
		echo "    import:workflow failed: $(tail -n 2 "$models/import-workflows.log" | cut -c1-400)"
	# Each model's records start clean.
	"${CHECK[@]}" snapshot "$dir" before-models || echo "    could not reset the test server's records"
	# fd 3: n8n must not read the list from stdin.
	while IFS=$'\t' read -r -u 3 id model; do
		slug=${model#*/}
		rc=0
		(
			cd "$models/run"
			export N8N_RESTRICT_FILE_ACCESS_TO="$models/run"
			n8n_e2e_execute "$launcher" "$user" "$id" "$models/$slug.json"
		) || rc=$?
		echo "$rc" >"$models/$slug.rc"
		"${CHECK[@]}" snapshot "$dir" "model-$slug" || echo "    could not read the test server's records"
		if "${check_models[@]}" model "$dir" "$model"; then
			result=passed
			passed=$((passed + 1))
		else
			result=failed
			failed=$((failed + 1))
		fi
		echo "model $model on n8n $version: $result"
		MODEL_SUMMARY+=("model $model on n8n $version: $result")
	done 3<<<"$runs"
}
