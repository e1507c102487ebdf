/**
 * Rows of the fault matrix for calls Replicate makes to n8n (issue 10 item 4): the trigger's
 * deliveries and the node's resume calls (Wait Mode: Webhook), with the signing-secret endpoint
 * down. Each row uses a fresh server (the fetched key is cached per API URL and token) and
 * records, for the matrix's totals, from the server's records and the harness's runs:
 *   - forged-executions: executions started (trigger) or resumed (resume URL) by calls that
 *     failed verification or could not be verified,
 *   - secret fetches: GET /webhooks/default/secret per row, at most one (the rows run well
 *     within the 30 s a failed fetch is remembered).
 */
import { randomBytes } from 'node:crypto';

import type { WaitingServer } from '../harness';
import { park, urlInputs } from '../node/support';
import type { FakeReplicate } from '../../tools/fake-replicate';
import { deliver, keyOf, secretFetches, signedHeaders } from '../trigger/support';

/** What a delivery row records for the matrix's totals. */
export interface DeliveryTally {
	forgedExecutions: number;
	secretFetches: number;
}
type Tally = DeliveryTally;

const SECRET = /^\/webhooks\/default\/secret$/;
const secretDown = (server: FakeReplicate) =>
	server.inject({ method: 'GET', path: SECRET, kind: 'status', status: 500, times: 100 });
const forgedBody = (server: FakeReplicate) =>
	JSON.stringify({
		id: 'forged00000000000000000001',
		status: 'succeeded',
		output: [server.sampleImageUrl],
	});

export interface DeliveryRow {
	name: string;
	run: (server: FakeReplicate, waiting: WaitingServer, tally: Tally) => Promise<void>;
}

/** Three trigger deliveries; each must be answered `status` and start nothing. */
function triggerRow(
	name: string,
	status: number,
	headersFor: (server: FakeReplicate, body: string) => Record<string, string>,
	fetches: number,
): DeliveryRow {
	return {
		name: `trigger × ${name}`,
		run: async (server, _waiting, tally) => {
			secretDown(server);
			const body = forgedBody(server);
			for (let i = 0; i < 3; i++) {
				const result = await deliver(server, body, headersFor(server, body));
				if (result.started || result.error) tally.forgedExecutions++;
				expect(result).toMatchObject({ status, started: false, error: undefined });
			}
			tally.secretFetches = secretFetches(server).length;
			expect(tally.secretFetches).toBe(fetches);
			// Nothing else was asked of the API with the token.
			expect(server.requests.filter((request) => request.origin === 'api')).toHaveLength(fetches);
		},
	};
}

/** Three calls to a waiting execution's resume URL; each answered `status`, the execution stays waiting. */
function resumeRow(
	name: string,
	status: number,
	headersFor: (server: FakeReplicate, body: string) => Record<string, string>,
	fetches: number,
): DeliveryRow {
	return {
		name: `resume URL × ${name}`,
		run: async (server, waiting, tally) => {
			server.scriptNextPrediction({ modelTimeMs: 60_000 });
			const { executionId } = await park(waiting, server, urlInputs(server));
			const url = (
				server.requests.find(
					(request) => request.method === 'POST' && /\/predictions$/.test(request.path),
				)!.json as { webhook: string }
			).webhook;
			secretDown(server);
			const before = server.requests.length;
			const body = forgedBody(server);
			for (let i = 0; i < 3; i++) {
				const response = await fetch(url, {
					method: 'POST',
					headers: headersFor(server, body),
					body,
				});
				expect(response.status).toBe(status);
			}
			const ours = waiting.calls.filter((call) => call.executionId === executionId);
			tally.forgedExecutions =
				ours.filter((call) => call.resumed).length +
				(waiting.status(executionId) === 'waiting' ? 0 : 1);
			expect(waiting.status(executionId)).toBe('waiting');
			tally.secretFetches = secretFetches(server).length;
			expect(tally.secretFetches).toBe(fetches);
			expect(
				server.requests.slice(before).filter((request) => request.origin === 'api'),
			).toHaveLength(fetches);
			// Cleanup: the test stops its prediction.
			await waiting.stop(executionId);
		},
	};
}

const forgedSignature = (server: FakeReplicate, body: string) =>
	signedHeaders(server, body, { key: randomBytes(24) });
const noHeaders = () => ({ 'content-type': 'application/json' });
const stale = (server: FakeReplicate, body: string) =>
	signedHeaders(server, body, { timestamp: Math.floor(Date.now() / 1000) - 3600 });
const genuine = (server: FakeReplicate, body: string) =>
	signedHeaders(server, body, { key: keyOf(server.webhookSecret) });

export const deliveryRows: DeliveryRow[] = [
	triggerRow(
		'3 forged deliveries (bad signature), secret endpoint down: 503, one fetch',
		503,
		forgedSignature,
		1,
	),
	triggerRow(
		'3 deliveries without signature headers, secret endpoint down: 401, no fetch',
		401,
		noHeaders,
		0,
	),
	triggerRow('3 stale deliveries, secret endpoint down: 401, no fetch', 401, stale, 0),
	triggerRow(
		'3 genuine deliveries, secret endpoint down: 503 (Replicate retries), one fetch',
		503,
		genuine,
		1,
	),
	resumeRow(
		'3 forged calls, secret endpoint down: 503, still waiting, one fetch',
		503,
		forgedSignature,
		1,
	),
	resumeRow(
		'3 calls without signature headers, secret endpoint down: 401, no fetch',
		401,
		noHeaders,
		0,
	),
	resumeRow('3 stale calls, secret endpoint down: 401, no fetch', 401, stale, 0),
];
