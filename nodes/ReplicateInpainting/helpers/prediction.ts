import type { IDataObject, INode } from 'n8n-workflow';

import { NodeOperationError } from 'n8n-workflow';

import { malformedAnswerError, withPredictionId } from './errors';

export const TERMINAL_STATUSES = ['succeeded', 'failed', 'canceled', 'aborted'] as const;
export const KNOWN_STATUSES = ['starting', 'processing', ...TERMINAL_STATUSES] as const;
export type PredictionStatus = (typeof KNOWN_STATUSES)[number];

export interface Prediction extends IDataObject {
	id: string;
	status: PredictionStatus;
	data_removed?: boolean;
}

export function isTerminal(status: PredictionStatus): boolean {
	return (TERMINAL_STATUSES as readonly string[]).includes(status);
}

/** A prediction ID as Replicate issues them; also keeps odd text out of the request path. */
export const PREDICTION_ID = /^[a-z0-9]{1,64}$/i;

/** Checks that an answer is a prediction we can act on, before anything trusts its fields. */
export function asPrediction(
	node: INode,
	request: { method: string; path: string },
	body: unknown,
	itemIndex?: number,
): Prediction {
	const candidate = body as IDataObject;
	if (typeof candidate?.id !== 'string' || !PREDICTION_ID.test(candidate.id)) {
		throw malformedAnswerError(node, request, 'the prediction has no valid "id"', itemIndex);
	}
	if (typeof candidate.status !== 'string') {
		throw malformedAnswerError(
			node,
			request,
			`prediction ${candidate.id} has no "status"`,
			itemIndex,
		);
	}
	if (!(KNOWN_STATUSES as readonly string[]).includes(candidate.status)) {
		// The known list stays out of the message: n8n records a run whose error message contains
		// "canceled" as stopped by the user, not as failed.
		throw malformedAnswerError(
			node,
			request,
			`prediction ${candidate.id} has the unknown status "${candidate.status}"`,
			itemIndex,
			`Known statuses: ${KNOWN_STATUSES.join(', ')}.`,
		);
	}
	return candidate as Prediction;
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
