/**
 * The node's one rule for a failing item, wherever an item fails (the check before the first
 * create, poll mode, the park, the resume): with Continue On Fail it becomes an error item and the
 * other items go on; without it, or when the user stopped the execution, the run ends.
 */
import type { INode } from 'n8n-workflow';

import { asNodeError } from '../../shared/errors';
import { ExecutionStoppedError } from '../../shared/pause';

/**
 * n8n's Continue On Fail, read from the node's settings as n8n-core's `continueOnFail()` reads it,
 * for a resume call, whose context has no `continueOnFail()`. An execution passes
 * `this.continueOnFail()` itself.
 */
export function continuesOnFail(node: INode): boolean {
	if (node.onError === undefined) return node.continueOnFail === true;
	return node.onError === 'continueRegularOutput' || node.onError === 'continueErrorOutput';
}

/** Whether a failure stays with its item (an error item) instead of ending the run. */
export function failsOnlyItsItem(continueOnFail: boolean, error: unknown): boolean {
	return continueOnFail && !(error instanceof ExecutionStoppedError);
}

/** The error that ends the run: a Stop as it is, anything else as a node error naming the item. */
export function runEndingError(
	context: { getNode(): INode },
	error: unknown,
	itemIndex: number,
): Error {
	return error instanceof ExecutionStoppedError ? error : asNodeError(context, error, itemIndex);
}
