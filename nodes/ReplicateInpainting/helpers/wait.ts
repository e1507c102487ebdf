/**
 * Waiting for a prediction: poll (on `pollSchedule`'s schedule) until a terminal status, stop promptly
 * on a Stop, and on the node's own timeout cancel the prediction (it would keep costing money).
 */
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { withPredictionId } from './errors';
import { ExecutionStoppedError, pause } from './pause';
import { POLL_SCHEDULE, pollScheduler } from './pollSchedule';
import type { Prediction } from './prediction';
import { asPrediction, isTerminal } from './prediction';
import type { RetryPolicy, TransportContext } from '../transport';
import { apiRequest } from '../transport';

export async function getPrediction(
	context: TransportContext,
	id: string,
	policy: RetryPolicy,
	itemIndex?: number,
): Promise<Prediction> {
	const path = `/predictions/${encodeURIComponent(id)}`;
	const body = await apiRequest(
		context,
		{ method: 'GET', path, kind: 'repeatable', itemIndex },
		policy,
	);
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
	/**
	 * Whether the node started this prediction or only looks at it. One it started is cancelled
	 * when the wait ends without seeing it finish (a timeout, or a poll that failed for good):
	 * nobody would be waiting for it any more, and it would run on at the user's cost.
	 */
	onTimeout: 'cancel' | 'fail';
	policy: RetryPolicy;
	itemIndex: number;
	timeoutSeconds: number;
}

/**
 * The policy of a request made while waiting: it ends with the wait (one poll interval of grace,
 * so a poll at the deadline still gets its answer), instead of after the request's own timeout.
 */
export function withinWait(policy: RetryPolicy, deadline: number): RetryPolicy {
	return { ...policy, deadline: deadline + POLL_SCHEDULE.firstMs };
}

export async function waitForPrediction(
	context: TransportContext,
	start: Prediction,
	options: WaitOptions,
): Promise<Prediction> {
	let prediction = start;
	const nextDelay = pollScheduler();
	// Polls are due on the schedule counted from here, not from each answer, so slow answers do not
	// push every later poll back (at most half an interval is waited after a late answer).
	let due = Date.now();
	while (!isTerminal(prediction.status)) {
		const remaining = options.deadline - Date.now();
		if (remaining <= 0) throw await timeoutError(context, prediction, options);
		const delay = nextDelay(prediction.logs);
		due = Math.max(due + delay, Date.now() + delay / 2);
		await pause(Math.min(due - Date.now(), remaining), options.policy.signal);
		let polled: Prediction | undefined;
		let failure: unknown;
		try {
			polled = await getPrediction(
				context,
				prediction.id,
				withinWait(options.policy, options.deadline),
				options.itemIndex,
			);
		} catch (error) {
			failure = error;
		}
		if (polled) {
			prediction = polled;
			continue;
		}
		// A Stop: the run cancels what it started.
		if (failure instanceof ExecutionStoppedError) throw failure;
		// The poll was still unanswered when the time ran out: that is the node's timeout.
		if (Date.now() >= options.deadline) throw await timeoutError(context, prediction, options);
		if (options.onTimeout === 'cancel')
			await cancelUnfollowed(context, prediction.id, options.policy, options.itemIndex, failure);
		throw failure;
	}
	return prediction;
}

/**
 * Cancels a prediction the node started but can no longer follow (its wait failed, or Replicate's
 * answer about it is unusable): nobody would be waiting for it, and it would run on at the user's
 * cost. The item's error then says so, and names it.
 */
export async function cancelUnfollowed(
	context: TransportContext,
	id: string,
	policy: RetryPolicy,
	itemIndex: number,
	failure: unknown,
): Promise<void> {
	let outcome: string;
	try {
		await cancelPrediction(context, id, { maxRetries: policy.maxRetries }, itemIndex);
		outcome = `The node cancelled prediction ${id}, so it does not run on unobserved.`;
	} catch (error) {
		outcome = `Cancelling prediction ${id} failed too (${(error as Error).message}); Replicate stops it at its Cancel-After deadline.`;
	}
	if (failure instanceof NodeApiError || failure instanceof NodeOperationError) {
		failure.description = [failure.description, outcome].filter(Boolean).join('\n');
		withPredictionId(failure, id);
	}
}

async function timeoutError(
	context: TransportContext,
	prediction: Prediction,
	options: WaitOptions,
) {
	const node = context.getNode();
	let outcome = `It is still ${prediction.status}.`;
	if (options.onTimeout === 'cancel') {
		try {
			const canceled = await cancelPrediction(
				context,
				prediction.id,
				options.policy,
				options.itemIndex,
			);
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
