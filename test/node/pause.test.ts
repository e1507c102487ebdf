/**
 * pause() on both shapes of n8n-workflow's abortable wait: `sleepWithAbort` (1.x, 2.x up to about
 * 2.33, and the 2.8 this project builds against) and 2.40's `sleep(ms, signal)` without a
 * `sleepWithAbort` export (real n8n 2.40.7 failed every wait with "sleepWithAbort is not a
 * function" before this).
 */
describe('pause', () => {
	afterEach(() => {
		jest.resetModules();
		jest.dontMock('n8n-workflow');
	});

	const load = (): typeof import('../../nodes/shared/pause') => require('../../nodes/shared/pause');

	it.each([
		['with sleepWithAbort (n8n-workflow 2.8)', false],
		['with only sleep(ms, signal) (n8n-workflow 2.40)', true],
	])('%s: waits, and ends early on an abort with ExecutionStoppedError', async (_, newShape) => {
		if (newShape) {
			const actual = jest.requireActual('n8n-workflow');
			// 2.40's sleep: resolves after ms, or rejects with the abort reason; no sleepWithAbort.
			const sleep = async (ms: number, signal?: AbortSignal) =>
				await actual.sleepWithAbort(ms, signal ?? new AbortController().signal);
			const { sleepWithAbort: _dropped, ...rest } = actual;
			jest.doMock('n8n-workflow', () => ({ ...rest, sleep }));
		}
		const { pause, ExecutionStoppedError } = load();
		const controller = new AbortController();
		const started = Date.now();
		await pause(30, controller.signal);
		expect(Date.now() - started).toBeGreaterThanOrEqual(25);

		const stopped = pause(60_000, controller.signal);
		controller.abort();
		await expect(stopped).rejects.toBeInstanceOf(ExecutionStoppedError);
	});
});
