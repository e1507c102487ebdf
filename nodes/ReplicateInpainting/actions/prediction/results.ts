import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { downloadPredictionOutputs } from '../../helpers/binary';
import { predictionItems } from '../../helpers/output';
import type { Prediction } from '../../helpers/prediction';
import type { RetryPolicy } from '../../transport';
import type { NodeOptions } from './options';

const MEGABYTE = 1024 * 1024;

/** The items of a prediction as it stands, with its images downloaded when it succeeded and asked to. */
export async function resultItems(
	context: IExecuteFunctions,
	prediction: Prediction,
	options: NodeOptions,
	policy: RetryPolicy,
	itemIndex: number,
): Promise<INodeExecutionData[]> {
	const download = options.downloadOutputs && prediction.status === 'succeeded';
	const binaries = download
		? await downloadPredictionOutputs(context, prediction, {
				policy,
				maxBytes: options.maxOutputSizeMb * MEGABYTE,
				itemIndex,
			})
		: undefined;
	return predictionItems(prediction, binaries, options.outputLayout, options.binaryPropertyName);
}
