/**
 * What the bench prints on stdout: a header, per case a markdown table, the node's ratios to the
 * baselines and a PASS/FAIL line per target (issues 4, 13 and 20) and CHECK line per run, then a
 * summary of every verdict.
 */
import os from 'node:os';

import { BASELINE_POLL_MS } from './baselines';
import { markdownTable, memoryDetail, type RunMetrics } from './metrics';
import { describeCase, MB, type CaseDef } from './plan';

export interface Verdict {
	line: string;
	/** null: the figure was not measured in this run (SKIP). */
	pass: boolean | null;
}

function verdict(
	caseId: number,
	target: string,
	measured: number | undefined,
	limit: number,
	op: '<=' | '>=' | '<',
	unit = '',
	digits = 3,
): Verdict {
	if (measured === undefined || !Number.isFinite(measured)) {
		return { line: `SKIP case ${caseId}: ${target} (not measured in this run)`, pass: null };
	}
	const pass = op === '<=' ? measured <= limit : op === '>=' ? measured >= limit : measured < limit;
	const shown = `${measured.toFixed(digits)}${unit}`;
	return {
		line: `${pass ? 'PASS' : 'FAIL'} case ${caseId}: ${target}: measured ${shown} (target ${op} ${limit}${unit})`,
		pass,
	};
}

function correctness(caseId: number, runs: RunMetrics[]): Verdict[] {
	return runs.map((r) => {
		const ok = r.problems.length === 0;
		return {
			line: `${ok ? 'CHECK ok' : 'CHECK FAILED'} case ${caseId} ${r.label}: ${
				ok
					? `${r.predictions} predictions succeeded, outputs in input order, token never sent to the output host`
					: r.problems.join('; ')
			}`,
			pass: ok,
		};
	});
}

const median = (values: number[]) =>
	[...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)];

function targetsFor(def: CaseDef, runs: RunMetrics[]): Verdict[] {
	const nodes = runs.filter((r) => r.kind === 'node' && !r.diagnostic);
	const node = nodes[0];
	const a = runs.find((r) => r.kind === 'baselineA');
	const b = runs.find((r) => r.kind === 'baselineB');
	switch (def.id) {
		case 1:
			return [
				verdict(1, 'node wall/ideal', node?.wallOverIdeal, 1.1, '<='),
				verdict(1, 'node p95 completion-to-notice delay', node?.delayP95, 150, '<=', ' ms', 0),
				verdict(
					1,
					'node speed-up over baseline (a) (wall a / wall node)',
					a && node ? a.wallMs / node.wallMs : undefined,
					6,
					'>=',
					'×',
					2,
				),
				verdict(1, 'node API requests per prediction', node?.requestsPerPrediction, 1.05, '<='),
				verdict(
					1,
					"node CPU per prediction / baseline (b)'s",
					b && node ? node.cpuMsPerPrediction / b.cpuMsPerPrediction : undefined,
					2,
					'<=',
					'×',
					2,
				),
			];
		case 2:
			return nodes.flatMap((r) => [
				verdict(
					2,
					`T = ${r.modelTimeMs / 1000} s: node API requests per prediction`,
					r.requestsPerPrediction,
					6,
					'<=',
				),
				verdict(
					2,
					`T = ${r.modelTimeMs / 1000} s: node p95 completion-to-notice delay / T`,
					r.delayP95 / r.modelTimeMs,
					0.12,
					'<=',
				),
			]);
		case 3: {
			const fs = nodes.filter((r) => r.binaryDataMode === 'filesystem');
			const memory = nodes.find((r) => r.binaryDataMode === 'default');
			return [
				verdict(
					3,
					`filesystem mode: peak RSS growth, median of ${fs.length} run(s) (${fs.map((r) => (r.rssGrowth / MB).toFixed(1)).join(', ')})`,
					fs.length ? median(fs.map((r) => r.rssGrowth)) / MB : undefined,
					40,
					'<',
					' MB',
					1,
				),
				verdict(
					3,
					'memory mode: peak RSS growth / total output bytes',
					memory ? memory.rssGrowth / memory.outputBytes : undefined,
					1.5,
					'<',
					'',
					3,
				),
			];
		}
		case 4:
			return [
				verdict(
					4,
					`filesystem mode: peak RSS growth (inputs total ${node ? (((def.inputBytes ?? 0) * node.items) / MB).toFixed(0) : '?'} MB)`,
					node ? node.rssGrowth / MB : undefined,
					60,
					'<',
					' MB',
					1,
				),
				verdict(
					4,
					'input files that reached /files byte-equal',
					node?.uploadsEqual,
					def.items,
					'>=',
					'',
					0,
				),
			];
		case 5: {
			// Each run is one execution, so its extra requests are the extra requests per execution.
			const builtIn = nodes.find((r) => r.schemaModel === undefined);
			return nodes
				.filter((r) => r.schemaModel !== undefined)
				.map((r) =>
					verdict(
						5,
						`${r.schemaModel}: API requests per execution over the built-in model's (${r.apiRequests} vs ${builtIn?.apiRequests ?? '?'})`,
						builtIn ? r.apiRequests - builtIn.apiRequests : undefined,
						1,
						'<=',
						'',
						0,
					),
				);
		}
	}
	return [];
}

/** Case 5: each schema model's run against the built-in model's, measured in the same case. */
function schemaModelLines(runs: RunMetrics[]): string[] {
	const builtIn = runs.find((r) => r.kind === 'node' && r.schemaModel === undefined);
	if (!builtIn) return [];
	return runs
		.filter((r) => r.schemaModel !== undefined)
		.map(
			(r) =>
				`- ${r.schemaModel} vs the built-in model: API requests ${builtIn.apiRequests} → ${r.apiRequests} per execution ` +
				`(${builtIn.requestsPerPrediction.toFixed(3)} → ${r.requestsPerPrediction.toFixed(3)} per prediction), ` +
				`wall ${(r.wallMs / builtIn.wallMs).toFixed(3)}×, CPU per prediction ${(r.cpuMsPerPrediction / builtIn.cpuMsPerPrediction).toFixed(2)}×, ` +
				`peak RSS growth ${(r.rssGrowth / MB).toFixed(1)} MB vs ${(builtIn.rssGrowth / MB).toFixed(1)} MB, ` +
				`p95 completion-to-notice ${Math.round(builtIn.delayP95)} → ${Math.round(r.delayP95)} ms`,
		);
}

function ratioLines(runs: RunMetrics[]): string[] {
	const node = runs.find((r) => r.kind === 'node');
	if (!node) return [];
	const lines: string[] = [];
	for (const baseline of runs.filter((r) => r.kind !== 'node')) {
		const name = baseline.kind === 'baselineA' ? '(a)' : '(b)';
		lines.push(
			`- node vs ${name}: ${(baseline.wallMs / node.wallMs).toFixed(2)}× faster (${(baseline.wallMs / 1000).toFixed(1)} s → ${(node.wallMs / 1000).toFixed(1)} s), ` +
				`API requests per prediction ${baseline.requestsPerPrediction.toFixed(2)} → ${node.requestsPerPrediction.toFixed(2)} ` +
				`(baseline/node ${(baseline.requestsPerPrediction / node.requestsPerPrediction).toFixed(2)}), ` +
				`p95 completion-to-notice ${Math.round(baseline.delayP95)} ms → ${Math.round(node.delayP95)} ms`,
		);
	}
	return lines;
}

/** The machine, the load and the baselines' poll intervals. */
export function reportHeader(load: boolean): string[] {
	return [
		`# Benchmark (node ${process.version}, ${process.platform}/${process.arch}, ${os.cpus().length} CPUs${load ? '; --load: one core kept busy by another process' : ''}; load average at start ${os
			.loadavg()
			.map((l) => l.toFixed(2))
			.join(' ')})`,
		`Baselines: (a) poll every ${BASELINE_POLL_MS.baselineA / 1000} s, (b) Prefer: wait=60 then poll every ${BASELINE_POLL_MS.baselineB} ms; both one item after another (C = 1). ` +
			'delay = first output download at the server − completed_at; tail = end of run − last completed_at; RSS of the measuring process (growth over its post-warm-up baseline).',
	];
}

/** One case's section and its verdicts (targets, then a correctness check per run). */
export function caseReport(
	def: CaseDef,
	runs: RunMetrics[],
): { lines: string[]; verdicts: Verdict[] } {
	const verdicts = [...targetsFor(def, runs), ...correctness(def.id, runs)];
	const lines = ['', `## Case ${def.id}: ${def.title}`, describeCase(def), '', markdownTable(runs)];
	const ratios = [...ratioLines(runs), ...schemaModelLines(runs)];
	if (ratios.length) lines.push('', ...ratios);
	if (def.id === 3 || def.id === 4) {
		lines.push('', ...runs.map(memoryDetail));
		if (runs.some((r) => r.diagnostic)) {
			lines.push(
				'- The diagnostic run forces a full GC every 100 ms: its growth is the memory the node actually retains; ' +
					'the difference to the plain filesystem run is socket buffers already dead but not yet collected by V8.',
			);
		}
	}
	lines.push('', ...verdicts.map((v) => v.line));
	return { lines, verdicts };
}

/** Every verdict again, and whether all were met; the exit code stays 0 either way. */
export function summary(verdicts: Verdict[], benchStarted: number): string {
	const failed = verdicts.filter((v) => v.pass === false).length;
	return (
		`\n## Summary\n${verdicts.map((v) => v.line).join('\n')}\n\n` +
		`${failed === 0 ? 'All measured targets met.' : `${failed} target(s) or check(s) missed (a measurement: exit code stays 0).`} ` +
		`Bench wall time ${((Date.now() - benchStarted) / 1000).toFixed(1)} s.\n`
	);
}
