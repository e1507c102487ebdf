/**
 * /__admin/* on the API origin (no auth, outside the prefix): how a process that runs the server
 * as its own process (the e2e tests, the bench) reads what it saw and steers it, as tests do in process.
 */
import type http from 'node:http';

import { isRecord, type ResolvedOptions } from './core';
import { faultFromJson } from './faults';
import { problem, readBody, write } from './http';
import type { FakeReplicate, FakeReplicateOptions, PredictionScript, Reply } from './types';

/** What the admin endpoints read and steer: the server's public controls and its queues. */
export interface AdminTarget extends FakeReplicate {
	readonly currentOptions: ResolvedOptions;
	readonly queuedScripts: number;
	readonly queuedFaults: number;
}

/** Shortens long strings (data URIs) so admin listings stay small. */
function abbreviate(value: unknown): unknown {
	if (typeof value === 'string')
		return value.length > 256 ? `${value.slice(0, 64)}…(${value.length} chars)` : value;
	if (Array.isArray(value)) return value.map(abbreviate);
	if (value && typeof value === 'object')
		return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, abbreviate(v)]));
	return value;
}

export async function handleAdmin(
	server: AdminTarget,
	req: http.IncomingMessage,
	res: http.ServerResponse,
	method: string,
	url: URL,
): Promise<void> {
	let json: unknown;
	try {
		const body = await readBody(req);
		json = body.length > 0 ? JSON.parse(body.toString('utf8')) : undefined;
	} catch (error) {
		return write(req, res, problem(400, 'Bad Request', (error as Error).message));
	}
	const route = `${method} ${url.pathname}`;
	const ok = (value: unknown): Reply => ({ status: 200, json: value });
	let reply: Reply;
	try {
		switch (route) {
			case 'GET /__admin/requests': {
				const origin = url.searchParams.get('origin');
				const full = url.searchParams.get('full') === '1';
				const selected = server.requests.filter((r) => origin === null || r.origin === origin);
				reply = ok(full ? selected : selected.map((r) => ({ ...r, json: abbreviate(r.json) })));
				break;
			}
			case 'GET /__admin/stats':
				reply = ok(server.stats());
				break;
			case 'GET /__admin/predictions':
				reply = ok(abbreviate([...server.predictions.values()]));
				break;
			case 'GET /__admin/webhooks':
				reply = ok(server.webhookDeliveries);
				break;
			case 'POST /__admin/reset':
				server.reset();
				reply = { status: 204 };
				break;
			case 'POST /__admin/options': {
				if (!isRecord(json)) throw new Error('expected a JSON object of options');
				server.set(json as Partial<FakeReplicateOptions>);
				reply = ok(server.currentOptions);
				break;
			}
			case 'POST /__admin/script':
				if (!isRecord(json)) throw new Error('expected a JSON PredictionScript');
				server.scriptNextPrediction(json as PredictionScript);
				reply = ok({ queued: server.queuedScripts });
				break;
			case 'POST /__admin/fault':
				server.inject(faultFromJson(json));
				reply = ok({ queued: server.queuedFaults });
				break;
			default:
				reply = problem(404, 'Not found', `No admin route ${route}`);
		}
	} catch (error) {
		reply = problem(400, 'Bad Request', (error as Error).message);
	}
	write(req, res, reply);
}
