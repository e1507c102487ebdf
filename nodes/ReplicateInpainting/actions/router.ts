import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { asNodeError, errorItem } from '../../shared/errors';
import { readOptions } from '../../shared/options';
import { ExecutionStoppedError } from '../../shared/pause';
import { ExecutionRun, forEachConcurrently } from '../helpers/run';
import { parkForWebhooks } from '../helpers/webhookMode/park';
import type { Operation } from './prediction';
import { operations } from './prediction';
import { parksExecution } from './prediction/createAndWait.operation';

/**
 * Checks every item first, so that bad input anywhere fails before the first (paid) request.
 * Then runs the operation for the valid items, up to Max Concurrent Predictions at a time,
 * keeping output order and pairedItem on input order. A failing item (without Continue On Fail)
 * tears the run down: the other items stop waiting and their predictions are canceled before the
 * error is raised.
 */
export async function router(
	this: IExecuteFunctions,
	continueOnFail: () => boolean,
): Promise<INodeExecutionData[][]> {
	const items = this.getInputData();
	const operation = this.getNodeParameter('operation', 0) as Operation;
	const handler = operations[operation];
	if (!handler) {
		throw new NodeOperationError(this.getNode(), `The operation "${operation}" is not supported`);
	}
	const outputs: INodeExecutionData[][] = new Array(items.length);
	const valid: number[] = [];
	for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
		try {
			await handler.validate.call(this, itemIndex);
			valid.push(itemIndex);
		} catch (error) {
			if (!continueOnFail()) throw asNodeError(this, error, itemIndex);
			outputs[itemIndex] = [errorItem(this, error, itemIndex)];
		}
	}
	if (valid.length === 0) return [outputs.flat()];

	const firstOptions = readOptions(this, valid[0]);
	const run = ExecutionRun.for(this, firstOptions.maxRetries);
	if (operation === 'createAndWait' && parksExecution(this)) {
		return await parkForWebhooks(this, valid, outputs, run, continueOnFail);
	}
	let failure: unknown;

	await forEachConcurrently(
		valid.length,
		firstOptions.maxConcurrent,
		async (position) => {
			const itemIndex = valid[position];
			try {
				const options = readOptions(this, itemIndex);
				const policy = run.policy(options.maxRetries);
				const produced = await handler.execute.call(this, { itemIndex, run, options, policy });
				outputs[itemIndex] = produced.map((item) => ({ ...item, pairedItem: { item: itemIndex } }));
			} catch (error) {
				if (error instanceof ExecutionStoppedError && failure !== undefined) return;
				if (continueOnFail() && !(error instanceof ExecutionStoppedError)) {
					outputs[itemIndex] = [errorItem(this, error, itemIndex)];
					return;
				}
				failure ??=
					error instanceof ExecutionStoppedError ? error : asNodeError(this, error, itemIndex);
				await run.tearDown();
			}
		},
		() => failure !== undefined || run.stopped,
	);

	for (const warning of run.warnings) this.logger.warn(warning);
	if (failure !== undefined) throw failure;
	return [outputs.flat()];
}
