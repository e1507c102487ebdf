/** The pure parts of Wait Mode: Webhook: the state in each resume URL and the process memory. */
import type { ResumeState } from '../../nodes/ReplicateInpainting/helpers/webhookMode/state';
import {
	MAX_WEBHOOK_ITEMS,
	readState,
	STATE_PARAM,
	unfinishedPredictions,
	unknownItems,
	urlWithState,
	WaitingExecutions,
} from '../../nodes/ReplicateInpainting/helpers/webhookMode/state';

const state = (overrides: Partial<ResumeState> = {}): ResumeState => ({
	v: 1,
	n: 3,
	i: 2,
	d: 1_800_000_000_000,
	p: [{ p: 'aaa111' }, { e: 'Invalid input (item 1): Width (width): 500 must be …' }, null],
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

	it.each([
		['missing', {}],
		['not base64 JSON', { [STATE_PARAM]: '%%%' }],
		[
			'item out of range',
			{ [STATE_PARAM]: Buffer.from(JSON.stringify(state({ i: 3 }))).toString('base64url') },
		],
		[
			'entries not matching the count',
			{ [STATE_PARAM]: Buffer.from(JSON.stringify(state({ p: [null] }))).toString('base64url') },
		],
		[
			'too many items',
			{
				[STATE_PARAM]: Buffer.from(
					JSON.stringify(
						state({ n: MAX_WEBHOOK_ITEMS + 1, p: new Array(MAX_WEBHOOK_ITEMS + 1).fill(null) }),
					),
				).toString('base64url'),
			},
		],
		[
			'an ID that is no prediction ID',
			{
				[STATE_PARAM]: Buffer.from(
					JSON.stringify(state({ p: [{ p: '../x' }, null, null] })),
				).toString('base64url'),
			},
		],
		[
			'an entry with both ID and error',
			{
				[STATE_PARAM]: Buffer.from(
					JSON.stringify(state({ p: [{ p: 'a', e: 'b' }, null, null] })),
				).toString('base64url'),
			},
		],
		['of another version', encoded({ ...state(), v: 2 })],
		['for no items', encoded(state({ n: 0, i: 0, p: [] }))],
		['for a negative item', encoded(state({ i: -1 }))],
		['for a fractional item', encoded(state({ i: 1.5 }))],
		['without a deadline', encoded({ ...state(), d: null })],
		['with an entry that has neither ID nor error', encoded(state({ p: [{}, null, null] }))],
		[
			'with an upload ID that is none',
			encoded(state({ p: [{ p: 'aaa111', u: ['a/b'] }, null, null] })),
		],
		['with an error that is not text', encoded(state({ p: [{ e: 42 } as never, null, null] }))],
		['an array', encoded([state()])],
		['not one string (a repeated query parameter)', { [STATE_PARAM]: ['a', 'b'] }],
	])('refuses a state that is %s', (_name, query) => {
		expect(readState(query)).toBeUndefined();
	});
});

describe('resume URL state limits', () => {
	it('holds 100 items with an ID each, and replaces a state already in the URL', () => {
		const full = state({
			n: MAX_WEBHOOK_ITEMS,
			i: MAX_WEBHOOK_ITEMS - 1,
			p: Array.from({ length: MAX_WEBHOOK_ITEMS }, (_, index) => ({
				p: `p${index}`.padEnd(26, 'x'),
				u: [`f${index}`.padEnd(26, 'x')],
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
		const empty = JSON.stringify(state({ p: [{ e: '' }, null, null] })).length;
		return encoded(state({ p: [{ e: 'x'.repeat(49_152 - empty + extraBytes) }, null, null] }));
	}

	it('reads a state of exactly 64 KB of text and refuses a longer one', () => {
		// Base64 turns every 3 bytes into 4 characters: 49152 bytes are exactly 65536 characters.
		const largest = stateOfBytes(0);
		expect(largest[STATE_PARAM]).toHaveLength(65_536);
		expect(readState(largest)?.n).toBe(3);
		const over = stateOfBytes(1);
		expect(over[STATE_PARAM]).toHaveLength(65_538);
		expect(readState(over)).toBeUndefined();
	});
});

describe('WaitingExecutions', () => {
	it('merges what each URL knows; the call for the last item completes the picture', () => {
		const memory = new WaitingExecutions();
		const first = memory.merge('7', { n: 3, d: 1000, p: [null, null, null] }, 0);
		first.entries[0] = { p: 'aaa111' };
		expect(unknownItems(first)).toEqual([1, 2]);
		const last = memory.merge(
			'7',
			{ n: 3, d: 1000, p: [{ p: 'aaa111' }, { p: 'bbb222', u: ['file1'] }, null] },
			0,
		);
		last.entries[2] = { p: 'ccc333' };
		expect(last).toBe(first);
		expect(unknownItems(last)).toEqual([]);
		expect(last.entries[1]).toEqual({ p: 'bbb222', u: ['file1'] });
		last.finished.set('ccc333', { id: 'ccc333', status: 'succeeded' });
		expect(unfinishedPredictions(last)).toEqual(['aaa111', 'bbb222']);
	});

	it('forgets an execution an hour after its deadline, not before', () => {
		const memory = new WaitingExecutions();
		const parked = memory.merge('1', { n: 1, d: 1000, p: [null] }, 0);
		parked.entries[0] = { p: 'aaa111' };
		const hour = 60 * 60 * 1000;
		// Still known at deadline + 1 h: the same record comes back.
		expect(memory.merge('1', { n: 1, d: 1000, p: [null] }, 1000 + hour)).toBe(parked);
		const later = memory.merge('1', { n: 1, d: 1000, p: [null] }, 1000 + hour + 1);
		expect(later).not.toBe(parked);
		expect(later.entries).toEqual([null]);
	});

	it("keeps the latest deadline, adds uploads a later URL knows, and never overwrites an item's record", () => {
		const memory = new WaitingExecutions();
		const knowledge = memory.merge('5', { n: 2, d: 5000, p: [{ p: 'aaa111' }, null] }, 0);
		memory.merge('5', { n: 2, d: 3000, p: [{ p: 'aaa111', u: ['file1'] }, { e: 'bad' }] }, 0);
		expect(knowledge.deadline).toBe(5000);
		expect(knowledge.entries).toEqual([{ p: 'aaa111', u: ['file1'] }, { e: 'bad' }]);
		memory.merge('5', { n: 2, d: 9000, p: [{ p: 'zzz999', u: ['file2'] }, { p: 'bbb222' }] }, 0);
		expect(knowledge.deadline).toBe(9000);
		expect(knowledge.entries).toEqual([{ p: 'aaa111', u: ['file1'] }, { e: 'bad' }]);
	});

	it('starts afresh when a URL names another item count for the same execution id', () => {
		const memory = new WaitingExecutions();
		const two = memory.merge('8', { n: 2, d: 1000, p: [{ p: 'aaa111' }, null] }, 0);
		const three = memory.merge('8', { n: 3, d: 1000, p: [null, null, { p: 'ccc333' }] }, 0);
		expect(three).not.toBe(two);
		expect(unknownItems(three)).toEqual([0, 1]);
	});

	describe('one call at a time (fake timers)', () => {
		beforeEach(() => jest.useFakeTimers());
		afterEach(() => jest.useRealTimers());

		it('runs the calls of one execution in order, even when the first is slower', async () => {
			const memory = new WaitingExecutions();
			const knowledge = memory.merge('9', { n: 1, d: 1000, p: [null] }, 0);
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
			const knowledge = memory.merge('9', { n: 1, d: 1000, p: [null] }, 0);
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
			const a = memory.merge('a', { n: 1, d: 1000, p: [null] }, 0);
			const b = memory.merge('b', { n: 1, d: 1000, p: [null] }, 0);
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
