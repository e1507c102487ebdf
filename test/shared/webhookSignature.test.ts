/** The pure verification both nodes share (nodes/shared/webhooks/signature.ts). */
import { createHmac, randomBytes } from 'node:crypto';

import {
	checkTimestamp,
	readSignedHeaders,
	ReplayGuard,
	signatureMatches,
	signingKeyFromSecret,
	TIMESTAMP_TOLERANCE_SECONDS,
} from '../../nodes/shared/webhooks/signature';

const key = randomBytes(24);
const secret = `whsec_${key.toString('base64')}`;
const body = Buffer.from('{"id":"abc","status":"succeeded"}');
const sign = (id: string, timestamp: string, raw: Buffer, withKey = key) =>
	createHmac('sha256', withKey).update(`${id}.${timestamp}.`).update(raw).digest('base64');

describe('webhook signature', () => {
	it('accepts the HMAC of id, timestamp and the raw body, among several v1 entries', () => {
		const headers = {
			'webhook-id': 'msg_1',
			'webhook-timestamp': '1700000000',
			'webhook-signature': `v1,${sign('msg_1', '1700000000', body, randomBytes(24))} v1,${sign('msg_1', '1700000000', body)}`,
		};
		const signed = readSignedHeaders(headers);
		if ('status' in signed) throw new Error(signed.reason);
		expect(signatureMatches(signingKeyFromSecret(secret)!, signed, body)).toBe(true);
		expect(signatureMatches(key, signed, Buffer.from(`${body.toString()} `))).toBe(false);
	});

	it.each([
		[{ 'webhook-timestamp': '1', 'webhook-signature': 'v1,AAAA' }, 'Missing header webhook-id'],
		[
			{ 'webhook-id': 'm', 'webhook-timestamp': 'soon', 'webhook-signature': 'v1,AAAA' },
			'Malformed webhook-timestamp header',
		],
		[
			{ 'webhook-id': 'm', 'webhook-timestamp': '1', 'webhook-signature': 'v2,AAAA' },
			'No v1 signature in the webhook-signature header',
		],
	])('refuses malformed headers with 401 (%j)', (headers, reason) => {
		expect(readSignedHeaders(headers)).toEqual({ status: 401, reason });
	});

	it('allows ±5 minutes of clock difference', () => {
		const now = 1_700_000_000_000;
		expect(checkTimestamp(now / 1000 - TIMESTAMP_TOLERANCE_SECONDS, now)).toBeUndefined();
		expect(checkTimestamp(now / 1000 + TIMESTAMP_TOLERANCE_SECONDS + 1, now)?.status).toBe(401);
	});

	it('refuses a replay until the id is released or its timestamp is out of the window', () => {
		const guard = new ReplayGuard();
		const now = 1_700_000_000_000;
		expect(guard.claim('scope/msg', now / 1000, now)).toBe(true);
		expect(guard.claim('scope/msg', now / 1000, now + 1000)).toBe(false);
		expect(guard.claim('other/msg', now / 1000, now + 1000)).toBe(true);
		guard.release('scope/msg');
		expect(guard.claim('scope/msg', now / 1000, now + 2000)).toBe(true);
		expect(
			guard.claim('scope/msg', now / 1000, now + (TIMESTAMP_TOLERANCE_SECONDS + 2) * 1000),
		).toBe(true);
	});

	it('reads the key of a whsec_ secret, and nothing from malformed text', () => {
		expect(signingKeyFromSecret(secret)?.equals(key)).toBe(true);
		expect(signingKeyFromSecret('whsec_not base64!')).toBeUndefined();
	});
});
