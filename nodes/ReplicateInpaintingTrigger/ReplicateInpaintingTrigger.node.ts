import type {
	IDataObject,
	IHookFunctions,
	INodeExecutionData,
	INodeProperties,
	INodeType,
	INodeTypeDescription,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import { optionsCollection, resolveOptions } from '../ReplicateInpainting/actions/prediction/options';
import { itemsWithOutputs } from '../ReplicateInpainting/actions/prediction/results';
import type { Prediction } from '../ReplicateInpainting/helpers/prediction';
import { isTerminal } from '../ReplicateInpainting/helpers/prediction';
import { webhookSigningKey } from '../shared/signingKey';
import { isRejection, refuse, verifyDelivery } from '../shared/verifyDelivery';

const TRIGGER = 'Replicate Inpainting Trigger';

type DeliveryEvent = 'start' | 'output' | 'logs' | 'completed';

const optionsProperty = optionsCollection([
	'downloadOutputs',
	'outputLayout',
	'binaryPropertyName',
	'maxOutputSizeMb',
	'maxRetries',
]);

const properties: INodeProperties[] = [
	{
		displayName:
			'Paste this node\'s URL (Webhook URLs above: the Production URL once the workflow is active, the Test URL while you listen for a test event) into the Webhook URL of a Replicate Inpainting node set to Create Only',
		name: 'setupNotice',
		type: 'notice',
		default: '',
	},
	{
		displayName: 'Events',
		name: 'events',
		type: 'multiOptions',
		default: ['completed'],
		options: [
			{ name: 'Completed', value: 'completed', description: 'The prediction has finished (any final status)' },
			{ name: 'Logs', value: 'logs', description: 'A running prediction has new logs' },
			{ name: 'Output', value: 'output', description: 'A running prediction has new output' },
			{ name: 'Start', value: 'start', description: 'The prediction has started' },
		],
		description:
			'Which deliveries start the workflow; the others are acknowledged and dropped. Replicate does not name the event in a delivery, so the trigger goes by the prediction\'s status: starting is Start, processing is Output or Logs, a final status is Completed.',
	},
	{
		displayName: 'Final Statuses',
		name: 'statuses',
		type: 'options',
		default: 'succeeded',
		options: [
			{ name: 'Succeeded Only', value: 'succeeded', description: 'Only predictions that produced images' },
			{
				name: 'All',
				value: 'all',
				description: 'Succeeded, failed, canceled and aborted predictions (for example to report failures)',
			},
		],
		description: 'Which finished predictions start the workflow (applies to Completed deliveries)',
	},
	optionsProperty,
];

/** Which of the node's Events a delivery counts as, from the prediction it carries. */
function eventsOf(prediction: Prediction): DeliveryEvent[] {
	if (isTerminal(prediction.status)) return ['completed'];
	if (prediction.status === 'starting') return ['start'];
	return ['output', 'logs'];
}

function filterReason(context: IWebhookFunctions, prediction: Prediction): string | undefined {
	const wanted = context.getNodeParameter('events', ['completed']) as string[];
	const events = eventsOf(prediction);
	if (!events.some((event) => wanted.includes(event))) {
		return `status "${prediction.status}" counts as ${events.join('/')}, not among the node's Events (${wanted.join(', ') || 'none'})`;
	}
	const statuses = context.getNodeParameter('statuses', 'succeeded') as string;
	if (isTerminal(prediction.status) && statuses === 'succeeded' && prediction.status !== 'succeeded') {
		return `status "${prediction.status}": the node only starts on succeeded predictions`;
	}
	return undefined;
}

export class ReplicateInpaintingTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Replicate Inpainting Trigger',
		name: 'replicateInpaintingTrigger',
		icon: { light: 'file:../../icons/replicate.svg', dark: 'file:../../icons/replicate.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle: '={{$parameter["events"].join(", ")}}',
		description: 'Starts the workflow when Replicate reports on a prediction made with Create Only and a webhook',
		documentationUrl:
			'https://github.com/n8n-nodes-replicate-inpainting/n8n-nodes-replicate-inpainting#replicate-inpainting-trigger',
		defaults: { name: 'Replicate Inpainting Trigger' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		// A trigger is no tool: an agent cannot wait for a webhook.
		usableAsTool: undefined,
		credentials: [{ name: 'replicateInpaintingApi', required: true }],
		webhooks: [
			{
				name: 'default',
				httpMethod: 'POST',
				responseMode: 'onReceived',
				path: 'replicate-inpainting',
			},
		],
		properties,
	};

	/**
	 * Replicate has no webhook registry: each prediction names its webhook URL when it is created.
	 * What activation can do is make sure deliveries will be verifiable, so `create` gets the signing
	 * key (from the credential, or fetched and cached) and a broken credential fails the activation
	 * instead of every delivery. `checkExists` is false so that this check runs on each activation.
	 */
	webhookMethods = {
		default: {
			async checkExists(this: IHookFunctions): Promise<boolean> {
				return false;
			},
			async create(this: IHookFunctions): Promise<boolean> {
				const { maxRetries } = resolveOptions(this.getNode(), this.getNodeParameter('options', {}) as IDataObject);
				await webhookSigningKey(this, maxRetries);
				return true;
			},
			async delete(this: IHookFunctions): Promise<boolean> {
				return true;
			},
		},
	};

	/**
	 * Verifies a delivery before anything else (shared `verifyDelivery`: signature headers, timestamp
	 * within 5 minutes, HMAC over the raw body, then a webhook-id not seen before). What fails is
	 * answered 401 (400 for a verified body that is no prediction, 503 while the signing secret
	 * cannot be fetched, so Replicate retries later) and starts nothing. Deliveries outside the node's filters
	 * are answered 200 and start nothing, so Replicate does not retry them.
	 */
	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		const verified = await verifyDelivery(this, `trigger/${this.getWorkflow().id ?? ''}/${this.getNode().id}`);
		if (isRejection(verified)) return refuse(this, verified, TRIGGER);
		const options = resolveOptions(this.getNode(), this.getNodeParameter('options', {}) as IDataObject);
		const { prediction } = verified;

		const filtered = filterReason(this, prediction);
		if (filtered) {
			return { webhookResponse: { received: true, started: false, reason: filtered } };
		}

		let items: INodeExecutionData[] | undefined;
		let failure: unknown;
		try {
			items = await itemsWithOutputs(this, prediction, options, { maxRetries: options.maxRetries }, 0);
		} catch (error) {
			failure = error;
		}
		if (!items) {
			// n8n answers 500 and Replicate retries the delivery: the retry must not count as a replay.
			verified.release();
			throw failure;
		}
		return { workflowData: [items] };
	}
}
