/**
 * When a request goes, and goes again: the create rate, the one retry loop of every request and
 * its schedule (`Retry-After` when the server names a time, else exponential backoff with jitter),
 * and what a failed request says about the network. What may be repeated depends on the
 * request's kind: a create is only repeated where it cannot have reached Replicate.
 */
import { headerValue } from '../headers';
import { childSignal, ExecutionStoppedError, pause, throwIfStopped } from '../pause';

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

/**
 * Connection failures that happen before a request is on the wire: a create can be retried safely
 * (a failure after it, below, may have created a prediction).
 */
export const NOT_SENT_CODES = new Set([
	'ECONNREFUSED',
	'ENOTFOUND',
	'EAI_AGAIN',
	'EHOSTUNREACH',
	'ENETUNREACH',
]);

/** Failures after the request may have reached the server. */
export const AFTER_SEND_CODES = new Set([
	'ECONNRESET',
	'ETIMEDOUT',
	'ECONNABORTED',
	'EPIPE',
	'ESOCKETTIMEDOUT',
	'ERR_BAD_RESPONSE',
	'ERR_STREAM_PREMATURE_CLOSE',
]);

/**
 * The messages an error chain carries. n8n's NodeApiError (n8n-workflow 2.x) keeps neither the
 * axios error (its `cause`) nor its `code`, and replaces the message with a friendly text ("The
 * service refused the connection…"); the original messages survive only in its `messages`.
 */
function originalMessages(error: unknown): string[] {
	const messages = (error as { messages?: unknown } | undefined)?.messages;
	const kept = Array.isArray(messages)
		? messages.filter((entry): entry is string => typeof entry === 'string')
		: [];
	return [...kept, error instanceof Error ? error.message : ''];
}

/** The error chain's network error code (n8n wraps axios errors in NodeApiError). */
export function networkErrorCode(error: unknown): string | undefined {
	let current: unknown = error;
	for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
		const code = (current as { code?: unknown }).code;
		if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) return code;
		current = (current as { cause?: unknown }).cause;
	}
	for (const message of originalMessages(error)) {
		const named = /\b(E[A-Z_]+)\b/.exec(message)?.[1];
		if (named && (NOT_SENT_CODES.has(named) || AFTER_SEND_CODES.has(named))) return named;
		if (/socket hang up/i.test(message)) return 'ECONNRESET';
		if (/timeout of \d+ms exceeded|timed out/i.test(message)) return 'ETIMEDOUT';
	}
	return undefined;
}

/** Whether a failure is a Stop (ours, or the HTTP client's abort) rather than a fault. */
export function isAbort(error: unknown, signal?: AbortSignal): boolean {
	if (error instanceof ExecutionStoppedError) return true;
	let current: unknown = error;
	for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
		const { name, code } = current as { name?: unknown; code?: unknown };
		if (name === 'AbortError' || name === 'CanceledError' || code === 'ERR_CANCELED') return true;
		current = (current as { cause?: unknown }).cause;
	}
	return signal?.aborted === true;
}

/** "ECONNRESET (socket hang up)": the original text rather than n8n's gloss. */
export function describeNetworkFailure(error: unknown): string {
	const code = networkErrorCode(error);
	const message = originalMessages(error).find((text) => text !== '') ?? String(error);
	return code ? `${code} (${message})` : message;
}

/**
 * Replicate allows 600 creates a minute. One bucket per API base URL, shared by every item and
 * every execution in this n8n process, keeps the node under that (a burst of 10, then 10/s);
 * 429s from accounts with lower limits still slow it down through the retry policy.
 */
export const CREATE_RATE = { perSecond: 10, burst: 10 } as const;

/**
 * Creates that found the bucket empty wait in a queue, first come first served, and one pause at a
 * time (until the next turn) serves the head: hundreds of queued creates cost one timer per turn,
 * not one per waiter per turn.
 */
export class CreateRateLimiter {
	private tokens: number = CREATE_RATE.burst;

	private refilledAt = Date.now();

	/** The waiters in order of arrival; each entry lets its waiter through (once off the queue). */
	private readonly queue: Array<() => void> = [];

	private serving = false;

	/** Ends the pause in progress: a pause with nobody left to serve would only hold a timer. */
	private pauseEnd: AbortController | undefined;

	/** Resolves when a create may go out; a Stop ends the wait and takes no turn. */
	async take(signal?: AbortSignal): Promise<void> {
		throwIfStopped(signal);
		if (this.queue.length === 0 && this.takeToken()) return;
		await new Promise<void>((resolve, reject) => {
			// The listener goes on a throwaway signal, not on the execution's (see childSignal).
			const stop = signal && childSignal(signal);
			const letThrough = () => {
				stop?.removeEventListener('abort', leave);
				resolve();
			};
			const leave = () => {
				this.queue.splice(this.queue.indexOf(letThrough), 1);
				if (this.queue.length === 0) this.pauseEnd?.abort();
				reject(new ExecutionStoppedError());
			};
			stop?.addEventListener('abort', leave, { once: true });
			this.queue.push(letThrough);
			if (!this.serving) void this.serve();
		});
	}

	/**
	 * Each turn goes to whoever heads the queue when it comes: a stopped head needs no new pause,
	 * the turn it waited for is the next waiter's.
	 */
	private async serve(): Promise<void> {
		this.serving = true;
		while (this.queue.length > 0) {
			if (this.takeToken()) {
				this.queue.shift()?.();
				continue;
			}
			this.pauseEnd = new AbortController();
			const untilNextTurn = Math.ceil(((1 - this.tokens) / CREATE_RATE.perSecond) * 1000);
			await pause(untilNextTurn, this.pauseEnd.signal).catch(() => undefined);
		}
		this.pauseEnd = undefined;
		this.serving = false;
	}

	/** Refills the bucket for the time since it was last looked at; takes a turn if there is one. */
	private takeToken(): boolean {
		const now = Date.now();
		this.tokens = Math.min(
			CREATE_RATE.burst,
			this.tokens + ((now - this.refilledAt) / 1000) * CREATE_RATE.perSecond,
		);
		this.refilledAt = now;
		if (this.tokens < 1) return false;
		this.tokens -= 1;
		return true;
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
