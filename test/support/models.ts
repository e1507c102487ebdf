/**
 * The catalog models the tests run (tools/fake-replicate/catalog holds their schemas) and the
 * node parameters that choose one: the Model picker and its Model Inputs values.
 */
import type { INodeParameters } from 'n8n-workflow';

import { catalogModel } from '../../tools/fake-replicate/catalog';

export const FILL_PRO = 'black-forest-labs/flux-fill-pro';
export const FILL_DEV = 'black-forest-labs/flux-fill-dev';
export const IDEOGRAM = 'ideogram-ai/ideogram-v3-turbo';
export const KONTEXT_PRO = 'black-forest-labs/flux-kontext-pro';
export const NANO_BANANA = 'google/nano-banana';

/** flux-fill-dev's versions, newest first, as the test server lists them. */
const fillDevVersions = catalogModel(FILL_DEV)!.versions.map((version) => version.id);
export const FILL_DEV_LATEST = fillDevVersions[0];
export const FILL_DEV_OLDER = fillDevVersions[1];

/** The Model picker set to `model` (in `mode`) and the Model Inputs mapper holding `values`. */
export function modelParameters(
	model: string,
	values: Record<string, unknown>,
	mode = 'name',
): INodeParameters {
	return {
		model: { __rl: true, mode, value: model },
		modelInputs: { mappingMode: 'defineBelow', value: values, matchingColumns: [], schema: [] },
	} as INodeParameters;
}
