/**
 * Wait Mode, in one place: Create and Wait's field, whether a run parks, and the node's resume
 * webhook. Poll keeps the execution running while the node polls; Webhook parks it (park.ts) until
 * Replicate's calls resume it (resume.ts). Design: docs/ARCHITECTURE.md, Wait Mode.
 */
import type {
	IExecuteFunctions,
	IHookFunctions,
	INodeProperties,
	IWebhookDescription,
} from 'n8n-workflow';

export const waitModeProperties: INodeProperties[] = [
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
			"Webhook mode needs n8n reachable from the internet at its WEBHOOK_URL: Replicate calls this execution's resume URL. Stopping a waiting execution does not reach Replicate: its predictions run on until they finish or hit the Timeout (sent as Cancel-After), and their calls are then refused. At most 90 items per execution (fewer with uploaded files or custom data of your own).",
		name: 'webhookNotice',
		type: 'notice',
		default: '',
		displayOptions: { show: { waitMode: ['webhook'] } },
	},
];

/** Webhook mode, unless the node runs as an AI Agent tool (a model cannot wait for a callback). */
export function parksExecution(context: IExecuteFunctions, asTool: boolean): boolean {
	return context.getNodeParameter('waitMode', 0, 'poll') === 'webhook' && !asTool;
}

/**
 * Replicate calls the execution's resume URL; n8n's waiting-webhooks endpoint hands the call to
 * the node's `webhook()` (the mechanism of n8n's Wait node).
 */
export const resumeWebhooks: IWebhookDescription[] = [
	{
		name: 'default',
		httpMethod: 'POST',
		responseMode: 'onReceived',
		path: '',
		restartWebhook: true,
	},
];

/**
 * The resume webhook is a restart webhook: n8n registers none (it serves every waiting execution
 * under /webhook-waiting/), and Replicate has no webhook registry (each prediction names its URL
 * when it is created), so there is nothing to set up or tear down.
 */
export const resumeWebhookMethods = {
	async checkExists(this: IHookFunctions): Promise<boolean> {
		return true;
	},
	async create(this: IHookFunctions): Promise<boolean> {
		return true;
	},
	async delete(this: IHookFunctions): Promise<boolean> {
		return true;
	},
};
