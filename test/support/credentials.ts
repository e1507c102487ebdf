/**
 * The credential that points the node at the test server, as the harness takes it. No runtime
 * import of the server: the bench worker loads this beside the node and nothing else.
 */
import type { ICredentialDataDecryptedObject, IDataObject } from 'n8n-workflow';

import { ReplicateInpaintingApi } from '../../credentials/ReplicateInpaintingApi.credentials';
import type { HarnessCredential } from '../harness';
import type { FakeReplicate } from '../../tools/fake-replicate';

/** The id under which the test workflows' nodes reference the credential. */
export const CREDENTIAL_ID = 'replicate-test';

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
