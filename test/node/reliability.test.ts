/** Fast unit tests of the pure helpers behind issue 10 (the behaviour is in test/faults). */
import { NodeApiError, NodeOperationError } from 'n8n-workflow';
import type { INode } from 'n8n-workflow';

import { withoutCanceled } from '../../nodes/shared/errors';
import { madeBy } from '../../nodes/ReplicateInpainting/helpers/find';
import { sniffImageType } from '../../nodes/shared/imageType';
import {
	DEFAULT_MODEL_VERSION,
	imageUriProblem,
	MODEL_VERSION_ID,
} from '../../nodes/ReplicateInpainting/schema/modelInput';
import { makeSamplePng } from '../server';

const node: INode = {
	id: '1',
	name: 'Replicate Inpainting',
	type: 'replicateInpainting',
	typeVersion: 1,
	position: [0, 0],
	parameters: {},
};
const png = makeSamplePng(8, 8, 'image');

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

describe('imageUriProblem', () => {
	it('accepts http(s) URLs and image data URIs by their bytes', () => {
		expect(imageUriProblem('https://example.com/a.png')).toBeUndefined();
		expect(imageUriProblem(`data:image/png;base64,${png.toString('base64')}`)).toBeUndefined();
		expect(
			imageUriProblem(`data:application/octet-stream;base64,${png.toString('base64')}`),
		).toBeUndefined();
	});

	it('refuses empty, non-image and malformed data URIs', () => {
		expect(imageUriProblem('data:image/png;base64,')).toBe(
			'is an empty data URI: it carries no image',
		);
		expect(imageUriProblem('data:text/plain;base64,aGVsbG8gd29ybGQ=')).toBe(
			'is a data URI of type text/plain whose bytes are no PNG, JPEG, WebP, GIF, BMP or TIFF image',
		);
		expect(imageUriProblem('data:image/png;base64,aGVsbG8gd29ybGQ=')).toMatch(
			/^is a data URI of type image\/png whose bytes are no/,
		);
		expect(imageUriProblem('data:image/svg+xml,%3Csvg%3E%3C/svg%3E')).toMatch(
			/^is a data URI of type image\/svg\+xml/,
		);
		expect(imageUriProblem('ftp://example.com/a.png')).toBe('must be an http(s) URL or a data URI');
	});

	it('sniffs what the model reads', () => {
		expect(sniffImageType(png)).toBe('image/png');
		expect(sniffImageType(Buffer.from('{"ok":true}'))).toBeUndefined();
	});
});

describe('madeBy', () => {
	const body = {
		version: DEFAULT_MODEL_VERSION,
		input: { prompt: 'a chair', image: 'https://x/i.png', mask: 'https://x/m.png', width: 512 },
	};

	it('matches the version id and every field sent, allowing defaults Replicate filled in', () => {
		expect(
			madeBy({ version: MODEL_VERSION_ID, input: { ...body.input, num_outputs: 1 } }, body),
		).toBe(true);
	});

	it('refuses another version, a changed or a missing field', () => {
		expect(madeBy({ version: '0'.repeat(64), input: body.input }, body)).toBe(false);
		expect(
			madeBy({ version: MODEL_VERSION_ID, input: { ...body.input, prompt: 'a table' } }, body),
		).toBe(false);
		const { width: _width, ...withoutWidth } = body.input;
		expect(madeBy({ version: MODEL_VERSION_ID, input: withoutWidth }, body)).toBe(false);
		expect(madeBy({ version: MODEL_VERSION_ID }, body)).toBe(false);
	});
});
