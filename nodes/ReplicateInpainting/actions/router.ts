import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { errorItem } from '../../shared/errors';
import type { NodeOptions } from '../../shared/options';
import { readOptions } from '../../shared/options';
import { ExecutionStoppedError } from '../../shared/pause';
import type { ItemBatch, OperationItem } from '../engine/executionRun';
import { ExecutionRun } from '../engine/executionRun';
import { failsOnlyItsItem, runEndingError } from '../engine/itemFailure';
import { modelLoader } from '../engine/loadModel';
import type { Operation } from './prediction';
import { operations } from './prediction';

/**
 * Whether n8n runs the node as an AI Agent tool (the "…Tool" node type n8n derives from a
 * `usableAsTool` node; `isToolExecution` only exists from n8n 2.x).
 */
export function runsAsTool(context: IExecuteFunctions): boolean {
	const isToolExecution = (context as { isToolExecution?: () => boolean }).isToolExecution;
	if (typeof isToolExecution === 'function' && isToolExecution.call(context)) return true;
	return context.getNode().type.endsWith('Tool');
}

/**
 * An item's options. As an AI Agent tool the node downloads nothing: a model cannot receive binary
 * data (n8n drops it from the tool's answer), so the tool answers with the output URLs.
 */
function itemOptions(context: IExecuteFunctions, itemIndex: number, asTool: boolean): NodeOptions {
	const options = readOptions(context, itemIndex);
	return asTool ? { ...options, downloadOutputs: false } : options;
}

/**
 * Runs `work(i)` for 0 ≤ i < count with at most `limit` at a time; stops taking new ones once
 * `shouldStop()`.
 */
async function forEachConcurrently(
	count: number,
	limit: number,
	work: (index: number) => Promise<void>,
	shouldStop: () => boolean,
): Promise<void> {
	let next = 0;
	const worker = async () => {
		while (next < count && !shouldStop()) {
			const index = next++;
			await work(index);
		}
	};
	await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, count)) }, worker));
}

/**
 * Checks every item first, so that bad input anywhere fails before the first (paid) request.
 * Then runs the operation for the valid items, up to Max Concurrent Predictions at a time,
 * keeping output order and pairedItem on input order, or hands them all to the operation when it
 * takes the whole run. A failing item (without Continue On Fail) tears the run down: the other
 * items stop waiting and their predictions are cancelled before the error is raised.
 */
export async function router(
	this: IExecuteFunctions,
	continueOnFail: boolean,
): Promise<INodeExecutionData[][]> {
	const input = this.getInputData();
	const name = this.getNodeParameter('operation', 0) as string;
	const operation: Operation | undefined = operations[name as keyof typeof operations];
	if (!operation) {
		throw new NodeOperationError(this.getNode(), `The operation "${name}" is not supported`);
	}
	const asTool = runsAsTool(this);
	const outputs: INodeExecutionData[][] = new Array(input.length);
	const valid: Array<Omit<OperationItem, 'run' | 'policy'>> = [];
	// Every item's check shares the model schemas it loads: one fetch per model for the run.
	const loadModel = modelLoader(this);
	for (let itemIndex = 0; itemIndex < input.length; itemIndex++) {
		try {
			const options = itemOptions(this, itemIndex, asTool);
			valid.push({
				itemIndex,
				options,
				checked: await operation.validate.call(this, itemIndex, options, loadModel),
			});
		} catch (error) {
			if (!failsOnlyItsItem(continueOnFail, error)) throw runEndingError(this, error, itemIndex);
			outputs[itemIndex] = [errorItem(this, error, itemIndex)];
		}
	}
	if (valid.length === 0) return [outputs.flat()];

	const run = ExecutionRun.for(this, valid[0].options.maxRetries);
	const items: OperationItem[] = valid.map((item) => ({
		...item,
		run,
		policy: run.policy(item.options.maxRetries),
	}));
	const batch: ItemBatch = { items, outputs, run, continueOnFail };
	const wholeRun = operation.wholeRun?.call(this, asTool);
	try {
		if (wholeRun) return await wholeRun(this, batch);
		return await runEachItem(this, operation, batch);
	} finally {
		// What the run had to give up on (a lost create adopted, a file not deleted), in every mode.
		for (const warning of run.warnings) this.logger.warn(warning);
	}
}

/** Runs the operation for each checked item, up to Max Concurrent Predictions at a time. */
async function runEachItem(
	context: IExecuteFunctions,
	operation: Operation,
	{ items, outputs, run, continueOnFail }: ItemBatch,
): Promise<INodeExecutionData[][]> {
	let failure: Error | undefined;
	await forEachConcurrently(
		items.length,
		items[0].options.maxConcurrent,
		async (position) => {
			const item = items[position];
			try {
				const produced = await operation.execute.call(context, item);
				outputs[item.itemIndex] = produced.map((entry) => ({
					...entry,
					pairedItem: { item: item.itemIndex },
				}));
			} catch (error) {
				// The run is already ending: this item only stopped because of it.
				if (error instanceof ExecutionStoppedError && failure !== undefined) return;
				if (failsOnlyItsItem(continueOnFail, error)) {
					outputs[item.itemIndex] = [errorItem(context, error, item.itemIndex)];
					return;
				}
				failure ??= runEndingError(context, error, item.itemIndex);
				await run.tearDown();
			}
		},
		() => failure !== undefined || run.stopped,
	);

	if (failure !== undefined) throw failure;
	return [outputs.flat()];
}
