/**
 * Rows of the fault matrix for the Replicate Inpainting Trigger: deliveries, real and forged, sent
 * through n8n-core's WebhookContext (test/harness/webhook.ts). What n8n would do with each answer
 * is in the harness's result: `started` (an execution with the trigger's items) or `error` (the
 * node threw: n8n answers 500 and records a failed execution, which runs the Error Workflow).
 *
 * `forged-executions` in the totals counts, over every row here, the deliveries marked `forged`
 * that started an execution of either kind. Add rows for new inbound faults here.
 */
import type { IDataObject, INodeParameters } from 'n8n-workflow';

import type { WebhookRunResult } from '../harness';
import type { FakeReplicate } from '../../tools/fake-replicate';
import { keyOf, newWebhookId, signedHeaders } from '../trigger/support';

export interface TriggerDelivery {
	body: string;
	headers: Record<string, string>;
	/** Did not come from Replicate (or is a replay): it must start nothing. */
	forged: boolean;
}

export interface TriggerRow {
	fault: string;
	/** Switches on the server for the row (faults on the secret endpoint, …). */
	arrange?: (server: FakeReplicate) => void | Promise<void>;
	/** Credential fields over the server's token and API URL. */
	credential?: IDataObject;
	parameters?: INodeParameters;
	/** Sent one after another; `prediction` is a finished prediction's JSON as Replicate would send it. */
	deliveries: (server: FakeReplicate, prediction: string) => TriggerDelivery[];
	expect: (
		results: WebhookRunResult[],
		deliveries: TriggerDelivery[],
		server: FakeReplicate,
	) => void;
}

/** A delivery that started an execution, a failed one included. */
export function startedExecution(result: WebhookRunResult): boolean {
	return result.started || result.error !== undefined;
}

export function forgedExecutions(
	deliveries: TriggerDelivery[],
	results: WebhookRunResult[],
): number {
	return deliveries.filter(
		(delivery, index) =>
			delivery.forged && results[index] !== undefined && startedExecution(results[index]),
	).length;
}

const refusedQuietly = (results: WebhookRunResult[], deliveries: TriggerDelivery[]) => {
	results.forEach((result, index) => {
		if (!deliveries[index].forged) return;
		expect(result.status).toBe(401);
		expect(startedExecution(result)).toBe(false);
	});
};

const genuine = (server: FakeReplicate, body: string): TriggerDelivery => ({
	body,
	headers: signedHeaders(server, body),
	forged: false,
});

export const triggerRows: TriggerRow[] = [
	{
		fault: 'a genuine delivery (control: the figure counts only forged ones)',
		deliveries: (server, prediction) => [genuine(server, prediction)],
		expect: (results) => {
			expect(results[0].status).toBe(200);
			expect(results[0].started).toBe(true);
		},
	},
	{
		fault: '3 deliveries signed with another key',
		deliveries: (server, prediction) =>
			[1, 2, 3].map(() => ({
				body: prediction,
				headers: signedHeaders(server, prediction, {
					key: keyOf(`whsec_${Buffer.from('not the key').toString('base64')}`),
				}),
				forged: true,
			})),
		expect: refusedQuietly,
	},
	{
		fault: 'body changed after signing',
		deliveries: (server, prediction) => [
			{
				body: prediction.replace('"succeeded"', '"failed"'),
				headers: signedHeaders(server, prediction),
				forged: true,
			},
		],
		expect: refusedQuietly,
	},
	{
		fault: 'timestamp 10 minutes old',
		deliveries: (server, prediction) => [
			{
				body: prediction,
				headers: signedHeaders(server, prediction, {
					timestamp: Math.floor(Date.now() / 1000) - 600,
				}),
				forged: true,
			},
		],
		expect: refusedQuietly,
	},
	{
		fault: 'no webhook-signature header',
		deliveries: (server, prediction) => {
			const { 'webhook-signature': _signature, ...headers } = signedHeaders(server, prediction);
			return [{ body: prediction, headers, forged: true }];
		},
		expect: refusedQuietly,
	},
	{
		fault: 'a replayed delivery',
		deliveries: (server, prediction) => {
			const headers = signedHeaders(server, prediction, { id: newWebhookId() });
			return [
				{ body: prediction, headers, forged: false },
				{ body: prediction, headers, forged: true },
			];
		},
		expect: (results, deliveries) => {
			expect(results[0].started).toBe(true);
			refusedQuietly(results, deliveries);
		},
	},
];
