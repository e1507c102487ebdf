/**
 * The model's input rules, in one place. The UI (options, min/max, defaults) and the run-time
 * check of resolved values both derive from what is declared here, so they cannot drift apart.
 * Source: the input schema of stability-ai/stable-diffusion-inpainting on Replicate.
 */
import { z } from 'zod';

import { IMAGE_FORMATS, IMAGE_SNIFF_BYTES, sniffImageType } from '../../shared/imageType';

export const MODEL_NAME = 'stability-ai/stable-diffusion-inpainting';
export const MODEL_VERSION_ID = '95b7223104132402a9ae91cc677285bc5eb997834bd2349fa486f53910fd68b3';
export const DEFAULT_MODEL_VERSION = `${MODEL_NAME}:${MODEL_VERSION_ID}`;

/** 64, 128, …, 1024: the model only accepts multiples of 64 in this range. */
export const DIMENSIONS: readonly number[] = Array.from({ length: 16 }, (_, i) => (i + 1) * 64);

export const SCHEDULERS = [
	'DDIM',
	'K_EULER',
	'DPMSolverMultistep',
	'K_EULER_ANCESTRAL',
	'PNDM',
	'KLMS',
] as const;

export type Scheduler = (typeof SCHEDULERS)[number];

/** The schedulers in words, as the form shows them. */
export const SCHEDULER_NAMES: Record<Scheduler, string> = {
	DDIM: 'DDIM (Denoising Diffusion Implicit Models)',
	K_EULER: 'Euler',
	DPMSolverMultistep: 'DPM-Solver Multistep',
	K_EULER_ANCESTRAL: 'Euler Ancestral',
	PNDM: 'PNDM (Pseudo Numerical Methods)',
	KLMS: 'LMS (Linear Multistep)',
};

export const RANGES = {
	num_outputs: { min: 1, max: 4 },
	num_inference_steps: { min: 1, max: 500 },
	guidance_scale: { min: 1, max: 20 },
} as const;

/**
 * The model's defaults, except the prompt: the model's ("a vision of paradise. unreal engine")
 * would be painted for anyone who forgot to write one, so the node requires a prompt instead.
 */
export const DEFAULTS = {
	width: 512,
	height: 512,
	num_outputs: 1,
	num_inference_steps: 50,
	guidance_scale: 7.5,
	scheduler: 'DPMSolverMultistep',
	disable_safety_checker: false,
} as const;

/** How each API field is called in the node's UI, so errors name what the user sees. */
export const FIELD_LABELS: Record<string, string> = {
	version: 'Model Version',
	prompt: 'Prompt',
	negative_prompt: 'Negative Prompt',
	image: 'Image URL',
	mask: 'Mask URL',
	width: 'Width',
	height: 'Height',
	num_outputs: 'Number of Outputs',
	num_inference_steps: 'Inference Steps',
	guidance_scale: 'Guidance Scale',
	scheduler: 'Scheduler',
	seed: 'Seed',
	disable_safety_checker: 'Disable Safety Checker',
};

export const MODEL_INPUT_FIELDS = Object.keys(FIELD_LABELS).filter((field) => field !== 'version');

/** `data:<type>[;param=value…][;base64],<data>` */
const DATA_URI = /^data:([\w.+-]+\/[\w.+-]+)((?:;[\w.+-]+=[^;,]*)*)(;base64)?,(.*)$/is;

export function isHttpUrl(value: string): boolean {
	try {
		const url = new URL(value);
		return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
	} catch {
		return false;
	}
}

/** The first bytes a data URI carries, decoded (only as many as the sniffer needs). */
function dataUriHead(payload: string, base64: boolean): Buffer {
	if (base64)
		return Buffer.from(
			payload.replace(/\s+/g, '').slice(0, Math.ceil(IMAGE_SNIFF_BYTES / 3) * 4),
			'base64',
		);
	try {
		return Buffer.from(decodeURIComponent(payload.slice(0, IMAGE_SNIFF_BYTES * 3)), 'latin1');
	} catch {
		return Buffer.from(payload.slice(0, IMAGE_SNIFF_BYTES), 'latin1');
	}
}

/**
 * Why a URI is not one the model can read as an image, or undefined. A data URI is decoded and
 * sniffed.
 */
export function imageUriProblem(value: string): string | undefined {
	if (isHttpUrl(value)) return undefined;
	const data = DATA_URI.exec(value);
	if (!data) return 'must be an http(s) URL or a data URI';
	const [, type, , base64, payload] = data;
	if (payload.trim() === '') return 'is an empty data URI: it carries no image';
	const sniffed = sniffImageType(dataUriHead(payload, base64 !== undefined));
	if (!sniffed) return `is a data URI of type ${type} whose bytes are no ${IMAGE_FORMATS} image`;
	return undefined;
}

// One rule, so that an empty field gets one message ("is required"), not also "not a URL".
const imageUri = z
	.string({ invalid_type_error: 'must be text: an http(s) URL or a data URI' })
	.superRefine((value, context) => {
		const problem =
			value === '' ? 'is required: an http(s) URL or a data URI' : imageUriProblem(value);
		if (problem) context.addIssue({ code: z.ZodIssueCode.custom, message: problem });
	});

const dimension = z
	.number({ invalid_type_error: 'must be a number' })
	.refine((value) => DIMENSIONS.includes(value), 'must be a multiple of 64 from 64 to 1024');

function boundedInteger(range: { min: number; max: number }) {
	return z
		.number({ invalid_type_error: 'must be a number' })
		.int(`must be a whole number from ${range.min} to ${range.max}`)
		.min(range.min, `must be a whole number from ${range.min} to ${range.max}`)
		.max(range.max, `must be a whole number from ${range.min} to ${range.max}`);
}

export const modelInputSchema = z
	.object({
		prompt: z
			.string({ invalid_type_error: 'must be text' })
			.refine(
				(value) => value.trim() !== '',
				'is required: describe what to paint into the masked area',
			),
		negative_prompt: z.string({ invalid_type_error: 'must be text' }).optional(),
		image: imageUri,
		mask: imageUri,
		width: dimension,
		height: dimension,
		num_outputs: boundedInteger(RANGES.num_outputs),
		num_inference_steps: boundedInteger(RANGES.num_inference_steps),
		guidance_scale: z
			.number({ invalid_type_error: 'must be a number' })
			.min(RANGES.guidance_scale.min, 'must be a number from 1 to 20')
			.max(RANGES.guidance_scale.max, 'must be a number from 1 to 20'),
		scheduler: z.enum(SCHEDULERS, {
			errorMap: () => ({ message: `must be one of ${SCHEDULERS.join(', ')}` }),
		}),
		seed: z
			.number({ invalid_type_error: 'must be a whole number' })
			.int('must be a whole number')
			.optional(),
		disable_safety_checker: z.boolean({ invalid_type_error: 'must be true or false' }),
	})
	// Fields from "Extra Input" pass through: the form does not model them, Replicate judges them.
	.passthrough();

export type ModelInput = z.infer<typeof modelInputSchema>;

/**
 * `owner/name:<64 hex>` or a bare 64-hex version id (this model is not official, so no bare
 * `owner/name`).
 */
export const modelVersionSchema = z
	.string()
	.regex(
		/^(?:[a-z0-9][a-z0-9._-]*\/[a-z0-9][a-z0-9._-]*:)?[0-9a-f]{64}$/,
		'must be "owner/name:<64 hex characters>" or a 64-hex version id',
	);

export interface InputProblem {
	field: string;
	label: string;
	value: unknown;
	rule: string;
}

/** Shortens long values (data URIs) so an error message stays readable. */
export function describeValue(value: unknown): string {
	const text = value === undefined ? 'nothing' : (JSON.stringify(value) ?? String(value));
	return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

export function formatProblem(problem: InputProblem): string {
	return `${problem.label} (${problem.field}): ${describeValue(problem.value)} ${problem.rule}`;
}

function problemsFrom(
	error: z.ZodError,
	candidate: Record<string, unknown>,
	fallbackField: string,
) {
	return error.issues.map((issue): InputProblem => {
		const field = issue.path.length > 0 ? String(issue.path[0]) : fallbackField;
		return {
			field,
			label: FIELD_LABELS[field] ?? field,
			value: issue.path.length > 0 ? candidate[field] : candidate[fallbackField],
			rule: issue.message,
		};
	});
}

/** Checks a candidate `input` object; returns the parsed input or every problem found. */
export function checkModelInput(
	candidate: Record<string, unknown>,
): { ok: true; input: ModelInput } | { ok: false; problems: InputProblem[] } {
	const result = modelInputSchema.safeParse(candidate);
	if (result.success) return { ok: true, input: result.data };
	return { ok: false, problems: problemsFrom(result.error, candidate, 'input') };
}

export function checkModelVersion(version: unknown): InputProblem | undefined {
	const result = modelVersionSchema.safeParse(version);
	if (result.success) return undefined;
	return {
		field: 'version',
		label: FIELD_LABELS.version,
		value: version,
		rule: result.error.issues[0].message,
	};
}
