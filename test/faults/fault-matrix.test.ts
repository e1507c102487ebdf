/**
 * The fault matrix (issues 3 and 10): every fault the API, the network, a user's Stop and an
 * attacker can produce, met by every operation that can meet it, run through n8n's real engine
 * against the Replicate-compatible server's fault switches, with the node's default options
 * (Timeout 600 s, so `Prefer: wait=60`) unless a row says otherwise. Each row states its setup and
 * its outcome (success, a precise error, or a stopped execution); the trigger's rows
 * (trigger-rows.ts) send real and forged deliveries, the credential's rows (credential-rows.ts)
 * press its Test button, the delivery rows (delivery-rows.ts) call the trigger and the node's
 * resume URL while the signing secret cannot be fetched. Across the whole matrix the afterAll asserts and prints, computed from
 * the server's records and the runs' own data:
 *   - creates-per-item-max: predictions created per item ≤ 1 (no second paid prediction),
 *   - left-running: predictions still running once a row settled, or (in a row that stops the
 *     execution) succeeded after the Stop,
 *   - uploads-left: uploaded files still on the server once a row settled,
 *   - token-to-non-api-origin: requests carrying the token to any origin but the API,
 *   - token-in-output-or-error: the token's text in any output, error or log line,
 *   - forged-executions: executions (failed ones included) started by deliveries that failed
 *     verification.
 */
import type { IDataObject, INodeExecutionData, INodeParameters } from 'n8n-workflow';

import { ReplicateInpaintingApi } from '../../credentials/ReplicateInpaintingApi.credentials';
import type { WaitingServer, WebhookRunResult } from '../harness';
import { startWaitingServer, testCredential } from '../harness';
import type {
	FakeReplicate,
	FakeReplicateOptions,
	Prediction,
	RecordedRequest,
} from '../../tools/fake-replicate';
import { makeSamplePng, startFakeReplicate } from '../../tools/fake-replicate';
import type { NodeRun } from '../node/support';
import { binaryItem, eventually, runNode, urlInputs } from '../node/support';
import { deliver, finishedPrediction } from '../trigger/support';
import { credentialRows } from './credential-rows';
import { deliveryRows } from './delivery-rows';
import type { LiveTimer, Sink } from './support';
import {
	allText,
	cancelAsTest,
	isTerminal,
	lateApi,
	occurrences,
	seedPrediction,
	sinkRequestsCarrying,
	startSink,
	trackAbortListeners,
	trackNodeTimers,
} from './support';
import { forgedExecutions, startedExecution, triggerRows } from './trigger-rows';

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
	pageSize: 100,
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
	/** The most abort listeners one signal had at once while the node ran (Node warns above 10). */
	abortListenersPeak: number;
	/** When the row's Stop fired (epoch ms), for rows that stop the execution. */
	stopAt?: number;
}

type Expected =
	| { outcome: 'success'; status?: string; binaries?: number; items?: number }
	| {
			outcome: 'error';
			message: (ctx: RowContext) => string | RegExp;
			description?: RegExp | RegExp[];
	  }
	| { outcome: 'stopped' };

interface Row {
	fault: string;
	operation: Operation;
	server?: Partial<FakeReplicateOptions>;
	/** A prediction the test starts first, through the API (Get and Cancel act on it). */
	seed?: {
		until: 'terminal' | 'running';
		script?: Parameters<FakeReplicate['scriptNextPrediction']>[0];
	};
	/** Faults and scripts for the node's run. */
	arrange?: (server: FakeReplicate, sink: Sink, seedId?: string) => void;
	options?: INodeParameters;
	parameters?: INodeParameters;
	items?: number;
	inputItems?: (server: FakeReplicate) => INodeExecutionData[];
	stopAfterMs?: number;
	/** Settings → On Error → Continue (regular output). */
	continueOnFail?: boolean;
	/** All items send the same input (the prompt is fixed): predictions cannot be told apart by item. */
	sameInput?: boolean;
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
	uploadsLeft: number;
	tokenToNonApiOrigin: number;
	tokenInOutputOrError: number;
	forgedExecutions: number;
}

function newTally(row: string): Tally {
	return {
		row,
		passed: false,
		outcome: 'not run',
		createsPerItemMax: 0,
		leftRunning: 0,
		uploadsLeft: 0,
		tokenToNonApiOrigin: 0,
		tokenInOutputOrError: 0,
		forgedExecutions: 0,
	};
}

const tallies: Tally[] = [];

// ---- small readers of the server's records ----

const isCreate = (request: RecordedRequest) =>
	request.origin === 'api' && request.method === 'POST' && /\/predictions$/.test(request.path);
const createPosts = (ctx: RowContext) => ctx.requests.filter(isCreate);
const polls = (ctx: RowContext) =>
	ctx.requests.filter(
		(request) =>
			request.origin === 'api' &&
			request.method === 'GET' &&
			/\/predictions\/[^/]+$/.test(request.path),
	);
const cancels = (ctx: RowContext) =>
	ctx.requests.filter((request) => request.origin === 'api' && /\/cancel$/.test(request.path));
const downloads = (ctx: RowContext) =>
	ctx.requests.filter(
		(request) => request.origin === 'output' && /\/out-\d+\.png$/.test(request.path),
	);
const deletes = (ctx: RowContext) =>
	ctx.requests.filter((request) => request.origin === 'api' && request.method === 'DELETE');
const listings = (ctx: RowContext) =>
	ctx.requests.filter(
		(request) =>
			request.origin === 'api' && request.method === 'GET' && /\/predictions$/.test(request.path),
	);
const uploadPosts = (ctx: RowContext) =>
	ctx.requests.filter(
		(request) =>
			request.origin === 'api' && request.method === 'POST' && /\/files$/.test(request.path),
	);
const gap = (list: RecordedRequest[]) => list[1].at - list[0].at;

// ---- fault shorthands ----

const CREATE = /^\/predictions$/;
const GET_ONE = /^\/predictions\/[^/]+$/;
const CANCEL = /^\/predictions\/[^/]+\/cancel$/;
const OUTPUT = /\/out-\d+\.png$/;

const MAY_EXIST = 'Creating the prediction failed, and a prediction may have been created anyway: ';
/** An ambiguous create the node looked for (GET /predictions) and did not find: it made nothing. */
const NOT_MADE = 'Creating the prediction failed, and no prediction was made: ';
const NOT_MADE_HINT =
	/^The node looked for it among your predictions \(GET \/predictions\) for \d+ s and found none with this input, and did not send the create again/;
const EXPIRED_HINT = /about an hour after they finish/;
const HTML =
	'<!DOCTYPE html><html><head><title>Just a moment...</title></head><body><h1>Checking your browser</h1></body></html>';
const KNOWN_HINT =
	/^Known statuses: starting, processing, succeeded, failed, canceled, aborted\.(\n|$)/;
/** The node cancelled a prediction it started and could no longer follow. */
const CANCELLED_HINT =
	/The node cancelled prediction [a-z0-9]+, so it does not run on unobserved\.$/;
const STATUS_TITLE: Record<number, string> = {
	500: 'Internal Server Error',
	502: 'Bad Gateway',
	503: 'Service Unavailable',
};

/** The node cancelled the prediction it started: the server has it canceled, through the node's request. */
const cancelledByNode = (ctx: RowContext) => {
	expect(cancels(ctx).map((request) => request.path)).toEqual([
		expect.stringMatching(new RegExp(`/predictions/${ctx.id}/cancel$`)),
	]);
	expect(ctx.server.predictions.get(ctx.id)!.status).toBe('canceled');
};
const noCreate = (ctx: RowContext) => expect(ctx.server.stats().creates).toBe(0);
/** The node looked for the prediction of an ambiguous create (and never sent a second one). */
const searched = (ctx: RowContext) => expect(listings(ctx).length).toBeGreaterThanOrEqual(1);
/** The item went on with the prediction its create made, found by listing. */
const adopted = (ctx: RowContext) => {
	expect(ctx.created).toHaveLength(1);
	expect(ctx.run.items[0].json.id).toBe(ctx.created[0].id);
	expect(
		ctx.run.result.logs.some((line) =>
			line.includes(`found prediction ${ctx.created[0].id} with GET /predictions`),
		),
	).toBe(true);
};
const onePost = (ctx: RowContext) => expect(createPosts(ctx)).toHaveLength(1);
/**
 * Every prediction the node made was cancelled (by the node's own request) within `ms` of the Stop,
 * and none ran on: the server has them canceled.
 */
const cancelledWithin = (ms: number) => (ctx: RowContext) => {
	expect(ctx.created.length).toBeGreaterThan(0);
	for (const prediction of ctx.created) {
		const cancel = cancels(ctx).find((request) =>
			request.path.endsWith(`/predictions/${prediction.id}/cancel`),
		);
		expect({ id: prediction.id, cancelled: cancel !== undefined }).toEqual({
			id: prediction.id,
			cancelled: true,
		});
		expect(cancel!.at - ctx.stopAt!).toBeLessThanOrEqual(ms);
		expect(prediction.status).toBe('canceled');
	}
};
/** The wait ended within about one poll interval of the moment it should have. */
const endsWithin = (endsByMs: number) => (ctx: RowContext) =>
	expect(ctx.durationMs).toBeLessThan(endsByMs);
const all =
	(...checks: Array<(ctx: RowContext) => void>) =>
	(ctx: RowContext) =>
		checks.forEach((check) => check(ctx));

/**
 * Retry-After as an HTTP date, at least `seconds` whole seconds ahead (dates have no milliseconds).
 * The wait it asks for (≥ 1.5 s once the run has started) is longer than any first backoff (≤ 1 s),
 * so a gap that long shows the date was honoured.
 */
const httpDateSecondsAhead = (seconds: number) =>
	new Date(Math.ceil(Date.now() / 1000 + seconds) * 1000).toUTCString();
const RETRY_AFTER_DATE_MIN_MS = 1_500;

const SUCCESS_WITH_IMAGE: Expected = { outcome: 'success', status: 'succeeded', binaries: 1 };

// ---- the matrix ----

const rows: Row[] = [
	// 429: retried by every request kind, after Retry-After (seconds or HTTP date) or a backoff.
	{
		fault: '429 with Retry-After: 1 on create',
		operation: 'createAndWait',
		arrange: (s) =>
			s.inject({
				method: 'POST',
				path: CREATE,
				kind: 'status',
				status: 429,
				headers: { 'retry-after': '1' },
			}),
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
			s.inject({
				method: 'POST',
				path: CREATE,
				kind: 'status',
				status: 429,
				headers: { 'retry-after': httpDateSecondsAhead(2) },
			}),
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
		arrange: (s) =>
			s.inject({
				method: 'POST',
				path: CREATE,
				kind: 'status',
				status: 429,
				headers: { 'retry-after': '0' },
				times: 5,
			}),
		expect: {
			outcome: 'error',
			message: () =>
				'Replicate API error 429 on POST /predictions: HTTP 429 (Request was throttled. Your rate limit resets in ~30s.)',
			description: /throttled/,
		},
		check: all(noCreate, (ctx) => expect(createPosts(ctx)).toHaveLength(2)),
	},
	{
		fault: '429 with Retry-After: 1 on create, 3 items',
		operation: 'createAndWait',
		items: 3,
		options: { maxConcurrent: 3, downloadOutputs: false },
		arrange: (s) =>
			s.inject({
				method: 'POST',
				path: CREATE,
				kind: 'status',
				status: 429,
				headers: { 'retry-after': '1' },
				times: 2,
			}),
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
		arrange: (s) =>
			s.inject({
				method: 'POST',
				path: CREATE,
				kind: 'status',
				status: 429,
				headers: { 'retry-after': '1' },
			}),
		expect: { outcome: 'success', status: 'starting' },
		check: (ctx) => {
			expect(createPosts(ctx)).toHaveLength(2);
			expect(createPosts(ctx)[1].json).toMatchObject({
				webhook: `${ctx.sink.origin}/webhook/replicate`,
			});
		},
	},
	{
		fault: '429 with Retry-After as an HTTP date on get',
		operation: 'get',
		seed: { until: 'terminal' },
		arrange: (s) =>
			s.inject({
				method: 'GET',
				path: GET_ONE,
				kind: 'status',
				status: 429,
				headers: { 'retry-after': httpDateSecondsAhead(2) },
			}),
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
		arrange: (s) =>
			s.inject({
				origin: 'output',
				path: OUTPUT,
				kind: 'status',
				status: 429,
				headers: { 'retry-after': '1' },
			}),
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
		arrange: (s) =>
			s.inject({
				method: 'POST',
				path: CANCEL,
				kind: 'status',
				status: 429,
				headers: { 'retry-after': '1' },
			}),
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
				message: () =>
					`${NOT_MADE}Replicate API error ${status} on POST /predictions: ${STATUS_TITLE[status]}`,
				description: NOT_MADE_HINT,
			},
			check: all(onePost, noCreate, searched),
		}),
	),
	{
		fault: '502 on create',
		operation: 'createOnly',
		arrange: (s) => s.inject({ method: 'POST', path: CREATE, kind: 'status', status: 502 }),
		expect: {
			outcome: 'error',
			message: () => `${NOT_MADE}Replicate API error 502 on POST /predictions: Bad Gateway`,
			description: NOT_MADE_HINT,
		},
		check: all(onePost, noCreate, searched),
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
		arrange: (s) =>
			s.inject({
				origin: 'output',
				path: OUTPUT,
				kind: 'status',
				status: 503,
				headers: { 'retry-after': '0' },
				times: 5,
			}),
		expect: {
			outcome: 'error',
			message: (ctx) => `Downloading output 0 of prediction ${ctx.id} failed with HTTP 503`,
		},
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
			message: () =>
				/^Could not reach the Replicate API \(POST \/predictions\): ECONNREFUSED \(connect ECONNREFUSED 127\.0\.0\.1:\d+\)$/,
		},
		check: noCreate,
	},
	// An ambiguous create (issue 10 item 2): found with GET /predictions and adopted, never sent twice.
	{
		fault: 'reset after the create was sent',
		operation: 'createAndWait',
		arrange: (s) => s.inject({ method: 'POST', path: CREATE, kind: 'reset-before-response' }),
		expect: SUCCESS_WITH_IMAGE,
		check: all(onePost, searched, adopted),
	},
	{
		fault: 'reset after the create was sent',
		operation: 'createOnly',
		arrange: (s) => s.inject({ method: 'POST', path: CREATE, kind: 'reset-before-response' }),
		expect: { outcome: 'success' },
		// Adopted with its webhook: Replicate still calls it when the prediction completes.
		check: all(onePost, searched, adopted, (ctx) =>
			expect(ctx.created[0].status).not.toBe('canceled'),
		),
	},
	{
		fault: '502 after the create was made',
		operation: 'createAndWait',
		arrange: (s) =>
			s.inject({ method: 'POST', path: CREATE, kind: 'status', status: 502, afterHandling: true }),
		expect: SUCCESS_WITH_IMAGE,
		check: all(onePost, searched, adopted),
	},
	{
		fault: 'reset after the create was sent, 3 items with the same input, list pages of 1',
		operation: 'createAndWait',
		items: 3,
		sameInput: true,
		// One prediction per page, newest first: the one to adopt is behind a cursor.
		server: { modelTimeMs: 1_500, pageSize: 1 },
		arrange: (s) =>
			s.inject({ method: 'POST', path: CREATE, kind: 'reset-before-response', skip: 1 }),
		expect: { outcome: 'success', status: 'succeeded', items: 3 },
		// Each item has its own prediction: the one that lost its answer took the one no other claimed.
		check: all(searched, (ctx) => {
			expect(createPosts(ctx)).toHaveLength(3);
			expect(ctx.created).toHaveLength(3);
			expect(new Set(ctx.run.items.map((item) => item.json.id))).toEqual(
				new Set(ctx.created.map((prediction) => prediction.id)),
			);
			expect(listings(ctx).some((request) => request.query.startsWith('?cursor='))).toBe(true);
		}),
	},
	{
		fault: 'reset before the create was handled',
		operation: 'createAndWait',
		arrange: (s) => s.inject({ method: 'POST', path: CREATE, kind: 'reset-before-handling' }),
		expect: {
			outcome: 'error',
			message: () =>
				`${NOT_MADE}Could not reach the Replicate API (POST /predictions): ECONNRESET (socket hang up)`,
			description: NOT_MADE_HINT,
		},
		check: all(onePost, noCreate, searched),
	},
	{
		fault: 'reset after the create was sent, and no list endpoint (404)',
		operation: 'createAndWait',
		arrange: (s) => {
			s.inject({ method: 'POST', path: CREATE, kind: 'reset-before-response' });
			s.inject({ method: 'GET', path: CREATE, kind: 'status', status: 404, times: 10 });
		},
		expect: {
			outcome: 'error',
			message: () =>
				`${MAY_EXIST}Could not reach the Replicate API (POST /predictions): ECONNRESET (socket hang up)`,
			description:
				/^Looking for it failed too: Replicate API error 404 on GET \/predictions: Not Found\n/,
		},
		// Left to Replicate's Cancel-After: the node cannot see it.
		check: all(onePost, searched, (ctx) => expect(ctx.created[0].deadline).not.toBeNull()),
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
		expect: {
			outcome: 'error',
			message: (ctx) => `Prediction ${ctx.id} did not finish within the timeout of 2 s`,
		},
		check: all(onePost, (ctx) => expect(ctx.created[0].status).toBe('canceled')),
	},
	{
		fault: 'poll answer slower than the timeout',
		operation: 'createAndWait',
		server: { modelTimeMs: 30_000, honourPreferWait: false },
		options: { timeout: 3 },
		arrange: (s) => s.inject({ method: 'GET', path: GET_ONE, kind: 'delay', ms: 8_000, times: 5 }),
		expect: {
			outcome: 'error',
			message: (ctx) => `Prediction ${ctx.id} did not finish within the timeout of 3 s`,
			description: /^The node cancelled it/,
		},
		// The poll in flight ends one poll interval (1 s) after the deadline at the latest.
		check: all(onePost, endsWithin(3_000 + 1_000 + 1_000), (ctx) =>
			expect(cancels(ctx)).toHaveLength(1),
		),
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
			message: (ctx) =>
				new RegExp(
					`^Could not reach the Replicate API \\(GET /predictions/${ctx.id}\\): ETIMEDOUT \\(timeout of \\d+ms exceeded\\)$`,
				),
		},
		// Not retried past the wait's end; and not the node's to cancel (Get only looks at it).
		check: all(
			endsWithin(2_000 + 1_000 + 1_000),
			(ctx) => expect(polls(ctx)).toHaveLength(1),
			(ctx) => expect(cancels(ctx)).toHaveLength(0),
		),
	},
	{
		fault: 'Cancel-After deadline reached before the run started',
		operation: 'createAndWait',
		server: { startDelayMs: 10_000 },
		options: { timeout: 2 },
		expect: {
			outcome: 'error',
			message: (ctx) => `Prediction ${ctx.id} did not finish within the timeout of 2 s`,
		},
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
		fault: 'execution stopped while the create is held, Timeout 4 s (Prefer: wait=2)',
		operation: 'createAndWait',
		server: { modelTimeMs: 30_000 },
		options: { timeout: 4 },
		stopAfterMs: 500,
		expect: { outcome: 'stopped' },
		// Cancelled by the node (found by listing), long before Replicate's Cancel-After (4 s) would.
		check: all(endsWithin(500 + 2_000), searched, cancelledWithin(2_000)),
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
			message: () =>
				`${NOT_MADE}Unexpected answer from the Replicate API on POST /predictions: the body is not JSON ("${HTML}")`,
			description: NOT_MADE_HINT,
		},
		check: all(onePost, noCreate, searched),
	},
	{
		fault: 'non-JSON answer to a poll',
		operation: 'createAndWait',
		server: { honourPreferWait: false, modelTimeMs: 30_000 },
		arrange: (s) => s.inject({ method: 'GET', path: GET_ONE, kind: 'non-json' }),
		expect: {
			outcome: 'error',
			message: (ctx) =>
				`Unexpected answer from the Replicate API on GET /predictions/${ctx.id}: the body is not JSON ("${HTML}")`,
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
			message: (ctx) =>
				`Unexpected answer from the Replicate API on GET /predictions/${ctx.id}: the body is not JSON ("${HTML}")`,
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
			message: (ctx) =>
				`Unexpected answer from the Replicate API on POST /predictions/${ctx.id}/cancel: the body is not JSON ("${HTML}")`,
		},
	},
	{
		fault: 'create answer without id',
		operation: 'createAndWait',
		arrange: (s) =>
			s.inject({
				method: 'POST',
				path: CREATE,
				kind: 'mangle',
				mutate: ({ id: _id, ...rest }) => rest,
			}),
		expect: SUCCESS_WITH_IMAGE,
		check: all(onePost, searched, adopted),
	},
	{
		fault: 'create answer without status',
		operation: 'createAndWait',
		server: { modelTimeMs: 30_000 },
		options: { timeout: 4 },
		arrange: (s) =>
			s.inject({
				method: 'POST',
				path: CREATE,
				kind: 'mangle',
				mutate: ({ status: _status, ...rest }) => rest,
			}),
		expect: {
			outcome: 'error',
			message: (ctx) =>
				`Unexpected answer from the Replicate API on POST /predictions: prediction ${ctx.id} has no "status"`,
			description: CANCELLED_HINT,
		},
		check: all(onePost, cancelledByNode),
	},
	{
		fault: 'create answer with an unknown status',
		operation: 'createOnly',
		server: { modelTimeMs: 30_000 },
		arrange: (s) =>
			s.inject({
				method: 'POST',
				path: CREATE,
				kind: 'mangle',
				mutate: (body) => ({ ...body, status: 'queued' }),
			}),
		expect: {
			outcome: 'error',
			message: (ctx) =>
				`Unexpected answer from the Replicate API on POST /predictions: prediction ${ctx.id} has the unknown status "queued"`,
			description: [KNOWN_HINT, CANCELLED_HINT],
		},
		check: all(onePost, cancelledByNode),
	},
	{
		fault: 'poll answer without status',
		operation: 'createAndWait',
		server: { honourPreferWait: false, modelTimeMs: 30_000 },
		arrange: (s) =>
			s.inject({
				method: 'GET',
				path: GET_ONE,
				kind: 'mangle',
				mutate: ({ status: _status, ...rest }) => rest,
			}),
		expect: {
			outcome: 'error',
			message: (ctx) =>
				`Unexpected answer from the Replicate API on GET /predictions/${ctx.id}: prediction ${ctx.id} has no "status"`,
			description: CANCELLED_HINT,
		},
		check: all(onePost, cancelledByNode),
	},
	{
		fault: 'poll answer with an unknown status',
		operation: 'createAndWait',
		server: { honourPreferWait: false, modelTimeMs: 30_000 },
		arrange: (s) =>
			s.inject({
				method: 'GET',
				path: GET_ONE,
				kind: 'mangle',
				mutate: (body) => ({ ...body, status: 'queued' }),
			}),
		expect: {
			outcome: 'error',
			message: (ctx) =>
				`Unexpected answer from the Replicate API on GET /predictions/${ctx.id}: prediction ${ctx.id} has the unknown status "queued"`,
			description: [KNOWN_HINT, CANCELLED_HINT],
		},
		check: all(onePost, cancelledByNode),
	},
	{
		fault: 'get answer without id',
		operation: 'get',
		seed: { until: 'terminal' },
		arrange: (s) =>
			s.inject({
				method: 'GET',
				path: GET_ONE,
				kind: 'mangle',
				mutate: ({ id: _id, ...rest }) => rest,
			}),
		expect: {
			outcome: 'error',
			message: (ctx) =>
				`Unexpected answer from the Replicate API on GET /predictions/${ctx.id}: the prediction has no valid "id"`,
		},
	},
	{
		fault: 'get answer with an unknown status',
		operation: 'get',
		seed: { until: 'terminal' },
		arrange: (s) =>
			s.inject({
				method: 'GET',
				path: GET_ONE,
				kind: 'mangle',
				mutate: (body) => ({ ...body, status: 'queued' }),
			}),
		expect: {
			outcome: 'error',
			message: (ctx) =>
				`Unexpected answer from the Replicate API on GET /predictions/${ctx.id}: prediction ${ctx.id} has the unknown status "queued"`,
			description: KNOWN_HINT,
		},
	},
	{
		fault: 'cancel answer without status',
		operation: 'cancel',
		server: { modelTimeMs: 30_000 },
		seed: { until: 'running' },
		arrange: (s) =>
			s.inject({
				method: 'POST',
				path: CANCEL,
				kind: 'mangle',
				mutate: ({ status: _status, ...rest }) => rest,
			}),
		expect: {
			outcome: 'error',
			message: (ctx) =>
				`Unexpected answer from the Replicate API on POST /predictions/${ctx.id}/cancel: prediction ${ctx.id} has no "status"`,
		},
	},
	{
		fault: 'redirect to another origin on get',
		operation: 'get',
		seed: { until: 'terminal' },
		arrange: (s, sink) =>
			s.inject({
				method: 'GET',
				path: GET_ONE,
				kind: 'status',
				status: 307,
				headers: { location: `${sink.origin}/v1/predictions/elsewhere` },
				body: {},
			}),
		expect: {
			outcome: 'error',
			message: (ctx) =>
				`Unexpected answer from the Replicate API on GET /predictions/${ctx.id}: the prediction has no valid "id"`,
		},
		// (Webhook deliveries of earlier Create Only rows, from the server, may land on the sink.)
		check: (ctx) =>
			expect(
				ctx.sink.requests.filter((request) => !request.url.startsWith('/webhook/')),
			).toHaveLength(0),
	},

	// Predictions that end without success.
	{
		fault: 'prediction failed',
		operation: 'createAndWait',
		arrange: (s) => s.scriptNextPrediction({ outcome: 'failed', error: 'CUDA out of memory' }),
		expect: {
			outcome: 'error',
			message: (ctx) => `Prediction ${ctx.id} failed: CUDA out of memory`,
		},
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
		expect: {
			outcome: 'error',
			message: (ctx) => `Prediction ${ctx.id} was cancelled before it finished`,
		},
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
		expect: {
			outcome: 'error',
			message: (ctx) => `Prediction ${ctx.id} was aborted before it started`,
		},
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
		expect: {
			outcome: 'error',
			message: (ctx) =>
				`The outputs of prediction ${ctx.id} are no longer available (data_removed is true)`,
			description: EXPIRED_HINT,
		},
	},
	{
		fault: 'data_removed',
		operation: 'get',
		seed: { until: 'terminal', script: { dataRemoved: true } },
		expect: {
			outcome: 'error',
			message: (ctx) =>
				`The outputs of prediction ${ctx.id} are no longer available (data_removed is true)`,
			description: EXPIRED_HINT,
		},
	},
	...[404, 410].map(
		(status): Row => ({
			fault: `${status} on download`,
			operation: 'get',
			seed: { until: 'terminal' },
			arrange: (s) =>
				s.inject({ origin: 'output', path: OUTPUT, kind: 'status', status, body: 'Not Found' }),
			expect: {
				outcome: 'error',
				message: (ctx) =>
					`The outputs of prediction ${ctx.id} are no longer available (HTTP ${status} for output 0)`,
				description: EXPIRED_HINT,
			},
			check: (ctx) => expect(downloads(ctx)).toHaveLength(1),
		}),
	),
	{
		fault: 'succeeded without output',
		operation: 'createAndWait',
		arrange: (s) => s.scriptNextPrediction({ noOutput: true }),
		expect: {
			outcome: 'error',
			message: (ctx) => `Prediction ${ctx.id} succeeded but returned no output files`,
		},
	},
	{
		fault: 'oversized output (3 MB, Max Output Size 1 MB)',
		operation: 'createAndWait',
		options: { maxOutputSizeMb: 1 },
		arrange: (s) => s.scriptNextPrediction({ outputBytes: 3 * 1024 * 1024 }),
		expect: {
			outcome: 'error',
			message: (ctx) =>
				`Output 0 of prediction ${ctx.id} is larger than the Max Output Size (3145728 > 1048576 bytes)`,
		},
	},
	{
		fault: 'oversized output (3 MB, Max Output Size 1 MB)',
		operation: 'get',
		seed: { until: 'terminal', script: { outputBytes: 3 * 1024 * 1024 } },
		options: { maxOutputSizeMb: 1 },
		expect: {
			outcome: 'error',
			message: (ctx) =>
				`Output 0 of prediction ${ctx.id} is larger than the Max Output Size (3145728 > 1048576 bytes)`,
		},
	},
	{
		fault: 'file: output URI',
		operation: 'createAndWait',
		arrange: (s) => s.scriptNextPrediction({ outputUrlScheme: 'file' }),
		expect: {
			outcome: 'error',
			message: (ctx) =>
				`Output 0 of prediction ${ctx.id} has a URL the node will not fetch: "file:///tmp/fake-replicate/${ctx.id}/out-0.png"`,
		},
		check: (ctx) => expect(downloads(ctx)).toHaveLength(0),
	},
	{
		fault: 'file: output URI',
		operation: 'get',
		seed: { until: 'terminal', script: { outputUrlScheme: 'file' } },
		expect: {
			outcome: 'error',
			message: (ctx) =>
				`Output 0 of prediction ${ctx.id} has a URL the node will not fetch: "file:///tmp/fake-replicate/${ctx.id}/out-0.png"`,
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
		fault: '500 on the first delete of each uploaded file',
		operation: 'createAndWait',
		inputItems: binaryInputs,
		parameters: { imageSource: 'binary', maskSource: 'binary' },
		options: { uploadRoute: 'upload', downloadOutputs: false },
		arrange: (s) =>
			s.inject({
				method: 'DELETE',
				path: /^\/files\//,
				kind: 'status',
				status: 500,
				headers: { 'retry-after': '0' },
				times: 2,
			}),
		expect: { outcome: 'success', status: 'succeeded' },
		// Retried (a delete is safe to repeat): nothing is left, nothing to warn about.
		check: (ctx) => {
			expect(deletes(ctx)).toHaveLength(4);
			expect(
				ctx.run.result.logs.filter((line) => /Could not delete uploaded file/.test(line)),
			).toHaveLength(0);
		},
	},
	{
		fault: 'prediction failed, with uploaded files',
		operation: 'createAndWait',
		inputItems: binaryInputs,
		parameters: { imageSource: 'binary', maskSource: 'binary' },
		options: { uploadRoute: 'upload' },
		arrange: (s) => s.scriptNextPrediction({ outcome: 'failed', error: 'CUDA out of memory' }),
		expect: {
			outcome: 'error',
			message: (ctx) => `Prediction ${ctx.id} failed: CUDA out of memory`,
		},
		check: (ctx) => {
			const input = (createPosts(ctx)[0].json as { input: Record<string, string> }).input;
			expect(
				deletes(ctx)
					.map((request) => request.path)
					.sort(),
			).toEqual([input.image, input.mask].map((url) => new URL(url).pathname).sort());
		},
	},

	// ---- issue 10 ----

	// 1. A Stop (or a teardown) during a held create cancels what it made within 2 s.
	{
		fault: 'execution stopped 1 s into a held create (model 8 s)',
		operation: 'createAndWait',
		server: { modelTimeMs: 8_000 },
		stopAfterMs: 1_000,
		expect: { outcome: 'stopped' },
		check: all(searched, cancelledWithin(2_000), endsWithin(1_000 + 2_500)),
	},
	{
		fault: 'execution stopped 1 s into 12 held creates (Max Concurrent 12, model 8 s)',
		operation: 'createAndWait',
		items: 12,
		options: { maxConcurrent: 12 },
		server: { modelTimeMs: 8_000 },
		stopAfterMs: 1_000,
		expect: { outcome: 'stopped' },
		check: all((ctx) => expect(ctx.created).toHaveLength(12), cancelledWithin(2_000)),
	},
	{
		fault: 'another item fails while a create is held (model 8 s)',
		operation: 'createAndWait',
		items: 2,
		server: { modelTimeMs: 8_000 },
		parameters: { imageUrl: '={{ $json.imageUrl }}' },
		inputItems: (s) => [
			{ json: { imageUrl: `${s.outputOrigin}/samples/missing.png` } },
			{ json: { imageUrl: s.sampleImageUrl } },
		],
		expect: { outcome: 'error', message: () => /^Prediction [a-z0-9]+ failed: / },
		check: (ctx) => {
			const failed = ctx.created.find((prediction) => prediction.status === 'failed')!;
			const held = ctx.created.find((prediction) => prediction !== failed)!;
			expect(held.status).toBe('canceled');
			expect(Date.parse(held.completed_at!) - Date.parse(failed.completed_at!)).toBeLessThanOrEqual(
				2_000,
			);
		},
	},

	// 2. (above: "reset after the create was sent", "502 after the create was made", …)

	// 5. Uploaded inputs are deleted on every path (uploads-left counts what stays).
	...(['createAndWait', 'createOnly'] as const).map(
		(operation): Row => ({
			fault: 'create refused (422), with uploaded files',
			operation,
			inputItems: binaryInputs,
			parameters: { imageSource: 'binary', maskSource: 'binary' },
			options: { uploadRoute: 'upload' },
			arrange: (s) =>
				s.inject({
					method: 'POST',
					path: CREATE,
					kind: 'status',
					status: 422,
					body: { title: 'Input validation failed', detail: 'Injected', status: 422 },
				}),
			expect: {
				outcome: 'error',
				message: () => 'Replicate API error 422 on POST /predictions: Input validation failed',
			},
			check: all(noCreate, (ctx) => expect(deletes(ctx)).toHaveLength(2)),
		}),
	),
	{
		fault: 'second upload refused (400), the first one made',
		operation: 'createAndWait',
		inputItems: binaryInputs,
		parameters: { imageSource: 'binary', maskSource: 'binary' },
		options: { uploadRoute: 'upload' },
		arrange: (s) =>
			s.inject({ method: 'POST', path: /^\/files$/, kind: 'status', status: 400, skip: 1 }),
		expect: {
			outcome: 'error',
			message: () => 'Replicate API error 400 on POST /files: Bad Request',
		},
		check: all(noCreate, (ctx) => {
			expect(uploadPosts(ctx)).toHaveLength(2);
			expect(deletes(ctx)).toHaveLength(1);
		}),
	},
	{
		fault: 'execution stopped 1 s into a held create, with uploaded files',
		operation: 'createAndWait',
		inputItems: binaryInputs,
		parameters: { imageSource: 'binary', maskSource: 'binary' },
		options: { uploadRoute: 'upload' },
		server: { modelTimeMs: 8_000 },
		stopAfterMs: 1_000,
		expect: { outcome: 'stopped' },
		check: all(cancelledWithin(2_000), (ctx) => expect(deletes(ctx)).toHaveLength(2)),
	},

	// 6. A download that fails on the network names the prediction and the output.
	{
		fault: 'reset on every download, beyond Max Retries (1)',
		operation: 'createAndWait',
		options: { maxRetries: 1 },
		arrange: (s) =>
			s.inject({ origin: 'output', path: OUTPUT, kind: 'reset-before-response', times: 5 }),
		expect: {
			outcome: 'error',
			message: (ctx) => `Downloading output 0 of prediction ${ctx.id} failed: connection reset`,
		},
		check: (ctx) => expect(downloads(ctx)).toHaveLength(2),
	},
	{
		fault: 'reset on every download, beyond Max Retries (1), Continue On Fail',
		operation: 'createAndWait',
		options: { maxRetries: 1 },
		continueOnFail: true,
		arrange: (s) =>
			s.inject({ origin: 'output', path: OUTPUT, kind: 'reset-before-response', times: 5 }),
		expect: { outcome: 'success', binaries: 0 },
		check: (ctx) =>
			expect(ctx.run.items[0].json).toMatchObject({
				error: `Downloading output 0 of prediction ${ctx.id} failed: connection reset`,
				predictionId: ctx.id,
			}),
	},
	{
		fault: 'download slower than the Timeout (5 s)',
		operation: 'createAndWait',
		options: { timeout: 5 },
		arrange: (s) =>
			s.inject({ origin: 'output', path: OUTPUT, kind: 'delay', ms: 20_000, times: 5 }),
		expect: {
			outcome: 'error',
			message: (ctx) => `Downloading output 0 of prediction ${ctx.id} failed: timed out`,
		},
		check: all(endsWithin(5_000 + 2_000), (ctx) => expect(downloads(ctx)).toHaveLength(1)),
	},

	// 7. Data URIs are decoded and sniffed before anything is paid for.
	{
		fault: 'Image URL is a text/plain data URI',
		operation: 'createAndWait',
		parameters: { imageUrl: 'data:text/plain;base64,aGVsbG8gd29ybGQ=' },
		expect: {
			outcome: 'error',
			message: () =>
				'Invalid input (item 0): Image URL (image): "data:text/plain;base64,aGVsbG8gd29ybGQ=" is a data URI of type text/plain whose bytes are no PNG, JPEG, WebP, GIF, BMP or TIFF image',
		},
		check: (ctx) => expect(ctx.requests).toHaveLength(0),
	},
	{
		fault: 'Mask URL is an empty PNG data URI',
		operation: 'createOnly',
		parameters: { maskUrl: 'data:image/png;base64,' },
		expect: {
			outcome: 'error',
			message: () =>
				'Invalid input (item 0): Mask URL (mask): "data:image/png;base64," is an empty data URI: it carries no image',
		},
		check: (ctx) => expect(ctx.requests).toHaveLength(0),
	},
	{
		fault: 'Image URL is a PNG data URI (control)',
		operation: 'createAndWait',
		parameters: {
			imageUrl: `data:image/png;base64,${makeSamplePng(64, 64, 'image').toString('base64')}`,
		},
		expect: SUCCESS_WITH_IMAGE,
	},

	// 8. Server text saying "canceled" fails the execution (not "stopped"), and keeps its words.
	{
		fault: 'model error saying "canceled"',
		operation: 'createAndWait',
		arrange: (s) =>
			s.scriptNextPrediction({ outcome: 'failed', error: 'Worker task was canceled: CUDA error' }),
		expect: {
			outcome: 'error',
			message: (ctx) => `Prediction ${ctx.id} failed: Worker task was cancelled: CUDA error`,
			description:
				/^As reported: Prediction [a-z0-9]+ failed: Worker task was canceled: CUDA error$/,
		},
	},
	{
		fault: 'model error saying "canceled", Continue On Fail',
		operation: 'createAndWait',
		continueOnFail: true,
		arrange: (s) =>
			s.scriptNextPrediction({ outcome: 'failed', error: 'Worker task was canceled: CUDA error' }),
		expect: { outcome: 'success', binaries: 0 },
		check: (ctx) =>
			expect(ctx.run.items[0].json).toMatchObject({
				error: `Prediction ${ctx.id} failed: Worker task was cancelled: CUDA error`,
				predictionId: ctx.id,
			}),
	},
	{
		fault: '404 on get, with "canceled" in its detail',
		operation: 'get',
		seed: { until: 'terminal' },
		arrange: (s) =>
			s.inject({
				method: 'GET',
				path: GET_ONE,
				kind: 'status',
				status: 404,
				body: 'Prediction was canceled and removed',
			}),
		expect: {
			outcome: 'error',
			message: (ctx) =>
				`Replicate API error 404 on GET /predictions/${ctx.id}: HTTP 404 (Prediction was cancelled and removed)`,
			description: /^As reported: .*Prediction was canceled and removed\)\n/,
		},
	},

	// 9. Outputs must be images; redirects are followed (without credentials), their target checked.
	{
		fault: 'output redirects to another origin that answers JSON',
		operation: 'createAndWait',
		arrange: (s, sink) =>
			s.inject({
				origin: 'output',
				path: OUTPUT,
				kind: 'status',
				status: 302,
				headers: { location: `${sink.origin}/elsewhere.json` },
				body: '',
			}),
		expect: {
			outcome: 'error',
			message: (ctx) =>
				`Output 0 of prediction ${ctx.id} is not an image (application/json, and its bytes are no PNG, JPEG, WebP, GIF, BMP or TIFF file)`,
		},
		check: (ctx) =>
			expect(ctx.sink.requests.some((request) => request.url === '/elsewhere.json')).toBe(true),
	},
	{
		fault: 'output answers an HTML page with 200',
		operation: 'get',
		seed: { until: 'terminal' },
		arrange: (s) => s.inject({ origin: 'output', path: OUTPUT, kind: 'non-json' }),
		expect: {
			outcome: 'error',
			message: (ctx) =>
				`Output 0 of prediction ${ctx.id} is not an image (text/html, and its bytes are no PNG, JPEG, WebP, GIF, BMP or TIFF file)`,
		},
	},
	{
		fault: 'output redirects to another origin that serves the image',
		operation: 'createAndWait',
		arrange: (s) =>
			s.inject({
				origin: 'output',
				path: OUTPUT,
				kind: 'status',
				status: 302,
				headers: {
					location: `${s.outputOrigin.replace('127.0.0.1', 'localhost')}/samples/image.png`,
				},
				body: '',
			}),
		expect: SUCCESS_WITH_IMAGE,
		check: (ctx) => {
			expect(
				ctx.requests.filter(
					(request) =>
						request.origin === 'output' &&
						request.path === '/samples/image.png' &&
						request.headers.host.startsWith('localhost:'),
				),
			).toHaveLength(1);
			expect(ctx.run.items[0].binary!.data).toMatchObject({
				mimeType: 'image/png',
				fileName: `${ctx.id}-0.png`,
			});
		},
	},

	// 10. An empty Webhook Events selection is refused before anything is sent.
	{
		fault: 'empty Webhook Events',
		operation: 'createOnly',
		parameters: { webhookEvents: [] },
		expect: {
			outcome: 'error',
			message: () =>
				'Invalid input (item 0): Webhook Events (webhook_events_filter): [] must name at least one of start, output, logs, completed (Completed: one call when the prediction has finished)',
		},
		check: (ctx) => expect(ctx.requests).toHaveLength(0),
	},

	// 11. No signal gets more than 10 abort listeners (Node's MaxListenersExceededWarning), checked on every row.
	{
		fault: '12 items at Max Concurrent 12',
		operation: 'createAndWait',
		items: 12,
		options: { maxConcurrent: 12 },
		server: { modelTimeMs: 1_500 },
		expect: { outcome: 'success', status: 'succeeded', items: 12 },
		check: (ctx) => {
			expect(ctx.server.stats().peakRunning).toBeGreaterThanOrEqual(11);
			// The node's own signals have listeners: the tracking sees them (this row is not vacuous).
			expect(ctx.abortListenersPeak).toBeGreaterThanOrEqual(1);
		},
	},
];

function binaryInputs(): INodeExecutionData[] {
	const image = makeSamplePng(64, 64, 'image');
	const mask = makeSamplePng(64, 64, 'mask');
	return [
		binaryItem({
			data: { content: image, fileName: 'a.png', mimeType: 'image/png' },
			mask: { content: mask, fileName: 'm.png', mimeType: 'image/png' },
		}),
	];
}

/** What every row runs: the operation's parameters, with the row's additions; the node's default options. */
function parametersFor(
	row: Row,
	server: FakeReplicate,
	sink: Sink,
	seedId: string | undefined,
): INodeParameters {
	const options = { ...(row.options ?? {}) };
	const prompt = row.sameInput ? 'the same prompt for every item' : '={{ $json.tag }}';
	switch (row.operation) {
		case 'createAndWait':
			return {
				operation: 'createAndWait',
				...urlInputs(server),
				prompt,
				...row.parameters,
				options,
			};
		case 'createOnly':
			return {
				operation: 'createOnly',
				...urlInputs(server),
				prompt,
				webhookUrl: `${sink.origin}/webhook/replicate`,
				webhookEvents: ['completed'],
				...row.parameters,
				options,
			};
		case 'get':
			return { operation: 'get', predictionId: seedId, waitForCompletion: true, options };
		case 'cancel':
			return { operation: 'cancel', predictionId: seedId, options };
	}
}

/** The node's default Timeout, sent as Cancel-After unless a row sets its own. */
const DEFAULT_TIMEOUT_SECONDS = 600;

let server: FakeReplicate;
let sink: Sink;

beforeAll(async () => {
	server = await startFakeReplicate({ token: TOKEN, ...SERVER_DEFAULTS });
	sink = await startSink();
});

afterAll(async () => {
	try {
		const sum = (pick: (tally: Tally) => number) =>
			tallies.reduce((total, tally) => total + pick(tally), 0);
		const totals = {
			// The rows that ran (all of them, unless a -t filter picked some).
			rows: tallies.length,
			passed: tallies.filter((tally) => tally.passed).length,
			createsPerItemMax: Math.max(0, ...tallies.map((tally) => tally.createsPerItemMax)),
			leftRunning: sum((tally) => tally.leftRunning) + server.stats().running,
			uploadsLeft: sum((tally) => tally.uploadsLeft),
			tokenToNonApiOrigin: sum((tally) => tally.tokenToNonApiOrigin),
			tokenInOutputOrError: sum((tally) => tally.tokenInOutputOrError),
			forgedExecutions: sum((tally) => tally.forgedExecutions),
		};
		if (process.env.FAULT_MATRIX_TABLE) {
			process.stdout.write(
				`${tallies.map((tally) => `${tally.passed ? 'ok  ' : 'FAIL'} ${tally.row} → ${tally.outcome}`).join('\n')}\n`,
			);
		}
		process.stdout.write(
			`fault matrix: rows=${totals.rows} passed=${totals.passed} creates-per-item-max=${totals.createsPerItemMax} left-running=${totals.leftRunning} uploads-left=${totals.uploadsLeft} token-to-non-api-origin=${totals.tokenToNonApiOrigin} token-in-output-or-error=${totals.tokenInOutputOrError} forged-executions=${totals.forgedExecutions}\n`,
		);
		expect(totals.passed).toBe(totals.rows);
		expect(totals.createsPerItemMax).toBeLessThanOrEqual(1);
		expect(totals.leftRunning).toBe(0);
		expect(totals.uploadsLeft).toBe(0);
		expect(totals.tokenToNonApiOrigin).toBe(0);
		expect(totals.tokenInOutputOrError).toBe(0);
		expect(totals.forgedExecutions).toBe(0);
	} finally {
		await sink?.close();
		await server?.close();
	}
});

/** Files still stored on the server: counted for the row, then deleted by the test, so each row starts clean. */
async function uploadsLeftOn(fake: FakeReplicate): Promise<number> {
	const left = fake.stats().files;
	const headers = { authorization: `Bearer ${fake.token}` };
	for (let page: string | null = `${fake.apiUrl}/files`; page; ) {
		const answer = (await (await fetch(page, { headers })).json()) as {
			next: string | null;
			results: Array<{ id: string }>;
		};
		for (const file of answer.results)
			await fetch(`${fake.apiUrl}/files/${file.id}`, { method: 'DELETE', headers });
		page = answer.next;
	}
	return left;
}

/** Node's limit before MaxListenersExceededWarning (events.defaultMaxListeners). */
const MAX_LISTENERS = 10;

/** How long after the end of a stopped execution a timer of the node may still be pending. */
const TIMER_GRACE_MS = 100;

describe('fault matrix', () => {
	it.each(rows.map((row) => [`${OPERATION_LABEL[row.operation]} × ${row.fault}`, row] as const))(
		'%s',
		async (label, row) => {
			const tally = newTally(label);
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
			const late =
				row.refuseConnectionsForMs === undefined
					? undefined
					: await lateApi(server, row.refuseConnectionsForMs);

			// Act: the node, through n8n's engine.
			const tags = Array.from({ length: row.items ?? 1 }, (_, index) => `${label} #${index}`);
			const inputItems = (row.inputItems?.(server) ?? tags.map(() => ({ json: {} }))).map(
				(item, index) => ({
					...item,
					json: { ...item.json, tag: tags[index] },
				}),
			);
			const listeners = trackAbortListeners();
			const timers = row.stopAfterMs === undefined ? undefined : trackNodeTimers();
			const startedAt = Date.now();
			let run: NodeRun;
			let timersLeft: LiveTimer[] = [];
			try {
				run = await runNode(server, parametersFor(row, server, sink, seedId), {
					inputItems,
					baseUrl: late?.baseUrl,
					stopAfterMs: row.stopAfterMs,
					continueOnFail: row.continueOnFail,
				});
				if (timers) {
					await new Promise((resolve) => setTimeout(resolve, TIMER_GRACE_MS));
					timersLeft = timers.live();
				}
			} finally {
				listeners.stop();
				timers?.stop();
				await late?.close();
			}
			const durationMs = Date.now() - startedAt;
			const created = [...server.predictions.values()].filter(
				(prediction) => !before.has(prediction.id),
			);
			const ctx: RowContext = {
				server,
				sink,
				id: seedId ?? created[0]?.id ?? '(none created)',
				seedId,
				created,
				requests: [...server.requests],
				run,
				durationMs,
				abortListenersPeak: listeners.peak(),
				stopAt: row.stopAfterMs === undefined ? undefined : startedAt + row.stopAfterMs,
			};

			// Measured for the totals before anything is asserted, so a failing row still counts.
			const perItem = row.sameInput
				? [Math.ceil(created.length / tags.length)]
				: tags.map(
						(tag) =>
							created.filter(
								(prediction) =>
									prediction.input.prompt === tag ||
									(tags.length === 1 && prediction.input.prompt === undefined),
							).length,
					);
			tally.createsPerItemMax = Math.max(0, ...perItem);
			const unattributed = row.sameInput
				? 0
				: created.length - perItem.reduce((sum, count) => sum + count, 0);
			const exposed = allText([
				run.result.run,
				run.result.error,
				run.result.logs,
				run.errorMessage,
				run.errorDescription,
				run.items,
			]);
			tally.tokenInOutputOrError = occurrences(exposed, TOKEN_TEXT);
			tally.outcome =
				run.result.status === 'canceled'
					? 'stopped (execution canceled)'
					: run.errorMessage
						? `error: ${run.errorMessage}`
						: `${run.result.status}${run.items[0] ? ` (${String(run.items[0].json.status ?? run.items[0].json.error)})` : ''}`;

			try {
				// Assert: the row's own outcome.
				const expected = row.expect;
				if (expected.outcome === 'success') {
					expect(run.errorMessage).toBeUndefined();
					expect(run.result.status).toBe('success');
					expect(run.items).toHaveLength(expected.items ?? 1);
					if (expected.status)
						for (const item of run.items) expect(item.json.status).toBe(expected.status);
					if (expected.binaries !== undefined)
						expect(Object.keys(run.items[0].binary ?? {})).toHaveLength(expected.binaries);
				} else if (expected.outcome === 'error') {
					expect(run.result.status).toBe('error');
					const message = expected.message(ctx);
					if (typeof message === 'string') expect(run.errorMessage).toBe(message);
					else expect(run.errorMessage).toMatch(message);
					for (const description of [expected.description ?? []].flat())
						expect(run.errorDescription).toMatch(description);
				} else {
					expect(run.result.status).toBe('canceled');
					expect(run.items).toHaveLength(0);
				}
				await row.check?.(ctx);

				// Assert, on every row: Cancel-After on every create, at most one prediction per item, no
				// listener warnings, and after a Stop no timer of the node left pending.
				const timeout =
					(parametersFor(row, server, sink, seedId).options as IDataObject).timeout ??
					DEFAULT_TIMEOUT_SECONDS;
				for (const post of createPosts(ctx))
					expect(post.headers['cancel-after']).toBe(`${timeout}s`);
				expect(unattributed).toBe(0);
				expect(tally.createsPerItemMax).toBeLessThanOrEqual(1);
				expect(tally.tokenInOutputOrError).toBe(0);
				expect(ctx.abortListenersPeak).toBeLessThanOrEqual(MAX_LISTENERS);
				expect(timersLeft.map((timer) => timer.stack)).toEqual([]);
				if (row.operation === 'get' || row.operation === 'cancel')
					expect(ctx.server.stats().creates).toBe(0);
			} finally {
				// Settle: the test stops its own prediction; whatever the node started must be finished or
				// canceled within moments (cancels after a Stop have gone out before the node returned).
				if (seedId) await cancelAsTest(server, seedId);
				await eventually(() => server.stats().running === 0, 1_500);
				const stillRunning = [...server.predictions.values()].filter(
					(prediction) => !isTerminal(prediction),
				).length;
				// After a Stop, a prediction of the node's that succeeded after it ran on, paid, for nobody.
				const succeededAfterStop =
					ctx.stopAt === undefined
						? 0
						: created.filter(
								(prediction) =>
									prediction.status === 'succeeded' &&
									Date.parse(prediction.completed_at ?? '') > ctx.stopAt!,
							).length;
				tally.leftRunning = stillRunning + succeededAfterStop;
				tally.tokenToNonApiOrigin =
					server.stats().tokenToNonApiOrigin + sinkRequestsCarrying(sink, TOKEN, sinkMark);
				// Faults still armed must not meet the test's own clean-up.
				server.reset();
				for (const prediction of server.predictions.values())
					if (!isTerminal(prediction)) await cancelAsTest(server, prediction.id);
				tally.uploadsLeft = await uploadsLeftOn(server);
			}
			expect(tally.leftRunning).toBe(0);
			expect(tally.uploadsLeft).toBe(0);
			expect(tally.tokenToNonApiOrigin).toBe(0);
			tally.passed = true;
		},
	);
});

describe('fault matrix: trigger', () => {
	let prediction: string;

	beforeAll(async () => {
		server.reset();
		server.set(SERVER_DEFAULTS);
		prediction = JSON.stringify(await finishedPrediction(server));
	});

	it.each(triggerRows.map((row) => [`Trigger × ${row.fault}`, row] as const))(
		'%s',
		async (label, row) => {
			const tally = newTally(label);
			tallies.push(tally);
			server.reset();
			server.set(SERVER_DEFAULTS);
			const sinkMark = sink.requests.length;
			await row.arrange?.(server);
			const deliveries = row.deliveries(server, prediction);
			const results: WebhookRunResult[] = [];
			try {
				for (const delivery of deliveries) {
					results.push(
						await deliver(server, delivery.body, delivery.headers, {
							credential: row.credential,
							parameters: row.parameters,
						}),
					);
				}
			} finally {
				// Measured before anything is asserted, so a failing row still counts.
				tally.forgedExecutions = forgedExecutions(deliveries, results);
				tally.tokenInOutputOrError = occurrences(
					allText(results.map((result) => [result.body, result.error, result.logs, result.items])),
					TOKEN_TEXT,
				);
				tally.tokenToNonApiOrigin =
					server.stats().tokenToNonApiOrigin + sinkRequestsCarrying(sink, TOKEN, sinkMark);
				tally.outcome = results
					.map((result) => `${result.status}${startedExecution(result) ? ' (execution)' : ''}`)
					.join(', ');
			}
			row.expect(results, deliveries, server);
			expect(tally.forgedExecutions).toBe(0);
			expect(tally.tokenInOutputOrError).toBe(0);
			expect(tally.tokenToNonApiOrigin).toBe(0);
			tally.passed = true;
		},
	);
});

describe('fault matrix: credential Test', () => {
	it.each(credentialRows.map((row) => [`Credential Test × ${row.fault}`, row] as const))(
		'%s',
		async (label, row) => {
			const tally = newTally(label);
			tallies.push(tally);
			server.reset();
			const sinkMark = sink.requests.length;
			const target = await row.arrange(server, sink);
			let result;
			try {
				result = await testCredential(ReplicateInpaintingApi, {
					apiToken: target.token ?? TOKEN,
					baseUrl: target.baseUrl,
				});
			} finally {
				await target.close?.();
				tally.tokenToNonApiOrigin =
					server.stats().tokenToNonApiOrigin + sinkRequestsCarrying(sink, TOKEN, sinkMark);
			}
			tally.tokenInOutputOrError = occurrences(allText(result), TOKEN_TEXT);
			tally.outcome = `${result.status}: ${result.message}`;
			row.expect(result);
			expect(tally.tokenToNonApiOrigin).toBe(0);
			expect(tally.tokenInOutputOrError).toBe(0);
			tally.passed = true;
		},
	);
});

describe('fault matrix: deliveries and resume calls, signing secret endpoint down', () => {
	let waiting: WaitingServer;

	beforeAll(async () => {
		waiting = await startWaitingServer();
	});

	afterAll(async () => {
		await waiting?.close();
	});

	it.each(deliveryRows.map((row) => [`Delivery × ${row.name}`, row] as const))(
		'%s',
		async (label, row) => {
			const tally = newTally(label);
			tallies.push(tally);
			const delivery = { forgedExecutions: 0, secretFetches: 0 };
			// A fresh server per row: the fetched key (and a failed fetch) is remembered per API URL and token.
			const fresh = await startFakeReplicate({ modelTimeMs: 100 });
			try {
				await row.run(fresh, waiting, delivery);
				tally.passed = true;
			} finally {
				tally.forgedExecutions = delivery.forgedExecutions;
				tally.tokenToNonApiOrigin = fresh.stats().tokenToNonApiOrigin;
				tally.outcome = `forged executions ${delivery.forgedExecutions}, secret fetches ${delivery.secretFetches}`;
				await fresh.close();
			}
		},
	);
});
