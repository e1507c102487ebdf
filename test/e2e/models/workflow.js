'use strict';
/*
 * The workflow of one model (specs.js), as a user builds it in the editor: Manual Trigger → one
 * Read/Write Files from Disk per input file (each into its binary field) → Merge (both binaries on
 * one item) → Replicate Inpainting, Create and Wait, on that model → Read/Write Files from Disk
 * writing every output to out/<model slug>/. Paths are relative to the cwd of `n8n execute`.
 */
const { CREDENTIAL_TYPE, NODE_TYPE } = require('../lib/checks');
const { BUILTIN_MODEL } = require('../lib/builtin-model');
const { slugOf } = require('./specs');

const NODE_NAME = 'Replicate Inpainting';
const WRITE_NODE_NAME = 'Write Outputs';
const CREDENTIAL = { id: 'replicate-models-e2e', name: 'Replicate (model workflows e2e)' };

/** The Model field's value (a resource locator) in the mode the spec picks it by. */
function modelLocator(spec) {
	const mode = spec.locator ?? (spec.model === BUILTIN_MODEL ? 'list' : 'name');
	const value = mode === 'url' ? `https://replicate.com/${spec.model}` : spec.model;
	return { __rl: true, mode, value };
}

/** The Replicate Inpainting node's parameters: the curated form, or the model's typed form. */
function replicateParameters(spec) {
	const form = spec.modelInputs
		? {
				modelInputs: {
					mappingMode: 'defineBelow',
					value: spec.modelInputs,
					matchingColumns: [],
					schema: [],
				},
			}
		: spec.parameters;
	return { operation: 'createAndWait', model: modelLocator(spec), ...form };
}

/** The input folder's files read into an item each, then merged into one item if there are two. */
function readNodes(spec, inputFolder) {
	const reads = Object.entries(spec.binaries).map(([property, file], index) => ({
		parameters: { fileSelector: `${inputFolder}/${file}`, options: { dataPropertyName: property } },
		name: `Read ${property}`,
		type: 'n8n-nodes-base.readWriteFile',
		typeVersion: 1,
		position: [220, index * 200],
	}));
	if (reads.length > 2) throw new Error(`${spec.model}: one Merge node joins at most two reads`);
	if (reads.length === 1) return { nodes: reads, last: reads[0].name };
	const merge = {
		parameters: { mode: 'combine', combineBy: 'combineByPosition', options: {} },
		name: 'Merge Inputs',
		type: 'n8n-nodes-base.merge',
		typeVersion: 3,
		position: [440, 100],
	};
	return { nodes: [...reads, merge], last: merge.name, merged: reads.map((r) => r.name) };
}

/** The workflow JSON (with `id`, for `n8n import:workflow` and `n8n execute --id`). */
function modelWorkflow(spec, id, inputFolder = 'input') {
	const reads = readNodes(spec, inputFolder);
	const nodes = [
		{
			parameters: {},
			name: 'Start',
			type: 'n8n-nodes-base.manualTrigger',
			typeVersion: 1,
			position: [0, 100],
		},
		...reads.nodes,
		{
			parameters: replicateParameters(spec),
			name: NODE_NAME,
			type: NODE_TYPE,
			typeVersion: 1,
			position: [660, 100],
			credentials: { [CREDENTIAL_TYPE]: CREDENTIAL },
		},
		{
			parameters: {
				operation: 'write',
				fileName: `=out/${slugOf(spec.model)}/{{ $binary.data.fileName }}`,
				dataPropertyName: 'data',
				options: {},
			},
			name: WRITE_NODE_NAME,
			type: 'n8n-nodes-base.readWriteFile',
			typeVersion: 1,
			position: [880, 100],
		},
	].map((node, index) => ({ id: `${id}-node-${index}`, ...node }));
	const to = (node, index = 0) => ({ main: [[{ node, type: 'main', index }]] });
	const connections = {
		Start: {
			main: [
				Object.keys(spec.binaries).map((property) => ({
					node: `Read ${property}`,
					type: 'main',
					index: 0,
				})),
			],
		},
		[reads.last]: to(NODE_NAME),
		[NODE_NAME]: to(WRITE_NODE_NAME),
	};
	(reads.merged ?? []).forEach((read, index) => (connections[read] = to(reads.last, index)));
	return {
		id,
		name: `Run ${spec.model} on files from disk`,
		active: false,
		nodes,
		connections,
		settings: { executionOrder: 'v1' },
		pinData: {},
	};
}

module.exports = { modelWorkflow, NODE_NAME, WRITE_NODE_NAME, CREDENTIAL };
