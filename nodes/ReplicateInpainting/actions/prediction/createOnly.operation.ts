import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import type { ExecutionRun } from '../../helpers/run';
import { createPrediction } from './create';
import { modelInputProperties } from './modelInput.description';
import { optionsCollection, readOptions } from './options';

export const WEBHOOK_EVENTS = ['start', 'output', 'logs', 'completed'] as const;

const properties: INodeProperties[] = [
	...modelInputProperties,
	{
		displayName: 'Webhook URL',
		name: 'webhookUrl',
		type: 'string',
		default: '',
		placeholder: 'https://your-n8n.example.com/webhook/…',
		description:
			'Replicate calls this URL when the prediction changes (for example the Replicate Inpainting Trigger node\'s URL), so no execution has to wait',
	},
	{
		displayName: 'Webhook Events',
		name: 'webhookEvents',
		type: 'multiOptions',
		default: ['completed'],
		options: WEBHOOK_EVENTS.map((event) => ({ name: event[0].toUpperCase() + event.slice(1), value: event })),
		displayOptions: { hide: { webhookUrl: [''] } },
		description: 'Which events are sent to the webhook. Completed fires once, when the prediction has finished.',
	},
	optionsCollection(['timeout', 'extraInput', 'uploadRoute', 'maxRetries', 'maxConcurrent']),
];

export const description = updateDisplayOptions({ show: { operation: ['createOnly'] } }, properties);

export async function execute(
	this: IExecuteFunctions,
	itemIndex: number,
	run: ExecutionRun,
): Promise<INodeExecutionData[]> {
	const options = readOptions(this, itemIndex);
	const policy = { maxRetries: options.maxRetries, signal: run.signal };
	const webhookUrl = String(this.getNodeParameter('webhookUrl', itemIndex, '')).trim();
	const webhookEvents = this.getNodeParameter('webhookEvents', itemIndex, []) as string[];
	const { prediction } = await createPrediction(
		this,
		itemIndex,
		run,
		options,
		{ preferWait: false, webhook: webhookUrl ? { url: webhookUrl, events: webhookEvents } : undefined },
		policy,
	);
	// Not waited for: Replicate stops it at the Cancel-After deadline (the Timeout option) at the latest.
	run.finished(prediction.id);
	return [{ json: prediction }];
}
