#!/usr/bin/env bash
# Shows that each figure of the fault matrix's totals line catches a defect: for each figure, a
# copy of the committed tree (git archive HEAD, with this worktree's node_modules linked in) gets
# one planted defect, and the rows that meet it run. Each run must print that figure above 0
# (creates-per-item-max above 1). The worktree itself is never touched.
#   bash test/faults/plant-defects.sh            # all nine
#   bash test/faults/plant-defects.sh uploads-left
set -uo pipefail
root=$(git rev-parse --show-toplevel)
only=${1:-}

# figure | file | sed expression (the defect) | jest -t pattern (the rows that meet it)
# [| a pattern the run's output must show, for checks that are per row rather than a total]
plants=(
	"creates-per-item-max|nodes/shared/transport/retry.ts|s/if (kind !== 'create' \&\& AFTER_SEND_CODES.has(code))/if (AFTER_SEND_CODES.has(code))/|reset after the create was sent\$"
	"left-running|nodes/ReplicateInpainting/engine/executionRun.ts|s/...pending.map(async (entry) => await this.sweep(entry))/...[]/|execution stopped 1 s into a held create \\(model"
	"uploads-left|nodes/ReplicateInpainting/engine/createPrediction.ts|/Refused, failed, or stopped/{n;N;s/.*\n.*/\t\/\/ planted: uploads kept/}|create refused \\(422\\), with uploaded files"
	"token-to-non-api-origin|credentials/ReplicateInpaintingApi.credentials.ts|/disableFollowRedirect: true,/d|Base URL answers 302"
	"token-in-output-or-error|nodes/shared/transport/request.ts|s/: \${describeNetworkFailure(failure)}\`;/: \${describeNetworkFailure(failure)} (token \${String((await context.getCredentials(CREDENTIAL_TYPE)).apiToken)})\`;/|connection refused on every attempt"
	"forged-executions|nodes/shared/webhooks/signature.ts|s/if (given.length === expected.length \&\& timingSafeEqual(given, expected)) matched = true;/matched = true;/|signed with another key"
	"forged-executions|nodes/shared/webhooks/verifyDelivery.ts|s/return { status: 503, reason: (error as Error).message };/throw error;/|secret endpoint down"
	# Checked on every row rather than totalled: no timer of the node pending 100 ms after a Stop,
	# and no signal with more than 10 abort listeners (Node's MaxListenersExceededWarning).
	"timer-after-stop|nodes/shared/pause.ts|s/await abortableSleep(ms, childSignal(signal)).catch(() => undefined);/await Promise.race([workflow.sleep(ms), new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))]);/|Create and Wait × execution stopped mid-wait|expect\\(timersLeft"
	"listener-warning|nodes/shared/transport/request.ts|s/...(signal ? { abortSignal: childSignal(signal) } : {}),/...(signal ? { abortSignal: signal } : {}),/|12 items at Max Concurrent 12|expect\\(ctx.abortListenersPeak\\).toBeLessThanOrEqual"
)

status=0
for plant in "${plants[@]}"; do
	IFS='|' read -r figure file expression pattern shows <<<"$plant"
	[ -n "$only" ] && [ "$only" != "$figure" ] && continue
	copy=$(mktemp -d /tmp/plant-defect.XXXXXX)
	git -C "$root" archive HEAD | tar -x -C "$copy"
	ln -s "$root/node_modules" "$copy/node_modules"
	before=$(md5sum "$copy/$file")
	sed -i -e "$expression" "$copy/$file"
	if [ "$before" = "$(md5sum "$copy/$file")" ]; then
		echo "$figure: the plant did not apply to $file"; status=1; rm -rf "$copy"; continue
	fi
	output=$(cd "$copy" && npx jest test/faults/fault-matrix.test.ts -t "$pattern" 2>&1)
	totals=$(grep '^fault matrix:' <<<"$output")
	if [ -n "$shows" ]; then
		if grep -Eq "$shows" <<<"$output" && grep -q 'passed=0' <<<"$totals"; then verdict=CAUGHT; else verdict=MISSED; status=1; fi
	else
		value=$(sed -n "s/.* $figure=\([0-9]*\).*/\1/p" <<<"$totals")
		threshold=0; [ "$figure" = creates-per-item-max ] && threshold=1
		if [ -n "$value" ] && [ "$value" -gt "$threshold" ]; then verdict=CAUGHT; else verdict=MISSED; status=1; fi
	fi
	echo "$verdict $figure (planted in $file, rows /$pattern/): $totals"
	rm -rf "$copy"
done
exit $status
