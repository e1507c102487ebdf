/** Reading any model's input rules from its Cog schema, and checking an item's values against them. */
import { mapperField } from '../../../../nodes/ReplicateInpainting/methods/resourceMapping';
import type { InputField } from '../../../../nodes/ReplicateInpainting/schema/modelSchema';
import {
	checkInputValues,
	HIDDEN_VALUE,
	inputFieldsOf,
	withSecretsHidden,
} from '../../../../nodes/ReplicateInpainting/schema/modelSchema';

/** A version's OpenAPI document the way Cog writes it. */
const openapi = {
	components: {
		schemas: {
			Input: {
				type: 'object',
				required: ['image'],
				properties: {
					steps: {
						type: 'integer',
						title: 'Steps',
						minimum: 1,
						maximum: 50,
						default: 50,
						'x-order': 3,
					},
					image: { type: 'string', format: 'uri', title: 'Image', 'x-order': 1 },
					prompt: { type: 'string', title: 'Prompt', 'x-order': 0 },
					output_format: {
						allOf: [{ $ref: '#/components/schemas/output_format' }],
						default: 'jpg',
						'x-order': 4,
					},
					num_outputs: { enum: [1, 2, 4], type: 'integer', title: 'Num Outputs', 'x-order': 5 },
					image_input: {
						type: 'array',
						items: { type: 'string', format: 'uri' },
						title: 'Image Input',
						'x-order': 2,
					},
					guidance: { type: 'number', title: 'Guidance', minimum: 2, maximum: 5, 'x-order': 6 },
					upsample: { type: 'boolean', title: 'Upsample', 'x-order': 7 },
					api_key: {
						type: 'string',
						format: 'password',
						'x-cog-secret': true,
						title: 'Api Key',
						'x-order': 8,
					},
					seed: { anyOf: [{ type: 'integer' }, { type: 'null' }], title: 'Seed', 'x-order': 9 },
				},
			},
			output_format: {
				title: 'output_format',
				description: 'An enumeration.',
				enum: ['jpg', 'png'],
				type: 'string',
			},
		},
	},
};

const fields = inputFieldsOf(openapi) as InputField[];
const field = (name: string) => fields.find((entry) => entry.name === name) as InputField;

describe('inputFieldsOf', () => {
	it('lists the inputs in x-order, with Cog-style titles where the schema has none', () => {
		expect(fields.map((entry) => [entry.name, entry.title])).toEqual([
			['prompt', 'Prompt'],
			['image', 'Image'],
			['image_input', 'Image Input'],
			['steps', 'Steps'],
			['output_format', 'Output Format'],
			['num_outputs', 'Num Outputs'],
			['guidance', 'Guidance'],
			['upsample', 'Upsample'],
			['api_key', 'Api Key'],
			['seed', 'Seed'],
		]);
	});

	it('reads choices through allOf/$ref and inline, files, lists of files, secrets and nullable', () => {
		expect(field('output_format')).toMatchObject({
			kind: 'string',
			choices: ['jpg', 'png'],
			default: 'jpg',
		});
		expect(field('output_format').description).toBeUndefined();
		expect(field('num_outputs')).toMatchObject({ kind: 'integer', choices: [1, 2, 4] });
		expect(field('image')).toMatchObject({ file: true, required: true });
		expect(field('image_input')).toMatchObject({ kind: 'array', items: { file: true } });
		expect(field('api_key').secret).toBe(true);
		expect(field('seed')).toMatchObject({ kind: 'integer', nullable: true });
		expect(field('steps')).toMatchObject({ minimum: 1, maximum: 50, required: false });
	});

	it('is undefined for a document without an Input schema', () => {
		expect(inputFieldsOf({})).toBeUndefined();
		expect(inputFieldsOf({ components: { schemas: { Input: 'x' } } })).toBeUndefined();
		expect(inputFieldsOf(null)).toBeUndefined();
	});
});

describe('checkInputValues', () => {
	it('converts what forms and expressions give, and leaves empty fields to the model', () => {
		const checked = checkInputValues(
			fields,
			{
				prompt: 'a chair',
				image: 'https://example.com/a.png',
				steps: '20',
				num_outputs: '2',
				upsample: 'true',
				guidance: 2.5,
				seed: '',
				output_format: null,
			},
			[],
		);
		expect(checked.problems).toEqual([]);
		expect(checked.input).toEqual({
			prompt: 'a chair',
			image: 'https://example.com/a.png',
			steps: 20,
			num_outputs: 2,
			upsample: true,
			guidance: 2.5,
		});
	});

	it('takes binary field names for files, in place in a list', () => {
		const checked = checkInputValues(
			fields,
			{ image: 'data', image_input: '["data_1", "https://example.com/b.png", "data"]' },
			['data', 'data_1'],
		);
		expect(checked.problems).toEqual([]);
		expect(checked.input).toEqual({ image_input: [null, 'https://example.com/b.png', null] });
		expect(checked.binaryFiles.map(({ field, index, source }) => [field, index, source])).toEqual([
			['image', undefined, { from: 'binary', property: 'data' }],
			['image_input', 0, { from: 'binary', property: 'data_1' }],
			['image_input', 2, { from: 'binary', property: 'data' }],
		]);
	});

	it('one problem per field, naming what is allowed; secrets are never shown', () => {
		const checked = checkInputValues(
			fields,
			{
				steps: 51,
				guidance: 'x',
				num_outputs: 3,
				output_format: 'gif',
				upsample: 'yes',
				image_input: ['data', 'nope'],
				api_key: { key: 'sk-123' },
				colour: 'red',
			},
			['data'],
		);
		expect(checked.problems.map(({ field, value, rule }) => [field, value, rule])).toEqual([
			[
				'colour',
				'red',
				expect.stringMatching(/^is not an input of this model \(its inputs: prompt, image/),
			],
			[
				'image',
				'',
				'is required: an http(s) URL, a data URI or the name of a binary field of the item',
			],
			[
				'image_input',
				['data', 'nope'],
				expect.stringMatching(/^entry 1 is neither an http\(s\) URL/),
			],
			['steps', 51, 'must be a whole number from 1 to 50'],
			['output_format', 'gif', 'must be one of "jpg", "png"'],
			['num_outputs', 3, 'must be one of 1, 2, 4'],
			['guidance', 'x', 'must be a number from 2 to 5'],
			['upsample', 'yes', 'must be true or false'],
			['api_key', HIDDEN_VALUE, 'must be text'],
		]);
	});
});

it('withSecretsHidden hides the secret inputs a prediction echoes, and nothing else', () => {
	const prediction = { id: 'p1', input: { prompt: 'a', api_key: 'sk-123' } };
	expect(withSecretsHidden(prediction, ['api_key'])).toEqual({
		id: 'p1',
		input: { prompt: 'a', api_key: HIDDEN_VALUE },
	});
	expect(withSecretsHidden(prediction, [])).toBe(prediction);
});

it("the resource mapper shows each input typed, with the schema's choices and defaults", () => {
	expect(fields.map(mapperField).map(({ id, type, required }) => [id, type, required])).toEqual([
		['prompt', 'string', false],
		['image', 'string', true],
		['image_input', 'array', false],
		['steps', 'number', false],
		['output_format', 'options', false],
		['num_outputs', 'options', false],
		['guidance', 'number', false],
		['upsample', 'boolean', false],
		['api_key', 'string', false],
		['seed', 'number', false],
	]);
	expect(mapperField(field('output_format'))).toMatchObject({
		displayName: 'Output Format',
		defaultValue: 'jpg',
		options: [
			{ name: 'jpg', value: 'jpg' },
			{ name: 'png', value: 'png' },
		],
	});
	expect(mapperField(field('image')).displayName).toBe('Image (URL or Binary Field)');
});
