/**
 * Reading and checking an item before anything is sent (a prediction costs money): which model
 * it runs, its inputs (the built-in model's own form, or the form built from another model's
 * schema), Extra Input, the binary files it sends and the webhook settings. The router runs it
 * for every item before the first create and hands what it returns to the item's create.
 */
import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { WEBHOOK_EVENTS } from '../../shared/api/webhooks';
import type { NodeOptions } from '../../shared/options';
import {
	checkModelInput,
	checkModelVersion,
	DEFAULT_MODEL_VERSION,
	DEFAULTS,
	formatProblem,
	MODEL_INPUT_FIELDS,
	type InputProblem,
} from '../schema/modelInput';
import { checkInputValues } from '../schema/modelSchema';
import type { BinaryImage, BinaryInputField } from './binaryInput';
import { readBinaryImage } from './binaryInput';
import type { ModelLoader } from './loadModel';
import {
	locatorValue,
	modelPickerValue,
	modelReference,
	usesBuiltInForm,
	versionOptionOf,
} from './loadModel';

/** Where Replicate calls about a prediction, and for which events. */
export interface WebhookSettings {
	url: string;
	events: string[];
}

/** A binary file of the item and where it goes in the input (entry `index` of an array field). */
export interface BinaryFile {
	field: string;
	index?: number;
	image: BinaryImage;
}

export interface CheckedItem {
	/** What the create sends as `version`. */
	version: string;
	/** The input, except the binary files, which are sent (as data URIs or uploads) at create. */
	input: IDataObject;
	binaryFiles: BinaryFile[];
	/** Input fields whose values never reach output or errors. */
	secretFields: string[];
}

function inputError(context: IExecuteFunctions, itemIndex: number, problems: InputProblem[]) {
	const list = problems.map(formatProblem);
	return new NodeOperationError(
		context.getNode(),
		`Invalid input (item ${itemIndex}): ${list.join('; ')}`,
		{ itemIndex, description: `Nothing was sent to Replicate.\n${list.join('\n')}` },
	);
}

/** The built-in model's Image or Mask source: a URL goes into the input, a binary file is read. */
async function readImageSource(
	context: IExecuteFunctions,
	itemIndex: number,
	field: 'image' | 'mask',
	label: string,
): Promise<{ url: unknown } | { binary: BinaryImage }> {
	const source = context.getNodeParameter(`${field}Source`, itemIndex) as string;
	if (source === 'binary') {
		const property = String(
			context.getNodeParameter(`${field}BinaryProperty`, itemIndex, ''),
		).trim();
		const input: BinaryInputField = { field, label: `${label} Binary Field Name` };
		return { binary: await readBinaryImage(context, itemIndex, input, property) };
	}
	const url = context.getNodeParameter(`${field}Url`, itemIndex, '');
	return { url: typeof url === 'string' ? url.trim() : url };
}

function readExtraInput(
	context: IExecuteFunctions,
	itemIndex: number,
	raw: unknown,
	formFields: string[],
): IDataObject {
	let value = raw;
	if (typeof raw === 'string') {
		if (raw.trim() === '') return {};
		try {
			value = JSON.parse(raw);
		} catch {
			value = undefined;
		}
	}
	if (value === null || typeof value !== 'object' || Array.isArray(value)) {
		const shown = typeof raw === 'string' ? raw.slice(0, 80) : JSON.stringify(raw);
		throw new NodeOperationError(
			context.getNode(),
			`Invalid option Extra Input (JSON) (item ${itemIndex}): ${shown} is not a JSON object`,
			{ itemIndex, description: 'Allowed: a JSON object such as {"some_field": 1}.' },
		);
	}
	const clashes = Object.keys(value).filter((key) => formFields.includes(key));
	if (clashes.length > 0) {
		throw new NodeOperationError(
			context.getNode(),
			`Invalid option Extra Input (JSON) (item ${itemIndex}): ${clashes.join(', ')} ${clashes.length > 1 ? 'are' : 'is'} already set by the node's fields`,
			{
				itemIndex,
				description:
					"Set these with the node's own fields; Extra Input is only for fields the form does not have.",
			},
		);
	}
	return value as IDataObject;
}

/**
 * The form's model inputs: the required fields, then the Options collection over the schema's
 * defaults.
 */
function readFormInput(
	context: IExecuteFunctions,
	itemIndex: number,
	options: IDataObject,
): IDataObject {
	const input: IDataObject = {
		prompt: context.getNodeParameter('prompt', itemIndex),
		width: options.width ?? DEFAULTS.width,
		height: options.height ?? DEFAULTS.height,
		num_outputs: options.numOutputs ?? DEFAULTS.num_outputs,
		num_inference_steps: options.numInferenceSteps ?? DEFAULTS.num_inference_steps,
		guidance_scale: options.guidanceScale ?? DEFAULTS.guidance_scale,
		scheduler: options.scheduler ?? DEFAULTS.scheduler,
		disable_safety_checker: options.disableSafetyChecker ?? DEFAULTS.disable_safety_checker,
	};
	if (typeof options.negativePrompt === 'string' && options.negativePrompt !== '')
		input.negative_prompt = options.negativePrompt;
	const seed = typeof options.seed === 'string' ? options.seed.trim() : options.seed;
	// The Seed field is text (empty means random); a number typed into it is sent as a number.
	if (seed !== undefined && seed !== '' && seed !== null)
		input.seed = typeof seed === 'string' && /^-?\d+$/.test(seed) ? Number(seed) : seed;
	return input;
}

/**
 * A placeholder that passes the URI rule (a PNG signature): binary inputs are checked by
 * `readBinaryImage`.
 */
const CHECKED_BINARY = `data:image/png;base64,${Buffer.from('89504e470d0a1a0a', 'hex').toString('base64')}`;

/** The built-in model through the node's own form, checked against its one schema. */
async function checkBuiltInForm(
	context: IExecuteFunctions,
	itemIndex: number,
	options: NodeOptions,
	problems: InputProblem[],
): Promise<CheckedItem> {
	// The Options collection holds the model's optional inputs beside the node's own options.
	const given = options as unknown as IDataObject;
	const version = locatorValue(given.modelVersion) || DEFAULT_MODEL_VERSION;
	const versionProblem = checkModelVersion(version);
	if (versionProblem) problems.push(versionProblem);
	const extraInput = readExtraInput(context, itemIndex, options.extraInput, MODEL_INPUT_FIELDS);
	const image = await readImageSource(context, itemIndex, 'image', 'Image');
	const mask = await readImageSource(context, itemIndex, 'mask', 'Mask');
	const formInput = readFormInput(context, itemIndex, given);
	const urlOf = (source: typeof image) => ('url' in source ? source.url : CHECKED_BINARY);
	const checked = checkModelInput({ ...formInput, image: urlOf(image), mask: urlOf(mask) });
	if (!checked.ok) problems.push(...checked.problems);
	const input: IDataObject = { ...extraInput, ...formInput };
	const binaryFiles: BinaryFile[] = [];
	for (const [field, source] of [
		['image', image],
		['mask', mask],
	] as const) {
		if ('url' in source) input[field] = source.url as string;
		else binaryFiles.push({ field, image: source.binary });
	}
	return { version, input, binaryFiles, secretFields: [] };
}

/** The Model Version option: a bare version id, or `owner/name:<id>`; empty means none. */
function pinnedVersion(
	name: string,
	pickerVersion: string | undefined,
	option: unknown,
	problems: InputProblem[],
): string | undefined {
	const { text: value, id: optionVersion, model } = versionOptionOf(option);
	const problem = (rule: string) =>
		problems.push({ field: 'version', label: 'Model Version', value, rule });
	if (value === '') return pickerVersion;
	if (!optionVersion) problem('must be "owner/name:<64 hex characters>" or a 64-hex version id');
	else if (model && model.toLowerCase() !== name.toLowerCase())
		problem(`is a version of ${model}, not of the chosen model ${name}`);
	else if (pickerVersion && pickerVersion !== optionVersion)
		problem(`differs from the version the Model names (${pickerVersion})`);
	return optionVersion ?? pickerVersion;
}

/**
 * Any other model through the form built from its schema (the Model Inputs mapper), checked
 * against that schema; a model whose schema could not be loaded gets its input unchecked.
 */
async function checkSchemaForm(
	context: IExecuteFunctions,
	itemIndex: number,
	options: NodeOptions,
	pickerValue: string,
	loadModel: ModelLoader,
	problems: InputProblem[],
): Promise<CheckedItem | undefined> {
	const reference = modelReference(pickerValue);
	if (!reference) {
		problems.push({
			field: 'model',
			label: 'Model',
			value: pickerValue,
			rule: 'must be a model name "owner/name" (optionally "owner/name:<version id>") or a link https://replicate.com/owner/name',
		});
		return undefined;
	}
	const versionId = pinnedVersion(
		reference.name,
		reference.version,
		(options as unknown as IDataObject).modelVersion,
		problems,
	);
	if (problems.length > 0) return undefined;
	// The schema read ends with the item's Timeout and the execution's Stop, like every wait.
	const model = await loadModel(reference.name, versionId, itemIndex, {
		maxRetries: options.maxRetries,
		signal: context.getExecutionCancelSignal?.(),
		deadline: Date.now() + options.timeout * 1000,
	});
	const mapped = context.getNodeParameter('modelInputs', itemIndex, {}) as IDataObject;
	const values = { ...((mapped?.value as IDataObject | null) ?? {}) };
	const setFields = Object.keys(values).filter(
		(key) => values[key] !== undefined && values[key] !== null && values[key] !== '',
	);
	const extraInput = readExtraInput(context, itemIndex, options.extraInput, setFields);
	const given = { ...extraInput, ...values };
	if (!model.fields) {
		context.addExecutionHints?.({
			message: `The input schema of ${model.name} could not be loaded (${model.notLoaded}): the input was sent unchecked, and binary fields cannot be used for it.`,
			location: 'outputPane',
		});
		const input = Object.fromEntries(setFields.map((key) => [key, values[key]]));
		Object.assign(input, extraInput);
		return { version: model.version, input, binaryFiles: [], secretFields: [] };
	}
	const binaryNames = Object.keys(context.getInputData()[itemIndex]?.binary ?? {});
	const checked = checkInputValues(model.fields, given, binaryNames);
	problems.push(...checked.problems);
	if (problems.length > 0) return undefined;
	const binaryFiles: BinaryFile[] = [];
	for (const file of checked.binaryFiles) {
		if (file.source.from !== 'binary') continue;
		const field = file.index === undefined ? file.field : `${file.field}[${file.index}]`;
		const image = await readBinaryImage(
			context,
			itemIndex,
			{ field, label: file.label },
			file.source.property,
		);
		binaryFiles.push({ field: file.field, index: file.index, image });
	}
	return {
		version: model.version,
		input: checked.input,
		binaryFiles,
		secretFields: model.fields.filter((field) => field.secret).map((field) => field.name),
	};
}

/**
 * Reads and checks everything an item says, without sending anything. The router runs it for
 * every item before the first create, so item 40's typo does not surface after 39 paid runs.
 * File contents are not kept (a run of many items would hold them all): they are read again when
 * sent.
 */
export async function checkCreateItem(
	context: IExecuteFunctions,
	itemIndex: number,
	options: NodeOptions,
	loadModel: ModelLoader,
	webhook?: WebhookSettings,
): Promise<CheckedItem> {
	const problems: InputProblem[] = [];
	const pickerValue = modelPickerValue(context.getNodeParameter('model', itemIndex, undefined));
	const checked = usesBuiltInForm(pickerValue)
		? await checkBuiltInForm(context, itemIndex, options, problems)
		: await checkSchemaForm(context, itemIndex, options, pickerValue, loadModel, problems);
	if (webhook) {
		const webhookProblem = checkWebhookUrl(webhook.url);
		if (webhookProblem) problems.push(webhookProblem);
		// Replicate reads an empty filter as "every event": one call per log line and output.
		if (webhook.events.length === 0) {
			problems.push({
				field: 'webhook_events_filter',
				label: 'Webhook Events',
				value: webhook.events,
				rule: `must name at least one of ${Object.keys(WEBHOOK_EVENTS).join(', ')} (Completed: one call when the prediction has finished)`,
			});
		}
	}
	if (problems.length > 0 || !checked) throw inputError(context, itemIndex, problems);
	return {
		...checked,
		binaryFiles: checked.binaryFiles.map((file) => ({
			...file,
			image: { ...file.image, content: undefined },
		})),
	};
}

function checkWebhookUrl(url: string): InputProblem | undefined {
	try {
		const parsed = new URL(url);
		if (parsed.protocol === 'https:' || parsed.protocol === 'http:') return undefined;
	} catch {
		// reported below
	}
	return { field: 'webhook', label: 'Webhook URL', value: url, rule: 'must be an http(s) URL' };
}
