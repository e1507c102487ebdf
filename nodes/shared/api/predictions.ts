/**
 * Replicate's predictions resource: its paths, and what its answers must look like before
 * anything trusts their fields (the same check for API answers and for webhook deliveries).
 */
import type { IDataObject, INode } from 'n8n-workflow';

import { malformedAnswerError } from '../errors';
import type { TransportContext } from '../transport/request';
import { apiRequest } from '../transport/request';
import type { RequestKind, RetryPolicy } from '../transport/retry';
import type { ListPage } from './pages';
import { readPage } from './pages';

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

export const PREDICTIONS_PATH = '/predictions';

/** What is wrong with a would-be prediction, or undefined when it is one the node can act on. */
export function predictionProblem(
	body: unknown,
): { problem: string; description?: string } | undefined {
	if (body === null || typeof body !== 'object' || Array.isArray(body)) {
		return { problem: 'the body is not a prediction object' };
	}
	const candidate = body as IDataObject;
	if (typeof candidate.id !== 'string' || !PREDICTION_ID.test(candidate.id)) {
		return { problem: 'the prediction has no valid "id"' };
	}
	if (typeof candidate.status !== 'string') {
		return { problem: `prediction ${candidate.id} has no "status"` };
	}
	if (!(KNOWN_STATUSES as readonly string[]).includes(candidate.status)) {
		// The known list stays out of the message: n8n records a run whose error message contains
		// "canceled" as stopped by the user, not as failed.
		return {
			problem: `prediction ${candidate.id} has the unknown status "${candidate.status}"`,
			description: `Known statuses: ${KNOWN_STATUSES.join(', ')}.`,
		};
	}
	return undefined;
}

/** Checks that an API answer is a prediction we can act on. */
export function asPrediction(
	node: INode,
	request: { method: string; path: string },
	body: unknown,
	itemIndex?: number,
): Prediction {
	const found = predictionProblem(body);
	if (found) {
		throw malformedAnswerError(node, request, found.problem, itemIndex, found.description);
	}
	return body as Prediction;
}

/**
 * POST /predictions: the one paid request. Its answer is parsed by the caller, who must also make
 * sense of an answer that names no prediction.
 */
export async function postPrediction(
	context: TransportContext,
	create: {
		body: IDataObject;
		headers: Record<string, string>;
		timeoutMs: number;
		itemIndex: number;
	},
	policy: RetryPolicy,
): Promise<IDataObject> {
	return await apiRequest(
		context,
		{ method: 'POST', path: PREDICTIONS_PATH, kind: 'create', ...create },
		policy,
	);
}

export async function getPrediction(
	context: TransportContext,
	id: string,
	policy: RetryPolicy,
	itemIndex?: number,
): Promise<Prediction> {
	const path = `${PREDICTIONS_PATH}/${encodeURIComponent(id)}`;
	const body = await apiRequest(
		context,
		{ method: 'GET', path, kind: 'repeatable', itemIndex },
		policy,
	);
	return asPrediction(context.getNode(), { method: 'GET', path }, body, itemIndex);
}

/**
 * `cleanup` (the default) also goes out after a Stop: the node's own predictions must not run on.
 */
export async function cancelPrediction(
	context: TransportContext,
	id: string,
	policy: RetryPolicy,
	itemIndex?: number,
	kind: 'cleanup' | 'repeatable' = 'cleanup',
): Promise<Prediction> {
	const path = `${PREDICTIONS_PATH}/${encodeURIComponent(id)}/cancel`;
	const body = await apiRequest(context, { method: 'POST', path, kind, itemIndex }, policy);
	return asPrediction(context.getNode(), { method: 'POST', path }, body, itemIndex);
}

/** One page of the account's predictions, newest first (`cursor` from the previous page). */
export async function listPredictions(
	context: TransportContext,
	page: { cursor?: string; kind: RequestKind },
	policy: RetryPolicy,
): Promise<ListPage> {
	const answer = await apiRequest<IDataObject>(
		context,
		{
			method: 'GET',
			path: PREDICTIONS_PATH,
			kind: page.kind,
			qs: page.cursor ? { cursor: page.cursor } : undefined,
		},
		policy,
	);
	return readPage(answer);
}
