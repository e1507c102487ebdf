/**
 * Every call to the Replicate API goes through `apiRequest`, and every output download through
 * `downloadOutput`: one place for the base URL, authentication, the retry policy and the rule that
 * a create (which costs money) is only repeated where nothing can have been created.
 */
import type {
	IDataObject,
	IExecuteFunctions,
	IHttpRequestMethods,
	IHttpRequestOptions,
	INode,
} from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import {
	apiErrorFromResponse,
	keepMessage,
	malformedAnswerError,
	nonJsonProblem,
} from '../helpers/errors';
import { childSignal, ExecutionStoppedError, pause, throwIfStopped } from '../helpers/pause';

export const CREDENTIAL_TYPE = 'replicateInpaintingApi';

/** What the transport needs of n8n: satisfied by the execute and the webhook contexts alike. */
export interface TransportContext {
	getNode(): INode;
	getCredentials: IExecuteFunctions['getCredentials'];
	helpers: Pick<IExecuteFunctions['helpers'], 'httpRequest' | 'httpRequestWithAuthentication'>;
}

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

export interface ApiRequest {
	method: IHttpRequestMethods;
	/** Path below the credential's base URL, e.g. `/predictions`. */
	path: string;
	kind: RequestKind;
	/** JSON, bytes, or a function that makes the body of each attempt (a stream is read once). */
	body?: IDataObject | Buffer | (() => Promise<Buffer | NodeJS.ReadableStream>);
	headers?: Record<string, string>;
	qs?: IDataObject;
	timeoutMs?: number;
	itemIndex?: number;
}

export interface ApiResponse {
	statusCode: number;
	headers: Record<string, unknown>;
	body: unknown;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const BACKOFF_BASE_MS = 1_000;
const BACKOFF_CAP_MS = 30_000;
const RETRY_AFTER_CAP_MS = 120_000;

/** Connection failures that happen before a request is on the wire: a create can be retried safely. */
const NOT_SENT_CODES = new Set([
	'ECONNREFUSED',
	'ENOTFOUND',
	'EAI_AGAIN',
	'EHOSTUNREACH',
	'ENETUNREACH',
]);
/** Failures after the request may have reached the server. */
const AFTER_SEND_CODES = new Set([
	'ECONNRESET',
	'ETIMEDOUT',
	'ECONNABORTED',
	'EPIPE',
	'ESOCKETTIMEDOUT',
	'ERR_BAD_RESPONSE',
	'ERR_STREAM_PREMATURE_CLOSE',
]);
const RETRYABLE_STATUS = new Set([500, 502, 503, 504]);

/**
 * Replicate allows 600 creates a minute. One bucket per API base URL, shared by every item and
 * every execution in this n8n process, keeps the node under that (a burst of 10, then 10/s);
 * 429s from accounts with lower limits still slow it down through the retry policy.
 */
const CREATE_RATE = { perSecond: 10, burst: 10 } as const;

class CreateRateLimiter {
	private tokens: number = CREATE_RATE.burst;

	private refilledAt = Date.now();

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

function createLimiterFor(baseUrl: string): CreateRateLimiter {
	let limiter = createLimiters.get(baseUrl);
	if (!limiter) {
		limiter = new CreateRateLimiter();
		createLimiters.set(baseUrl, limiter);
	}
	return limiter;
}

export async function apiBaseUrl(context: TransportContext): Promise<string> {
	const credentials = await context.getCredentials(CREDENTIAL_TYPE);
	const baseUrl = typeof credentials.baseUrl === 'string' ? credentials.baseUrl.trim() : '';
	let parsed: URL | undefined;
	try {
		parsed = new URL(baseUrl);
	} catch {
		parsed = undefined;
	}
	if (!parsed || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')) {
		throw new NodeOperationError(
			context.getNode(),
			`The credential's Base URL "${baseUrl}" is not an http(s) URL`,
			{
				description:
					"Use https://api.replicate.com/v1, or your gateway's URL such as https://gateway.example.com/replicate/v1.",
			},
		);
	}
	return baseUrl.replace(/\/+$/, '');
}

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

function isAbort(error: unknown, signal?: AbortSignal): boolean {
	if (error instanceof ExecutionStoppedError) return true;
	let current: unknown = error;
	for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
		const { name, code } = current as { name?: unknown; code?: unknown };
		if (name === 'AbortError' || name === 'CanceledError' || code === 'ERR_CANCELED') return true;
		current = (current as { cause?: unknown }).cause;
	}
	return signal?.aborted === true;
}

function headerValue(headers: Record<string, unknown>, name: string): string | undefined {
	const key = Object.keys(headers).find((candidate) => candidate.toLowerCase() === name);
	const value = key === undefined ? undefined : headers[key];
	return value === undefined || value === null ? undefined : String(value);
}

/** `Retry-After` as seconds or an HTTP date, else exponential backoff with jitter. */
export function retryDelayMs(attempt: number, headers?: Record<string, unknown>): number {
	const retryAfter = headers ? headerValue(headers, 'retry-after') : undefined;
	if (retryAfter !== undefined) {
		const seconds = Number(retryAfter);
		const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(retryAfter) - Date.now();
		if (Number.isFinite(ms)) return Math.min(Math.max(ms, 0), RETRY_AFTER_CAP_MS);
	}
	const exponential = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
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
 * The one retry loop. `send` makes one attempt; its answer (or failure) is judged, and only a
 * retryable one is tried again after a pause that a Stop cuts short.
 */
async function withRetries<T extends { statusCode: number; headers: Record<string, unknown> }>(
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

/**
 * n8n ties every authenticated request to the execution's cancel signal when the context has one,
 * and adds a listener to it per request (a warning above 10). The node hands each request its own
 * signal instead: the run's (a Stop, or a teardown after another item failed), or none for the
 * cleanup a Stop owes Replicate, which has to go out after that signal fired.
 */
function authenticatedRequester(context: TransportContext): TransportContext {
	return {
		getNode: () => context.getNode(),
		getCredentials: context.getCredentials.bind(context),
		helpers: context.helpers,
	};
}

function describeNetworkFailure(error: unknown): string {
	const code = networkErrorCode(error);
	// The original text ("socket hang up", "timeout of 5000ms exceeded") rather than n8n's gloss.
	const message = originalMessages(error).find((text) => text !== '') ?? String(error);
	return code ? `${code} (${message})` : message;
}

/** An attempt's timeout: its own, cut short at the caller's deadline (axios reads 0 as "none"). */
function attemptTimeout(timeoutMs: number, deadline: number | undefined): number {
	return deadline === undefined
		? timeoutMs
		: Math.max(1, Math.min(timeoutMs, deadline - Date.now()));
}

export async function apiRequest<T = IDataObject>(
	context: TransportContext,
	request: ApiRequest,
	policy: RetryPolicy,
): Promise<T> {
	const baseUrl = await apiBaseUrl(context);
	const node = context.getNode();
	const requester = authenticatedRequester(context);
	const signal = request.kind === 'cleanup' || !policy.signal ? undefined : policy.signal;
	const options: IHttpRequestOptions = {
		method: request.method,
		url: `${baseUrl}${request.path}`,
		headers: { Accept: 'application/json', ...(request.headers ?? {}) },
		qs: request.qs,
		json: !Buffer.isBuffer(request.body) && typeof request.body !== 'function',
		returnFullResponse: true,
		ignoreHttpStatusErrors: true,
		// n8n would resend credentials on a cross-origin redirect; the API never redirects.
		disableFollowRedirect: true,
	};
	const described = { method: request.method, path: request.path };
	let response: ApiResponse | undefined;
	let failure: unknown;
	try {
		response = await withRetries(
			request.kind,
			policy,
			async () =>
				(await requester.helpers.httpRequestWithAuthentication.call(
					requester as IExecuteFunctions,
					CREDENTIAL_TYPE,
					{
						...options,
						body: (typeof request.body === 'function'
							? await request.body()
							: request.body) as IHttpRequestOptions['body'],
						headers: { ...options.headers },
						timeout: attemptTimeout(request.timeoutMs ?? DEFAULT_TIMEOUT_MS, policy.deadline),
						...(signal ? { abortSignal: childSignal(signal) } : {}),
					},
				)) as ApiResponse,
			request.kind === 'create' ? createLimiterFor(baseUrl) : undefined,
		);
	} catch (error) {
		failure = error;
	}
	if (failure instanceof ExecutionStoppedError) throw failure;
	if (!response) {
		// Rebuilt from the code and message only: n8n's own error would carry the request options.
		const message = `Could not reach the Replicate API (${request.method} ${request.path}): ${describeNetworkFailure(failure)}`;
		const error = keepMessage(
			new NodeApiError(node, { message }, { message, itemIndex: request.itemIndex }),
			message,
		);
		// For isAmbiguousCreateFailure: a connection that was never made created nothing.
		const code = networkErrorCode(failure);
		if (code) error.context.networkErrorCode = code;
		throw error;
	}
	if (response.statusCode >= 400) {
		throw apiErrorFromResponse(
			node,
			described,
			response.statusCode,
			response.body,
			request.itemIndex,
		);
	}
	if (response.statusCode === 204) return undefined as T;
	if (
		response.body === null ||
		typeof response.body !== 'object' ||
		Buffer.isBuffer(response.body)
	) {
		throw malformedAnswerError(node, described, nonJsonProblem(response.body), request.itemIndex);
	}
	return response.body as T;
}

/** A create failed after the request may have reached Replicate: say so, and how to look. */
export function isAmbiguousCreateFailure(error: unknown): boolean {
	if (error instanceof NodeApiError) {
		const code = Number(error.httpCode);
		if (Number.isFinite(code) && code > 0) return code >= 500;
		// A connection that was never made carried no request: nothing can have been created.
		return !NOT_SENT_CODES.has(String(error.context?.networkErrorCode ?? ''));
	}
	return false;
}

export interface DownloadRequest {
	url: string;
	timeoutMs?: number;
}

export interface DownloadedResponse {
	statusCode: number;
	headers: Record<string, unknown>;
	body: NodeJS.ReadableStream;
}

/**
 * Output files are public URLs on Replicate's delivery host: fetched without credentials, so the
 * token never reaches them, and as a stream that `consume` reads. A failure while reading (a
 * reset) repeats the whole download, so `consume` must be repeatable.
 * Returns the error status (after retries) or what `consume` returned.
 */
export async function downloadOutput<R>(
	context: TransportContext,
	request: DownloadRequest,
	policy: RetryPolicy,
	consume: (response: DownloadedResponse) => Promise<R>,
): Promise<{ statusCode: number; headers: Record<string, unknown>; value?: R }> {
	return await withRetries('repeatable', policy, async () => {
		const answer = (await context.helpers.httpRequest({
			method: 'GET',
			url: request.url,
			encoding: 'stream',
			returnFullResponse: true,
			ignoreHttpStatusErrors: true,
			timeout: attemptTimeout(request.timeoutMs ?? DEFAULT_TIMEOUT_MS, policy.deadline),
			...(policy.signal ? { abortSignal: childSignal(policy.signal) } : {}),
		})) as DownloadedResponse;
		if (answer.statusCode >= 400) {
			// A body nobody reads would keep its socket open while we wait to retry.
			(answer.body as NodeJS.ReadableStream & { resume(): void }).resume();
			return { statusCode: answer.statusCode, headers: answer.headers };
		}
		return { statusCode: answer.statusCode, headers: answer.headers, value: await consume(answer) };
	});
}

export { ExecutionStoppedError };
