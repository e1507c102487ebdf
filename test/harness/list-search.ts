/**
 * Calls a node's listSearch method the way n8n's editor backend does
 * (packages/cli DynamicNodeParametersService.getResourceLocatorResults): a workflow holding one
 * "Temp-Node" with the current parameters and credentials, a real n8n-core LoadOptionsContext for
 * the parameter's path, then `method.call(context, filter, paginationToken)`.
 */
import { LoadOptionsContext } from 'n8n-core';
import type { INodeListSearchResult, INodeParameters, INodeType } from 'n8n-workflow';
import { Workflow } from 'n8n-workflow';

import { HarnessCredentialsHelper } from './credentials-helper';
import type { HarnessCredential } from './credentials-helper';
import { buildAdditionalData, ensureHarnessReady } from './engine';
import type { CredentialTypeClass, NodeTypeClass } from './node-types';
import { HarnessCredentialTypes, HarnessNodeTypes } from './node-types';

export interface ListSearchCall {
	nodeType: NodeTypeClass;
	credentialTypes: CredentialTypeClass[];
	/** The credential the node is set to, keyed by credential type. */
	credential: HarnessCredential;
	method: string;
	/** The parameter the picker belongs to, e.g. `parameters.predictionId`. */
	path: string;
	parameters?: INodeParameters;
	filter?: string;
	paginationToken?: string;
}

export async function runListSearch(call: ListSearchCall): Promise<INodeListSearchResult> {
	ensureHarnessReady();
	const nodeType = new call.nodeType() as INodeType;
	const nodeTypes = new HarnessNodeTypes();
	nodeTypes.register(nodeType.description.name, nodeType);
	const credentialId = 'list-search-credential';
	const credentialsHelper = new HarnessCredentialsHelper(
		new HarnessCredentialTypes(call.credentialTypes.map((CredentialType) => new CredentialType())),
		{ [credentialId]: call.credential },
	);
	const workflow = new Workflow({
		nodes: [
			{
				id: 'uuid-1234',
				name: 'Temp-Node',
				type: nodeType.description.name,
				typeVersion: 1,
				position: [0, 0],
				parameters: call.parameters ?? {},
				credentials: {
					[call.credential.type]: { id: credentialId, name: call.credential.name ?? 'credential' },
				},
			},
		],
		connections: {},
		active: false,
		nodeTypes,
	});
	const context = new LoadOptionsContext(
		workflow,
		workflow.nodes['Temp-Node'],
		// as n8n's editor backend sets it: what getCurrentNodeParameter reads
		buildAdditionalData(credentialsHelper, { currentNodeParameters: call.parameters ?? {} }),
		call.path,
	);
	const method = nodeType.methods?.listSearch?.[call.method];
	if (!method)
		throw new Error(`${nodeType.description.name} has no listSearch method ${call.method}`);
	return await method.call(context, call.filter, call.paginationToken);
}
