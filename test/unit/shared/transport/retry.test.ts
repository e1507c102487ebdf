/**
 * transport/retry.ts: when a request goes, and goes again.
 * - The schedule (`retryDelayMs`): `Retry-After` (seconds or an HTTP date) wins, capped at 2
 *   minutes; otherwise exponential backoff from 1 s, capped at 30 s, with jitter that keeps between
 *   half and all of it.
 * - The one retry loop (`withRetries`) on jest's fake clock, with a script for `send`: a create (it
 *   costs money) is repeated only when nothing can have been created (429, a connection never
 *   opened); other requests also on 5xx and on failures after sending. Math.random is pinned to 0,
 *   so the backoff is exactly 500, 1000, 2000 … ms.
 * - The create rate limit: Replicate allows 600 creates a minute; one bucket per API base URL,
 *   shared by every item and execution in the process, a burst of 10, then 10 a second.
 *   request.test.ts checks that apiRequest's creates use it.
 */
import { ExecutionStoppedError } from '../../../../nodes/shared/pause';
import type { RequestKind, RetryPolicy } from '../../../../nodes/shared/transport/retry';
import {
	AFTER_SEND_CODES,
	attemptTimeout,
	CREATE_RATE,
	createLimiterFor,
	CreateRateLimiter,
	NOT_SENT_CODES,
	retryDelayMs,
	withRetries,
} from '../../../../nodes/shared/transport/retry';
import { T0, useFakeClock } from '../../fixtures';
import { networkError } from '../../scriptedApi';

describe('the retry schedule', () => {
	afterEach(() => {
		jest.restoreAllMocks();
		jest.useRealTimers();
	});

	describe('Retry-After', () => {
		it.each([
			['5', 5_000],
			['0', 0],
			['1.5', 1_500],
			['120', 120_000],
			// Capped: a server asking for 10 minutes would hold the item (and its Timeout) hostage.
			['600', 120_000],
			// Negative seconds cannot mean "wait": at once.
			['-3', 0],
		])('%s seconds: %d ms, whatever the attempt', (value, expected) => {
			expect(retryDelayMs(0, { 'retry-after': value })).toBe(expected);
			expect(retryDelayMs(7, { 'retry-after': value })).toBe(expected);
		});

		it('an empty header names no time: the backoff applies, not a retry at once', () => {
			jest.spyOn(Math, 'random').mockReturnValue(0);
			expect(retryDelayMs(0, { 'retry-after': '' })).toBe(500);
			expect(retryDelayMs(2, { 'retry-after': '  ' })).toBe(2_000);
		});

		it('finds the header in any letter case, and as a number', () => {
			expect(retryDelayMs(0, { 'Retry-After': '7' })).toBe(7_000);
			expect(retryDelayMs(0, { 'RETRY-AFTER': 2 })).toBe(2_000);
		});

		describe('as an HTTP date (fake clock)', () => {
			const now = Date.parse('2026-11-29T17:00:00Z');
			beforeEach(() => {
				jest.useFakeTimers();
				jest.setSystemTime(now);
			});

			it.each([
				['Sun, 29 Nov 2026 17:00:07 GMT', 7_000],
				['Sun, 29 Nov 2026 17:01:30 GMT', 90_000],
				['Sun, 29 Nov 2026 17:00:00 GMT', 0],
				// In the past (a slow clock on either side): at once.
				['Sun, 29 Nov 2026 16:59:00 GMT', 0],
				['Sun, 29 Nov 2026 18:00:00 GMT', 120_000],
			])('%s: %d ms', (date, expected) => {
				expect(retryDelayMs(2, { 'retry-after': date })).toBe(expected);
			});

			it('counts from the current clock', () => {
				const header = { 'retry-after': 'Sun, 29 Nov 2026 17:00:10 GMT' };
				expect(retryDelayMs(0, header)).toBe(10_000);
				jest.setSystemTime(now + 4_000);
				expect(retryDelayMs(0, header)).toBe(6_000);
			});
		});

		it.each([['soon'], ['5s'], ['Tomorrow at noon']])(
			'%s (neither seconds nor a date) falls back to the backoff',
			(value) => {
				jest.spyOn(Math, 'random').mockReturnValue(0);
				expect(retryDelayMs(3, { 'retry-after': value })).toBe(4_000);
			},
		);

		it('a null or absent header is no Retry-After', () => {
			jest.spyOn(Math, 'random').mockReturnValue(0);
			expect(retryDelayMs(1, { 'retry-after': null })).toBe(1_000);
			expect(retryDelayMs(1, { 'content-type': 'application/json' })).toBe(1_000);
			expect(retryDelayMs(1)).toBe(1_000);
		});
	});

	describe('exponential backoff with jitter', () => {
		// Per attempt: 1 s × 2^attempt, capped at 30 s; the jitter keeps [50 %, 100 %) of it.
		const schedule: Array<[number, number, number]> = [
			[0, 500, 1_000],
			[1, 1_000, 2_000],
			[2, 2_000, 4_000],
			[3, 4_000, 8_000],
			[4, 8_000, 16_000],
			[5, 15_000, 30_000],
			[6, 15_000, 30_000],
			[10, 15_000, 30_000],
		];

		it.each(schedule)('attempt %d: %d ms at the least jitter', (attempt, lowest) => {
			jest.spyOn(Math, 'random').mockReturnValue(0);
			expect(retryDelayMs(attempt)).toBe(lowest);
		});

		it.each(schedule)(
			'attempt %d (range %d–%d ms): the full delay at the most jitter',
			(attempt, _lowest, full) => {
				jest.spyOn(Math, 'random').mockReturnValue(1 - Number.EPSILON);
				expect(retryDelayMs(attempt)).toBe(full);
			},
		);

		it('half-way jitter lands half-way: 750 ms, 12 s', () => {
			jest.spyOn(Math, 'random').mockReturnValue(0.5);
			expect(retryDelayMs(0)).toBe(750);
			expect(retryDelayMs(4)).toBe(12_000);
		});

		it('with the real random source, every delay stays within its bounds and they differ', () => {
			for (const [attempt, lowest, full] of schedule) {
				const delays = Array.from({ length: 200 }, () => retryDelayMs(attempt));
				expect(Math.min(...delays)).toBeGreaterThanOrEqual(lowest);
				expect(Math.max(...delays)).toBeLessThanOrEqual(full);
				// Jitter exists so concurrent items do not retry in lockstep.
				expect(new Set(delays).size).toBeGreaterThan(1);
			}
		});
	});
});

describe('the retry loop', () => {
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

		it.each(KINDS)(
			'%s: 400, 401, 402, 404, 409, 422 are answers, returned at once',
			async (kind) => {
				for (const status of [400, 401, 402, 404, 409, 422]) {
					const { answer, times } = await run(kind, [status, 200]);
					expect([times.length, answer?.statusCode]).toEqual([1, status]);
				}
			},
		);

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
			[
				'one wrapped by n8n',
				Object.assign(new Error('wrapped'), { cause: { name: 'AbortError' } }),
			],
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
			const done = withRetries(
				'create',
				{ maxRetries: 4, signal: controller.signal },
				send,
				limiter,
			);
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
});

describe('the create rate limit', () => {
	useFakeClock();

	/** Starts `count` takes at once; resolves with the time (ms since `from`) each was let through. */
	async function takeAll(limiter: CreateRateLimiter, count: number, from = Date.now()) {
		const times: number[] = [];
		const all = Promise.all(
			Array.from({ length: count }, async () => {
				await limiter.take();
				times.push(Date.now() - from);
			}),
		);
		await jest.runAllTimersAsync();
		await all;
		return times;
	}

	const steady = (count: number, stepMs = 100) =>
		Array.from({ length: count }, (_, index) => (index + 1) * stepMs);

	/**
	 * Starts a take that logs, when it ends, `label@ms` (ms since T0) or `label stopped@ms`: the
	 * order of the log is the order in which the waiters were let through or stopped.
	 */
	function queueTake(
		limiter: CreateRateLimiter,
		label: string,
		log: string[],
		signal?: AbortSignal,
	) {
		return limiter.take(signal).then(
			() => log.push(`${label}@${Date.now() - T0}`),
			(error: unknown) => {
				expect(error).toBeInstanceOf(ExecutionStoppedError);
				log.push(`${label} stopped@${Date.now() - T0}`);
			},
		);
	}

	/** Runs `work` and counts the timers that fired meanwhile (each callback call, not each one set). */
	async function countFirings<T>(work: () => Promise<T>): Promise<{ result: T; firings: number }> {
		const setFakeTimeout = globalThis.setTimeout;
		let firings = 0;
		const counting = (callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) =>
			setFakeTimeout(() => {
				firings++;
				callback(...args);
			}, ms);
		globalThis.setTimeout = counting as unknown as typeof setTimeout;
		try {
			return { result: await work(), firings };
		} finally {
			// Put back here, not by restoreAllMocks (which runs after the fake clock is uninstalled).
			globalThis.setTimeout = setFakeTimeout;
		}
	}

	describe('CreateRateLimiter', () => {
		it('is a burst of 10, then 10 a second', () => {
			expect(CREATE_RATE).toEqual({ perSecond: 10, burst: 10 });
		});

		it('lets 10 creates go at once, then one every 100 ms', async () => {
			expect(await takeAll(new CreateRateLimiter(), 25)).toEqual([
				...new Array(10).fill(0),
				...steady(15),
			]);
		});

		it('100 creates at once take 9 s, never more than 10 + 10 in a second', async () => {
			const times = await takeAll(new CreateRateLimiter(), 100);
			expect(times.at(-1)).toBe(9_000);
			for (let start = 0; start < 9_000; start += 100) {
				const inWindow = times.filter((at) => at >= start && at < start + 1_000);
				expect(inWindow.length).toBeLessThanOrEqual(20);
			}
		});

		it('refills at 10 a second while idle', async () => {
			const limiter = new CreateRateLimiter();
			await takeAll(limiter, 10);
			// 450 ms idle: 4.5 turns back; four creates go at once, the fifth 50 ms later.
			await jest.advanceTimersByTimeAsync(450);
			expect(await takeAll(limiter, 5, T0)).toEqual([450, 450, 450, 450, 500]);
		});

		it('never banks more than the burst, however long it was idle', async () => {
			const limiter = new CreateRateLimiter();
			await takeAll(limiter, 10);
			await jest.advanceTimersByTimeAsync(60_000);
			expect(await takeAll(limiter, 12)).toEqual([...new Array(10).fill(0), 100, 200]);
		});

		it('a Stop ends the wait for a turn, which then stays free for the next create', async () => {
			const limiter = new CreateRateLimiter();
			await takeAll(limiter, 10);
			const controller = new AbortController();
			const waiting = limiter.take(controller.signal);
			const stopped = expect(waiting).rejects.toBeInstanceOf(ExecutionStoppedError);
			await jest.advanceTimersByTimeAsync(50);
			controller.abort();
			await stopped;
			expect(jest.getTimerCount()).toBe(0);
			// The stopped create took nothing: the next one goes when the bucket has a turn, at 100 ms.
			expect(await takeAll(limiter, 1, T0)).toEqual([100]);
		});
	});

	describe('the queue of waiting creates', () => {
		it('600 queued creates cost one timer firing per turn, not one per waiter per turn', async () => {
			const { result: times, firings } = await countFirings(() =>
				takeAll(new CreateRateLimiter(), 600),
			);
			expect(times).toEqual([...new Array(10).fill(0), ...steady(590)]);
			// One pause per turn after the burst (590); every waiter waking each turn was ~170,000.
			expect(firings).toBeLessThanOrEqual(600);
		});

		it('lets creates through in the order they came, those that came during the wait included', async () => {
			const limiter = new CreateRateLimiter();
			await takeAll(limiter, 10);
			const log: string[] = [];
			const done = ['a', 'b', 'c'].map((label) => queueTake(limiter, label, log));
			await jest.advanceTimersByTimeAsync(150);
			done.push(queueTake(limiter, 'd', log), queueTake(limiter, 'e', log));
			await jest.advanceTimersByTimeAsync(100);
			done.push(queueTake(limiter, 'f', log));
			await jest.runAllTimersAsync();
			await Promise.all(done);
			expect(log).toEqual(['a@100', 'b@200', 'c@300', 'd@400', 'e@500', 'f@600']);
		});

		it('a create that comes as a turn comes, before the head has taken it, waits behind the head', async () => {
			const limiter = new CreateRateLimiter();
			await takeAll(limiter, 10);
			const log: string[] = [];
			const done = [queueTake(limiter, 'a', log), queueTake(limiter, 'b', log)];
			await jest.advanceTimersByTimeAsync(150);
			// Set after the limiter's own pause to 200 ms, so it fires right after it; the synchronous
			// advance runs no promise jobs between the two, as when two timers fire together.
			setTimeout(() => done.push(queueTake(limiter, 'late', log)), 50);
			jest.advanceTimersByTime(50);
			await jest.runAllTimersAsync();
			await Promise.all(done);
			expect(log).toEqual(['a@100', 'b@200', 'late@300']);
		});

		it('a Stop of a waiter in the middle ends its wait at once; the others keep their order, each a turn sooner behind it', async () => {
			const limiter = new CreateRateLimiter();
			await takeAll(limiter, 10);
			const log: string[] = [];
			const stop = new AbortController();
			const done = [
				queueTake(limiter, 'a', log),
				queueTake(limiter, 'b', log),
				queueTake(limiter, 'c', log, stop.signal),
				queueTake(limiter, 'd', log),
				queueTake(limiter, 'e', log),
			];
			await jest.advanceTimersByTimeAsync(150);
			stop.abort();
			await jest.runAllTimersAsync();
			await Promise.all(done);
			expect(log).toEqual(['a@100', 'c stopped@150', 'b@200', 'd@300', 'e@400']);
		});

		it('a Stop of the head ends its wait at once; the next waiter takes the turn it waited for', async () => {
			const limiter = new CreateRateLimiter();
			await takeAll(limiter, 10);
			const log: string[] = [];
			const stop = new AbortController();
			const done = [
				queueTake(limiter, 'a', log, stop.signal),
				queueTake(limiter, 'b', log),
				queueTake(limiter, 'c', log),
			];
			await jest.advanceTimersByTimeAsync(50);
			stop.abort();
			await jest.runAllTimersAsync();
			await Promise.all(done);
			expect(log).toEqual(['a stopped@50', 'b@100', 'c@200']);
		});

		it('a create already stopped is refused at once and takes no turn', async () => {
			const stop = new AbortController();
			stop.abort();
			const limiter = new CreateRateLimiter();
			await expect(limiter.take(stop.signal)).rejects.toBeInstanceOf(ExecutionStoppedError);
			expect(await takeAll(limiter, 11)).toEqual([...new Array(10).fill(0), 100]);
		});

		it('after the queue has run dry and a second of rest, a burst of 10 goes again', async () => {
			const limiter = new CreateRateLimiter();
			await takeAll(limiter, 15);
			expect(jest.getTimerCount()).toBe(0);
			await jest.advanceTimersByTimeAsync(1_000);
			expect(await takeAll(limiter, 11)).toEqual([...new Array(10).fill(0), 100]);
		});
	});

	describe('createLimiterFor', () => {
		it('keeps one bucket per base URL, for the life of the process', async () => {
			const a = createLimiterFor('https://api.replicate.com/v1');
			expect(createLimiterFor('https://api.replicate.com/v1')).toBe(a);
			const b = createLimiterFor('https://gateway.example.com/replicate/v1');
			expect(b).not.toBe(a);
			// Another API's burst is its own.
			expect(await takeAll(a, 11)).toEqual([...new Array(10).fill(0), 100]);
			expect(await takeAll(b, 10)).toEqual(new Array(10).fill(0));
		});
	});
});
