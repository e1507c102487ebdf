import type { IBinaryData, IDataObject, INodeExecutionData } from 'n8n-workflow';

import type { Prediction } from './prediction';

export type OutputLayout = 'itemPerImage' | 'allOnOneItem';

/** Binary property names for several files on one item: `data`, `data_1`, `data_2`, … */
export function binaryPropertyFor(base: string, index: number): string {
	return index === 0 ? base : `${base}_${index}`;
}

/**
 * The items a finished prediction becomes. Without downloads: one item with the prediction
 * JSON (its `output` holds the URLs). With downloads: one item per image (n8n's own image nodes
 * do this, so the next node handles each file) or every image on one item.
 */
export function predictionItems(
	prediction: Prediction,
	binaries: IBinaryData[] | undefined,
	layout: OutputLayout,
	binaryProperty: string,
): INodeExecutionData[] {
	const json = prediction as IDataObject;
	if (!binaries || binaries.length === 0) return [{ json }];
	if (layout === 'allOnOneItem') {
		const binary: Record<string, IBinaryData> = {};
		binaries.forEach((file, index) => (binary[binaryPropertyFor(binaryProperty, index)] = file));
		return [{ json, binary }];
	}
	const urls = Array.isArray(prediction.output) ? prediction.output : [prediction.output];
	return binaries.map((file, index) => ({
		json: { ...json, output_index: index, output_url: urls[index] ?? null },
		binary: { [binaryProperty]: file },
	}));
}
