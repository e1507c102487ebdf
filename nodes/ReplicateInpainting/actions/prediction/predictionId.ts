import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { PREDICTION_ID } from '../../helpers/prediction';
import { readOptions } from './options';

export const predictionIdProperty: INodeProperties = {
	displayName: 'Prediction ID',
	name: 'predictionId',
	type: 'string',
	default: '',
	required: true,
	placeholder: 'e.g. w44zs9cet5rmc0cqzp49gpkhf8',
	description: 'The ID of the prediction, as returned by Create Only',
};

export function readPredictionId(context: IExecuteFunctions, itemIndex: number): string {
	const id = String(context.getNodeParameter('predictionId', itemIndex, '')).trim();
	if (!PREDICTION_ID.test(id)) {
		throw new NodeOperationError(
			context.getNode(),
			`Invalid Prediction ID (item ${itemIndex}): ${JSON.stringify(id)} must be letters and digits only, as Replicate issues them`,
			{ itemIndex },
		);
	}
	return id;
}

/** What Get and Cancel check of an item before any request: its options and the ID. */
export async function validatePredictionItem(this: IExecuteFunctions, itemIndex: number): Promise<void> {
	readOptions(this, itemIndex);
	readPredictionId(this, itemIndex);
}
