/**
 * The fake server's own checks of what clients send, written from Replicate's documented behaviour
 * and the model's schema (REFERENCE.md §1–2), deliberately independent of the node's code.
 */

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

export interface InvalidField {
	/** gojsonschema-style error type: required, invalid_type, enum, number_gte, number_lte, format, additional_property_not_allowed */
	type: string;
	field: string;
	description: string;
}

export interface ModelInput {
	prompt: string;
	negative_prompt?: string;
	image: string;
	mask: string;
	width: number;
	height: number;
	num_outputs: number;
	num_inference_steps: number;
	guidance_scale: number;
	scheduler: string;
	seed?: number;
	disable_safety_checker: boolean;
}

export interface ValidCreateRequest {
	version: string;
	input: ModelInput;
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

type JsonKind = 'string' | 'integer' | 'number' | 'boolean' | 'uri';

interface InputProperty {
	kind: JsonKind;
	required?: boolean;
	default?: unknown;
	enum?: readonly (string | number)[];
	minimum?: number;
	maximum?: number;
}

/** The model's input schema (REFERENCE.md §1). */
export const INPUT_SCHEMA: Record<keyof ModelInput, InputProperty> = {
	prompt: { kind: 'string', default: 'a vision of paradise. unreal engine' },
	negative_prompt: { kind: 'string' },
	image: { kind: 'uri', required: true },
	mask: { kind: 'uri', required: true },
	width: { kind: 'integer', default: 512, enum: DIMENSIONS },
	height: { kind: 'integer', default: 512, enum: DIMENSIONS },
	num_outputs: { kind: 'integer', default: 1, minimum: 1, maximum: 4 },
	num_inference_steps: { kind: 'integer', default: 50, minimum: 1, maximum: 500 },
	guidance_scale: { kind: 'number', default: 7.5, minimum: 1, maximum: 20 },
	scheduler: { kind: 'string', default: 'DPMSolverMultistep', enum: SCHEDULERS },
	seed: { kind: 'integer' },
	disable_safety_checker: { kind: 'boolean', default: false },
};

function jsonTypeName(value: unknown): string {
	if (value === null) return 'null';
	if (Array.isArray(value)) return 'array';
	if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
	return typeof value;
}

export function isHttpUrl(value: string): boolean {
	try {
		const url = new URL(value);
		return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
	} catch {
		return false;
	}
}

const DATA_URI =
	/^data:([a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+)?((?:;[a-z0-9-]+=[^;,]*)*)(;base64)?,/i;

export function isDataUri(value: string): boolean {
	return DATA_URI.test(value);
}

/** Bytes of a data: URI, or null when it is malformed. */
export function decodeDataUri(value: string): { mediaType: string; bytes: Buffer } | null {
	const match = DATA_URI.exec(value);
	if (!match) return null;
	const payload = value.slice(match[0].length);
	if (match[3]) {
		const compact = payload.replace(/\s+/g, '');
		if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(compact)) return null;
		return { mediaType: match[1] ?? 'text/plain', bytes: Buffer.from(compact, 'base64') };
	}
	try {
		return {
			mediaType: match[1] ?? 'text/plain',
			bytes: Buffer.from(decodeURIComponent(payload), 'latin1'),
		};
	} catch {
		return null;
	}
}

function checkProperty(
	name: string,
	spec: InputProperty,
	value: unknown,
	errors: InvalidField[],
): void {
	const field = `input.${name}`;
	const given = jsonTypeName(value);
	const invalidType = (expected: string) =>
		errors.push({
			type: 'invalid_type',
			field,
			description: `Invalid type. Expected: ${expected}, given: ${given}`,
		});
	switch (spec.kind) {
		case 'string':
		case 'uri':
			if (typeof value !== 'string') return void invalidType('string');
			if (spec.kind === 'uri' && !isHttpUrl(value) && !isDataUri(value)) {
				errors.push({
					type: 'format',
					field,
					description: `Does not match format 'uri' (an http(s) URL or a data: URI)`,
				});
				return;
			}
			break;
		case 'integer':
			if (given !== 'integer') return void invalidType('integer');
			if (!Number.isSafeInteger(value)) {
				errors.push({
					type: 'number_lte',
					field,
					description: `Must be less than or equal to ${Number.MAX_SAFE_INTEGER}`,
				});
				return;
			}
			break;
		case 'number':
			if (typeof value !== 'number') return void invalidType('number');
			break;
		case 'boolean':
			if (typeof value !== 'boolean') return void invalidType('boolean');
			break;
	}
	if (spec.enum && !spec.enum.includes(value as string | number)) {
		const choices = spec.enum.map((c) => (typeof c === 'string' ? `"${c}"` : String(c))).join(', ');
		errors.push({
			type: 'enum',
			field,
			description: `${name} must be one of the following: ${choices}`,
		});
	}
	if (spec.minimum !== undefined && (value as number) < spec.minimum) {
		errors.push({
			type: 'number_gte',
			field,
			description: `Must be greater than or equal to ${spec.minimum}`,
		});
	}
	if (spec.maximum !== undefined && (value as number) > spec.maximum) {
		errors.push({
			type: 'number_lte',
			field,
			description: `Must be less than or equal to ${spec.maximum}`,
		});
	}
}

export function inputValidationProblem(errors: InvalidField[]): Problem {
	return {
		status: 422,
		title: 'Input validation failed',
		detail: errors.map((e) => `- ${e.field}: ${e.description}\n`).join(''),
		invalid_fields: errors,
	};
}

/** Checks the model input; on success returns it with the schema's defaults filled in. */
export function validateModelInput(input: unknown): Checked<ModelInput> {
	if (input === undefined || typeof input !== 'object' || input === null || Array.isArray(input)) {
		const type = input === undefined ? 'required' : 'invalid_type';
		const description =
			input === undefined
				? 'input is required'
				: `Invalid type. Expected: object, given: ${jsonTypeName(input)}`;
		return { ok: false, problem: inputValidationProblem([{ type, field: 'input', description }]) };
	}
	const given = input as Record<string, unknown>;
	const errors: InvalidField[] = [];
	const filled: Record<string, unknown> = {};
	for (const [name, spec] of Object.entries(INPUT_SCHEMA) as Array<[string, InputProperty]>) {
		if (!Object.hasOwn(given, name)) {
			if (spec.required)
				errors.push({
					type: 'required',
					field: `input.${name}`,
					description: `${name} is required`,
				});
			else if (spec.default !== undefined) filled[name] = spec.default;
			continue;
		}
		checkProperty(name, spec, given[name], errors);
		filled[name] = given[name];
	}
	for (const name of Object.keys(given)) {
		if (!Object.hasOwn(INPUT_SCHEMA, name)) {
			errors.push({
				type: 'additional_property_not_allowed',
				field: `input.${name}`,
				description: `Additional property ${name} is not allowed`,
			});
		}
	}
	if (errors.length > 0) return { ok: false, problem: inputValidationProblem(errors) };
	return { ok: true, value: filled as unknown as ModelInput };
}

/** Accepts `owner/name:<id>` or a bare `<id>`, and only this model's version exists. */
export function isKnownVersion(version: unknown): boolean {
	if (typeof version !== 'string') return false;
	if (version === MODEL_VERSION_ID) return true;
	return version === `${MODEL_NAME}:${MODEL_VERSION_ID}`;
}

const TOP_LEVEL_FIELDS = new Set([
	'version',
	'input',
	'webhook',
	'webhook_events_filter',
	'stream',
]);

/** Validates a POST /predictions body in Replicate's order: version first, then the rest. */
export function validateCreatePrediction(body: unknown): Checked<ValidCreateRequest> {
	if (typeof body !== 'object' || body === null || Array.isArray(body)) {
		return {
			ok: false,
			problem: {
				status: 400,
				title: 'Bad Request',
				detail: 'The request body must be a JSON object',
			},
		};
	}
	const request = body as Record<string, unknown>;
	if (!isKnownVersion(request.version)) return { ok: false, problem: INVALID_VERSION };

	const errors: InvalidField[] = [];
	for (const name of Object.keys(request)) {
		if (!TOP_LEVEL_FIELDS.has(name)) {
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
	const input = validateModelInput(request.input);
	if (!input.ok) errors.push(...(input.problem.invalid_fields ?? []));
	if (errors.length > 0 || !input.ok) return { ok: false, problem: inputValidationProblem(errors) };
	return {
		ok: true,
		value: {
			version: request.version as string,
			input: input.value,
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
