/**
 * The retry schedule: how long the transport waits before repeating a request. `Retry-After`
 * (seconds or an HTTP date) wins, capped at 2 minutes; otherwise exponential backoff from 1 s,
 * capped at 30 s, with jitter that keeps between half and all of it.
 */
import { retryDelayMs } from '../../nodes/shared/transport/retry';

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
