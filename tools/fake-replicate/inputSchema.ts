/**
 * A model input checked against its version's Input schema, the JSON-schema subset Cog writes
 * (type, format uri, enum inline or through `allOf: [{$ref}]`, minimum/maximum,
 * minLength/maxLength, minItems/maxItems, required, nullable), with gojsonschema's error types and
 * wording as Replicate passes them on. Written from the schemas, never from the node's code: the
 * fake server is the referee.
 */

/** One entry of Replicate's `invalid_fields`. */
export interface InvalidField {
	/** gojsonschema's error type: required, invalid_type, enum, number_gte, number_lte, string_gte, string_lte, array_min_items, array_max_items, format, additional_property_not_allowed */
	type: string;
	field: string;
	description: string;
}

/** A version's `openapi_schema` as far as inputs go: `components.schemas` holds Input and its enums. */
export interface InputSchemaDocument {
	components: { schemas: Record<string, Record<string, unknown>> };
}

type JsonSchema = Record<string, unknown>;

export type CheckedInput =
	| { ok: true; input: Record<string, unknown> }
	| { ok: false; errors: InvalidField[] };

/** What Replicate shows in place of a secret input's value (pydantic's SecretStr as JSON). */
export const REDACTED = '**********';

export function jsonTypeName(value: unknown): string {
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

/** The Input schema's properties, in `x-order`. */
export function inputProperties(document: InputSchemaDocument): Array<[string, JsonSchema]> {
	const properties = (document.components.schemas.Input?.properties ?? {}) as Record<
		string,
		JsonSchema
	>;
	return Object.entries(properties).sort(
		([, a], [, b]) => Number(a['x-order'] ?? 0) - Number(b['x-order'] ?? 0),
	);
}

/** A property with its `$ref`s (direct or through allOf) merged in, as a validator reads it. */
export function resolvedProperty(document: InputSchemaDocument, property: JsonSchema): JsonSchema {
	const refs: unknown[] = [
		...(property.$ref ? [{ $ref: property.$ref }] : []),
		...(Array.isArray(property.allOf) ? property.allOf : []),
	];
	let merged: JsonSchema = { ...property };
	for (const part of refs) {
		const ref = (part as JsonSchema).$ref;
		const target =
			typeof ref === 'string' && ref.startsWith('#/components/schemas/')
				? document.components.schemas[ref.slice('#/components/schemas/'.length)]
				: (part as JsonSchema);
		if (!target) throw new Error(`schema reference ${String(ref)} does not resolve`);
		merged = { ...resolvedProperty(document, target), ...merged };
	}
	delete merged.allOf;
	delete merged.$ref;
	return merged;
}

/** A `format: uri` field, or an array of them: the inputs a model fetches. */
export function isUriField(property: JsonSchema): boolean {
	const items = property.items as JsonSchema | undefined;
	return property.format === 'uri' || (property.type === 'array' && items?.format === 'uri');
}

function quoted(choice: unknown): string {
	return typeof choice === 'string' ? `"${choice}"` : String(choice);
}

/** gojsonschema's checks of one value; `label` is how its enum message names the field. */
function checkValue(
	field: string,
	label: string,
	schema: JsonSchema,
	value: unknown,
	errors: InvalidField[],
): void {
	const fail = (type: string, description: string) => errors.push({ type, field, description });
	const given = jsonTypeName(value);
	if (value === null && schema.nullable === true) return;
	const type = schema.type as string | undefined;
	if (type !== undefined) {
		const matches =
			type === given ||
			(type === 'number' && given === 'integer') ||
			(type === 'object' && given === 'object');
		if (!matches)
			return void fail('invalid_type', `Invalid type. Expected: ${type}, given: ${given}`);
	}
	if (type === 'integer' && !Number.isSafeInteger(value))
		return void fail('number_lte', `Must be less than or equal to ${Number.MAX_SAFE_INTEGER}`);
	if (Array.isArray(schema.enum) && !schema.enum.includes(value as never)) {
		fail('enum', `${label} must be one of the following: ${schema.enum.map(quoted).join(', ')}`);
	}
	if (typeof value === 'number') {
		if (typeof schema.minimum === 'number' && value < schema.minimum)
			fail('number_gte', `Must be greater than or equal to ${schema.minimum}`);
		if (typeof schema.maximum === 'number' && value > schema.maximum)
			fail('number_lte', `Must be less than or equal to ${schema.maximum}`);
	}
	if (typeof value === 'string') {
		const length = [...value].length;
		if (typeof schema.minLength === 'number' && length < schema.minLength)
			fail('string_gte', `String length must be greater than or equal to ${schema.minLength}`);
		if (typeof schema.maxLength === 'number' && length > schema.maxLength)
			fail('string_lte', `String length must be less than or equal to ${schema.maxLength}`);
		if (schema.format === 'uri' && !isHttpUrl(value) && !isDataUri(value))
			fail('format', `Does not match format 'uri' (an http(s) URL or a data: URI)`);
	}
	if (Array.isArray(value)) {
		if (typeof schema.minItems === 'number' && value.length < schema.minItems)
			fail('array_min_items', `Array must have at least ${schema.minItems} items`);
		if (typeof schema.maxItems === 'number' && value.length > schema.maxItems)
			fail('array_max_items', `Array must have at most ${schema.maxItems} items`);
		const items = schema.items as JsonSchema | undefined;
		if (items)
			value.forEach((item, i) => checkValue(`${field}.${i}`, `${label}.${i}`, items, item, errors));
	}
}

/**
 * Checks `input` against the document's Input schema. On success returns it with the schema's
 * defaults filled in (what the fake stores as the prediction's input).
 */
export function checkInput(document: InputSchemaDocument, input: unknown): CheckedInput {
	if (typeof input !== 'object' || input === null || Array.isArray(input)) {
		const missing = input === undefined;
		return {
			ok: false,
			errors: [
				{
					type: missing ? 'required' : 'invalid_type',
					field: 'input',
					description: missing
						? 'input is required'
						: `Invalid type. Expected: object, given: ${jsonTypeName(input)}`,
				},
			],
		};
	}
	const given = input as Record<string, unknown>;
	const required = new Set((document.components.schemas.Input?.required ?? []) as string[]);
	const errors: InvalidField[] = [];
	const filled: Record<string, unknown> = {};
	const properties = inputProperties(document);
	for (const [name, property] of properties) {
		const schema = resolvedProperty(document, property);
		if (!Object.hasOwn(given, name)) {
			if (required.has(name))
				errors.push({
					type: 'required',
					field: `input.${name}`,
					description: `${name} is required`,
				});
			else if (schema.default !== undefined && schema.default !== null)
				filled[name] = schema.default;
			continue;
		}
		checkValue(`input.${name}`, name, schema, given[name], errors);
		filled[name] = given[name];
	}
	const known = new Set(properties.map(([name]) => name));
	for (const name of Object.keys(given)) {
		if (!known.has(name))
			errors.push({
				type: 'additional_property_not_allowed',
				field: `input.${name}`,
				description: `Additional property ${name} is not allowed`,
			});
	}
	return errors.length > 0 ? { ok: false, errors } : { ok: true, input: filled };
}

/** The input as Replicate shows it: every `x-cog-secret` value redacted. */
export function redactSecrets(
	document: InputSchemaDocument,
	input: Record<string, unknown>,
): Record<string, unknown> {
	const shown = { ...input };
	for (const [name, property] of inputProperties(document)) {
		if (property['x-cog-secret'] === true && typeof shown[name] === 'string')
			shown[name] = REDACTED;
	}
	return shown;
}
