/** Injected faults: which request a queued fault hits, and what it makes of the answer. */
import http from 'node:http';

import { isRecord } from './core';
import type { Fault, FaultTarget, Reply } from './types';

export class FaultQueue {
	private entries: Array<{ fault: Fault; remaining: number; skip: number }> = [];

	get length(): number {
		return this.entries.length;
	}

	add(fault: Fault): void {
		this.entries.push({ fault, remaining: fault.times ?? 1, skip: fault.skip ?? 0 });
	}

	clear(): void {
		this.entries = [];
	}

	/** The fault for this request, if one is queued for it (counting down its skip and times). */
	take(origin: 'api' | 'output', method: string, path: string): Fault | undefined {
		const index = this.entries.findIndex(
			({ fault }) =>
				(fault.origin ?? 'api') === origin &&
				(fault.method === undefined || fault.method.toUpperCase() === method) &&
				(fault.path === undefined || ((fault.path.lastIndex = 0), fault.path.test(path))),
		);
		if (index < 0) return undefined;
		const entry = this.entries[index];
		if (entry.skip > 0) {
			entry.skip--;
			return undefined;
		}
		if (--entry.remaining <= 0) this.entries.splice(index, 1);
		return entry.fault;
	}
}

/** What a fault answers instead of handling the request: a reply, 'reset' (socket destroyed), or undefined: handle it. */
export function faultBeforeHandling(fault: Fault | undefined): Reply | 'reset' | undefined {
	if (fault?.kind === 'reset-before-handling') return 'reset';
	if (fault?.kind === 'status' && !fault.afterHandling) {
		const defaultBody =
			fault.status === 429
				? { detail: 'Request was throttled. Your rate limit resets in ~30s.', status: 429 }
				: {
						title: http.STATUS_CODES[fault.status] ?? 'Error',
						detail: 'Injected fault',
						status: fault.status,
					};
		const faultBody = fault.body === undefined ? defaultBody : fault.body;
		return typeof faultBody === 'string'
			? {
					status: fault.status,
					body: faultBody,
					contentType: 'text/plain; charset=utf-8',
					headers: fault.headers,
				}
			: { status: fault.status, json: faultBody, headers: fault.headers };
	}
	if (fault?.kind === 'non-json') {
		const html =
			'<!DOCTYPE html><html><head><title>Just a moment...</title></head><body><h1>Checking your browser</h1></body></html>';
		return { status: 200, body: html, contentType: 'text/html; charset=utf-8' };
	}
	return undefined;
}

/** What a fault makes of the answer once the work is done: another reply, or 'reset'. */
export async function faultAfterHandling(
	fault: Fault | undefined,
	result: Reply,
	sleep: (ms: number) => Promise<void>,
): Promise<Reply | 'reset'> {
	if (fault?.kind === 'status') {
		return {
			status: fault.status,
			json: fault.body ?? {
				title: http.STATUS_CODES[fault.status] ?? 'Error',
				detail: 'Injected fault',
				status: fault.status,
			},
			headers: fault.headers,
		};
	}
	if (fault?.kind === 'delay') await sleep(fault.ms);
	if (fault?.kind === 'reset-before-response') return 'reset';
	if (fault?.kind === 'mangle' && result.json !== undefined)
		return { ...result, json: fault.mutate(structuredClone(result.json)) };
	return result;
}

/**
 * A fault described in JSON (for /__admin/fault): `path` is a RegExp source, and a 'mangle' fault
 * gives `set` (top-level fields to overwrite) and/or `delete` (top-level fields to drop).
 */
export function faultFromJson(json: unknown): Fault {
	if (!isRecord(json) || typeof json.kind !== 'string')
		throw new Error('expected a JSON fault with a kind');
	const target: FaultTarget = {
		origin: json.origin === 'output' ? 'output' : 'api',
		method: typeof json.method === 'string' ? json.method : undefined,
		path: typeof json.path === 'string' ? new RegExp(json.path) : undefined,
		times: typeof json.times === 'number' ? json.times : undefined,
		skip: typeof json.skip === 'number' ? json.skip : undefined,
	};
	switch (json.kind) {
		case 'status':
			if (typeof json.status !== 'number') throw new Error('a status fault needs a numeric status');
			return {
				...target,
				kind: 'status',
				status: json.status,
				body: json.body,
				headers: isRecord(json.headers) ? (json.headers as Record<string, string>) : undefined,
				afterHandling: json.afterHandling === true,
			};
		case 'delay':
			if (typeof json.ms !== 'number') throw new Error('a delay fault needs ms');
			return { ...target, kind: 'delay', ms: json.ms };
		case 'reset-before-response':
		case 'reset-before-handling':
		case 'non-json':
			return { ...target, kind: json.kind };
		case 'mangle': {
			const set = isRecord(json.set) ? json.set : {};
			const drop = Array.isArray(json.delete)
				? json.delete.filter((k): k is string => typeof k === 'string')
				: [];
			return {
				...target,
				kind: 'mangle',
				mutate: (body: Record<string, unknown>) => {
					for (const key of drop) delete body[key];
					return { ...body, ...set };
				},
			};
		}
	}
	throw new Error(`unknown fault kind ${json.kind}`);
}
