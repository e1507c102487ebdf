/**
 * `Prefer: wait=N`: Replicate holds a create for at most 60 s, and
 * the hold ends 2 s before the item's Timeout, so the node still sees an unfinished prediction
 * (and cancels it itself) before Replicate's Cancel-After deadline. Never less than 1 s.
 */
import { preferWaitSeconds } from '../../../../nodes/ReplicateInpainting/engine/createPrediction';

describe('preferWaitSeconds', () => {
	it.each([
		[600, 60],
		[86_400, 60],
		[62, 60],
		[61, 59],
		[30, 28],
		[10, 8],
		[4, 2],
		[3, 1],
		// Shorter timeouts: the smallest hold Replicate accepts, 1 s.
		[2, 1],
		[1, 1],
	])('Timeout %d s: wait=%d', (timeoutSeconds, seconds) => {
		expect(preferWaitSeconds(timeoutSeconds)).toBe(seconds);
	});

	it.each([
		[62.9, 60],
		[10.5, 8],
		[3.99, 1],
		[0.5, 1],
	])('a fractional Timeout %s s counts whole seconds down: wait=%s', (timeoutSeconds, seconds) => {
		expect(preferWaitSeconds(timeoutSeconds)).toBe(seconds);
	});

	it('always sends a whole number of seconds from 1 to 60, 2 s short of the Timeout from 3 s on', () => {
		for (let tenths = 10; tenths <= 1_000; tenths++) {
			const timeout = tenths / 10;
			const seconds = preferWaitSeconds(timeout);
			expect(Number.isInteger(seconds)).toBe(true);
			expect(seconds).toBeGreaterThanOrEqual(1);
			expect(seconds).toBeLessThanOrEqual(60);
			if (timeout >= 3) expect(seconds).toBeLessThanOrEqual(timeout - 2);
		}
	});
});
