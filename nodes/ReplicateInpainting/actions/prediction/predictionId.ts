import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { PREDICTION_ID } from '../../../shared/api/predictions';

/** replicate.com/p/<id> (the web page) or an API URL …/predictions/<id>[/cancel]. */
const PREDICTION_URL =
	'^https?://[^\\s/]+(?:/[^\\s]*)?/(?:p|predictions)/([a-zA-Z0-9]+)(?:[/?#][^\\s]*)?$';
const ID_PATTERN = '^[a-zA-Z0-9]+$';

export const predictionIdProperty: INodeProperties = {
	displayName: 'Prediction',
	name: 'predictionId',
	type: 'resourceLocator',
	default: { mode: 'list', value: '' },
	required: true,
	description: 'The prediction, e.g. one started by Create Only',
	modes: [
		{
			displayName: 'From List',
			name: 'list',
			type: 'list',
			placeholder: 'Select a recent prediction…',
			typeOptions: { searchListMethod: 'searchPredictions', searchable: true },
		},
		{
			displayName: 'By URL',
			name: 'url',
			type: 'string',
			placeholder: 'e.g. https://replicate.com/p/w44zs9cet5rmc0cqzp49gpkhf8',
			validation: [
				{
					type: 'regex',
					properties: {
						regex: PREDICTION_URL,
						errorMessage: 'Not a prediction URL (replicate.com/p/<id> or …/predictions/<id>)',
					},
				},
			],
			extractValue: { type: 'regex', regex: PREDICTION_URL },
		},
		{
			displayName: 'By ID',
			name: 'id',
			type: 'string',
			placeholder: 'e.g. w44zs9cet5rmc0cqzp49gpkhf8',
			validation: [
				{
					type: 'regex',
					properties: {
						regex: ID_PATTERN,
						errorMessage: 'A prediction ID is letters and digits only',
					},
				},
			],
		},
	],
};

export function readPredictionId(context: IExecuteFunctions, itemIndex: number): string {
	// A plain string too: an expression, or a workflow saved before this field was a picker.
	const id = String(
		context.getNodeParameter('predictionId', itemIndex, '', { extractValue: true }) ?? '',
	).trim();
	if (!PREDICTION_ID.test(id)) {
		throw new NodeOperationError(
			context.getNode(),
			`Invalid Prediction ID (item ${itemIndex}): ${JSON.stringify(id)} must be letters and digits only, as Replicate issues them`,
			{ itemIndex },
		);
	}
	return id;
}

/** What Get and Cancel check of an item before any request (beside its options): the ID. */
export async function validatePredictionItem(
	this: IExecuteFunctions,
	itemIndex: number,
): Promise<string> {
	return readPredictionId(this, itemIndex);
}
