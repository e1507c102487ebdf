/**
 * Any Replicate model through n8n's engine: the Model picker names it, the Model Inputs mapper
 * holds its values, the node reads the model's schema from the fake server (which holds the
 * models' real schemas and refuses what Replicate refuses), checks the values against it before
 * anything is paid for, and sends one create in the model's own way (official: by name).
 */
import type { INodeParameters } from 'n8n-workflow';

import { decodePng, makeSamplePng } from '../../tools/fake-replicate';
import {
	FILL_DEV,
	FILL_DEV_LATEST,
	FILL_DEV_OLDER,
	FILL_PRO,
	IDEOGRAM,
	modelParameters,
	NANO_BANANA,
} from '../support/models';
import { apiRequests, binaryItem, createRequests, runNode, useOperationServer } from './support';

const server = useOperationServer();

const photo = makeSamplePng(64, 48, 'image');
const mask = makeSamplePng(64, 48, 'mask');
const second = makeSamplePng(32, 32, 'image');

/** An item carrying a photo (`data`), a mask (`mask`) and a second photo (`data_1`). */
const filesItem = () =>
	binaryItem({
		data: { content: photo, fileName: 'photo.png', mimeType: 'image/png' },
		mask: { content: mask, fileName: 'mask.png', mimeType: 'image/png' },
		data_1: { content: second, fileName: 'second.png', mimeType: 'image/png' },
	});

function modelNode(
	model: string,
	values: Record<string, unknown>,
	extra: INodeParameters = {},
	mode = 'name',
): INodeParameters {
	return { ...modelParameters(model, values, mode), ...extra };
}

const modelReads = () =>
	apiRequests(server).filter(
		(request) => request.method === 'GET' && /\/models\//.test(request.path),
	);

const sentBody = (index = 0) =>
	createRequests(server)[index].json as { version: string; input: Record<string, unknown> };

describe('any model', () => {
	it('an official model (flux-fill-pro) runs by name with binary image and mask from the item', async () => {
		const { items, result } = await runNode(
			server,
			modelNode(FILL_PRO, {
				prompt: 'a red armchair',
				image: 'data',
				mask: 'mask',
				steps: 20,
				output_format: 'png',
				prompt_upsampling: true,
			}),
			{ inputItems: [filesItem()] },
		);
		expect(result.status).toBe('success');
		expect(modelReads().map((request) => request.path)).toEqual([
			expect.stringMatching(new RegExp(`/models/${FILL_PRO}$`)),
		]);
		expect(createRequests(server)).toHaveLength(1);
		const body = sentBody();
		expect(body.version).toBe(FILL_PRO);
		expect(body.input).toEqual({
			prompt: 'a red armchair',
			image: `data:image/png;base64,${photo.toString('base64')}`,
			mask: `data:image/png;base64,${mask.toString('base64')}`,
			steps: 20,
			output_format: 'png',
			prompt_upsampling: true,
		});
		expect(items).toHaveLength(1);
		expect(items[0].json.model).toBe(FILL_PRO);
		expect(items[0].binary!.data.mimeType).toBe('image/png');
		const out = decodePng(await result.binaryBuffer(items[0], 'data'));
		expect([out.width, out.height]).toEqual([64, 48]);
	});

	it('a versioned model (flux-fill-dev) runs its latest version, pinned by id in the create', async () => {
		const { items, result } = await runNode(
			server,
			modelNode(FILL_DEV, {
				prompt: 'a lamp',
				image: server.sampleImageUrl,
				mask: server.sampleMaskUrl,
				num_outputs: '2',
			}),
		);
		expect(result.status).toBe('success');
		expect(sentBody().version).toBe(`${FILL_DEV}:${FILL_DEV_LATEST}`);
		// A number typed as text (an expression's result) is sent as the number the schema wants.
		expect(sentBody().input.num_outputs).toBe(2);
		expect(items.map((item) => item.json.output_index)).toEqual([0, 1]);
	});

	it("a pinned Model Version reads that version's schema and runs it", async () => {
		const { result } = await runNode(
			server,
			modelNode(
				FILL_DEV,
				{ prompt: 'a lamp', image: server.sampleImageUrl, mask: server.sampleMaskUrl },
				{ options: { modelVersion: { __rl: true, mode: 'id', value: FILL_DEV_OLDER } } },
			),
		);
		expect(result.status).toBe('success');
		expect(modelReads().map((request) => request.path)).toEqual([
			expect.stringMatching(new RegExp(`/models/${FILL_DEV}/versions/${FILL_DEV_OLDER}$`)),
		]);
		expect(sentBody().version).toBe(`${FILL_DEV}:${FILL_DEV_OLDER}`);
	});

	it('a list of images (nano-banana image_input) takes binary fields and URLs in order', async () => {
		const { result } = await runNode(
			server,
			modelNode(NANO_BANANA, {
				prompt: 'put the two together',
				image_input: ['data', server.sampleImageUrl, 'data_1'],
			}),
			{ inputItems: [filesItem()] },
		);
		expect(result.status).toBe('success');
		expect(sentBody().version).toBe(NANO_BANANA);
		expect(sentBody().input.image_input).toEqual([
			`data:image/png;base64,${photo.toString('base64')}`,
			server.sampleImageUrl,
			`data:image/png;base64,${second.toString('base64')}`,
		]);
	});

	it('a model chosen By URL (a replicate.com link) runs that model', async () => {
		const { result } = await runNode(
			server,
			modelNode(
				`https://replicate.com/${FILL_PRO}`,
				{ prompt: 'a chair', image: server.sampleImageUrl, mask: server.sampleMaskUrl },
				{},
				'url',
			),
		);
		expect(result.status).toBe('success');
		expect(sentBody().version).toBe(FILL_PRO);
	});

	it('reads the schema once for an execution of many items, and not again within a minute', async () => {
		// A model no other test here runs: the process keeps a schema for a minute.
		const values = { prompt: 'a chair', image: 'data', mask: 'mask' };
		const inputItems = [filesItem(), filesItem(), filesItem(), filesItem()];
		const first = await runNode(server, modelNode(IDEOGRAM, values), { inputItems });
		expect(first.result.status).toBe('success');
		expect(createRequests(server)).toHaveLength(4);
		expect(modelReads()).toHaveLength(1);
		const again = await runNode(server, modelNode(IDEOGRAM, values), { inputItems });
		expect(again.result.status).toBe('success');
		expect(createRequests(server)).toHaveLength(8);
		expect(modelReads()).toHaveLength(1);
	});

	it('bad values fail before any create, one message per field: its title, API name, value and what is allowed', async () => {
		const { errorMessage, errorDescription } = await runNode(
			server,
			modelNode(FILL_DEV, {
				prompt: 'a lamp',
				image: 'photo',
				num_outputs: 9,
				output_format: 'gif',
				guidance: 'strong',
				colour: 'red',
			}),
			{ inputItems: [filesItem()] },
		);
		expect(createRequests(server)).toHaveLength(0);
		const lines = (errorDescription ?? '').split('\n').slice(1);
		expect(errorMessage).toMatch(/^Invalid input \(item 0\): /);
		expect(lines).toEqual([
			expect.stringMatching(
				/^colour \(colour\): "red" is not an input of this model \(its inputs: prompt, image, mask, num_outputs, .*\)$/,
			),
			'Image (image): "photo" is neither an http(s) URL, a data URI nor a binary field of the item (this item\'s binary fields: data, mask, data_1)',
			'Num Outputs (num_outputs): 9 must be a whole number from 1 to 4',
			'Guidance (guidance): "strong" must be a number from 0 to 100',
			'Output Format (output_format): "gif" must be one of "webp", "jpg", "png"',
		]);
	});

	it('an unknown model fails before any create and says what to do', async () => {
		const { errorMessage, errorDescription } = await runNode(
			server,
			modelNode('nobody/no-such-model', { prompt: 'x' }),
		);
		expect(createRequests(server)).toHaveLength(0);
		expect(errorMessage).toBe(
			'Model nobody/no-such-model was not found (GET /models/nobody/no-such-model answered 404)',
		);
		expect(errorDescription).toMatch(/pin a version/);
	});

	it('a gateway without the models API still runs a pinned model, its input unchecked', async () => {
		server.inject({ method: 'GET', path: /^\/models\//, kind: 'status', status: 404, times: 5 });
		const { result } = await runNode(
			server,
			modelNode(
				`${FILL_DEV}:${FILL_DEV_LATEST}`,
				{},
				{
					options: {
						extraInput: JSON.stringify({
							prompt: 'a lamp',
							image: server.sampleImageUrl,
							mask: server.sampleMaskUrl,
						}),
					},
				},
			),
		);
		expect(result.status).toBe('success');
		expect(sentBody().version).toBe(`${FILL_DEV}:${FILL_DEV_LATEST}`);
		expect(sentBody().input.prompt).toBe('a lamp');
	});

	it('Create Only runs any model too', async () => {
		const { items, result } = await runNode(
			server,
			{
				operation: 'createOnly',
				...modelNode(FILL_PRO, { prompt: 'a chair', image: 'data', mask: 'mask' }),
			},
			{ inputItems: [filesItem()] },
		);
		expect(result.status).toBe('success');
		expect(sentBody().version).toBe(FILL_PRO);
		expect(items[0].json.model).toBe(FILL_PRO);
	});
});
