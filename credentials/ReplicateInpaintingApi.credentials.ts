import type {
	IAuthenticateGeneric,
	Icon,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
} from 'n8n-workflow';

export const DEFAULT_BASE_URL = 'https://api.replicate.com/v1';

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
			description: 'Your Replicate API token (starts with r8_), from replicate.com/account/api-tokens',
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
			description:
				'Only used by the Replicate Inpainting Trigger to verify webhook deliveries. Leave empty to have the trigger fetch it once from the API (GET /webhooks/default/secret). Set it when your gateway does not serve that endpoint.',
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
		rules: REDIRECT_STATUSES.map((status) => ({
			type: 'responseCode' as const,
			properties: {
				value: status,
				message: `The Base URL redirects (HTTP ${status}), and the node sends the API token only to the Base URL itself, never to where it redirects. Set the Base URL to the address the API is really served at.`,
			},
		})),
	};
}
