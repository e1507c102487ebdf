#!/usr/bin/env node
'use strict';
/**
 * Runs n8n's official community lint (`n8n-node lint`: the strict check of eslint.config.mjs,
 * then ESLint with @n8n/node-cli's config) over the package's code: package.json, nodes/,
 * credentials/ and icons/, as n8n's own verification scanner does.
 *
 * Why a staging folder: `n8n-node lint` runs `eslint .`, and its rules (no node:fs, no
 * process, no timers, no imports but a short list) are written for code that runs inside n8n.
 * They would also fail the test server and the engine harness, which must open sockets and
 * files. The config file itself stays exactly n8n's template, no rule is switched off, and
 * inline eslint-disable comments are refused (n8n's scanner ignores them too).
 */
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const stage = path.join(root, '.lint-stage');
const packaged = ['package.json', 'eslint.config.mjs', 'tsconfig.json', 'nodes', 'credentials', 'icons'];

fs.rmSync(stage, { recursive: true, force: true });
fs.mkdirSync(stage);
for (const entry of packaged) {
	fs.cpSync(path.join(root, entry), path.join(stage, entry), { recursive: true });
}

const inlineDisables = [];
const walk = (dir) => {
	for (const name of fs.readdirSync(dir)) {
		const file = path.join(dir, name);
		if (fs.statSync(file).isDirectory()) walk(file);
		else if (/\.(ts|js|json)$/.test(name) && /eslint-disable|eslint-enable|eslint\s+[a-z@-]+\/?/.test(fs.readFileSync(file, 'utf8'))) {
			inlineDisables.push(path.relative(stage, file));
		}
	}
};
walk(path.join(stage, 'nodes'));
walk(path.join(stage, 'credentials'));
if (inlineDisables.length > 0) {
	console.error(`Inline ESLint directives are not allowed (n8n's scanner ignores them): ${inlineDisables.join(', ')}`);
	process.exit(1);
}

try {
	execFileSync(path.join(root, 'node_modules', '.bin', 'n8n-node'), ['lint'], { cwd: stage, stdio: 'inherit' });
	console.log('n8n community lint: passed (package.json, nodes/, credentials/)');
} catch (error) {
	process.exitCode = typeof error.status === 'number' && error.status !== 0 ? error.status : 1;
} finally {
	fs.rmSync(stage, { recursive: true, force: true });
}
