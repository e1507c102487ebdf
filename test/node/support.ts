/** Runs the Replicate Inpainting node through n8n's real engine against the test server. */
import type {
	IDataObject,
	INodeExecutionData,
	INodeParameters,
	IWebhookFunctions,
} from 'n8n-workflow';

import { ReplicateInpainting } from '../../nodes/ReplicateInpainting/ReplicateInpainting.node';
import type { HarnessWorkflow, WaitingServer, WorkflowRunResult } from '../harness';
import { runWorkflow } from '../harness';
import type { FakeReplicate } from '../../tools/fake-replicate';
import { CREDENTIAL_ID, credentialOptions, serverCredential } from '../support/credentials';
import { useFakeReplicate } from '../support/fakeReplicate';

export const NODE_NAME = 'Replicate Inpainting';
export const NODE_TYPE = 'n8n-nodes-replicate-inpainting.replicateInpainting';
export { CREDENTIAL_ID };

export interface NodeRunOptions {
	inputItems?: INodeExecutionData[];
	/** The credential's Base URL; the server's API URL by default. */
	baseUrl?: string;
	token?: string;
	/** On Error: true is "Continue" (errors as regular items), 'errorOutput' is "Continue (using error output)". */
	continueOnFail?: boolean | 'errorOutput';
	binaryDataMode?: 'default' | 'filesystem';
	stopAfterMs?: number;
}

export interface NodeRun {
	result: WorkflowRunResult;
	/** The node's output items (empty when it failed). */
	items: INodeExecutionData[];
	/** The node's error message, if the run failed in it. */
	errorMessage?: string;
	errorDescription?: string;
}

/** URL inputs from the server's sample origin, so a test only states what it changes. */
export function urlInputs(server: FakeReplicate): INodeParameters {
	return {
		prompt: 'a red armchair',
		imageSource: 'url',
		imageUrl: server.sampleImageUrl,
		maskSource: 'url',
		maskUrl: server.sampleMaskUrl,
	};
}

/** The Manual Trigger the test workflows start from (a fresh object each time). */
export const startNode = (): HarnessWorkflow['nodes'][number] => ({
	id: 'start',
	name: 'Start',
	type: 'n8n-nodes-base.manualTrigger',
	typeVersion: 1,
	position: [0, 0],
	parameters: {},
});

export function inpaintingWorkflow(
	parameters: INodeParameters,
	continueOnFail: NodeRunOptions['continueOnFail'] = false,
): HarnessWorkflow {
	const onError =
		continueOnFail === 'errorOutput' ? 'continueErrorOutput' : 'continueRegularOutput';
	return {
		name: 'Replicate Inpainting test',
		nodes: [
			startNode(),
			{
				id: 'inpaint',
				name: NODE_NAME,
				type: NODE_TYPE,
				typeVersion: 1,
				position: [200, 0],
				parameters,
				credentials: { replicateInpaintingApi: { id: CREDENTIAL_ID, name: 'Replicate test' } },
				...(continueOnFail
					? { onError: onError as 'continueErrorOutput' | 'continueRegularOutput' }
					: {}),
			},
		],
		connections: { Start: { main: [[{ node: NODE_NAME, type: 'main', index: 0 }]] } },
	};
}

/** Start → Read/Write Files from Disk (reads `filePath`, an expression, into binary `data`) → the node. */
export function readFileWorkflow(filePath: string, parameters: INodeParameters): HarnessWorkflow {
	const workflow = inpaintingWorkflow(parameters);
	workflow.nodes.splice(1, 0, {
		id: 'read',
		name: 'Read',
		type: 'n8n-nodes-base.readWriteFile',
		typeVersion: 1,
		position: [100, 0],
		parameters: { fileSelector: filePath },
	});
	workflow.connections = {
		Start: { main: [[{ node: 'Read', type: 'main', index: 0 }]] },
		Read: { main: [[{ node: NODE_NAME, type: 'main', index: 0 }]] },
	};
	return workflow;
}

export async function runNode(
	server: FakeReplicate,
	parameters: INodeParameters,
	options: NodeRunOptions = {},
): Promise<NodeRun> {
	const result = await runWorkflow({
		workflow: inpaintingWorkflow(parameters, options.continueOnFail),
		nodeTypes: [ReplicateInpainting],
		...credentialOptions(
			serverCredential(server, { apiToken: options.token, baseUrl: options.baseUrl }),
		),
		inputItems: options.inputItems,
		binaryDataMode: options.binaryDataMode,
		stopAfterMs: options.stopAfterMs,
	});
	const error = result.nodeError(NODE_NAME);
	return {
		result,
		items: error ? [] : result.items(NODE_NAME),
		errorMessage: error?.message,
		errorDescription: (error as { description?: string } | undefined)?.description ?? undefined,
	};
}

/** Requests the API origin received (the output origin is not the API). */
export function apiRequests(server: FakeReplicate) {
	return server.requests.filter((request) => request.origin === 'api');
}

export function createRequests(server: FakeReplicate) {
	return apiRequests(server).filter(
		(request) => request.method === 'POST' && /\/predictions$/.test(request.path),
	);
}

/** Waits until `check` holds (the server finishes cancels in the background after a stop). */
export async function eventually(check: () => boolean, timeoutMs = 5_000): Promise<boolean> {
	const until = Date.now() + timeoutMs;
	while (!check()) {
		if (Date.now() > until) return false;
		await new Promise((resolve) => setTimeout(resolve, 25));
	}
	return true;
}

export function binaryItem(
	binary: Record<string, { content: Buffer; fileName: string; mimeType: string }>,
	json: IDataObject = {},
): INodeExecutionData {
	return {
		json,
		binary: Object.fromEntries(
			Object.entries(binary).map(([name, file]) => [
				name,
				{
					data: file.content.toString('base64'),
					fileName: file.fileName,
					mimeType: file.mimeType,
					fileSize: String(file.content.length),
				},
			]),
		),
	};
}

/**
 * The fake Replicate of an operation's tests: every test starts from the same settings, and
 * whatever a test did, the token never reached the output origin.
 */
export function useOperationServer(): FakeReplicate {
	const server = useFakeReplicate({ modelTimeMs: 50 });
	beforeEach(() => {
		server.set({ modelTimeMs: 50, honourPreferWait: true, filesEndpoint: true });
	});
	afterEach(() => {
		expect(server.stats().tokenToNonApiOrigin).toBe(0);
	});
	return server;
}

export interface ParkOptions {
	inputItems?: INodeExecutionData[];
	continueOnFail?: boolean | 'errorOutput';
	/** Credential fields over the server's (e.g. another Base URL). */
	credential?: IDataObject;
	/** Stops the execution this long after it started (while it creates, before it parks). */
	stopAfterMs?: number;
}

/** Starts an execution of the node in Wait Mode: Webhook; it parks (status waiting) unless it fails first. */
export async function park(
	waiting: WaitingServer,
	server: FakeReplicate,
	parameters: INodeParameters,
	options: ParkOptions = {},
): Promise<{ executionId: string; parked: WorkflowRunResult }> {
	const workflow = inpaintingWorkflow(
		{ waitMode: 'webhook', ...parameters },
		options.continueOnFail === true,
	);
	if (options.continueOnFail === 'errorOutput') workflow.nodes[1].onError = 'continueErrorOutput';
	const parked = await waiting.run({
		workflow,
		nodeTypes: [ReplicateInpainting],
		...credentialOptions(serverCredential(server, options.credential)),
		inputItems: options.inputItems,
		stopAfterMs: options.stopAfterMs,
	});
	return { executionId: waiting.lastExecutionId(), parked };
}

/**
 * Makes the node's resume calls run as in other n8n processes: each process is a fresh copy of the
 * node's modules, with nothing of the execution in memory, only what n8n stored with it. With
 * `processes` 'fresh', every call gets a process of its own (a restart before each call); with a
 * number, the calls go round-robin over that many (webhook processes behind a load balancer).
 * Returns the function that puts the node back.
 */
export function resumeCallsInProcesses(processes: 'fresh' | number): () => void {
	const original = ReplicateInpainting.prototype.webhook;
	const load = () => {
		let copy!: typeof ReplicateInpainting;
		jest.isolateModules(() => {
			// eslint-disable-next-line @typescript-eslint/no-require-imports
			copy =
				require('../../nodes/ReplicateInpainting/ReplicateInpainting.node').ReplicateInpainting;
		});
		return copy;
	};
	const pool = processes === 'fresh' ? [] : Array.from({ length: processes }, load);
	let calls = 0;
	ReplicateInpainting.prototype.webhook = async function (this: IWebhookFunctions) {
		const process = processes === 'fresh' ? load() : pool[calls++ % pool.length];
		return await process.prototype.webhook.call(this);
	};
	return () => {
		ReplicateInpainting.prototype.webhook = original;
	};
}
