/**
 * STAND-INS for a few n8n-nodes-base nodes, so workflow JSON exported from n8n runs in the
 * harness. The real n8n-nodes-base cannot be installed here (it needs a newer n8n-workflow than the
 * one pinned for Node 20), so these are minimal re-implementations registered under the real type
 * names and versions, with the real parameter names, using n8n-core's helpers for files and binary
 * data. They are not n8n's code: only the subset of behaviour listed on each class is supported.
 */
import glob from 'fast-glob';
import type {
	AssignmentCollectionValue,
	FieldType,
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
	ITriggerFunctions,
	ITriggerResponse,
	IWebhookFunctions,
	IWebhookResponseData,
	JsonObject,
	ResolvedFilePath,
} from 'n8n-workflow';
import {
	NodeApiError,
	NodeConnectionTypes,
	NodeOperationError,
	deepCopy,
	jsonParse,
	validateFieldType,
} from 'n8n-workflow';
import { constants as fsConstants } from 'node:fs';
import path from 'node:path';

import { Merge } from './standin-merge';

/**
 * n8n-nodes-base.manualTrigger v1: emits one empty item when the workflow is run by hand. In the
 * harness, items given as `inputItems` are pinned on it, as a user pins data in the editor.
 */
export class ManualTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Manual Trigger',
		name: 'manualTrigger',
		icon: 'fa:mouse-pointer',
		group: ['trigger', 'input'],
		version: 1,
		description: 'Runs the flow on clicking a button in n8n',
		eventTriggerDescription: '',
		maxNodes: 1,
		defaults: { name: 'When clicking ‘Execute workflow’', color: '#909298' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		properties: [
			{
				displayName:
					'This node is where the workflow execution starts (when you click the ‘test’ button on the canvas).',
				name: 'notice',
				type: 'notice',
				default: '',
			},
		],
	};

	async trigger(this: ITriggerFunctions): Promise<ITriggerResponse> {
		const manualTriggerFunction = async () => {
			this.emit([this.helpers.returnJsonArray([{}])]);
		};
		return { manualTriggerFunction };
	}
}

/** n8n-nodes-base.noOp v1: passes its input through. */
export class NoOp implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'No Operation, do nothing',
		name: 'noOp',
		icon: 'fa:arrow-right',
		group: ['organization'],
		version: 1,
		description: 'No Operation',
		defaults: { name: 'No Operation, do nothing', color: '#b0b0b0' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		properties: [],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return [this.getInputData()];
	}
}

/** n8n-nodes-base.stickyNote v1: a canvas annotation. It has no connections and never runs. */
export class StickyNote implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Sticky Note',
		name: 'stickyNote',
		icon: 'fa:sticky-note',
		group: ['input'],
		version: 1,
		description: 'Make your workflow easier to understand',
		defaults: { name: 'Sticky Note', color: '#FFD233' },
		inputs: [],
		outputs: [],
		properties: [
			{ displayName: 'Content', name: 'content', type: 'string', required: true, default: '' },
			{ displayName: 'Height', name: 'height', type: 'number', required: true, default: 160 },
			{ displayName: 'Width', name: 'width', type: 'number', required: true, default: 240 },
			{ displayName: 'Color', name: 'color', type: 'number', required: true, default: 1 },
		],
	};
}

/** The message/description n8n's Read/Write Files node gives file-system errors. */
function fileErrorToNodeError(
	context: IExecuteFunctions,
	error: Error,
	itemIndex: number,
	operation: 'read' | 'write',
	filePath: string | undefined,
): NodeOperationError {
	let message: string | undefined;
	let description: string | undefined;
	if (typeof error.message === 'string' && error.message.includes('EACCES')) {
		const deniedPath = ((error as unknown as IDataObject).path as string) || filePath;
		if (operation === 'read') {
			message = `You don't have the permissions to access ${deniedPath}`;
			description =
				"Verify that the path specified in 'File(s) Selector' is correct, or change the file(s) permissions if needed";
		} else {
			message = `You don't have the permissions to write the file ${deniedPath}`;
			description =
				"Specify another destination folder in 'File Path and Name', or change the permissions of the parent folder";
		}
	}
	return new NodeOperationError(context.getNode(), error, { itemIndex, message, description });
}

/**
 * n8n-nodes-base.readWriteFile v1 / v1.1.
 * - read: `fileSelector` (path or glob, expressions allowed) → one item per matching file with the
 *   file in binary `options.dataPropertyName` (default 'data'); `options.fileName`,
 *   `options.mimeType`, `options.fileExtension` override the detected values. v1.1 fails when
 *   nothing matches, v1 outputs nothing.
 * - write: writes binary `dataPropertyName` (default 'data') to `fileName`; `options.append`.
 * File access goes through n8n-core's file helpers, so n8n's allowed/blocked path rules apply
 * (the harness allows the temp dir and the working directory).
 */
export class ReadWriteFile implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Read/Write Files from Disk',
		name: 'readWriteFile',
		icon: 'file:readWriteFile.svg',
		group: ['input'],
		version: [1, 1.1],
		description: 'Read or write files from the computer that runs n8n',
		defaults: { name: 'Read/Write Files from Disk' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		properties: [
			{
				displayName: 'Operation',
				name: 'operation',
				type: 'options',
				noDataExpression: true,
				options: [
					{ name: 'Read File(s) From Disk', value: 'read', action: 'Read File(s) From Disk' },
					{ name: 'Write File to Disk', value: 'write', action: 'Write File to Disk' },
				],
				default: 'read',
			},
			{
				displayName: 'File(s) Selector',
				name: 'fileSelector',
				type: 'string',
				default: '',
				required: true,
				displayOptions: { show: { operation: ['read'] } },
			},
			{
				displayName: 'Options',
				name: 'options',
				type: 'collection',
				placeholder: 'Add option',
				default: {},
				displayOptions: { show: { operation: ['read'] } },
				options: [
					{ displayName: 'File Extension', name: 'fileExtension', type: 'string', default: '' },
					{ displayName: 'File Name', name: 'fileName', type: 'string', default: '' },
					{ displayName: 'Mime Type', name: 'mimeType', type: 'string', default: '' },
					{
						displayName: 'Put Output File in Field',
						name: 'dataPropertyName',
						type: 'string',
						default: 'data',
					},
				],
			},
			{
				displayName: 'File Path and Name',
				name: 'fileName',
				type: 'string',
				default: '',
				required: true,
				displayOptions: { show: { operation: ['write'] } },
			},
			{
				displayName: 'Input Binary Field',
				name: 'dataPropertyName',
				type: 'string',
				default: 'data',
				required: true,
				displayOptions: { show: { operation: ['write'] } },
			},
			{
				displayName: 'Options',
				name: 'options',
				type: 'collection',
				placeholder: 'Add option',
				default: {},
				displayOptions: { show: { operation: ['write'] } },
				options: [{ displayName: 'Append', name: 'append', type: 'boolean', default: false }],
			},
		],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const operation = this.getNodeParameter('operation', 0, 'read') as string;
		const items = this.getInputData();
		const returnData: INodeExecutionData[] = [];
		for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
			let filePath: string | undefined;
			try {
				if (operation === 'read') {
					filePath = String(this.getNodeParameter('fileSelector', itemIndex));
					returnData.push(...(await readFiles(this, filePath, itemIndex)));
				} else {
					filePath = this.getNodeParameter('fileName', itemIndex) as string;
					returnData.push(await writeFile(this, filePath, items[itemIndex], itemIndex));
				}
			} catch (error) {
				const nodeError = fileErrorToNodeError(
					this,
					error as Error,
					itemIndex,
					operation === 'read' ? 'read' : 'write',
					filePath,
				);
				if (this.continueOnFail()) {
					returnData.push({ json: { error: nodeError.message }, pairedItem: { item: itemIndex } });
					continue;
				}
				throw new NodeApiError(this.getNode(), error as JsonObject, { itemIndex });
			}
		}
		return [returnData];
	}
}

async function readFiles(
	context: IExecuteFunctions,
	fileSelector: string,
	itemIndex: number,
): Promise<INodeExecutionData[]> {
	const options = context.getNodeParameter('options', itemIndex, {}) as IDataObject;
	const dataPropertyName = (options.dataPropertyName as string) || 'data';
	// n8n escapes parentheses so paths like "photo (1).png" are not read as glob groups.
	const files = await glob(fileSelector.replace(/[()]/g, '\\$&'));
	if (files.length === 0 && context.getNode().typeVersion > 1) {
		throw new NodeOperationError(context.getNode(), 'No file(s) found', {
			itemIndex,
			description: `No file matching the selector "${fileSelector}" found`,
		});
	}
	const newItems: INodeExecutionData[] = [];
	for (const filePath of files) {
		const stream = await context.helpers.createReadStream(
			await context.helpers.resolvePath(filePath),
		);
		const binaryData = await context.helpers.prepareBinaryData(stream, filePath);
		if (options.fileName) binaryData.fileName = options.fileName as string;
		if (options.fileExtension) binaryData.fileExtension = options.fileExtension as string;
		if (options.mimeType) binaryData.mimeType = options.mimeType as string;
		newItems.push({
			json: {
				mimeType: binaryData.mimeType,
				fileType: binaryData.fileType,
				fileName: binaryData.fileName,
				fileExtension: binaryData.fileExtension,
				fileSize: binaryData.fileSize,
			},
			binary: { [dataPropertyName]: binaryData },
			pairedItem: { item: itemIndex },
		});
	}
	return newItems;
}

async function writeFile(
	context: IExecuteFunctions,
	fileName: string,
	item: INodeExecutionData,
	itemIndex: number,
): Promise<INodeExecutionData> {
	const dataPropertyName = context.getNodeParameter('dataPropertyName', itemIndex) as string;
	const options = context.getNodeParameter('options', itemIndex, {}) as IDataObject;
	const flag = options.append
		? fsConstants.O_APPEND
		: fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_TRUNC;
	context.helpers.assertBinaryData(itemIndex, dataPropertyName);
	const content = await context.helpers.getBinaryDataBuffer(itemIndex, dataPropertyName);
	// n8n's resolvePath falls back to "real directory + file name" for a file that does not exist
	// yet, but it spots ENOENT with `instanceof Error`, which fails under jest (fs errors come from
	// another realm). Resolving the directory is the same thing without that check.
	const resolvedPath = path.join(
		await context.helpers.resolvePath(path.dirname(fileName)),
		path.basename(fileName),
	) as ResolvedFilePath;
	await context.helpers.writeContentToFile(resolvedPath, content, flag);
	return {
		json: { ...item.json, fileName },
		binary: item.binary ? { ...item.binary } : undefined,
		pairedItem: { item: itemIndex },
	};
}

function setPath(target: IDataObject, key: string, value: unknown, dotNotation: boolean): void {
	if (!dotNotation) {
		target[key] = value as IDataObject;
		return;
	}
	const parts = key.split('.');
	let current = target;
	for (const part of parts.slice(0, -1)) {
		if (typeof current[part] !== 'object' || current[part] === null) current[part] = {};
		current = current[part] as IDataObject;
	}
	current[parts[parts.length - 1]] = value as IDataObject;
}

/**
 * n8n-nodes-base.set ("Edit Fields") v3.3 / v3.4.
 * - mode 'manual': `assignments.assignments[]` ({ name, value, type }), values converted with
 *   n8n's `validateFieldType` (`options.ignoreConversionErrors` keeps the raw value).
 * - mode 'raw': `jsonOutput` (a JSON object, expressions allowed).
 * - `includeOtherFields` (default false) with `include` 'all' | 'selected' | 'except'
 *   (`includeFields` / `excludeFields`, top-level names only); `options.dotNotation` (default true).
 * - binary data is kept unless `options.stripBinary` or `options.includeBinary === false`.
 * Not supported: item duplication, nested paths in include/exclude lists.
 */
export class EditFields implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Edit Fields (Set)',
		name: 'set',
		icon: 'fa:pen',
		group: ['input'],
		version: [3.3, 3.4],
		description: 'Modify, add, or remove item fields',
		defaults: { name: 'Edit Fields' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		properties: [
			{
				displayName: 'Mode',
				name: 'mode',
				type: 'options',
				noDataExpression: true,
				options: [
					{ name: 'Manual Mapping', value: 'manual' },
					{ name: 'JSON', value: 'raw' },
				],
				default: 'manual',
			},
			{
				displayName: 'Fields to Set',
				name: 'assignments',
				type: 'assignmentCollection',
				displayOptions: { show: { mode: ['manual'] } },
				default: {},
			},
			{
				displayName: 'JSON',
				name: 'jsonOutput',
				type: 'json',
				displayOptions: { show: { mode: ['raw'] } },
				default: '{\n  "my_field_1": "value",\n  "my_field_2": 1\n}\n',
			},
			{
				displayName: 'Include Other Input Fields',
				name: 'includeOtherFields',
				type: 'boolean',
				default: false,
			},
			{
				displayName: 'Input Fields to Include',
				name: 'include',
				type: 'options',
				options: [
					{ name: 'All', value: 'all' },
					{ name: 'Selected', value: 'selected' },
					{ name: 'All Except', value: 'except' },
				],
				default: 'all',
				displayOptions: { show: { includeOtherFields: [true] } },
			},
			{
				displayName: 'Fields to Include',
				name: 'includeFields',
				type: 'string',
				default: '',
				displayOptions: { show: { include: ['selected'], includeOtherFields: [true] } },
			},
			{
				displayName: 'Fields to Exclude',
				name: 'excludeFields',
				type: 'string',
				default: '',
				displayOptions: { show: { include: ['except'], includeOtherFields: [true] } },
			},
			{
				displayName: 'Options',
				name: 'options',
				type: 'collection',
				placeholder: 'Add option',
				default: {},
				options: [
					{
						displayName: 'Include Binary File',
						name: 'includeBinary',
						type: 'boolean',
						default: true,
					},
					{
						displayName: 'Strip Binary Data',
						name: 'stripBinary',
						type: 'boolean',
						default: false,
					},
					{
						displayName: 'Ignore Type Conversion Errors',
						name: 'ignoreConversionErrors',
						type: 'boolean',
						default: false,
					},
					{
						displayName: 'Support Dot Notation',
						name: 'dotNotation',
						type: 'boolean',
						default: true,
					},
				],
			},
		],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const returnData: INodeExecutionData[] = [];
		for (let i = 0; i < items.length; i++) {
			try {
				returnData.push(buildSetItem(this, items[i], i));
			} catch (error) {
				if (this.continueOnFail()) {
					returnData.push({ json: { error: (error as Error).message }, pairedItem: { item: i } });
					continue;
				}
				throw error instanceof NodeOperationError
					? error
					: new NodeOperationError(this.getNode(), error as Error, { itemIndex: i });
			}
		}
		return [returnData];
	}
}

function buildSetItem(
	context: IExecuteFunctions,
	item: INodeExecutionData,
	itemIndex: number,
): INodeExecutionData {
	const node = context.getNode();
	const mode = context.getNodeParameter('mode', itemIndex) as string;
	const options = context.getNodeParameter('options', itemIndex, {}) as IDataObject;
	const dotNotation = options.dotNotation !== false;

	const newFields: IDataObject = {};
	if (mode === 'raw') {
		const jsonOutput = context.getNodeParameter('jsonOutput', itemIndex) as string | IDataObject;
		const parsed =
			typeof jsonOutput === 'string'
				? jsonParse<IDataObject>(jsonOutput, {
						errorMessage: `The item ${itemIndex + 1} contains invalid JSON`,
					})
				: jsonOutput;
		if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
			throw new NodeOperationError(
				node,
				`'JSON Output' in item ${itemIndex + 1} is not a valid JSON object`,
				{ itemIndex },
			);
		}
		Object.assign(newFields, parsed);
	} else {
		const { assignments = [] } = context.getNodeParameter(
			'assignments',
			itemIndex,
			{},
		) as Partial<AssignmentCollectionValue>;
		for (const { name, value, type = 'string' } of assignments) {
			const result = validateFieldType(name, value, type as FieldType);
			if (!result.valid && !options.ignoreConversionErrors) {
				throw new NodeOperationError(node, result.errorMessage, { itemIndex });
			}
			newFields[name] = (result.valid ? result.newValue : value) as IDataObject;
		}
	}

	const newItem: INodeExecutionData = { json: {}, pairedItem: { item: itemIndex } };
	if (context.getNodeParameter('includeOtherFields', itemIndex, false) as boolean) {
		const include = context.getNodeParameter('include', itemIndex, 'all') as string;
		const listed = (name: string) =>
			(context.getNodeParameter(name, itemIndex, '') as string)
				.split(',')
				.map((field) => field.trim())
				.filter(Boolean);
		if (include === 'selected') {
			for (const field of listed('includeFields')) newItem.json[field] = deepCopy(item.json[field]);
		} else {
			newItem.json = deepCopy(item.json);
			if (include === 'except')
				for (const field of listed('excludeFields')) delete newItem.json[field];
		}
	}
	for (const [key, value] of Object.entries(newFields))
		setPath(newItem.json, key, value, dotNotation);

	if (item.binary && !options.stripBinary && options.includeBinary !== false) {
		newItem.binary = { ...item.binary };
	}
	return newItem;
}

/**
 * n8n-nodes-base.formTrigger v2–2.3, for runs that start from a submission: the harness pins the
 * submission (`inputItems`) on it, as n8n's webhook would emit it. A submission as n8n 2.x/1.x
 * builds it: `json` holds each field by its label (file fields as { filename, mimetype, size }),
 * `submittedAt` and `formMode`; each uploaded file is binary data under its field's label
 * (non-word characters as `_`). Rendering and receiving the form are not supported.
 */
export class FormTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'n8n Form Trigger',
		name: 'formTrigger',
		icon: 'file:form.svg',
		group: ['trigger'],
		version: [2, 2.1, 2.2, 2.3],
		description: 'Generate webforms in n8n and pass their responses to the workflow',
		defaults: { name: 'On form submission' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		webhooks: [{ name: 'default', httpMethod: 'POST', responseMode: 'onReceived', path: '' }],
		properties: [
			{ displayName: 'Form Title', name: 'formTitle', type: 'string', default: '', required: true },
			{ displayName: 'Form Description', name: 'formDescription', type: 'string', default: '' },
			{ displayName: 'Form Elements', name: 'formFields', type: 'json', default: {} },
			{ displayName: 'Options', name: 'options', type: 'json', default: {} },
		],
	};

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		throw new NodeOperationError(
			this.getNode(),
			'The stand-in form trigger only runs with a pinned submission (inputItems)',
		);
	}
}

/**
 * n8n-nodes-base.form v2.3, operation `completion` (the "Form Ending" page) only. With
 * `respondWith: 'returnBinary'` n8n returns the file in binary `inputDataFieldName` (a
 * comma-separated list allowed) of the first item of a parent node to the browser, and fails with
 * "No binary data with field … found." when there is none; the stand-in checks the same on its
 * input's first item and passes the items through. Other respondWith values just pass through.
 */
export class Form implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'n8n Form',
		name: 'form',
		icon: 'file:form.svg',
		group: ['input'],
		version: [1, 2.3],
		description: 'Generate webforms in n8n and pass their responses to the workflow',
		defaults: { name: 'Form' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		properties: [
			{
				displayName: 'Page Type',
				name: 'operation',
				type: 'options',
				options: [
					{ name: 'Next Form Page', value: 'page' },
					{ name: 'Form Ending', value: 'completion' },
				],
				default: 'page',
			},
			{
				displayName: 'On n8n Form Submission',
				name: 'respondWith',
				type: 'string',
				default: 'text',
			},
			{
				displayName: 'Input Data Field Name',
				name: 'inputDataFieldName',
				type: 'string',
				default: 'data',
			},
			{ displayName: 'Completion Title', name: 'completionTitle', type: 'string', default: '' },
			{ displayName: 'Completion Message', name: 'completionMessage', type: 'string', default: '' },
			{ displayName: 'Options', name: 'options', type: 'json', default: {} },
		],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const operation = this.getNodeParameter('operation', 0) as string;
		if (operation !== 'completion') {
			throw new NodeOperationError(
				this.getNode(),
				'The stand-in form node only supports the Form Ending page',
			);
		}
		const items = this.getInputData();
		if (this.getNodeParameter('respondWith', 0) === 'returnBinary') {
			const names = String(this.getNodeParameter('inputDataFieldName', 0))
				.split(',')
				.map((name) => name.trim())
				.filter(Boolean);
			for (const name of names) {
				if (!items[0]?.binary?.[name]) {
					throw new NodeOperationError(this.getNode(), `No binary data with field ${name} found.`);
				}
			}
		}
		return [items.map((item, index) => ({ ...item, pairedItem: { item: index } }))];
	}
}

/** The stand-ins by the type name n8n's workflow JSON uses for them. */
export const standInNodeTypes: Record<string, new () => INodeType> = {
	'n8n-nodes-base.manualTrigger': ManualTrigger,
	'n8n-nodes-base.noOp': NoOp,
	'n8n-nodes-base.stickyNote': StickyNote,
	'n8n-nodes-base.readWriteFile': ReadWriteFile,
	'n8n-nodes-base.merge': Merge,
	'n8n-nodes-base.set': EditFields,
	'n8n-nodes-base.formTrigger': FormTrigger,
	'n8n-nodes-base.form': Form,
};
