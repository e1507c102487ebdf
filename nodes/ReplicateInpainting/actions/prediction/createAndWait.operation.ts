import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { deleteUploads } from '../../helpers/binary';
import { unsuccessfulPredictionError } from '../../helpers/prediction';
import type { ExecutionRun } from '../../helpers/run';
import { waitForPrediction } from '../../helpers/wait';
import { checkCreateItem, createPrediction } from './create';
import { modelInputOptions, modelInputProperties } from './modelInput.description';
import { optionsCollection, readOptions } from './options';
import { resultItems } from './results';

const properties: INodeProperties[] = [
	...modelInputProperties,
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
		modelInputOptions,
	),
];

export const description = updateDisplayOptions({ show: { operation: ['createAndWait'] } }, properties);

export async function validate(this: IExecuteFunctions, itemIndex: number): Promise<void> {
	await checkCreateItem(this, itemIndex, readOptions(this, itemIndex), { preferWait: true });
}

export async function execute(
	this: IExecuteFunctions,
	itemIndex: number,
	run: ExecutionRun,
): Promise<INodeExecutionData[]> {
	const options = readOptions(this, itemIndex);
	const policy = run.policy(options.maxRetries);
	const deadline = Date.now() + options.timeout * 1000;
	const { prediction: created, uploads } = await createPrediction(
		this,
		itemIndex,
		run,
		options,
		{ preferWait: true },
		policy,
	);
	try {
		const finished = await waitForPrediction(this, created, {
			deadline,
			onTimeout: 'cancel',
			policy,
			itemIndex,
			timeoutSeconds: options.timeout,
		});
		run.finished(finished.id);
		if (finished.status !== 'succeeded') throw unsuccessfulPredictionError(this.getNode(), finished, itemIndex, options.timeout);
		// Downloads end with the item's Timeout too.
		return await resultItems(this, finished, options, { ...policy, deadline }, itemIndex);
	} finally {
		// Every path through here leaves the prediction terminal or being canceled.
		run.finished(created.id);
		if (!options.keepUploadedFiles) run.warnings.push(...(await deleteUploads(this, uploads, policy)));
	}
}
