/**
 * `apiRequest` around the retry loop: what it hands n8n's HTTP helper,
 * the errors it builds (never n8n's own, which carry the request options and so the token), and
 * which failed create may have made a prediction. n8n's helper is a script (./scriptedApi) on
 * jest's fake clock; Math.random is pinned to 0 (backoff 500, 1000 … ms).
 */
import { NodeApiError } from 'n8n-workflow';

import { ExecutionStoppedError } from '../../../../nodes/shared/pause';
import {
	apiBaseUrl,
	apiRequest,
	isAmbiguousCreateFailure,
} from '../../../../nodes/shared/transport/request';
import type { ApiRequest, TransportContext } from '../../../../nodes/shared/transport/request';
import { networkErrorCode } from '../../../../nodes/shared/transport/retry';
import type { RetryPolicy } from '../../../../nodes/shared/transport/retry';
import type { ScriptedAnswer } from '../../scriptedApi';
import { node, T0, useFakeClock } from '../../fixtures';
import { networkError, scriptedApi } from '../../scriptedApi';

useFakeClock({ noJitter: true });

type Step = number | ScriptedAnswer | Error;

function scripted(steps: Step[]) {
	return scriptedApi((_request, index) => {
		const step = steps[Math.min(index, steps.length - 1)];
		if (step instanceof Error) throw step;
		if (typeof step !== 'number') return step;
		return step < 400
			? { statusCode: step, body: { id: 'p1', status: 'starting' } }
			: { statusCode: step, body: { title: `Status ${step}`, status: step } };
	});
}

const CREATE: ApiRequest = { method: 'POST', path: '/predictions', kind: 'create' };
const GET: ApiRequest = { method: 'GET', path: '/predictions/p1', kind: 'repeatable' };

/** Runs one request to its end on the fake clock. */
async function run(request: ApiRequest, steps: Step[], policy: RetryPolicy = { maxRetries: 4 }) {
	const api = scripted(steps);
	const outcome = apiRequest(api.context, request, policy).then(
		(body) => ({ body, error: undefined }),
		(error: unknown) => ({ body: undefined, error: error as NodeApiError }),
	);
	await jest.runAllTimersAsync();
	return { ...(await outcome), api };
}

describe('what goes to n8n', () => {
	it('the base URL and path, JSON, no redirects followed, and the full answer asked for', async () => {
		const { api } = await run({ ...CREATE, body: { version: 'v', input: {} } }, [201]);
		const [sent] = api.sent;
		expect(sent.url).toBe(`${api.baseUrl}/predictions`);
		expect(sent.options).toMatchObject({
			method: 'POST',
			headers: { Accept: 'application/json' },
			body: { version: 'v', input: {} },
			json: true,
			returnFullResponse: true,
			ignoreHttpStatusErrors: true,
			disableFollowRedirect: true,
			timeout: 60_000,
		});
	});

	it("each attempt's timeout ends at the caller's deadline", async () => {
		const { api } = await run({ ...GET, timeoutMs: 5_000 }, [503, 200], {
			maxRetries: 1,
			deadline: T0 + 2_000,
		});
		expect(api.sent.map((request) => [request.at, request.timeout])).toEqual([
			[0, 2_000],
			[500, 1_500],
		]);
	});

	it("each attempt gets its own signal that follows the run's; a cleanup gets none", async () => {
		const controller = new AbortController();
		const { api } = await run(GET, [200], { maxRetries: 0, signal: controller.signal });
		const given = api.sent[0].abortSignal;
		expect(given).toBeInstanceOf(AbortSignal);
		expect(given).not.toBe(controller.signal);
		controller.abort();
		expect(given?.aborted).toBe(true);

		const cleanup = await run({ ...GET, kind: 'cleanup' }, [200], {
			maxRetries: 0,
			signal: new AbortController().signal,
		});
		expect(cleanup.api.sent[0].abortSignal).toBeUndefined();
	});

	it('only creates wait for the rate limit of their base URL', async () => {
		const api = scripted([201]);
		const policy = { maxRetries: 0 };
		const gets = Array.from({ length: 20 }, async () => await apiRequest(api.context, GET, policy));
		const creates = Array.from(
			{ length: 11 },
			async () => await apiRequest(api.context, CREATE, policy),
		);
		const all = Promise.all([...gets, ...creates]);
		await jest.runAllTimersAsync();
		await all;
		const at = (method: string) => api.sent.filter((r) => r.method === method).map((r) => r.at);
		expect(at('GET')).toEqual(new Array(20).fill(0));
		expect(at('POST')).toEqual([...new Array(10).fill(0), 100]);
	});
});

describe('answers', () => {
	it('returns the JSON body; a 204 is undefined', async () => {
		expect((await run(GET, [200])).body).toEqual({ id: 'p1', status: 'starting' });
		expect((await run(GET, [{ statusCode: 204 }])).body).toBeUndefined();
	});

	it('a body that is not JSON fails with what it was', async () => {
		const { error } = await run(GET, [{ statusCode: 200, body: '<html>Login</html>' }]);
		expect(error?.message).toBe(
			'Unexpected answer from the Replicate API on GET /predictions/p1: the body is not JSON ("<html>Login</html>")',
		);
	});

	it('an error status becomes the API error, after the retries', async () => {
		const { error, api } = await run(GET, [503], { maxRetries: 1 });
		expect(api.times()).toEqual([0, 500]);
		expect(error).toBeInstanceOf(NodeApiError);
		expect(error?.message).toBe('Replicate API error 503 on GET /predictions/p1: Status 503');
	});

	it.each([500, 502, 503, 504])(
		'a create answered %d: not repeated, and it may have made a prediction',
		async (status) => {
			const { error, api } = await run(CREATE, [status, 201]);
			expect(api.times()).toEqual([0]);
			expect(error?.message).toBe(
				`Replicate API error ${status} on POST /predictions: Status ${status}`,
			);
			expect(isAmbiguousCreateFailure(error)).toBe(true);
		},
	);

	it('a create answered 422 made nothing', async () => {
		const { error } = await run(CREATE, [422]);
		expect(isAmbiguousCreateFailure(error)).toBe(false);
	});
});

describe('network failures', () => {
	it.each(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'])(
		'%s: a create is repeated, and when it keeps failing it made nothing',
		async (code) => {
			const { error, api } = await run(CREATE, [networkError(code, `connect ${code}`)], {
				maxRetries: 1,
			});
			expect(api.times()).toEqual([0, 500]);
			expect(error?.message).toBe(
				`Could not reach the Replicate API (POST /predictions): ${code} (connect ${code})`,
			);
			expect(error?.context.networkErrorCode).toBe(code);
			expect(isAmbiguousCreateFailure(error)).toBe(false);
		},
	);

	it.each(['ECONNRESET', 'ETIMEDOUT', 'ECONNABORTED', 'EPIPE'])(
		'%s: a create is not repeated, and may have made a prediction',
		async (code) => {
			const { error, api } = await run(CREATE, [networkError(code, 'socket hang up'), 201]);
			expect(api.times()).toEqual([0]);
			expect(error?.message).toBe(
				`Could not reach the Replicate API (POST /predictions): ${code} (socket hang up)`,
			);
			expect(isAmbiguousCreateFailure(error)).toBe(true);
		},
	);

	it('a failure without a network code says what it was', async () => {
		const { error } = await run(GET, [new TypeError('body is not a function')]);
		expect(error?.message).toBe(
			'Could not reach the Replicate API (GET /predictions/p1): body is not a function',
		);
		expect(error?.context.networkErrorCode).toBeUndefined();
	});

	it('a Stop is passed on as it is', async () => {
		const controller = new AbortController();
		controller.abort();
		const { error, api } = await run(CREATE, [201], { maxRetries: 0, signal: controller.signal });
		expect(error).toBeInstanceOf(ExecutionStoppedError);
		expect(api.sent).toEqual([]);
	});
});

describe('networkErrorCode', () => {
	it('reads the code from the error or its causes, up to 5 deep', () => {
		expect(networkErrorCode(networkError('ECONNRESET'))).toBe('ECONNRESET');
		expect(networkErrorCode({ cause: { cause: { code: 'ETIMEDOUT' } } })).toBe('ETIMEDOUT');
		const deep = { cause: { cause: { cause: { cause: { cause: { code: 'EPIPE' } } } } } };
		expect(networkErrorCode(deep)).toBeUndefined();
	});

	it("reads it from the messages n8n's NodeApiError keeps when it dropped the code", () => {
		expect(networkErrorCode({ messages: ['connect ECONNREFUSED 127.0.0.1:9'] })).toBe(
			'ECONNREFUSED',
		);
		expect(networkErrorCode(new Error('socket hang up'))).toBe('ECONNRESET');
		expect(networkErrorCode(new Error('timeout of 5000ms exceeded'))).toBe('ETIMEDOUT');
		expect(networkErrorCode(new Error('The request timed out'))).toBe('ETIMEDOUT');
		// A code-like word that is no network failure this module knows is not taken for one.
		expect(networkErrorCode(new Error('EINVAL: invalid argument'))).toBeUndefined();
		expect(networkErrorCode(new Error('Bad request'))).toBeUndefined();
		expect(networkErrorCode(undefined)).toBeUndefined();
	});
});

describe('isAmbiguousCreateFailure', () => {
	const apiError = (httpCode: string | undefined, code?: string) => {
		const error = new NodeApiError(node, { message: 'x' }, { message: 'x', httpCode });
		if (code) error.context.networkErrorCode = code;
		return error;
	};

	it('a 5xx or a failure after sending may have made a prediction; a 4xx or no connection did not', () => {
		expect(isAmbiguousCreateFailure(apiError('500'))).toBe(true);
		expect(isAmbiguousCreateFailure(apiError('504'))).toBe(true);
		expect(isAmbiguousCreateFailure(apiError('422'))).toBe(false);
		expect(isAmbiguousCreateFailure(apiError('429'))).toBe(false);
		expect(isAmbiguousCreateFailure(apiError(undefined, 'ECONNRESET'))).toBe(true);
		expect(isAmbiguousCreateFailure(apiError(undefined, 'ECONNREFUSED'))).toBe(false);
		expect(isAmbiguousCreateFailure(apiError(undefined))).toBe(true);
		expect(isAmbiguousCreateFailure(new Error('ECONNRESET'))).toBe(false);
	});
});

describe('apiBaseUrl', () => {
	const withBaseUrl = (baseUrl: unknown) =>
		({
			getNode: () => node,
			getCredentials: async () => ({ baseUrl }),
		}) as unknown as TransportContext;

	it('trims spaces and trailing slashes', async () => {
		expect(await apiBaseUrl(withBaseUrl(' https://gateway.example.com/replicate/v1// '))).toBe(
			'https://gateway.example.com/replicate/v1',
		);
	});

	it.each([['api.replicate.com/v1'], ['ftp://api.replicate.com/v1'], [''], [undefined]])(
		'refuses %p, naming it',
		async (baseUrl) => {
			await expect(apiBaseUrl(withBaseUrl(baseUrl))).rejects.toThrow(
				`The credential's Base URL "${typeof baseUrl === 'string' ? baseUrl : ''}" is not an http(s) URL`,
			);
		},
	);
});
