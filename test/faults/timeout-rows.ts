/**
 * Rows of the fault matrix for answers slower than the node's Timeout, and a Cancel-After
 * deadline reached: the run ends at the Timeout, and what the node made is cancelled.
 */
import type { NodeRow, RowContext } from './node-row';
import {
	all,
	cancels,
	downloads,
	endsWithin,
	ON_CREATE,
	ON_DOWNLOAD,
	ON_GET,
	onePost,
	polls,
	POLLING,
	RUNNING_SEED,
} from './node-row';

const notFinishedWithin = (seconds: number) => (ctx: RowContext) =>
	`Prediction ${ctx.id} did not finish within the timeout of ${seconds} s`;

export const timeoutRows: NodeRow[] = [
	{
		fault: 'create answer slower than the timeout',
		operation: 'createAndWait',
		server: { modelTimeMs: 30_000 },
		options: { timeout: 2 },
		arrange: (s) => s.inject({ ...ON_CREATE, kind: 'delay', ms: 2_500 }),
		expect: {
			outcome: 'error',
			message: notFinishedWithin(2),
		},
		check: all(onePost, (ctx) => expect(ctx.created[0].status).toBe('canceled')),
	},
	{
		fault: 'poll answer slower than the timeout',
		operation: 'createAndWait',
		server: POLLING,
		options: { timeout: 3 },
		arrange: (s) => s.inject({ ...ON_GET, kind: 'delay', ms: 8_000, times: 5 }),
		expect: {
			outcome: 'error',
			message: notFinishedWithin(3),
			description: /^The node cancelled it/,
		},
		// The poll in flight ends one poll interval (1 s) after the deadline at the latest.
		check: all(onePost, endsWithin(3_000 + 1_000 + 1_000), (ctx) =>
			expect(cancels(ctx)).toHaveLength(1),
		),
	},
	{
		fault: 'get answer slower than the timeout',
		operation: 'get',
		...RUNNING_SEED,
		options: { timeout: 2 },
		arrange: (s) => s.inject({ ...ON_GET, kind: 'delay', ms: 8_000, times: 5 }),
		expect: {
			outcome: 'error',
			message: (ctx) =>
				new RegExp(
					`^Could not reach the Replicate API \\(GET /predictions/${ctx.id}\\): ETIMEDOUT \\(timeout of \\d+ms exceeded\\)$`,
				),
		},
		// Not retried past the wait's end; and not the node's to cancel (Get only looks at it).
		check: all(
			endsWithin(2_000 + 1_000 + 1_000),
			(ctx) => expect(polls(ctx)).toHaveLength(1),
			(ctx) => expect(cancels(ctx)).toHaveLength(0),
		),
	},
	{
		fault: 'Cancel-After deadline reached before the run started',
		operation: 'createAndWait',
		server: { startDelayMs: 10_000 },
		options: { timeout: 2 },
		expect: {
			outcome: 'error',
			message: notFinishedWithin(2),
		},
		check: all(onePost, (ctx) => expect(['aborted', 'canceled']).toContain(ctx.created[0].status)),
	},
	{
		fault: 'download slower than the Timeout (5 s)',
		operation: 'createAndWait',
		options: { timeout: 5 },
		arrange: (s) => s.inject({ ...ON_DOWNLOAD, kind: 'delay', ms: 20_000, times: 5 }),
		expect: {
			outcome: 'error',
			message: (ctx) => `Downloading output 0 of prediction ${ctx.id} failed: timed out`,
		},
		check: all(endsWithin(5_000 + 2_000), (ctx) => expect(downloads(ctx)).toHaveLength(1)),
	},
];
