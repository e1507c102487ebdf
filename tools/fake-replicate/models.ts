/**
 * The account and the models API: /account (what the credential Test calls), each catalog model
 * (`catalog/`) with its versions, the collections that group them, and search, answered in
 * Replicate's shapes. An unknown model, version or collection is Replicate's bare 404.
 */
import { CATALOG, catalogModel, COLLECTIONS, modelName, type CatalogModel } from './catalog';
import type { ServerCore } from './core';
import { problem } from './http';
import type { ApiRoute, Reply } from './types';

const NOT_FOUND: Reply = { status: 404, json: { detail: 'Not found.', status: 404 } };
const SEARCH_LIMIT = { default: 20, max: 50 };

/** The model object of GET /models/{owner}/{name}, collections and search. */
function modelObject(model: CatalogModel): Record<string, unknown> {
	const [latest] = model.versions;
	return {
		url: `https://replicate.com/${modelName(model)}`,
		owner: model.owner,
		name: model.name,
		description: model.description,
		visibility: 'public',
		is_official: model.is_official,
		github_url: null,
		paper_url: null,
		license_url: null,
		run_count: model.run_count,
		cover_image_url: null,
		default_example: null,
		latest_version: { ...latest },
	};
}

/** Every word of the query in the model's name, description or tags; more hits score higher. */
function searchScore(model: CatalogModel, words: string[]): number {
	const fields = [modelName(model), model.description, ...model.tags].map((f) => f.toLowerCase());
	let score = 0;
	for (const word of words) {
		const hits = fields.filter((field) => field.includes(word)).length;
		if (hits === 0) return 0;
		score += hits;
	}
	return score;
}

function search(url: URL): Reply {
	const query = (url.searchParams.get('query') ?? '').trim();
	if (query === '') return problem(400, 'Bad Request', 'query is required');
	const rawLimit = url.searchParams.get('limit');
	const limit = rawLimit === null ? SEARCH_LIMIT.default : Number(rawLimit);
	if (!Number.isInteger(limit) || limit < 1 || limit > SEARCH_LIMIT.max)
		return problem(400, 'Bad Request', `limit must be an integer from 1 to ${SEARCH_LIMIT.max}`);
	const words = query.toLowerCase().split(/\s+/);
	const found = CATALOG.map((model) => ({ model, score: searchScore(model, words) }))
		.filter(({ score }) => score > 0)
		.sort((a, b) => b.score - a.score)
		.slice(0, limit);
	const collections = COLLECTIONS.filter((c) =>
		words.every((word) =>
			[c.slug, c.name, c.description].some((f) => f.toLowerCase().includes(word)),
		),
	);
	return {
		status: 200,
		json: {
			query,
			models: found.map(({ model, score }) => ({
				model: modelObject(model),
				metadata: { tags: model.tags, generated_description: model.description, score },
			})),
			collections: collections.map(({ name, slug, description }) => ({ name, slug, description })),
			pages: [],
		},
	};
}

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
			pattern: /^\/models\/([^/]+\/[^/]+)$/,
			name: 'GET /models/{owner}/{name}',
			handle: (_ex, name) => {
				const model = catalogModel(name);
				return model ? { status: 200, json: modelObject(model) } : NOT_FOUND;
			},
		},
		{
			method: 'GET',
			pattern: /^\/models\/([^/]+\/[^/]+)\/versions$/,
			name: 'GET /models/{owner}/{name}/versions',
			handle: (ex, name) => {
				const model = catalogModel(name);
				if (!model) return NOT_FOUND;
				// versions are newest first: the first gets the highest sequence number
				const items = model.versions.map((version, i) => ({
					seq: model.versions.length - i,
					value: { ...version },
				}));
				return core.page(ex, items, `/models/${modelName(model)}/versions`);
			},
		},
		{
			method: 'GET',
			pattern: /^\/models\/([^/]+\/[^/]+)\/versions\/([^/]+)$/,
			name: 'GET /models/{owner}/{name}/versions/{id}',
			handle: (ex, name) => {
				const id = /\/versions\/([^/]+)$/.exec(ex.path)?.[1];
				const version = catalogModel(name)?.versions.find((v) => v.id === id);
				return version ? { status: 200, json: { ...version } } : NOT_FOUND;
			},
		},
		{
			method: 'GET',
			pattern: /^\/collections\/([^/]+)$/,
			name: 'GET /collections/{slug}',
			handle: (_ex, slug) => {
				const collection = COLLECTIONS.find((c) => c.slug === slug);
				if (!collection) return NOT_FOUND;
				const { name, description, models } = collection;
				return { status: 200, json: { name, slug, description, models: models.map(modelObject) } };
			},
		},
		{
			method: 'GET',
			pattern: /^\/search$/,
			name: 'GET /search',
			handle: (ex) => search(ex.url),
		},
	];
}
