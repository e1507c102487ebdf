/**
 * The fault matrix (issue 3): every fault the API and the network can produce, met by every
 * operation that can meet it, run through n8n's real engine against the Replicate-compatible
 * server's fault switches. Each row states its setup and its outcome (success, a precise error,
 * or a stopped execution); across the whole matrix the afterAll asserts and prints, computed from
 * the server's records and the runs' own data:
 *   - predictions created per item ≤ 1 (no second paid prediction),
 *   - predictions left running = 0 (the server says),
 *   - requests carrying the token to any origin but the API = 0,
 *   - the token's text in any output, error or log line = 0.
 */
import type { IDataObject, INodeExecutionData, INodeParameters } from 'n8n-workflow';

import type { FakeReplicate, FakeReplicateOptions, Prediction, RecordedRequest } from '../server';
import { makeSamplePng, startFakeReplicate } from '../server';
import type { NodeRun } from '../node/support';
import { binaryItem, eventually, runNode, urlInputs } from '../node/support';
import type { Sink } from './support';
import { allText, cancelAsTest, isTerminal, lateApi, occurrences, seedPrediction, sinkRequestsCarrying, startSink } from './support';

const TOKEN = 'r8_SECRET_fault_matrix_token';
/** Searched for without its prefix, so a token shown in part ("…SECRET_fault_matrix_token") counts too. */
const TOKEN_TEXT = TOKEN.slice('r8_'.length);

type Operation = 'createAndWait' | 'createOnly' | 'get' | 'cancel';
const OPERATION_LABEL: Record<Operation, string> = {
	createAndWait: 'Create and Wait',
	createOnly: 'Create Only',
	get: 'Get (wait + download)',
	cancel: 'Cancel',
};

const SERVER_DEFAULTS: Partial<FakeReplicateOptions> = {
	modelTimeMs: 100,
	startDelayMs: 10,
	honourPreferWait: true,
	retentionMs: 60 * 60 * 1000,
	filesEndpoint: true,
};

/** What a row saw: the server's records of the node's run and the run itself. */
interface RowContext {
	server: FakeReplicate;
	sink: Sink;
	/** The prediction the row is about: the test's own (Get, Cancel) or the one the node created. */
	id: string;
	seedId?: string;
	/** Predictions created while the node ran. */
	created: Prediction[];
	/** Requests the server received while the node ran. */
	requests: RecordedRequest[];
	run: NodeRun;
	durationMs: number;
}

type Expected =
	| { outcome: 'success'; status?: string; binaries?: number; items?: number }
	| { outcome: 'error'; message: (ctx: RowContext) => string | RegExp; description?: RegExp | RegExp[] }
	| { outcome: 'stopped' };

interface Row {
	fault: string;
	operation: Operation;
	server?: Partial<FakeReplicateOptions>;
	/** A prediction the test starts first, through the API (Get and Cancel act on it). */
	seed?: { until: 'terminal' | 'running'; script?: Parameters<FakeReplicate['scriptNextPrediction']>[0] };
	/** Faults and scripts for the node's run. */
	arrange?: (server: FakeReplicate, sink: Sink, seedId?: string) => void;
	options?: INodeParameters;
	parameters?: INodeParameters;
	items?: number;
	inputItems?: (server: FakeReplicate) => INodeExecutionData[];
	stopAfterMs?: number;
	/** A credential Base URL where nothing listens for this long (connections refused), then the API; Infinity: never. */
	refuseConnectionsForMs?: number;
	expect: Expected;
	check?: (ctx: RowContext) => void | Promise<void>;
}

interface Tally {
	row: string;
	passed: boolean;
	outcome: string;
	createsPerItemMax: number;
	leftRunning: number;
	tokenToNonApiOrigin: number;
	tokenInOutputOrError: number;
}

const tallies: Tally[] = [];

// ---- small readers of the server's records ----

const isCreate = (request: RecordedRequest) => request.origin === 'api' && request.method === 'POST' && /\/predictions$/.test(request.path);
const createPosts = (ctx: RowContext) => ctx.requests.filter(isCreate);
const polls = (ctx: RowContext) =>
	ctx.requests.filter((request) => request.origin === 'api' && request.method === 'GET' && /\/predictions\/[^/]+$/.test(request.path));
const cancels = (ctx: RowContext) => ctx.requests.filter((request) => request.origin === 'api' && /\/cancel$/.test(request.path));
const downloads = (ctx: RowContext) => ctx.requests.filter((request) => request.origin === 'output' && /\/out-\d+\.png$/.test(request.path));
const deletes = (ctx: RowContext) => ctx.requests.filter((request) => request.origin === 'api' && request.method === 'DELETE');
const gap = (list: RecordedRequest[]) => list[1].at - list[0].at;

// ---- fault shorthands ----

const CREATE = /^\/predictions$/;
const GET_ONE = /^\/predictions\/[^/]+$/;
const CANCEL = /^\/predictions\/[^/]+\/cancel$/;
const OUTPUT = /\/out-\d+\.png$/;

const MAY_EXIST = 'Creating the prediction failed, and a prediction may have been created anyway: ';
const MAY_EXIST_HINT = /GET \/predictions/;
const EXPIRED_HINT = /about an hour after they finish/;
const HTML = '<!DOCTYPE html><html><head><title>Just a moment...</title></head><body><h1>Checking your browser</h1></body></html>';
const KNOWN_HINT = /^Known statuses: starting, processing, succeeded, failed, canceled, aborted\.(\n|$)/;
/** The node cancelled a prediction it started and could no longer follow. */
const CANCELLED_HINT = /The node cancelled prediction [a-z0-9]+, so it does not run on unobserved\.$/;
const STATUS_TITLE: Record<number, string> = { 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable' };

/** The node cancelled the prediction it started: the server has it canceled, through the node's request. */
const cancelledByNode = (ctx: RowContext) => {
	expect(cancels(ctx).map((request) => request.path)).toEqual([expect.stringMatching(new RegExp(`/predictions/${ctx.id}/cancel$`))]);
	expect(ctx.server.predictions.get(ctx.id)!.status).toBe('canceled');
};
const noCreate = (ctx: RowContext) => expect(ctx.server.stats().creates).toBe(0);
const onePost = (ctx: RowContext) => expect(createPosts(ctx)).toHaveLength(1);
/** The wait ended within about one poll interval of the moment it should have. */
const endsWithin = (endsByMs: number) => (ctx: RowContext) => expect(ctx.durationMs).toBeLessThan(endsByMs);
const all =
	(...checks: Array<(ctx: RowContext) => void>) =>
	(ctx: RowContext) =>
		checks.forEach((check) => check(ctx));

/**
 * Retry-After as an HTTP date, at least `seconds` whole seconds ahead (dates have no milliseconds).
 * The wait it asks for (≥ 1.5 s once the run has started) is longer than any first backoff (≤ 1 s),
 * so a gap that long shows the date was honoured.
 */
const httpDateSecondsAhead = (seconds: number) => new Date(Math.ceil(Date.now() / 1000 + seconds) * 1000).toUTCString();
const RETRY_AFTER_DATE_MIN_MS = 1_500;

const SUCCESS_WITH_IMAGE: Expected = { outcome: 'success', status: 'succeeded', binaries: 1 };

// ---- the matrix ----

const rows: Row[] = [
	// 429: retried by every request kind, after Retry-After (seconds or HTTP date) or a backoff.
	{
		fault: '429 with Retry-After: 1 on create',
		operation: 'createAndWait',
		arrange: (s) => s.inject({ method: 'POST', path: CREATE, kind: 'status', status: 429, headers: { 'retry-after': '1' } }),
		expect: SUCCESS_WITH_IMAGE,
		check: (ctx) => {
			expect(createPosts(ctx)).toHaveLength(2);
			expect(gap(createPosts(ctx))).toBeGreaterThanOrEqual(950);
		},
	},
	{
		fault: '429 with Retry-After as an HTTP date on create',
		operation: 'createAndWait',
		arrange: (s) =>
			s.inject({ method: 'POST', path: CREATE, kind: 'status', status: 429, headers: { 'retry-after': httpDateSecondsAhead(2) } }),
		expect: SUCCESS_WITH_IMAGE,
		check: (ctx) => {
			expect(createPosts(ctx)).toHaveLength(2);
			expect(gap(createPosts(ctx))).toBeGreaterThanOrEqual(RETRY_AFTER_DATE_MIN_MS);
		},
	},
	{
		fault: '429 without Retry-After on create',
		operation: 'createAndWait',
		arrange: (s) => s.inject({ method: 'POST', path: CREATE, kind: 'status', status: 429 }),
		expect: SUCCESS_WITH_IMAGE,
		check: (ctx) => {
			expect(createPosts(ctx)).toHaveLength(2);
			// Backoff with jitter: 1 s × (0.5 … 1) before the first retry.
			expect(gap(createPosts(ctx))).toBeGreaterThanOrEqual(450);
		},
	},
	{
		fault: '429 on every create, beyond Max Retries (1)',
		operation: 'createAndWait',
		options: { maxRetries: 1 },
		arrange: (s) => s.inject({ method: 'POST', path: CREATE, kind: 'status', status: 429, headers: { 'retry-after': '0' }, times: 5 }),
		expect: {
			outcome: 'error',
			message: () => 'Replicate API error 429 on POST /predictions: HTTP 429 (Request was throttled. Your rate limit resets in ~30s.)',
			description: /throttled/,
		},
		check: all(noCreate, (ctx) => expect(createPosts(ctx)).toHaveLength(2)),
	},
	{
		fault: '429 with Retry-After: 1 on create, 3 items',
		operation: 'createAndWait',
		items: 3,
		options: { maxConcurrent: 3, downloadOutputs: false },
		arrange: (s) => s.inject({ method: 'POST', path: CREATE, kind: 'status', status: 429, headers: { 'retry-after': '1' }, times: 2 }),
		expect: { outcome: 'success', status: 'succeeded', items: 3 },
		check: (ctx) => {
			expect(ctx.server.stats().creates).toBe(3);
			expect(createPosts(ctx)).toHaveLength(5);
		},
	},
	{
		fault: '429 with Retry-After: 1 on create (webhook to another origin)',
		operation: 'createOnly',
		parameters: {},
		arrange: (s) => s.inject({ method: 'POST', path: CREATE, kind: 'status', status: 429, headers: { 'retry-after': '1' } }),
		expect: { outcome: 'success', status: 'starting' },
		check: (ctx) => {
			expect(createPosts(ctx)).toHaveLength(2);
			expect(createPosts(ctx)[1].json).toMatchObject({ webhook: `${ctx.sink.origin}/webhook/replicate` });
		},
	},
	{
		fault: '429 with Retry-After as an HTTP date on get',
		operation: 'get',
		seed: { until: 'terminal' },
		arrange: (s) => s.inject({ method: 'GET', path: GET_ONE, kind: 'status', status: 429, headers: { 'retry-after': httpDateSecondsAhead(2) } }),
		expect: SUCCESS_WITH_IMAGE,
		check: (ctx) => expect(gap(polls(ctx))).toBeGreaterThanOrEqual(RETRY_AFTER_DATE_MIN_MS),
	},
	{
		fault: '429 without Retry-After on get',
		operation: 'get',
		seed: { until: 'terminal' },
		arrange: (s) => s.inject({ method: 'GET', path: GET_ONE, kind: 'status', status: 429 }),
		expect: SUCCESS_WITH_IMAGE,
		check: (ctx) => expect(polls(ctx)).toHaveLength(2),
	},
	{
		fault: '429 with Retry-After: 1 on download',
		operation: 'createAndWait',
		arrange: (s) => s.inject({ origin: 'output', path: OUTPUT, kind: 'status', status: 429, headers: { 'retry-after': '1' } }),
		expect: SUCCESS_WITH_IMAGE,
		check: (ctx) => {
			expect(downloads(ctx)).toHaveLength(2);
			expect(gap(downloads(ctx))).toBeGreaterThanOrEqual(950);
		},
	},
	{
		fault: '429 with Retry-After: 1 on cancel',
		operation: 'cancel',
		server: { modelTimeMs: 30_000 },
		seed: { until: 'running' },
		arrange: (s) => s.inject({ method: 'POST', path: CANCEL, kind: 'status', status: 429, headers: { 'retry-after': '1' } }),
		expect: { outcome: 'success', status: 'canceled' },
		check: (ctx) => expect(cancels(ctx)).toHaveLength(2),
	},
	{
		fault: '429 without Retry-After on cancel',
		operation: 'cancel',
		server: { modelTimeMs: 30_000 },
		seed: { until: 'running' },
		arrange: (s) => s.inject({ method: 'POST', path: CANCEL, kind: 'status', status: 429 }),
		expect: { outcome: 'success', status: 'canceled' },
		check: (ctx) => expect(cancels(ctx)).toHaveLength(2),
	},

	// 5xx on create: never repeated (a prediction may exist); on get, cancel and download: retried.
	...[500, 502, 503].map(
		(status): Row => ({
			fault: `${status} on create`,
			operation: 'createAndWait',
			arrange: (s) => s.inject({ method: 'POST', path: CREATE, kind: 'status', status }),
			expect: {
				outcome: 'error',
				message: () => `${MAY_EXIST}Replicate API error ${status} on POST /predictions: ${STATUS_TITLE[status]}`,
				description: MAY_EXIST_HINT,
			},
			check: all(onePost, noCreate),
		}),
	),
	{
		fault: '502 on create',
		operation: 'createOnly',
		arrange: (s) => s.inject({ method: 'POST', path: CREATE, kind: 'status', status: 502 }),
		expect: { outcome: 'error', message: () => `${MAY_EXIST}Replicate API error 502 on POST /predictions: Bad Gateway`, description: MAY_EXIST_HINT },
		check: all(onePost, noCreate),
	},
	...[500, 502, 503].map(
		(status): Row => ({
			fault: `${status} on get`,
			operation: 'get',
			seed: { until: 'terminal' },
			arrange: (s) => s.inject({ method: 'GET', path: GET_ONE, kind: 'status', status }),
			expect: SUCCESS_WITH_IMAGE,
			check: (ctx) => expect(polls(ctx)).toHaveLength(2),
		}),
	),
	{
		fault: '502 on a poll while waiting',
		operation: 'createAndWait',
		server: { honourPreferWait: false, modelTimeMs: 300 },
		arrange: (s) => s.inject({ method: 'GET', path: GET_ONE, kind: 'status', status: 502 }),
		expect: SUCCESS_WITH_IMAGE,
		check: all(onePost, (ctx) => expect(polls(ctx).length).toBeGreaterThanOrEqual(2)),
	},
	...[500, 502, 503].map(
		(status): Row => ({
			fault: `${status} on download`,
			operation: 'createAndWait',
			arrange: (s) => s.inject({ origin: 'output', path: OUTPUT, kind: 'status', status }),
			expect: SUCCESS_WITH_IMAGE,
			check: all(onePost, (ctx) => expect(downloads(ctx)).toHaveLength(2)),
		}),
	),
	{
		fault: '503 on download',
		operation: 'get',
		seed: { until: 'terminal' },
		arrange: (s) => s.inject({ origin: 'output', path: OUTPUT, kind: 'status', status: 503 }),
		expect: SUCCESS_WITH_IMAGE,
		check: (ctx) => expect(downloads(ctx)).toHaveLength(2),
	},
	{
		fault: '503 on every download, beyond Max Retries (1)',
		operation: 'createAndWait',
		options: { maxRetries: 1 },
		arrange: (s) => s.inject({ origin: 'output', path: OUTPUT, kind: 'status', status: 503, headers: { 'retry-after': '0' }, times: 5 }),
		expect: { outcome: 'error', message: (ctx) => `Downloading output 0 of prediction ${ctx.id} failed with HTTP 503` },
		check: all(onePost, (ctx) => expect(downloads(ctx)).toHaveLength(2)),
	},
	...[500, 502, 503].map(
		(status): Row => ({
			fault: `${status} on cancel`,
			operation: 'cancel',
			server: { modelTimeMs: 30_000 },
			seed: { until: 'running' },
			arrange: (s) => s.inject({ method: 'POST', path: CANCEL, kind: 'status', status }),
			expect: { outcome: 'success', status: 'canceled' },
			check: (ctx) => expect(cancels(ctx)).toHaveLength(2),
		}),
	),

	// Connection faults.
	{
		fault: 'connection refused before the create was sent',
		operation: 'createAndWait',
		refuseConnectionsForMs: 300,
		expect: SUCCESS_WITH_IMAGE,
		check: (ctx) => expect(ctx.server.stats().creates).toBe(1),
	},
	{
		fault: 'connection refused on every attempt, beyond Max Retries (1)',
		operation: 'createAndWait',
		refuseConnectionsForMs: Infinity,
		options: { maxRetries: 1 },
		expect: {
			outcome: 'error',
			// Nothing was sent, so nothing can exist: no "may have been created" warning.
			message: () => /^Could not reach the Replicate API \(POST \/predictions\): ECONNREFUSED \(connect ECONNREFUSED 127\.0\.0\.1:\d+\)$/,
		},
		check: noCreate,
	},
	{
		fault: 'reset after the create was sent',
		operation: 'createAndWait',
		arrange: (s) => s.inject({ method: 'POST', path: CREATE, kind: 'reset-before-response' }),
		expect: {
			outcome: 'error',
			message: () => `${MAY_EXIST}Could not reach the Replicate API (POST /predictions): ECONNRESET (socket hang up)`,
			description: MAY_EXIST_HINT,
		},
		check: all(onePost, (ctx) => {
			// It was created (and costs once): bounded by the Cancel-After the create carried.
			expect(ctx.created).toHaveLength(1);
			expect(ctx.created[0].deadline).not.toBeNull();
		}),
	},
	{
		fault: 'reset after the create was sent',
		operation: 'createOnly',
		arrange: (s) => s.inject({ method: 'POST', path: CREATE, kind: 'reset-before-response' }),
		expect: {
			outcome: 'error',
			message: () => `${MAY_EXIST}Could not reach the Replicate API (POST /predictions): ECONNRESET (socket hang up)`,
			description: MAY_EXIST_HINT,
		},
		check: all(onePost, (ctx) => expect(ctx.created).toHaveLength(1)),
	},
	{
		fault: 'reset before the create was handled',
		operation: 'createAndWait',
		arrange: (s) => s.inject({ method: 'POST', path: CREATE, kind: 'reset-before-handling' }),
		expect: {
			outcome: 'error',
			message: () => `${MAY_EXIST}Could not reach the Replicate API (POST /predictions): ECONNRESET (socket hang up)`,
			description: MAY_EXIST_HINT,
		},
		check: all(onePost, noCreate),
	},
	{
		fault: 'reset on get',
		operation: 'get',
		seed: { until: 'terminal' },
		arrange: (s) => s.inject({ method: 'GET', path: GET_ONE, kind: 'reset-before-response' }),
		expect: SUCCESS_WITH_IMAGE,
		check: (ctx) => expect(polls(ctx)).toHaveLength(2),
	},
	{
		fault: 'reset on a poll while waiting',
		operation: 'createAndWait',
		server: { honourPreferWait: false, modelTimeMs: 300 },
		arrange: (s) => s.inject({ method: 'GET', path: GET_ONE, kind: 'reset-before-response' }),
		expect: SUCCESS_WITH_IMAGE,
		check: onePost,
	},
	{
		fault: 'reset on download',
		operation: 'createAndWait',
		arrange: (s) => s.inject({ origin: 'output', path: OUTPUT, kind: 'reset-before-response' }),
		expect: SUCCESS_WITH_IMAGE,
		check: all(onePost, (ctx) => expect(downloads(ctx)).toHaveLength(2)),
	},
	{
		fault: 'reset after the cancel was sent',
		operation: 'cancel',
		server: { modelTimeMs: 30_000 },
		seed: { until: 'running' },
		arrange: (s) => s.inject({ method: 'POST', path: CANCEL, kind: 'reset-before-response' }),
		expect: { outcome: 'success', status: 'canceled' },
		check: (ctx) => expect(cancels(ctx)).toHaveLength(2),
	},

	// Answers slower than the node's timeout.
	{
		fault: 'create answer slower than the timeout',
		operation: 'createAndWait',
		server: { modelTimeMs: 30_000 },
		options: { timeout: 2 },
		arrange: (s) => s.inject({ method: 'POST', path: CREATE, kind: 'delay', ms: 2_500 }),
		expect: { outcome: 'error', message: (ctx) => `Prediction ${ctx.id} did not finish within the timeout of 2 s` },
		check: all(onePost, (ctx) => expect(ctx.created[0].status).toBe('canceled')),
	},
	{
		fault: 'poll answer slower than the timeout',
		operation: 'createAndWait',
		server: { modelTimeMs: 30_000, honourPreferWait: false },
		options: { timeout: 3 },
		arrange: (s) => s.inject({ method: 'GET', path: GET_ONE, kind: 'delay', ms: 8_000, times: 5 }),
		expect: { outcome: 'error', message: (ctx) => `Prediction ${ctx.id} did not finish within the timeout of 3 s`, description: /^The node cancelled it/ },
		// The poll in flight ends one poll interval (1 s) after the deadline at the latest.
		check: all(onePost, endsWithin(3_000 + 1_000 + 1_000), (ctx) => expect(cancels(ctx)).toHaveLength(1)),
	},
	{
		fault: 'get answer slower than the timeout',
		operation: 'get',
		server: { modelTimeMs: 30_000 },
		seed: { until: 'running' },
		options: { timeout: 2 },
		arrange: (s) => s.inject({ method: 'GET', path: GET_ONE, kind: 'delay', ms: 8_000, times: 5 }),
		expect: {
			outcome: 'error',
			message: (ctx) => new RegExp(`^Could not reach the Replicate API \\(GET /predictions/${ctx.id}\\): ETIMEDOUT \\(timeout of \\d+ms exceeded\\)$`),
		},
		// Not retried past the wait's end; and not the node's to cancel (Get only looks at it).
		check: all(endsWithin(2_000 + 1_000 + 1_000), (ctx) => expect(polls(ctx)).toHaveLength(1), (ctx) => expect(cancels(ctx)).toHaveLength(0)),
	},
	{
		fault: "Cancel-After deadline reached before the run started",
		operation: 'createAndWait',
		server: { startDelayMs: 10_000 },
		options: { timeout: 2 },
		expect: { outcome: 'error', message: (ctx) => `Prediction ${ctx.id} did not finish within the timeout of 2 s` },
		check: all(onePost, (ctx) => expect(['aborted', 'canceled']).toContain(ctx.created[0].status)),
	},

	// The user stops the execution.
	{
		fault: 'execution stopped mid-wait',
		operation: 'createAndWait',
		server: { honourPreferWait: false, modelTimeMs: 30_000 },
		stopAfterMs: 1_500,
		expect: { outcome: 'stopped' },
		check: all(endsWithin(1_500 + 1_000), (ctx) => expect(cancels(ctx)).toHaveLength(1)),
	},
	{
		fault: 'execution stopped while the create is held (Prefer: wait)',
		operation: 'createAndWait',
		server: { modelTimeMs: 30_000 },
		options: { timeout: 4 },
		stopAfterMs: 500,
		expect: { outcome: 'stopped' },
		check: async (ctx) => {
			endsWithin(500 + 1_000)(ctx);
			// The held create answers after its 2 s (Prefer: wait=2); the node then cancels what it
			// created, before Replicate's Cancel-After (4 s) would.
			const cancelled = await eventually(() => ctx.server.requests.some((request) => request.path.endsWith(`/predictions/${ctx.id}/cancel`)), 3_500);
			expect(cancelled).toBe(true);
			expect(ctx.server.predictions.get(ctx.id)!.deadline).not.toBeNull();
		},
	},
	{
		fault: 'execution stopped mid-download',
		operation: 'createAndWait',
		arrange: (s) => s.inject({ origin: 'output', path: OUTPUT, kind: 'delay', ms: 10_000 }),
		stopAfterMs: 1_000,
		expect: { outcome: 'stopped' },
		check: all(endsWithin(1_000 + 1_000), (ctx) => expect(downloads(ctx)).toHaveLength(1)),
	},
	{
		fault: 'execution stopped mid-wait',
		operation: 'get',
		server: { modelTimeMs: 30_000 },
		seed: { until: 'running' },
		stopAfterMs: 1_500,
		expect: { outcome: 'stopped' },
		check: all(endsWithin(1_500 + 1_000), (ctx) => {
			// Not the node's to cancel: Get only looked at it.
			expect(cancels(ctx)).toHaveLength(0);
			expect(ctx.server.predictions.get(ctx.id)!.status).toBe('processing');
		}),
	},

	// Answers that are not what the API promises.
	{
		fault: 'non-JSON answer to create',
		operation: 'createAndWait',
		arrange: (s) => s.inject({ method: 'POST', path: CREATE, kind: 'non-json' }),
		expect: {
			outcome: 'error',
			message: () => `${MAY_EXIST}Unexpected answer from the Replicate API on POST /predictions: the body is not JSON ("${HTML}")`,
			description: MAY_EXIST_HINT,
		},
		check: all(onePost, noCreate),
	},
	{
		fault: 'non-JSON answer to a poll',
		operation: 'createAndWait',
		server: { honourPreferWait: false, modelTimeMs: 30_000 },
		arrange: (s) => s.inject({ method: 'GET', path: GET_ONE, kind: 'non-json' }),
		expect: {
			outcome: 'error',
			message: (ctx) => `Unexpected answer from the Replicate API on GET /predictions/${ctx.id}: the body is not JSON ("${HTML}")`,
			description: CANCELLED_HINT,
		},
		check: all(onePost, cancelledByNode),
	},
	{
		fault: 'non-JSON answer to get',
		operation: 'get',
		seed: { until: 'terminal' },
		arrange: (s) => s.inject({ method: 'GET', path: GET_ONE, kind: 'non-json' }),
		expect: {
			outcome: 'error',
			message: (ctx) => `Unexpected answer from the Replicate API on GET /predictions/${ctx.id}: the body is not JSON ("${HTML}")`,
		},
	},
	{
		fault: 'non-JSON answer to cancel',
		operation: 'cancel',
		server: { modelTimeMs: 30_000 },
		seed: { until: 'running' },
		arrange: (s) => s.inject({ method: 'POST', path: CANCEL, kind: 'non-json' }),
		expect: {
			outcome: 'error',
			message: (ctx) => `Unexpected answer from the Replicate API on POST /predictions/${ctx.id}/cancel: the body is not JSON ("${HTML}")`,
		},
	},
	{
		fault: 'create answer without id',
		operation: 'createAndWait',
		arrange: (s) => s.inject({ method: 'POST', path: CREATE, kind: 'mangle', mutate: ({ id: _id, ...rest }) => rest }),
		expect: {
			outcome: 'error',
			message: () => `${MAY_EXIST}Unexpected answer from the Replicate API on POST /predictions: the prediction has no valid "id"`,
			description: MAY_EXIST_HINT,
		},
		check: all(onePost, (ctx) => expect(ctx.created).toHaveLength(1)),
	},
	{
		fault: 'create answer without status',
		operation: 'createAndWait',
		server: { modelTimeMs: 30_000 },
		options: { timeout: 4 },
		arrange: (s) => s.inject({ method: 'POST', path: CREATE, kind: 'mangle', mutate: ({ status: _status, ...rest }) => rest }),
		expect: {
			outcome: 'error',
			message: (ctx) => `Unexpected answer from the Replicate API on POST /predictions: prediction ${ctx.id} has no "status"`,
			description: CANCELLED_HINT,
		},
		check: all(onePost, cancelledByNode),
	},
	{
		fault: 'create answer with an unknown status',
		operation: 'createOnly',
		server: { modelTimeMs: 30_000 },
		arrange: (s) => s.inject({ method: 'POST', path: CREATE, kind: 'mangle', mutate: (body) => ({ ...body, status: 'queued' }) }),
		expect: {
			outcome: 'error',
			message: (ctx) => `Unexpected answer from the Replicate API on POST /predictions: prediction ${ctx.id} has the unknown status "queued"`,
			description: [KNOWN_HINT, CANCELLED_HINT],
		},
		check: all(onePost, cancelledByNode),
	},
	{
		fault: 'poll answer without status',
		operation: 'createAndWait',
		server: { honourPreferWait: false, modelTimeMs: 30_000 },
		arrange: (s) => s.inject({ method: 'GET', path: GET_ONE, kind: 'mangle', mutate: ({ status: _status, ...rest }) => rest }),
		expect: {
			outcome: 'error',
			message: (ctx) => `Unexpected answer from the Replicate API on GET /predictions/${ctx.id}: prediction ${ctx.id} has no "status"`,
			description: CANCELLED_HINT,
		},
		check: all(onePost, cancelledByNode),
	},
	{
		fault: 'poll answer with an unknown status',
		operation: 'createAndWait',
		server: { honourPreferWait: false, modelTimeMs: 30_000 },
		arrange: (s) => s.inject({ method: 'GET', path: GET_ONE, kind: 'mangle', mutate: (body) => ({ ...body, status: 'queued' }) }),
		expect: {
			outcome: 'error',
			message: (ctx) => `Unexpected answer from the Replicate API on GET /predictions/${ctx.id}: prediction ${ctx.id} has the unknown status "queued"`,
			description: [KNOWN_HINT, CANCELLED_HINT],
		},
		check: all(onePost, cancelledByNode),
	},
	{
		fault: 'get answer without id',
		operation: 'get',
		seed: { until: 'terminal' },
		arrange: (s) => s.inject({ method: 'GET', path: GET_ONE, kind: 'mangle', mutate: ({ id: _id, ...rest }) => rest }),
		expect: { outcome: 'error', message: (ctx) => `Unexpected answer from the Replicate API on GET /predictions/${ctx.id}: the prediction has no valid "id"` },
	},
	{
		fault: 'get answer with an unknown status',
		operation: 'get',
		seed: { until: 'terminal' },
		arrange: (s) => s.inject({ method: 'GET', path: GET_ONE, kind: 'mangle', mutate: (body) => ({ ...body, status: 'queued' }) }),
		expect: {
			outcome: 'error',
			message: (ctx) => `Unexpected answer from the Replicate API on GET /predictions/${ctx.id}: prediction ${ctx.id} has the unknown status "queued"`,
			description: KNOWN_HINT,
		},
	},
	{
		fault: 'cancel answer without status',
		operation: 'cancel',
		server: { modelTimeMs: 30_000 },
		seed: { until: 'running' },
		arrange: (s) => s.inject({ method: 'POST', path: CANCEL, kind: 'mangle', mutate: ({ status: _status, ...rest }) => rest }),
		expect: { outcome: 'error', message: (ctx) => `Unexpected answer from the Replicate API on POST /predictions/${ctx.id}/cancel: prediction ${ctx.id} has no "status"` },
	},
	{
		fault: 'redirect to another origin on get',
		operation: 'get',
		seed: { until: 'terminal' },
		arrange: (s, sink) =>
			s.inject({ method: 'GET', path: GET_ONE, kind: 'status', status: 307, headers: { location: `${sink.origin}/v1/predictions/elsewhere` }, body: {} }),
		expect: { outcome: 'error', message: (ctx) => `Unexpected answer from the Replicate API on GET /predictions/${ctx.id}: the prediction has no valid "id"` },
		// (Webhook deliveries of earlier Create Only rows, from the server, may land on the sink.)
		check: (ctx) => expect(ctx.sink.requests.filter((request) => !request.url.startsWith('/webhook/'))).toHaveLength(0),
	},

	// Predictions that end without success.
	{
		fault: 'prediction failed',
		operation: 'createAndWait',
		arrange: (s) => s.scriptNextPrediction({ outcome: 'failed', error: 'CUDA out of memory' }),
		expect: { outcome: 'error', message: (ctx) => `Prediction ${ctx.id} failed: CUDA out of memory` },
	},
	{
		fault: 'prediction failed',
		operation: 'get',
		seed: { until: 'terminal', script: { outcome: 'failed', error: 'CUDA out of memory' } },
		expect: { outcome: 'success', status: 'failed', binaries: 0 },
	},
	{
		fault: 'prediction failed',
		operation: 'cancel',
		seed: { until: 'terminal', script: { outcome: 'failed', error: 'CUDA out of memory' } },
		expect: { outcome: 'success', status: 'failed' },
	},
	{
		fault: 'prediction canceled',
		operation: 'createAndWait',
		arrange: (s) => s.scriptNextPrediction({ outcome: 'canceled' }),
		expect: { outcome: 'error', message: (ctx) => `Prediction ${ctx.id} was cancelled before it finished` },
	},
	{
		fault: 'prediction canceled',
		operation: 'get',
		seed: { until: 'terminal', script: { outcome: 'canceled' } },
		expect: { outcome: 'success', status: 'canceled', binaries: 0 },
	},
	{
		fault: 'prediction aborted',
		operation: 'createAndWait',
		arrange: (s) => s.scriptNextPrediction({ outcome: 'aborted' }),
		expect: { outcome: 'error', message: (ctx) => `Prediction ${ctx.id} was aborted before it started` },
	},
	{
		fault: 'prediction aborted',
		operation: 'get',
		seed: { until: 'terminal', script: { outcome: 'aborted' } },
		expect: { outcome: 'success', status: 'aborted', binaries: 0 },
	},

	// Outputs.
	{
		fault: 'data_removed',
		operation: 'createAndWait',
		arrange: (s) => s.scriptNextPrediction({ dataRemoved: true }),
		expect: { outcome: 'error', message: (ctx) => `The outputs of prediction ${ctx.id} are no longer available (data_removed is true)`, description: EXPIRED_HINT },
	},
	{
		fault: 'data_removed',
		operation: 'get',
		seed: { until: 'terminal', script: { dataRemoved: true } },
		expect: { outcome: 'error', message: (ctx) => `The outputs of prediction ${ctx.id} are no longer available (data_removed is true)`, description: EXPIRED_HINT },
	},
	...[404, 410].map(
		(status): Row => ({
			fault: `${status} on download`,
			operation: 'get',
			seed: { until: 'terminal' },
			arrange: (s) => s.inject({ origin: 'output', path: OUTPUT, kind: 'status', status, body: 'Not Found' }),
			expect: {
				outcome: 'error',
				message: (ctx) => `The outputs of prediction ${ctx.id} are no longer available (HTTP ${status} for output 0)`,
				description: EXPIRED_HINT,
			},
			check: (ctx) => expect(downloads(ctx)).toHaveLength(1),
		}),
	),
	{
		fault: 'succeeded without output',
		operation: 'createAndWait',
		arrange: (s) => s.scriptNextPrediction({ noOutput: true }),
		expect: { outcome: 'error', message: (ctx) => `Prediction ${ctx.id} succeeded but returned no output files` },
	},
	{
		fault: 'oversized output (3 MB, Max Output Size 1 MB)',
		operation: 'createAndWait',
		options: { maxOutputSizeMb: 1 },
		arrange: (s) => s.scriptNextPrediction({ outputBytes: 3 * 1024 * 1024 }),
		expect: { outcome: 'error', message: (ctx) => `Output 0 of prediction ${ctx.id} is larger than the Max Output Size (3145728 > 1048576 bytes)` },
	},
	{
		fault: 'oversized output (3 MB, Max Output Size 1 MB)',
		operation: 'get',
		seed: { until: 'terminal', script: { outputBytes: 3 * 1024 * 1024 } },
		options: { maxOutputSizeMb: 1 },
		expect: { outcome: 'error', message: (ctx) => `Output 0 of prediction ${ctx.id} is larger than the Max Output Size (3145728 > 1048576 bytes)` },
	},
	{
		fault: 'file: output URI',
		operation: 'createAndWait',
		arrange: (s) => s.scriptNextPrediction({ outputUrlScheme: 'file' }),
		expect: {
			outcome: 'error',
			message: (ctx) => `Output 0 of prediction ${ctx.id} has a URL the node will not fetch: "file:///tmp/fake-replicate/${ctx.id}/out-0.png"`,
		},
		check: (ctx) => expect(downloads(ctx)).toHaveLength(0),
	},
	{
		fault: 'file: output URI',
		operation: 'get',
		seed: { until: 'terminal', script: { outputUrlScheme: 'file' } },
		expect: {
			outcome: 'error',
			message: (ctx) => `Output 0 of prediction ${ctx.id} has a URL the node will not fetch: "file:///tmp/fake-replicate/${ctx.id}/out-0.png"`,
		},
	},

	// Uploaded files.
	{
		fault: '503 on upload (POST /files)',
		operation: 'createAndWait',
		inputItems: binaryInputs,
		parameters: { imageSource: 'binary', maskSource: 'binary' },
		options: { uploadRoute: 'upload', downloadOutputs: false },
		arrange: (s) => s.inject({ method: 'POST', path: /^\/files$/, kind: 'status', status: 503 }),
		expect: { outcome: 'success', status: 'succeeded' },
		check: all(onePost, (ctx) => expect(deletes(ctx)).toHaveLength(2)),
	},
	{
		fault: '500 on every delete of an uploaded file',
		operation: 'createAndWait',
		inputItems: binaryInputs,
		parameters: { imageSource: 'binary', maskSource: 'binary' },
		options: { uploadRoute: 'upload', downloadOutputs: false, maxRetries: 1 },
		arrange: (s) => s.inject({ method: 'DELETE', path: /^\/files\//, kind: 'status', status: 500, headers: { 'retry-after': '0' }, times: 10 }),
		expect: { outcome: 'success', status: 'succeeded' },
		check: (ctx) => {
			expect(deletes(ctx)).toHaveLength(4);
			expect(ctx.run.result.logs.filter((line) => /Could not delete uploaded file [a-z0-9]+: Replicate API error 500 on DELETE \/files\//.test(line))).toHaveLength(2);
		},
	},
	{
		fault: 'prediction failed, with uploaded files',
		operation: 'createAndWait',
		inputItems: binaryInputs,
		parameters: { imageSource: 'binary', maskSource: 'binary' },
		options: { uploadRoute: 'upload' },
		arrange: (s) => s.scriptNextPrediction({ outcome: 'failed', error: 'CUDA out of memory' }),
		expect: { outcome: 'error', message: (ctx) => `Prediction ${ctx.id} failed: CUDA out of memory` },
		check: (ctx) => {
			const input = (createPosts(ctx)[0].json as { input: Record<string, string> }).input;
			expect(deletes(ctx).map((request) => request.path).sort()).toEqual([input.image, input.mask].map((url) => new URL(url).pathname).sort());
		},
	},

];

function binaryInputs(): INodeExecutionData[] {
	const image = makeSamplePng(64, 64, 'image');
	const mask = makeSamplePng(64, 64, 'mask');
	return [binaryItem({ data: { content: image, fileName: 'a.png', mimeType: 'image/png' }, mask: { content: mask, fileName: 'm.png', mimeType: 'image/png' } })];
}

/** What every row runs: the operation's parameters, with the row's additions. */
function parametersFor(row: Row, server: FakeReplicate, sink: Sink, seedId: string | undefined): INodeParameters {
	const options = { ...(row.options ?? {}) };
	switch (row.operation) {
		case 'createAndWait':
			return { operation: 'createAndWait', ...urlInputs(server), prompt: '={{ $json.tag }}', ...row.parameters, options: { timeout: 20, ...options } };
		case 'createOnly':
			return {
				operation: 'createOnly',
				...urlInputs(server),
				prompt: '={{ $json.tag }}',
				webhookUrl: `${sink.origin}/webhook/replicate`,
				webhookEvents: ['completed'],
				...row.parameters,
				options: { timeout: 20, ...options },
			};
		case 'get':
			return { operation: 'get', predictionId: seedId, waitForCompletion: true, options: { timeout: 20, ...options } };
		case 'cancel':
			return { operation: 'cancel', predictionId: seedId, options };
	}
}

let server: FakeReplicate;
let sink: Sink;

beforeAll(async () => {
	server = await startFakeReplicate({ token: TOKEN, ...SERVER_DEFAULTS });
	sink = await startSink();
});

afterAll(async () => {
	try {
		const totals = {
			// The rows that ran (all of them, unless a -t filter picked some).
			rows: tallies.length,
			passed: tallies.filter((tally) => tally.passed).length,
			createsPerItemMax: Math.max(0, ...tallies.map((tally) => tally.createsPerItemMax)),
			leftRunning: tallies.reduce((sum, tally) => sum + tally.leftRunning, 0) + server.stats().running,
			tokenToNonApiOrigin: tallies.reduce((sum, tally) => sum + tally.tokenToNonApiOrigin, 0),
			tokenInOutputOrError: tallies.reduce((sum, tally) => sum + tally.tokenInOutputOrError, 0),
		};
		if (process.env.FAULT_MATRIX_TABLE) {
			process.stdout.write(`${tallies.map((tally) => `${tally.passed ? 'ok  ' : 'FAIL'} ${tally.row} → ${tally.outcome}`).join('\n')}\n`);
		}
		process.stdout.write(
			`fault matrix: rows=${totals.rows} passed=${totals.passed} creates-per-item-max=${totals.createsPerItemMax} left-running=${totals.leftRunning} token-to-non-api-origin=${totals.tokenToNonApiOrigin} token-in-output-or-error=${totals.tokenInOutputOrError}\n`,
		);
		expect(totals.passed).toBe(totals.rows);
		expect(totals.createsPerItemMax).toBeLessThanOrEqual(1);
		expect(totals.leftRunning).toBe(0);
		expect(totals.tokenToNonApiOrigin).toBe(0);
		expect(totals.tokenInOutputOrError).toBe(0);
	} finally {
		await sink?.close();
		await server?.close();
	}
});

describe('fault matrix', () => {
	it.each(rows.map((row) => [`${OPERATION_LABEL[row.operation]} × ${row.fault}`, row] as const))('%s', async (label, row) => {
		const tally: Tally = {
			row: label,
			passed: false,
			outcome: 'not run',
			createsPerItemMax: 0,
			leftRunning: 0,
			tokenToNonApiOrigin: 0,
			tokenInOutputOrError: 0,
		};
		tallies.push(tally);

		// Arrange: a clean server, the test's own prediction if the operation needs one, then the fault.
		server.reset();
		server.set({ ...SERVER_DEFAULTS, ...row.server });
		let seedId: string | undefined;
		if (row.seed) {
			if (row.seed.script) server.scriptNextPrediction(row.seed.script);
			seedId = await seedPrediction(server, row.seed.until);
			server.reset();
		}
		const before = new Set(server.predictions.keys());
		const sinkMark = sink.requests.length;
		row.arrange?.(server, sink, seedId);
		const late = row.refuseConnectionsForMs === undefined ? undefined : await lateApi(server, row.refuseConnectionsForMs);

		// Act: the node, through n8n's engine.
		const tags = Array.from({ length: row.items ?? 1 }, (_, index) => `${label} #${index}`);
		const inputItems = (row.inputItems?.(server) ?? tags.map(() => ({ json: {} }))).map((item, index) => ({
			...item,
			json: { ...item.json, tag: tags[index] },
		}));
		const startedAt = Date.now();
		let run: NodeRun;
		try {
			run = await runNode(server, parametersFor(row, server, sink, seedId), {
				inputItems,
				baseUrl: late?.baseUrl,
				stopAfterMs: row.stopAfterMs,
			});
		} finally {
			await late?.close();
		}
		const durationMs = Date.now() - startedAt;
		const created = [...server.predictions.values()].filter((prediction) => !before.has(prediction.id));
		const ctx: RowContext = {
			server,
			sink,
			id: seedId ?? created[0]?.id ?? '(none created)',
			seedId,
			created,
			requests: [...server.requests],
			run,
			durationMs,
		};

		// Measured for the totals before anything is asserted, so a failing row still counts.
		const perItem = tags.map((tag) =>
			created.filter((prediction) => prediction.input.prompt === tag || (tags.length === 1 && prediction.input.prompt === undefined)).length,
		);
		tally.createsPerItemMax = Math.max(0, ...perItem);
		const unattributed = created.length - perItem.reduce((sum, count) => sum + count, 0);
		const exposed = allText([run.result.run, run.result.error, run.result.logs, run.errorMessage, run.errorDescription, run.items]);
		tally.tokenInOutputOrError = occurrences(exposed, TOKEN_TEXT);
		tally.outcome =
			run.result.status === 'canceled'
				? 'stopped (execution canceled)'
				: run.errorMessage
					? `error: ${run.errorMessage}`
					: `${run.result.status}${run.items[0] ? ` (${String(run.items[0].json.status)})` : ''}`;

		try {
			// Assert: the row's own outcome.
			const expected = row.expect;
			if (expected.outcome === 'success') {
				expect(run.errorMessage).toBeUndefined();
				expect(run.result.status).toBe('success');
				expect(run.items).toHaveLength(expected.items ?? 1);
				if (expected.status) for (const item of run.items) expect(item.json.status).toBe(expected.status);
				if (expected.binaries !== undefined) expect(Object.keys(run.items[0].binary ?? {})).toHaveLength(expected.binaries);
			} else if (expected.outcome === 'error') {
				expect(run.result.status).toBe('error');
				const message = expected.message(ctx);
				if (typeof message === 'string') expect(run.errorMessage).toBe(message);
				else expect(run.errorMessage).toMatch(message);
				for (const description of [expected.description ?? []].flat()) expect(run.errorDescription).toMatch(description);
			} else {
				expect(run.result.status).toBe('canceled');
				expect(run.items).toHaveLength(0);
			}
			await row.check?.(ctx);

			// Assert, on every row: Cancel-After on every create, and at most one prediction per item.
			for (const post of createPosts(ctx)) expect(post.headers['cancel-after']).toBe(`${(parametersFor(row, server, sink, seedId).options as IDataObject).timeout}s`);
			expect(unattributed).toBe(0);
			expect(tally.createsPerItemMax).toBeLessThanOrEqual(1);
			expect(tally.tokenInOutputOrError).toBe(0);
			if (row.operation === 'get' || row.operation === 'cancel') expect(ctx.server.stats().creates).toBe(0);
		} finally {
			// Settle: the test stops its own prediction; whatever the node started must be finished or
			// canceled within moments (cancels after a Stop run in the background, a held create answers).
			if (seedId) await cancelAsTest(server, seedId);
			await eventually(() => server.stats().running === 0, row.stopAfterMs !== undefined ? 5_000 : 1_500);
			tally.leftRunning = server.stats().running;
			for (const prediction of server.predictions.values()) if (!isTerminal(prediction)) await cancelAsTest(server, prediction.id);
			tally.tokenToNonApiOrigin = server.stats().tokenToNonApiOrigin + sinkRequestsCarrying(sink, TOKEN, sinkMark);
		}
		expect(tally.leftRunning).toBe(0);
		expect(tally.tokenToNonApiOrigin).toBe(0);
		tally.passed = true;
	});
});
