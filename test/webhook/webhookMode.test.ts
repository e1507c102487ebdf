import { startWaitingServer } from '../harness';
import type { WaitingServer } from '../harness';
import { NODE_NAME, urlInputs, createRequests } from '../node/support';
import type { FakeReplicate } from '../server';
import { startFakeReplicate } from '../server';
import { park } from './support';

let server: FakeReplicate;
let waiting: WaitingServer;

beforeAll(async () => {
	server = await startFakeReplicate({ modelTimeMs: 300 });
	waiting = await startWaitingServer();
});
afterAll(async () => {
	await waiting?.close();
	await server?.close();
});

describe('Wait Mode: Webhook', () => {
	it('parks the execution and resumes it with the image when Replicate calls', async () => {
		const { executionId, parked } = await park(waiting, server, urlInputs(server));
		expect(parked.status).toBe('waiting');
		const done = await waiting.finished(executionId);
		expect(done.status).toBe('success');
		const items = done.items(NODE_NAME);
		expect(items).toHaveLength(1);
		expect(items[0].json.status).toBe('succeeded');
		expect(items[0].binary?.data?.mimeType).toBe('image/png');
		expect(createRequests(server)).toHaveLength(1);
	});
});
