/**
 * State of one execution of the node: the stop signal every wait listens to, and the predictions
 * started and not yet seen finished (cancelled when the execution stops or an item fails).
 */
import type { IExecuteFunctions } from 'n8n-workflow';

import type { RetryPolicy, TransportContext } from '../transport';
import { cancelPrediction } from './wait';

export class ExecutionRun {
	/** Fires when the user stops the execution or when an item fails and the run is torn down. */
	readonly signal: AbortSignal;

	readonly warnings: string[] = [];

	private readonly teardown = new AbortController();

	private readonly active = new Set<string>();

	private cleanup: Promise<void> = Promise.resolve();

	constructor(
		private readonly context: TransportContext,
		executionSignal: AbortSignal | undefined,
		private readonly maxRetries: number,
	) {
		this.signal = executionSignal
			? AbortSignal.any([executionSignal, this.teardown.signal])
			: this.teardown.signal;
		this.signal.addEventListener('abort', () => (this.cleanup = this.cancelActive()), { once: true });
	}

	static for(context: IExecuteFunctions, maxRetries: number): ExecutionRun {
		return new ExecutionRun(context, context.getExecutionCancelSignal?.(), maxRetries);
	}

	/** The retry policy of an item's requests: its Max Retries, ended early by this run's stop. */
	policy(maxRetries: number): RetryPolicy {
		return { maxRetries, signal: this.signal };
	}

	get stopped(): boolean {
		return this.signal.aborted;
	}

	started(predictionId: string): void {
		this.active.add(predictionId);
		// Started after the stop (the create was already on its way): cancel it right away.
		if (this.signal.aborted) this.cleanup = this.cleanup.then(async () => await this.cancelActive());
	}

	finished(predictionId: string): void {
		this.active.delete(predictionId);
	}

	/** Ends every wait of this run and cancels what is still running; resolves when done. */
	async tearDown(): Promise<void> {
		this.teardown.abort();
		await this.cleanup;
	}

	private async cancelActive(): Promise<void> {
		const ids = [...this.active];
		this.active.clear();
		await Promise.all(
			ids.map(async (id) => {
				try {
					await cancelPrediction(this.context, id, { maxRetries: this.maxRetries });
				} catch (error) {
					this.warnings.push(`Could not cancel prediction ${id}: ${(error as Error).message}`);
				}
			}),
		);
	}
}

/** Runs `work(i)` for 0 ≤ i < count with at most `limit` at a time; stops taking new ones on `stop()`. */
export async function forEachConcurrently(
	count: number,
	limit: number,
	work: (index: number) => Promise<void>,
	shouldStop: () => boolean,
): Promise<void> {
	let next = 0;
	const worker = async () => {
		while (next < count && !shouldStop()) {
			const index = next++;
			await work(index);
		}
	};
	await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, count)) }, worker));
}
