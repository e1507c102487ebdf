import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import type { DownloadContext } from '../../helpers/binary';
import { downloadPredictionOutputs } from '../../helpers/binary';
import { predictionItems } from '../../helpers/output';
import type { Prediction } from '../../helpers/prediction';
import type { RetryPolicy } from '../../transport';
import type { NodeOptions } from './options';

const MEGABYTE = 1024 * 1024;

/**
 * Whether n8n runs the node as an AI Agent tool (the "…Tool" node type n8n derives from a
 * `usableAsTool` node; `isToolExecution` only exists from n8n 2.x). A model cannot receive binary
 * data, n8n drops it from the tool's answer, so the tool answers with the output URLs instead.
 */
export function runsAsTool(context: IExecuteFunctions): boolean {
	const isToolExecution = (context as { isToolExecution?: () => boolean }).isToolExecution;
	if (typeof isToolExecution === 'function' && isToolExecution.call(context)) return true;
	return context.getNode().type.endsWith('Tool');
}

/**
 * The items of a prediction as it stands, with its images downloaded when it succeeded and
 * `download` says so. Serves the node's operations and the trigger.
 */
export async function itemsWithOutputs(
	context: DownloadContext,
	prediction: Prediction,
	options: NodeOptions,
	policy: RetryPolicy,
	itemIndex: number,
	download = options.downloadOutputs,
): Promise<INodeExecutionData[]> {
	const binaries =
		download && prediction.status === 'succeeded'
			? await downloadPredictionOutputs(context, prediction, {
					policy,
					maxBytes: options.maxOutputSizeMb * MEGABYTE,
					itemIndex,
				})
			: undefined;
	return predictionItems(prediction, binaries, options.outputLayout, options.binaryPropertyName);
}

/** The node's result items; as an AI tool without downloads (the model gets the URLs). */
export async function resultItems(
	context: IExecuteFunctions,
	prediction: Prediction,
	options: NodeOptions,
	policy: RetryPolicy,
	itemIndex: number,
): Promise<INodeExecutionData[]> {
	return await itemsWithOutputs(
		context,
		prediction,
		options,
		policy,
		itemIndex,
		options.downloadOutputs && !runsAsTool(context),
	);
}
