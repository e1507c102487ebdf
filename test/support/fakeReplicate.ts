/**
 * The test server as a test file uses it: one per file (or describe block), started before its
 * tests, reset before each and closed after them (the credential for it: ./credentials.ts).
 */
import {
	createFakeReplicate,
	type FakeReplicate,
	type FakeReplicateOptions,
} from '../../tools/fake-replicate';

/**
 * Registers the hooks of one fake Replicate and returns it; it listens from the first beforeAll on,
 * so read its URLs inside tests and hooks. Hooks a file adds after this call run after these.
 */
export function useFakeReplicate(options: FakeReplicateOptions = {}): FakeReplicate {
	const server = createFakeReplicate(options);
	beforeAll(() => server.listen());
	afterAll(() => server.close());
	beforeEach(() => server.reset());
	return server;
}
