#!/usr/bin/env node
'use strict';
/**
 * Writes test/examples/nodes-base-catalog.json: the descriptions of the n8n-nodes-base node types
 * that examples/*.workflow.json use, as the n8n versions this package targets ship them
 * (n8n-nodes-base/dist/types/nodes.json of each n8n install made by test/e2e/install-n8n.sh).
 * Only what the examples test checks is kept: type, versions, credential names, and per property
 * name, type, default, displayOptions, option values and nested properties.
 *
 *   test/e2e/install-n8n.sh && node test/examples/build-nodes-base-catalog.js
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
const cache =
	process.env.N8N_E2E_CACHE ||
	path.join(os.homedir(), '.cache', 'n8n-nodes-replicate-inpainting-e2e');
const LINES = ['2.40.7', '1.123.81'];
const PREFIX = 'n8n-nodes-base.';

function usedTypes() {
	const used = new Map();
	const dir = path.join(root, 'examples');
	for (const file of fs
		.readdirSync(dir)
		.filter((name) => name.endsWith('.workflow.json'))
		.sort()) {
		const workflow = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
		for (const node of workflow.nodes) {
			if (!node.type.startsWith(PREFIX)) continue;
			const versions = used.get(node.type) ?? new Set();
			versions.add(node.typeVersion);
			used.set(node.type, versions);
		}
	}
	return used;
}

function reduceProperty(property) {
	const reduced = { name: property.name, type: property.type };
	if (property.default !== undefined) reduced.default = property.default;
	if (property.displayOptions) reduced.displayOptions = property.displayOptions;
	if (property.typeOptions?.multipleValues) reduced.typeOptions = { multipleValues: true };
	if (Array.isArray(property.options)) {
		if (property.type === 'options' || property.type === 'multiOptions') {
			reduced.values = property.options.map((option) => option.value);
		} else if (property.type === 'fixedCollection') {
			reduced.options = property.options.map((group) => ({
				name: group.name,
				values: group.values.map(reduceProperty),
			}));
		} else {
			reduced.options = property.options.map(reduceProperty);
		}
	}
	return reduced;
}

const versionsOf = (description) =>
	Array.isArray(description.version) ? description.version : [description.version];

function catalogFor(line, used) {
	const base = path.join(cache, `n8n-${line}`, 'node_modules', 'n8n-nodes-base');
	const { version } = JSON.parse(fs.readFileSync(path.join(base, 'package.json'), 'utf8'));
	const descriptions = JSON.parse(
		fs.readFileSync(path.join(base, 'dist', 'types', 'nodes.json'), 'utf8'),
	);
	const types = {};
	for (const [type, wanted] of used) {
		const name = type.slice(PREFIX.length);
		const entries = descriptions.filter(
			(description) => description.name === name || description.name === type,
		);
		types[type] = {
			versions: entries.flatMap(versionsOf).sort((a, b) => a - b),
			// Full descriptions only for the versions the examples use.
			descriptions: entries
				.filter((description) => versionsOf(description).some((v) => wanted.has(v)))
				.map((description) => ({
					versions: versionsOf(description),
					credentials: (description.credentials ?? []).map((credential) => credential.name),
					properties: description.properties.map(reduceProperty),
				})),
		};
	}
	return { n8n: line, nodesBase: version, types };
}

const used = usedTypes();
const catalog = {
	about:
		'n8n-nodes-base descriptions of the node types used in examples/, per n8n line; written by test/examples/build-nodes-base-catalog.js from the n8n installs of test/e2e/install-n8n.sh',
	lines: LINES.map((line) => catalogFor(line, used)),
};
const target = path.join(__dirname, 'nodes-base-catalog.json');
fs.writeFileSync(target, `${JSON.stringify(catalog)}\n`);
console.log(
	`wrote ${path.relative(root, target)} (${fs.statSync(target).size} bytes): ${[...used.keys()].join(', ')} from ${catalog.lines
		.map((line) => `n8n ${line.n8n} (n8n-nodes-base ${line.nodesBase})`)
		.join(', ')}`,
);
