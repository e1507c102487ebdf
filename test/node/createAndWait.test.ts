/**
 * Create and Wait (Wait Mode: Poll) through n8n's engine against the Replicate-compatible test
 * server: the assertions read what came out of the engine and what the server received.
 */
import { DEFAULT_MODEL_VERSION } from '../../nodes/ReplicateInpainting/schema/modelInput';
import { decodePng, makeSamplePng } from '../../tools/fake-replicate';
import {
	apiRequests,
	binaryItem,
	createRequests,
	eventually,
	NODE_NAME,
	runNode,
	urlInputs,
	useOperationServer,
} from './support';

const server = useOperationServer();

describe('Create and Wait', () => {
	it('creates one prediction from URLs and returns the inpainted image as binary data', async () => {
		const { items, result } = await runNode(server, {
			...urlInputs(server),
			prompt: 'a red armchair',
		});

		expect(result.status).toBe('success');
		expect(items).toHaveLength(1);
		const [item] = items;
		expect(item.json.status).toBe('succeeded');
		expect(item.json.id).toMatch(/^[a-z0-9]+$/);
		expect(item.pairedItem).toEqual({ item: 0 });
		const binary = item.binary!.data;
		expect(binary.mimeType).toBe('image/png');
		expect(binary.fileName).toBe(`${item.json.id}-0.png`);
		const png = decodePng(await result.binaryBuffer(item, 'data'));
		expect([png.width, png.height]).toEqual([512, 512]);

		const creates = createRequests(server);
		expect(creates).toHaveLength(1);
		expect(creates[0].headers.prefer).toBe('wait=60');
		expect(creates[0].headers['cancel-after']).toBe('600s');
		expect(creates[0].headers.authorization).toBe(`Bearer ${server.token}`);
		// Finished within the Prefer: wait window: no polling at all.
		expect(apiRequests(server)).toHaveLength(1);
		const downloads = server.requests.filter(
			(request) => request.origin === 'output' && /out-0\.png$/.test(request.path),
		);
		expect(downloads).toHaveLength(1);
		expect(downloads[0].headers.authorization).toBeUndefined();
	});

	it('sends every parameter under the API name with the right type', async () => {
		const { result } = await runNode(server, {
			...urlInputs(server),
			prompt: 'a blue vase',
			options: {
				width: 768,
				height: 256,
				numOutputs: 2,
				numInferenceSteps: 30,
				guidanceScale: 9.5,
				scheduler: 'K_EULER',
				negativePrompt: 'blurry',
				seed: '1234',
				disableSafetyChecker: true,
			},
		});
		expect(result.status).toBe('success');
		const body = createRequests(server)[0].json as {
			version: string;
			input: Record<string, unknown>;
		};
		expect(body.version).toBe(DEFAULT_MODEL_VERSION);
		expect(body.input).toEqual({
			prompt: 'a blue vase',
			negative_prompt: 'blurry',
			image: server.sampleImageUrl,
			mask: server.sampleMaskUrl,
			width: 768,
			height: 256,
			num_outputs: 2,
			num_inference_steps: 30,
			guidance_scale: 9.5,
			scheduler: 'K_EULER',
			seed: 1234,
			disable_safety_checker: true,
		});
	});

	it('merges Extra Input into the input, and reports every field Replicate rejects', async () => {
		const { errorMessage, errorDescription } = await runNode(server, {
			...urlInputs(server),
			options: { extraInput: '{"strength": 0.8, "prompt_strength": 0.5}' },
		});
		const input = (createRequests(server)[0].json as { input: Record<string, unknown> }).input;
		expect(input).toMatchObject({ strength: 0.8, prompt_strength: 0.5 });
		expect(errorMessage).toMatch(
			/^Replicate API error 422 on POST \/predictions: Input validation failed \(input\.strength: .+; input\.prompt_strength: .+\)$/,
		);
		expect(errorDescription).toContain('Invalid field input.strength');
		expect(createRequests(server)).toHaveLength(1);
	});

	it('lays out several images one per item, or all on one item', async () => {
		const perImage = await runNode(server, {
			...urlInputs(server),
			options: { numOutputs: 3, width: 256, height: 320 },
		});
		expect(perImage.items).toHaveLength(3);
		perImage.items.forEach((item, index) => {
			expect(item.json.output_index).toBe(index);
			expect(item.binary!.data.fileName).toBe(`${item.json.id}-${index}.png`);
			expect(item.pairedItem).toEqual({ item: 0 });
		});
		const third = decodePng(await perImage.result.binaryBuffer(perImage.items[2], 'data'));
		expect([third.width, third.height]).toEqual([256, 320]);

		const together = await runNode(server, {
			...urlInputs(server),
			options: { numOutputs: 3, outputLayout: 'allOnOneItem', binaryPropertyName: 'image' },
		});
		expect(together.items).toHaveLength(1);
		expect(Object.keys(together.items[0].binary!).sort()).toEqual(['image', 'image_1', 'image_2']);
	});

	it('returns only the prediction JSON with its URLs when Download Outputs is off', async () => {
		const { items } = await runNode(server, {
			...urlInputs(server),
			options: { downloadOutputs: false },
		});
		expect(items).toHaveLength(1);
		expect(items[0].binary).toBeUndefined();
		expect(items[0].json.output).toEqual([
			expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/.+out-0\.png$/),
		]);
		expect(
			server.requests.filter((request) => request.origin === 'output' && /out-/.test(request.path)),
		).toHaveLength(0);
	});

	it('sends small binary files as data URIs', async () => {
		const image = makeSamplePng(128, 128, 'image');
		const mask = makeSamplePng(128, 128, 'mask');
		const { items, result } = await runNode(
			server,
			{
				prompt: 'a red armchair',
				imageSource: 'binary',
				imageBinaryProperty: 'photo',
				maskSource: 'binary',
				maskBinaryProperty: 'mask',
				options: { width: 128, height: 128 },
			},
			{
				inputItems: [
					binaryItem({
						photo: { content: image, fileName: 'photo.png', mimeType: 'image/png' },
						mask: { content: mask, fileName: 'mask.png', mimeType: 'image/png' },
					}),
				],
			},
		);
		expect(result.status).toBe('success');
		const input = (createRequests(server)[0].json as { input: Record<string, string> }).input;
		expect(input.image).toBe(`data:image/png;base64,${image.toString('base64')}`);
		expect(input.mask).toBe(`data:image/png;base64,${mask.toString('base64')}`);
		expect(apiRequests(server).some((request) => request.path.includes('/files'))).toBe(false);
		// The server really inpainted the uploaded pixels: the unmasked corner is the input's.
		const out = decodePng(await result.binaryBuffer(items[0], 'data'));
		const source = decodePng(image);
		expect(out.data.subarray(0, 3)).toEqual(source.data.subarray(0, 3));
	});

	it('uploads larger (or forced) binary files to /files and deletes them afterwards', async () => {
		const image = makeSamplePng(64, 64, 'image');
		const mask = makeSamplePng(64, 64, 'mask');
		const inputItems = [
			binaryItem({
				data: { content: image, fileName: 'a.png', mimeType: 'image/png' },
				mask: { content: mask, fileName: 'm.png', mimeType: 'image/png' },
			}),
		];
		const parameters = {
			prompt: 'a red armchair',
			imageSource: 'binary',
			maskSource: 'binary',
			options: { uploadRoute: 'upload' },
		};

		const { result } = await runNode(server, parameters, { inputItems });
		expect(result.status).toBe('success');
		const uploads = apiRequests(server).filter(
			(request) => request.method === 'POST' && /\/files$/.test(request.path),
		);
		expect(uploads).toHaveLength(2);
		const input = (createRequests(server)[0].json as { input: Record<string, string> }).input;
		expect(input.image).toMatch(new RegExp(`^${server.apiUrl}/files/`));
		expect(input.mask).toMatch(new RegExp(`^${server.apiUrl}/files/`));
		const deletes = apiRequests(server).filter((request) => request.method === 'DELETE');
		expect(deletes.map((request) => request.path).sort()).toEqual(
			[input.image, input.mask].map((url) => new URL(url).pathname).sort(),
		);

		server.reset();
		await runNode(
			server,
			{ ...parameters, options: { uploadRoute: 'upload', keepUploadedFiles: true } },
			{ inputItems },
		);
		expect(apiRequests(server).filter((request) => request.method === 'DELETE')).toHaveLength(0);
	});

	it('falls back to a data URI when the API has no files endpoint (404)', async () => {
		server.set({ filesEndpoint: false });
		const image = makeSamplePng(64, 64, 'image');
		const mask = makeSamplePng(64, 64, 'mask');
		const { result } = await runNode(
			server,
			{
				prompt: 'a red armchair',
				imageSource: 'binary',
				maskSource: 'binary',
				options: { uploadRoute: 'upload' },
			},
			{
				inputItems: [
					binaryItem({
						data: { content: image, fileName: 'a.png', mimeType: 'image/png' },
						mask: { content: mask, fileName: 'm.png', mimeType: 'image/png' },
					}),
				],
			},
		);
		expect(result.status).toBe('success');
		const input = (createRequests(server)[0].json as { input: Record<string, string> }).input;
		expect(input.image.startsWith('data:image/png;base64,')).toBe(true);
	});

	it('fails the item with the model error and the prediction ID when the prediction fails', async () => {
		server.scriptNextPrediction({ outcome: 'failed', error: 'CUDA out of memory' });
		const { result, errorMessage } = await runNode(server, urlInputs(server));
		expect(result.status).toBe('error');
		const id = [...server.predictions.values()].at(-1)!.id;
		expect(errorMessage).toBe(`Prediction ${id} failed: CUDA out of memory`);
	});

	it('cancels the prediction and names it when the timeout runs out', async () => {
		server.set({ modelTimeMs: 20_000 });
		const { result, errorMessage } = await runNode(server, {
			...urlInputs(server),
			options: { timeout: 2 },
		});
		expect(result.status).toBe('error');
		const prediction = [...server.predictions.values()].at(-1)!;
		// The node's own timeout and Replicate's Cancel-After deadline are the same moment: whichever
		// acts first, the item fails with the same message and nothing is left running.
		expect(errorMessage).toBe(
			`Prediction ${prediction.id} did not finish within the timeout of 2 s`,
		);
		expect(prediction.status).toBe('canceled');
		const create = createRequests(server)[0];
		expect(create.headers.prefer).toBe('wait=1');
		expect(create.headers['cancel-after']).toBe('2s');
		expect(server.stats().running).toBe(0);
	});

	it('cancels the prediction itself when its timeout comes first', async () => {
		server.set({ modelTimeMs: 20_000, honourPreferWait: false });
		// The server's deadline is a little later than the node's (it starts counting on arrival).
		server.inject({ method: 'POST', path: /^\/predictions$/, kind: 'delay', ms: 0 });
		const { errorMessage, errorDescription } = await runNode(server, {
			...urlInputs(server),
			options: { timeout: 3 },
		});
		const prediction = [...server.predictions.values()].at(-1)!;
		expect(errorMessage).toBe(
			`Prediction ${prediction.id} did not finish within the timeout of 3 s`,
		);
		expect(prediction.status).toBe('canceled');
		const canceledByNode = apiRequests(server).some((request) =>
			request.path.endsWith(`/predictions/${prediction.id}/cancel`),
		);
		expect(canceledByNode || /Cancel-After/.test(String(errorDescription))).toBe(true);
	});

	it('with Continue On Fail, turns a failing item into an error item and goes on', async () => {
		server.scriptNextPrediction({ outcome: 'failed', error: 'NSFW content detected (E005)' });
		const { items, result } = await runNode(
			server,
			{ ...urlInputs(server), options: { width: '={{ $json.width }}', maxConcurrent: 1 } },
			{
				continueOnFail: true,
				inputItems: [{ json: { width: 512 } }, { json: { width: 500 } }, { json: { width: 256 } }],
			},
		);
		expect(result.status).toBe('success');
		expect(items.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
		const failedId = [...server.predictions.values()].at(-2)!.id;
		expect(items[0].json).toMatchObject({
			predictionId: failedId,
			error: `Prediction ${failedId} failed: NSFW content detected (E005)`,
		});
		expect(items[1].json.error).toContain(
			'Width (width): 500 must be a multiple of 64 from 64 to 1024',
		);
		expect(items[1].json.predictionId).toBeUndefined();
		expect(items[2].json.status).toBe('succeeded');
		expect(createRequests(server)).toHaveLength(2);
	});

	it('with Continue (using error output), failing items leave on the error output', async () => {
		server.scriptNextPrediction({ outcome: 'failed', error: 'NSFW content detected (E005)' });
		const { result } = await runNode(
			server,
			{ ...urlInputs(server), options: { width: '={{ $json.width }}', maxConcurrent: 1 } },
			{
				continueOnFail: 'errorOutput',
				inputItems: [{ json: { width: 512 } }, { json: { width: 500 } }, { json: { width: 256 } }],
			},
		);
		expect(result.status).toBe('success');
		const succeeded = result.items(NODE_NAME, 0);
		expect(succeeded.map((item) => [item.json.status, item.pairedItem])).toEqual([
			['succeeded', { item: 2 }],
		]);
		const failed = result.items(NODE_NAME, 1);
		const failedId = [...server.predictions.values()].at(-2)!.id;
		expect(failed.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 1 }]);
		// n8n adds the input item's fields to an error-output item.
		expect(failed[0].json).toEqual({
			width: 512,
			error: `Prediction ${failedId} failed: NSFW content detected (E005)`,
			message: expect.stringContaining('safety checker'),
		});
		expect(failed[1].json.error).toContain(
			'Width (width): 500 must be a multiple of 64 from 64 to 1024',
		);
		expect(failed[1].json.message).toContain('Nothing was sent to Replicate');
	});
});

describe('a stopped execution', () => {
	it('cancels the prediction it was polling', async () => {
		server.set({ modelTimeMs: 30_000, honourPreferWait: false });
		const { result } = await runNode(server, urlInputs(server), { stopAfterMs: 1_500 });
		expect(result.status).toBe('canceled');
		expect(result.items(NODE_NAME)).toHaveLength(0);
		expect(await eventually(() => server.stats().running === 0, 3_000)).toBe(true);
		expect([...server.predictions.values()].at(-1)!.status).toBe('canceled');
	});

	it('cancels a prediction whose create was still being held (Prefer: wait) as soon as its ID arrives', async () => {
		server.set({ modelTimeMs: 30_000 });
		const { result } = await runNode(
			server,
			{ ...urlInputs(server), options: { timeout: 6 } },
			{ stopAfterMs: 1_000 },
		);
		expect(result.status).toBe('canceled');
		expect(createRequests(server)[0].headers.prefer).toBe('wait=4');
		// The held create answers after its 4 s wait; the node then cancels what it created.
		expect(await eventually(() => server.stats().running === 0, 8_000)).toBe(true);
		const prediction = [...server.predictions.values()].at(-1)!;
		expect(prediction.status).toBe('canceled');
		expect(
			apiRequests(server).some((request) =>
				request.path.endsWith(`/predictions/${prediction.id}/cancel`),
			),
		).toBe(true);
	});
});
