/**
 * Error building: Replicate's problem JSON becomes the node's message and
 * description, and every error leaves with "canceled" spelled "cancelled" in its message.
 */
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import {
	apiErrorFromResponse,
	malformedAnswerError,
	nonJsonProblem,
	predictionIdOf,
	withoutCanceled,
	withPredictionId,
} from '../../../nodes/shared/errors';
import { node } from '../fixtures';

describe('apiErrorFromResponse', () => {
	it("names status, request, title and every invalid field (the README's 422)", () => {
		const error = apiErrorFromResponse(node, { method: 'POST', path: '/predictions' }, 422, {
			title: 'Input validation failed',
			detail: '- input.strength: Additional property strength is not allowed',
			status: 422,
			invalid_fields: [
				{
					type: 'additional_property_not_allowed',
					field: 'input.strength',
					description: 'Additional property strength is not allowed',
				},
			],
		});
		expect(error).toBeInstanceOf(NodeApiError);
		expect(error.message).toBe(
			'Replicate API error 422 on POST /predictions: Input validation failed (input.strength: Additional property strength is not allowed)',
		);
		expect(error.description).toBe(
			'- input.strength: Additional property strength is not allowed.\nInvalid field input.strength: Additional property strength is not allowed.',
		);
		expect(error.httpCode).toBe('422');
	});

	it.each([
		[401, 'Check the API Token of the Replicate Inpainting API credential.'],
		[
			402,
			'The Replicate account has no credit left: add billing at replicate.com/account/billing.',
		],
		[404, 'Check the Base URL of the credential and the prediction ID.'],
		[429, 'Replicate throttled the requests: lower Max Concurrent Predictions or try again later.'],
	])('%d adds what to do about it', (status, hint) => {
		const error = apiErrorFromResponse(node, { method: 'GET', path: '/predictions/abc' }, status, {
			title: 'Some title',
			detail: 'Some detail',
		});
		expect(error.message).toBe(`Replicate API error ${status} on GET /predictions/abc: Some title`);
		expect(error.description).toBe(`Some detail.\n${hint}`);
	});

	it('quotes a non-JSON body (a gateway page) in one line, shortened to 200 characters', () => {
		const page = apiErrorFromResponse(
			node,
			{ method: 'GET', path: '/account' },
			502,
			'<html>\n  <body>Bad gateway</body>\n</html>',
		);
		expect(page.message).toBe(
			'Replicate API error 502 on GET /account: HTTP 502 (<html> <body>Bad gateway</body> </html>)',
		);
		const long = apiErrorFromResponse(node, { method: 'GET', path: '/x' }, 500, 'x'.repeat(500));
		expect(long.message).toBe(`Replicate API error 500 on GET /x: HTTP 500 (${'x'.repeat(197)}…)`);
	});

	it('without title or detail says the status alone', () => {
		const error = apiErrorFromResponse(node, { method: 'DELETE', path: '/files/f1' }, 503, null);
		expect(error.message).toBe('Replicate API error 503 on DELETE /files/f1: HTTP 503');
	});
});

describe('answers that are not what was asked for', () => {
	it('says what the body was instead of JSON', () => {
		expect(nonJsonProblem('<h1>Service Unavailable</h1>')).toBe(
			'the body is not JSON ("<h1>Service Unavailable</h1>")',
		);
		expect(nonJsonProblem('')).toBe('the body is empty, JSON was expected');
		expect(nonJsonProblem(undefined)).toBe('the body is empty, JSON was expected');
	});

	it('names the request in the message', () => {
		const error = malformedAnswerError(
			node,
			{ method: 'GET', path: '/predictions/abc' },
			'the prediction has no valid "id"',
			2,
		);
		expect(error.message).toBe(
			'Unexpected answer from the Replicate API on GET /predictions/abc: the prediction has no valid "id"',
		);
		expect(error.description).toBe('the prediction has no valid "id"');
	});
});

describe('prediction IDs on errors', () => {
	it('attaches the ID to the context, keeping what was there', () => {
		const error = new NodeOperationError(node, 'failed', { itemIndex: 1 });
		error.context.extra = 'kept';
		expect(predictionIdOf(withPredictionId(error, 'abc123'))).toBe('abc123');
		expect(error.context.extra).toBe('kept');
		expect(predictionIdOf(new Error('plain'))).toBeUndefined();
		expect(predictionIdOf(undefined)).toBeUndefined();
	});
});

describe('withoutCanceled', () => {
	it('spells every "canceled" in the message "cancelled" and keeps the words as they came in the description', () => {
		const error = withoutCanceled(
			new NodeOperationError(
				node,
				'Prediction p1 failed: Worker task was canceled: CUDA error (CANCELED)',
				{ description: 'more' },
			),
		);
		expect(error.message).toBe(
			'Prediction p1 failed: Worker task was cancelled: CUDA error (CANCELLED)',
		);
		expect(error.description).toBe(
			'As reported: Prediction p1 failed: Worker task was canceled: CUDA error (CANCELED)\nmore',
		);
	});

	it('leaves other errors alone, whatever their class', () => {
		const error = new NodeApiError(
			node,
			{ message: 'Replicate API error 500' },
			{ message: 'Replicate API error 500', description: 'd' },
		);
		expect(withoutCanceled(error)).toBe(error);
		expect([error.message, error.description]).toEqual(['Replicate API error 500', 'd']);
		// A second error after one that matched: the shared pattern keeps no state between calls.
		withoutCanceled(new NodeOperationError(node, 'was canceled'));
		expect(withoutCanceled(new NodeOperationError(node, 'canceled too')).message).toBe(
			'cancelled too',
		);
	});
});
