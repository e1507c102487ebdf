/**
 * Rows of the fault matrix for a user's Stop (and a teardown): the execution ends within moments,
 * and a Stop during a held create cancels what it made within 2 s (issue 10 item 1). After a Stop
 * the runner also checks that no timer of the node is left pending.
 */
import type { NodeRow } from './node-row';
import {
	all,
	cancelledWithin,
	cancels,
	downloads,
	endsWithin,
	ON_DOWNLOAD,
	POLLING,
	RUNNING_SEED,
	searched,
} from './node-row';

export const stopRows: NodeRow[] = [
	{
		fault: 'execution stopped mid-wait',
		operation: 'createAndWait',
		server: POLLING,
		stopAfterMs: 1_500,
		expect: { outcome: 'stopped' },
		check: all(endsWithin(1_500 + 1_000), (ctx) => expect(cancels(ctx)).toHaveLength(1)),
	},
	{
		fault: 'execution stopped while the create is held, Timeout 4 s (Prefer: wait=2)',
		operation: 'createAndWait',
		server: { modelTimeMs: 30_000 },
		options: { timeout: 4 },
		stopAfterMs: 500,
		expect: { outcome: 'stopped' },
		// Cancelled by the node (found by listing), long before Replicate's Cancel-After (4 s) would.
		check: all(endsWithin(500 + 2_000), searched, cancelledWithin(2_000)),
	},
	{
		fault: 'execution stopped mid-download',
		operation: 'createAndWait',
		arrange: (s) => s.inject({ ...ON_DOWNLOAD, kind: 'delay', ms: 10_000 }),
		stopAfterMs: 1_000,
		expect: { outcome: 'stopped' },
		check: all(endsWithin(1_000 + 1_000), (ctx) => expect(downloads(ctx)).toHaveLength(1)),
	},
	{
		fault: 'execution stopped mid-wait',
		operation: 'get',
		...RUNNING_SEED,
		stopAfterMs: 1_500,
		expect: { outcome: 'stopped' },
		check: all(endsWithin(1_500 + 1_000), (ctx) => {
			// Not the node's to cancel: Get only looked at it.
			expect(cancels(ctx)).toHaveLength(0);
			expect(ctx.server.predictions.get(ctx.id)!.status).toBe('processing');
		}),
	},
	{
		fault: 'execution stopped 1 s into a held create (model 8 s)',
		operation: 'createAndWait',
		server: { modelTimeMs: 8_000 },
		stopAfterMs: 1_000,
		expect: { outcome: 'stopped' },
		check: all(searched, cancelledWithin(2_000), endsWithin(1_000 + 2_500)),
	},
	{
		fault: 'execution stopped 1 s into 12 held creates (Max Concurrent 12, model 8 s)',
		operation: 'createAndWait',
		items: 12,
		options: { maxConcurrent: 12 },
		server: { modelTimeMs: 8_000 },
		stopAfterMs: 1_000,
		expect: { outcome: 'stopped' },
		check: all((ctx) => expect(ctx.created).toHaveLength(12), cancelledWithin(2_000)),
	},
	{
		fault: 'another item fails while a create is held (model 8 s)',
		operation: 'createAndWait',
		items: 2,
		server: { modelTimeMs: 8_000 },
		parameters: { imageUrl: '={{ $json.imageUrl }}' },
		inputItems: (s) => [
			{ json: { imageUrl: `${s.outputOrigin}/samples/missing.png` } },
			{ json: { imageUrl: s.sampleImageUrl } },
		],
		expect: { outcome: 'error', message: () => /^Prediction [a-z0-9]+ failed: / },
		check: (ctx) => {
			const failed = ctx.created.find((prediction) => prediction.status === 'failed')!;
			const held = ctx.created.find((prediction) => prediction !== failed)!;
			expect(held.status).toBe('canceled');
			expect(Date.parse(held.completed_at!) - Date.parse(failed.completed_at!)).toBeLessThanOrEqual(
				2_000,
			);
		},
	},
];
