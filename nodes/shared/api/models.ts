/**
 * Replicate's models resource: a model (its latest version's schema), one version, and a model's
 * versions (the Model Version picker).
 */
import type { IDataObject } from 'n8n-workflow';

import type { TransportContext } from '../transport/request';
import { apiRequest } from '../transport/request';
import type { RetryPolicy } from '../transport/retry';
import type { ListPage } from './pages';
import { readPage } from './pages';

/** `owner/name` as Replicate names models; also keeps odd text out of the request path. */
export const MODEL_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]*\/[a-z0-9][a-z0-9._-]*$/i;

/** A version id: 64 hex characters. */
export const VERSION_ID_PATTERN = /^[0-9a-f]{64}$/;

/** The path of `owner/name`; callers check the name against MODEL_NAME_PATTERN first. */
function modelPath(model: string): string {
	return `/models/${model}`;
}

/** GET /models/{owner}/{name}: the model, with its latest version and that version's schema. */
export async function getModel(
	context: TransportContext,
	model: string,
	policy: RetryPolicy,
	itemIndex?: number,
): Promise<IDataObject | undefined> {
	return await apiRequest(
		context,
		{ method: 'GET', path: modelPath(model), kind: 'repeatable', itemIndex },
		policy,
	);
}

/** GET /models/{owner}/{name}/versions/{id}: one version and its schema. */
export async function getModelVersion(
	context: TransportContext,
	model: string,
	versionId: string,
	policy: RetryPolicy,
	itemIndex?: number,
): Promise<IDataObject | undefined> {
	return await apiRequest(
		context,
		{
			method: 'GET',
			path: `${modelPath(model)}/versions/${versionId}`,
			kind: 'repeatable',
			itemIndex,
		},
		policy,
	);
}

/** One page of `owner/name`'s versions, newest first. */
export async function listModelVersions(
	context: TransportContext,
	model: string,
	cursor: string | undefined,
	policy: RetryPolicy,
): Promise<ListPage> {
	return readPage(
		await apiRequest(
			context,
			{
				method: 'GET',
				path: `${modelPath(model)}/versions`,
				kind: 'repeatable',
				qs: cursor ? { cursor } : undefined,
			},
			policy,
		),
	);
}
