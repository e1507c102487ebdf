import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { deleteUploads } from '../../../shared/api/files';
import { isTerminal } from '../../../shared/api/predictions';
import { WEBHOOK_EVENTS } from '../../../shared/api/webhooks';
import type { NodeOptions } from '../../../shared/options';
import { optionsCollection } from '../../../shared/options';
import { inTableOrder } from '../../../shared/outputs/items';
import type { CheckedItem, WebhookSettings } from '../../engine/checkItem';
import { checkCreateItem } from '../../engine/checkItem';
import { createPrediction } from '../../engine/createPrediction';
import type { OperationItem } from '../../engine/executionRun';
import type { ModelLoader } from '../../engine/loadModel';
import { withSecretsHidden } from '../../schema/modelSchema';
import { modelInputsProperty, modelProperty } from './model.description';
import {
	modelInputOptions,
	modelInputProperties,
	modelVersionOption,
} from './modelInput.description';

const properties: INodeProperties[] = [
	modelProperty,
	...modelInputProperties,
	modelInputsProperty,
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
		[modelVersionOption, ...modelInputOptions],
	),
];

export const description = updateDisplayOptions(
	{ show: { operation: ['createOnly'] } },
	properties,
);

/** An item as checked: its input, and its webhook when one is set. */
interface CheckedCreate extends CheckedItem {
	webhook?: WebhookSettings;
}

export async function validate(
	this: IExecuteFunctions,
	itemIndex: number,
	options: NodeOptions,
	loadModel: ModelLoader,
): Promise<CheckedCreate> {
	const webhookUrl = String(this.getNodeParameter('webhookUrl', itemIndex, '')).trim();
	const webhookEvents = this.getNodeParameter('webhookEvents', itemIndex, []) as string[];
	const webhook = webhookUrl ? { url: webhookUrl, events: webhookEvents } : undefined;
	return { ...(await checkCreateItem(this, itemIndex, options, loadModel, webhook)), webhook };
}

export async function execute(
	this: IExecuteFunctions,
	item: OperationItem<CheckedCreate>,
): Promise<INodeExecutionData[]> {
	const { run, policy } = item;
	const { prediction, uploads } = await createPrediction({
		...item,
		context: this,
		settings: { preferWait: false, webhook: item.checked.webhook },
	});
	// Not waited for: Replicate stops it at the Cancel-After deadline (the Timeout option) at the
	// latest.
	run.finished(prediction.id);
	// Its uploaded inputs can only go once it has finished; Create Only sees that only when the
	// create answered with a finished prediction. Otherwise Replicate deletes them after 24 h
	// (README: Binary Upload → Always Data URI uploads nothing).
	if (isTerminal(prediction.status))
		run.warnings.push(...(await deleteUploads(this, uploads, policy)));
	return [{ json: inTableOrder(withSecretsHidden(prediction, item.checked.secretFields)) }];
}
