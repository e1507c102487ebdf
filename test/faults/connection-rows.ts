/**
 * Rows of the fault matrix for connection faults: refused before anything was sent, and resets on
 * the requests that are safe to repeat (get, poll, download, cancel). A download that fails on the
 * network names the prediction and the output (issue 10 item 6). Resets on the create are
 * ambiguous-create-rows.ts.
 */
import type { NodeRow } from './node-row';
import {
	cancelRetried,
	downloadRetried,
	downloads,
	getRetried,
	noCreate,
	ON_CANCEL,
	ON_DOWNLOAD,
	ON_GET,
	onePost,
	SUCCESS_WITH_IMAGE,
} from './node-row';

/** A reset on every download, past the one retry Max Retries (1) allows. */
const RESET_ON_EVERY_DOWNLOAD = {
	...ON_DOWNLOAD,
	kind: 'reset-before-response',
	times: 5,
} as const;

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
	getRetried('reset on get', { ...ON_GET, kind: 'reset-before-response' }),
	{
		fault: 'reset on a poll while waiting',
		operation: 'createAndWait',
		server: { honourPreferWait: false, modelTimeMs: 300 },
		arrange: (s) => s.inject({ ...ON_GET, kind: 'reset-before-response' }),
		expect: SUCCESS_WITH_IMAGE,
		check: onePost,
	},
	downloadRetried('reset on download', { ...ON_DOWNLOAD, kind: 'reset-before-response' }),
	cancelRetried('reset after the cancel was sent', { ...ON_CANCEL, kind: 'reset-before-response' }),
	{
		fault: 'reset on every download, beyond Max Retries (1)',
		operation: 'createAndWait',
		options: { maxRetries: 1 },
		arrange: (s) => s.inject(RESET_ON_EVERY_DOWNLOAD),
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
		arrange: (s) => s.inject(RESET_ON_EVERY_DOWNLOAD),
		expect: { outcome: 'success', binaries: 0 },
		check: (ctx) =>
			expect(ctx.run.items[0].json).toMatchObject({
				error: `Downloading output 0 of prediction ${ctx.id} failed: connection reset`,
				predictionId: ctx.id,
			}),
	},
];
