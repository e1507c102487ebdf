/**
 * Cancel through n8n's engine against the Replicate-compatible test server.
 */
import { runNode, urlInputs, useOperationServer } from './support';

const server = useOperationServer();

describe('Cancel', () => {
	it('stops a running prediction', async () => {
		server.set({ modelTimeMs: 30_000 });
		const slow = await runNode(server, { operation: 'createOnly', ...urlInputs(server) });
		const slowId = slow.items[0].json.id as string;
		const canceled = await runNode(server, { operation: 'cancel', predictionId: slowId });
		expect(canceled.items[0].json).toMatchObject({ id: slowId, status: 'canceled' });
		expect(server.predictions.get(slowId)!.status).toBe('canceled');
	});
});
