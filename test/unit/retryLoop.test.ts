/**
 * The one retry loop, driven through `apiRequest` on jest's fake clock with n8n's HTTP helper as a
 * script (./scriptedApi). Which kind of request is repeated on which answer: a create (it costs
 * money) only when nothing can have been created (429, a connection never opened); other requests
 * also on 5xx and on failures after sending. Math.random is pinned to 0, so the backoff is exactly
 * 500, 1000, 2000 … ms (retry.test.ts covers the schedule itself).
 */
import { NodeApiError } from 'n8n-workflow';

import { ExecutionStoppedError } from '../../nodes/shared/pause';
import type { RequestKind, RetryPolicy } from '../../nodes/shared/transport/retry';
import { networkErrorCode } from '../../nodes/shared/transport/network';
import { apiRequest, isAmbiguousCreateFailure } from '../../nodes/shared/transport/request';
import type { ScriptedAnswer } from './scriptedApi';
import { networkError, node, scriptedApi, T0 } from './scriptedApi';

beforeEach(() => {
	jest.useFakeTimers();
	jest.setSystemTime(T0);
	jest.spyOn(Math, 'random').mockReturnValue(0);
});
afterEach(() => {
	jest.useRealTimers();
	jest.restoreAllMocks();
});

type Step = number | ScriptedAnswer | Error;

/** Answers the requests with `steps` in turn: a status, an answer, or a failure to throw. */
function scripted(steps: Step[]) {
	return scriptedApi((_request, index) => {
		const step = steps[Math.min(index, steps.length - 1)];
		if (step instanceof Error) throw step;
		if (typeof step === 'number') {
			return step < 400
				? { statusCode: step, body: { id: 'p1', status: 'starting' } }
				: { statusCode: step, body: { title: `Status ${step}`, status: step } };
		}
		return step;
	});
}

const REQUEST: Record<RequestKind, { method: 'GET' | 'POST'; path: string }> = {
	create: { method: 'POST', path: '/predictions' },
	repeatable: { method: 'GET', path: '/predictions/p1' },
	cleanup: { method: 'POST', path: '/predictions/p1/cancel' },
};

/** Runs one request to its end on the fake clock: its outcome, and when each attempt went out (ms from its start). */
async function run(kind: RequestKind, steps: Step[], policy: RetryPolicy = { maxRetries: 4 }) {
	const api = scripted(steps);
	const start = Date.now() - T0;
	const outcome = apiRequest(api.context, { ...REQUEST[kind], kind }, policy).then(
		(body) => ({ body, error: undefined }),
		(error: unknown) => ({ body: undefined, error: error as Error }),
	);
	await jest.runAllTimersAsync();
	return { ...(await outcome), times: api.times().map((at) => at - start) };
}

describe('which answers are repeated, per kind of request', () => {
	it.each([500, 502, 503, 504])('GET: %d is repeated after 500 ms, then 1 s', async (status) => {
		const { body, times } = await run('repeatable', [status, status, 200]);
		expect(times).toEqual([0, 500, 1_500]);
		expect(body).toEqual({ id: 'p1', status: 'starting' });
	});

	it.each([500, 502, 503, 504])(
		'create: %d is never repeated (a prediction may exist)',
		async (status) => {
			const { error, times } = await run('create', [status, 201]);
			expect(times).toEqual([0]);
			expect(error).toBeInstanceOf(NodeApiError);
			expect(error?.message).toBe(
				`Replicate API error ${status} on POST /predictions: Status ${status}`,
			);
			expect(isAmbiguousCreateFailure(error)).toBe(true);
		},
	);

	it.each(['create', 'repeatable', 'cleanup'] as const)(
		'%s: 429 is repeated, after the Retry-After when there is one',
		async (kind) => {
			const throttled = { statusCode: 429, headers: { 'retry-after': '3' }, body: {} };
			const { body, times } = await run(kind, [429, throttled, 201]);
			expect(times).toEqual([0, 500, 3_500]);
			expect(body).toEqual({ id: 'p1', status: 'starting' });
		},
	);

	it.each(['create', 'repeatable', 'cleanup'] as const)(
		'%s: 400, 401, 404, 422 are answers, not repeated',
		async (kind) => {
			for (const status of [400, 401, 404, 422]) {
				const { error, times } = await run(kind, [status, 200]);
				expect(times).toEqual([0]);
				expect((error as NodeApiError).httpCode).toBe(String(status));
			}
		},
	);
});

describe('network failures', () => {
	const NOT_SENT = ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'];
	const AFTER_SEND = [
		'ECONNRESET',
		'ETIMEDOUT',
		'ECONNABORTED',
		'EPIPE',
		'ESOCKETTIMEDOUT',
		'ERR_BAD_RESPONSE',
		'ERR_STREAM_PREMATURE_CLOSE',
	];

	it.each(NOT_SENT)(
		'%s (no connection): repeated for a create too, and never ambiguous',
		async (code) => {
			const { body, times } = await run('create', [networkError(code), 201]);
			expect(times).toEqual([0, 500]);
			expect(body).toEqual({ id: 'p1', status: 'starting' });

			const failed = await run('create', [networkError(code)], { maxRetries: 1 });
			expect(failed.times).toEqual([0, 500]);
			expect(failed.error?.message).toBe(
				`Could not reach the Replicate API (POST /predictions): ${code} (${code} (test))`,
			);
			expect(isAmbiguousCreateFailure(failed.error)).toBe(false);
		},
	);

	it.each(AFTER_SEND)(
		'%s (after sending): repeated for a GET, never for a create, which is then ambiguous',
		async (code) => {
			const get = await run('repeatable', [networkError(code), 200]);
			expect(get.times).toEqual([0, 500]);
			expect(get.body).toEqual({ id: 'p1', status: 'starting' });

			const create = await run('create', [networkError(code), 201]);
			expect(create.times).toEqual([0]);
			expect((create.error as NodeApiError).context.networkErrorCode).toBe(code);
			expect(isAmbiguousCreateFailure(create.error)).toBe(true);
		},
	);

	it('a failure without a network code is not repeated', async () => {
		const { error, times } = await run('repeatable', [new TypeError('body is not a function')]);
		expect(times).toEqual([0]);
		expect(error?.message).toBe(
			'Could not reach the Replicate API (GET /predictions/p1): body is not a function',
		);
	});
});

describe('how long it keeps trying', () => {
	it('Max Retries 2: three attempts, then the last answer is the error', async () => {
		const { error, times } = await run('repeatable', [503], { maxRetries: 2 });
		expect(times).toEqual([0, 500, 1_500]);
		expect(error?.message).toBe('Replicate API error 503 on GET /predictions/p1: Status 503');
	});

	it('Max Retries 0: one attempt', async () => {
		const { times } = await run('repeatable', [503], { maxRetries: 0 });
		expect(times).toEqual([0]);
	});

	it('backs off 0.5, 1, 2, 4, 8 s over five retries (least jitter)', async () => {
		const { times } = await run('repeatable', [503], { maxRetries: 5 });
		expect(times).toEqual([0, 500, 1_500, 3_500, 7_500, 15_500]);
	});

	it('starts no retry that could only begin at or after the deadline', async () => {
		// Retries at 0.5 s and 1.5 s; the next would start at 3.5 s, past the deadline at 3 s.
		const { error, times } = await run('repeatable', [503], {
			maxRetries: 10,
			deadline: T0 + 3_000,
		});
		expect(times).toEqual([0, 500, 1_500]);
		expect((error as NodeApiError).httpCode).toBe('503');
	});

	it("a Retry-After beyond the deadline ends it at once with the 429's error", async () => {
		const throttled = { statusCode: 429, headers: { 'retry-after': '30' }, body: {} };
		const { error, times } = await run('create', [throttled], {
			maxRetries: 4,
			deadline: T0 + 10_000,
		});
		expect(times).toEqual([0]);
		expect(error?.message).toBe('Replicate API error 429 on POST /predictions: HTTP 429');
	});

	it("cuts each attempt's own timeout at the deadline", async () => {
		const api = scripted([503, 200]);
		const done = apiRequest(
			api.context,
			{ ...REQUEST.repeatable, kind: 'repeatable', timeoutMs: 5_000 },
			{ maxRetries: 1, deadline: T0 + 2_000 },
		);
		await jest.runAllTimersAsync();
		await done;
		expect(api.sent.map((request) => [request.at, request.timeout])).toEqual([
			[0, 2_000],
			[500, 1_500],
		]);
	});
});

describe('a Stop', () => {
	it('ends the pause between attempts at once: no further attempt', async () => {
		const api = scripted([503, 200]);
		const controller = new AbortController();
		const done = apiRequest(
			api.context,
			{ ...REQUEST.repeatable, kind: 'repeatable' },
			{ maxRetries: 4, signal: controller.signal },
		);
		const stopped = expect(done).rejects.toBeInstanceOf(ExecutionStoppedError);
		await jest.advanceTimersByTimeAsync(300);
		controller.abort();
		await stopped;
		await jest.runAllTimersAsync();
		expect(api.times()).toEqual([0]);
	});

	it('hands each attempt an abort signal that follows the run', async () => {
		const api = scripted([200]);
		const controller = new AbortController();
		await apiRequest(
			api.context,
			{ ...REQUEST.repeatable, kind: 'repeatable' },
			{ maxRetries: 0, signal: controller.signal },
		);
		const given = api.sent[0].abortSignal;
		expect(given).toBeDefined();
		expect(given).not.toBe(controller.signal);
		controller.abort();
		expect(given?.aborted).toBe(true);
	});

	it('an aborted request is a Stop, not a network failure', async () => {
		const aborted = Object.assign(new Error('canceled'), { name: 'CanceledError' });
		const { error, times } = await run('repeatable', [aborted, 200]);
		expect(error).toBeInstanceOf(ExecutionStoppedError);
		expect(times).toEqual([0]);
	});

	it('does not hold back the cleanup a Stop owes Replicate (cancels, deletes)', async () => {
		const controller = new AbortController();
		controller.abort();
		const { body, times } = await run('cleanup', [503, 200], {
			maxRetries: 4,
			signal: controller.signal,
		});
		expect(times).toEqual([0, 500]);
		expect(body).toEqual({ id: 'p1', status: 'starting' });
	});

	it('before the first attempt: nothing is sent', async () => {
		const controller = new AbortController();
		controller.abort();
		const { error, times } = await run('create', [201], {
			maxRetries: 4,
			signal: controller.signal,
		});
		expect(error).toBeInstanceOf(ExecutionStoppedError);
		expect(times).toEqual([]);
	});
});

describe('networkErrorCode', () => {
	it('reads the code from the error or its causes, up to 5 deep', () => {
		expect(networkErrorCode(networkError('ECONNRESET'))).toBe('ECONNRESET');
		const wrapped = { cause: { cause: { code: 'ETIMEDOUT' } } };
		expect(networkErrorCode(wrapped)).toBe('ETIMEDOUT');
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

	it('a 5xx answer or a failure after sending may have made a prediction; 4xx and no connection did not', () => {
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
