/**
 * Create and Wait with Wait Mode: Webhook, the resuming half: the node's restart webhook. Every
 * call is verified like a trigger delivery; the call that finds every item terminal (or comes at
 * or after the deadline) resumes the execution with exactly what poll mode outputs. README, Wait
 * Mode.
 */
import type { INodeExecutionData, IWebhookFunctions, IWebhookResponseData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { deleteUploads } from '../../../../shared/api/files';
import type { Prediction } from '../../../../shared/api/predictions';
import { getPrediction, isTerminal } from '../../../../shared/api/predictions';
import { errorItem, withPredictionId } from '../../../../shared/errors';
import type { NodeOptions } from '../../../../shared/options';
import { readOptions } from '../../../../shared/options';
import { itemsWithOutputs } from '../../../../shared/outputs/items';
import { isRejection, refuse, verifyDelivery } from '../../../../shared/webhooks/verifyDelivery';
import { continuesOnFail } from '../../../engine/itemFailure';
import { unsuccessfulPredictionError, waitForPrediction } from '../../../engine/waitForPrediction';
import type { Knowledge } from './resumeState';
import {
	executionIdOf,
	readState,
	reportsElsewhere,
	unfinishedPredictions,
	unknownItems,
	waiting,
} from './resumeState';

const RESUME = 'Replicate Inpainting (Wait Mode: Webhook)';

/** The items of one item at resume: poll mode's result items, or its error item. */
async function itemOutputs(
	context: IWebhookFunctions,
	knowledge: Knowledge,
	itemIndex: number,
	options: NodeOptions,
): Promise<INodeExecutionData[]> {
	const record = knowledge.items[itemIndex];
	const node = context.getNode();
	const policy = { maxRetries: options.maxRetries };
	try {
		if (!record) {
			throw new NodeOperationError(
				node,
				`No word from Replicate about item ${itemIndex}'s prediction by the Timeout of ${options.timeout} s`,
				{
					itemIndex,
					description:
						'Its ID never reached this n8n process (n8n restarted, or another process got its calls). Replicate stopped it at the Timeout (Cancel-After).',
				},
			);
		}
		if (record.error !== undefined) throw new NodeOperationError(node, record.error, { itemIndex });
		const id = record.predictionId as string;
		let prediction = knowledge.finished.get(id) as Prediction | undefined;
		if (!prediction) {
			// Not heard of by the deadline: fetch it; still running, it is cancelled and fails as a
			// timeout.
			const current = await getPrediction(context, id, policy, itemIndex);
			prediction = await waitForPrediction(context, current, {
				deadline: knowledge.deadline,
				onTimeout: 'cancel',
				policy,
				itemIndex,
				timeoutSeconds: options.timeout,
			});
		}
		if (prediction.status !== 'succeeded')
			throw unsuccessfulPredictionError(node, prediction, itemIndex, options.timeout);
		return (await itemsWithOutputs(context, prediction, options, policy, itemIndex)).map(
			(item) => ({ ...item, pairedItem: { item: itemIndex } }),
		);
	} catch (error) {
		if (record?.predictionId && error instanceof NodeOperationError)
			withPredictionId(error, record.predictionId);
		return [errorItem(context, error, itemIndex)];
	}
}

/**
 * Builds the resumed output in input order. n8n's engine then treats it as the node's output (and
 * splits error items off to an error output as it does after execute()).
 */
async function resumedOutput(
	context: IWebhookFunctions,
	knowledge: Knowledge,
): Promise<INodeExecutionData[][]> {
	const options = readOptions(context);
	const perItem: INodeExecutionData[][] = [];
	for (let itemIndex = 0; itemIndex < knowledge.itemCount; itemIndex++) {
		perItem.push(await itemOutputs(context, knowledge, itemIndex, options));
	}
	const uploads = knowledge.items.flatMap((record) =>
		(record?.uploadIds ?? []).map((id) => ({ id })),
	);
	for (const warning of await deleteUploads(context, uploads, { maxRetries: options.maxRetries }))
		context.logger.warn(warning);
	const items = perItem.flat();
	const failed = items.filter((item) => item.json.error !== undefined);
	if (failed.length > 0 && !continuesOnFail(context.getNode())) {
		// n8n cannot fail an execution from a resume call (it would run the next nodes on an empty
		// item): the failures are error items, as with Continue On Fail, and are logged.
		context.logger.warn(
			`${RESUME}: ${failed.length} item(s) failed: ${failed.map((item) => item.json.error).join('; ')}`,
		);
	}
	return [items];
}

/** Handles one call, after every earlier call for the same execution. */
async function handleCall(
	context: IWebhookFunctions,
	knowledge: Knowledge,
	prediction: Prediction,
): Promise<IWebhookResponseData> {
	const { maxRetries } = readOptions(context);
	if (knowledge.resumed)
		return { webhookResponse: { received: true, resumed: false, reason: 'already resumed' } };
	if (isTerminal(prediction.status)) knowledge.finished.set(prediction.id, prediction);
	const afterDeadline = Date.now() >= knowledge.deadline;
	if (!afterDeadline) {
		const unknown = unknownItems(knowledge);
		if (unknown.length > 0)
			return { webhookResponse: { received: true, resumed: false, waitingForItems: unknown } };
		for (const id of unfinishedPredictions(knowledge)) {
			const current = await getPrediction(context, id, { maxRetries });
			if (!isTerminal(current.status)) {
				return { webhookResponse: { received: true, resumed: false, waitingForPrediction: id } };
			}
			knowledge.finished.set(id, current);
		}
	}
	knowledge.resumed = true;
	let workflowData: INodeExecutionData[][] | undefined;
	try {
		workflowData = await resumedOutput(context, knowledge);
	} finally {
		// Not resumed after all: a retry of this call may try again.
		if (!workflowData) knowledge.resumed = false;
	}
	return { workflowData, webhookResponse: { received: true, resumed: true } };
}

/**
 * The node's restart webhook: n8n's waiting-webhooks endpoint calls it for
 * `{WEBHOOK_URL}/webhook-waiting/<executionId>?…&replicate_wait=<state>`.
 */
export async function resumeFromWebhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
	const executionId = executionIdOf(this);
	const verified = await verifyDelivery(this, `resume/${executionId}`);
	if (isRejection(verified)) return refuse(this, verified, RESUME);
	const state = readState(this.getQueryData());
	if (!state) {
		verified.release();
		return refuse(
			this,
			{ status: 400, reason: `The call has no valid replicate_wait state` },
			RESUME,
		);
	}
	const { prediction } = verified;
	if (reportsElsewhere(prediction.webhook, executionId, this.getQueryData())) {
		return refuse(
			this,
			{
				status: 400,
				reason: `Prediction ${prediction.id} was created for another resume URL, not for item ${state.itemIndex} of this execution`,
			},
			RESUME,
		);
	}
	const knowledge = waiting.merge(executionId, state, Date.now());
	const own = knowledge.items[state.itemIndex];
	if (own?.predictionId !== undefined && own.predictionId !== prediction.id) {
		return refuse(
			this,
			{ status: 400, reason: `Prediction ${prediction.id} is not item ${state.itemIndex}'s` },
			RESUME,
		);
	}
	if (!own) knowledge.items[state.itemIndex] = { predictionId: prediction.id };
	try {
		return await waiting.serially(
			knowledge,
			async () => await handleCall(this, knowledge, prediction),
		);
	} catch (error) {
		// Never throw to n8n here: it would resume the execution with an empty item. Replicate retries
		// a 500.
		verified.release();
		return refuse(this, { status: 500, reason: (error as Error).message }, RESUME);
	}
}
