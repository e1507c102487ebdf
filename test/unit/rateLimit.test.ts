/**
 * The create rate limit (shared/transport/rateLimit.ts). Replicate allows 600 creates a minute: one
 * bucket per API base URL, shared by every item and execution in the process, a burst of 10, then
 * 10 a second. On jest's fake clock; request.test.ts checks that apiRequest's creates use it.
 */
import { ExecutionStoppedError } from '../../nodes/shared/pause';
import {
	CREATE_RATE,
	createLimiterFor,
	CreateRateLimiter,
} from '../../nodes/shared/transport/retry';
import { T0, useFakeClock } from './scriptedApi';

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
