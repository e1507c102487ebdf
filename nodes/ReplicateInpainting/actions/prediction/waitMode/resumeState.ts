/**
 * What Wait Mode: Webhook knows about a parked execution, and where it keeps it.
 *
 * n8n gives a resumed node no place to write: a resume call that does not resume the execution
 * changes nothing n8n stores, and n8n drops the node's parked output before `webhook()` runs
 * (2.40.7). So the node keeps what it knows in two places:
 * - the webhook URL of each prediction: `?replicate_wait=<state>` names the item, the item count,
 *   the deadline, and what was known about the *earlier* items when it was created (their
 *   prediction IDs and uploads, or their error). Creates go in input order, so the call for the
 *   last created prediction names every item. This survives restarts and reaches any process.
 * - the memory of the n8n process (`WaitingExecutions`): seeded with everything by the execution
 *   that parked, and merged with every call. It makes the order of calls irrelevant in one process.
 *
 * The short wire keys are decoded into named fields here, at the URL; nothing here talks to n8n or
 * the network.
 */

export const STATE_PARAM = 'replicate_wait';

/** Items one webhook-mode execution may hold: each earlier item adds its ID to the URL. */
export const MAX_WEBHOOK_ITEMS = 100;

/** An item's record: its prediction (and uploaded files), or why it has none. */
export interface ItemRecord {
	predictionId?: string;
	/** IDs of files uploaded for it, deleted on resume. */
	uploadIds?: string[];
	/** Error message of an item that got no prediction. */
	error?: string;
}

/** What one resume URL says. */
export interface ResumeState {
	itemCount: number;
	/** The item whose prediction this URL belongs to. */
	itemIndex: number;
	/** Deadline (epoch ms): the latest of the items' Timeouts, counted from the park. */
	deadline: number;
	/** Per input item: its record, or null when not known to this URL. */
	items: Array<ItemRecord | null>;
}

/**
 * The state as it travels in the URL: short keys, since each URL carries the earlier items.
 * `{v: 1, n: itemCount, i: itemIndex, d: deadline, p: [{p: predictionId, u: uploadIds, e: error} | null]}`
 */
interface WireState {
	v: 1;
	n: number;
	i: number;
	d: number;
	p: Array<{ p?: string; u?: string[]; e?: string } | null>;
}

const ID = /^[a-z0-9]{1,64}$/i;

function toWire(state: ResumeState): WireState {
	return {
		v: 1,
		n: state.itemCount,
		i: state.itemIndex,
		d: state.deadline,
		p: state.items.map((item) =>
			item ? { p: item.predictionId, u: item.uploadIds, e: item.error } : null,
		),
	};
}

/** The resume URL (n8n's, with its own query such as `signature`) with this item's state added. */
export function urlWithState(resumeUrl: string, state: ResumeState): string {
	const url = new URL(resumeUrl);
	url.searchParams.set(
		STATE_PARAM,
		Buffer.from(JSON.stringify(toWire(state)), 'utf8').toString('base64url'),
	);
	return url.toString();
}

/** A wire entry as an item record, or undefined when it is malformed. */
function fromWire(value: unknown): ItemRecord | null | undefined {
	if (value === null) return null;
	if (typeof value !== 'object' || Array.isArray(value)) return undefined;
	const { p, u, e } = value as { p?: unknown; u?: unknown; e?: unknown };
	if (p !== undefined && (typeof p !== 'string' || !ID.test(p))) return undefined;
	if (
		u !== undefined &&
		(!Array.isArray(u) || !u.every((id) => typeof id === 'string' && ID.test(id)))
	)
		return undefined;
	if (e !== undefined && typeof e !== 'string') return undefined;
	if ((p === undefined) === (e === undefined)) return undefined;
	return {
		...(p !== undefined ? { predictionId: p } : {}),
		...(u !== undefined ? { uploadIds: u as string[] } : {}),
		...(e !== undefined ? { error: e } : {}),
	};
}

/** The state of a resume call's query, or undefined when it has none or it is malformed. */
export function readState(query: unknown): ResumeState | undefined {
	const raw = (query as Record<string, unknown> | undefined)?.[STATE_PARAM];
	if (typeof raw !== 'string' || raw.length > 64 * 1024) return undefined;
	let wire: WireState;
	try {
		wire = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as WireState;
	} catch {
		return undefined;
	}
	const { n, i, d, p } = wire ?? {};
	if (wire?.v !== 1 || !Number.isInteger(n) || n < 1 || n > MAX_WEBHOOK_ITEMS) return undefined;
	if (!Number.isInteger(i) || i < 0 || i >= n || !Number.isFinite(d)) return undefined;
	if (!Array.isArray(p) || p.length !== n) return undefined;
	const items = p.map(fromWire);
	if (items.some((item) => item === undefined)) return undefined;
	return { itemCount: n, itemIndex: i, deadline: d, items: items as Array<ItemRecord | null> };
}

/**
 * Whether a delivered prediction was created to report to another URL than the one called: its
 * own `webhook`, which Replicate signs with the rest of the body, must name this execution and
 * this URL's state (a genuine delivery of another execution, posted here, is refused). False when
 * the body names no webhook (a gateway may leave it out): then the execution's record decides.
 */
export function reportsElsewhere(webhook: unknown, executionId: string, query: unknown): boolean {
	if (webhook === undefined || webhook === null) return false;
	let url: URL;
	try {
		url = new URL(String(webhook));
	} catch {
		return true;
	}
	const state = (query as Record<string, unknown> | undefined)?.[STATE_PARAM];
	const pathExecution = url.pathname.split('/').filter(Boolean).at(-1);
	return pathExecution !== executionId || url.searchParams.get(STATE_PARAM) !== state;
}

/** What one process knows about one waiting execution. */
export interface Knowledge {
	itemCount: number;
	deadline: number;
	items: Array<ItemRecord | null>;
	/** Terminal predictions by ID, as their calls (or GETs) reported them. */
	finished: Map<string, Record<string, unknown>>;
	resumed: boolean;
	/** Calls for one execution are handled one at a time. */
	queue: Promise<unknown>;
}

/** Process memory of parked executions; entries are dropped an hour after their deadline. */
export class WaitingExecutions {
	private readonly known = new Map<string, Knowledge>();

	constructor(private readonly keepAfterDeadlineMs = 60 * 60 * 1000) {}

	/** Merges a URL's (or the parking execution's) state into what this process knows. */
	merge(executionId: string, state: Omit<ResumeState, 'itemIndex'>, nowMs: number): Knowledge {
		this.prune(nowMs);
		let knowledge = this.known.get(executionId);
		if (!knowledge || knowledge.itemCount !== state.itemCount) {
			knowledge = {
				itemCount: state.itemCount,
				deadline: state.deadline,
				items: new Array<ItemRecord | null>(state.itemCount).fill(null),
				finished: new Map(),
				resumed: false,
				queue: Promise.resolve(),
			};
			this.known.set(executionId, knowledge);
		}
		knowledge.deadline = Math.max(knowledge.deadline, state.deadline);
		state.items.forEach((item, index) => {
			const current = knowledge.items[index];
			if (!item) return;
			if (!current) knowledge.items[index] = { ...item };
			else if (item.uploadIds && !current.uploadIds) current.uploadIds = item.uploadIds;
		});
		return knowledge;
	}

	/** Runs `work` after every earlier call for the same execution has been handled. */
	async serially<T>(knowledge: Knowledge, work: () => Promise<T>): Promise<T> {
		const result = knowledge.queue.then(work);
		knowledge.queue = result.catch(() => undefined);
		return await result;
	}

	get size(): number {
		return this.known.size;
	}

	private prune(nowMs: number): void {
		for (const [id, knowledge] of this.known) {
			if (knowledge.deadline + this.keepAfterDeadlineMs < nowMs) this.known.delete(id);
		}
	}
}

/** Which items are not yet known (neither a prediction nor an error). */
export function unknownItems(knowledge: Knowledge): number[] {
	return knowledge.items.flatMap((item, index) => (item ? [] : [index]));
}

/** Known prediction IDs not yet seen terminal. */
export function unfinishedPredictions(knowledge: Knowledge): string[] {
	return knowledge.items.flatMap((item) =>
		item?.predictionId && !knowledge.finished.has(item.predictionId) ? [item.predictionId] : [],
	);
}

/** Parked executions this n8n process knows about: filled by the park, merged with every call. */
export const waiting = new WaitingExecutions();

/** The execution a context belongs to (parking and resuming alike). */
export function executionIdOf(context: { getExecutionId(): string | undefined }): string {
	return String(context.getExecutionId() ?? '');
}
