/**
 * Rows of the fault matrix for answers that are not what the API promises: not JSON, without id
 * or status, an unknown status, a redirect elsewhere. The node fails with a precise error, and
 * cancels a prediction it started and can no longer follow.
 */
import type { NodeRow, RowContext } from './node-row';
import {
	cancels,
	CREATE,
	GET_ONE,
	CANCEL,
	NOT_MADE,
	NOT_MADE_HINT,
	SUCCESS_WITH_IMAGE,
	noCreate,
	searched,
	adopted,
	onePost,
	all,
} from './node-row';

const HTML =
	'<!DOCTYPE html><html><head><title>Just a moment...</title></head><body><h1>Checking your browser</h1></body></html>';
const KNOWN_HINT =
	/^Known statuses: starting, processing, succeeded, failed, canceled, aborted\.(\n|$)/;
/** The node cancelled a prediction it started and could no longer follow. */
const CANCELLED_HINT =
	/The node cancelled prediction [a-z0-9]+, so it does not run on unobserved\.$/;

/** The node cancelled the prediction it started: the server has it canceled, through the node's request. */
const cancelledByNode = (ctx: RowContext) => {
	expect(cancels(ctx).map((request) => request.path)).toEqual([
		expect.stringMatching(new RegExp(`/predictions/${ctx.id}/cancel$`)),
	]);
	expect(ctx.server.predictions.get(ctx.id)!.status).toBe('canceled');
};

export const malformedAnswerRows: NodeRow[] = [
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
];
