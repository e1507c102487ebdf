#!/usr/bin/env node
'use strict';
/*
 * Fixtures and the check of the model workflows (issue 20) for lib/models.sh, per n8n version
 * folder <dir> (its server.json names the test server); everything goes to <dir>/models:
 *
 *   node check-models.js prepare <dir>           credential, one workflow per model (workflow.js),
 *                                                the input files; prints "<workflow id>\t<model>"
 *                                                per model to run (E2E_MODELS: only these, by
 *                                                owner/name or name, space-separated)
 *   node check-models.js model <dir> <owner/name> the check of one model's run: exit 0 = passed
 *
 * The run of a model is <dir>/models/<name>.json (+ .rc), n8n's cwd <dir>/models/run, the test
 * server's records of it <dir>/server-model-<name>.json (check-run.js snapshot).
 */
const fs = require('node:fs');
const path = require('node:path');

const { builtinCreateBody } = require('../lib/builtin-model');
const {
	credential,
	expect,
	expectEqual,
	note,
	readJson,
	ROOT,
	runCheckScript,
	writeJson,
} = require('../lib/checks');
const { execution, expectEveryNodeRanOnce, mainItems } = require('../lib/executions');
const { expectWrittenOutput } = require('../lib/written-output');
const { INPUT_FILES, MODELS, slugOf } = require('./specs');
const { CREDENTIAL, modelWorkflow, NODE_NAME, WRITE_NODE_NAME } = require('./workflow');

const INPUT_SIZE = 256;
const png = () => require(path.join(ROOT, '.build/tools/fake-replicate/png.js'));

const folders = (dir) => {
	const models = path.join(dir, 'models');
	const run = path.join(models, 'run');
	return { models, run, input: path.join(run, 'input'), out: path.join(run, 'out') };
};
/** Workflow ids stay put whichever models run (at most 21 characters for n8n). */
const workflowId = (spec) => `e2eModel${MODELS.indexOf(spec) + 1}`;
const specOf = (model) => {
	const spec = MODELS.find((s) => s.model === model);
	if (!spec) throw new Error(`no model ${model} in models/specs.js`);
	return spec;
};

function selectedModels() {
	const wanted = (process.env.E2E_MODELS ?? '').split(/\s+/).filter(Boolean);
	if (wanted.length === 0) return MODELS;
	const selected = MODELS.filter(
		(s) => wanted.includes(s.model) || wanted.includes(slugOf(s.model)),
	);
	const unknown = wanted.filter(
		(w) => !selected.some((s) => s.model === w || slugOf(s.model) === w),
	);
	if (unknown.length > 0) throw new Error(`E2E_MODELS names unknown models: ${unknown.join(', ')}`);
	return selected;
}

// ---- fixtures -------------------------------------------------------------------------------

function inputFiles() {
	const { encodePng, makeSampleImage } = png();
	const encode = (image) => encodePng(image, { level: 6 });
	const mask = makeSampleImage(INPUT_SIZE, INPUT_SIZE, 'mask');
	return {
		[INPUT_FILES.photo]: encode(makeSampleImage(INPUT_SIZE, INPUT_SIZE, 'image')),
		// Another size, so the two images of an array input can be told apart in what is sent.
		[INPUT_FILES.otherPhoto]: encode(makeSampleImage(320, 240, 'image')),
		[INPUT_FILES.mask]: encode(mask),
		[INPUT_FILES.inverseMask]: encode({ ...mask, data: mask.data.map((v) => 255 - v) }),
	};
}

function prepare(dir) {
	const f = folders(dir);
	const server = readJson(path.join(dir, 'server.json'));
	const selected = selectedModels();
	fs.mkdirSync(f.input, { recursive: true });
	for (const [name, bytes] of Object.entries(inputFiles()))
		fs.writeFileSync(path.join(f.input, name), bytes);
	for (const spec of selected)
		fs.mkdirSync(path.join(f.out, slugOf(spec.model)), { recursive: true });
	writeJson(path.join(f.models, 'credentials.json'), [
		credential(CREDENTIAL.id, CREDENTIAL.name, server),
	]);
	writeJson(
		path.join(f.models, 'workflows.json'),
		selected.map((spec) => modelWorkflow(spec, workflowId(spec))),
	);
	for (const spec of selected) console.log(`${workflowId(spec)}\t${spec.model}`);
}

// ---- what the server received ---------------------------------------------------------------

/** The bytes a received file input stands for: a data URI's, or what its URL serves. */
async function bytesOf(value, server) {
	if (typeof value !== 'string') return undefined;
	const dataUri = /^data:[^,]*?(;base64)?,(.*)$/s.exec(value);
	if (dataUri)
		return dataUri[1]
			? Buffer.from(dataUri[2], 'base64')
			: Buffer.from(decodeURIComponent(dataUri[2]));
	if (!/^https?:\/\//.test(value)) return undefined;
	const onApi = value.startsWith(server.apiUrl);
	const response = await fetch(value, {
		headers: onApi ? { authorization: `Bearer ${server.token}` } : {},
	});
	expect(response.ok, `GET ${value} (a file input as sent): HTTP ${response.status}`);
	return Buffer.from(await response.arrayBuffer());
}

/** `version` of the create: the built-in's own; an official model by name; any other by its latest version. */
async function expectedVersion(spec, server) {
	const response = await fetch(`${server.apiUrl}/models/${spec.model}`, {
		headers: { authorization: `Bearer ${server.token}` },
	});
	expect(response.ok, `GET /models/${spec.model} on the test server: HTTP ${response.status}`);
	const model = await response.json();
	return model.is_official ? spec.model : `${spec.model}:${model.latest_version?.id}`;
}

/** Each input as the workflow set it, a binary field's name replaced by that file's bytes. */
function expectedModelInput(spec, inputFolder) {
	const fileOf = (name) =>
		name in spec.binaries
			? fs.readFileSync(path.join(inputFolder, spec.binaries[name]))
			: undefined;
	return Object.fromEntries(
		Object.entries(spec.modelInputs).map(([field, value]) => {
			const files = Array.isArray(value) ? value.map(fileOf) : fileOf(value);
			const isFile = Array.isArray(files) ? files.every(Boolean) : Boolean(files);
			return [field, isFile ? { files, names: value } : { value }];
		}),
	);
}

const shown = (v) =>
	typeof v === 'string' && v.length > 80 ? `${v.slice(0, 40)}…(${v.length} chars)` : v;

/** The one create's body against what the workflow set: every field, nothing more. */
async function expectCreateBody(spec, body, server, inputFolder) {
	expectEqual(Object.keys(body ?? {}).sort(), ['input', 'version'], 'create body fields');
	if (spec.parameters) {
		const dataUriOf = (property) =>
			`data:image/png;base64,${fs.readFileSync(path.join(inputFolder, spec.binaries[property])).toString('base64')}`;
		const expected = builtinCreateBody(spec.parameters, dataUriOf);
		expectEqual(body.version, expected.version, 'create body version');
		expectEqual(Object.keys(body.input).sort(), Object.keys(expected.input).sort(), 'input fields');
		for (const [field, value] of Object.entries(expected.input))
			expect(
				JSON.stringify(body.input[field]) === JSON.stringify(value),
				`input.${field}: expected ${JSON.stringify(shown(value))}, got ${JSON.stringify(shown(body.input[field]))}`,
			);
		return;
	}
	expectEqual(body.version, await expectedVersion(spec, server), 'create body version');
	const expected = expectedModelInput(spec, inputFolder);
	expectEqual(Object.keys(body.input).sort(), Object.keys(expected).sort(), 'input fields');
	for (const [field, want] of Object.entries(expected)) {
		const got = body.input[field];
		if ('value' in want) {
			expectEqual(got, want.value, `input.${field}`);
			continue;
		}
		const wanted = [want.files].flat();
		const sent = Array.isArray(want.files) ? got : [got];
		expect(
			Array.isArray(sent) && sent.length === wanted.length,
			`input.${field}: expected ${wanted.length} file(s) (binary ${JSON.stringify(want.names)}), got ${JSON.stringify(shown(got))}`,
		);
		for (const [index, file] of wanted.entries()) {
			const bytes = await bytesOf(sent[index], server);
			expect(
				bytes?.equals(file),
				`input.${field}${Array.isArray(want.files) ? `[${index}]` : ''}: not the bytes of binary "${[want.names].flat()[index]}" (${file.length} bytes); got ${JSON.stringify(shown(sent[index]))}${bytes ? ` (${bytes.length} bytes)` : ''}`,
			);
		}
	}
}

// ---- the check ------------------------------------------------------------------------------

/** One model's run: success, the model's prediction, the exact input sent, its images written. */
async function model(dir, modelName) {
	const spec = specOf(modelName);
	const slug = slugOf(spec.model);
	const f = folders(dir);
	const server = readJson(path.join(dir, 'server.json'));

	const { run, rc } = execution(f.models, slug);
	const result = run.data.resultData;
	expect(
		!result.error,
		`the execution failed: ${result.error?.message}${result.error?.description ? ` (${result.error.description})` : ''} (node ${result.error?.node?.name ?? '?'})`,
	);
	expectEqual([rc, run.status], [0, 'success'], 'exit code and status of n8n execute');
	expectEveryNodeRanOnce(result, modelWorkflow(spec, workflowId(spec)));

	const items = mainItems(run, NODE_NAME);
	expectEqual(items.length, spec.outputs, `items out of ${NODE_NAME} (one per output image)`);
	for (const [index, item] of items.entries()) {
		expectEqual(item.json.status, 'succeeded', `item ${index} prediction status`);
		expectEqual(item.json.model, spec.model, `item ${index} prediction's model`);
		expect(item.binary?.data, `item ${index} has no binary "data"`);
	}
	const ids = [...new Set(items.map((item) => item.json.id))];
	expectEqual(ids.length, 1, 'distinct prediction ids on the items');

	const { requests, stats, predictions } = readJson(path.join(dir, `server-model-${slug}.json`));
	const prefix = new URL(server.apiUrl).pathname;
	const creates = requests.filter(
		(r) => r.origin === 'api' && r.method === 'POST' && r.path === `${prefix}/predictions`,
	);
	expectEqual(
		[creates.length, stats.creates],
		[1, 1],
		'POST /predictions received, predictions created',
	);
	await expectCreateBody(spec, creates[0].json, server, f.input);
	const prediction = predictions.find((p) => p.id === ids[0]);
	expect(prediction, `the prediction on the items (${ids[0]}) is not one the server made`);
	expectEqual(prediction.model, spec.model, "the server's prediction's model");

	const out = path.join(f.out, slug);
	const written = fs.readdirSync(out).sort();
	const names = items.map((item) => item.binary.data.fileName).sort();
	expectEqual(written, names, `files in ${out} (one per output item)`);
	expectEqual(
		mainItems(run, WRITE_NODE_NAME).length,
		items.length,
		`items out of ${WRITE_NODE_NAME}`,
	);
	const sizes = [];
	for (const item of items) {
		const name = item.binary.data.fileName;
		const image = await expectWrittenOutput(path.join(out, name), item.json.output_url);
		sizes.push(`${name} ${image.width}×${image.height}`);
	}
	note(
		`prediction ${ids[0]} (version ${creates[0].json.version}); input ${Object.keys(creates[0].json.input).join(', ')}; wrote ${sizes.join(', ')} (PNG, the server's bytes)`,
	);
}

runCheckScript('check-models.js', { prepare }, { model });
