/**
 * The fake server's own checks of what clients send, written from Replicate's documented behaviour
 * (REFERENCE.md §1–2), deliberately independent of the node's code: the create body, the version
 * it names, its input against that version's schema (inputSchema.ts), and the request headers.
 */
import type { CatalogModel, CatalogVersion } from './catalog';
import { isRecord } from './core';
import { checkInput, isHttpUrl, jsonTypeName, type InvalidField } from './inputSchema';

/** The built-in model (its catalog entry is catalog/stableDiffusionInpainting.ts). */
export const MODEL_NAME = 'stability-ai/stable-diffusion-inpainting';
export const MODEL_VERSION_ID = '95b7223104132402a9ae91cc677285bc5eb997834bd2349fa486f53910fd68b3';

export const SCHEDULERS = [
	'DDIM',
	'K_EULER',
	'DPMSolverMultistep',
	'K_EULER_ANCESTRAL',
	'PNDM',
	'KLMS',
] as const;
export const DIMENSIONS = Array.from({ length: 16 }, (_, i) => (i + 1) * 64);
export const WEBHOOK_EVENTS = ['start', 'output', 'logs', 'completed'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** An RFC 7807 style error body as Replicate sends it. */
export interface Problem {
	status: number;
	title: string;
	detail: string;
	invalid_fields?: InvalidField[];
}

/** The model and version a create runs. */
export interface RunTarget {
	model: CatalogModel;
	version: CatalogVersion;
}

export interface ValidCreateRequest {
	target: RunTarget;
	/** checked, with the schema's defaults, secrets still readable (the model gets them) */
	input: Record<string, unknown>;
	webhook?: string;
	webhookEventsFilter: WebhookEvent[];
	stream: boolean;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; problem: Problem };

export const INVALID_VERSION: Problem = {
	status: 422,
	title: 'Invalid version or not permitted',
	detail: "The specified version does not exist (or perhaps you don't have permission to use it?)",
};

export function inputValidationProblem(errors: InvalidField[]): Problem {
	return {
		status: 422,
		title: 'Input validation failed',
		detail: errors.map((e) => `- ${e.field}: ${e.description}\n`).join(''),
		invalid_fields: errors,
	};
}

const CREATE_FIELDS = ['input', 'webhook', 'webhook_events_filter', 'stream'];

/**
 * Validates a POST /predictions body in Replicate's order: version first (what it names,
 * `findTarget` says), then the rest.
 */
export function validateCreatePrediction(
	body: unknown,
	findTarget: (version: unknown) => RunTarget | undefined,
): Checked<ValidCreateRequest> {
	if (!isRecord(body)) return { ok: false, problem: NOT_AN_OBJECT };
	const target = findTarget(body.version);
	if (!target) return { ok: false, problem: INVALID_VERSION };
	return checkCreateBody(body, target, ['version', ...CREATE_FIELDS]);
}

/** Validates a POST /models/{owner}/{name}/predictions body: the model is in the path, no version. */
export function validateModelCreatePrediction(
	body: unknown,
	target: RunTarget,
): Checked<ValidCreateRequest> {
	if (!isRecord(body)) return { ok: false, problem: NOT_AN_OBJECT };
	return checkCreateBody(body, target, CREATE_FIELDS);
}

const NOT_AN_OBJECT: Problem = {
	status: 400,
	title: 'Bad Request',
	detail: 'The request body must be a JSON object',
};

function checkCreateBody(
	request: Record<string, unknown>,
	target: RunTarget,
	fields: readonly string[],
): Checked<ValidCreateRequest> {
	const errors: InvalidField[] = [];
	for (const name of Object.keys(request)) {
		if (!fields.includes(name)) {
			errors.push({
				type: 'additional_property_not_allowed',
				field: name,
				description: `Additional property ${name} is not allowed`,
			});
		}
	}
	const webhook = request.webhook;
	if (webhook !== undefined && (typeof webhook !== 'string' || !isHttpUrl(webhook))) {
		errors.push({
			type: 'format',
			field: 'webhook',
			description: `Does not match format 'uri' (an http(s) URL)`,
		});
	}
	let events: WebhookEvent[] = [...WEBHOOK_EVENTS];
	const filter = request.webhook_events_filter;
	if (filter !== undefined) {
		if (!Array.isArray(filter)) {
			errors.push({
				type: 'invalid_type',
				field: 'webhook_events_filter',
				description: `Invalid type. Expected: array, given: ${jsonTypeName(filter)}`,
			});
		} else {
			filter.forEach((event, i) => {
				if (!WEBHOOK_EVENTS.includes(event as WebhookEvent)) {
					errors.push({
						type: 'enum',
						field: `webhook_events_filter.${i}`,
						description: `webhook_events_filter.${i} must be one of the following: ${WEBHOOK_EVENTS.map((e) => `"${e}"`).join(', ')}`,
					});
				}
			});
			events = [...new Set(filter as WebhookEvent[])];
		}
	}
	if (request.stream !== undefined && typeof request.stream !== 'boolean') {
		errors.push({
			type: 'invalid_type',
			field: 'stream',
			description: `Invalid type. Expected: boolean, given: ${jsonTypeName(request.stream)}`,
		});
	}
	const input = checkInput(target.version.openapi_schema, request.input);
	if (!input.ok) errors.push(...input.errors);
	if (errors.length > 0 || !input.ok) return { ok: false, problem: inputValidationProblem(errors) };
	return {
		ok: true,
		value: {
			target,
			input: input.input,
			webhook: webhook as string | undefined,
			webhookEventsFilter: events,
			stream: request.stream === true,
		},
	};
}

/**
 * `Prefer: wait` → 60 s, `Prefer: wait=N` with N in 1..60 → N s, absent → null (no waiting).
 * Anything else is an error, as on Replicate.
 */
export function parsePreferWait(header: string | undefined): Checked<number | null> {
	if (header === undefined) return { ok: true, value: null };
	const match = /^\s*wait(?:\s*=\s*(\d+))?\s*$/i.exec(header);
	const seconds = match ? (match[1] === undefined ? 60 : Number(match[1])) : NaN;
	if (!(seconds >= 1 && seconds <= 60)) {
		return {
			ok: false,
			problem: {
				status: 400,
				title: 'Invalid Prefer header',
				detail: `Prefer must be "wait" or "wait=N" with N from 1 to 60, got ${JSON.stringify(header)}`,
			},
		};
	}
	return { ok: true, value: seconds };
}

const DURATION_UNITS_MS: Record<string, number> = {
	ns: 1e-6,
	us: 1e-3,
	µs: 1e-3,
	μs: 1e-3,
	ms: 1,
	s: 1000,
	m: 60_000,
	h: 3_600_000,
};

/** Go's time.ParseDuration (e.g. `90s`, `1h30m`, `1.5h`, `500ms`) in milliseconds; null when malformed. */
export function parseGoDuration(text: string): number | null {
	const match = /^([+-]?)((?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$/.exec(text.trim());
	if (!match) return text.trim() === '0' ? 0 : null;
	let total = 0;
	for (const part of match[2].matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) {
		total += Number(part[1]) * DURATION_UNITS_MS[part[2]];
	}
	return match[1] === '-' ? -total : total;
}

/** `Cancel-After` in ms; absent → null. Must be a positive Go duration. */
export function parseCancelAfter(header: string | undefined): Checked<number | null> {
	if (header === undefined) return { ok: true, value: null };
	const ms = parseGoDuration(header);
	if (ms === null || !(ms > 0)) {
		return {
			ok: false,
			problem: {
				status: 400,
				title: 'Invalid Cancel-After header',
				detail: `Cancel-After must be a positive duration such as "90s" or "5m", got ${JSON.stringify(header)}`,
			},
		};
	}
	return { ok: true, value: ms };
}
