#!/usr/bin/env node
'use strict';
/*
 * Wait Mode: Webhook in real n8n (regular mode), for test/e2e/run-e2e.sh:
 *
 *   node webhook-mode.js <launcher> <user folder> <work dir>
 *
 * The package must already be installed in <user folder>/.n8n/nodes. It starts its own test
 * server (retrying webhook deliveries for about a minute, like Replicate), imports a credential
 * and the workflows below, runs `n8n start` with WEBHOOK_URL on loopback and starts each
 * execution with `n8n execute --id` (another process on the same database: the execution parks
 * there, and the server process serves its resume URL). Prints one TAP line per check:
 *
 *   w1 single item     parks (waiting), one create with webhook = the execution's resume URL
 *                      (+ n8n's signature on 2.x), events [completed], Cancel-After; Replicate's
 *                      call resumes it: success, one item with the PNG the server made
 *   w2 many items      3 items whose predictions finish out of order (item 0 last): resumed once,
 *                      by the last call; output in input order, pairedItem 0,1,2, one create each
 *   w3 forged call     while waiting: a call with a wrong signature, one without n8n's
 *                      signature (2.x), a stale one and a replay of a genuine one are refused
 *                      (401) and the execution stays waiting; then it completes
 *   w4 timeout         Timeout 4 s on a 60 s model: Replicate ends it at Cancel-After and calls;
 *                      the item reports the timeout with its prediction ID, nothing runs on
 *   w5 restart         n8n stopped while 2 executions wait, predictions finish meanwhile (calls
 *                      fail), n8n started again: Replicate's retried calls resume both
 *   w6 order, restart  the last-created prediction finishes first and its call is answered; n8n
 *                      restarts; the first one's call resumes the execution from what n8n stored
 */
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const {
	admin,
	CheckFailure,
	credential,
	CREDENTIAL_TYPE,
	expect,
	failureText,
	NODE_TYPE,
	ownerCookie,
	ROOT,
	sleep,
	writeJson,
} = require('./lib/checks');

const CREDENTIAL_ID = 'replicate-webhook-e2e';
const BROWSER_ID = 'n8n-e2e-webhook';

const [launcher, userFolder, work] = process.argv.slice(2);
if (!launcher || !userFolder || !work) {
	console.error('usage: webhook-mode.js <launcher> <user folder> <work dir>');
	process.exit(2);
}
fs.mkdirSync(work, { recursive: true });
const n8nDir = path.dirname(launcher);
const flatted = require(
	require.resolve('flatted', { paths: [path.join(n8nDir, 'node_modules/n8n')] }),
);
const n8nVersion = require(path.join(n8nDir, 'node_modules/n8n/package.json')).version;

async function freePort() {
	return await new Promise((resolve) => {
		const server = net.createServer();
		server.listen(0, '127.0.0.1', () => {
			const { port } = server.address();
			server.close(() => resolve(port));
		});
	});
}

async function until(what, check, timeoutMs, everyMs = 250) {
	const end = Date.now() + timeoutMs;
	for (;;) {
		const value = await check();
		if (value) return value;
		if (Date.now() > end)
			throw new CheckFailure(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
		await sleep(everyMs);
	}
}

// ---- the test server ---------------------------------------------------------------------------

let server;
async function startServer() {
	const token = `r8_e2e_wh_${crypto.randomBytes(10).toString('hex')}`;
	const child = spawn(
		process.execPath,
		[
			path.join(ROOT, '.build/tools/fake-replicate/cli.js'),
			'--token',
			token,
			'--model-time-ms',
			'1500',
			'--webhook-retries',
			'6',
			'--webhook-retry-delay-ms',
			'1000',
		],
		{ stdio: ['ignore', 'pipe', 'inherit'] },
	);
	let out = '';
	const info = await new Promise((resolve, reject) => {
		child.stdout.on('data', (chunk) => {
			out += chunk;
			if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]));
		});
		child.once('exit', (code) => reject(new Error(`test server exited (${code})`)));
	});
	server = { ...info, child };
}
const script = async (body) =>
	await admin(server, 'script', {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify(body),
	});

// ---- n8n -----------------------------------------------------------------------------------------

let port;
let webhookUrl;
function env(extra = {}) {
	return {
		...process.env,
		N8N_USER_FOLDER: userFolder,
		DB_TYPE: 'sqlite',
		N8N_LOG_FORMAT: 'json',
		N8N_LOG_LEVEL: 'info',
		N8N_LOG_OUTPUT: 'console',
		N8N_DIAGNOSTICS_ENABLED: 'false',
		N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
		N8N_TEMPLATES_ENABLED: 'false',
		N8N_LICENSE_AUTO_RENEW_ENABLED: 'false',
		N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'true',
		GENERIC_TIMEZONE: 'UTC',
		WEBHOOK_URL: webhookUrl,
		...extra,
	};
}
async function runN8n(args, logName, timeoutMs = 180_000) {
	const brokerPort = await freePort();
	return await new Promise((resolve) => {
		const log = fs.openSync(path.join(work, logName), 'w');
		const child = spawn(launcher, args, {
			env: env({ N8N_RUNNERS_BROKER_PORT: String(brokerPort) }),
			stdio: ['ignore', log, log],
			cwd: work,
		});
		const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
		child.on('exit', (code) => {
			clearTimeout(timer);
			fs.closeSync(log);
			resolve(code);
		});
	});
}

let n8n;
async function startN8n(logName) {
	const brokerPort = await freePort();
	const logFile = path.join(work, logName);
	const log = fs.openSync(logFile, 'w');
	const extra = {
		N8N_PORT: String(port),
		N8N_LISTEN_ADDRESS: '127.0.0.1',
		N8N_SECURE_COOKIE: 'false',
		N8N_PERSONALIZATION_ENABLED: 'false',
		N8N_VERIFIED_PACKAGES_ENABLED: 'false',
		N8N_RUNNERS_BROKER_PORT: String(brokerPort),
	};
	if (fs.existsSync(path.join(n8nDir, 'node_modules/n8n/dist/modules/mcp-registry')))
		extra.N8N_DISABLED_MODULES = 'mcp-registry';
	const child = spawn(launcher, ['start'], {
		env: env(extra),
		stdio: ['ignore', log, log],
		cwd: work,
	});
	const exited = new Promise((resolve) => child.once('exit', resolve));
	n8n = { child, exited };
	await until(
		'n8n start to be ready',
		async () => {
			if (child.exitCode !== null)
				throw new CheckFailure(`n8n start exited (${child.exitCode}); log ${logFile}`);
			if (!fs.readFileSync(logFile, 'utf8').includes('Editor is now accessible via')) return false;
			try {
				return (await fetch(`http://127.0.0.1:${port}/healthz/readiness`)).ok;
			} catch {
				return false;
			}
		},
		120_000,
	);
	fs.closeSync(log);
}
async function stopN8n() {
	if (!n8n) return;
	n8n.child.kill('SIGTERM');
	const killer = setTimeout(() => n8n.child.kill('SIGKILL'), 30_000);
	await n8n.exited;
	clearTimeout(killer);
	n8n = undefined;
}

let cookie;
async function login() {
	// The regular e2e set the owner up already: this logs in.
	cookie = await ownerCookie(`http://127.0.0.1:${port}`, BROWSER_ID);
}

/** An execution as n8n stores it: status and (unflattened) data. */
async function execution(id) {
	const response = await fetch(`http://127.0.0.1:${port}/rest/executions/${id}`, {
		headers: { cookie, 'browser-id': BROWSER_ID },
	});
	expect(response.ok, `GET /rest/executions/${id}: HTTP ${response.status}`);
	const { data } = await response.json();
	return { ...data, data: typeof data.data === 'string' ? flatted.parse(data.data) : data.data };
}
async function finished(id, timeoutMs = 90_000) {
	return await until(
		`execution ${id} to finish`,
		async () => {
			const current = await execution(id);
			return ['waiting', 'running', 'new'].includes(current.status) ? false : current;
		},
		timeoutMs,
		500,
	);
}

// ---- workflows -----------------------------------------------------------------------------------

function workflow(id, replicateParameters, itemCount = 1) {
	const inpaint = {
		id: `${id}-inpaint`,
		name: 'Replicate Inpainting',
		type: NODE_TYPE,
		typeVersion: 1,
		position: [600, 0],
		parameters: {
			operation: 'createAndWait',
			waitMode: 'webhook',
			imageSource: 'url',
			imageUrl: server.sampleImageUrl,
			maskSource: 'url',
			maskUrl: server.sampleMaskUrl,
			prompt: '={{ "item " + $json.list }}',
			...replicateParameters,
		},
		credentials: { [CREDENTIAL_TYPE]: { id: CREDENTIAL_ID, name: 'Replicate (webhook e2e)' } },
	};
	const nodes = [
		{
			id: `${id}-start`,
			name: 'Start',
			type: 'n8n-nodes-base.manualTrigger',
			typeVersion: 1,
			position: [0, 0],
			parameters: {},
		},
		{
			id: `${id}-set`,
			name: 'Items',
			type: 'n8n-nodes-base.set',
			typeVersion: 3.4,
			position: [200, 0],
			parameters: {
				assignments: {
					assignments: [
						{
							id: 'list',
							name: 'list',
							type: 'array',
							value: `={{ ${JSON.stringify([...Array(itemCount).keys()])} }}`,
						},
					],
				},
				options: {},
			},
		},
		{
			id: `${id}-split`,
			name: 'Split',
			type: 'n8n-nodes-base.splitOut',
			typeVersion: 1,
			position: [400, 0],
			parameters: { fieldToSplitOut: 'list', options: {} },
		},
		inpaint,
	];
	const connections = {
		Start: { main: [[{ node: 'Items', type: 'main', index: 0 }]] },
		Items: { main: [[{ node: 'Split', type: 'main', index: 0 }]] },
		Split: { main: [[{ node: 'Replicate Inpainting', type: 'main', index: 0 }]] },
	};
	return {
		id,
		name: `Webhook mode ${id}`,
		active: false,
		nodes,
		connections,
		settings: { executionOrder: 'v1' },
	};
}

/** Starts the workflow in another n8n process (it parks there); returns its execution id. */
async function startExecution(workflowId) {
	const before = (await admin(server, 'requests?full=1')).filter(isCreate).length;
	const started = Date.now();
	const rc = await runN8n(
		['execute', `--id=${workflowId}`, '--rawOutput'],
		`execute-${workflowId}-${started}.log`,
	);
	const creates = (await admin(server, 'requests?full=1')).filter(isCreate);
	expect(
		creates.length > before,
		`n8n execute --id=${workflowId} (exit ${rc}) created no prediction`,
	);
	const url = new URL(creates[creates.length - 1].json.webhook);
	const id = /\/webhook-waiting\/([^/?]+)/.exec(url.pathname)?.[1];
	expect(id, `the webhook URL ${url} names no execution`);
	return { id, rc, creates: creates.slice(before) };
}
function isCreate(request) {
	return (
		request.origin === 'api' && request.method === 'POST' && /\/predictions$/.test(request.path)
	);
}

function signedCall(
	url,
	body,
	{
		key = Buffer.from(server.webhookSecret.replace(/^whsec_/, ''), 'base64'),
		id = `msg_e2e${crypto.randomBytes(8).toString('hex')}`,
		timestamp = Math.floor(Date.now() / 1000),
	} = {},
) {
	const text = typeof body === 'string' ? body : JSON.stringify(body);
	const signature = crypto
		.createHmac('sha256', key)
		.update(`${id}.${timestamp}.${text}`)
		.digest('base64');
	return fetch(url, {
		method: 'POST',
		headers: {
			'content-type': 'application/json',
			'webhook-id': id,
			'webhook-timestamp': String(timestamp),
			'webhook-signature': `v1,${signature}`,
		},
		body: text,
	});
}

/** The bytes of a binary in n8n's execution data: inline (1.x memory mode) or in its binary store (2.x). */
async function binaryBytes(binary) {
	if (!binary.id) return Buffer.from(binary.data, 'base64');
	const response = await fetch(
		`http://127.0.0.1:${port}/rest/binary-data?id=${encodeURIComponent(binary.id)}&action=download`,
		{ headers: { cookie, 'browser-id': BROWSER_ID } },
	);
	expect(response.ok, `GET /rest/binary-data: HTTP ${response.status}`);
	return Buffer.from(await response.arrayBuffer());
}

function replicateItems(run) {
	return run.data.resultData.runData['Replicate Inpainting']?.at(-1)?.data?.main?.[0] ?? [];
}

// ---- checks ---------------------------------------------------------------------------------------

const checks = [];
const check = (name, fn) => checks.push({ name, fn });

check("w1 single item: parks, Replicate's call resumes it with the image", async () => {
	const { id, creates } = await startExecution('whSingle');
	expect(creates.length === 1, `${creates.length} creates, expected 1`);
	const create = creates[0];
	const hook = new URL(create.json.webhook);
	expect(
		hook.href.startsWith(`${webhookUrl}webhook-waiting/${id}`),
		`webhook ${hook.href} is not this execution's resume URL under ${webhookUrl}`,
	);
	if (n8nVersion.startsWith('2.'))
		expect(hook.searchParams.get('signature'), 'the resume URL carries no n8n signature (2.x)');
	expect(
		JSON.stringify(create.json.webhook_events_filter) === '["completed"]',
		`webhook_events_filter ${JSON.stringify(create.json.webhook_events_filter)}`,
	);
	expect(
		create.headers['cancel-after'] === '600s',
		`Cancel-After ${create.headers['cancel-after']}`,
	);
	expect(
		!create.headers.prefer,
		`a webhook-mode create should not be held (Prefer: ${create.headers.prefer})`,
	);
	const done = await finished(id);
	expect(
		done.status === 'success',
		`status ${done.status}: ${done.data.resultData.error?.message ?? ''}`,
	);
	const items = replicateItems(done);
	expect(
		items.length === 1 && items[0].json.status === 'succeeded',
		`items ${JSON.stringify(items.map((i) => i.json.status ?? i.json.error))}`,
	);
	const binary = items[0].binary?.data;
	expect(binary?.mimeType === 'image/png', `binary ${JSON.stringify(binary)}`);
	const served = await fetch(items[0].json.output[0]).then(async (r) =>
		Buffer.from(await r.arrayBuffer()),
	);
	const stored = await binaryBytes(binary);
	expect(
		stored.equals(served),
		`the item's PNG (${stored.length} bytes) differs from the server's output (${served.length} bytes)`,
	);
	return `execution ${id}: waiting → success; 1 create; PNG of ${stored.length} bytes equals the server's; webhook ${hook.pathname}?${[...hook.searchParams.keys()].join('&')}`;
});

check('w2 many items: calls out of order, resumed once, output in input order', async () => {
	// Item 0 finishes last, item 1 first: the calls come 1, 2, 0.
	await script({ modelTimeMs: 7000 });
	await script({ modelTimeMs: 1500 });
	await script({ modelTimeMs: 4000 });
	const { id, creates } = await startExecution('whMany');
	expect(creates.length === 3, `${creates.length} creates, expected 3`);
	const done = await finished(id);
	expect(done.status === 'success', `status ${done.status}`);
	const items = replicateItems(done);
	expect(items.length === 3, `${items.length} items`);
	expect(
		items.every(
			(item, index) => item.json.status === 'succeeded' && item.pairedItem?.item === index,
		),
		`items ${JSON.stringify(items.map((i) => [i.json.status, i.pairedItem]))}`,
	);
	expect(
		items.map((item) => item.json.input.prompt).join() === 'item 0,item 1,item 2',
		`prompts ${items.map((item) => item.json.input.prompt)}`,
	);
	const deliveries = (await admin(server, 'webhooks')).filter((d) =>
		d.url.includes(`/webhook-waiting/${id}`),
	);
	const item = (delivery) => creates.findIndex((c) => c.json.webhook === delivery.url);
	const order = deliveries.map(item);
	const statuses = deliveries.map((d) => d.status);
	expect(order.join() === '1,2,0', `calls came for items ${order.join(', ')} (expected 1, 2, 0)`);
	expect(
		statuses.every((s) => s === 200),
		`calls answered ${statuses}`,
	);
	const resumed = deliveries.map((d) => d.status);
	return `execution ${id}: calls for items ${order.join(', ')} answered ${resumed.join(', ')}; the last resumed it; items in input order`;
});

check(
	'w3 forged, stale, replayed and unsigned calls are refused, the execution keeps waiting',
	async () => {
		await script({ modelTimeMs: 8000 });
		const { id, creates } = await startExecution('whSingle');
		const url = creates[0].json.webhook;
		const body = { id: 'forgedprediction0000000001', status: 'succeeded', output: [] };
		const forged = await signedCall(url, body, { key: crypto.randomBytes(24) });
		const stale = await signedCall(url, body, { timestamp: Math.floor(Date.now() / 1000) - 3600 });
		const unsigned = await fetch(url, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify(body),
		});
		const statuses = [forged.status, stale.status, unsigned.status];
		expect(
			statuses.every((s) => s === 401),
			`forged/stale/unsigned answered ${statuses}`,
		);
		if (n8nVersion.startsWith('2.')) {
			const noToken = new URL(url);
			noToken.searchParams.delete('signature');
			const answer = await signedCall(noToken.href, body);
			expect(answer.status === 401, `a call without n8n's signature answered ${answer.status}`);
			statuses.push(answer.status);
		}
		// A genuine-looking signed call for a running prediction, twice with one webhook-id: the replay is refused.
		// The newest prediction is this execution's (the server lists them in creation order).
		const prediction = (await admin(server, 'predictions')).at(-1);
		const replayId = `msg_e2ereplay${crypto.randomBytes(6).toString('hex')}`;
		const first = await signedCall(url, { ...prediction, status: 'processing' }, { id: replayId });
		const replay = await signedCall(url, { ...prediction, status: 'processing' }, { id: replayId });
		expect(
			first.status === 200 && replay.status === 401,
			`signed call ${first.status}, its replay ${replay.status}`,
		);
		const meanwhile = await execution(id);
		expect(
			meanwhile.status === 'waiting',
			`after the refused calls the execution is ${meanwhile.status}`,
		);
		const done = await finished(id);
		expect(
			done.status === 'success' && replicateItems(done)[0]?.json.status === 'succeeded',
			`then: ${done.status}`,
		);
		return `refused with ${statuses.join(', ')}; replay 401; still waiting, then success`;
	},
);

check(
	'w4 timeout: Replicate ends the prediction at Cancel-After, the item reports it',
	async () => {
		await script({ modelTimeMs: 60_000 });
		const started = Date.now();
		const { id, creates } = await startExecution('whTimeout');
		expect(
			creates[0].headers['cancel-after'] === '4s',
			`Cancel-After ${creates[0].headers['cancel-after']}`,
		);
		const done = await finished(id, 60_000);
		const seconds = ((Date.now() - started) / 1000).toFixed(1);
		const items = replicateItems(done);
		expect(
			items.length === 1 &&
				/did not finish within the timeout of 4 s/.test(String(items[0].json.error)),
			`items ${JSON.stringify(items.map((i) => i.json))}`,
		);
		expect(typeof items[0].json.predictionId === 'string', 'the error item names no prediction');
		const prediction = (await admin(server, 'predictions')).find(
			(p) => p.id === items[0].json.predictionId,
		);
		expect(
			prediction && ['canceled', 'aborted'].includes(prediction.status),
			`prediction is ${prediction?.status}`,
		);
		return `execution ${id} ended after ${seconds} s: "${items[0].json.error}", prediction ${prediction.status}`;
	},
);

check(
	"w5 restart: n8n stopped while executions wait, Replicate's retried calls resume them",
	async () => {
		// Long enough that both executions park (each `n8n execute` takes seconds to start) before any finishes.
		await script({ modelTimeMs: 30_000, times: 4 });
		const a = await startExecution('whRestart');
		const b = await startExecution('whRestart');
		await stopN8n();
		// The predictions finish while n8n is down: each call fails at least once and is retried.
		const ours = (delivery) =>
			[a.id, b.id].some((id) => delivery.url.includes(`/webhook-waiting/${id}?`));
		await until(
			'all 4 calls to have failed while n8n is down',
			async () => {
				const deliveries = (await admin(server, 'webhooks')).filter(ours);
				return (
					deliveries.length === 4 && deliveries.every((d) => d.attempts >= 1 && d.status !== 200)
				);
			},
			90_000,
			500,
		);
		const failedWhileDown = (await admin(server, 'webhooks')).filter(ours).length;
		await startN8n('start-after-restart.log');
		await login();
		const doneA = await finished(a.id);
		const doneB = await finished(b.id);
		const ok = (run) =>
			run.status === 'success' &&
			replicateItems(run).length === 2 &&
			replicateItems(run).every((i) => i.json.status === 'succeeded');
		const shown = (run) =>
			`${run.status} ${JSON.stringify(replicateItems(run).map((i) => i.json.status ?? i.json.error))}`;
		expect(ok(doneA) && ok(doneB), `after the restart: ${shown(doneA)} / ${shown(doneB)}`);
		return `executions ${a.id}, ${b.id}: ${failedWhileDown} calls failed while n8n was down; both succeeded after the restart`;
	},
);

check(
	"w6 order and restart: the last-created prediction finishes first, n8n restarts, the first one's call resumes",
	async () => {
		// Item 1, created last, finishes first: its call is answered (200) before the restart, and
		// item 0's comes after it. What the execution waits for must come from n8n's database.
		await script({ modelTimeMs: 25_000 });
		await script({ modelTimeMs: 1_000 });
		const { id } = await startExecution('whRestart');
		const ours = (delivery) => delivery.url.includes(`/webhook-waiting/${id}?`);
		await until(
			"item 1's call to be answered",
			async () => (await admin(server, 'webhooks')).filter(ours).some((d) => d.status === 200),
			60_000,
			250,
		);
		await stopN8n();
		await startN8n('start-after-order-restart.log');
		await login();
		const done = await finished(id);
		const items = replicateItems(done);
		expect(
			done.status === 'success' &&
				items.length === 2 &&
				items.every(
					(item, index) => item.json.status === 'succeeded' && item.pairedItem?.item === index,
				),
			`after the restart: ${done.status}, items ${JSON.stringify(items.map((i) => [i.json.status, i.pairedItem]))}`,
		);
		const calls = (await admin(server, 'webhooks')).filter(ours);
		return `execution ${id}: ${calls.length} calls, item 1's answered before the restart; item 0's resumed it after`;
	},
);

async function main() {
	await startServer();
	port = await freePort();
	webhookUrl = `http://127.0.0.1:${port}/`;
	writeJson(path.join(work, 'credentials.json'), [
		credential(CREDENTIAL_ID, 'Replicate (webhook e2e)', server),
	]);
	writeJson(path.join(work, 'workflows.json'), [
		workflow('whSingle', {}),
		workflow('whMany', {}, 3),
		workflow('whTimeout', { options: { timeout: 4 } }),
		workflow('whRestart', {}, 2),
	]);
	let passed = 0;
	let failed = 0;
	try {
		expect(
			(await runN8n(
				['import:credentials', `--input=${path.join(work, 'credentials.json')}`],
				'import-credentials.log',
			)) === 0,
			'import:credentials failed',
		);
		expect(
			(await runN8n(
				['import:workflow', `--input=${path.join(work, 'workflows.json')}`],
				'import-workflows.log',
			)) === 0,
			'import:workflow failed',
		);
		await startN8n('start.log');
		await login();
	} catch (error) {
		console.log(`not ok - n8n ${n8nVersion}: webhook mode setup: ${error.message}`);
		await stopN8n();
		server.child.kill('SIGTERM');
		process.exit(1);
	}
	for (const { name, fn } of checks) {
		try {
			if (!n8n) {
				await startN8n(`start-${passed + failed}.log`);
				await login();
			}
			const detail = await fn();
			passed++;
			console.log(`ok - n8n ${n8nVersion}: ${name}`);
			if (detail) console.log(`    ${detail}`);
		} catch (error) {
			failed++;
			console.log(`not ok - n8n ${n8nVersion}: ${name}`);
			console.log(`    ${failureText(error)}`);
		}
	}
	await stopN8n();
	server.child.kill('SIGTERM');
	// 1: a check failed (reported above); 2: the script itself broke.
	process.exitCode = failed === 0 ? 0 : 1;
}

main().catch((error) => {
	console.error(error.stack);
	process.exit(2);
});
