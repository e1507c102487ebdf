import { sleep } from 'n8n-workflow';

/** Thrown when the execution was stopped (or the run is being torn down) while the node waited. */
export class ExecutionStoppedError extends Error {
	constructor() {
		super('The execution was stopped');
		this.name = 'ExecutionStoppedError';
	}
}

export function throwIfStopped(signal: AbortSignal | undefined): void {
	if (signal?.aborted) throw new ExecutionStoppedError();
}

/**
 * Waits `ms`, ending early when `signal` aborts. n8n's community rules forbid `setTimeout`, and
 * `sleepWithAbort` leaves a listener on the signal per call (a long poll loop would pile them up),
 * so this races n8n's `sleep` against one listener that is removed again.
 */
/** Resolves with `work`, or rejects as soon as `signal` aborts (the work itself goes on). */
export async function untilStopped<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
	throwIfStopped(signal);
	let onAbort = () => {};
	const stopped = new Promise<never>((_, reject) => {
		onAbort = () => reject(new ExecutionStoppedError());
		signal.addEventListener('abort', onAbort, { once: true });
	});
	try {
		return await Promise.race([work, stopped]);
	} finally {
		signal.removeEventListener('abort', onAbort);
	}
}

export async function pause(ms: number, signal?: AbortSignal): Promise<void> {
	throwIfStopped(signal);
	if (!signal) return await sleep(ms);
	await untilStopped(sleep(ms), signal);
}
