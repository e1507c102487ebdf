/**
 * A `usableAsTool` node, run the way n8n's AI Agent runs it.
 *
 * 1. `toolVariant(NodeClass)` builds the node type n8n derives for the agent, following n8n's
 *    `convertNodeToAiTool` (n8n 2.40.7 packages/cli/src/tool-generation/ai-tools.ts, the same
 *    logic as LoadNodesAndCredentials.convertNodeToAiTool in 1.123.81): type name + 'Tool',
 *    display name + ' Tool', no inputs, one `ai_tool` output, `usableAsTool` removed, and a
 *    "Description" parameter (`toolDescription`, plus `descriptionType` auto/manual when the node
 *    has a resource or operation) inserted after the last callout. As n8n's NodeTypes does
 *    (getByNameAndVersion for a synthetic tool type), the variant is an `Object.create` over the
 *    node, so `execute` is the node's own.
 * 2. `HarnessAgent` stands in for the AI Agent (the model is the test): it asks n8n-core for its
 *    tools with `getInputConnectionData('ai_tool')`, which is where n8n-core wraps a node without
 *    `supplyData` (createNodeAsTool: a langchain DynamicStructuredTool whose schema comes from the
 *    node's `$fromAI()` calls; makeHandleToolInvocation: runs the node's execute in a
 *    SupplyDataContext with the model's arguments as its `ai_tool` input, and answers the model
 *    with JSON.stringify of the output items' json, binary dropped). It then calls each tool with
 *    the arguments a model would send, through the tool's `invoke` (schema validation included),
 *    and outputs the tool's definition and answer.
 */
import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeConnectionTypes, NodeOperationError, deepCopy } from 'n8n-workflow';

import type { NodeTypeClass } from './node-types';

function findLastCalloutIndex(properties: INodeProperties[]): number {
	for (let i = properties.length - 1; i >= 0; i--) {
		if (properties[i].type === 'callout') return i;
	}
	return -1;
}

/** n8n's convertNodeToAiTool, applied to a copy of the description. */
export function convertDescriptionToAiTool(source: INodeTypeDescription): INodeTypeDescription {
	const base =
		typeof source.usableAsTool === 'object'
			? { ...deepCopy(source), ...source.usableAsTool.replacements }
			: deepCopy(source);
	const description = base as INodeTypeDescription;
	description.name += 'Tool';
	description.inputs = [];
	description.outputs = [NodeConnectionTypes.AiTool];
	description.displayName += ' Tool';
	delete description.usableAsTool;
	const hasResource = description.properties.some((prop) => prop.name === 'resource');
	const hasOperation = description.properties.some((prop) => prop.name === 'operation');
	if (!description.properties.map((prop) => prop.name).includes('toolDescription')) {
		const descriptionType: INodeProperties = {
			displayName: 'Tool Description',
			name: 'descriptionType',
			type: 'options',
			noDataExpression: true,
			options: [
				{
					name: 'Set Automatically',
					value: 'auto',
					description: 'Automatically set based on resource and operation',
				},
				{ name: 'Set Manually', value: 'manual', description: 'Manually set the description' },
			],
			default: 'auto',
		};
		const descProp: INodeProperties = {
			displayName: 'Description',
			name: 'toolDescription',
			type: 'string',
			default: description.description,
			required: true,
			typeOptions: { rows: 2 },
			description:
				'Explain to the LLM what this tool does, a good, specific description would allow LLMs to produce expected results much more often',
		};
		const lastCallout = findLastCalloutIndex(description.properties);
		description.properties.splice(lastCallout + 1, 0, descProp);
		if (hasResource || hasOperation) {
			description.properties.splice(lastCallout + 1, 0, descriptionType);
			descProp.displayOptions = { show: { descriptionType: ['manual'] } };
		}
	}
	const resources = description.codex?.resources ?? {};
	const alias = description.codex?.alias;
	description.codex = {
		categories: ['AI'],
		subcategories: {
			AI: ['Tools'],
			Tools: description.codex?.subcategories?.Tools ?? ['Other Tools'],
		},
		resources,
		...(alias ? { alias } : {}),
	};
	return description;
}

/** The "…Tool" node type n8n derives from a `usableAsTool` node class. */
export function toolVariant(NodeClass: new () => INodeType): NodeTypeClass {
	return class {
		constructor() {
			const node = new NodeClass();
			if (!node.description.usableAsTool) {
				throw new Error(`${node.description.name} is not usableAsTool: n8n offers no tool variant`);
			}
			return Object.create(node, {
				description: { value: convertDescriptionToAiTool(node.description) },
			}) as INodeType;
		}
	} as unknown as NodeTypeClass;
}

/** What the agent stand-in reports per tool call. */
export interface ToolCallResult {
	tool: string;
	/** The tool's description as the model sees it. */
	description: string;
	/** The tool's parameters as the model sees them: name → { type, description }. */
	parameters: Record<string, { type: string; description?: string }>;
	/** The string n8n hands back to the model. */
	answer?: string;
	/** The tool failed: the message the model gets as the error. */
	error?: string;
}

interface StructuredToolLike {
	name: string;
	description: string;
	schema: { shape?: Record<string, { description?: string; _def?: { typeName?: string } }> };
	invoke(args: IDataObject): Promise<unknown>;
}

/**
 * Stand-in for an AI Agent node: calls its connected tools with the arguments in `toolCalls`
 * (a JSON array of `{ "tool"?: name, "arguments": {…} }`), as a model would.
 */
export class HarnessAgent implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Harness Agent',
		name: 'harnessAgent',
		group: ['transform'],
		version: 1,
		description: 'Calls its tools with given arguments, like a model would',
		defaults: { name: 'Agent' },
		inputs: [
			NodeConnectionTypes.Main,
			{ type: NodeConnectionTypes.AiTool, displayName: 'Tool', required: true },
		],
		outputs: [NodeConnectionTypes.Main],
		properties: [{ displayName: 'Tool Calls', name: 'toolCalls', type: 'json', default: '[]' }],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const connected = await this.getInputConnectionData(NodeConnectionTypes.AiTool, 0);
		const tools = (Array.isArray(connected) ? connected : [connected]) as StructuredToolLike[];
		const raw = this.getNodeParameter('toolCalls', 0) as string | IDataObject[];
		const calls = (typeof raw === 'string' ? JSON.parse(raw) : raw) as Array<{
			tool?: string;
			arguments: IDataObject;
		}>;
		const output: INodeExecutionData[] = [];
		for (const call of calls) {
			const tool =
				call.tool === undefined
					? tools[0]
					: tools.find((candidate) => candidate.name === call.tool);
			if (!tool) throw new NodeOperationError(this.getNode(), `No tool named ${call.tool}`);
			const parameters = Object.fromEntries(
				Object.entries(tool.schema.shape ?? {}).map(([name, field]) => [
					name,
					{ type: field._def?.typeName ?? 'unknown', description: field.description },
				]),
			);
			const result: ToolCallResult = { tool: tool.name, description: tool.description, parameters };
			try {
				result.answer = String(await tool.invoke(call.arguments));
			} catch (error) {
				result.error = (error as Error).message;
			}
			output.push({ json: result as unknown as IDataObject, pairedItem: { item: 0 } });
		}
		return [output];
	}
}
