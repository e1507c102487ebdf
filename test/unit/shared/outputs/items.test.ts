/** Output items: n8n's table view shows keys in order, so status and the image URL come first. */
import {
	binaryPropertyFor,
	inTableOrder,
	predictionItems,
} from '../../../../nodes/shared/outputs/items';
import type { Prediction } from '../../../../nodes/shared/api/predictions';

const prediction = {
	id: 'abc123',
	model: 'stability-ai/stable-diffusion-inpainting',
	version: '95b7',
	input: { prompt: 'a vase' },
	logs: '',
	output: ['https://replicate.delivery/x/out-0.png'],
	error: null,
	status: 'succeeded',
	created_at: '2026-11-29T14:00:00Z',
} as unknown as Prediction;

it("puts status, output, error and id first and keeps every other field in the API's order", () => {
	const ordered = inTableOrder(prediction as never);
	expect(Object.keys(ordered)).toEqual([
		'status',
		'output',
		'error',
		'id',
		'model',
		'version',
		'input',
		'logs',
		'created_at',
	]);
	expect(ordered).toEqual(prediction);
});

it("one item per image leads with status and that image's URL", () => {
	const file = { data: '', mimeType: 'image/png' };
	const [item] = predictionItems(prediction, [file], 'itemPerImage', 'data');
	expect(Object.keys(item.json).slice(0, 4)).toEqual([
		'status',
		'output_url',
		'output_path',
		'output_index',
	]);
	expect(item.json.output_url).toBe('https://replicate.delivery/x/out-0.png');
	expect(item.json.output_path).toBe('output[0]');
});

describe('predictionItems', () => {
	const files = [
		{ data: '', mimeType: 'image/png', fileName: 'out-0.png' },
		{ data: '', mimeType: 'image/png', fileName: 'out-1.png' },
	];
	const two = {
		...prediction,
		output: ['https://replicate.delivery/x/out-0.png', 'https://replicate.delivery/x/out-1.png'],
	} as unknown as Prediction;

	it('without downloads: one item, the prediction JSON alone', () => {
		expect(predictionItems(two, undefined, 'itemPerImage', 'data')).toEqual([
			{ json: inTableOrder(two as never) },
		]);
		expect(predictionItems(two, [], 'allOnOneItem', 'data')).toHaveLength(1);
	});

	it('one item per image: each in the binary field, with its index and URL', () => {
		const items = predictionItems(two, files, 'itemPerImage', 'image');
		expect(
			items.map((item) => [item.json.output_index, item.json.output_url, item.json.output_path]),
		).toEqual([
			[0, 'https://replicate.delivery/x/out-0.png', 'output[0]'],
			[1, 'https://replicate.delivery/x/out-1.png', 'output[1]'],
		]);
		expect(items.map((item) => Object.keys(item.binary ?? {}))).toEqual([['image'], ['image']]);
		expect(items[1].binary?.image.fileName).toBe('out-1.png');
	});

	it('all images on one item: data, data_1, …', () => {
		const [item, ...rest] = predictionItems(two, files, 'allOnOneItem', 'data');
		expect(rest).toEqual([]);
		expect(Object.keys(item.binary ?? {})).toEqual(['data', 'data_1']);
		expect(item.binary?.data_1.fileName).toBe('out-1.png');
		expect(binaryPropertyFor('image', 0)).toBe('image');
		expect(binaryPropertyFor('image', 3)).toBe('image_3');
	});

	it('a single output URL (not a list) still names the image', () => {
		const single = {
			...prediction,
			output: 'https://replicate.delivery/x/only.png',
		} as unknown as Prediction;
		const [item] = predictionItems(single, [files[0]], 'itemPerImage', 'data');
		expect(item.json.output_url).toBe('https://replicate.delivery/x/only.png');
		expect(item.json.output_path).toBe('output');
	});

	it("an object output: each file names its URL and where it sat, the text stays in 'output'", () => {
		const output = {
			caption: 'two chairs',
			images: ['https://replicate.delivery/x/a.png', 'https://replicate.delivery/x/b.png'],
		};
		const shaped = { ...prediction, output } as unknown as Prediction;
		const items = predictionItems(shaped, files, 'itemPerImage', 'data');
		expect(items.map((item) => [item.json.output_url, item.json.output_path])).toEqual([
			['https://replicate.delivery/x/a.png', 'output.images[0]'],
			['https://replicate.delivery/x/b.png', 'output.images[1]'],
		]);
		expect(items[1].json.output).toEqual(output);
		const [together] = predictionItems(shaped, files, 'allOnOneItem', 'data');
		expect(together.binary?.data_1.fileName).toBe('out-1.png');
	});

	it('a text-only output: one item with the JSON and no binary', () => {
		const text = { ...prediction, output: 'A red chair.' } as unknown as Prediction;
		expect(predictionItems(text, [], 'itemPerImage', 'data')).toEqual([
			{ json: inTableOrder(text as never) },
		]);
	});
});
