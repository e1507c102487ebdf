/**
 * What one n8n process has seen of a waiting execution's calls: a cache, never the truth (that is
 * the execution's record). It saves GETs of predictions already seen finished, and handles the
 * calls for one execution one at a time within the process.
 */
import type { Prediction } from '../../../../shared/api/predictions';

export interface SeenExecution {
	/** Terminal predictions by ID, as their calls (or GETs) reported them. */
	finished: Map<string, Prediction>;
	/** This process resumed the execution. */
	resumed: boolean;
	queue: Promise<unknown>;
	forgetAfter: number;
}

/** Entries are dropped an hour after their execution's deadline. */
const KEEP_AFTER_DEADLINE_MS = 60 * 60 * 1000;

export class SeenCalls {
	private readonly executions = new Map<string, SeenExecution>();

	/** What this process has seen of one park (`key`), created on first sight. */
	of(key: string, deadline: number, nowMs = Date.now()): SeenExecution {
		for (const [id, seen] of this.executions)
			if (seen.forgetAfter < nowMs) this.executions.delete(id);
		let seen = this.executions.get(key);
		if (!seen) {
			seen = {
				finished: new Map(),
				resumed: false,
				queue: Promise.resolve(),
				forgetAfter: deadline + KEEP_AFTER_DEADLINE_MS,
			};
			this.executions.set(key, seen);
		}
		return seen;
	}

	/** Runs `work` after every earlier call for the same execution in this process. */
	async serially<T>(seen: SeenExecution, work: () => Promise<T>): Promise<T> {
		const result = seen.queue.then(work);
		seen.queue = result.catch(() => undefined);
		return await result;
	}
}

export const seenCalls = new SeenCalls();
