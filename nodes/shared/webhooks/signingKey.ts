/**
 * The key webhook signatures are checked with: the credential's Webhook Signing Secret when set,
 * else the account's default secret, fetched with GET {base}/webhooks/default/secret
 * (api/webhooks) and kept for the life of the n8n process, per API base URL and token (the token
 * is only kept as a SHA-256 fingerprint, the secret only in memory).
 *
 * A failed fetch is remembered for FAILED_FETCH_MEMORY_MS: deliveries in that time are answered
 * 503 without another request, so a flood of (forged) deliveries while the endpoint is down costs
 * at most one authenticated request per 30 s. Serves the trigger and the node's resume calls.
 */
import type { IDataObject } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { fetchDefaultSigningSecret, SIGNING_ENDPOINT } from '../api/webhooks';
import type { TransportContext } from '../transport/request';
import { apiBaseUrl, CREDENTIAL_TYPE } from '../transport/request';
import { fingerprint, signingKeyFromSecret } from './signature';

/** How long a failed fetch is remembered (no new fetch before then). */
export const FAILED_FETCH_MEMORY_MS = 30_000;

/** The key cannot be had right now (fetch failed, or failed less than 30 s ago): answer 503. */
export class SigningKeyUnavailableError extends NodeOperationError {}

const fetchedKeys = new Map<string, Promise<Buffer>>();
const failedFetches = new Map<string, { at: number; message: string }>();

const FETCH_HELP =
	"Deliveries are verified with the account's signing secret. Check the credential, or paste the secret (whsec_…) into its Webhook Signing Secret field when your gateway does not serve this endpoint.";

async function fetchSigningKey(context: TransportContext, maxRetries: number): Promise<Buffer> {
	const node = context.getNode();
	let secret: string | undefined;
	let failure: Error | undefined;
	try {
		secret = await fetchDefaultSigningSecret(context, maxRetries);
	} catch (error) {
		failure = error as Error;
	}
	if (failure) {
		throw new SigningKeyUnavailableError(
			node,
			`Could not fetch the webhook signing secret: ${failure.message}. Fill in Webhook Signing Secret (whsec_…) in the Replicate Inpainting API credential, or check its API Token and Base URL.`,
			{ description: FETCH_HELP },
		);
	}
	const key = secret === undefined ? undefined : signingKeyFromSecret(secret);
	if (!key) {
		throw new SigningKeyUnavailableError(
			node,
			`Unexpected answer from the Replicate API on GET ${SIGNING_ENDPOINT}: no "key" with a whsec_ secret`,
			{ description: FETCH_HELP },
		);
	}
	return key;
}

/** The configured secret's key, or undefined when the credential has none (then it is fetched). */
function configuredKey(context: TransportContext, credentials: IDataObject): Buffer | undefined {
	const configured =
		typeof credentials.webhookSigningSecret === 'string'
			? credentials.webhookSigningSecret.trim()
			: '';
	if (configured === '') return undefined;
	const key = signingKeyFromSecret(configured);
	if (!key) {
		throw new SigningKeyUnavailableError(
			context.getNode(),
			'The Webhook Signing Secret of the Replicate Inpainting API credential is not a signing secret',
			{
				description:
					'A signing secret is whsec_ followed by base64 text, as GET /webhooks/default/secret returns it. Clear the field to have it fetched.',
			},
		);
	}
	return key;
}

/**
 * The signing key, or a SigningKeyUnavailableError. `nowMs` is the caller's clock (tests pass
 * their own); a fetch is shared by concurrent callers, kept when it succeeds, and remembered as
 * failed for FAILED_FETCH_MEMORY_MS when it does not.
 */
export async function webhookSigningKey(
	context: TransportContext,
	maxRetries: number,
	nowMs: number = Date.now(),
): Promise<Buffer> {
	const credentials = await context.getCredentials(CREDENTIAL_TYPE);
	const configured = configuredKey(context, credentials);
	if (configured) return configured;
	const cacheKey = `${await apiBaseUrl(context)}\n${fingerprint(String(credentials.apiToken ?? ''))}`;
	let pending = fetchedKeys.get(cacheKey);
	if (!pending) {
		const failed = failedFetches.get(cacheKey);
		if (failed && nowMs - failed.at < FAILED_FETCH_MEMORY_MS) {
			const retryIn = Math.ceil((FAILED_FETCH_MEMORY_MS - (nowMs - failed.at)) / 1000);
			throw new SigningKeyUnavailableError(
				context.getNode(),
				`${failed.message} (not retried for another ${retryIn} s)`,
				{
					description: FETCH_HELP,
				},
			);
		}
		pending = fetchSigningKey(context, maxRetries);
		fetchedKeys.set(cacheKey, pending);
		const fetching = pending;
		fetching.then(
			() => failedFetches.delete(cacheKey),
			(error: Error) => {
				if (fetchedKeys.get(cacheKey) === fetching) fetchedKeys.delete(cacheKey);
				failedFetches.set(cacheKey, { at: nowMs, message: error.message });
			},
		);
	}
	return await pending;
}
