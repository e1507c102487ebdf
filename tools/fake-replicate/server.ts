/**
 * A Replicate-compatible HTTP server on 127.0.0.1 for the tests, the demo and the bench. This file
 * owns the two HTTP servers (the API and the output origin), records requests, applies injected
 * faults, authenticates and routes; each resource module (predictions, files, webhooks, models)
 * answers its own endpoints, and admin.ts serves /__admin/*.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { handleAdmin, type AdminTarget } from './admin';
import { checkedOptions, normalisePrefix, ServerCore, type ResolvedOptions } from './core';
import { faultAfterHandling, faultBeforeHandling, FaultQueue } from './faults';
import { FilesApi } from './files';
import {
	BodyError,
	flattenHeaders,
	headerValue,
	NOT_FOUND,
	problem,
	readBody,
	UNAUTHENTICATED,
	write,
} from './http';
import { Model } from './model';
import { modelRoutes } from './models';
import { OutputOrigin } from './outputs';
import { PredictionsApi } from './predictions';
import {
	HANDLED,
	type ApiRoute,
	type Exchange,
	type FakeReplicate,
	type FakeReplicateOptions,
	type FakeReplicateStats,
	type Fault,
	type HandlerResult,
	type Prediction,
	type PredictionScript,
	type RecordedRequest,
	type WebhookDelivery,
} from './types';
import { WebhooksApi } from './webhooks';

class FakeReplicateServer implements AdminTarget {
	sampleImageUrl = '';
	sampleMaskUrl = '';
	readonly requests: RecordedRequest[] = [];
	readonly predictions: Map<string, Prediction>;
	readonly webhookDeliveries: WebhookDelivery[];
	readonly webhookSecret: string;

	private readonly core: ServerCore;
	private readonly files: FilesApi;
	private readonly webhooks: WebhooksApi;
	private readonly predictionsApi: PredictionsApi;
	private readonly output: OutputOrigin;
	/** Every API endpoint; a 405's Allow header lists a path's methods in this order. */
	private readonly routes: ApiRoute[];
	private readonly faults = new FaultQueue();
	private readonly apiServer: http.Server;
	private readonly outputServer: http.Server;
	private tokenLeaks = 0;
	private byRoute: Record<string, number> = {};

	constructor(options: FakeReplicateOptions) {
		this.core = new ServerCore(options);
		this.files = new FilesApi(this.core);
		this.webhooks = new WebhooksApi(this.core);
		const model = new Model(this.core, this.files);
		this.predictionsApi = new PredictionsApi(this.core, model, this.webhooks);
		this.output = new OutputOrigin(this.predictionsApi, model);
		this.routes = [
			...this.predictionsApi.routes,
			...modelRoutes(this.core),
			...this.webhooks.routes,
			...this.files.routes,
		];
		this.predictions = this.predictionsApi.predictions;
		this.webhookDeliveries = this.webhooks.deliveries;
		this.webhookSecret = this.webhooks.secret;
		this.apiServer = http.createServer((req, res) => this.serve('api', req, res));
		this.outputServer = http.createServer((req, res) => this.serve('output', req, res));
	}

	get apiUrl(): string {
		return this.core.apiUrl;
	}

	get apiOrigin(): string {
		return this.core.apiOrigin;
	}

	get outputOrigin(): string {
		return this.core.outputOrigin;
	}

	get token(): string {
		return this.core.options.token;
	}

	get currentOptions(): ResolvedOptions {
		return this.core.options;
	}

	get queuedScripts(): number {
		return this.predictionsApi.queuedScripts;
	}

	get queuedFaults(): number {
		return this.faults.length;
	}

	async listen(): Promise<void> {
		const listen = (server: http.Server, port: number) =>
			new Promise<number>((resolve, reject) => {
				server.once('error', reject);
				server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
			});
		const apiPort = await listen(this.apiServer, this.core.options.port);
		const outputPort = await listen(this.outputServer, this.core.options.outputPort);
		this.core.apiOrigin = `http://127.0.0.1:${apiPort}`;
		this.core.outputOrigin = `http://127.0.0.1:${outputPort}`;
		this.core.apiUrl = `${this.core.apiOrigin}${this.core.options.prefix}`;
		this.sampleImageUrl = `${this.outputOrigin}/samples/image.png`;
		this.sampleMaskUrl = `${this.outputOrigin}/samples/mask.png`;
	}

	stats(): FakeReplicateStats {
		return {
			creates: this.predictionsApi.creates,
			running: this.predictionsApi.runningCount(),
			peakRunning: this.predictionsApi.peakRunning,
			tokenToNonApiOrigin: this.tokenLeaks,
			files: this.files.count(),
			uploads: [...this.files.uploads],
			byRoute: { ...this.byRoute },
		};
	}

	inject(fault: Fault): void {
		this.faults.add(fault);
	}

	scriptNextPrediction(script: PredictionScript): void {
		this.predictionsApi.queueScript(script);
	}

	set(options: Partial<FakeReplicateOptions>): void {
		const changes = checkedOptions(options);
		if (changes.prefix !== undefined) changes.prefix = normalisePrefix(changes.prefix);
		for (const fixed of ['port', 'outputPort', 'prefix'] as const) {
			if (changes[fixed] !== undefined && changes[fixed] !== this.core.options[fixed]) {
				throw new Error(`${fixed} cannot be changed on a running fake Replicate`);
			}
		}
		this.core.options = { ...this.core.options, ...changes };
		if (options.retentionMs !== undefined) this.predictionsApi.rescheduleRetention();
	}

	reset(): void {
		// Emptied in place, so references a test already holds see the reset too.
		this.requests.length = 0;
		this.files.uploads.length = 0;
		this.webhookDeliveries.length = 0;
		this.faults.clear();
		this.predictionsApi.reset();
		this.tokenLeaks = 0;
		this.byRoute = {};
	}

	async close(): Promise<void> {
		if (this.core.closed) return;
		this.core.stopTimers();
		this.predictionsApi.abortAll();
		this.core.wakeAll();
		const closeServer = (server: http.Server) =>
			new Promise<void>((resolve) => {
				server.close(() => resolve());
				server.closeAllConnections();
			});
		await Promise.all([closeServer(this.apiServer), closeServer(this.outputServer)]);
	}

	/** Runs onRequest; whatever it throws becomes a 500 (or a dropped socket once the head is out). */
	private serve(
		origin: 'api' | 'output',
		req: http.IncomingMessage,
		res: http.ServerResponse,
	): void {
		this.onRequest(origin, req, res).catch((error: unknown) => {
			// A bug or a throwing mangle function must not become an unhandled rejection.
			if (!res.headersSent)
				write(
					req,
					res,
					problem(
						500,
						'Internal Server Error',
						`The fake Replicate failed: ${(error as Error).message}`,
					),
				);
			else res.destroy();
		});
	}

	private async onRequest(
		origin: 'api' | 'output',
		req: http.IncomingMessage,
		res: http.ServerResponse,
	): Promise<void> {
		const method = (req.method ?? 'GET').toUpperCase();
		const base = origin === 'api' ? this.apiOrigin : this.outputOrigin;
		let url: URL;
		try {
			url = new URL(req.url ?? '/', base);
		} catch {
			return write(req, res, problem(400, 'Bad Request', 'Malformed request URL'));
		}
		if (origin === 'api' && url.pathname.startsWith('/__admin/'))
			return handleAdmin(this, req, res, method, url);

		let body: Buffer;
		try {
			body = await readBody(req);
		} catch (error) {
			const status = error instanceof BodyError ? error.status : 400;
			write(
				req,
				res,
				problem(status, http.STATUS_CODES[status] ?? 'Bad Request', (error as Error).message),
			);
			return;
		}
		let json: unknown;
		let jsonError: string | undefined;
		if (body.length > 0) {
			try {
				json = JSON.parse(body.toString('utf8'));
			} catch (error) {
				jsonError = (error as Error).message;
			}
		}
		const headers = flattenHeaders(req.headers);
		this.requests.push({
			origin,
			method,
			path: url.pathname,
			query: url.search,
			headers,
			bodyBytes: body.length,
			json,
			at: Date.now(),
		});

		const prefix = this.core.options.prefix;
		const underPrefix =
			origin === 'api' && (url.pathname === prefix || url.pathname.startsWith(`${prefix}/`));
		const path =
			origin === 'api' && underPrefix ? url.pathname.slice(prefix.length) || '/' : url.pathname;
		const exchange: Exchange = { origin, req, res, method, url, path, body, json, jsonError };

		if (origin === 'output') {
			const token = this.core.options.token;
			let rawUrl = req.url ?? '';
			try {
				rawUrl = decodeURIComponent(rawUrl);
			} catch {
				// keep it encoded
			}
			const leaked =
				Object.values(headers).some((v) => v.includes(token)) || rawUrl.includes(token);
			if (leaked) this.tokenLeaks++;
		}

		this.count(
			origin === 'api'
				? this.routeName(method, path, underPrefix)
				: this.output.routeName(method, path),
		);
		const fault = this.faults.take(origin, method, path);
		const instead = faultBeforeHandling(fault);
		if (instead === 'reset') return void req.socket.destroy();
		if (instead) return write(req, res, instead);

		let result: HandlerResult;
		try {
			result =
				origin === 'api'
					? await this.handleApi(exchange, underPrefix)
					: await this.output.handle(exchange);
		} catch (error) {
			result = problem(
				500,
				'Internal Server Error',
				`The fake Replicate failed: ${(error as Error).message}`,
			);
		}
		if (result === HANDLED) return;
		const reply = await faultAfterHandling(fault, result, (ms) => this.core.sleep(ms));
		if (reply === 'reset') return void req.socket.destroy();
		write(req, res, reply);
	}

	private count(route: string): void {
		this.byRoute[route] = (this.byRoute[route] ?? 0) + 1;
	}

	private routeName(method: string, path: string, underPrefix: boolean): string {
		if (!underPrefix) return 'unmatched';
		return (
			this.routes.find((r) => r.method === method && r.pattern.test(path))?.name ?? 'unmatched'
		);
	}

	private authenticated(req: http.IncomingMessage): boolean {
		const header = headerValue(req, 'authorization') ?? '';
		const match = /^Bearer (.+)$/i.exec(header);
		if (!match) return false;
		const given = Buffer.from(match[1]);
		const expected = Buffer.from(this.core.options.token);
		return given.length === expected.length && crypto.timingSafeEqual(given, expected);
	}

	private async handleApi(ex: Exchange, underPrefix: boolean): Promise<HandlerResult> {
		if (!underPrefix) return NOT_FOUND();
		const route = this.routes.find((r) => r.method === ex.method && r.pattern.test(ex.path));
		const pathKnown = this.routes.filter((r) => r.pattern.test(ex.path));
		if (pathKnown.some((r) => r.files) && !this.core.options.filesEndpoint) return NOT_FOUND();
		if (!this.authenticated(ex.req)) return UNAUTHENTICATED();
		if (!route) {
			if (pathKnown.length === 0) return NOT_FOUND();
			const allow = pathKnown.map((r) => r.method).join(', ');
			return {
				...problem(405, 'Method Not Allowed', `Use ${allow} on this path`),
				headers: { allow },
			};
		}
		return route.handle(ex, route.pattern.exec(ex.path)?.[1] ?? '');
	}
}

/** A server that does not listen yet: `listen()` starts it (a test file's beforeAll, see test/support). */
export function createFakeReplicate(
	options: FakeReplicateOptions = {},
): FakeReplicate & { listen(): Promise<void> } {
	return new FakeReplicateServer(options);
}

export async function startFakeReplicate(
	options: FakeReplicateOptions = {},
): Promise<FakeReplicate> {
	const server = createFakeReplicate(options);
	try {
		await server.listen();
	} catch (error) {
		await server.close();
		throw error;
	}
	return server;
}
