/**
 * The node as an AI Agent tool: n8n's tool variant of its description, called through n8n-core's
 * own tool wrapper (test/harness/tool.ts) with arguments as a model sends them.
 */
import type { IExecuteFunctions, INodeParameters, INodeProperties } from 'n8n-workflow';

import { runsAsTool } from '../../nodes/ReplicateInpainting/actions/router';
import { ReplicateInpainting } from '../../nodes/ReplicateInpainting/ReplicateInpainting.node';
import type { HarnessWorkflow } from '../harness';
import { runWorkflow } from '../harness';
import type { ToolCallResult } from '../harness/tool';
import { convertDescriptionToAiTool, HarnessAgent, toolVariant } from '../harness/tool';
import { credentialOptions, serverCredential } from '../support/credentials';
import { useFakeReplicate } from '../support/fakeReplicate';
import { FILL_PRO, modelParameters } from '../support/models';
import { createRequests, CREDENTIAL_ID, startNode } from './support';

const TOOL_TYPE = 'n8n-nodes-replicate-inpainting.replicateInpaintingTool';

/** The $fromAI() calls this package's README recommends for the three fields a model fills. */
export const FROM_AI = {
	prompt:
		"={{ $fromAI('prompt', 'What to paint into the white area of the mask: a short visual description of subject, style and lighting, e.g. a red leather armchair, studio lighting, photorealistic', 'string') }}",
	imageUrl: "={{ $fromAI('imageUrl', 'Public http(s) URL of the photo to edit', 'string') }}",
	maskUrl:
		"={{ $fromAI('maskUrl', 'Public http(s) URL of a black-and-white mask of the same photo: white pixels are repainted, black pixels are kept', 'string') }}",
};

const server = useFakeReplicate({ modelTimeMs: 30 });

function agentWorkflow(toolParameters: INodeParameters, calls: unknown[]): HarnessWorkflow {
	return {
		name: 'Agent with the inpainting tool',
		nodes: [
			startNode(),
			{
				id: 'agent',
				name: 'Agent',
				type: 'n8n-nodes-replicate-inpainting.harnessAgent',
				typeVersion: 1,
				position: [200, 0],
				parameters: { toolCalls: JSON.stringify(calls) },
			},
			{
				id: 'tool',
				name: 'Inpaint image',
				type: TOOL_TYPE,
				typeVersion: 1,
				position: [200, 200],
				parameters: toolParameters,
				credentials: { replicateInpaintingApi: { id: CREDENTIAL_ID, name: 'Replicate test' } },
			},
		],
		connections: {
			Start: { main: [[{ node: 'Agent', type: 'main', index: 0 }]] },
			'Inpaint image': { ai_tool: [[{ node: 'Agent', type: 'ai_tool', index: 0 }]] },
		},
	};
}

async function callTool(toolParameters: INodeParameters, calls: unknown[]) {
	const result = await runWorkflow({
		workflow: agentWorkflow(toolParameters, calls),
		nodeTypes: [ReplicateInpainting, toolVariant(ReplicateInpainting), HarnessAgent],
		...credentialOptions(serverCredential(server)),
	});
	expect(result.nodeError('Agent')).toBeUndefined();
	return {
		result,
		calls: result.items('Agent').map((item) => item.json as unknown as ToolCallResult),
	};
}

describe('the tool variant n8n derives', () => {
	const tool = convertDescriptionToAiTool(new ReplicateInpainting().description);

	it('is a replicateInpaintingTool with an ai_tool output and a Description parameter', () => {
		expect(tool.name).toBe('replicateInpaintingTool');
		expect(tool.displayName).toBe('Replicate Inpainting Tool');
		expect(tool.inputs).toEqual([]);
		expect(tool.outputs).toEqual(['ai_tool']);
		expect(tool.properties.slice(0, 2).map((property) => property.name)).toEqual([
			'descriptionType',
			'toolDescription',
		]);
		expect(tool.codex).toMatchObject({
			categories: ['AI'],
			subcategories: { AI: ['Tools'], Tools: ['Other Tools'] },
		});
	});

	it('explains the fields a model fills in words written for a model', () => {
		const field = (name: string) =>
			tool.properties.find(
				(property: INodeProperties) =>
					property.name === name &&
					property.displayOptions?.show?.operation?.includes('createAndWait'),
			)?.description ?? '';
		expect(field('prompt')).toMatch(/masked area.*short visual description.*e\.g\./);
		expect(field('imageUrl')).toMatch(/http\(s\) URL/);
		expect(field('maskUrl')).toMatch(
			/http\(s\) URL.*white pixels are repainted, black pixels are kept/,
		);
	});
});

describe('called by an agent', () => {
	it("creates the prediction from the model's arguments and answers with the prediction JSON and output URLs, no binary", async () => {
		const { calls, result } = await callTool(FROM_AI, [
			{
				arguments: {
					prompt: 'a red armchair',
					imageUrl: server.sampleImageUrl,
					maskUrl: server.sampleMaskUrl,
				},
			},
		]);
		expect(calls).toHaveLength(1);
		const [call] = calls;
		// What the model is offered.
		expect(call.tool).toBe('Inpaint_image');
		// Description "Set Automatically": with no resource, n8n falls back to the node's description.
		expect(call.description).toBe(new ReplicateInpainting().description.description);
		expect(Object.keys(call.parameters).sort()).toEqual(['imageUrl', 'maskUrl', 'prompt']);
		expect(call.parameters.maskUrl.description).toContain('white pixels are repainted');
		// What it gets back: n8n's JSON.stringify of the items' json.
		expect(call.error).toBeUndefined();
		const answer = JSON.parse(call.answer!) as Array<Record<string, unknown>>;
		expect(answer).toHaveLength(1);
		expect(answer[0]).toMatchObject({
			status: 'succeeded',
			id: expect.stringMatching(/^[a-z0-9]+$/),
		});
		expect(answer[0].output).toEqual([
			expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/.+out-0\.png$/),
		]);
		// The model's arguments reached Replicate as the input.
		const input = (createRequests(server)[0].json as { input: Record<string, unknown> }).input;
		expect(input).toMatchObject({
			prompt: 'a red armchair',
			image: server.sampleImageUrl,
			mask: server.sampleMaskUrl,
		});
		// No download: a model cannot receive binary data (n8n would drop it with a warning).
		expect(
			server.requests.filter(
				(request) => request.origin === 'output' && /out-\d+\.png$/.test(request.path),
			),
		).toHaveLength(0);
		expect(result.logs.join('\n')).not.toContain('included binary data');
	});

	it('polls even with Wait Mode Webhook: an agent cannot wait for a callback', async () => {
		const { calls } = await callTool({ ...FROM_AI, waitMode: 'webhook' }, [
			{
				arguments: {
					prompt: 'a red armchair',
					imageUrl: server.sampleImageUrl,
					maskUrl: server.sampleMaskUrl,
				},
			},
		]);
		expect(JSON.parse(calls[0].answer!)).toMatchObject([{ status: 'succeeded' }]);
		const [create] = createRequests(server);
		expect((create.json as { webhook?: string }).webhook).toBeUndefined();
		expect(create.headers.prefer).toMatch(/^wait=/);
	});

	it('works with the $fromAI() the editor\'s "let the model define this" button writes, and a manual tool description', async () => {
		const byEditor = (displayName: string) =>
			`={{ /*n8n-auto-generated-fromAI-override*/ $fromAI('${displayName.replace(/[^a-zA-Z0-9-]/g, '_')}', \`\`, 'string') }}`;
		const description =
			'Inpaints a photo: give a public image URL, a black-and-white mask URL of the same size (white = repaint) and a prompt describing what to paint; returns the prediction with the URLs of the new images.';
		const { calls } = await callTool(
			{
				descriptionType: 'manual',
				toolDescription: description,
				prompt: byEditor('Prompt'),
				imageUrl: byEditor('Image URL'),
				maskUrl: byEditor('Mask URL'),
			},
			[
				{
					arguments: {
						Prompt: 'a lamp',
						Image_URL: server.sampleImageUrl,
						Mask_URL: server.sampleMaskUrl,
					},
				},
			],
		);
		expect(calls[0].description).toBe(description);
		expect(Object.keys(calls[0].parameters).sort()).toEqual(['Image_URL', 'Mask_URL', 'Prompt']);
		expect(JSON.parse(calls[0].answer!)[0]).toMatchObject({
			status: 'succeeded',
			input: { prompt: 'a lamp' },
		});
	});

	it("runs any model: the agent fills the mapped inputs written as $fromAI(), the model and the mapping are the workflow's", async () => {
		const { calls } = await callTool(
			modelParameters(FILL_PRO, {
				prompt: FROM_AI.prompt,
				image: FROM_AI.imageUrl,
				mask: FROM_AI.maskUrl,
				output_format: 'png',
			}),
			[
				{
					arguments: {
						prompt: 'a lamp',
						imageUrl: server.sampleImageUrl,
						maskUrl: server.sampleMaskUrl,
					},
				},
			],
		);
		expect(Object.keys(calls[0].parameters).sort()).toEqual(['imageUrl', 'maskUrl', 'prompt']);
		expect(JSON.parse(calls[0].answer!)[0]).toMatchObject({
			status: 'succeeded',
			model: FILL_PRO,
			input: { prompt: 'a lamp', output_format: 'png' },
		});
		expect((createRequests(server)[0].json as { version: string }).version).toBe(FILL_PRO);
	});

	it('answers several outputs as one prediction with all URLs', async () => {
		const { calls } = await callTool({ ...FROM_AI, options: { numOutputs: 2 } }, [
			{
				arguments: {
					prompt: 'a vase',
					imageUrl: server.sampleImageUrl,
					maskUrl: server.sampleMaskUrl,
				},
			},
		]);
		const answer = JSON.parse(calls[0].answer!) as Array<{ output: string[] }>;
		expect(answer).toHaveLength(1);
		expect(answer[0].output).toHaveLength(2);
	});

	it("hands the model the node's error when its arguments are invalid, before anything is paid for", async () => {
		const { calls } = await callTool(FROM_AI, [
			{ arguments: { prompt: 'a vase', imageUrl: 'photo.png', maskUrl: server.sampleMaskUrl } },
		]);
		expect(calls[0].answer).toBeUndefined();
		expect(calls[0].error).toMatch(/Invalid input \(item 0\): .*Image/);
		expect(createRequests(server)).toHaveLength(0);
	});
});

describe('runsAsTool', () => {
	const context = (type: string, isToolExecution?: () => boolean) =>
		({
			getNode: () => ({ type }),
			...(isToolExecution ? { isToolExecution } : {}),
		}) as unknown as IExecuteFunctions;

	it('knows the tool variant by its type (n8n 1.x has no isToolExecution) or by isToolExecution', () => {
		expect(runsAsTool(context(TOOL_TYPE))).toBe(true);
		expect(runsAsTool(context('n8n-nodes-replicate-inpainting.replicateInpainting'))).toBe(false);
		expect(
			runsAsTool(context('n8n-nodes-replicate-inpainting.replicateInpainting', () => true)),
		).toBe(true);
		expect(
			runsAsTool(context('n8n-nodes-replicate-inpainting.replicateInpainting', () => false)),
		).toBe(false);
	});
});
