/**
 * Rows of the fault matrix for connection faults: refused before anything was sent, and resets on
 * the requests that are safe to repeat (get, poll, download, cancel). A download that fails on the
 * network names the prediction and the output (issue 10 item 6). Resets on the create are
 * ambiguous-create-rows.ts.
 */
import type { NodeRow } from './node-row';
import {
	polls,
	cancels,
	downloads,
	GET_ONE,
	CANCEL,
	OUTPUT,
	SUCCESS_WITH_IMAGE,
	noCreate,
	onePost,
	all,
} from './node-row';

export const connectionRows: NodeRow[] = [
	{
		fault: 'connection refused before the create was sent',
		operation: 'createAndWait',
		refuseConnectionsForMs: 300,
		expect: SUCCESS_WITH_IMAGE,
		check: (ctx) => expect(ctx.server.stats().creates).toBe(1),
	},
	{
		fault: 'connection refused on every attempt, beyond Max Retries (1)',
		operation: 'createAndWait',
		refuseConnectionsForMs: Infinity,
		options: { maxRetries: 1 },
		expect: {
			outcome: 'error',
			// Nothing was sent, so nothing can exist: no "may have been created" warning.
			message: () =>
				/^Could not reach the Replicate API \(POST \/predictions\): ECONNREFUSED \(connect ECONNREFUSED 127\.0\.0\.1:\d+\)$/,
		},
		check: noCreate,
	},
	{
		fault: 'reset on get',
		operation: 'get',
		seed: { until: 'terminal' },
		arrange: (s) => s.inject({ method: 'GET', path: GET_ONE, kind: 'reset-before-response' }),
		expect: SUCCESS_WITH_IMAGE,
		check: (ctx) => expect(polls(ctx)).toHaveLength(2),
	},
	{
		fault: 'reset on a poll while waiting',
		operation: 'createAndWait',
		server: { honourPreferWait: false, modelTimeMs: 300 },
		arrange: (s) => s.inject({ method: 'GET', path: GET_ONE, kind: 'reset-before-response' }),
		expect: SUCCESS_WITH_IMAGE,
		check: onePost,
	},
	{
		fault: 'reset on download',
		operation: 'createAndWait',
		arrange: (s) => s.inject({ origin: 'output', path: OUTPUT, kind: 'reset-before-response' }),
		expect: SUCCESS_WITH_IMAGE,
		check: all(onePost, (ctx) => expect(downloads(ctx)).toHaveLength(2)),
	},
	{
		fault: 'reset after the cancel was sent',
		operation: 'cancel',
		server: { modelTimeMs: 30_000 },
		seed: { until: 'running' },
		arrange: (s) => s.inject({ method: 'POST', path: CANCEL, kind: 'reset-before-response' }),
		expect: { outcome: 'success', status: 'canceled' },
		check: (ctx) => expect(cancels(ctx)).toHaveLength(2),
	},
	{
		fault: 'reset on every download, beyond Max Retries (1)',
		operation: 'createAndWait',
		options: { maxRetries: 1 },
		arrange: (s) =>
			s.inject({ origin: 'output', path: OUTPUT, kind: 'reset-before-response', times: 5 }),
		expect: {
			outcome: 'error',
			message: (ctx) => `Downloading output 0 of prediction ${ctx.id} failed: connection reset`,
		},
		check: (ctx) => expect(downloads(ctx)).toHaveLength(2),
	},
	{
		fault: 'reset on every download, beyond Max Retries (1), Continue On Fail',
		operation: 'createAndWait',
		options: { maxRetries: 1 },
		continueOnFail: true,
		arrange: (s) =>
			s.inject({ origin: 'output', path: OUTPUT, kind: 'reset-before-response', times: 5 }),
		expect: { outcome: 'success', binaries: 0 },
		check: (ctx) =>
			expect(ctx.run.items[0].json).toMatchObject({
				error: `Downloading output 0 of prediction ${ctx.id} failed: connection reset`,
				predictionId: ctx.id,
			}),
	},
];
