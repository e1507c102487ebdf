/**
 * The lists behind the node's pickers (n8n calls these for a resource locator's "From List"):
 * recent predictions for Get and Cancel, the chosen model's versions for Model Version, and models
 * for Model. Predictions and versions read one page of Replicate's cursor-paged lists per call; n8n
 * asks for the next page with its token. Whatever the API answers, an entry reaches the editor only
 * when it is an object whose id or name is one (anything else is skipped), and its link only when
 * it is https (or built here from checked parts).
 */
import type {
	IDataObject,
	ILoadOptionsFunctions,
	INodeListSearchItems,
	INodeListSearchResult,
} from 'n8n-workflow';

import {
	getCollectionModels,
	listModelVersions,
	MODEL_NAME_PATTERN,
	searchModelObjects,
	VERSION_ID_PATTERN,
} from '../../shared/api/models';
import { unlessNotFound } from '../../shared/errors';
import { listPredictions, PREDICTION_ID } from '../../shared/api/predictions';
import { MODEL_NAME, MODEL_VERSION_ID } from '../schema/modelInput';

/** A picker is a look-up: a couple of quick retries, no long backoff while the user waits. */
const LOOKUP_POLICY = { maxRetries: 1 };

/** Replicate's collection of image-editing models: the Model picker's list without a search. */
const MODEL_COLLECTION = 'image-editing';

/** How much of a model's description its list entry shows. */
const DESCRIPTION_LENGTH = 80;

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

/** The entries of an answer's list that are objects (a null or a string is skipped, not a TypeError). */
function objectEntries(list: readonly unknown[]): IDataObject[] {
	return list.filter(
		(entry): entry is IDataObject =>
			entry !== null && typeof entry === 'object' && !Array.isArray(entry),
	);
}

/** A link from an answer, only when it is an https URL (anything else could be a javascript: link). */
function httpsLink(value: unknown): string | undefined {
	if (typeof value !== 'string') return undefined;
	try {
		return new URL(value).protocol === 'https:' ? value : undefined;
	} catch {
		return undefined;
	}
}

/** The text of one line, cut at `length` with an ellipsis. */
function shortened(text: string, length: number): string {
	const line = text.replace(/\s+/g, ' ').trim();
	return line.length > length ? `${line.slice(0, length - 1).trimEnd()}…` : line;
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
	const results: INodeListSearchItems[] = objectEntries(page.results)
		.filter(
			(prediction) =>
				typeof prediction.id === 'string' &&
				PREDICTION_ID.test(prediction.id) &&
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
			url: httpsLink((prediction.urls as IDataObject | undefined)?.web),
		}));
	return { results, paginationToken: page.cursor };
}

/** The `model` parameter's `owner/name`, or the built-in model when it is unset or not one. */
function chosenModel(context: ILoadOptionsFunctions): string {
	let value: unknown;
	try {
		value = context.getCurrentNodeParameter('model', { extractValue: true });
	} catch {
		value = undefined; // a node without the parameter (or a value its URL mode cannot read)
	}
	return typeof value === 'string' && MODEL_NAME_PATTERN.test(value.trim())
		? value.trim()
		: MODEL_NAME;
}

/** The chosen model's versions, newest first, valued `owner/name:<id>`; the one this node was built for says so. */
export async function searchModelVersions(
	this: ILoadOptionsFunctions,
	filter?: string,
	paginationToken?: string,
): Promise<INodeListSearchResult> {
	const model = chosenModel(this);
	const page = await listModelVersions(this, model, paginationToken, LOOKUP_POLICY);
	const results: INodeListSearchItems[] = objectEntries(page.results)
		.filter(
			(version) =>
				typeof version.id === 'string' &&
				VERSION_ID_PATTERN.test(version.id) &&
				matches(filter, version.id, version.created_at),
		)
		.map((version) => {
			const id = String(version.id);
			const builtFor =
				model === MODEL_NAME && id === MODEL_VERSION_ID
					? ' (the version this node was built for)'
					: '';
			return {
				name: `${id.slice(0, 12)}… · ${shortTime(version.created_at)}${builtFor}`,
				value: `${model}:${id}`,
				url: `https://replicate.com/${model}/versions/${id}`,
			};
		});
	return { results, paginationToken: page.cursor };
}

/** A model object's list entry, or none when its owner/name is not a model name. */
function modelEntry(model: IDataObject): INodeListSearchItems | undefined {
	if (typeof model.owner !== 'string' || typeof model.name !== 'string') return undefined;
	const name = `${model.owner}/${model.name}`;
	if (!MODEL_NAME_PATTERN.test(name)) return undefined;
	const description =
		typeof model.description === 'string' && model.description.trim() !== ''
			? ` · ${shortened(model.description, DESCRIPTION_LENGTH)}`
			: '';
	return { name: `${name}${description}`, value: name, url: `https://replicate.com/${name}` };
}

function builtInEntry(note = ''): INodeListSearchItems {
	return {
		name: `${MODEL_NAME} · the node's built-in form (Prompt, Image, Mask, Options)${note}`,
		value: MODEL_NAME,
		url: `https://replicate.com/${MODEL_NAME}`,
	};
}

/**
 * The built-in model first, then Replicate's: the image-editing collection, or with a filter what
 * `GET /search` finds. A gateway without search gets the collection filtered here; one without
 * either still lists the built-in model, its entry saying what could not be loaded (other
 * failures, such as a wrong token, are errors).
 */
export async function searchModels(
	this: ILoadOptionsFunctions,
	filter?: string,
): Promise<INodeListSearchResult> {
	const query = filter?.trim() ?? '';
	// A gateway without search: the collection, filtered here; without both: the built-in model.
	const searched =
		query === '' ? undefined : await unlessNotFound(searchModelObjects(this, query, LOOKUP_POLICY));
	const filterHere = query !== '' && !searched;
	const listed = searched
		? undefined
		: await unlessNotFound(getCollectionModels(this, MODEL_COLLECTION, LOOKUP_POLICY));
	const found = searched?.answer ?? listed?.answer;
	if (!found) {
		const note = ` (no other models listed: the API answered 404 to ${
			query === '' ? '' : 'GET /search and '
		}GET /collections/${MODEL_COLLECTION}; type another model By Name)`;
		return { results: [builtInEntry(note)] };
	}
	const entries = objectEntries(found)
		.filter(
			(model) =>
				!filterHere ||
				matches(query, `${String(model.owner)}/${String(model.name)}`, model.description),
		)
		.map(modelEntry)
		.filter((entry): entry is INodeListSearchItems => entry !== undefined);
	const others = entries.filter((entry) => entry.value !== MODEL_NAME);
	const builtInFound = others.length < entries.length || matches(query, MODEL_NAME, 'built-in');
	return { results: builtInFound ? [builtInEntry(), ...others] : others };
}
