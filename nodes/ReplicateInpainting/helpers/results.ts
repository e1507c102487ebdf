/**
 * The node's result items: the shared output items, without downloads when it runs as an AI tool.
 */
import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import type { Prediction } from '../../shared/api/predictions';
import type { NodeOptions } from '../../shared/options';
import { itemsWithOutputs } from '../../shared/outputs/items';
import type { RetryPolicy } from '../../shared/transport/retry';

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
