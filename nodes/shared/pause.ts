/** Waiting without timers of our own (the community lint forbids them), and what a Stop throws. */
import * as workflow from 'n8n-workflow';

type AbortableSleep = (ms: number, signal: AbortSignal) => Promise<void>;

/**
 * n8n-workflow's abortable wait: `sleepWithAbort` in 1.x and 2.x up to about 2.33; later 2.x
 * (2.40 included) dropped that export and `sleep` itself takes the signal (from 2.34). Both clear
 * their timer on abort and reject with the abort reason.
 */
const abortableSleep: AbortableSleep =
	(workflow as unknown as { sleepWithAbort?: AbortableSleep }).sleepWithAbort ??
	(workflow.sleep as unknown as AbortableSleep);

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
 * A throwaway signal that follows `signal`. Listeners go on it rather than on the execution's
 * signal: dozens of concurrent waits and requests would otherwise pile listeners onto one signal
 * (Node's MaxListenersExceededWarning above 10), and n8n's `sleepWithAbort` never removes its
 * listener when the time runs out normally. A dependent signal is only weakly held by its source.
 */
export function childSignal(signal: AbortSignal): AbortSignal {
	return AbortSignal.any([signal]);
}

/**
 * Waits `ms`, ending early when `signal` aborts. The community rules forbid `setTimeout` and
 * `clearTimeout`; n8n-workflow's abortable wait (above) clears its timer on abort, so no timer of
 * a stopped execution outlives it.
 */
export async function pause(ms: number, signal?: AbortSignal): Promise<void> {
	throwIfStopped(signal);
	if (!signal) return await workflow.sleep(ms);
	// It rejects only on abort (with n8n's own error): ours says the same.
	await abortableSleep(ms, childSignal(signal)).catch(() => undefined);
	throwIfStopped(signal);
}
