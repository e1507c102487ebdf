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
 * Nothing here talks to n8n or the network.
 */

export const STATE_PARAM = 'replicate_wait';

/** Items one webhook-mode execution may hold: each earlier item adds its ID to the URL. */
export const MAX_WEBHOOK_ITEMS = 100;

/** An item's record: its prediction (and uploaded files), or why it has none. */
export interface ItemEntry {
	/** Prediction ID. */
	p?: string;
	/** IDs of files uploaded for it, deleted on resume. */
	u?: string[];
	/** Error message of an item that got no prediction. */
	e?: string;
}

export interface ResumeState {
	v: 1;
	/** Input item count. */
	n: number;
	/** The item whose prediction this URL belongs to. */
	i: number;
	/** Deadline (epoch ms): the latest of the items' Timeouts, counted from the park. */
	d: number;
	/** Per input item: its entry, or null when not known to this URL. */
	p: Array<ItemEntry | null>;
}

const ID = /^[a-z0-9]{1,64}$/i;

function encode(state: ResumeState): string {
	return Buffer.from(JSON.stringify(state), 'utf8').toString('base64url');
}

/** The resume URL (n8n's, with its own query such as `signature`) with this item's state added. */
export function urlWithState(resumeUrl: string, state: ResumeState): string {
	const url = new URL(resumeUrl);
	url.searchParams.set(STATE_PARAM, encode(state));
	return url.toString();
}

function validEntry(value: unknown): value is ItemEntry | null {
	if (value === null) return true;
	if (typeof value !== 'object' || Array.isArray(value)) return false;
	const entry = value as ItemEntry;
	if (entry.p !== undefined && (typeof entry.p !== 'string' || !ID.test(entry.p))) return false;
	if (
		entry.u !== undefined &&
		(!Array.isArray(entry.u) || !entry.u.every((id) => typeof id === 'string' && ID.test(id)))
	) {
		return false;
	}
	if (entry.e !== undefined && typeof entry.e !== 'string') return false;
	return (entry.p === undefined) !== (entry.e === undefined);
}

/** The state of a resume call's query, or undefined when it has none or it is malformed. */
export function readState(query: unknown): ResumeState | undefined {
	const raw = (query as Record<string, unknown> | undefined)?.[STATE_PARAM];
	if (typeof raw !== 'string' || raw.length > 64 * 1024) return undefined;
	let state: ResumeState;
	try {
		state = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as ResumeState;
	} catch {
		return undefined;
	}
	const { n, i, d, p } = state ?? {};
	if (state?.v !== 1 || !Number.isInteger(n) || n < 1 || n > MAX_WEBHOOK_ITEMS) return undefined;
	if (!Number.isInteger(i) || i < 0 || i >= n || !Number.isFinite(d)) return undefined;
	if (!Array.isArray(p) || p.length !== n || !p.every(validEntry)) return undefined;
	return state;
}

/** What one process knows about one waiting execution. */
export interface Knowledge {
	n: number;
	deadline: number;
	entries: Array<ItemEntry | null>;
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
	merge(executionId: string, state: Omit<ResumeState, 'v' | 'i'>, nowMs: number): Knowledge {
		this.prune(nowMs);
		let knowledge = this.known.get(executionId);
		if (!knowledge || knowledge.n !== state.n) {
			knowledge = {
				n: state.n,
				deadline: state.d,
				entries: new Array<ItemEntry | null>(state.n).fill(null),
				finished: new Map(),
				resumed: false,
				queue: Promise.resolve(),
			};
			this.known.set(executionId, knowledge);
		}
		knowledge.deadline = Math.max(knowledge.deadline, state.d);
		state.p.forEach((entry, index) => {
			const current = knowledge.entries[index];
			if (!entry) return;
			if (!current) knowledge.entries[index] = { ...entry };
			else if (entry.u && !current.u) current.u = entry.u;
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
	return knowledge.entries.flatMap((entry, index) => (entry ? [] : [index]));
}

/** Known prediction IDs not yet seen terminal. */
export function unfinishedPredictions(knowledge: Knowledge): string[] {
	return knowledge.entries.flatMap((entry) =>
		entry?.p && !knowledge.finished.has(entry.p) ? [entry.p] : [],
	);
}

/** Parked executions this n8n process knows about: filled by the park, merged with every call. */
export const waiting = new WaitingExecutions();

/** The execution a context belongs to (parking and resuming alike). */
export function executionIdOf(context: { getExecutionId(): string | undefined }): string {
	return String(context.getExecutionId() ?? '');
}
