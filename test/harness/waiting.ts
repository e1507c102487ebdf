/**
 * Waiting executions in the harness: a node that parks (`putExecutionToWait`) leaves a stored
 * execution that calls to `/webhook-waiting/<id>` resume, the way packages/cli does it
 * (checked against n8n 2.40.7 and 1.123.81):
 * - storing: the parked run's data is kept as JSON, like the executions table; each call loads a
 *   fresh copy (ExecutionPersistence.findSingleExecution), so a call that does not resume leaves
 *   the stored execution as it was.
 * - WaitingWebhooks.executeWebhook: 404 for an unknown execution, 409 when it is running, has
 *   failed (a Stop records an error too) or has finished. (2.40.7 also checks the resume URL's
 *   `signature` against the execution's resumeToken before that; n8n-core 2.8.1 makes no token, so
 *   that check is covered in real n8n by test/e2e.)
 * - WaitingWebhooks.getWebhookExecutionData: the parked node (nodeExecutionStack[0]) is disabled,
 *   `waitTill` cleared, the node's parked run data popped; its webhooks are listed as
 *   WebhookService.getNodeWebhooks does and the one with the call's method, path = suffix ('' when
 *   none) and `restartWebhook: true` is run through n8n-core's WebhookContext with the execution's
 *   data (WebhookService.runWebhook); none → 404.
 * - WebhookHelpers.executeWebhook: no `workflowData` → the call is answered and nothing is stored;
 *   `workflowData` → prepareExecutionData puts it on the parked node's stack entry
 *   (`forwardAllOutputs`) and WorkflowExecute.processRunExecutionData runs on (the disabled node
 *   passes it on); the call is answered before the run ends (responseMode onReceived). A throwing
 *   `webhook()` → 500, and n8n runs on with an error and an empty item (merged as n8n merges it).
 * - WaitTracker.startExecution (at `waitTill`): the stored data is run again with `waitTill`
 *   still set, so WorkflowExecute.handleWaitingState disables the parked node and it passes its
 *   input through: no node code runs.
 * - ExecutionService.stopDuringRun (Stop of a waiting execution): status canceled with an error.
 */
import { WebhookContext, WorkflowExecute, ExecutionLifecycleHooks } from 'n8n-core';
import { Container } from '@n8n/di';
import { BinaryDataService } from 'n8n-core';
import type {
	INode,
	INodeExecutionData,
	IWorkflowExecuteAdditionalData,
	IRun,
	IRunExecutionData,
	IWebhookData,
	IWebhookDescription,
	IWebhookResponseData,
} from 'n8n-workflow';
import { ManualExecutionCancelledError, Workflow } from 'n8n-workflow';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { EndedRun, RunWorkflowOptions, WorkflowRunResult } from './engine';
import {
	buildAdditionalData,
	ensureHarnessReady,
	inRunQueue,
	makeResult,
	MODE,
	runWorkflow,
	toExecutionError,
} from './engine';
import { harnessLogger } from './logging';
import { parsedBody, parseMaybeJson, RecordingResponse } from './webhook';

export interface WaitingCall {
	executionId: string;
	status: number;
	body: unknown;
	/** Whether the call resumed the execution. */
	resumed: boolean;
	at: number;
}

interface StoredExecution {
	ended: EndedRun;
	/** As the executions table holds it: JSON. */
	data: string;
	status: IRun['status'] | 'running';
	finished: boolean;
	waitTill?: Date;
	/** The latest run's result (the parked run until a resume). */
	result: WorkflowRunResult;
	runs: number;
}

export interface WaitingServer {
	/** `webhookWaitingBaseUrl`: http://127.0.0.1:PORT/webhook-waiting */
	baseUrl: string;
	/** Every call received, in order. */
	calls: WaitingCall[];
	/** The id of the execution `run` started last. */
	lastExecutionId(): string;
	/** Runs a workflow whose resume URL points here; a parked run is stored for resuming. */
	run(options: RunWorkflowOptions): Promise<WorkflowRunResult>;
	status(executionId: string): StoredExecution['status'];
	waitTill(executionId: string): Date | undefined;
	/** The latest run's result of the execution. */
	result(executionId: string): WorkflowRunResult;
	/** Resolves when the execution has left `waiting`/`running` (its final result). */
	finished(executionId: string, timeoutMs?: number): Promise<WorkflowRunResult>;
	/** What n8n's wait tracker does at `waitTill`. */
	reachWaitTill(executionId: string): Promise<WorkflowRunResult>;
	/** A Stop of the waiting execution (the editor's or the API's). */
	stop(executionId: string): Promise<void>;
	close(): Promise<void>;
}

function jsonCopy<T>(value: T): T {
	return JSON.parse(JSON.stringify(value)) as T;
}

/**
 * The node's restart webhooks as WebhookService.getNodeWebhooks lists them (a disabled node has
 * none; path without surrounding slashes; one entry per HTTP method). Literal paths only: this
 * project's nodes declare no expressions there.
 */
function restartWebhooks(
	workflow: Workflow,
	node: INode,
	descriptions: IWebhookDescription[],
	additionalData: IWorkflowExecuteAdditionalData,
): IWebhookData[] {
	return descriptions
		.filter((description) => description.restartWebhook === true)
		.flatMap((description) =>
			String(description.httpMethod ?? 'GET')
				.split(',')
				.map((httpMethod) => ({
					httpMethod: httpMethod.trim() as IWebhookData['httpMethod'],
					node: node.name,
					path: String(description.path ?? '')
						.trim()
						.replace(/^\/+|\/+$/g, ''),
					webhookDescription: description,
					workflowId: String(workflow.id),
					workflowExecuteAdditionalData: additionalData,
				})),
		);
}

function workflowOf(stored: StoredExecution): Workflow {
	const { workflowBase, nodeTypes } = stored.ended;
	return new Workflow({
		id: workflowBase.id,
		name: workflowBase.name,
		nodes: jsonCopy(workflowBase.nodes),
		connections: workflowBase.connections,
		active: false,
		nodeTypes,
		settings: workflowBase.settings,
		pinData: workflowBase.pinData,
	});
}

export async function startWaitingServer(): Promise<WaitingServer> {
	const executions = new Map<string, StoredExecution>();
	const calls: WaitingCall[] = [];
	const settled = new Set<() => void>();
	let baseUrl = '';
	let lastExecutionId = '';

	const store = (ended: EndedRun, result: WorkflowRunResult, previous?: StoredExecution) => {
		const stored: StoredExecution = {
			ended,
			data: JSON.stringify(ended.run.data),
			status: ended.run.status,
			finished: ended.run.finished === true,
			waitTill: ended.run.waitTill ?? undefined,
			result,
			runs: (previous?.runs ?? 0) + 1,
		};
		executions.set(ended.executionId, stored);
		for (const wake of [...settled]) wake();
	};

	/** Runs the stored execution's data on (WorkflowRunner.run → WorkflowExecute.processRunExecutionData). */
	const runOn = async (
		stored: StoredExecution,
		data: IRunExecutionData,
		callLogs: string[] = [],
	): Promise<WorkflowRunResult> => {
		const capture = harnessLogger.startCapture();
		capture.lines.push(...callLogs);
		try {
			Container.set(BinaryDataService, stored.ended.binaryDataService);
			const { executionId, workflowBase, credentialsHelper } = stored.ended;
			const workflow = workflowOf(stored);
			const hooks = new ExecutionLifecycleHooks(MODE, executionId, workflowBase);
			const additionalData = buildAdditionalData(credentialsHelper, {
				executionId,
				hooks,
				webhookWaitingBaseUrl: baseUrl,
				workflowSettings: workflowBase.settings,
			});
			stored.status = 'running';
			const run = await new WorkflowExecute(additionalData, MODE, data).processRunExecutionData(
				workflow,
			);
			const result = makeResult(run, stored.ended.binaryDataService, capture.lines);
			store({ ...stored.ended, run }, result, stored);
			return result;
		} finally {
			capture.stop();
		}
	};

	const handleCall = async (
		executionId: string,
		suffix: string | undefined,
		request: {
			method: string;
			url: string;
			headers: Record<string, string>;
			rawBody: Buffer;
			query: Record<string, string>;
		},
		response: RecordingResponse,
		logs: string[],
	): Promise<{ resumed: boolean; continueWith?: () => Promise<unknown> }> => {
		const stored = executions.get(executionId);
		if (!stored) {
			response
				.status(404)
				.json({ code: 404, message: `The execution "${executionId}" does not exist.` });
			return { resumed: false };
		}
		const data = JSON.parse(stored.data) as IRunExecutionData;
		const conflict = (message: string) => {
			response.status(409).json({ code: 409, message });
			return { resumed: false };
		};
		if (stored.status === 'running')
			return conflict(`The execution "${executionId}" is running already.`);
		if (data.resultData.error)
			return conflict(`The execution "${executionId}" has finished with error.`);
		if (stored.finished) return conflict(`The execution "${executionId} has finished already.`);

		// getWebhookExecutionData
		const lastNodeExecuted = data.resultData.lastNodeExecuted as string;
		const stackEntry = data.executionData!.nodeExecutionStack[0];
		stackEntry.node.disabled = true;
		data.waitTill = undefined;
		data.resultData.runData[lastNodeExecuted]?.pop();
		const workflow = workflowOf(stored);
		const node = workflow.getNode(lastNodeExecuted);
		if (!node) {
			response.status(404).json({ code: 404, message: 'Could not find node to process webhook.' });
			return { resumed: false };
		}
		const headers = Object.fromEntries(
			Object.entries(request.headers).map(([name, value]) => [name.toLowerCase(), value]),
		);
		let body: unknown;
		try {
			body = parsedBody(headers, request.rawBody);
		} catch {
			response.status(422).json({ code: 422, message: 'Failed to parse request body' });
			return { resumed: false };
		}
		const httpRequest = {
			method: request.method,
			url: request.url,
			headers,
			body,
			query: request.query,
			params: {},
			rawBody: request.rawBody,
			contentType:
				String(headers['content-type'] ?? '')
					.split(';')[0]
					.trim() || undefined,
		};
		const { credentialsHelper } = stored.ended;
		const additionalData = buildAdditionalData(credentialsHelper, {
			executionId,
			webhookWaitingBaseUrl: baseUrl,
			httpRequest: httpRequest as never,
			httpResponse: response as never,
		});
		const nodeType = workflow.nodeTypes.getByNameAndVersion(node.type, node.typeVersion);
		const webhookData = restartWebhooks(
			workflow,
			node,
			nodeType.description.webhooks ?? [],
			additionalData,
		).find((webhook) => webhook.httpMethod === request.method && webhook.path === (suffix ?? ''));
		if (!webhookData) {
			response.status(404).json({
				code: 404,
				message: `The workflow for execution "${executionId}" does not contain a waiting webhook with a matching path/method.`,
			});
			return { resumed: false };
		}
		Container.set(BinaryDataService, stored.ended.binaryDataService);
		const context = new WebhookContext(workflow, node, additionalData, MODE, webhookData, [], data);
		let result: IWebhookResponseData | undefined;
		let error: Error | undefined;
		try {
			result = await nodeType.webhook!.call(context);
		} catch (caught) {
			error = caught as Error;
		}
		const description = webhookData.webhookDescription as IWebhookDescription;
		if (error) {
			if (!response.headersSent)
				response
					.status(500)
					.json({ code: 0, message: 'Workflow Webhook Error: Workflow could not be started!' });
			// webhook-helpers: runExecutionDataMerge replaces resultData, and the run goes on with {}.
			data.resultData = { runData: {}, lastNodeExecuted, error: toExecutionError(error) };
			result = { workflowData: [[{ json: {} }]] };
		} else if (result?.noWebhookResponse !== true && !response.headersSent) {
			if (result?.workflowData === undefined)
				response.status(200).json(result?.webhookResponse ?? { message: 'Webhook call received' });
			else if (description.responseMode === 'onReceived')
				response.status(200).json(result.webhookResponse ?? { message: 'Workflow was started' });
		}
		if (result?.workflowData === undefined) return { resumed: false };
		// prepareExecutionData
		stackEntry.data.main = result.workflowData as INodeExecutionData[][];
		stackEntry.metadata = {
			...stackEntry.metadata,
			forwardAllOutputs: true,
		} as typeof stackEntry.metadata;
		stored.status = 'running';
		return { resumed: !error, continueWith: async () => await runOn(stored, data, logs) };
	};

	const server: Server = createServer((req, res) => {
		const chunks: Buffer[] = [];
		req.on('data', (chunk: Buffer) => chunks.push(chunk));
		req.on('end', () => {
			void (async () => {
				const url = new URL(req.url ?? '/', 'http://127.0.0.1');
				const match = /^\/webhook-waiting\/([^/]+)(?:\/(.+))?$/.exec(url.pathname);
				const executionId = match?.[1] ?? '';
				const response = new RecordingResponse();
				let outcome: { resumed: boolean; continueWith?: () => Promise<unknown> } = {
					resumed: false,
				};
				if (!match) {
					response.status(404).json({ message: 'Not found' });
				} else {
					const headers = Object.fromEntries(
						Object.entries(req.headers).map(([name, value]) => [
							name,
							Array.isArray(value) ? value.join(', ') : String(value),
						]),
					);
					outcome = await inRunQueue(async () => {
						ensureHarnessReady();
						const capture = harnessLogger.startCapture();
						const handled = await handleCall(
							executionId,
							match[2],
							{
								method: req.method ?? 'POST',
								url: req.url ?? '',
								headers,
								rawBody: Buffer.concat(chunks),
								query: Object.fromEntries(url.searchParams),
							},
							response,
							capture.lines,
						).finally(() => capture.stop());
						return handled;
					});
				}
				const body = parseMaybeJson(response.text);
				calls.push({
					executionId,
					status: response.statusCode,
					body,
					resumed: outcome.resumed,
					at: Date.now(),
				});
				res.writeHead(response.statusCode || 200, {
					'content-type': 'application/json',
					...response.headers,
				});
				res.end(response.text);
				// The call is answered; the resumed run goes on (one harness run at a time).
				if (outcome.continueWith) await inRunQueue(outcome.continueWith);
			})();
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook-waiting`;

	const get = (executionId: string): StoredExecution => {
		const stored = executions.get(executionId);
		if (!stored) throw new Error(`No execution ${executionId} was stored`);
		return stored;
	};

	return {
		baseUrl,
		calls,
		async run(options) {
			let ended: EndedRun | undefined;
			const result = await runWorkflow({
				...options,
				webhookWaitingBaseUrl: baseUrl,
				onRunEnded: (value) => (ended = value),
			});
			if (ended) {
				lastExecutionId = ended.executionId;
				store(ended, result);
			}
			return result;
		},
		lastExecutionId: () => lastExecutionId,
		status: (executionId) => get(executionId).status,
		waitTill: (executionId) => get(executionId).waitTill,
		result: (executionId) => get(executionId).result,
		async finished(executionId, timeoutMs = 30_000) {
			const done = () => !['waiting', 'running'].includes(get(executionId).status);
			if (done()) return get(executionId).result;
			await new Promise<void>((resolve, reject) => {
				const timer = setTimeout(() => {
					settled.delete(check);
					reject(
						new Error(
							`Execution ${executionId} still ${get(executionId).status} after ${timeoutMs} ms`,
						),
					);
				}, timeoutMs);
				const check = () => {
					if (!done()) return;
					clearTimeout(timer);
					settled.delete(check);
					resolve();
				};
				settled.add(check);
			});
			return get(executionId).result;
		},
		async reachWaitTill(executionId) {
			return await inRunQueue(async () => {
				const stored = get(executionId);
				if (stored.finished)
					throw new Error('The execution did succeed and can so not be started again.');
				return await runOn(stored, JSON.parse(stored.data) as IRunExecutionData);
			});
		},
		async stop(executionId) {
			await inRunQueue(async () => {
				const stored = get(executionId);
				const data = JSON.parse(stored.data) as IRunExecutionData;
				data.resultData.error = toExecutionError(new ManualExecutionCancelledError(executionId));
				stored.data = JSON.stringify(data);
				stored.status = 'canceled';
				stored.waitTill = undefined;
			});
		},
		async close() {
			await new Promise<void>((resolve) => server.close(() => resolve()));
		},
	};
}
