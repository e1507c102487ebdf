/**
 * The test server as test files use it: one per file (or describe block), started before its
 * tests, reset before each and closed after them; and the credential that points the node at it.
 */
import type { ICredentialDataDecryptedObject, IDataObject } from 'n8n-workflow';

import { ReplicateInpaintingApi } from '../../credentials/ReplicateInpaintingApi.credentials';
import type { HarnessCredential } from '../harness';
import { createFakeReplicate, type FakeReplicate, type FakeReplicateOptions } from '../server';

/** The id under which the test workflows' nodes reference the credential. */
export const CREDENTIAL_ID = 'replicate-test';

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

/** The credential's fields for `server` (its token and API URL); fields given, and not undefined, win. */
export function serverCredential(
	server: FakeReplicate,
	fields: IDataObject = {},
): ICredentialDataDecryptedObject {
	const given = Object.entries(fields).filter(([, value]) => value !== undefined);
	return {
		apiToken: server.token,
		baseUrl: server.apiUrl,
		...(Object.fromEntries(given) as ICredentialDataDecryptedObject),
	};
}

/** A Replicate Inpainting API credential with these fields, as the harness is given one. */
export function replicateCredential(data: ICredentialDataDecryptedObject): HarnessCredential {
	return { type: 'replicateInpaintingApi', data };
}

/** runWorkflow's (and the webhook runners') credential options: the credential type and one credential under `id`. */
export function credentialOptions(data: ICredentialDataDecryptedObject, id = CREDENTIAL_ID) {
	return {
		credentialTypes: [ReplicateInpaintingApi],
		credentials: { [id]: replicateCredential(data) },
	};
}
