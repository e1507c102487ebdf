/**
 * The model's progress bar, as Replicate's `logs` show it while a prediction runs: tqdm prints a
 * line when a step ends, at most every 100 ms (its `mininterval`), so a slow model logs every
 * step and a fast one skips steps.
 */

/** tqdm prints at most one progress line per this many ms (its default `mininterval`). */
const TQDM_MIN_INTERVAL_MS = 100;

/** tqdm's default progress line after `done` of `total` steps at `elapsedMs`. */
export function tqdmLine(done: number, total: number, elapsedMs: number): string {
	const fraction = done / total;
	const eighths = Math.floor(fraction * 80);
	const partial = eighths % 8 === 0 || done === total ? '' : ' ▏▎▍▌▋▊▉'[eighths % 8];
	const bar = ('█'.repeat(Math.floor(eighths / 8)) + partial).padEnd(10, ' ');
	const seconds = elapsedMs / 1000;
	const rate = done === 0 || seconds === 0 ? undefined : done / seconds;
	const remaining = rate === undefined ? '?' : tqdmInterval((total - done) / rate);
	const rateText =
		rate === undefined
			? '?it/s'
			: rate >= 1
				? `${rate.toFixed(2).padStart(5)}it/s`
				: `${(1 / rate).toFixed(2).padStart(5)}s/it`;
	const percent = String(Math.round(fraction * 100)).padStart(3);
	return `${percent}%|${bar}| ${done}/${total} [${tqdmInterval(seconds)}<${remaining}, ${rateText}]`;
}

/** tqdm's `format_interval`: MM:SS, or H:MM:SS from an hour on. */
function tqdmInterval(seconds: number): string {
	const whole = Math.floor(seconds);
	const [h, m, s] = [Math.floor(whole / 3600), Math.floor(whole / 60) % 60, whole % 60];
	const two = (n: number) => String(n).padStart(2, '0');
	return h > 0 ? `${h}:${two(m)}:${two(s)}` : `${two(m)}:${two(s)}`;
}

/**
 * The line tqdm prints after the one printed at `printedMs` (ms since the model started): which
 * step and when. None from the last step on: that line comes with the finish.
 */
export function nextProgressLine(
	steps: number,
	modelTimeMs: number,
	printedMs: number,
): { step: number; atMs: number } | undefined {
	const stepMs = modelTimeMs / steps;
	const step = Math.max(
		Math.round(printedMs / stepMs) + 1,
		Math.ceil((printedMs + TQDM_MIN_INTERVAL_MS) / stepMs),
	);
	return step >= steps ? undefined : { step, atMs: step * stepMs };
}
