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
	])('refuses a state that is %s', (_name, query) => {
		expect(readState(query)).toBeUndefined();
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

	it('forgets an execution an hour after its deadline', () => {
		const memory = new WaitingExecutions();
		memory.merge('1', { n: 1, d: 1000, p: [null] }, 0);
		memory.merge('2', { n: 1, d: 1000, p: [null] }, 1000 + 60 * 60 * 1000 + 1);
		expect(memory.size).toBe(1);
	});

	it('handles the calls of one execution one at a time', async () => {
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
		await Promise.all([slow, fast]);
		expect(order).toEqual(['first', 'second']);
	});
});
