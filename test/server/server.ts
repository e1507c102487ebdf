import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline, Readable } from 'node:stream';
import zlib from 'node:zlib';

import { inpaint, InputImageError, prepareInputs, type PreparedInputs } from './inpaint';
import { encodePngAsync, makeSamplePng } from './png';
import {
	decodeDataUri,
	MODEL_NAME,
	MODEL_VERSION_ID,
	parseCancelAfter,
	parsePreferWait,
	validateCreatePrediction,
	type ModelInput,
	type Problem,
	type ValidCreateRequest,
	type WebhookEvent,
} from './validation';

export interface FakeReplicateOptions {
	/** accepted Bearer token */
	token?: string;
	/** path prefix the API is served under: '/v1' like Replicate, '/replicate/v1' like the seed's gateway */
	prefix?: string;
	/** time from processing start to the terminal state */
	modelTimeMs?: number;
	/** time spent in 'starting' before 'processing' */
	startDelayMs?: number;
	/** false = a gateway that drops `Prefer: wait` and answers at once */
	honourPreferWait?: boolean;
	/** after completion, output/input/logs are removed (output null, data_removed true) */
	retentionMs?: number;
	/** false = /files answers 404, like a gateway without it */
	filesEndpoint?: boolean;
	/** results per page of GET /predictions and GET /files (Replicate uses 100) */
	pageSize?: number;
	/** a failed webhook delivery is retried this many times (Replicate retries for longer) */
	webhookRetries?: number;
	/** delay before the first retry, doubled for each further one */
	webhookRetryDelayMs?: number;
	port?: number;
	outputPort?: number;
}

type ResolvedOptions = Required<FakeReplicateOptions>;

const DEFAULT_OPTIONS: ResolvedOptions = {
	token: 'r8_fake_token_for_tests',
	prefix: '/v1',
	modelTimeMs: 100,
	startDelayMs: 10,
	honourPreferWait: true,
	retentionMs: 60 * 60 * 1000,
	filesEndpoint: true,
	pageSize: 100,
	webhookRetries: 2,
	webhookRetryDelayMs: 250,
	port: 0,
	outputPort: 0,
};

export type PredictionStatus =
	| 'starting'
	| 'processing'
	| 'succeeded'
	| 'failed'
	| 'canceled'
	| 'aborted';

export interface Prediction {
	id: string;
	model: string;
	version: string;
	input: Partial<ModelInput>;
	logs: string;
	output: string[] | null;
	error: string | null;
	status: PredictionStatus;
	source: 'api';
	data_removed: boolean;
	created_at: string;
	started_at: string | null;
	completed_at: string | null;
	deadline: string | null;
	metrics: { predict_time?: number; total_time?: number };
	urls: { get: string; cancel: string; web: string; stream?: string };
}

export interface RecordedRequest {
	origin: 'api' | 'output';
	method: string;
	/** URL path including the prefix, without the query string */
	path: string;
	/** query string including '?', or '' */
	query: string;
	/** lower-case names; repeated headers joined with ', ' */
	headers: Record<string, string>;
	bodyBytes: number;
	/** the body, when it parsed as JSON */
	json?: unknown;
	at: number;
}

interface FaultTarget {
	/** 'api' by default */
	origin?: 'api' | 'output';
	method?: string;
	/** matched against the path without the API prefix (and without the query string) */
	path?: RegExp;
	/** how many matching requests it applies to; default 1 */
	times?: number;
	/** matching requests let through untouched before it applies; default 0 */
	skip?: number;
}

export type Fault = FaultTarget &
	/** answered with this status instead; with `afterHandling`, only once the work is done (a 5xx after the prediction was created) */
	(| {
				kind: 'status';
				status: number;
				body?: unknown;
				headers?: Record<string, string>;
				afterHandling?: boolean;
		  }
		/** the work is done (e.g. the prediction created), then the socket is destroyed unanswered */
		| { kind: 'reset-before-response' }
		/** the socket is destroyed before anything is done */
		| { kind: 'reset-before-handling' }
		/** the work is done, the answer is sent ms later */
		| { kind: 'delay'; ms: number }
		/** a 200 text/html page instead of the API (nothing is done), like a captive portal or proxy page */
		| { kind: 'non-json' }
		/** the work is done, the JSON answer is passed through mutate first */
		| { kind: 'mangle'; mutate: (body: any) => any }
	);

export interface PredictionScript {
	/** how the prediction ends; 'aborted' ends it before processing starts */
	outcome?: 'succeeded' | 'failed' | 'canceled' | 'aborted';
	/** the error of a failed prediction */
	error?: string;
	/** 'file' = outputs are file:// URLs a client must refuse to fetch */
	outputUrlScheme?: 'file';
	/** outputs are padded (with an ancillary PNG chunk) to this many bytes */
	outputBytes?: number;
	/** succeeded with output null */
	noOutput?: boolean;
	/** succeeded but already data_removed (output null) */
	dataRemoved?: boolean;
	modelTimeMs?: number;
	/** how many of the next predictions this applies to; default 1 */
	times?: number;
}

export interface WebhookDelivery {
	predictionId: string;
	event: WebhookEvent;
	url: string;
	webhookId: string;
	attempts: number;
	/** HTTP status of the last attempt, or null when it never got an answer */
	status: number | null;
	error?: string;
	at: number;
}

export interface FakeReplicateStats {
	creates: number;
	running: number;
	peakRunning: number;
	tokenToNonApiOrigin: number;
	/** uploaded files still stored (not deleted, not expired) */
	files: number;
	/** every upload since the last reset: its size and sha256 (kept after a delete) */
	uploads: Array<{ size: number; sha256: string }>;
	byRoute: Record<string, number>;
}

export interface FakeReplicate {
	/** origin + prefix, e.g. http://127.0.0.1:PORT/v1 */
	apiUrl: string;
	apiOrigin: string;
	/** output files are served from this second origin, without auth */
	outputOrigin: string;
	sampleImageUrl: string;
	sampleMaskUrl: string;
	token: string;
	requests: RecordedRequest[];
	predictions: Map<string, Prediction>;
	webhookDeliveries: WebhookDelivery[];
	webhookSecret: string;
	stats(): FakeReplicateStats;
	inject(fault: Fault): void;
	scriptNextPrediction(script: PredictionScript): void;
	set(options: Partial<FakeReplicateOptions>): void;
	/** clears requests, faults, scripts, webhook deliveries and counters; keeps predictions and files */
	reset(): void;
	close(): Promise<void>;
}

interface Run {
	prediction: Prediction;
	seq: number;
	script: PredictionScript;
	seed: number;
	webhook?: string;
	webhookEvents: WebhookEvent[];
	webhookChain: Promise<void>;
	createdMs: number;
	startedMs?: number;
	completedMs?: number;
	timers: Set<NodeJS.Timeout>;
	waiters: Set<() => void>;
	modelDone: boolean;
	inputsReady: boolean;
	inputBytes?: { image: Buffer; mask: Buffer };
	purged: boolean;
	purgeTimer?: NodeJS.Timeout;
	abort: AbortController;
	stream: boolean;
}

interface FileObject {
	id: string;
	name: string;
	content_type: string;
	size: number;
	etag: string;
	checksums: { sha256: string; md5: string };
	metadata: Record<string, unknown>;
	created_at: string;
	expires_at: string;
	urls: { get: string };
}

interface StoredFile {
	object: FileObject;
	content: Buffer;
	seq: number;
	expiresMs: number;
}

interface Reply {
	status: number;
	headers?: Record<string, string>;
	json?: unknown;
	body?: Buffer | string;
	contentType?: string;
	/** streamed body (large padded outputs); length is its exact size */
	stream?: () => Readable;
	length?: number;
}

/** A handler that wrote the response itself (SSE). */
const HANDLED = Symbol('handled');
type HandlerResult = Reply | typeof HANDLED;

interface Exchange {
	origin: 'api' | 'output';
	req: http.IncomingMessage;
	res: http.ServerResponse;
	method: string;
	url: URL;
	/** path without the API prefix (api) or the full path (output) */
	path: string;
	body: Buffer;
	json?: unknown;
	jsonError?: string;
}

const TERMINAL: ReadonlySet<PredictionStatus> = new Set([
	'succeeded',
	'failed',
	'canceled',
	'aborted',
]);
const ID_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const MAX_BODY_BYTES = 110 * 1024 * 1024;
const MAX_FILE_BYTES = 100 * 1024 * 1024;
const MAX_INPUT_DOWNLOAD_BYTES = 64 * 1024 * 1024;
const FILE_LIFETIME_MS = 24 * 60 * 60 * 1000;
const RENDER_CACHE_BYTES = 256 * 1024 * 1024;
const PREPARED_CACHE_ENTRIES = 8;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

interface ApiRoute {
	method: string;
	pattern: RegExp;
	name: string;
	files?: boolean;
}

/** GET /models/{owner}/{name}/versions lists the one version this server runs, as Replicate lists versions. */
const MODEL_VERSION_ENTRY = {
	id: MODEL_VERSION_ID,
	created_at: '2022-12-02T19:47:38.000000Z',
	cog_version: '0.6.1',
	openapi_schema: {},
};

const API_ROUTES: ApiRoute[] = [
	{ method: 'POST', pattern: /^\/predictions$/, name: 'POST /predictions' },
	{ method: 'GET', pattern: /^\/predictions$/, name: 'GET /predictions' },
	{ method: 'GET', pattern: /^\/predictions\/([^/]+)$/, name: 'GET /predictions/{id}' },
	{
		method: 'POST',
		pattern: /^\/predictions\/([^/]+)\/cancel$/,
		name: 'POST /predictions/{id}/cancel',
	},
	{
		method: 'GET',
		pattern: /^\/predictions\/([^/]+)\/stream$/,
		name: 'GET /predictions/{id}/stream',
	},
	{ method: 'GET', pattern: /^\/account$/, name: 'GET /account' },
	{
		method: 'GET',
		pattern: /^\/models\/([^/]+\/[^/]+)\/versions$/,
		name: 'GET /models/{owner}/{name}/versions',
	},
	{ method: 'GET', pattern: /^\/webhooks\/default\/secret$/, name: 'GET /webhooks/default/secret' },
	{ method: 'POST', pattern: /^\/files$/, name: 'POST /files', files: true },
	{ method: 'GET', pattern: /^\/files$/, name: 'GET /files', files: true },
	{ method: 'GET', pattern: /^\/files\/([^/]+)$/, name: 'GET /files/{id}', files: true },
	{ method: 'DELETE', pattern: /^\/files\/([^/]+)$/, name: 'DELETE /files/{id}', files: true },
	{
		method: 'GET',
		pattern: /^\/files\/([^/]+)\/download$/,
		name: 'GET /files/{id}/download',
		files: true,
	},
];

function randomId(length: number): string {
	const bytes = crypto.randomBytes(length);
	let id = '';
	for (let i = 0; i < length; i++) id += ID_ALPHABET[bytes[i] & 31];
	return id;
}

function iso(ms: number): string {
	return new Date(ms).toISOString();
}

/** tqdm prints at most one progress line per this many ms (its default `mininterval`). */
const TQDM_MIN_INTERVAL_MS = 100;

/** tqdm's default progress line after `done` of `total` steps at `elapsedMs`. */
export function tqdmLine(done: number, total: number, elapsedMs: number): string {
	const fraction = done / total;
	const eighths = Math.floor(fraction * 80);
	const partial = eighths % 8 === 0 || done === total ? '' : ' ▏▎▍▌▋▊▉'[eighths % 8];
	const bar = ('█'.repeat(Math.floor(eighths / 8)) + partial).padEnd(10, ' ');
	const seconds = elapsedMs / 1000;
	const rate = done === 0 || seconds === 0 ? undefined : done / seconds;
	const remaining = rate === undefined ? '?' : tqdmInterval((total - done) / rate);
	const rateText =
		rate === undefined
			? '?it/s'
			: rate >= 1
				? `${rate.toFixed(2).padStart(5)}it/s`
				: `${(1 / rate).toFixed(2).padStart(5)}s/it`;
	const percent = String(Math.round(fraction * 100)).padStart(3);
	return `${percent}%|${bar}| ${done}/${total} [${tqdmInterval(seconds)}<${remaining}, ${rateText}]`;
}

/** tqdm's `format_interval`: MM:SS, or H:MM:SS from an hour on. */
function tqdmInterval(seconds: number): string {
	const whole = Math.floor(seconds);
	const [h, m, s] = [Math.floor(whole / 3600), Math.floor(whole / 60) % 60, whole % 60];
	const two = (n: number) => String(n).padStart(2, '0');
	return h > 0 ? `${h}:${two(m)}:${two(s)}` : `${two(m)}:${two(s)}`;
}

function problem(
	status: number,
	title: string,
	detail: string,
	extra?: Record<string, unknown>,
): Reply {
	return { status, json: { title, detail, status, ...extra } };
}

function fromProblem(p: Problem): Reply {
	const { title, detail, status, ...rest } = p;
	return { status, json: { title, detail, status, ...rest } };
}

const NOT_FOUND = (): Reply =>
	problem(404, 'Not found', 'The requested resource could not be found');
const UNAUTHENTICATED = (): Reply =>
	problem(401, 'Unauthenticated', 'You did not pass a valid authentication token');

function flattenHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
	const flat: Record<string, string> = {};
	for (const [name, value] of Object.entries(headers)) {
		if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
	}
	return flat;
}

function headerValue(req: http.IncomingMessage, name: string): string | undefined {
	const value = req.headers[name];
	return Array.isArray(value) ? value.join(', ') : value;
}

class BodyError extends Error {
	constructor(
		readonly status: number,
		message: string,
	) {
		super(message);
	}
}

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
	const chunks: Buffer[] = [];
	let size = 0;
	for await (const chunk of req) {
		size += (chunk as Buffer).length;
		if (size > MAX_BODY_BYTES)
			throw new BodyError(413, `Request body exceeds ${MAX_BODY_BYTES} bytes`);
		chunks.push(chunk as Buffer);
	}
	const raw = Buffer.concat(chunks);
	const encoding = (headerValue(req, 'content-encoding') ?? 'identity').trim().toLowerCase();
	try {
		if (encoding === 'identity' || encoding === '') return raw;
		if (encoding === 'gzip' || encoding === 'x-gzip')
			return zlib.gunzipSync(raw, { maxOutputLength: MAX_BODY_BYTES });
		if (encoding === 'deflate') return zlib.inflateSync(raw, { maxOutputLength: MAX_BODY_BYTES });
		if (encoding === 'br')
			return zlib.brotliDecompressSync(raw, { maxOutputLength: MAX_BODY_BYTES });
	} catch (error) {
		throw new BodyError(
			400,
			`Could not decode the ${encoding} request body: ${(error as Error).message}`,
		);
	}
	throw new BodyError(415, `Unsupported Content-Encoding ${encoding}`);
}

interface MultipartPart {
	name: string;
	filename?: string;
	contentType?: string;
	data: Buffer;
}

function headerParams(value: string): Record<string, string> {
	const params: Record<string, string> = {};
	for (const match of value.matchAll(/;\s*([^=;\s]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/g)) {
		const key = match[1].toLowerCase();
		params[key] = match[2] !== undefined ? match[2].replace(/\\(.)/g, '$1') : match[3].trim();
	}
	return params;
}

/** Parses multipart/form-data (RFC 7578); null when the body is not well formed. */
export function parseMultipart(body: Buffer, contentType: string): MultipartPart[] | null {
	const boundary = headerParams(contentType).boundary;
	if (!boundary) return null;
	const delimiter = Buffer.from(`--${boundary}`);
	const parts: MultipartPart[] = [];
	let position = body.indexOf(delimiter);
	if (position < 0) return null;
	for (;;) {
		position += delimiter.length;
		if (body.toString('latin1', position, position + 2) === '--') return parts;
		if (body.toString('latin1', position, position + 2) !== '\r\n') return null;
		position += 2;
		const headerEnd = body.indexOf('\r\n\r\n', position);
		if (headerEnd < 0) return null;
		const headers: Record<string, string> = {};
		for (const line of body.toString('utf8', position, headerEnd).split('\r\n')) {
			const colon = line.indexOf(':');
			if (colon > 0)
				headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
		}
		const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headerEnd + 4);
		if (next < 0) return null;
		const disposition = headers['content-disposition'] ?? '';
		if (!/^form-data\b/i.test(disposition)) return null;
		const params = headerParams(disposition);
		let filename = params.filename;
		const extended = params['filename*'];
		if (extended) {
			const m = /^[^']*'[^']*'(.*)$/.exec(extended);
			try {
				filename = decodeURIComponent(m ? m[1] : extended);
			} catch {
				filename = extended;
			}
		}
		if (params.name === undefined) return null;
		parts.push({
			name: params.name,
			filename,
			contentType: headers['content-type'],
			data: body.subarray(headerEnd + 4, next),
		});
		position = next + 2;
	}
}

export function* paddedPng(png: Buffer, totalBytes: number): Generator<Buffer> {
	// An ancillary, private chunk ('paDd') before IEND: decoders skip it, so the file stays a valid PNG.
	const padLength = totalBytes - png.length - 12;
	yield png.subarray(0, png.length - 12);
	const header = Buffer.alloc(8);
	header.writeUInt32BE(padLength, 0);
	header.write('paDd', 4, 'latin1');
	yield header;
	let crc = zlib.crc32(header.subarray(4));
	const zeros = Buffer.alloc(64 * 1024);
	for (let left = padLength; left > 0; left -= zeros.length) {
		const piece = left >= zeros.length ? zeros : zeros.subarray(0, left);
		crc = zlib.crc32(piece, crc);
		yield piece;
	}
	const tail = Buffer.alloc(4);
	tail.writeUInt32BE(crc >>> 0, 0);
	yield tail;
	yield png.subarray(png.length - 12);
}

/** Shortens long strings (data URIs) so admin listings stay small. */
function abbreviate(value: unknown): unknown {
	if (typeof value === 'string')
		return value.length > 256 ? `${value.slice(0, 64)}…(${value.length} chars)` : value;
	if (Array.isArray(value)) return value.map(abbreviate);
	if (value && typeof value === 'object')
		return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, abbreviate(v)]));
	return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

interface PageCursor {
	before?: number;
	after?: number;
}

class FakeReplicateServer implements FakeReplicate {
	apiUrl = '';
	apiOrigin = '';
	outputOrigin = '';
	sampleImageUrl = '';
	sampleMaskUrl = '';
	requests: RecordedRequest[] = [];
	predictions = new Map<string, Prediction>();
	webhookDeliveries: WebhookDelivery[] = [];
	readonly webhookSecret: string;

	private options: ResolvedOptions;
	private readonly webhookKey: Buffer;
	private readonly apiServer: http.Server;
	private readonly outputServer: http.Server;
	private readonly outgoingAgent = new http.Agent({ keepAlive: false });
	private readonly runs = new Map<string, Run>();
	private readonly files = new Map<string, StoredFile>();
	private readonly timers = new Set<NodeJS.Timeout>();
	private readonly wakeOnClose = new Set<() => void>();
	private faults: Array<{ fault: Fault; remaining: number; skip: number }> = [];
	private scripts: Array<{ script: PredictionScript; remaining: number }> = [];
	private readonly renderCache = new Map<string, Buffer>();
	private renderCacheBytes = 0;
	private readonly renders = new Map<string, Promise<Buffer>>();
	private readonly prepared = new Map<string, PreparedInputs>();
	private readonly samples = new Map<string, Buffer>();
	private sequence = 0;
	private creates = 0;
	private peakRunning = 0;
	private readonly uploads: Array<{ size: number; sha256: string }> = [];
	private tokenLeaks = 0;
	private byRoute: Record<string, number> = {};
	private closed = false;

	constructor(options: FakeReplicateOptions) {
		this.options = {
			...DEFAULT_OPTIONS,
			...checkedOptions(options),
			prefix: normalisePrefix(options.prefix ?? DEFAULT_OPTIONS.prefix),
		};
		this.webhookKey = crypto.randomBytes(24);
		this.webhookSecret = `whsec_${this.webhookKey.toString('base64')}`;
		this.apiServer = http.createServer((req, res) => this.serve('api', req, res));
		this.outputServer = http.createServer((req, res) => this.serve('output', req, res));
	}

	get token(): string {
		return this.options.token;
	}

	async listen(): Promise<void> {
		const listen = (server: http.Server, port: number) =>
			new Promise<number>((resolve, reject) => {
				server.once('error', reject);
				server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
			});
		const apiPort = await listen(this.apiServer, this.options.port);
		const outputPort = await listen(this.outputServer, this.options.outputPort);
		this.apiOrigin = `http://127.0.0.1:${apiPort}`;
		this.outputOrigin = `http://127.0.0.1:${outputPort}`;
		this.apiUrl = `${this.apiOrigin}${this.options.prefix}`;
		this.sampleImageUrl = `${this.outputOrigin}/samples/image.png`;
		this.sampleMaskUrl = `${this.outputOrigin}/samples/mask.png`;
	}

	// ---- public controls ----

	stats(): FakeReplicateStats {
		return {
			creates: this.creates,
			running: this.runningCount(),
			peakRunning: this.peakRunning,
			tokenToNonApiOrigin: this.tokenLeaks,
			files: [...this.files.keys()].filter((id) => this.findFile(id) !== undefined).length,
			uploads: [...this.uploads],
			byRoute: { ...this.byRoute },
		};
	}

	inject(fault: Fault): void {
		this.faults.push({ fault, remaining: fault.times ?? 1, skip: fault.skip ?? 0 });
	}

	scriptNextPrediction(script: PredictionScript): void {
		this.scripts.push({ script, remaining: script.times ?? 1 });
	}

	set(options: Partial<FakeReplicateOptions>): void {
		const changes = checkedOptions(options);
		if (changes.prefix !== undefined) changes.prefix = normalisePrefix(changes.prefix);
		for (const fixed of ['port', 'outputPort', 'prefix'] as const) {
			if (changes[fixed] !== undefined && changes[fixed] !== this.options[fixed]) {
				throw new Error(`${fixed} cannot be changed on a running fake Replicate`);
			}
		}
		this.options = { ...this.options, ...changes };
		if (options.retentionMs !== undefined)
			for (const run of this.runs.values()) this.schedulePurge(run);
	}

	reset(): void {
		// Emptied in place, so references a test already holds see the reset too.
		this.requests.length = 0;
		this.uploads.length = 0;
		this.webhookDeliveries.length = 0;
		this.faults = [];
		this.scripts = [];
		this.creates = 0;
		this.tokenLeaks = 0;
		this.byRoute = {};
		this.peakRunning = this.runningCount();
	}

	async close(): Promise<void> {
		if (this.closed) return;
		this.closed = true;
		for (const timer of this.timers) clearTimeout(timer);
		this.timers.clear();
		for (const run of this.runs.values()) run.abort.abort();
		for (const wake of this.wakeOnClose) wake();
		this.wakeOnClose.clear();
		this.outgoingAgent.destroy();
		const closeServer = (server: http.Server) =>
			new Promise<void>((resolve) => {
				server.close(() => resolve());
				server.closeAllConnections();
			});
		await Promise.all([closeServer(this.apiServer), closeServer(this.outputServer)]);
	}

	// ---- timers ----

	/** setTimeout that close() clears; after close nothing is scheduled (late callbacks must not keep the process up). */
	private after(ms: number, fn: () => void): NodeJS.Timeout | undefined {
		if (this.closed) return undefined;
		const timer = setTimeout(
			() => {
				this.timers.delete(timer);
				fn();
			},
			Math.max(0, ms),
		);
		this.timers.add(timer);
		return timer;
	}

	private cancel(timer: NodeJS.Timeout | undefined): void {
		if (!timer) return;
		clearTimeout(timer);
		this.timers.delete(timer);
	}

	/** Resolves after ms, or at once when the server closes. */
	private sleep(ms: number): Promise<void> {
		return new Promise((resolve) => {
			const wake = () => {
				this.cancel(timer);
				this.wakeOnClose.delete(wake);
				resolve();
			};
			const timer = this.after(ms, wake);
			this.wakeOnClose.add(wake);
		});
	}

	// ---- request plumbing ----

	private serve(
		origin: 'api' | 'output',
		req: http.IncomingMessage,
		res: http.ServerResponse,
	): void {
		this.onRequest(origin, req, res).catch((error: unknown) => {
			// A bug or a throwing mangle function must not become an unhandled rejection.
			if (!res.headersSent)
				this.write(
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
			return this.write(req, res, problem(400, 'Bad Request', 'Malformed request URL'));
		}
		if (origin === 'api' && url.pathname.startsWith('/__admin/'))
			return this.handleAdmin(req, res, method, url);

		let body: Buffer;
		try {
			body = await readBody(req);
		} catch (error) {
			const status = error instanceof BodyError ? error.status : 400;
			this.write(
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

		const prefix = this.options.prefix;
		const underPrefix =
			origin === 'api' && (url.pathname === prefix || url.pathname.startsWith(`${prefix}/`));
		const path =
			origin === 'api' && underPrefix ? url.pathname.slice(prefix.length) || '/' : url.pathname;
		const exchange: Exchange = { origin, req, res, method, url, path, body, json, jsonError };

		if (origin === 'output') {
			const token = this.options.token;
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
				: this.outputRouteName(method, path),
		);
		const fault = this.takeFault(origin, method, path);
		if (fault?.kind === 'reset-before-handling') {
			req.socket.destroy();
			return;
		}
		if (fault?.kind === 'status' && !fault.afterHandling) {
			const defaultBody =
				fault.status === 429
					? { detail: 'Request was throttled. Your rate limit resets in ~30s.', status: 429 }
					: {
							title: http.STATUS_CODES[fault.status] ?? 'Error',
							detail: 'Injected fault',
							status: fault.status,
						};
			const faultBody = fault.body === undefined ? defaultBody : fault.body;
			const reply: Reply =
				typeof faultBody === 'string'
					? {
							status: fault.status,
							body: faultBody,
							contentType: 'text/plain; charset=utf-8',
							headers: fault.headers,
						}
					: { status: fault.status, json: faultBody, headers: fault.headers };
			this.write(req, res, reply);
			return;
		}
		if (fault?.kind === 'non-json') {
			const html =
				'<!DOCTYPE html><html><head><title>Just a moment...</title></head><body><h1>Checking your browser</h1></body></html>';
			this.write(req, res, { status: 200, body: html, contentType: 'text/html; charset=utf-8' });
			return;
		}

		let result: HandlerResult;
		try {
			result =
				origin === 'api'
					? await this.handleApi(exchange, underPrefix)
					: await this.handleOutput(exchange);
		} catch (error) {
			result = problem(
				500,
				'Internal Server Error',
				`The fake Replicate failed: ${(error as Error).message}`,
			);
		}
		if (result === HANDLED) return;
		if (fault?.kind === 'status') {
			this.write(req, res, {
				status: fault.status,
				json: fault.body ?? {
					title: http.STATUS_CODES[fault.status] ?? 'Error',
					detail: 'Injected fault',
					status: fault.status,
				},
				headers: fault.headers,
			});
			return;
		}
		if (fault?.kind === 'delay') await this.sleep(fault.ms);
		if (fault?.kind === 'reset-before-response') {
			req.socket.destroy();
			return;
		}
		if (fault?.kind === 'mangle' && result.json !== undefined)
			result = { ...result, json: fault.mutate(structuredClone(result.json)) };
		this.write(req, res, result);
	}

	private takeFault(origin: 'api' | 'output', method: string, path: string): Fault | undefined {
		const index = this.faults.findIndex(
			({ fault }) =>
				(fault.origin ?? 'api') === origin &&
				(fault.method === undefined || fault.method.toUpperCase() === method) &&
				(fault.path === undefined || ((fault.path.lastIndex = 0), fault.path.test(path))),
		);
		if (index < 0) return undefined;
		const entry = this.faults[index];
		if (entry.skip > 0) {
			entry.skip--;
			return undefined;
		}
		if (--entry.remaining <= 0) this.faults.splice(index, 1);
		return entry.fault;
	}

	private count(route: string): void {
		this.byRoute[route] = (this.byRoute[route] ?? 0) + 1;
	}

	private routeName(method: string, path: string, underPrefix: boolean): string {
		if (!underPrefix) return 'unmatched';
		return API_ROUTES.find((r) => r.method === method && r.pattern.test(path))?.name ?? 'unmatched';
	}

	private outputRouteName(method: string, path: string): string {
		if (/^\/[^/]+\/out-\d+\.png$/.test(path)) return `output ${method} /{id}/out-{k}.png`;
		if (path.startsWith('/samples/')) return `output ${method} /samples/{name}`;
		return 'output unmatched';
	}

	private write(req: http.IncomingMessage, res: http.ServerResponse, reply: Reply): void {
		if (res.headersSent || res.destroyed) return;
		const headers: Record<string, string | number> = { ...reply.headers };
		const head = req.method === 'HEAD';
		if (reply.stream && reply.length !== undefined) {
			res.writeHead(reply.status, {
				'content-type': reply.contentType ?? 'application/octet-stream',
				'content-length': reply.length,
				...headers,
			});
			if (head) return void res.end();
			pipeline(reply.stream(), res, () => undefined);
			return;
		}
		let body: Buffer;
		let contentType = reply.contentType;
		if (reply.json !== undefined) {
			body = Buffer.from(JSON.stringify(reply.json));
			contentType ??= reply.status >= 400 ? 'application/problem+json' : 'application/json';
		} else {
			body =
				typeof reply.body === 'string' ? Buffer.from(reply.body) : (reply.body ?? Buffer.alloc(0));
		}
		if (contentType && reply.status !== 204) headers['content-type'] = contentType;
		// Compress JSON for clients that ask, as Replicate's CDN does.
		const acceptsGzip = /\bgzip\b/i.test(headerValue(req, 'accept-encoding') ?? '');
		if (acceptsGzip && body.length >= 1024 && contentType !== 'image/png') {
			body = zlib.gzipSync(body, { level: 1 });
			headers['content-encoding'] = 'gzip';
			headers.vary = 'Accept-Encoding';
		}
		if (reply.status !== 204) headers['content-length'] = body.length;
		res.writeHead(reply.status, headers);
		res.end(head || reply.status === 204 ? undefined : body);
	}

	// ---- API ----

	private authenticated(req: http.IncomingMessage): boolean {
		const header = headerValue(req, 'authorization') ?? '';
		const match = /^Bearer (.+)$/i.exec(header);
		if (!match) return false;
		const given = Buffer.from(match[1]);
		const expected = Buffer.from(this.options.token);
		return given.length === expected.length && crypto.timingSafeEqual(given, expected);
	}

	private async handleApi(ex: Exchange, underPrefix: boolean): Promise<HandlerResult> {
		if (!underPrefix) return NOT_FOUND();
		const route = API_ROUTES.find((r) => r.method === ex.method && r.pattern.test(ex.path));
		const pathKnown = API_ROUTES.filter((r) => r.pattern.test(ex.path));
		if (pathKnown.some((r) => r.files) && !this.options.filesEndpoint) return NOT_FOUND();
		if (!this.authenticated(ex.req)) return UNAUTHENTICATED();
		if (!route) {
			if (pathKnown.length === 0) return NOT_FOUND();
			const allow = pathKnown.map((r) => r.method).join(', ');
			return {
				...problem(405, 'Method Not Allowed', `Use ${allow} on this path`),
				headers: { allow },
			};
		}
		const id = route.pattern.exec(ex.path)?.[1] ?? '';
		switch (route.name) {
			case 'POST /predictions':
				return this.createPrediction(ex);
			case 'GET /predictions':
				return this.listPredictions(ex);
			case 'GET /predictions/{id}': {
				const run = this.findRun(id);
				return run ? { status: 200, json: structuredClone(run.prediction) } : NOT_FOUND();
			}
			case 'POST /predictions/{id}/cancel': {
				const run = this.findRun(id);
				if (!run) return NOT_FOUND();
				this.finish(run, 'canceled', null, 'Prediction canceled by request\n');
				return { status: 200, json: structuredClone(run.prediction) };
			}
			case 'GET /predictions/{id}/stream':
				return this.streamPrediction(ex, id);
			case 'GET /models/{owner}/{name}/versions':
				// Only the model this server runs exists; its one version is the one predictions accept.
				if (id !== MODEL_NAME) return NOT_FOUND();
				return this.page(
					ex,
					[{ seq: 1, value: { ...MODEL_VERSION_ENTRY } }],
					`/models/${MODEL_NAME}/versions`,
				);
			case 'GET /account':
				return {
					status: 200,
					json: { type: 'user', username: 'fake', name: 'Fake Replicate', github_url: null },
				};
			case 'GET /webhooks/default/secret':
				return { status: 200, json: { key: this.webhookSecret } };
			case 'POST /files':
				return this.uploadFile(ex);
			case 'GET /files':
				return this.listFiles(ex);
			case 'GET /files/{id}': {
				const file = this.findFile(id);
				return file ? { status: 200, json: file.object } : NOT_FOUND();
			}
			case 'DELETE /files/{id}': {
				if (!this.findFile(id)) return NOT_FOUND();
				this.files.delete(id);
				return { status: 204 };
			}
			case 'GET /files/{id}/download': {
				const file = this.findFile(id);
				return file
					? { status: 200, body: file.content, contentType: file.object.content_type }
					: NOT_FOUND();
			}
		}
		return NOT_FOUND();
	}

	private findRun(id: string): Run | undefined {
		const run = this.runs.get(id);
		if (run) this.purgeIfDue(run);
		return run;
	}

	private findFile(id: string): StoredFile | undefined {
		const file = this.files.get(id);
		if (file && file.expiresMs <= Date.now()) {
			this.files.delete(id);
			return undefined;
		}
		return file;
	}

	private async createPrediction(ex: Exchange): Promise<Reply> {
		let waitSeconds: number | null = null;
		if (this.options.honourPreferWait) {
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
		const checked = validateCreatePrediction(ex.json);
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
			model: MODEL_NAME,
			version: MODEL_VERSION_ID,
			input: request.input,
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
				get: `${this.apiUrl}/predictions/${id}`,
				cancel: `${this.apiUrl}/predictions/${id}/cancel`,
				web: `https://replicate.com/p/${id}`,
				...(request.stream ? { stream: `${this.apiUrl}/predictions/${id}/stream` } : {}),
			},
		};
		const run: Run = {
			prediction,
			seq: ++this.sequence,
			script,
			seed: request.input.seed ?? crypto.randomInt(0, 2 ** 32),
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
		this.sendWebhook(run, 'start');
		this.runTimer(run, this.options.startDelayMs, () => this.beginProcessing(run));
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
		const timer = this.after(ms, () => {
			if (timer) run.timers.delete(timer);
			fn();
		});
		if (timer) run.timers.add(timer);
	}

	private runningCount(): number {
		let running = 0;
		for (const run of this.runs.values()) if (!TERMINAL.has(run.prediction.status)) running++;
		return running;
	}

	private appendLogs(run: Run, text: string): void {
		run.prediction.logs += text;
		this.sendWebhook(run, 'logs');
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
		const steps = prediction.input.num_inference_steps ?? 50;
		this.appendLogs(run, `Using seed: ${run.seed}\n  0%|          | 0/${steps} [00:00<?, ?it/s]\n`);
		const modelTimeMs = run.script.modelTimeMs ?? this.options.modelTimeMs;
		run.inputsReady = outcome !== 'succeeded';
		if (!run.inputsReady) {
			this.loadInputs(run).then(
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

	/**
	 * The model's progress bar, as Replicate's `logs` show it while a prediction runs: tqdm prints a
	 * line when a step ends, at most every 100 ms (its `mininterval`), so a slow model logs every
	 * step and a fast one skips steps. The line after the one printed at `printedMs`.
	 */
	private scheduleProgress(run: Run, steps: number, modelTimeMs: number, printedMs: number): void {
		const stepMs = modelTimeMs / steps;
		const step = Math.max(
			Math.round(printedMs / stepMs) + 1,
			Math.ceil((printedMs + TQDM_MIN_INTERVAL_MS) / stepMs),
		);
		// The last step's line comes with the finish.
		if (step >= steps || run.startedMs === undefined) return;
		const at = step * stepMs;
		this.runTimer(run, run.startedMs + at - Date.now(), () => {
			this.appendLogs(run, `${tqdmLine(step, steps, at)}\n`);
			this.scheduleProgress(run, steps, modelTimeMs, at);
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
		for (const timer of run.timers) this.cancel(timer);
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
			const steps = prediction.input.num_inference_steps ?? 50;
			const modelTimeMs = run.script.modelTimeMs ?? this.options.modelTimeMs;
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
		if (prediction.output) this.sendWebhook(run, 'output');
		this.sendWebhook(run, 'completed');
		this.schedulePurge(run);
	}

	private outputUrls(run: Run): string[] {
		const count = run.prediction.input.num_outputs ?? 1;
		const id = run.prediction.id;
		return Array.from({ length: count }, (_, k) =>
			run.script.outputUrlScheme === 'file'
				? `file:///tmp/fake-replicate/${id}/out-${k}.png`
				: `${this.outputOrigin}/${id}/out-${k}.png`,
		);
	}

	private waitForTerminal(run: Run, ms: number): Promise<void> {
		if (TERMINAL.has(run.prediction.status)) return Promise.resolve();
		return new Promise((resolve) => {
			const wake = () => {
				this.cancel(timer);
				run.waiters.delete(wake);
				this.wakeOnClose.delete(wake);
				resolve();
			};
			const timer = this.after(ms, wake);
			run.waiters.add(wake);
			this.wakeOnClose.add(wake);
		});
	}

	// ---- retention ----

	private schedulePurge(run: Run): void {
		this.cancel(run.purgeTimer);
		run.purgeTimer = undefined;
		if (run.completedMs === undefined || run.purged) return;
		const due = run.completedMs + this.options.retentionMs - Date.now();
		run.purgeTimer = this.after(due, () => {
			run.purgeTimer = undefined;
			this.purgeIfDue(run);
		});
	}

	private purgeIfDue(run: Run): void {
		if (run.purged || run.completedMs === undefined) return;
		if (Date.now() - run.completedMs >= this.options.retentionMs) this.purge(run);
	}

	/** Replicate deletes an API prediction's input, output and logs after about an hour. */
	private purge(run: Run): void {
		run.purged = true;
		run.inputBytes = undefined;
		const prediction = run.prediction;
		prediction.output = null;
		prediction.input = {};
		prediction.logs = '';
		prediction.data_removed = true;
		this.prepared.delete(prediction.id);
		for (const key of [...this.renderCache.keys()]) {
			if (key.startsWith(`${prediction.id}/`)) {
				this.renderCacheBytes -= this.renderCache.get(key)?.length ?? 0;
				this.renderCache.delete(key);
			}
		}
	}

	// ---- the model ----

	private async loadInputs(run: Run): Promise<void> {
		const input = run.prediction.input as ModelInput;
		const [image, mask] = await Promise.all([
			this.fetchInput(run, 'image', input.image),
			this.fetchInput(run, 'mask', input.mask),
		]);
		if (TERMINAL.has(run.prediction.status)) return;
		// Decoding here is what makes a bad input fail the prediction, as the real model does.
		const prepared = prepareInputs(image, mask, input.width, input.height);
		run.inputBytes = { image, mask };
		this.rememberPrepared(run.prediction.id, prepared);
		// Render while the decoded inputs are at hand ("the model runs"); downloads then hit the cache.
		const script = run.script;
		if (!script.noOutput && !script.dataRemoved && script.outputUrlScheme !== 'file')
			this.renderMissing(run, input.num_outputs);
	}

	private async fetchInput(run: Run, field: string, value: string): Promise<Buffer> {
		if (value.startsWith('data:')) {
			const decoded = decodeDataUri(value);
			if (!decoded)
				throw new InputImageError(`cannot identify image file '${field}' (malformed data URI)`);
			return decoded.bytes;
		}
		const url = new URL(value);
		const filesPath = `${this.options.prefix}/files/`;
		if (url.origin === this.apiOrigin && url.pathname.startsWith(filesPath)) {
			const fileId = url.pathname.slice(filesPath.length).replace(/\/download$/, '');
			const file = this.findFile(fileId);
			if (!file)
				throw new Error(
					`Failed to download ${field}: file ${fileId} does not exist (deleted or expired)`,
				);
			return file.content;
		}
		if (!LOOPBACK_HOSTS.has(url.hostname) && url.hostname !== '::1') {
			throw new Error(
				`Failed to download ${field} from ${url.host}: this fake Replicate fetches only 127.0.0.1 URLs, never the internet`,
			);
		}
		if (url.protocol !== 'http:')
			throw new Error(
				`Failed to download ${field}: the fake Replicate fetches only http:// on 127.0.0.1`,
			);
		return this.httpGet(url, run.abort.signal, field);
	}

	private httpGet(url: URL, signal: AbortSignal, field: string): Promise<Buffer> {
		return new Promise((resolve, reject) => {
			const request = http.get(
				url,
				{
					agent: this.outgoingAgent,
					signal,
					timeout: 15_000,
					headers: { 'user-agent': 'fake-replicate-model/1' },
				},
				(response) => {
					if (response.statusCode !== 200) {
						response.resume();
						return reject(
							new Error(
								`Failed to download ${field}: HTTP ${response.statusCode} from ${url.href}`,
							),
						);
					}
					const chunks: Buffer[] = [];
					let size = 0;
					response.on('data', (chunk: Buffer) => {
						size += chunk.length;
						if (size > MAX_INPUT_DOWNLOAD_BYTES) {
							request.destroy();
							reject(
								new Error(
									`Failed to download ${field}: larger than ${MAX_INPUT_DOWNLOAD_BYTES} bytes`,
								),
							);
						} else chunks.push(chunk);
					});
					response.on('end', () => resolve(Buffer.concat(chunks)));
					response.on('error', reject);
				},
			);
			request.on('timeout', () => request.destroy(new Error('timed out')));
			request.on('error', (error) =>
				reject(new Error(`Failed to download ${field} from ${url.href}: ${error.message}`)),
			);
		});
	}

	private rememberPrepared(id: string, prepared: PreparedInputs): void {
		this.prepared.delete(id);
		this.prepared.set(id, prepared);
		while (this.prepared.size > PREPARED_CACHE_ENTRIES)
			this.prepared.delete(this.prepared.keys().next().value as string);
	}

	private preparedFor(run: Run): PreparedInputs {
		const id = run.prediction.id;
		const cached = this.prepared.get(id);
		if (cached) {
			this.rememberPrepared(id, cached);
			return cached;
		}
		if (!run.inputBytes) throw new Error(`inputs of ${id} are gone`);
		const input = run.prediction.input as ModelInput;
		const prepared = prepareInputs(
			run.inputBytes.image,
			run.inputBytes.mask,
			input.width,
			input.height,
		);
		this.rememberPrepared(id, prepared);
		return prepared;
	}

	/**
	 * Outputs are rendered while the prediction processes and cached as compressed PNGs (bounded;
	 * rendering is deterministic, so an evicted one is rendered again on download). All of a
	 * prediction's outputs are rendered together, so its inputs are decoded once.
	 */
	private renderOutput(run: Run, index: number): Promise<Buffer> {
		const key = `${run.prediction.id}/${index}`;
		const cached = this.renderCache.get(key);
		if (cached) {
			this.renderCache.delete(key);
			this.renderCache.set(key, cached);
			return Promise.resolve(cached);
		}
		if (!this.renders.has(key)) this.renderMissing(run, run.prediction.output?.length ?? 0);
		return (
			this.renders.get(key) ?? Promise.reject(new Error(`output ${key} could not be rendered`))
		);
	}

	private renderMissing(run: Run, count: number): void {
		const input = run.prediction.input as ModelInput;
		let prepared: PreparedInputs | undefined;
		for (let index = 0; index < count; index++) {
			const key = `${run.prediction.id}/${index}`;
			if (this.renderCache.has(key) || this.renders.has(key)) continue;
			let render: Promise<Buffer>;
			try {
				prepared ??= this.preparedFor(run);
				const image = inpaint(prepared, {
					prompt: input.prompt,
					negativePrompt: input.negative_prompt ?? '',
					seed: run.seed,
					index,
				});
				render = encodePngAsync(image, { level: 1, filter: 2 }).then((png) => {
					if (!run.purged) this.cacheRender(key, png);
					return png;
				});
			} catch (error) {
				render = Promise.reject(error);
			}
			this.renders.set(key, render);
			const forget = () => this.renders.delete(key);
			render.then(forget, forget);
		}
	}

	private cacheRender(key: string, png: Buffer): void {
		this.renderCache.set(key, png);
		this.renderCacheBytes += png.length;
		for (const [oldKey, old] of this.renderCache) {
			if (this.renderCacheBytes <= RENDER_CACHE_BYTES) break;
			this.renderCache.delete(oldKey);
			this.renderCacheBytes -= old.length;
		}
	}

	// ---- output origin ----

	private async handleOutput(ex: Exchange): Promise<Reply> {
		if (ex.method !== 'GET' && ex.method !== 'HEAD')
			return {
				status: 405,
				body: 'Method Not Allowed',
				contentType: 'text/plain',
				headers: { allow: 'GET, HEAD' },
			};
		const notFound: Reply = {
			status: 404,
			body: 'Not Found',
			contentType: 'text/plain; charset=utf-8',
		};
		const sample = /^\/samples\/(image|mask)\.png$/.exec(ex.path);
		if (sample) {
			const width = Number(ex.url.searchParams.get('width') ?? 512);
			const height = Number(ex.url.searchParams.get('height') ?? 512);
			if (
				!(
					Number.isInteger(width) &&
					Number.isInteger(height) &&
					width > 0 &&
					height > 0 &&
					width * height <= 4096 * 4096
				)
			)
				return notFound;
			const key = `${sample[1]}:${width}x${height}`;
			let png = this.samples.get(key);
			if (!png) {
				png = makeSamplePng(width, height, sample[1] as 'image' | 'mask');
				this.samples.set(key, png);
			}
			return { status: 200, body: png, contentType: 'image/png' };
		}
		const output = /^\/([^/]+)\/out-(\d+)\.png$/.exec(ex.path);
		if (!output) return notFound;
		const run = this.findRun(output[1]);
		const index = Number(output[2]);
		if (
			!run ||
			run.prediction.status !== 'succeeded' ||
			run.purged ||
			!run.prediction.output ||
			run.script.outputUrlScheme === 'file'
		)
			return notFound;
		if (index >= run.prediction.output.length) return notFound;
		const png = await this.renderOutput(run, index);
		const headers = { 'cache-control': 'public, max-age=3600' };
		const padTo = run.script.outputBytes ?? 0;
		if (padTo >= png.length + 12) {
			return {
				status: 200,
				contentType: 'image/png',
				headers,
				length: padTo,
				stream: () => Readable.from(paddedPng(png, padTo)),
			};
		}
		return { status: 200, body: png, contentType: 'image/png', headers };
	}

	// ---- lists, streams, files ----

	private page<T>(ex: Exchange, items: Array<{ seq: number; value: T }>, route: string): Reply {
		const size = Math.max(1, Math.floor(this.options.pageSize));
		let cursor: PageCursor = {};
		const raw = ex.url.searchParams.get('cursor');
		if (raw !== null) {
			try {
				cursor = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as PageCursor;
				if (!isRecord(cursor)) throw new Error('not an object');
			} catch {
				return problem(400, 'Bad Request', 'Invalid cursor');
			}
		}
		const newestFirst = [...items].sort((a, b) => b.seq - a.seq);
		let pageItems: typeof items;
		if (typeof cursor.after === 'number') {
			const newer = newestFirst.filter((i) => i.seq > (cursor.after as number));
			pageItems = newer.slice(Math.max(0, newer.length - size));
		} else {
			const older =
				typeof cursor.before === 'number'
					? newestFirst.filter((i) => i.seq < (cursor.before as number))
					: newestFirst;
			pageItems = older.slice(0, size);
		}
		const link = (c: PageCursor) =>
			`${this.apiUrl}${route}?cursor=${Buffer.from(JSON.stringify(c)).toString('base64url')}`;
		const first = pageItems[0];
		const last = pageItems[pageItems.length - 1];
		const hasOlder = last !== undefined && newestFirst.some((i) => i.seq < last.seq);
		const hasNewer = first !== undefined && newestFirst.some((i) => i.seq > first.seq);
		return {
			status: 200,
			json: {
				next: hasOlder ? link({ before: last.seq }) : null,
				previous: hasNewer ? link({ after: first.seq }) : null,
				results: pageItems.map((i) => i.value),
			},
		};
	}

	private listPredictions(ex: Exchange): Reply {
		const items = [...this.runs.values()].map((run) => {
			this.purgeIfDue(run);
			return { seq: run.seq, value: structuredClone(run.prediction) };
		});
		return this.page(ex, items, '/predictions');
	}

	private streamPrediction(ex: Exchange, id: string): HandlerResult {
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
				for (const url of p.output ?? []) res.write(`event: output\ndata: ${url}\n\n`);
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
				this.wakeOnClose.delete(wake);
				if (!res.destroyed) sendFinal();
			};
			run.waiters.add(wake);
			this.wakeOnClose.add(wake);
			res.on('close', () => {
				run.waiters.delete(wake);
				this.wakeOnClose.delete(wake);
			});
		}
		return HANDLED;
	}

	private uploadFile(ex: Exchange): Reply {
		const contentType = headerValue(ex.req, 'content-type') ?? '';
		if (!/^multipart\/form-data\b/i.test(contentType)) {
			return problem(
				400,
				'Bad Request',
				'Expected a multipart/form-data body with a "content" part',
			);
		}
		const parts = parseMultipart(ex.body, contentType);
		if (!parts) return problem(400, 'Bad Request', 'Malformed multipart/form-data body');
		const field = (name: string) => parts.find((p) => p.name === name);
		const content = field('content');
		if (!content) return problem(400, 'Bad Request', 'The multipart body has no "content" part');
		if (content.data.length > MAX_FILE_BYTES)
			return problem(413, 'Payload Too Large', `Files are limited to ${MAX_FILE_BYTES} bytes`);
		let metadata: Record<string, unknown> = {};
		const metadataPart = field('metadata');
		if (metadataPart) {
			try {
				const parsed: unknown = JSON.parse(metadataPart.data.toString('utf8'));
				if (!isRecord(parsed)) throw new Error('not an object');
				metadata = parsed;
			} catch {
				return problem(400, 'Bad Request', 'metadata must be a JSON object');
			}
		}
		const now = Date.now();
		const id = randomId(36);
		const md5 = crypto.createHash('md5').update(content.data).digest('hex');
		const object: FileObject = {
			id,
			name: field('filename')?.data.toString('utf8') || content.filename || 'file',
			content_type:
				field('type')?.data.toString('utf8') || content.contentType || 'application/octet-stream',
			size: content.data.length,
			etag: md5,
			checksums: { sha256: crypto.createHash('sha256').update(content.data).digest('hex'), md5 },
			metadata,
			created_at: iso(now),
			expires_at: iso(now + FILE_LIFETIME_MS),
			urls: { get: `${this.apiUrl}/files/${id}` },
		};
		this.files.set(id, {
			object,
			content: Buffer.from(content.data),
			seq: ++this.sequence,
			expiresMs: now + FILE_LIFETIME_MS,
		});
		this.uploads.push({ size: object.size, sha256: object.checksums.sha256 });
		return { status: 201, json: object };
	}

	private listFiles(ex: Exchange): Reply {
		const items = [...this.files.keys()]
			.map((id) => this.findFile(id))
			.filter((f): f is StoredFile => f !== undefined)
			.map((f) => ({ seq: f.seq, value: f.object }));
		return this.page(ex, items, '/files');
	}

	// ---- webhooks ----

	private sendWebhook(run: Run, event: WebhookEvent): void {
		const target = run.webhook;
		if (!target || !run.webhookEvents.includes(event) || this.closed) return;
		// Snapshot now: the delivery describes the prediction at the moment of the event.
		const body = JSON.stringify(run.prediction);
		run.webhookChain = run.webhookChain.then(() =>
			this.deliverWebhook(run.prediction.id, event, target, body),
		);
	}

	private async deliverWebhook(
		predictionId: string,
		event: WebhookEvent,
		target: string,
		body: string,
	): Promise<void> {
		const webhookId = `msg_${randomId(27)}`;
		const delivery: WebhookDelivery = {
			predictionId,
			event,
			url: target,
			webhookId,
			attempts: 0,
			status: null,
			at: Date.now(),
		};
		this.webhookDeliveries.push(delivery);
		const url = new URL(target);
		if (!LOOPBACK_HOSTS.has(url.hostname) || url.protocol !== 'http:') {
			delivery.error = 'not delivered: the fake Replicate posts webhooks only to http://127.0.0.1';
			return;
		}
		const { webhookRetries, webhookRetryDelayMs } = this.options;
		for (let attempt = 0; attempt <= webhookRetries && !this.closed; attempt++) {
			if (attempt > 0) await this.sleep(webhookRetryDelayMs * 2 ** (attempt - 1));
			if (this.closed) return;
			const timestamp = Math.floor(Date.now() / 1000).toString();
			const signature = crypto
				.createHmac('sha256', this.webhookKey)
				.update(`${webhookId}.${timestamp}.${body}`)
				.digest('base64');
			delivery.attempts++;
			try {
				delivery.status = await this.post(url, body, {
					'content-type': 'application/json',
					'user-agent': 'Replicate-Webhooks/fake',
					'webhook-id': webhookId,
					'webhook-timestamp': timestamp,
					'webhook-signature': `v1,${signature}`,
				});
				delivery.error = undefined;
				if (delivery.status >= 200 && delivery.status < 300) return;
			} catch (error) {
				delivery.status = null;
				delivery.error = (error as Error).message;
			}
		}
	}

	private post(url: URL, body: string, headers: Record<string, string>): Promise<number> {
		return new Promise((resolve, reject) => {
			const request = http.request(
				url,
				{
					method: 'POST',
					agent: this.outgoingAgent,
					timeout: 10_000,
					headers: { ...headers, 'content-length': Buffer.byteLength(body) },
				},
				(response) => {
					response.resume();
					response.on('end', () => resolve(response.statusCode ?? 0));
					response.on('error', reject);
				},
			);
			request.on('timeout', () => request.destroy(new Error('timed out')));
			request.on('error', reject);
			request.end(body);
		});
	}

	// ---- admin (no auth, outside the prefix) ----

	private async handleAdmin(
		req: http.IncomingMessage,
		res: http.ServerResponse,
		method: string,
		url: URL,
	): Promise<void> {
		let json: unknown;
		try {
			const body = await readBody(req);
			json = body.length > 0 ? JSON.parse(body.toString('utf8')) : undefined;
		} catch (error) {
			return this.write(req, res, problem(400, 'Bad Request', (error as Error).message));
		}
		const route = `${method} ${url.pathname}`;
		const ok = (value: unknown): Reply => ({ status: 200, json: value });
		let reply: Reply;
		try {
			switch (route) {
				case 'GET /__admin/requests': {
					const origin = url.searchParams.get('origin');
					const full = url.searchParams.get('full') === '1';
					const selected = this.requests.filter((r) => origin === null || r.origin === origin);
					reply = ok(full ? selected : selected.map((r) => ({ ...r, json: abbreviate(r.json) })));
					break;
				}
				case 'GET /__admin/stats':
					reply = ok(this.stats());
					break;
				case 'GET /__admin/predictions':
					reply = ok(abbreviate([...this.predictions.values()]));
					break;
				case 'GET /__admin/webhooks':
					reply = ok(this.webhookDeliveries);
					break;
				case 'POST /__admin/reset':
					this.reset();
					reply = { status: 204 };
					break;
				case 'POST /__admin/options': {
					if (!isRecord(json)) throw new Error('expected a JSON object of options');
					this.set(json as Partial<FakeReplicateOptions>);
					reply = ok(this.options);
					break;
				}
				case 'POST /__admin/script':
					if (!isRecord(json)) throw new Error('expected a JSON PredictionScript');
					this.scriptNextPrediction(json as PredictionScript);
					reply = ok({ queued: this.scripts.length });
					break;
				case 'POST /__admin/fault':
					this.inject(faultFromJson(json));
					reply = ok({ queued: this.faults.length });
					break;
				default:
					reply = problem(404, 'Not found', `No admin route ${route}`);
			}
		} catch (error) {
			reply = problem(400, 'Bad Request', (error as Error).message);
		}
		this.write(req, res, reply);
	}
}

/**
 * A fault described in JSON (for /__admin/fault): `path` is a RegExp source, and a 'mangle' fault
 * gives `set` (top-level fields to overwrite) and/or `delete` (top-level fields to drop).
 */
function faultFromJson(json: unknown): Fault {
	if (!isRecord(json) || typeof json.kind !== 'string')
		throw new Error('expected a JSON fault with a kind');
	const target: FaultTarget = {
		origin: json.origin === 'output' ? 'output' : 'api',
		method: typeof json.method === 'string' ? json.method : undefined,
		path: typeof json.path === 'string' ? new RegExp(json.path) : undefined,
		times: typeof json.times === 'number' ? json.times : undefined,
		skip: typeof json.skip === 'number' ? json.skip : undefined,
	};
	switch (json.kind) {
		case 'status':
			if (typeof json.status !== 'number') throw new Error('a status fault needs a numeric status');
			return {
				...target,
				kind: 'status',
				status: json.status,
				body: json.body,
				headers: isRecord(json.headers) ? (json.headers as Record<string, string>) : undefined,
				afterHandling: json.afterHandling === true,
			};
		case 'delay':
			if (typeof json.ms !== 'number') throw new Error('a delay fault needs ms');
			return { ...target, kind: 'delay', ms: json.ms };
		case 'reset-before-response':
		case 'reset-before-handling':
		case 'non-json':
			return { ...target, kind: json.kind };
		case 'mangle': {
			const set = isRecord(json.set) ? json.set : {};
			const drop = Array.isArray(json.delete)
				? json.delete.filter((k): k is string => typeof k === 'string')
				: [];
			return {
				...target,
				kind: 'mangle',
				mutate: (body: Record<string, unknown>) => {
					for (const key of drop) delete body[key];
					return { ...body, ...set };
				},
			};
		}
	}
	throw new Error(`unknown fault kind ${json.kind}`);
}

function normalisePrefix(prefix: string): string {
	const trimmed = prefix.replace(/\/+$/, '');
	return trimmed === '' || trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

/** Rejects unknown option names and wrong types (options also arrive as JSON through /__admin/options). */
function checkedOptions(options: Partial<FakeReplicateOptions>): Partial<ResolvedOptions> {
	const checked: Record<string, unknown> = {};
	for (const [name, value] of Object.entries(options)) {
		if (value === undefined) continue;
		if (!Object.hasOwn(DEFAULT_OPTIONS, name)) throw new Error(`unknown option ${name}`);
		const expected = typeof DEFAULT_OPTIONS[name as keyof ResolvedOptions];
		if (
			typeof value !== expected ||
			(expected === 'number' && !(Number.isFinite(value) && (value as number) >= 0))
		) {
			throw new Error(
				`option ${name} must be a ${expected === 'number' ? 'non-negative number' : expected}`,
			);
		}
		checked[name] = value;
	}
	return checked as Partial<ResolvedOptions>;
}

export async function startFakeReplicate(
	options: FakeReplicateOptions = {},
): Promise<FakeReplicate> {
	const server = new FakeReplicateServer(options);
	try {
		await server.listen();
	} catch (error) {
		await server.close();
		throw error;
	}
	return server;
}
