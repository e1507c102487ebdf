import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { getPrediction } from '../../../shared/api/predictions';
import { optionsCollection } from '../../../shared/options';
import { itemsWithOutputs } from '../../../shared/outputs/items';
import type { OperationItem } from '../../engine/executionRun';
import { waitForPrediction, withinWait } from '../../engine/waitForPrediction';
import { predictionIdProperty, validatePredictionItem } from './predictionId';

const properties: INodeProperties[] = [
	predictionIdProperty,
	{
		displayName: 'Wait for Completion',
		name: 'waitForCompletion',
		type: 'boolean',
		default: false,
		description: 'Whether to wait until the prediction has finished before returning it',
	},
	optionsCollection(
		[
			'timeout',
			'downloadOutputs',
			'outputLayout',
			'binaryPropertyName',
			'maxRetries',
			'maxOutputSizeMb',
		],
		[],
		// Without waiting there is nothing to time out.
		{ timeout: { displayOptions: { show: { '/waitForCompletion': [true] } } } },
	),
];

export const description = updateDisplayOptions({ show: { operation: ['get'] } }, properties);

export const validate = validatePredictionItem;

/** A lookup: a failed prediction is returned as data, not as an error. */
export async function execute(
	this: IExecuteFunctions,
	{ itemIndex, checked: id, options, policy }: OperationItem<string>,
): Promise<INodeExecutionData[]> {
	const waitForCompletion = this.getNodeParameter('waitForCompletion', itemIndex, false) as boolean;
	const deadline = Date.now() + options.timeout * 1000;
	// When waiting, the first look is part of the wait and ends with it too.
	let prediction = await getPrediction(
		this,
		id,
		waitForCompletion ? withinWait(policy, deadline) : policy,
		itemIndex,
	);
	if (waitForCompletion) {
		prediction = await waitForPrediction(this, prediction, {
			deadline,
			onTimeout: 'fail',
			policy,
			itemIndex,
			timeoutSeconds: options.timeout,
		});
	}
	return await itemsWithOutputs(this, prediction, options, { ...policy, deadline }, itemIndex);
}
