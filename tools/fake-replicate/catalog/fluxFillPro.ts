/**
 * black-forest-labs/flux-fill-pro (official: run by name), from its API page
 * https://replicate.com/black-forest-labs/flux-fill-pro/versions/9609ba73…/api: fields, order,
 * defaults, ranges, descriptions. The page shows `outpaint` and `output_format` without a type
 * (Cog's allOf/$ref); their choices are the ones Replicate's form offers (the page lists none).
 */
import { cogSchema, type CatalogModel } from './cog';

export const fluxFillPro: CatalogModel = {
	owner: 'black-forest-labs',
	name: 'flux-fill-pro',
	description:
		'Professional inpainting and outpainting model with state-of-the-art performance. Edit or extend images with natural, seamless results.',
	is_official: true,
	run_count: 3_400_000,
	output: 'uri',
	edit: { kind: 'mask', image: 'image', mask: 'mask', repaint: 'white' },
	tags: ['inpainting', 'outpainting', 'image-editing', 'flux'],
	versions: [
		{
			id: '9609ba7331ed872c99f81c92c69a9ee52a50d8aba99f636173e0674d997efd0c',
			created_at: '2024-11-20T20:53:33.000000Z',
			cog_version: '0.9.4',
			openapi_schema: cogSchema(
				{
					prompt: { type: 'string', description: 'Text prompt for image generation' },
					image: {
						type: 'string',
						format: 'uri',
						description:
							'The image to inpaint. Can contain an alpha mask. Must be jpeg, png, gif, or webp.',
					},
					mask: {
						type: 'string',
						format: 'uri',
						description:
							'A black-and-white image that describes the part of the image to inpaint. Black areas will be preserved while white areas will be inpainted. Must have the same size as image. Optional if you provide an alpha mask in the original image. Must be jpeg, png, gif, or webp.',
					},
					outpaint: {
						choices: {
							type: 'string',
							values: [
								'None',
								'Zoom out 1.5x',
								'Zoom out 2x',
								'Make square',
								'Left outpaint',
								'Right outpaint',
								'Top outpaint',
								'Bottom outpaint',
							],
						},
						description: 'A quick option for outpainting an input image. Mask will be ignored.',
						default: 'None',
					},
					seed: { type: 'integer', description: 'Random seed. Set for reproducible generation' },
					steps: {
						type: 'integer',
						description:
							'Number of diffusion steps. Higher values yield finer details but increase processing time.',
						default: 50,
						minimum: 1,
						maximum: 50,
					},
					prompt_upsampling: {
						type: 'boolean',
						description: 'Automatically modify the prompt for more creative generation',
						default: false,
					},
					guidance: {
						type: 'number',
						description:
							'Controls the balance between adherence to the text prompt and image quality/diversity. Higher values make the output more closely match the prompt but may reduce overall image quality. Lower values allow for more creative freedom but might produce results less relevant to the prompt.',
						default: 3,
						minimum: 2,
						maximum: 5,
					},
					safety_tolerance: {
						type: 'integer',
						description: 'Safety tolerance, 1 is most strict and 6 is most permissive',
						default: 2,
						minimum: 1,
						maximum: 6,
					},
					output_format: {
						choices: { type: 'string', values: ['jpg', 'png'] },
						description: 'Format of the output images.',
						default: 'jpg',
					},
				},
				['image'],
				'uri',
			),
		},
	],
};
