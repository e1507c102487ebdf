import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import type { NodeOptions } from '../../../shared/options';
import type { ItemBatch, OperationItem } from '../../engine/executionRun';
import type { ModelLoader } from '../../engine/loadModel';
import * as cancel from './cancel.operation';
import * as createAndWait from './createAndWait.operation';
import * as createOnly from './createOnly.operation';
import * as get from './get.operation';

/** What an operation file offers the router. */
export interface Operation {
	description: INodeProperties[];
	/**
	 * Reads and checks an item before any request of the run; what it returns reaches `execute`.
	 * `loadModel` gives a model's schema, fetched once for the run.
	 */
	validate(
		this: IExecuteFunctions,
		itemIndex: number,
		options: NodeOptions,
		loadModel: ModelLoader,
	): Promise<unknown>;
	execute(this: IExecuteFunctions, item: OperationItem): Promise<INodeExecutionData[]>;
	/**
	 * For an operation that can run all items as one (Create and Wait's Wait Mode: Webhook parks the
	 * execution once for every item): that run, when this execution takes it; else the router runs
	 * the items one by one.
	 */
	wholeRun?(
		this: IExecuteFunctions,
		asTool: boolean,
	):
		| ((context: IExecuteFunctions, batch: ItemBatch) => Promise<INodeExecutionData[][]>)
		| undefined;
}

export const operations: Record<'createAndWait' | 'createOnly' | 'get' | 'cancel', Operation> = {
	createAndWait,
	createOnly,
	get,
	cancel,
};

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
