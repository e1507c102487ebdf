/**
 * What a row of the fault matrix for the Replicate Inpainting node is (one operation, one fault,
 * its expected outcome), what the runner hands its check, and the readers of the server's records,
 * fault shorthands and checks that rows of several subjects write their rows with.
 */
import type { INodeExecutionData, INodeParameters } from 'n8n-workflow';

import type {
	FakeReplicate,
	FakeReplicateOptions,
	Prediction,
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

type Script = Parameters<FakeReplicate['scriptNextPrediction']>[0];

export interface NodeRow {
	fault: string;
	operation: Operation;
	server?: Partial<FakeReplicateOptions>;
	/** A prediction the test starts first, through the API (Get and Cancel act on it). */
	seed?: {
		until: 'terminal' | 'running';
		script?: Script;
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
export const GET_ONE = /^\/predictions\/[^/]+$/;
export const CANCEL = /^\/predictions\/[^/]+\/cancel$/;
export const OUTPUT = /\/out-\d+\.png$/;

/** An ambiguous create the node looked for (GET /predictions) and did not find: it made nothing. */
export const NOT_MADE = 'Creating the prediction failed, and no prediction was made: ';
export const NOT_MADE_HINT =
	/^The node looked for it among your predictions \(GET \/predictions\) for \d+ s and found none with this input, and did not send the create again/;

export const SUCCESS_WITH_IMAGE: Expected = {
	outcome: 'success',
	status: 'succeeded',
	binaries: 1,
};

// ---- checks ----

export const noCreate = (ctx: RowContext) => expect(ctx.server.stats().creates).toBe(0);
/** The node looked for the prediction of an ambiguous create (and never sent a second one). */
export const searched = (ctx: RowContext) => expect(listings(ctx).length).toBeGreaterThanOrEqual(1);
/** The item went on with the prediction its create made, found by listing. */
export const adopted = (ctx: RowContext) => {
	expect(ctx.created).toHaveLength(1);
	expect(ctx.run.items[0].json.id).toBe(ctx.created[0].id);
	expect(
		ctx.run.result.logs.some((line) =>
			line.includes(`found prediction ${ctx.created[0].id} with GET /predictions`),
		),
	).toBe(true);
};
export const onePost = (ctx: RowContext) => expect(createPosts(ctx)).toHaveLength(1);
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
