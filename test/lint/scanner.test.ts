/**
 * The scanner legs of npm run lint (scripts/scanner.js) run n8n's real verification scanner,
 * pinned in tools/scanner (installed from its lockfile on first use), on folders made here: they
 * must fail on what n8n's scan fails, name file, line and rule, and pass what it passes.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

interface Problem {
	file: string;
	line: number;
	column: number;
	severity: string;
	message: string;
	rule: string;
}
// scripts/scanner.js is a plain CommonJS script without types.
const { parseStylish } = require('../../scripts/scanner') as {
	parseStylish: (text: string, dir: string) => Problem[];
};

const root = join(__dirname, '..', '..');
// Installing the scanner (first run on a fresh clone) takes a while on a busy machine.
jest.setTimeout(240_000);

let work: string;
beforeAll(() => {
	work = mkdtempSync(join(tmpdir(), 'scanner-test-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function folder(name: string, files: Record<string, string>, copy: string[] = []): string {
	const dir = join(work, name);
	for (const entry of copy) cpSync(join(root, entry), join(dir, entry), { recursive: true });
	for (const [file, text] of Object.entries(files)) {
		mkdirSync(dirname(join(dir, file)), { recursive: true });
		writeFileSync(join(dir, file), text);
	}
	return dir;
}

const scan = (leg: 'source' | 'tarball', dir: string) =>
	spawnSync(process.execPath, [join(root, 'scripts', 'scanner.js'), leg, dir], {
		cwd: root,
		encoding: 'utf8',
	});

const problemLines = (stdout: string, leg: string) =>
	stdout
		.split('\n')
		.filter((line) => line.startsWith(`  ${leg} error: `))
		.map((line) => line.trim());

// The constant the trigger used to have (and n8n's scan failed on), and its fixed name.
const probeTs = [
	"export const SIGNING_SECRET_PATH = '/webhooks/default/secret';",
	"export const SIGNING_ENDPOINT = '/webhooks/default/secret';",
	'',
].join('\n');

it('source leg: the package plus the old constant fails on exactly that line, with the rule', () => {
	const dir = folder('source', { 'nodes/Probe/probe.ts': probeTs }, [
		'package.json',
		'nodes',
		'credentials',
		'icons',
	]);
	const result = scan('source', dir);
	expect(problemLines(result.stdout, 'source')).toEqual([
		'source error: nodes/Probe/probe.ts:1:36 @n8n/community-nodes/no-hardcoded-secrets',
	]);
	expect(result.stdout).toContain('scanner source leg: FAIL');
	expect(result.status).toBe(1);
});

it('source leg: the package as it is passes', () => {
	const dir = folder('source-clean', {}, ['package.json', 'nodes', 'credentials', 'icons']);
	const result = scan('source', dir);
	expect(result.stdout).toMatch(
		/on \d+ files\n {2}→ \{"passed":true\}\nscanner source leg: PASS\n$/,
	);
	expect(result.status).toBe(0);
});

it('tarball leg: compiled code fails the same way, and .ts files are not its business', () => {
	const probeJs = [
		"'use strict';",
		"exports.SIGNING_SECRET_PATH = '/webhooks/default/secret';",
		"exports.SIGNING_ENDPOINT = '/webhooks/default/secret';",
		'',
	].join('\n');
	const dir = folder(
		'tarball',
		{ 'dist/nodes/Probe/probe.js': probeJs, 'dist/nodes/Probe/probe.ts': probeTs },
		['package.json'],
	);
	const result = scan('tarball', dir);
	expect(problemLines(result.stdout, 'tarball')).toEqual([
		'tarball error: dist/nodes/Probe/probe.js:2:31 @n8n/community-nodes/no-hardcoded-secrets',
	]);
	expect(result.stdout).toContain('on 2 files');
	expect(result.status).toBe(1);
});

it('a leg that finds no file to check fails (the scanner itself would pass it)', () => {
	const result = scan('tarball', folder('empty', { 'README.md': 'nothing to lint\n' }));
	expect(result.stdout).toContain('{"passed":true,"message":"No files found to analyze"}');
	expect(result.stdout).toContain('scanner tarball leg: FAIL');
	expect(result.status).toBe(1);
});

it("parseStylish turns ESLint's stylish text into file, line, column and rule", () => {
	const text = [
		'',
		'/tmp/x/nodes/A/a.ts',
		'  14:36  error  Possible hardcoded secret assigned to `X`. Store secrets elsewhere  @n8n/community-nodes/no-hardcoded-secrets',
		"   3:2   error  Use of restricted global 'setTimeout' is not allowed                 @n8n/community-nodes/no-restricted-globals",
		'',
		'/tmp/x/package.json',
		'  1:1  error  Parsing error: Unexpected token',
		'',
		'✖ 3 problems (3 errors, 0 warnings)',
	].join('\n');
	expect(
		parseStylish(text, '/tmp/x').map((p) => `${p.file}:${p.line}:${p.column} ${p.rule}`),
	).toEqual([
		'nodes/A/a.ts:14:36 @n8n/community-nodes/no-hardcoded-secrets',
		'nodes/A/a.ts:3:2 @n8n/community-nodes/no-restricted-globals',
		'package.json:1:1 (no rule: parse error)',
	]);
});
