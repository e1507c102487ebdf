'use strict';
/**
 * n8n's verification scanner (@n8n/scan-community-package), run locally: one "leg" is its
 * exported analyzePackage(dir, patterns) on one folder, exactly as the real scan runs it on the
 * provenance-attested source checkout and on the published tarball.
 *
 * The scanner lives in tools/scanner/, pinned by its own package-lock.json, and is installed
 * from there with `npm ci --ignore-scripts`: its tree pulls n8n-workflow 2.41 → isolated-vm 7,
 * whose native build needs Node >= 24 (and eslint-plugin-n8n-nodes-base's preinstall demands
 * pnpm); the lint needs neither script. It is kept out of the package's own devDependencies
 * because its eslint/TypeScript versions differ from node-cli 0.34's.
 *
 * CLI (used by the tests): node scripts/scanner.js <source|tarball> <dir>
 */
const { execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { pathToFileURL } = require('node:url');

const root = path.resolve(__dirname, '..');
const toolsDir = path.join(root, 'tools', 'scanner');
const SCANNER = '@n8n/scan-community-package';

/** The tarball leg's patterns: inline in the scanner's analyzePackageByName, not exported. */
const TARBALL_PATTERNS = ['**/*.js', 'package.json'];

function lockDigest() {
	const hash = crypto.createHash('sha256');
	for (const name of ['package.json', 'package-lock.json'])
		hash.update(fs.readFileSync(path.join(toolsDir, name)));
	return hash.digest('hex');
}

/** Installs tools/scanner from its lockfile unless node_modules already matches it. */
function ensureScanner(log = console.log) {
	const stamp = path.join(toolsDir, 'node_modules', '.installed-from-lock');
	const digest = lockDigest();
	if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === digest) return;
	log('installing the scanner: npm ci --ignore-scripts in tools/scanner');
	// npm run passes its own npm_config_* down; the tools folder is a project of its own.
	const env = Object.fromEntries(
		Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)),
	);
	execFileSync('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], {
		cwd: toolsDir,
		env,
		stdio: ['ignore', 'inherit', 'inherit'],
	});
	fs.writeFileSync(stamp, digest);
}

function installedVersion(name) {
	return JSON.parse(
		fs.readFileSync(path.join(toolsDir, 'node_modules', name, 'package.json'), 'utf8'),
	).version;
}

/** "scanner 0.32.0 (@n8n/eslint-plugin-community-nodes 0.29.0, eslint-plugin-n8n-nodes-base 1.16.7)" */
function scannerLabel() {
	return `${SCANNER} ${installedVersion(SCANNER)} (@n8n/eslint-plugin-community-nodes ${installedVersion(
		'@n8n/eslint-plugin-community-nodes',
	)}, eslint-plugin-n8n-nodes-base ${installedVersion('eslint-plugin-n8n-nodes-base')})`;
}

let loaded;
async function loadScanner() {
	if (!loaded) {
		// The scanner makes a temp folder as it is imported (for downloads it never does here) and
		// leaves it behind: give it one that is removed when this process ends.
		const holder = fs.mkdtempSync(path.join(os.tmpdir(), 'n8n-scanner-'));
		process.on('exit', () => fs.rmSync(holder, { recursive: true, force: true }));
		// eslint-plugin-n8n-nodes-base reads NODE_ENV=test (set by jest) as its own test run and then
		// takes every file for a node named Test.node.ts; n8n's scan runs without it. The plugin is
		// loaded on the first analyzePackage, so this process keeps it unset.
		delete process.env.NODE_ENV;
		const before = process.env.TMPDIR;
		process.env.TMPDIR = holder;
		try {
			const entry = path.join(toolsDir, 'node_modules', SCANNER, 'scanner', 'scanner.mjs');
			loaded = await import(pathToFileURL(entry).href);
		} finally {
			if (before === undefined) delete process.env.TMPDIR;
			else process.env.TMPDIR = before;
		}
	}
	return loaded;
}

/** Parses ESLint's stylish text (what analyzePackage returns) into one entry per problem. */
function parseStylish(text, dir) {
	const problems = [];
	let file;
	for (const line of text.replace(/\u001b\[[0-9;]*m/g, '').split('\n')) {
		if (/^\S/.test(line) && !line.startsWith('✖')) {
			file = path.relative(dir, line.trim()) || line.trim();
			continue;
		}
		const match = /^\s+(\d+):(\d+)\s+(error|warning)\s+(.*?)(?:\s{2,}(\S+))?\s*$/.exec(line);
		if (match && file) {
			problems.push({
				file,
				line: Number(match[1]),
				column: Number(match[2]),
				severity: match[3],
				message: match[4],
				rule: match[5] ?? '(no rule: parse error)',
			});
		}
	}
	return problems;
}

/**
 * One leg: analyzePackage(dir, patterns). Returns the scanner's own result, the number of files
 * its glob matched (a leg that matched nothing "passes" in the scanner; here it fails) and the
 * problems as {file, line, column, rule, message}.
 */
async function runLeg(leg, dir) {
	const scanner = await loadScanner();
	const patterns = leg === 'source' ? scanner.SOURCE_FILE_PATTERNS : TARBALL_PATTERNS;
	const glob = require(
		require.resolve('fast-glob', { paths: [path.join(toolsDir, 'node_modules', SCANNER)] }),
	);
	const files = glob.sync(patterns, {
		cwd: dir,
		ignore: ['node_modules/**', '**/package-lock.json'],
	});
	const result = await scanner.analyzePackage(dir, patterns);
	const problems = result.details ? parseStylish(result.details, dir) : [];
	const passed = result.passed === true && files.length > 0;
	return { leg, dir, patterns, files: files.length, result, problems, passed };
}

/** Prints a leg's outcome: the scanner's result, then one line per problem (file:line:col rule). */
function reportLeg(outcome, log = console.log) {
	const { leg, patterns, files, result, problems, passed } = outcome;
	log(
		`scanner ${leg} leg: analyzePackage(<${leg}>, ${JSON.stringify(patterns)}) on ${files} files`,
	);
	const shown = { passed: result.passed, ...(result.message ? { message: result.message } : {}) };
	log(`  → ${JSON.stringify(shown)}`);
	if (result.details) log(result.details.replace(/^/gm, '  '));
	for (const p of problems)
		log(`  ${leg} ${p.severity}: ${p.file}:${p.line}:${p.column} ${p.rule}`);
	if (files === 0) log(`  no file matched ${JSON.stringify(patterns)}: nothing was checked`);
	log(`scanner ${leg} leg: ${passed ? 'PASS' : 'FAIL'}`);
}

module.exports = {
	ensureScanner,
	scannerLabel,
	runLeg,
	reportLeg,
	parseStylish,
	toolsDir,
	SCANNER,
};

if (require.main === module) {
	const [leg, dir] = process.argv.slice(2);
	if (!['source', 'tarball'].includes(leg) || !dir) {
		console.error('usage: node scripts/scanner.js <source|tarball> <dir>');
		process.exit(2);
	}
	ensureScanner();
	runLeg(leg, path.resolve(dir)).then((outcome) => {
		reportLeg(outcome);
		process.exitCode = outcome.passed ? 0 : 1;
	});
}
