/**
 * Create Only through n8n's engine against the Replicate-compatible test server.
 */
import { apiRequests, createRequests, runNode, urlInputs, useOperationServer } from './support';

const server = useOperationServer();

describe('Create Only', () => {
	it('returns at once and passes the webhook along', async () => {
		server.set({ modelTimeMs: 5_000 });
		const { items } = await runNode(server, {
			operation: 'createOnly',
			...urlInputs(server),
			webhookUrl: 'https://example.com/webhook/replicate',
			webhookEvents: ['start', 'completed'],
		});
		expect(items).toHaveLength(1);
		expect(['starting', 'processing']).toContain(items[0].json.status);
		const create = createRequests(server)[0];
		expect(create.headers.prefer).toBeUndefined();
		expect(create.headers['cancel-after']).toBe('600s');
		expect(create.json).toMatchObject({
			webhook: 'https://example.com/webhook/replicate',
			webhook_events_filter: ['start', 'completed'],
		});
		expect(apiRequests(server)).toHaveLength(1);
	});
});
