/**
 * What a row of the fault matrix for the Replicate Inpainting node is (one operation, one fault,
 * its expected outcome), what the runner hands its check, and the readers of the server's records,
 * fault shorthands and checks that rows of several subjects write their rows with.
 */
import type { INodeExecutionData, INodeParameters } from 'n8n-workflow';

import type {
	FakeReplicate,
	FakeReplicateOptions,
	Fault,
	Prediction,
	PredictionScript,
	RecordedRequest,
} from '../../tools/fake-replicate';
import type { NodeRun } from '../node/support';
import type { Sink } from './support';

export type Operation = 'createAndWait' | 'createOnly' | 'get' | 'cancel';

/** What a row saw: the server's records of the node's run and the run itself. */
export interface RowContext {
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

export type Expected =
	| { outcome: 'success'; status?: string; binaries?: number; items?: number }
	| {
			outcome: 'error';
			message: (ctx: RowContext) => string | RegExp;
			description?: RegExp | RegExp[];
	  }
	| { outcome: 'stopped' };

export interface NodeRow {
	fault: string;
	operation: Operation;
	server?: Partial<FakeReplicateOptions>;
	/** A prediction the test starts first, through the API (Get and Cancel act on it). */
	seed?: {
		until: 'terminal' | 'running';
		script?: PredictionScript;
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

// ---- small readers of the server's records ----

const isCreate = (request: RecordedRequest) =>
	request.origin === 'api' && request.method === 'POST' && /\/predictions$/.test(request.path);
export const createPosts = (ctx: RowContext) => ctx.requests.filter(isCreate);
export const polls = (ctx: RowContext) =>
	ctx.requests.filter(
		(request) =>
			request.origin === 'api' &&
			request.method === 'GET' &&
			/\/predictions\/[^/]+$/.test(request.path),
	);
export const cancels = (ctx: RowContext) =>
	ctx.requests.filter((request) => request.origin === 'api' && /\/cancel$/.test(request.path));
export const downloads = (ctx: RowContext) =>
	ctx.requests.filter(
		(request) => request.origin === 'output' && /\/out-\d+\.png$/.test(request.path),
	);
export const listings = (ctx: RowContext) =>
	ctx.requests.filter(
		(request) =>
			request.origin === 'api' && request.method === 'GET' && /\/predictions$/.test(request.path),
	);

// ---- fault shorthands ----

export const CREATE = /^\/predictions$/;

/** The requests a fault meets: the create, a get (Get's, or a poll while waiting), a cancel, a download. */
export const ON_CREATE = { method: 'POST', path: CREATE };
export const ON_GET = { method: 'GET', path: /^\/predictions\/[^/]+$/ };
export const ON_CANCEL = { method: 'POST', path: /^\/predictions\/[^/]+\/cancel$/ };
export const ON_DOWNLOAD = { origin: 'output', path: /\/out-\d+\.png$/ } as const;

/** Create and Wait polls (the create does not wait for it) a prediction that runs 30 s. */
export const POLLING: NodeRow['server'] = { honourPreferWait: false, modelTimeMs: 30_000 };

/** The test's own prediction, still running (the model takes 30 s), for Get and Cancel to act on. */
export const RUNNING_SEED: Pick<NodeRow, 'server' | 'seed'> = {
	server: { modelTimeMs: 30_000 },
	seed: { until: 'running' },
};

export const SUCCESS_WITH_IMAGE: Expected = {
	outcome: 'success',
	status: 'succeeded',
	binaries: 1,
};

// ---- checks ----

export const noCreate = (ctx: RowContext) => expect(ctx.server.stats().creates).toBe(0);
export const onePost = (ctx: RowContext) => expect(createPosts(ctx)).toHaveLength(1);
/** The node looked for the prediction of an ambiguous create (and never sent a second one). */
export const searched = (ctx: RowContext) => expect(listings(ctx).length).toBeGreaterThanOrEqual(1);
/** The item went on with the prediction its create made, found by listing: sent once, never twice. */
export const adopted = (ctx: RowContext) => {
	onePost(ctx);
	searched(ctx);
	expect(ctx.created).toHaveLength(1);
	expect(ctx.run.items[0].json.id).toBe(ctx.created[0].id);
	expect(
		ctx.run.result.logs.some((line) =>
			line.includes(`found prediction ${ctx.created[0].id} with GET /predictions`),
		),
	).toBe(true);
};
/**
 * Every prediction the node made was cancelled (by the node's own request) within `ms` of the Stop,
 * and none ran on: the server has them canceled.
 */
export const cancelledWithin = (ms: number) => (ctx: RowContext) => {
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
export const endsWithin = (endsByMs: number) => (ctx: RowContext) =>
	expect(ctx.durationMs).toBeLessThan(endsByMs);
export const all =
	(...checks: Array<(ctx: RowContext) => void>) =>
	(ctx: RowContext) =>
		checks.forEach((check) => check(ctx));

// ---- rows, and parts of rows, that several subjects share ----

/** What one operation's row adds to a fault met by several operations. */
type Meeting = Pick<NodeRow, 'expect' | 'options' | 'check'>;

/**
 * One finished prediction, as `script` makes it, met by each operation given: Create and Wait
 * makes it (the server's next prediction), Get and Cancel find it finished (the test's own).
 */
export function scriptedPrediction(
	fault: string,
	script: PredictionScript,
	meetings: Partial<Record<'createAndWait' | 'get' | 'cancel', Meeting>>,
): NodeRow[] {
	return (['createAndWait', 'get', 'cancel'] as const).flatMap((operation): NodeRow[] => {
		const meeting = meetings[operation];
		if (!meeting) return [];
		return [
			operation === 'createAndWait'
				? { fault, operation, arrange: (s) => s.scriptNextPrediction(script), ...meeting }
				: { fault, operation, seed: { until: 'terminal', script }, ...meeting },
		];
	});
}

// `injected` meets, once, a request that is safe to repeat: the node sends it again.

/** Get on the test's finished prediction: its GET is sent again, and the image downloaded. */
export const getRetried = (fault: string, injected: Fault): NodeRow => ({
	fault,
	operation: 'get',
	seed: { until: 'terminal' },
	arrange: (s) => s.inject(injected),
	expect: SUCCESS_WITH_IMAGE,
	check: (ctx) => expect(polls(ctx)).toHaveLength(2),
});

/** Cancel on the test's running prediction: its cancel is sent again, and the prediction cancelled. */
export const cancelRetried = (fault: string, injected: Fault): NodeRow => ({
	fault,
	operation: 'cancel',
	...RUNNING_SEED,
	arrange: (s) => s.inject(injected),
	expect: { outcome: 'success', status: 'canceled' },
	check: (ctx) => expect(cancels(ctx)).toHaveLength(2),
});

/** Create and Wait: the download is sent again (the create once), and the image kept. */
export const downloadRetried = (fault: string, injected: Fault): NodeRow => ({
	fault,
	operation: 'createAndWait',
	arrange: (s) => s.inject(injected),
	expect: SUCCESS_WITH_IMAGE,
	check: all(onePost, (ctx) => expect(downloads(ctx)).toHaveLength(2)),
});

/**
 * An ambiguous create the node looked for (GET /predictions) and did not find: it made nothing,
 * says so after `cause`, and sent the create once.
 */
export const notMade = (cause: string): Pick<NodeRow, 'expect' | 'check'> => ({
	expect: {
		outcome: 'error',
		message: () => `Creating the prediction failed, and no prediction was made: ${cause}`,
		description:
			/^The node looked for it among your predictions \(GET \/predictions\) for \d+ s and found none with this input, and did not send the create again/,
	},
	check: all(onePost, noCreate, searched),
});
