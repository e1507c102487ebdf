/**
 * Rows of the fault matrix for predictions that end without success (failed, canceled, aborted):
 * Create and Wait fails with the reason, Get and Cancel report the status. Server text saying
 * "canceled" fails the execution (not "stopped") and keeps its words (issue 10 item 8).
 */
import type { PredictionScript } from '../../tools/fake-replicate';
import type { NodeRow } from './node-row';
import { ON_GET, scriptedPrediction } from './node-row';

/**
 * A prediction that ends `script.outcome`: Create and Wait fails with `Prediction <id> ${ending}`,
 * Get reports the status (and downloads nothing), and so does Cancel when `alsoCancel`.
 */
const endedAs = (
	script: PredictionScript & { outcome: 'failed' | 'canceled' | 'aborted' },
	ending: string,
	alsoCancel = false,
): NodeRow[] =>
	scriptedPrediction(`prediction ${script.outcome}`, script, {
		createAndWait: {
			expect: { outcome: 'error', message: (ctx) => `Prediction ${ctx.id} ${ending}` },
		},
		get: { expect: { outcome: 'success', status: script.outcome, binaries: 0 } },
		...(alsoCancel ? { cancel: { expect: { outcome: 'success', status: script.outcome } } } : {}),
	});

/** A model's own error text that says "canceled": the prediction failed, nobody cancelled it. */
const FAILED_SAYING_CANCELED = {
	outcome: 'failed',
	error: 'Worker task was canceled: CUDA error',
} as const;

export const predictionEndRows: NodeRow[] = [
	...endedAs(
		{ outcome: 'failed', error: 'CUDA out of memory' },
		'failed: CUDA out of memory',
		true,
	),
	...endedAs({ outcome: 'canceled' }, 'was cancelled before it finished'),
	...endedAs({ outcome: 'aborted' }, 'was aborted before it started'),
	{
		fault: 'model error saying "canceled"',
		operation: 'createAndWait',
		arrange: (s) => s.scriptNextPrediction(FAILED_SAYING_CANCELED),
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
		arrange: (s) => s.scriptNextPrediction(FAILED_SAYING_CANCELED),
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
				...ON_GET,
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
