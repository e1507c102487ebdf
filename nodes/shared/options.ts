/**
 * The node's own options (how it waits, downloads, retries), declared once: each operation of the
 * node and the trigger pick the ones they offer, and `resolveOptions` checks resolved values
 * against the same declarations.
 */
import type { IDataObject, INode, INodeProperties } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

/** How generated images are laid out on output items. */
export type OutputLayout = 'itemPerImage' | 'allOnOneItem';
/** How binary Image and Mask files reach Replicate. */
export type UploadRoute = 'auto' | 'dataUri' | 'upload';

export interface NodeOptions {
	timeout: number;
	downloadOutputs: boolean;
	outputLayout: OutputLayout;
	binaryPropertyName: string;
	extraInput: unknown;
	uploadRoute: UploadRoute;
	maxRetries: number;
	maxOutputSizeMb: number;
	keepUploadedFiles: boolean;
	maxConcurrent: number;
}

export type OptionName = keyof NodeOptions;

const OPTION_FIELDS: Record<OptionName, INodeProperties> = {
	timeout: {
		displayName: 'Timeout (Seconds)',
		name: 'timeout',
		type: 'number',
		default: 600,
		typeOptions: { minValue: 1, maxValue: 86400 },
		description:
			'How long the node waits for the prediction. Also sent as Cancel-After, so Replicate stops a run nobody waits for any more.',
	},
	downloadOutputs: {
		displayName: 'Download Outputs',
		name: 'downloadOutputs',
		type: 'boolean',
		default: true,
		description:
			'Whether to download the generated images as binary data. Off: the output URLs only (Replicate deletes them after about an hour).',
	},
	outputLayout: {
		displayName: 'Output Layout',
		name: 'outputLayout',
		type: 'options',
		default: 'itemPerImage',
		options: [
			{
				name: 'One Item per Image',
				value: 'itemPerImage',
				description: 'Each image on its own item, in the binary property',
			},
			{
				name: 'All Images on One Item',
				value: 'allOnOneItem',
				description: 'Binary properties data, data_1, data_2, …',
			},
		],
		description: 'How generated images are laid out on the output items',
	},
	binaryPropertyName: {
		displayName: 'Output Binary Field Name',
		name: 'binaryPropertyName',
		type: 'string',
		default: 'data',
		description: 'Name of the binary field the images are written to',
	},
	extraInput: {
		displayName: 'Extra Input (JSON)',
		name: 'extraInput',
		type: 'json',
		default: '{}',
		description:
			'A JSON object merged into the model input, for fields this form does not have. Fields the form sets cannot be overridden here.',
	},
	uploadRoute: {
		displayName: 'Binary Upload',
		name: 'uploadRoute',
		type: 'options',
		default: 'auto',
		options: [
			{
				name: 'Auto',
				value: 'auto',
				description: "Data URI up to 256 KB, larger files uploaded to Replicate's files API",
			},
			{
				name: 'Always Data URI',
				value: 'dataUri',
				description: 'Send the file inside the request',
			},
			{
				name: 'Always Upload',
				value: 'upload',
				description: 'Upload to the files API first, send its URL',
			},
		],
		description: 'How binary Image and Mask files are sent to Replicate',
	},
	maxRetries: {
		displayName: 'Max Retries',
		name: 'maxRetries',
		type: 'number',
		default: 4,
		typeOptions: { minValue: 0, maxValue: 10 },
		description:
			"How often this node repeats one API request that was throttled (429) or hit a network or server error, with backoff. A create is only repeated when no prediction can have been made. Unlike n8n's Retry On Fail (Settings), which runs the whole node again and so starts new paid predictions.",
	},
	maxOutputSizeMb: {
		displayName: 'Max Output Size (MB)',
		name: 'maxOutputSizeMb',
		type: 'number',
		default: 50,
		typeOptions: { minValue: 1, maxValue: 1024 },
		description: 'A larger output file fails the item instead of filling memory or disk',
	},
	keepUploadedFiles: {
		displayName: 'Keep Uploaded Files',
		name: 'keepUploadedFiles',
		type: 'boolean',
		default: false,
		description:
			'Whether to keep files uploaded for a prediction (otherwise deleted once it has finished)',
	},
	maxConcurrent: {
		displayName: 'Max Concurrent Predictions',
		name: 'maxConcurrent',
		type: 'number',
		default: 5,
		typeOptions: { minValue: 1, maxValue: 50 },
		description: 'How many items run at the same time. Output order always follows input order.',
	},
};

/** One Options collection: the named node options plus `extra` fields, in alphabetical order. */
export function optionsCollection(
	names: OptionName[],
	extra: INodeProperties[] = [],
	adjust: Partial<Record<OptionName, Partial<INodeProperties>>> = {},
): INodeProperties {
	const fields = [...names.map((name) => ({ ...OPTION_FIELDS[name], ...adjust[name] })), ...extra];
	return {
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: fields.sort((a, b) => a.displayName.localeCompare(b.displayName)),
	};
}

const DEFAULTS = Object.fromEntries(
	Object.entries(OPTION_FIELDS).map(([name, field]) => [name, field.default]),
) as unknown as NodeOptions;

function allowedValues(field: INodeProperties): string[] | undefined {
	return field.options?.map((option) => String((option as { value: unknown }).value));
}

/**
 * Options with defaults filled in; a value outside its declared range fails (before any request).
 * Shared by the node (per item) and the trigger (per delivery).
 */
export function resolveOptions(node: INode, given: IDataObject, itemIndex?: number): NodeOptions {
	for (const [name, value] of Object.entries(given)) {
		const field = OPTION_FIELDS[name as OptionName];
		const problem = field ? checkOption(field, value) : undefined;
		if (field && problem) {
			const where = itemIndex === undefined ? '' : ` (item ${itemIndex})`;
			throw new NodeOperationError(
				node,
				`Invalid option ${field.displayName}${where}: ${shown(value)} ${problem}`,
				{
					itemIndex,
				},
			);
		}
	}
	return { ...DEFAULTS, ...given } as NodeOptions;
}

/** A value as the user gave it: JSON would show NaN and Infinity (from an expression) as null. */
function shown(value: unknown): string {
	return typeof value === 'number' ? String(value) : JSON.stringify(value);
}

/** What the options are read from: the execute context (per item), a webhook or trigger context. */
interface ParameterSource {
	getNode(): INode;
	getNodeParameter(name: string, ...rest: never[]): unknown;
}

/**
 * The node's Options, checked and with defaults: an item's in an execution, or the node's own in a
 * webhook or trigger call (which have no items to read them per).
 */
export function readOptions(context: ParameterSource, itemIndex?: number): NodeOptions {
	const read = context.getNodeParameter as (name: string, ...rest: unknown[]) => unknown;
	const given = (
		itemIndex === undefined
			? read.call(context, 'options', {})
			: read.call(context, 'options', itemIndex, {})
	) as IDataObject;
	return resolveOptions(context.getNode(), given, itemIndex);
}

function checkOption(field: INodeProperties, value: unknown): string | undefined {
	if (field.type === 'number') {
		const { minValue, maxValue } = field.typeOptions ?? {};
		if (typeof value !== 'number' || !Number.isFinite(value)) return 'must be a number';
		if (
			(minValue !== undefined && value < minValue) ||
			(maxValue !== undefined && value > maxValue)
		) {
			return `must be from ${minValue} to ${maxValue}`;
		}
	}
	if (field.type === 'boolean' && typeof value !== 'boolean') return 'must be true or false';
	if (field.type === 'string' && (typeof value !== 'string' || value.trim() === ''))
		return 'must be a non-empty name';
	const allowed = field.type === 'options' ? allowedValues(field) : undefined;
	if (allowed && !allowed.includes(String(value))) return `must be one of ${allowed.join(', ')}`;
	return undefined;
}
