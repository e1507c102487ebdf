/**
 * What can go wrong with a succeeded prediction's output files, said per output and prediction,
 * with the prediction ID attached (the prediction itself succeeded and can be fetched again).
 */
import type { INode } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import type { Prediction } from '../api/predictions';
import { withPredictionId } from '../errors';
import { IMAGE_FORMATS } from '../imageType';
import { networkErrorCode } from '../transport/network';

/** The output being fetched: which prediction's, for which input item. */
export interface OutputRef {
	node: INode;
	prediction: Prediction;
	itemIndex: number;
}

export function expiredError({ node, prediction, itemIndex }: OutputRef, detail: string) {
	const error = new NodeOperationError(
		node,
		`The outputs of prediction ${prediction.id} are no longer available (${detail})`,
		{
			itemIndex,
			description:
				'Replicate deletes the inputs and outputs of API predictions about an hour after they finish. Download them right away (the Download Outputs option), or run the prediction again.',
		},
	);
	return withPredictionId(error, prediction.id);
}

export function noOutputError({ node, prediction, itemIndex }: OutputRef) {
	const message = `Prediction ${prediction.id} succeeded but returned no output files`;
	return withPredictionId(
		new NodeApiError(node, { message }, { message, itemIndex }),
		prediction.id,
	);
}

export function outputError(
	{ node, prediction, itemIndex }: OutputRef,
	index: number,
	problem: string,
	description?: string,
) {
	const error = new NodeOperationError(
		node,
		`Output ${index} of prediction ${prediction.id} ${problem}`,
		{ itemIndex, description },
	);
	return withPredictionId(error, prediction.id);
}

export function tooLarge(ref: OutputRef, index: number, bytes: string, max: number) {
	return outputError(
		ref,
		index,
		`is larger than the Max Output Size (${bytes} > ${max} bytes)`,
		'Raise the Max Output Size option, or turn off Download Outputs to get the URLs only.',
	);
}

/**
 * An output whose bytes are no image (an error page, JSON from a redirect target): never stored.
 */
export function notAnImage(ref: OutputRef, index: number, declared: string | undefined) {
	return outputError(
		ref,
		index,
		`is not an image (${declared ?? 'no declared type'}, and its bytes are no ${IMAGE_FORMATS} file)`,
		'The output URL (or where it redirected to) answered something else than the image, for example an error page. Nothing was saved. Check the prediction on Replicate, or turn off Download Outputs to get the URLs only.',
	);
}

const NETWORK_WORDS: Record<string, string> = {
	ECONNRESET: 'connection reset',
	EPIPE: 'connection reset',
	ECONNREFUSED: 'connection refused',
	ETIMEDOUT: 'timed out',
	ESOCKETTIMEDOUT: 'timed out',
	ECONNABORTED: 'timed out',
	ERR_STREAM_PREMATURE_CLOSE: 'connection closed before the end of the file',
	ENOTFOUND: 'host not found',
	EAI_AGAIN: 'host not found',
	EHOSTUNREACH: 'host unreachable',
	ENETUNREACH: 'network unreachable',
};

/** A download that failed on the network (after its retries). */
export function downloadFailed(
	{ node, prediction, itemIndex }: OutputRef,
	index: number,
	failure: unknown,
) {
	const code = networkErrorCode(failure);
	const text = failure instanceof Error ? failure.message : String(failure);
	const words =
		(code && NETWORK_WORDS[code]) ??
		(/aborted/i.test(text) ? 'connection aborted' : 'network error');
	const message = `Downloading output ${index} of prediction ${prediction.id} failed: ${words}`;
	const error = new NodeApiError(
		node,
		{ message },
		{
			message,
			itemIndex,
			description: `${code ? `${code}: ` : ''}${text}\nThe prediction itself succeeded: Get with its ID downloads the outputs again (for about an hour).`,
		},
	);
	error.message = message;
	return withPredictionId(error, prediction.id);
}

/** The output URL answered an error status (after retries). */
export function downloadStatusError(
	{ node, prediction, itemIndex }: OutputRef,
	index: number,
	statusCode: number,
) {
	const message = `Downloading output ${index} of prediction ${prediction.id} failed with HTTP ${statusCode}`;
	return withPredictionId(
		new NodeApiError(node, { message }, { message, itemIndex, httpCode: String(statusCode) }),
		prediction.id,
	);
}
