/**
 * `node .build/bench/profile.js FILE.cpuprofile [TOP]`: the top entries of a V8 CPU profile written
 * by `npm run bench -- --cpu-prof DIR`, by self time, and the self time per package or area (the
 * node's own files, n8n-core, n8n-workflow, axios, Node's internals…), so a change can be judged.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
	id: number;
	callFrame: { functionName: string; url: string; lineNumber: number };
	children?: number[];
}

interface Profile {
	nodes: ProfileNode[];
	samples: number[];
	timeDeltas: number[];
	startTime: number;
	endTime: number;
}

function area(url: string): string {
	if (!url) return '(native / V8)';
	const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
	if (pkg) return pkg;
	if (url.startsWith('node:')) return 'node internals';
	if (/\/nodes\/|\/credentials\//.test(url)) return 'this node';
	if (/\/test\/|\/bench\//.test(url)) return 'bench + harness';
	return url;
}

function main(): void {
	const [file, topArg] = process.argv.slice(2);
	if (!file) throw new Error('usage: profile.js FILE.cpuprofile [TOP]');
	const top = Number(topArg ?? 15);
	const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
	const byId = new Map(profile.nodes.map((node) => [node.id, node]));
	const selfUs = new Map<number, number>();
	profile.samples.forEach((id, index) =>
		selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)),
	);
	const total = profile.endTime - profile.startTime;
	const idle = [...selfUs]
		.filter(([id]) => byId.get(id)!.callFrame.functionName === '(idle)')
		.reduce((sum, [, us]) => sum + us, 0);
	const busy = total - idle;
	const functions = new Map<string, number>();
	const areas = new Map<string, number>();
	for (const [id, us] of selfUs) {
		const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
		if (functionName === '(idle)') continue;
		const key = `${functionName || '(anonymous)'} ${url ? `${url.replace(/^.*node_modules\//, '').replace(/^.*\/\.build\//, '')}:${lineNumber + 1}` : ''}`;
		functions.set(key, (functions.get(key) ?? 0) + us);
		areas.set(area(url), (areas.get(area(url)) ?? 0) + us);
	}
	const ms = (us: number) => (us / 1000).toFixed(1).padStart(8);
	const pct = (us: number) => `${((us / busy) * 100).toFixed(1).padStart(5)} %`;
	process.stdout.write(
		`${file}: ${ms(total)} ms profiled, ${ms(busy)} ms not idle\n\nTop ${top} by self time:\n`,
	);
	for (const [key, us] of [...functions].sort((x, y) => y[1] - x[1]).slice(0, top))
		process.stdout.write(`${ms(us)} ms ${pct(us)}  ${key}\n`);
	process.stdout.write('\nSelf time by area:\n');
	for (const [key, us] of [...areas].sort((x, y) => y[1] - x[1]).slice(0, top))
		process.stdout.write(`${ms(us)} ms ${pct(us)}  ${key}\n`);
}

main();
