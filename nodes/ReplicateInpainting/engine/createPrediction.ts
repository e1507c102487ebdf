/**
 * Creating a prediction, shared by Create and Wait (both wait modes) and Create Only: the item as
 * checked before the first create, its binary inputs turned into URIs, then the one create
 * request. A create that got no usable answer is never sent again: what it made is looked for.
 */
import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';
import { NodeApiError } from 'n8n-workflow';

import type { UploadedFile } from '../../shared/api/files';
import { deleteUploads } from '../../shared/api/files';
import type { Prediction } from '../../shared/api/predictions';
import {
	asPrediction,
	PREDICTION_ID,
	PREDICTIONS_PATH,
	postPrediction,
} from '../../shared/api/predictions';
import { keepMessage } from '../../shared/errors';
import { ExecutionStoppedError } from '../../shared/pause';
import { isAmbiguousCreateFailure } from '../../shared/transport/request';
import { binaryImageToUri } from './binaryInput';
import type { CheckedItem, WebhookSettings } from './checkItem';
import type { OperationItem } from './executionRun';
import type { CreateBody, PendingCreate } from './lostCreates';
import { findCreated, ledgerFor } from './lostCreates';
import { cancelUnfollowed } from './waitForPrediction';

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

/** How a create is sent. */
export interface CreateSettings {
	/** Hold the create until the prediction finishes (up to 60 s), to save polling. */
	preferWait: boolean;
	webhook?: WebhookSettings;
}

/** One item's create: the item's turn in the run (as checked), where it runs and how it is sent. */
export interface CreateJob extends OperationItem<CheckedItem> {
	context: IExecuteFunctions;
	settings: CreateSettings;
}

export interface CreatedPrediction {
	prediction: Prediction;
	uploads: UploadedFile[];
}

export async function createPrediction(job: CreateJob): Promise<CreatedPrediction> {
	const { context, itemIndex, run, options, policy } = job;
	// 1. Everything the item says, as checked before the first create.
	const { version, input: checkedInput, binaryFiles } = job.checked;

	const uploads: UploadedFile[] = [];
	let failure: unknown;
	try {
		// 2. Binary inputs become data URIs or uploads, in their fields (or array entries).
		const input: IDataObject = { ...checkedInput };
		for (const { field, index, image } of binaryFiles) {
			const uri = await binaryImageToUri(
				context,
				image,
				options.uploadRoute,
				policy,
				itemIndex,
				uploads,
			);
			if (index === undefined) input[field] = uri;
			else {
				const entries = [...((input[field] as unknown[] | undefined) ?? [])];
				entries[index] = uri;
				input[field] = entries as IDataObject[];
			}
		}

		// 3. The one paid request.
		const prediction = await sendCreate(job, { version, input });
		return { prediction, uploads };
	} catch (error) {
		failure = error;
	}
	// Refused, failed, or stopped: the files uploaded for it serve nothing any more.
	if (!options.keepUploadedFiles)
		run.warnings.push(...(await deleteUploads(context, uploads, policy)));
	throw failure;
}

async function sendCreate(job: CreateJob, sent: CreateBody): Promise<Prediction> {
	const { context, itemIndex, run, options, settings, policy } = job;
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
		answer = await postPrediction(
			context,
			{
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
					{ method: 'POST', path: PREDICTIONS_PATH },
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
			prediction = await adoptCreated(job, pending, (unusable ?? failure) as NodeApiError);
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
	{ context, itemIndex, run, policy }: CreateJob,
	pending: PendingCreate,
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
