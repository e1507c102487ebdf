/**
 * Rows of the fault matrix for binary inputs uploaded to the API (POST /files): uploaded inputs are
 * deleted on every path (issue 10 item 5; uploads-left in the totals counts what stays).
 */
import type { INodeExecutionData, INodeParameters } from 'n8n-workflow';

import { makeSamplePng } from '../../tools/fake-replicate';
import { binaryItem } from '../node/support';
import type { NodeRow, RowContext } from './node-row';
import { all, cancelledWithin, createPosts, noCreate, ON_CREATE, onePost } from './node-row';

function binaryInputs(): INodeExecutionData[] {
	const image = makeSamplePng(64, 64, 'image');
	const mask = makeSamplePng(64, 64, 'mask');
	return [
		binaryItem({
			data: { content: image, fileName: 'a.png', mimeType: 'image/png' },
			mask: { content: mask, fileName: 'm.png', mimeType: 'image/png' },
		}),
	];
}

/** Both images as binary input, uploaded with POST /files; `options` besides. */
const uploading = (
	options: INodeParameters = {},
): Pick<NodeRow, 'inputItems' | 'parameters' | 'options'> => ({
	inputItems: binaryInputs,
	parameters: { imageSource: 'binary', maskSource: 'binary' },
	options: { uploadRoute: 'upload', ...options },
});
const ON_UPLOAD = { method: 'POST', path: /^\/files$/ };

const deletes = (ctx: RowContext) =>
	ctx.requests.filter((request) => request.origin === 'api' && request.method === 'DELETE');
const uploadPosts = (ctx: RowContext) =>
	ctx.requests.filter(
		(request) =>
			request.origin === 'api' && request.method === 'POST' && /\/files$/.test(request.path),
	);
/** Both uploaded files were deleted (by the node). */
const bothDeleted = (ctx: RowContext) => expect(deletes(ctx)).toHaveLength(2);

export const uploadRows: NodeRow[] = [
	{
		fault: 'reset after the upload was stored (its answer lost)',
		operation: 'createAndWait',
		...uploading({ downloadOutputs: false }),
		arrange: (s) => s.inject({ ...ON_UPLOAD, kind: 'reset-before-response' }),
		expect: { outcome: 'success', status: 'succeeded' },
		// The upload is made again; the file of the lost attempt is found by its mark and deleted
		// with the two the prediction used.
		check: (ctx) => {
			expect(uploadPosts(ctx)).toHaveLength(3);
			expect(deletes(ctx)).toHaveLength(3);
		},
	},
	{
		fault: '503 on upload (POST /files)',
		operation: 'createAndWait',
		...uploading({ downloadOutputs: false }),
		arrange: (s) => s.inject({ ...ON_UPLOAD, kind: 'status', status: 503 }),
		expect: { outcome: 'success', status: 'succeeded' },
		check: all(onePost, bothDeleted),
	},
	{
		fault: '500 on the first delete of each uploaded file',
		operation: 'createAndWait',
		...uploading({ downloadOutputs: false }),
		arrange: (s) =>
			s.inject({
				method: 'DELETE',
				path: /^\/files\//,
				kind: 'status',
				status: 500,
				headers: { 'retry-after': '0' },
				times: 2,
			}),
		expect: { outcome: 'success', status: 'succeeded' },
		// Retried (a delete is safe to repeat): nothing is left, nothing to warn about.
		check: (ctx) => {
			expect(deletes(ctx)).toHaveLength(4);
			expect(
				ctx.run.result.logs.filter((line) => /Could not delete uploaded file/.test(line)),
			).toHaveLength(0);
		},
	},
	{
		fault: 'prediction failed, with uploaded files',
		operation: 'createAndWait',
		...uploading(),
		arrange: (s) => s.scriptNextPrediction({ outcome: 'failed', error: 'CUDA out of memory' }),
		expect: {
			outcome: 'error',
			message: (ctx) => `Prediction ${ctx.id} failed: CUDA out of memory`,
		},
		check: (ctx) => {
			const input = (createPosts(ctx)[0].json as { input: Record<string, string> }).input;
			expect(
				deletes(ctx)
					.map((request) => request.path)
					.sort(),
			).toEqual([input.image, input.mask].map((url) => new URL(url).pathname).sort());
		},
	},
	...(['createAndWait', 'createOnly'] as const).map(
		(operation): NodeRow => ({
			fault: 'create refused (422), with uploaded files',
			operation,
			...uploading(),
			arrange: (s) =>
				s.inject({
					...ON_CREATE,
					kind: 'status',
					status: 422,
					body: { title: 'Input validation failed', detail: 'Injected', status: 422 },
				}),
			expect: {
				outcome: 'error',
				message: () => 'Replicate API error 422 on POST /predictions: Input validation failed',
			},
			check: all(noCreate, bothDeleted),
		}),
	),
	{
		fault: 'second upload refused (400), the first one made',
		operation: 'createAndWait',
		...uploading(),
		arrange: (s) => s.inject({ ...ON_UPLOAD, kind: 'status', status: 400, skip: 1 }),
		expect: {
			outcome: 'error',
			message: () => 'Replicate API error 400 on POST /files: Bad Request',
		},
		check: all(noCreate, (ctx) => {
			expect(uploadPosts(ctx)).toHaveLength(2);
			expect(deletes(ctx)).toHaveLength(1);
		}),
	},
	{
		fault: 'execution stopped 1 s into a held create, with uploaded files',
		operation: 'createAndWait',
		...uploading(),
		server: { modelTimeMs: 8_000 },
		stopAfterMs: 1_000,
		expect: { outcome: 'stopped' },
		check: all(cancelledWithin(2_000), bothDeleted),
	},
];
