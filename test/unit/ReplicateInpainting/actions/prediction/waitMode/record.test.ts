/**
 * The execution's record of Wait Mode: Webhook: its compact text, how it is cut to fit n8n's custom
 * data (10 keys of 255 characters, shared with the workflow's own), and how it is written over and
 * read back from those keys, as n8n keeps them (a key past the tenth is dropped silently).
 */
import type { INode } from 'n8n-workflow';

import type {
	CustomData,
	ParkRecord,
} from '../../../../../../nodes/ReplicateInpainting/actions/prediction/waitMode/record';
import {
	capacity,
	CUSTOM_DATA,
	decodeRecord,
	encodeRecord,
	fitRecord,
	freeKeys,
	itemsThatFit,
	plannedSize,
	readRecord,
	writeRecordText,
} from '../../../../../../nodes/ReplicateInpainting/actions/prediction/waitMode/record';
import { node } from '../../../../fixtures';

/** n8n's custom data as n8n-core keeps it: at most 10 keys, a new one past that dropped. */
function n8nCustomData(initial: Record<string, string> = {}): CustomData & {
	all: Record<string, string>;
} {
	const all: Record<string, string> = { ...initial };
	return {
		all,
		get: (key) => all[key] || undefined,
		set: (key, value) => {
			if (!(key in all) && Object.keys(all).length >= CUSTOM_DATA.keys) return;
			all[key] = value.slice(0, 512);
		},
		getAll: () => ({ ...all }),
	};
}

const id = (n: number) => `p${n}`.padEnd(26, 'x');
const record: ParkRecord = {
	deadline: Date.parse('2026-12-05T12:00:00Z'),
	items: [
		{ predictionId: id(0), uploaded: ['image', 'mask'] },
		{ error: 'Invalid input (item 1): Width (width): 500 must be a multiple of 64; it, too' },
		{ predictionId: id(2), uploaded: [] },
	],
};

describe('the record as text', () => {
	it('round-trips every kind of item, error texts with separators included', () => {
		expect(decodeRecord(encodeRecord(record))).toEqual(record);
	});

	it('keeps to characters that are safe inside an n8n expression string', () => {
		const text = encodeRecord({ ...record, items: [{ error: 'a "quoted" {{ brace }} \\ text' }] });
		expect(text).toMatch(/^[A-Za-z0-9%;:._!~*'() -]+$/);
		expect(decodeRecord(text)?.items[0]).toEqual({ error: 'a "quoted" {{ brace }} \\ text' });
	});

	it.each([
		['empty', ''],
		['of another format', encodeRecord(record).replace(/^r1/, 'r2')],
		['without items', 'r1;abc'],
		['with a bad ID', encodeRecord(record).replace(id(0), '../x')],
		['with unknown flags', encodeRecord(record).replace(':im', ':zz')],
		['with a broken escape', 'r1;abc;e%E2%80'],
	])('is none when it is %s', (_name, text) => {
		expect(decodeRecord(text)).toBeUndefined();
	});
});

describe('fitting the record into the custom data', () => {
	it.each([
		// keys free, uploaded inputs per item, items
		[10, 0, 90],
		[10, 2, 81],
		[9, 0, 81],
		[5, 2, 40],
		[1, 0, 8],
		// Never more than 100, whatever the room.
		[40, 0, 100],
	])('with %d keys free and %d uploads per item, holds %d items', (keys, uploads, items) => {
		expect(itemsThatFit(capacity(keys), uploads)).toBe(items);
	});

	it('a record of planned IDs is no longer than planned', () => {
		const items = Array.from({ length: 70 }, (_, n) => ({
			predictionId: id(n),
			uploaded: ['image', 'mask'] as Array<'image' | 'mask'>,
		}));
		expect(encodeRecord({ deadline: Date.now(), items }).length).toBeLessThanOrEqual(
			plannedSize(70, 2),
		);
	});

	it('cuts error texts (never IDs) until it fits, at last to nothing, and gives up when the IDs alone do not', () => {
		const long = { ...record, items: [...record.items, { error: 'x'.repeat(2000) }] };
		const text = fitRecord(long, 500)!;
		expect(text.length).toBeLessThanOrEqual(500);
		const decoded = decodeRecord(text)!;
		expect(decoded.items.slice(0, 3)).toEqual(record.items);
		expect((decoded.items[3] as { error: string }).error).toMatch(/^x+\.\.\.$/);
		const tight = decodeRecord(fitRecord(long, 90)!)!;
		expect(tight.items.map((item) => ('error' in item ? item.error : item.predictionId))).toEqual([
			id(0),
			'',
			id(2),
			'',
		]);
		expect(fitRecord(long, 60)).toBeUndefined();
	});

	it('a record as planned always fits, however many items failed (their errors cut)', () => {
		const items = Array.from({ length: 81 }, (_, n) =>
			n % 2 === 0
				? { predictionId: id(n), uploaded: ['image', 'mask'] as Array<'image' | 'mask'> }
				: { error: `Invalid input (item ${n}): Width (width): 500 must be a multiple of 64` },
		);
		const text = fitRecord({ deadline: Date.now(), items }, plannedSize(81, 2));
		expect(text).toBeDefined();
		expect(decodeRecord(text!)?.items).toHaveLength(81);
	});
});

describe('the record in the custom data', () => {
	const big: ParkRecord = {
		deadline: record.deadline,
		items: Array.from({ length: 40 }, (_, n) => ({ predictionId: id(n), uploaded: [] })),
	};

	it('is written over as many keys as it needs and read back whole', () => {
		const data = n8nCustomData({ mine: 'the workflow’s own' });
		expect(writeRecordText(data, node, encodeRecord(big))).toBe(true);
		expect(Object.keys(data.all)).toHaveLength(1 + Math.ceil(encodeRecord(big).length / 255));
		expect(Object.values(data.all).every((value) => value.length <= 255)).toBe(true);
		expect(readRecord(data, node)).toEqual(big);
		expect(data.all.mine).toBe('the workflow’s own');
	});

	it("belongs to one node: another node's record is apart", () => {
		const data = n8nCustomData();
		const other: INode = { ...node, id: 'another-node', name: 'Another' };
		writeRecordText(data, node, encodeRecord(big));
		writeRecordText(data, other, encodeRecord(record));
		expect(readRecord(data, node)).toEqual(big);
		expect(readRecord(data, other)).toEqual(record);
	});

	it('a shorter record (or none) clears the keys the longer one used', () => {
		const data = n8nCustomData();
		writeRecordText(data, node, encodeRecord(big));
		writeRecordText(data, node, encodeRecord(record));
		expect(readRecord(data, node)).toEqual(record);
		writeRecordText(data, node, '');
		expect(readRecord(data, node)).toBeUndefined();
	});

	it('reports a write n8n dropped (the execution already had 10 keys), and counts the free keys', () => {
		const full = n8nCustomData(
			Object.fromEntries(Array.from({ length: 9 }, (_, n) => [`user${n}`, 'v'])),
		);
		expect(freeKeys(full, node)).toBe(1);
		expect(writeRecordText(full, node, encodeRecord(big))).toBe(false);
		expect(writeRecordText(n8nCustomData(), node, encodeRecord(big))).toBe(true);
	});
});
