#!/usr/bin/env node
'use strict';
/*
 * Fixtures and checks for test/e2e/run-e2e.sh, one n8n version per folder <dir>:
 *
 *   node check-run.js prepare <dir>            fixtures: credentials, workflows, input images, ctx.json
 *   node check-run.js snapshot <dir> <name>    saves the test server's records to server-<name>.json, resets them
 *   node check-run.js <check> <dir> [base URL] one check; prints what failed; exit 0 = passed, 1 = failed
 *
 * Checks: installed, loader <url>, credential-test <url>, example-run, example-files,
 * example-requests, resolution, wrong-token (see run-e2e.sh for what each one proves).
 *
 * Plain JavaScript (runs on the system Node without a build); it reads PNGs with the test
 * server's decoder from .build (npm run build:tools).
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const {
	admin,
	credential,
	CREDENTIAL_TYPE,
	expect,
	expectEqual,
	note,
	ownerCookie,
	readJson,
	requiredEnv,
	ROOT,
	runCheckScript,
	writeJson,
} = require('./lib/checks');
const { builtinCreateBody } = require('./lib/builtin-model');
const { expectWrittenOutput } = require('./lib/written-output');
const { execution, expectEveryNodeRanOnce, logErrors, mainItems } = require('./lib/executions');

const EXAMPLE = path.join(ROOT, 'examples/inpaint.workflow.json');
const NODE_NAME = 'Replicate Inpainting';
const NODE_TYPE_NAME = 'replicateInpainting';
const CREDENTIAL_ID = 'replicate-inpainting-demo';
const WRONG_CREDENTIAL_ID = 'replicate-inpainting-wrong';
const EXAMPLE_WORKFLOW_ID = 'e2eInpaintExample';
const WRONG_WORKFLOW_ID = 'e2eInpaintWrongToken';
const INPUT_SIZE = 256; // inputs differ in size from the requested output, so echoes show
const WRONG_TOKEN_MESSAGE = 'Replicate API error 401 on POST /predictions: Unauthenticated';
const png = () => require(path.join(ROOT, '.build/tools/fake-replicate/png.js'));

function context(dir) {
	return readJson(path.join(dir, 'ctx.json'));
}

// ---- fixtures -------------------------------------------------------------------------------

function prepare(dir) {
	const server = readJson(path.join(dir, 'server.json'));
	const ctx = {
		n8nVersion: requiredEnv('E2E_N8N_VERSION'),
		nodeVersion: requiredEnv('E2E_NODE_VERSION'),
		n8nDir: requiredEnv('E2E_N8N_DIR'),
		userFolder: requiredEnv('E2E_USER_FOLDER'),
		tarball: requiredEnv('E2E_TARBALL'),
		packageName: readJson(path.join(ROOT, 'package.json')).name,
		server,
		token: server.token,
		wrongToken: `r8_e2e_wrong_${crypto.randomBytes(8).toString('hex')}`,
		runs: { example: path.join(dir, 'run-example'), wrong: path.join(dir, 'run-wrong') },
	};
	writeJson(path.join(dir, 'ctx.json'), ctx);

	writeJson(path.join(dir, 'credentials.json'), [
		credential(CREDENTIAL_ID, 'Replicate Inpainting account', server, ctx.token),
		credential(WRONG_CREDENTIAL_ID, 'Replicate Inpainting (wrong token)', server, ctx.wrongToken),
	]);

	// The example exactly as shipped, plus an id to execute it by; and a copy on the wrong token.
	const example = readJson(EXAMPLE);
	const node = example.nodes.find((n) => n.name === NODE_NAME);
	if (!node) throw new Error(`${EXAMPLE} has no node named "${NODE_NAME}"`);
	const exampleCredential = node.credentials?.[CREDENTIAL_TYPE];
	if (exampleCredential?.id !== CREDENTIAL_ID) {
		throw new Error(
			`${EXAMPLE}: the node's credential id is ${JSON.stringify(exampleCredential?.id)}, the e2e imports ${CREDENTIAL_ID}`,
		);
	}
	const wrong = structuredClone(example);
	wrong.nodes.find((n) => n.name === NODE_NAME).credentials[CREDENTIAL_TYPE] = {
		id: WRONG_CREDENTIAL_ID,
		name: 'Replicate Inpainting (wrong token)',
	};
	writeJson(path.join(dir, 'workflows.json'), [
		{ ...example, id: EXAMPLE_WORKFLOW_ID, active: false },
		{ ...wrong, id: WRONG_WORKFLOW_ID, name: `${wrong.name} (wrong token)`, active: false },
	]);

	// The files the example reads, relative to the cwd of `n8n execute`.
	const { makeSamplePng } = png();
	for (const run of Object.values(ctx.runs)) {
		const input = path.join(run, 'out/input');
		fs.mkdirSync(input, { recursive: true });
		fs.writeFileSync(path.join(input, 'image.png'), makeSamplePng(INPUT_SIZE, INPUT_SIZE, 'image'));
		fs.writeFileSync(path.join(input, 'mask.png'), makeSamplePng(INPUT_SIZE, INPUT_SIZE, 'mask'));
	}
}

async function snapshot(dir, name) {
	const ctx = context(dir);
	const records = {
		requests: await admin(ctx.server, 'requests?full=1'),
		stats: await admin(ctx.server, 'stats'),
		predictions: await admin(ctx.server, 'predictions'),
	};
	writeJson(path.join(dir, `server-${name}.json`), records);
	await admin(ctx.server, 'reset', { method: 'POST' });
}

// ---- helpers over n8n's output ----------------------------------------------------------------

function expectedInput(ctx) {
	const example = readJson(EXAMPLE);
	const p = example.nodes.find((n) => n.name === NODE_NAME).parameters;
	// The example's binary properties are named after the files it reads (image.png, mask.png).
	const dataUri = (property) =>
		`data:image/png;base64,${fs.readFileSync(path.join(ctx.runs.example, 'out/input', `${property}.png`)).toString('base64')}`;
	return builtinCreateBody(p, dataUri);
}

function isUnder(file, dir) {
	const relative = path.relative(dir, file);
	return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
}

/**
 * The owner's auth cookie, signed in once per `n8n start` and kept in <dir>; it is bound to the
 * browser-id header sent with it, so every request sends the same one.
 */
const BROWSER_ID = 'n8n-e2e-browser';
async function session(dir, baseUrl) {
	const file = path.join(dir, 'rest-session.json');
	if (fs.existsSync(file)) {
		const saved = readJson(file);
		if (saved.baseUrl === baseUrl) return saved;
	}
	const saved = { baseUrl, cookie: await ownerCookie(baseUrl, BROWSER_ID) };
	writeJson(file, saved);
	return saved;
}

// ---- checks -----------------------------------------------------------------------------------

const checks = {
	/** The package sits in .n8n/nodes as n8n's installer leaves it, with nothing else beside it. */
	installed(dir) {
		const ctx = context(dir);
		const nodes = path.join(ctx.userFolder, '.n8n/nodes');
		const pkgDir = path.join(nodes, 'node_modules', ctx.packageName);
		const pkg = readJson(path.join(pkgDir, 'package.json'));
		expect(
			!pkg.peerDependencies && !pkg.devDependencies,
			'peer/dev dependencies were not dropped from package.json',
		);
		expectEqual(pkg.dependencies ?? {}, {}, 'runtime dependencies of the package');
		for (const file of [...pkg.n8n.nodes, ...pkg.n8n.credentials]) {
			expect(
				fs.existsSync(path.join(pkgDir, file)),
				`${file} (listed in package.json "n8n") is not in the tarball`,
			);
		}
		expect(
			!fs.existsSync(path.join(pkgDir, 'node_modules')),
			`the package brought its own node_modules: ${path.join(pkgDir, 'node_modules')}`,
		);
		const beside = fs
			.readdirSync(path.join(nodes, 'node_modules'))
			.filter((name) => !name.startsWith('.'));
		expectEqual(
			beside,
			[ctx.packageName],
			'folders in .n8n/nodes/node_modules (npm must not have added n8n-workflow, zod, …)',
		);
		expectEqual(
			readJson(path.join(nodes, 'package.json')).dependencies,
			{ [ctx.packageName]: pkg.version },
			'.n8n/nodes/package.json dependencies',
		);
		const packed = readJson(path.join(dir, 'pack.json'))[0];
		const stray = packed.files
			.map((f) => f.path)
			.filter((p) => !/^(dist\/|package\.json$|README|LICENSE|index\.js$)/i.test(p));
		expectEqual(
			stray,
			[],
			'files in the tarball outside dist/, package.json, README, LICENSE, index.js',
		);
		note(
			`${packed.filename}: ${packed.entryCount} files, ${packed.size} bytes; no dependencies, nothing installed beside it`,
		);
	},

	/** `n8n start` loaded node and credential: they are in the types the editor UI downloads. */
	async loader(dir, baseUrl) {
		const ctx = context(dir);
		const { cookie } = await session(dir, baseUrl);
		const get = async (route) => {
			const response = await fetch(`${baseUrl}${route}`, {
				headers: { cookie, 'browser-id': BROWSER_ID },
			});
			expect(response.ok, `GET ${route}: HTTP ${response.status}`);
			return response.json();
		};
		const nodeTypes = await get('/types/nodes.json');
		const credentialTypes = await get('/types/credentials.json');
		// Warnings and errors n8n logged about the package (its loader logs and skips a broken package).
		const problems = logErrors(path.join(dir, 'start.log'), ctx.packageName);
		expect(
			problems.length === 0,
			`n8n start logged about the package:\n      ${problems.join('\n      ')}`,
		);
		const fullName = `${ctx.packageName}.${NODE_TYPE_NAME}`;
		const node = nodeTypes.find((n) => n.name === fullName);
		const ours = nodeTypes
			.filter((n) => n.name.startsWith(`${ctx.packageName}.`))
			.map((n) => n.name);
		expect(
			node,
			`${fullName} is not among the ${nodeTypes.length} node types n8n serves (from the package: ${JSON.stringify(ours)})`,
		);
		expect(
			node.properties.some((p) => p.name === 'operation'),
			`${fullName} has no "operation" property`,
		);
		expect(
			(node.credentials ?? []).some((c) => c.name === CREDENTIAL_TYPE),
			`${fullName} does not declare the credential ${CREDENTIAL_TYPE}`,
		);
		const credential = credentialTypes.find((c) => c.name === CREDENTIAL_TYPE);
		expect(
			credential,
			`${CREDENTIAL_TYPE} is not among the ${credentialTypes.length} credential types n8n serves`,
		);
		// n8n adds its own fields (allowedDomains, … on 1.123/2.40) to credentials that authenticate requests.
		const fields = credential.properties.map((p) => p.name);
		expect(
			['apiToken', 'baseUrl'].every((f) => fields.includes(f)),
			`${CREDENTIAL_TYPE} fields: ${JSON.stringify(fields)}`,
		);
		note(`node types from the package: ${ours.join(', ')}; credential ${CREDENTIAL_TYPE}`);
	},

	/** The credential's test, run by n8n's own credentials service (POST /rest/credentials/test). */
	async 'credential-test'(dir, baseUrl) {
		const ctx = context(dir);
		const { cookie } = await session(dir, baseUrl);
		const headers = { 'content-type': 'application/json', 'browser-id': BROWSER_ID };
		const test = async (id, name, apiToken) => {
			const response = await fetch(`${baseUrl}/rest/credentials/test`, {
				method: 'POST',
				headers: { ...headers, cookie },
				body: JSON.stringify({
					credentials: {
						id,
						name,
						type: CREDENTIAL_TYPE,
						data: { apiToken, baseUrl: ctx.server.apiUrl },
					},
				}),
			});
			const text = await response.text();
			expect(response.ok, `POST /rest/credentials/test (${name}): HTTP ${response.status} ${text}`);
			return JSON.parse(text).data;
		};
		const right = await test(CREDENTIAL_ID, 'Replicate Inpainting account', ctx.token);
		const wrong = await test(
			WRONG_CREDENTIAL_ID,
			'Replicate Inpainting (wrong token)',
			ctx.wrongToken,
		);
		expectEqual(right?.status, 'OK', `test of the right token (answer ${JSON.stringify(right)})`);
		expectEqual(wrong?.status, 'Error', `test of a wrong token (answer ${JSON.stringify(wrong)})`);
		const requests = await admin(ctx.server, 'requests?full=1');
		const prefix = new URL(ctx.server.apiUrl).pathname;
		const seen = requests.map(
			(r) => `${r.origin} ${r.method} ${r.path} ${r.headers.authorization ?? '(no authorization)'}`,
		);
		expect(
			requests.length > 0 &&
				requests.every(
					(r) => r.origin === 'api' && r.method === 'GET' && r.path === `${prefix}/account`,
				),
			`the test should only call GET ${prefix}/account on the API; the server saw:\n      ${seen.join('\n      ')}`,
		);
		expect(
			seen[0].endsWith(`Bearer ${ctx.token}`),
			`the first test request did not carry "Bearer <token>": ${seen[0]}`,
		);
		expect(
			seen.slice(1).every((s) => s.endsWith(`Bearer ${ctx.wrongToken}`)),
			`the wrong-token test requests: ${seen.slice(1).join('; ')}`,
		);
		note(
			`right token: ${right.status} "${right.message}"; wrong token: ${wrong.status} "${wrong.message}"; server saw ${requests.length} × GET ${prefix}/account`,
		);

		// A Base URL that redirects to another origin (issue 10 item 3): the test fails, naming the
		// redirect, and does not follow it (n8n would send the token along).
		await admin(ctx.server, 'reset', { method: 'POST' });
		await admin(ctx.server, 'fault', {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({
				method: 'GET',
				path: '^/account$',
				kind: 'status',
				status: 302,
				headers: { location: `${ctx.server.outputOrigin}${prefix}/account` },
				body: '',
			}),
		});
		const redirected = await test(CREDENTIAL_ID, 'Replicate Inpainting account', ctx.token);
		expectEqual(
			redirected?.status,
			'Error',
			`test of a Base URL that redirects (answer ${JSON.stringify(redirected)})`,
		);
		expect(
			/\b302\b/.test(redirected.message ?? ''),
			`the redirect test's message does not name the 302: "${redirected.message}"`,
		);
		const followed = (await admin(ctx.server, 'requests?full=1')).filter((r) => r.origin !== 'api');
		expect(
			followed.length === 0,
			`the test followed the redirect: ${followed.map((r) => `${r.origin} ${r.method} ${r.path}`).join('; ')}`,
		);
		expectEqual(
			(await admin(ctx.server, 'stats')).tokenToNonApiOrigin,
			0,
			'requests carrying the token to another origin',
		);
		note(`Base URL answering 302: ${redirected.status} "${redirected.message}", not followed`);
	},

	/** The example ran to success, every node once, with the items expected. */
	'example-run'(dir) {
		const ctx = context(dir);
		const { run, rc } = execution(dir, 'example');
		const result = run.data.resultData;
		expect(
			!result.error,
			`the execution failed: ${result.error?.message} (node ${result.error?.node?.name ?? '?'})`,
		);
		expectEqual(rc, 0, 'exit code of n8n execute');
		expectEqual(run.status, 'success', 'execution status');
		expectEqual(run.finished, true, 'execution finished');
		expectEqual(result.lastNodeExecuted, 'Write Result', 'last node executed');
		expectEveryNodeRanOnce(result, readJson(EXAMPLE));
		const { input } = expectedInput(ctx);
		const items = mainItems(run, NODE_NAME);
		expectEqual(
			items.length,
			input.num_outputs,
			`items out of ${NODE_NAME} (one per output image)`,
		);
		const ids = new Set();
		items.forEach((item, index) => {
			expectEqual(item.json.status, 'succeeded', `item ${index} prediction status`);
			ids.add(item.json.id);
			expectEqual(item.json.output_index, index, `item ${index} output_index`);
			const binary = item.binary?.data;
			expect(binary, `item ${index} has no binary "data"`);
			expectEqual(
				[binary.mimeType, binary.fileExtension],
				['image/png', 'png'],
				`item ${index} binary type`,
			);
			expect(
				/\.png$/.test(binary.fileName ?? ''),
				`item ${index} binary fileName ${binary.fileName}`,
			);
		});
		expectEqual(ids.size, 1, 'distinct prediction ids on the items');
		expectEqual(mainItems(run, 'Write Result').length, items.length, 'items out of Write Result');
		const first = items[0].binary.data;
		const storage = first.id
			? `stored in n8n's binary data storage (${first.id.split(':')[0]})`
			: 'held in memory (default mode)';
		note(
			`status success, ${items.length} output item(s), binary ${storage}, prediction ${[...ids][0]}`,
		);
	},

	/** The files Write Result wrote under out/ are real PNGs of the requested size, one per output, the server's bytes. */
	async 'example-files'(dir) {
		const ctx = context(dir);
		const { run } = execution(dir, 'example');
		const { input } = expectedInput(ctx);
		const out = path.join(ctx.runs.example, 'out');
		const written = fs
			.readdirSync(out)
			.filter((name) => name !== 'input')
			.sort();
		const items = mainItems(run, NODE_NAME);
		const expected = items.map((item) => item.binary?.data?.fileName).sort();
		expectEqual(written, expected, `files written to ${out} (one per output item)`);
		expectEqual(written.length, input.num_outputs, `number of files written (num_outputs)`);
		for (const item of items) {
			const name = item.binary.data.fileName;
			const url = item.json.output_url;
			expect(
				typeof url === 'string' && url.startsWith(ctx.server.outputOrigin),
				`${name}: output_url ${url} is not on the output origin`,
			);
			const image = await expectWrittenOutput(path.join(out, name), url);
			expectEqual([image.width, image.height], [input.width, input.height], `${name} size`);
		}
		note(
			`${written.join(', ')}: PNG ${input.width}×${input.height}, same bytes as the model's output`,
		);
	},

	/** The server got exactly one create with the expected body; the token went to the API origin only. */
	'example-requests'(dir) {
		const ctx = context(dir);
		const { requests, stats, predictions } = readJson(path.join(dir, 'server-example.json'));
		const prefix = new URL(ctx.server.apiUrl).pathname;
		const creates = requests.filter(
			(r) => r.origin === 'api' && r.method === 'POST' && r.path === `${prefix}/predictions`,
		);
		expectEqual(creates.length, 1, 'POST /predictions requests');
		expectEqual(stats.creates, 1, 'predictions the server created');
		const expected = expectedInput(ctx);
		const body = creates[0].json;
		expectEqual(Object.keys(body ?? {}).sort(), ['input', 'version'], 'create body fields');
		expectEqual(body.version, expected.version, 'create body version');
		expectEqual(
			Object.keys(body.input).sort(),
			Object.keys(expected.input).sort(),
			'create input fields',
		);
		for (const field of Object.keys(expected.input)) {
			const shown = (v) =>
				typeof v === 'string' && v.length > 80 ? `${v.slice(0, 40)}…(${v.length} chars)` : v;
			expect(
				JSON.stringify(body.input[field]) === JSON.stringify(expected.input[field]),
				`create input.${field}: expected ${JSON.stringify(shown(expected.input[field]))}, got ${JSON.stringify(shown(body.input[field]))}`,
			);
		}
		const bearer = `Bearer ${ctx.token}`;
		const api = requests.filter((r) => r.origin === 'api');
		const output = requests.filter((r) => r.origin === 'output');
		for (const r of api)
			expectEqual(r.headers.authorization, bearer, `Authorization of ${r.method} ${r.path}`);
		expect(
			output.length >= expected.input.num_outputs,
			`only ${output.length} request(s) to the output origin`,
		);
		for (const r of output) {
			expect(
				r.headers.authorization === undefined,
				`${r.method} ${r.path} on the output origin carried Authorization: ${r.headers.authorization}`,
			);
			expect(
				!JSON.stringify(r.headers).includes(ctx.token),
				`${r.method} ${r.path} on the output origin carried the token in a header`,
			);
		}
		expectEqual(
			stats.tokenToNonApiOrigin,
			0,
			"server's count of requests with the token on the output origin",
		);
		expect(
			!JSON.stringify(requests.map((r) => r.json ?? null)).includes(ctx.token),
			'the token appears in a request body',
		);
		const prediction = predictions.find(
			(p) => p.id === mainItems(execution(dir, 'example').run, NODE_NAME)[0]?.json.id,
		);
		expect(prediction, 'the prediction on the items is not one the server made');
		const routes = Object.entries(stats.byRoute)
			.map(([route, n]) => `${n}× ${route}`)
			.join(', ');
		note(
			`one create (${creates[0].bodyBytes}-byte body, image and mask as data URIs); ${routes}; Authorization only on the ${api.length} API request(s)`,
		);
	},

	/** Inside n8n's process, the package's bare imports resolve to n8n's own copies (zod is no runtime dependency). */
	resolution(dir) {
		const ctx = context(dir);
		const logFile = path.join(dir, 'resolve.jsonl');
		expect(
			fs.existsSync(logFile),
			`no resolutions were traced (${logFile} missing): the node never loaded?`,
		);
		const entries = fs
			.readFileSync(logFile, 'utf8')
			.trim()
			.split('\n')
			.map((line) => JSON.parse(line));
		const failed = entries.filter((e) => e.error);
		expect(
			failed.length === 0,
			`modules the package could not resolve inside n8n:\n      ${failed.map((e) => `require('${e.request}') from ${e.from}: ${e.error}`).join('\n      ')}`,
		);
		const n8nModules = path.join(ctx.n8nDir, 'node_modules');
		const n8nPackage = path.join(n8nModules, 'n8n');
		const requested = [...new Set(entries.map((e) => e.request))].sort();
		for (const name of ['n8n-workflow', 'zod']) {
			expect(
				requested.includes(name),
				`the package never required '${name}' (required: ${requested.join(', ')})`,
			);
		}
		const seen = [];
		for (const request of requested) {
			const targets = [
				...new Set(entries.filter((e) => e.request === request).map((e) => e.resolved)),
			];
			for (const target of targets) {
				expect(
					isUnder(target, n8nModules),
					`'${request}' resolved to ${target}, outside n8n's own node_modules ${n8nModules}`,
				);
			}
			// The very copy n8n itself uses (its own require from the n8n package), not merely one under it.
			const own = require.resolve(request, { paths: [n8nPackage] });
			expectEqual(
				targets,
				[own],
				`'${request}' as the package resolves it vs. as n8n itself resolves it`,
			);
			const marker = `${path.sep}node_modules${path.sep}${request}${path.sep}`;
			const pkgRoot = own.slice(0, own.lastIndexOf(marker) + marker.length - 1);
			const version = readJson(path.join(pkgRoot, 'package.json')).version;
			const declared = readJson(path.join(n8nPackage, 'package.json')).dependencies?.[request];
			seen.push(
				`${request} ${version} from ${path.relative(ctx.n8nDir, pkgRoot)}${declared ? ` (n8n depends on ${request} ${declared})` : ' (not a direct dependency of n8n!)'}`,
			);
		}
		note(seen.join('; '));
	},

	/** A wrong token ends the run in error with the node's message, before anything is created or written. */
	'wrong-token'(dir) {
		const ctx = context(dir);
		const { run, rc } = execution(dir, 'wrong');
		const result = run.data.resultData;
		expectEqual(rc, 1, 'exit code of n8n execute');
		expectEqual(run.status, 'error', 'execution status');
		expectEqual(result.error?.message, WRONG_TOKEN_MESSAGE, 'execution error message');
		expectEqual(result.lastNodeExecuted, NODE_NAME, 'last node executed');
		const nodeRun = result.runData[NODE_NAME]?.[0];
		expectEqual(nodeRun?.error?.message, WRONG_TOKEN_MESSAGE, `${NODE_NAME} error message`);
		expect(!result.runData['Write Result'], 'Write Result ran after the failure');
		const written = fs
			.readdirSync(path.join(ctx.runs.wrong, 'out'))
			.filter((name) => name !== 'input');
		expectEqual(written, [], 'files written by the failed run');
		const { requests, stats } = readJson(path.join(dir, 'server-wrong.json'));
		const seen = requests.map(
			(r) => `${r.origin} ${r.method} ${r.path} ${r.headers.authorization ?? '(no authorization)'}`,
		);
		const prefix = new URL(ctx.server.apiUrl).pathname;
		expectEqual(
			seen,
			[`api POST ${prefix}/predictions Bearer ${ctx.wrongToken}`],
			'requests the server saw (one create, not retried)',
		);
		expectEqual(stats.creates, 0, 'predictions created');
		note(
			`status error: "${result.error.message}"; ${requests.length} request, nothing created or written`,
		);
	},
};

runCheckScript('check-run.js', { prepare, snapshot }, checks);
