/**
 * Waiting for a prediction: poll (on `pollSchedule`'s schedule) until a terminal status, stop
 * promptly on a Stop, and on the node's own timeout cancel the prediction (it would keep costing
 * money). Also what a prediction that ended without success means for its item.
 */
import type { INode } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import type { Prediction } from '../../shared/api/predictions';
import { cancelPrediction, getPrediction, isTerminal } from '../../shared/api/predictions';
import { withPredictionId } from '../../shared/errors';
import { ExecutionStoppedError, pause } from '../../shared/pause';
import type { TransportContext } from '../../shared/transport/request';
import type { RetryPolicy } from '../../shared/transport/retry';
import { POLL_SCHEDULE, pollScheduler } from './pollSchedule';

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

/** Whether Replicate ended the prediction at its Cancel-After deadline (the node's timeout). */
function hitDeadline(prediction: Prediction): boolean {
	if (prediction.status !== 'canceled' && prediction.status !== 'aborted') return false;
	const deadline = Date.parse(String(prediction.deadline ?? ''));
	const completed = Date.parse(String(prediction.completed_at ?? ''));
	return Number.isFinite(deadline) && Number.isFinite(completed) && completed >= deadline - 1000;
}

/**
 * A prediction that ended without success fails its item with the model's own error text.
 * Messages say "cancelled": n8n marks a whole execution as stopped by the user when an error
 * message contains "canceled".
 */
export function unsuccessfulPredictionError(
	node: INode,
	prediction: Prediction,
	itemIndex: number,
	timeoutSeconds?: number,
): NodeOperationError {
	const modelError =
		typeof prediction.error === 'string' && prediction.error.trim() !== ''
			? prediction.error.trim()
			: undefined;
	let message: string;
	let description: string | undefined;
	if (hitDeadline(prediction)) {
		message = `Prediction ${prediction.id} did not finish within the timeout${timeoutSeconds ? ` of ${timeoutSeconds} s` : ''}`;
		description = `Replicate stopped it at its Cancel-After deadline (status "${prediction.status}"). Raise the Timeout option for longer runs.`;
	} else if (prediction.status === 'failed') {
		message = `Prediction ${prediction.id} failed: ${modelError ?? 'the model reported no error text'}`;
		if (/E005|NSFW|safety/i.test(modelError ?? '')) {
			description =
				'The safety checker flagged the result: change the prompt, or turn on Disable Safety Checker.';
		}
	} else if (prediction.status === 'aborted') {
		message = `Prediction ${prediction.id} was aborted before it started${modelError ? `: ${modelError}` : ''}`;
	} else {
		message = `Prediction ${prediction.id} was cancelled before it finished${modelError ? `: ${modelError}` : ''}`;
		description = 'Someone cancelled it on Replicate (web, API or another workflow).';
	}
	return withPredictionId(
		new NodeOperationError(node, message, { itemIndex, description }),
		prediction.id,
	);
}
