/**
 * Wait Mode: Webhook through n8n's engine and the harness's waiting-webhook flow
 * (test/harness/waiting.ts), with the test server calling the resume URL as Replicate does.
 */
import { createHmac, randomBytes } from 'node:crypto';

import { WAIT_GRACE_MS } from '../../nodes/ReplicateInpainting/actions/prediction/waitMode/park';
import { itemUrl } from '../../nodes/ReplicateInpainting/actions/prediction/waitMode/resumeUrl';
import { ReplicateInpainting } from '../../nodes/ReplicateInpainting/ReplicateInpainting.node';
import type { WaitingServer, WorkflowRunResult } from '../harness';
import { runWorkflow, startWaitingServer } from '../harness';
import { makeSamplePng } from '../../tools/fake-replicate';
import {
	apiRequests,
	binaryItem,
	createRequests,
	eventually,
	inpaintingWorkflow,
	NODE_NAME,
	park,
	urlInputs,
} from './support';
import { credentialOptions, serverCredential } from '../support/credentials';
import { useFakeReplicate } from '../support/fakeReplicate';
import { modelParameters, NANO_BANANA } from '../support/models';

const server = useFakeReplicate({ modelTimeMs: 300 });
let waiting: WaitingServer;

beforeAll(async () => {
	waiting = await startWaitingServer();
});
afterAll(async () => {
	await waiting?.close();
});

const items = (...prompts: string[]) => prompts.map((prompt) => ({ json: { prompt } }));
const perItemPrompt = { prompt: '={{ $json.prompt }}' };

/** Posts a call signed as Replicate signs (or with `key`) to a prediction's webhook URL. */
async function call(
	url: string,
	body: unknown,
	options: { key?: Buffer; id?: string; timestamp?: number } = {},
) {
	const text = JSON.stringify(body);
	const id = options.id ?? `msg_test${randomBytes(8).toString('hex')}`;
	const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
	const key = options.key ?? Buffer.from(server.webhookSecret.replace(/^whsec_/, ''), 'base64');
	const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${text}`).digest('base64');
	const response = await fetch(url, {
		method: 'POST',
		headers: {
			'content-type': 'application/json',
			'webhook-id': id,
			'webhook-timestamp': timestamp,
			'webhook-signature': `v1,${signature}`,
		},
		body: text,
	});
	return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

function webhookOf(createIndex = 0): string {
	return (createRequests(server)[createIndex].json as { webhook: string }).webhook;
}

describe('Wait Mode: Webhook', () => {
	it('parks with one create per item (resume URL, completed, Cancel-After, no hold) and resumes with the image', async () => {
		const { executionId, parked } = await park(waiting, server, urlInputs(server));
		expect(parked.status).toBe('waiting');
		expect(waiting.waitTill(executionId)!.getTime()).toBeGreaterThanOrEqual(
			Date.now() + 600_000 + WAIT_GRACE_MS - 30_000,
		);
		const [create] = createRequests(server);
		const body = create.json as { webhook: string; webhook_events_filter: string[] };
		expect(body.webhook.startsWith(`${waiting.baseUrl}/${executionId}?`)).toBe(true);
		expect(body.webhook_events_filter).toEqual(['completed']);
		expect(create.headers['cancel-after']).toBe('600s');
		expect(create.headers.prefer).toBeUndefined();

		const done = await waiting.finished(executionId);
		expect(done.status).toBe('success');
		const [item] = done.items(NODE_NAME);
		expect(item.json.status).toBe('succeeded');
		expect(item.pairedItem).toEqual({ item: 0 });
		// A succeeded item carries `error: null`: no failure is logged for it.
		expect(done.logs.filter((line) => /item\(s\) failed/.test(line))).toEqual([]);
		const served = await fetch((item.json.output as string[])[0]).then(async (r) =>
			Buffer.from(await r.arrayBuffer()),
		);
		expect((await done.binaryBuffer(item)).equals(served)).toBe(true);
		expect(createRequests(server)).toHaveLength(1);
	});

	it('any model parks and resumes the same way: nano-banana with two binary images in a list', async () => {
		const photo = makeSamplePng(48, 48, 'image');
		const inputItems = [
			binaryItem({
				data: { content: photo, fileName: 'a.png', mimeType: 'image/png' },
				data_1: { content: photo, fileName: 'b.png', mimeType: 'image/png' },
			}),
		];
		const { executionId, parked } = await park(
			waiting,
			server,
			modelParameters(NANO_BANANA, {
				prompt: 'put them side by side',
				image_input: ['data', 'data_1'],
			}),
			{ inputItems },
		);
		expect(parked.status).toBe('waiting');
		const body = createRequests(server)[0].json as {
			version: string;
			input: { image_input: string[] };
		};
		expect(body.version).toBe(NANO_BANANA);
		expect(body.input.image_input).toHaveLength(2);
		const done = await waiting.finished(executionId);
		expect(done.status).toBe('success');
		const [item] = done.items(NODE_NAME);
		expect(item.json).toMatchObject({ status: 'succeeded', model: NANO_BANANA });
		expect(item.binary?.data.mimeType).toBe('image/png');
		expect(createRequests(server)).toHaveLength(1);
	});

	it('many items: calls out of order and duplicates are recorded, one resume, output in input order', async () => {
		server.scriptNextPrediction({ modelTimeMs: 2500 });
		server.scriptNextPrediction({ modelTimeMs: 100 });
		server.scriptNextPrediction({ modelTimeMs: 1200 });
		const { executionId } = await park(
			waiting,
			server,
			{ ...urlInputs(server), ...perItemPrompt },
			{ inputItems: items('a', 'b', 'c') },
		);
		expect(createRequests(server)).toHaveLength(3);
		// The first call (item 1) is answered without resuming; a replay of it is refused, a
		// duplicate with a new webhook-id changes nothing either.
		expect(
			await eventually(() => waiting.calls.some((c) => c.executionId === executionId), 10_000),
		).toBe(true);
		const first = waiting.calls.find((c) => c.executionId === executionId)!;
		expect(first).toMatchObject({ status: 200, resumed: false });
		const item1 = [...server.predictions.values()].find(
			(p) => (p.input as { prompt: string }).prompt === 'b',
		)!;
		const replayId = server.webhookDeliveries.find((d) => d.predictionId === item1.id)!.webhookId;
		expect((await call(webhookOf(1), item1, { id: replayId })).status).toBe(401);
		expect(await call(webhookOf(1), item1)).toMatchObject({
			status: 200,
			body: { resumed: false },
		});
		expect(waiting.status(executionId)).toBe('waiting');

		const done = await waiting.finished(executionId);
		expect(done.status).toBe('success');
		const ours = waiting.calls.filter((c) => c.executionId === executionId);
		expect(ours.filter((c) => c.resumed)).toHaveLength(1);
		expect(ours.at(-1)!.resumed).toBe(true);
		const output = done.items(NODE_NAME);
		expect(output.map((item) => (item.json.input as { prompt: string }).prompt)).toEqual([
			'a',
			'b',
			'c',
		]);
		expect(output.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
		expect(output.every((item) => item.binary?.data?.mimeType === 'image/png')).toBe(true);
		expect(createRequests(server)).toHaveLength(3);
		// After the resume a further call meets n8n's 409 (the execution has finished).
		expect((await call(webhookOf(0), item1)).status).toBe(409);
	});

	it('forged, stale, unsigned and replayed calls get 401 and leave the execution waiting', async () => {
		server.scriptNextPrediction({ modelTimeMs: 1500 });
		const { executionId } = await park(waiting, server, urlInputs(server));
		const url = webhookOf();
		const prediction = [...server.predictions.values()].at(-1)!;
		const fake = { ...prediction, status: 'succeeded', output: [server.sampleImageUrl] };
		const forged = await call(url, fake, { key: randomBytes(24) });
		const stale = await call(url, fake, { timestamp: Math.floor(Date.now() / 1000) - 600 });
		const unsigned = await fetch(url, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify(fake),
		});
		expect([forged.status, stale.status, unsigned.status]).toEqual([401, 401, 401]);
		expect(forged.body.message).toBe('The webhook-signature does not match the body');
		expect(waiting.status(executionId)).toBe('waiting');
		expect(
			waiting.calls.filter((c) => c.executionId === executionId).every((c) => !c.resumed),
		).toBe(true);

		const done = await waiting.finished(executionId);
		const [item] = done.items(NODE_NAME);
		expect(item.json.status).toBe('succeeded');
		expect(item.json.output).not.toEqual([server.sampleImageUrl]);
	});

	it('at the Timeout Replicate ends the prediction (Cancel-After) and the item reports it with its ID', async () => {
		server.scriptNextPrediction({ modelTimeMs: 30_000 });
		const { executionId } = await park(
			waiting,
			server,
			{ ...urlInputs(server), options: { timeout: 2 } },
			{ continueOnFail: true },
		);
		expect(createRequests(server)[0].headers['cancel-after']).toBe('2s');
		const done = await waiting.finished(executionId, 20_000);
		const [item] = done.items(NODE_NAME);
		expect(item.json.error).toMatch(/^Prediction \w+ did not finish within the timeout of 2 s$/);
		expect(server.predictions.get(item.json.predictionId as string)?.status).toMatch(
			/^(canceled|aborted)$/,
		);
	});

	it('Continue On Fail: a failed prediction and an invalid item become error items in input order', async () => {
		server.scriptNextPrediction({ modelTimeMs: 100 });
		server.scriptNextPrediction({ outcome: 'failed', error: 'CUDA out of memory' });
		const { executionId } = await park(
			waiting,
			server,
			{
				...urlInputs(server),
				...perItemPrompt,
				options: { width: '={{ $json.prompt === "bad" ? 500 : 512 }}' },
			},
			{ inputItems: items('a', 'b', 'bad'), continueOnFail: true },
		);
		expect(createRequests(server)).toHaveLength(2);
		const output = (await waiting.finished(executionId)).items(NODE_NAME);
		expect(output.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
		expect(output[0].json.status).toBe('succeeded');
		expect(output[1].json).toMatchObject({
			error: expect.stringMatching(/^Prediction \w+ failed: CUDA out of memory$/),
			predictionId: expect.any(String),
		});
		expect(output[2].json.error).toMatch(/^Invalid input \(item 2\): Width \(width\): 500/);
	});

	it('Continue On Fail and no prediction could be created: no park, the error items at once', async () => {
		server.inject({
			method: 'POST',
			path: /^\/predictions$/,
			kind: 'status',
			status: 422,
			body: { title: 'Invalid version or not permitted', detail: 'nope', status: 422 },
		});
		const { parked } = await park(waiting, server, urlInputs(server), { continueOnFail: true });
		expect(parked.status).toBe('success');
		expect(parked.items(NODE_NAME)).toEqual([
			{
				json: expect.objectContaining({ error: expect.stringMatching(/422/) }),
				pairedItem: { item: 0 },
			},
		]);
	});

	it('without Continue On Fail a failed item is an error item too (n8n cannot fail a resumed execution), and is logged', async () => {
		server.scriptNextPrediction({ outcome: 'failed', error: 'CUDA out of memory' });
		const { executionId } = await park(waiting, server, urlInputs(server));
		const done = await waiting.finished(executionId);
		expect(done.status).toBe('success');
		expect(done.items(NODE_NAME)[0].json.error).toMatch(/failed: CUDA out of memory$/);
		expect(done.logs.join('\n')).toContain('1 item(s) failed');
	});

	it('On Error "continue (using error output)": both outputs exactly as in poll mode', async () => {
		const outputsOf = (result: WorkflowRunResult) =>
			[0, 1].map((output) =>
				result.items(NODE_NAME, output).map((item) => ({
					pairedItem: item.pairedItem,
					status: item.json.status,
					error: typeof item.json.error === 'string',
				})),
			);
		const script = () => {
			server.scriptNextPrediction({ modelTimeMs: 100 });
			server.scriptNextPrediction({ outcome: 'failed', error: 'boom' });
		};
		script();
		const { executionId } = await park(
			waiting,
			server,
			{ ...urlInputs(server), ...perItemPrompt },
			{ inputItems: items('a', 'b'), continueOnFail: 'errorOutput' },
		);
		const webhookMode = outputsOf(await waiting.finished(executionId));
		script();
		const workflow = inpaintingWorkflow({
			...urlInputs(server),
			...perItemPrompt,
			options: { maxConcurrent: 1 },
		});
		workflow.nodes[1].onError = 'continueErrorOutput';
		const pollMode = await runWorkflow({
			workflow,
			nodeTypes: [ReplicateInpainting],
			...credentialOptions(serverCredential(server)),
			inputItems: items('a', 'b'),
		});
		expect(webhookMode).toEqual(outputsOf(pollMode));
		expect(webhookMode[0].length + webhookMode[1].length).toBe(2);
	});

	it.each([
		['itemPerImage', 2, ['data']],
		['allOnOneItem', 1, ['data', 'data_1']],
	])('output layout %s: as poll mode', async (layout, count, properties) => {
		const { executionId } = await park(waiting, server, {
			...urlInputs(server),
			options: { numOutputs: 2, outputLayout: layout },
		});
		const output = (await waiting.finished(executionId)).items(NODE_NAME);
		expect(output).toHaveLength(count);
		expect(Object.keys(output[0].binary ?? {})).toEqual(properties);
	});

	it("n8n's own wait limit runs no node code: the input passes through (why it is set 10 min after the Timeout)", async () => {
		server.scriptNextPrediction({ modelTimeMs: 60_000 });
		const { executionId } = await park(waiting, server, urlInputs(server), {
			inputItems: items('untouched'),
		});
		const passed = await waiting.reachWaitTill(executionId);
		expect(passed.items(NODE_NAME).map((item) => item.json)).toEqual([{ prompt: 'untouched' }]);
	});

	it('a Stop of the waiting execution: later calls get 409, the prediction runs to its end', async () => {
		server.scriptNextPrediction({ modelTimeMs: 800 });
		const { executionId } = await park(waiting, server, urlInputs(server));
		await waiting.stop(executionId);
		expect(
			await eventually(() => waiting.calls.some((c) => c.executionId === executionId), 10_000),
		).toBe(true);
		expect(waiting.calls.find((c) => c.executionId === executionId)!.status).toBe(409);
		expect(waiting.status(executionId)).toBe('canceled');
	});
});

describe('Wait Mode: Webhook, the run around the park', () => {
	it("logs the run's warnings as poll mode does (a create whose answer was lost, then adopted)", async () => {
		server.inject({ method: 'POST', path: /\/predictions$/, kind: 'reset-before-response' });
		const { executionId, parked } = await park(waiting, server, urlInputs(server));
		expect(parked.status).toBe('waiting');
		expect(
			parked.logs.filter((line) => /the answer to its create was lost/.test(line)),
		).toHaveLength(1);
		expect(createRequests(server)).toHaveLength(1);
		expect((await waiting.finished(executionId)).status).toBe('success');
	});

	it('fails before any create when the resume URL is on loopback and the API is not', async () => {
		const { parked } = await park(waiting, server, urlInputs(server), {
			credential: { baseUrl: 'https://replicate.invalid/v1' },
		});
		expect(parked.status).toBe('error');
		expect(parked.error?.message).toMatch(
			/^Wait Mode Webhook: Replicate cannot reach this execution's resume URL \(http:\/\/127\.0\.0\.1:\d+\/…\)$/,
		);
		expect((parked.error as { description?: string }).description).toMatch(/Set WEBHOOK_URL/);
		expect(server.requests).toHaveLength(0);
	});

	it('a park that fails at a later create deletes every file it uploaded and cancels what it started', async () => {
		const file = (name: string) => ({
			content: makeSamplePng(64, 64, name === 'm.png' ? 'mask' : 'image'),
			fileName: name,
			mimeType: 'image/png',
		});
		const inputItems = [0, 1].map(() => binaryItem({ data: file('a.png'), mask: file('m.png') }));
		const PROMPT = 'a park refused at its second create';
		server.set({ modelTimeMs: 30_000 });
		// The second item's create is refused.
		server.inject({ method: 'POST', path: /\/predictions$/, kind: 'status', status: 422, skip: 1 });
		const { parked } = await park(
			waiting,
			server,
			{
				prompt: PROMPT,
				imageSource: 'binary',
				maskSource: 'binary',
				options: { uploadRoute: 'upload' },
			},
			{ inputItems },
		);
		expect(parked.status).toBe('error');
		const uploads = apiRequests(server).filter(
			(request) => request.method === 'POST' && /\/files$/.test(request.path),
		);
		expect(uploads).toHaveLength(4);
		expect(server.stats().files).toBe(0);
		// The first item's prediction (the second was refused) is cancelled.
		const statuses = () =>
			[...server.predictions.values()]
				.filter((prediction) => (prediction.input as { prompt: string }).prompt === PROMPT)
				.map((prediction) => prediction.status);
		await eventually(() => statuses().join() === 'canceled', 5_000);
		expect(statuses()).toEqual(['canceled']);
	});
});

describe('Wait Mode: Webhook, a call must belong to its execution', () => {
	it("a genuine delivery of another execution, posted to this one's URL (as it is, or naming another item), is refused and changes nothing", async () => {
		server.set({ modelTimeMs: 1_500 });
		const prompt = (text: string) => ({ ...urlInputs(server), prompt: text });
		await park(waiting, server, prompt('execution A'));
		const b = await park(waiting, server, prompt('execution B'));
		const predictionA = [...server.predictions.values()].find(
			(prediction) => (prediction.input as { prompt: string }).prompt === 'execution A',
		)!;
		// The body is A's prediction as Replicate signs it (its webhook is A's URL).
		expect(await call(webhookOf(1), predictionA)).toMatchObject({ status: 400 });
		expect(await call(itemUrl(webhookOf(1), 1), predictionA)).toMatchObject({ status: 400 });
		expect(waiting.status(b.executionId)).toBe('waiting');

		const done = await waiting.finished(b.executionId);
		expect(done.status).toBe('success');
		const [item] = done.items(NODE_NAME);
		expect((item.json.input as { prompt: string }).prompt).toBe('execution B');
	});
});
