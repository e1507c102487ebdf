import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { cancelPrediction } from '../../../shared/api/predictions';
import { optionsCollection } from '../../../shared/options';
import { inTableOrder } from '../../../shared/outputs/items';
import type { OperationItem } from '../../engine/executionRun';
import { predictionIdProperty, validatePredictionItem } from './predictionId';

const properties: INodeProperties[] = [predictionIdProperty, optionsCollection(['maxRetries'])];

export const description = updateDisplayOptions({ show: { operation: ['cancel'] } }, properties);

export const validate = validatePredictionItem;

export async function execute(
	this: IExecuteFunctions,
	{ itemIndex, checked: id, policy }: OperationItem<string>,
): Promise<INodeExecutionData[]> {
	const prediction = await cancelPrediction(this, id, policy, itemIndex, 'repeatable');
	return [{ json: inTableOrder(prediction) }];
}
