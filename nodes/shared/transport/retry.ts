/**
 * The one retry loop of every request, and its schedule: `Retry-After` when the server names a
 * time, else exponential backoff with jitter. What may be repeated depends on the request's kind.
 */
import { headerValue } from '../headers';
import { ExecutionStoppedError, pause, throwIfStopped } from '../pause';
import { AFTER_SEND_CODES, isAbort, networkErrorCode, NOT_SENT_CODES } from './network';
import type { CreateRateLimiter } from './rateLimit';

/**
 * `create` costs money, so it is retried only when nothing can have been created (429, or no
 * connection at all); `repeatable` and `cleanup` are safe to repeat. `cleanup` also outlives a Stop
 * (it is what a Stop owes Replicate: cancels, deletes, the search for a create cut short).
 */
export type RequestKind = 'create' | 'repeatable' | 'cleanup';

export interface RetryPolicy {
	maxRetries: number;
	/** Aborts the request in flight and ends waiting between attempts (not for `cleanup`). */
	signal?: AbortSignal;
	/**
	 * Epoch ms after which the caller no longer waits (the node's Timeout): each attempt's own
	 * timeout ends there, and no retry is started that could not begin before it.
	 */
	deadline?: number;
}

export const DEFAULT_TIMEOUT_MS = 60_000;
export const BACKOFF = { baseMs: 1_000, capMs: 30_000 } as const;
export const RETRY_AFTER_CAP_MS = 120_000;
const RETRYABLE_STATUS = new Set([500, 502, 503, 504]);

/** `Retry-After` as seconds or an HTTP date, else exponential backoff with jitter (50-100 %). */
export function retryDelayMs(attempt: number, headers?: Record<string, unknown>): number {
	// An empty header names no time (Number('') would be 0: a retry at once).
	const retryAfter = headers ? headerValue(headers, 'retry-after')?.trim() : undefined;
	if (retryAfter) {
		const seconds = Number(retryAfter);
		const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(retryAfter) - Date.now();
		if (Number.isFinite(ms)) return Math.min(Math.max(ms, 0), RETRY_AFTER_CAP_MS);
	}
	const exponential = Math.min(BACKOFF.capMs, BACKOFF.baseMs * 2 ** attempt);
	return Math.round(exponential * (0.5 + Math.random() * 0.5));
}

type Verdict = { retry: true; delayMs: number } | { retry: false };

function judgeStatus(
	kind: RequestKind,
	statusCode: number,
	headers: Record<string, unknown>,
	attempt: number,
): Verdict {
	if (statusCode === 429) return { retry: true, delayMs: retryDelayMs(attempt, headers) };
	if (kind !== 'create' && RETRYABLE_STATUS.has(statusCode)) {
		return { retry: true, delayMs: retryDelayMs(attempt, headers) };
	}
	return { retry: false };
}

function judgeFailure(kind: RequestKind, error: unknown, attempt: number): Verdict {
	const code = networkErrorCode(error);
	if (code === undefined) return { retry: false };
	if (NOT_SENT_CODES.has(code)) return { retry: true, delayMs: retryDelayMs(attempt) };
	if (kind !== 'create' && AFTER_SEND_CODES.has(code))
		return { retry: true, delayMs: retryDelayMs(attempt) };
	return { retry: false };
}

/**
 * `send` makes one attempt; its answer (or failure) is judged, and only a retryable one is tried
 * again after a pause that a Stop cuts short. Returns the last answer (an error status included)
 * or throws the last failure; a Stop throws ExecutionStoppedError.
 */
export async function withRetries<
	T extends { statusCode: number; headers: Record<string, unknown> },
>(
	kind: RequestKind,
	policy: RetryPolicy,
	send: () => Promise<T>,
	limiter?: CreateRateLimiter,
): Promise<T> {
	for (let attempt = 0; ; attempt++) {
		if (kind !== 'cleanup') throwIfStopped(policy.signal);
		let answer: T | undefined;
		let failure: unknown;
		try {
			if (kind === 'create') await limiter?.take(policy.signal);
			answer = await send();
		} catch (error) {
			failure = error ?? new Error('request failed');
		}
		if (failure !== undefined && kind !== 'cleanup' && isAbort(failure, policy.signal)) {
			throw new ExecutionStoppedError();
		}
		if (answer && answer.statusCode < 400) return answer;
		const verdict = answer
			? judgeStatus(kind, answer.statusCode, answer.headers, attempt)
			: judgeFailure(kind, failure, attempt);
		// A retry that could only start after the caller's deadline would answer nobody.
		const tooLate = verdict.retry && Date.now() + verdict.delayMs >= (policy.deadline ?? Infinity);
		if (!verdict.retry || attempt >= policy.maxRetries || tooLate) {
			if (answer) return answer;
			throw failure;
		}
		await pause(verdict.delayMs, kind === 'cleanup' ? undefined : policy.signal);
	}
}

/** An attempt's timeout: its own, cut short at the caller's deadline (axios reads 0 as "none"). */
export function attemptTimeout(timeoutMs: number, deadline: number | undefined): number {
	return deadline === undefined
		? timeoutMs
		: Math.max(1, Math.min(timeoutMs, deadline - Date.now()));
}
