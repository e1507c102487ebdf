import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

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

/** The items of a prediction as it stands, with its images downloaded when it succeeded and asked to. */
export async function resultItems(
	context: IExecuteFunctions,
	prediction: Prediction,
	options: NodeOptions,
	policy: RetryPolicy,
	itemIndex: number,
): Promise<INodeExecutionData[]> {
	const download = options.downloadOutputs && prediction.status === 'succeeded' && !runsAsTool(context);
	const binaries = download
		? await downloadPredictionOutputs(context, prediction, {
				policy,
				maxBytes: options.maxOutputSizeMb * MEGABYTE,
				itemIndex,
			})
		: undefined;
	return predictionItems(prediction, binaries, options.outputLayout, options.binaryPropertyName);
}
