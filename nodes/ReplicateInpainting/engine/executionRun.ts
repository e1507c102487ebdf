/**
 * State of one execution of the node: the stop signal every wait listens to, the predictions
 * started and not yet seen finished, and the creates still on their way (all cancelled when the
 * execution stops or an item fails); and one item's turn in it.
 */
import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { cancelPrediction, isTerminal } from '../../shared/api/predictions';
import type { NodeOptions } from '../../shared/options';
import type { TransportContext } from '../../shared/transport/request';
import type { RetryPolicy } from '../../shared/transport/retry';
import type { PendingCreate } from './lostCreates';
import { findCreated } from './lostCreates';

/**
 * After a Stop, how a create cut short is looked for: at once, then after 0.2, 0.4 and 0.8 s
 * (about 1.5 s in all, with the answers), so it is cancelled within 2 s of the Stop even when it
 * was still on the wire.
 */
const STOP_SEARCH = { attempts: 4, gapMs: 200 } as const;

export class ExecutionRun {
	/** Fires when the user stops the execution or when an item fails and the run is torn down. */
	readonly signal: AbortSignal;

	readonly warnings: string[] = [];

	private readonly teardown = new AbortController();

	private readonly active = new Set<string>();

	private readonly creating = new Set<PendingCreate>();

	private cleanup: Promise<void> = Promise.resolve();

	constructor(
		private readonly context: TransportContext,
		executionSignal: AbortSignal | undefined,
		private readonly maxRetries: number,
	) {
		this.signal = executionSignal
			? AbortSignal.any([executionSignal, this.teardown.signal])
			: this.teardown.signal;
		this.signal.addEventListener('abort', () => (this.cleanup = this.cancelActive()), {
			once: true,
		});
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

	/** A create is on its way: if the run stops before it answers, the run looks for what it made. */
	createSent(pending: PendingCreate): void {
		this.creating.add(pending);
	}

	/** The create answered, failed for good, or its prediction was found: the item deals with it. */
	createSettled(pending: PendingCreate): void {
		if (this.creating.delete(pending)) pending.settle();
	}

	started(predictionId: string): void {
		this.active.add(predictionId);
		// Started after the stop (found or answered late): cancel it right away.
		if (this.signal.aborted)
			this.cleanup = this.cleanup.then(async () => await this.cancelActive());
	}

	finished(predictionId: string): void {
		this.active.delete(predictionId);
	}

	/** Ends every wait of this run and cancels what is still running; resolves when done. */
	async tearDown(): Promise<void> {
		this.teardown.abort();
		await this.cleanup;
	}

	private async cancelOne(id: string): Promise<void> {
		try {
			await cancelPrediction(this.context, id, { maxRetries: this.maxRetries });
		} catch (error) {
			this.warnings.push(`Could not cancel prediction ${id}: ${(error as Error).message}`);
		}
	}

	/** A create the stop cut short: its answer will not come, so its prediction is looked up. */
	private async sweep(pending: PendingCreate): Promise<void> {
		try {
			const found = await findCreated(
				this.context,
				pending,
				{ maxRetries: this.maxRetries },
				{
					...STOP_SEARCH,
					kind: 'cleanup',
					waitForTwins: false,
				},
			);
			if (found && !isTerminal(found.status)) await this.cancelOne(found.id);
		} catch (error) {
			this.warnings.push(
				`Could not look for the prediction of a create the Stop cut short (Replicate stops it at its Cancel-After deadline): ${(error as Error).message}`,
			);
		} finally {
			pending.settle();
		}
	}

	private async cancelActive(): Promise<void> {
		const ids = [...this.active];
		this.active.clear();
		const pending = [...this.creating];
		this.creating.clear();
		await Promise.all([
			...ids.map(async (id) => await this.cancelOne(id)),
			...pending.map(async (entry) => await this.sweep(entry)),
		]);
	}
}

/** One item's turn, as the router hands it to an operation. */
export interface OperationItem<Checked = unknown> {
	itemIndex: number;
	/** What the operation's check of the item returned, before the first request of the run. */
	checked: Checked;
	run: ExecutionRun;
	options: NodeOptions;
	/** The item's Max Retries, ended early by the run's stop. */
	policy: RetryPolicy;
}

/** A run's checked items, handed whole to an operation that runs them as one. */
export interface ItemBatch {
	items: OperationItem[];
	/** Per input item: the error items of items that failed their check (the rest are empty). */
	outputs: INodeExecutionData[][];
	run: ExecutionRun;
	/** The node's Continue On Fail. */
	continueOnFail: boolean;
}
