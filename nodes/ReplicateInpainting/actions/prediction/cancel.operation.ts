import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { inTableOrder } from '../../helpers/output';
import type { ExecutionRun } from '../../helpers/run';
import { cancelPrediction } from '../../helpers/wait';
import { optionsCollection, readOptions } from './options';
import { predictionIdProperty, readPredictionId, validatePredictionItem } from './predictionId';

const properties: INodeProperties[] = [predictionIdProperty, optionsCollection(['maxRetries'])];

export const description = updateDisplayOptions({ show: { operation: ['cancel'] } }, properties);

export const validate = validatePredictionItem;

export async function execute(
	this: IExecuteFunctions,
	itemIndex: number,
	run: ExecutionRun,
): Promise<INodeExecutionData[]> {
	const options = readOptions(this, itemIndex);
	const id = readPredictionId(this, itemIndex);
	const prediction = await cancelPrediction(
		this,
		id,
		run.policy(options.maxRetries),
		itemIndex,
		'repeatable',
	);
	return [{ json: inTableOrder(prediction) }];
}
