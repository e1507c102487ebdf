/**
 * Rows of the fault matrix for 5xx answers: on create never repeated (a prediction may exist, so
 * the node looks for it instead); on get, cancel and download retried.
 */
import type { NodeRow } from './node-row';
import {
	all,
	cancelRetried,
	downloadRetried,
	downloads,
	getRetried,
	notMade,
	ON_CANCEL,
	ON_CREATE,
	ON_DOWNLOAD,
	ON_GET,
	onePost,
	polls,
	SUCCESS_WITH_IMAGE,
} from './node-row';

const STATUS_TITLE: Record<number, string> = {
	500: 'Internal Server Error',
	502: 'Bad Gateway',
	503: 'Service Unavailable',
};
const STATUSES = [500, 502, 503];

/** `status` on the create: sent once, looked for, not found, and said so. */
const createAnswered = (status: number, operation: 'createAndWait' | 'createOnly'): NodeRow => ({
	fault: `${status} on create`,
	operation,
	arrange: (s) => s.inject({ ...ON_CREATE, kind: 'status', status }),
	...notMade(`Replicate API error ${status} on POST /predictions: ${STATUS_TITLE[status]}`),
});

export const serverErrorRows: NodeRow[] = [
	...STATUSES.map((status) => createAnswered(status, 'createAndWait')),
	createAnswered(502, 'createOnly'),
	...STATUSES.map((status) =>
		getRetried(`${status} on get`, { ...ON_GET, kind: 'status', status }),
	),
	{
		fault: '502 on a poll while waiting',
		operation: 'createAndWait',
		server: { honourPreferWait: false, modelTimeMs: 300 },
		arrange: (s) => s.inject({ ...ON_GET, kind: 'status', status: 502 }),
		expect: SUCCESS_WITH_IMAGE,
		check: all(onePost, (ctx) => expect(polls(ctx).length).toBeGreaterThanOrEqual(2)),
	},
	...STATUSES.map((status) =>
		downloadRetried(`${status} on download`, { ...ON_DOWNLOAD, kind: 'status', status }),
	),
	{
		fault: '503 on download',
		operation: 'get',
		seed: { until: 'terminal' },
		arrange: (s) => s.inject({ ...ON_DOWNLOAD, kind: 'status', status: 503 }),
		expect: SUCCESS_WITH_IMAGE,
		check: (ctx) => expect(downloads(ctx)).toHaveLength(2),
	},
	{
		fault: '503 on every download, beyond Max Retries (1)',
		operation: 'createAndWait',
		options: { maxRetries: 1 },
		arrange: (s) =>
			s.inject({
				...ON_DOWNLOAD,
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
	...STATUSES.map((status) =>
		cancelRetried(`${status} on cancel`, { ...ON_CANCEL, kind: 'status', status }),
	),
];
