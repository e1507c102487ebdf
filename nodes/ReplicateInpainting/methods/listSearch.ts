/**
 * The lists behind the node's pickers (n8n calls these for a resource locator's "From List"):
 * recent predictions for Get and Cancel, and the model's versions for Model Version. Both read one
 * page of Replicate's cursor-paged lists per call; n8n asks for the next page with its token.
 */
import type {
	IDataObject,
	ILoadOptionsFunctions,
	INodeListSearchItems,
	INodeListSearchResult,
} from 'n8n-workflow';

import { listModelVersions } from '../../shared/api/models';
import { listPredictions } from '../../shared/api/predictions';
import { MODEL_NAME, MODEL_VERSION_ID } from '../schema/modelInput';

/** A picker is a look-up: a couple of quick retries, no long backoff while the user waits. */
const LOOKUP_POLICY = { maxRetries: 1 };

/** "2026-11-29 14:03 UTC": the time a list entry shows. */
function shortTime(value: unknown): string {
	if (typeof value !== 'string') return 'unknown time';
	const time = new Date(value);
	return Number.isNaN(time.getTime())
		? value
		: `${time.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function matches(filter: string | undefined, ...texts: unknown[]): boolean {
	if (!filter) return true;
	const wanted = filter.toLowerCase();
	return texts.some((text) => typeof text === 'string' && text.toLowerCase().includes(wanted));
}

/**
 * Recent predictions, newest first, "<id> · <status> · <time>"; the filter matches ID, status,
 * model or prompt.
 */
export async function searchPredictions(
	this: ILoadOptionsFunctions,
	filter?: string,
	paginationToken?: string,
): Promise<INodeListSearchResult> {
	const page = await listPredictions(
		this,
		{ cursor: paginationToken, kind: 'repeatable' },
		LOOKUP_POLICY,
	);
	const results: INodeListSearchItems[] = page.results
		.filter((prediction) =>
			matches(
				filter,
				prediction.id,
				prediction.status,
				prediction.model,
				(prediction.input as IDataObject | undefined)?.prompt,
			),
		)
		.map((prediction) => ({
			name: `${String(prediction.id)} · ${String(prediction.status)} · ${shortTime(prediction.created_at)}`,
			value: String(prediction.id),
			url:
				typeof (prediction.urls as IDataObject | undefined)?.web === 'string'
					? String((prediction.urls as IDataObject).web)
					: undefined,
		}));
	return { results, paginationToken: page.cursor };
}

/** The model's versions, newest first; the one this node was built for says so. */
export async function searchModelVersions(
	this: ILoadOptionsFunctions,
	filter?: string,
	paginationToken?: string,
): Promise<INodeListSearchResult> {
	const page = await listModelVersions(this, MODEL_NAME, paginationToken, LOOKUP_POLICY);
	const results: INodeListSearchItems[] = page.results
		.filter(
			(version) =>
				typeof version.id === 'string' && matches(filter, version.id, version.created_at),
		)
		.map((version) => {
			const id = String(version.id);
			const builtFor = id === MODEL_VERSION_ID ? ' (the version this node was built for)' : '';
			return {
				name: `${id.slice(0, 12)}… · ${shortTime(version.created_at)}${builtFor}`,
				value: `${MODEL_NAME}:${id}`,
				url: `https://replicate.com/${MODEL_NAME}/versions/${id}`,
			};
		});
	return { results, paginationToken: page.cursor };
}
