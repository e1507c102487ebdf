/**
 * black-forest-labs/flux-kontext-pro (official: run by name; an instruction model, no mask), from
 * its API page https://replicate.com/black-forest-labs/flux-kontext-pro/versions/0a138193…/api:
 * fields, order, defaults, ranges, descriptions. `aspect_ratio` and `output_format` are shown
 * without a type (Cog's allOf/$ref) and their choices are not listed there: these are the ones
 * Replicate's form offers. safety_tolerance's minimum is 0 (its description: "0 is most strict").
 */
import { cogSchema, type CatalogModel } from './cog';

export const fluxKontextPro: CatalogModel = {
	owner: 'black-forest-labs',
	name: 'flux-kontext-pro',
	description:
		'A state-of-the-art text-based image editing model that delivers high-quality outputs with excellent prompt following and consistent results for transforming images through natural language',
	is_official: true,
	run_count: 27_000_000,
	output: 'uri',
	edit: { kind: 'instruction', images: 'input_image' },
	tags: ['image-editing', 'instruction', 'flux'],
	versions: [
		{
			id: '0a1381936934845a14efcc9f309ce7d031cb905867878b5c5830280e00e97606',
			created_at: '2025-05-29T15:21:00.000000Z',
			cog_version: '0.15.5',
			openapi_schema: cogSchema(
				{
					prompt: {
						type: 'string',
						description:
							'Text description of what you want to generate, or the instruction on how to edit the given image.',
					},
					input_image: {
						type: 'string',
						format: 'uri',
						description: 'Image to use as reference. Must be jpeg, png, gif, or webp.',
					},
					aspect_ratio: {
						choices: {
							type: 'string',
							values: [
								'match_input_image',
								'1:1',
								'16:9',
								'9:16',
								'4:3',
								'3:4',
								'3:2',
								'2:3',
								'4:5',
								'5:4',
								'21:9',
								'9:21',
								'2:1',
								'1:2',
							],
						},
						description:
							"Aspect ratio of the generated image. Use 'match_input_image' to match the aspect ratio of the input image.",
						default: 'match_input_image',
					},
					prompt_upsampling: {
						type: 'boolean',
						description: 'Automatic prompt improvement',
						default: false,
					},
					seed: { type: 'integer', description: 'Random seed. Set for reproducible generation' },
					output_format: {
						choices: { type: 'string', values: ['jpg', 'png'] },
						description: 'Output format for the generated image',
						default: 'png',
					},
					safety_tolerance: {
						type: 'integer',
						description:
							'Safety tolerance, 0 is most strict and 6 is most permissive. 2 is currently the maximum allowed when input images are used.',
						default: 2,
						minimum: 0,
						maximum: 6,
					},
				},
				['prompt'],
				'uri',
			),
		},
	],
};
