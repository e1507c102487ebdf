/**
 * The parts of the fake's schema check no catalog model exercises yet (its HTTP behaviour is in
 * models-predictions.test.ts): string lengths, array sizes, nullable, a direct `$ref`, and a
 * secret input, which Replicate shows redacted.
 */
import { checkInput, REDACTED, type InvalidField } from '../../tools/fake-replicate';
import { redactSecrets } from '../../tools/fake-replicate/inputSchema';

const document = {
	components: {
		schemas: {
			Input: {
				type: 'object',
				required: ['prompt'],
				properties: {
					prompt: { type: 'string', minLength: 3, maxLength: 5, 'x-order': 0 },
					images: { type: 'array', items: { type: 'string' }, maxItems: 1, 'x-order': 1 },
					seed: { type: 'integer', nullable: true, default: null, 'x-order': 2 },
					quality: { $ref: '#/components/schemas/quality', default: 'low', 'x-order': 3 },
					openai_api_key: {
						type: 'string',
						format: 'password',
						'x-cog-secret': true,
						'x-order': 4,
					},
				},
			},
			quality: { type: 'string', enum: ['low', 'high'] },
		},
	},
};

function errorsOf(input: Record<string, unknown>): Array<[string, string, string]> {
	const checked = checkInput(document, input);
	return checked.ok
		? []
		: checked.errors.map((e: InvalidField) => [e.field, e.type, e.description]);
}

test('string lengths, array sizes, nullable and a direct $ref are checked as gojsonschema does', () => {
	expect(errorsOf({ prompt: 'ab', images: ['a', 'b'], seed: 'x', quality: 'mid' })).toEqual([
		['input.prompt', 'string_gte', 'String length must be greater than or equal to 3'],
		['input.images', 'array_max_items', 'Array must have at most 1 items'],
		['input.seed', 'invalid_type', 'Invalid type. Expected: integer, given: string'],
		['input.quality', 'enum', 'quality must be one of the following: "low", "high"'],
	]);
	expect(errorsOf({ prompt: 'abcdef' })).toEqual([
		['input.prompt', 'string_lte', 'String length must be less than or equal to 5'],
	]);
	// null is a value only where the schema says nullable; a null default is no default.
	expect(checkInput(document, { prompt: 'abc', seed: null })).toEqual({
		ok: true,
		input: { prompt: 'abc', seed: null, quality: 'low' },
	});
	expect(errorsOf({ prompt: null })).toEqual([
		['input.prompt', 'invalid_type', 'Invalid type. Expected: string, given: null'],
	]);
});

test('a secret input is shown redacted, the others as given', () => {
	const input = { prompt: 'abc', openai_api_key: 'sk-live-123' };
	expect(REDACTED).toBe('**********');
	expect(redactSecrets(document, input)).toEqual({ prompt: 'abc', openai_api_key: REDACTED });
	expect(input.openai_api_key).toBe('sk-live-123');
});
