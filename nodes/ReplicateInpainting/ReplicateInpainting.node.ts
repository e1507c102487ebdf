import type {
	IExecuteFunctions,
	IHookFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import { description as predictionOperations, subtitle } from './actions/prediction';
import { router } from './actions/router';
import { resumeFromWebhook } from './helpers/webhookMode/resume';
import { searchModelVersions, searchPredictions } from './methods/listSearch';

export class ReplicateInpainting implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Replicate Inpainting',
		name: 'replicateInpainting',
		icon: { light: 'file:../../icons/replicate.svg', dark: 'file:../../icons/replicate.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle,
		description:
			'Repaint the masked part of an image with Stable Diffusion Inpainting on Replicate',
		documentationUrl:
			'https://github.com/n8n-nodes-replicate-inpainting/n8n-nodes-replicate-inpainting#operations',
		defaults: { name: 'Replicate Inpainting' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		usableAsTool: true,
		credentials: [{ name: 'replicateInpaintingApi', required: true }],
		// Wait Mode: Webhook. Replicate calls the execution's resume URL; n8n's waiting-webhooks
		// endpoint hands the call to `webhook()` (the mechanism of n8n's Wait node).
		webhooks: [
			{
				name: 'default',
				httpMethod: 'POST',
				responseMode: 'onReceived',
				path: '',
				restartWebhook: true,
			},
		],
		properties: predictionOperations,
	};

	methods = { listSearch: { searchPredictions, searchModelVersions } };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		// The failure policy of the node: with Continue On Fail a failing item becomes an error item.
		return await router.call(this, () => this.continueOnFail());
	}

	/**
	 * The resume webhook is a restart webhook: n8n registers none (it serves every waiting
	 * execution under /webhook-waiting/), and Replicate has no webhook registry (each prediction
	 * names its URL when it is created), so there is nothing to set up or tear down.
	 */
	webhookMethods = {
		default: {
			async checkExists(this: IHookFunctions): Promise<boolean> {
				return true;
			},
			async create(this: IHookFunctions): Promise<boolean> {
				return true;
			},
			async delete(this: IHookFunctions): Promise<boolean> {
				return true;
			},
		},
	};

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		return await resumeFromWebhook.call(this);
	}
}
