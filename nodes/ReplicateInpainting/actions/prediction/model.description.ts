/**
 * Which model a create runs (the Model picker) and, for any model but the built-in one, its
 * inputs as typed fields built from the model's own schema (n8n's resource mapper, filled by
 * `getModelInputs`). The built-in model keeps the node's own form (modelInput.description).
 */
import type { INodeProperties } from 'n8n-workflow';

import { MODEL_NAME } from '../../schema/modelInput';

const builtInModel = MODEL_NAME;

export const modelProperty: INodeProperties = {
	displayName: 'Model',
	name: 'model',
	type: 'resourceLocator',
	default: { mode: 'list', value: builtInModel },
	required: true,
	description:
		"The Replicate model to run. The default, stability-ai/stable-diffusion-inpainting, has this node's own form; any other model gets a form built from its schema.",
	modes: [
		{
			displayName: 'From List',
			name: 'list',
			type: 'list',
			typeOptions: { searchListMethod: 'searchModels', searchable: true },
		},
		{
			displayName: 'By Name',
			name: 'name',
			type: 'string',
			placeholder: 'e.g. black-forest-labs/flux-fill-pro',
			validation: [
				{
					type: 'regex',
					properties: {
						regex: '^[A-Za-z0-9][\\w.-]*/[A-Za-z0-9][\\w.-]*(:[0-9a-f]{64})?$',
						errorMessage: 'Use owner/name, or owner/name:<version id>',
					},
				},
			],
		},
		{
			displayName: 'By URL',
			name: 'url',
			type: 'string',
			placeholder: 'e.g. https://replicate.com/black-forest-labs/flux-fill-pro',
			extractValue: {
				type: 'regex',
				regex: '^https?://(?:www\\.)?replicate\\.com/([^/?#]+/[^/?#]+)',
			},
			validation: [
				{
					type: 'regex',
					properties: {
						regex: '^https?://(?:www\\.)?replicate\\.com/[^/?#]+/[^/?#]+',
						errorMessage: 'Use a model page link, https://replicate.com/owner/name',
					},
				},
			],
		},
	],
};

/** The inputs of any model but the built-in one, typed from its schema. */
export const modelInputsProperty: INodeProperties = {
	displayName: 'Model Inputs',
	name: 'modelInputs',
	type: 'resourceMapper',
	noDataExpression: true,
	default: { mappingMode: 'defineBelow', value: null },
	// Not required as a whole: which inputs a model requires is its schema's to say, field by field.
	displayOptions: { hide: { model: [builtInModel] } },
	typeOptions: {
		loadOptionsDependsOn: ['model.value', 'options.modelVersion.value'],
		resourceMapper: {
			resourceMapperMethod: 'getModelInputs',
			mode: 'add',
			valuesLabel: 'Model Inputs',
			fieldWords: { singular: 'input', plural: 'inputs' },
			addAllFields: true,
			supportAutoMap: false,
			noFieldsError: "This model's schema has no inputs the node can show",
		},
	},
	hint: 'A file input takes a URL, a data URI, or the name of a binary field of the incoming item (e.g. data); a list of files takes a JSON array of those, e.g. ["data", "data_1"]',
	description:
		"The model's inputs, with the types, choices and limits of its schema. As an AI Agent tool, the agent fills only inputs written as $fromAI(): the model and its inputs are fixed in the workflow.",
};
