/**
 * Any model's input rules, read from the model's own schema (the OpenAPI document Cog writes for
 * a version, `components.schemas.Input`) instead of being copied into the node. The form
 * (resource mapper fields) and the check of an item's values before anything is sent both derive
 * from `inputFieldsOf`, so they cannot drift apart.
 */
import type { IDataObject } from 'n8n-workflow';

import type { InputProblem } from './modelInput';
import { isHttpUrl } from './modelInput';

export type FieldKind = 'string' | 'integer' | 'number' | 'boolean' | 'array' | 'object' | 'any';

/** What one value (a field, or an array field's entries) may be. */
export interface ValueRule {
	kind: FieldKind;
	/** `format: uri`: a file, given as a URL, a data URI or a binary field of the item. */
	file: boolean;
	choices?: Array<string | number>;
	minimum?: number;
	maximum?: number;
	minLength?: number;
	maxLength?: number;
}

export interface InputField extends ValueRule {
	/** The API name. */
	name: string;
	/** How the form shows it: the schema's title, else the name. */
	title: string;
	description?: string;
	required: boolean;
	nullable: boolean;
	deprecated: boolean;
	/** `format: password` / `x-cog-secret`: never shown in output or errors. */
	secret: boolean;
	default?: unknown;
	/** An array field's entries. */
	items?: ValueRule;
}

type Schema = IDataObject;

function asObject(value: unknown): Schema | undefined {
	return value !== null && typeof value === 'object' && !Array.isArray(value)
		? (value as Schema)
		: undefined;
}

/** Follows `$ref`, `allOf: [{$ref}]` (how Cog writes a field with choices) and `anyOf` with null. */
function resolve(schema: Schema, components: Schema): { schema: Schema; nullable: boolean } {
	let merged: Schema = { ...schema };
	let nullable = schema.nullable === true;
	const ref = typeof schema.$ref === 'string' ? schema.$ref : undefined;
	if (ref?.startsWith('#/components/schemas/')) {
		const target = asObject(components[ref.slice('#/components/schemas/'.length)]);
		// Only what the value may be: the target's title and description name the enum class.
		if (target) merged = { type: target.type, enum: target.enum, format: target.format, ...merged };
	}
	for (const part of Array.isArray(schema.allOf) ? schema.allOf : []) {
		const inner = asObject(part);
		if (inner) merged = { ...resolve(inner, components).schema, ...merged };
	}
	const variants = Array.isArray(schema.anyOf) ? schema.anyOf.map(asObject) : [];
	if (variants.length > 0) {
		const typed = variants.filter((variant) => variant && variant.type !== 'null') as Schema[];
		nullable ||= typed.length < variants.length;
		if (typed.length === 1) merged = { ...resolve(typed[0], components).schema, ...merged };
	}
	delete merged.allOf;
	delete merged.anyOf;
	delete merged.$ref;
	return { schema: merged, nullable };
}

function kindOf(schema: Schema): FieldKind {
	const type = schema.type;
	if (
		type === 'string' ||
		type === 'integer' ||
		type === 'number' ||
		type === 'boolean' ||
		type === 'array' ||
		type === 'object'
	)
		return type;
	if (Array.isArray(schema.enum) && schema.enum.length > 0)
		return schema.enum.every((choice) => typeof choice === 'number')
			? schema.enum.every(Number.isInteger)
				? 'integer'
				: 'number'
			: 'string';
	return 'any';
}

function numberOrUndefined(value: unknown): number | undefined {
	return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function valueRule(schema: Schema): ValueRule {
	const choices = Array.isArray(schema.enum)
		? (schema.enum.filter((choice) => ['string', 'number'].includes(typeof choice)) as Array<
				string | number
			>)
		: undefined;
	return {
		kind: kindOf(schema),
		file: schema.format === 'uri',
		choices: choices && choices.length > 0 ? choices : undefined,
		minimum: numberOrUndefined(schema.minimum),
		maximum: numberOrUndefined(schema.maximum),
		minLength: numberOrUndefined(schema.minLength),
		maxLength: numberOrUndefined(schema.maxLength),
	};
}

/** Cog's own title for a field it writes none for (fields with choices): `output_format` → "Output Format". */
function titleOf(name: string): string {
	return name
		.split('_')
		.filter(Boolean)
		.map((word) => word[0].toUpperCase() + word.slice(1))
		.join(' ');
}

/** The Input schema of a version's OpenAPI document, or undefined when it has none. */
function inputSchemaOf(openapi: unknown): { input: Schema; components: Schema } | undefined {
	const components = asObject(asObject(asObject(openapi)?.components)?.schemas);
	const input = asObject(components?.Input);
	if (!components || !input || !asObject(input.properties)) return undefined;
	return { input, components };
}

/**
 * The model's inputs in the order Cog gives them (`x-order`), or undefined when the document has
 * no Input schema.
 */
export function inputFieldsOf(openapi: unknown): InputField[] | undefined {
	const found = inputSchemaOf(openapi);
	if (!found) return undefined;
	const { input, components } = found;
	const required = Array.isArray(input.required) ? input.required.map(String) : [];
	const fields = Object.entries(input.properties as Schema).flatMap(([name, raw], position) => {
		const declared = asObject(raw);
		if (!declared) return [];
		const { schema, nullable } = resolve(declared, components);
		const items = asObject(schema.items)
			? valueRule(resolve(schema.items as Schema, components).schema)
			: undefined;
		const field: InputField = {
			...valueRule(schema),
			name,
			title: typeof schema.title === 'string' && schema.title.trim() ? schema.title : titleOf(name),
			description: typeof schema.description === 'string' ? schema.description : undefined,
			required: required.includes(name),
			nullable,
			deprecated: schema.deprecated === true,
			secret: schema.format === 'password' || schema['x-cog-secret'] === true,
			default: schema.default,
			items,
		};
		const order = typeof schema['x-order'] === 'number' ? schema['x-order'] : 1000 + position;
		return [{ order, field }];
	});
	return fields.sort((a, b) => a.order - b.order).map(({ field }) => field);
}

/** What a secret value is shown as, anywhere the node shows values. */
export const HIDDEN_VALUE = '(hidden)';

/** A prediction with the model's secret inputs hidden, for output items. */
export function withSecretsHidden<T extends IDataObject>(prediction: T, secretFields: string[]): T {
	const input = asObject(prediction.input);
	const shown = secretFields.filter((name) => input && name in input);
	if (!input || shown.length === 0) return prediction;
	return {
		...prediction,
		input: { ...input, ...Object.fromEntries(shown.map((name) => [name, HIDDEN_VALUE])) },
	};
}

/** A file input as given: a URL or data URI goes as it is, a binary field is sent by the node. */
export type FileSource = { from: 'uri'; uri: string } | { from: 'binary'; property: string };

/** Where a file goes in the input: `image`, or entry 1 of `image_input`. */
export interface FileInput {
	field: string;
	index?: number;
	/** The field as the user sees it, for messages. */
	label: string;
	source: FileSource;
}

export interface CheckedInput {
	/** The values to send, files given as URIs included; binary files are added by the create. */
	input: IDataObject;
	/** Files to send from the item's binary fields. */
	binaryFiles: FileInput[];
	problems: InputProblem[];
}

/** An empty form field is "not set": the model's default applies. */
function isUnset(value: unknown): boolean {
	return value === undefined || value === null || value === '';
}

const DATA_URI = /^data:[\w.+-]+\/[\w.+-]+(?:;[\w.+-]+=[^;,]*)*(?:;base64)?,./is;

function list(values: Array<string | number>): string {
	return values.map((value) => JSON.stringify(value)).join(', ');
}

function rangeText(rule: ValueRule, noun: string): string {
	if (rule.minimum !== undefined && rule.maximum !== undefined)
		return `${noun} from ${rule.minimum} to ${rule.maximum}`;
	if (rule.minimum !== undefined) return `${noun} of at least ${rule.minimum}`;
	if (rule.maximum !== undefined) return `${noun} of at most ${rule.maximum}`;
	return noun;
}

/**
 * One value against its rule, converted the way a form or an expression gives it (a number typed
 * as text, "true"): the value to send, or what is allowed.
 */
function checkValue(rule: ValueRule, value: unknown): { value: unknown } | { allowed: string } {
	let candidate = value;
	if (rule.choices) {
		const match = rule.choices.find((choice) => String(choice) === String(candidate).trim());
		return match === undefined
			? { allowed: `must be one of ${list(rule.choices)}` }
			: { value: match };
	}
	switch (rule.kind) {
		case 'integer':
		case 'number': {
			if (typeof candidate === 'string' && candidate.trim() !== '') candidate = Number(candidate);
			const noun = rule.kind === 'integer' ? 'a whole number' : 'a number';
			const allowed = { allowed: `must be ${rangeText(rule, noun)}` };
			if (typeof candidate !== 'number' || !Number.isFinite(candidate)) return allowed;
			if (rule.kind === 'integer' && !Number.isInteger(candidate)) return allowed;
			if (rule.minimum !== undefined && candidate < rule.minimum) return allowed;
			if (rule.maximum !== undefined && candidate > rule.maximum) return allowed;
			return { value: candidate };
		}
		case 'boolean':
			if (candidate === 'true' || candidate === 'false') candidate = candidate === 'true';
			return typeof candidate === 'boolean'
				? { value: candidate }
				: { allowed: 'must be true or false' };
		case 'string': {
			if (typeof candidate === 'number') candidate = String(candidate);
			if (typeof candidate !== 'string') return { allowed: 'must be text' };
			if (rule.minLength !== undefined && candidate.length < rule.minLength)
				return { allowed: `must be at least ${rule.minLength} characters long` };
			if (rule.maxLength !== undefined && candidate.length > rule.maxLength)
				return { allowed: `must be at most ${rule.maxLength} characters long` };
			return { value: candidate };
		}
		case 'object':
			return asObject(candidate) ? { value: candidate } : { allowed: 'must be a JSON object' };
		default:
			return { value: candidate };
	}
}

/** An array field's value: an array, a JSON array as text, or one entry. */
function asArray(value: unknown): unknown[] {
	if (Array.isArray(value)) return value;
	if (typeof value === 'string' && value.trim().startsWith('[')) {
		try {
			const parsed: unknown = JSON.parse(value);
			if (Array.isArray(parsed)) return parsed;
		} catch {
			// one entry after all
		}
	}
	return [value];
}

/**
 * An item's values against the model's fields: every problem found (one per field), the input to
 * send and the item's binary files to add to it. `binaryNames` are the item's binary fields.
 */
export function checkInputValues(
	fields: InputField[],
	given: IDataObject,
	binaryNames: string[],
): CheckedInput {
	const input: IDataObject = {};
	const binaryFiles: FileInput[] = [];
	const problems: InputProblem[] = [];
	const byName = new Map(fields.map((field) => [field.name, field]));
	const problem = (field: InputField, value: unknown, rule: string) =>
		problems.push({
			field: field.name,
			label: field.title,
			value: field.secret ? HIDDEN_VALUE : value,
			rule,
		});

	/** A file value: a URL or data URI as it is, or a binary field of the item. */
	const fileSource = (value: unknown): FileSource | string => {
		const text = typeof value === 'string' ? value.trim() : value;
		if (typeof text !== 'string' || text === '')
			return 'must be an http(s) URL, a data URI or the name of a binary field of the item';
		if (isHttpUrl(text) || DATA_URI.test(text)) return { from: 'uri', uri: text };
		if (binaryNames.includes(text)) return { from: 'binary', property: text };
		const has = binaryNames.length
			? `this item's binary fields: ${binaryNames.join(', ')}`
			: 'this item has no binary data';
		return `is neither an http(s) URL, a data URI nor a binary field of the item (${has})`;
	};

	for (const [name, value] of Object.entries(given)) {
		if (!byName.has(name) && !isUnset(value)) {
			problems.push({
				field: name,
				label: name,
				value,
				rule: `is not an input of this model (its inputs: ${fields.map((field) => field.name).join(', ')})`,
			});
		}
	}
	for (const field of fields) {
		const value = given[field.name];
		if (isUnset(value) || (Array.isArray(value) && value.length === 0 && field.kind === 'array')) {
			if (field.required && field.default === undefined)
				problem(
					field,
					value ?? '',
					field.file
						? 'is required: an http(s) URL, a data URI or the name of a binary field of the item'
						: 'is required',
				);
			continue;
		}
		if (field.kind === 'array') {
			const entries = asArray(value);
			const rule = field.items ?? { kind: 'any' as const, file: false };
			const sent: unknown[] = [];
			const reasons: string[] = [];
			entries.forEach((entry, index) => {
				if (rule.file) {
					const source = fileSource(entry);
					if (typeof source === 'string') reasons.push(`entry ${index} ${source}`);
					else if (source.from === 'uri') sent.push(source.uri);
					else {
						sent.push(null);
						binaryFiles.push({ field: field.name, index, label: field.title, source });
					}
					return;
				}
				const checked = checkValue(rule, entry);
				if ('allowed' in checked) reasons.push(`entry ${index} ${checked.allowed}`);
				else sent.push(checked.value);
			});
			if (reasons.length > 0) problem(field, value, reasons.join('; '));
			else input[field.name] = sent;
			continue;
		}
		if (field.file) {
			const source = fileSource(value);
			if (typeof source === 'string') problem(field, value, source);
			else if (source.from === 'uri') input[field.name] = source.uri;
			else binaryFiles.push({ field: field.name, label: field.title, source });
			continue;
		}
		const checked = checkValue(field, value);
		if ('allowed' in checked) problem(field, value, checked.allowed);
		else input[field.name] = checked.value as IDataObject[string];
	}
	return { input, binaryFiles, problems };
}
