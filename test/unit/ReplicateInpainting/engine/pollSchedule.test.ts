/** The poll schedule and the progress-line parser it reads: pure functions, no server. */
import {
	lastProgress,
	nextPollDelay,
	parseProgressLine,
	POLL_SCHEDULE,
	pollScheduler,
	type Progress,
} from '../../../../nodes/ReplicateInpainting/engine/pollSchedule';
import { tqdmLine } from '../../../../tools/fake-replicate/progress';

describe('parseProgressLine', () => {
	it('reads steps and the time left from the rate of a tqdm line', () => {
		const progress = parseProgressLine(' 40%|████      | 20/50 [00:04<00:06,  4.98it/s]');
		expect(progress).toMatchObject({ done: 20, total: 50 });
		expect(progress!.remainingMs).toBeCloseTo((30 / 4.98) * 1000, 6);
	});

	it('reads seconds per step when the model is slower than a step a second', () => {
		const progress = parseProgressLine(' 10%|█         | 1/10 [00:02<00:20,  2.25s/it]');
		expect(progress!.remainingMs).toBeCloseTo(9 * 2250, 6);
	});

	it("falls back to tqdm's own estimate when the rate is not readable", () => {
		expect(parseProgressLine(' 40%|████      | 20/50 [00:04<00:06, fast]')).toEqual({
			done: 20,
			total: 50,
			remainingMs: 6_000,
		});
		expect(parseProgressLine('20/50 [1:00:04<1:02:03, ?it/s]')!.remainingMs).toBe(3_723_000);
	});

	it('has no estimate before the first step ends', () => {
		expect(parseProgressLine('  0%|          | 0/50 [00:00<?, ?it/s]')).toEqual({
			done: 0,
			total: 50,
		});
	});

	it('reads a line with a description and a postfix', () => {
		expect(
			parseProgressLine('Sampling:  60%|██████    | 30/50 [00:06<00:04,  5.00it/s, loss=0.1]'),
		).toMatchObject({ done: 30, total: 50, remainingMs: 4_000 });
		const postfix = Array.from({ length: 8 }, (_, i) => `metric_${i}=0.123456`).join(', ');
		expect(parseProgressLine(`30/50 [00:06<00:04,  5.00it/s, ${postfix}]`)).toMatchObject({
			remainingMs: 4_000,
		});
	});

	it.each([
		['plain text', 'Using seed: 42'],
		['a fraction without the bracket', 'loaded 3/4 shards'],
		['more done than total', '120%|██████████| 60/50 [00:10<00:00,  5.00it/s]'],
		['a total of 0', '0/0 [00:00<00:00, ?it/s]'],
		['no closing bracket', '20/50 [00:04<00:06,  4.98it/s'],
		['a bad interval and no rate', '20/50 [00:04<00:99, ?it/s]'],
		['an empty line', ''],
	])('ignores %s', (_label, line) => {
		const progress = parseProgressLine(line);
		if (progress) expect(progress.remainingMs).toBeUndefined();
		else expect(progress).toBeUndefined();
	});

	it('gives no estimate from a rate of 0', () => {
		expect(parseProgressLine('20/50 [00:04<?, 0.00it/s]')).toEqual({ done: 20, total: 50 });
	});
});

describe('lastProgress', () => {
	it('takes the last progress line of the logs', () => {
		const logs = [
			'Using seed: 42',
			'  0%|          | 0/50 [00:00<?, ?it/s]',
			'  2%|▏         | 1/50 [00:00<00:09,  5.00it/s]',
			' 40%|████      | 20/50 [00:04<00:06,  5.00it/s]',
			'',
		].join('\n');
		expect(lastProgress(logs)).toMatchObject({ done: 20, total: 50, remainingMs: 6_000 });
	});

	it('reads redraws separated by carriage returns, and skips lines after the bar', () => {
		const logs =
			'  0%|          | 0/50 [00:00<?, ?it/s]\r 20%|██        | 10/50 [00:02<00:08,  5.00it/s]\r\nwarning: something\n';
		expect(lastProgress(logs)).toMatchObject({ done: 10, remainingMs: 8_000 });
	});

	it('reads only the tail of long logs', () => {
		const early = '  2%|▏         | 1/50 [00:00<00:09,  5.00it/s]\n';
		expect(lastProgress(early + 'x'.repeat(10_000))).toBeUndefined();
		expect(lastProgress('x'.repeat(10_000) + '\n' + early)).toMatchObject({ done: 1 });
	});

	it.each([[undefined], [null], [42], [{ logs: 'x' }], ['']])('is undefined for %p', (logs) => {
		expect(lastProgress(logs)).toBeUndefined();
	});

	it("reads the test server's lines as it reads Replicate's", () => {
		expect(lastProgress(`Using seed: 1\n${tqdmLine(20, 50, 4_000)}\n`)).toMatchObject({
			done: 20,
			total: 50,
			remainingMs: 6_000,
		});
		expect(lastProgress(tqdmLine(0, 50, 0))).toEqual({ done: 0, total: 50 });
		expect(lastProgress(tqdmLine(2, 30, 5_000))!.remainingMs).toBeCloseTo(70_000, -1);
	});
});

describe('nextPollDelay', () => {
	const { firstMs, maxMs, finishMarginMs } = POLL_SCHEDULE;
	const progress = (remainingMs?: number, done = 10, total = 50): Progress => ({
		done,
		total,
		...(remainingMs === undefined ? {} : { remainingMs }),
	});

	it('without progress: 1 s, then ×1.6 up to 3 s', () => {
		const delays: number[] = [];
		let previousMs: number | undefined;
		for (let i = 0; i < 5; i++) {
			previousMs = nextPollDelay({ sinceStartMs: 0, previousMs });
			delays.push(previousMs);
		}
		expect(delays).toEqual([1_000, 1_600, 2_560, 3_000, 3_000]);
		expect(nextPollDelay({ sinceStartMs: 5_000, previousMs: 1_000, progress: progress() })).toBe(
			1_600,
		);
	});

	it('polls just after the estimated finish when it is within 3 s', () => {
		expect(
			nextPollDelay({ sinceStartMs: 2_000, previousMs: firstMs, progress: progress(2_000) }),
		).toBe(2_000 + finishMarginMs);
	});

	it('spreads the polls evenly over a longer remainder, at most 3 s apart', () => {
		// 9 s + margin left: three polls of 3.083 s, the last one just after the finish.
		const delay = nextPollDelay({
			sinceStartMs: 1_000,
			previousMs: firstMs,
			progress: progress(9_000),
		});
		expect(delay).toBe(Math.round((9_000 + finishMarginMs) / 4));
		expect(
			nextPollDelay({ sinceStartMs: 1_000, previousMs: firstMs, progress: progress(5e12) }),
		).toBe(maxMs);
	});

	it('once the bar is full, polls at a tenth of the time waited (at least the margin, at most 3 s)', () => {
		const full = progress(0, 50, 50);
		expect(nextPollDelay({ sinceStartMs: 10_000, previousMs: 2_000, progress: full })).toBe(1_000);
		expect(nextPollDelay({ sinceStartMs: 1_000, previousMs: 900, progress: full })).toBe(
			finishMarginMs,
		);
		expect(nextPollDelay({ sinceStartMs: 120_000, previousMs: 3_000, progress: full })).toBe(maxMs);
	});

	it('trusts an estimate only from a line that moved since the last poll', () => {
		const moved = { sinceStartMs: 10_000, previousMs: 2_000, progress: progress(500, 45) };
		expect(nextPollDelay({ ...moved, previousProgress: progress(1_500, 40) })).toBe(
			500 + finishMarginMs,
		);
		// Unmoved: no estimate, the growing interval.
		expect(nextPollDelay({ ...moved, previousProgress: progress(500, 45) })).toBe(3_000);
		expect(nextPollDelay({ ...moved, previousMs: 450, previousProgress: progress(500, 45) })).toBe(
			720,
		);
	});

	it('a bar that has not started yet (no rate) keeps the growing interval', () => {
		const starting = progress(undefined, 0);
		expect(nextPollDelay({ sinceStartMs: 1_000, previousMs: 1_000, progress: starting })).toBe(
			1_600,
		);
		expect(
			nextPollDelay({
				sinceStartMs: 2_600,
				previousMs: 1_600,
				progress: starting,
				previousProgress: starting,
			}),
		).toBe(2_560);
	});

	it('a stuck line cannot cause a burst of polls: it counts as no line', () => {
		let t = 10_000;
		const next = pollScheduler(() => t);
		const stuck = '  98%|█████████▊| 49/50 [00:09<00:00,  5.00it/s]\n';
		let polls = 0;
		while (t < 610_000) {
			t += next(stuck);
			polls++;
		}
		// As many as the schedule without progress: 200 polls of 3 s in 600 s, and a few to get there.
		expect(polls).toBeLessThanOrEqual(Math.ceil(600_000 / maxMs) + 5);
	});

	it('is a whole number of ms within [margin, 3 s] whatever the line says', () => {
		const lines = [
			progress(-5),
			progress(Number.NaN),
			progress(Number.POSITIVE_INFINITY),
			progress(0),
			progress(1),
			progress(2_999),
			progress(1e15),
		];
		for (const line of lines)
			for (const sinceStartMs of [0, 999, 1e6, -1])
				for (const previousMs of [undefined, 0, 1_000, 3_000]) {
					const delay = nextPollDelay({ sinceStartMs, previousMs, progress: line });
					expect(Number.isInteger(delay)).toBe(true);
					expect(delay).toBeGreaterThanOrEqual(previousMs === 0 ? 0 : finishMarginMs);
					expect(delay).toBeLessThanOrEqual(maxMs);
				}
	});
});

/**
 * A model of T ms and 50 steps printing tqdm's lines (a line per step, at most every 100 ms), polled
 * from its start by the schedule: the polls it takes and how late the finish is seen.
 */
function simulate(modelMs: number, startDelayMs = 10) {
	const steps = 50;
	const stepMs = modelMs / steps;
	const printEvery = Math.max(1, Math.ceil(100 / stepMs));
	let t = 0;
	const next = pollScheduler(() => t);
	let logs = '';
	let polls = 0;
	while (t < startDelayMs + modelMs) {
		t += next(logs);
		polls++;
		const running = t - startDelayMs;
		if (running <= 0) continue;
		const printed = Math.min(steps - 1, Math.floor(running / stepMs / printEvery) * printEvery);
		logs = `Using seed: 1\n${tqdmLine(printed, steps, printed * stepMs)}\n`;
	}
	return { polls, lateMs: t - (startDelayMs + modelMs) };
}

describe('the schedule against a model that prints its progress', () => {
	it.each([8_000, 8_500, 9_000, 9_500, 10_000, 10_500, 11_000, 11_500, 12_000])(
		'T = %i ms: at most 5 polls, the finish seen within 12 %% of T',
		(modelMs) => {
			const { polls, lateMs } = simulate(modelMs);
			expect(polls).toBeLessThanOrEqual(5);
			expect(lateMs).toBeGreaterThanOrEqual(0);
			expect(lateMs).toBeLessThanOrEqual(0.12 * modelMs);
		},
	);

	it('short and long runs: the finish seen within a step and the margin', () => {
		for (const modelMs of [1_500, 3_000, 20_000, 60_000, 300_000]) {
			const { lateMs } = simulate(modelMs);
			expect(lateMs).toBeLessThanOrEqual(
				Math.max(100, modelMs / 50) + POLL_SCHEDULE.finishMarginMs,
			);
		}
	});
});
