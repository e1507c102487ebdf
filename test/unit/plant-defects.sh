#!/usr/bin/env bash
# Shows that the unit layer catches real defects: in a copy of the committed tree (git archive
# HEAD, with this worktree's node_modules linked in), each plant below changes one line of nodes/,
# `npm run test:unit` runs, and must fail; then the line is put back. The worktree is never touched.
#   bash test/unit/plant-defects.sh           # all plants (about 3 s each)
#   bash test/unit/plant-defects.sh retry     # the plants whose file path contains "retry"
set -uo pipefail
root=$(git rev-parse --show-toplevel)
only=${1:-}

# file | text | replacement (the defect: a limit, a rule or a check changed)
plants=(
	"nodes/shared/transport/retry.ts|if (statusCode === 429) return|if (statusCode === 428) return"
	"nodes/shared/transport/retry.ts|if (kind !== 'create' && RETRYABLE_STATUS.has(statusCode))|if (RETRYABLE_STATUS.has(statusCode))"
	"nodes/shared/transport/retry.ts|if (kind !== 'create' && AFTER_SEND_CODES.has(code))|if (AFTER_SEND_CODES.has(code))"
	"nodes/shared/transport/retry.ts|capMs: 30_000|capMs: 32_000"
	"nodes/shared/transport/retry.ts|export const RETRY_AFTER_CAP_MS = 120_000;|export const RETRY_AFTER_CAP_MS = 600_000;"
	"nodes/shared/transport/retry.ts|(0.5 + Math.random() * 0.5)|(0.5 + Math.random() * 0.6)"
	"nodes/shared/transport/retry.ts|Date.now() + verdict.delayMs >= (policy.deadline|Date.now() + verdict.delayMs > (policy.deadline"
	"nodes/shared/transport/retry.ts|if (kind !== 'cleanup') throwIfStopped(policy.signal);|throwIfStopped(policy.signal);"
	"nodes/shared/transport/retry.ts|await limiter?.take(policy.signal);|await limiter?.take();"
	"nodes/shared/transport/retry.ts|attempt >= policy.maxRetries|attempt > policy.maxRetries"
	"nodes/shared/transport/retry.ts|Math.max(1, Math.min(timeoutMs, deadline - Date.now()))|Math.max(0, Math.min(timeoutMs, deadline - Date.now()))"
	"nodes/shared/transport/retry.ts|{ perSecond: 10, burst: 10 }|{ perSecond: 10, burst: 12 }"
	"nodes/shared/transport/retry.ts|this.tokens = Math.min(|this.tokens = Math.max("
	"nodes/shared/transport/retry.ts|this.queue.shift()?.();|this.queue.pop()?.();"
	"nodes/shared/transport/retry.ts|if (this.queue.length === 0 && this.takeToken()) return;|if (this.takeToken()) return;"
	"nodes/shared/transport/retry.ts|'EHOSTUNREACH',|"
	"nodes/shared/transport/retry.ts|if (/socket hang up/i.test(message)) return 'ECONNRESET';|"
	"nodes/shared/transport/request.ts|disableFollowRedirect: true,|disableFollowRedirect: false,"
	"nodes/shared/transport/request.ts|if (Number.isFinite(code) && code > 0) return code >= 500;|if (Number.isFinite(code) && code > 0) return code >= 400;"
	"nodes/ReplicateInpainting/engine/pollSchedule.ts|factor: 1.6|factor: 1.5"
	"nodes/ReplicateInpainting/engine/waitForPrediction.ts|const delay = nextDelay(prediction.logs);|const delay = nextDelay(undefined);"
	"nodes/ReplicateInpainting/engine/waitForPrediction.ts|due = Math.max(due + delay, Date.now() + delay / 2);|due = Date.now() + delay;"
	"nodes/ReplicateInpainting/engine/waitForPrediction.ts|Math.min(due - Date.now(), remaining)|due - Date.now()"
	"nodes/ReplicateInpainting/engine/createPrediction.ts|const PREFER_WAIT_MARGIN_SECONDS = 2;|const PREFER_WAIT_MARGIN_SECONDS = 1;"
	"nodes/shared/options.ts|typeOptions: { minValue: 0, maxValue: 10 },|typeOptions: { minValue: 0, maxValue: 11 },"
	"nodes/shared/webhooks/signature.ts|if (skew > TIMESTAMP_TOLERANCE_SECONDS)|if (skew >= TIMESTAMP_TOLERANCE_SECONDS)"
	"nodes/shared/webhooks/signature.ts|.filter((entry) => entry.startsWith('v1,'))|.filter((entry) => entry.includes(','))"
	"nodes/shared/webhooks/signature.ts|if (given.length === expected.length && timingSafeEqual(given, expected)) matched = true;|if (given.length === expected.length) matched = true;"
	"nodes/shared/webhooks/signature.ts|(timestampSeconds + TIMESTAMP_TOLERANCE_SECONDS) * 1000 + 1000|(timestampSeconds + TIMESTAMP_TOLERANCE_SECONDS) * 1000"
	"nodes/shared/webhooks/signature.ts|.update(\`\${signed.id}.\${signed.timestamp}.\`)|.update(\`\${signed.id}.\${signed.timestampSeconds}.\`)"
	"nodes/ReplicateInpainting/engine/lostCreates.ts|const CLAIM_MEMORY_MS = 15 * 60_000;|const CLAIM_MEMORY_MS = 5 * 60_000;"
	"nodes/shared/imageType.ts|h[0] === 0xff && h[1] === 0xd8 && h[2] === 0xff|h[0] === 0xff && h[1] === 0xd8"
	"nodes/ReplicateInpainting/actions/prediction/waitMode/resumeUrl.ts|/^\\d{1,3}$/|/^\\d+$/"
	"nodes/ReplicateInpainting/schema/modelInput.ts|return text.length > 80 ? \`\${text.slice(0, 77)}…\` : text;|return text.length > 100 ? \`\${text.slice(0, 97)}…\` : text;"
	"nodes/shared/api/pages.ts|cursor = new URL(answer.next).searchParams.get('cursor') ?? undefined;|cursor = answer.next;"
	"nodes/shared/api/predictions.ts|export const PREDICTION_ID = /^[a-z0-9]{1,64}$/i;|export const PREDICTION_ID = /^[a-z0-9./]{1,64}$/i;"
)

copy=$(mktemp -d /tmp/unit-plant.XXXXXX)
trap 'rm -rf "$copy"' EXIT
git -C "$root" archive HEAD | tar -x -C "$copy"
ln -s "$root/node_modules" "$copy/node_modules"

status=0
caught=0
count=0
for plant in "${plants[@]}"; do
	IFS='|' read -r file text replacement <<<"$plant"
	[ -n "$only" ] && [[ "$file" != *"$only"* ]] && continue
	count=$((count + 1))
	cp "$copy/$file" "$copy/$file.orig"
	# Literal text, not a pattern: node does the replacing (sed would read the code as regex).
	if ! node -e '
		const fs = require("fs");
		const [file, text, replacement] = process.argv.slice(1);
		const source = fs.readFileSync(file, "utf8");
		if (!source.includes(text)) process.exit(1);
		fs.writeFileSync(file, source.replace(text, replacement));
	' "$copy/$file" "$text" "$replacement"; then
		echo "NOT APPLIED $file: the text is not there any more: $text"
		status=1
	elif (cd "$copy" && npm run -s test:unit >/dev/null 2>&1); then
		echo "MISSED $file: $text -> $replacement"
		status=1
	else
		echo "CAUGHT $file: $text -> $replacement"
		caught=$((caught + 1))
	fi
	mv "$copy/$file.orig" "$copy/$file"
done
echo "unit layer: caught $caught of $count planted defects"
exit $status
