#!/usr/bin/env node
'use strict';
/**
 * npm run lint: four checks over the package's code, all run even when one fails, then one
 * PASS/FAIL line per check.
 *
 * 1. n8n-node lint (@n8n/node-cli 0.34, strict: eslint.config.mjs is exactly n8n's template) on
 *    package.json, nodes/, credentials/ and icons/. Runs in a staging copy because `n8n-node lint`
 *    runs `eslint .`, and its rules (no node:fs, no process, no timers) are written for code that
 *    runs inside n8n; they would also fail the test server and harness, which must open sockets
 *    and files. Inline eslint directives are refused (n8n's scanner ignores them).
 * 2. n8n's verification scanner, source leg: analyzePackage on the git tree (tracked files plus
 *    new, not ignored ones), the local stand-in for the commit its provenance points at.
 * 3. The scanner's tarball leg: a fresh build, `npm pack`, analyzePackage on the unpacked tarball.
 * 4. Formatting: prettier with n8n-nodes-starter's settings (.prettierrc.js, print width 100) on
 *    every code file of the repo (`npm run format` fixes it).
 *
 * Not checked here: the scanner's provenance step (it needs a version published from GitHub
 * Actions with npm provenance; see the README's Release section).
 */
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { ensureScanner, reportLeg, runLeg, scannerLabel, SCANNER } = require('./scanner');

const root = path.resolve(__dirname, '..');
const nodeCliVersion = require(
	path.join(root, 'node_modules', '@n8n', 'node-cli', 'package.json'),
).version;

function run(command, args, options = {}) {
	return execFileSync(command, args, {
		cwd: root,
		encoding: 'utf8',
		stdio: ['ignore', 'pipe', 'pipe'],
		...options,
	});
}

/** Runs fn; a thrown error is printed and counts as a failed check. */
async function check(name, fn) {
	console.log(`\n== ${name}`);
	try {
		const passed = await fn();
		return { name, passed };
	} catch (error) {
		console.log(
			String(error.stdout ?? '') + String(error.stderr ?? '') || error.stack || String(error),
		);
		return { name, passed: false };
	}
}

function nodeCliLint() {
	const stage = path.join(root, '.lint-stage');
	fs.rmSync(stage, { recursive: true, force: true });
	fs.mkdirSync(stage);
	try {
		for (const entry of [
			'package.json',
			'eslint.config.mjs',
			'tsconfig.json',
			'nodes',
			'credentials',
			'icons',
		]) {
			fs.cpSync(path.join(root, entry), path.join(stage, entry), { recursive: true });
		}
		const directives = [];
		const walk = (dir) => {
			for (const name of fs.readdirSync(dir)) {
				const file = path.join(dir, name);
				if (fs.statSync(file).isDirectory()) walk(file);
				else if (/\.(ts|js|json)$/.test(name)) {
					fs.readFileSync(file, 'utf8')
						.split('\n')
						.forEach((line, index) => {
							if (/eslint-disable|eslint-enable|eslint\s+[a-z@-]+\/?/.test(line)) {
								directives.push(
									`${path.relative(stage, file)}:${index + 1} inline eslint directive`,
								);
							}
						});
				}
			}
		};
		walk(path.join(stage, 'nodes'));
		walk(path.join(stage, 'credentials'));
		if (directives.length > 0) {
			console.log(
				`Inline ESLint directives are not allowed (n8n's scanner ignores them):\n  ${directives.join('\n  ')}`,
			);
			return false;
		}
		try {
			execFileSync(path.join(root, 'node_modules', '.bin', 'n8n-node'), ['lint'], {
				cwd: stage,
				stdio: 'inherit',
			});
			return true;
		} catch {
			return false;
		}
	} finally {
		fs.rmSync(stage, { recursive: true, force: true });
	}
}

/** The files a commit of this tree would hold, copied to dir (falls back to the tree itself). */
function stageGitTree(dir) {
	let listed;
	try {
		listed = run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard']);
	} catch {
		console.log('not a git checkout: the source leg scans the working folder as it is');
		return root;
	}
	for (const file of listed.split('\0').filter(Boolean)) {
		const from = path.join(root, file);
		if (!fs.existsSync(from) || fs.statSync(from).isDirectory()) continue; // deleted, or a submodule
		fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
		fs.copyFileSync(from, path.join(dir, file));
	}
	return dir;
}

/** Builds dist/, packs the package as npm publish would and unpacks it into dir. */
function packTarball(work, dir) {
	run('npm', ['run', 'build']);
	const [packed] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work]));
	fs.mkdirSync(dir);
	run('tar', ['-xzf', path.join(work, packed.filename), '-C', dir, '--strip-components=1']);
	console.log(`packed ${packed.filename}: ${packed.entryCount} files, ${packed.size} bytes`);
	return dir;
}

/** A note, never a failure: n8n's scan always runs the newest scanner, this lint the pinned one. */
function newestScannerNote() {
	try {
		const pinned = require(path.join(root, 'tools', 'scanner', 'package.json')).dependencies[
			SCANNER
		];
		const newest = run('npm', ['view', SCANNER, 'version'], { timeout: 20_000 }).trim();
		if (newest && newest !== pinned) {
			console.log(
				`NOTE: ${SCANNER} ${newest} is on the registry, this lint pins ${pinned}: bump it (README, Lint).`,
			);
		}
	} catch {
		// Offline: the pinned scanner still runs.
	}
}

async function main() {
	const results = [];
	results.push(
		await check(
			`1/4 n8n-node lint (@n8n/node-cli ${nodeCliVersion}, strict) on package.json, nodes/, credentials/`,
			nodeCliLint,
		),
	);

	const work = fs.mkdtempSync(path.join(os.tmpdir(), 'lint-package-'));
	try {
		let label = SCANNER;
		const installed = await check(
			`installing ${SCANNER} (tools/scanner, pinned by its package-lock.json)`,
			() => {
				ensureScanner();
				label = scannerLabel();
				console.log(label);
				newestScannerNote();
				return true;
			},
		);
		if (!installed.passed) results.push(installed);
		for (const leg of ['source', 'tarball']) {
			const number = leg === 'source' ? '2/4' : '3/4';
			const what =
				leg === 'source'
					? 'the git tree of this checkout'
					: 'the npm pack tarball of a fresh build';
			const name = `${number} ${label}, ${leg} leg: ${what}`;
			if (!installed.passed) {
				results.push({ name, passed: false });
				continue;
			}
			results.push(
				await check(name, async () => {
					const dir =
						leg === 'source'
							? stageGitTree(path.join(work, 'source'))
							: packTarball(work, path.join(work, 'tarball'));
					const outcome = await runLeg(leg, dir);
					reportLeg(outcome);
					return outcome.passed;
				}),
			);
		}
	} finally {
		fs.rmSync(work, { recursive: true, force: true });
	}
	results.push(
		await check("4/4 formatting: prettier --check . (n8n-nodes-starter's .prettierrc.js)", () => {
			execFileSync(path.join(root, 'node_modules', '.bin', 'prettier'), ['--check', '.'], {
				cwd: root,
				stdio: 'inherit',
			});
			return true;
		}),
	);

	console.log('\nlint:');
	for (const { name, passed } of results) console.log(`  ${passed ? 'PASS' : 'FAIL'}  ${name}`);
	const failed = results.filter((r) => !r.passed).length;
	console.log(`lint: ${results.length - failed} of ${results.length} checks passed`);
	process.exitCode = failed === 0 ? 0 : 1;
}

main();
