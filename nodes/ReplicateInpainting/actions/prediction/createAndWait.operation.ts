import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { deleteUploads } from '../../../shared/api/files';
import { optionsCollection, readOptions } from '../../../shared/options';
import { checkCreateItem } from '../../helpers/checkItem';
import { createPrediction } from '../../helpers/create';
import { resultItems, runsAsTool } from '../../helpers/results';
import type { OperationItem } from '../../helpers/run';
import { unsuccessfulPredictionError, waitForPrediction } from '../../helpers/wait';
import { modelInputOptions, modelInputProperties } from './modelInput.description';

const properties: INodeProperties[] = [
	...modelInputProperties,
	{
		displayName: 'Wait Mode',
		name: 'waitMode',
		type: 'options',
		default: 'poll',
		options: [
			{
				name: 'Poll',
				value: 'poll',
				description:
					'The execution stays running and asks Replicate until the predictions have finished',
			},
			{
				name: 'Webhook (Park the Execution)',
				value: 'webhook',
				description:
					"The execution waits in n8n's database, using no slot, until Replicate calls back that every prediction has finished",
			},
		],
		description:
			'How the node waits for the predictions. As an AI Agent tool the node always polls.',
	},
	{
		displayName:
			"Webhook mode needs n8n reachable from the internet at its WEBHOOK_URL: Replicate calls this execution's resume URL. Stopping a waiting execution does not reach Replicate: its predictions run on until they finish or hit the Timeout (sent as Cancel-After), and their calls are then refused. At most 100 items per execution.",
		name: 'webhookNotice',
		type: 'notice',
		default: '',
		displayOptions: { show: { waitMode: ['webhook'] } },
	},
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

export const description = updateDisplayOptions(
	{ show: { operation: ['createAndWait'] } },
	properties,
);

/** Webhook mode, unless the node runs as an AI Agent tool (a model cannot wait for a callback). */
export function parksExecution(context: IExecuteFunctions): boolean {
	return context.getNodeParameter('waitMode', 0, 'poll') === 'webhook' && !runsAsTool(context);
}

export async function validate(this: IExecuteFunctions, itemIndex: number): Promise<void> {
	await checkCreateItem(this, itemIndex, readOptions(this, itemIndex), { preferWait: true });
}

export async function execute(
	this: IExecuteFunctions,
	item: OperationItem,
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
		return await resultItems(this, finished, options, { ...policy, deadline }, itemIndex);
	} finally {
		// Every path through here leaves the prediction terminal or being canceled.
		run.finished(created.id);
		if (!options.keepUploadedFiles)
			run.warnings.push(...(await deleteUploads(this, uploads, policy)));
	}
}
