/**
 * Helpers of the fault matrix: predictions the test itself starts (for Get and Cancel), an
 * origin that is not the API (webhook and redirect target) that records who called it, a
 * "not yet listening" API endpoint, and a deep text dump of everything a run exposes.
 */
import { createHook } from 'node:async_hooks';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { DEFAULT_MODEL_VERSION } from '../../nodes/ReplicateInpainting/schema/modelInput';
import type { FakeReplicate, Prediction } from '../../tools/fake-replicate';
import { TERMINAL } from '../../tools/fake-replicate';
import { eventually } from '../node/support';

export function isTerminal(prediction: Prediction | undefined): boolean {
	return prediction !== undefined && TERMINAL.has(prediction.status);
}

/** A prediction the test creates through the API itself (not the node), as a user's earlier run. */
export async function seedPrediction(
	server: FakeReplicate,
	until: 'terminal' | 'running',
	input: Record<string, unknown> = {},
): Promise<string> {
	const response = await fetch(`${server.apiUrl}/predictions`, {
		method: 'POST',
		headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
		body: JSON.stringify({
			version: DEFAULT_MODEL_VERSION,
			input: {
				prompt: 'seeded by the test',
				image: server.sampleImageUrl,
				mask: server.sampleMaskUrl,
				...input,
			},
		}),
	});
	const body = (await response.json()) as { id?: string };
	if (response.status !== 201 || typeof body.id !== 'string')
		throw new Error(`seeding failed: ${response.status} ${JSON.stringify(body)}`);
	const id = body.id;
	const reached = await eventually(() => {
		const prediction = server.predictions.get(id);
		return until === 'terminal' ? isTerminal(prediction) : prediction?.status === 'processing';
	}, 10_000);
	if (!reached) throw new Error(`seeded prediction ${id} did not reach ${until}`);
	return id;
}

/** The test cancels a prediction it started itself (the node is not asked to). */
export async function cancelAsTest(server: FakeReplicate, id: string): Promise<void> {
	if (isTerminal(server.predictions.get(id))) return;
	await fetch(`${server.apiUrl}/predictions/${id}/cancel`, {
		method: 'POST',
		headers: { authorization: `Bearer ${server.token}` },
	}).then((response) => response.arrayBuffer());
}

export interface SinkRequest {
	method: string;
	url: string;
	headers: http.IncomingHttpHeaders;
}

/** An origin that is neither the API nor the output host: whatever reaches it is recorded. */
export interface Sink {
	origin: string;
	requests: SinkRequest[];
	close(): Promise<void>;
}

export async function startSink(): Promise<Sink> {
	const requests: SinkRequest[] = [];
	const server = http.createServer((req, res) => {
		requests.push({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers });
		req.resume();
		res.writeHead(200, { 'content-type': 'application/json' });
		res.end('{"ok":true}');
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	return {
		origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
		requests,
		close: () =>
			new Promise<void>((resolve) => {
				server.close(() => resolve());
				server.closeAllConnections();
			}),
	};
}

/** Requests that reached the sink carrying `secret` anywhere (headers or URL). */
export function sinkRequestsCarrying(sink: Sink, secret: string, from = 0): number {
	return sink.requests
		.slice(from)
		.filter(
			(request) => request.url.includes(secret) || JSON.stringify(request.headers).includes(secret),
		).length;
}

/**
 * An API base URL on a port where nothing listens yet: connections are refused (nothing can have
 * been sent) until `openAfterMs` (never, for Infinity), then a plain proxy to the fake API answers there.
 */
export async function lateApi(
	server: FakeReplicate,
	openAfterMs: number,
): Promise<{ baseUrl: string; close(): Promise<void> }> {
	const probe = http.createServer();
	await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
	const port = (probe.address() as AddressInfo).port;
	await new Promise<void>((resolve) => probe.close(() => resolve()));
	const target = new URL(server.apiOrigin);
	const proxy = http.createServer((req, res) => {
		const forward = http.request(
			{
				host: target.hostname,
				port: target.port,
				method: req.method,
				path: req.url,
				headers: { ...req.headers, host: target.host },
			},
			(answer) => {
				res.writeHead(answer.statusCode ?? 502, answer.headers);
				answer.pipe(res);
			},
		);
		forward.on('error', () => res.destroy());
		req.pipe(forward);
	});
	let timer: NodeJS.Timeout | undefined;
	const opened = Number.isFinite(openAfterMs)
		? new Promise<boolean>((resolve) => {
				timer = setTimeout(() => proxy.listen(port, '127.0.0.1', () => resolve(true)), openAfterMs);
			})
		: Promise.resolve(false);
	return {
		baseUrl: `http://127.0.0.1:${port}${new URL(server.apiUrl).pathname}`,
		close: async () => {
			if (!(await opened)) return clearTimeout(timer);
			await new Promise<void>((resolve) => {
				proxy.close(() => resolve());
				proxy.closeAllConnections();
			});
		},
	};
}

/**
 * Every string reachable from `value`, own non-enumerable properties included (an Error's
 * message, stack and cause, which JSON.stringify would skip), so a secret cannot hide in them.
 */
export function allText(value: unknown): string {
	const parts: string[] = [];
	const seen = new WeakSet<object>();
	const walk = (current: unknown, depth: number) => {
		if (current === null || current === undefined || depth > 40) return;
		if (typeof current === 'string') return void parts.push(current);
		if (typeof current !== 'object') return void parts.push(String(current));
		if (seen.has(current)) return;
		seen.add(current);
		if (Buffer.isBuffer(current)) return void parts.push(current.toString('latin1'));
		if (current instanceof Map)
			return void [...current.entries()].forEach((entry) => walk(entry, depth + 1));
		if (current instanceof Set)
			return void [...current.values()].forEach((entry) => walk(entry, depth + 1));
		for (const key of Object.getOwnPropertyNames(current)) {
			parts.push(key);
			let child: unknown;
			try {
				child = (current as Record<string, unknown>)[key];
			} catch {
				continue;
			}
			walk(child, depth + 1);
		}
	};
	walk(value, 0);
	return parts.join('\n');
}

export function occurrences(text: string, secret: string): number {
	return text.split(secret).length - 1;
}

export interface LiveTimer {
	asyncId: number;
	stack: string;
}

/** Frames that make a timer the node's: its own code, n8n-workflow's sleeps, or its requests (axios). */
const NODE_TIMER_FRAME = /[\\/]nodes[\\/]ReplicateInpainting|n8n-workflow[\\/]dist|[\\/]axios[\\/]/;

/**
 * Records the timers the node starts (Node's `Timeout` resources, with the stack that created
 * them) and which of them are still pending: after a Stop, none may outlive the execution.
 */
export function trackNodeTimers(): { live(): LiveTimer[]; stop(): void } {
	const live = new Map<number, LiveTimer>();
	const hook = createHook({
		init(asyncId, type) {
			if (type !== 'Timeout') return;
			const holder: { stack?: string } = {};
			const limit = Error.stackTraceLimit;
			Error.stackTraceLimit = 40;
			Error.captureStackTrace(holder);
			Error.stackTraceLimit = limit;
			const stack = holder.stack ?? '';
			if (NODE_TIMER_FRAME.test(stack)) live.set(asyncId, { asyncId, stack });
		},
		destroy(asyncId) {
			live.delete(asyncId);
		},
	});
	hook.enable();
	return { live: () => [...live.values()], stop: () => hook.disable() };
}

/**
 * The most `abort` listeners one signal had at once while tracking ran: Node warns
 * (MaxListenersExceededWarning, which n8n prints to its log) above 10. Counted as Node counts
 * them, by wrapping EventTarget's methods: jest's sandboxed `process` never sees the real
 * process's warnings.
 */
export function trackAbortListeners(): { peak(): number; stop(): void } {
	const listenersOf = new WeakMap<EventTarget, Set<unknown>>();
	let peak = 0;
	const prototype = EventTarget.prototype;
	const add = prototype.addEventListener;
	const remove = prototype.removeEventListener;
	prototype.addEventListener = function (
		this: EventTarget,
		type: string,
		listener: unknown,
		options?: unknown,
	) {
		if (type === 'abort' && listener) {
			const listeners = listenersOf.get(this) ?? new Set<unknown>();
			listenersOf.set(this, listeners);
			listeners.add(listener);
			peak = Math.max(peak, listeners.size);
		}
		return add.call(
			this,
			type,
			listener as Parameters<typeof add>[1],
			options as Parameters<typeof add>[2],
		);
	} as typeof prototype.addEventListener;
	prototype.removeEventListener = function (
		this: EventTarget,
		type: string,
		listener: unknown,
		options?: unknown,
	) {
		if (type === 'abort') listenersOf.get(this)?.delete(listener);
		return remove.call(
			this,
			type,
			listener as Parameters<typeof remove>[1],
			options as Parameters<typeof remove>[2],
		);
	} as typeof prototype.removeEventListener;
	return {
		peak: () => peak,
		stop: () => {
			prototype.addEventListener = add;
			prototype.removeEventListener = remove;
		},
	};
}
