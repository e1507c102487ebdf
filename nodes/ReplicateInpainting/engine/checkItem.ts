/**
 * Reading and checking an item before anything is sent (a prediction costs money): the form's
 * model inputs, Extra Input, Model Version, the Image and Mask sources and the webhook settings,
 * all against the one model schema. The router runs it for every item before the first create and
 * hands what it returns to the item's create.
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
import type { BinaryImage, ImageField } from './binaryInput';
import { readBinaryImage } from './binaryInput';

/** Where Replicate calls about a prediction, and for which events. */
export interface WebhookSettings {
	url: string;
	events: string[];
}

export type ImageSource = { from: 'url'; url: unknown } | { from: 'binary'; image: BinaryImage };

function inputError(context: IExecuteFunctions, itemIndex: number, problems: InputProblem[]) {
	const list = problems.map(formatProblem);
	return new NodeOperationError(
		context.getNode(),
		`Invalid input (item ${itemIndex}): ${list.join('; ')}`,
		{ itemIndex, description: `Nothing was sent to Replicate.\n${list.join('\n')}` },
	);
}

async function readImageSource(
	context: IExecuteFunctions,
	itemIndex: number,
	field: ImageField,
): Promise<ImageSource> {
	const source = context.getNodeParameter(`${field}Source`, itemIndex) as string;
	if (source === 'binary') {
		const property = String(
			context.getNodeParameter(`${field}BinaryProperty`, itemIndex, ''),
		).trim();
		return { from: 'binary', image: await readBinaryImage(context, itemIndex, field, property) };
	}
	const url = context.getNodeParameter(`${field}Url`, itemIndex, '');
	return { from: 'url', url: typeof url === 'string' ? url.trim() : url };
}

function readExtraInput(context: IExecuteFunctions, itemIndex: number, raw: unknown): IDataObject {
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
	const clashes = Object.keys(value).filter((key) => MODEL_INPUT_FIELDS.includes(key));
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
 * Model Version is a picker ({mode, value}); an expression or an older workflow gives a plain
 * string.
 */
function modelVersionOf(value: unknown): unknown {
	if (value !== null && typeof value === 'object' && 'value' in value)
		return (value as { value: unknown }).value;
	return value;
}

/**
 * A placeholder that passes the URI rule (a PNG signature): binary inputs are checked by
 * `readBinaryImage`.
 */
const CHECKED_BINARY = `data:image/png;base64,${Buffer.from('89504e470d0a1a0a', 'hex').toString('base64')}`;

export interface CheckedItem {
	version: string;
	extraInput: IDataObject;
	formInput: IDataObject;
	image: ImageSource;
	mask: ImageSource;
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
	webhook?: WebhookSettings,
): Promise<CheckedItem> {
	// The Options collection holds the model's optional inputs beside the node's own options.
	const given = options as unknown as IDataObject;
	const version = String(modelVersionOf(given.modelVersion) ?? DEFAULT_MODEL_VERSION).trim();
	const problems: InputProblem[] = [];
	const versionProblem = checkModelVersion(version);
	if (versionProblem) problems.push(versionProblem);
	const extraInput = readExtraInput(context, itemIndex, options.extraInput);
	const image = await readImageSource(context, itemIndex, 'image');
	const mask = await readImageSource(context, itemIndex, 'mask');
	const formInput = readFormInput(context, itemIndex, given);
	const checked = checkModelInput({
		...formInput,
		image: image.from === 'url' ? image.url : CHECKED_BINARY,
		mask: mask.from === 'url' ? mask.url : CHECKED_BINARY,
	});
	if (!checked.ok) problems.push(...checked.problems);
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
	if (problems.length > 0) throw inputError(context, itemIndex, problems);
	return {
		version,
		extraInput,
		formInput,
		image: withoutContent(image),
		mask: withoutContent(mask),
	};
}

function withoutContent(source: ImageSource): ImageSource {
	if (source.from !== 'binary' || !source.image.content) return source;
	return { from: 'binary', image: { ...source.image, content: undefined } };
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
