/**
 * black-forest-labs/flux-fill-dev (versioned, not official: run by version id), two versions from
 * their API pages https://replicate.com/black-forest-labs/flux-fill-dev/versions/<id>/api:
 * cf33291a (older: `output_format` an inline "string (enum)") and a053f841 (latest: adds
 * `megapixels` and LoRA inputs; `megapixels`/`output_format` shown without a type, Cog's
 * allOf/$ref). Not on the pages, so chosen here: the creation dates; megapixels' choices
 * ("1", "0.25", "match_input", as its description names); lora_scale's description, cut off there.
 * A range the page shows only as "Max" has minimum 0 (the page omits a zero minimum).
 */
import { cogSchema, type CatalogModel, type InputSpec } from './cog';

const IMAGE: InputSpec = {
	type: 'string',
	format: 'uri',
	description: 'The image to inpaint. Can contain alpha mask.',
};
const MASK_DESCRIPTION =
	'A black-and-white image that describes the part of the image to inpaint. Black areas will be preserved while white areas will be inpainted.';
const shared = {
	prompt: { type: 'string', description: 'Prompt for generated image' },
	num_outputs: {
		type: 'integer',
		description: 'Number of outputs to generate',
		default: 1,
		minimum: 1,
		maximum: 4,
	},
	guidance: {
		type: 'number',
		description: 'Guidance for generated image',
		default: 30,
		minimum: 0,
		maximum: 100,
	},
	seed: { type: 'integer', description: 'Random seed. Set for reproducible generation' },
	output_quality: {
		type: 'integer',
		description:
			'Quality when saving the output images, from 0 to 100. 100 is best quality, 0 is lowest quality. Not relevant for .png outputs',
		default: 80,
		minimum: 0,
		maximum: 100,
	},
	disable_safety_checker: {
		type: 'boolean',
		description: 'Disable safety checker for generated images.',
		default: false,
	},
} satisfies Record<string, InputSpec>;
const STEPS_DESCRIPTION =
	'Number of denoising steps. Recommended range is 28-50, and lower number of steps produce lower quality outputs, faster.';
const OUTPUT_FORMATS = ['webp', 'jpg', 'png'];

export const fluxFillDev: CatalogModel = {
	owner: 'black-forest-labs',
	name: 'flux-fill-dev',
	description:
		'Open-weight inpainting model for editing and extending images. Guidance-distilled from FLUX.1 Fill [pro].',
	is_official: false,
	run_count: 1_100_000,
	output: 'uri-array',
	edit: { kind: 'mask', image: 'image', mask: 'mask', repaint: 'white' },
	tags: ['inpainting', 'outpainting', 'image-editing', 'flux'],
	versions: [
		{
			id: 'a053f84125613d83e65328a289e14eb6639e10725c243e8fb0c24128e5573f4c',
			created_at: '2025-01-15T12:00:00.000000Z',
			cog_version: '0.13.6',
			openapi_schema: cogSchema(
				{
					prompt: shared.prompt,
					image: {
						...IMAGE,
						description: `${IMAGE.description} If the image width or height are not multiples of 32, they will be scaled to the closest multiple of 32. If the image dimensions don't fit within 1440x1440, it will be scaled down to fit.`,
					},
					mask: { type: 'string', format: 'uri', description: MASK_DESCRIPTION },
					num_outputs: shared.num_outputs,
					num_inference_steps: {
						type: 'integer',
						description: STEPS_DESCRIPTION,
						default: 28,
						minimum: 1,
						maximum: 50,
					},
					guidance: shared.guidance,
					seed: shared.seed,
					megapixels: {
						choices: { type: 'string', values: ['1', '0.25', 'match_input'] },
						description:
							'Approximate number of megapixels for generated image. Use match_input to match the size of the input (with an upper limit of 1440x1440 pixels)',
						default: '1',
					},
					output_format: {
						choices: { type: 'string', values: OUTPUT_FORMATS },
						description: 'Format of the output images',
						default: 'webp',
					},
					output_quality: shared.output_quality,
					lora_weights: {
						type: 'string',
						description:
							"Load LoRA weights. Supports Replicate models in the format <owner>/<username> or <owner>/<username>/<version>, HuggingFace URLs in the format huggingface.co/<owner>/<model-name>, CivitAI URLs in the format civitai.com/models/<id>[/<model-name>], or arbitrary .safetensors URLs from the Internet. For example, 'fofr/flux-pixar-cars'",
					},
					lora_scale: {
						type: 'number',
						description: 'Determines how strongly the main LoRA should be applied.',
						default: 1,
						minimum: -1,
						maximum: 3,
					},
					disable_safety_checker: shared.disable_safety_checker,
				},
				['prompt', 'image'],
				'uri-array',
			),
		},
		{
			id: 'cf33291a315758af3cb2a1378adbadbd5ec7e67e73046e1f7862f961abc03781',
			created_at: '2024-11-20T21:02:11.000000Z',
			cog_version: '0.9.4',
			openapi_schema: cogSchema(
				{
					prompt: shared.prompt,
					image: IMAGE,
					mask: {
						type: 'string',
						format: 'uri',
						description: `${MASK_DESCRIPTION} Must have the same size as image. Optional if you provide an alpha mask in the original image.`,
					},
					num_outputs: shared.num_outputs,
					num_inference_steps: {
						type: 'integer',
						description: STEPS_DESCRIPTION,
						default: 50,
						minimum: 1,
						maximum: 50,
					},
					guidance: shared.guidance,
					seed: shared.seed,
					output_format: {
						type: 'string',
						enum: OUTPUT_FORMATS,
						description: 'Format of the output images',
						default: 'webp',
					},
					output_quality: shared.output_quality,
					disable_safety_checker: shared.disable_safety_checker,
				},
				['prompt', 'image'],
				'uri-array',
			),
		},
	],
};
