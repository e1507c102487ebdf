/**
 * Every call to the Replicate API goes through `apiRequest`: one place for the credential's Base
 * URL (api.replicate.com/v1, or a gateway serving the same API under a prefix), authentication,
 * the retry policy and the rule that a create (which costs money) is only repeated where nothing
 * can have been created.
 */
import type {
	IDataObject,
	IExecuteFunctions,
	IHttpRequestMethods,
	IHttpRequestOptions,
	INode,
} from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { apiErrorFromResponse, keepMessage, malformedAnswerError, nonJsonProblem } from '../errors';
import { childSignal, ExecutionStoppedError } from '../pause';
import type { RequestKind, RetryPolicy } from './retry';
import {
	attemptTimeout,
	createLimiterFor,
	DEFAULT_TIMEOUT_MS,
	describeNetworkFailure,
	networkErrorCode,
	NOT_SENT_CODES,
	withRetries,
} from './retry';

export const CREDENTIAL_TYPE = 'replicateInpaintingApi';

/** Satisfied by the execute, webhook, hook and load-options contexts alike. */
export interface TransportContext {
	getNode(): INode;
	getCredentials: IExecuteFunctions['getCredentials'];
	helpers: Pick<IExecuteFunctions['helpers'], 'httpRequest' | 'httpRequestWithAuthentication'>;
}

/** The credential's Base URL, below which every API call goes. */
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

interface ApiResponse {
	statusCode: number;
	headers: Record<string, unknown>;
	body: unknown;
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
