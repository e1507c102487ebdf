/**
 * Create and Wait with Wait Mode: Webhook, the parking half (resume.ts is the other). The node
 * creates every item's prediction with the execution's resume URL as its webhook, parks the
 * execution (n8n stores it as waiting and frees the slot) and is resumed by Replicate's calls.
 * Design (README, Wait Mode):
 * - Creates go in input order; each URL carries what is known of the earlier items
 *   (resumeState.ts), the process remembers the rest.
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

import { deleteUploads } from '../../../../shared/api/files';
import { errorItem } from '../../../../shared/errors';
import { apiBaseUrl } from '../../../../shared/transport/request';
import type { CheckedItem } from '../../../engine/checkItem';
import { createPrediction } from '../../../engine/createPrediction';
import type { ItemBatch, OperationItem } from '../../../engine/executionRun';
import { failsOnlyItsItem, runEndingError } from '../../../engine/itemFailure';
import type { ItemRecord } from './resumeState';
import { executionIdOf, MAX_WEBHOOK_ITEMS, urlWithState, waiting } from './resumeState';

/** Hosts that only this machine reaches. */
export function isLoopbackHost(hostname: string): boolean {
	const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
	return (
		host === 'localhost' ||
		host.endsWith('.localhost') ||
		host === '::1' ||
		host === '0.0.0.0' ||
		/^127(\.\d{1,3}){3}$/.test(host)
	);
}

/**
 * Replicate calls the resume URL. One on loopback (n8n's WEBHOOK_URL unset) is reached only by an
 * API on this machine too (a local gateway or test server); for any other API the predictions
 * would run, paid, with nobody to hear them: fail before the first create.
 */
async function assertReachableByApi(context: IExecuteFunctions, resumeUrl: string): Promise<void> {
	const resume = new URL(resumeUrl);
	if (!isLoopbackHost(resume.hostname)) return;
	if (isLoopbackHost(new URL(await apiBaseUrl(context)).hostname)) return;
	throw new NodeOperationError(
		context.getNode(),
		`Wait Mode Webhook: Replicate cannot reach this execution's resume URL (${resume.origin}/…)`,
		{
			description:
				"n8n names itself by a loopback address because its WEBHOOK_URL environment variable is not set. Set WEBHOOK_URL to this n8n's public https URL (e.g. https://n8n.example.com/) and restart n8n, or use Wait Mode: Poll. Nothing was sent to Replicate.",
		},
	);
}

/** n8n resumes the execution by itself this long after the deadline (see the header). */
export const WAIT_GRACE_MS = 10 * 60 * 1000;

/**
 * Creates the checked items' predictions one after another (each URL names the earlier ones),
 * then parks the execution. `outputs` holds the error items of items that failed their check.
 */
export async function parkExecution(
	context: IExecuteFunctions,
	{ items, outputs, run, continueOnFail }: ItemBatch,
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
	await assertReachableByApi(context, resumeUrl);
	const started = Date.now();
	const deadline = started + Math.max(...items.map((item) => item.options.timeout)) * 1000;
	const records: Array<ItemRecord | null> = new Array<ItemRecord | null>(itemCount).fill(null);
	// Error texts travel in the later items' URLs: kept short.
	const failed = (message: string): ItemRecord => ({
		error: message.length > 300 ? `${message.slice(0, 299)}…` : message,
	});
	outputs.forEach((output, itemIndex) => {
		if (output) records[itemIndex] = failed(String(output[0]?.json.error ?? 'Invalid input'));
	});

	for (const item of items as Array<OperationItem<CheckedItem>>) {
		const { itemIndex, options } = item;
		try {
			const { prediction, uploads } = await createPrediction({
				...item,
				context,
				settings: {
					preferWait: false,
					webhook: {
						url: urlWithState(resumeUrl, {
							itemCount,
							itemIndex,
							deadline,
							items: records.map((record, index) => (index === itemIndex ? null : record)),
						}),
						events: ['completed'],
					},
				},
			});
			records[itemIndex] = {
				predictionId: prediction.id,
				...(uploads.length > 0 && !options.keepUploadedFiles
					? { uploadIds: uploads.map((upload) => upload.id) }
					: {}),
			};
		} catch (error) {
			if (failsOnlyItsItem(continueOnFail, error)) {
				outputs[itemIndex] = [errorItem(context, error, itemIndex)];
				records[itemIndex] = failed(String(outputs[itemIndex][0].json.error));
				continue;
			}
			// As in poll mode: what this execution started is cancelled, and the files uploaded for
			// it deleted, before the error is raised.
			await run.tearDown();
			const uploads = records.flatMap((record) => (record?.uploadIds ?? []).map((id) => ({ id })));
			run.warnings.push(
				...(await deleteUploads(context, uploads, { maxRetries: options.maxRetries })),
			);
			throw runEndingError(context, error, itemIndex);
		}
	}

	// Every create failed (Continue On Fail): nothing will call back, so there is nothing to wait
	// for.
	if (!records.some((record) => record?.predictionId)) return [outputs.flat()];

	waiting.merge(executionIdOf(context), { itemCount, deadline, items: records }, Date.now());
	await context.putExecutionToWait(new Date(deadline + WAIT_GRACE_MS));
	// Shown on the node while the execution waits (n8n replaces it with the resumed output).
	const parked = records.map(
		(record, itemIndex): INodeExecutionData[] =>
			outputs[itemIndex] ?? [
				{
					json: {
						predictionId: record?.predictionId ?? null,
						status: 'starting',
						waitMode: 'webhook',
					},
					pairedItem: { item: itemIndex },
				},
			],
	);
	return [parked.flat()];
}
