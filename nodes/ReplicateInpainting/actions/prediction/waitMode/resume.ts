/**
 * Create and Wait with Wait Mode: Webhook, the resuming half: the node's restart webhook. Every
 * call is verified like a trigger delivery and must be for the prediction the execution's record
 * names for its item; the call of the prediction that finished last, once every prediction is
 * terminal, resumes the execution with exactly what poll mode outputs. docs/ARCHITECTURE.md, Wait
 * Mode.
 */
import type { INodeExecutionData, IWebhookFunctions, IWebhookResponseData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { deleteUploads } from '../../../../shared/api/files';
import type { Prediction } from '../../../../shared/api/predictions';
import { cancelPrediction, getPrediction, isTerminal } from '../../../../shared/api/predictions';
import { errorItem, withPredictionId } from '../../../../shared/errors';
import type { NodeOptions } from '../../../../shared/options';
import { readOptions } from '../../../../shared/options';
import { itemsWithOutputs } from '../../../../shared/outputs/items';
import { isRejection, refuse, verifyDelivery } from '../../../../shared/webhooks/verifyDelivery';
import { continuesOnFail } from '../../../engine/itemFailure';
import { unsuccessfulPredictionError } from '../../../engine/waitForPrediction';
import type { SeenExecution } from './calls';
import { seenCalls } from './calls';
import type { ParkRecord } from './record';
import { customDataOf, readRecord, writeRecordText } from './record';
import { executionIdOf, readItemIndex, reportsElsewhere } from './resumeUrl';

const RESUME = 'Replicate Inpainting (Wait Mode: Webhook)';

/** The predictions of the record, by item. */
const predictionIds = (record: ParkRecord) =>
	record.items.flatMap((item) => ('predictionId' in item ? [item.predictionId] : []));

/** One item's output at resume: poll mode's result items, or its error item. */
async function itemOutputs(
	context: IWebhookFunctions,
	record: ParkRecord,
	finished: Map<string, Prediction>,
	itemIndex: number,
	options: NodeOptions,
): Promise<INodeExecutionData[]> {
	const item = record.items[itemIndex];
	const node = context.getNode();
	const policy = { maxRetries: options.maxRetries };
	try {
		if ('error' in item) {
			// An empty text: it was cut to fit the record (the parked run logged it whole).
			const message = item.error || `Item ${itemIndex} got no prediction when the execution parked`;
			throw new NodeOperationError(node, message, { itemIndex });
		}
		const prediction = finished.get(item.predictionId) as Prediction;
		if (prediction.status !== 'succeeded')
			throw unsuccessfulPredictionError(node, prediction, itemIndex, options.timeout);
		return (await itemsWithOutputs(context, prediction, options, policy, itemIndex)).map(
			(output) => ({ ...output, pairedItem: { item: itemIndex } }),
		);
	} catch (error) {
		if ('predictionId' in item && error instanceof NodeOperationError)
			withPredictionId(error, item.predictionId);
		return [errorItem(context, error, itemIndex)];
	}
}

/** The files the node uploaded for the predictions, as their inputs name them. */
function uploadedFiles(record: ParkRecord, finished: Map<string, Prediction>) {
	return record.items.flatMap((item) => {
		if (!('predictionId' in item)) return [];
		const input = (finished.get(item.predictionId)?.input ?? {}) as Record<string, unknown>;
		return item.uploaded.flatMap((field) => {
			const id = String(input[field] ?? '')
				.split('/')
				.filter(Boolean)
				.at(-1);
			return id ? [{ id }] : [];
		});
	});
}

/**
 * Builds the resumed output in input order. n8n's engine then treats it as the node's output (and
 * splits error items off to an error output as it does after execute()).
 */
async function resumedOutput(
	context: IWebhookFunctions,
	record: ParkRecord,
	finished: Map<string, Prediction>,
): Promise<INodeExecutionData[][]> {
	const options = readOptions(context);
	const perItem: INodeExecutionData[][] = [];
	for (let itemIndex = 0; itemIndex < record.items.length; itemIndex++) {
		perItem.push(await itemOutputs(context, record, finished, itemIndex, options));
	}
	const uploads = uploadedFiles(record, finished);
	for (const warning of await deleteUploads(context, uploads, { maxRetries: options.maxRetries }))
		context.logger.warn(warning);
	const items = perItem.flat();
	// A result item carries the prediction's own `error: null`; an error item, its message.
	const failed = items.filter((item) => typeof item.json.error === 'string');
	if (failed.length > 0 && !continuesOnFail(context.getNode())) {
		// n8n cannot fail an execution from a resume call (it would run the next nodes on an empty
		// item): the failures are error items, as with Continue On Fail, and are logged.
		context.logger.warn(
			`${RESUME}: ${failed.length} item(s) failed: ${failed.map((item) => item.json.error).join('; ')}`,
		);
	}
	return [items];
}

/** When a prediction finished, as Replicate says (its creation time when it names none). */
function finishedAt(prediction: Prediction): number {
	const at = Date.parse(String(prediction.completed_at ?? prediction.created_at ?? ''));
	return Number.isFinite(at) ? at : 0;
}

/**
 * The prediction that finished last (the later item on a tie). Every process that sees them all
 * terminal names the same one, so exactly one call resumes the execution.
 */
function lastFinished(record: ParkRecord, finished: Map<string, Prediction>): string {
	let last = '';
	let lastAt = -Infinity;
	for (const id of predictionIds(record)) {
		const at = finishedAt(finished.get(id) as Prediction);
		if (at >= lastAt) [last, lastAt] = [id, at];
	}
	return last;
}

/** Handles one call, after every earlier call for the same execution in this process. */
async function handleCall(
	context: IWebhookFunctions,
	seen: SeenExecution,
	record: ParkRecord,
	prediction: Prediction,
): Promise<IWebhookResponseData> {
	const { maxRetries } = readOptions(context);
	if (seen.resumed)
		return { webhookResponse: { received: true, resumed: false, reason: 'already resumed' } };
	if (isTerminal(prediction.status)) seen.finished.set(prediction.id, prediction);
	for (const id of predictionIds(record)) {
		if (seen.finished.has(id)) continue;
		const current = await getPrediction(context, id, { maxRetries });
		if (isTerminal(current.status)) {
			seen.finished.set(id, current);
			continue;
		}
		// Past the Timeout Replicate should have ended it (Cancel-After): cancelled now, its own
		// call comes when it has ended, and that call resumes the execution.
		if (Date.now() >= record.deadline)
			await cancelPrediction(context, id, { maxRetries }, undefined, 'cleanup');
		return { webhookResponse: { received: true, resumed: false, waitingForPrediction: id } };
	}
	const last = lastFinished(record, seen.finished);
	if (last !== prediction.id) {
		return { webhookResponse: { received: true, resumed: false, resumedByTheCallOf: last } };
	}
	seen.resumed = true;
	let workflowData: INodeExecutionData[][] | undefined;
	try {
		workflowData = await resumedOutput(context, record, seen.finished);
	} finally {
		// Not resumed after all: a retry of this call may try again.
		if (!workflowData) seen.resumed = false;
	}
	writeRecordText(customDataOf(context), context.getNode(), '');
	return { workflowData, webhookResponse: { received: true, resumed: true } };
}

/**
 * The node's restart webhook: n8n's waiting-webhooks endpoint calls it for
 * `{WEBHOOK_URL}/webhook-waiting/<executionId>?…&replicate_item=<n>`.
 */
export async function resumeFromWebhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
	const executionId = executionIdOf(this);
	const verified = await verifyDelivery(this, `resume/${executionId}`);
	if (isRejection(verified)) return refuse(this, verified, RESUME);
	const query = this.getQueryData();
	const record = readRecord(customDataOf(this), this.getNode());
	const itemIndex = record ? readItemIndex(query, record.items.length) : undefined;
	if (!record || itemIndex === undefined) {
		verified.release();
		return refuse(
			this,
			{ status: 400, reason: 'The call names no item this execution waits for' },
			RESUME,
		);
	}
	const { prediction } = verified;
	const expected = record.items[itemIndex];
	if (
		!('predictionId' in expected) ||
		expected.predictionId !== prediction.id ||
		reportsElsewhere(prediction.webhook, executionId, query)
	) {
		return refuse(
			this,
			{
				status: 400,
				reason: `Prediction ${prediction.id} is not the prediction of item ${itemIndex} of this execution`,
			},
			RESUME,
		);
	}
	// One park of the execution: a node in a loop parks the same execution again, with a new record.
	const seen = seenCalls.of(`${executionId}/${record.deadline}`, record.deadline);
	try {
		return await seenCalls.serially(
			seen,
			async () => await handleCall(this, seen, record, prediction),
		);
	} catch (error) {
		// Never throw to n8n here: it would resume the execution with an empty item. Replicate retries
		// a 500.
		verified.release();
		return refuse(this, { status: 500, reason: (error as Error).message }, RESUME);
	}
}
