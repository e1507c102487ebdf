/**
 * The create rate limit (Replicate allows 600 creates a minute): one bucket per API base URL,
 * shared by every item and execution in the process, a burst of 10, then 10 a second. Driven
 * through `apiRequest` on jest's fake clock with n8n's HTTP helper as a script (./scriptedApi).
 */
import { ExecutionStoppedError } from '../../nodes/shared/pause';
import type { TransportContext } from '../../nodes/shared/transport/context';
import { apiRequest } from '../../nodes/shared/transport/request';
import { scriptedApi, T0 } from './scriptedApi';

beforeEach(() => {
	jest.useFakeTimers();
	jest.setSystemTime(T0);
});
afterEach(() => jest.useRealTimers());

const created = () => ({ statusCode: 201, body: { id: 'p1', status: 'starting' } });

async function create(context: TransportContext, signal?: AbortSignal) {
	return await apiRequest(
		context,
		{ method: 'POST', path: '/predictions', kind: 'create' },
		{ maxRetries: 0, signal },
	);
}

describe('the create rate limit', () => {
	it('lets 10 creates go at once, then one every 100 ms', async () => {
		const api = scriptedApi(created);
		const all = Promise.all(Array.from({ length: 25 }, async () => await create(api.context)));
		await jest.runAllTimersAsync();
		await all;
		expect(api.times()).toEqual([
			...new Array(10).fill(0),
			100,
			200,
			300,
			400,
			500,
			600,
			700,
			800,
			900,
			1_000,
			1_100,
			1_200,
			1_300,
			1_400,
			1_500,
		]);
	});

	it('refills at 10 a second up to the burst of 10 while idle', async () => {
		const api = scriptedApi(created);
		await Promise.all(Array.from({ length: 10 }, async () => await create(api.context)));
		// 450 ms idle: 4.5 tokens back; four creates go at once, the fifth 50 ms later.
		await jest.advanceTimersByTimeAsync(450);
		const five = Promise.all(Array.from({ length: 5 }, async () => await create(api.context)));
		await jest.runAllTimersAsync();
		await five;
		expect(api.times().slice(10)).toEqual([450, 450, 450, 450, 500]);

		// A long idle never banks more than the burst.
		await jest.advanceTimersByTimeAsync(60_000);
		const start = Date.now() - T0;
		const twelve = Promise.all(Array.from({ length: 12 }, async () => await create(api.context)));
		await jest.runAllTimersAsync();
		await twelve;
		expect(
			api
				.times()
				.slice(15)
				.map((at) => at - start),
		).toEqual([...new Array(10).fill(0), 100, 200]);
	});

	it('keeps one bucket per base URL: another API has its own burst', async () => {
		const first = scriptedApi(created);
		const second = scriptedApi(created);
		const both = Promise.all([
			...Array.from({ length: 11 }, async () => await create(first.context)),
			...Array.from({ length: 10 }, async () => await create(second.context)),
		]);
		await jest.runAllTimersAsync();
		await both;
		expect(first.times()).toEqual([...new Array(10).fill(0), 100]);
		expect(second.times()).toEqual(new Array(10).fill(0));
	});

	it('does not count other requests', async () => {
		const api = scriptedApi(created);
		await Promise.all(
			Array.from(
				{ length: 20 },
				async () =>
					await apiRequest(
						api.context,
						{ method: 'GET', path: '/predictions/p1', kind: 'repeatable' },
						{ maxRetries: 0 },
					),
			),
		);
		await Promise.all(Array.from({ length: 10 }, async () => await create(api.context)));
		expect(api.times()).toEqual(new Array(30).fill(0));
	});

	it('a Stop ends the wait for a turn: that create is never sent', async () => {
		const api = scriptedApi(created);
		const controller = new AbortController();
		await Promise.all(Array.from({ length: 10 }, async () => await create(api.context)));
		const waiting = create(api.context, controller.signal);
		const stopped = expect(waiting).rejects.toBeInstanceOf(ExecutionStoppedError);
		await jest.advanceTimersByTimeAsync(50);
		controller.abort();
		await stopped;
		await jest.runAllTimersAsync();
		expect(api.sent).toHaveLength(10);
		// It took no turn: the next create goes when the bucket has one again, at 100 ms.
		const next = create(api.context);
		await jest.runAllTimersAsync();
		await next;
		expect(api.times().at(-1)).toBe(100);
	});
});
