/** Runs the node in Wait Mode: Webhook through the harness's waiting-webhook flow. */
import type { INodeExecutionData, INodeParameters } from 'n8n-workflow';

import { ReplicateInpaintingApi } from '../../credentials/ReplicateInpaintingApi.credentials';
import { ReplicateInpainting } from '../../nodes/ReplicateInpainting/ReplicateInpainting.node';
import type { WaitingServer, WorkflowRunResult } from '../harness';
import { CREDENTIAL_ID, inpaintingWorkflow } from '../node/support';
import type { FakeReplicate } from '../server';

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
		credentialTypes: [ReplicateInpaintingApi],
		credentials: {
			[CREDENTIAL_ID]: {
				type: 'replicateInpaintingApi',
				data: { apiToken: server.token, baseUrl: server.apiUrl },
			},
		},
		inputItems: options.inputItems,
	});
	return { executionId: waiting.lastExecutionId(), parked };
}
