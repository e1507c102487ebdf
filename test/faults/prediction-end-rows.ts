/**
 * Rows of the fault matrix for predictions that end without success (failed, canceled, aborted):
 * Create and Wait fails with the reason, Get and Cancel report the status. Server text saying
 * "canceled" fails the execution (not "stopped") and keeps its words (issue 10 item 8).
 */
import type { NodeRow } from './node-row';
import { GET_ONE } from './node-row';

export const predictionEndRows: NodeRow[] = [
	{
		fault: 'prediction failed',
		operation: 'createAndWait',
		arrange: (s) => s.scriptNextPrediction({ outcome: 'failed', error: 'CUDA out of memory' }),
		expect: {
			outcome: 'error',
			message: (ctx) => `Prediction ${ctx.id} failed: CUDA out of memory`,
		},
	},
	{
		fault: 'prediction failed',
		operation: 'get',
		seed: { until: 'terminal', script: { outcome: 'failed', error: 'CUDA out of memory' } },
		expect: { outcome: 'success', status: 'failed', binaries: 0 },
	},
	{
		fault: 'prediction failed',
		operation: 'cancel',
		seed: { until: 'terminal', script: { outcome: 'failed', error: 'CUDA out of memory' } },
		expect: { outcome: 'success', status: 'failed' },
	},
	{
		fault: 'prediction canceled',
		operation: 'createAndWait',
		arrange: (s) => s.scriptNextPrediction({ outcome: 'canceled' }),
		expect: {
			outcome: 'error',
			message: (ctx) => `Prediction ${ctx.id} was cancelled before it finished`,
		},
	},
	{
		fault: 'prediction canceled',
		operation: 'get',
		seed: { until: 'terminal', script: { outcome: 'canceled' } },
		expect: { outcome: 'success', status: 'canceled', binaries: 0 },
	},
	{
		fault: 'prediction aborted',
		operation: 'createAndWait',
		arrange: (s) => s.scriptNextPrediction({ outcome: 'aborted' }),
		expect: {
			outcome: 'error',
			message: (ctx) => `Prediction ${ctx.id} was aborted before it started`,
		},
	},
	{
		fault: 'prediction aborted',
		operation: 'get',
		seed: { until: 'terminal', script: { outcome: 'aborted' } },
		expect: { outcome: 'success', status: 'aborted', binaries: 0 },
	},
	{
		fault: 'model error saying "canceled"',
		operation: 'createAndWait',
		arrange: (s) =>
			s.scriptNextPrediction({ outcome: 'failed', error: 'Worker task was canceled: CUDA error' }),
		expect: {
			outcome: 'error',
			message: (ctx) => `Prediction ${ctx.id} failed: Worker task was cancelled: CUDA error`,
			description:
				/^As reported: Prediction [a-z0-9]+ failed: Worker task was canceled: CUDA error$/,
		},
	},
	{
		fault: 'model error saying "canceled", Continue On Fail',
		operation: 'createAndWait',
		continueOnFail: true,
		arrange: (s) =>
			s.scriptNextPrediction({ outcome: 'failed', error: 'Worker task was canceled: CUDA error' }),
		expect: { outcome: 'success', binaries: 0 },
		check: (ctx) =>
			expect(ctx.run.items[0].json).toMatchObject({
				error: `Prediction ${ctx.id} failed: Worker task was cancelled: CUDA error`,
				predictionId: ctx.id,
			}),
	},
	{
		fault: '404 on get, with "canceled" in its detail',
		operation: 'get',
		seed: { until: 'terminal' },
		arrange: (s) =>
			s.inject({
				method: 'GET',
				path: GET_ONE,
				kind: 'status',
				status: 404,
				body: 'Prediction was canceled and removed',
			}),
		expect: {
			outcome: 'error',
			message: (ctx) =>
				`Replicate API error 404 on GET /predictions/${ctx.id}: HTTP 404 (Prediction was cancelled and removed)`,
			description: /^As reported: .*Prediction was canceled and removed\)\n/,
		},
	},
];
