/**
 * The fault matrix (issues 3 and 10): every fault the API, the network, a user's Stop and an
 * attacker can produce, met by every operation that can meet it, run through n8n's real engine
 * against the Replicate-compatible server's fault switches, with the node's default options
 * (Timeout 600 s, so `Prefer: wait=60`) unless a row says otherwise. This file runs the rows and
 * keeps the totals; the rows live in files by subject. The node's rows (a `NodeRow`, node-row.ts)
 * each state their setup and their outcome (success, a precise error, or a stopped execution):
 * rate-limit-rows.ts, server-error-rows.ts, connection-rows.ts, ambiguous-create-rows.ts,
 * timeout-rows.ts, stop-rows.ts, malformed-answer-rows.ts, prediction-end-rows.ts, output-rows.ts,
 * upload-rows.ts, input-rows.ts, concurrency-rows.ts and models-rows.ts. The trigger's rows (trigger-rows.ts) send
 * real and forged deliveries, the credential's rows (credential-rows.ts) press its Test button, the
 * delivery rows (delivery-rows.ts) call the trigger and the node's resume URL while the signing
 * secret cannot be fetched. Across the whole matrix the afterAll asserts and prints, computed from
 * the server's records and the runs' own data:
 *   - creates-per-item-max: predictions created per item ≤ 1 (no second paid prediction),
 *   - left-running: predictions still running once a row settled, or (in a row that stops the
 *     execution) succeeded after the Stop,
 *   - uploads-left: uploaded files still on the server once a row settled,
 *   - token-to-non-api-origin: requests carrying the token to any origin but the API,
 *   - token-in-output-or-error: the token's text in any output, error or log line,
 *   - forged-executions: executions (failed ones included) started by deliveries that failed
 *     verification.
 */
import type { IDataObject, INodeParameters } from 'n8n-workflow';

import { ReplicateInpaintingApi } from '../../credentials/ReplicateInpaintingApi.credentials';
import type { WaitingServer, WebhookRunResult } from '../harness';
import { startWaitingServer, testCredential } from '../harness';
import type { FakeReplicate, FakeReplicateOptions } from '../../tools/fake-replicate';
import { startFakeReplicate } from '../../tools/fake-replicate';
import type { NodeRun } from '../node/support';
import { eventually, runNode, urlInputs } from '../node/support';
import { deliver, finishedPrediction } from '../trigger/support';
import { ambiguousCreateRows } from './ambiguous-create-rows';
import { concurrencyRows } from './concurrency-rows';
import { connectionRows } from './connection-rows';
import { credentialRows } from './credential-rows';
import { deliveryRows } from './delivery-rows';
import { waitModeRows } from './wait-mode-rows';
import { inputRows } from './input-rows';
import { malformedAnswerRows } from './malformed-answer-rows';
import { modelsRows } from './models-rows';
import type { NodeRow, Operation, RowContext } from './node-row';
import { createPosts } from './node-row';
import { outputRows } from './output-rows';
import { predictionEndRows } from './prediction-end-rows';
import { rateLimitRows } from './rate-limit-rows';
import { serverErrorRows } from './server-error-rows';
import { stopRows } from './stop-rows';
import type { LiveTimer, Sink } from './support';
import {
	allText,
	cancelAsTest,
	isTerminal,
	lateApi,
	occurrences,
	seedPrediction,
	sinkRequestsCarrying,
	startSink,
	trackAbortListeners,
	trackNodeTimers,
} from './support';
import { timeoutRows } from './timeout-rows';
import { forgedExecutions, startedExecution, triggerRows } from './trigger-rows';
import { uploadRows } from './upload-rows';

const TOKEN = 'r8_SECRET_fault_matrix_token';
/** Searched for without its prefix, so a token shown in part ("…SECRET_fault_matrix_token") counts too. */
const TOKEN_TEXT = TOKEN.slice('r8_'.length);

const OPERATION_LABEL: Record<Operation, string> = {
	createAndWait: 'Create and Wait',
	createOnly: 'Create Only',
	get: 'Get (wait + download)',
	cancel: 'Cancel',
};

const SERVER_DEFAULTS: Partial<FakeReplicateOptions> = {
	pageSize: 100,
	modelTimeMs: 100,
	startDelayMs: 10,
	honourPreferWait: true,
	retentionMs: 60 * 60 * 1000,
	filesEndpoint: true,
};

interface Tally {
	row: string;
	passed: boolean;
	outcome: string;
	createsPerItemMax: number;
	leftRunning: number;
	uploadsLeft: number;
	tokenToNonApiOrigin: number;
	tokenInOutputOrError: number;
	forgedExecutions: number;
}

function newTally(row: string): Tally {
	return {
		row,
		passed: false,
		outcome: 'not run',
		createsPerItemMax: 0,
		leftRunning: 0,
		uploadsLeft: 0,
		tokenToNonApiOrigin: 0,
		tokenInOutputOrError: 0,
		forgedExecutions: 0,
	};
}

const tallies: Tally[] = [];

/**
 * The node's rows, by subject, in the order they run. Order matters once: the malformed answers'
 * redirect on Get finds no request but webhook deliveries on the sink, which an output row's
 * redirect reaches later.
 */
const rows: NodeRow[] = [
	...rateLimitRows,
	...serverErrorRows,
	...connectionRows,
	...ambiguousCreateRows,
	...timeoutRows,
	...stopRows,
	...malformedAnswerRows,
	...predictionEndRows,
	...outputRows,
	...uploadRows,
	...inputRows,
	...concurrencyRows,
	...modelsRows,
];

/** What every row runs: the operation's parameters, with the row's additions; the node's default options. */
function parametersFor(
	row: NodeRow,
	server: FakeReplicate,
	sink: Sink,
	seedId: string | undefined,
): INodeParameters {
	const options = { ...(row.options ?? {}) };
	const prompt = row.sameInput ? 'the same prompt for every item' : '={{ $json.tag }}';
	switch (row.operation) {
		case 'createAndWait':
			return {
				operation: 'createAndWait',
				...urlInputs(server),
				prompt,
				...row.parameters,
				options,
			};
		case 'createOnly':
			return {
				operation: 'createOnly',
				...urlInputs(server),
				prompt,
				webhookUrl: `${sink.origin}/webhook/replicate`,
				webhookEvents: ['completed'],
				...row.parameters,
				options,
			};
		case 'get':
			return { operation: 'get', predictionId: seedId, waitForCompletion: true, options };
		case 'cancel':
			return { operation: 'cancel', predictionId: seedId, options };
	}
}

/** The node's default Timeout, sent as Cancel-After unless a row sets its own. */
const DEFAULT_TIMEOUT_SECONDS = 600;

let server: FakeReplicate;
let sink: Sink;

beforeAll(async () => {
	server = await startFakeReplicate({ token: TOKEN, ...SERVER_DEFAULTS });
	sink = await startSink();
});

afterAll(async () => {
	try {
		const sum = (pick: (tally: Tally) => number) =>
			tallies.reduce((total, tally) => total + pick(tally), 0);
		const totals = {
			// The rows that ran (all of them, unless a -t filter picked some).
			rows: tallies.length,
			passed: tallies.filter((tally) => tally.passed).length,
			createsPerItemMax: Math.max(0, ...tallies.map((tally) => tally.createsPerItemMax)),
			leftRunning: sum((tally) => tally.leftRunning) + server.stats().running,
			uploadsLeft: sum((tally) => tally.uploadsLeft),
			tokenToNonApiOrigin: sum((tally) => tally.tokenToNonApiOrigin),
			tokenInOutputOrError: sum((tally) => tally.tokenInOutputOrError),
			forgedExecutions: sum((tally) => tally.forgedExecutions),
		};
		if (process.env.FAULT_MATRIX_TABLE) {
			process.stdout.write(
				`${tallies.map((tally) => `${tally.passed ? 'ok  ' : 'FAIL'} ${tally.row} → ${tally.outcome}`).join('\n')}\n`,
			);
		}
		process.stdout.write(
			`fault matrix: rows=${totals.rows} passed=${totals.passed} creates-per-item-max=${totals.createsPerItemMax} left-running=${totals.leftRunning} uploads-left=${totals.uploadsLeft} token-to-non-api-origin=${totals.tokenToNonApiOrigin} token-in-output-or-error=${totals.tokenInOutputOrError} forged-executions=${totals.forgedExecutions}\n`,
		);
		expect(totals.passed).toBe(totals.rows);
		expect(totals.createsPerItemMax).toBeLessThanOrEqual(1);
		expect(totals.leftRunning).toBe(0);
		expect(totals.uploadsLeft).toBe(0);
		expect(totals.tokenToNonApiOrigin).toBe(0);
		expect(totals.tokenInOutputOrError).toBe(0);
		expect(totals.forgedExecutions).toBe(0);
	} finally {
		await sink?.close();
		await server?.close();
	}
});

/** Files still stored on the server: counted for the row, then deleted by the test, so each row starts clean. */
async function uploadsLeftOn(fake: FakeReplicate): Promise<number> {
	const left = fake.stats().files;
	const headers = { authorization: `Bearer ${fake.token}` };
	for (let page: string | null = `${fake.apiUrl}/files`; page; ) {
		const answer = (await (await fetch(page, { headers })).json()) as {
			next: string | null;
			results: Array<{ id: string }>;
		};
		for (const file of answer.results)
			await fetch(`${fake.apiUrl}/files/${file.id}`, { method: 'DELETE', headers });
		page = answer.next;
	}
	return left;
}

/** Node's limit before MaxListenersExceededWarning (events.defaultMaxListeners). */
const MAX_LISTENERS = 10;

/** How long after the end of a stopped execution a timer of the node may still be pending. */
const TIMER_GRACE_MS = 100;

describe('fault matrix', () => {
	it.each(rows.map((row) => [`${OPERATION_LABEL[row.operation]} × ${row.fault}`, row] as const))(
		'%s',
		async (label, row) => {
			const tally = newTally(label);
			tallies.push(tally);

			// Arrange: a clean server, the test's own prediction if the operation needs one, then the fault.
			server.reset();
			server.set({ ...SERVER_DEFAULTS, ...row.server });
			let seedId: string | undefined;
			if (row.seed) {
				if (row.seed.script) server.scriptNextPrediction(row.seed.script);
				seedId = await seedPrediction(server, row.seed.until);
				server.reset();
			}
			const before = new Set(server.predictions.keys());
			const sinkMark = sink.requests.length;
			row.arrange?.(server, sink, seedId);
			const late =
				row.refuseConnectionsForMs === undefined
					? undefined
					: await lateApi(server, row.refuseConnectionsForMs);

			// Act: the node, through n8n's engine.
			const tags = Array.from({ length: row.items ?? 1 }, (_, index) => `${label} #${index}`);
			const inputItems = (row.inputItems?.(server) ?? tags.map(() => ({ json: {} }))).map(
				(item, index) => ({
					...item,
					json: { ...item.json, tag: tags[index] },
				}),
			);
			const listeners = trackAbortListeners();
			const timers = row.stopAfterMs === undefined ? undefined : trackNodeTimers();
			const startedAt = Date.now();
			let run: NodeRun;
			let timersLeft: LiveTimer[] = [];
			try {
				run = await runNode(server, parametersFor(row, server, sink, seedId), {
					inputItems,
					baseUrl: late?.baseUrl,
					stopAfterMs: row.stopAfterMs,
					continueOnFail: row.continueOnFail,
				});
				if (timers) {
					await new Promise((resolve) => setTimeout(resolve, TIMER_GRACE_MS));
					timersLeft = timers.live();
				}
			} finally {
				listeners.stop();
				timers?.stop();
				await late?.close();
			}
			const durationMs = Date.now() - startedAt;
			const created = [...server.predictions.values()].filter(
				(prediction) => !before.has(prediction.id),
			);
			const ctx: RowContext = {
				server,
				sink,
				id: seedId ?? created[0]?.id ?? '(none created)',
				seedId,
				created,
				requests: [...server.requests],
				run,
				durationMs,
				abortListenersPeak: listeners.peak(),
				stopAt: row.stopAfterMs === undefined ? undefined : startedAt + row.stopAfterMs,
			};

			// Measured for the totals before anything is asserted, so a failing row still counts.
			const perItem = row.sameInput
				? [Math.ceil(created.length / tags.length)]
				: tags.map(
						(tag) =>
							created.filter(
								(prediction) =>
									prediction.input.prompt === tag ||
									(tags.length === 1 && prediction.input.prompt === undefined),
							).length,
					);
			tally.createsPerItemMax = Math.max(0, ...perItem);
			const unattributed = row.sameInput
				? 0
				: created.length - perItem.reduce((sum, count) => sum + count, 0);
			const exposed = allText([
				run.result.run,
				run.result.error,
				run.result.logs,
				run.errorMessage,
				run.errorDescription,
				run.items,
			]);
			tally.tokenInOutputOrError = occurrences(exposed, TOKEN_TEXT);
			tally.outcome =
				run.result.status === 'canceled'
					? 'stopped (execution canceled)'
					: run.errorMessage
						? `error: ${run.errorMessage}`
						: `${run.result.status}${run.items[0] ? ` (${String(run.items[0].json.status ?? run.items[0].json.error)})` : ''}`;

			try {
				// Assert: the row's own outcome.
				const expected = row.expect;
				if (expected.outcome === 'success') {
					expect(run.errorMessage).toBeUndefined();
					expect(run.result.status).toBe('success');
					expect(run.items).toHaveLength(expected.items ?? 1);
					if (expected.status)
						for (const item of run.items) expect(item.json.status).toBe(expected.status);
					if (expected.binaries !== undefined)
						expect(Object.keys(run.items[0].binary ?? {})).toHaveLength(expected.binaries);
				} else if (expected.outcome === 'error') {
					expect(run.result.status).toBe('error');
					const message = expected.message(ctx);
					if (typeof message === 'string') expect(run.errorMessage).toBe(message);
					else expect(run.errorMessage).toMatch(message);
					for (const description of [expected.description ?? []].flat())
						expect(run.errorDescription).toMatch(description);
				} else {
					expect(run.result.status).toBe('canceled');
					expect(run.items).toHaveLength(0);
				}
				await row.check?.(ctx);

				// Assert, on every row: Cancel-After on every create, at most one prediction per item, no
				// listener warnings, and after a Stop no timer of the node left pending.
				const timeout =
					(parametersFor(row, server, sink, seedId).options as IDataObject).timeout ??
					DEFAULT_TIMEOUT_SECONDS;
				for (const post of createPosts(ctx))
					expect(post.headers['cancel-after']).toBe(`${timeout}s`);
				expect(unattributed).toBe(0);
				expect(tally.createsPerItemMax).toBeLessThanOrEqual(1);
				expect(tally.tokenInOutputOrError).toBe(0);
				expect(ctx.abortListenersPeak).toBeLessThanOrEqual(MAX_LISTENERS);
				expect(timersLeft.map((timer) => timer.stack)).toEqual([]);
				if (row.operation === 'get' || row.operation === 'cancel')
					expect(ctx.server.stats().creates).toBe(0);
			} finally {
				// Settle: the test stops its own prediction; whatever the node started must be finished or
				// canceled within moments (cancels after a Stop have gone out before the node returned).
				if (seedId) await cancelAsTest(server, seedId);
				await eventually(() => server.stats().running === 0, 1_500);
				const stillRunning = [...server.predictions.values()].filter(
					(prediction) => !isTerminal(prediction),
				).length;
				// After a Stop, a prediction of the node's that succeeded after it ran on, paid, for nobody.
				const succeededAfterStop =
					ctx.stopAt === undefined
						? 0
						: created.filter(
								(prediction) =>
									prediction.status === 'succeeded' &&
									Date.parse(prediction.completed_at ?? '') > ctx.stopAt!,
							).length;
				tally.leftRunning = stillRunning + succeededAfterStop;
				tally.tokenToNonApiOrigin =
					server.stats().tokenToNonApiOrigin + sinkRequestsCarrying(sink, TOKEN, sinkMark);
				// Faults still armed must not meet the test's own clean-up.
				server.reset();
				for (const prediction of server.predictions.values())
					if (!isTerminal(prediction)) await cancelAsTest(server, prediction.id);
				tally.uploadsLeft = await uploadsLeftOn(server);
			}
			expect(tally.leftRunning).toBe(0);
			expect(tally.uploadsLeft).toBe(0);
			expect(tally.tokenToNonApiOrigin).toBe(0);
			tally.passed = true;
		},
	);
});

describe('fault matrix: trigger', () => {
	let prediction: string;

	beforeAll(async () => {
		server.reset();
		server.set(SERVER_DEFAULTS);
		prediction = JSON.stringify(await finishedPrediction(server));
	});

	it.each(triggerRows.map((row) => [`Trigger × ${row.fault}`, row] as const))(
		'%s',
		async (label, row) => {
			const tally = newTally(label);
			tallies.push(tally);
			server.reset();
			server.set(SERVER_DEFAULTS);
			const sinkMark = sink.requests.length;
			await row.arrange?.(server);
			const deliveries = row.deliveries(server, prediction);
			const results: WebhookRunResult[] = [];
			try {
				for (const delivery of deliveries) {
					results.push(
						await deliver(server, delivery.body, delivery.headers, {
							credential: row.credential,
							parameters: row.parameters,
						}),
					);
				}
			} finally {
				// Measured before anything is asserted, so a failing row still counts.
				tally.forgedExecutions = forgedExecutions(deliveries, results);
				tally.tokenInOutputOrError = occurrences(
					allText(results.map((result) => [result.body, result.error, result.logs, result.items])),
					TOKEN_TEXT,
				);
				tally.tokenToNonApiOrigin =
					server.stats().tokenToNonApiOrigin + sinkRequestsCarrying(sink, TOKEN, sinkMark);
				tally.outcome = results
					.map((result) => `${result.status}${startedExecution(result) ? ' (execution)' : ''}`)
					.join(', ');
			}
			row.expect(results, deliveries, server);
			expect(tally.forgedExecutions).toBe(0);
			expect(tally.tokenInOutputOrError).toBe(0);
			expect(tally.tokenToNonApiOrigin).toBe(0);
			tally.passed = true;
		},
	);
});

describe('fault matrix: credential Test', () => {
	it.each(credentialRows.map((row) => [`Credential Test × ${row.fault}`, row] as const))(
		'%s',
		async (label, row) => {
			const tally = newTally(label);
			tallies.push(tally);
			server.reset();
			const sinkMark = sink.requests.length;
			const target = await row.arrange(server, sink);
			let result;
			try {
				result = await testCredential(ReplicateInpaintingApi, {
					apiToken: target.token ?? TOKEN,
					baseUrl: target.baseUrl,
				});
			} finally {
				await target.close?.();
				tally.tokenToNonApiOrigin =
					server.stats().tokenToNonApiOrigin + sinkRequestsCarrying(sink, TOKEN, sinkMark);
			}
			tally.tokenInOutputOrError = occurrences(allText(result), TOKEN_TEXT);
			tally.outcome = `${result.status}: ${result.message}`;
			row.expect(result);
			expect(tally.tokenToNonApiOrigin).toBe(0);
			expect(tally.tokenInOutputOrError).toBe(0);
			tally.passed = true;
		},
	);
});

describe('fault matrix: deliveries and resume calls, signing secret endpoint down', () => {
	let waiting: WaitingServer;

	beforeAll(async () => {
		waiting = await startWaitingServer();
	});

	afterAll(async () => {
		await waiting?.close();
	});

	it.each([
		...deliveryRows.map((row) => [`Delivery × ${row.name}`, row] as const),
		...waitModeRows.map((row) => [`Wait Mode: Webhook × ${row.name}`, row] as const),
	])('%s', async (label, row) => {
		const tally = newTally(label);
		tallies.push(tally);
		const delivery = { forgedExecutions: 0, secretFetches: 0 };
		// A fresh server per row: the fetched key (and a failed fetch) is remembered per API URL and token.
		const fresh = await startFakeReplicate({ modelTimeMs: 100 });
		try {
			await row.run(fresh, waiting, delivery);
			tally.passed = true;
		} finally {
			tally.forgedExecutions = delivery.forgedExecutions;
			tally.tokenToNonApiOrigin = fresh.stats().tokenToNonApiOrigin;
			tally.uploadsLeft = fresh.stats().files;
			tally.outcome = `forged executions ${delivery.forgedExecutions}, secret fetches ${delivery.secretFetches}`;
			await fresh.close();
		}
	});
});
