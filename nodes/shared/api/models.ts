/**
 * Replicate's models resource: a model (its latest version's schema), one version, a model's
 * versions (the Model Version picker), and finding models: a collection and search (the Model
 * picker).
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

/**
 * GET /collections/{slug}: the collection's model objects, as answered (entries unchecked). A
 * gateway without collections answers 404, which reaches the caller as a NodeApiError.
 */
export async function getCollectionModels(
	context: TransportContext,
	slug: string,
	policy: RetryPolicy,
): Promise<unknown[]> {
	const answer = await apiRequest(
		context,
		{ method: 'GET', path: `/collections/${encodeURIComponent(slug)}`, kind: 'repeatable' },
		policy,
	);
	return Array.isArray(answer?.models) ? answer.models : [];
}

/**
 * GET /search?query=: the model objects found, best first (each answer entry's `model`; entries
 * unchecked). A gateway without search answers 404, which reaches the caller as a NodeApiError.
 */
export async function searchModelObjects(
	context: TransportContext,
	query: string,
	policy: RetryPolicy,
): Promise<unknown[]> {
	const answer = await apiRequest(
		context,
		{ method: 'GET', path: '/search', kind: 'repeatable', qs: { query, limit: 50 } },
		policy,
	);
	const found = Array.isArray(answer?.models) ? (answer.models as unknown[]) : [];
	return found.map((entry) =>
		entry !== null && typeof entry === 'object' ? (entry as IDataObject).model : undefined,
	);
}
