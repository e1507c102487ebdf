/**
 * The pure verification both nodes share: headers, the HMAC,
 * the timestamp window and the replay memory. The vector is the Standard Webhooks project's own
 * (standard-webhooks/standard-webhooks, libraries/javascript/src/webhook.test.ts, "sign function
 * works"): reproducing it says a sender's stock library and this verifier agree byte for byte.
 */
import { createHmac, randomBytes } from 'node:crypto';

import type { SignedHeaders } from '../../../../nodes/shared/webhooks/signature';
import {
	checkTimestamp,
	fingerprint,
	readSignedHeaders,
	ReplayGuard,
	signatureMatches,
	signingKeyFromSecret,
	TIMESTAMP_TOLERANCE_SECONDS,
} from '../../../../nodes/shared/webhooks/signature';

const VECTOR = {
	secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
	id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
	timestamp: '1614265330',
	body: '{"test": 2432232314}',
	signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

const vectorKey = () => signingKeyFromSecret(VECTOR.secret)!;

function headers(overrides: Record<string, string | string[] | undefined> = {}) {
	return {
		'webhook-id': VECTOR.id,
		'webhook-timestamp': VECTOR.timestamp,
		'webhook-signature': VECTOR.signature,
		...overrides,
	};
}

function read(given: Record<string, string | string[] | undefined>): SignedHeaders {
	const signed = readSignedHeaders(given);
	if ('status' in signed) throw new Error(`refused: ${signed.reason}`);
	return signed;
}

/** Verifies like verifyDelivery does, minus n8n: headers, then the HMAC over the raw body. */
function verifies(
	given: Record<string, string | string[] | undefined>,
	body: string,
	key = vectorKey(),
) {
	return signatureMatches(key, read(given), Buffer.from(body, 'utf8'));
}

describe('the Standard Webhooks test vector', () => {
	it('verifies with the whsec_ secret, and with the bare base64 key', () => {
		expect(verifies(headers(), VECTOR.body)).toBe(true);
		const bare = signingKeyFromSecret(VECTOR.secret.slice('whsec_'.length))!;
		expect(bare.equals(vectorKey())).toBe(true);
		expect(verifies(headers(), VECTOR.body, bare)).toBe(true);
	});

	it('decodes the key to the bytes the reference implementation signs with', () => {
		const key = vectorKey();
		expect(key.length).toBe(24);
		const signed = createHmac('sha256', key)
			.update(`${VECTOR.id}.${VECTOR.timestamp}.${VECTOR.body}`)
			.digest('base64');
		expect(`v1,${signed}`).toBe(VECTOR.signature);
	});

	it('reads the headers as sent: the id, the timestamp text and its number, the base64 part', () => {
		expect(readSignedHeaders(headers())).toEqual({
			id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
			timestamp: '1614265330',
			timestampSeconds: 1614265330,
			signatures: ['g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='],
		});
	});

	it.each([
		['one digit of the body', '{"test": 2432232315}'],
		['whitespace in the body (a re-serialised JSON)', '{"test":2432232314}'],
		['a trailing newline', `${VECTOR.body}\n`],
		['an empty body', ''],
	])('fails when the body differs by %s', (_what, body) => {
		expect(verifies(headers(), body)).toBe(false);
	});

	it.each([
		['webhook-id', 'msg_p5jXN8AQM9LWM0D4loKWxJeK'],
		['webhook-timestamp', '1614265331'],
		// The same number: the signature covers the header's text, not a re-formatted number.
		['webhook-timestamp', '01614265330'],
	])('fails when %s is %s', (header, value) => {
		expect(verifies(headers({ [header]: value }), VECTOR.body)).toBe(false);
	});

	it('fails with another key, and with the right key base64-decoded from the wrong text', () => {
		expect(verifies(headers(), VECTOR.body, randomBytes(24))).toBe(false);
		expect(verifies(headers(), VECTOR.body, Buffer.from(VECTOR.secret))).toBe(false);
	});

	it('fails on a truncated or a foreign signature of the right shape', () => {
		expect(
			verifies(headers({ 'webhook-signature': VECTOR.signature.slice(0, 11) }), VECTOR.body),
		).toBe(false);
		expect(
			verifies(headers({ 'webhook-signature': 'v1,dawfeoifkpqwoekfpqoekf' }), VECTOR.body),
		).toBe(false);
	});
});

describe('several signatures in one header (secret rotation)', () => {
	const other = 'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=';

	it('keeps every v1 entry in order, skips other versions, and accepts when any one matches', () => {
		const given = headers({
			'webhook-signature': [
				other,
				'v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=',
				VECTOR.signature,
				other,
			].join(' '),
		});
		expect(read(given).signatures).toEqual([
			'Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=',
			'g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
			'Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=',
		]);
		expect(verifies(given, VECTOR.body)).toBe(true);
	});

	it('refuses when only a non-v1 entry carries the right signature', () => {
		const given = headers({ 'webhook-signature': `${other} v2,${VECTOR.signature.slice(3)}` });
		expect(verifies(given, VECTOR.body)).toBe(false);
		expect(
			readSignedHeaders(headers({ 'webhook-signature': `v2,${VECTOR.signature.slice(3)}` })),
		).toEqual({
			status: 401,
			reason: 'No v1 signature in the webhook-signature header',
		});
	});

	it('drops entries that are not base64, keeping the valid ones', () => {
		expect(
			read(headers({ 'webhook-signature': `v1,not*base64 ${VECTOR.signature}` })).signatures,
		).toEqual(['g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=']);
	});
});

describe('malformed headers: 401 with the reason', () => {
	it.each([
		[{ 'webhook-id': undefined }, 'Missing header webhook-id'],
		[{ 'webhook-timestamp': undefined }, 'Missing header webhook-timestamp'],
		[{ 'webhook-signature': '   ' }, 'Missing header webhook-signature'],
		[
			{ 'webhook-id': '', 'webhook-timestamp': undefined, 'webhook-signature': undefined },
			'Missing header webhook-id, webhook-timestamp, webhook-signature',
		],
		// Two values of one header (a proxy joined two deliveries, or an attacker added one): ambiguous.
		[{ 'webhook-id': ['msg_1', 'msg_2'] }, 'Missing header webhook-id'],
		[{ 'webhook-id': 'msg 1' }, 'Malformed webhook-id header'],
		[{ 'webhook-id': 'msg_é' }, 'Malformed webhook-id header'],
		[{ 'webhook-id': 'm'.repeat(257) }, 'Malformed webhook-id header'],
		[{ 'webhook-timestamp': 'hello' }, 'Malformed webhook-timestamp header'],
		[{ 'webhook-timestamp': '-1614265330' }, 'Malformed webhook-timestamp header'],
		[{ 'webhook-timestamp': '1614265330.5' }, 'Malformed webhook-timestamp header'],
		[{ 'webhook-timestamp': '1614265330000' }, 'Malformed webhook-timestamp header'],
		[{ 'webhook-signature': 'v1,' }, 'No v1 signature in the webhook-signature header'],
		[
			{ 'webhook-signature': 'g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=' },
			'No v1 signature in the webhook-signature header',
		],
		[
			{ 'webhook-signature': 'v1,g0hM9SsE+OTPJTGt$' },
			'No v1 signature in the webhook-signature header',
		],
	])('%j: %s', (overrides, reason) => {
		expect(readSignedHeaders(headers(overrides))).toEqual({ status: 401, reason });
	});

	it('accepts a one-value array, surrounding whitespace and a 256-character id', () => {
		const signed = read(
			headers({
				'webhook-id': ['m'.repeat(256)],
				'webhook-timestamp': ' 1614265330 ',
				'webhook-signature': ` ${VECTOR.signature} `,
			}),
		);
		expect([signed.id.length, signed.timestamp, signed.signatures.length]).toEqual([
			256,
			'1614265330',
			1,
		]);
	});
});

describe('timestamp tolerance', () => {
	const now = 1614265330_000;

	it('is five minutes either way', () => {
		expect(TIMESTAMP_TOLERANCE_SECONDS).toBe(300);
	});

	it.each([0, -300, 300, -299.5])('accepts a timestamp %s s from now', (offset) => {
		expect(checkTimestamp(now / 1000 + offset, now)).toBeUndefined();
	});

	it.each([
		[-301, 'The webhook-timestamp is 301 s away from now (at most 300 s allowed)'],
		[301, 'The webhook-timestamp is 301 s away from now (at most 300 s allowed)'],
		[-86_400, 'The webhook-timestamp is 86400 s away from now (at most 300 s allowed)'],
		// Refused just past the edge: the message must not say "300 s away (at most 300)".
		[300.4, 'The webhook-timestamp is 301 s away from now (at most 300 s allowed)'],
	])('refuses a timestamp %s s from now', (offset, reason) => {
		expect(checkTimestamp(now / 1000 + offset, now)).toEqual({ status: 401, reason });
	});

	it('measures from milliseconds: 300.5 s away is refused', () => {
		expect(checkTimestamp(now / 1000, now + 300_500)?.status).toBe(401);
		expect(checkTimestamp(now / 1000, now + 300_000)).toBeUndefined();
	});
});

describe('ReplayGuard', () => {
	const ts = 1614265330;
	const at = (offsetSeconds: number) => (ts + offsetSeconds) * 1000;
	// An id is kept until its timestamp is out of the window, plus a second.
	const expiry = at(TIMESTAMP_TOLERANCE_SECONDS + 1);

	it('claims an id once; a repeat is refused, whatever timestamp it carries', () => {
		const guard = new ReplayGuard();
		expect(guard.claim('trigger/msg_1', ts, at(0))).toBe(true);
		expect(guard.claim('trigger/msg_1', ts, at(1))).toBe(false);
		expect(guard.claim('trigger/msg_1', ts + 100, at(100))).toBe(false);
		// Scopes are part of the key: the same id for another node or execution is its own.
		expect(guard.claim('execution-7/msg_1', ts, at(1))).toBe(true);
	});

	it('accepts the id again after release (a retry of a delivery that could not be processed)', () => {
		const guard = new ReplayGuard();
		expect(guard.claim('t/msg', ts, at(0))).toBe(true);
		guard.release('t/msg');
		expect(guard.claim('t/msg', ts, at(2))).toBe(true);
		expect(guard.claim('t/msg', ts, at(3))).toBe(false);
		guard.release('t/never-claimed');
	});

	it('forgets an id exactly when its timestamp has left the window (+1 s)', () => {
		const guard = new ReplayGuard();
		expect(guard.claim('t/msg', ts, at(0))).toBe(true);
		expect(guard.claim('t/msg', ts, expiry - 1)).toBe(false);
		expect(guard.claim('t/msg', ts, expiry)).toBe(true);
		// Re-claimed with a later timestamp: remembered until that one leaves the window.
		expect(guard.claim('t/msg2', ts + 60, at(0))).toBe(true);
		expect(guard.claim('t/msg2', ts + 60, expiry)).toBe(false);
		expect(guard.claim('t/msg2', ts + 60, expiry + 60_000)).toBe(true);
	});

	it('past its bound, drops the oldest ids first', () => {
		const guard = new ReplayGuard(2);
		expect(guard.claim('a', ts, at(0))).toBe(true);
		expect(guard.claim('b', ts, at(0))).toBe(true);
		expect(guard.claim('c', ts, at(0))).toBe(true);
		expect(guard.claim('b', ts, at(0))).toBe(false);
		expect(guard.claim('c', ts, at(0))).toBe(false);
		expect(guard.claim('a', ts, at(0))).toBe(true);
		// Claiming a again pushed b out.
		expect(guard.claim('c', ts, at(0))).toBe(false);
		expect(guard.claim('b', ts, at(0))).toBe(true);
	});
});

describe('secrets', () => {
	it('reads the key of a whsec_ secret (prefix optional, whitespace trimmed), nothing from malformed text', () => {
		const key = randomBytes(24);
		expect(signingKeyFromSecret(`  whsec_${key.toString('base64')}\n`)?.equals(key)).toBe(true);
		expect(signingKeyFromSecret(key.toString('base64'))?.equals(key)).toBe(true);
		expect(signingKeyFromSecret('whsec_not base64!')).toBeUndefined();
		expect(signingKeyFromSecret('whsec_')).toBeUndefined();
		expect(signingKeyFromSecret('')).toBeUndefined();
	});

	it('fingerprints with SHA-256 hex, so cache keys never hold the secret', () => {
		expect(fingerprint('abc')).toBe(
			'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
		);
		expect(fingerprint(VECTOR.secret)).not.toContain('MfKQ9r8G');
	});
});
