'use strict';
/*
 * The models the e2e runs, one workflow each (issue 20): what each workflow reads from disk into
 * which binary field of its one item, and what it sets in the node. For the built-in model the
 * node's curated form (`parameters`); for any other its typed form (`modelInputs`: API input
 * names, a `format: uri` input naming a binary field, an array-of-uri input a list of them), with
 * a prompt, one choice and one number (nano-banana has no number; the version the test server
 * serves has no aspect_ratio either: one choice). `locator` is the Model field's mode (default:
 * `list` for the built-in model, as the node's default, else `name`); `outputs` the number of
 * images the model returns for these inputs.
 */

/** The input files, made in prepare (check-models.js), by name in the run folder's input/. */
const INPUT_FILES = {
	photo: 'photo.png',
	otherPhoto: 'photo-2.png',
	/** white = repaint (flux, stable diffusion) */
	mask: 'mask.png',
	/** black = repaint (ideogram) */
	inverseMask: 'mask-black-repaints.png',
};

const MODELS = [
	{
		model: 'stability-ai/stable-diffusion-inpainting',
		binaries: { data: INPUT_FILES.photo, mask: INPUT_FILES.mask },
		parameters: {
			prompt: 'A red brick chimney on the roof',
			imageSource: 'binary',
			imageBinaryProperty: 'data',
			maskSource: 'binary',
			maskBinaryProperty: 'mask',
			options: { scheduler: 'K_EULER', numInferenceSteps: 20 },
		},
		outputs: 1,
	},
	{
		model: 'black-forest-labs/flux-fill-pro',
		binaries: { data: INPUT_FILES.photo, mask: INPUT_FILES.mask },
		modelInputs: {
			prompt: 'A wooden bench in the park',
			image: 'data',
			mask: 'mask',
			steps: 25,
			output_format: 'png',
		},
		outputs: 1,
	},
	{
		model: 'black-forest-labs/flux-fill-dev',
		binaries: { data: INPUT_FILES.photo, mask: INPUT_FILES.mask },
		modelInputs: {
			prompt: 'A small lighthouse on the rocks',
			image: 'data',
			mask: 'mask',
			num_inference_steps: 20,
			num_outputs: 2,
			output_format: 'png',
		},
		outputs: 2,
	},
	{
		model: 'ideogram-ai/ideogram-v3-turbo',
		binaries: { data: INPUT_FILES.photo, mask: INPUT_FILES.inverseMask },
		modelInputs: {
			prompt: 'A hot air balloon in the sky',
			image: 'data',
			mask: 'mask',
			magic_prompt_option: 'Off',
			seed: 1234,
		},
		outputs: 1,
	},
	{
		model: 'black-forest-labs/flux-kontext-pro',
		binaries: { data: INPUT_FILES.photo },
		modelInputs: {
			prompt: 'Make it a watercolour painting',
			input_image: 'data',
			output_format: 'jpg',
			seed: 7,
		},
		outputs: 1,
	},
	{
		model: 'google/nano-banana',
		// Picked as a user pastes it: the model's page URL.
		locator: 'url',
		binaries: { data: INPUT_FILES.photo, data_1: INPUT_FILES.otherPhoto },
		modelInputs: {
			prompt: 'Put the subject of the first image into the second',
			image_input: ['data', 'data_1'],
			output_format: 'png',
		},
		outputs: 1,
	},
];

/** A model's folder and workflow-id part: black-forest-labs/flux-fill-pro → flux-fill-pro. */
const slugOf = (model) => model.split('/')[1];

module.exports = { INPUT_FILES, MODELS, slugOf };
