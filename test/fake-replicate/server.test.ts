import async_hooks from 'node:async_hooks';
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';

import { Agent, request } from 'undici';

import {
	decodePng,
	encodePng,
	ihdrChunk,
	inpaint,
	makeSampleImage,
	makeSamplePng,
	MASK_THRESHOLD,
	MODEL_VERSION_ID,
	parseGoDuration,
	pngChunk,
	PNG_SIGNATURE,
	prepareInputs,
	resizeNearest,
	startFakeReplicate,
	type FakeReplicate,
	type Prediction,
	type RasterImage,
} from '../../tools/fake-replicate';

const VERSION = `stability-ai/stable-diffusion-inpainting:${MODEL_VERSION_ID}`;
const TOKEN = 'r8_fake_token_for_tests';

const agent = new Agent({ keepAliveTimeout: 1000 });

interface CallOptions {
	method?: string;
	body?: unknown;
	headers?: Record<string, string>;
	token?: string | null;
}

interface CallResult {
	status: number;
	headers: Record<string, string | string[] | undefined>;
	text: string;
	json: any;
	elapsedMs: number;
}

async function call(url: string, options: CallOptions = {}): Promise<CallResult> {
	const headers: Record<string, string> = { ...options.headers };
	const token = options.token === undefined ? TOKEN : options.token;
	if (token !== null) headers.authorization = `Bearer ${token}`;
	let body: string | Buffer | undefined;
	if (Buffer.isBuffer(options.body) || typeof options.body === 'string') body = options.body;
	else if (options.body !== undefined) {
		body = JSON.stringify(options.body);
		headers['content-type'] ??= 'application/json';
	}
	const started = Date.now();
	const response = await request(url, {
		method: (options.method ?? (body === undefined ? 'GET' : 'POST')) as 'GET',
		headers,
		body,
		dispatcher: agent,
	});
	const text = await response.body.text();
	let json: unknown;
	try {
		json = JSON.parse(text);
	} catch {
		json = undefined;
	}
	return {
		status: response.statusCode,
		headers: response.headers,
		text,
		json,
		elapsedMs: Date.now() - started,
	};
}

async function download(
	url: string,
	headers: Record<string, string> = {},
): Promise<{ status: number; bytes: Buffer; headers: Record<string, unknown> }> {
	const response = await request(url, { headers, dispatcher: agent });
	return {
		status: response.statusCode,
		bytes: Buffer.from(await response.body.arrayBuffer()),
		headers: response.headers,
	};
}

function dataUri(png: Buffer): string {
	return `data:image/png;base64,${png.toString('base64')}`;
}

function createBody(input: Record<string, unknown>, extra: Record<string, unknown> = {}) {
	return { version: VERSION, input, ...extra };
}

async function waitUntil<T>(
	probe: () => Promise<T> | T,
	done: (value: T) => boolean,
	timeoutMs = 5000,
): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await probe();
		if (done(value) || Date.now() > deadline) return value;
		await new Promise((r) => setTimeout(r, 20));
	}
}

async function poll(fake: FakeReplicate, id: string): Promise<Prediction> {
	const terminal = ['succeeded', 'failed', 'canceled', 'aborted'];
	const result = await waitUntil(
		() => call(`${fake.apiUrl}/predictions/${id}`),
		(r) => terminal.includes(r.json?.status),
	);
	return result.json as Prediction;
}

/** Asserts white-masked pixels were repainted and all others kept from the (resized) input. */
function expectInpainted(out: RasterImage, inputRgb: Buffer, maskLuma: Buffer): void {
	let masked = 0;
	let repainted = 0;
	let keptWrong = 0;
	for (let i = 0; i < out.width * out.height; i++) {
		const same =
			out.data[i * 3] === inputRgb[i * 3] &&
			out.data[i * 3 + 1] === inputRgb[i * 3 + 1] &&
			out.data[i * 3 + 2] === inputRgb[i * 3 + 2];
		if (maskLuma[i] > MASK_THRESHOLD) {
			masked++;
			if (!same) repainted++;
		} else if (!same) keptWrong++;
	}
	expect(masked).toBeGreaterThan(0);
	expect(repainted / masked).toBeGreaterThan(0.95);
	expect(keptWrong).toBe(0);
}

describe('fake Replicate server', () => {
	let fake: FakeReplicate;

	beforeAll(async () => {
		fake = await startFakeReplicate({ modelTimeMs: 60, startDelayMs: 10 });
	});
	afterEach(() => {
		fake.reset();
		fake.set({
			modelTimeMs: 60,
			startDelayMs: 10,
			retentionMs: 3_600_000,
			honourPreferWait: true,
			filesEndpoint: true,
			pageSize: 100,
		});
	});
	afterAll(async () => {
		await fake.close();
		await agent.close();
	});

	test('every API route needs the Bearer token and answers problem JSON', async () => {
		for (const token of [null, 'wrong', `${TOKEN}x`]) {
			const r = await call(`${fake.apiUrl}/account`, { token });
			expect(r.status).toBe(401);
			expect(r.headers['content-type']).toBe('application/problem+json');
			expect(r.json).toEqual({
				title: 'Unauthenticated',
				detail: 'You did not pass a valid authentication token',
				status: 401,
			});
		}
		const create = await call(`${fake.apiUrl}/predictions`, { token: null, body: createBody({}) });
		expect(create.status).toBe(401);
		const tokenScheme = await request(`${fake.apiUrl}/account`, {
			headers: { authorization: `Token ${TOKEN}` },
			dispatcher: agent,
		});
		await tokenScheme.body.text();
		expect(tokenScheme.statusCode).toBe(401);

		const account = await call(`${fake.apiUrl}/account`);
		expect(account.status).toBe(200);
		expect(account.json).toEqual({
			type: 'user',
			username: 'fake',
			name: 'Fake Replicate',
			github_url: null,
		});
		expect(fake.stats().creates).toBe(0);
	});

	test('Prefer: wait returns the finished prediction with real inpainted PNG outputs', async () => {
		const image = makeSamplePng(128, 96, 'image');
		const mask = makeSamplePng(128, 96, 'mask');
		const r = await call(`${fake.apiUrl}/predictions`, {
			headers: { prefer: 'wait' },
			body: createBody({
				image: dataUri(image),
				mask: dataUri(mask),
				width: 256,
				height: 192,
				num_outputs: 2,
				seed: 42,
				prompt: 'a cat',
			}),
		});
		expect(r.status).toBe(201);
		const p = r.json as Prediction;
		expect(p.status).toBe('succeeded');
		expect(p.id).toMatch(/^[a-z0-9]{26}$/);
		expect(p.version).toBe(MODEL_VERSION_ID);
		expect(p.model).toBe('stability-ai/stable-diffusion-inpainting');
		expect(p.source).toBe('api');
		expect(p.input).toMatchObject({
			width: 256,
			height: 192,
			num_outputs: 2,
			seed: 42,
			num_inference_steps: 50,
			guidance_scale: 7.5,
			scheduler: 'DPMSolverMultistep',
			disable_safety_checker: false,
		});
		expect(p.urls.get).toBe(`${fake.apiUrl}/predictions/${p.id}`);
		expect(p.urls.cancel).toBe(`${fake.apiUrl}/predictions/${p.id}/cancel`);
		expect(p.metrics.predict_time).toBeGreaterThan(0);
		expect(p.started_at && p.completed_at).toBeTruthy();
		expect(p.logs).toContain('Using seed: 42');
		expect(p.output).toEqual([0, 1].map((k) => `${fake.outputOrigin}/${p.id}/out-${k}.png`));

		// The expected pixels: the inputs resized nearest-neighbour to 256×192.
		const inputRgb = resizeNearest(decodePng(image).data, 128, 96, 3, 256, 192);
		const maskLuma = resizeNearest(decodePng(mask).data, 128, 96, 1, 256, 192);
		const outputs: Buffer[] = [];
		for (const url of p.output ?? []) {
			const file = await download(url);
			expect(file.status).toBe(200);
			expect(file.headers['content-type']).toBe('image/png');
			expect(Number(file.headers['content-length'])).toBe(file.bytes.length);
			const decoded = decodePng(file.bytes);
			expect([decoded.width, decoded.height, decoded.channels]).toEqual([256, 192, 3]);
			expectInpainted(decoded, inputRgb, maskLuma);
			outputs.push(file.bytes);
		}
		expect(outputs[0].equals(outputs[1])).toBe(false);
		// No API token ever went to the output origin.
		const outputRequests = fake.requests.filter((q) => q.origin === 'output');
		expect(outputRequests).toHaveLength(2);
		expect(outputRequests.every((q) => q.headers.authorization === undefined)).toBe(true);
		expect(fake.stats().tokenToNonApiOrigin).toBe(0);
	});

	test('URL inputs on 127.0.0.1 are fetched; resizing and the crude model agree with the library functions', async () => {
		const r = await call(`${fake.apiUrl}/predictions`, {
			headers: { prefer: 'wait=10' },
			body: createBody({
				image: fake.sampleImageUrl,
				mask: fake.sampleMaskUrl,
				width: 64,
				height: 64,
				seed: 7,
			}),
		});
		expect(r.json.status).toBe('succeeded');
		const file = await download(r.json.output[0]);
		const prepared = prepareInputs(
			makeSamplePng(512, 512, 'image'),
			makeSamplePng(512, 512, 'mask'),
			64,
			64,
		);
		const expected = inpaint(prepared, {
			prompt: 'a vision of paradise. unreal engine',
			negativePrompt: '',
			seed: 7,
			index: 0,
		});
		expect(decodePng(file.bytes).data.equals(expected.data)).toBe(true);
		const fetched = fake.requests.filter(
			(q) => q.origin === 'output' && q.path.startsWith('/samples/'),
		);
		expect(fetched.map((q) => q.path).sort()).toEqual(['/samples/image.png', '/samples/mask.png']);
	});

	test('Prefer: wait=1 with a slow model answers after ~1 s with the prediction as it stands', async () => {
		fake.set({ modelTimeMs: 5000 });
		const r = await call(`${fake.apiUrl}/predictions`, {
			headers: { prefer: 'wait=1' },
			body: createBody({ image: fake.sampleImageUrl, mask: fake.sampleMaskUrl }),
		});
		expect(r.status).toBe(201);
		expect(['starting', 'processing']).toContain(r.json.status);
		expect(r.json.output).toBeNull();
		expect(r.elapsedMs).toBeGreaterThanOrEqual(950);
		expect(r.elapsedMs).toBeLessThan(2500);
		const canceled = await call(`${fake.apiUrl}/predictions/${r.json.id}/cancel`, {
			method: 'POST',
		});
		expect(canceled.status).toBe(200);
		expect(canceled.json.status).toBe('canceled');
		// Canceling a terminal prediction changes nothing.
		const again = await call(`${fake.apiUrl}/predictions/${r.json.id}/cancel`, { method: 'POST' });
		expect(again.json.status).toBe('canceled');
	});

	test("while processing, logs grow by tqdm's progress lines: one per finished step, at most every 100 ms", async () => {
		fake.set({ modelTimeMs: 1000 });
		const r = await call(`${fake.apiUrl}/predictions`, {
			body: createBody({
				image: fake.sampleImageUrl,
				mask: fake.sampleMaskUrl,
				seed: 7,
				num_inference_steps: 20,
			}),
		});
		const seen: string[] = [];
		const done = await waitUntil(
			() => call(`${fake.apiUrl}/predictions/${r.json.id}`),
			(answer) => {
				seen.push(answer.json.logs);
				return answer.json.status === 'succeeded';
			},
		);
		const lines = (done.json.logs as string).trimEnd().split('\n');
		// 50 ms per step: tqdm prints every second step, the last one with the finish.
		const steps = [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20];
		expect(lines).toEqual([
			'Using seed: 7',
			...steps.map((step) => expect.stringContaining(` ${step}/20 [`)),
		]);
		expect(lines[1]).toBe('  0%|          | 0/20 [00:00<?, ?it/s]');
		expect(lines[6]).toBe(' 50%|█████     | 10/20 [00:00<00:00, 20.00it/s]');
		expect(lines[11]).toBe('100%|██████████| 20/20 [00:01<00:00, 20.00it/s]');
		// The answers in between showed the bar growing, not only its start and end.
		const shown = new Set(seen.map((logs) => logs.trimEnd().split('\n').length));
		expect(shown.size).toBeGreaterThanOrEqual(5);
	});

	test('without Prefer the create answers at once with starting; bad Prefer values are 400', async () => {
		const r = await call(`${fake.apiUrl}/predictions`, {
			body: createBody({ image: fake.sampleImageUrl, mask: fake.sampleMaskUrl }),
		});
		expect(r.status).toBe(201);
		expect(r.json.status).toBe('starting');
		expect((await poll(fake, r.json.id)).status).toBe('succeeded');
		for (const prefer of ['wait=0', 'wait=61', 'wait=abc', 'respond-async']) {
			const bad = await call(`${fake.apiUrl}/predictions`, {
				headers: { prefer },
				body: createBody({ image: fake.sampleImageUrl, mask: fake.sampleMaskUrl }),
			});
			expect(bad.status).toBe(400);
		}
		expect(fake.stats().creates).toBe(1);
	});

	test('Cancel-After aborts before processing and cancels while processing', async () => {
		fake.set({ startDelayMs: 400, modelTimeMs: 2000 });
		const early = await call(`${fake.apiUrl}/predictions`, {
			headers: { 'cancel-after': '100ms', prefer: 'wait=5' },
			body: createBody({ image: fake.sampleImageUrl, mask: fake.sampleMaskUrl }),
		});
		expect(early.json.status).toBe('aborted');
		expect(early.json.started_at).toBeNull();
		expect(Date.parse(early.json.deadline) - Date.parse(early.json.created_at)).toBe(100);

		fake.set({ startDelayMs: 10 });
		const late = await call(`${fake.apiUrl}/predictions`, {
			headers: { 'cancel-after': '0.3s', prefer: 'wait=5' },
			body: createBody({ image: fake.sampleImageUrl, mask: fake.sampleMaskUrl }),
		});
		expect(late.json.status).toBe('canceled');
		expect(late.json.started_at).not.toBeNull();
		expect(late.elapsedMs).toBeLessThan(1500);

		const bad = await call(`${fake.apiUrl}/predictions`, {
			headers: { 'cancel-after': '10 minutes' },
			body: createBody({}),
		});
		expect(bad.status).toBe(400);
		expect(parseGoDuration('1h30m')).toBe(5_400_000);
		expect(parseGoDuration('500ms')).toBe(500);
		expect(parseGoDuration('1.5s')).toBe(1500);
		expect(parseGoDuration('90')).toBeNull();
	});

	test('invalid input is 422 with invalid_fields', async () => {
		const r = await call(`${fake.apiUrl}/predictions`, {
			body: createBody({
				image: fake.sampleImageUrl,
				mask: fake.sampleMaskUrl,
				width: 500,
				num_outputs: 5,
				strength: 0.8,
			}),
		});
		expect(r.status).toBe(422);
		expect(r.headers['content-type']).toBe('application/problem+json');
		expect(r.json.title).toBe('Input validation failed');
		expect(r.json.status).toBe(422);
		const fields = (
			r.json.invalid_fields as Array<{ type: string; field: string; description: string }>
		).map((f) => [f.field, f.type]);
		expect(fields).toEqual(
			expect.arrayContaining([
				['input.width', 'enum'],
				['input.num_outputs', 'number_lte'],
				['input.strength', 'additional_property_not_allowed'],
			]),
		);
		expect(r.json.detail).toContain('input.width');

		const types = await call(`${fake.apiUrl}/predictions`, {
			body: createBody({
				image: 'not a url',
				seed: null,
				guidance_scale: '7.5',
				scheduler: 'EULER',
				disable_safety_checker: 'false',
				num_inference_steps: 0,
			}),
		});
		expect(types.status).toBe(422);
		const byField = Object.fromEntries(
			(types.json.invalid_fields as Array<{ type: string; field: string }>).map((f) => [
				f.field,
				f.type,
			]),
		);
		expect(byField).toEqual({
			'input.image': 'format',
			'input.mask': 'required',
			'input.seed': 'invalid_type',
			'input.guidance_scale': 'invalid_type',
			'input.scheduler': 'enum',
			'input.disable_safety_checker': 'invalid_type',
			'input.num_inference_steps': 'number_gte',
		});

		const notJson = await call(`${fake.apiUrl}/predictions`, {
			body: '{"version": ',
			headers: { 'content-type': 'application/json' },
		});
		expect(notJson.status).toBe(400);
		expect(fake.stats().creates).toBe(0);
	});

	test('unknown versions are 422 Invalid version or not permitted; both version forms work', async () => {
		const wrong = [
			`stability-ai/stable-diffusion-inpainting:${'0'.repeat(64)}`,
			'stability-ai/stable-diffusion-inpainting',
			`other/model:${MODEL_VERSION_ID}`,
			undefined,
		];
		for (const version of wrong) {
			const r = await call(`${fake.apiUrl}/predictions`, {
				body: { version, input: { image: fake.sampleImageUrl, mask: fake.sampleMaskUrl } },
			});
			expect(r.status).toBe(422);
			expect(r.json.title).toBe('Invalid version or not permitted');
		}
		const bare = await call(`${fake.apiUrl}/predictions`, {
			body: {
				version: MODEL_VERSION_ID,
				input: { image: fake.sampleImageUrl, mask: fake.sampleMaskUrl },
			},
		});
		expect(bare.status).toBe(201);
	});

	test('bad inputs fail the prediction, never reaching the internet', async () => {
		const cases: Array<[Record<string, unknown>, RegExp]> = [
			[
				{
					image: dataUri(Buffer.from('\xff\xd8\xff\xe0 not really a jpeg', 'latin1')),
					mask: fake.sampleMaskUrl,
				},
				/^cannot identify image file 'image'/,
			],
			[
				{ image: 'data:image/png;base64,AAAA', mask: fake.sampleMaskUrl },
				/^cannot identify image file 'image'/,
			],
			[
				{ image: fake.sampleImageUrl, mask: 'https://replicate.delivery/pbxt/x/mask.png' },
				/fetches only 127\.0\.0\.1/,
			],
			[{ image: `${fake.outputOrigin}/samples/missing.png`, mask: fake.sampleMaskUrl }, /HTTP 404/],
		];
		for (const [input, error] of cases) {
			const r = await call(`${fake.apiUrl}/predictions`, {
				headers: { prefer: 'wait=5' },
				body: createBody(input),
			});
			expect(r.json.status).toBe('failed');
			expect(r.json.error).toMatch(error);
			expect(r.json.output).toBeNull();
		}
	});

	test('the API can be served under a gateway prefix that ignores Prefer and has no /files', async () => {
		const gateway = await startFakeReplicate({
			prefix: '/replicate/v1',
			honourPreferWait: false,
			filesEndpoint: false,
			modelTimeMs: 300,
		});
		try {
			expect(gateway.apiUrl).toBe(`${gateway.apiOrigin}/replicate/v1`);
			const r = await call(`${gateway.apiUrl}/predictions`, {
				headers: { prefer: 'wait=60' },
				body: createBody({ image: gateway.sampleImageUrl, mask: gateway.sampleMaskUrl }),
			});
			expect(r.status).toBe(201);
			expect(r.json.status).toBe('starting');
			expect(r.elapsedMs).toBeLessThan(1000);
			expect(r.json.urls.get).toBe(`${gateway.apiOrigin}/replicate/v1/predictions/${r.json.id}`);
			expect((await poll(gateway, r.json.id)).status).toBe('succeeded');
			expect((await call(`${gateway.apiOrigin}/v1/predictions/${r.json.id}`)).status).toBe(404);
			expect((await call(`${gateway.apiUrl}/files`)).status).toBe(404);
			expect((await call(`${gateway.apiUrl}/files`, { method: 'POST', body: 'x' })).status).toBe(
				404,
			);
		} finally {
			await gateway.close();
		}
	});

	test('files: multipart upload, use as input, list, delete', async () => {
		const image = makeSamplePng(64, 64, 'image');
		const form = new FormData();
		form.append('content', new Blob([image], { type: 'image/png' }), 'photo.png');
		form.append('filename', 'photo.png');
		form.append('type', 'image/png');
		form.append('metadata', JSON.stringify({ purpose: 'test' }));
		const upload = await fetch(`${fake.apiUrl}/files`, {
			method: 'POST',
			body: form,
			headers: { authorization: `Bearer ${TOKEN}` },
		});
		expect(upload.status).toBe(201);
		const file = (await upload.json()) as any;
		expect(file).toMatchObject({
			name: 'photo.png',
			content_type: 'image/png',
			size: image.length,
			metadata: { purpose: 'test' },
		});
		expect(file.checksums.sha256).toBe(crypto.createHash('sha256').update(image).digest('hex'));
		expect(file.urls.get).toBe(`${fake.apiUrl}/files/${file.id}`);
		expect(Date.parse(file.expires_at) - Date.parse(file.created_at)).toBe(24 * 3600 * 1000);

		const listed = await call(`${fake.apiUrl}/files`);
		expect(listed.json.results.map((f: { id: string }) => f.id)).toContain(file.id);
		expect((await call(file.urls.get)).json.id).toBe(file.id);
		const content = await download(`${file.urls.get}/download`, {
			authorization: `Bearer ${TOKEN}`,
		});
		expect(content.bytes.equals(image)).toBe(true);

		const used = await call(`${fake.apiUrl}/predictions`, {
			headers: { prefer: 'wait' },
			body: createBody({
				image: file.urls.get,
				mask: dataUri(makeSamplePng(64, 64, 'mask')),
				width: 64,
				height: 64,
			}),
		});
		expect(used.json.status).toBe('succeeded');

		const deleted = await call(file.urls.get, { method: 'DELETE' });
		expect(deleted.status).toBe(204);
		expect(deleted.text).toBe('');
		expect((await call(file.urls.get)).status).toBe(404);
		const afterDelete = await call(`${fake.apiUrl}/predictions`, {
			headers: { prefer: 'wait' },
			body: createBody({ image: file.urls.get, mask: fake.sampleMaskUrl }),
		});
		expect(afterDelete.json.status).toBe('failed');
		expect(afterDelete.json.error).toContain('does not exist');

		const noContent = await fetch(`${fake.apiUrl}/files`, {
			method: 'POST',
			body: new FormData(),
			headers: { authorization: `Bearer ${TOKEN}` },
		});
		expect(noContent.status).toBe(400);
		await noContent.arrayBuffer();
	});

	test('after retention the output, input and logs are removed and the files 404', async () => {
		fake.set({ retentionMs: 300 });
		const r = await call(`${fake.apiUrl}/predictions`, {
			headers: { prefer: 'wait' },
			body: createBody({
				image: fake.sampleImageUrl,
				mask: fake.sampleMaskUrl,
				width: 64,
				height: 64,
			}),
		});
		expect(r.json.status).toBe('succeeded');
		const url = r.json.output[0];
		expect((await download(url)).status).toBe(200);
		await new Promise((resolve) => setTimeout(resolve, 400));
		const later = await call(r.json.urls.get);
		expect(later.json).toMatchObject({
			status: 'succeeded',
			output: null,
			data_removed: true,
			input: {},
			logs: '',
		});
		expect(fake.predictions.get(r.json.id)?.data_removed).toBe(true);
		expect((await download(url)).status).toBe(404);
	});

	test('scripted outcomes', async () => {
		const run = () =>
			call(`${fake.apiUrl}/predictions`, {
				headers: { prefer: 'wait' },
				body: createBody({
					image: fake.sampleImageUrl,
					mask: fake.sampleMaskUrl,
					width: 64,
					height: 64,
				}),
			}).then((r) => r.json as Prediction);

		fake.scriptNextPrediction({
			outcome: 'failed',
			error: 'E005: NSFW content detected',
			times: 2,
		});
		expect(await run()).toMatchObject({
			status: 'failed',
			error: 'E005: NSFW content detected',
			output: null,
		});
		expect((await run()).status).toBe('failed');
		expect((await run()).status).toBe('succeeded');

		fake.scriptNextPrediction({ outcome: 'canceled' });
		expect((await run()).status).toBe('canceled');
		fake.scriptNextPrediction({ outcome: 'aborted' });
		expect(await run()).toMatchObject({ status: 'aborted', started_at: null });
		fake.scriptNextPrediction({ noOutput: true });
		expect(await run()).toMatchObject({ status: 'succeeded', output: null, data_removed: false });
		fake.scriptNextPrediction({ dataRemoved: true });
		expect(await run()).toMatchObject({ status: 'succeeded', output: null, data_removed: true });
		fake.scriptNextPrediction({ outputUrlScheme: 'file' });
		expect((await run()).output?.[0]).toMatch(/^file:\/\/\/.*out-0\.png$/);

		fake.scriptNextPrediction({ modelTimeMs: 800 });
		const slow = await call(`${fake.apiUrl}/predictions`, {
			body: createBody({ image: fake.sampleImageUrl, mask: fake.sampleMaskUrl }),
		});
		expect((await call(`${fake.apiUrl}/predictions/${slow.json.id}`)).json.status).not.toBe(
			'succeeded',
		);
		await call(`${fake.apiUrl}/predictions/${slow.json.id}/cancel`, { method: 'POST' });

		fake.scriptNextPrediction({ outputBytes: 3_000_000 });
		const padded = await run();
		const file = await download(padded.output?.[0] as string);
		expect(file.bytes.length).toBe(3_000_000);
		expect(Number(file.headers['content-length'])).toBe(3_000_000);
		expect(decodePng(file.bytes).width).toBe(64);
	});

	test('faults: status, resets, delay, non-JSON, mangle, and on the output origin', async () => {
		const input = { image: fake.sampleImageUrl, mask: fake.sampleMaskUrl, width: 64, height: 64 };

		fake.inject({
			kind: 'status',
			status: 429,
			method: 'POST',
			path: /^\/predictions$/,
			headers: { 'retry-after': '2' },
			times: 2,
		});
		for (let i = 0; i < 2; i++) {
			const throttled = await call(`${fake.apiUrl}/predictions`, { body: createBody(input) });
			expect(throttled.status).toBe(429);
			expect(throttled.headers['retry-after']).toBe('2');
			expect(throttled.json.detail).toMatch(/throttled/);
		}
		expect(fake.stats().creates).toBe(0);

		fake.inject({ kind: 'reset-before-handling', path: /^\/predictions$/ });
		await expect(call(`${fake.apiUrl}/predictions`, { body: createBody(input) })).rejects.toThrow();
		expect(fake.stats().creates).toBe(0);

		fake.inject({ kind: 'reset-before-response', path: /^\/predictions$/ });
		await expect(call(`${fake.apiUrl}/predictions`, { body: createBody(input) })).rejects.toThrow();
		expect(fake.stats().creates).toBe(1);

		fake.inject({ kind: 'delay', ms: 300, method: 'GET', path: /^\/account$/ });
		const delayed = await call(`${fake.apiUrl}/account`);
		expect(delayed.status).toBe(200);
		expect(delayed.elapsedMs).toBeGreaterThanOrEqual(290);

		fake.inject({ kind: 'non-json', path: /^\/predictions$/ });
		const html = await call(`${fake.apiUrl}/predictions`, { body: createBody(input) });
		expect(html.status).toBe(200);
		expect(html.headers['content-type']).toMatch(/^text\/html/);
		expect(html.json).toBeUndefined();
		expect(fake.stats().creates).toBe(1);

		fake.inject({
			kind: 'mangle',
			path: /^\/predictions\/[^/]+$/,
			mutate: (body) => ({ ...body, status: 'weird', id: undefined }),
		});
		const created = await call(`${fake.apiUrl}/predictions`, { body: createBody(input) });
		const mangled = await call(`${fake.apiUrl}/predictions/${created.json.id}`);
		expect(mangled.json.status).toBe('weird');
		expect(mangled.json.id).toBeUndefined();
		expect((await call(`${fake.apiUrl}/predictions/${created.json.id}`)).json.status).not.toBe(
			'weird',
		);

		fake.inject({ kind: 'status', origin: 'output', status: 503, path: /out-0\.png$/ });
		const done = await poll(fake, created.json.id);
		expect((await download(done.output?.[0] as string)).status).toBe(503);
		expect((await download(done.output?.[0] as string)).status).toBe(200);
		// A fault for the output origin never fires on the API origin and vice versa.
		expect((await call(`${fake.apiUrl}/account`)).status).toBe(200);
	});

	test('webhooks are signed and follow the events filter', async () => {
		const received: Array<{ headers: http.IncomingHttpHeaders; body: string }> = [];
		const receiver = http.createServer((req, res) => {
			let body = '';
			req.on('data', (c: Buffer) => (body += c.toString()));
			req.on('end', () => {
				received.push({ headers: req.headers, body });
				res.end('ok');
			});
		});
		await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
		try {
			const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
			const secret = await call(`${fake.apiUrl}/webhooks/default/secret`);
			expect(secret.json.key).toBe(fake.webhookSecret);
			expect(fake.webhookSecret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);

			const r = await call(`${fake.apiUrl}/predictions`, {
				headers: { prefer: 'wait' },
				body: createBody(
					{ image: fake.sampleImageUrl, mask: fake.sampleMaskUrl, width: 64, height: 64 },
					{ webhook: hook, webhook_events_filter: ['completed'] },
				),
			});
			await waitUntil(
				() => received.length,
				(n) => n >= 1,
			);
			await new Promise((resolve) => setTimeout(resolve, 100));
			expect(received).toHaveLength(1);
			const [delivery] = received;
			expect(JSON.parse(delivery.body)).toMatchObject({ id: r.json.id, status: 'succeeded' });
			const key = Buffer.from(fake.webhookSecret.slice('whsec_'.length), 'base64');
			const signed = `${delivery.headers['webhook-id']}.${delivery.headers['webhook-timestamp']}.${delivery.body}`;
			const expected = crypto.createHmac('sha256', key).update(signed).digest('base64');
			expect(delivery.headers['webhook-signature']).toBe(`v1,${expected}`);
			expect(
				Math.abs(Number(delivery.headers['webhook-timestamp']) - Date.now() / 1000),
			).toBeLessThan(5);

			received.length = 0;
			const all = await call(`${fake.apiUrl}/predictions`, {
				headers: { prefer: 'wait' },
				body: createBody(
					{ image: fake.sampleImageUrl, mask: fake.sampleMaskUrl, width: 64, height: 64 },
					{ webhook: hook },
				),
			});
			await waitUntil(
				() => received.map((d) => JSON.parse(d.body).status),
				(s) => s.includes('succeeded'),
			);
			const statuses = received.map((d) => JSON.parse(d.body).status as string);
			expect(statuses[0]).toBe('starting');
			expect(statuses[statuses.length - 1]).toBe('succeeded');
			expect(received.every((d) => JSON.parse(d.body).id === all.json.id)).toBe(true);

			const invalid = await call(`${fake.apiUrl}/predictions`, {
				body: createBody(
					{ image: fake.sampleImageUrl, mask: fake.sampleMaskUrl },
					{ webhook_events_filter: ['done'] },
				),
			});
			expect(invalid.status).toBe(422);
		} finally {
			await new Promise((resolve) => receiver.close(resolve));
		}
	});

	test('listing predictions pages newest first with cursors', async () => {
		fake.set({ pageSize: 2 });
		const ids: string[] = [];
		for (let i = 0; i < 3; i++) {
			const r = await call(`${fake.apiUrl}/predictions`, {
				body: createBody({
					image: fake.sampleImageUrl,
					mask: fake.sampleMaskUrl,
					width: 64,
					height: 64,
				}),
			});
			ids.push(r.json.id);
		}
		const first = await call(`${fake.apiUrl}/predictions`);
		expect(first.json.previous).toBeNull();
		expect(first.json.results.map((p: Prediction) => p.id)).toEqual([ids[2], ids[1]]);
		const second = await call(first.json.next);
		expect(second.json.results[0].id).toBe(ids[0]);
		const back = await call(second.json.previous);
		expect(back.json.results.map((p: Prediction) => p.id)).toEqual([ids[2], ids[1]]);
		expect((await call(`${fake.apiUrl}/predictions?cursor=%%%`)).status).toBe(400);
		expect((await call(`${fake.apiUrl}/predictions/doesnotexist`)).status).toBe(404);
		expect(
			(await call(`${fake.apiUrl}/predictions/doesnotexist/cancel`, { method: 'POST' })).status,
		).toBe(404);
		expect((await call(`${fake.apiUrl}/predictions`, { method: 'DELETE' })).status).toBe(405);
		for (const id of ids) await poll(fake, id);
	});

	test('stream URL (when asked for) sends the outputs as server-sent events; HEAD works on outputs', async () => {
		const r = await call(`${fake.apiUrl}/predictions`, {
			body: createBody(
				{ image: fake.sampleImageUrl, mask: fake.sampleMaskUrl, width: 64, height: 64 },
				{ stream: true },
			),
		});
		expect(r.json.urls.stream).toBe(`${fake.apiUrl}/predictions/${r.json.id}/stream`);
		const events = await call(r.json.urls.stream);
		expect(events.headers['content-type']).toBe('text/event-stream');
		expect(events.text).toContain(
			`event: output\ndata: ${fake.outputOrigin}/${r.json.id}/out-0.png`,
		);
		expect(events.text).toMatch(/event: done\ndata: \{\}\n\n$/);
		const head = await request(`${fake.outputOrigin}/${r.json.id}/out-0.png`, {
			method: 'HEAD',
			dispatcher: agent,
		});
		await head.body.text();
		expect(head.statusCode).toBe(200);
		expect(Number(head.headers['content-length'])).toBeGreaterThan(100);
		const plain = await call(`${fake.apiUrl}/predictions`, {
			body: createBody({ image: fake.sampleImageUrl, mask: fake.sampleMaskUrl }),
		});
		expect(plain.json.urls.stream).toBeUndefined();
		expect((await call(`${fake.apiUrl}/predictions/${plain.json.id}/stream`)).status).toBe(404);
		await poll(fake, plain.json.id);
	});

	test('JSON answers are gzipped for clients that ask; a token sent to the output origin is counted', async () => {
		const response = await request(`${fake.apiUrl}/predictions`, {
			headers: { authorization: `Bearer ${TOKEN}`, 'accept-encoding': 'gzip' },
			dispatcher: agent,
		});
		const raw = Buffer.from(await response.body.arrayBuffer());
		expect(response.headers['content-encoding']).toBe('gzip');
		expect(JSON.parse(zlib.gunzipSync(raw).toString()).results).toBeInstanceOf(Array);

		await download(fake.sampleImageUrl, { authorization: `Bearer ${TOKEN}` });
		await download(`${fake.sampleMaskUrl}?token=${TOKEN}`);
		await download(fake.sampleMaskUrl);
		expect(fake.stats().tokenToNonApiOrigin).toBe(2);
		expect(fake.stats().byRoute['output GET /samples/{name}']).toBe(3);
	});

	test('admin endpoints observe and steer without auth', async () => {
		const admin = `${fake.apiOrigin}/__admin`;
		await call(`${fake.apiUrl}/account`);
		const stats = await call(`${admin}/stats`, { token: null });
		expect(stats.json.byRoute['GET /account']).toBe(1);
		const requests = await call(`${admin}/requests`, { token: null });
		expect(requests.json).toHaveLength(1);
		expect(requests.json[0]).toMatchObject({ origin: 'api', method: 'GET', path: '/v1/account' });

		const options = await call(`${admin}/options`, { token: null, body: { modelTimeMs: 900 } });
		expect(options.json.modelTimeMs).toBe(900);
		expect(
			(await call(`${admin}/options`, { token: null, body: { prefix: '/other' } })).status,
		).toBe(400);
		expect(
			(await call(`${admin}/options`, { token: null, body: { modelTimeMs: 'slow' } })).status,
		).toBe(400);
		expect((await call(`${admin}/options`, { token: null, body: { modelTime: 5 } })).status).toBe(
			400,
		);
		await call(`${admin}/script`, { token: null, body: { outcome: 'failed', error: 'boom' } });
		await call(`${admin}/fault`, {
			token: null,
			body: { kind: 'mangle', path: '^/predictions$', set: { status: 'weird' } },
		});
		const created = await call(`${fake.apiUrl}/predictions`, {
			body: createBody({ image: fake.sampleImageUrl, mask: fake.sampleMaskUrl }),
		});
		expect(created.json.status).toBe('weird');
		const failed = await poll(fake, created.json.id);
		expect(failed).toMatchObject({ status: 'failed', error: 'boom' });

		expect((await call(`${admin}/reset`, { token: null, method: 'POST' })).status).toBe(204);
		expect(fake.requests).toHaveLength(0);
		expect((await call(`${admin}/stats`, { token: null })).json.creates).toBe(0);
		expect((await call(`${admin}/nothing`, { token: null })).status).toBe(404);
	});

	test('performance: four 1024×1024 outputs render and download quickly', async () => {
		const r = await call(`${fake.apiUrl}/predictions`, {
			headers: { prefer: 'wait' },
			body: createBody({
				image: fake.sampleImageUrl,
				mask: fake.sampleMaskUrl,
				width: 1024,
				height: 1024,
				num_outputs: 4,
			}),
		});
		const started = Date.now();
		const files = await Promise.all((r.json.output as string[]).map((url) => download(url)));
		expect(files.every((f) => f.status === 200)).toBe(true);
		expect(Date.now() - started).toBeLessThan(3000);
		expect(decodePng(files[3].bytes).width).toBe(1024);
	});
});

describe('close()', () => {
	test('closes sockets, held requests, in-flight input downloads and timers promptly', async () => {
		// Handles closed by earlier tests leave the list a moment after their close callbacks.
		await new Promise((resolve) => setTimeout(resolve, 100));
		const sockets = () =>
			process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap' || r === 'TCPSocketWrap')
				.length;
		const socketsBefore = sockets();
		// Timers are counted by origin: jest and undici keep their own, which come and go.
		const fakeTimers = new Set<number>();
		const hook = async_hooks
			.createHook({
				init(id, type) {
					if (type === 'Timeout' && /ServerCore\.after /.test(new Error().stack ?? ''))
						fakeTimers.add(id);
				},
				destroy(id) {
					fakeTimers.delete(id);
				},
			})
			.enable();
		// An input server that never answers keeps the model's download in flight.
		const stalled = http.createServer(() => undefined);
		await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', resolve));
		const stalledUrl = `http://127.0.0.1:${(stalled.address() as AddressInfo).port}/image.png`;
		const fake = await startFakeReplicate({ modelTimeMs: 30_000, retentionMs: 60_000 });
		const closeAgent = new Agent();
		const held = request(`${fake.apiUrl}/predictions`, {
			method: 'POST',
			dispatcher: closeAgent,
			headers: {
				authorization: `Bearer ${TOKEN}`,
				prefer: 'wait=60',
				'content-type': 'application/json',
			},
			body: JSON.stringify(createBody({ image: stalledUrl, mask: fake.sampleMaskUrl })),
		}).then(
			(r) => r.body.text().then(() => 'answered'),
			() => 'failed',
		);
		await waitUntil(
			() => [...fake.predictions.values()][0]?.status,
			(status) => status === 'processing',
		);
		await new Promise((resolve) => setTimeout(resolve, 50));
		expect(fakeTimers.size).toBeGreaterThan(0);
		const started = Date.now();
		await fake.close();
		expect(Date.now() - started).toBeLessThan(500);
		expect(['answered', 'failed']).toContain(await held);
		await closeAgent.close();
		stalled.closeAllConnections();
		await new Promise((resolve) => stalled.close(resolve));
		await new Promise((resolve) => setTimeout(resolve, 100));
		hook.disable();
		expect(sockets()).toBeLessThanOrEqual(socketsBefore);
		expect(fakeTimers.size).toBe(0);
	});
});

describe('PNG codec', () => {
	const random = (n: number) => crypto.randomBytes(n);

	test.each([1, 2, 3, 4] as const)(
		'round-trips %i-channel images through all five filters',
		(channels) => {
			const image: RasterImage = {
				width: 17,
				height: 11,
				channels,
				data: random(17 * 11 * channels),
			};
			const decoded = decodePng(encodePng(image, { filter: 'cycle' }));
			expect(decoded).toEqual(image);
		},
	);

	function rawPng(
		width: number,
		height: number,
		depth: number,
		colorType: number,
		rows: Buffer[],
		extra: Buffer[] = [],
		interlace = 0,
	): Buffer {
		const raw = Buffer.concat(rows.map((row) => Buffer.concat([Buffer.from([0]), row])));
		return Buffer.concat([
			PNG_SIGNATURE,
			ihdrChunk(width, height, depth, colorType, interlace),
			...extra,
			pngChunk('IDAT', zlib.deflateSync(raw)),
			pngChunk('IEND', Buffer.alloc(0)),
		]);
	}

	test('decodes palette (2-bit with tRNS), 16-bit RGB and 1-bit gray', () => {
		const palette = pngChunk('PLTE', Buffer.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9]));
		const trns = pngChunk('tRNS', Buffer.from([255, 128]));
		// indices 0,1,2,3,0 packed 2 bits each: 00 01 10 11 | 00 ......
		const pal = decodePng(
			rawPng(5, 1, 2, 3, [Buffer.from([0b00011011, 0b00000000])], [palette, trns]),
		);
		expect(pal.channels).toBe(4);
		expect([...pal.data]).toEqual([
			255, 0, 0, 255, 0, 255, 0, 128, 0, 0, 255, 255, 9, 9, 9, 255, 255, 0, 0, 255,
		]);

		const rgb16 = decodePng(
			rawPng(1, 1, 16, 2, [Buffer.from([0x12, 0x34, 0xab, 0xcd, 0xff, 0x00])]),
		);
		expect([...rgb16.data]).toEqual([0x12, 0xab, 0xff]);

		const gray1 = decodePng(rawPng(3, 1, 1, 0, [Buffer.from([0b10100000])]));
		expect([...gray1.data]).toEqual([255, 0, 255]);
	});

	test('rejects interlaced, corrupt and non-PNG data', () => {
		expect(() => decodePng(rawPng(1, 1, 8, 0, [Buffer.from([0])], [], 1))).toThrow(/interlaced/);
		const good = makeSamplePng(8, 8, 'image');
		const badCrc = Buffer.from(good);
		badCrc[good.length - 20] ^= 0xff;
		expect(() => decodePng(badCrc)).toThrow();
		expect(() => decodePng(good.subarray(0, good.length - 12))).toThrow(/IEND/);
		expect(() => decodePng(Buffer.from('GIF89a........'))).toThrow(/signature/);
	});

	test('sample mask is a white rectangle on black', () => {
		const mask = makeSampleImage(8, 8, 'mask');
		expect(mask.data[0]).toBe(0);
		expect(mask.data[4 * 8 + 4]).toBe(255);
		expect(decodePng(makeSamplePng(8, 8, 'mask')).data.equals(mask.data)).toBe(true);
	});
});
