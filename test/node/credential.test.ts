/**
 * The credential as every operation uses it: Base URLs, tokens and n8n's credential test.
 */
import { ReplicateInpaintingApi } from '../../credentials/ReplicateInpaintingApi.credentials';
import { testCredential } from '../harness';
import { startFakeReplicate } from '../../tools/fake-replicate';
import { createRequests, runNode, urlInputs, useOperationServer } from './support';

const server = useOperationServer();

describe('credential', () => {
	it('works through a gateway base URL with a path prefix and a trailing slash', async () => {
		const gateway = await startFakeReplicate({ prefix: '/replicate/v1', modelTimeMs: 20 });
		try {
			const { result } = await runNode(gateway, urlInputs(gateway), {
				baseUrl: `${gateway.apiUrl}/`,
			});
			expect(result.status).toBe('success');
			expect(createRequests(gateway)[0].path).toBe('/replicate/v1/predictions');
			expect(
				await testCredential(ReplicateInpaintingApi, {
					apiToken: gateway.token,
					baseUrl: `${gateway.apiUrl}/`,
				}),
			).toMatchObject({ status: 'OK' });
		} finally {
			await gateway.close();
		}
	});

	it('its test tells a right token from a wrong one', async () => {
		expect(
			await testCredential(ReplicateInpaintingApi, {
				apiToken: server.token,
				baseUrl: server.apiUrl,
			}),
		).toMatchObject({ status: 'OK' });
		const wrong = await testCredential(ReplicateInpaintingApi, {
			apiToken: 'r8_wrong',
			baseUrl: server.apiUrl,
		});
		expect(wrong.status).toBe('Error');
		expect(wrong.message).not.toContain('r8_wrong');
	});

	it('a wrong token fails the node with the API error, and the token appears nowhere', async () => {
		const { errorMessage, errorDescription, result } = await runNode(server, urlInputs(server), {
			token: 'r8_secret_wrong_token',
		});
		expect(errorMessage).toBe('Replicate API error 401 on POST /predictions: Unauthenticated');
		const everything =
			JSON.stringify(result.run) + result.logs.join('\n') + String(errorDescription);
		expect(everything).not.toContain('r8_secret_wrong_token');
		expect(everything).toContain('Check the API Token');
		// n8n shows the description as one paragraph: each part ends as a sentence.
		expect(errorDescription).toBe(
			'You did not pass a valid authentication token.\nCheck the API Token of the Replicate Inpainting API credential.',
		);
	});
});

it('runs items concurrently yet keeps input order', async () => {
	server.set({ modelTimeMs: 300 });
	const { items } = await runNode(
		server,
		{
			...urlInputs(server),
			prompt: '={{ $json.prompt }}',
			options: { maxConcurrent: 4, downloadOutputs: false },
		},
		{ inputItems: ['a', 'b', 'c', 'd'].map((prompt) => ({ json: { prompt } })) },
	);
	expect(items.map((item) => (item.json.input as { prompt: string }).prompt)).toEqual([
		'a',
		'b',
		'c',
		'd',
	]);
	expect(items.map((item) => item.pairedItem)).toEqual([0, 1, 2, 3].map((item) => ({ item })));
	// Proof that they overlapped; how fast is the benchmark's business, not a test's.
	expect(server.stats().peakRunning).toBeGreaterThanOrEqual(2);
});
