/**
 * The items a prediction becomes, for the node's operations, its resumed executions and the
 * trigger alike: the prediction JSON (status, image URL and error first) and the files of its
 * output (whatever its shape, see files.ts) as binary data when they are downloaded.
 */
import type { IBinaryData, IDataObject, INodeExecutionData } from 'n8n-workflow';

import type { Prediction } from '../api/predictions';
import type { NodeOptions, OutputLayout } from '../options';
import type { RetryPolicy } from '../transport/retry';
import type { DownloadContext } from './download';
import { downloadPredictionOutputs } from './download';
import { outputFiles } from './files';

const MEGABYTE = 1024 * 1024;

/** Binary property names for several files on one item: `data`, `data_1`, `data_2`, … */
export function binaryPropertyFor(base: string, index: number): string {
	return index === 0 ? base : `${base}_${index}`;
}

/** What a user looks for first; n8n's table view shows keys in the item's order. */
const LEADING_FIELDS = [
	'status',
	'output_url',
	'output_path',
	'output_index',
	'output',
	'error',
	'id',
];

/**
 * The same JSON with status, the image URL(s) and the error first, then the API's fields as they
 * came.
 */
export function inTableOrder(json: IDataObject): IDataObject {
	const ordered: IDataObject = {};
	for (const key of LEADING_FIELDS) if (key in json) ordered[key] = json[key];
	for (const [key, value] of Object.entries(json)) if (!(key in ordered)) ordered[key] = value;
	return ordered;
}

/**
 * Without downloads, or when the output holds no file (text only): one item with the prediction
 * JSON (its `output` holds the URLs and any text). With downloads: one item per file (n8n's own
 * image nodes do this, so the next node handles each file), naming its URL and where it sat in the
 * output, or every file on one item. `binaries` are in `outputFiles`' order.
 */
export function predictionItems(
	prediction: Prediction,
	binaries: IBinaryData[] | undefined,
	layout: OutputLayout,
	binaryProperty: string,
): INodeExecutionData[] {
	const json = inTableOrder(prediction as IDataObject);
	if (!binaries || binaries.length === 0) return [{ json }];
	if (layout === 'allOnOneItem') {
		const binary: Record<string, IBinaryData> = {};
		binaries.forEach((file, index) => (binary[binaryPropertyFor(binaryProperty, index)] = file));
		return [{ json, binary }];
	}
	const files = outputFiles(prediction.output);
	return binaries.map((binary, index) => ({
		json: inTableOrder({
			...json,
			output_index: index,
			output_url: files[index]?.url ?? null,
			output_path: files[index]?.path ?? null,
		}),
		binary: { [binaryProperty]: binary },
	}));
}

/**
 * The items of a prediction as it stands, its images downloaded when it succeeded and Download
 * Outputs says so.
 */
export async function itemsWithOutputs(
	context: DownloadContext,
	prediction: Prediction,
	options: NodeOptions,
	policy: RetryPolicy,
	itemIndex: number,
): Promise<INodeExecutionData[]> {
	const binaries =
		options.downloadOutputs && prediction.status === 'succeeded'
			? await downloadPredictionOutputs(context, prediction, {
					policy,
					maxBytes: options.maxOutputSizeMb * MEGABYTE,
					itemIndex,
				})
			: undefined;
	return predictionItems(prediction, binaries, options.outputLayout, options.binaryPropertyName);
}
