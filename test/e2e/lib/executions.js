'use strict';
/*
 * Reading what `n8n execute` left (lib/n8n-e2e.sh n8n_e2e_execute writes <dir>/<name>.json, its
 * log <name>.json.log, the run script its exit code <name>.rc) and n8n's JSON logs, for the check
 * scripts (check-run.js, models/check-models.js).
 */
const fs = require('node:fs');
const path = require('node:path');

const { CheckFailure, expect, expectEqual, readJson } = require('./checks');

/** The execution n8n_e2e_execute wrote as <dir>/<name>.json and the exit code of `n8n execute`. */
function execution(dir, name) {
	const file = path.join(dir, `${name}.json`);
	const rcFile = path.join(dir, `${name}.rc`);
	const rc = fs.existsSync(rcFile) ? Number(fs.readFileSync(rcFile, 'utf8').trim()) : undefined;
	if (!fs.existsSync(file)) {
		const log = path.join(dir, `${name}.json.log`);
		throw new CheckFailure(
			`n8n execute left no execution result (exit code ${rc}${rc === 124 ? ': timed out' : ''}): ${logErrors(log).slice(0, 2).join(' / ') || '(no error logged)'} (log: ${log})`,
		);
	}
	return { run: readJson(file), rc };
}

/** The messages of n8n's error-level log entries (first line of each, shortened). */
function logErrors(file, mentioning) {
	if (!fs.existsSync(file)) return [`${file} missing`];
	const messages = [];
	for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
		let entry;
		try {
			entry = JSON.parse(line);
		} catch {
			continue;
		}
		if (entry.level !== 'error' && entry.level !== 'warn') continue;
		if (mentioning && !line.includes(mentioning)) continue;
		const cause = entry.metadata?.error?.message;
		const message = `${String(entry.message).trim().split('\n')[0]}${cause ? `: ${cause.split('\n')[0]}` : ''}`;
		if (message && !messages.includes(message))
			messages.push(message.length > 400 ? `${message.slice(0, 400)}…` : message);
	}
	return messages;
}

/** The items out of a node's first run, first output. */
function mainItems(run, nodeName) {
	const runs = run.data.resultData.runData[nodeName];
	return runs?.[0]?.data?.main?.[0] ?? [];
}

/** Every node of the workflow (sticky notes aside) ran once, without error. */
function expectEveryNodeRanOnce(result, workflow) {
	for (const node of workflow.nodes.filter((n) => n.type !== 'n8n-nodes-base.stickyNote')) {
		const runs = result.runData[node.name];
		expect(runs?.length === 1, `${node.name} ran ${runs?.length ?? 0} times`);
		expect(!runs[0].error, `${node.name} failed: ${runs[0].error?.message}`);
		if (runs[0].executionStatus !== undefined)
			expectEqual(runs[0].executionStatus, 'success', `${node.name} status`);
	}
}

module.exports = { execution, expectEveryNodeRanOnce, logErrors, mainItems };
