/** The account and the model: /account (what the credential Test calls) and the model's versions. */
import type { ServerCore } from './core';
import { NOT_FOUND } from './http';
import type { ApiRoute } from './types';
import { MODEL_NAME, MODEL_VERSION_ID } from './validation';

/** GET /models/{owner}/{name}/versions lists the one version this server runs, as Replicate lists versions. */
const MODEL_VERSION_ENTRY = {
	id: MODEL_VERSION_ID,
	created_at: '2022-12-02T19:47:38.000000Z',
	cog_version: '0.6.1',
	openapi_schema: {},
};

export function modelRoutes(core: ServerCore): ApiRoute[] {
	return [
		{
			method: 'GET',
			pattern: /^\/account$/,
			name: 'GET /account',
			handle: () => ({
				status: 200,
				json: { type: 'user', username: 'fake', name: 'Fake Replicate', github_url: null },
			}),
		},
		{
			method: 'GET',
			pattern: /^\/models\/([^/]+\/[^/]+)\/versions$/,
			name: 'GET /models/{owner}/{name}/versions',
			handle: (ex, id) => {
				// Only the model this server runs exists; its one version is the one predictions accept.
				if (id !== MODEL_NAME) return NOT_FOUND();
				return core.page(
					ex,
					[{ seq: 1, value: { ...MODEL_VERSION_ENTRY } }],
					`/models/${MODEL_NAME}/versions`,
				);
			},
		},
	];
}
