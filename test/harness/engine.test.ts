import type {
	IAuthenticate,
	ICredentialDataDecryptedObject,
	ICredentialTestRequest,
	ICredentialType,
	IExecuteFunctions,
	IHttpRequestOptions,
	INode,
	INodeExecutionData,
	INodeParameters,
	INodeProperties,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

import type { HarnessWorkflow, RunWorkflowOptions } from './index';
import { runWorkflow, testCredential } from './index';

const GOOD_TOKEN = 'r8_harness-good-token-0123456789';
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** What the local API received, for assertions. */
const received: Array<{
	method?: string;
	url?: string;
	headers: IncomingHttpHeaders;
	body: string;
}> = [];

/** A tiny stand-in API: GET /account checks the token, POST /render returns "image" bytes. */
function startApi(): Promise<Server> {
	const server = createServer((request, response) => {
		const chunks: Buffer[] = [];
		request.on('data', (chunk: Buffer) => chunks.push(chunk));
		request.on('end', () => {
			const body = Buffer.concat(chunks).toString('utf8');
			received.push({ method: request.method, url: request.url, headers: request.headers, body });
			const authorized =
				request.headers.authorization === `Bearer ${GOOD_TOKEN}` ||
				request.headers['x-api-key'] === GOOD_TOKEN;
			if (!authorized) {
				response.writeHead(401, { 'content-type': 'application/json' });
				response.end(JSON.stringify({ detail: 'Unauthenticated' }));
			} else if (request.method === 'GET' && request.url === '/account') {
				response.writeHead(200, { 'content-type': 'application/json' });
				response.end(JSON.stringify({ username: 'harness' }));
			} else if (request.method === 'POST' && request.url === '/render') {
				const { prompt } = JSON.parse(body) as { prompt: string };
				response.writeHead(200, { 'content-type': 'image/png' });
				response.end(Buffer.concat([PNG_SIGNATURE, Buffer.from(prompt)]));
			} else {
				response.writeHead(404);
				response.end();
			}
		});
	});
	return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

class HarnessTestApi implements ICredentialType {
	name = 'harnessTestApi';

	displayName = 'Harness Test API';

	properties: INodeProperties[] = [
		{
			displayName: 'API Token',
			name: 'apiToken',
			type: 'string',
			typeOptions: { password: true },
			default: '',
		},
		{ displayName: 'Base URL', name: 'baseUrl', type: 'string', default: 'http://127.0.0.1:9' },
	];

	authenticate: IAuthenticate = {
		type: 'generic',
		properties: { headers: { Authorization: '=Bearer {{$credentials.apiToken}}' } },
	};

	test: ICredentialTestRequest = {
		request: { baseURL: '={{$credentials.baseUrl}}', url: '/account', method: 'GET' },
	};
}

/** Same API, but a function-valued `authenticate` (sends the token as X-Api-Key). */
class HarnessKeyApi extends HarnessTestApi {
	name = 'harnessKeyApi';

	authenticate: IAuthenticate = async (
		credentials: ICredentialDataDecryptedObject,
		requestOptions: IHttpRequestOptions,
	): Promise<IHttpRequestOptions> => ({
		...requestOptions,
		headers: { ...requestOptions.headers, 'X-Api-Key': credentials.apiToken as string },
	});
}

/** Throwaway node: renders each item's prompt through the API, fails, or waits to be stopped. */
class HarnessProbe implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Harness Probe',
		name: 'harnessProbe',
		group: ['transform'],
		version: 1,
		description: 'Test node for the harness',
		defaults: { name: 'Probe' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'harnessTestApi', required: true }],
		properties: [
			{
				displayName: 'Operation',
				name: 'operation',
				type: 'options',
				options: [
					{ name: 'Render', value: 'render' },
					{ name: 'Fail', value: 'fail' },
					{ name: 'Wait for Cancel', value: 'waitForCancel' },
				],
				default: 'render',
			},
			{ displayName: 'Prompt', name: 'prompt', type: 'string', default: '' },
		],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const output: INodeExecutionData[] = [];
		for (let i = 0; i < items.length; i++) {
			try {
				const operation = this.getNodeParameter('operation', i) as string;
				if (operation === 'fail') {
					throw new NodeOperationError(this.getNode(), 'Probe failed on purpose', {
						itemIndex: i,
						description: 'The test asked for it',
					});
				}
				if (operation === 'waitForCancel') {
					const signal = this.getExecutionCancelSignal();
					await new Promise<void>((resolve) => {
						if (!signal || signal.aborted) return resolve();
						signal.addEventListener('abort', () => resolve(), { once: true });
					});
					throw new NodeOperationError(this.getNode(), 'Stopped while waiting', { itemIndex: i });
				}
				const prompt = this.getNodeParameter('prompt', i) as string;
				const { baseUrl } = await this.getCredentials<{ baseUrl: string }>('harnessTestApi', i);
				const bytes = (await this.helpers.httpRequestWithAuthentication.call(
					this,
					'harnessTestApi',
					{
						method: 'POST',
						url: `${baseUrl}/render`,
						body: { prompt },
						json: true,
						encoding: 'arraybuffer',
					},
				)) as Buffer;
				const binary = await this.helpers.prepareBinaryData(
					Buffer.from(bytes),
					'out.png',
					'image/png',
				);
				output.push({
					json: { prompt, bytes: bytes.length },
					binary: { data: binary },
					pairedItem: { item: i },
				});
			} catch (error) {
				if (this.continueOnFail()) {
					output.push({ json: { error: (error as Error).message }, pairedItem: { item: i } });
					continue;
				}
				throw error;
			}
		}
		return [output];
	}
}

const TRIGGER = 'When clicking ‘Execute workflow’';

function probeWorkflow(parameters: INodeParameters, probe: Partial<INode> = {}): HarnessWorkflow {
	return {
		name: 'Harness self-test',
		nodes: [
			{
				id: 'a1',
				name: TRIGGER,
				type: 'n8n-nodes-base.manualTrigger',
				typeVersion: 1,
				position: [0, 0],
				parameters: {},
			},
			{
				id: 'a2',
				name: 'Probe',
				// As n8n exports a community node: "<package name>.<node name>".
				type: 'n8n-nodes-replicate-inpainting.harnessProbe',
				typeVersion: 1,
				position: [220, 0],
				parameters,
				credentials: { harnessTestApi: { id: 'cred-1', name: 'Harness Test API' } },
				...probe,
			},
			{
				id: 'a3',
				name: 'Sticky Note',
				type: 'n8n-nodes-base.stickyNote',
				typeVersion: 1,
				position: [0, -200],
				parameters: { content: 'A note that never runs' },
			},
		],
		connections: {
			[TRIGGER]: { main: [[{ node: 'Probe', type: NodeConnectionTypes.Main, index: 0 }]] },
		},
	};
}

let server: Server;
let baseUrl: string;
let scratchDir: string;

function baseOptions(workflow: HarnessWorkflow | string): RunWorkflowOptions {
	return {
		workflow,
		nodeTypes: [HarnessProbe],
		credentialTypes: [HarnessTestApi],
		credentials: {
			'cred-1': { type: 'harnessTestApi', data: { apiToken: GOOD_TOKEN, baseUrl } },
		},
	};
}

beforeAll(async () => {
	server = await startApi();
	baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	scratchDir = mkdtempSync(path.join(tmpdir(), 'harness-test-'));
});

afterAll(async () => {
	server.closeAllConnections();
	await new Promise((resolve) => server.close(resolve));
	rmSync(scratchDir, { recursive: true, force: true });
});

beforeEach(() => {
	received.length = 0;
});

describe.each(['default', 'filesystem'] as const)(
	'runWorkflow, binary data mode %s',
	(binaryDataMode) => {
		test('authenticates the request, returns items with binary data and paired items', async () => {
			const result = await runWorkflow({
				...baseOptions(
					probeWorkflow({ operation: 'render', prompt: '={{ $json.subject }} on a beach' }),
				),
				binaryDataMode,
				inputItems: [{ json: { subject: 'a cat' } }, { json: { subject: 'a dog' } }],
			});

			expect(result.error).toBeUndefined();
			expect(result.status).toBe('success');
			const renders = received.filter((request) => request.url === '/render');
			expect(renders).toHaveLength(2);
			expect(renders[0].headers.authorization).toBe(`Bearer ${GOOD_TOKEN}`);
			expect(JSON.parse(renders[1].body)).toEqual({ prompt: 'a dog on a beach' });

			const items = result.items('Probe');
			expect(items.map((item) => item.json)).toEqual([
				{ prompt: 'a cat on a beach', bytes: 24 },
				{ prompt: 'a dog on a beach', bytes: 24 },
			]);
			expect(items.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 1 }]);

			const binary = items[1].binary!.data;
			expect(binary).toMatchObject({
				mimeType: 'image/png',
				fileName: 'out.png',
				fileExtension: 'png',
			});
			if (binaryDataMode === 'filesystem') {
				expect(binary.id).toMatch(/^filesystem-v2:/);
			} else {
				expect(binary.id).toBeUndefined();
			}
			expect(await result.binaryBuffer(items[1])).toEqual(
				Buffer.concat([PNG_SIGNATURE, Buffer.from('a dog on a beach')]),
			);
			// The sticky note is never executed.
			expect(result.run.data.resultData.runData['Sticky Note']).toBeUndefined();
			// n8n logged the run, and never the token.
			expect(result.logs.length).toBeGreaterThan(0);
			expect(result.logs.join('\n')).not.toContain(GOOD_TOKEN);
		});

		test('stand-in Read/Write Files nodes move binary data through the engine', async () => {
			const source = path.join(scratchDir, `source-${binaryDataMode}.bin`);
			const target = path.join(scratchDir, `copy-${binaryDataMode}.bin`);
			writeFileSync(source, Buffer.from('file bytes \u00e9'));
			const result = await runWorkflow({
				...baseOptions({
					nodes: [
						{
							id: 'b1',
							name: TRIGGER,
							type: 'n8n-nodes-base.manualTrigger',
							typeVersion: 1,
							position: [0, 0],
							parameters: {},
						},
						{
							id: 'b2',
							name: 'Read',
							type: 'n8n-nodes-base.readWriteFile',
							typeVersion: 1,
							position: [200, 0],
							parameters: {
								fileSelector: `={{ "${source}" }}`,
								options: { dataPropertyName: 'file' },
							},
						},
						{
							id: 'b3',
							name: 'Write',
							type: 'n8n-nodes-base.readWriteFile',
							typeVersion: 1,
							position: [400, 0],
							parameters: { operation: 'write', fileName: target, dataPropertyName: 'file' },
						},
					],
					connections: {
						[TRIGGER]: { main: [[{ node: 'Read', type: NodeConnectionTypes.Main, index: 0 }]] },
						Read: { main: [[{ node: 'Write', type: NodeConnectionTypes.Main, index: 0 }]] },
					},
				}),
				binaryDataMode,
			});

			expect(result.error).toBeUndefined();
			const [read] = result.items('Read');
			expect(read.json).toMatchObject({ fileName: path.basename(source) });
			expect(await result.binaryBuffer(read, 'file')).toEqual(readFileSync(source));
			expect(result.items('Write')[0].json.fileName).toBe(target);
			expect(readFileSync(target)).toEqual(readFileSync(source));
		});
	},
);

test('reads a workflow JSON file', async () => {
	const file = path.join(scratchDir, 'workflow.json');
	writeFileSync(
		file,
		JSON.stringify(probeWorkflow({ operation: 'render', prompt: 'from a file' })),
	);
	const result = await runWorkflow(baseOptions(file));
	expect(result.status).toBe('success');
	expect(result.items('Probe')[0].json).toEqual({ prompt: 'from a file', bytes: 19 });
});

test('a NodeOperationError becomes the run error', async () => {
	const result = await runWorkflow(baseOptions(probeWorkflow({ operation: 'fail' })));

	expect(result.status).toBe('error');
	expect(result.error).toMatchObject({
		message: 'Probe failed on purpose',
		description: 'The test asked for it',
		node: { name: 'Probe' },
	});
	expect(result.nodeError('Probe')?.message).toBe('Probe failed on purpose');
	expect(result.items('Probe')).toEqual([]);
});

test('continue on fail turns the error into an output item', async () => {
	const result = await runWorkflow(
		baseOptions(probeWorkflow({ operation: 'fail' }, { onError: 'continueRegularOutput' })),
	);

	expect(result.status).toBe('success');
	expect(result.error).toBeUndefined();
	expect(result.items('Probe')).toEqual([
		{ json: { error: 'Probe failed on purpose' }, pairedItem: { item: 0 } },
	]);
});

test('a wrong token makes the request fail with the API error', async () => {
	const options = baseOptions(probeWorkflow({ operation: 'render', prompt: 'x' }));
	options.credentials = {
		'cred-1': { type: 'harnessTestApi', data: { apiToken: 'wrong', baseUrl } },
	};
	const result = await runWorkflow(options);

	expect(result.status).toBe('error');
	expect(result.error?.message).toMatch(/401|Authorization failed/i);
	expect(received[0].headers.authorization).toBe('Bearer wrong');
});

test('stopAfterMs cancels a node waiting on its cancel signal', async () => {
	const started = Date.now();
	const result = await runWorkflow({
		...baseOptions(probeWorkflow({ operation: 'waitForCancel' })),
		stopAfterMs: 200,
	});

	expect(Date.now() - started).toBeLessThan(5_000);
	expect(result.status).toBe('canceled');
	expect(result.run.status).toBe('canceled');
	expect(result.error?.message).toBe('The execution was cancelled manually');
	// The node saw the abort and unwound before runWorkflow returned.
	expect(result.nodeError('Probe')?.message).toBe('Stopped while waiting');
});

test('stand-in Edit Fields and No Operation nodes, started from a node that is not a trigger', async () => {
	const result = await runWorkflow({
		...baseOptions({
			nodes: [
				{
					id: 'c1',
					name: TRIGGER,
					type: 'n8n-nodes-base.manualTrigger',
					typeVersion: 1,
					position: [0, 0],
					parameters: {},
				},
				{
					id: 'c2',
					name: 'Edit Fields',
					type: 'n8n-nodes-base.set',
					typeVersion: 3.4,
					position: [200, 0],
					parameters: {
						assignments: {
							assignments: [
								{ id: 'f1', name: 'greeting', value: '=Hello {{ $json.name }}', type: 'string' },
								{ id: 'f2', name: 'size.width', value: '512', type: 'number' },
							],
						},
						includeOtherFields: true,
						options: {},
					},
				},
				{
					id: 'c3',
					name: 'Done',
					type: 'n8n-nodes-base.noOp',
					typeVersion: 1,
					position: [400, 0],
					parameters: {},
				},
			],
			connections: {
				[TRIGGER]: { main: [[{ node: 'Edit Fields', type: NodeConnectionTypes.Main, index: 0 }]] },
				'Edit Fields': { main: [[{ node: 'Done', type: NodeConnectionTypes.Main, index: 0 }]] },
			},
		}),
		startNode: 'Edit Fields',
		inputItems: [{ json: { name: 'Ada' } }],
	});

	expect(result.error).toBeUndefined();
	expect(result.run.data.resultData.runData[TRIGGER]).toBeUndefined();
	expect(result.items('Done')).toEqual([
		{ json: { name: 'Ada', greeting: 'Hello Ada', size: { width: 512 } }, pairedItem: { item: 0 } },
	]);
});

test('a missing required parameter is reported as the workflow having issues', async () => {
	const workflow = probeWorkflow({});
	workflow.nodes[1] = {
		id: 'd1',
		name: 'Read',
		type: 'n8n-nodes-base.readWriteFile',
		typeVersion: 1,
		position: [200, 0],
		parameters: { fileSelector: '' },
	};
	workflow.connections = {
		[TRIGGER]: { main: [[{ node: 'Read', type: NodeConnectionTypes.Main, index: 0 }]] },
	};
	const result = await runWorkflow(baseOptions(workflow));

	expect(result.status).toBe('error');
	expect(result.error?.message).toMatch(/workflow has issues/i);
	expect(result.error?.description).toContain('File(s) Selector');
});

test('stopAfterMs leaves a run that finishes in time alone', async () => {
	const result = await runWorkflow({
		...baseOptions(probeWorkflow({ operation: 'render', prompt: 'quick' })),
		stopAfterMs: 10_000,
	});
	expect(result.status).toBe('success');
});

test('unknown node types are reported before anything runs', async () => {
	const workflow = probeWorkflow({});
	workflow.nodes[1].type = 'n8n-nodes-base.httpRequest';
	await expect(runWorkflow(baseOptions(workflow))).rejects.toThrow(
		/Unknown node type\(s\) n8n-nodes-base\.httpRequest/,
	);
});

describe('testCredential', () => {
	test('OK for the right token', async () => {
		await expect(
			testCredential(HarnessTestApi, { apiToken: GOOD_TOKEN, baseUrl }),
		).resolves.toEqual({
			status: 'OK',
			message: 'Connection successful!',
		});
		expect(received[0]).toMatchObject({ method: 'GET', url: '/account' });
		expect(received[0].headers.authorization).toBe(`Bearer ${GOOD_TOKEN}`);
	});

	// The messages are NodeApiError's, as n8n 2.8's credential test shows them.
	test('Error for a wrong token', async () => {
		const result = await testCredential(HarnessTestApi, { apiToken: 'wrong', baseUrl });
		expect(result).toEqual({
			status: 'Error',
			message: 'Authorization failed - please check your credentials',
		});
		expect(received[0].headers.authorization).toBe('Bearer wrong');
	});

	test('Error when the API is unreachable', async () => {
		const result = await testCredential(HarnessTestApi, {
			apiToken: GOOD_TOKEN,
			baseUrl: 'http://127.0.0.1:9',
		});
		expect(result).toEqual({
			status: 'Error',
			message: 'The service refused the connection - perhaps it is offline',
		});
	});

	test('applies a function-valued authenticate', async () => {
		const result = await testCredential(HarnessKeyApi, { apiToken: GOOD_TOKEN, baseUrl });
		expect(result.status).toBe('OK');
		expect(received[0].headers['x-api-key']).toBe(GOOD_TOKEN);
		expect(received[0].headers.authorization).toBeUndefined();
	});
});
