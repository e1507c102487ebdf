/**
 * Rows of the fault matrix for 429 (rate limited): retried by every request kind (create, get,
 * download, cancel), after Retry-After (seconds or HTTP date) or a backoff.
 */
import type { RecordedRequest } from '../../tools/fake-replicate';
import type { NodeRow } from './node-row';
import {
	createPosts,
	polls,
	cancels,
	downloads,
	CREATE,
	GET_ONE,
	CANCEL,
	OUTPUT,
	SUCCESS_WITH_IMAGE,
	noCreate,
	all,
} from './node-row';

const gap = (list: RecordedRequest[]) => list[1].at - list[0].at;

/**
 * Retry-After as an HTTP date, at least `seconds` whole seconds ahead (dates have no milliseconds).
 * The wait it asks for (≥ 1.5 s once the run has started) is longer than any first backoff (≤ 1 s),
 * so a gap that long shows the date was honoured.
 */
const httpDateSecondsAhead = (seconds: number) =>
	new Date(Math.ceil(Date.now() / 1000 + seconds) * 1000).toUTCString();
const RETRY_AFTER_DATE_MIN_MS = 1_500;

export const rateLimitRows: NodeRow[] = [
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
];
