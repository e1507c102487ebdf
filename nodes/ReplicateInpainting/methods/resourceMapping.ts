/**
 * The Model Inputs form (n8n's resource mapper) of any model but the built-in one: its fields
 * come from the model's schema, typed so the editor shows a dropdown for choices, a number field,
 * a switch, in the schema's order.
 */
import type {
	FieldType,
	ILoadOptionsFunctions,
	IDataObject,
	ResourceMapperField,
	ResourceMapperFields,
} from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import {
	modelLoader,
	modelPickerValue,
	modelReference,
	usesBuiltInForm,
	versionOptionOf,
} from '../engine/loadModel';
import type { InputField } from '../schema/modelSchema';

/** The editor waits for this: a quick retry, no long backoff. */
const LOOKUP_POLICY = { maxRetries: 1 };

function fieldType(field: InputField): FieldType {
	if (field.choices) return 'options';
	if (field.kind === 'integer' || field.kind === 'number') return 'number';
	if (field.kind === 'boolean' || field.kind === 'array' || field.kind === 'object')
		return field.kind;
	return 'string';
}

/** The title, and what a file input takes (the mapper has no room for a description). */
function displayName(field: InputField): string {
	const what = field.file
		? ' (URL or Binary Field)'
		: field.items?.file
			? ' (URLs or Binary Fields, JSON Array)'
			: '';
	return `${field.title}${what}${field.deprecated ? ' (Deprecated)' : ''}`;
}

export function mapperField(field: InputField): ResourceMapperField {
	const defaultValue =
		['string', 'number', 'boolean'].includes(typeof field.default) && !field.secret
			? (field.default as string | number | boolean)
			: undefined;
	return {
		id: field.name,
		displayName: displayName(field),
		required: field.required && field.default === undefined,
		defaultMatch: false,
		canBeUsedToMatch: false,
		display: true,
		type: fieldType(field),
		options: field.choices?.map((choice) => ({ name: String(choice), value: choice })),
		defaultValue,
	};
}

export async function getModelInputs(this: ILoadOptionsFunctions): Promise<ResourceMapperFields> {
	const pickerValue = modelPickerValue(this.getNodeParameter('model', undefined));
	if (usesBuiltInForm(pickerValue)) return { fields: [] };
	const reference = modelReference(pickerValue);
	if (!reference) {
		throw new NodeOperationError(
			this.getNode(),
			`Model "${pickerValue}" is no model name: use owner/name or https://replicate.com/owner/name`,
		);
	}
	const option = (this.getNodeParameter('options', {}) as IDataObject).modelVersion;
	const pinned = reference.version ?? versionOptionOf(option).id;
	const model = await modelLoader(this)(reference.name, pinned, 0, LOOKUP_POLICY);
	if (!model.fields) {
		return {
			fields: [],
			emptyFieldsNotice: `The input schema of ${model.name} could not be loaded (${model.notLoaded}). Set its inputs in Options → Extra Input (JSON); they are sent unchecked.`,
		};
	}
	return { fields: model.fields.map(mapperField) };
}
