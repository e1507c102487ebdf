/**
 * Webhook trigger nodes in the harness: a request is handed to the node's `webhook()` through
 * n8n-core's real WebhookContext, as n8n's WebhookService.runWebhook does, and n8n's answer is
 * derived from what the node returned the way packages/cli webhook-helpers `executeWebhook`
 * does it (checked against n8n 2.40.7 and 1.123.81):
 * - the node threw: n8n answers 500 and records a failed execution (nothing downstream runs);
 * - `noWebhookResponse`: the node answered through `getResponseObject()` itself;
 * - no `workflowData`: no execution starts; n8n answers `webhookResponse` (200), or
 *   `{ message: 'Webhook call received' }`;
 * - `workflowData`: an execution starts with those items; with responseMode `onReceived`, n8n
 *   answers `webhookResponse` or `{ message: 'Workflow was started' }` (unless the node answered).
 *
 * `startWebhookListener` puts a node behind a real HTTP port, so a server (the test server's
 * webhook deliveries) can call it: it reads the body the way n8n's body parser does (raw bytes
 * kept as `rawBody`, JSON parsed into `body`, a JSON parse error answered 422 without calling
 * the node).
 */
import { HookContext, WebhookContext } from 'n8n-core';
import type {
	INode,
	IWorkflowExecuteAdditionalData,
	INodeCredentials,
	INodeExecutionData,
	INodeParameters,
	IWebhookData,
	IWebhookDescription,
	IWebhookResponseData,
	WorkflowExecuteMode,
} from 'n8n-workflow';
import { NodeHelpers, UserError, Workflow } from 'n8n-workflow';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { HarnessCredential } from './credentials-helper';
import { HarnessCredentialsHelper } from './credentials-helper';
import {
	buildAdditionalData,
	buildNodeTypes,
	ensureHarnessReady,
	findPackageName,
	initBinaryDataService,
	inRunQueue,
} from './engine';
import { harnessLogger } from './logging';
import type { CredentialTypeClass, NodeTypeClass } from './node-types';
import { HarnessCredentialTypes } from './node-types';

export interface WebhookRequest {
	method?: string;
	/** Header names in any case; n8n (Node's http) hands them to the node lower-cased. */
	headers?: Record<string, string>;
	/**
	 * The bytes as received. n8n keeps them on the request as `rawBody`; `null` leaves them off,
	 * like a host that only gives the parsed body.
	 */
	rawBody?: Buffer | string | null;
	/** What n8n's body parser made of it; by default parsed from `rawBody` when it is JSON. */
	body?: unknown;
	query?: Record<string, string>;
}

export interface RunWebhookOptions {
	/** The trigger's class (its description has `webhooks`). */
	nodeType: NodeTypeClass;
	parameters?: INodeParameters;
	credentialTypes?: CredentialTypeClass[];
	/** Credentials by id, as for runWorkflow. */
	credentials?: Record<string, HarnessCredential>;
	/** What the node references, e.g. `{ myApi: { id: 'cred-1', name: 'My API' } }`. */
	nodeCredentials?: INodeCredentials;
	request: WebhookRequest;
	/** Which of the node's webhooks is called; 'default' unless told. */
	webhookName?: string;
	/** 'webhook' (an active workflow's production URL, the default) or 'manual' (the test URL). */
	mode?: WorkflowExecuteMode;
	workflowId?: string;
	nodeId?: string;
	nodeName?: string;
	webhookId?: string;
	packageName?: string;
}

export interface WebhookRunResult {
	/** The HTTP status n8n answers with (0 when nobody answered). */
	status: number;
	headers: Record<string, string>;
	/** The answer's body: parsed JSON when it is JSON, else text. */
	body: unknown;
	/** Whether n8n would start an execution with `workflowData`. */
	started: boolean;
	workflowData?: INodeExecutionData[][];
	/** The started execution's trigger items (output 0), [] when none started. */
	items: INodeExecutionData[];
	/** What the node threw: n8n answers 500 and records a failed execution. */
	error?: Error;
	/** Every line n8n's logger received during the call. */
	logs: string[];
}

/** The subset of express's Response that nodes use to answer themselves. */
export class RecordingResponse {
	statusCode = 0;

	headersSent = false;

	readonly headers: Record<string, string> = {};

	private readonly chunks: Buffer[] = [];

	setHeader(name: string, value: string | number | readonly string[]) {
		this.headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
		return this;
	}

	getHeader(name: string) {
		return this.headers[name.toLowerCase()];
	}

	writeHead(status: number, headers?: Record<string, string | number>) {
		this.statusCode = status;
		for (const [name, value] of Object.entries(headers ?? {})) this.setHeader(name, value);
		this.headersSent = true;
		return this;
	}

	status(status: number) {
		this.statusCode = status;
		return this;
	}

	json(body: unknown) {
		this.setHeader('content-type', 'application/json; charset=utf-8');
		return this.end(JSON.stringify(body));
	}

	send(body: unknown) {
		if (Buffer.isBuffer(body) || typeof body === 'string') return this.end(body);
		return this.json(body);
	}

	write(chunk: Buffer | string) {
		this.headersSent = true;
		this.chunks.push(Buffer.from(chunk));
		return true;
	}

	end(chunk?: Buffer | string) {
		if (this.statusCode === 0) this.statusCode = 200;
		if (chunk !== undefined) this.chunks.push(Buffer.from(chunk));
		this.headersSent = true;
		return this;
	}

	get text(): string {
		return Buffer.concat(this.chunks).toString('utf8');
	}
}

export function parseMaybeJson(text: string): unknown {
	if (text === '') return undefined;
	try {
		return JSON.parse(text);
	} catch {
		return text;
	}
}

function lowerCaseHeaders(headers: Record<string, string> = {}): IncomingHttpHeaders {
	return Object.fromEntries(
		Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]),
	);
}

/** The body n8n's parser gives a node for these bytes (JSON → object, else {}). */
export function parsedBody(headers: IncomingHttpHeaders, rawBody: Buffer | undefined): unknown {
	const contentType = String(headers['content-type'] ?? '')
		.split(';')[0]
		.trim();
	if (!rawBody?.length) return {};
	if (contentType === 'application/json') return JSON.parse(rawBody.toString('utf8'));
	if (contentType === 'text/plain') return rawBody.toString('utf8');
	return {};
}

type WebhookNodeOptions = Omit<RunWebhookOptions, 'request'>;

/** The workflow (one node), its context data and webhook as n8n's WebhookService builds them. */
async function setUpWebhookNode(
	options: WebhookNodeOptions,
	extraAdditionalData: Partial<IWorkflowExecuteAdditionalData> = {},
) {
	const packageName = options.packageName ?? findPackageName();
	const nodeTypes = buildNodeTypes([options.nodeType], packageName);
	const NodeClass = options.nodeType;
	const nodeType = NodeHelpers.getVersionedNodeType(new NodeClass());
	const { description } = nodeType;
	const webhookName = options.webhookName ?? 'default';
	const webhookDescription = description.webhooks?.find((webhook) => webhook.name === webhookName);
	if (!webhookDescription)
		throw new UserError(`Node type ${description.name} has no webhook "${webhookName}"`);
	const node: INode = {
		id: options.nodeId ?? 'webhook-node',
		name: options.nodeName ?? description.defaults.name ?? description.displayName,
		type: packageName ? `${packageName}.${description.name}` : description.name,
		typeVersion: Array.isArray(description.version)
			? Math.max(...description.version)
			: description.version,
		position: [0, 0],
		parameters: options.parameters ?? {},
		credentials: options.nodeCredentials,
		webhookId: options.webhookId ?? 'harness-webhook-id',
	};
	const workflow = new Workflow({
		id: options.workflowId ?? 'harness-webhook-workflow',
		name: 'Harness webhook workflow',
		nodes: [node],
		connections: {},
		active: true,
		nodeTypes,
		settings: { executionOrder: 'v1' },
	});
	// The Workflow filled in the node's parameter defaults, as n8n does when it loads a workflow.
	const workflowNode = workflow.getNode(node.name) as INode;
	const credentialTypes = new HarnessCredentialTypes(
		(options.credentialTypes ?? []).map((CredentialClass) => new CredentialClass()),
		nodeTypes,
	);
	const credentialsHelper = new HarnessCredentialsHelper(credentialTypes, options.credentials);
	await initBinaryDataService('default');
	const additionalData = buildAdditionalData(credentialsHelper, extraAdditionalData);
	const webhookData: IWebhookData = {
		httpMethod: webhookDescription.httpMethod as IWebhookData['httpMethod'],
		node: workflowNode.name,
		path: String(webhookDescription.path),
		webhookDescription: webhookDescription as IWebhookDescription,
		workflowId: String(workflow.id),
		workflowExecuteAdditionalData: additionalData,
		webhookId: workflowNode.webhookId,
	};
	return {
		nodeType,
		workflow,
		node: workflowNode,
		webhookDescription,
		additionalData,
		webhookData,
	};
}

async function callWebhook(options: RunWebhookOptions): Promise<WebhookRunResult> {
	ensureHarnessReady();
	const capture = harnessLogger.startCapture();
	try {
		const headers = lowerCaseHeaders(options.request.headers);
		const rawBody =
			options.request.rawBody === null || options.request.rawBody === undefined
				? undefined
				: Buffer.from(options.request.rawBody);
		let body: unknown;
		try {
			body = 'body' in options.request ? options.request.body : parsedBody(headers, rawBody);
		} catch {
			// n8n's body parser answers a JSON parse error itself; the node is never called.
			return {
				status: 422,
				headers: {},
				body: { code: 422, message: 'Failed to parse request body' },
				started: false,
				items: [],
				logs: capture.lines,
			};
		}
		const request = {
			method: options.request.method ?? 'POST',
			url: '',
			headers,
			body,
			query: options.request.query ?? {},
			params: {},
			contentType:
				String(headers['content-type'] ?? '')
					.split(';')[0]
					.trim() || undefined,
			...(options.request.rawBody === null ? {} : { rawBody: rawBody ?? Buffer.alloc(0) }),
		};
		const response = new RecordingResponse();
		const { nodeType, workflow, node, webhookDescription, additionalData, webhookData } =
			await setUpWebhookNode(options, {
				httpRequest: request as never,
				httpResponse: response as never,
			});
		if (typeof nodeType.webhook !== 'function')
			throw new UserError(`Node type ${node.type} has no webhook()`);
		request.url = `/webhook/${node.webhookId}/${String(webhookDescription.path)}`;
		const context = new WebhookContext(
			workflow,
			node,
			additionalData,
			options.mode ?? 'webhook',
			webhookData,
			[],
			null,
		);

		let result: IWebhookResponseData | undefined;
		let error: Error | undefined;
		try {
			result = await nodeType.webhook.call(context);
		} catch (caught) {
			error = caught as Error;
		}

		const answer = { status: response.statusCode, body: parseMaybeJson(response.text) };
		if (error) {
			if (!response.headersSent)
				Object.assign(answer, {
					status: 500,
					body: { code: 0, message: 'Workflow Webhook Error: Workflow could not be started!' },
				});
		} else if (result?.noWebhookResponse !== true && !response.headersSent) {
			if (result?.workflowData === undefined) {
				answer.status = 200;
				answer.body = result?.webhookResponse ?? { message: 'Webhook call received' };
			} else if (webhookDescription.responseMode === 'onReceived') {
				answer.status = 200;
				answer.body = result.webhookResponse ?? { message: 'Workflow was started' };
			}
		}
		const started = !error && result?.workflowData !== undefined;
		return {
			...answer,
			headers: response.headers,
			started,
			workflowData: started ? result?.workflowData : undefined,
			items: started ? (result?.workflowData?.[0] ?? []) : [],
			error,
			logs: capture.lines,
		};
	} finally {
		capture.stop();
	}
}

/** Hands one request to a webhook node and returns n8n's answer and whether an execution starts. */
export async function runWebhook(options: RunWebhookOptions): Promise<WebhookRunResult> {
	return await inRunQueue(async () => await callWebhook(options));
}

export interface ActivationResult {
	/** What checkExists answered (undefined: the node has no webhookMethods). */
	existed?: boolean;
	/** What create answered, when it ran. */
	created?: boolean;
	/** What a lifecycle method threw: n8n shows it as the activation error. */
	error?: Error;
}

/**
 * What n8n does with a webhook node when the workflow is activated (WebhookService
 * createWebhookIfNotExists): `checkExists`, then `create` when it answered false, through
 * n8n-core's HookContext.
 */
export async function activateWebhook(
	options: WebhookNodeOptions,
	mode: WorkflowExecuteMode = 'webhook',
): Promise<ActivationResult> {
	return await inRunQueue(async () => {
		ensureHarnessReady();
		const { nodeType, workflow, node, additionalData, webhookData, webhookDescription } =
			await setUpWebhookNode(options);
		const methods = nodeType.webhookMethods?.[webhookDescription.name];
		if (!methods) return {};
		const result: ActivationResult = {};
		try {
			const context = new HookContext(
				workflow,
				node,
				additionalData,
				mode,
				'activate',
				webhookData,
			);
			result.existed = await methods.checkExists.call(context);
			if (!result.existed) result.created = await methods.create.call(context);
		} catch (error) {
			result.error = error as Error;
		}
		return result;
	});
}

export interface WebhookListener {
	/** Where to send requests, e.g. http://127.0.0.1:PORT/webhook/<webhookId>/<path> */
	url: string;
	/** One entry per request, in arrival order. */
	results: WebhookRunResult[];
	/** Resolves once `count` requests have been answered (rejects after `timeoutMs`). */
	waitFor(count: number, timeoutMs?: number): Promise<WebhookRunResult[]>;
	close(): Promise<void>;
}

/** Serves a webhook node on 127.0.0.1, as n8n serves an active workflow's production URL. */
export async function startWebhookListener(
	options: Omit<RunWebhookOptions, 'request'>,
): Promise<WebhookListener> {
	const results: WebhookRunResult[] = [];
	const waiters = new Set<() => void>();
	const server: Server = createServer((req, res) => {
		const chunks: Buffer[] = [];
		req.on('data', (chunk: Buffer) => chunks.push(chunk));
		req.on('end', () => {
			void (async () => {
				const rawBody = Buffer.concat(chunks);
				const headers = Object.fromEntries(
					Object.entries(req.headers).map(([name, value]) => [
						name,
						Array.isArray(value) ? value.join(', ') : String(value),
					]),
				);
				const result = await runWebhook({
					...options,
					request: { method: req.method, headers, rawBody },
				});
				results.push(result);
				const text =
					result.body === undefined
						? ''
						: typeof result.body === 'string'
							? result.body
							: JSON.stringify(result.body);
				res.writeHead(result.status || 200, {
					'content-type': typeof result.body === 'string' ? 'text/plain' : 'application/json',
				});
				res.end(text);
				for (const wake of [...waiters]) wake();
			})();
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as AddressInfo;
	const NodeClass = options.nodeType;
	const { description } = NodeHelpers.getVersionedNodeType(new NodeClass());
	const path = String(
		description.webhooks?.find((webhook) => webhook.name === (options.webhookName ?? 'default'))
			?.path ?? '',
	);
	return {
		url: `http://127.0.0.1:${port}/webhook/${options.webhookId ?? 'harness-webhook-id'}/${path}`,
		results,
		async waitFor(count, timeoutMs = 10_000) {
			if (results.length >= count) return results;
			return await new Promise((resolve, reject) => {
				const timer = setTimeout(() => {
					waiters.delete(check);
					reject(
						new Error(
							`Only ${results.length} of ${count} webhook requests arrived within ${timeoutMs} ms`,
						),
					);
				}, timeoutMs);
				const check = () => {
					if (results.length < count) return;
					clearTimeout(timer);
					waiters.delete(check);
					resolve(results);
				};
				waiters.add(check);
			});
		},
		async close() {
			await new Promise<void>((resolve) => server.close(() => resolve()));
		},
	};
}
