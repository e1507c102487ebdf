/**
 * Replicate allows 600 creates a minute. One bucket per API base URL, shared by every item and
 * every execution in this n8n process, keeps the node under that (a burst of 10, then 10/s);
 * 429s from accounts with lower limits still slow it down through the retry policy.
 */
import { pause } from '../pause';

export const CREATE_RATE = { perSecond: 10, burst: 10 } as const;

export class CreateRateLimiter {
	private tokens: number = CREATE_RATE.burst;

	private refilledAt = Date.now();

	/** Resolves when a create may go out; a Stop ends the wait. */
	async take(signal?: AbortSignal): Promise<void> {
		for (;;) {
			const now = Date.now();
			this.tokens = Math.min(
				CREATE_RATE.burst,
				this.tokens + ((now - this.refilledAt) / 1000) * CREATE_RATE.perSecond,
			);
			this.refilledAt = now;
			if (this.tokens >= 1) {
				this.tokens -= 1;
				return;
			}
			await pause(Math.ceil(((1 - this.tokens) / CREATE_RATE.perSecond) * 1000), signal);
		}
	}
}

const createLimiters = new Map<string, CreateRateLimiter>();

export function createLimiterFor(baseUrl: string): CreateRateLimiter {
	let limiter = createLimiters.get(baseUrl);
	if (!limiter) {
		limiter = new CreateRateLimiter();
		createLimiters.set(baseUrl, limiter);
	}
	return limiter;
}
