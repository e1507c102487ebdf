/**
 * Finding a prediction whose create got no usable answer: the create was cut short by a Stop, or
 * failed after it may have reached Replicate (a reset, a 5xx, a timeout). Replicate lists
 * predictions newest first (`GET /predictions`, cursor pages); the one a create made has the
 * version and every input field the create sent, and was created after the create was sent.
 *
 * The ledger, one per API base URL in this n8n process, knows which creates are on their way and
 * which predictions some create or search already owns, so that two items (or two executions)
 * with the same input never take the same prediction.
 */
import type { IDataObject } from 'n8n-workflow';

import type { Prediction } from '../../shared/api/predictions';
import { listPredictions } from '../../shared/api/predictions';
import { pause } from '../../shared/pause';
import type { TransportContext } from '../../shared/transport/request';
import { apiBaseUrl } from '../../shared/transport/request';
import type { RetryPolicy } from '../../shared/transport/retry';

/**
 * How far Replicate's clock may be behind the node's when created_at is compared to the send time.
 */
export const CLOCK_TOLERANCE_MS = 10_000;
/**
 * Pages looked at per search (100 predictions each on Replicate): the create is among the newest.
 */
const MAX_PAGES = 3;
/** Claims are kept this long, longer than any create can be held (60 s) or searched for. */
const CLAIM_MEMORY_MS = 15 * 60_000;

export interface CreateBody {
	version: string;
	input: IDataObject;
}

/** A create on its way: what it sent and when. `settled` resolves once it answered or failed. */
export interface PendingCreate {
	body: CreateBody;
	sentAt: number;
	settled: Promise<void>;
	settle(): void;
}

class CreateLedger {
	readonly pending = new Set<PendingCreate>();

	private readonly claims = new Map<string, number>();

	begin(body: CreateBody): PendingCreate {
		let settle = () => {};
		const settled = new Promise<void>((resolve) => (settle = resolve));
		const entry: PendingCreate = { body, sentAt: Date.now(), settled, settle: () => {} };
		entry.settle = () => {
			this.pending.delete(entry);
			settle();
		};
		this.pending.add(entry);
		return entry;
	}

	/** Takes a prediction for one create; false when another create or search already has it. */
	claim(id: string): boolean {
		const now = Date.now();
		for (const [claimed, at] of this.claims)
			if (now - at > CLAIM_MEMORY_MS) this.claims.delete(claimed);
		if (this.claims.has(id)) return false;
		this.claims.set(id, now);
		return true;
	}

	/** Other creates on their way with the same body: their answers will claim their predictions. */
	twins(of: PendingCreate): PendingCreate[] {
		return [...this.pending].filter((entry) => entry !== of && sameBody(entry.body, of.body));
	}
}

const ledgers = new Map<string, CreateLedger>();

export async function ledgerFor(context: TransportContext): Promise<CreateLedger> {
	const baseUrl = await apiBaseUrl(context);
	let ledger = ledgers.get(baseUrl);
	if (!ledger) {
		ledger = new CreateLedger();
		ledgers.set(baseUrl, ledger);
	}
	return ledger;
}

/** The 64-hex version id, from `owner/name:<id>` or a bare id. */
function versionId(version: unknown): string {
	return (
		String(version ?? '')
			.split(':')
			.pop() ?? ''
	);
}

/** JSON with object keys sorted: Replicate may echo a nested input object with its keys reordered. */
function canonical(value: unknown): string {
	return JSON.stringify(value, (_key, inner: unknown) =>
		inner !== null && typeof inner === 'object' && !Array.isArray(inner)
			? Object.fromEntries(
					Object.entries(inner as Record<string, unknown>).sort(([a], [b]) =>
						a < b ? -1 : a > b ? 1 : 0,
					),
				)
			: inner,
	);
}

function sameValue(a: unknown, b: unknown): boolean {
	return canonical(a) === canonical(b);
}

function sameBody(a: CreateBody, b: CreateBody): boolean {
	return versionId(a.version) === versionId(b.version) && sameValue(a.input, b.input);
}

/**
 * Whether a prediction runs what a create named: its version id, or for an official model (sent
 * as `owner/name`, no id) the model, since Replicate reports the version it ran under.
 */
function runsVersion(prediction: IDataObject, version: string): boolean {
	if (!version.includes(':') && version.includes('/'))
		return String(prediction.model ?? '').toLowerCase() === version.toLowerCase();
	return versionId(prediction.version) === versionId(version);
}

/**
 * Replicate fills in defaults, so every field sent must be there unchanged; extra ones may be
 * added.
 */
export function madeBy(prediction: IDataObject, body: CreateBody): boolean {
	if (!runsVersion(prediction, body.version)) return false;
	const input = prediction.input as IDataObject | undefined;
	if (!input || typeof input !== 'object') return false;
	return Object.entries(body.input).every(([field, value]) => sameValue(input[field], value));
}

/**
 * Predictions created since `pending` was sent (allowing for clock skew) that it could have made,
 * oldest first. Reads at most a few pages, newest first.
 */
export async function listCandidates(
	context: TransportContext,
	pending: PendingCreate,
	policy: RetryPolicy,
	kind: 'repeatable' | 'cleanup',
): Promise<Prediction[]> {
	const since = pending.sentAt - CLOCK_TOLERANCE_MS;
	const found: Prediction[] = [];
	let cursor: string | undefined;
	for (let page = 0; page < MAX_PAGES; page++) {
		const answer = await listPredictions(context, { cursor, kind }, policy);
		let older = false;
		for (const prediction of answer.results) {
			const created = Date.parse(String(prediction.created_at ?? ''));
			if (Number.isFinite(created) && created < since) {
				older = true;
				continue;
			}
			if (typeof prediction.id === 'string' && madeBy(prediction, pending.body))
				found.push(prediction as Prediction);
		}
		cursor = answer.cursor;
		if (older || !cursor) break;
	}
	return found.reverse();
}

/**
 * Searches for the prediction `pending` made and claims it: up to `attempts` looks, `gapMs` apart
 * (doubling), since a create still on the wire may not be listed yet. With `waitForTwins`, creates
 * with the same body still on their way are waited for first, as their answers claim theirs.
 */
export async function findCreated(
	context: TransportContext,
	pending: PendingCreate,
	policy: RetryPolicy,
	search: {
		attempts: number;
		gapMs: number;
		kind: 'repeatable' | 'cleanup';
		waitForTwins: boolean;
		signal?: AbortSignal;
	},
): Promise<Prediction | undefined> {
	const ledger = await ledgerFor(context);
	if (search.waitForTwins)
		await Promise.all(ledger.twins(pending).map(async (twin) => await twin.settled));
	let gap = search.gapMs;
	for (let attempt = 0; attempt < search.attempts; attempt++) {
		if (attempt > 0) {
			await pause(gap, search.signal);
			gap *= 2;
		}
		const candidates = await listCandidates(context, pending, policy, search.kind);
		const mine = candidates.find((prediction) => ledger.claim(prediction.id));
		if (mine) return mine;
	}
	return undefined;
}
