/**
 * The n8n-native pickers: Prediction (From List / By URL / By ID), Model Version (From List or
 * typed) and Model (From List), through n8n's own listSearch entry point (a LoadOptionsContext, as
 * the editor backend builds it) and through the engine for the values they produce, against the
 * test server; and each picker against a hostile list (entries planted with a 'mangle' fault).
 */
import { ReplicateInpaintingApi } from '../../credentials/ReplicateInpaintingApi.credentials';
import { ReplicateInpainting } from '../../nodes/ReplicateInpainting/ReplicateInpainting.node';
import {
	DEFAULT_MODEL_VERSION,
	MODEL_VERSION_ID,
} from '../../nodes/ReplicateInpainting/schema/modelInput';
import { runListSearch } from '../harness';
import { seedPrediction } from '../faults/support';
import { replicateCredential, serverCredential } from '../support/credentials';
import { useFakeReplicate } from '../support/fakeReplicate';
import { apiRequests, createRequests, runNode, urlInputs } from './support';

const server = useFakeReplicate({ modelTimeMs: 50, pageSize: 3 });

const MODEL_NAME = 'stability-ai/stable-diffusion-inpainting';
const FILL_DEV = 'black-forest-labs/flux-fill-dev';

function search(
	method: string,
	path: string,
	extra: {
		filter?: string;
		paginationToken?: string;
		token?: string;
		baseUrl?: string;
		parameters?: Record<string, unknown>;
	} = {},
) {
	return runListSearch({
		nodeType: ReplicateInpainting,
		credentialTypes: [ReplicateInpaintingApi],
		credential: replicateCredential(
			serverCredential(server, { apiToken: extra.token, baseUrl: extra.baseUrl }),
		),
		method,
		path,
		parameters: (extra.parameters ?? { operation: 'get' }) as never,
		filter: extra.filter,
		paginationToken: extra.paginationToken,
	});
}

/** Plants a hostile list: the next GET of `path` answers with its list replaced by `entries`. */
function plantList(path: RegExp, listKey: string, entries: unknown[]): void {
	server.inject({
		kind: 'mangle',
		method: 'GET',
		path,
		mutate: (body: Record<string, unknown>) => ({ ...body, [listKey]: entries }),
	});
}

describe('Prediction picker', () => {
	it('From List: recent predictions newest first, with status and time, page by page', async () => {
		const ids: string[] = [];
		for (let i = 0; i < 4; i++)
			ids.push(await seedPrediction(server, 'terminal', { prompt: `picture ${i}` }));
		const first = await search('searchPredictions', 'parameters.predictionId');
		expect(first.results.map((entry) => entry.value)).toEqual([ids[3], ids[2], ids[1]]);
		expect(first.results[0].name).toMatch(
			new RegExp(`^${ids[3]} · succeeded · \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC$`),
		);
		expect(first.paginationToken).toEqual(expect.any(String));
		const second = await search('searchPredictions', 'parameters.predictionId', {
			paginationToken: first.paginationToken as string,
		});
		expect(second.results.map((entry) => entry.value)).toEqual([ids[0]]);
		expect(second.paginationToken).toBeUndefined();
		// Every call went to the API with the credential's token, nowhere else.
		const lists = apiRequests(server).filter(
			(request) => request.method === 'GET' && request.path.endsWith('/predictions'),
		);
		expect(lists).toHaveLength(2);
		expect(
			lists.every((request) => request.headers.authorization === `Bearer ${server.token}`),
		).toBe(true);
	});

	it('From List: the search filters by ID, status or prompt', async () => {
		const armchair = await seedPrediction(server, 'terminal', { prompt: 'a red armchair' });
		await seedPrediction(server, 'terminal', { prompt: 'a blue vase' });
		const found = await search('searchPredictions', 'parameters.predictionId', {
			filter: 'ARMCHAIR',
		});
		expect(found.results.map((entry) => entry.value)).toEqual([armchair]);
		const byId = await search('searchPredictions', 'parameters.predictionId', {
			filter: armchair.slice(0, 6),
		});
		expect(byId.results.map((entry) => entry.value)).toContain(armchair);
	});

	it("From List with a wrong token fails with the API's 401, not an empty list", async () => {
		await expect(
			search('searchPredictions', 'parameters.predictionId', { token: 'r8_wrong' }),
		).rejects.toThrow(/Replicate API error 401 on GET \/predictions/);
	});

	it.each([
		['list', (id: string) => ({ __rl: true, mode: 'list', value: id })],
		['id', (id: string) => ({ __rl: true, mode: 'id', value: id })],
		[
			'url (replicate.com/p/<id>)',
			(id: string) => ({ __rl: true, mode: 'url', value: `https://replicate.com/p/${id}` }),
		],
		[
			'url (API)',
			(id: string) => ({
				__rl: true,
				mode: 'url',
				value: `https://api.replicate.com/v1/predictions/${id}`,
			}),
		],
		['plain string (expression or older workflow)', (id: string) => id],
	])('Get reads the prediction picked by %s', async (_mode, value) => {
		const id = await seedPrediction(server, 'terminal');
		const { items, errorMessage } = await runNode(server, {
			operation: 'get',
			predictionId: value(id) as never,
			options: { downloadOutputs: false },
		});
		expect(errorMessage).toBeUndefined();
		expect(items[0].json.id).toBe(id);
	});

	it("an ID from an expression that is none fails before any request (the picker's own check does not see expressions)", async () => {
		const { errorMessage } = await runNode(server, {
			operation: 'cancel',
			predictionId: {
				__rl: true,
				mode: 'id',
				value: '={{ "https://example.com/not-a-prediction" }}',
			} as never,
		});
		expect(errorMessage).toMatch(/^Invalid Prediction ID \(item 0\)/);
		expect(apiRequests(server)).toHaveLength(0);
	});
});

describe('Model Version picker', () => {
	it("From List: the model's versions, the one the node was built for marked, valued as owner/name:id", async () => {
		const { results } = await search('searchModelVersions', 'parameters.options.modelVersion');
		expect(results).toEqual([
			{
				name: `${MODEL_VERSION_ID.slice(0, 12)}… · 2022-12-02 19:47 UTC (the version this node was built for)`,
				value: DEFAULT_MODEL_VERSION,
				url: `https://replicate.com/stability-ai/stable-diffusion-inpainting/versions/${MODEL_VERSION_ID}`,
			},
		]);
		const [request] = apiRequests(server);
		expect(request.path).toMatch(/\/models\/stability-ai\/stable-diffusion-inpainting\/versions$/);
	});

	it('the test server answers an unknown model with 404, as Replicate does', async () => {
		const response = await fetch(`${server.apiUrl}/models/someone/else/versions`, {
			headers: { authorization: `Bearer ${server.token}` },
		});
		expect(response.status).toBe(404);
	});

	it.each([
		['picked from the list', { __rl: true, mode: 'list', value: DEFAULT_MODEL_VERSION }],
		['typed by ID', { __rl: true, mode: 'id', value: MODEL_VERSION_ID }],
	])('a version %s is what the create sends', async (_how, modelVersion) => {
		const { errorMessage } = await runNode(server, {
			...urlInputs(server),
			options: { modelVersion, downloadOutputs: false } as never,
		});
		expect(errorMessage).toBeUndefined();
		expect((createRequests(server)[0].json as { version: string }).version).toBe(
			modelVersion.value,
		);
	});

	it('a typed version that is not one fails before any request, naming the field', async () => {
		const { errorMessage } = await runNode(server, {
			...urlInputs(server),
			options: { modelVersion: { __rl: true, mode: 'id', value: 'latest' } } as never,
		});
		expect(errorMessage).toContain('Model Version (version): "latest" must be');
		expect(apiRequests(server)).toHaveLength(0);
	});
});

describe('Model Version picker for the chosen model', () => {
	const versionsOf = (model: unknown) =>
		search('searchModelVersions', 'parameters.options.modelVersion', {
			parameters: { operation: 'createAndWait', model },
		});

	it.each([
		['picked from the list', { __rl: true, mode: 'list', value: FILL_DEV }],
		['typed by name', { __rl: true, mode: 'name', value: FILL_DEV }],
		['given by URL', { __rl: true, mode: 'url', value: `https://replicate.com/${FILL_DEV}` }],
	])(
		'lists the versions of a model %s, valued owner/name:id, newest first',
		async (_how, model) => {
			const { results } = await versionsOf(model);
			expect(results.map((entry) => entry.value)).toEqual([
				`${FILL_DEV}:a053f84125613d83e65328a289e14eb6639e10725c243e8fb0c24128e5573f4c`,
				`${FILL_DEV}:cf33291a315758af3cb2a1378adbadbd5ec7e67e73046e1f7862f961abc03781`,
			]);
			expect(results[0].name).not.toContain('built for');
			expect(results[0].url).toBe(
				`https://replicate.com/${FILL_DEV}/versions/a053f84125613d83e65328a289e14eb6639e10725c243e8fb0c24128e5573f4c`,
			);
			expect(apiRequests(server).map((request) => request.path)).toEqual([
				`/v1/models/${FILL_DEV}/versions`,
			]);
		},
	);

	it.each([
		['unset', undefined],
		['not an owner/name', { __rl: true, mode: 'name', value: '../../predictions' }],
	])('falls back to the built-in model when the model is %s', async (_how, model) => {
		const { results } = await versionsOf(model);
		expect(results.map((entry) => entry.value)).toEqual([DEFAULT_MODEL_VERSION]);
		expect(results[0].name).toContain('(the version this node was built for)');
	});
});

describe('Model picker', () => {
	const models = (filter?: string, token?: string) =>
		search('searchModels', 'parameters.model', {
			parameters: { operation: 'createAndWait' },
			filter,
			token,
		});
	const routes = () => apiRequests(server).map((request) => `${request.path}${request.query}`);

	it("lists the built-in model first, then Replicate's image-editing collection", async () => {
		const { results } = await models();
		expect(results[0]).toEqual({
			name: `${MODEL_NAME} · the node's built-in form (Prompt, Image, Mask, Options)`,
			value: MODEL_NAME,
			url: `https://replicate.com/${MODEL_NAME}`,
		});
		expect(results.map((entry) => entry.value)).toEqual([
			MODEL_NAME,
			'black-forest-labs/flux-fill-pro',
			FILL_DEV,
			'ideogram-ai/ideogram-v3-turbo',
			'black-forest-labs/flux-kontext-pro',
			'google/nano-banana',
		]);
		expect(results[5]).toEqual({
			name: "google/nano-banana · Google's latest image editing model in Gemini 2.5",
			value: 'google/nano-banana',
			url: 'https://replicate.com/google/nano-banana',
		});
		expect(routes()).toEqual(['/v1/collections/image-editing']);
	});

	it('a filter is a search on Replicate; the built-in model is listed when it matches', async () => {
		const kontext = await models('kontext');
		expect(kontext.results.map((entry) => entry.value)).toEqual([
			'black-forest-labs/flux-kontext-pro',
		]);
		expect(routes()).toEqual(['/v1/search?query=kontext&limit=50']);
		const inpaint = await models('inpaint');
		expect(inpaint.results[0].value).toBe(MODEL_NAME);
		expect(inpaint.results.filter((entry) => entry.value === MODEL_NAME)).toHaveLength(1);
	});

	it('a gateway without search gets the collection filtered by the node', async () => {
		server.inject({ kind: 'status', status: 404, method: 'GET', path: /^\/search$/ });
		const { results } = await models('BANANA');
		expect(results.map((entry) => entry.value)).toEqual(['google/nano-banana']);
		expect(routes()).toEqual(['/v1/search?query=BANANA&limit=50', '/v1/collections/image-editing']);
	});

	it('a gateway with neither still lists the built-in model, saying what it could not load', async () => {
		server.inject({
			kind: 'status',
			status: 404,
			method: 'GET',
			path: /^\/(search|collections\/)/,
			times: 2,
		});
		const { results } = await models('flux');
		expect(results).toEqual([
			{
				name: `${MODEL_NAME} · the node's built-in form (Prompt, Image, Mask, Options) (no other models listed: the API answered 404 to GET /search and GET /collections/image-editing; type another model By Name)`,
				value: MODEL_NAME,
				url: `https://replicate.com/${MODEL_NAME}`,
			},
		]);
	});

	it("a wrong token fails with the API's 401, not a list", async () => {
		await expect(models(undefined, 'r8_wrong')).rejects.toThrow(
			/Replicate API error 401 on GET \/collections\/image-editing/,
		);
	});
});

describe('pickers against a hostile list', () => {
	it('Prediction: null and non-object entries and bad IDs are skipped; only https links reach the editor', async () => {
		plantList(/^\/predictions$/, 'results', [
			null,
			42,
			'text',
			{ id: 'bad id/..', status: 'succeeded' },
			{ id: 'aaa111', status: 'succeeded', urls: { web: 'javascript:alert(1)' } },
			{ id: 'bbb222', status: 'failed', urls: { web: 'https://replicate.com/p/bbb222' } },
			{ id: 'ccc333', status: 'failed', urls: { web: 'http://replicate.com/p/ccc333' } },
		]);
		const { results } = await search('searchPredictions', 'parameters.predictionId');
		expect(results.map(({ value, url }) => ({ value, url }))).toEqual([
			{ value: 'aaa111', url: undefined },
			{ value: 'bbb222', url: 'https://replicate.com/p/bbb222' },
			{ value: 'ccc333', url: undefined },
		]);
	});

	it('Model Version: null and non-object entries and ids that are not 64 hex are skipped', async () => {
		plantList(/\/versions$/, 'results', [
			null,
			['nested'],
			{ id: '../../account', created_at: '2024-01-01T00:00:00Z' },
			{ id: MODEL_VERSION_ID, created_at: '2022-12-02T19:47:38Z' },
		]);
		const { results } = await search('searchModelVersions', 'parameters.options.modelVersion');
		expect(results.map((entry) => entry.value)).toEqual([DEFAULT_MODEL_VERSION]);
	});

	it('Model: null and non-object entries and names that are not owner/name are skipped; links are built, never echoed', async () => {
		plantList(/^\/collections\/image-editing$/, 'models', [
			null,
			7,
			{ owner: 'evil', name: 'x/../../y' },
			{ owner: 'evil', name: 12 },
			{
				owner: 'some-one',
				name: 'fine.model',
				description: `A long description\nover lines ${'x'.repeat(200)}`,
				url: 'javascript:alert(1)',
			},
		]);
		const { results } = await search('searchModels', 'parameters.model', {
			parameters: { operation: 'createAndWait' },
		});
		expect(results.map((entry) => entry.value)).toEqual([MODEL_NAME, 'some-one/fine.model']);
		const [, listed] = results;
		expect(listed.url).toBe('https://replicate.com/some-one/fine.model');
		expect(listed.name).toMatch(/^some-one\/fine\.model · A long description over lines x+…$/);
		expect(listed.name.length).toBeLessThanOrEqual('some-one/fine.model · '.length + 80);
	});
});
