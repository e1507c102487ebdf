/** The form fields that map to the model's inputs; limits and defaults come from the schema. */
import type { INodeProperties } from 'n8n-workflow';

import {
	DEFAULT_MODEL_VERSION,
	DEFAULTS,
	DIMENSIONS,
	RANGES,
	SCHEDULERS,
} from '../../schema/modelInput';

function imageSourceFields(field: 'image' | 'mask', label: string, what: string): INodeProperties[] {
	const defaultBinaryProperty = field === 'image' ? 'data' : 'mask';
	return [
		{
			displayName: `${label} Source`,
			name: `${field}Source`,
			type: 'options',
			default: 'url',
			options: [
				{ name: 'URL', value: 'url' },
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
			placeholder: 'https://example.com/photo.png',
			displayOptions: { show: { [`${field}Source`]: ['url'] } },
			description: `Public http(s) URL (or data URI) of the ${what}`,
		},
		{
			displayName: `${label} Binary Property`,
			name: `${field}BinaryProperty`,
			type: 'string',
			default: defaultBinaryProperty,
			required: true,
			displayOptions: { show: { [`${field}Source`]: ['binary'] } },
			description: `Name of the binary property of the incoming item that holds the ${what}`,
		},
	];
}

const dimensionOptions = DIMENSIONS.map((value) => ({ name: String(value), value }));

// Plain names for the schema's defaults: n8n's lint reads `default:` only as a literal or a name.
const {
	prompt: defaultPrompt,
	width: defaultWidth,
	height: defaultHeight,
	num_outputs: defaultNumOutputs,
	num_inference_steps: defaultInferenceSteps,
	guidance_scale: defaultGuidanceScale,
	scheduler: defaultScheduler,
} = DEFAULTS;
const defaultModelVersion = DEFAULT_MODEL_VERSION;

export const modelInputProperties: INodeProperties[] = [
	{
		displayName: 'Model Version',
		name: 'modelVersion',
		type: 'string',
		default: defaultModelVersion,
		required: true,
		description:
			'Replicate model version to run, as owner/name:version ID. The default is stability-ai/stable-diffusion-inpainting.',
	},
	{
		displayName: 'Prompt',
		name: 'prompt',
		type: 'string',
		default: defaultPrompt,
		typeOptions: { rows: 2 },
		description:
			'What to paint into the masked area, written as a short visual description (subject, style, lighting), e.g. "a red leather armchair, studio lighting, photorealistic"',
	},
	...imageSourceFields('image', 'Image', 'photo to edit (resized to Width × Height)'),
	...imageSourceFields('mask', 'Mask', 'black-and-white mask: white pixels are repainted, black pixels are kept'),
	{
		displayName: 'Width',
		name: 'width',
		type: 'options',
		default: defaultWidth,
		options: dimensionOptions,
		description: 'Width of the generated image in pixels (a multiple of 64)',
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
		displayName: 'Number of Outputs',
		name: 'numOutputs',
		type: 'number',
		default: defaultNumOutputs,
		typeOptions: { minValue: RANGES.num_outputs.min, maxValue: RANGES.num_outputs.max },
		description: 'How many images to generate',
	},
	{
		displayName: 'Inference Steps',
		name: 'numInferenceSteps',
		type: 'number',
		default: defaultInferenceSteps,
		typeOptions: { minValue: RANGES.num_inference_steps.min, maxValue: RANGES.num_inference_steps.max },
		description: 'Number of denoising steps: more is slower and usually finer',
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
		description: 'How closely the image follows the prompt (classifier-free guidance)',
	},
	{
		displayName: 'Scheduler',
		name: 'scheduler',
		type: 'options',
		default: defaultScheduler,
		options: SCHEDULERS.map((value) => ({ name: value, value })),
		description: 'The denoising scheduler',
	},
	{
		displayName: 'Additional Fields',
		name: 'additionalFields',
		type: 'collection',
		placeholder: 'Add Field',
		default: {},
		options: [
			{
				displayName: 'Negative Prompt',
				name: 'negativePrompt',
				type: 'string',
				default: '',
				description: 'What the painted area should not show, e.g. "blurry, text, watermark"',
			},
			{
				displayName: 'Seed',
				name: 'seed',
				type: 'number',
				default: 0,
				description: 'Fixes the random seed so a run can be repeated. Leave this field out for a random seed.',
			},
			{
				displayName: 'Disable Safety Checker',
				name: 'disableSafetyChecker',
				type: 'boolean',
				// n8n's lint wants a boolean literal here; a test holds it equal to the schema's default.
				default: false,
				description: 'Whether to turn off the safety checker for generated images (only through the API)',
			},
		],
	},
];
