/**
 * When to poll a running prediction next. Replicate's answers carry the model's `logs`, which grow
 * while it runs; diffusion models print a tqdm progress line as steps end
 * (` 40%|████      | 20/50 [00:04<00:06,  4.98it/s]`), and that line says how long the model still
 * needs. With it, polls land just after the estimated finish (never more than `maxMs` apart).
 * Without one, or when the line has not moved since the last poll (a stuck model: its estimate
 * says nothing), the interval grows from 1 s by ×1.6 up to 3 s.
 */

export const POLL_SCHEDULE = {
	firstMs: 1_000,
	factor: 1.6,
	maxMs: 3_000,
	/**
	 * How long after the estimated finish the poll goes out: the line the estimate comes from was
	 * printed up to a step (or tqdm's 100 ms) before the answer, and saving outputs takes a moment.
	 */
	finishMarginMs: 250,
	/**
	 * Once the bar is full and the prediction still runs (saving its outputs), polls are this share
	 * of the time waited so far apart (at least `finishMarginMs`): a late notice stays a small share
	 * of the wait, and a long tail costs few polls.
	 */
	overrunShare: 0.1,
} as const;

export interface Progress {
	/** steps done */
	done: number;
	total: number;
	/** the model's own estimate of the time it still needs, when its line gives one */
	remainingMs?: number;
}

/** Logs are model-specific text: only their tail is read, and any line may be garbage. */
const TAIL_CHARS = 2_048;

// tqdm's right part: `20/50 [00:04<00:06,  4.98it/s` (rate `?it/s` at first, `1.23s/it` when slow).
const TQDM = /(\d{1,9})\/(\d{1,9}) ?\[([^<\]]{1,24})<([^,\]]{1,24}),\s*([^\]]{1,200})\]/;
const RATE = /^(\d{1,9}(?:\.\d+)?)\s?(?:([A-Za-z]{1,16})\/s|s\/[A-Za-z]{1,16})/;
const INTERVAL = /^\s*(?:(\d{1,5}):)?(\d{1,5}):(\d{2})\s*$/;

/** The last tqdm progress line in a prediction's `logs`, if there is one. */
export function lastProgress(logs: unknown): Progress | undefined {
	if (typeof logs !== 'string' || logs.length === 0) return undefined;
	// tqdm redraws with \r; Replicate's logs keep each redraw as its own line.
	const lines = logs.slice(-TAIL_CHARS).split(/[\r\n]+/);
	for (let i = lines.length - 1; i >= 0; i--) {
		const progress = parseProgressLine(lines[i]);
		if (progress) return progress;
	}
	return undefined;
}

export function parseProgressLine(line: string): Progress | undefined {
	const match = TQDM.exec(line);
	if (!match) return undefined;
	const done = Number(match[1]);
	const total = Number(match[2]);
	if (!(total > 0) || done > total) return undefined;
	const remainingMs = remainingByRate(done, total, match[5]) ?? intervalMs(match[4]);
	return remainingMs === undefined ? { done, total } : { done, total, remainingMs };
}

/** From the rate, which is more precise than tqdm's own estimate (whole seconds). */
function remainingByRate(done: number, total: number, rateText: string): number | undefined {
	const match = RATE.exec(rateText.trim());
	if (!match) return undefined;
	const value = Number(match[1]);
	// `4.98it/s` is steps per second, `1.23s/it` seconds per step.
	const stepsPerSecond = match[2] !== undefined ? value : 1 / value;
	if (!(stepsPerSecond > 0) || !Number.isFinite(stepsPerSecond)) return undefined;
	return ((total - done) / stepsPerSecond) * 1000;
}

/** tqdm's `format_interval`: `MM:SS`, or `H:MM:SS` from an hour on; `?` when unknown. */
function intervalMs(text: string): number | undefined {
	const match = INTERVAL.exec(text);
	if (!match) return undefined;
	const [hours, minutes, seconds] = match.slice(1).map((part) => Number(part ?? 0));
	if (seconds >= 60) return undefined;
	return ((hours * 60 + minutes) * 60 + seconds) * 1000;
}

export interface PollState {
	/** since the wait began */
	sinceStartMs: number;
	/** the delay before the poll just answered; undefined before the first poll */
	previousMs?: number;
	/** the last progress line of the latest answer (`lastProgress(prediction.logs)`) */
	progress?: Progress;
	/** the same of the answer before it */
	previousProgress?: Progress;
}

/** The delay before the next poll, in ms. */
export function nextPollDelay({
	sinceStartMs,
	previousMs,
	progress,
	previousProgress,
}: PollState): number {
	const { firstMs, factor, maxMs, finishMarginMs, overrunShare } = POLL_SCHEDULE;
	const full = progress !== undefined && progress.done >= progress.total;
	const stale =
		progress !== undefined &&
		previousProgress !== undefined &&
		progress.done === previousProgress.done &&
		progress.total === previousProgress.total;
	if (full) {
		const overrunMs = overrunShare * (Number.isFinite(sinceStartMs) ? sinceStartMs : 0);
		return Math.round(Math.min(maxMs, Math.max(finishMarginMs, overrunMs)));
	}
	const remainingMs = stale ? undefined : progress?.remainingMs;
	if (remainingMs === undefined || !Number.isFinite(remainingMs) || remainingMs < 0) {
		if (previousMs === undefined) return firstMs;
		return Math.min(maxMs, Math.round(previousMs * factor));
	}
	// Polls spread evenly over the time left, at most maxMs apart, the last one just after the finish.
	const untilAfterFinish = remainingMs + finishMarginMs;
	return Math.round(untilAfterFinish / Math.ceil(untilAfterFinish / maxMs));
}

/** The schedule of one wait: keeps what `nextPollDelay` needs from one poll to the next. */
export function pollScheduler(now: () => number = Date.now): (logs: unknown) => number {
	const started = now();
	let previousMs: number | undefined;
	let previousProgress: Progress | undefined;
	return (logs) => {
		const progress = lastProgress(logs);
		previousMs = nextPollDelay({
			sinceStartMs: now() - started,
			previousMs,
			progress,
			previousProgress,
		});
		previousProgress = progress;
		return previousMs;
	};
}
