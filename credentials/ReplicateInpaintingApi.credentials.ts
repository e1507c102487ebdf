import type {
	IAuthenticateGeneric,
	Icon,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
} from 'n8n-workflow';

export const DEFAULT_BASE_URL = 'https://api.replicate.com/v1';

/**
 * What the credential's Test says for the answers a wrong token or Base URL gets, instead of n8n's
 * bare status text.
 */
const TEST_FAILURES: Array<{ status: number; message: string }> = [
	{
		status: 401,
		message:
			'The API Token was refused (HTTP 401). Paste a token from replicate.com/account/api-tokens (it starts with r8_), or the key your gateway issued.',
	},
	{
		status: 403,
		message:
			'The API Token may not read this account (HTTP 403). Use a token with API access, or check the Base URL.',
	},
	{
		status: 404,
		message:
			"The Base URL does not serve the Replicate API (HTTP 404 on GET /account). Replicate's is https://api.replicate.com/v1: check that it ends in /v1, or in your gateway's prefix (e.g. …/replicate/v1).",
	},
];

/** A redirect fails the test: n8n re-adds Authorization on every hop, wherever it leads. */
const REDIRECT_STATUSES = [301, 302, 303, 307, 308];

export class ReplicateInpaintingApi implements ICredentialType {
	name = 'replicateInpaintingApi';

	displayName = 'Replicate Inpainting API';

	icon: Icon = { light: 'file:../icons/replicate.svg', dark: 'file:../icons/replicate.dark.svg' };

	documentationUrl =
		'https://github.com/n8n-nodes-replicate-inpainting/n8n-nodes-replicate-inpainting#credentials';

	properties: INodeProperties[] = [
		{
			displayName: 'API Token',
			name: 'apiToken',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			description:
				'Your Replicate API token (starts with r8_), from replicate.com/account/api-tokens',
		},
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			default: DEFAULT_BASE_URL,
			required: true,
			placeholder: 'https://api.replicate.com/v1',
			description:
				'Where the Replicate API is served. Change it only for a gateway that serves the same API under its own prefix, e.g. https://gateway.example.com/replicate/v1.',
		},
		{
			displayName: 'Webhook Signing Secret',
			name: 'webhookSigningSecret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			placeholder: 'whsec_…',
			hint: 'Optional, only for the Replicate Inpainting Trigger: leave empty unless the trigger asks for it',
			description:
				'Used only by the Replicate Inpainting Trigger to verify webhook deliveries. Empty: the trigger fetches it once from the API (GET /webhooks/default/secret). Set it when your gateway does not serve that endpoint.',
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: {
			headers: {
				Authorization: '=Bearer {{$credentials.apiToken}}',
			},
		},
	};

	// GET /account is the cheapest authenticated call: it tells a wrong token from a right one.
	// Redirects are not followed: n8n re-adds Authorization on every hop, so a Base URL that
	// redirects elsewhere would hand the token to another origin. A redirect fails the test.
	test: ICredentialTestRequest = {
		request: {
			baseURL: '={{$credentials.baseUrl}}',
			url: '/account',
			method: 'GET',
			disableFollowRedirect: true,
		},
		rules: [
			...TEST_FAILURES,
			...REDIRECT_STATUSES.map((status) => ({
				status,
				message: `The Base URL redirects (HTTP ${status}), and the node sends the API token only to the Base URL itself, never to where it redirects. Set the Base URL to the address the API is really served at.`,
			})),
		].map(({ status, message }) => ({
			type: 'responseCode' as const,
			properties: { value: status, message },
		})),
	};
}
