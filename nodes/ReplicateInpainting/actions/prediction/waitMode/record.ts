/**
 * What a parked execution waits for, kept where n8n keeps it with the execution: its custom data
 * (`$execution.customData`, saved in n8n's database with the waiting execution and loaded with it
 * for every resume call, in any process and after any restart). Every call reads it back, so the
 * order of calls, the process that gets them and restarts in between change nothing.
 *
 * n8n's custom data holds at most 10 keys per execution (shared with the workflow's own use) of
 * at most 255 characters each (n8n logs an error above that): the record is a compact text split
 * over as many keys as it needs, and the node refuses, before any create, a park whose record
 * could not fit.
 */
import { createHash } from 'node:crypto';

import type { INode } from 'n8n-workflow';

/** One item: its prediction (and which of its inputs the node uploaded), or why it has none. */
export type ItemRecord =
	| { predictionId: string; uploaded: Array<'image' | 'mask'> }
	| { error: string };

export interface ParkRecord {
	/** Epoch ms: the latest of the items' Timeouts, counted from the park. */
	deadline: number;
	items: ItemRecord[];
}

/** What n8n's custom data allows (the same in 1.x and 2.x). */
export const CUSTOM_DATA = { keys: 10, valueLength: 255 } as const;
/** Replicate's prediction IDs (26 characters), as the record's size is planned before creating. */
const PLANNED_ID_LENGTH = 26;
const FORMAT = 'r1';
const ID = /^[a-z0-9]{1,64}$/i;

/** The custom data as the node reaches it (`$execution.customData`, n8n 1.x and 2.x). */
export interface CustomData {
	get(key: string): string | undefined;
	set(key: string, value: string): void;
	getAll(): Record<string, string>;
}

/**
 * The execution's custom data, as the execute and the webhook context reach it: n8n 2.x's
 * `this.customData`, else (n8n 1.x, and n8n-core before 2.x's getter) the same object n8n gives
 * expressions as `$execution.customData`, from the context's additional keys. (Calling it from an
 * expression with `evaluateExpression` does not write: real n8n evaluates expressions apart.)
 */
export function customDataOf(context: object): CustomData {
	const direct = (context as { customData?: CustomData }).customData;
	if (direct) return direct;
	const viaKeys = (context as { additionalKeys?: { $execution?: { customData?: CustomData } } })
		.additionalKeys?.$execution?.customData;
	if (!viaKeys) throw new Error("This n8n gives the node no access to the execution's custom data");
	return viaKeys;
}

/** The record's keys for one node: `replicateWait_<node>_<n>` (letters, digits, `_`; ≤ 50). */
function keyPrefix(node: INode): string {
	const nodeKey = createHash('sha256')
		.update(node.id ?? node.name)
		.digest('hex')
		.slice(0, 8);
	return `replicateWait_${nodeKey}_`;
}

/**
 * Error texts keep letters, digits, spaces and plain punctuation; anything else is %-escaped: the
 * record's separators, and what could end the JSON string or the `{{ }}` of the n8n expression the
 * record travels in (see customDataOf).
 */
const escapeText = (text: string) =>
	text.replace(/[^A-Za-z0-9 .:()_!~*'-]/g, (c) => encodeURIComponent(c));

function encodeItem(item: ItemRecord): string {
	if ('error' in item) return `e${escapeText(item.error)}`;
	const flags = item.uploaded.map((field) => field[0]).join('');
	return `p${item.predictionId}${flags ? `:${flags}` : ''}`;
}

export function encodeRecord(record: ParkRecord): string {
	return [FORMAT, record.deadline.toString(36), ...record.items.map(encodeItem)].join(';');
}

function decodeItem(text: string): ItemRecord | undefined {
	if (text.startsWith('e')) {
		try {
			return { error: decodeURIComponent(text.slice(1)) };
		} catch {
			return undefined;
		}
	}
	const [id, flags = ''] = text.slice(1).split(':');
	if (!text.startsWith('p') || !ID.test(id) || !/^i?m?$/.test(flags)) return undefined;
	const uploaded = [...flags].map((flag) => (flag === 'i' ? 'image' : 'mask') as 'image' | 'mask');
	return { predictionId: id, uploaded };
}

/** The record in `text`, or undefined when it is none (or malformed). */
export function decodeRecord(text: string): ParkRecord | undefined {
	const [format, deadline, ...items] = text.split(';');
	const decoded = items.map(decodeItem);
	const deadlineMs = parseInt(deadline ?? '', 36);
	if (format !== FORMAT || !Number.isFinite(deadlineMs) || decoded.length === 0) return undefined;
	if (decoded.some((item) => item === undefined)) return undefined;
	return { deadline: deadlineMs, items: decoded as ItemRecord[] };
}

/** How many keys the record may use: those n8n has left, besides the workflow's own. */
export function freeKeys(customData: CustomData, node: INode): number {
	const prefix = keyPrefix(node);
	const others = Object.keys(customData.getAll()).filter((key) => !key.startsWith(prefix));
	return CUSTOM_DATA.keys - others.length;
}

/** The longest record that fits in `keys` keys. */
export const capacity = (keys: number) => Math.max(0, keys) * CUSTOM_DATA.valueLength;

/** The most items one webhook-mode execution may hold, whatever room its record has. */
export const MAX_WEBHOOK_ITEMS = 100;

/**
 * The size a record of `itemCount` items with predictions will have, planned before the creates
 * (error texts are cut to fit, so only the prediction IDs count).
 */
export function plannedSize(itemCount: number, uploadsPerItem: number): number {
	const item = 1 + PLANNED_ID_LENGTH + (uploadsPerItem > 0 ? 1 + uploadsPerItem : 0) + 1;
	return FORMAT.length + 1 + Date.now().toString(36).length + itemCount * item;
}

/** How many items a record of `room` characters holds (at most MAX_WEBHOOK_ITEMS). */
export function itemsThatFit(room: number, uploadsPerItem: number): number {
	let items = 0;
	while (items < MAX_WEBHOOK_ITEMS && plannedSize(items + 1, uploadsPerItem) <= room) items++;
	return items;
}

/**
 * The record cut to fit `room` characters: error texts shortened step by step, at last to nothing
 * (the item then fails with a plain message), or undefined when even that does not fit:
 * prediction IDs are never cut. An item is planned at a prediction's size (plannedSize), and an
 * error cut to 20 characters is no longer, so a record as planned always fits.
 */
export function fitRecord(record: ParkRecord, room: number): string | undefined {
	for (const max of [Infinity, 300, 150, 80, 40, 20, 0]) {
		const text = encodeRecord({
			...record,
			items: record.items.map((item) =>
				'error' in item && item.error.length > max
					? { error: max === 0 ? '' : `${item.error.slice(0, max - 3)}...` }
					: item,
			),
		});
		if (text.length <= room) return text;
	}
	return undefined;
}

/** Writes `text` over the node's keys (clearing ones it no longer needs); false if n8n dropped any. */
export function writeRecordText(customData: CustomData, node: INode, text: string): boolean {
	const prefix = keyPrefix(node);
	const chunks = text.match(new RegExp(`[^]{1,${CUSTOM_DATA.valueLength}}`, 'g')) ?? [];
	chunks.forEach((chunk, index) => customData.set(`${prefix}${index}`, chunk));
	for (let index = chunks.length; customData.get(`${prefix}${index}`) !== undefined; index++)
		customData.set(`${prefix}${index}`, '');
	// n8n drops a key silently when the execution already has 10: read back.
	return chunks.every((chunk, index) => customData.get(`${prefix}${index}`) === chunk);
}

/** The node's record in this execution's custom data, if it parked. */
export function readRecord(customData: CustomData, node: INode): ParkRecord | undefined {
	const prefix = keyPrefix(node);
	let text = '';
	for (let index = 0; ; index++) {
		const chunk = customData.get(`${prefix}${index}`);
		if (!chunk) break;
		text += chunk;
	}
	return text ? decodeRecord(text) : undefined;
}
