/**
 * Which model an item runs and what its schema says: the Model picker and Model Version as the
 * user set them, resolved to the `version` a create sends and the model's input fields. A model's
 * schema is fetched once per execution (the loader a run creates remembers it) and kept in the
 * process for a minute, so a workflow run item by item does not fetch it per item either.
 */
import { createHash } from 'node:crypto';

import type { IDataObject } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import {
	getModel,
	getModelVersion,
	MODEL_NAME_PATTERN,
	VERSION_ID_PATTERN,
} from '../../shared/api/models';
import { unlessNotFound } from '../../shared/errors';
import type { TransportContext } from '../../shared/transport/request';
import { apiBaseUrl, CREDENTIAL_TYPE } from '../../shared/transport/request';
import type { RetryPolicy } from '../../shared/transport/retry';
import { MODEL_NAME } from '../schema/modelInput';
import type { InputField } from '../schema/modelSchema';
import { inputFieldsOf } from '../schema/modelSchema';

/** A model as the picker gives it: `owner/name`, optionally pinned as `owner/name:<version id>`. */
export const MODEL_REFERENCE =
	/^([a-z0-9][a-z0-9._-]*\/[a-z0-9][a-z0-9._-]*)(?::([0-9a-f]{64}))?$/i;

/**
 * A picker's value as text: a resource locator gives `{mode, value}`, an expression or an older
 * workflow a plain value.
 */
export function locatorValue(parameter: unknown): string {
	const value =
		parameter !== null && typeof parameter === 'object' && 'value' in parameter
			? (parameter as { value: unknown }).value
			: parameter;
	return value === undefined || value === null ? '' : String(value).trim();
}

/** The Model picker's value, whatever its mode: the built-in model when unset. */
export function modelPickerValue(parameter: unknown): string {
	return locatorValue(parameter) || MODEL_NAME;
}

/**
 * The Model Version option: its text, and the version id (and model) it names when it is
 * `owner/name:<id>` or a bare id.
 */
export function versionOptionOf(option: unknown): { text: string; id?: string; model?: string } {
	const text = locatorValue(option);
	if (VERSION_ID_PATTERN.test(text)) return { text, id: text };
	const reference = MODEL_REFERENCE.exec(text);
	return { text, id: reference?.[2], model: reference?.[2] ? reference[1] : undefined };
}

/**
 * Whether the item uses the node's own form for the built-in model (the editor shows it for
 * exactly this picker value) rather than the form built from a model's schema.
 */
export function usesBuiltInForm(pickerValue: string): boolean {
	return pickerValue === MODEL_NAME;
}

/** `owner/name` (and a pinned version) from the picker: by name, or a replicate.com link. */
export function modelReference(
	pickerValue: string,
): { name: string; version?: string } | undefined {
	const link = /^https?:\/\/(?:www\.)?replicate\.com\/([^/?#]+\/[^/?#:]+)\/?(?:[?#].*)?$/i.exec(
		pickerValue,
	);
	const reference = MODEL_REFERENCE.exec(link ? link[1] : pickerValue);
	return reference ? { name: reference[1], version: reference[2] } : undefined;
}

export interface LoadedModel {
	/** `owner/name` */
	name: string;
	/** What a create sends as `version`: `owner/name` (official models) or `owner/name:<id>`. */
	version: string;
	/** The model's inputs; undefined when its schema could not be loaded (see `notLoaded`). */
	fields?: InputField[];
	/** Why the schema could not be loaded: the input goes unchecked to Replicate. */
	notLoaded?: string;
}

/** Loads a model (`owner/name`) at a version (`undefined`: its latest) for an item. */
export type ModelLoader = (
	name: string,
	versionId: string | undefined,
	itemIndex: number,
	policy: RetryPolicy,
) => Promise<LoadedModel>;

/** How long a loaded schema serves other executions in this process. */
const PROCESS_CACHE_MS = 60_000;
const processCache = new Map<string, { expires: number; loaded: Promise<LoadedModel> }>();

/** Keyed by the API and the token (a private model's schema stays with who may see it). */
async function cacheKey(context: TransportContext, name: string, versionId?: string) {
	const credentials = await context.getCredentials(CREDENTIAL_TYPE);
	const token = createHash('sha256')
		.update(String(credentials.apiToken ?? ''))
		.digest('hex');
	return `${await apiBaseUrl(context)} ${token} ${name}:${versionId ?? 'latest'}`;
}

/** A loader for one execution: each model and version is fetched at most once. */
export function modelLoader(context: TransportContext): ModelLoader {
	const loaded = new Map<string, Promise<LoadedModel>>();
	return async (name, versionId, itemIndex, policy) => {
		const key = await cacheKey(context, name, versionId);
		let loading = loaded.get(key);
		if (!loading) {
			const now = Date.now();
			for (const [cached, entry] of processCache)
				if (entry.expires <= now) processCache.delete(cached);
			loading = processCache.get(key)?.loaded;
			if (!loading) {
				const fetched = fetchModel(context, name, versionId, policy, itemIndex);
				processCache.set(key, { expires: now + PROCESS_CACHE_MS, loaded: fetched });
				// A failure is not kept: the next execution asks again.
				fetched.catch(() => processCache.delete(key));
				loading = fetched;
			}
			loaded.set(key, loading);
		}
		return await loading;
	};
}

async function fetchModel(
	context: TransportContext,
	name: string,
	versionId: string | undefined,
	policy: RetryPolicy,
	itemIndex: number,
): Promise<LoadedModel> {
	if (!MODEL_NAME_PATTERN.test(name) || (versionId && !VERSION_ID_PATTERN.test(versionId)))
		throw new NodeOperationError(context.getNode(), `Not a model: ${name}:${versionId}`);
	if (versionId !== undefined) {
		const version = `${name}:${versionId}`;
		const found = await unlessNotFound(
			getModelVersion(context, name, versionId, policy, itemIndex),
		);
		// A gateway that does not serve the models API: the pinned version still runs.
		if (!found)
			return {
				name,
				version,
				notLoaded: `GET /models/${name}/versions/${versionId} answered 404 (the API or gateway does not serve it)`,
			};
		const fields = inputFieldsOf(found.answer?.openapi_schema);
		return fields
			? { name, version, fields }
			: { name, version, notLoaded: 'its version answer holds no input schema' };
	}
	const found = await unlessNotFound(getModel(context, name, policy, itemIndex));
	if (!found) {
		throw new NodeOperationError(
			context.getNode(),
			`Model ${name} was not found (GET /models/${name} answered 404)`,
			{
				itemIndex,
				description:
					'Nothing was sent. Check the model name (owner/name, as in replicate.com/owner/name). When your API gateway does not serve Replicate\'s models API, pin a version instead (Model: "owner/name:<version id>", or Options → Model Version): the node then sends the input unchecked.',
			},
		);
	}
	const model = found.answer;
	const latest = model?.latest_version as IDataObject | undefined;
	const fields = inputFieldsOf(latest?.openapi_schema);
	const notLoaded = fields ? undefined : 'its latest version carries no input schema';
	// Official models run by name, always at their current version.
	if (model?.is_official === true) return { name, version: name, fields, notLoaded };
	const id = typeof latest?.id === 'string' ? latest.id : '';
	if (!VERSION_ID_PATTERN.test(id)) {
		throw new NodeOperationError(
			context.getNode(),
			`Model ${name} has no version to run (its latest_version is ${JSON.stringify(latest?.id ?? null)})`,
			{ itemIndex, description: 'Nothing was sent. Pin a version under Options → Model Version.' },
		);
	}
	return { name, version: `${name}:${id}`, fields, notLoaded };
}
