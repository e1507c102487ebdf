/**
 * The predictions resource: what an answer or a webhook delivery must look like before anything
 * trusts it, and its paths.
 */
import { NodeApiError } from 'n8n-workflow';

import {
	asPrediction,
	cancelPrediction,
	getPrediction,
	isTerminal,
	KNOWN_STATUSES,
	predictionProblem,
} from '../../../../nodes/shared/api/predictions';
import { node } from '../../fixtures';
import { scriptedApi } from '../../scriptedApi';

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
