/**
 * Verifying Replicate's webhook deliveries (the Standard Webhooks scheme Replicate uses):
 * headers `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature`
 * (space-separated `v1,<base64>`), signature = base64(HMAC-SHA256(key,
 * `${id}.${timestamp}.${rawBody}`))
 * where the key is the base64 part of the `whsec_…` signing secret.
 *
 * Nothing here talks to n8n or the network: `verifyDelivery` wires it up for the trigger and for
 * the node's resume calls.
 */
import { createHash, createHmac, timingSafeEqual } from 'crypto';

/** Deliveries whose timestamp is further than this from now are refused (replays, clock skew). */
export const TIMESTAMP_TOLERANCE_SECONDS = 5 * 60;

/**
 * What a refused delivery is answered with: 401 forged, stale or replayed; 400 signed but not a
 * prediction; 503 the key to check it with cannot be had now, 500 it could not be processed
 * (Replicate retries both later). The
 * reason is safe to show: it reveals no secret.
 */
export interface Rejection {
	status: 400 | 401 | 500 | 503;
	reason: string;
}

export interface SignedHeaders {
	id: string;
	/** As sent: the signature covers the header's text, not a re-formatted number. */
	timestamp: string;
	timestampSeconds: number;
	/** The base64 parts of the `v1,` entries. */
	signatures: string[];
}

type HeaderValue = string | string[] | undefined;

function single(value: HeaderValue): string | undefined {
	if (Array.isArray(value)) return value.length === 1 ? value[0] : undefined;
	return value;
}

const WEBHOOK_ID = /^[\x21-\x7e]{1,256}$/;
const TIMESTAMP = /^\d{1,12}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Reads the three signature headers; a missing or malformed one fails verification (401). */
export function readSignedHeaders(headers: Record<string, HeaderValue>): SignedHeaders | Rejection {
	const id = single(headers['webhook-id'])?.trim();
	const timestamp = single(headers['webhook-timestamp'])?.trim();
	const signature = single(headers['webhook-signature'])?.trim();
	const missing = [
		id ? undefined : 'webhook-id',
		timestamp ? undefined : 'webhook-timestamp',
		signature ? undefined : 'webhook-signature',
	].filter((name): name is string => name !== undefined);
	if (missing.length > 0) return { status: 401, reason: `Missing header ${missing.join(', ')}` };
	if (!WEBHOOK_ID.test(id as string)) return { status: 401, reason: 'Malformed webhook-id header' };
	if (!TIMESTAMP.test(timestamp as string))
		return { status: 401, reason: 'Malformed webhook-timestamp header' };
	const signatures = (signature as string)
		.split(' ')
		.filter((entry) => entry.startsWith('v1,'))
		.map((entry) => entry.slice(3))
		.filter((value) => BASE64.test(value));
	if (signatures.length === 0)
		return { status: 401, reason: 'No v1 signature in the webhook-signature header' };
	return {
		id: id as string,
		timestamp: timestamp as string,
		timestampSeconds: Number(timestamp),
		signatures,
	};
}

export function checkTimestamp(timestampSeconds: number, nowMs: number): Rejection | undefined {
	const skew = Math.abs(nowMs / 1000 - timestampSeconds);
	if (skew > TIMESTAMP_TOLERANCE_SECONDS) {
		return {
			status: 401,
			reason: `The webhook-timestamp is ${Math.ceil(skew)} s away from now (at most ${TIMESTAMP_TOLERANCE_SECONDS} s allowed)`,
		};
	}
	return undefined;
}

/** The HMAC key of a `whsec_<base64>` secret (the prefix is optional); undefined when malformed. */
export function signingKeyFromSecret(secret: string): Buffer | undefined {
	const encoded = secret.trim().replace(/^whsec_/, '');
	if (!BASE64.test(encoded)) return undefined;
	const key = Buffer.from(encoded, 'base64');
	return key.length > 0 ? key : undefined;
}

/**
 * Whether any of the delivery's signatures is the HMAC of its id, timestamp and raw body (constant
 * time).
 */
export function signatureMatches(key: Buffer, signed: SignedHeaders, rawBody: Buffer): boolean {
	const expected = createHmac('sha256', key)
		.update(`${signed.id}.${signed.timestamp}.`)
		.update(rawBody)
		.digest();
	let matched = false;
	for (const candidate of signed.signatures) {
		const given = Buffer.from(candidate, 'base64');
		// Lengths are public (a SHA-256 digest is 32 bytes); the comparison itself is constant time.
		if (given.length === expected.length && timingSafeEqual(given, expected)) matched = true;
	}
	return matched;
}

/** A one-way fingerprint of a secret, for cache keys: the secret itself is never kept as a key. */
export function fingerprint(value: string): string {
	return createHash('sha256').update(value).digest('hex');
}

/**
 * Webhook ids seen within the timestamp window. A delivery is refused once its timestamp is out
 * of the window anyway, so an id only has to be remembered until then. Kept per n8n process.
 */
export class ReplayGuard {
	private readonly seen = new Map<string, number>();

	constructor(private readonly maxEntries = 10_000) {}

	/** Records the id; false when it was already recorded and has not expired. */
	claim(key: string, timestampSeconds: number, nowMs: number): boolean {
		this.prune(nowMs);
		const expires = this.seen.get(key);
		if (expires !== undefined && expires > nowMs) return false;
		this.seen.set(key, (timestampSeconds + TIMESTAMP_TOLERANCE_SECONDS) * 1000 + 1000);
		// Only verified deliveries get here, so this bound is only reached by a huge real volume.
		while (this.seen.size > this.maxEntries) {
			const oldest = this.seen.keys().next().value as string;
			this.seen.delete(oldest);
		}
		return true;
	}

	/** Forgets an id again, so a retry of a delivery that could not be processed is accepted. */
	release(key: string): void {
		this.seen.delete(key);
	}

	private prune(nowMs: number): void {
		for (const [key, expires] of this.seen) {
			if (expires <= nowMs) this.seen.delete(key);
		}
	}
}
