/** The fake Replicate's public types, and the internal ones its resource modules share. */
import type http from 'node:http';
import type { Readable } from 'node:stream';

import type { RunTarget, WebhookEvent } from './validation';

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
	/** as checked, with the schema's defaults; secret inputs redacted */
	input: Record<string, unknown>;
	logs: string;
	/** as the model's Output schema says: one URL, or an array of them */
	output: string | string[] | null;
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
	/** Where Replicate calls about it, as created (a prediction object carries its own). */
	webhook?: string;
	webhook_events_filter?: string[];
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

export interface FaultTarget {
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

/** A prediction as the server runs it: the public JSON plus what the simulation needs. */
export interface Run {
	prediction: Prediction;
	/** the model and version it runs */
	target: RunTarget;
	/** the input the model gets: as checked, secrets readable */
	input: Record<string, unknown>;
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
	/** the fetched files of each `format: uri` input (an array input has several) */
	inputBytes?: Map<string, Buffer[]>;
	purged: boolean;
	purgeTimer?: NodeJS.Timeout;
	abort: AbortController;
	stream: boolean;
}

export interface Reply {
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
export const HANDLED = Symbol('handled');
export type HandlerResult = Reply | typeof HANDLED;

export interface Exchange {
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

/** One API endpoint: the resource module that owns it answers it. */
export interface ApiRoute {
	method: string;
	pattern: RegExp;
	name: string;
	/** part of the files API, which `filesEndpoint: false` hides */
	files?: boolean;
	/** `id` is the pattern's first group, or '' */
	handle(ex: Exchange, id: string): HandlerResult | Promise<HandlerResult>;
}

/** The statuses a prediction ends in. */
export const TERMINAL: ReadonlySet<PredictionStatus> = new Set([
	'succeeded',
	'failed',
	'canceled',
	'aborted',
]);
