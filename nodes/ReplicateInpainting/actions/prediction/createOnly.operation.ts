import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { deleteUploads } from '../../../shared/api/files';
import { isTerminal } from '../../../shared/api/predictions';
import { WEBHOOK_EVENTS } from '../../../shared/api/webhooks';
import { optionsCollection, readOptions } from '../../../shared/options';
import { inTableOrder } from '../../../shared/outputs/items';
import type { CreateSettings } from '../../helpers/checkItem';
import { checkCreateItem } from '../../helpers/checkItem';
import { createPrediction } from '../../helpers/create';
import type { OperationItem } from '../../helpers/run';
import { modelInputOptions, modelInputProperties } from './modelInput.description';

const properties: INodeProperties[] = [
	...modelInputProperties,
	{
		displayName: 'Webhook URL',
		name: 'webhookUrl',
		type: 'string',
		default: '',
		placeholder: 'e.g. https://your-n8n.example.com/webhook/…/replicate-inpainting',
		hint: 'Paste the Production URL of a Replicate Inpainting Trigger (in a published workflow). Empty: no webhook.',
		description:
			"Replicate calls this URL when the prediction changes (for example the Replicate Inpainting Trigger node's URL), so no execution has to wait",
	},
	{
		displayName: 'Webhook Events',
		name: 'webhookEvents',
		type: 'multiOptions',
		default: ['completed'],
		options: Object.entries(WEBHOOK_EVENTS).map(([value, name]) => ({ name, value })),
		displayOptions: { hide: { webhookUrl: [''] } },
		description:
			'Which events are sent to the webhook. Completed fires once, when the prediction has finished.',
	},
	optionsCollection(
		['timeout', 'extraInput', 'uploadRoute', 'maxRetries', 'maxConcurrent'],
		modelInputOptions,
	),
];

export const description = updateDisplayOptions(
	{ show: { operation: ['createOnly'] } },
	properties,
);

function createSettings(context: IExecuteFunctions, itemIndex: number): CreateSettings {
	const webhookUrl = String(context.getNodeParameter('webhookUrl', itemIndex, '')).trim();
	const webhookEvents = context.getNodeParameter('webhookEvents', itemIndex, []) as string[];
	return {
		preferWait: false,
		webhook: webhookUrl ? { url: webhookUrl, events: webhookEvents } : undefined,
	};
}

export async function validate(this: IExecuteFunctions, itemIndex: number): Promise<void> {
	await checkCreateItem(
		this,
		itemIndex,
		readOptions(this, itemIndex),
		createSettings(this, itemIndex),
	);
}

export async function execute(
	this: IExecuteFunctions,
	item: OperationItem,
): Promise<INodeExecutionData[]> {
	const { itemIndex, run, policy } = item;
	const { prediction, uploads } = await createPrediction({
		...item,
		context: this,
		settings: createSettings(this, itemIndex),
	});
	// Not waited for: Replicate stops it at the Cancel-After deadline (the Timeout option) at the
	// latest.
	run.finished(prediction.id);
	// Its uploaded inputs can only go once it has finished; Create Only sees that only when the
	// create answered with a finished prediction. Otherwise Replicate deletes them after 24 h
	// (README: Binary Upload → Always Data URI uploads nothing).
	if (isTerminal(prediction.status))
		run.warnings.push(...(await deleteUploads(this, uploads, policy)));
	return [{ json: inTableOrder(prediction) }];
}
