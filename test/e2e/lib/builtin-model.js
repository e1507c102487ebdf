'use strict';
/*
 * The create body the node sends for the built-in model (stability-ai/stable-diffusion-inpainting,
 * its curated form): the node's parameters as API fields, plus the model defaults it fills in.
 * The example's checks (check-run.js) and the model workflows' (models/check-models.js) expect it.
 */

// REFERENCE.md §1: the model version and the model's defaults for the fields the node sends.
const BUILTIN_MODEL = 'stability-ai/stable-diffusion-inpainting';
const BUILTIN_VERSION = `${BUILTIN_MODEL}:95b7223104132402a9ae91cc677285bc5eb997834bd2349fa486f53910fd68b3`;
const BUILTIN_DEFAULTS = {
	width: 512,
	height: 512,
	num_outputs: 1,
	num_inference_steps: 50,
	guidance_scale: 7.5,
	scheduler: 'DPMSolverMultistep',
	disable_safety_checker: false,
};

/**
 * `{version, input}` for the node's parameters `p` (binary image and mask), `dataUriOf(property)`
 * giving the data URI of the item's binary property.
 */
function builtinCreateBody(p, dataUriOf) {
	// The tuning fields live in the Options collection; Seed is text there (empty means random).
	const o = p.options ?? {};
	const pick = (value, fallback) => (value === undefined ? fallback : value);
	const d = BUILTIN_DEFAULTS;
	const input = {
		prompt: p.prompt,
		width: pick(o.width, d.width),
		height: pick(o.height, d.height),
		num_outputs: pick(o.numOutputs, d.num_outputs),
		num_inference_steps: pick(o.numInferenceSteps, d.num_inference_steps),
		guidance_scale: pick(o.guidanceScale, d.guidance_scale),
		scheduler: pick(o.scheduler, d.scheduler),
		disable_safety_checker: pick(o.disableSafetyChecker, d.disable_safety_checker),
	};
	if (o.negativePrompt) input.negative_prompt = o.negativePrompt;
	if (o.seed !== undefined && o.seed !== '') input.seed = Number(o.seed);
	input.image = dataUriOf(p.imageBinaryProperty);
	input.mask = dataUriOf(p.maskBinaryProperty);
	return { version: o.modelVersion ?? BUILTIN_VERSION, input };
}

module.exports = { BUILTIN_MODEL, builtinCreateBody };
