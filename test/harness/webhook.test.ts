/** The harness's webhook runner: n8n's answers for each kind of result a webhook() returns. */
import type {
	IHookFunctions,
	INodeType,
	INodeTypeDescription,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';
import { NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';

import { activateWebhook, runWebhook, startWebhookListener } from './index';

const hookCalls: string[] = [];

/** Answers according to its `answer` parameter; echoes what it was given. */
class WebhookProbe implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Webhook Probe',
		name: 'webhookProbe',
		group: ['trigger'],
		version: 1,
		description: 'Test node for the webhook runner',
		defaults: { name: 'Webhook Probe' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		webhooks: [{ name: 'default', httpMethod: 'POST', responseMode: 'onReceived', path: 'probe' }],
		properties: [
			{
				displayName: 'Answer',
				name: 'answer',
				type: 'options',
				options: [
					{ name: 'Start', value: 'start' },
					{ name: 'Respond Only', value: 'respond' },
					{ name: 'Refuse', value: 'refuse' },
					{ name: 'Throw', value: 'throw' },
				],
				default: 'start',
			},
		],
	};

	webhookMethods = {
		default: {
			async checkExists(this: IHookFunctions) {
				hookCalls.push(`checkExists ${this.getNodeWebhookUrl('default')}`);
				return false;
			},
			async create(this: IHookFunctions) {
				hookCalls.push(`create ${this.getActivationMode()}`);
				return true;
			},
			async delete(this: IHookFunctions) {
				return true;
			},
		},
	};

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		const answer = this.getNodeParameter('answer') as string;
		const request = this.getRequestObject() as unknown as { rawBody?: Buffer };
		const echo = {
			body: this.getBodyData(),
			rawBody: request.rawBody?.toString('utf8') ?? null,
			header: this.getHeaderData()['x-probe'] ?? null,
		};
		if (answer === 'respond') return { webhookResponse: { echo } };
		if (answer === 'refuse') {
			const response = this.getResponseObject();
			response.writeHead(403, { 'content-type': 'text/plain' });
			response.end('no');
			return { noWebhookResponse: true };
		}
		if (answer === 'throw') throw new NodeOperationError(this.getNode(), 'Probe failed on purpose');
		return { workflowData: [[{ json: echo }]] };
	}
}

const call = async (
	answer: string,
	rawBody = '{"a":1}',
	headers: Record<string, string> = { 'Content-Type': 'application/json', 'X-Probe': 'yes' },
) =>
	await runWebhook({
		nodeType: WebhookProbe,
		parameters: { answer },
		request: { headers, rawBody },
	});

it('workflowData starts an execution; n8n answers "Workflow was started"', async () => {
	const result = await call('start');
	expect(result).toMatchObject({
		status: 200,
		started: true,
		body: { message: 'Workflow was started' },
	});
	expect(result.items).toEqual([{ json: { body: { a: 1 }, rawBody: '{"a":1}', header: 'yes' } }]);
});

it('webhookResponse alone answers 200 with it and starts nothing', async () => {
	const result = await call('respond');
	expect(result).toMatchObject({ status: 200, started: false, items: [] });
	expect(result.body).toEqual({ echo: { body: { a: 1 }, rawBody: '{"a":1}', header: 'yes' } });
});

it('a node that answers itself keeps its answer', async () => {
	expect(await call('refuse')).toMatchObject({
		status: 403,
		body: 'no',
		started: false,
		headers: { 'content-type': 'text/plain' },
	});
});

it("a node that throws gets n8n's 500", async () => {
	const result = await call('throw');
	expect(result).toMatchObject({ status: 500, started: false });
	expect(result.error?.message).toBe('Probe failed on purpose');
});

it("broken JSON is answered 422 by n8n's body parser, before the node", async () => {
	expect(await call('start', '{"a":')).toMatchObject({ status: 422, started: false });
	const text = await call('start', 'plain', { 'content-type': 'text/plain' });
	expect(text.items[0].json.body).toBe('plain');
});

it("activation runs checkExists, then create, through n8n-core's HookContext", async () => {
	hookCalls.length = 0;
	expect(await activateWebhook({ nodeType: WebhookProbe, webhookId: 'abc' })).toEqual({
		existed: false,
		created: true,
	});
	expect(hookCalls).toEqual([
		'checkExists http://localhost:5678/webhook/abc/probe',
		'create activate',
	]);
});

it('a listener serves the node over HTTP', async () => {
	const listener = await startWebhookListener({
		nodeType: WebhookProbe,
		parameters: { answer: 'respond' },
	});
	try {
		expect(listener.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/webhook\/harness-webhook-id\/probe$/);
		const response = await fetch(listener.url, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: '{"b":2}',
		});
		expect(response.status).toBe(200);
		expect(await response.json()).toEqual({
			echo: { body: { b: 2 }, rawBody: '{"b":2}', header: null },
		});
		expect(await listener.waitFor(1)).toHaveLength(1);
	} finally {
		await listener.close();
	}
});
