/**
 * google/nano-banana (official: run by name; an instruction model taking an ARRAY of images), from
 * its API page https://replicate.com/google/nano-banana/versions/f0a9d34b…/api: `prompt`,
 * `image_input` (array), `output_format` (shown without a type: Cog's allOf/$ref; its choices, not
 * listed there, are the ones Replicate's form offers). Later versions added `aspect_ratio`; this
 * catalog keeps the version whose page could be read.
 */
import { cogSchema, type CatalogModel } from './cog';

export const nanoBanana: CatalogModel = {
	owner: 'google',
	name: 'nano-banana',
	description: "Google's latest image editing model in Gemini 2.5",
	is_official: true,
	run_count: 40_000_000,
	output: 'uri',
	edit: { kind: 'instruction', images: 'image_input' },
	tags: ['image-editing', 'instruction', 'multi-image'],
	versions: [
		{
			id: 'f0a9d34b12ad1c1cd76269a844b218ff4e64e128ddaba93e15891f47368958a0',
			created_at: '2025-08-26T16:00:00.000000Z',
			cog_version: '0.16.2',
			openapi_schema: cogSchema(
				{
					prompt: {
						type: 'string',
						description: 'A text description of the image you want to generate',
					},
					image_input: {
						type: 'array',
						items: { type: 'string', format: 'uri' },
						description: 'Input images to transform or use as reference (supports multiple images)',
					},
					output_format: {
						choices: { type: 'string', values: ['jpg', 'png'] },
						description: 'Format of the output image',
						default: 'jpg',
					},
				},
				['prompt'],
				'uri',
			),
		},
	],
};
