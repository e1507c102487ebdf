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
		throw malformedAnswerError(node, request, `prediction ${candidate.id} has no "status"`, itemIndex);
	}
	if (!(KNOWN_STATUSES as readonly string[]).includes(candidate.status)) {
		throw malformedAnswerError(
			node,
			request,
			`prediction ${candidate.id} has the unknown status "${candidate.status}" (known: ${KNOWN_STATUSES.join(', ')})`,
			itemIndex,
		);
	}
	return candidate as Prediction;
}

/** A prediction that ended without success fails its item with the model's own error text. */
export function unsuccessfulPredictionError(node: INode, prediction: Prediction, itemIndex: number): NodeOperationError {
	const modelError = typeof prediction.error === 'string' && prediction.error.trim() !== '' ? prediction.error.trim() : undefined;
	const reason: Record<string, string> = {
		failed: modelError ?? 'the model reported no error text',
		canceled: modelError ?? 'it was canceled (by a user, or at its Cancel-After deadline while running)',
		aborted: modelError ?? 'it hit its Cancel-After deadline before it started',
	};
	const safety = /E005|NSFW|safety/i.test(modelError ?? '')
		? 'The safety checker flagged the result: change the prompt, or turn on Disable Safety Checker.'
		: undefined;
	const error = new NodeOperationError(node, `Prediction ${prediction.id} ${prediction.status}: ${reason[prediction.status] ?? prediction.status}`, {
		itemIndex,
		description: safety,
	});
	return withPredictionId(error, prediction.id);
}
