/**
 * The n8n-native pickers: Prediction (From List / By URL / By ID) and Model Version (From List or
 * typed), through n8n's own listSearch entry point (a LoadOptionsContext, as the editor backend
 * builds it) and through the engine for the values they produce, against the test server.
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

function search(
	method: string,
	path: string,
	extra: { filter?: string; paginationToken?: string; token?: string; baseUrl?: string } = {},
) {
	return runListSearch({
		nodeType: ReplicateInpainting,
		credentialTypes: [ReplicateInpaintingApi],
		credential: replicateCredential(
			serverCredential(server, { apiToken: extra.token, baseUrl: extra.baseUrl }),
		),
		method,
		path,
		parameters: { operation: 'get' },
		filter: extra.filter,
		paginationToken: extra.paginationToken,
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
