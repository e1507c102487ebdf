/**
 * STAND-IN for n8n-nodes-base.merge v3 (see standin-nodes.ts for why stand-ins exist). Only
 * mode "combine" by position is supported: item i of every input becomes one item whose JSON and
 * binary properties are merged, later inputs winning on clashes, as the real node does with
 * lodash merge. n8n's default clash handling renames JSON keys with a suffix; binary keys are not
 * renamed there either, which is what examples rely on (image and mask under different names).
 */
import type {
	IBinaryData,
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
	IPairedItemData,
} from 'n8n-workflow';
import { NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';

export class Merge implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Merge',
		name: 'merge',
		group: ['transform'],
		version: [3, 3.1, 3.2],
		description: 'Stand-in: combines items of two inputs by position',
		defaults: { name: 'Merge' },
		inputs: [NodeConnectionTypes.Main, NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		requiredInputs: 1,
		properties: [
			{
				displayName: 'Mode',
				name: 'mode',
				type: 'options',
				default: 'append',
				options: [
					{ name: 'Append', value: 'append' },
					{ name: 'Combine', value: 'combine' },
				],
			},
			{
				displayName: 'Combine By',
				name: 'combineBy',
				type: 'options',
				default: 'combineByFields',
				options: [
					{ name: 'Matching Fields', value: 'combineByFields' },
					{ name: 'Position', value: 'combineByPosition' },
				],
				displayOptions: { show: { mode: ['combine'] } },
			},
			{ displayName: 'Options', name: 'options', type: 'collection', default: {}, options: [] },
		],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const mode = this.getNodeParameter('mode', 0) as string;
		const combineBy = this.getNodeParameter('combineBy', 0, '') as string;
		if (mode !== 'combine' || combineBy !== 'combineByPosition') {
			throw new NodeOperationError(
				this.getNode(),
				`Stand-in Merge supports only combine by position, not ${mode}/${combineBy}`,
			);
		}
		const inputs = [this.getInputData(0), this.getInputData(1)];
		const count = Math.min(...inputs.map((input) => input.length));
		const merged: INodeExecutionData[] = [];
		for (let index = 0; index < count; index++) {
			const entries = inputs.map((input) => input[index]);
			const json: IDataObject = {};
			const binary: Record<string, IBinaryData> = {};
			entries.forEach((entry, inputIndex) => {
				for (const [key, value] of Object.entries(entry.json))
					json[`${key}_${inputIndex + 1}`] = value;
				Object.assign(binary, entry.binary ?? {});
			});
			const pairedItem = entries
				.map((entry) => entry.pairedItem as IPairedItemData | undefined)
				.filter((item): item is IPairedItemData => item !== undefined);
			merged.push({ json, binary, pairedItem });
		}
		return [merged];
	}
}
