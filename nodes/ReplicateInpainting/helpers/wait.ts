/**
 * Waiting for a prediction: poll with a growing interval until a terminal status, stop promptly
 * on a Stop, and on the node's own timeout cancel the prediction (it would keep costing money).
 */
import { NodeOperationError } from 'n8n-workflow';

import { withPredictionId } from './errors';
import { pause } from './pause';
import type { Prediction } from './prediction';
import { asPrediction, isTerminal } from './prediction';
import type { RetryPolicy, TransportContext } from '../transport';
import { apiRequest } from '../transport';

/** First poll after 1 s, then ×1.6 up to 3 s: few requests, yet a finish is seen within ~3 s. */
export const POLL_SCHEDULE = { firstMs: 1_000, factor: 1.6, maxMs: 3_000 } as const;

export function nextPollDelay(previousMs: number | undefined): number {
	if (previousMs === undefined) return POLL_SCHEDULE.firstMs;
	return Math.min(POLL_SCHEDULE.maxMs, Math.round(previousMs * POLL_SCHEDULE.factor));
}

export async function getPrediction(
	context: TransportContext,
	id: string,
	policy: RetryPolicy,
	itemIndex?: number,
): Promise<Prediction> {
	const path = `/predictions/${encodeURIComponent(id)}`;
	const body = await apiRequest(context, { method: 'GET', path, kind: 'repeatable', itemIndex }, policy);
	return asPrediction(context.getNode(), { method: 'GET', path }, body, itemIndex);
}

/** `cleanup` (the default) also goes out after a Stop: the node's own predictions must not run on. */
export async function cancelPrediction(
	context: TransportContext,
	id: string,
	policy: RetryPolicy,
	itemIndex?: number,
	kind: 'cleanup' | 'repeatable' = 'cleanup',
): Promise<Prediction> {
	const path = `/predictions/${encodeURIComponent(id)}/cancel`;
	const body = await apiRequest(context, { method: 'POST', path, kind, itemIndex }, policy);
	return asPrediction(context.getNode(), { method: 'POST', path }, body, itemIndex);
}

export interface WaitOptions {
	/** Epoch ms after which the node stops waiting. */
	deadline: number;
	/** Whether the node started this prediction (then a timeout cancels it) or only looks at it. */
	onTimeout: 'cancel' | 'fail';
	policy: RetryPolicy;
	itemIndex: number;
	timeoutSeconds: number;
}

export async function waitForPrediction(
	context: TransportContext,
	start: Prediction,
	options: WaitOptions,
): Promise<Prediction> {
	let prediction = start;
	let delay: number | undefined;
	while (!isTerminal(prediction.status)) {
		const remaining = options.deadline - Date.now();
		if (remaining <= 0) throw await timeoutError(context, prediction, options);
		delay = nextPollDelay(delay);
		await pause(Math.min(delay, remaining), options.policy.signal);
		prediction = await getPrediction(context, prediction.id, options.policy, options.itemIndex);
	}
	return prediction;
}

async function timeoutError(context: TransportContext, prediction: Prediction, options: WaitOptions) {
	const node = context.getNode();
	let outcome = `It is still ${prediction.status}.`;
	if (options.onTimeout === 'cancel') {
		try {
			const canceled = await cancelPrediction(context, prediction.id, options.policy, options.itemIndex);
			outcome = `The node cancelled it (status now "${canceled.status}").`;
		} catch (error) {
			outcome = `Cancelling it failed too (${(error as Error).message}); Replicate stops it at its Cancel-After deadline.`;
		}
	}
	const error = new NodeOperationError(
		node,
		`Prediction ${prediction.id} did not finish within the timeout of ${options.timeoutSeconds} s`,
		{
			itemIndex: options.itemIndex,
			description: `${outcome} Raise the Timeout option for longer runs, or use Create Only with a webhook.`,
		},
	);
	return withPredictionId(error, prediction.id);
}
