import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { deleteUploads } from '../../../shared/api/files';
import type { NodeOptions } from '../../../shared/options';
import { optionsCollection } from '../../../shared/options';
import { itemsWithOutputs } from '../../../shared/outputs/items';
import type { CheckedItem } from '../../engine/checkItem';
import { checkCreateItem } from '../../engine/checkItem';
import { createPrediction } from '../../engine/createPrediction';
import type { OperationItem } from '../../engine/executionRun';
import type { ModelLoader } from '../../engine/loadModel';
import { unsuccessfulPredictionError, waitForPrediction } from '../../engine/waitForPrediction';
import { withSecretsHidden } from '../../schema/modelSchema';
import { modelInputsProperty, modelProperty } from './model.description';
import {
	modelInputOptions,
	modelInputProperties,
	modelVersionOption,
} from './modelInput.description';
import { parksExecution, waitModeProperties } from './waitMode';
import { parkExecution } from './waitMode/park';

const properties: INodeProperties[] = [
	modelProperty,
	...modelInputProperties,
	modelInputsProperty,
	...waitModeProperties,
	optionsCollection(
		[
			'timeout',
			'downloadOutputs',
			'outputLayout',
			'binaryPropertyName',
			'extraInput',
			'uploadRoute',
			'maxRetries',
			'maxOutputSizeMb',
			'keepUploadedFiles',
			'maxConcurrent',
		],
		[modelVersionOption, ...modelInputOptions],
	),
];

export const description = updateDisplayOptions(
	{ show: { operation: ['createAndWait'] } },
	properties,
);

export async function validate(
	this: IExecuteFunctions,
	itemIndex: number,
	options: NodeOptions,
	loadModel: ModelLoader,
): Promise<CheckedItem> {
	return await checkCreateItem(this, itemIndex, options, loadModel);
}

/** Wait Mode: Webhook creates every item's prediction, then parks the execution once for all. */
export function wholeRun(this: IExecuteFunctions, asTool: boolean) {
	return parksExecution(this, asTool) ? parkExecution : undefined;
}

/** Wait Mode: Poll, one item. */
export async function execute(
	this: IExecuteFunctions,
	item: OperationItem<CheckedItem>,
): Promise<INodeExecutionData[]> {
	const { itemIndex, run, options, policy } = item;
	const deadline = Date.now() + options.timeout * 1000;
	const { prediction: created, uploads } = await createPrediction({
		...item,
		context: this,
		settings: { preferWait: true },
	});
	try {
		const finished = await waitForPrediction(this, created, {
			deadline,
			onTimeout: 'cancel',
			policy,
			itemIndex,
			timeoutSeconds: options.timeout,
		});
		run.finished(finished.id);
		if (finished.status !== 'succeeded')
			throw unsuccessfulPredictionError(this.getNode(), finished, itemIndex, options.timeout);
		// Downloads end with the item's Timeout too.
		const shown = withSecretsHidden(finished, item.checked.secretFields);
		return await itemsWithOutputs(this, shown, options, { ...policy, deadline }, itemIndex);
	} finally {
		// Every path through here leaves the prediction terminal or being canceled.
		run.finished(created.id);
		if (!options.keepUploadedFiles)
			run.warnings.push(...(await deleteUploads(this, uploads, policy)));
	}
}
