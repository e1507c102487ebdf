/** Runs the node in Wait Mode: Webhook through the harness's waiting-webhook flow. */
import type { INodeExecutionData, INodeParameters } from 'n8n-workflow';

import { ReplicateInpainting } from '../../nodes/ReplicateInpainting/ReplicateInpainting.node';
import type { WaitingServer, WorkflowRunResult } from '../harness';
import { inpaintingWorkflow } from '../node/support';
import type { FakeReplicate } from '../../tools/fake-replicate';
import { credentialOptions, serverCredential } from '../support/credentials';

export interface ParkOptions {
	inputItems?: INodeExecutionData[];
	continueOnFail?: boolean | 'errorOutput';
}

/** Starts an execution of the node in webhook mode; it parks (status waiting) unless it fails first. */
export async function park(
	waiting: WaitingServer,
	server: FakeReplicate,
	parameters: INodeParameters,
	options: ParkOptions = {},
): Promise<{ executionId: string; parked: WorkflowRunResult }> {
	const workflow = inpaintingWorkflow(
		{ waitMode: 'webhook', ...parameters },
		options.continueOnFail === true,
	);
	if (options.continueOnFail === 'errorOutput') workflow.nodes[1].onError = 'continueErrorOutput';
	const parked = await waiting.run({
		workflow,
		nodeTypes: [ReplicateInpainting],
		...credentialOptions(serverCredential(server)),
		inputItems: options.inputItems,
	});
	return { executionId: waiting.lastExecutionId(), parked };
}
