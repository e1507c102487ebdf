import type { INodeProperties } from 'n8n-workflow';

import * as cancel from './cancel.operation';
import * as createAndWait from './createAndWait.operation';
import * as createOnly from './createOnly.operation';
import * as get from './get.operation';

export const operations = { createAndWait, createOnly, get, cancel };

export type Operation = keyof typeof operations;

export const description: INodeProperties[] = [
	{
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
	},
	...createAndWait.description,
	...createOnly.description,
	...get.description,
	...cancel.description,
];
