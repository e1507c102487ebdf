/**
 * Errors the node raises, built so that nothing of a request (the Authorization header) rides
 * along: API answers become NodeApiErrors with Replicate's own words, and every error leaves the
 * node through `asNodeError` / `errorItem`. A leaf module: it imports nothing of the project.
 */
import type { IDataObject, INode, INodeExecutionData, JsonObject } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

/** Replicate answers errors as RFC 7807 problem JSON; 422s add `invalid_fields`. */
interface ProblemBody {
	title?: unknown;
	detail?: unknown;
	status?: unknown;
	invalid_fields?: unknown;
}

function text(value: unknown): string | undefined {
	return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

function describeInvalidFields(fields: unknown): string[] {
	if (!Array.isArray(fields)) return [];
	return fields.map((entry: IDataObject) => {
		const field = text(entry?.field) ?? '(unknown field)';
		const description = text(entry?.description) ?? text(entry?.type) ?? 'is invalid';
		return `${field}: ${description}`;
	});
}

/** Keeps a non-JSON body short and free of anything but printable text. */
function excerpt(body: unknown): string {
	const raw = typeof body === 'string' ? body : Buffer.isBuffer(body) ? body.toString('utf8') : '';
	const flat = raw.replace(/\s+/g, ' ').trim();
	return flat.length > 200 ? `${flat.slice(0, 197)}…` : flat;
}

/**
 * Turns an HTTP error answer into a NodeApiError carrying Replicate's title, detail and every
 * invalid field. Built from a plain object we assemble, so request options (and with them the
 * Authorization header) never ride along inside the error.
 */
export function apiErrorFromResponse(
	node: INode,
	request: { method: string; path: string },
	statusCode: number,
	body: unknown,
	itemIndex?: number,
): NodeApiError {
	const problem: ProblemBody =
		body !== null && typeof body === 'object' ? (body as ProblemBody) : {};
	const title = text(problem.title);
	const detail = text(problem.detail) ?? (typeof body === 'string' ? excerpt(body) : undefined);
	const fields = describeInvalidFields(problem.invalid_fields);
	const headline = title ?? `HTTP ${statusCode}`;
	const message = `Replicate API error ${statusCode} on ${request.method} ${request.path}: ${headline}${
		fields.length > 0 ? ` (${fields.join('; ')})` : detail && !title ? ` (${detail})` : ''
	}`;
	// Each part a sentence: n8n shows the description as one paragraph, where line breaks vanish.
	const description = [
		detail,
		...fields.map((field) => `Invalid field ${field}`),
		hintFor(statusCode),
	]
		.filter((part): part is string => Boolean(part))
		.map(asSentence)
		.join('\n');
	const safeResponse: JsonObject = {
		message,
		description,
		httpCode: String(statusCode),
		...(title ? { title } : {}),
		...(detail ? { detail } : {}),
		...(fields.length > 0 ? { invalid_fields: fields } : {}),
	};
	const error = new NodeApiError(node, safeResponse, {
		message,
		description,
		httpCode: String(statusCode),
		itemIndex,
	});
	return keepMessage(error, message);
}

function asSentence(part: string): string {
	return /[.!?…:)]$/.test(part.trim()) ? part : `${part.trimEnd()}.`;
}

function hintFor(statusCode: number): string | undefined {
	switch (statusCode) {
		case 401:
			return 'Check the API Token of the Replicate Inpainting API credential.';
		case 402:
			return 'The Replicate account has no credit left: add billing at replicate.com/account/billing.';
		case 404:
			return 'Check the Base URL of the credential and the prediction ID.';
		case 429:
			return 'Replicate throttled the requests: lower Max Concurrent Predictions or try again later.';
		default:
			return undefined;
	}
}

/**
 * An error about the answer itself (not JSON, fields missing): Replicate or a gateway misbehaved.
 */
export function malformedAnswerError(
	node: INode,
	request: { method: string; path: string },
	problem: string,
	itemIndex?: number,
	description = problem,
): NodeApiError {
	const message = `Unexpected answer from the Replicate API on ${request.method} ${request.path}: ${problem}`;
	return keepMessage(
		new NodeApiError(node, { message, description }, { message, description, itemIndex }),
		message,
	);
}

/**
 * NodeApiError swaps any message that mentions a network error code (ECONNRESET, ETIMEDOUT, …)
 * for a generic text of n8n's own, even one passed explicitly: the request, the prediction ID or
 * the warning that a prediction may exist would be lost. Ours is put back.
 */
export function keepMessage<E extends NodeApiError>(error: E, message: string): E {
	error.message = message;
	return error;
}

export function nonJsonProblem(body: unknown): string {
	const sample = excerpt(body);
	return sample ? `the body is not JSON ("${sample}")` : 'the body is empty, JSON was expected';
}

/** Attaches the prediction ID to an error so "Continue On Fail" output and messages can name it. */
export function withPredictionId<E extends NodeApiError | NodeOperationError>(
	error: E,
	predictionId: string,
): E {
	error.context = { ...(error.context ?? {}), predictionId };
	return error;
}

export function predictionIdOf(error: unknown): string | undefined {
	const context = (error as { context?: IDataObject } | undefined)?.context;
	return typeof context?.predictionId === 'string' ? context.predictionId : undefined;
}

/** "canceled" in any case; the British spelling does not trip n8n. */
const CANCELED = /canceled/gi;

/**
 * n8n marks a whole execution as stopped by the user (no Error Workflow) when its error message
 * contains "canceled", and Replicate's own texts do ("Worker task was canceled: CUDA error"). Every
 * error the node raises passes here on its way out: the message says "cancelled", and the words as
 * they came are kept, unchanged, in the description.
 */
export function withoutCanceled<E extends NodeApiError | NodeOperationError>(error: E): E {
	const original = error.message;
	if (!CANCELED.test(original)) return error;
	CANCELED.lastIndex = 0;
	error.message = original.replace(
		CANCELED,
		(word) => `${word.slice(0, -2)}${word.endsWith('ED') ? 'LED' : 'led'}`,
	);
	error.description = [`As reported: ${original}`, error.description].filter(Boolean).join('\n');
	return error;
}

/** Every error the node raises leaves through here: API and operation errors keep their class. */
export function asNodeError(context: { getNode(): INode }, error: unknown, itemIndex: number) {
	if (error instanceof NodeApiError || error instanceof NodeOperationError)
		return withoutCanceled(error);
	return withoutCanceled(new NodeOperationError(context.getNode(), error as Error, { itemIndex }));
}

/**
 * An item's error as an output item (Continue On Fail): message, description, prediction ID.
 * With "Continue (using error output)" n8n routes an item to the error output only when its json
 * holds nothing but `error` and `message` (1.x; 2.x also `details`), and an item's `error` field
 * would make n8n replace the json by the message alone: so there the description goes into
 * `message` (a failed prediction's ID is already in the error's text).
 */
export function errorItem(
	context: { getNode(): INode },
	caught: unknown,
	itemIndex: number,
): INodeExecutionData {
	const error = asNodeError(context, caught, itemIndex);
	const json: IDataObject = { error: error.message };
	const description = (error as NodeOperationError).description;
	if (context.getNode().onError === 'continueErrorOutput') {
		if (description) json.message = description;
		return { json, pairedItem: { item: itemIndex } };
	}
	if (description) json.description = description;
	const predictionId = predictionIdOf(error);
	if (predictionId) json.predictionId = predictionId;
	return { json, pairedItem: { item: itemIndex } };
}

/**
 * The request's answer, or undefined where the API answered 404: a resource that does not exist,
 * or an endpoint a gateway does not serve. Any other failure goes on.
 */
export async function unlessNotFound<T>(request: Promise<T>): Promise<{ answer: T } | undefined> {
	let failure: unknown;
	try {
		return { answer: await request };
	} catch (error) {
		failure = error;
	}
	if (failure instanceof NodeApiError && failure.httpCode === '404') return undefined;
	throw failure;
}
