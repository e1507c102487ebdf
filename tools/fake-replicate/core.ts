/**
 * What every resource of the fake Replicate shares: its options, its origins, one sequence for
 * list order, and timers that close() clears, plus the small helpers they all use.
 */
import crypto from 'node:crypto';
import http from 'node:http';

import { problem } from './http';
import type { Exchange, FakeReplicateOptions, Reply } from './types';

export type ResolvedOptions = Required<FakeReplicateOptions>;

export const DEFAULT_OPTIONS: ResolvedOptions = {
	token: 'r8_fake_token_for_tests',
	prefix: '/v1',
	modelTimeMs: 100,
	startDelayMs: 10,
	honourPreferWait: true,
	retentionMs: 60 * 60 * 1000,
	filesEndpoint: true,
	pageSize: 100,
	webhookRetries: 2,
	webhookRetryDelayMs: 250,
	port: 0,
	outputPort: 0,
};

const ID_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
/** Hosts the server fetches inputs from and posts webhooks to: never the internet. */
export const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

export function randomId(length: number): string {
	const bytes = crypto.randomBytes(length);
	let id = '';
	for (let i = 0; i < length; i++) id += ID_ALPHABET[bytes[i] & 31];
	return id;
}

export function iso(ms: number): string {
	return new Date(ms).toISOString();
}

export function isRecord(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function normalisePrefix(prefix: string): string {
	const trimmed = prefix.replace(/\/+$/, '');
	return trimmed === '' || trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

/** Rejects unknown option names and wrong types (options also arrive as JSON through /__admin/options). */
export function checkedOptions(options: Partial<FakeReplicateOptions>): Partial<ResolvedOptions> {
	const checked: Record<string, unknown> = {};
	for (const [name, value] of Object.entries(options)) {
		if (value === undefined) continue;
		if (!Object.hasOwn(DEFAULT_OPTIONS, name)) throw new Error(`unknown option ${name}`);
		const expected = typeof DEFAULT_OPTIONS[name as keyof ResolvedOptions];
		if (
			typeof value !== expected ||
			(expected === 'number' && !(Number.isFinite(value) && (value as number) >= 0))
		) {
			throw new Error(
				`option ${name} must be a ${expected === 'number' ? 'non-negative number' : expected}`,
			);
		}
		checked[name] = value;
	}
	return checked as Partial<ResolvedOptions>;
}

interface PageCursor {
	before?: number;
	after?: number;
}

/** State and timers shared by the resource modules; the server owns one. */
export class ServerCore {
	options: ResolvedOptions;
	apiUrl = '';
	apiOrigin = '';
	outputOrigin = '';
	closed = false;
	/** predictions and files share it, so lists order them as Replicate does: by creation */
	sequence = 0;
	readonly outgoingAgent = new http.Agent({ keepAlive: false });
	readonly wakeOnClose = new Set<() => void>();
	private readonly timers = new Set<NodeJS.Timeout>();

	constructor(options: FakeReplicateOptions) {
		this.options = {
			...DEFAULT_OPTIONS,
			...checkedOptions(options),
			prefix: normalisePrefix(options.prefix ?? DEFAULT_OPTIONS.prefix),
		};
	}

	/** setTimeout that close() clears; after close nothing is scheduled (late callbacks must not keep the process up). */
	after(ms: number, fn: () => void): NodeJS.Timeout | undefined {
		if (this.closed) return undefined;
		const timer = setTimeout(
			() => {
				this.timers.delete(timer);
				fn();
			},
			Math.max(0, ms),
		);
		this.timers.add(timer);
		return timer;
	}

	cancel(timer: NodeJS.Timeout | undefined): void {
		if (!timer) return;
		clearTimeout(timer);
		this.timers.delete(timer);
	}

	/** Resolves after ms, or at once when the server closes. */
	sleep(ms: number): Promise<void> {
		return new Promise((resolve) => {
			const wake = () => {
				this.cancel(timer);
				this.wakeOnClose.delete(wake);
				resolve();
			};
			const timer = this.after(ms, wake);
			this.wakeOnClose.add(wake);
		});
	}

	/** Marks the server closed and clears every timer. */
	stopTimers(): void {
		this.closed = true;
		for (const timer of this.timers) clearTimeout(timer);
		this.timers.clear();
	}

	/** Wakes every sleeper and waiter (after stopTimers), so no request hangs on a closed server. */
	wakeAll(): void {
		for (const wake of this.wakeOnClose) wake();
		this.wakeOnClose.clear();
		this.outgoingAgent.destroy();
	}

	/** One page of a list, newest first, with the `next` and `previous` cursor links Replicate gives. */
	page<T>(ex: Exchange, items: Array<{ seq: number; value: T }>, route: string): Reply {
		const size = Math.max(1, Math.floor(this.options.pageSize));
		let cursor: PageCursor = {};
		const raw = ex.url.searchParams.get('cursor');
		if (raw !== null) {
			try {
				cursor = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as PageCursor;
				if (!isRecord(cursor)) throw new Error('not an object');
			} catch {
				return problem(400, 'Bad Request', 'Invalid cursor');
			}
		}
		const newestFirst = [...items].sort((a, b) => b.seq - a.seq);
		let pageItems: typeof items;
		if (typeof cursor.after === 'number') {
			const newer = newestFirst.filter((i) => i.seq > (cursor.after as number));
			pageItems = newer.slice(Math.max(0, newer.length - size));
		} else {
			const older =
				typeof cursor.before === 'number'
					? newestFirst.filter((i) => i.seq < (cursor.before as number))
					: newestFirst;
			pageItems = older.slice(0, size);
		}
		const link = (c: PageCursor) =>
			`${this.apiUrl}${route}?cursor=${Buffer.from(JSON.stringify(c)).toString('base64url')}`;
		const first = pageItems[0];
		const last = pageItems[pageItems.length - 1];
		const hasOlder = last !== undefined && newestFirst.some((i) => i.seq < last.seq);
		const hasNewer = first !== undefined && newestFirst.some((i) => i.seq > first.seq);
		return {
			status: 200,
			json: {
				next: hasOlder ? link({ before: last.seq }) : null,
				previous: hasNewer ? link({ after: first.seq }) : null,
				results: pageItems.map((i) => i.value),
			},
		};
	}
}
