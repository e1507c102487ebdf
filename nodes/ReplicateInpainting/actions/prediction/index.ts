import type { INodeProperties } from 'n8n-workflow';

import * as cancel from './cancel.operation';
import * as createAndWait from './createAndWait.operation';
import * as createOnly from './createOnly.operation';
import * as get from './get.operation';

export const operations = { createAndWait, createOnly, get, cancel };

export type Operation = keyof typeof operations;

const operationProperty: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	default: 'createAndWait',
	options: [
		{
			name: 'Create and Wait',
			value: 'createAndWait',
			action: 'Inpaint an image and wait for the result',
			description: 'Create a prediction, wait until it has finished, return its images',
		},
		{
			name: 'Create Only',
			value: 'createOnly',
			action: 'Start an inpainting prediction',
			description: 'Create a prediction and return it at once (optionally with a webhook)',
		},
		{
			name: 'Get',
			value: 'get',
			action: 'Get a prediction',
			description: 'Get a prediction by ID, optionally waiting for it and downloading its images',
		},
		{
			name: 'Cancel',
			value: 'cancel',
			action: 'Cancel a prediction',
			description: 'Cancel a running prediction by ID',
		},
	],
};

/**
 * The canvas subtitle: the operation's name as the form shows it ("Create and Wait"), not its
 * value.
 */
const operationNames = Object.fromEntries(
	(operationProperty.options as Array<{ name: string; value: string }>).map(({ name, value }) => [
		value,
		name,
	]),
);
export const subtitle = `={{ ${JSON.stringify(operationNames)}[$parameter["operation"]] }}`;

export const description: INodeProperties[] = [
	operationProperty,
	...createAndWait.description,
	...createOnly.description,
	...get.description,
	...cancel.description,
];
