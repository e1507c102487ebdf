/**
 * The predictions resource (shared/api/predictions.ts, pages.ts): what an answer or a webhook
 * delivery must look like before anything trusts it, its paths, and Replicate's cursor pages.
 */
import { NodeApiError } from 'n8n-workflow';

import {
	asPrediction,
	cancelPrediction,
	getPrediction,
	isTerminal,
	KNOWN_STATUSES,
	predictionProblem,
} from '../../nodes/shared/api/predictions';
import { readPage } from '../../nodes/shared/api/pages';
import { headerValue } from '../../nodes/shared/headers';
import { node, scriptedApi } from './scriptedApi';

describe('predictionProblem', () => {
	it.each([
		[null, 'the body is not a prediction object'],
		['{"id":"p1"}', 'the body is not a prediction object'],
		[[{ id: 'p1', status: 'starting' }], 'the body is not a prediction object'],
		[{ status: 'starting' }, 'the prediction has no valid "id"'],
		[{ id: '../account', status: 'starting' }, 'the prediction has no valid "id"'],
		[{ id: 'p'.repeat(65), status: 'starting' }, 'the prediction has no valid "id"'],
		[{ id: 42, status: 'starting' }, 'the prediction has no valid "id"'],
		[{ id: 'p1' }, 'prediction p1 has no "status"'],
		[{ id: 'p1', status: 3 }, 'prediction p1 has no "status"'],
	])('%j: %s', (body, problem) => {
		expect(predictionProblem(body)).toEqual({ problem });
	});

	it('an unknown status names the known ones only in the description', () => {
		expect(predictionProblem({ id: 'p1', status: 'queued' })).toEqual({
			problem: 'prediction p1 has the unknown status "queued"',
			description: 'Known statuses: starting, processing, succeeded, failed, canceled, aborted.',
		});
	});

	it.each([...KNOWN_STATUSES])('accepts status %s', (status) => {
		expect(predictionProblem({ id: 'ufawqhfynnddngldkgtslldrkq', status })).toBeUndefined();
	});

	it('asPrediction throws it as an answer error naming the request', () => {
		expect(() => asPrediction(node, { method: 'GET', path: '/predictions/p1' }, {})).toThrow(
			new NodeApiError(
				node,
				{ message: 'x' },
				{
					message:
						'Unexpected answer from the Replicate API on GET /predictions/p1: the prediction has no valid "id"',
				},
			),
		);
		const ok = { id: 'p1', status: 'succeeded', output: ['u'] };
		expect(asPrediction(node, { method: 'GET', path: '/predictions/p1' }, ok)).toBe(ok);
	});

	it('four statuses are final', () => {
		expect(KNOWN_STATUSES.filter(isTerminal)).toEqual([
			'succeeded',
			'failed',
			'canceled',
			'aborted',
		]);
	});
});

describe('paths', () => {
	it('GET /predictions/<id>, POST /predictions/<id>/cancel, the id encoded', async () => {
		const api = scriptedApi(() => ({ statusCode: 200, body: { id: 'p1', status: 'canceled' } }));
		await getPrediction(api.context, 'p1', { maxRetries: 0 });
		await cancelPrediction(api.context, 'a b', { maxRetries: 0 });
		expect(api.sent.map((request) => `${request.method} ${request.url}`)).toEqual([
			`GET ${api.baseUrl}/predictions/p1`,
			`POST ${api.baseUrl}/predictions/a%20b/cancel`,
		]);
	});

	it('a cancel is cleanup: it goes out after a Stop', async () => {
		const api = scriptedApi(() => ({ statusCode: 200, body: { id: 'p1', status: 'canceled' } }));
		const controller = new AbortController();
		controller.abort();
		await expect(
			cancelPrediction(api.context, 'p1', { maxRetries: 0, signal: controller.signal }),
		).resolves.toEqual({ id: 'p1', status: 'canceled' });
		expect(api.sent).toHaveLength(1);
	});
});

describe('readPage', () => {
	it('takes only the cursor from `next`, never its host', () => {
		expect(
			readPage({
				results: [{ id: 'p1' }],
				next: 'https://evil.example/v1/predictions?cursor=cD0yMDI2&x=1',
			}),
		).toEqual({ results: [{ id: 'p1' }], cursor: 'cD0yMDI2' });
	});

	it('the last page has no cursor; a malformed answer is an empty page', () => {
		expect(readPage({ results: [], next: null })).toEqual({ results: [], cursor: undefined });
		expect(readPage({ results: 'x', next: 'not a url' })).toEqual({
			results: [],
			cursor: undefined,
		});
		expect(readPage(undefined)).toEqual({ results: [], cursor: undefined });
	});
});

describe('headerValue', () => {
	it('finds a header in any case, as text; null is none', () => {
		expect(headerValue({ 'Content-Type': 'image/png' }, 'content-type')).toBe('image/png');
		expect(headerValue({ 'content-length': 1024 }, 'Content-Length')).toBe('1024');
		expect(headerValue({ 'retry-after': null }, 'retry-after')).toBeUndefined();
		expect(headerValue({}, 'retry-after')).toBeUndefined();
	});
});
