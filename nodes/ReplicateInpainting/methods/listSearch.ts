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

import { MODEL_NAME, MODEL_VERSION_ID } from '../schema/modelInput';
import { apiRequest } from '../transport';

/** A picker is a look-up: a couple of quick retries, no long backoff while the user waits. */
const LOOKUP_POLICY = { maxRetries: 1 };

interface Page {
	results: IDataObject[];
	next: string | null;
}

/** Replicate's `next` is a full URL; only its cursor goes back to the API (through the credential's base URL). */
function cursorOf(next: unknown): string | undefined {
	if (typeof next !== 'string' || next === '') return undefined;
	try {
		return new URL(next).searchParams.get('cursor') ?? undefined;
	} catch {
		return undefined;
	}
}

async function listPage(
	context: ILoadOptionsFunctions,
	path: string,
	paginationToken?: string,
): Promise<Page> {
	const answer = await apiRequest<IDataObject>(
		context,
		{
			method: 'GET',
			path,
			kind: 'repeatable',
			qs: paginationToken ? { cursor: paginationToken } : undefined,
		},
		LOOKUP_POLICY,
	);
	return {
		results: Array.isArray(answer?.results) ? (answer.results as IDataObject[]) : [],
		next: typeof answer?.next === 'string' ? answer.next : null,
	};
}

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

/** Recent predictions, newest first, "<id> · <status> · <time>"; the filter matches ID, status, model or prompt. */
export async function searchPredictions(
	this: ILoadOptionsFunctions,
	filter?: string,
	paginationToken?: string,
): Promise<INodeListSearchResult> {
	const page = await listPage(this, '/predictions', paginationToken);
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
	return { results, paginationToken: cursorOf(page.next) };
}

/** The model's versions, newest first; the one this node was built for says so. */
export async function searchModelVersions(
	this: ILoadOptionsFunctions,
	filter?: string,
	paginationToken?: string,
): Promise<INodeListSearchResult> {
	const page = await listPage(this, `/models/${MODEL_NAME}/versions`, paginationToken);
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
	return { results, paginationToken: cursorOf(page.next) };
}
