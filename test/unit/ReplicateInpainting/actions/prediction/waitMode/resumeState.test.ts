/** The pure parts of Wait Mode: Webhook: the state in each resume URL and the process memory. */
import type { ResumeState } from '../../../../../../nodes/ReplicateInpainting/actions/prediction/waitMode/resumeState';
import {
	MAX_WEBHOOK_ITEMS,
	readState,
	reportsElsewhere,
	STATE_PARAM,
	unfinishedPredictions,
	unknownItems,
	urlWithState,
	WaitingExecutions,
} from '../../../../../../nodes/ReplicateInpainting/actions/prediction/waitMode/resumeState';

const ITEM_1_ERROR = 'Invalid input (item 1): Width (width): 500 must be …';
/** A state as the node uses it. */
const state = (overrides: Partial<ResumeState> = {}): ResumeState => ({
	itemCount: 3,
	itemIndex: 2,
	deadline: 1_800_000_000_000,
	items: [{ predictionId: 'aaa111' }, { error: ITEM_1_ERROR }, null],
	...overrides,
});
/** The same state as it travels in the URL (short keys), for states the node never writes. */
const wire = (overrides: Record<string, unknown> = {}) => ({
	v: 1,
	n: 3,
	i: 2,
	d: 1_800_000_000_000,
	p: [{ p: 'aaa111' }, { e: ITEM_1_ERROR }, null],
	...overrides,
});
const queryOf = (url: string) => Object.fromEntries(new URL(url).searchParams);
const encoded = (value: unknown) => ({
	[STATE_PARAM]: Buffer.from(JSON.stringify(value)).toString('base64url'),
});

describe('resume URL state', () => {
	it("round-trips through the URL and keeps n8n's own query (signature)", () => {
		const url = urlWithState('http://n8n.example/webhook-waiting/42?signature=tok123', state());
		const query = queryOf(url);
		expect(query.signature).toBe('tok123');
		expect(readState(query)).toEqual(state());
	});

	it('keeps the short wire keys in the URL and decodes them into named fields', () => {
		const url = urlWithState('http://n8n.example/webhook-waiting/42', state());
		const raw = queryOf(url)[STATE_PARAM];
		expect(JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'))).toEqual(wire());
		expect(readState(encoded(wire()))).toEqual(state());
	});

	it.each([
		['missing', {}],
		['not base64 JSON', { [STATE_PARAM]: '%%%' }],
		[
			'item out of range',
			{ [STATE_PARAM]: Buffer.from(JSON.stringify(wire({ i: 3 }))).toString('base64url') },
		],
		[
			'entries not matching the count',
			{ [STATE_PARAM]: Buffer.from(JSON.stringify(wire({ p: [null] }))).toString('base64url') },
		],
		[
			'too many items',
			{
				[STATE_PARAM]: Buffer.from(
					JSON.stringify(
						wire({ n: MAX_WEBHOOK_ITEMS + 1, p: new Array(MAX_WEBHOOK_ITEMS + 1).fill(null) }),
					),
				).toString('base64url'),
			},
		],
		[
			'an ID that is no prediction ID',
			{
				[STATE_PARAM]: Buffer.from(
					JSON.stringify(wire({ p: [{ p: '../x' }, null, null] })),
				).toString('base64url'),
			},
		],
		[
			'an entry with both ID and error',
			{
				[STATE_PARAM]: Buffer.from(
					JSON.stringify(wire({ p: [{ p: 'a', e: 'b' }, null, null] })),
				).toString('base64url'),
			},
		],
		['of another version', encoded({ ...wire(), v: 2 })],
		['for no items', encoded(wire({ n: 0, i: 0, p: [] }))],
		['for a negative item', encoded(wire({ i: -1 }))],
		['for a fractional item', encoded(wire({ i: 1.5 }))],
		['without a deadline', encoded({ ...wire(), d: null })],
		['with an entry that has neither ID nor error', encoded(wire({ p: [{}, null, null] }))],
		[
			'with an upload ID that is none',
			encoded(wire({ p: [{ p: 'aaa111', u: ['a/b'] }, null, null] })),
		],
		['with an error that is not text', encoded(wire({ p: [{ e: 42 } as never, null, null] }))],
		['an array', encoded([wire()])],
		['not one string (a repeated query parameter)', { [STATE_PARAM]: ['a', 'b'] }],
	])('refuses a state that is %s', (_name, query) => {
		expect(readState(query)).toBeUndefined();
	});
});

describe('resume URL state limits', () => {
	it('holds 100 items with an ID each, and replaces a state already in the URL', () => {
		const full = state({
			itemCount: MAX_WEBHOOK_ITEMS,
			itemIndex: MAX_WEBHOOK_ITEMS - 1,
			items: Array.from({ length: MAX_WEBHOOK_ITEMS }, (_, index) => ({
				predictionId: `p${index}`.padEnd(26, 'x'),
				uploadIds: [`f${index}`.padEnd(26, 'x')],
			})),
		});
		const url = urlWithState('http://n8n.example/webhook-waiting/42?signature=tok', state());
		const replaced = new URL(urlWithState(url, full));
		expect(replaced.searchParams.getAll(STATE_PARAM)).toHaveLength(1);
		expect(readState(Object.fromEntries(replaced.searchParams))).toEqual(full);
		expect(MAX_WEBHOOK_ITEMS).toBe(100);
	});
});

describe('resume URL state size', () => {
	/** A valid state of 49152 + `extraBytes` bytes of JSON (its error text fills it up), encoded. */
	function stateOfBytes(extraBytes: number) {
		const empty = JSON.stringify(wire({ p: [{ e: '' }, null, null] })).length;
		return encoded(wire({ p: [{ e: 'x'.repeat(49_152 - empty + extraBytes) }, null, null] }));
	}

	it('reads a state of exactly 64 KB of text and refuses a longer one', () => {
		// Base64 turns every 3 bytes into 4 characters: 49152 bytes are exactly 65536 characters.
		const largest = stateOfBytes(0);
		expect(largest[STATE_PARAM]).toHaveLength(65_536);
		expect(readState(largest)?.itemCount).toBe(3);
		const over = stateOfBytes(1);
		expect(over[STATE_PARAM]).toHaveLength(65_538);
		expect(readState(over)).toBeUndefined();
	});
});

describe('WaitingExecutions', () => {
	it('merges what each URL knows; the call for the last item completes the picture', () => {
		const memory = new WaitingExecutions();
		const first = memory.merge('7', { itemCount: 3, deadline: 1000, items: [null, null, null] }, 0);
		first.items[0] = { predictionId: 'aaa111' };
		expect(unknownItems(first)).toEqual([1, 2]);
		const last = memory.merge(
			'7',
			{
				itemCount: 3,
				deadline: 1000,
				items: [{ predictionId: 'aaa111' }, { predictionId: 'bbb222', uploadIds: ['file1'] }, null],
			},
			0,
		);
		last.items[2] = { predictionId: 'ccc333' };
		expect(last).toBe(first);
		expect(unknownItems(last)).toEqual([]);
		expect(last.items[1]).toEqual({ predictionId: 'bbb222', uploadIds: ['file1'] });
		last.finished.set('ccc333', { id: 'ccc333', status: 'succeeded' });
		expect(unfinishedPredictions(last)).toEqual(['aaa111', 'bbb222']);
	});

	it('forgets an execution an hour after its deadline, not before', () => {
		const memory = new WaitingExecutions();
		const parked = memory.merge('1', { itemCount: 1, deadline: 1000, items: [null] }, 0);
		parked.items[0] = { predictionId: 'aaa111' };
		const hour = 60 * 60 * 1000;
		// Still known at deadline + 1 h: the same record comes back.
		expect(memory.merge('1', { itemCount: 1, deadline: 1000, items: [null] }, 1000 + hour)).toBe(
			parked,
		);
		const later = memory.merge(
			'1',
			{ itemCount: 1, deadline: 1000, items: [null] },
			1000 + hour + 1,
		);
		expect(later).not.toBe(parked);
		expect(later.items).toEqual([null]);
	});

	it("keeps the latest deadline, adds uploads a later URL knows, and never overwrites an item's record", () => {
		const memory = new WaitingExecutions();
		const knowledge = memory.merge(
			'5',
			{ itemCount: 2, deadline: 5000, items: [{ predictionId: 'aaa111' }, null] },
			0,
		);
		memory.merge(
			'5',
			{
				itemCount: 2,
				deadline: 3000,
				items: [{ predictionId: 'aaa111', uploadIds: ['file1'] }, { error: 'bad' }],
			},
			0,
		);
		expect(knowledge.deadline).toBe(5000);
		expect(knowledge.items).toEqual([
			{ predictionId: 'aaa111', uploadIds: ['file1'] },
			{ error: 'bad' },
		]);
		memory.merge(
			'5',
			{
				itemCount: 2,
				deadline: 9000,
				items: [{ predictionId: 'zzz999', uploadIds: ['file2'] }, { predictionId: 'bbb222' }],
			},
			0,
		);
		expect(knowledge.deadline).toBe(9000);
		expect(knowledge.items).toEqual([
			{ predictionId: 'aaa111', uploadIds: ['file1'] },
			{ error: 'bad' },
		]);
	});

	it('starts afresh when a URL names another item count for the same execution id', () => {
		const memory = new WaitingExecutions();
		const two = memory.merge(
			'8',
			{ itemCount: 2, deadline: 1000, items: [{ predictionId: 'aaa111' }, null] },
			0,
		);
		const three = memory.merge(
			'8',
			{ itemCount: 3, deadline: 1000, items: [null, null, { predictionId: 'ccc333' }] },
			0,
		);
		expect(three).not.toBe(two);
		expect(unknownItems(three)).toEqual([0, 1]);
	});

	describe('one call at a time (fake timers)', () => {
		beforeEach(() => jest.useFakeTimers());
		afterEach(() => jest.useRealTimers());

		it('runs the calls of one execution in order, even when the first is slower', async () => {
			const memory = new WaitingExecutions();
			const knowledge = memory.merge('9', { itemCount: 1, deadline: 1000, items: [null] }, 0);
			const order: string[] = [];
			const slow = memory.serially(knowledge, async () => {
				await new Promise((resolve) => setTimeout(resolve, 30));
				order.push('first');
			});
			const fast = memory.serially(knowledge, async () => {
				order.push('second');
			});
			await jest.advanceTimersByTimeAsync(29);
			expect(order).toEqual([]);
			await jest.advanceTimersByTimeAsync(1);
			await Promise.all([slow, fast]);
			expect(order).toEqual(['first', 'second']);
		});

		it('goes on after a call that failed, which fails only its own caller', async () => {
			const memory = new WaitingExecutions();
			const knowledge = memory.merge('9', { itemCount: 1, deadline: 1000, items: [null] }, 0);
			const failing = memory.serially(knowledge, async () => {
				await new Promise((resolve) => setTimeout(resolve, 10));
				throw new Error('download failed');
			});
			const next = memory.serially(knowledge, async () => 'resumed');
			const failed = expect(failing).rejects.toThrow('download failed');
			await jest.advanceTimersByTimeAsync(10);
			await failed;
			await expect(next).resolves.toBe('resumed');
		});

		it('keeps two executions apart: a slow call of one holds up nothing of the other', async () => {
			const memory = new WaitingExecutions();
			const a = memory.merge('a', { itemCount: 1, deadline: 1000, items: [null] }, 0);
			const b = memory.merge('b', { itemCount: 1, deadline: 1000, items: [null] }, 0);
			const done: string[] = [];
			void memory.serially(a, async () => {
				await new Promise((resolve) => setTimeout(resolve, 1000));
				done.push('a');
			});
			await memory.serially(b, async () => done.push('b'));
			expect(done).toEqual(['b']);
			await jest.advanceTimersByTimeAsync(1000);
			expect(done).toEqual(['b', 'a']);
		});
	});
});

describe('reportsElsewhere', () => {
	const url = urlWithState('http://n8n.example/webhook-waiting/42?signature=tok', state());
	const query = queryOf(url);

	it('accepts a prediction created for exactly this URL (execution and state)', () => {
		expect(reportsElsewhere(url, '42', query)).toBe(false);
	});

	it.each([
		['another execution', url.replace('/42?', '/43?'), '42'],
		['another item state', urlWithState(url, state({ itemIndex: 1 })), '42'],
		['a webhook that is no URL', 'not a url', '42'],
		['a webhook that is no text', 42, '42'],
	])('refuses one created for %s', (_name, webhook, executionId) => {
		expect(reportsElsewhere(webhook, executionId, query)).toBe(true);
	});

	it('leaves the decision to the record when the body names no webhook', () => {
		expect(reportsElsewhere(undefined, '42', query)).toBe(false);
		expect(reportsElsewhere(null, '42', query)).toBe(false);
	});
});
