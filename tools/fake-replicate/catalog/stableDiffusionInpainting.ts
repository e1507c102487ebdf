/**
 * stability-ai/stable-diffusion-inpainting, the node's built-in model: its one version as
 * REFERENCE.md §1 gives it (types, defaults, ranges, choices). The descriptions follow the model's
 * API page as gateways that mirror it quote them; the page itself was not in the stored pages.
 * Choices are inline `enum`s with a type, as Replicate's pages show Cog 0.6 models'
 * ("integer (enum)"), not Cog's later allOf/$ref.
 */
import { DIMENSIONS, MODEL_NAME, MODEL_VERSION_ID, SCHEDULERS } from '../validation';
import { cogSchema, type CatalogModel } from './cog';

const [owner, name] = MODEL_NAME.split('/');

export const stableDiffusionInpainting: CatalogModel = {
	owner,
	name,
	description: 'Fill in masked parts of images with Stable Diffusion',
	is_official: false,
	run_count: 20_900_000,
	output: 'uri-array',
	edit: { kind: 'mask', image: 'image', mask: 'mask', repaint: 'white' },
	tags: ['inpainting', 'image-editing', 'stable-diffusion'],
	versions: [
		{
			id: MODEL_VERSION_ID,
			created_at: '2022-12-02T19:47:38.000000Z',
			cog_version: '0.6.1',
			openapi_schema: cogSchema(
				{
					prompt: {
						type: 'string',
						description: 'Input prompt',
						default: 'a vision of paradise. unreal engine',
					},
					negative_prompt: {
						type: 'string',
						description: 'Specify things to not see in the output',
					},
					image: {
						type: 'string',
						format: 'uri',
						description:
							'Initial image to generate variations of. Will be resized to height x width',
					},
					mask: {
						type: 'string',
						format: 'uri',
						description:
							'Black and white image to use as mask for inpainting over the image provided. White pixels are inpainted and black pixels are preserved',
					},
					width: {
						type: 'integer',
						enum: DIMENSIONS,
						description: 'Width of generated image in pixels. Needs to be a multiple of 64',
						default: 512,
					},
					height: {
						type: 'integer',
						enum: DIMENSIONS,
						description: 'Height of generated image in pixels. Needs to be a multiple of 64',
						default: 512,
					},
					num_outputs: {
						type: 'integer',
						description: 'Number of images to generate.',
						default: 1,
						minimum: 1,
						maximum: 4,
					},
					num_inference_steps: {
						type: 'integer',
						description: 'Number of denoising steps',
						default: 50,
						minimum: 1,
						maximum: 500,
					},
					guidance_scale: {
						type: 'number',
						description: 'Scale for classifier-free guidance',
						default: 7.5,
						minimum: 1,
						maximum: 20,
					},
					scheduler: {
						type: 'string',
						enum: SCHEDULERS,
						description: 'Choose a scheduler.',
						default: 'DPMSolverMultistep',
					},
					seed: {
						type: 'integer',
						description: 'Random seed. Leave blank to randomize the seed',
					},
					disable_safety_checker: {
						type: 'boolean',
						description:
							'Disable safety checker for generated images. This feature is only available through the API. See https://replicate.com/docs/how-does-replicate-work#safety',
						default: false,
					},
				},
				['image', 'mask'],
				'uri-array',
			),
		},
	],
};
