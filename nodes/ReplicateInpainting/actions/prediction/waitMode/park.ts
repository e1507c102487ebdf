/**
 * Create and Wait with Wait Mode: Webhook, the parking half (resume.ts is the other). The node
 * creates every item's prediction with the execution's resume URL as its webhook, writes what it
 * waits for into the execution's record (record.ts: n8n's custom data, saved with the waiting
 * execution), parks the execution (n8n stores it as waiting and frees the slot) and is resumed by
 * Replicate's calls. Design (docs/ARCHITECTURE.md, Wait Mode):
 * - Each URL names only its item (resumeUrl.ts); the record holds every item's prediction ID or
 *   error, which inputs the node uploaded, and the deadline. Every call reads it back, in whichever
 *   process gets it, after any restart.
 * - Every call is verified like a trigger delivery (shared verifyDelivery), and must be for the
 *   prediction the record names for its item: anything else is refused and changes nothing.
 * - The call of the prediction that finished last resumes the execution, once every prediction is
 *   terminal, with exactly what poll mode outputs (the same result and error-item functions).
 * - At the Timeout Replicate ends what still runs (Cancel-After) and calls.
 * - n8n's own wait limit (deadline + WAIT_GRACE_MS) is a last resort: n8n then passes the node's
 *   input through without running node code, so it is set well after Replicate's last calls.
 */
import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import type { UploadedFile } from '../../../../shared/api/files';
import { deleteUploads } from '../../../../shared/api/files';
import { errorItem } from '../../../../shared/errors';
import { apiBaseUrl } from '../../../../shared/transport/request';
import type { CheckedItem } from '../../../engine/checkItem';
import { createPrediction } from '../../../engine/createPrediction';
import type { ExecutionRun, ItemBatch, OperationItem } from '../../../engine/executionRun';
import { failsOnlyItsItem, runEndingError } from '../../../engine/itemFailure';
import type { ItemRecord } from './record';
import {
	capacity,
	CUSTOM_DATA,
	customDataOf,
	encodeRecord,
	fitRecord,
	freeKeys,
	itemsThatFit,
	MAX_WEBHOOK_ITEMS,
	plannedSize,
	writeRecordText,
} from './record';
import { itemUrl } from './resumeUrl';

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
 * Creates the checked items' predictions one after another, writes the execution's record and
 * parks the execution. `outputs` holds the error items of items that failed their check.
 */
export async function parkExecution(
	context: IExecuteFunctions,
	{ items, outputs, run, continueOnFail }: ItemBatch,
): Promise<INodeExecutionData[][]> {
	const itemCount = context.getInputData().length;
	const node = context.getNode();
	const customData = customDataOf(context);
	const room = capacity(freeKeys(customData, node));
	const checkedItems = items as Array<OperationItem<CheckedItem>>;
	const uploadsPerItem = Math.max(...checkedItems.map(({ checked }) => checked.binaryFiles.length));
	const fits = itemsThatFit(room, uploadsPerItem);
	if (itemCount > fits) {
		throw new NodeOperationError(
			node,
			`Wait Mode Webhook holds at most ${fits} items in this execution (got ${itemCount})`,
			{
				description: `What the node waits for is kept in the execution's custom data, which n8n limits to ${CUSTOM_DATA.keys} keys of ${CUSTOM_DATA.valueLength} characters (${CUSTOM_DATA.keys - Math.round(room / CUSTOM_DATA.valueLength)} taken by this workflow), and at most ${MAX_WEBHOOK_ITEMS} items. Split the items (Loop Over Items) or use Wait Mode: Poll. Nothing was sent to Replicate.`,
			},
		);
	}
	const resumeUrl = String(context.evaluateExpression('{{ $execution.resumeUrl }}', 0));
	await assertReachableByApi(context, resumeUrl);
	const deadline = Date.now() + Math.max(...items.map((item) => item.options.timeout)) * 1000;
	const records: ItemRecord[] = outputs.map((output) => ({
		error: String(output?.[0]?.json.error ?? ''),
	}));
	// The record's keys are taken before anything is paid for: n8n drops a key silently when the
	// execution already has ten.
	const reserved = 'x'.repeat(plannedSize(itemCount, uploadsPerItem));
	if (!writeRecordText(customData, node, reserved)) {
		throw new NodeOperationError(node, "Wait Mode Webhook could not write the execution's record", {
			description: `n8n's custom data of this execution is full (${CUSTOM_DATA.keys} keys). Use fewer $execution.customData keys before this node, or Wait Mode: Poll. Nothing was sent to Replicate.`,
		});
	}

	// What the park uploaded, deleted if it cannot go on.
	const parkUploads: UploadedFile[] = [];
	const cleanupRetries = items[0].options.maxRetries;
	for (const item of checkedItems) {
		const { itemIndex, options } = item;
		try {
			const { prediction, uploads } = await createPrediction({
				...item,
				context,
				settings: {
					preferWait: false,
					webhook: { url: itemUrl(resumeUrl, itemIndex), events: ['completed'] },
				},
			});
			if (!options.keepUploadedFiles) parkUploads.push(...uploads);
			const input = (prediction.input ?? {}) as Record<string, unknown>;
			records[itemIndex] = {
				predictionId: prediction.id,
				uploaded: options.keepUploadedFiles
					? []
					: (['image', 'mask'] as const).filter((field) =>
							uploads.some((upload) => upload.url === input[field]),
						),
			};
		} catch (error) {
			if (failsOnlyItsItem(continueOnFail, error)) {
				outputs[itemIndex] = [errorItem(context, error, itemIndex)];
				records[itemIndex] = { error: String(outputs[itemIndex][0].json.error) };
				continue;
			}
			const ending = runEndingError(context, error, itemIndex);
			throw await endPark(context, run, parkUploads, cleanupRetries, ending);
		}
	}

	// Every create failed (Continue On Fail): nothing will call back, so there is nothing to wait
	// for.
	if (!records.some((record) => 'predictionId' in record)) {
		writeRecordText(customData, node, '');
		return [outputs.flat()];
	}
	const record = { deadline, items: records };
	const text = fitRecord(record, room);
	if (text !== undefined && text !== encodeRecord(record)) {
		// The record holds them shortened: the log keeps them whole.
		records.forEach((item, itemIndex) => {
			if ('error' in item) run.warnings.push(`Item ${itemIndex} got no prediction: ${item.error}`);
		});
	}
	if (text === undefined || !writeRecordText(customData, node, text)) {
		const error = new NodeOperationError(
			node,
			"Wait Mode Webhook could not write the execution's record: it came out longer than planned",
			{
				description:
					'The API answered with longer prediction IDs than Replicate issues. The predictions were cancelled; use Wait Mode: Poll with this API.',
			},
		);
		throw await endPark(context, run, parkUploads, cleanupRetries, error);
	}
	await context.putExecutionToWait(new Date(deadline + WAIT_GRACE_MS));
	// Shown on the node while the execution waits (n8n replaces it with the resumed output).
	const parked = records.map(
		(record, itemIndex): INodeExecutionData[] =>
			outputs[itemIndex] ?? [
				{
					json: {
						predictionId: 'predictionId' in record ? record.predictionId : null,
						status: 'starting',
						waitMode: 'webhook',
					},
					pairedItem: { item: itemIndex },
				},
			],
	);
	return [parked.flat()];
}

/**
 * A park that cannot go on ends as poll mode does: what it started is cancelled and the files it
 * uploaded deleted before the error is raised.
 */
async function endPark(
	context: IExecuteFunctions,
	run: ExecutionRun,
	uploads: UploadedFile[],
	maxRetries: number,
	error: Error,
): Promise<Error> {
	await run.tearDown();
	writeRecordText(customDataOf(context), context.getNode(), '');
	run.warnings.push(...(await deleteUploads(context, uploads, { maxRetries })));
	return error;
}
