/**
 * Bad input fails before any request (a prediction costs money), with an error that names the
 * item, the field, the value and what is allowed.
 */
import type { INodeExecutionData, INodeParameters } from 'n8n-workflow';

import type { FakeReplicate } from '../../tools/fake-replicate';
import { makeSamplePng } from '../../tools/fake-replicate';
import { useFakeReplicate } from '../support/fakeReplicate';
import { apiRequests, binaryItem, runNode, urlInputs } from './support';

const server = useFakeReplicate({ modelTimeMs: 20 });

const png = makeSamplePng(64, 64, 'image');
const withFiles = (files: Record<string, Buffer>): INodeExecutionData[] => [
	binaryItem(
		Object.fromEntries(
			Object.entries(files).map(([name, content]) => [
				name,
				{ content, fileName: `${name}.bin`, mimeType: 'image/png' },
			]),
		),
	),
];

interface BadInputCase {
	name: string;
	parameters: (server: FakeReplicate) => INodeParameters;
	inputItems?: INodeExecutionData[];
	/** Every part must appear in the error message. */
	expected: string[];
}

const cases: BadInputCase[] = [
	...[500, 2048].flatMap((value) =>
		(['width', 'height'] as const).map((field) => ({
			name: `${field} ${value}`,
			parameters: (s: FakeReplicate) => ({ ...urlInputs(s), options: { [field]: value } }),
			expected: [
				`${field === 'width' ? 'Width' : 'Height'} (${field}): ${value} must be a multiple of 64 from 64 to 1024`,
			],
		})),
	),
	...[0, 5].map((value) => ({
		name: `outputs ${value}`,
		parameters: (s: FakeReplicate) => ({ ...urlInputs(s), options: { numOutputs: value } }),
		expected: [`Number of Outputs (num_outputs): ${value} must be a whole number from 1 to 4`],
	})),
	...[0, 501].map((value) => ({
		name: `steps ${value}`,
		parameters: (s: FakeReplicate) => ({ ...urlInputs(s), options: { numInferenceSteps: value } }),
		expected: [
			`Inference Steps (num_inference_steps): ${value} must be a whole number from 1 to 500`,
		],
	})),
	...[0.5, 21].map((value) => ({
		name: `guidance ${value}`,
		parameters: (s: FakeReplicate) => ({ ...urlInputs(s), options: { guidanceScale: value } }),
		expected: [`Guidance Scale (guidance_scale): ${value} must be a number from 1 to 20`],
	})),
	{
		name: 'scheduler EULER',
		parameters: (s) => ({ ...urlInputs(s), options: { scheduler: 'EULER' } }),
		expected: [
			'Scheduler (scheduler): "EULER" must be one of DDIM, K_EULER, DPMSolverMultistep, K_EULER_ANCESTRAL, PNDM, KLMS',
		],
	},
	{
		name: 'width from an expression (expressions bypass the UI)',
		parameters: (s) => ({ ...urlInputs(s), options: { width: '={{ 100 * 5 }}' } }),
		expected: ['Width (width): 500 must be a multiple of 64'],
	},
	{
		name: 'empty image',
		// An expression: n8n itself refuses to run a node whose required field is literally empty.
		parameters: (s) => ({ ...urlInputs(s), imageUrl: '={{ "" }}' }),
		expected: ['Image URL (image): "" is required: an http(s) URL or a data URI'],
	},
	{
		name: 'empty mask',
		parameters: (s) => ({ ...urlInputs(s), maskUrl: '  ' }),
		expected: ['Mask URL (mask): "" is required: an http(s) URL or a data URI'],
	},
	{
		name: 'image neither http(s) URL nor data URI',
		parameters: (s) => ({ ...urlInputs(s), imageUrl: 'ftp://example.com/photo.png' }),
		expected: [
			'Image URL (image): "ftp://example.com/photo.png" must be an http(s) URL or a data URI',
		],
	},
	{
		name: 'missing binary property',
		parameters: (s) => ({ ...urlInputs(s), imageSource: 'binary', imageBinaryProperty: 'photo' }),
		inputItems: withFiles({ data: png }),
		expected: [
			'Image Binary Field Name (image): "photo": the input item has no binary field of that name',
		],
	},
	{
		name: 'binary that is not an image',
		parameters: (s) => ({ ...urlInputs(s), maskSource: 'binary', maskBinaryProperty: 'mask' }),
		inputItems: withFiles({ mask: Buffer.from('name,price\nchair,12\n') }),
		expected: [
			'Mask Binary Field Name (mask): "mask": the file is not an image (mask.bin, image/png, 20 bytes)',
		],
	},
	{
		name: 'Extra Input that is a JSON array',
		parameters: (s) => ({ ...urlInputs(s), options: { extraInput: '[1, 2]' } }),
		expected: ['Extra Input (JSON) (item 0): [1, 2] is not a JSON object'],
	},
	{
		name: 'Extra Input that is not JSON',
		parameters: (s) => ({ ...urlInputs(s), options: { extraInput: '{strength: 0.8' } }),
		expected: ['Extra Input (JSON) (item 0): {strength: 0.8 is not a JSON object'],
	},
	{
		name: 'Extra Input that overrides a form field',
		parameters: (s) => ({ ...urlInputs(s), options: { extraInput: '{"width": 2048}' } }),
		expected: ["Extra Input (JSON) (item 0): width is already set by the node's fields"],
	},
	{
		name: 'empty prompt (from an expression)',
		parameters: (s) => ({ ...urlInputs(s), prompt: '={{ "  " }}' }),
		expected: ['Prompt (prompt): "  " is required: describe what to paint into the masked area'],
	},
	{
		name: 'seed that is no whole number',
		parameters: (s) => ({ ...urlInputs(s), options: { seed: '12.5' } }),
		expected: ['Seed (seed): "12.5" must be a whole number'],
	},
	{
		name: 'malformed model version',
		parameters: (s) => ({
			...urlInputs(s),
			options: { modelVersion: 'stability-ai/stable-diffusion-inpainting:latest' },
		}),
		expected: [
			'Model Version (version): "stability-ai/stable-diffusion-inpainting:latest" must be "owner/name:<64 hex characters>"',
		],
	},
];

describe('bad input fails before any request', () => {
	it.each(cases)('$name', async ({ parameters, inputItems, expected }) => {
		const { result, errorMessage } = await runNode(server, parameters(server), { inputItems });
		expect(result.status).toBe('error');
		for (const part of expected) expect(errorMessage).toContain(part);
		expect(apiRequests(server)).toHaveLength(0);
	});

	it('an empty Image URL gets one message, not also "not a URL"', async () => {
		const { errorMessage } = await runNode(server, { ...urlInputs(server), imageUrl: '={{ "" }}' });
		expect(errorMessage).toBe(
			'Invalid input (item 0): Image URL (image): "" is required: an http(s) URL or a data URI',
		);
	});

	it('names the item and lists every problem at once', async () => {
		const { errorMessage } = await runNode(
			server,
			{ ...urlInputs(server), options: { width: '={{ $json.w }}', numOutputs: 9 } },
			{ inputItems: [{ json: { w: 512 } }, { json: { w: 100 } }] },
		);
		expect(errorMessage).toMatch(/^Invalid input \(item 0\): Number of Outputs \(num_outputs\): 9/);
		expect(apiRequests(server)).toHaveLength(0);
	});
});
