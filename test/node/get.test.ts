/**
 * Get through n8n's engine against the Replicate-compatible test server.
 */
import { runNode, urlInputs, useOperationServer } from './support';

const server = useOperationServer();

describe('Get', () => {
	it('waits for a prediction and downloads its outputs, or only looks it up', async () => {
		server.set({ modelTimeMs: 1_500 });
		const created = await runNode(server, {
			operation: 'createOnly',
			...urlInputs(server),
			options: { numOutputs: 2 },
		});
		const id = created.items[0].json.id as string;

		const got = await runNode(server, {
			operation: 'get',
			predictionId: id,
			waitForCompletion: true,
		});
		expect(got.items).toHaveLength(2);
		expect(got.items[1].json).toMatchObject({ id, status: 'succeeded', output_index: 1 });
		expect(got.items[1].binary!.data.fileName).toBe(`${id}-1.png`);

		const lookedUp = await runNode(server, {
			operation: 'get',
			predictionId: id,
			options: { downloadOutputs: false },
		});
		expect(lookedUp.items[0].binary).toBeUndefined();
		expect(lookedUp.items[0].json.status).toBe('succeeded');
	});

	it('of an unknown prediction fails with the API error', async () => {
		const { errorMessage } = await runNode(server, {
			operation: 'get',
			predictionId: 'doesnotexist123',
		});
		expect(errorMessage).toMatch(/^Replicate API error 404 on GET \/predictions\/doesnotexist123/);
	});
});
