#!/usr/bin/env node
'use strict';
/*
 * Fixtures and checks for test/e2e/queue/run-queue.sh (n8n in queue mode), one work folder <dir>:
 *
 *   node check-queue.js prepare <dir>        ctx.json, credentials.json, workflows.json
 *   node check-queue.js <check> <dir> [arg]  one check; prints what it saw and what failed;
 *                                            exit 0 = passed, 1 = failed
 *
 * Checks (run-queue.sh says which processes run for each): held <poll|webhook>, concurrent,
 * trigger, kill-start, kill-finish, restart-start, restart-gap, restart-finish, held-line.
 *
 * It reads n8n's database through the `pg` client of the n8n install under test (n8n's own
 * dependency: nothing is added to the project; `flatted` for the stored run data likewise), the
 * test server through its /__admin routes, the record of the round-robin proxy in front of the
 * webhook processes (<dir>/proxy.jsonl) and the files the workflows wrote. Plain JavaScript on the
 * system Node, like ../check-run.js.
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const {
	admin,
	CheckFailure,
	credential,
	CREDENTIAL_TYPE,
	expect,
	NODE_TYPE,
	note,
	readJson,
	requiredEnv,
	ROOT,
	runCheckScript,
	sleep,
	writeJson,
} = require('../lib/checks');

const CREDENTIAL_ID = 'replicate-inpainting-queue';
const TRIGGER_TYPE = 'n8n-nodes-replicate-inpainting.replicateInpaintingTrigger';
// One workflow per wait mode, started through its n8n Webhook trigger at /webhook/<path>.
const WORKFLOWS = {
	poll: { id: 'queuePollMode', path: 'queue-poll' },
	webhook: { id: 'queueWebhookMode', path: 'queue-webhook' },
};
const TRIGGER_WORKFLOW_ID = 'queueReplicateTrigger';
const TRIGGER_WEBHOOK_ID = '6f0c8f62-3c1e-4d55-9d7a-0e2a4b1f9a10';
const HELD = { executions: 8, modelSeconds: 20 };
const KILL = { timeout: 45, longTimeout: 40 };
// Webhook-mode batches have 3 items per execution: 3 resume calls, so the proxy's alternation
// splits an execution's calls between the two webhook processes.
const ITEMS = 3;
// The restart check: per execution one prediction that ends while webhook1 is down (it is
// stopped once all are parked) and two that end after it is back (start-up ≈ 20 s);
// Replicate's retries (more than the fake's default 2 × 250 ms) outlast the gap, as Replicate's
// own do.
const RESTART = {
	executions: 6,
	duringSeconds: 20,
	afterSeconds: 75,
	timeout: 150,
	parkWithinMs: 60_000,
	minGapMs: 5000,
	maxGapMs: 40_000,
};
const RESTART_RETRIES = { webhookRetries: 10, webhookRetryDelayMs: 500 };
const DEFAULT_RETRIES = { webhookRetries: 2, webhookRetryDelayMs: 250 };
const TERMINAL_EXECUTION = ['success', 'error', 'crashed', 'canceled'];
const TERMINAL_PREDICTION = ['succeeded', 'failed', 'canceled', 'aborted'];

const seconds = (ms) => (ms / 1000).toFixed(1);

// ---- fixtures -------------------------------------------------------------------------------

function prepare(dir) {
	const server = readJson(path.join(dir, 'server.json'));
	const ctx = {
		n8nDir: requiredEnv('E2E_N8N_DIR'),
		pg: {
			host: '127.0.0.1',
			port: Number(requiredEnv('E2E_PG_PORT')),
			user: 'postgres',
			database: 'n8n',
		},
		webhookBase: requiredEnv('E2E_WEBHOOK_BASE'),
		out: path.join(dir, 'out'),
		server,
	};
	fs.mkdirSync(ctx.out, { recursive: true });
	writeJson(path.join(dir, 'ctx.json'), ctx);

	// No signing secret in the credential: the trigger and the resume fetch it from the API,
	// once per n8n process (what the per-process cache means is counted by the trigger check).
	writeJson(path.join(dir, 'credentials.json'), [
		credential(CREDENTIAL_ID, 'Replicate Inpainting (queue e2e)', server),
	]);
	const credentials = {
		[CREDENTIAL_TYPE]: { id: CREDENTIAL_ID, name: 'Replicate Inpainting (queue e2e)' },
	};
	const writeFile = (name, fileName, position) => ({
		parameters: { operation: 'write', fileName, dataPropertyName: 'data', options: {} },
		id: crypto.randomUUID(),
		name,
		type: 'n8n-nodes-base.readWriteFile',
		typeVersion: 1,
		position,
	});

	// Start (n8n Webhook, answers at once) → Split Out body.items → Replicate Inpainting (Create
	// and Wait, one prediction per item) → Write Result <out>/<prompt of the paired input>.png.
	const inpaintWorkflow = (mode) => ({
		id: WORKFLOWS[mode].id,
		name: `Queue e2e: ${mode} mode`,
		active: true,
		nodes: [
			{
				parameters: {
					httpMethod: 'POST',
					path: WORKFLOWS[mode].path,
					responseMode: 'onReceived',
					options: {},
				},
				id: crypto.randomUUID(),
				webhookId: crypto.randomUUID(),
				name: 'Start',
				type: 'n8n-nodes-base.webhook',
				typeVersion: 2,
				position: [0, 0],
			},
			{
				parameters: { fieldToSplitOut: 'body.items', include: 'noOtherFields', options: {} },
				id: crypto.randomUUID(),
				name: 'Split Out',
				type: 'n8n-nodes-base.splitOut',
				typeVersion: 1,
				position: [220, 0],
			},
			{
				parameters: {
					operation: 'createAndWait',
					prompt: '={{ $json.prompt }}',
					imageSource: 'url',
					imageUrl: server.sampleImageUrl,
					maskSource: 'url',
					maskUrl: server.sampleMaskUrl,
					...waitModeParameter(mode),
					options: { numInferenceSteps: 5, timeout: '={{ $json.timeout }}' },
				},
				id: crypto.randomUUID(),
				name: 'Replicate Inpainting',
				type: NODE_TYPE,
				typeVersion: 1,
				position: [440, 0],
				credentials,
			},
			writeFile('Write Result', `=${ctx.out}/{{ $('Split Out').item.json.prompt }}.png`, [660, 0]),
		],
		connections: {
			Start: { main: [[{ node: 'Split Out', type: 'main', index: 0 }]] },
			'Split Out': { main: [[{ node: 'Replicate Inpainting', type: 'main', index: 0 }]] },
			'Replicate Inpainting': { main: [[{ node: 'Write Result', type: 'main', index: 0 }]] },
		},
		settings: { executionOrder: 'v1' },
		pinData: {},
	});
	const triggerWorkflow = {
		id: TRIGGER_WORKFLOW_ID,
		name: 'Queue e2e: Replicate Inpainting Trigger',
		active: true,
		nodes: [
			{
				parameters: { events: ['completed'], statuses: 'succeeded', options: {} },
				id: crypto.randomUUID(),
				webhookId: TRIGGER_WEBHOOK_ID,
				name: 'Replicate Inpainting Trigger',
				type: TRIGGER_TYPE,
				typeVersion: 1,
				position: [0, 0],
				credentials,
			},
			writeFile('Write Delivery', `=${ctx.out}/trigger-{{ $json.id }}.png`, [220, 0]),
		],
		connections: {
			'Replicate Inpainting Trigger': {
				main: [[{ node: 'Write Delivery', type: 'main', index: 0 }]],
			},
		},
		settings: { executionOrder: 'v1' },
		pinData: {},
	};
	const workflows = [inpaintWorkflow('poll'), triggerWorkflow];
	if (webhookModeAvailable()) workflows.push(inpaintWorkflow('webhook'));
	writeJson(path.join(dir, 'workflows.json'), workflows);
}

/** The node's Wait Mode parameter for a workflow (poll mode is the default: nothing to set). */
function waitModeParameter(mode) {
	return mode === 'webhook' ? { waitMode: 'webhook' } : {};
}

/** Whether the built node has the Webhook wait mode (the e2e then runs its checks too). */
function webhookModeAvailable() {
	const dist = path.join(ROOT, 'dist/nodes/ReplicateInpainting');
	const files = fs.readdirSync(dist, { recursive: true }).filter((f) => String(f).endsWith('.js'));
	return files.some((f) =>
		/restartWebhook:\s*true/.test(fs.readFileSync(path.join(dist, String(f)), 'utf8')),
	);
}

// ---- the systems under test ---------------------------------------------------------------------

const context = (dir) => readJson(path.join(dir, 'ctx.json'));
/** The n8n processes run-queue.sh started: {name: {pid, log}}. */
const processes = (dir) => readJson(path.join(dir, 'processes.json'));
/** The `n8n webhook` processes behind the proxy (webhook1, webhook2). */
const webhookProcesses = (dir) =>
	Object.keys(processes(dir))
		.filter((name) => /^webhook\d+$/.test(name))
		.sort();

/** What the round-robin proxy saw: [{at, method, path, backend, status, error?}], oldest first. */
function proxyRecord(dir) {
	const file = path.join(dir, 'proxy.jsonl');
	if (!fs.existsSync(file)) return [];
	return fs
		.readFileSync(file, 'utf8')
		.split('\n')
		.filter(Boolean)
		.map((line) => JSON.parse(line));
}

/** The proxy's resume calls (/webhook-waiting/<execution id>…) per execution id of `ids`. */
function resumeCalls(dir, ids) {
	const calls = new Map(ids.map((id) => [String(id), []]));
	for (const entry of proxyRecord(dir)) {
		const id = /^\/webhook-waiting\/(\d+)/.exec(entry.path)?.[1];
		calls.get(id)?.push(entry);
	}
	return calls;
}

/** "webhook1 12 × 200 + 3 × 502, webhook2 11 × 200": what the calls got, per backend. */
function callSummary(calls) {
	const counts = {};
	for (const c of calls) {
		counts[c.backend] ??= {};
		counts[c.backend][c.status] = (counts[c.backend][c.status] ?? 0) + 1;
	}
	return Object.entries(counts)
		.sort()
		.map(
			([backend, by]) =>
				`${backend} ${Object.entries(by)
					.map(([status, n]) => `${n} × ${status}`)
					.join(' + ')}`,
		)
		.join(', ');
}

async function withDb(ctx, use) {
	const { Client } = require(path.join(ctx.n8nDir, 'node_modules/pg'));
	const client = new Client(ctx.pg);
	await client.connect();
	try {
		return await use(client);
	} finally {
		await client.end();
	}
}

async function maxExecutionId(ctx) {
	return withDb(ctx, async (db) =>
		Number(
			(await db.query('SELECT coalesce(max(id::bigint), 0) AS m FROM execution_entity')).rows[0].m,
		),
	);
}

/** Executions of a workflow with an id above `after`, oldest first. */
async function executionsSince(ctx, workflowId, after) {
	return withDb(ctx, async (db) => {
		const { rows } = await db.query(
			'SELECT id::bigint AS id, status, "startedAt", "stoppedAt", "createdAt" FROM execution_entity WHERE "workflowId" = $1 AND id::bigint > $2 ORDER BY id::bigint',
			[workflowId, after],
		);
		return rows.map((r) => ({ ...r, id: String(r.id) }));
	});
}

/** Waits until `count` executions of the workflow since `after` exist and all have ended. */
async function waitForExecutions(ctx, workflowId, after, count, timeoutMs) {
	const deadline = Date.now() + timeoutMs;
	let rows = [];
	for (;;) {
		rows = await executionsSince(ctx, workflowId, after);
		if (rows.length >= count && rows.every((r) => TERMINAL_EXECUTION.includes(r.status)))
			return rows;
		if (Date.now() > deadline) {
			const by = {};
			for (const r of rows) by[r.status] = (by[r.status] ?? 0) + 1;
			throw new CheckFailure(
				`after ${seconds(timeoutMs)} s: ${rows.length} of ${count} executions, statuses ${JSON.stringify(by)}`,
			);
		}
		await sleep(500);
	}
}

async function waitUntil(timeoutMs, condition, what) {
	const deadline = Date.now() + timeoutMs;
	while (!(await condition())) {
		expect(Date.now() < deadline, `${what} within ${seconds(timeoutMs)} s`);
		await sleep(500);
	}
}

const setServer = (ctx, options) =>
	admin(ctx.server, 'options', {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify(options),
	});

/** Creates the server saw, per prompt (only prompts starting with `prefix`). */
async function createsByPrompt(ctx, prefix) {
	const requests = await admin(ctx.server, 'requests?origin=api');
	const counts = new Map();
	for (const r of requests) {
		if (r.method !== 'POST' || !/\/predictions$/.test(r.path)) continue;
		const prompt = r.json?.input?.prompt;
		if (typeof prompt === 'string' && prompt.startsWith(prefix))
			counts.set(prompt, (counts.get(prompt) ?? 0) + 1);
	}
	return counts;
}

async function predictionsByPrompt(ctx, prefix) {
	const all = await admin(ctx.server, 'predictions');
	return all.filter(
		(p) => typeof p.input?.prompt === 'string' && p.input.prompt.startsWith(prefix),
	);
}

/** Starts one execution: POST to the workflow's n8n Webhook trigger through the webhook process. */
async function start(ctx, mode, body) {
	const response = await fetch(`${ctx.webhookBase}webhook/${WORKFLOWS[mode].path}`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify(body),
	});
	const text = await response.text();
	if (response.status !== 200)
		throw new CheckFailure(
			`starting a ${mode}-mode execution: HTTP ${response.status} ${text.slice(0, 200)}`,
		);
}

/** Item prompts of a batch: `<prefix>-<execution nn>-<item i>`. */
function batch(prefix, executions, itemsPerExecution, timeout) {
	return Array.from({ length: executions }, (_, n) => ({
		tag: `${prefix}-${String(n).padStart(2, '0')}`,
		items: Array.from({ length: itemsPerExecution }, (_, i) => ({
			prompt: `${prefix}-${String(n).padStart(2, '0')}-${i}`,
			timeout,
		})),
	}));
}

/**
 * Every prompt was created exactly once, ended succeeded, and its file (written by the workflow on
 * a worker, from n8n's database binary store) equals the bytes the server serves for that output.
 */
async function expectOutputs(ctx, prefix, prompts) {
	const creates = await createsByPrompt(ctx, prefix);
	const wrongCounts = prompts
		.filter((p) => creates.get(p) !== 1)
		.map((p) => `${p}: ${creates.get(p) ?? 0}`);
	expect(
		wrongCounts.length === 0,
		`creates per item must be exactly 1, got ${wrongCounts.slice(0, 5).join(', ')}`,
	);
	expect(
		creates.size === prompts.length,
		`${creates.size} distinct prompts created, expected ${prompts.length}`,
	);
	if (prefix.includes('webhook')) {
		// Webhook mode really parked: every create named a resume URL of this n8n's webhook process.
		const requests = await admin(ctx.server, 'requests?origin=api');
		const bodies = requests
			.filter(
				(r) =>
					r.method === 'POST' &&
					/\/predictions$/.test(r.path) &&
					r.json?.input?.prompt?.startsWith(prefix),
			)
			.map((r) => r.json);
		const unparked = bodies.filter(
			(b) =>
				!String(b.webhook ?? '').startsWith(`${ctx.webhookBase}webhook-waiting/`) ||
				JSON.stringify(b.webhook_events_filter) !== '["completed"]',
		);
		expect(
			unparked.length === 0,
			`${unparked.length} webhook-mode creates without a resume URL on ${ctx.webhookBase}webhook-waiting/ and events ["completed"] (e.g. ${JSON.stringify(unparked[0]?.webhook)})`,
		);
	}
	const predictions = new Map(
		(await predictionsByPrompt(ctx, prefix)).map((p) => [p.input.prompt, p]),
	);
	let bytes = 0;
	for (const prompt of prompts) {
		const prediction = predictions.get(prompt);
		expect(
			prediction?.status === 'succeeded',
			`prediction for ${prompt}: status ${prediction?.status}`,
		);
		const file = path.join(ctx.out, `${prompt}.png`);
		expect(fs.existsSync(file), `no file ${file}`);
		const expected = Buffer.from(await (await fetch(prediction.output[0])).arrayBuffer());
		const actual = fs.readFileSync(file);
		expect(
			actual.subarray(0, 8).equals(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10])),
			`${file} is not a PNG`,
		);
		expect(
			actual.equals(expected),
			`${file} (${actual.length} bytes) differs from the server's output (${expected.length} bytes)`,
		);
		bytes += actual.length;
	}
	note(
		`${prompts.length} PNGs byte-equal to the server's (${bytes} bytes), ${prompts.length} creates for ${prompts.length} items`,
	);
}

/** The prompts of the Replicate Inpainting node's output items, per execution id, from n8n's database. */
async function outputPrompts(ctx, ids) {
	const flatted = require(
		require.resolve('flatted', { paths: [path.join(ctx.n8nDir, 'node_modules/n8n')] }),
	);
	const { rows } = await withDb(ctx, (db) =>
		db.query(
			'SELECT "executionId"::bigint AS id, data FROM execution_data WHERE "executionId"::bigint = ANY($1::bigint[])',
			[ids.map(Number)],
		),
	);
	return new Map(
		rows.map((r) => {
			const items =
				flatted.parse(r.data).resultData.runData['Replicate Inpainting']?.at(-1)?.data?.main?.[0] ??
				[];
			return [String(r.id), items.map((item) => item.json?.input?.prompt ?? item.json?.error)];
		}),
	);
}

/**
 * Each execution's output is one started batch's items, in input order (`<tag>-0, <tag>-1, …`),
 * and every batch has its execution.
 */
async function expectInputOrder(ctx, rows, bodies) {
	const prompts = await outputPrompts(
		ctx,
		rows.map((r) => r.id),
	);
	const expected = new Map(bodies.map((b) => [b.tag, b.items.map((i) => i.prompt).join()]));
	const seen = new Set();
	for (const r of rows) {
		const got = prompts.get(r.id) ?? [];
		const tag = String(got[0]).replace(/-\d+$/, '');
		expect(
			expected.get(tag) === got.join(),
			`execution ${r.id} output ${JSON.stringify(got)}: not one batch's items in input order`,
		);
		seen.add(tag);
	}
	expect(
		seen.size === bodies.length,
		`${seen.size} batches in the outputs, ${bodies.length} started`,
	);
}

/** Which worker ran (or started) each execution, from the workers' "Worker started execution" lines. */
function workerOf(dir) {
	const owner = new Map();
	for (const [name, proc] of Object.entries(processes(dir))) {
		if (!name.startsWith('worker')) continue;
		const log = fs.existsSync(proc.log) ? fs.readFileSync(proc.log, 'utf8') : '';
		for (const match of log.matchAll(/Worker started execution (\d+)/g)) {
			owner.set(match[1], [...(owner.get(match[1]) ?? []), name]);
		}
	}
	return owner;
}

// ---- checks -----------------------------------------------------------------------------------

/** Runs a batch of executions in one mode and waits for them; returns timing and rows. */
async function runBatch(ctx, mode, prefix, executions, itemsPerExecution, timeout, timeoutMs) {
	const after = await maxExecutionId(ctx);
	const bodies = batch(prefix, executions, itemsPerExecution, timeout);
	const startedAt = Date.now();
	await Promise.all(bodies.map((body) => start(ctx, mode, body)));
	const rows = await waitForExecutions(ctx, WORKFLOWS[mode].id, after, executions, timeoutMs);
	const endedAt = Math.max(...rows.map((r) => new Date(r.stoppedAt).getTime()));
	return {
		rows,
		bodies,
		startedAt,
		endedAt,
		prompts: bodies.flatMap((b) => b.items.map((i) => i.prompt)),
	};
}

/** The resume calls of at least one of the executions reached every webhook process. */
function expectSplitCalls(dir, rows) {
	const backends = webhookProcesses(dir);
	const calls = resumeCalls(
		dir,
		rows.map((r) => r.id),
	);
	const split = [...calls.values()].filter((list) =>
		backends.every((b) => list.some((c) => c.backend === b && c.status < 300)),
	).length;
	// The proxy's own record: the n-th request went to backends[n mod 2], whatever its path.
	const record = proxyRecord(dir);
	const batchCalls = [...calls.values()].flat();
	const offTurn = record.filter((c) => c.backend !== backends[c.seq % backends.length]);
	expect(offTurn.length === 0, `the proxy sent ${offTurn.length} requests out of turn`);
	note(
		`proxy: ${record.length} requests so far, strictly alternating (${callSummary(record)}); resume calls of this batch: ${callSummary(batchCalls)}; ${split} of ${rows.length} executions were answered by both ${backends.join(' and ')}; slowest answer ${seconds(Math.max(0, ...batchCalls.map((c) => c.ms ?? 0)))} s, ${batchCalls.filter((c) => c.ms >= 10_000).length} took 10 s or more (the fake Replicate's timeout)`,
	);
	expect(split > 0, `no execution had its resume calls answered by both ${backends.join(' and ')}`);
}

/**
 * Whether `count` webhook-mode executions since `after` exist and all wait; fails at once when
 * one has ended instead (a park that failed), rather than when the wait times out.
 */
async function allParked(ctx, after, count) {
	const rows = await executionsSince(ctx, WORKFLOWS.webhook.id, after);
	const ended = rows.filter((r) => TERMINAL_EXECUTION.includes(r.status));
	expect(
		ended.length === 0,
		`webhook-mode executions ended instead of waiting: ${ended.map((r) => `${r.id} ${r.status}`)}`,
	);
	return rows.length >= count && rows.every((r) => r.status === 'waiting');
}

function expectAllSucceeded(rows, what) {
	const failed = rows.filter((r) => r.status !== 'success');
	expect(
		failed.length === 0,
		`${what}: ${failed.length} of ${rows.length} executions did not succeed (${failed
			.slice(0, 5)
			.map((r) => `${r.id} ${r.status}`)
			.join(', ')})`,
	);
}

const checks = {
	/**
	 * One worker with concurrency 1, 8 executions of one item each, predictions of 20 s. Poll mode
	 * holds the worker's only slot for each prediction in turn: about 8 × 20 s. Webhook mode parks
	 * each execution after its create, so the 8 predictions run at once: at most 1.5 × 20 s plus
	 * start-up (the time until the server saw the first create).
	 */
	async held(dir, mode) {
		const ctx = context(dir);
		await setServer(ctx, { modelTimeMs: HELD.modelSeconds * 1000 });
		const prefix = `held-${mode}`;
		const limit = mode === 'poll' ? (HELD.executions * HELD.modelSeconds + 120) * 1000 : 180_000;
		const { rows, startedAt, endedAt, prompts } = await runBatch(
			ctx,
			mode,
			prefix,
			HELD.executions,
			1,
			300,
			limit,
		);
		await setServer(ctx, { modelTimeMs: 100 });
		expectAllSucceeded(rows, `${mode} mode`);
		await expectOutputs(ctx, prefix, prompts);
		const predictions = await predictionsByPrompt(ctx, prefix);
		const firstCreate = Math.min(...predictions.map((p) => Date.parse(p.created_at)));
		const startup = firstCreate - startedAt;
		const wall = endedAt - startedAt;
		writeJson(path.join(dir, `held-${mode}.json`), { wallMs: wall, startupMs: startup });
		note(`${mode} mode: 8 executions in ${seconds(wall)} s (start-up ${seconds(startup)} s)`);
		const model = HELD.modelSeconds * 1000;
		if (mode === 'webhook') {
			expect(
				wall <= 1.5 * model + startup,
				`webhook mode took ${seconds(wall)} s, more than 1.5 × 20 s + start-up ${seconds(startup)} s`,
			);
		} else {
			// The single slot really was held: the predictions ran one after another.
			expect(
				wall >= HELD.executions * model,
				`poll mode took ${seconds(wall)} s, less than 8 × 20 s: the worker was not held`,
			);
		}
	},

	'held-line'(dir) {
		const figure = (mode) => {
			const file = path.join(dir, `held-${mode}.json`);
			return fs.existsSync(file) ? `${seconds(readJson(file).wallMs)}` : '(not run)';
		};
		console.log(
			`held workers: webhook mode 8 executions in ${figure('webhook')} s, poll mode in ${figure('poll')} s`,
		);
	},

	/**
	 * 20 poll-mode and 20 webhook-mode executions, 3 items each, all started at once, 2 workers,
	 * 2 webhook processes behind the proxy. Webhook mode: every output in input order, and the
	 * resume calls of at least one execution were served by both webhook processes (the proxy
	 * alternates per request, so with 3 calls per execution most are split).
	 */
	async concurrent(dir) {
		const ctx = context(dir);
		const modes = webhookModeAvailable() ? ['poll', 'webhook'] : ['poll'];
		if (modes.length === 1) note('the built node has no Webhook wait mode: poll mode only');
		await setServer(ctx, { modelTimeMs: 3000 });
		const started = Date.now();
		const results = await Promise.all(
			modes.map((mode) => runBatch(ctx, mode, `concurrent-${mode}`, 20, ITEMS, 120, 300_000)),
		);
		await setServer(ctx, { modelTimeMs: 100 });
		const owners = workerOf(dir);
		for (const [index, mode] of modes.entries()) {
			const { rows, bodies, prompts, endedAt } = results[index];
			const workers = new Set(rows.flatMap((r) => owners.get(r.id) ?? []));
			note(
				`${mode} mode: 20 executions, ${prompts.length} items in ${seconds(endedAt - started)} s (${rows.filter((r) => r.status === 'success').length} success), run by ${[...workers].sort().join(' and ')}`,
			);
			if (mode === 'webhook') expectSplitCalls(dir, rows);
			expectAllSucceeded(rows, `${mode} mode`);
			await expectOutputs(ctx, `concurrent-${mode}`, prompts);
			await expectInputOrder(ctx, rows, bodies);
		}
	},

	/**
	 * The Replicate Inpainting Trigger behind the webhook process: signed deliveries start
	 * executions that workers run (and write the downloaded image); a wrong signature, a stale
	 * timestamp and a replayed webhook-id get 401 and start nothing.
	 */
	async trigger(dir) {
		const ctx = context(dir);
		const url = `${ctx.webhookBase}webhook/${TRIGGER_WEBHOOK_ID}/replicate-inpainting`;
		const key = Buffer.from(ctx.server.webhookSecret.replace(/^whsec_/, ''), 'base64');
		const sign = (id, timestamp, body) =>
			`v1,${crypto.createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
		const deliver = async (body, headers) => {
			const response = await fetch(url, {
				method: 'POST',
				headers: { 'content-type': 'application/json', ...headers },
				body,
			});
			return { status: response.status, text: await response.text() };
		};
		const now = () => String(Math.floor(Date.now() / 1000));
		const predictions = (await predictionsByPrompt(ctx, 'concurrent-poll'))
			.filter((p) => p.status === 'succeeded')
			.slice(0, 3);
		expect(
			predictions.length === 3,
			`needs 3 succeeded predictions from the concurrent check, found ${predictions.length}`,
		);
		const secretFetches = async () =>
			(await admin(ctx.server, 'requests?origin=api')).filter((r) =>
				/\/webhooks\/default\/secret$/.test(r.path),
			).length;
		const fetchesBefore = await secretFetches();

		const after = await maxExecutionId(ctx);
		const signed = [];
		for (const prediction of predictions) {
			const body = JSON.stringify(prediction);
			const id = `msg_${crypto.randomBytes(12).toString('hex')}`;
			const timestamp = now();
			const headers = {
				'webhook-id': id,
				'webhook-timestamp': timestamp,
				'webhook-signature': sign(id, timestamp, body),
			};
			const answer = await deliver(body, headers);
			expect(
				answer.status === 200,
				`signed delivery of ${prediction.id}: HTTP ${answer.status} ${answer.text.slice(0, 200)}`,
			);
			signed.push({ prediction, body, headers });
		}
		const rows = await waitForExecutions(ctx, TRIGGER_WORKFLOW_ID, after, 3, 120_000);
		expectAllSucceeded(rows, 'trigger');
		const owners = workerOf(dir);
		const unowned = rows.filter((r) => !(owners.get(r.id) ?? []).length);
		expect(
			unowned.length === 0,
			`executions ${unowned.map((r) => r.id).join(', ')} were not run by a worker`,
		);
		for (const { prediction } of signed) {
			const file = path.join(ctx.out, `trigger-${prediction.id}.png`);
			expect(fs.existsSync(file), `no file ${file}`);
			const expected = Buffer.from(await (await fetch(prediction.output[0])).arrayBuffer());
			expect(fs.readFileSync(file).equals(expected), `${file} differs from the server's output`);
		}
		note(
			`3 signed deliveries: 200, 3 executions run by ${[...new Set(rows.flatMap((r) => owners.get(r.id)))].sort().join(' and ')}, images written`,
		);

		// Forged: each must be 401 and start nothing.
		const [first] = signed;
		const body = first.body.replace('"succeeded"', '"succeeded" ');
		const forged = [
			[
				'a wrong signature',
				first.body,
				{
					...first.headers,
					'webhook-id': `msg_${crypto.randomBytes(12).toString('hex')}`,
					'webhook-signature': `v1,${crypto.randomBytes(32).toString('base64')}`,
				},
			],
			[
				'a body changed after signing',
				body,
				{ ...first.headers, 'webhook-id': 'msg_changed_body' },
			],
			[
				'a stale timestamp',
				first.body,
				(() => {
					const id = `msg_${crypto.randomBytes(12).toString('hex')}`;
					const timestamp = String(Math.floor(Date.now() / 1000) - 600);
					return {
						'webhook-id': id,
						'webhook-timestamp': timestamp,
						'webhook-signature': sign(id, timestamp, first.body),
					};
				})(),
			],
			['a replayed delivery', first.body, first.headers],
			['no signature headers', first.body, {}],
		];
		const afterForged = await maxExecutionId(ctx);
		for (const [what, forgedBody, headers] of forged) {
			const answer = await deliver(forgedBody, headers);
			expect(
				answer.status === 401,
				`${what}: expected 401, got ${answer.status} ${answer.text.slice(0, 200)}`,
			);
		}
		await sleep(3000); // an execution that was wrongly started would show by now
		const extra = await executionsSince(ctx, TRIGGER_WORKFLOW_ID, afterForged);
		expect(extra.length === 0, `forged deliveries started ${extra.length} executions`);
		note(
			`${forged.length} forged deliveries (${forged.map(([w]) => w).join(', ')}): 401, no execution`,
		);
		// The secret is cached per n8n process: one fetch by main (the trigger's activation) and one
		// by each webhook process (the first delivery or resume call it verified), however many calls.
		const verifying = ['main', ...webhookProcesses(dir)];
		const fetches = await secretFetches();
		note(
			`signing-secret fetches (GET /webhooks/default/secret): ${fetches - fetchesBefore} during these deliveries, ${fetches} since n8n started`,
		);
		expect(
			fetches <= verifying.length,
			`the signing secret was fetched ${fetches} times: more than once per verifying process (${verifying.join(', ')})`,
		);
	},

	/**
	 * A worker is killed while it polls. Two groups of poll-mode executions (2 items each):
	 * "long", 4 executions whose predictions are scripted to take 90 s, longer than their Timeout
	 * of 40 s; then "normal", 6 executions with 30 s predictions and a Timeout of 45 s. Once every
	 * item's prediction exists and every execution runs on a worker, kill.json names the worker to
	 * kill: the one running most long executions. run-queue.sh kills it, then runs kill-finish.
	 */
	async 'kill-start'(dir) {
		const ctx = context(dir);
		const after = await maxExecutionId(ctx);
		const long = batch('kill-long', 4, 2, KILL.longTimeout);
		await admin(ctx.server, 'script', {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ modelTimeMs: 90_000, times: 8 }),
		});
		await Promise.all(long.map((body) => start(ctx, 'poll', body)));
		await waitUntil(
			120_000,
			async () => (await createsByPrompt(ctx, 'kill-long-')).size === 8,
			'the 8 long predictions were not created',
		);
		const afterLong = await maxExecutionId(ctx);
		await setServer(ctx, { modelTimeMs: 30_000 });
		const normal = batch('kill-normal', 6, 2, KILL.timeout);
		// Webhook mode: executions parked in the database, held by no worker, must survive the kill.
		const parked = webhookModeAvailable() ? batch('kill-webhook', 3, ITEMS, KILL.timeout) : [];
		const afterParked = await maxExecutionId(ctx);
		await Promise.all([
			...normal.map((body) => start(ctx, 'poll', body)),
			...parked.map((body) => start(ctx, 'webhook', body)),
		]);
		if (parked.length) {
			await waitUntil(
				120_000,
				() => allParked(ctx, afterParked, parked.length),
				'the 3 webhook-mode executions were not all parked (waiting)',
			);
		}
		let rows = [];
		let owners = new Map();
		await waitUntil(
			120_000,
			async () => {
				rows = await executionsSince(ctx, WORKFLOWS.poll.id, after);
				owners = workerOf(dir);
				return (
					rows.length === 10 &&
					rows.every((r) => owners.has(r.id)) &&
					(await createsByPrompt(ctx, 'kill-')).size === 20 + parked.length * ITEMS
				);
			},
			'the 10 executions did not all start polling',
		);
		const perWorker = {};
		for (const r of rows) {
			for (const w of owners.get(r.id)) {
				perWorker[w] ??= { long: [], normal: [] };
				perWorker[w][Number(r.id) <= afterLong ? 'long' : 'normal'].push(r.id);
			}
		}
		const score = (w) => perWorker[w].long.length * 100 + perWorker[w].normal.length;
		const victim = Object.keys(perWorker).sort((a, b) => score(b) - score(a))[0];
		writeJson(path.join(dir, 'kill.json'), {
			after,
			victim,
			perWorker,
			long: long.flatMap((b) => b.items.map((i) => i.prompt)),
			normal: normal.flatMap((b) => b.items.map((i) => i.prompt)),
			afterParked,
			parked,
		});
		note(
			`executions per worker while polling: ${Object.entries(perWorker)
				.map(([w, g]) => `${w} ${g.long.length} long + ${g.normal.length} normal`)
				.join(', ')}; killing ${victim}`,
		);
	},

	/**
	 * After the SIGKILL: 4 more executions start (5 s predictions), which the surviving worker
	 * must run. Then: the new ones and the survivor's normal executions succeed; the survivor's long
	 * ones end at their Timeout (the node cancels); the killed worker's executions end (n8n's
	 * stalled-job handling, with the shortened lock) instead of staying "running"; every prediction
	 * has a deadline = its Timeout and ended by it: the killed worker's long predictions, which
	 * nobody polls or cancels any more, are canceled by Replicate's Cancel-After. Creates per item
	 * are counted and reported (n8n 2.x does not re-run a stalled job: 1 expected).
	 */
	async 'kill-finish'(dir) {
		const ctx = context(dir);
		const { after, victim, perWorker, long, normal, afterParked, parked } = readJson(
			path.join(dir, 'kill.json'),
		);
		const parkedPrompts = parked.flatMap((b) => b.items.map((i) => i.prompt));
		const killedAt = Date.now();
		await setServer(ctx, { modelTimeMs: 5000 });
		const later = batch('kill-after', 4, 2, KILL.timeout);
		await Promise.all(later.map((body) => start(ctx, 'poll', body)));
		const rows = await waitForExecutions(ctx, WORKFLOWS.poll.id, after, 14, 240_000);
		await setServer(ctx, { modelTimeMs: 100 });
		const group = new Map();
		for (const [worker, ids] of Object.entries(perWorker)) {
			for (const id of ids.long) group.set(id, { worker, kind: 'long' });
			for (const id of ids.normal) group.set(id, { worker, kind: 'normal' });
		}
		const onVictim = rows.filter((r) => group.get(r.id)?.worker === victim);
		const survivorLong = rows.filter(
			(r) => group.get(r.id)?.worker !== victim && group.get(r.id)?.kind === 'long',
		);
		const mustSucceed = rows.filter((r) => !onVictim.includes(r) && !survivorLong.includes(r));
		expectAllSucceeded(mustSucceed, 'executions not on the killed worker');
		const owners = workerOf(dir);
		const wrongOwner = mustSucceed.filter((r) => (owners.get(r.id) ?? []).includes(victim));
		expect(
			wrongOwner.length === 0,
			`executions ${wrongOwner.map((r) => r.id)} ran on the killed worker`,
		);
		const timedOut = survivorLong.filter((r) => r.status !== 'error');
		expect(
			timedOut.length === 0,
			`the survivor's long executions must end in error at their Timeout: ${timedOut.map((r) => `${r.id} ${r.status}`)}`,
		);
		const statuses = {};
		for (const r of onVictim) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
		const ended = Math.max(...onVictim.map((r) => new Date(r.stoppedAt ?? Date.now()).getTime()));
		note(
			`${onVictim.length} executions on the killed ${victim}: ${JSON.stringify(statuses)}, the last ended ${seconds(ended - killedAt)} s after the kill; ${mustSucceed.length} others succeeded (${later.length} started after the kill), ${survivorLong.length} long ones on the survivor ended at their Timeout`,
		);

		if (parked.length) {
			const parkedRows = await waitForExecutions(
				ctx,
				WORKFLOWS.webhook.id,
				afterParked,
				parked.length,
				120_000,
			);
			expectAllSucceeded(parkedRows, 'webhook-mode executions parked during the kill');
			// Parked, they were held by no worker: the resumed run is a new job, which only the
			// survivor can have taken (its log has the execution; the victim's may have the park).
			const notOnSurvivor = parkedRows.filter(
				(r) => !(workerOf(dir).get(r.id) ?? []).some((w) => w !== victim),
			);
			expect(
				notOnSurvivor.length === 0,
				`parked executions ${notOnSurvivor.map((r) => r.id)} were not resumed on the surviving worker`,
			);
			note(
				`${parkedRows.length} webhook-mode executions (${ITEMS} items each) parked during the kill resumed on the surviving worker and succeeded; their resume calls: ${callSummary(
					[
						...resumeCalls(
							dir,
							parkedRows.map((r) => r.id),
						).values(),
					].flat(),
				)}`,
			);
			await expectOutputs(ctx, 'kill-webhook', parkedPrompts);
			await expectInputOrder(ctx, parkedRows, parked);
		}

		// Creates per item: the items that were being polled when the worker died may have been
		// created again if n8n re-ran their job elsewhere (reported); the later ones exactly once.
		const creates = await createsByPrompt(ctx, 'kill-');
		const histogram = (list) => {
			const counts = {};
			for (const prompt of list)
				counts[creates.get(prompt) ?? 0] = (counts[creates.get(prompt) ?? 0] ?? 0) + 1;
			return Object.entries(counts)
				.map(([n, items]) => `${items} × ${n}`)
				.join(', ');
		};
		const running = [...long, ...normal, ...parkedPrompts];
		const laterPrompts = later.flatMap((b) => b.items.map((i) => i.prompt));
		note(
			`creates per item: the ${running.length} items running at the kill ${histogram(running)}; the ${laterPrompts.length} started after it ${histogram(laterPrompts)}`,
		);

		// Every prediction ends by its deadline; wait for the orphans too.
		let predictions = [];
		await waitUntil(
			120_000,
			async () => {
				predictions = await predictionsByPrompt(ctx, 'kill-');
				return predictions.every((p) => TERMINAL_PREDICTION.includes(p.status));
			},
			'predictions still running',
		);
		const cancelCalls = new Set(
			(await admin(ctx.server, 'requests?origin=api'))
				.filter((r) => r.method === 'POST' && /\/cancel$/.test(r.path))
				.map((r) => r.path.split('/').slice(-2)[0]),
		);
		for (const p of predictions) {
			const timeout = p.input.prompt.startsWith('kill-long-') ? KILL.longTimeout : KILL.timeout;
			expect(p.deadline, `prediction ${p.id} has no deadline (Cancel-After was not sent)`);
			const allowed = Date.parse(p.created_at) + timeout * 1000;
			expect(
				Math.abs(Date.parse(p.deadline) - allowed) <= 2000,
				`prediction ${p.id}: deadline ${p.deadline}, expected created_at + ${timeout} s`,
			);
			expect(
				Date.parse(p.completed_at) <= Date.parse(p.deadline) + 1000,
				`prediction ${p.id} ran past its Timeout (completed ${p.completed_at}, deadline ${p.deadline})`,
			);
		}
		const longPredictions = predictions.filter((p) => p.input.prompt.startsWith('kill-long-'));
		const byCancelAfter = longPredictions.filter(
			(p) => p.status === 'canceled' && !cancelCalls.has(p.id),
		).length;
		const byNode = longPredictions.filter(
			(p) => p.status === 'canceled' && cancelCalls.has(p.id),
		).length;
		const victimLongItems = perWorker[victim].long.length * 2;
		const notCanceled = longPredictions.filter((p) => p.status !== 'canceled');
		expect(
			notCanceled.length === 0,
			`long predictions not canceled at their Timeout: ${notCanceled.map((p) => `${p.id} ${p.status}`)}`,
		);
		// The killed worker cannot have cancelled its own; the survivor's node and Cancel-After
		// race at the same deadline, so either may stop the survivor's.
		expect(
			byCancelAfter >= victimLongItems,
			`only ${byCancelAfter} long predictions were stopped without a cancel call, the killed worker had ${victimLongItems}`,
		);
		note(
			`every prediction has a deadline = its Timeout and ended by it; of the 8 long ones (90 s, Timeout 40 s) ${byNode} were cancelled by a node's cancel call, ${byCancelAfter} by Cancel-After alone (the killed worker's ${victimLongItems} among them)`,
		);

		const missing = [...running, ...laterPrompts].filter((p) => !creates.get(p));
		expect(missing.length === 0, `items without a prediction: ${missing.join(', ')}`);
		const twice = laterPrompts.filter((p) => creates.get(p) !== 1);
		expect(
			twice.length === 0,
			`items started after the kill not created exactly once: ${twice.join(', ')}`,
		);
		writeJson(path.join(dir, 'kill-result.json'), {
			statuses,
			creates: Object.fromEntries(creates),
			killedAt,
			byCancelAfter,
			byNode,
		});
	},

	/**
	 * One webhook process restarted while webhook-mode executions wait. 6 executions of 3 items
	 * are parked, one after another so that each gets its scripted predictions: item 0 ends while
	 * webhook1 is down (its call goes to webhook2, or gets 502 and is retried), items 1 and 2 after
	 * webhook1 is back (their calls alternate again, the restarted process among them). run-queue.sh
	 * then stops webhook1 (SIGTERM), runs restart-gap, starts it again and runs restart-finish.
	 */
	async 'restart-start'(dir) {
		const ctx = context(dir);
		await setServer(ctx, RESTART_RETRIES);
		const after = await maxExecutionId(ctx);
		const bodies = batch('restart-webhook', RESTART.executions, ITEMS, RESTART.timeout);
		const script = (seconds, times) =>
			admin(ctx.server, 'script', {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify({ modelTimeMs: seconds * 1000, times }),
			});
		for (const body of bodies) {
			await script(RESTART.duringSeconds, 1);
			await script(RESTART.afterSeconds, ITEMS - 1);
			await start(ctx, 'webhook', body);
			await waitUntil(
				RESTART.parkWithinMs,
				async () =>
					(await allParked(ctx, after, 0)) &&
					(await createsByPrompt(ctx, `${body.tag}-`)).size === ITEMS,
				`the ${ITEMS} predictions of ${body.tag} were not created`,
			);
		}
		await waitUntil(
			RESTART.parkWithinMs,
			() => allParked(ctx, after, bodies.length),
			`the ${bodies.length} webhook-mode executions were not all parked (waiting)`,
		);
		writeJson(path.join(dir, 'restart.json'), { after, bodies, parkedAt: Date.now() });
		note(
			`${bodies.length} webhook-mode executions × ${ITEMS} items parked (predictions of ${RESTART.duringSeconds} s for item 0, ${RESTART.afterSeconds} s for the others)`,
		);
	},

	/**
	 * The gap while webhook1 is down (run right after it stopped): at least RESTART.minGapMs, and
	 * until the proxy has answered a resume call 502 (a call reached the dead process), at most
	 * RESTART.maxGapMs.
	 */
	async 'restart-gap'(dir) {
		const stoppedAt = Date.now();
		const refused = () =>
			proxyRecord(dir).filter(
				(c) => c.at >= stoppedAt && c.status === 502 && c.path.startsWith('/webhook-waiting/'),
			).length;
		await sleep(RESTART.minGapMs);
		const deadline = stoppedAt + RESTART.maxGapMs;
		while (refused() === 0 && Date.now() < deadline) await sleep(250);
		note(`down for ${seconds(Date.now() - stoppedAt)} s: ${refused()} resume calls answered 502`);
	},

	/**
	 * Run as soon as webhook1 is ready again. Every parked execution ends `success` with its items'
	 * images in input order, one create per item; some resume call got 502 while webhook1 was
	 * down; every delivery of these predictions ended 2xx after Replicate's retries; and some
	 * execution had calls answered before the restart and by the restarted webhook1 after it.
	 */
	async 'restart-finish'(dir) {
		const ctx = context(dir);
		const backAt = Date.now();
		const { after, bodies } = readJson(path.join(dir, 'restart.json'));
		let rows;
		try {
			rows = await waitForExecutions(
				ctx,
				WORKFLOWS.webhook.id,
				after,
				bodies.length,
				(RESTART.afterSeconds + 120) * 1000,
			);
		} finally {
			await setServer(ctx, { modelTimeMs: 100, ...DEFAULT_RETRIES });
		}
		const perExecution = [
			...resumeCalls(
				dir,
				rows.map((r) => r.id),
			).values(),
		];
		const calls = perExecution.flat();
		const refused = calls.filter((c) => c.status === 502);
		const answered = (c) => c.status >= 200 && c.status < 300;
		const spanning = perExecution.filter(
			(list) =>
				list.some((c) => answered(c) && c.at < backAt) &&
				list.some((c) => answered(c) && c.at >= backAt && c.backend === 'webhook1'),
		).length;
		const predictionIds = new Set(
			(await predictionsByPrompt(ctx, 'restart-webhook')).map((p) => p.id),
		);
		const deliveries = (await admin(ctx.server, 'webhooks')).filter((d) =>
			predictionIds.has(d.predictionId),
		);
		const retried = deliveries.filter((d) => d.attempts > 1).length;
		note(
			`resume calls: ${callSummary(calls)}; ${deliveries.length} deliveries, ${retried} of them retried, last answers ${JSON.stringify(
				deliveries.reduce((by, d) => ({ ...by, [d.status]: (by[d.status] ?? 0) + 1 }), {}),
			)}`,
		);
		note(
			`${spanning} of ${rows.length} executions had calls answered before the restart and by the restarted webhook1`,
		);
		expectAllSucceeded(rows, 'executions parked across the restart');
		expect(refused.length > 0, 'no resume call reached the stopped webhook process (no 502)');
		expect(
			spanning > 0,
			'no execution had calls answered both before the restart and by the restarted webhook1',
		);
		const unanswered = deliveries.filter((d) => !(d.status >= 200 && d.status < 300));
		expect(
			unanswered.length === 0,
			`deliveries without a 2xx answer: ${unanswered.map((d) => `${d.predictionId} ${d.status ?? d.error}`)}`,
		);
		await expectOutputs(
			ctx,
			'restart-webhook',
			bodies.flatMap((b) => b.items.map((i) => i.prompt)),
		);
		await expectInputOrder(ctx, rows, bodies);
	},
};

runCheckScript('check-queue.js', { prepare }, checks);
