/**
 * One verification for every call Replicate makes to n8n: the trigger's deliveries and the
 * Replicate Inpainting node's resume calls (Wait Mode: Webhook) go through `verifyDelivery`.
 *
 * Order matters for cost: the headers and the timestamp are checked before the signing key is
 * looked up (a forged call without them costs nothing), the key is fetched at most once (and a
 * failed fetch is remembered for 30 s), the signature is checked over the raw body in constant
 * time, and only then is the webhook-id claimed against replays.
 */
import type { IWebhookFunctions, IWebhookResponseData } from 'n8n-workflow';

import type { Prediction } from '../api/predictions';
import { predictionProblem } from '../api/predictions';
import type { Rejection } from './signature';
import { checkTimestamp, readSignedHeaders, ReplayGuard, signatureMatches } from './signature';
import { webhookSigningKey } from './signingKey';

/** Webhook ids already accepted in this n8n process, across every node (keys name their scope). */
const replayGuard = new ReplayGuard();

export interface VerifiedDelivery {
	webhookId: string;
	prediction: Prediction;
	/** Forgets the webhook-id again, so a retry of a call that could not be processed is accepted. */
	release(): void;
}

/** Answers a refused call itself, so that n8n starts (or resumes) no execution. */
export function refuse(
	context: IWebhookFunctions,
	rejection: Rejection,
	what: string,
): IWebhookResponseData {
	context.logger.warn(`${what} refused a call (${rejection.status}): ${rejection.reason}`);
	const response = context.getResponseObject();
	const headers: Record<string, string> = { 'Content-Type': 'application/json; charset=utf-8' };
	if (rejection.status === 503) headers['Retry-After'] = '30';
	response.writeHead(rejection.status, headers);
	response.end(JSON.stringify({ message: rejection.reason }));
	return { noWebhookResponse: true };
}

/**
 * The exact bytes Replicate signed: n8n keeps them as `rawBody`; a re-serialised body is a
 * fallback.
 */
function rawBodyOf(context: IWebhookFunctions): Buffer {
	const { rawBody } = context.getRequestObject() as { rawBody?: unknown };
	if (Buffer.isBuffer(rawBody)) return rawBody;
	const body: unknown = context.getBodyData();
	if (typeof body === 'string') return Buffer.from(body, 'utf8');
	if (body !== null && typeof body === 'object' && Object.keys(body).length > 0) {
		return Buffer.from(JSON.stringify(body), 'utf8');
	}
	return Buffer.alloc(0);
}

/** The signed body as a prediction; the same check as the API's answers get. */
function parsePrediction(raw: Buffer): { prediction: Prediction } | { rejection: Rejection } {
	let body: unknown;
	try {
		body = JSON.parse(raw.toString('utf8'));
	} catch {
		return { rejection: { status: 400, reason: 'The body is not JSON' } };
	}
	const found = predictionProblem(body);
	if (found) {
		const reason = found.problem[0].toUpperCase() + found.problem.slice(1);
		return { rejection: { status: 400, reason } };
	}
	return { prediction: body as Prediction };
}

/**
 * Verifies the call in `context`; a Rejection says how to answer it (see `refuse`). `replayScope`
 * names what the webhook-id is unique within (a trigger node, a waiting execution).
 */
export async function verifyDelivery(
	context: IWebhookFunctions,
	replayScope: string,
): Promise<VerifiedDelivery | Rejection> {
	const signed = readSignedHeaders(context.getHeaderData());
	if ('status' in signed) return signed;
	const stale = checkTimestamp(signed.timestampSeconds, Date.now());
	if (stale) return stale;

	let key: Buffer;
	try {
		// One attempt: a call waiting on retries would hold Replicate's request; a 503 makes it retry.
		key = await webhookSigningKey(context, 0);
	} catch (error) {
		// No key, no verification: Replicate retries a 503 later; nothing is started meanwhile.
		return { status: 503, reason: (error as Error).message };
	}
	const raw = rawBodyOf(context);
	if (!signatureMatches(key, signed, raw)) {
		return { status: 401, reason: 'The webhook-signature does not match the body' };
	}
	const parsed = parsePrediction(raw);
	if ('rejection' in parsed) return parsed.rejection;

	const replayKey = `${replayScope}/${signed.id}`;
	if (!replayGuard.claim(replayKey, signed.timestampSeconds, Date.now())) {
		return { status: 401, reason: `The webhook-id ${signed.id} was already received` };
	}
	return {
		webhookId: signed.id,
		prediction: parsed.prediction,
		release: () => replayGuard.release(replayKey),
	};
}

export function isRejection(value: VerifiedDelivery | Rejection): value is Rejection {
	return !('webhookId' in value);
}
