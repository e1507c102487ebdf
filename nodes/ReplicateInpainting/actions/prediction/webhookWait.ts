/**
 * Create and Wait with Wait Mode: Webhook. The node creates every item's prediction with the
 * execution's resume URL as its webhook, parks the execution (n8n stores it as waiting and frees
 * the slot) and is resumed by Replicate's calls. Design (README, Wait Mode):
 * - Creates go in input order; each URL carries what is known of the earlier items
 *   (helpers/resumeState.ts), the process remembers the rest.
 * - Every call is verified like a trigger delivery (shared verifyDelivery): forged, stale or
 *   replayed calls get 401 and change nothing.
 * - A call that leaves some item unfinished is answered 200 without resuming (n8n then stores
 *   nothing). The call that finds every item terminal resumes the execution with exactly what poll
 *   mode outputs (the same result and error-item functions).
 * - At the Timeout Replicate ends what still runs (Cancel-After) and calls; a call at or after the
 *   deadline resumes whatever it knows: unfinished predictions are fetched, cancelled and failed.
 * - n8n's own wait limit (deadline + WAIT_GRACE_MS) is a last resort: n8n then passes the node's
 *   input through without running node code, so it is set well after Replicate's last calls.
 */
import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { refuse, isRejection, verifyDelivery } from '../../../shared/verifyDelivery';
import { deleteUploads } from '../../helpers/binary';
import { asNodeError, errorItem, withPredictionId } from '../../helpers/errors';
import { ExecutionStoppedError } from '../../helpers/pause';
import type { Prediction } from '../../helpers/prediction';
import { isTerminal, unsuccessfulPredictionError } from '../../helpers/prediction';
import type { ItemEntry, Knowledge, ResumeState } from '../../helpers/resumeState';
import {
	MAX_WEBHOOK_ITEMS,
	readState,
	unfinishedPredictions,
	unknownItems,
	urlWithState,
	WaitingExecutions,
} from '../../helpers/resumeState';
import type { ExecutionRun } from '../../helpers/run';
import { getPrediction, waitForPrediction } from '../../helpers/wait';
import { createPrediction } from './create';
import type { NodeOptions } from './options';
import { readOptions, resolveOptions } from './options';
import { itemsWithOutputs } from './results';

/** n8n resumes the execution by itself this long after the deadline (see the header). */
export const WAIT_GRACE_MS = 10 * 60 * 1000;

const RESUME = 'Replicate Inpainting (Wait Mode: Webhook)';

/** Parked executions this n8n process knows about. */
const waiting = new WaitingExecutions();

function executionIdOf(context: IExecuteFunctions | IWebhookFunctions): string {
	return String(context.getExecutionId() ?? '');
}

/**
 * Creates the valid items' predictions one after another (each URL names the earlier ones), then
 * parks the execution. `outputs` holds the error items of items that already failed validation.
 */
export async function parkForWebhooks(
	context: IExecuteFunctions,
	valid: number[],
	outputs: INodeExecutionData[][],
	run: ExecutionRun,
	continueOnFail: () => boolean,
): Promise<INodeExecutionData[][]> {
	const itemCount = context.getInputData().length;
	if (itemCount > MAX_WEBHOOK_ITEMS) {
		throw new NodeOperationError(
			context.getNode(),
			`Wait Mode Webhook takes at most ${MAX_WEBHOOK_ITEMS} items per execution (got ${itemCount})`,
			{
				description:
					'Split the items (Loop Over Items) or use Wait Mode: Poll. Nothing was sent to Replicate.',
			},
		);
	}
	const resumeUrl = String(context.evaluateExpression('{{ $execution.resumeUrl }}', 0));
	const started = Date.now();
	const options = new Map(valid.map((itemIndex) => [itemIndex, readOptions(context, itemIndex)]));
	const deadline =
		started + Math.max(...[...options.values()].map((option) => option.timeout)) * 1000;
	const entries: Array<ItemEntry | null> = new Array<ItemEntry | null>(itemCount).fill(null);
	// Error texts travel in the later items' URLs: kept short.
	const failed = (message: string): ItemEntry => ({
		e: message.length > 300 ? `${message.slice(0, 299)}…` : message,
	});
	outputs.forEach((items, itemIndex) => {
		if (items) entries[itemIndex] = failed(String(items[0]?.json.error ?? 'Invalid input'));
	});

	for (const itemIndex of valid) {
		const itemOptions = options.get(itemIndex) as NodeOptions;
		const state: ResumeState = {
			v: 1,
			n: itemCount,
			i: itemIndex,
			d: deadline,
			p: entries.map((entry, index) => (index === itemIndex ? null : entry)),
		};
		try {
			const { prediction, uploads } = await createPrediction(
				context,
				itemIndex,
				run,
				itemOptions,
				{
					preferWait: false,
					webhook: { url: urlWithState(resumeUrl, state), events: ['completed'] },
				},
				run.policy(itemOptions.maxRetries),
			);
			entries[itemIndex] = {
				p: prediction.id,
				...(uploads.length > 0 && !itemOptions.keepUploadedFiles
					? { u: uploads.map((upload) => upload.id) }
					: {}),
			};
		} catch (error) {
			if (continueOnFail() && !(error instanceof ExecutionStoppedError)) {
				outputs[itemIndex] = [errorItem(context, error, itemIndex)];
				entries[itemIndex] = failed(String(outputs[itemIndex][0].json.error));
				continue;
			}
			// As in poll mode: what this execution started is cancelled before the error is raised.
			await run.tearDown();
			throw error instanceof ExecutionStoppedError ? error : asNodeError(context, error, itemIndex);
		}
	}

	// Every create failed (Continue On Fail): nothing will call back, so there is nothing to wait for.
	if (!entries.some((entry) => entry?.p)) return [outputs.flat()];

	waiting.merge(executionIdOf(context), { n: itemCount, d: deadline, p: entries }, Date.now());
	await context.putExecutionToWait(new Date(deadline + WAIT_GRACE_MS));
	// Shown on the node while the execution waits (n8n replaces it with the resumed output).
	const parked = entries.map(
		(entry, itemIndex): INodeExecutionData[] =>
			outputs[itemIndex] ?? [
				{
					json: { predictionId: entry?.p ?? null, status: 'starting', waitMode: 'webhook' },
					pairedItem: { item: itemIndex },
				},
			],
	);
	return [parked.flat()];
}

function continuesOnFail(context: IWebhookFunctions): boolean {
	const { onError, continueOnFail } = context.getNode();
	return (
		onError === 'continueRegularOutput' ||
		onError === 'continueErrorOutput' ||
		continueOnFail === true
	);
}

/** The items of one item at resume: poll mode's result items, or its error item. */
async function itemOutputs(
	context: IWebhookFunctions,
	knowledge: Knowledge,
	itemIndex: number,
	options: NodeOptions,
): Promise<INodeExecutionData[]> {
	const entry = knowledge.entries[itemIndex];
	const node = context.getNode();
	const policy = { maxRetries: options.maxRetries };
	try {
		if (!entry) {
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
		if (entry.e !== undefined) throw new NodeOperationError(node, entry.e, { itemIndex });
		const id = entry.p as string;
		let prediction = knowledge.finished.get(id) as Prediction | undefined;
		if (!prediction) {
			// Not heard of by the deadline: fetch it; still running, it is cancelled and fails as a timeout.
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
		if (entry?.p && error instanceof NodeOperationError) withPredictionId(error, entry.p);
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
	const options = resolveOptions(
		context.getNode(),
		context.getNodeParameter('options', {}) as IDataObject,
	);
	const perItem: INodeExecutionData[][] = [];
	for (let itemIndex = 0; itemIndex < knowledge.n; itemIndex++) {
		perItem.push(await itemOutputs(context, knowledge, itemIndex, options));
	}
	const uploads = knowledge.entries.flatMap((entry) => (entry?.u ?? []).map((id) => ({ id })));
	for (const warning of await deleteUploads(context, uploads, { maxRetries: options.maxRetries }))
		context.logger.warn(warning);
	const items = perItem.flat();
	const failed = items.filter((item) => item.json.error !== undefined);
	if (failed.length > 0 && !continuesOnFail(context)) {
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
	const { maxRetries } = resolveOptions(
		context.getNode(),
		context.getNodeParameter('options', {}) as IDataObject,
	);
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
	const knowledge = waiting.merge(executionId, state, Date.now());
	const own = knowledge.entries[state.i];
	if (own?.p !== undefined && own.p !== prediction.id) {
		return refuse(
			this,
			{ status: 400, reason: `Prediction ${prediction.id} is not item ${state.i}'s` },
			RESUME,
		);
	}
	if (!own) knowledge.entries[state.i] = { p: prediction.id };
	try {
		return await waiting.serially(
			knowledge,
			async () => await handleCall(this, knowledge, prediction),
		);
	} catch (error) {
		// Never throw to n8n here: it would resume the execution with an empty item. Replicate retries a 500.
		verified.release();
		return refuse(this, { status: 500, reason: (error as Error).message }, RESUME);
	}
}
