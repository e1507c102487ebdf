/**
 * The built-in model's own form: the fields that map to its inputs; limits and defaults come from
 * its schema. What a user must set (prompt, image, mask) is at the top; tuning goes into the
 * Options collection. Shown only while the Model picker names the built-in model.
 */
import type { INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import {
	DEFAULTS,
	DIMENSIONS,
	MODEL_NAME,
	RANGES,
	SCHEDULER_NAMES,
	SCHEDULERS,
} from '../../schema/modelInput';

function imageSourceFields(
	field: 'image' | 'mask',
	label: string,
	what: string,
	example: string,
): INodeProperties[] {
	const defaultBinaryProperty = field === 'image' ? 'data' : 'mask';
	return [
		{
			displayName: `${label} Source`,
			name: `${field}Source`,
			type: 'options',
			default: 'url',
			options: [
				{ name: 'URL', value: 'url', description: 'A public http(s) URL or a data URI' },
				{ name: 'Binary File', value: 'binary', description: 'A file on the incoming item' },
			],
			description: `Where the ${what} comes from`,
		},
		{
			displayName: `${label} URL`,
			name: `${field}Url`,
			type: 'string',
			default: '',
			required: true,
			placeholder: `e.g. https://example.com/${example}`,
			displayOptions: { show: { [`${field}Source`]: ['url'] } },
			description: `Public http(s) URL (or data URI) of the ${what}`,
		},
		{
			displayName: `${label} Binary Field Name`,
			name: `${field}BinaryProperty`,
			type: 'string',
			default: defaultBinaryProperty,
			required: true,
			placeholder: `e.g. ${defaultBinaryProperty}`,
			displayOptions: { show: { [`${field}Source`]: ['binary'] } },
			hint:
				field === 'image'
					? 'The binary field of the incoming item that holds the photo'
					: 'Image and mask must be on the same item: bring two files together with a Merge node (Combine, By Position)',
			description: `Name of the binary field of the incoming item that holds the ${what}`,
		},
	];
}

export const modelInputProperties: INodeProperties[] = updateDisplayOptions(
	{ show: { model: [MODEL_NAME] } },
	[
		{
			displayName: 'Prompt',
			name: 'prompt',
			type: 'string',
			default: '',
			required: true,
			placeholder: 'e.g. a red leather armchair, studio lighting, photorealistic',
			typeOptions: { rows: 2 },
			description:
				'What to paint into the masked area, written as a short visual description (subject, style, lighting), e.g. "a red leather armchair, studio lighting, photorealistic"',
		},
		...imageSourceFields(
			'image',
			'Image',
			'photo to edit (resized to Width × Height)',
			'photo.png',
		),
		...imageSourceFields(
			'mask',
			'Mask',
			'black-and-white mask: white pixels are repainted, black pixels are kept',
			'mask.png',
		),
	],
);

const dimensionOptions = DIMENSIONS.map((value) => ({ name: `${value} px`, value }));

// Plain names for the schema's defaults: n8n's lint reads `default:` only as a literal or a name.
const {
	width: defaultWidth,
	height: defaultHeight,
	num_outputs: defaultNumOutputs,
	num_inference_steps: defaultInferenceSteps,
	guidance_scale: defaultGuidanceScale,
	scheduler: defaultScheduler,
} = DEFAULTS;

/** Which version of the chosen model runs; every model has it. */
export const modelVersionOption: INodeProperties = {
	displayName: 'Model Version',
	name: 'modelVersion',
	type: 'resourceLocator',
	default: { mode: 'list', value: '' },
	description:
		'A version of the chosen model to pin. Empty: stability-ai/stable-diffusion-inpainting runs the version this node was built for, any other model its latest version.',
	modes: [
		{
			displayName: 'From List',
			name: 'list',
			type: 'list',
			typeOptions: { searchListMethod: 'searchModelVersions', searchable: true },
		},
		{
			displayName: 'By ID',
			name: 'id',
			type: 'string',
			placeholder: 'e.g. stability-ai/stable-diffusion-inpainting:95b7…68b3',
		},
	],
};

/**
 * The built-in model's tuning inputs, offered in the Options collection of the create operations
 * while the Model picker names it (`/model`: the picker at the top of the node).
 */
export const modelInputOptions: INodeProperties[] = updateDisplayOptions(
	{ show: { '/model': [MODEL_NAME] } },
	[
		{
			displayName: 'Disable Safety Checker',
			name: 'disableSafetyChecker',
			type: 'boolean',
			// n8n's lint wants a boolean literal here; a test holds it equal to the schema's default.
			default: false,
			description:
				'Whether to turn off the safety checker for generated images (only through the API)',
		},
		{
			displayName: 'Guidance Scale',
			name: 'guidanceScale',
			type: 'number',
			default: defaultGuidanceScale,
			typeOptions: {
				minValue: RANGES.guidance_scale.min,
				maxValue: RANGES.guidance_scale.max,
				numberPrecision: 2,
			},
			description: 'How closely the image follows the prompt: higher follows it more literally',
		},
		{
			displayName: 'Height',
			name: 'height',
			type: 'options',
			default: defaultHeight,
			options: dimensionOptions,
			description: 'Height of the generated image in pixels (a multiple of 64)',
		},
		{
			displayName: 'Inference Steps',
			name: 'numInferenceSteps',
			type: 'number',
			default: defaultInferenceSteps,
			typeOptions: {
				minValue: RANGES.num_inference_steps.min,
				maxValue: RANGES.num_inference_steps.max,
			},
			description: 'Number of denoising steps: more is slower and usually finer',
		},
		{
			displayName: 'Negative Prompt',
			name: 'negativePrompt',
			type: 'string',
			default: '',
			placeholder: 'e.g. blurry, text, watermark',
			description: 'What the painted area should not show',
		},
		{
			displayName: 'Number of Outputs',
			name: 'numOutputs',
			type: 'number',
			default: defaultNumOutputs,
			typeOptions: { minValue: RANGES.num_outputs.min, maxValue: RANGES.num_outputs.max },
			description: 'How many images to generate',
		},
		{
			displayName: 'Scheduler',
			name: 'scheduler',
			type: 'options',
			default: defaultScheduler,
			options: SCHEDULERS.map((value) => ({ name: SCHEDULER_NAMES[value], value })),
			description: 'The method that removes noise step by step; the default suits most images',
		},
		{
			displayName: 'Seed',
			name: 'seed',
			// Text, so that an empty field means "random" instead of a number field's 0, a fixed seed.
			type: 'string',
			default: '',
			placeholder: 'Random',
			description:
				'A whole number makes a run repeatable with the same inputs. Empty: a new random seed each run.',
		},
		{
			displayName: 'Width',
			name: 'width',
			type: 'options',
			default: defaultWidth,
			options: dimensionOptions,
			description: 'Width of the generated image in pixels (a multiple of 64)',
		},
	],
);
