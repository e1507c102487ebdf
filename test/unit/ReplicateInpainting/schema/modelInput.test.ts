/**
 * The model's input rules: each problem names the field as the form labels
 * it, the API field, the value and what is allowed, e.g. the README's
 * `Width (width): 500 must be a multiple of 64 from 64 to 1024`.
 */
import {
	checkModelInput,
	checkModelVersion,
	DEFAULT_MODEL_VERSION,
	DEFAULTS,
	describeValue,
	DIMENSIONS,
	formatProblem,
	imageUriProblem,
	MODEL_VERSION_ID,
} from '../../../../nodes/ReplicateInpainting/schema/modelInput';
import { IMAGE_HEADS, latin1 } from '../../fixtures';

const valid = {
	prompt: 'a vase of tulips',
	image: 'https://example.com/photo.png',
	mask: 'https://example.com/mask.png',
	...DEFAULTS,
};

function problems(overrides: Record<string, unknown>): string[] {
	const result = checkModelInput({ ...valid, ...overrides });
	if (result.ok) return [];
	return result.problems.map(formatProblem);
}

describe('checkModelInput', () => {
	it("accepts the form's defaults with a prompt and two URLs, keeping Extra Input fields", () => {
		const result = checkModelInput({
			...valid,
			seed: 42,
			negative_prompt: 'blurry',
			strength: 0.8,
		});
		expect(result).toEqual({
			ok: true,
			input: { ...valid, seed: 42, negative_prompt: 'blurry', strength: 0.8 },
		});
	});

	it('offers 64 to 1024 px in steps of 64', () => {
		expect(DIMENSIONS).toEqual([
			64, 128, 192, 256, 320, 384, 448, 512, 576, 640, 704, 768, 832, 896, 960, 1024,
		]);
	});

	it.each([
		[{ width: 500 }, 'Width (width): 500 must be a multiple of 64 from 64 to 1024'],
		[{ height: 2048 }, 'Height (height): 2048 must be a multiple of 64 from 64 to 1024'],
		[{ height: 0 }, 'Height (height): 0 must be a multiple of 64 from 64 to 1024'],
		[{ width: '512' }, 'Width (width): "512" must be a number'],
		[{ num_outputs: 5 }, 'Number of Outputs (num_outputs): 5 must be a whole number from 1 to 4'],
		[
			{ num_outputs: 2.5 },
			'Number of Outputs (num_outputs): 2.5 must be a whole number from 1 to 4',
		],
		[
			{ num_inference_steps: 0 },
			'Inference Steps (num_inference_steps): 0 must be a whole number from 1 to 500',
		],
		[
			{ num_inference_steps: 501 },
			'Inference Steps (num_inference_steps): 501 must be a whole number from 1 to 500',
		],
		[{ guidance_scale: 0.5 }, 'Guidance Scale (guidance_scale): 0.5 must be a number from 1 to 20'],
		[
			{ guidance_scale: 20.5 },
			'Guidance Scale (guidance_scale): 20.5 must be a number from 1 to 20',
		],
		[
			{ scheduler: 'Euler' },
			'Scheduler (scheduler): "Euler" must be one of DDIM, K_EULER, DPMSolverMultistep, K_EULER_ANCESTRAL, PNDM, KLMS',
		],
		[{ seed: 1.5 }, 'Seed (seed): 1.5 must be a whole number'],
		[{ seed: '42' }, 'Seed (seed): "42" must be a whole number'],
		[
			{ prompt: '  ' },
			'Prompt (prompt): "  " is required: describe what to paint into the masked area',
		],
		[{ prompt: 42 }, 'Prompt (prompt): 42 must be text'],
		[{ negative_prompt: 5 }, 'Negative Prompt (negative_prompt): 5 must be text'],
		[
			{ disable_safety_checker: 'no' },
			'Disable Safety Checker (disable_safety_checker): "no" must be true or false',
		],
		[{ image: 'photo.png' }, 'Image URL (image): "photo.png" must be an http(s) URL or a data URI'],
		[
			{ mask: 'file:///tmp/mask.png' },
			'Mask URL (mask): "file:///tmp/mask.png" must be an http(s) URL or a data URI',
		],
		[{ image: 3 }, 'Image URL (image): 3 must be text: an http(s) URL or a data URI'],
	])('refuses %j: %s', (overrides, message) => {
		expect(problems(overrides)).toEqual([message]);
	});

	it('reports every problem at once, in the order of the form', () => {
		expect(problems({ num_outputs: 9, width: 500, prompt: '' })).toEqual([
			'Prompt (prompt): "" is required: describe what to paint into the masked area',
			'Width (width): 500 must be a multiple of 64 from 64 to 1024',
			'Number of Outputs (num_outputs): 9 must be a whole number from 1 to 4',
		]);
	});

	it('accepts both ends of every range', () => {
		for (const overrides of [
			{ width: 64, height: 1024 },
			{ num_outputs: 1, num_inference_steps: 500, guidance_scale: 1 },
			{ num_outputs: 4, num_inference_steps: 1, guidance_scale: 20 },
			{ seed: 0 },
			{ seed: -1 },
		]) {
			expect(problems(overrides)).toEqual([]);
		}
	});
});

describe('imageUriProblem', () => {
	const png = IMAGE_HEADS['image/png'];

	it('accepts http(s) URLs and data URIs whose bytes are an image, whatever type they declare', () => {
		expect(imageUriProblem('https://example.com/a.png')).toBeUndefined();
		expect(imageUriProblem('http://127.0.0.1:8080/a')).toBeUndefined();
		expect(imageUriProblem(`data:image/png;base64,${png.toString('base64')}`)).toBeUndefined();
		expect(
			imageUriProblem(`data:application/octet-stream;base64,${png.toString('base64')}`),
		).toBeUndefined();
		// Base64 wrapped over lines, as some tools write it.
		const wrapped = png.toString('base64').replace(/(.{8})/g, '$1\n');
		expect(imageUriProblem(`data:image/png;base64,${wrapped}`)).toBeUndefined();
		// Not base64: the bytes percent-encoded.
		expect(imageUriProblem('data:image/gif,GIF89a%01%00%01%00')).toBeUndefined();
		expect(imageUriProblem('data:image/jpeg;name=a.jpg;base64,/9j/4AAQSkZJRg==')).toBeUndefined();
	});

	it.each([
		['data:image/png;base64,', 'is an empty data URI: it carries no image'],
		[
			'data:text/plain;base64,aGVsbG8gd29ybGQ=',
			'is a data URI of type text/plain whose bytes are no PNG, JPEG, WebP, GIF, BMP or TIFF image',
		],
		[
			'data:image/png;base64,aGVsbG8gd29ybGQ=',
			'is a data URI of type image/png whose bytes are no PNG, JPEG, WebP, GIF, BMP or TIFF image',
		],
		[
			'data:image/svg+xml,%3Csvg%3E%3C/svg%3E',
			'is a data URI of type image/svg+xml whose bytes are no PNG, JPEG, WebP, GIF, BMP or TIFF image',
		],
		['ftp://example.com/a.png', 'must be an http(s) URL or a data URI'],
		['example.com/a.png', 'must be an http(s) URL or a data URI'],
		['data:,GIF89a', 'must be an http(s) URL or a data URI'],
	])('%s: %s', (uri, problem) => {
		expect(imageUriProblem(uri)).toBe(problem);
	});

	it("sniffs a data URI from its head only: an image head is enough, the rest is Replicate's to judge", () => {
		const gifHead = latin1('GIF89a').toString('base64');
		expect(imageUriProblem(`data:image/gif;base64,${gifHead}`)).toBeUndefined();
	});
});

describe('describeValue and formatProblem', () => {
	it('quotes text, shows numbers as they are, and says "nothing" for a missing value', () => {
		expect(describeValue('a')).toBe('"a"');
		expect(describeValue(500)).toBe('500');
		expect(describeValue(undefined)).toBe('nothing');
		expect(describeValue(null)).toBe('null');
	});

	it('shortens a long value (a data URI) to 80 characters', () => {
		const uri = `data:image/png;base64,${'A'.repeat(500)}`;
		const shown = describeValue(uri);
		expect(shown).toHaveLength(78);
		expect(shown).toBe(`${JSON.stringify(uri).slice(0, 77)}…`);
		expect(describeValue('x'.repeat(78))).toHaveLength(80);
	});

	it('joins label, field, value and rule', () => {
		expect(formatProblem({ field: 'width', label: 'Width', value: 500, rule: 'must be …' })).toBe(
			'Width (width): 500 must be …',
		);
	});
});

describe('checkModelVersion', () => {
	it.each([
		[DEFAULT_MODEL_VERSION],
		[MODEL_VERSION_ID],
		[`someone/inpainting-fork:${'a'.repeat(64)}`],
	])('accepts %s', (version) => {
		expect(checkModelVersion(version)).toBeUndefined();
	});

	it.each([
		['stability-ai/stable-diffusion-inpainting'],
		[MODEL_VERSION_ID.toUpperCase()],
		[MODEL_VERSION_ID.slice(1)],
		[`${DEFAULT_MODEL_VERSION} `],
	])('refuses %s, naming the field', (version) => {
		expect(checkModelVersion(version)).toEqual({
			field: 'version',
			label: 'Model Version',
			value: version,
			rule: 'must be "owner/name:<64 hex characters>" or a 64-hex version id',
		});
	});
});
