/**
 * Rows of the fault matrix for 429 (rate limited): retried by every request kind (create, get,
 * download, cancel), after Retry-After (seconds or HTTP date) or a backoff.
 */
import type { FakeReplicate, Fault, RecordedRequest } from '../../tools/fake-replicate';
import type { NodeRow, RowContext } from './node-row';
import {
	all,
	cancelRetried,
	createPosts,
	downloads,
	getRetried,
	noCreate,
	ON_CANCEL,
	ON_CREATE,
	ON_DOWNLOAD,
	ON_GET,
	polls,
	SUCCESS_WITH_IMAGE,
} from './node-row';

/** 429 on the requests `target` names, with this Retry-After (without one: the node's backoff). */
const throttle = (s: FakeReplicate, target: Omit<Fault, 'kind'>, retryAfter?: string) =>
	s.inject({
		...target,
		kind: 'status',
		status: 429,
		...(retryAfter === undefined ? {} : { headers: { 'retry-after': retryAfter } }),
	});

const gap = (list: RecordedRequest[]) => list[1].at - list[0].at;

/** The request was sent twice, the second time at least `ms` after the first. */
const sentAgainAfter =
	(requests: (ctx: RowContext) => RecordedRequest[], ms: number) => (ctx: RowContext) => {
		expect(requests(ctx)).toHaveLength(2);
		expect(gap(requests(ctx))).toBeGreaterThanOrEqual(ms);
	};

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
		arrange: (s) => throttle(s, ON_CREATE, '1'),
		expect: SUCCESS_WITH_IMAGE,
		check: sentAgainAfter(createPosts, 950),
	},
	{
		fault: '429 with Retry-After as an HTTP date on create',
		operation: 'createAndWait',
		arrange: (s) => throttle(s, ON_CREATE, httpDateSecondsAhead(2)),
		expect: SUCCESS_WITH_IMAGE,
		check: sentAgainAfter(createPosts, RETRY_AFTER_DATE_MIN_MS),
	},
	{
		fault: '429 without Retry-After on create',
		operation: 'createAndWait',
		arrange: (s) => throttle(s, ON_CREATE),
		expect: SUCCESS_WITH_IMAGE,
		// Backoff with jitter: 1 s × (0.5 … 1) before the first retry.
		check: sentAgainAfter(createPosts, 450),
	},
	{
		fault: '429 on every create, beyond Max Retries (1)',
		operation: 'createAndWait',
		options: { maxRetries: 1 },
		arrange: (s) => throttle(s, { ...ON_CREATE, times: 5 }, '0'),
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
		arrange: (s) => throttle(s, { ...ON_CREATE, times: 2 }, '1'),
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
		arrange: (s) => throttle(s, ON_CREATE, '1'),
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
		arrange: (s) => throttle(s, ON_GET, httpDateSecondsAhead(2)),
		expect: SUCCESS_WITH_IMAGE,
		check: (ctx) => expect(gap(polls(ctx))).toBeGreaterThanOrEqual(RETRY_AFTER_DATE_MIN_MS),
	},
	getRetried('429 without Retry-After on get', { ...ON_GET, kind: 'status', status: 429 }),
	{
		fault: '429 with Retry-After: 1 on download',
		operation: 'createAndWait',
		arrange: (s) => throttle(s, ON_DOWNLOAD, '1'),
		expect: SUCCESS_WITH_IMAGE,
		check: sentAgainAfter(downloads, 950),
	},
	cancelRetried('429 with Retry-After: 1 on cancel', {
		...ON_CANCEL,
		kind: 'status',
		status: 429,
		headers: { 'retry-after': '1' },
	}),
	cancelRetried('429 without Retry-After on cancel', { ...ON_CANCEL, kind: 'status', status: 429 }),
];
