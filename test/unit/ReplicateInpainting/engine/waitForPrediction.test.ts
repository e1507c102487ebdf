/**
 * Waiting for a prediction: polls due on a grid counted from the start of the
 * wait, with the delays of pollSchedule.ts (tested on its own in pollSchedule.test.ts),
 * fed from each answer's logs. `waitForPrediction` runs on jest's fake clock through the
 * transport's own code; only n8n's HTTP helper is a script (./scriptedApi) that answers each GET
 * with the next step and records when each request went out.
 */
import { ExecutionStoppedError } from '../../../../nodes/shared/pause';
import type { Prediction } from '../../../../nodes/shared/api/predictions';
import {
	waitForPrediction,
	withinWait,
} from '../../../../nodes/ReplicateInpainting/engine/waitForPrediction';
import type { WaitOptions } from '../../../../nodes/ReplicateInpainting/engine/waitForPrediction';
import { T0, useFakeClock } from '../../fixtures';
import { after, scriptedApi } from '../../scriptedApi';

describe('withinWait', () => {
	it("ends a poll's retries one first interval after the wait's deadline, keeping the rest", () => {
		const signal = new AbortController().signal;
		expect(withinWait({ maxRetries: 3, signal, deadline: 5 }, 10_000)).toEqual({
			maxRetries: 3,
			signal,
			deadline: 11_000,
		});
	});
});

/**
 * Answers polls with `steps` in turn (the last one repeats): a status, or a status with logs; each
 * after `latencyMs(pollNumber)` on the fake clock. A cancel is answered "canceled".
 */
function predictionApi(
	steps: Array<string | { status: string; logs: string }>,
	latencyMs: (poll: number) => number = () => 0,
) {
	let polls = 0;
	const api = scriptedApi(async (request) => {
		if (request.method === 'POST')
			return { statusCode: 200, body: { id: 'p1', status: 'canceled' } };
		const poll = polls++;
		const step = steps[Math.min(poll, steps.length - 1)];
		const body = typeof step === 'string' ? { id: 'p1', status: step } : { id: 'p1', ...step };
		return await after(latencyMs(poll), { statusCode: 200, body });
	});
	const calls = api.sent;
	return {
		...api,
		calls,
		pollTimes: () => calls.filter((c) => c.method === 'GET').map((c) => c.at),
	};
}

const starting = { id: 'p1', status: 'starting' } as Prediction;

/** A wait that `stop()` ends, and the expectation that it then rejects as stopped. */
function stoppableWait(api: ReturnType<typeof predictionApi>) {
	const controller = new AbortController();
	const done = waitForPrediction(
		api.context,
		starting,
		options({ policy: { maxRetries: 0, signal: controller.signal } }),
	);
	const stopped = expect(done).rejects.toBeInstanceOf(ExecutionStoppedError);
	return { stop: () => controller.abort(), stopped };
}

function options(overrides: Partial<WaitOptions> = {}): WaitOptions {
	return {
		deadline: T0 + 600_000,
		onTimeout: 'cancel',
		policy: { maxRetries: 0 },
		itemIndex: 0,
		timeoutSeconds: 600,
		...overrides,
	};
}

describe('waitForPrediction on a fake clock', () => {
	useFakeClock();

	it('polls at 1, 2.6, 5.16, 8.16, 11.16 s … until a final status, and returns that prediction', async () => {
		const api = predictionApi([
			'starting',
			'processing',
			'processing',
			'processing',
			'processing',
			'succeeded',
		]);
		const done = waitForPrediction(api.context, starting, options());
		await jest.advanceTimersByTimeAsync(14_160);
		await expect(done).resolves.toEqual({ id: 'p1', status: 'succeeded' });
		expect(api.pollTimes()).toEqual([1_000, 2_600, 5_160, 8_160, 11_160, 14_160]);
		expect(api.calls.every((call) => call.url === `${api.baseUrl}/predictions/p1`)).toBe(true);
	});

	it("follows the model's progress line: the polls land just after its estimated finish", async () => {
		// At 1 s the line says 20 of 50 steps at 5 steps/s: 6 s left, so with the 250 ms margin the
		// next polls go 6.25 s / 3 = 2.083 s apart; at 3.083 s it says 30/50: 4.25 s / 2 = 2.125 s.
		const api = predictionApi([
			{ status: 'processing', logs: ' 40%|████      | 20/50 [00:04<00:06,  5.00it/s]\n' },
			{ status: 'processing', logs: ' 60%|██████    | 30/50 [00:06<00:04,  5.00it/s]\n' },
			'succeeded',
		]);
		const done = waitForPrediction(api.context, starting, options());
		await jest.advanceTimersByTimeAsync(5_208);
		await expect(done).resolves.toMatchObject({ status: 'succeeded' });
		expect(api.pollTimes()).toEqual([1_000, 3_083, 5_208]);
	});

	it('does not poll before a poll is due', async () => {
		const api = predictionApi(['processing']);
		const { stop, stopped } = stoppableWait(api);
		await jest.advanceTimersByTimeAsync(999);
		expect(api.pollTimes()).toEqual([]);
		await jest.advanceTimersByTimeAsync(1);
		expect(api.pollTimes()).toEqual([1_000]);
		await jest.advanceTimersByTimeAsync(1_599);
		expect(api.pollTimes()).toEqual([1_000]);
		await jest.advanceTimersByTimeAsync(1);
		expect(api.pollTimes()).toEqual([1_000, 2_600]);
		stop();
		await stopped;
	});

	it('keeps to the grid when an answer is late by less than half the next interval', async () => {
		// The first poll answers after 400 ms (at 1.4 s); the second is still due at 2.6 s.
		const api = predictionApi(['processing', 'processing', 'succeeded'], (poll) =>
			poll === 0 ? 400 : 0,
		);
		const done = waitForPrediction(api.context, starting, options());
		await jest.advanceTimersByTimeAsync(5_160);
		await expect(done).resolves.toMatchObject({ status: 'succeeded' });
		expect(api.pollTimes()).toEqual([1_000, 2_600, 5_160]);
	});

	it('after a very late answer waits half an interval, then returns to the grid', async () => {
		// The first poll answers at 3 s: the next goes at 3 + 1.6/2 = 3.8 s, the one after that on
		// the grid counted from there (3.8 + 2.56 = 6.36 s), not pushed back by the late answer again.
		const api = predictionApi(['processing', 'processing', 'processing', 'succeeded'], (poll) =>
			poll === 0 ? 2_000 : 0,
		);
		const done = waitForPrediction(api.context, starting, options());
		await jest.advanceTimersByTimeAsync(9_360);
		await expect(done).resolves.toMatchObject({ status: 'succeeded' });
		expect(api.pollTimes()).toEqual([1_000, 3_800, 6_360, 9_360]);
	});

	it('returns a prediction that is final already without any request', async () => {
		const api = predictionApi(['processing']);
		const finished = { id: 'p1', status: 'failed', error: 'CUDA out of memory' } as Prediction;
		await expect(waitForPrediction(api.context, finished, options())).resolves.toBe(finished);
		expect(api.calls).toEqual([]);
	});

	it('cuts the last pause at the deadline, polls once more there, then cancels and fails', async () => {
		const api = predictionApi(['processing']);
		const done = waitForPrediction(
			api.context,
			starting,
			options({ deadline: T0 + 4_000, timeoutSeconds: 4 }),
		);
		const failed = expect(done).rejects.toMatchObject({
			message: 'Prediction p1 did not finish within the timeout of 4 s',
			description:
				'The node cancelled it (status now "canceled"). Raise the Timeout option for longer runs, or use Create Only with a webhook.',
		});
		await jest.advanceTimersByTimeAsync(4_000);
		await failed;
		expect(api.calls.map((call) => [call.at, call.method, call.url])).toEqual([
			[1_000, 'GET', `${api.baseUrl}/predictions/p1`],
			[2_600, 'GET', `${api.baseUrl}/predictions/p1`],
			[4_000, 'GET', `${api.baseUrl}/predictions/p1`],
			[4_000, 'POST', `${api.baseUrl}/predictions/p1/cancel`],
		]);
	});

	it("with onTimeout 'fail' (a prediction it did not start) leaves it running and says so", async () => {
		const api = predictionApi(['processing']);
		const done = waitForPrediction(
			api.context,
			starting,
			options({ deadline: T0 + 4_000, timeoutSeconds: 4, onTimeout: 'fail' }),
		);
		const failed = expect(done).rejects.toMatchObject({
			message: 'Prediction p1 did not finish within the timeout of 4 s',
			description:
				'It is still processing. Raise the Timeout option for longer runs, or use Create Only with a webhook.',
		});
		await jest.advanceTimersByTimeAsync(4_000);
		await failed;
		expect(api.calls.map((call) => call.method)).toEqual(['GET', 'GET', 'GET']);
	});

	it('a Stop ends the pause at once: no further poll, no cancel (the run cancels what it started)', async () => {
		const api = predictionApi(['processing']);
		const { stop, stopped } = stoppableWait(api);
		await jest.advanceTimersByTimeAsync(1_500);
		stop();
		await stopped;
		expect(Date.now() - T0).toBe(1_500);
		await jest.advanceTimersByTimeAsync(10_000);
		expect(api.pollTimes()).toEqual([1_000]);
		expect(jest.getTimerCount()).toBe(0);
	});
});
