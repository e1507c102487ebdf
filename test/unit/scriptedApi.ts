/**
 * A transport context for unit tests of the code above n8n's HTTP helper (retries, rate limit,
 * polling): the node's own transport runs unchanged; only `httpRequestWithAuthentication` is a
 * script, which records when each request went out (on jest's fake clock) and answers it.
 */
import type { TransportContext } from '../../nodes/shared/transport/request';

import { node, T0 } from './fixtures';

export interface SentRequest {
	/** Milliseconds since T0. */
	at: number;
	method: string;
	url: string;
	timeout?: number;
	abortSignal?: AbortSignal;
	/** Everything the transport handed n8n's helper. */
	options: Record<string, unknown>;
}

export interface ScriptedAnswer {
	statusCode: number;
	headers?: Record<string, unknown>;
	body?: unknown;
}

/** A network failure as axios reports it: a message and a code. */
export function networkError(code: string, message = `${code} (test)`): Error {
	return Object.assign(new Error(message), { code });
}

let contexts = 0;

/**
 * `answer` gets each request (and how many came before it) and returns the answer, or throws.
 * Each context has a base URL of its own, so module-level state kept per base URL (the create
 * rate limit, the create ledger) starts fresh in every test.
 */
export function scriptedApi(
	answer: (request: SentRequest, index: number) => ScriptedAnswer | Promise<ScriptedAnswer>,
) {
	const sent: SentRequest[] = [];
	const baseUrl = `https://api${++contexts}.test/v1`;
	const httpRequestWithAuthentication = async (
		_credentialType: string,
		options: Omit<SentRequest, 'at' | 'options'>,
	) => {
		const request: SentRequest = {
			at: Date.now() - T0,
			method: options.method,
			url: options.url,
			timeout: options.timeout,
			abortSignal: options.abortSignal,
			options: options as unknown as Record<string, unknown>,
		};
		sent.push(request);
		const { statusCode, headers = {}, body } = await answer(request, sent.length - 1);
		return { statusCode, headers, body };
	};
	const context = {
		getNode: () => node,
		getCredentials: async () => ({ apiToken: 'r8_unit', baseUrl }),
		helpers: { httpRequestWithAuthentication, httpRequest: async () => ({}) },
	} as unknown as TransportContext;
	return { context, sent, baseUrl, times: () => sent.map((request) => request.at) };
}

/** Waits `ms` on the (fake) clock: an answer that takes time. No timer at all for 0 ms. */
export async function after<T>(ms: number, value: T): Promise<T> {
	if (ms <= 0) return value;
	return await new Promise((resolve) => setTimeout(() => resolve(value), ms));
}
