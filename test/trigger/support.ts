/** Drives the Replicate Inpainting Trigger through the harness's webhook runner against the test server. */
import { createHmac } from 'node:crypto';
import type { IDataObject, INodeParameters } from 'n8n-workflow';

import { ReplicateInpaintingTrigger } from '../../nodes/ReplicateInpaintingTrigger/ReplicateInpaintingTrigger.node';
import { DEFAULT_MODEL_VERSION } from '../../nodes/ReplicateInpainting/schema/modelInput';
import type { RunWebhookOptions, WebhookRunResult } from '../harness';
import { activateWebhook, runWebhook } from '../harness';
import type { FakeReplicate } from '../../tools/fake-replicate';
import { credentialOptions, serverCredential } from '../support/credentials';

export const TRIGGER_CREDENTIAL_ID = 'replicate-trigger-test';

export interface TriggerOptions {
	parameters?: INodeParameters;
	/** Credential fields over the server's token and API URL. */
	credential?: IDataObject;
	workflowId?: string;
}

/** Everything but the request: the node, its credential (pointing at `server`) and parameters. */
export function triggerNode(
	server: FakeReplicate,
	options: TriggerOptions = {},
): Omit<RunWebhookOptions, 'request'> {
	return {
		nodeType: ReplicateInpaintingTrigger,
		...credentialOptions(serverCredential(server, options.credential), TRIGGER_CREDENTIAL_ID),
		nodeCredentials: {
			replicateInpaintingApi: { id: TRIGGER_CREDENTIAL_ID, name: 'Replicate test' },
		},
		parameters: options.parameters ?? {},
		workflowId: options.workflowId,
	};
}

/** The HMAC key inside a `whsec_` secret. */
export function keyOf(secret: string): Buffer {
	return Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
}

let deliveryCounter = 0;

export function newWebhookId(): string {
	return `msg_test${Date.now().toString(36)}${(++deliveryCounter).toString(36)}`;
}

export interface SignOptions {
	id?: string;
	/** Unix seconds; now by default. */
	timestamp?: number | string;
	key?: Buffer;
}

/** The three headers Replicate sends, signed as Replicate signs them. */
export function signedHeaders(
	server: FakeReplicate,
	body: string | Buffer,
	options: SignOptions = {},
): Record<string, string> {
	const id = options.id ?? newWebhookId();
	const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
	const key = options.key ?? keyOf(server.webhookSecret);
	const signature = createHmac('sha256', key)
		.update(`${id}.${timestamp}.`)
		.update(body)
		.digest('base64');
	return {
		'content-type': 'application/json',
		'webhook-id': id,
		'webhook-timestamp': timestamp,
		'webhook-signature': `v1,${signature}`,
	};
}

export async function deliver(
	server: FakeReplicate,
	body: string | Buffer,
	headers: Record<string, string>,
	options: TriggerOptions & { rawBody?: null; parsedBody?: unknown } = {},
): Promise<WebhookRunResult> {
	return await runWebhook({
		...triggerNode(server, options),
		request: {
			headers,
			rawBody: options.rawBody === null ? null : body,
			...('parsedBody' in options ? { body: options.parsedBody } : {}),
		},
	});
}

export async function activate(server: FakeReplicate, options: TriggerOptions = {}) {
	return await activateWebhook(triggerNode(server, options));
}

/** A real prediction on the test server, finished (Prefer: wait), as a webhook would carry it. */
export async function finishedPrediction(
	server: FakeReplicate,
	input: IDataObject = {},
): Promise<IDataObject> {
	const response = await fetch(`${server.apiUrl}/predictions`, {
		method: 'POST',
		headers: {
			authorization: `Bearer ${server.token}`,
			'content-type': 'application/json',
			prefer: 'wait=30',
		},
		body: JSON.stringify({
			version: DEFAULT_MODEL_VERSION,
			input: {
				prompt: 'a red armchair',
				image: server.sampleImageUrl,
				mask: server.sampleMaskUrl,
				width: 128,
				height: 128,
				...input,
			},
		}),
	});
	const prediction = (await response.json()) as IDataObject;
	if (prediction.status !== 'succeeded' && !server.predictions.get(String(prediction.id))) {
		throw new Error(`the test server did not create a prediction: ${JSON.stringify(prediction)}`);
	}
	return prediction;
}

export function secretFetches(server: FakeReplicate) {
	return server.requests.filter(
		(request) => request.origin === 'api' && request.path.endsWith('/webhooks/default/secret'),
	);
}
