import type {
	IHookFunctions,
	INodeExecutionData,
	INodeProperties,
	INodeType,
	INodeTypeDescription,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import type { Prediction } from '../shared/api/predictions';
import { isTerminal } from '../shared/api/predictions';
import type { WebhookEvent } from '../shared/api/webhooks';
import { WEBHOOK_EVENTS } from '../shared/api/webhooks';
import { optionsCollection, readOptions } from '../shared/options';
import { itemsWithOutputs } from '../shared/outputs/items';
import { webhookSigningKey } from '../shared/webhooks/signingKey';
import { isRejection, refuse, verifyDelivery } from '../shared/webhooks/verifyDelivery';

const TRIGGER = 'Replicate Inpainting Trigger';

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
			'Open Webhook URLs above and paste the Production URL into the Webhook URL of a Replicate Inpainting node set to Create Only. It receives deliveries once this workflow is published (activated, in n8n 1.x).',
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
			{
				name: WEBHOOK_EVENTS.completed,
				value: 'completed',
				description: 'The prediction has finished (any final status)',
			},
			{
				name: WEBHOOK_EVENTS.logs,
				value: 'logs',
				description: 'A running prediction has new logs',
			},
			{
				name: WEBHOOK_EVENTS.output,
				value: 'output',
				description: 'A running prediction has new output',
			},
			{ name: WEBHOOK_EVENTS.start, value: 'start', description: 'The prediction has started' },
		],
		description:
			"Which deliveries start the workflow; the others are acknowledged and dropped. Replicate does not name the event in a delivery, so the trigger goes by the prediction's status: starting is Start, processing is Output or Logs, a final status is Completed.",
	},
	{
		displayName: 'Final Statuses',
		name: 'statuses',
		type: 'options',
		default: 'succeeded',
		options: [
			{
				name: 'Succeeded Only',
				value: 'succeeded',
				description: 'Only predictions that produced images',
			},
			{
				name: 'All',
				value: 'all',
				description:
					'Succeeded, failed, canceled and aborted predictions (for example to report failures)',
			},
		],
		description: 'Which finished predictions start the workflow (applies to Completed deliveries)',
	},
	optionsProperty,
];

/** Which of the node's Events a delivery counts as, from the prediction it carries. */
function eventsOf(prediction: Prediction): WebhookEvent[] {
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
	if (
		isTerminal(prediction.status) &&
		statuses === 'succeeded' &&
		prediction.status !== 'succeeded'
	) {
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
		subtitle: `={{ "On " + $parameter["events"].map(event => (${JSON.stringify(WEBHOOK_EVENTS)})[event] ?? event).join(", ") }}`,
		// n8n's nodes panel merges a node and its trigger into one entry and shows the trigger's
		// description for it, so this one speaks for both.
		description:
			'Inpaint images with Stable Diffusion on Replicate, and start workflows when a prediction has finished',
		documentationUrl:
			'https://github.com/n8n-nodes-replicate-inpainting/n8n-nodes-replicate-inpainting#replicate-inpainting-trigger',
		defaults: { name: 'Replicate Inpainting Trigger' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		// A trigger is no tool: an agent cannot wait for a webhook.
		usableAsTool: undefined,
		credentials: [{ name: 'replicateInpaintingApi', required: true }],
		triggerPanel: {
			header: 'Replicate calls this node when a prediction made with Create Only has finished',
			executionsHelp: {
				inactive:
					"Test URL: click Listen for test event, then run a Replicate Inpainting node (Create Only) with this node's Test URL as its Webhook URL; the execution shows up here.<br /><br />Production URL: publish the workflow and put the Production URL into Create Only's Webhook URL; those executions show up in the executions list.",
				active:
					"This workflow is published: predictions created with this node's Production URL as Webhook URL start it, and show up in the executions list. The Test URL works while you listen for a test event.",
			},
			activationHint:
				'Publish the workflow to receive deliveries on the Production URL, then use that URL as Webhook URL in Create Only.',
		},
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
				const { maxRetries } = readOptions(this);
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
	 * cannot be fetched, so Replicate retries later) and starts nothing. Deliveries outside the
	 * node's filters are answered 200 and start nothing, so Replicate does not retry them.
	 */
	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		const verified = await verifyDelivery(
			this,
			`trigger/${this.getWorkflow().id ?? ''}/${this.getNode().id}`,
		);
		if (isRejection(verified)) return refuse(this, verified, TRIGGER);
		const options = readOptions(this);
		const { prediction } = verified;

		const filtered = filterReason(this, prediction);
		if (filtered) {
			return { webhookResponse: { received: true, started: false, reason: filtered } };
		}

		let items: INodeExecutionData[] | undefined;
		let failure: unknown;
		try {
			items = await itemsWithOutputs(
				this,
				prediction,
				options,
				{ maxRetries: options.maxRetries },
				0,
			);
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
