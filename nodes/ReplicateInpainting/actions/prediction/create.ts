/**
 * Creating a prediction, shared by Create and Wait and Create Only: read the item's parameters,
 * check all of them before any request (a prediction costs money), turn binary inputs into URIs,
 * then make the one create request.
 */
import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import type { BinaryImage, ImageField, UploadedFile } from '../../helpers/binary';
import { binaryImageToUri, deleteUploads, readBinaryImage } from '../../helpers/binary';
import type { CreateBody, PendingCreate } from '../../helpers/find';
import { findCreated, ledgerFor } from '../../helpers/find';
import type { Prediction } from '../../helpers/prediction';
import { keepMessage } from '../../helpers/errors';
import { asPrediction, PREDICTION_ID } from '../../helpers/prediction';
import { cancelUnfollowed } from '../../helpers/wait';
import type { ExecutionRun } from '../../helpers/run';
import {
	checkModelInput,
	checkModelVersion,
	DEFAULT_MODEL_VERSION,
	DEFAULTS,
	formatProblem,
	MODEL_INPUT_FIELDS,
	type InputProblem,
} from '../../schema/modelInput';
import { ExecutionStoppedError } from '../../helpers/pause';
import type { RetryPolicy } from '../../transport';
import { apiRequest, isAmbiguousCreateFailure } from '../../transport';
import type { NodeOptions } from './options';

/** Replicate holds a create for at most 60 s with `Prefer: wait`. */
const PREFER_WAIT_MAX_SECONDS = 60;
/**
 * The hold ends this long before the timeout, so the node still sees an unfinished prediction
 * (and can cancel it itself, or after a Stop) before Replicate's Cancel-After deadline.
 */
const PREFER_WAIT_MARGIN_SECONDS = 2;

export function preferWaitSeconds(timeoutSeconds: number): number {
	return Math.max(
		1,
		Math.min(PREFER_WAIT_MAX_SECONDS, Math.floor(timeoutSeconds) - PREFER_WAIT_MARGIN_SECONDS),
	);
}

export interface CreateSettings {
	/** Hold the create until the prediction finishes (up to 60 s), to save polling. */
	preferWait: boolean;
	webhook?: { url: string; events: string[] };
}

export interface CreatedPrediction {
	prediction: Prediction;
	uploads: UploadedFile[];
}

type ImageSource = { from: 'url'; url: unknown } | { from: 'binary'; image: BinaryImage };

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

/** The form's model inputs: the required fields, then the Options collection over the schema's defaults. */
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

/** Model Version is a picker ({mode, value}); an expression or an older workflow gives a plain string. */
function modelVersionOf(value: unknown): unknown {
	if (value !== null && typeof value === 'object' && 'value' in value)
		return (value as { value: unknown }).value;
	return value;
}

/** A placeholder that passes the URI rule (a PNG signature): binary inputs are checked by `readBinaryImage`. */
const CHECKED_BINARY = `data:image/png;base64,${Buffer.from('89504e470d0a1a0a', 'hex').toString('base64')}`;

interface CheckedItem {
	version: string;
	extraInput: IDataObject;
	formInput: IDataObject;
	image: ImageSource;
	mask: ImageSource;
}

/**
 * Reads and checks everything an item says, without sending anything. The router runs it for
 * every item before the first create, so item 40's typo does not surface after 39 paid runs.
 */
export async function checkCreateItem(
	context: IExecuteFunctions,
	itemIndex: number,
	options: NodeOptions,
	settings: CreateSettings,
): Promise<CheckedItem> {
	const given = context.getNodeParameter('options', itemIndex, {}) as IDataObject;
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
	if (settings.webhook) {
		const webhookProblem = checkWebhookUrl(settings.webhook.url);
		if (webhookProblem) problems.push(webhookProblem);
		// Replicate reads an empty filter as "every event": one call per log line and output.
		if (settings.webhook.events.length === 0) {
			problems.push({
				field: 'webhook_events_filter',
				label: 'Webhook Events',
				value: settings.webhook.events,
				rule: 'must name at least one of start, output, logs, completed (Completed: one call when the prediction has finished)',
			});
		}
	}
	if (problems.length > 0) throw inputError(context, itemIndex, problems);
	const item = { version, extraInput, formInput, image, mask };
	rememberChecked(context, itemIndex, settings, item);
	return item;
}

/**
 * What the check before the first create found, per execution context and item, so that the
 * item's create does not read and check every parameter a second time (a profile of 40 items put
 * that at a tenth of the node's CPU). File contents are not kept: they are read again when sent.
 */
const checkedItems = new WeakMap<
	IExecuteFunctions,
	Map<number, { settings: string; item: CheckedItem }>
>();

function withoutContent(source: ImageSource): ImageSource {
	if (source.from !== 'binary' || !source.image.content) return source;
	return { from: 'binary', image: { ...source.image, content: undefined } };
}

function rememberChecked(
	context: IExecuteFunctions,
	itemIndex: number,
	settings: CreateSettings,
	item: CheckedItem,
): void {
	let items = checkedItems.get(context);
	if (!items) checkedItems.set(context, (items = new Map()));
	items.set(itemIndex, {
		settings: JSON.stringify(settings),
		item: { ...item, image: withoutContent(item.image), mask: withoutContent(item.mask) },
	});
}

/** The item as checked before, when it was checked with these settings; taken once. */
function takeChecked(
	context: IExecuteFunctions,
	itemIndex: number,
	settings: CreateSettings,
): CheckedItem | undefined {
	const entry = checkedItems.get(context)?.get(itemIndex);
	checkedItems.get(context)?.delete(itemIndex);
	return entry?.settings === JSON.stringify(settings) ? entry.item : undefined;
}

export async function createPrediction(
	context: IExecuteFunctions,
	itemIndex: number,
	run: ExecutionRun,
	options: NodeOptions,
	settings: CreateSettings,
	policy: RetryPolicy,
): Promise<CreatedPrediction> {
	// 1. Everything the item says, as checked before the first create (or checked now).
	const { version, extraInput, formInput, image, mask } =
		takeChecked(context, itemIndex, settings) ??
		(await checkCreateItem(context, itemIndex, options, settings));

	const uploads: UploadedFile[] = [];
	let failure: unknown;
	try {
		// 2. Binary inputs become data URIs or uploads.
		const toUri = async (source: ImageSource) =>
			source.from === 'url'
				? (source.url as string)
				: await binaryImageToUri(
						context,
						source.image,
						options.uploadRoute,
						policy,
						itemIndex,
						uploads,
					);
		const input = {
			...extraInput,
			...formInput,
			image: await toUri(image),
			mask: await toUri(mask),
		};

		// 3. The one paid request.
		const prediction = await sendCreate(context, itemIndex, run, options, settings, policy, {
			version,
			input,
		});
		return { prediction, uploads };
	} catch (error) {
		failure = error;
	}
	// Refused, failed, or stopped: the files uploaded for it serve nothing any more.
	if (!options.keepUploadedFiles)
		run.warnings.push(...(await deleteUploads(context, uploads, policy)));
	throw failure;
}

async function sendCreate(
	context: IExecuteFunctions,
	itemIndex: number,
	run: ExecutionRun,
	options: NodeOptions,
	settings: CreateSettings,
	policy: RetryPolicy,
	sent: CreateBody,
): Promise<Prediction> {
	const body: IDataObject = { ...sent };
	if (settings.webhook) {
		body.webhook = settings.webhook.url;
		body.webhook_events_filter = settings.webhook.events;
	}
	const headers: Record<string, string> = { 'Cancel-After': `${options.timeout}s` };
	const waitSeconds = preferWaitSeconds(options.timeout);
	if (settings.preferWait) headers.Prefer = `wait=${waitSeconds}`;
	const ledger = await ledgerFor(context);
	const pending = ledger.begin(sent);
	run.createSent(pending);
	let answer: IDataObject | undefined;
	let failure: unknown;
	try {
		answer = await apiRequest(
			context,
			{
				method: 'POST',
				path: '/predictions',
				kind: 'create',
				body,
				headers,
				timeoutMs: ((settings.preferWait ? waitSeconds : 0) + 30) * 1000,
				itemIndex,
			},
			policy,
		);
	} catch (error) {
		failure = error;
	}
	// A Stop aborted the create: the run looks for what it made and cancels it.
	if (failure instanceof ExecutionStoppedError) throw failure;
	try {
		let prediction: Prediction | undefined;
		let unusable: unknown;
		if (answer) {
			try {
				prediction = asPrediction(
					context.getNode(),
					{ method: 'POST', path: '/predictions' },
					answer,
					itemIndex,
				);
			} catch (error) {
				unusable = error;
			}
		}
		if (prediction) {
			ledger.claim(prediction.id);
		} else if (answer && hasUsableId(answer)) {
			// An ID, but nothing the node can follow: cancelled, it would run on at the user's cost.
			ledger.claim(answer.id as string);
			await cancelUnfollowed(context, answer.id as string, policy, itemIndex, unusable);
			throw unusable;
		} else if (answer || isAmbiguousCreateFailure(failure)) {
			prediction = await adoptCreated(
				context,
				itemIndex,
				run,
				pending,
				policy,
				(unusable ?? failure) as NodeApiError,
			);
		} else {
			throw failure;
		}
		// Also after a Stop: the run then cancels it at once.
		run.started(prediction.id);
		return prediction;
	} finally {
		run.createSettled(pending);
	}
}

function hasUsableId(answer: IDataObject): boolean {
	return typeof answer.id === 'string' && PREDICTION_ID.test(answer.id);
}

/**
 * How an ambiguous create is looked for: at once, then after 0.5, 1 and 2 s, since a create
 * Replicate is still handling may not be listed yet.
 */
const AMBIGUOUS_SEARCH = { attempts: 4, gapMs: 500 } as const;

/**
 * A create failed after it may have reached Replicate (a reset, a 5xx, a timeout, an answer that
 * names no prediction). It is never sent again. Instead the node looks for what it made and, when
 * it finds it, adopts it: the item goes on as if the create had answered. Adopting (rather than
 * cancelling) keeps what the user is paying for anyway, and a Create Only webhook still fires.
 */
async function adoptCreated(
	context: IExecuteFunctions,
	itemIndex: number,
	run: ExecutionRun,
	pending: PendingCreate,
	policy: RetryPolicy,
	cause: NodeApiError,
): Promise<Prediction> {
	let found: Prediction | undefined;
	let searchFailure: unknown;
	try {
		found = await findCreated(context, pending, policy, {
			...AMBIGUOUS_SEARCH,
			kind: 'repeatable',
			waitForTwins: true,
			signal: run.signal,
		});
	} catch (error) {
		searchFailure = error;
	}
	if (searchFailure instanceof ExecutionStoppedError) throw searchFailure;
	if (searchFailure) {
		throw mayExistError(
			context,
			itemIndex,
			cause,
			`Looking for it failed too: ${(searchFailure as Error).message}`,
		);
	}
	if (found) {
		run.warnings.push(
			`Item ${itemIndex}: the answer to its create was lost (${cause.message}); the node found prediction ${found.id} with GET /predictions and went on with it.`,
		);
		return found;
	}
	const seconds = Math.round(
		(AMBIGUOUS_SEARCH.gapMs * (2 ** (AMBIGUOUS_SEARCH.attempts - 1) - 1)) / 1000,
	);
	const message = `Creating the prediction failed, and no prediction was made: ${cause.message}`;
	const description = `The node looked for it among your predictions (GET /predictions) for ${seconds} s and found none with this input, and did not send the create again, so that you are never charged twice. Run the item again.`;
	const error = new NodeApiError(
		context.getNode(),
		{ message, description },
		{ message, description, itemIndex, httpCode: cause.httpCode ?? undefined },
	);
	throw keepMessage(error, message);
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

/** The create may have gone through and the node could not look: never send it twice. */
function mayExistError(
	context: IExecuteFunctions,
	itemIndex: number,
	cause: NodeApiError,
	searched: string,
) {
	const message = `Creating the prediction failed, and a prediction may have been created anyway: ${cause.message}`;
	const description = `${searched}\nThe node did not retry, so that you are not charged twice. Look for it among your recent predictions (GET /predictions, or replicate.com/predictions) before running the item again.`;
	const error = new NodeApiError(
		context.getNode(),
		{ message, description },
		{
			message,
			description,
			itemIndex,
			httpCode: cause.httpCode ?? undefined,
		},
	);
	return keepMessage(error, message);
}
