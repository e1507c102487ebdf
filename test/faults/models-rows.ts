/**
 * Rows of the fault matrix for the models API in front of a create (issue 20): the node reads a
 * model's schema (GET /models/{owner}/{name}, or the pinned version's GET) before it sends
 * anything, so a fault there is retried like any repeatable GET, or fails the item before a
 * prediction is paid for, or (a schema the node cannot read) sends the input unchecked.
 *
 * The node keeps a loaded schema for a minute in the process, keyed by API, token and model: each
 * row that loads one names a model (or version) no earlier row loaded, or it would send no GET at
 * all. Rows whose GET fails leave nothing behind, so they come first and may name any model.
 */
import type { Fault, RecordedRequest } from '../../tools/fake-replicate';
import { makeSamplePng } from '../../tools/fake-replicate';
import { binaryItem } from '../node/support';
import {
	FILL_DEV,
	FILL_DEV_OLDER,
	FILL_PRO,
	IDEOGRAM,
	KONTEXT_PRO,
	modelParameters,
	NANO_BANANA,
} from '../support/models';
import type { NodeRow, RowContext } from './node-row';
import { all, createPosts, endsWithin, noCreate, onePost, SUCCESS_WITH_IMAGE } from './node-row';

const photo = makeSamplePng(64, 48, 'image');
const mask = makeSamplePng(64, 48, 'mask');
const dataUri = (png: Buffer) => `data:image/png;base64,${png.toString('base64')}`;

/** Each item carries the photo (`data`) and the mask (`mask`) as binary fields. */
const photoAndMask = () => [
	binaryItem({
		data: { content: photo, fileName: 'photo.png', mimeType: 'image/png' },
		mask: { content: mask, fileName: 'mask.png', mimeType: 'image/png' },
	}),
];

/** The Model picker set to `model` and its Model Inputs; the prompt tells the row's items apart. */
const modelRowParameters = (model: string, values: Record<string, unknown>) =>
	modelParameters(model, { prompt: '={{ $json.tag }}', ...values });

/** A mask model's inputs from the item's binary fields. */
const maskModel = (model: string): Pick<NodeRow, 'parameters' | 'inputItems'> => ({
	parameters: modelRowParameters(model, { image: 'data', mask: 'mask' }),
	inputItems: photoAndMask,
});

/** GET /models/{owner}/{name} (the path without the API prefix). */
const ON_MODEL = { method: 'GET', path: /^\/models\/[^/]+\/[^/]+$/ };
const ON_VERSION = { method: 'GET', path: /^\/models\/[^/]+\/[^/]+\/versions\/[0-9a-f]{64}$/ };

const modelReads = (ctx: RowContext): RecordedRequest[] =>
	ctx.requests.filter(
		(request) =>
			request.origin === 'api' && request.method === 'GET' && /\/models\//.test(request.path),
	);

/** The schema was asked for `times` times, and only then the one create went out. */
const readThenCreated = (times: number) => (ctx: RowContext) => {
	expect(modelReads(ctx)).toHaveLength(times);
	onePost(ctx);
	expect(createPosts(ctx)[0].at).toBeGreaterThan(modelReads(ctx)[times - 1].at);
};

/** What the create sent as `version` and `input`. */
const sent = (ctx: RowContext) =>
	createPosts(ctx)[0].json as { version: string; input: Record<string, unknown> };

/** The model's answer, with its latest version changed by `change`. */
const latestVersionMangled = (change: (latest: Record<string, any>) => void): Fault => ({
	...ON_MODEL,
	kind: 'mangle',
	mutate: (model) => {
		change(model.latest_version);
		return model;
	},
});

/** A GET of the schema that fails with `status` once, then answers: one retry, one create. */
const retriedOnce = (fault: string, model: string, injected: Fault): NodeRow => ({
	fault,
	operation: 'createAndWait',
	...maskModel(model),
	arrange: (s) => s.inject(injected),
	expect: SUCCESS_WITH_IMAGE,
	check: readThenCreated(2),
});

export const modelsRows: NodeRow[] = [
	// The GET fails: the item fails before anything is paid for, and nothing is remembered.
	{
		fault: 'models API: 401 on GET /models/{owner}/{name}',
		operation: 'createAndWait',
		...maskModel(FILL_PRO),
		arrange: (s) =>
			s.inject({
				...ON_MODEL,
				kind: 'status',
				status: 401,
				body: {
					title: 'Unauthenticated',
					detail: 'You did not pass a valid authentication token',
					status: 401,
				},
			}),
		// Not retried (a token does not become valid by asking again); the runner also checks that
		// no part of the token is in the message, its description or the output.
		expect: {
			outcome: 'error',
			message: () => `Replicate API error 401 on GET /models/${FILL_PRO}: Unauthenticated`,
		},
		check: all(noCreate, (ctx) => expect(modelReads(ctx)).toHaveLength(1)),
	},
	{
		fault: 'models API: non-JSON answer to GET /models/{owner}/{name}',
		operation: 'createAndWait',
		...maskModel(FILL_PRO),
		arrange: (s) => s.inject({ ...ON_MODEL, kind: 'non-json', times: 10 }),
		expect: {
			outcome: 'error',
			message: () =>
				new RegExp(
					`^Unexpected answer from the Replicate API on GET /models/${FILL_PRO}: the body is not JSON \\("<!DOCTYPE html>`,
				),
		},
		check: all(noCreate, (ctx) => expect(modelReads(ctx)).toHaveLength(1)),
	},
	{
		fault: 'models API: a versioned model whose answer has no latest_version',
		operation: 'createAndWait',
		...maskModel(FILL_DEV),
		arrange: (s) =>
			s.inject({
				...ON_MODEL,
				kind: 'mangle',
				mutate: ({ latest_version: _latest, ...model }) => model,
			}),
		expect: {
			outcome: 'error',
			message: () => `Model ${FILL_DEV} has no version to run (its latest_version is null)`,
			description: /^Nothing was sent/,
		},
		check: noCreate,
	},
	{
		fault: 'models API: GET /models/{owner}/{name} slower than the Timeout (2 s, no retries)',
		operation: 'createAndWait',
		...maskModel(FILL_PRO),
		options: { timeout: 2, maxRetries: 0 },
		arrange: (s) => s.inject({ ...ON_MODEL, kind: 'delay', ms: 20_000 }),
		// The read ends with the item's Timeout, not after the transport's own 60 s per attempt.
		expect: {
			outcome: 'error',
			message: () => new RegExp(`^Could not reach the Replicate API \\(GET /models/${FILL_PRO}\\)`),
		},
		check: all(noCreate, endsWithin(2_000 + 1_500)),
	},
	{
		fault: 'models API: execution stopped while GET /models/{owner}/{name} is on its way',
		operation: 'createAndWait',
		...maskModel(FILL_PRO),
		arrange: (s) => s.inject({ ...ON_MODEL, kind: 'delay', ms: 20_000 }),
		stopAfterMs: 1_000,
		expect: { outcome: 'stopped' },
		check: all(noCreate, endsWithin(1_000 + 1_000)),
	},
	// The GET is retried, then the schema is read and checked: one create.
	retriedOnce('models API: 429 then 200 on GET /models/{owner}/{name}', FILL_PRO, {
		...ON_MODEL,
		kind: 'status',
		status: 429,
		headers: { 'retry-after': '0' },
	}),
	retriedOnce('models API: 503 then 200 on GET /models/{owner}/{name}', FILL_DEV, {
		...ON_MODEL,
		kind: 'status',
		status: 503,
	}),
	retriedOnce('models API: reset then 200 on GET /models/{owner}/{name}', IDEOGRAM, {
		...ON_MODEL,
		kind: 'reset-before-response',
	}),
	// A schema the node cannot read: the input goes unchecked (so as data URIs, not binary fields).
	{
		fault: 'models API: an official model whose answer has no latest_version',
		operation: 'createAndWait',
		parameters: modelRowParameters(KONTEXT_PRO, { input_image: dataUri(photo) }),
		arrange: (s) =>
			s.inject({
				...ON_MODEL,
				kind: 'mangle',
				mutate: ({ latest_version: _latest, ...model }) => model,
			}),
		expect: SUCCESS_WITH_IMAGE,
		check: all(readThenCreated(1), (ctx) => expect(sent(ctx).version).toBe(KONTEXT_PRO)),
	},
	{
		fault: 'models API: an Input schema that is not an object',
		operation: 'createAndWait',
		parameters: modelRowParameters(NANO_BANANA, { image_input: [dataUri(photo)] }),
		arrange: (s) =>
			s.inject(
				latestVersionMangled((latest) => {
					latest.openapi_schema.components.schemas.Input = 'an object, once';
				}),
			),
		expect: SUCCESS_WITH_IMAGE,
		check: all(readThenCreated(1), (ctx) => expect(sent(ctx).version).toBe(NANO_BANANA)),
	},
	{
		fault: 'models API: 404 on GET of a pinned version (a gateway without the models API)',
		operation: 'createAndWait',
		parameters: modelRowParameters(`${FILL_DEV}:${FILL_DEV_OLDER}`, {
			image: dataUri(photo),
			mask: dataUri(mask),
		}),
		arrange: (s) =>
			s.inject({
				...ON_VERSION,
				kind: 'status',
				status: 404,
				body: { detail: 'Not found.', status: 404 },
			}),
		expect: SUCCESS_WITH_IMAGE,
		check: all(readThenCreated(1), (ctx) =>
			expect(sent(ctx)).toEqual({
				version: `${FILL_DEV}:${FILL_DEV_OLDER}`,
				input: expect.objectContaining({ image: dataUri(photo), mask: dataUri(mask) }),
			}),
		),
	},
];
