/**
 * The Replicate Inpainting Trigger, through n8n-core's WebhookContext (test/harness/webhook.ts):
 * what it answers, and whether n8n would start an execution, for real and forged deliveries.
 */
import { randomBytes } from 'node:crypto';

import { decodePng, startFakeReplicate } from '../../tools/fake-replicate';
import { useFakeReplicate } from '../support/fakeReplicate';
import { createRequests, eventually, runNode, urlInputs } from '../node/support';
import { startWebhookListener } from '../harness';
import {
	activate,
	deliver,
	finishedPrediction,
	secretFetches,
	signedHeaders,
	triggerNode,
} from './support';

const server = useFakeReplicate({ modelTimeMs: 30 });
let succeeded: string;

beforeAll(async () => {
	succeeded = JSON.stringify(await finishedPrediction(server));
});

afterEach(() => {
	expect(server.stats().tokenToNonApiOrigin).toBe(0);
});

function withStatus(body: string, status: string, extra: Record<string, unknown> = {}): string {
	return JSON.stringify({ ...JSON.parse(body), status, ...extra });
}

describe('a correctly signed delivery', () => {
	it('starts one execution with the prediction and its image as binary data, fetching the secret once', async () => {
		const first = await deliver(server, succeeded, signedHeaders(server, succeeded));
		expect(first.status).toBe(200);
		expect(first.body).toEqual({ message: 'Workflow was started' });
		expect(first.started).toBe(true);
		expect(first.workflowData).toHaveLength(1);
		expect(first.items).toHaveLength(1);
		const [item] = first.items;
		const prediction = JSON.parse(succeeded);
		expect(item.json).toMatchObject({
			id: prediction.id,
			status: 'succeeded',
			output: prediction.output,
			output_index: 0,
		});
		const binary = item.binary!.data;
		expect(binary.mimeType).toBe('image/png');
		expect(binary.fileName).toBe(`${prediction.id}-0.png`);
		const png = decodePng(Buffer.from(binary.data, 'base64'));
		expect([png.width, png.height]).toEqual([128, 128]);

		// A second delivery (another id) reuses the cached secret.
		const second = await deliver(server, succeeded, signedHeaders(server, succeeded));
		expect(second.started).toBe(true);
		expect(secretFetches(server)).toHaveLength(1);
		expect(secretFetches(server)[0].headers.authorization).toBe(`Bearer ${server.token}`);
	});

	it("uses the credential's Webhook Signing Secret without asking the API", async () => {
		const result = await deliver(server, succeeded, signedHeaders(server, succeeded), {
			credential: { webhookSigningSecret: server.webhookSecret },
			parameters: { options: { downloadOutputs: false } },
		});
		expect(result.started).toBe(true);
		expect(result.items[0].binary).toBeUndefined();
		expect(result.items[0].json.output).toEqual(JSON.parse(succeeded).output);
		expect(server.requests).toHaveLength(0);
	});

	it('verifies against the raw body, and falls back to the parsed body when the host keeps no raw body', async () => {
		// Same JSON, other bytes: only the raw body matches the signature.
		const spaced = JSON.stringify(JSON.parse(succeeded), null, 2);
		const headers = signedHeaders(server, spaced);
		expect((await deliver(server, spaced, headers)).started).toBe(true);

		const compactHeaders = signedHeaders(server, succeeded);
		const fallback = await deliver(server, succeeded, compactHeaders, {
			rawBody: null,
			parsedBody: JSON.parse(succeeded),
		});
		expect(fallback.started).toBe(true);
	});

	it('accepts a signature list with an old and a current signature (secret rotation)', async () => {
		const headers = signedHeaders(server, succeeded);
		const stale = signedHeaders(server, succeeded, {
			id: headers['webhook-id'],
			timestamp: headers['webhook-timestamp'],
			key: randomBytes(24),
		});
		headers['webhook-signature'] = `${stale['webhook-signature']} ${headers['webhook-signature']}`;
		expect((await deliver(server, succeeded, headers)).started).toBe(true);
	});
});

describe('deliveries that fail verification start nothing', () => {
	it('a forged signature: 401', async () => {
		const result = await deliver(
			server,
			succeeded,
			signedHeaders(server, succeeded, { key: randomBytes(24) }),
		);
		expect(result).toMatchObject({ status: 401, started: false, items: [] });
		expect(result.body).toEqual({ message: 'The webhook-signature does not match the body' });
	});

	it('a body changed after signing: 401', async () => {
		const headers = signedHeaders(server, succeeded);
		const tampered = withStatus(succeeded, 'succeeded', { output: ['https://evil.example/x.png'] });
		expect(await deliver(server, tampered, headers)).toMatchObject({ status: 401, started: false });
	});

	it('a wrong secret in the credential: 401', async () => {
		const wrongSecret = `whsec_${randomBytes(24).toString('base64')}`;
		const result = await deliver(server, succeeded, signedHeaders(server, succeeded), {
			credential: { webhookSigningSecret: wrongSecret },
		});
		expect(result).toMatchObject({ status: 401, started: false });
	});

	it.each([
		['more than 5 minutes old', -301],
		['more than 5 minutes ahead', 301],
	])('a timestamp %s: 401, even correctly signed', async (_, offset) => {
		const timestamp = Math.floor(Date.now() / 1000) + offset;
		const result = await deliver(
			server,
			succeeded,
			signedHeaders(server, succeeded, { timestamp }),
		);
		expect(result).toMatchObject({ status: 401, started: false });
		expect((result.body as { message: string }).message).toMatch(
			/webhook-timestamp is 30\d s away/,
		);
	});

	it('a timestamp just inside the window is accepted', async () => {
		const timestamp = Math.floor(Date.now() / 1000) - 290;
		expect(
			(await deliver(server, succeeded, signedHeaders(server, succeeded, { timestamp }))).started,
		).toBe(true);
	});

	it('a replayed webhook-id: the first starts an execution, the repeat gets 401', async () => {
		const headers = signedHeaders(server, succeeded);
		expect((await deliver(server, succeeded, headers)).started).toBe(true);
		const replay = await deliver(server, succeeded, headers);
		expect(replay).toMatchObject({ status: 401, started: false });
		expect((replay.body as { message: string }).message).toContain('already received');
		// Also with a fresh timestamp and signature (what Replicate's own retry sends).
		const resent = signedHeaders(server, succeeded, { id: headers['webhook-id'] });
		expect(await deliver(server, succeeded, resent)).toMatchObject({ status: 401, started: false });
	});

	it.each(['webhook-id', 'webhook-timestamp', 'webhook-signature'])(
		'a missing %s header: 401',
		async (header) => {
			const headers = signedHeaders(server, succeeded);
			delete headers[header];
			const result = await deliver(server, succeeded, headers);
			expect(result).toMatchObject({
				status: 401,
				started: false,
				body: { message: `Missing header ${header}` },
			});
		},
	);

	it('malformed signature headers: 401', async () => {
		const changes: Array<Record<string, string>> = [
			{ 'webhook-signature': 'v2,abc' },
			{ 'webhook-timestamp': 'yesterday' },
			{ 'webhook-id': 'a b' },
		];
		for (const change of changes) {
			const headers = { ...signedHeaders(server, succeeded), ...change };
			expect(await deliver(server, succeeded, headers)).toMatchObject({
				status: 401,
				started: false,
			});
		}
	});

	it('a malformed body: 400 when correctly signed, 401 when not, 422 from n8n for broken JSON', async () => {
		const notJson = 'prediction done!';
		const signedText = await deliver(server, notJson, {
			...signedHeaders(server, notJson),
			'content-type': 'text/plain',
		});
		expect(signedText).toMatchObject({
			status: 400,
			started: false,
			body: { message: 'The body is not JSON' },
		});

		const noId = JSON.stringify({ status: 'succeeded', output: [] });
		expect(await deliver(server, noId, signedHeaders(server, noId))).toMatchObject({
			status: 400,
			started: false,
		});

		const badStatus = withStatus(succeeded, 'done');
		expect(await deliver(server, badStatus, signedHeaders(server, badStatus))).toMatchObject({
			status: 400,
			started: false,
		});

		const unsigned = await deliver(server, noId, { 'content-type': 'application/json' });
		expect(unsigned).toMatchObject({ status: 401, started: false });

		// n8n parses JSON bodies before the node runs, and answers a parse error itself.
		const broken = '{"id": ';
		expect(await deliver(server, broken, signedHeaders(server, broken))).toMatchObject({
			status: 422,
			started: false,
		});
	});
});

describe('filters', () => {
	it('acknowledges (200) but does not start on a non-final delivery unless asked for its event', async () => {
		const processing = withStatus(succeeded, 'processing', { output: null, completed_at: null });
		const filtered = await deliver(server, processing, signedHeaders(server, processing));
		expect(filtered).toMatchObject({ status: 200, started: false });
		expect(filtered.body).toMatchObject({ received: true, started: false });

		const starting = withStatus(succeeded, 'starting', { output: null });
		expect(
			(
				await deliver(server, starting, signedHeaders(server, starting), {
					parameters: { events: ['logs'] },
				})
			).started,
		).toBe(false);
		const asked = await deliver(server, processing, signedHeaders(server, processing), {
			parameters: { events: ['output', 'completed'] },
		});
		expect(asked.started).toBe(true);
		expect(asked.items).toEqual([{ json: JSON.parse(processing) }]);
		expect(
			(
				await deliver(server, starting, signedHeaders(server, starting), {
					parameters: { events: ['start'] },
				})
			).started,
		).toBe(true);
	});

	it('starts only on succeeded predictions unless Final Statuses is All', async () => {
		const failed = withStatus(succeeded, 'failed', { output: null, error: 'CUDA out of memory' });
		const dropped = await deliver(server, failed, signedHeaders(server, failed));
		expect(dropped).toMatchObject({ status: 200, started: false });

		const kept = await deliver(server, failed, signedHeaders(server, failed), {
			parameters: { statuses: 'all' },
		});
		expect(kept.started).toBe(true);
		expect(kept.items).toHaveLength(1);
		expect(kept.items[0].json).toMatchObject({ status: 'failed', error: 'CUDA out of memory' });
		expect(kept.items[0].binary).toBeUndefined();

		const completedOnly = await deliver(server, succeeded, signedHeaders(server, succeeded), {
			parameters: { events: ['start'] },
		});
		expect(completedOnly.started).toBe(false);
	});
});

describe('downloads and failures', () => {
	it('lays out several outputs like the main node', async () => {
		const four = JSON.stringify(await finishedPrediction(server, { num_outputs: 3 }));
		const result = await deliver(server, four, signedHeaders(server, four), {
			parameters: { options: { outputLayout: 'allOnOneItem', binaryPropertyName: 'image' } },
		});
		expect(result.items).toHaveLength(1);
		expect(Object.keys(result.items[0].binary!).sort()).toEqual(['image', 'image_1', 'image_2']);
	});

	it('a failed download answers 500 (Replicate retries), and the retry of the same id is accepted', async () => {
		server.inject({
			origin: 'output',
			method: 'GET',
			path: /out-0\.png$/,
			kind: 'status',
			status: 503,
			times: 1,
		});
		const headers = signedHeaders(server, succeeded);
		const failed = await deliver(server, succeeded, headers, {
			parameters: { options: { maxRetries: 0 } },
		});
		expect(failed).toMatchObject({ status: 500, started: false });
		expect(failed.error?.message).toMatch(
			/Downloading output 0 of prediction \w+ failed with HTTP 503/,
		);

		const retry = signedHeaders(server, succeeded, { id: headers['webhook-id'] });
		expect((await deliver(server, succeeded, retry)).started).toBe(true);
	});

	it('when the secret cannot be fetched: 503 and no execution; the failure is remembered for 30 s', async () => {
		// Its own server: the first server's secret is cached by now.
		const gateway = await startFakeReplicate({ modelTimeMs: 10 });
		const clock = jest.spyOn(Date, 'now');
		try {
			gateway.inject({
				method: 'GET',
				path: /^\/webhooks\/default\/secret$/,
				kind: 'status',
				status: 404,
				body: { detail: 'Not found' },
				times: 1,
			});
			const body = JSON.stringify(await finishedPrediction(gateway));
			const first = await deliver(gateway, body, signedHeaders(gateway, body));
			expect(first).toMatchObject({ status: 503, started: false, error: undefined });
			expect(first.headers['retry-after']).toBe('30');
			expect((first.body as { message: string }).message).toMatch(
				/^Could not fetch the webhook signing secret: .*404/,
			);
			// Within 30 s: answered 503 again without a second fetch.
			const second = await deliver(gateway, body, signedHeaders(gateway, body));
			expect(second).toMatchObject({ status: 503, started: false });
			expect(secretFetches(gateway)).toHaveLength(1);
			// 31 s later the secret is fetched again (the endpoint works now) and the delivery starts.
			const later = Date.now() + 31_000;
			clock.mockImplementation(() => later);
			const third = await deliver(gateway, body, signedHeaders(gateway, body));
			expect(third.started).toBe(true);
			expect(secretFetches(gateway)).toHaveLength(2);
		} finally {
			clock.mockRestore();
			await gateway.close();
		}
	});

	it('never logs the secret or the token', async () => {
		const result = await deliver(
			server,
			succeeded,
			signedHeaders(server, succeeded, { key: randomBytes(24) }),
		);
		const logs = result.logs.join('\n');
		expect(logs).toContain('Replicate Inpainting Trigger refused a call (401)');
		expect(logs).not.toContain(server.webhookSecret.slice(6));
		expect(logs).not.toContain(server.token);
	});
});

describe('activation', () => {
	it('checks on activation that deliveries can be verified', async () => {
		expect(await activate(server)).toEqual({ existed: false, created: true });
		const broken = await activate(server, {
			credential: { apiToken: 'r8_wrong', baseUrl: `${server.apiUrl}` },
		});
		expect(broken.error?.message).toMatch(/^Could not fetch the webhook signing secret: .*401/);
		const badSecret = await activate(server, {
			credential: { webhookSigningSecret: 'not a secret!' },
		});
		expect(badSecret.error?.message).toContain('is not a signing secret');
	});
});

describe('with Create Only (end to end)', () => {
	it("Replicate's own signed delivery to the trigger's URL starts one execution with the image", async () => {
		const listener = await startWebhookListener(triggerNode(server));
		try {
			const { items } = await runNode(server, {
				operation: 'createOnly',
				...urlInputs(server),
				options: { width: 256, height: 256 },
				webhookUrl: listener.url,
				webhookEvents: ['start', 'completed'],
			});
			expect(items[0].json.status).toBe('starting');
			const [start, completed] = await listener.waitFor(2);
			expect(start).toMatchObject({ status: 200, started: false });
			expect(completed).toMatchObject({ status: 200, started: true });
			expect(completed.items[0].json.id).toBe(items[0].json.id);
			const png = decodePng(Buffer.from(completed.items[0].binary!.data.data, 'base64'));
			expect([png.width, png.height]).toEqual([256, 256]);
			expect(createRequests(server)).toHaveLength(1);
			// The server records an answer once it has read it.
			await eventually(() =>
				server.webhookDeliveries.every((delivery) => delivery.status !== null),
			);
			expect(server.webhookDeliveries.map((delivery) => [delivery.event, delivery.status])).toEqual(
				[
					['start', 200],
					['completed', 200],
				],
			);
		} finally {
			await listener.close();
		}
	});
});
