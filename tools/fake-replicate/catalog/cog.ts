/**
 * What a catalog model is, and the OpenAPI document Cog writes for a version, built from a model's
 * inputs as its API page lists them: properties in page order get `x-order` 0, 1, 2…, a title from
 * the name (`num_outputs` → "Num Outputs"), and a field with `choices` becomes Cog's
 * `allOf: [{$ref}]` to an enumeration schema named after the field (no type, no title on the
 * property), which is how Cog writes a `choices=` argument. Inline `enum` stays as written.
 */

/** One input as the API page shows it; `choices` = Cog's enumeration, written as allOf/$ref. */
export interface InputSpec {
	type?: 'string' | 'integer' | 'number' | 'boolean' | 'array';
	format?: 'uri' | 'password';
	description?: string;
	default?: unknown;
	minimum?: number;
	maximum?: number;
	enum?: readonly (string | number)[];
	items?: { type: 'string'; format?: 'uri' };
	nullable?: boolean;
	'x-cog-secret'?: boolean;
	choices?: { type: 'string' | 'integer'; values: readonly (string | number)[] };
}

/** What the outputs are: one file URI, or an array of them (`num_outputs`). */
export type OutputKind = 'uri' | 'uri-array';

/** How the fake renders the model's outputs from its inputs. */
export type EditKind =
	/** repaints the mask's area of `image`; `repaint` is the mask colour that is repainted */
	| { kind: 'mask'; image: string; mask: string; repaint: 'white' | 'black' }
	/** transforms the image(s) of `images` (a uri field, or an array-of-uri field) */
	| { kind: 'instruction'; images: string };

export interface CatalogVersion {
	id: string;
	created_at: string;
	cog_version: string;
	openapi_schema: CogSchema;
}

export interface CatalogModel {
	owner: string;
	name: string;
	description: string;
	is_official: boolean;
	run_count: number;
	/** newest first; [0] is latest_version */
	versions: CatalogVersion[];
	output: OutputKind;
	edit: EditKind;
	/** what GET /search's metadata carries */
	tags: string[];
}

export interface CogSchema {
	openapi: string;
	info: { title: string; version: string };
	paths: Record<string, never>;
	components: { schemas: Record<string, Record<string, unknown>> };
}

const OUTPUT_SCHEMAS: Record<OutputKind, Record<string, unknown>> = {
	uri: { type: 'string', title: 'Output', format: 'uri' },
	'uri-array': { type: 'array', items: { type: 'string', format: 'uri' }, title: 'Output' },
};

function titleOf(name: string): string {
	return name
		.split('_')
		.map((word) => word.charAt(0).toUpperCase() + word.slice(1))
		.join(' ');
}

/** The version's openapi_schema (only `components.schemas`: the paths Cog also writes say nothing a client reads). */
export function cogSchema(
	inputs: Record<string, InputSpec>,
	required: readonly string[],
	output: OutputKind,
): CogSchema {
	const schemas: Record<string, Record<string, unknown>> = {};
	const properties: Record<string, Record<string, unknown>> = {};
	Object.entries(inputs).forEach(([name, { choices, ...spec }], order) => {
		if (choices) {
			schemas[name] = {
				enum: [...choices.values],
				type: choices.type,
				title: name,
				description: 'An enumeration.',
			};
			properties[name] = {
				allOf: [{ $ref: `#/components/schemas/${name}` }],
				...spec,
				'x-order': order,
			};
		} else {
			properties[name] = { title: titleOf(name), ...spec, 'x-order': order };
		}
	});
	return {
		openapi: '3.0.2',
		info: { title: 'Cog', version: '0.1.0' },
		paths: {},
		components: {
			schemas: {
				Input: { type: 'object', title: 'Input', required: [...required], properties },
				Output: OUTPUT_SCHEMAS[output],
				...schemas,
			},
		},
	};
}
