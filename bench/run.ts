/**
 * `npm run bench [-- options]`: the node against the fake Replicate (a separate process) through
 * n8n's engine, next to two baselines that run the same items one after another. Prints a markdown
 * table per case, the node's ratios to the baselines, and a PASS/FAIL line per target. A
 * measurement, not a test: it exits 0 whatever the figures (1 only when it could not run).
 * What runs is planned in plan.ts and printed by report.ts; this file runs it: the server process
 * per case and a fresh worker process per run. See bench/README.md for what each figure measures.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { computeMetrics, type RunMetrics, type RunSpec } from './metrics';
import {
	describeCase,
	MB,
	parseArgs,
	plannedCases,
	type CaseDef,
	type Overrides,
	type RunPlan,
} from './plan';
import type { ParentMessage, WorkerConfig, WorkerMessage, WorkerResult } from './protocol';
import { caseReport, reportHeader, summary, type Verdict } from './report';
import { BenchServer } from './server';
import { makeSamplePng, paddedPng } from '../tools/fake-replicate';

function progress(text: string): void {
	process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${text}\n`);
}

/** A forked worker, with its messages awaited one at a time. */
class Worker {
	private readonly child: ChildProcess;
	private readonly inbox: WorkerMessage[] = [];
	private waiting?: { resolve: (m: WorkerMessage) => void; reject: (e: Error) => void };
	private exited?: Error;

	constructor() {
		this.child = fork(path.join(__dirname, 'worker.js'), [], {
			execArgv: ['--expose-gc'],
			stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
		});
		this.child.on('message', (message: WorkerMessage) => {
			if (this.waiting) {
				const { resolve } = this.waiting;
				this.waiting = undefined;
				resolve(message);
			} else this.inbox.push(message);
		});
		this.child.on('exit', (code, signal) => {
			this.exited = new Error(`the bench worker exited (code ${code}, signal ${signal})`);
			this.waiting?.reject(this.exited);
			this.waiting = undefined;
		});
	}

	send(message: ParentMessage): void {
		this.child.send(message);
	}

	async next<T extends WorkerMessage['type']>(
		type: T,
	): Promise<Extract<WorkerMessage, { type: T }>> {
		const message =
			this.inbox.shift() ??
			(await new Promise<WorkerMessage>((resolve, reject) => {
				if (this.exited) return reject(this.exited);
				this.waiting = { resolve, reject };
			}));
		if (message.type !== type)
			throw new Error(`expected "${type}" from the worker, got "${message.type}"`);
		return message as Extract<WorkerMessage, { type: T }>;
	}

	async close(): Promise<void> {
		if (this.exited) return;
		const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
		this.send({ type: 'exit' });
		await gone;
	}
}

interface InputFiles {
	paths: string[];
	sha256: string[];
}

async function measure(
	server: BenchServer,
	def: CaseDef,
	plan: RunPlan,
	inputs?: InputFiles,
	dump?: string,
	cpuProf?: string,
): Promise<RunMetrics> {
	const modelTimeMs = plan.modelTimeMs ?? def.modelTimeMs;
	await server.setOptions({ modelTimeMs });
	const spec: RunSpec = {
		label: plan.label,
		kind: plan.kind,
		items: def.items,
		concurrency: plan.kind === 'node' ? def.concurrency : 1,
		modelTimeMs,
		binaryDataMode: plan.binaryDataMode,
		diagnostic: plan.gcEveryMs !== undefined,
		inputSha256: inputs?.sha256,
		schemaModel: plan.schemaModel,
	};
	let cpuProfile: string | undefined;
	if (cpuProf && plan.kind === 'node') {
		mkdirSync(cpuProf, { recursive: true });
		cpuProfile = path.join(
			cpuProf,
			`case${def.id}-${plan.label.replace(/[^a-z0-9]+/gi, '-')}.cpuprofile`,
		);
	}
	const config: WorkerConfig = {
		kind: plan.kind,
		apiUrl: server.info.apiUrl,
		token: server.info.token,
		sampleImageUrl: server.info.sampleImageUrl,
		sampleMaskUrl: server.info.sampleMaskUrl,
		items: def.items,
		concurrency: def.concurrency,
		width: def.size,
		height: def.size,
		numOutputs: def.numOutputs,
		binaryDataMode: plan.binaryDataMode,
		gcEveryMs: plan.gcEveryMs,
		inputFiles: inputs?.paths,
		cpuProfile,
		schemaModel: plan.schemaModel,
	};
	const worker = new Worker();
	try {
		worker.send({ type: 'config', config });
		await worker.next('ready');
		// The node's warm-up runs one item (one prediction); a baseline's makes no prediction.
		await server.reset();
		if (plan.kind === 'node' && def.outputBytes > 0)
			await server.script({ outputBytes: def.outputBytes, times: 1 });
		worker.send({ type: 'warmup' });
		const warmed = await worker.next('warmed');
		if (warmed.error) throw new Error(`warm-up failed: ${warmed.error}`);
		await server.reset();
		if (def.outputBytes > 0)
			await server.script({ outputBytes: def.outputBytes, times: def.items });
		const goAt = Date.now();
		worker.send({ type: 'go' });
		const { result } = await worker.next('result');
		await worker.close();
		const [requests, predictions, stats] = await Promise.all([
			server.requests(),
			server.predictions(),
			server.stats(),
		]);
		const metrics = computeMetrics(
			spec,
			result as WorkerResult,
			goAt,
			requests,
			predictions,
			stats,
		);
		if (dump) {
			mkdirSync(dump, { recursive: true });
			const file = path.join(dump, `case${def.id}-${plan.label.replace(/[^a-z0-9]+/gi, '-')}.json`);
			writeFileSync(
				file,
				JSON.stringify({ def, plan, goAt, result, requests, predictions, stats, metrics }, null, 1),
			);
		}
		return metrics;
	} finally {
		await worker.close().catch(() => undefined);
	}
}

/** Case 4's inputs: distinct valid PNGs padded to `bytes`, written before the case, removed after. */
function writeInputFiles(count: number, bytes: number): InputFiles & { dir: string } {
	const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-inputs-'));
	const paths: string[] = [];
	const sha256: string[] = [];
	for (let index = 0; index < count; index++) {
		const file = path.join(dir, `input-${index}.png`);
		const content = Buffer.concat([
			...paddedPng(makeSamplePng(64 + 8 * index, 64 + 8 * index, 'image'), bytes),
		]);
		writeFileSync(file, content);
		paths.push(file);
		sha256.push(createHash('sha256').update(content).digest('hex'));
	}
	return { dir, paths, sha256 };
}

async function runCases(
	cases: CaseDef[],
	overrides: Overrides,
	benchStarted: number,
): Promise<void> {
	// The header goes out with the first case's section, its load average taken before the first case.
	const report: string[] = reportHeader(overrides.load === true);
	const verdicts: Verdict[] = [];
	for (const def of cases) {
		progress(`case ${def.id}: ${describeCase(def)}`);
		const server = await BenchServer.start({
			modelTimeMs: def.modelTimeMs,
			honourPreferWait: def.honourPreferWait,
		});
		const inputs = def.inputBytes ? writeInputFiles(def.items, def.inputBytes) : undefined;
		const runs: RunMetrics[] = [];
		try {
			for (const plan of def.runs) {
				progress(`case ${def.id}: ${plan.label} …`);
				const metrics = await measure(server, def, plan, inputs, overrides.dump, overrides.cpuProf);
				progress(
					`case ${def.id}: ${plan.label}: ${(metrics.wallMs / 1000).toFixed(2)} s, ${metrics.requestsPerPrediction.toFixed(2)} req/pred, ` +
						`p95 ${Math.round(metrics.delayP95)} ms, RSS +${(metrics.rssGrowth / MB).toFixed(1)} MB${metrics.problems.length ? ` — ${metrics.problems.join('; ')}` : ''}`,
				);
				runs.push(metrics);
			}
		} finally {
			await server.stop();
			if (inputs) rmSync(inputs.dir, { recursive: true, force: true });
		}
		const section = caseReport(def, runs);
		verdicts.push(...section.verdicts);
		report.push(...section.lines);
		process.stdout.write(`${report.splice(0).join('\n')}\n`);
	}
	process.stdout.write(summary(verdicts, benchStarted));
}

async function main(): Promise<void> {
	const overrides = parseArgs(process.argv.slice(2));
	const cases = plannedCases(overrides);
	const benchStarted = Date.now();
	// --load: another process keeps one core busy for the whole bench, as a busy machine would.
	const load = overrides.load
		? spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' })
		: undefined;
	const stopLoad = () => load?.kill('SIGKILL');
	process.once('exit', stopLoad);
	try {
		await runCases(cases, overrides, benchStarted);
	} finally {
		stopLoad();
	}
}

main().catch((error: unknown) => {
	process.stderr.write(`bench: ${(error as Error).stack ?? String(error)}\n`);
	process.exit(1);
});
