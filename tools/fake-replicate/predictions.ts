/**
 * The predictions API: create (Prefer: wait, Cancel-After), get, list, cancel, stream, and the
 * run each prediction goes through (starting → processing → a terminal state, its logs, webhook
 * events, the deadline) until Replicate's retention removes its data.
 */
import crypto from 'node:crypto';

import { iso, randomId, type ServerCore } from './core';
import { fromProblem, headerValue, NOT_FOUND, problem } from './http';
import type { Model } from './model';
import { nextProgressLine, tqdmLine } from './progress';
import {
	HANDLED,
	TERMINAL,
	type ApiRoute,
	type Exchange,
	type HandlerResult,
	type Prediction,
	type PredictionScript,
	type PredictionStatus,
	type Reply,
	type Run,
} from './types';
import { catalogModel, catalogVersion, modelName } from './catalog';
import { redactSecrets } from './inputSchema';
import { outputShape } from './render';
import {
	INVALID_VERSION,
	parseCancelAfter,
	parsePreferWait,
	validateCreatePrediction,
	validateModelCreatePrediction,
	type Checked,
	type RunTarget,
	type ValidCreateRequest,
} from './validation';
import type { WebhooksApi } from './webhooks';

const VERSION_ID = /^[0-9a-f]{64}$/;

/**
 * What a create's `version` names, as Replicate reads it: a bare 64-hex id or `owner/name:<id>` of
 * a versioned model, or `owner/name` of an official model (its latest version). Official models run
 * only by name, so their version ids are refused like unknown ones.
 */
export function findRunTarget(version: unknown): RunTarget | undefined {
	if (typeof version !== 'string') return undefined;
	const [name, id, extra] = version.split(':');
	if (extra !== undefined) return undefined;
	if (id === undefined && !VERSION_ID.test(name)) {
		const model = catalogModel(name);
		const latest = model?.versions[0];
		return model?.is_official && latest ? { model, version: latest } : undefined;
	}
	const found = catalogVersion(id ?? name);
	if (!found || found.model.is_official) return undefined;
	return id === undefined || catalogModel(name) === found.model ? found : undefined;
}

export class PredictionsApi {
	readonly predictions = new Map<string, Prediction>();
	creates = 0;
	peakRunning = 0;
	private readonly runs = new Map<string, Run>();
	private scripts: Array<{ script: PredictionScript; remaining: number }> = [];

	readonly routes: ApiRoute[] = [
		{
			method: 'POST',
			pattern: /^\/predictions$/,
			name: 'POST /predictions',
			handle: (ex) => this.create(ex, () => validateCreatePrediction(ex.json, findRunTarget)),
		},
		{
			method: 'POST',
			pattern: /^\/models\/([^/]+\/[^/]+)\/predictions$/,
			name: 'POST /models/{owner}/{name}/predictions',
			handle: (ex, name) => this.createByModel(ex, name),
		},
		{
			method: 'GET',
			pattern: /^\/predictions$/,
			name: 'GET /predictions',
			handle: (ex) => this.list(ex),
		},
		{
			method: 'GET',
			pattern: /^\/predictions\/([^/]+)$/,
			name: 'GET /predictions/{id}',
			handle: (_ex, id) => {
				const run = this.findRun(id);
				return run ? { status: 200, json: structuredClone(run.prediction) } : NOT_FOUND();
			},
		},
		{
			method: 'POST',
			pattern: /^\/predictions\/([^/]+)\/cancel$/,
			name: 'POST /predictions/{id}/cancel',
			handle: (_ex, id) => {
				const run = this.findRun(id);
				if (!run) return NOT_FOUND();
				this.finish(run, 'canceled', null, 'Prediction canceled by request\n');
				return { status: 200, json: structuredClone(run.prediction) };
			},
		},
		{
			method: 'GET',
			pattern: /^\/predictions\/([^/]+)\/stream$/,
			name: 'GET /predictions/{id}/stream',
			handle: (ex, id) => this.stream(ex, id),
		},
	];

	constructor(
		private readonly core: ServerCore,
		private readonly model: Model,
		private readonly webhooks: WebhooksApi,
	) {}

	queueScript(script: PredictionScript): void {
		this.scripts.push({ script, remaining: script.times ?? 1 });
	}

	get queuedScripts(): number {
		return this.scripts.length;
	}

	/** Clears the scripts and the counters (predictions stay). */
	reset(): void {
		this.scripts = [];
		this.creates = 0;
		this.peakRunning = this.runningCount();
	}

	/** Retention changed: every finished prediction's purge is scheduled anew. */
	rescheduleRetention(): void {
		for (const run of this.runs.values()) this.schedulePurge(run);
	}

	/** The server closes: fetches of inputs stop. */
	abortAll(): void {
		for (const run of this.runs.values()) run.abort.abort();
	}

	findRun(id: string): Run | undefined {
		const run = this.runs.get(id);
		if (run) this.purgeIfDue(run);
		return run;
	}

	/**
	 * The models route runs official models only. An unknown model is a 404; a versioned one is
	 * refused as Replicate refuses it (replicate/replicate-python#320: `predictions.create(model=…)`
	 * of a versioned model answers "The specified version does not exist (or perhaps you don't have
	 * permission to use it?)", the 422 of an invalid version).
	 */
	private createByModel(ex: Exchange, name: string): Promise<Reply> | Reply {
		const model = catalogModel(name);
		if (!model) return NOT_FOUND();
		const latest = model.versions[0];
		if (!model.is_official || !latest) return fromProblem(INVALID_VERSION);
		return this.create(ex, () =>
			validateModelCreatePrediction(ex.json, { model, version: latest }),
		);
	}

	/** Headers first, then the body as `validate` reads it, then the run (and `Prefer: wait`). */
	private async create(ex: Exchange, validate: () => Checked<ValidCreateRequest>): Promise<Reply> {
		let waitSeconds: number | null = null;
		if (this.core.options.honourPreferWait) {
			const prefer = parsePreferWait(headerValue(ex.req, 'prefer'));
			if (!prefer.ok) return fromProblem(prefer.problem);
			waitSeconds = prefer.value;
		}
		const cancelAfter = parseCancelAfter(headerValue(ex.req, 'cancel-after'));
		if (!cancelAfter.ok) return fromProblem(cancelAfter.problem);
		if (ex.body.length === 0)
			return problem(400, 'Bad Request', 'The request body is empty; expected a JSON object');
		if (ex.jsonError !== undefined)
			return problem(400, 'Bad Request', `The request body is not valid JSON: ${ex.jsonError}`);
		const checked = validate();
		if (!checked.ok) return fromProblem(checked.problem);
		const run = this.startRun(checked.value, cancelAfter.value);
		if (waitSeconds !== null) await this.waitForTerminal(run, waitSeconds * 1000);
		return { status: 201, json: structuredClone(run.prediction) };
	}

	private startRun(request: ValidCreateRequest, cancelAfterMs: number | null): Run {
		const now = Date.now();
		const id = randomId(26);
		const script = this.takeScript();
		const prediction: Prediction = {
			id,
			model: modelName(request.target.model),
			version: request.target.version.id,
			input: redactSecrets(request.target.version.openapi_schema, request.input),
			logs: '',
			output: null,
			error: null,
			status: 'starting',
			source: 'api',
			data_removed: false,
			created_at: iso(now),
			started_at: null,
			completed_at: null,
			deadline: cancelAfterMs === null ? null : iso(now + cancelAfterMs),
			metrics: {},
			urls: {
				get: `${this.core.apiUrl}/predictions/${id}`,
				cancel: `${this.core.apiUrl}/predictions/${id}/cancel`,
				web: `https://replicate.com/p/${id}`,
				...(request.stream ? { stream: `${this.core.apiUrl}/predictions/${id}/stream` } : {}),
			},
			...(request.webhook
				? { webhook: request.webhook, webhook_events_filter: request.webhookEventsFilter }
				: {}),
		};
		const run: Run = {
			prediction,
			target: request.target,
			input: request.input,
			seq: ++this.core.sequence,
			script,
			seed: Number.isInteger(request.input.seed)
				? (request.input.seed as number)
				: crypto.randomInt(0, 2 ** 32),
			webhook: request.webhook,
			webhookEvents: request.webhookEventsFilter,
			webhookChain: Promise.resolve(),
			createdMs: now,
			timers: new Set(),
			waiters: new Set(),
			modelDone: false,
			inputsReady: false,
			purged: false,
			abort: new AbortController(),
			stream: request.stream,
		};
		this.runs.set(id, run);
		this.predictions.set(id, prediction);
		this.creates++;
		this.peakRunning = Math.max(this.peakRunning, this.runningCount());
		this.webhooks.send(run, 'start');
		this.runTimer(run, this.core.options.startDelayMs, () => this.beginProcessing(run));
		if (cancelAfterMs !== null) this.runTimer(run, cancelAfterMs, () => this.onDeadline(run));
		return run;
	}

	private takeScript(): PredictionScript {
		const entry = this.scripts[0];
		if (!entry) return {};
		if (--entry.remaining <= 0) this.scripts.shift();
		return entry.script;
	}

	private runTimer(run: Run, ms: number, fn: () => void): void {
		const timer = this.core.after(ms, () => {
			if (timer) run.timers.delete(timer);
			fn();
		});
		if (timer) run.timers.add(timer);
	}

	runningCount(): number {
		let running = 0;
		for (const run of this.runs.values()) if (!TERMINAL.has(run.prediction.status)) running++;
		return running;
	}

	private appendLogs(run: Run, text: string): void {
		run.prediction.logs += text;
		this.webhooks.send(run, 'logs');
	}

	private beginProcessing(run: Run): void {
		const prediction = run.prediction;
		if (TERMINAL.has(prediction.status)) return;
		const outcome = run.script.outcome ?? 'succeeded';
		if (outcome === 'aborted') return this.finish(run, 'aborted');
		const now = Date.now();
		prediction.status = 'processing';
		prediction.started_at = iso(now);
		run.startedMs = now;
		const steps = this.steps(run);
		this.appendLogs(run, `Using seed: ${run.seed}\n  0%|          | 0/${steps} [00:00<?, ?it/s]\n`);
		const modelTimeMs = run.script.modelTimeMs ?? this.core.options.modelTimeMs;
		run.inputsReady = outcome !== 'succeeded';
		if (!run.inputsReady) {
			this.model.loadInputs(run).then(
				() => {
					run.inputsReady = true;
					this.maybeComplete(run);
				},
				(error: Error) => this.finish(run, 'failed', error.message),
			);
		}
		this.scheduleProgress(run, steps, modelTimeMs, 0);
		this.runTimer(run, modelTimeMs, () => {
			run.modelDone = true;
			this.maybeComplete(run);
		});
	}

	/** tqdm's next progress line into the logs (progress.ts), until the last step. */
	private scheduleProgress(run: Run, steps: number, modelTimeMs: number, printedMs: number): void {
		const next = nextProgressLine(steps, modelTimeMs, printedMs);
		if (!next || run.startedMs === undefined) return;
		this.runTimer(run, run.startedMs + next.atMs - Date.now(), () => {
			this.appendLogs(run, `${tqdmLine(next.step, steps, next.atMs)}\n`);
			this.scheduleProgress(run, steps, modelTimeMs, next.atMs);
		});
	}

	private maybeComplete(run: Run): void {
		if (TERMINAL.has(run.prediction.status) || !run.modelDone || !run.inputsReady) return;
		const outcome = run.script.outcome ?? 'succeeded';
		if (outcome === 'failed')
			this.finish(run, 'failed', run.script.error ?? 'Prediction failed for an unknown reason');
		else if (outcome === 'canceled') this.finish(run, 'canceled');
		else this.finish(run, 'succeeded');
	}

	private onDeadline(run: Run): void {
		const status = run.prediction.status;
		if (status === 'starting')
			this.finish(run, 'aborted', null, 'Deadline reached before the prediction started\n');
		else if (status === 'processing')
			this.finish(run, 'canceled', null, 'Deadline reached; prediction canceled\n');
	}

	private finish(
		run: Run,
		status: PredictionStatus,
		error: string | null = null,
		log?: string,
	): void {
		const prediction = run.prediction;
		if (TERMINAL.has(prediction.status)) return;
		for (const timer of run.timers) this.core.cancel(timer);
		run.timers.clear();
		run.abort.abort();
		const now = Date.now();
		prediction.status = status;
		prediction.completed_at = iso(now);
		run.completedMs = now;
		prediction.metrics = {
			...(run.startedMs !== undefined ? { predict_time: (now - run.startedMs) / 1000 } : {}),
			total_time: (now - run.createdMs) / 1000,
		};
		if (status === 'succeeded') {
			const steps = this.steps(run);
			const modelTimeMs = run.script.modelTimeMs ?? this.core.options.modelTimeMs;
			prediction.logs += `${tqdmLine(steps, steps, modelTimeMs)}\n`;
			if (!run.script.noOutput) prediction.output = this.outputUrls(run);
		} else if (status === 'failed') {
			prediction.error = error;
			prediction.logs += `Traceback (most recent call last):\n${error}\n`;
		} else if (log) {
			prediction.logs += log;
		}
		if (status === 'succeeded' && run.script.dataRemoved) this.purge(run);
		for (const wake of [...run.waiters]) wake();
		if (prediction.output) this.webhooks.send(run, 'output');
		this.webhooks.send(run, 'completed');
		this.schedulePurge(run);
	}

	/** How many steps the logs' progress bar counts: the model's step input, else 50. */
	private steps(run: Run): number {
		const steps = run.input.num_inference_steps ?? run.input.steps;
		return typeof steps === 'number' && Number.isInteger(steps) && steps > 0 ? steps : 50;
	}

	/** One URL or an array of them, as the version's Output schema says. */
	private outputUrls(run: Run): string | string[] {
		const { array, count, extension } = outputShape(run.target, run.input);
		const id = run.prediction.id;
		const urls = Array.from({ length: count }, (_, k) =>
			run.script.outputUrlScheme === 'file'
				? `file:///tmp/fake-replicate/${id}/out-${k}.${extension}`
				: `${this.core.outputOrigin}/${id}/out-${k}.${extension}`,
		);
		return array ? urls : urls[0];
	}

	private waitForTerminal(run: Run, ms: number): Promise<void> {
		if (TERMINAL.has(run.prediction.status)) return Promise.resolve();
		return new Promise((resolve) => {
			const wake = () => {
				this.core.cancel(timer);
				run.waiters.delete(wake);
				this.core.wakeOnClose.delete(wake);
				resolve();
			};
			const timer = this.core.after(ms, wake);
			run.waiters.add(wake);
			this.core.wakeOnClose.add(wake);
		});
	}

	private schedulePurge(run: Run): void {
		this.core.cancel(run.purgeTimer);
		run.purgeTimer = undefined;
		if (run.completedMs === undefined || run.purged) return;
		const due = run.completedMs + this.core.options.retentionMs - Date.now();
		run.purgeTimer = this.core.after(due, () => {
			run.purgeTimer = undefined;
			this.purgeIfDue(run);
		});
	}

	private purgeIfDue(run: Run): void {
		if (run.purged || run.completedMs === undefined) return;
		if (Date.now() - run.completedMs >= this.core.options.retentionMs) this.purge(run);
	}

	/** Replicate deletes an API prediction's input, output and logs after about an hour. */
	private purge(run: Run): void {
		run.purged = true;
		run.inputBytes = undefined;
		run.input = {};
		const prediction = run.prediction;
		prediction.output = null;
		prediction.input = {};
		prediction.logs = '';
		prediction.data_removed = true;
		this.model.forget(prediction.id);
	}

	private list(ex: Exchange): Reply {
		const items = [...this.runs.values()].map((run) => {
			this.purgeIfDue(run);
			return { seq: run.seq, value: structuredClone(run.prediction) };
		});
		return this.core.page(ex, items, '/predictions');
	}

	private stream(ex: Exchange, id: string): HandlerResult {
		const run = this.findRun(id);
		if (!run || !run.stream) return NOT_FOUND();
		const res = ex.res;
		res.writeHead(200, {
			'content-type': 'text/event-stream',
			'cache-control': 'no-store',
			connection: 'keep-alive',
		});
		const sendFinal = () => {
			const p = run.prediction;
			if (p.status === 'succeeded')
				for (const url of [p.output ?? []].flat()) res.write(`event: output\ndata: ${url}\n\n`);
			if (p.status === 'failed')
				res.write(`event: error\ndata: ${JSON.stringify({ detail: p.error })}\n\n`);
			res.end(
				`event: done\ndata: ${JSON.stringify(p.status === 'succeeded' ? {} : { reason: p.status === 'failed' ? 'error' : 'canceled' })}\n\n`,
			);
		};
		if (TERMINAL.has(run.prediction.status)) sendFinal();
		else {
			const wake = () => {
				run.waiters.delete(wake);
				this.core.wakeOnClose.delete(wake);
				if (!res.destroyed) sendFinal();
			};
			run.waiters.add(wake);
			this.core.wakeOnClose.add(wake);
			res.on('close', () => {
				run.waiters.delete(wake);
				this.core.wakeOnClose.delete(wake);
			});
		}
		return HANDLED;
	}
}
