/**
 * The models the fake Replicate knows, one data file each (schemas copied from Replicate's model
 * API pages; each file says what it is based on), and the collections that group them. The models
 * API (`../models.ts`) serves them; the predictions side reads here which versions exist, which
 * models run by name (`is_official`), each version's Input schema, and what the outputs are.
 */
import type { CatalogModel, CatalogVersion } from './cog';
import { fluxFillDev } from './fluxFillDev';
import { fluxFillPro } from './fluxFillPro';
import { fluxKontextPro } from './fluxKontextPro';
import { ideogramV3Turbo } from './ideogramV3Turbo';
import { nanoBanana } from './nanoBanana';
import { stableDiffusionInpainting } from './stableDiffusionInpainting';

export type { CatalogModel, CatalogVersion, CogSchema, EditKind, OutputKind } from './cog';

export const CATALOG: readonly CatalogModel[] = [
	stableDiffusionInpainting,
	fluxFillPro,
	fluxFillDev,
	ideogramV3Turbo,
	fluxKontextPro,
	nanoBanana,
];

export function modelName(model: CatalogModel): string {
	return `${model.owner}/${model.name}`;
}

/** The model named `owner/name` (as Replicate, case-insensitively), or undefined. */
export function catalogModel(name: string): CatalogModel | undefined {
	const wanted = name.toLowerCase();
	return CATALOG.find((model) => modelName(model) === wanted);
}

/** The model and version a 64-hex version id belongs to, or undefined. */
export function catalogVersion(
	id: string,
): { model: CatalogModel; version: CatalogVersion } | undefined {
	for (const model of CATALOG) {
		const version = model.versions.find((v) => v.id === id);
		if (version) return { model, version };
	}
	return undefined;
}

export interface CatalogCollection {
	slug: string;
	name: string;
	description: string;
	models: readonly CatalogModel[];
}

/** Replicate's collections of these names (their slugs as on replicate.com/collections). */
export const COLLECTIONS: readonly CatalogCollection[] = [
	{
		slug: 'image-editing',
		name: 'Image editing',
		description: 'Tools for editing images: inpainting, outpainting and instruction-based edits.',
		models: CATALOG,
	},
	{
		slug: 'official',
		name: 'Official AI models',
		description:
			'Official models are always on, maintained, and have predictable pricing. They are run by name, without a version.',
		models: CATALOG.filter((model) => model.is_official),
	},
];
