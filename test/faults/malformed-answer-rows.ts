/**
 * Rows of the fault matrix for answers that are not what the API promises: not JSON, without id
 * or status, an unknown status, a redirect elsewhere. The node fails with a precise error, and
 * cancels a prediction it started and can no longer follow.
 */
import type { NodeRow, RowContext } from './node-row';
import {
	adopted,
	cancels,
	notMade,
	ON_CANCEL,
	ON_CREATE,
	ON_GET,
	onePost,
	POLLING,
	RUNNING_SEED,
	SUCCESS_WITH_IMAGE,
} from './node-row';

const HTML =
	'<!DOCTYPE html><html><head><title>Just a moment...</title></head><body><h1>Checking your browser</h1></body></html>';
const KNOWN_HINT =
	/^Known statuses: starting, processing, succeeded, failed, canceled, aborted\.(\n|$)/;
/** The node cancelled a prediction it started and could no longer follow. */
const CANCELLED_HINT =
	/The node cancelled prediction [a-z0-9]+, so it does not run on unobserved\.$/;

/** The request's JSON answer as `mutate` rewrites it (the work itself is done). */
const mangled = (
	target: { method: string; path: RegExp },
	mutate: (body: Record<string, unknown>) => Record<string, unknown>,
) => ({ ...target, kind: 'mangle', mutate }) as const;
const withoutId = ({ id: _id, ...rest }: Record<string, unknown>) => rest;
const withoutStatus = ({ status: _status, ...rest }: Record<string, unknown>) => rest;
const unknownStatus = (body: Record<string, unknown>) => ({ ...body, status: 'queued' });

/**
 * The node cancelled the one prediction it started: the server has it canceled, through the
 * node's request.
 */
const cancelledByNode = (ctx: RowContext) => {
	onePost(ctx);
	expect(cancels(ctx).map((request) => request.path)).toEqual([
		expect.stringMatching(new RegExp(`/predictions/${ctx.id}/cancel$`)),
	]);
	expect(ctx.server.predictions.get(ctx.id)!.status).toBe('canceled');
};

export const malformedAnswerRows: NodeRow[] = [
	{
		fault: 'non-JSON answer to create',
		operation: 'createAndWait',
		arrange: (s) => s.inject({ ...ON_CREATE, kind: 'non-json' }),
		...notMade(
			`Unexpected answer from the Replicate API on POST /predictions: the body is not JSON ("${HTML}")`,
		),
	},
	{
		fault: 'non-JSON answer to a poll',
		operation: 'createAndWait',
		server: POLLING,
		arrange: (s) => s.inject({ ...ON_GET, kind: 'non-json' }),
		expect: {
			outcome: 'error',
			message: (ctx) =>
				`Unexpected answer from the Replicate API on GET /predictions/${ctx.id}: the body is not JSON ("${HTML}")`,
			description: CANCELLED_HINT,
		},
		check: cancelledByNode,
	},
	{
		fault: 'non-JSON answer to get',
		operation: 'get',
		seed: { until: 'terminal' },
		arrange: (s) => s.inject({ ...ON_GET, kind: 'non-json' }),
		expect: {
			outcome: 'error',
			message: (ctx) =>
				`Unexpected answer from the Replicate API on GET /predictions/${ctx.id}: the body is not JSON ("${HTML}")`,
		},
	},
	{
		fault: 'non-JSON answer to cancel',
		operation: 'cancel',
		...RUNNING_SEED,
		arrange: (s) => s.inject({ ...ON_CANCEL, kind: 'non-json' }),
		expect: {
			outcome: 'error',
			message: (ctx) =>
				`Unexpected answer from the Replicate API on POST /predictions/${ctx.id}/cancel: the body is not JSON ("${HTML}")`,
		},
	},
	{
		fault: 'create answer without id',
		operation: 'createAndWait',
		arrange: (s) => s.inject(mangled(ON_CREATE, withoutId)),
		expect: SUCCESS_WITH_IMAGE,
		check: adopted,
	},
	{
		fault: 'create answer without status',
		operation: 'createAndWait',
		server: { modelTimeMs: 30_000 },
		options: { timeout: 4 },
		arrange: (s) => s.inject(mangled(ON_CREATE, withoutStatus)),
		expect: {
			outcome: 'error',
			message: (ctx) =>
				`Unexpected answer from the Replicate API on POST /predictions: prediction ${ctx.id} has no "status"`,
			description: CANCELLED_HINT,
		},
		check: cancelledByNode,
	},
	{
		fault: 'create answer with an unknown status',
		operation: 'createOnly',
		server: { modelTimeMs: 30_000 },
		arrange: (s) => s.inject(mangled(ON_CREATE, unknownStatus)),
		expect: {
			outcome: 'error',
			message: (ctx) =>
				`Unexpected answer from the Replicate API on POST /predictions: prediction ${ctx.id} has the unknown status "queued"`,
			description: [KNOWN_HINT, CANCELLED_HINT],
		},
		check: cancelledByNode,
	},
	{
		fault: 'poll answer without status',
		operation: 'createAndWait',
		server: POLLING,
		arrange: (s) => s.inject(mangled(ON_GET, withoutStatus)),
		expect: {
			outcome: 'error',
			message: (ctx) =>
				`Unexpected answer from the Replicate API on GET /predictions/${ctx.id}: prediction ${ctx.id} has no "status"`,
			description: CANCELLED_HINT,
		},
		check: cancelledByNode,
	},
	{
		fault: 'poll answer with an unknown status',
		operation: 'createAndWait',
		server: POLLING,
		arrange: (s) => s.inject(mangled(ON_GET, unknownStatus)),
		expect: {
			outcome: 'error',
			message: (ctx) =>
				`Unexpected answer from the Replicate API on GET /predictions/${ctx.id}: prediction ${ctx.id} has the unknown status "queued"`,
			description: [KNOWN_HINT, CANCELLED_HINT],
		},
		check: cancelledByNode,
	},
	{
		fault: 'get answer without id',
		operation: 'get',
		seed: { until: 'terminal' },
		arrange: (s) => s.inject(mangled(ON_GET, withoutId)),
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
		arrange: (s) => s.inject(mangled(ON_GET, unknownStatus)),
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
		...RUNNING_SEED,
		arrange: (s) => s.inject(mangled(ON_CANCEL, withoutStatus)),
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
				...ON_GET,
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
