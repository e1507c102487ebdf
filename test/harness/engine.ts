// First: sets N8N_USER_FOLDER & co. before any n8n setting is read.
import { makeHarnessTempDir } from './environment';

import type { Logger as BackendLogger } from '@n8n/backend-common';
import { GlobalConfig } from '@n8n/config';
import { Container } from '@n8n/di';
import {
	BinaryDataConfig,
	BinaryDataService,
	ErrorReporter,
	ExecuteContext,
	ExecutionLifecycleHooks,
	ExternalSecretsProxy,
	RoutingNode,
	WorkflowExecute,
} from 'n8n-core';
// Not re-exported from n8n-core's index.
import { SSHClientsManager } from 'n8n-core/dist/execution-engine/ssh-clients-manager';
import type {
	ExecutionError,
	ExecutionStatus,
	ICredentialDataDecryptedObject,
	ICredentialTestRequest,
	ICredentialType,
	IConnections,
	INode,
	INodeExecutionData,
	INodeType,
	IPinData,
	IRun,
	IVersionedNodeType,
	IWorkflowBase,
	IWorkflowExecuteAdditionalData,
	IWorkflowSettings,
	WorkflowExecuteMode,
} from 'n8n-workflow';
import {
	ManualExecutionCancelledError,
	UserError,
	Workflow,
	createEmptyRunExecutionData,
	createRunExecutionData,
} from 'n8n-workflow';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import type { HarnessCredential } from './credentials-helper';
import { HarnessCredentialsHelper } from './credentials-helper';
import { harnessLogger, installHarnessLogger } from './logging';
import type { CredentialTypeClass, NodeTypeClass } from './node-types';
import { HarnessCredentialTypes, HarnessNodeTypes } from './node-types';
import { NoOp, standInNodeTypes } from './standin-nodes';

export interface HarnessWorkflow {
	id?: string;
	name?: string;
	nodes: INode[];
	connections: IConnections;
	settings?: IWorkflowSettings;
	/** Pinned output per node name, as in a workflow exported from the editor. */
	pinData?: IPinData;
}

export interface RunWorkflowOptions {
	/** The workflow, or the path of a workflow JSON file as n8n exports it. */
	workflow: HarnessWorkflow | string;
	/** Node classes to register besides the nodes-base stand-ins (the project's nodes). */
	nodeTypes: Array<new () => INodeType | IVersionedNodeType>;
	/** The project's credential classes. */
	credentialTypes: Array<new () => ICredentialType>;
	/** Credentials by the id the workflow's nodes reference (`node.credentials[type].id`). */
	credentials?: Record<string, HarnessCredential>;
	/** n8n's in-memory binary data ('default', the default here) or its filesystem mode. */
	binaryDataMode?: 'default' | 'filesystem';
	/** Node to start from; by default the trigger, else the first node without parents. */
	startNode?: string;
	/** Items fed to the start node: pinned on it if it is a trigger, else given as its input. */
	inputItems?: INodeExecutionData[];
	/** Stop the execution (as the editor's Stop button does) after this many milliseconds. */
	stopAfterMs?: number;
	/**
	 * Package name community node types are prefixed with in workflow JSON
	 * (`<package>.<node name>`); by default the name in the nearest package.json.
	 */
	packageName?: string;
	/** Where `$execution.resumeUrl` points (the waiting-webhook server of test/harness/waiting.ts). */
	webhookWaitingBaseUrl?: string;
	/** Called with what a later resume needs, once the run has ended (waiting or not). */
	onRunEnded?: (ended: EndedRun) => void;
}

/** A finished or parked run with what n8n keeps to resume it (test/harness/waiting.ts). */
export interface EndedRun {
	executionId: string;
	run: IRun;
	workflowBase: IWorkflowBase;
	nodeTypes: HarnessNodeTypes;
	credentialsHelper: HarnessCredentialsHelper;
	binaryDataService: BinaryDataService;
}

export interface WorkflowRunResult {
	/** 'success' | 'error' | 'canceled' | 'waiting' … */
	status: ExecutionStatus | string;
	/** The run's error, if any (message, description, node). */
	error?: ExecutionError;
	run: IRun;
	/** Output items of the node's last run (output 0 unless told otherwise). */
	items(nodeName: string, output?: number): INodeExecutionData[];
	/** The error the node's last run ended with, if any. */
	nodeError(nodeName: string): ExecutionError | undefined;
	/** The bytes of an item's binary property ('data' by default), in either binary-data mode. */
	binaryBuffer(item: INodeExecutionData, property?: string): Promise<Buffer>;
	/** Every line n8n's logger received during the run, all levels. */
	logs: string[];
}

export interface CredentialTestResult {
	status: 'OK' | 'Error';
	message: string;
}

export const MODE: WorkflowExecuteMode = 'manual';

let harnessReady = false;

export function ensureHarnessReady(): void {
	if (harnessReady) return;
	harnessReady = true;
	installHarnessLogger();
	// n8n-core creates this service with every node context, and its constructor starts a 60 s
	// cleanup interval that would keep jest from exiting; its shutdown hook clears it. The
	// service stays usable (SSH tunnels just lose idle cleanup, and no node here uses them).
	Container.get(SSHClientsManager).onShutdown();
}

export function findPackageName(): string | undefined {
	let dir = process.cwd();
	for (;;) {
		const file = path.join(dir, 'package.json');
		if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { name?: string }).name;
		const parent = path.dirname(dir);
		if (parent === dir) return undefined;
		dir = parent;
	}
}

export function buildNodeTypes(
	classes: NodeTypeClass[],
	packageName: string | undefined,
): HarnessNodeTypes {
	const nodeTypes = new HarnessNodeTypes();
	for (const [typeName, StandIn] of Object.entries(standInNodeTypes)) {
		nodeTypes.register(typeName, new StandIn());
	}
	for (const NodeClass of classes) {
		const nodeType = new NodeClass();
		const { name } = nodeType.description;
		nodeTypes.register(name, nodeType);
		if (packageName && !name.includes('.')) nodeTypes.register(`${packageName}.${name}`, nodeType);
	}
	return nodeTypes;
}

/** The URLs n8n derives from its default host/port/endpoints (packages/cli UrlService). */
function instanceUrls() {
	const { protocol, host, port, path: basePath, endpoints } = Container.get(GlobalConfig);
	const baseUrl = `${protocol}://${host}:${port}${basePath.endsWith('/') ? basePath : `${basePath}/`}`;
	return {
		restApiUrl: baseUrl + endpoints.rest,
		instanceBaseUrl: baseUrl,
		formWaitingBaseUrl: baseUrl + endpoints.formWaiting,
		webhookBaseUrl: baseUrl + endpoints.webhook,
		webhookWaitingBaseUrl: baseUrl + endpoints.webhookWaiting,
		webhookTestBaseUrl: baseUrl + endpoints.webhookTest,
	};
}

/** additionalData as packages/cli's `getBase` builds it, minus the database and task runners. */
export function buildAdditionalData(
	credentialsHelper: HarnessCredentialsHelper,
	extra: Partial<IWorkflowExecuteAdditionalData> = {},
): IWorkflowExecuteAdditionalData {
	const additionalData: IWorkflowExecuteAdditionalData = {
		currentNodeExecutionIndex: 0,
		credentialsHelper,
		...instanceUrls(),
		variables: {},
		externalSecretsProxy: Container.get(ExternalSecretsProxy),
		async executeWorkflow() {
			throw new UserError('The test harness cannot run sub-workflows');
		},
		async getRunExecutionData() {
			return undefined;
		},
		async startRunnerTask() {
			throw new UserError('The test harness has no task runners (Code node)');
		},
		logAiEvent(eventName, payload) {
			harnessLogger.debug(`AI event ${eventName}`, { ...payload });
		},
		setExecutionStatus(status) {
			harnessLogger.debug(`Execution status: ${status}`);
		},
		sendDataToUI() {},
		...extra,
	};
	return additionalData;
}

/** A fresh BinaryDataService in the given mode, registered where n8n-core's helpers look. */
export async function initBinaryDataService(
	mode: 'default' | 'filesystem',
): Promise<BinaryDataService> {
	const config = Container.get(BinaryDataConfig);
	config.mode = mode;
	config.localStoragePath = makeHarnessTempDir('binary-data');
	const service = new BinaryDataService(
		config,
		Container.get(ErrorReporter),
		harnessLogger as unknown as BackendLogger,
	);
	await service.init();
	Container.set(BinaryDataService, service);
	return service;
}

function loadWorkflow(source: HarnessWorkflow | string): HarnessWorkflow {
	const data: HarnessWorkflow =
		typeof source === 'string'
			? (JSON.parse(readFileSync(source, 'utf8')) as HarnessWorkflow)
			: source;
	// n8n writes default parameter values into the nodes; keep the caller's objects untouched.
	return structuredClone({
		id: data.id,
		name: data.name,
		nodes: data.nodes,
		connections: data.connections,
		settings: data.settings,
		pinData: data.pinData,
	});
}

function findStartNode(workflow: Workflow, nodeTypes: HarnessNodeTypes, name?: string): INode {
	if (name !== undefined) {
		const node = workflow.getNode(name);
		if (!node) throw new UserError(`Start node "${name}" is not in the workflow`);
		return node;
	}
	const trigger = workflow.getStartNode();
	if (trigger) return trigger;
	const withoutParents = Object.values(workflow.nodes).find(
		(node) =>
			!node.disabled &&
			nodeTypes.getByNameAndVersion(node.type, node.typeVersion).description.outputs.length > 0 &&
			workflow.getParentNodes(node.name).length === 0,
	);
	if (!withoutParents) throw new UserError('The workflow has no node to start from');
	return withoutParents;
}

function isTriggerLike(nodeType: INodeType): boolean {
	const { inputs } = nodeType.description;
	return Boolean(
		nodeType.trigger ??
			nodeType.poll ??
			nodeType.webhook ??
			(Array.isArray(inputs) && !inputs.length),
	);
}

/** n8n's stored form of an error: its own properties plus message and stack. */
export function toExecutionError(
	error: Error,
	extra: Record<string, unknown> = {},
): ExecutionError {
	return { ...error, message: error.message, stack: error.stack, ...extra } as ExecutionError;
}

export function makeResult(
	run: IRun,
	binaryDataService: BinaryDataService,
	logs: string[],
): WorkflowRunResult {
	const lastTask = (nodeName: string) => run.data.resultData.runData[nodeName]?.at(-1);
	return {
		status: run.status,
		error: run.data.resultData.error,
		run,
		logs,
		items(nodeName, output = 0) {
			const task = lastTask(nodeName);
			if (!task) {
				const ran = Object.keys(run.data.resultData.runData).join(', ') || 'none';
				throw new Error(`Node "${nodeName}" did not run (nodes that ran: ${ran})`);
			}
			return task.data?.main?.[output] ?? [];
		},
		nodeError(nodeName) {
			return lastTask(nodeName)?.error;
		},
		async binaryBuffer(item, property = 'data') {
			const binary = item.binary?.[property];
			if (!binary) {
				const present = Object.keys(item.binary ?? {}).join(', ') || 'none';
				throw new Error(`The item has no binary property "${property}" (present: ${present})`);
			}
			return await binaryDataService.getAsBuffer(binary);
		},
	};
}

let executionCounter = 0;

async function executeWorkflow(options: RunWorkflowOptions): Promise<WorkflowRunResult> {
	ensureHarnessReady();
	const capture = harnessLogger.startCapture();
	try {
		const workflowData = loadWorkflow(options.workflow);
		const nodeTypes = buildNodeTypes(options.nodeTypes, options.packageName ?? findPackageName());
		const unknownTypes = workflowData.nodes
			.map((node) => node.type)
			.filter((type) => !nodeTypes.has(type));
		if (unknownTypes.length) {
			throw new UserError(
				`Unknown node type(s) ${[...new Set(unknownTypes)].join(', ')}; pass the class in \`nodeTypes\``,
			);
		}
		const credentialTypes = new HarnessCredentialTypes(
			options.credentialTypes.map((CredentialClass) => new CredentialClass()),
			nodeTypes,
		);
		const credentialsHelper = new HarnessCredentialsHelper(credentialTypes, options.credentials);
		const binaryDataService = await initBinaryDataService(options.binaryDataMode ?? 'default');

		const executionId = String(++executionCounter);
		// New workflows in n8n get execution order v1; an export without settings means that.
		const settings: IWorkflowSettings = { executionOrder: 'v1', ...workflowData.settings };
		const pinData: IPinData = { ...workflowData.pinData };
		const workflow = new Workflow({
			id: workflowData.id ?? 'harness-workflow',
			name: workflowData.name,
			nodes: workflowData.nodes,
			connections: workflowData.connections,
			active: false,
			nodeTypes,
			settings,
			pinData,
		});

		const startNode = findStartNode(workflow, nodeTypes, options.startNode);
		let startInput: INodeExecutionData[] = [{ json: {} }];
		if (options.inputItems) {
			if (isTriggerLike(nodeTypes.getByNameAndVersion(startNode.type, startNode.typeVersion))) {
				pinData[startNode.name] = options.inputItems;
			} else {
				startInput = options.inputItems;
			}
		}

		const workflowBase: IWorkflowBase = {
			id: workflow.id,
			name: workflow.name ?? 'Harness workflow',
			active: false,
			isArchived: false,
			activeVersionId: null,
			createdAt: new Date(),
			updatedAt: new Date(),
			nodes: workflowData.nodes,
			connections: workflowData.connections,
			settings,
			pinData,
		};
		const hooks = new ExecutionLifecycleHooks(MODE, executionId, workflowBase);
		const { executionTimeout } = settings;
		const additionalData = buildAdditionalData(credentialsHelper, {
			executionId,
			hooks,
			...(options.webhookWaitingBaseUrl
				? { webhookWaitingBaseUrl: options.webhookWaitingBaseUrl }
				: {}),
			workflowSettings: settings,
			executionTimeoutTimestamp:
				executionTimeout !== undefined && executionTimeout > 0
					? Date.now() + executionTimeout * 1000
					: undefined,
		});

		const runExecutionData = createRunExecutionData({
			resultData: { pinData },
			executionData: {
				nodeExecutionStack: [{ node: startNode, data: { main: [startInput] }, source: null }],
			},
		});
		const workflowExecute = new WorkflowExecute(additionalData, MODE, runExecutionData);

		let execution: ReturnType<WorkflowExecute['processRunExecutionData']>;
		const startedAt = new Date();
		try {
			execution = workflowExecute.processRunExecutionData(workflow);
		} catch (error) {
			// Thrown before the run starts, e.g. WorkflowHasIssuesError for a missing required parameter.
			const issues = workflowExecute.checkReadyForExecution(workflow, {
				startNode: startNode.name,
				pinDataNodeNames: Object.keys(pinData),
			});
			const run: IRun = {
				data: createRunExecutionData({
					resultData: {
						error: toExecutionError(
							error as Error,
							issues ? { description: `Node issues: ${JSON.stringify(issues)}` } : {},
						),
					},
					executionData: null,
				}),
				finished: false,
				mode: MODE,
				startedAt,
				stoppedAt: new Date(),
				storedAt: 'db',
				status: 'error',
			};
			return makeResult(run, binaryDataService, capture.lines);
		}

		const stopTimer =
			options.stopAfterMs === undefined
				? undefined
				: setTimeout(() => {
						// What n8n's ActiveExecutions.stopExecution does; the engine then aborts the signal
						// nodes get from getExecutionCancelSignal().
						execution.cancel();
					}, options.stopAfterMs);
		let run: IRun;
		try {
			// Resolves once the engine has unwound, also after a cancel, so no node is left running.
			run = await execution;
		} finally {
			clearTimeout(stopTimer);
		}

		// (Only true when the cancel came while the run was still going.)
		if (execution.isCanceled) {
			// n8n records a stopped run as 'canceled' with a ManualExecutionCancelledError
			// (ExecutionRepository.stopDuringRun), whatever the interrupted node threw.
			run.status = 'canceled';
			run.finished = false;
			run.data.resultData.error = toExecutionError(new ManualExecutionCancelledError(executionId));
		}
		options.onRunEnded?.({
			executionId,
			run,
			workflowBase,
			nodeTypes,
			credentialsHelper,
			binaryDataService,
		});
		return makeResult(run, binaryDataService, capture.lines);
	} finally {
		capture.stop();
	}
}

// Runs share n8n's DI container (binary data service, config), so they go one at a time.
let runQueue: Promise<unknown> = Promise.resolve();

/** Runs `work` once every earlier harness run (workflow or webhook) has finished. */
export async function inRunQueue<T>(work: () => Promise<T>): Promise<T> {
	const result = runQueue.then(work);
	runQueue = result.catch(() => undefined);
	return await result;
}

/** Runs a workflow through n8n-core's WorkflowExecute, as a manual execution in the editor. */
export async function runWorkflow(options: RunWorkflowOptions): Promise<WorkflowRunResult> {
	return await inRunQueue(async () => await executeWorkflow(options));
}

/**
 * Tests credentials as n8n's credential "Test" button does for a credential type with a
 * `test.request` (packages/cli CredentialsTester): the request runs as the routing of a
 * temporary noOp node, so its expressions resolve against the credential data and the type's
 * `authenticate` is applied, and n8n-core's request helper sends it.
 */
export async function testCredential(
	credentialTypeClass: CredentialTypeClass,
	data: ICredentialDataDecryptedObject,
): Promise<CredentialTestResult> {
	ensureHarnessReady();
	const credentialType = new credentialTypeClass();
	const test: ICredentialTestRequest | undefined = credentialType.test;
	if (!test) return { status: 'Error', message: 'No testing function found for this credential.' };

	const credentialId = 'credential-under-test';
	const credentialsHelper = new HarnessCredentialsHelper(
		new HarnessCredentialTypes([credentialType]),
		{ [credentialId]: { type: credentialType.name, name: credentialType.displayName, data } },
	);
	const additionalData = buildAdditionalData(credentialsHelper);
	const errorReporter = Container.get(ErrorReporter);

	let credentialData: ICredentialDataDecryptedObject;
	try {
		credentialData = credentialsHelper.applyDefaultsAndOverwrites(
			additionalData,
			data,
			credentialType.name,
			'internal',
		);
	} catch (error) {
		return { status: 'Error', message: String((error as Error).message) };
	}

	const noOp = new NoOp();
	const testNodeTypeName = 'n8n-nodes-base.noOp';
	const testNodeType: INodeType = {
		description: {
			...noOp.description,
			name: testNodeTypeName,
			credentials: [{ name: credentialType.name, required: true }],
			properties: [
				{
					displayName: 'Temp',
					name: 'temp',
					type: 'string',
					routing: { request: test.request },
					default: '',
				},
			],
		},
	};
	const nodeTypes = new HarnessNodeTypes();
	nodeTypes.register(testNodeTypeName, testNodeType);
	const node: INode = {
		id: 'temp',
		name: 'Temp-Node',
		type: testNodeTypeName,
		typeVersion: 1,
		position: [0, 0],
		parameters: {},
		credentials: { [credentialType.name]: { id: credentialId, name: credentialType.displayName } },
	};
	const workflow = new Workflow({ nodes: [node], connections: {}, active: false, nodeTypes });
	const context = new ExecuteContext(
		workflow,
		node,
		additionalData,
		'internal',
		createEmptyRunExecutionData(),
		0,
		[],
		{ main: [[{ json: {} }]] },
		{ node, data: {}, source: null },
		[],
	);
	const routingNode = new RoutingNode(context, testNodeType, {
		id: credentialId,
		name: credentialType.displayName,
		type: credentialType.name,
		data: credentialData,
	});

	let response: INodeExecutionData[][] | undefined;
	try {
		response = await routingNode.runNode();
	} catch (caught) {
		errorReporter.error(caught);
		// As in n8n's CredentialsTester. Note that n8n-workflow 2.8's NodeApiError does not keep an
		// Error `cause` (a class field resets it after super()), so with n8n 2.8 this ends with
		// NodeApiError's own message, e.g. "Authorization failed - please check your credentials".
		const error = caught as {
			message?: string;
			cause?: { code?: string; response?: { status: number; statusText?: string } };
		};
		const failedResponse = error.cause?.response;
		if (failedResponse) {
			for (const rule of test.rules ?? []) {
				if (rule.type === 'responseCode' && failedResponse.status === rule.properties.value) {
					return { status: 'Error', message: rule.properties.message };
				}
			}
			if (failedResponse.status < 199 || failedResponse.status > 299) {
				return {
					status: 'Error',
					message:
						failedResponse.statusText || `Received HTTP status code: ${failedResponse.status}`,
				};
			}
		} else if (error.cause?.code) {
			return { status: 'Error', message: error.cause.code };
		}
		return { status: 'Error', message: String(error.message) };
	}

	for (const rule of test.rules ?? []) {
		if (rule.type !== 'responseSuccessBody') continue;
		const body = response?.[0]?.[0]?.json;
		const value = rule.properties.key
			.split('.')
			.reduce<unknown>((at, key) => (at as Record<string, unknown> | undefined)?.[key], body);
		if (value === rule.properties.value)
			return { status: 'Error', message: rule.properties.message };
	}
	return { status: 'OK', message: 'Connection successful!' };
}
