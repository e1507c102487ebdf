/**
 * pause() on both shapes of n8n-workflow's abortable wait: `sleepWithAbort` (1.x, 2.x up to about
 * 2.33, and the 2.8 this project builds against) and 2.40's `sleep(ms, signal)` without a
 * `sleepWithAbort` export (real n8n 2.40.7 failed every wait with "sleepWithAbort is not a
 * function" before this). Both use the global setTimeout, so jest's fake clock drives them.
 */
type PauseModule = typeof import('../../../nodes/shared/pause');

const load = (): PauseModule => require('../../../nodes/shared/pause');

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

/** n8n-workflow 2.40's shape: `sleep(ms, signal)` rejects on abort; no `sleepWithAbort`. */
function mockNewShape() {
	const actual = jest.requireActual('n8n-workflow');
	const sleep = async (ms: number, signal?: AbortSignal) =>
		await actual.sleepWithAbort(ms, signal ?? new AbortController().signal);
	const { sleepWithAbort: _dropped, ...rest } = actual;
	jest.doMock('n8n-workflow', () => ({ ...rest, sleep }));
}

describe.each([
	['with sleepWithAbort (n8n-workflow 2.8)', false],
	['with only sleep(ms, signal) (n8n-workflow 2.40)', true],
])('pause %s', (_name, newShape) => {
	let pause: PauseModule['pause'];
	let ExecutionStoppedError: PauseModule['ExecutionStoppedError'];
	let hasSleepWithAbort: boolean;
	// Loaded once per shape: a fresh n8n-workflow per test would cost most of this file's time.
	beforeAll(() => {
		jest.isolateModules(() => {
			if (newShape) mockNewShape();
			({ pause, ExecutionStoppedError } = load());
			hasSleepWithAbort = 'sleepWithAbort' in require('n8n-workflow');
		});
	});
	afterAll(() => jest.dontMock('n8n-workflow'));

	it('runs against the shape it names', () => {
		expect(hasSleepWithAbort).toBe(!newShape);
	});

	it('waits exactly the given time', async () => {
		const controller = new AbortController();
		let done = false;
		const waiting = pause(30, controller.signal).then(() => (done = true));
		await jest.advanceTimersByTimeAsync(29);
		expect(done).toBe(false);
		await jest.advanceTimersByTimeAsync(1);
		await waiting;
		expect(done).toBe(true);
	});

	it('ends at once on an abort with ExecutionStoppedError, leaving no timer behind', async () => {
		const controller = new AbortController();
		const stopped = pause(60_000, controller.signal);
		const rejected = expect(stopped).rejects.toBeInstanceOf(ExecutionStoppedError);
		await jest.advanceTimersByTimeAsync(1_000);
		expect(jest.getTimerCount()).toBe(1);
		controller.abort();
		await rejected;
		expect(jest.getTimerCount()).toBe(0);
	});

	it('does not start when already stopped', async () => {
		const controller = new AbortController();
		controller.abort();
		await expect(pause(10, controller.signal)).rejects.toBeInstanceOf(ExecutionStoppedError);
		expect(jest.getTimerCount()).toBe(0);
	});

	it('without a signal, just waits', async () => {
		let done = false;
		const waiting = pause(500).then(() => (done = true));
		await jest.advanceTimersByTimeAsync(499);
		expect(done).toBe(false);
		await jest.advanceTimersByTimeAsync(1);
		await waiting;
		expect(done).toBe(true);
	});
});

describe('throwIfStopped', () => {
	it('throws ExecutionStoppedError once the signal has fired, and nothing without one', () => {
		const { throwIfStopped, ExecutionStoppedError } = load();
		const controller = new AbortController();
		expect(() => throwIfStopped(controller.signal)).not.toThrow();
		controller.abort();
		expect(() => throwIfStopped(controller.signal)).toThrow(ExecutionStoppedError);
		expect(() => throwIfStopped(controller.signal)).toThrow('The execution was stopped');
		expect(() => throwIfStopped(undefined)).not.toThrow();
	});
});
