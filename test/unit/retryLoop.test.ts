/**
 * The one retry loop (shared/transport/retry.ts `withRetries`) on jest's fake clock, with a script
 * for `send`. Which kind of request is repeated on which answer: a create (it costs money) only
 * when nothing can have been created (429, a connection never opened); other requests also on 5xx
 * and on failures after sending. Math.random is pinned to 0, so the backoff is exactly 500, 1000,
 * 2000 … ms (retry.test.ts covers the schedule itself).
 */
import { ExecutionStoppedError } from '../../nodes/shared/pause';
import {
	AFTER_SEND_CODES,
	attemptTimeout,
	CreateRateLimiter,
	NOT_SENT_CODES,
	withRetries,
} from '../../nodes/shared/transport/retry';
import type { RequestKind, RetryPolicy } from '../../nodes/shared/transport/retry';
import { networkError, T0, useFakeClock } from './scriptedApi';

useFakeClock({ noJitter: true });

interface Answer {
	statusCode: number;
	headers: Record<string, unknown>;
}
type Step = number | Answer | Error;

const KINDS: RequestKind[] = ['create', 'repeatable', 'cleanup'];

/** A `send` that answers with `steps` in turn (the last repeats) and records when it was called. */
function script(steps: Step[]) {
	const times: number[] = [];
	const send = async (): Promise<Answer> => {
		times.push(Date.now() - T0);
		const step = steps[Math.min(times.length - 1, steps.length - 1)];
		if (step instanceof Error) throw step;
		return typeof step === 'number' ? { statusCode: step, headers: {} } : step;
	};
	return { send, times };
}

/** Runs the loop to its end on the fake clock: the answer or the failure, and the attempt times. */
async function run(
	kind: RequestKind,
	steps: Step[],
	policy: RetryPolicy = { maxRetries: 4 },
	limiter?: CreateRateLimiter,
) {
	const { send, times } = script(steps);
	const outcome = withRetries(kind, policy, send, limiter).then(
		(answer) => ({ answer, failure: undefined }),
		(failure: unknown) => ({ answer: undefined, failure }),
	);
	await jest.runAllTimersAsync();
	return { ...(await outcome), times };
}

describe('which answers are repeated, per kind of request', () => {
	it.each([500, 502, 503, 504])(
		'repeatable and cleanup: %d is repeated after 0.5 s, then 1 s',
		async (status) => {
			for (const kind of ['repeatable', 'cleanup'] as const) {
				const { answer, times } = await run(kind, [status, status, 200]);
				expect(times).toEqual([0, 500, 1_500].map((at) => at + times[0]));
				expect(answer?.statusCode).toBe(200);
			}
		},
	);

	it.each([500, 502, 503, 504])(
		'create: %d is returned at once (a prediction may exist)',
		async (status) => {
			const { answer, times } = await run('create', [status, 201]);
			expect(times).toEqual([0]);
			expect(answer?.statusCode).toBe(status);
		},
	);

	it.each(KINDS)('%s: 429 is repeated, after the Retry-After when there is one', async (kind) => {
		const throttled = { statusCode: 429, headers: { 'retry-after': '3' } };
		const { answer, times } = await run(kind, [429, throttled, 201]);
		expect(times).toEqual([0, 500, 3_500]);
		expect(answer?.statusCode).toBe(201);
	});

	it.each(KINDS)('%s: 400, 401, 402, 404, 409, 422 are answers, returned at once', async (kind) => {
		for (const status of [400, 401, 402, 404, 409, 422]) {
			const { answer, times } = await run(kind, [status, 200]);
			expect([times.length, answer?.statusCode]).toEqual([1, status]);
		}
	});

	it('1xx-3xx answers end the loop: they are the answer', async () => {
		for (const status of [200, 201, 204, 302]) {
			const { answer, times } = await run('repeatable', [status, 500]);
			expect([times.length, answer?.statusCode]).toEqual([1, status]);
		}
	});
});

describe('network failures', () => {
	it('knows 5 codes of a connection never made and 7 of a request that may have arrived', () => {
		expect([...NOT_SENT_CODES]).toEqual([
			'ECONNREFUSED',
			'ENOTFOUND',
			'EAI_AGAIN',
			'EHOSTUNREACH',
			'ENETUNREACH',
		]);
		expect([...AFTER_SEND_CODES]).toEqual([
			'ECONNRESET',
			'ETIMEDOUT',
			'ECONNABORTED',
			'EPIPE',
			'ESOCKETTIMEDOUT',
			'ERR_BAD_RESPONSE',
			'ERR_STREAM_PREMATURE_CLOSE',
		]);
	});

	it.each([...NOT_SENT_CODES])('%s (no connection): repeated for every kind', async (code) => {
		for (const kind of KINDS) {
			const start = Date.now() - T0;
			const { answer, times } = await run(kind, [networkError(code), 201]);
			expect(times.map((at) => at - start)).toEqual([0, 500]);
			expect(answer?.statusCode).toBe(201);
		}
	});

	it.each([...AFTER_SEND_CODES])(
		'%s (after sending): repeated, except for a create, which fails with it',
		async (code) => {
			const get = await run('repeatable', [networkError(code), 200]);
			expect(get.times).toEqual([0, 500]);
			expect(get.answer?.statusCode).toBe(200);

			const failure = networkError(code);
			const create = await run('create', [failure, 201]);
			expect(create.times).toHaveLength(1);
			expect(create.failure).toBe(failure);
		},
	);

	it('a failure without a network code is not repeated, and thrown as it came', async () => {
		const failure = new TypeError('body is not a function');
		const { failure: thrown, times } = await run('repeatable', [failure]);
		expect(times).toEqual([0]);
		expect(thrown).toBe(failure);
	});

	it('a code found only in the message (as n8n 2.x leaves it) counts too', async () => {
		const { times } = await run('create', [new Error('connect ECONNREFUSED 127.0.0.1:9'), 201]);
		expect(times).toEqual([0, 500]);
		const hangUp = await run('create', [new Error('socket hang up'), 201]);
		expect(hangUp.times).toHaveLength(1);
	});
});

describe('how long it keeps trying', () => {
	it('Max Retries 2: three attempts, then the last answer', async () => {
		const { answer, times } = await run('repeatable', [503], { maxRetries: 2 });
		expect(times).toEqual([0, 500, 1_500]);
		expect(answer?.statusCode).toBe(503);
	});

	it('Max Retries 0: one attempt', async () => {
		const { times } = await run('repeatable', [503], { maxRetries: 0 });
		expect(times).toEqual([0]);
	});

	it('Max Retries 2 on a network failure: three attempts, then the last failure', async () => {
		const failures = [1, 2, 3].map((n) => networkError('ECONNRESET', `reset ${n}`));
		const { failure, times } = await run('repeatable', failures, { maxRetries: 2 });
		expect(times).toEqual([0, 500, 1_500]);
		expect(failure).toBe(failures[2]);
	});

	it('backs off 0.5, 1, 2, 4, 8, 16, 30, 30 s (least jitter)', async () => {
		const { times } = await run('repeatable', [503], { maxRetries: 8 });
		const gaps = times.slice(1).map((at, index) => at - times[index]);
		expect(gaps).toEqual([500, 1_000, 2_000, 4_000, 8_000, 15_000, 15_000, 15_000]);
		jest.spyOn(Math, 'random').mockReturnValue(1 - Number.EPSILON);
		const most = await run('repeatable', [503], { maxRetries: 8 });
		const mostGaps = most.times.slice(1).map((at, index) => at - most.times[index]);
		expect(mostGaps).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
	});

	it('starts no retry that could only begin at or after the deadline', async () => {
		// Retries at 0.5 s and 1.5 s; the next would start at 3.5 s, past the deadline at 3 s.
		const { answer, times } = await run('repeatable', [503], {
			maxRetries: 10,
			deadline: T0 + 3_000,
		});
		expect(times).toEqual([0, 500, 1_500]);
		expect(answer?.statusCode).toBe(503);
	});

	it('a retry due exactly at the deadline is not started either', async () => {
		const { times } = await run('repeatable', [503], { maxRetries: 10, deadline: T0 + 500 });
		expect(times).toEqual([0]);
		const justBefore = await run('repeatable', [503, 200], {
			maxRetries: 10,
			deadline: T0 + 501,
		});
		expect(justBefore.times).toEqual([0, 500]);
	});

	it("a Retry-After beyond the deadline ends it at once with the 429's answer", async () => {
		const throttled = { statusCode: 429, headers: { 'retry-after': '30' } };
		const { answer, times } = await run('create', [throttled], {
			maxRetries: 4,
			deadline: T0 + 10_000,
		});
		expect(times).toEqual([0]);
		expect(answer?.statusCode).toBe(429);
	});
});

describe('a Stop', () => {
	it('ends the pause between attempts at once: no further attempt', async () => {
		const { send, times } = script([503, 200]);
		const controller = new AbortController();
		const done = withRetries('repeatable', { maxRetries: 4, signal: controller.signal }, send);
		const stopped = expect(done).rejects.toBeInstanceOf(ExecutionStoppedError);
		await jest.advanceTimersByTimeAsync(300);
		controller.abort();
		await stopped;
		expect(Date.now() - T0).toBe(300);
		await jest.runAllTimersAsync();
		expect(times).toEqual([0]);
	});

	it.each([
		['an AbortError', Object.assign(new Error('aborted'), { name: 'AbortError' })],
		['axios CanceledError', Object.assign(new Error('canceled'), { name: 'CanceledError' })],
		['ERR_CANCELED', Object.assign(new Error('canceled'), { code: 'ERR_CANCELED' })],
		['one wrapped by n8n', Object.assign(new Error('wrapped'), { cause: { name: 'AbortError' } })],
	])('%s from the request is a Stop, not a network failure', async (_what, error) => {
		const { failure, times } = await run('repeatable', [error, 200]);
		expect(failure).toBeInstanceOf(ExecutionStoppedError);
		expect(times).toEqual([0]);
	});

	it('any failure once the signal has fired is a Stop', async () => {
		const controller = new AbortController();
		const send = async () => {
			controller.abort();
			throw networkError('ECONNRESET');
		};
		await expect(
			withRetries('repeatable', { maxRetries: 4, signal: controller.signal }, send),
		).rejects.toBeInstanceOf(ExecutionStoppedError);
	});

	it('before the first attempt: nothing is sent', async () => {
		const controller = new AbortController();
		controller.abort();
		for (const kind of ['create', 'repeatable'] as const) {
			const { failure, times } = await run(kind, [201], {
				maxRetries: 4,
				signal: controller.signal,
			});
			expect(failure).toBeInstanceOf(ExecutionStoppedError);
			expect(times).toEqual([]);
		}
	});

	it('does not hold back the cleanup a Stop owes Replicate (cancels, deletes)', async () => {
		const controller = new AbortController();
		controller.abort();
		const aborted = Object.assign(new Error('canceled'), { name: 'CanceledError' });
		const { answer, failure, times } = await run('cleanup', [503, aborted, 200], {
			maxRetries: 4,
			signal: controller.signal,
		});
		// A cleanup is not stopped by the run's signal; an abort of its own request ends it, as it came.
		expect(times).toEqual([0, 500]);
		expect(answer).toBeUndefined();
		expect(failure).toBe(aborted);
		const clean = await run('cleanup', [503, 200], { maxRetries: 4, signal: controller.signal });
		expect(clean.answer?.statusCode).toBe(200);
	});
});

describe('creates and the rate limit', () => {
	it('each attempt of a create, retries included, takes its turn from the limiter', async () => {
		const limiter = new CreateRateLimiter();
		// Ten other creates used the burst: each attempt waits 100 ms for a turn.
		for (let i = 0; i < 10; i++) await limiter.take();
		const now = { statusCode: 429, headers: { 'retry-after': '0' } };
		const { times } = await run('create', [now, 201], { maxRetries: 1 }, limiter);
		expect(times).toEqual([100, 200]);
	});

	it('a Stop while a create waits for its turn ends the wait at once; nothing is sent', async () => {
		const limiter = new CreateRateLimiter();
		for (let i = 0; i < 10; i++) await limiter.take();
		const { send, times } = script([201]);
		const controller = new AbortController();
		const done = withRetries('create', { maxRetries: 4, signal: controller.signal }, send, limiter);
		const stopped = expect(done).rejects.toBeInstanceOf(ExecutionStoppedError);
		await jest.advanceTimersByTimeAsync(50);
		controller.abort();
		await stopped;
		expect(Date.now() - T0).toBe(50);
		await jest.runAllTimersAsync();
		expect(times).toEqual([]);
	});

	it('other kinds never wait for it', async () => {
		const limiter = new CreateRateLimiter();
		for (let i = 0; i < 10; i++) await limiter.take();
		const { times } = await run('repeatable', [200], { maxRetries: 1 }, limiter);
		expect(times).toEqual([0]);
	});
});

describe('attemptTimeout', () => {
	it("is the request's own timeout, cut at the deadline, never 0 (which axios reads as none)", () => {
		expect(attemptTimeout(60_000, undefined)).toBe(60_000);
		expect(attemptTimeout(60_000, T0 + 5_000)).toBe(5_000);
		expect(attemptTimeout(3_000, T0 + 5_000)).toBe(3_000);
		expect(attemptTimeout(60_000, T0)).toBe(1);
		expect(attemptTimeout(60_000, T0 - 10_000)).toBe(1);
	});
});
