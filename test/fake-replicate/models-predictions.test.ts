/**
 * Predictions of every catalog model through the fake server's HTTP API: which `version` runs
 * what, the models route, input checked against the version's own schema, and outputs rendered
 * from the inputs the way each kind of model edits.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { request } from 'undici';

import {
	decodePng,
	makeSamplePng,
	type Prediction,
	type RasterImage,
} from '../../tools/fake-replicate';
import { catalogModel } from '../../tools/fake-replicate/catalog';
import { useFakeReplicate } from '../support/fakeReplicate';

const fake = useFakeReplicate({ modelTimeMs: 30, startDelayMs: 5 });

function versionsOf(name: string): string[] {
	const model = catalogModel(name);
	if (!model) throw new Error(`${name} is not in the catalog`);
	return model.versions.map((v) => v.id);
}

const FILL_PRO = 'black-forest-labs/flux-fill-pro';
const FILL_DEV = 'black-forest-labs/flux-fill-dev';
const IDEOGRAM = 'ideogram-ai/ideogram-v3-turbo';
const KONTEXT = 'black-forest-labs/flux-kontext-pro';
const NANO = 'google/nano-banana';
const [FILL_DEV_LATEST, FILL_DEV_OLDER] = versionsOf(FILL_DEV);

interface Answer {
	status: number;
	json: any;
}

async function api(
	path: string,
	body?: unknown,
	headers: Record<string, string> = {},
): Promise<Answer> {
	const response = await request(`${fake.apiUrl}${path}`, {
		method: body === undefined ? 'GET' : 'POST',
		headers: {
			authorization: `Bearer ${fake.token}`,
			'content-type': 'application/json',
			...headers,
		},
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	const text = await response.body.text();
	return { status: response.statusCode, json: text ? JSON.parse(text) : undefined };
}

/** Creates with `Prefer: wait` and answers the finished prediction. */
async function run(version: string, input: Record<string, unknown>): Promise<Prediction> {
	const answer = await api('/predictions', { version, input }, { prefer: 'wait=10' });
	expect(answer.status).toBe(201);
	expect(answer.json.status).not.toMatch(/starting|processing/);
	return answer.json as Prediction;
}

async function image(url: string): Promise<RasterImage> {
	const response = await request(url);
	expect(response.statusCode).toBe(200);
	const bytes = Buffer.from(await response.body.arrayBuffer());
	// PNG bytes whatever the URL's extension says.
	expect(bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
	return decodePng(bytes);
}

function dataUri(png: Buffer): string {
	return `data:image/png;base64,${png.toString('base64')}`;
}

function rgbAt(picture: RasterImage, x: number, y: number): number[] {
	const p = (y * picture.width + x) * picture.channels;
	return [0, 1, 2].map((c) => picture.data[p + (picture.channels < 3 ? 0 : c)]);
}

/** Pixels of `out` the mask's `repainted` side changed, and pixels of the other side it changed. */
function maskSides(out: RasterImage, input: RasterImage, mask: RasterImage, repaintWhite: boolean) {
	let repainted = 0;
	let masked = 0;
	let keptWrong = 0;
	for (let y = 0; y < out.height; y++) {
		for (let x = 0; x < out.width; x++) {
			const same = rgbAt(out, x, y).join() === rgbAt(input, x, y).join();
			const white = rgbAt(mask, x, y)[0] > 127;
			if (white === repaintWhite) {
				masked++;
				if (!same) repainted++;
			} else if (!same) keptWrong++;
		}
	}
	return { masked, repainted, keptWrong };
}

/**
 * Asserts `out` is `input` tinted: per channel, out = (in + c) / 2 for one colour c, so 2·out − in
 * takes at most two neighbouring values (the halving floors), and the picture did change.
 */
function expectTinted(out: RasterImage, input: RasterImage, left = 0): void {
	let changed = 0;
	for (let c = 0; c < 3; c++) {
		const seen = new Set<number>();
		for (let y = 0; y < input.height; y++) {
			for (let x = 0; x < input.width; x++) {
				const before = rgbAt(input, x, y)[c];
				const after = rgbAt(out, left + x, y)[c];
				seen.add(2 * after - before);
				if (after !== before) changed++;
			}
		}
		expect(Math.max(...seen) - Math.min(...seen)).toBeLessThanOrEqual(1);
	}
	expect(changed).toBeGreaterThan(input.width * input.height);
}

describe('which version a create runs', () => {
	test('a versioned model runs by its bare id or owner/name:<id>, each version with its own schema', async () => {
		const latest = await run(FILL_DEV_LATEST, {
			prompt: 'p',
			image: fake.sampleImageUrl,
			megapixels: '0.25',
		});
		expect([latest.model, latest.version, latest.status]).toEqual([
			FILL_DEV,
			FILL_DEV_LATEST,
			'succeeded',
		]);
		const older = await api('/predictions', {
			version: `${FILL_DEV}:${FILL_DEV_OLDER}`,
			input: { prompt: 'p', image: fake.sampleImageUrl },
		});
		expect([older.status, older.json.model, older.json.version]).toEqual([
			201,
			FILL_DEV,
			FILL_DEV_OLDER,
		]);
		// `megapixels` came with the latest version: the older one's schema has no such input.
		const refused = await api('/predictions', {
			version: `${FILL_DEV}:${FILL_DEV_OLDER}`,
			input: { prompt: 'p', image: fake.sampleImageUrl, megapixels: '1' },
		});
		expect(refused.status).toBe(422);
		expect(refused.json.invalid_fields).toEqual([
			{
				type: 'additional_property_not_allowed',
				field: 'input.megapixels',
				description: 'Additional property megapixels is not allowed',
			},
		]);
	});

	test('an official model runs by owner/name (its latest version), never by a version id', async () => {
		const [fillProId] = versionsOf(FILL_PRO);
		const byName = await api('/predictions', {
			version: FILL_PRO,
			input: { image: fake.sampleImageUrl },
		});
		expect([byName.status, byName.json.model, byName.json.version]).toEqual([
			201,
			FILL_PRO,
			fillProId,
		]);
		const refused = [
			fillProId,
			`${FILL_PRO}:${fillProId}`,
			FILL_DEV, // versioned: not by name
			`${FILL_DEV}:${fillProId}`, // another model's version
			`${FILL_DEV}:${FILL_DEV_LATEST}:x`,
			'nobody/nothing',
		];
		for (const version of refused) {
			const answer = await api('/predictions', { version, input: { image: fake.sampleImageUrl } });
			expect([version, answer.status, answer.json.title]).toEqual([
				version,
				422,
				'Invalid version or not permitted',
			]);
		}
		expect(fake.stats().creates).toBe(1);
	});
});

describe('POST /models/{owner}/{name}/predictions', () => {
	test('runs an official model; 404 for an unknown model, 422 for a versioned one or a version in the body', async () => {
		const created = await api(
			`/models/${NANO}/predictions`,
			{ input: { prompt: 'a banana' } },
			{ prefer: 'wait=10' },
		);
		expect(created.status).toBe(201);
		expect(created.json).toMatchObject({
			model: NANO,
			version: versionsOf(NANO)[0],
			status: 'succeeded',
			input: { prompt: 'a banana', output_format: 'jpg' },
		});
		expect(fake.stats().byRoute['POST /models/{owner}/{name}/predictions']).toBe(1);

		const unknown = await api('/models/nobody/nothing/predictions', { input: {} });
		expect(unknown.status).toBe(404);
		const versioned = await api(`/models/${FILL_DEV}/predictions`, {
			input: { prompt: 'p', image: fake.sampleImageUrl },
		});
		expect([versioned.status, versioned.json.title]).toEqual([
			422,
			'Invalid version or not permitted',
		]);
		const withVersion = await api(`/models/${NANO}/predictions`, {
			version: NANO,
			input: { prompt: 'p' },
		});
		expect(withVersion.status).toBe(422);
		expect(withVersion.json.invalid_fields[0]).toMatchObject({
			type: 'additional_property_not_allowed',
			field: 'version',
		});
		const invalid = await api(`/models/${NANO}/predictions`, { input: {} });
		expect(invalid.json.invalid_fields).toEqual([
			{ type: 'required', field: 'input.prompt', description: 'prompt is required' },
		]);
		expect(fake.stats().creates).toBe(1);
	});

	test('Cancel-After, scripts, faults and webhooks apply as on POST /predictions', async () => {
		const deadline = await api(
			`/models/${KONTEXT}/predictions`,
			{ input: { prompt: 'p' } },
			{ 'cancel-after': '1m' },
		);
		expect(deadline.json.deadline).not.toBeNull();

		fake.scriptNextPrediction({ outcome: 'failed', error: 'scripted failure' });
		const failed = await api(
			`/models/${KONTEXT}/predictions`,
			{ input: { prompt: 'p' } },
			{ prefer: 'wait=10' },
		);
		expect([failed.json.status, failed.json.error]).toEqual(['failed', 'scripted failure']);

		fake.inject({ kind: 'status', status: 503, path: /^\/models\/.+\/predictions$/ });
		expect((await api(`/models/${KONTEXT}/predictions`, { input: { prompt: 'p' } })).status).toBe(
			503,
		);

		const receiver = http.createServer((req, res) => {
			req.resume();
			req.on('end', () => res.end());
		});
		await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
		try {
			const port = (receiver.address() as AddressInfo).port;
			const hooked = await api(
				`/models/${KONTEXT}/predictions`,
				{
					input: { prompt: 'p' },
					webhook: `http://127.0.0.1:${port}/hook`,
					webhook_events_filter: ['completed'],
				},
				{ prefer: 'wait=10' },
			);
			expect(hooked.json.status).toBe('succeeded');
			for (let i = 0; i < 100 && !fake.webhookDeliveries[0]?.status; i++)
				await new Promise((r) => setTimeout(r, 20));
			expect(fake.webhookDeliveries.map((d) => [d.predictionId, d.event, d.status])).toEqual([
				[hooked.json.id, 'completed', 200],
			]);
		} finally {
			await new Promise((resolve) => receiver.close(resolve));
		}
	});
});

describe('input checked against the version schema', () => {
	test("range, type, enum (allOf $ref and inline), uri format, array items, required and unknown fields are Replicate's 422", async () => {
		const answer = await api('/predictions', {
			version: FILL_PRO,
			input: {
				image: 'not a uri',
				steps: 51,
				guidance: '3',
				output_format: 'gif',
				strength: 0.5,
			},
		});
		expect(answer.status).toBe(422);
		expect(answer.json.title).toBe('Input validation failed');
		expect(answer.json.status).toBe(422);
		expect(answer.json.invalid_fields).toEqual([
			{
				type: 'format',
				field: 'input.image',
				description: "Does not match format 'uri' (an http(s) URL or a data: URI)",
			},
			{
				type: 'number_lte',
				field: 'input.steps',
				description: 'Must be less than or equal to 50',
			},
			{
				type: 'invalid_type',
				field: 'input.guidance',
				description: 'Invalid type. Expected: number, given: string',
			},
			{
				type: 'enum',
				field: 'input.output_format',
				description: 'output_format must be one of the following: "jpg", "png"',
			},
			{
				type: 'additional_property_not_allowed',
				field: 'input.strength',
				description: 'Additional property strength is not allowed',
			},
		]);
		expect(answer.json.detail).toContain('- input.steps: Must be less than or equal to 50\n');

		const low = await api('/predictions', {
			version: FILL_PRO,
			input: { image: fake.sampleImageUrl, guidance: 1.5 },
		});
		expect(low.json.invalid_fields).toEqual([
			{
				type: 'number_gte',
				field: 'input.guidance',
				description: 'Must be greater than or equal to 2',
			},
		]);

		const inline = await api('/predictions', {
			version: IDEOGRAM,
			input: { prompt: 'p', aspect_ratio: '7:5', style_reference_images: 'one' },
		});
		expect(inline.json.invalid_fields.map((f: any) => [f.field, f.type])).toEqual([
			['input.aspect_ratio', 'enum'],
			['input.style_reference_images', 'invalid_type'],
		]);

		const items = await api('/predictions', {
			version: NANO,
			input: { prompt: 'p', image_input: [fake.sampleImageUrl, 'nope', 3] },
		});
		expect(items.json.invalid_fields).toEqual([
			{
				type: 'format',
				field: 'input.image_input.1',
				description: "Does not match format 'uri' (an http(s) URL or a data: URI)",
			},
			{
				type: 'invalid_type',
				field: 'input.image_input.2',
				description: 'Invalid type. Expected: string, given: integer',
			},
		]);

		const missing = await api('/predictions', { version: FILL_DEV_LATEST, input: {} });
		expect(missing.json.invalid_fields.map((f: any) => [f.field, f.type])).toEqual([
			['input.prompt', 'required'],
			['input.image', 'required'],
		]);
		expect(fake.stats().creates).toBe(0);
	});

	test("the schema's defaults are stored in the prediction's input", async () => {
		const created = await api('/predictions', {
			version: FILL_PRO,
			input: { image: fake.sampleImageUrl, steps: 20 },
		});
		expect(created.json.input).toEqual({
			image: fake.sampleImageUrl,
			steps: 20,
			outpaint: 'None',
			prompt_upsampling: false,
			guidance: 3,
			safety_tolerance: 2,
			output_format: 'jpg',
		});
	});
});

describe('outputs rendered from the inputs', () => {
	const picture = makeSamplePng(64, 48, 'image');
	const mask = makeSamplePng(64, 48, 'mask');

	test('flux-fill-pro repaints the WHITE of its mask; one URL ending in the output_format', async () => {
		const done = await run(FILL_PRO, { image: dataUri(picture), mask: dataUri(mask) });
		expect(done.status).toBe('succeeded');
		expect(typeof done.output).toBe('string');
		expect(done.output).toBe(`${fake.outputOrigin}/${done.id}/out-0.jpg`);
		const out = await image(done.output as string);
		expect([out.width, out.height]).toEqual([64, 48]);
		const sides = maskSides(out, decodePng(picture), decodePng(mask), true);
		expect(sides.repainted / sides.masked).toBeGreaterThan(0.95);
		expect(sides.keptWrong).toBe(0);
		// Only the URL the prediction gave exists.
		const png = await request(`${fake.outputOrigin}/${done.id}/out-0.png`);
		await png.body.text();
		expect(png.statusCode).toBe(404);
	});

	test('ideogram-v3-turbo repaints the BLACK of its mask; without an image it paints a plain picture of its aspect ratio', async () => {
		const done = await run(IDEOGRAM, {
			prompt: 'p',
			image: dataUri(picture),
			mask: dataUri(mask),
		});
		expect(done.output).toBe(`${fake.outputOrigin}/${done.id}/out-0.png`);
		const sides = maskSides(
			await image(done.output as string),
			decodePng(picture),
			decodePng(mask),
			false,
		);
		expect(sides.masked).toBeGreaterThan(0);
		expect(sides.repainted / sides.masked).toBeGreaterThan(0.95);
		expect(sides.keptWrong).toBe(0);

		const plain = await run(IDEOGRAM, { prompt: 'p', aspect_ratio: '16:9' });
		const out = await image(plain.output as string);
		expect([out.width, out.height]).toEqual([512, 288]);
	});

	test('flux-fill-dev gives an array of num_outputs URLs, each a different repaint', async () => {
		const done = await run(FILL_DEV_LATEST, {
			prompt: 'p',
			image: dataUri(picture),
			mask: dataUri(mask),
			num_outputs: 2,
		});
		expect(done.output).toEqual([0, 1].map((k) => `${fake.outputOrigin}/${done.id}/out-${k}.webp`));
		const [first, second] = await Promise.all((done.output as string[]).map((url) => image(url)));
		expect(first.data.equals(second.data)).toBe(false);
		expect(maskSides(first, decodePng(picture), decodePng(mask), true).keptWrong).toBe(0);
	});

	test('flux-kontext-pro transforms its input_image visibly', async () => {
		const done = await run(KONTEXT, { prompt: 'make it blue', input_image: dataUri(picture) });
		const out = await image(done.output as string);
		expect([out.width, out.height]).toEqual([64, 48]);
		expectTinted(out, decodePng(picture));
	});

	test('nano-banana combines its image_input side by side (a URL, a data URI); without images it paints a plain picture', async () => {
		const second = makeSamplePng(32, 48, 'mask');
		const sampleUrl = `${fake.sampleImageUrl}?width=64&height=48`;
		const done = await run(NANO, { prompt: 'p', image_input: [sampleUrl, dataUri(second)] });
		const out = await image(done.output as string);
		expect([out.width, out.height]).toEqual([96, 48]);
		expectTinted(out, decodePng(picture));
		expectTinted(out, decodePng(second), 64);

		const plain = await run(NANO, { prompt: 'p' });
		expect(plain.status).toBe('succeeded');
		expect((await image(plain.output as string)).width).toBe(512);
	});

	test('an input that is no image fails the prediction, naming the input', async () => {
		const gif = `data:image/gif;base64,${Buffer.from('GIF89a-not-really-an-image').toString('base64')}`;
		const single = await run(KONTEXT, { prompt: 'p', input_image: gif });
		expect(single.status).toBe('failed');
		expect(single.error).toMatch(/^cannot identify image file 'input_image'/);
		const inArray = await run(NANO, {
			prompt: 'p',
			image_input: [dataUri(picture), gif],
		});
		expect(inArray.status).toBe('failed');
		expect(inArray.error).toMatch(/^cannot identify image file 'image_input\[1\]'/);
		const remote = await run(NANO, { prompt: 'p', image_input: ['https://example.com/a.png'] });
		expect(remote.status).toBe('failed');
		expect(remote.error).toMatch(/never the internet/);
	});
});
