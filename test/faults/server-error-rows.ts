/**
 * Rows of the fault matrix for 5xx answers: on create never repeated (a prediction may exist, so
 * the node looks for it instead); on get, cancel and download retried.
 */
import type { NodeRow } from './node-row';
import {
	polls,
	cancels,
	downloads,
	CREATE,
	GET_ONE,
	CANCEL,
	OUTPUT,
	NOT_MADE,
	NOT_MADE_HINT,
	SUCCESS_WITH_IMAGE,
	noCreate,
	searched,
	onePost,
	all,
} from './node-row';

const STATUS_TITLE: Record<number, string> = {
	500: 'Internal Server Error',
	502: 'Bad Gateway',
	503: 'Service Unavailable',
};

export const serverErrorRows: NodeRow[] = [
	...[500, 502, 503].map(
		(status): NodeRow => ({
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
		(status): NodeRow => ({
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
		(status): NodeRow => ({
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
		(status): NodeRow => ({
			fault: `${status} on cancel`,
			operation: 'cancel',
			server: { modelTimeMs: 30_000 },
			seed: { until: 'running' },
			arrange: (s) => s.inject({ method: 'POST', path: CANCEL, kind: 'status', status }),
			expect: { outcome: 'success', status: 'canceled' },
			check: (ctx) => expect(cancels(ctx)).toHaveLength(2),
		}),
	),
];
