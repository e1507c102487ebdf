/**
 * Outputs of any shape through n8n's engine: models answer one URL, a list, an object holding URLs
 * next to text, or text alone. The fake server makes the prediction; its create answer (which
 * Create and Wait receives finished, within Prefer: wait) is reshaped on the way out.
 */
import type { Prediction } from '../../tools/fake-replicate';
import { decodePng } from '../../tools/fake-replicate';
import { IMAGE_HEADS } from '../unit/fixtures';
import { apiRequests, runNode, urlInputs, useOperationServer } from './support';

const server = useOperationServer();

/** The create's answer carries `reshape(output)` as its output (the files stay on the server). */
function answerWithOutput(reshape: (urls: string[]) => unknown) {
	server.inject({
		method: 'POST',
		path: /^\/predictions$/,
		kind: 'mangle',
		mutate: (body: Prediction) => ({ ...body, output: reshape([body.output ?? []].flat()) }),
	});
}

const outputDownloads = () =>
	server.requests.filter((request) => request.origin === 'output' && /out-/.test(request.path));

/** A data URI of `head` and some padding: the node judges the file by these first bytes. */
const dataUri = (declared: string, head: Buffer) =>
	`data:${declared};base64,${Buffer.concat([head, Buffer.alloc(64)]).toString('base64')}`;

describe('outputs of any shape', () => {
	it('an object holding URLs next to a caption: each URL a file, named by where it sat', async () => {
		answerWithOutput((urls) => ({ caption: 'two chairs', images: urls, seed: 7 }));
		const { items, result } = await runNode(server, {
			...urlInputs(server),
			options: { numOutputs: 2, width: 256, height: 128 },
		});
		expect(result.status).toBe('success');
		expect(apiRequests(server)).toHaveLength(1);
		expect(items.map((item) => [item.json.output_index, item.json.output_path])).toEqual([
			[0, 'output.images[0]'],
			[1, 'output.images[1]'],
		]);
		expect(Object.keys(items[0].json).slice(0, 4)).toEqual([
			'status',
			'output_url',
			'output_path',
			'output_index',
		]);
		expect(items[1].json.output_url).toMatch(/\/out-1\.png$/);
		expect(items[1].json.output).toMatchObject({ caption: 'two chairs', seed: 7 });
		expect(items[1].binary!.data).toMatchObject({
			mimeType: 'image/png',
			fileName: `${items[1].json.id}-1.png`,
		});
		const png = decodePng(await result.binaryBuffer(items[1], 'data'));
		expect([png.width, png.height]).toEqual([256, 128]);
		expect(outputDownloads().every((request) => !request.headers.authorization)).toBe(true);
	});

	it('all on one item: data, data_1, … in the order of the output, whatever its shape', async () => {
		const jpeg = dataUri('image/png', IMAGE_HEADS['image/jpeg']);
		answerWithOutput(([url]) => ({ result: { image: url }, extra: [[jpeg]], note: 'done' }));
		const { items } = await runNode(server, {
			...urlInputs(server),
			options: { outputLayout: 'allOnOneItem' },
		});
		expect(items).toHaveLength(1);
		const binary = items[0].binary!;
		expect(Object.keys(binary)).toEqual(['data', 'data_1']);
		expect(binary.data).toMatchObject({ mimeType: 'image/png', fileName: /-0\.png$/ });
		// The bytes decide, not the data URI's declared type.
		expect(binary.data_1).toMatchObject({ mimeType: 'image/jpeg', fileName: /-1\.jpg$/ });
	});

	it('data URIs are typed by their bytes: WebP, JPEG, GIF', async () => {
		answerWithOutput(() => [
			dataUri('image/png', IMAGE_HEADS['image/webp']),
			dataUri('application/octet-stream', IMAGE_HEADS['image/jpeg']),
			dataUri('image/gif', IMAGE_HEADS['image/gif']),
		]);
		const { items } = await runNode(server, urlInputs(server));
		expect(
			items.map((item) => [
				item.json.output_path,
				item.binary!.data.mimeType,
				item.binary!.data.fileExtension,
			]),
		).toEqual([
			['output[0]', 'image/webp', 'webp'],
			['output[1]', 'image/jpeg', 'jpg'],
			['output[2]', 'image/gif', 'gif'],
		]);
		expect(outputDownloads()).toHaveLength(0);
	});

	it('text alone is a result: one item with the JSON, no binary, nothing downloaded', async () => {
		answerWithOutput(() => 'A red armchair in a sunlit room.');
		const { items, result, errorMessage } = await runNode(server, urlInputs(server));
		expect(errorMessage).toBeUndefined();
		expect(result.status).toBe('success');
		expect(items).toHaveLength(1);
		expect(items[0].binary).toBeUndefined();
		expect(items[0].json).toMatchObject({
			status: 'succeeded',
			output: 'A red armchair in a sunlit room.',
		});
		expect(items[0].json.output_url).toBeUndefined();
		expect(outputDownloads()).toHaveLength(0);
	});

	it('an empty output is still the no-output error', async () => {
		answerWithOutput(() => ({ images: [], caption: '' }));
		const { errorMessage } = await runNode(server, urlInputs(server));
		expect(errorMessage).toMatch(/^Prediction [a-z0-9]+ succeeded but returned no output files$/);
	});
});
