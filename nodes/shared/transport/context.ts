/**
 * What the transport needs of n8n, and the credential's Base URL that every API call goes below
 * (api.replicate.com/v1, or a gateway serving the same API under a prefix).
 */
import type { IExecuteFunctions, INode } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

export const CREDENTIAL_TYPE = 'replicateInpaintingApi';

/** Satisfied by the execute, webhook, hook and load-options contexts alike. */
export interface TransportContext {
	getNode(): INode;
	getCredentials: IExecuteFunctions['getCredentials'];
	helpers: Pick<IExecuteFunctions['helpers'], 'httpRequest' | 'httpRequestWithAuthentication'>;
}

export async function apiBaseUrl(context: TransportContext): Promise<string> {
	const credentials = await context.getCredentials(CREDENTIAL_TYPE);
	const baseUrl = typeof credentials.baseUrl === 'string' ? credentials.baseUrl.trim() : '';
	let parsed: URL | undefined;
	try {
		parsed = new URL(baseUrl);
	} catch {
		parsed = undefined;
	}
	if (!parsed || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')) {
		throw new NodeOperationError(
			context.getNode(),
			`The credential's Base URL "${baseUrl}" is not an http(s) URL`,
			{
				description:
					"Use https://api.replicate.com/v1, or your gateway's URL such as https://gateway.example.com/replicate/v1.",
			},
		);
	}
	return baseUrl.replace(/\/+$/, '');
}
