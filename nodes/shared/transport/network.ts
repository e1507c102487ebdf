/**
 * What a failed request says about the network: its error code, whether it was a Stop, and
 * whether the request can have reached the server (which decides if a create may be repeated).
 */
import { ExecutionStoppedError } from '../pause';

/**
 * Connection failures that happen before a request is on the wire: a create can be retried safely.
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
