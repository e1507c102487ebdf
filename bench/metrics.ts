/**
 * Figures of one run, from what the worker saw (wall time, RSS, output items) and what the server
 * recorded (requests with their arrival time, predictions with completed_at). Server and worker
 * run on the same machine, so their Date.now() clocks are the same clock.
 */
import type { ItemSummary, RunKind, WorkerResult } from './protocol';
import type { ServerPrediction, ServerRequest, ServerStats } from './server';

export interface RunSpec {
	label: string;
	kind: RunKind;
	items: number;
	/** Predictions at a time: Max Concurrent Predictions for the node, 1 for the baselines. */
	concurrency: number;
	modelTimeMs: number;
	binaryDataMode: 'default' | 'filesystem';
	/** Not a configuration users run (e.g. forced GCs): shown, never held to a target. */
	diagnostic: boolean;
	/** Case 4: sha256 of each input file, each of which must reach /files unchanged. */
	inputSha256?: string[];
	/** Case 5: the model run from its schema (`owner/name`); unset: the built-in model. */
	schemaModel?: string;
}

export interface RunMetrics extends RunSpec {
	wallMs: number;
	idealMs: number;
	wallOverIdeal: number;
	predictions: number;
	apiRequests: number;
	requestsPerPrediction: number;
	creates: number;
	polls: number;
	/** completion-to-notice delay per prediction, ms (see percentile columns) */
	delays: number[];
	delayP50: number;
	delayP95: number;
	delayMax: number;
	/** node/loop end minus the last prediction's completed_at */
	tailMs: number;
	baselineRss: number;
	peakRss: number;
	rssGrowth: number;
	/** peak minus baseline of V8's heapTotal and of `external` (Buffers and external strings) */
	heapTotalGrowth: number;
	externalGrowth: number;
	samples: number;
	outputFiles: number;
	outputBytes: number;
	storedById: number;
	peakRunning: number;
	/** CPU time (user + system) of the measured process per prediction, ms */
	cpuMsPerPrediction: number;
	/** Case 4: input files that reached /files byte-equal (by sha256), of inputSha256.length */
	uploadsEqual?: number;
	tokenLeaks: number;
	orderOk: boolean;
	allSucceeded: boolean;
	problems: string[];
}

/** Nearest-rank percentile. */
export function percentile(values: number[], p: number): number {
	if (values.length === 0) return NaN;
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function orderProblems(outputs: ItemSummary[], items: number): string[] {
	const problems: string[] = [];
	let previous = -1;
	const seen = new Set<number>();
	for (const output of outputs) {
		if (output.inputIndex < previous)
			problems.push(`output for item ${output.inputIndex} after item ${previous}`);
		previous = output.inputIndex;
		seen.add(output.inputIndex);
		if (
			output.prompt !== undefined &&
			!output.prompt.startsWith(`bench item ${output.inputIndex}:`)
		) {
			problems.push(`item ${output.inputIndex} carries the prediction of "${output.prompt}"`);
		}
	}
	if (seen.size !== items) problems.push(`${seen.size} of ${items} input items have an output`);
	return problems.slice(0, 5);
}

export function computeMetrics(
	spec: RunSpec,
	result: WorkerResult,
	goAt: number,
	requests: ServerRequest[],
	allPredictions: ServerPrediction[],
	stats: ServerStats,
): RunMetrics {
	const problems: string[] = [];
	if (result.error) problems.push(result.error);
	const predictions = allPredictions.filter((p) => Date.parse(p.created_at) >= goAt);
	const api = requests.filter((r) => r.origin === 'api');
	const creates = api.filter((r) => r.method === 'POST' && /\/predictions$/.test(r.path)).length;
	const polls = api.filter(
		(r) => r.method === 'GET' && /\/predictions\/[^/]+$/.test(r.path),
	).length;
	const firstDownload = new Map<string, number>();
	for (const r of requests) {
		if (r.origin !== 'output') continue;
		const id = /^\/([^/]+)\/out-\d+\.png$/.exec(r.path)?.[1];
		if (id && !firstDownload.has(id)) firstDownload.set(id, r.at);
	}
	const delays: number[] = [];
	let lastCompleted = 0;
	for (const p of predictions) {
		if (!p.completed_at) {
			problems.push(`prediction ${p.id} never completed`);
			continue;
		}
		const completed = Date.parse(p.completed_at);
		lastCompleted = Math.max(lastCompleted, completed);
		const noticed = firstDownload.get(p.id);
		if (noticed === undefined)
			problems.push(`prediction ${p.id} (${p.status}) was never downloaded`);
		else delays.push(noticed - completed);
	}
	const wallMs = result.endedAt - result.startedAt;
	const idealMs = Math.ceil(spec.items / spec.concurrency) * spec.modelTimeMs;
	const peakRss = Math.max(result.sampledPeakRss, result.hwmRss ?? 0);
	const order = orderProblems(result.outputs, spec.items);
	problems.push(...order);
	const allSucceeded =
		predictions.length === spec.items && predictions.every((p) => p.status === 'succeeded');
	if (!allSucceeded)
		problems.push(
			`${predictions.filter((p) => p.status === 'succeeded').length} of ${spec.items} predictions succeeded (${predictions.length} created)`,
		);
	let uploadsEqual: number | undefined;
	if (spec.inputSha256) {
		const received = new Set(stats.uploads.map((upload) => upload.sha256));
		uploadsEqual = spec.inputSha256.filter((sha) => received.has(sha)).length;
		if (uploadsEqual !== spec.inputSha256.length)
			problems.push(
				`${spec.inputSha256.length - uploadsEqual} of ${spec.inputSha256.length} input files did not reach /files byte-equal`,
			);
	}
	if (stats.tokenToNonApiOrigin > 0)
		problems.push(`the token reached the output origin ${stats.tokenToNonApiOrigin} times`);
	return {
		...spec,
		wallMs,
		idealMs,
		wallOverIdeal: wallMs / idealMs,
		predictions: predictions.length,
		apiRequests: api.length,
		requestsPerPrediction: predictions.length ? api.length / predictions.length : NaN,
		creates,
		polls,
		delays,
		delayP50: percentile(delays, 50),
		delayP95: percentile(delays, 95),
		delayMax: delays.length ? Math.max(...delays) : NaN,
		tailMs: lastCompleted ? result.endedAt - lastCompleted : NaN,
		baselineRss: result.baselineRss,
		peakRss,
		rssGrowth: peakRss - result.baselineRss,
		heapTotalGrowth: result.heap.peakHeapTotal - result.heap.baselineHeapTotal,
		externalGrowth: result.heap.peakExternal - result.heap.baselineExternal,
		samples: result.samples,
		outputFiles: result.outputs.reduce((sum, o) => sum + o.files, 0),
		outputBytes: result.outputs.reduce((sum, o) => sum + o.bytes, 0),
		storedById: result.outputs.reduce((sum, o) => sum + o.storedById, 0),
		peakRunning: stats.peakRunning,
		cpuMsPerPrediction: predictions.length
			? (result.cpuUserMicros + result.cpuSystemMicros - result.samplerCpuMicros) /
				1000 /
				predictions.length
			: NaN,
		uploadsEqual,
		tokenLeaks: stats.tokenToNonApiOrigin,
		orderOk: order.length === 0,
		allSucceeded,
		problems,
	};
}

const MB = 1024 * 1024;
const seconds = (ms: number) => (ms / 1000).toFixed(2);
const mb = (bytes: number) => (bytes / MB).toFixed(1);

export function markdownTable(runs: RunMetrics[]): string {
	const header = [
		'run',
		'N',
		'C',
		'T s',
		'wall s',
		'ideal ⌈N/C⌉×T s',
		'wall/ideal',
		'CPU ms/pred',
		'API req/pred (creates+polls)',
		'delay p50 / p95 ms',
		'tail ms',
		'peak RSS MB (growth)',
		'outputs (MB)',
		'peak running',
		'order',
	];
	const rows = runs.map((r) => [
		r.label,
		String(r.items),
		String(r.concurrency),
		seconds(r.modelTimeMs),
		seconds(r.wallMs),
		seconds(r.idealMs),
		r.wallOverIdeal.toFixed(3),
		r.cpuMsPerPrediction.toFixed(1),
		`${r.requestsPerPrediction.toFixed(2)} (${r.creates}+${r.polls}${r.apiRequests - r.creates - r.polls ? `+${r.apiRequests - r.creates - r.polls}` : ''})`,
		`${Math.round(r.delayP50)} / ${Math.round(r.delayP95)}`,
		String(Math.round(r.tailMs)),
		`${mb(r.peakRss)} (+${mb(r.rssGrowth)})`,
		`${r.outputFiles} (${mb(r.outputBytes)})`,
		String(r.peakRunning),
		r.orderOk ? 'ok' : 'WRONG',
	]);
	const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
	return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Where the memory went, for the memory case. */
export function memoryDetail(r: RunMetrics): string {
	const ratio =
		r.outputBytes > 0
			? ` = ${(r.rssGrowth / r.outputBytes).toFixed(3)}× the ${mb(r.outputBytes)} MB of outputs`
			: '';
	return (
		`- ${r.label}: RSS ${mb(r.baselineRss)} → peak ${mb(r.peakRss)} MB (+${mb(r.rssGrowth)} MB${ratio}); ` +
		`peak growth of V8 heapTotal +${mb(r.heapTotalGrowth)} MB, of external memory (Buffers, external strings) +${mb(r.externalGrowth)} MB; ` +
		`${r.storedById} of ${r.outputFiles} files stored by id (filesystem); ${r.samples} RSS samples`
	);
}
