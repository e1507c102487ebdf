/**
 * Rows of the fault matrix for many items at once. The runner checks on every row that no signal
 * gets more than 10 abort listeners (Node's MaxListenersExceededWarning, issue 10 item 11); this
 * row is where that check meets the most concurrent requests.
 */
import type { NodeRow } from './node-row';

export const concurrencyRows: NodeRow[] = [
	{
		fault: '12 items at Max Concurrent 12',
		operation: 'createAndWait',
		items: 12,
		options: { maxConcurrent: 12 },
		server: { modelTimeMs: 1_500 },
		expect: { outcome: 'success', status: 'succeeded', items: 12 },
		check: (ctx) => {
			expect(ctx.server.stats().peakRunning).toBeGreaterThanOrEqual(11);
			// The node's own signals have listeners: the tracking sees them (this row is not vacuous).
			expect(ctx.abortListenersPeak).toBeGreaterThanOrEqual(1);
		},
	},
];
