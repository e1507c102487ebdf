/**
 * Create and Wait with Wait Mode: Webhook, the parking half (resume.ts is the other). The node
 * creates every item's prediction with the execution's resume URL as its webhook, parks the
 * execution (n8n stores it as waiting and frees the slot) and is resumed by Replicate's calls.
 * Design (README, Wait Mode):
 * - Creates go in input order; each URL carries what is known of the earlier items
 *   (state.ts), the process remembers the rest.
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
import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { asNodeError, errorItem } from '../../../shared/errors';
import type { NodeOptions } from '../../../shared/options';
import { readOptions } from '../../../shared/options';
import { ExecutionStoppedError } from '../../../shared/pause';
import { createPrediction } from '../create';
import type { ExecutionRun } from '../run';
import type { ItemEntry, ResumeState } from './state';
import { executionIdOf, MAX_WEBHOOK_ITEMS, urlWithState, waiting } from './state';

/** n8n resumes the execution by itself this long after the deadline (see the header). */
export const WAIT_GRACE_MS = 10 * 60 * 1000;

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
			const { prediction, uploads } = await createPrediction({
				context,
				itemIndex,
				run,
				options: itemOptions,
				settings: {
					preferWait: false,
					webhook: { url: urlWithState(resumeUrl, state), events: ['completed'] },
				},
				policy: run.policy(itemOptions.maxRetries),
			});
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

	// Every create failed (Continue On Fail): nothing will call back, so there is nothing to wait
	// for.
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
