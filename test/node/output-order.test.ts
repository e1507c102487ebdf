/** n8n's table view shows an item's keys in order: status and the image URL come first. */
import { inTableOrder, predictionItems } from '../../nodes/shared/outputs/items';
import type { Prediction } from '../../nodes/shared/api/predictions';

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
	expect(Object.keys(item.json).slice(0, 3)).toEqual(['status', 'output_url', 'output_index']);
	expect(item.json.output_url).toBe('https://replicate.delivery/x/out-0.png');
});
