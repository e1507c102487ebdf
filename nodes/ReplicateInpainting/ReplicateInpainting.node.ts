import type {
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import { description as predictionOperations, subtitle } from './actions/prediction';
import { resumeWebhookMethods, resumeWebhooks } from './actions/prediction/waitMode';
import { resumeFromWebhook } from './actions/prediction/waitMode/resume';
import { router } from './actions/router';
import { searchModels, searchModelVersions, searchPredictions } from './methods/listSearch';
import { getModelInputs } from './methods/resourceMapping';

export class ReplicateInpainting implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Replicate Inpainting',
		name: 'replicateInpainting',
		icon: { light: 'file:../../icons/replicate.svg', dark: 'file:../../icons/replicate.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle,
		description:
			'Inpaint and edit images with Replicate models: Stable Diffusion Inpainting built in, or any image-edit model with a form from its schema',
		documentationUrl:
			'https://github.com/n8n-nodes-replicate-inpainting/n8n-nodes-replicate-inpainting#operations',
		defaults: { name: 'Replicate Inpainting' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		usableAsTool: true,
		credentials: [{ name: 'replicateInpaintingApi', required: true }],
		// Wait Mode: Webhook's resume webhook (Create and Wait).
		webhooks: resumeWebhooks,
		properties: predictionOperations,
	};

	methods = {
		listSearch: { searchPredictions, searchModels, searchModelVersions },
		resourceMapping: { getModelInputs },
	};

	webhookMethods = { default: resumeWebhookMethods };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		// The failure policy of the node: with Continue On Fail a failing item becomes an error item.
		return await router.call(this, this.continueOnFail());
	}

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		return await resumeFromWebhook.call(this);
	}
}
