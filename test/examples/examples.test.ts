/**
 * The importable workflows in examples/:
 * 1. every node type and version exists in both n8n lines this package targets (n8n-nodes-base
 *    types from test/examples/nodes-base-catalog.json, see build-nodes-base-catalog.js; this
 *    package's own types from its node classes), every parameter set exists for that node and is
 *    shown with the node's other settings (n8n's own displayParameter), option values are
 *    allowed ones, and credentials are ones the node takes;
 * 2. the inpainting parts run in n8n's engine against the test server.
 */
import {
	mkdirSync,
	mkdtempSync,
	readdirSync,
	readFileSync,
	realpathSync,
	rmSync,
	writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type {
	IDataObject,
	INode,
	INodeParameters,
	INodeProperties,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeHelpers } from 'n8n-workflow';

import { ReplicateInpainting } from '../../nodes/ReplicateInpainting/ReplicateInpainting.node';
import { ReplicateInpaintingTrigger } from '../../nodes/ReplicateInpaintingTrigger/ReplicateInpaintingTrigger.node';
import type { HarnessWorkflow } from '../harness';
import { runWorkflow, startWebhookListener } from '../harness';
import { decodePng, makeSamplePng } from '../../tools/fake-replicate';
import { credentialOptions, serverCredential } from '../support/credentials';
import { useFakeReplicate } from '../support/fakeReplicate';
import { binaryItem, createRequests, eventually } from '../node/support';

const root = path.resolve(__dirname, '..', '..');
const examplesDir = path.join(root, 'examples');
const PACKAGE = 'n8n-nodes-replicate-inpainting';
const EXAMPLE_CREDENTIAL_ID = 'replicate-inpainting-demo';

interface CatalogProperty {
	name: string;
	type: string;
	default?: unknown;
	displayOptions?: INodeProperties['displayOptions'];
	values?: unknown[];
	options?: Array<CatalogProperty | { name: string; values: CatalogProperty[] }>;
	typeOptions?: { multipleValues?: boolean };
}

interface Catalog {
	lines: Array<{
		n8n: string;
		nodesBase: string;
		types: Record<
			string,
			{
				versions: number[];
				descriptions: Array<{
					versions: number[];
					credentials: string[];
					properties: CatalogProperty[];
				}>;
			}
		>;
	}>;
}

const catalog = JSON.parse(
	readFileSync(path.join(__dirname, 'nodes-base-catalog.json'), 'utf8'),
) as Catalog;

interface Example {
	file: string;
	name: string;
	nodes: INode[];
	connections: HarnessWorkflow['connections'];
	settings?: IDataObject;
}

const exampleFiles = readdirSync(examplesDir)
	.filter((file) => file.endsWith('.workflow.json'))
	.sort();
const loadExample = (file: string) =>
	({ file, ...JSON.parse(readFileSync(path.join(examplesDir, file), 'utf8')) }) as Example;

/** A property as the checks need it, from this package's descriptions or the catalog. */
type AnyProperty = INodeProperties | CatalogProperty;

interface Checked {
	versions: number[];
	credentials: string[];
	properties: AnyProperty[];
	description: Pick<INodeTypeDescription, 'name' | 'properties'>;
}

const ownTypes: Record<string, INodeTypeDescription> = Object.fromEntries(
	[new ReplicateInpainting(), new ReplicateInpaintingTrigger()].map((node) => [
		`${PACKAGE}.${node.description.name}`,
		node.description,
	]),
);

function ownDescription(type: string, version: number): Checked | undefined {
	const description = ownTypes[type];
	if (!description) return undefined;
	const versions = Array.isArray(description.version) ? description.version : [description.version];
	if (!versions.includes(version)) return undefined;
	return {
		versions,
		credentials: (description.credentials ?? []).map((credential) => credential.name),
		properties: description.properties,
		description,
	};
}

/**
 * n8n-workflow 2.8 (this project's) knows displayOptions `show` and `hide`; newer n8n adds keys
 * such as `showOnDeployment` (a cloud-only notice), which its parameter resolver would take for
 * parameter names. Only show/hide decide whether a parameter is shown in a self-hosted n8n.
 */
function withShowHideOnly(property: CatalogProperty): CatalogProperty {
	const copy = { ...property };
	if (property.displayOptions) {
		const { show, hide } = property.displayOptions;
		copy.displayOptions = { ...(show ? { show } : {}), ...(hide ? { hide } : {}) };
	}
	return copy;
}

function catalogDescription(
	line: Catalog['lines'][number],
	type: string,
	version: number,
): Checked | undefined {
	const entry = line.types[type]?.descriptions.find((description) =>
		description.versions.includes(version),
	);
	if (!entry) return undefined;
	const properties = entry.properties.map(withShowHideOnly);
	return {
		...entry,
		properties,
		description: { name: type, properties: properties as unknown as INodeProperties[] },
	};
}

const isExpression = (value: unknown) => typeof value === 'string' && value.startsWith('=');

/** Problems with `value` for `property` (nested collections included); [] when it fits. */
function valueProblems(property: AnyProperty, value: unknown, where: string): string[] {
	if (isExpression(value)) return [];
	const allowed =
		'values' in property && Array.isArray(property.values)
			? property.values
			: property.type === 'options' || property.type === 'multiOptions'
				? ((property as INodeProperties).options ?? []).map(
						(option) => (option as { value: unknown }).value,
					)
				: undefined;
	if (property.type === 'options' && allowed && !allowed.includes(value)) {
		return [`${where}: ${JSON.stringify(value)} is not one of ${JSON.stringify(allowed)}`];
	}
	if (property.type === 'multiOptions' && allowed) {
		if (!Array.isArray(value)) return [`${where}: ${JSON.stringify(value)} is not a list`];
		return value
			.filter((entry) => !allowed.includes(entry))
			.map(
				(entry) => `${where}: ${JSON.stringify(entry)} is not one of ${JSON.stringify(allowed)}`,
			);
	}
	if (property.type === 'collection') {
		const nested = (property.options ?? []) as AnyProperty[];
		return Object.entries((value ?? {}) as IDataObject).flatMap(([key, entry]) => {
			const candidates = nested.filter((option) => option.name === key);
			if (candidates.length === 0) return [`${where}.${key}: no such option`];
			return candidates.some(
				(candidate) => valueProblems(candidate, entry, `${where}.${key}`).length === 0,
			)
				? []
				: valueProblems(candidates[0], entry, `${where}.${key}`);
		});
	}
	if (property.type === 'fixedCollection') {
		const groups = (property.options ?? []) as Array<{ name: string; values: AnyProperty[] }>;
		return Object.entries((value ?? {}) as IDataObject).flatMap(([groupName, entries]) => {
			const group = groups.find((candidate) => candidate.name === groupName);
			if (!group) return [`${where}.${groupName}: no such group`];
			const list = Array.isArray(entries) ? entries : [entries];
			return list.flatMap((entry, index) =>
				Object.entries(entry as IDataObject).flatMap(([key, fieldValue]) => {
					const candidates = group.values.filter((field) => field.name === key);
					if (candidates.length === 0)
						return [`${where}.${groupName}[${index}].${key}: no such field`];
					return candidates.some(
						(candidate) => valueProblems(candidate, fieldValue, '').length === 0,
					)
						? []
						: valueProblems(candidates[0], fieldValue, `${where}.${groupName}[${index}].${key}`);
				}),
			);
		});
	}
	return [];
}

/** Every parameter the node sets exists, is shown with its settings, and holds an allowed value. */
function parameterProblems(node: INode, checked: Checked, where: string): string[] {
	const properties = checked.properties as INodeProperties[];
	const description = checked.description as INodeTypeDescription;
	// As n8n evaluates displayOptions: against the parameters with their defaults filled in.
	const withDefaults = (NodeHelpers.getNodeParameters(
		properties,
		node.parameters,
		true,
		false,
		node,
		description,
	) ?? {}) as INodeParameters;
	const problems: string[] = [];
	for (const [key, value] of Object.entries(node.parameters)) {
		const candidates = properties.filter((property) => property.name === key);
		if (candidates.length === 0) {
			problems.push(`${where}: parameter "${key}" does not exist`);
			continue;
		}
		const shown = candidates.filter((property) =>
			NodeHelpers.displayParameter(withDefaults, property, node, description, withDefaults),
		);
		if (shown.length === 0) {
			problems.push(
				`${where}: parameter "${key}" is not shown with these settings (typeVersion ${node.typeVersion})`,
			);
			continue;
		}
		if (!shown.some((property) => valueProblems(property, value, '').length === 0)) {
			problems.push(...valueProblems(shown[0], value, `${where}: ${key}`));
		}
	}
	for (const credentialType of Object.keys(node.credentials ?? {})) {
		if (!checked.credentials.includes(credentialType)) {
			problems.push(
				`${where}: credential type "${credentialType}" is not one the node takes (${checked.credentials.join(', ')})`,
			);
		}
	}
	return problems;
}

describe.each(exampleFiles)('examples/%s', (file) => {
	const example = loadExample(file);

	it('is a workflow n8n can import, explained by a sticky note', () => {
		expect(typeof example.name).toBe('string');
		expect(Array.isArray(example.nodes)).toBe(true);
		const names = example.nodes.map((node) => node.name);
		expect(new Set(names).size).toBe(names.length);
		const notes = example.nodes.filter((node) => node.type === 'n8n-nodes-base.stickyNote');
		expect(notes.length).toBeGreaterThan(0);
		expect(String(notes[0].parameters.content).length).toBeGreaterThan(200);
		for (const [source, outputs] of Object.entries(example.connections)) {
			expect(names).toContain(source);
			for (const connection of Object.values(outputs).flat(2))
				expect(names).toContain(connection?.node);
		}
	});

	it.each(
		catalog.lines.map(
			(line) => [`n8n ${line.n8n} (n8n-nodes-base ${line.nodesBase})`, line] as const,
		),
	)('uses only node types, versions and parameters that exist in %s', (_, line) => {
		const problems: string[] = [];
		for (const node of example.nodes) {
			const where = `${node.name} (${node.type} v${node.typeVersion})`;
			let checked: Checked | undefined;
			if (node.type.startsWith(`${PACKAGE}.`)) {
				checked = ownDescription(node.type, node.typeVersion);
			} else if (node.type.startsWith('n8n-nodes-base.')) {
				checked = catalogDescription(line, node.type, node.typeVersion);
				if (!line.types[node.type])
					problems.push(`${where}: type not in the catalog (run build-nodes-base-catalog.js)`);
			} else {
				problems.push(`${where}: a package this project does not target`);
				continue;
			}
			if (!checked) {
				problems.push(`${where}: no such type version`);
				continue;
			}
			problems.push(...parameterProblems(node, checked, where));
		}
		expect(problems).toEqual([]);
	});
});

describe('the checks themselves', () => {
	const line = catalog.lines[0];

	it('catch a wrong parameter name, a hidden parameter, a wrong option value, a wrong version and a wrong credential', () => {
		const s3 = (
			parameters: INodeParameters,
			typeVersion = 1,
			credentials = { s3: { id: 'x', name: 'x' } },
		): string[] => {
			const node = {
				id: 'n',
				name: 'S3',
				type: 'n8n-nodes-base.s3',
				typeVersion,
				position: [0, 0],
				parameters,
				credentials,
			} as INode;
			const checked = catalogDescription(line, node.type, typeVersion);
			return checked ? parameterProblems(node, checked, 'S3') : ['no such type version'];
		};
		const upload = {
			resource: 'file',
			operation: 'upload',
			bucketName: 'b',
			binaryPropertyName: 'data',
		};
		expect(s3(upload)).toEqual([]);
		expect(s3({ ...upload, bucket: 'b' })).toEqual(['S3: parameter "bucket" does not exist']);
		expect(s3({ ...upload, fileContent: 'text' })).toEqual([
			expect.stringContaining('"fileContent" is not shown'),
		]);
		expect(s3({ ...upload, operation: 'put' })[0]).toContain('"put" is not one of');
		expect(s3({ ...upload, additionalFields: { parentFolder: 'x' } })).toEqual([
			'S3: additionalFields.parentFolder: no such option',
		]);
		expect(s3(upload, 2)).toEqual(['no such type version']);
		expect(s3(upload, 1, { aws: { id: 'x', name: 'x' } } as never)[0]).toContain(
			'credential type "aws"',
		);
	});

	it('follow version-dependent parameters and fields inside fixed collections', () => {
		const form = (parameters: INodeParameters, typeVersion: number): string[] => {
			const node = {
				id: 'f',
				name: 'Form',
				type: 'n8n-nodes-base.formTrigger',
				typeVersion,
				position: [0, 0],
				parameters,
			} as INode;
			return parameterProblems(node, catalogDescription(line, node.type, typeVersion)!, 'Form');
		};
		const fields = { values: [{ fieldLabel: 'Image', fieldType: 'file' }] };
		expect(form({ formTitle: 't', formFields: fields }, 2.3)).toEqual([]);
		expect(
			form({ formTitle: 't', formFields: { values: [{ fieldLable: 'Image' }] } }, 2.3),
		).toEqual(['Form: formFields.values[0].fieldLable: no such field']);
		// "Respond to Webhook" mode and the top-level path only exist up to v2.1.
		expect(form({ formTitle: 't', responseMode: 'responseNode' }, 2.1)).toEqual([]);
		expect(form({ formTitle: 't', responseMode: 'responseNode' }, 2.3)[0]).toContain(
			'"responseNode" is not one of',
		);
		expect(form({ formTitle: 't', path: 'x' }, 2.3)).toEqual([
			expect.stringContaining('"path" is not shown'),
		]);
	});
});

/* ---------------------------------------------------------------------------------------- */

describe('running the examples against the test server', () => {
	const server = useFakeReplicate({ modelTimeMs: 30 });

	const credentials = () => credentialOptions(serverCredential(server), EXAMPLE_CREDENTIAL_ID);

	/** Runs an example from a scratch folder holding `inputs` under out/input/ (its relative paths). */
	async function runFromScratch(
		file: string,
		inputs: Record<string, Buffer>,
		check: (result: Awaited<ReturnType<typeof runWorkflow>>, scratch: string) => void,
	) {
		const scratch = mkdtempSync(path.join(realpathSync(tmpdir()), 'model-example-'));
		const previous = process.cwd();
		try {
			mkdirSync(path.join(scratch, 'out', 'input'), { recursive: true });
			for (const [name, content] of Object.entries(inputs))
				writeFileSync(path.join(scratch, 'out', 'input', name), content);
			process.chdir(scratch);
			const result = await runWorkflow({
				workflow: path.join(examplesDir, file),
				nodeTypes: [ReplicateInpainting],
				...credentials(),
				packageName: PACKAGE,
			});
			expect(result.error?.message).toBeUndefined();
			expect(result.status).toBe('success');
			check(result, scratch);
		} finally {
			process.chdir(previous);
			rmSync(scratch, { recursive: true, force: true });
		}
	}

	it('1. inpaint.workflow.json reads image and mask from disk, inpaints them and writes the result (as it is)', async () => {
		const inputs = {
			'image.png': makeSamplePng(256, 256, 'image'),
			'mask.png': makeSamplePng(256, 256, 'mask'),
		};
		await runFromScratch('inpaint.workflow.json', inputs, (result, scratch) => {
			const [written] = result.items('Write Result');
			const id = String(result.items('Replicate Inpainting')[0].json.id);
			expect(written.json.fileName).toBe(`out/${id}-0.png`);
			const png = decodePng(readFileSync(path.join(scratch, 'out', `${id}-0.png`)));
			expect([png.width, png.height]).toEqual([512, 512]);
			expect((createRequests(server)[0].json as { input: IDataObject }).input).toMatchObject({
				prompt: 'Face of a yellow cat, high resolution, sitting on a park bench',
				num_inference_steps: 25,
				seed: 42,
			});
		});
	});

	it.each([
		['mask-flux-fill-pro.workflow.json', 'black-forest-labs/flux-fill-pro', ['image', 'mask']],
		[
			'instruction-flux-kontext-pro.workflow.json',
			'black-forest-labs/flux-kontext-pro',
			['input_image'],
		],
		['several-images-nano-banana.workflow.json', 'google/nano-banana', ['image_input']],
	])(
		'4. %s runs %s with its files from disk and writes the image',
		async (file, model, fileFields) => {
			const photo = makeSamplePng(96, 64, 'image');
			await runFromScratch(
				file,
				{ 'image.png': photo, 'mask.png': makeSamplePng(96, 64, 'mask'), 'style.png': photo },
				(result, scratch) => {
					const body = createRequests(server)[0].json as { version: string; input: IDataObject };
					expect(body.version).toBe(model);
					const sentFiles = fileFields.flatMap((field) => [body.input[field]].flat());
					expect(sentFiles.length).toBeGreaterThan(0);
					for (const uri of sentFiles) expect(String(uri)).toMatch(/^data:image\/png;base64,/);
					const [written] = result.items('Write Result');
					const png = decodePng(readFileSync(path.join(scratch, String(written.json.fileName))));
					expect(png.width).toBeGreaterThan(0);
					expect(result.items('Replicate Inpainting')[0].json.model).toBe(model);
				},
			);
		},
	);

	it("2. inpaint-form.workflow.json: a form submission (pinned, as n8n's Form Trigger emits it) is inpainted and the image returned", async () => {
		const image = makeSamplePng(128, 128, 'image');
		const mask = makeSamplePng(128, 128, 'mask');
		const submission = binaryItem(
			{
				Image: { content: image, fileName: 'photo.png', mimeType: 'image/png' },
				Mask: { content: mask, fileName: 'mask.png', mimeType: 'image/png' },
			},
			{
				Image: { filename: 'photo.png', mimetype: 'image/png', size: image.length },
				Mask: { filename: 'mask.png', mimetype: 'image/png', size: mask.length },
				Prompt: 'a red armchair',
				submittedAt: new Date().toISOString(),
				formMode: 'test',
			},
		);
		const result = await runWorkflow({
			workflow: path.join(examplesDir, 'inpaint-form.workflow.json'),
			nodeTypes: [ReplicateInpainting],
			...credentials(),
			inputItems: [submission],
		});
		expect(result.error?.message).toBeUndefined();
		expect(result.status).toBe('success');
		const input = (createRequests(server)[0].json as { input: IDataObject }).input;
		expect(input.prompt).toBe('a red armchair');
		expect(input.image).toBe(`data:image/png;base64,${image.toString('base64')}`);
		expect(input.mask).toBe(`data:image/png;base64,${mask.toString('base64')}`);
		// What the Form Ending page returns to the browser: binary "data" of the first item.
		const [shown] = result.items('Show the result');
		const png = decodePng(await result.binaryBuffer(shown, 'data'));
		expect([png.width, png.height]).toEqual([512, 512]);
	});

	it("3. webhook-create → webhook-receive-s3: Create Only posts to the trigger's URL, the trigger emits the images for S3", async () => {
		const receiving = loadExample('webhook-receive-s3.workflow.json');
		const trigger = receiving.nodes.find(
			(node) => node.type === `${PACKAGE}.replicateInpaintingTrigger`,
		)!;
		const listener = await startWebhookListener({
			nodeType: ReplicateInpaintingTrigger,
			...credentials(),
			nodeCredentials: trigger.credentials,
			parameters: trigger.parameters,
			nodeName: trigger.name,
			webhookId: trigger.webhookId,
		});
		try {
			const starting = loadExample('webhook-create.workflow.json') as unknown as HarnessWorkflow & {
				nodes: INode[];
			};
			const create = starting.nodes.find((node) => node.name === 'Start inpainting')!;
			// The example's placeholder host becomes the listener; the path is the trigger's own.
			const webhookUrl = String(create.parameters.webhookUrl);
			expect(new URL(webhookUrl).pathname).toBe(new URL(listener.url).pathname);
			create.parameters.webhookUrl = webhookUrl.replace(
				new URL(webhookUrl).origin,
				new URL(listener.url).origin,
			);
			// The example's photo URLs are on the internet; the test server serves its own.
			const photos = starting.nodes.find((node) => node.name === 'Photos to inpaint')!;
			for (const assignment of (photos.parameters.assignments as { assignments: IDataObject[] })
				.assignments) {
				if (assignment.name === 'imageUrl') assignment.value = server.sampleImageUrl;
				if (assignment.name === 'maskUrl') assignment.value = server.sampleMaskUrl;
			}

			const result = await runWorkflow({
				workflow: starting,
				nodeTypes: [ReplicateInpainting],
				...credentials(),
			});
			expect(result.error?.message).toBeUndefined();
			const [created] = result.items('Start inpainting');
			expect(created.json.status).toBe('starting');
			expect(createRequests(server)[0].json).toMatchObject({
				webhook: create.parameters.webhookUrl,
				webhook_events_filter: ['completed'],
			});

			const [delivery] = await listener.waitFor(1);
			expect(delivery).toMatchObject({ status: 200, started: true });
			expect(delivery.items).toHaveLength(1);
			const [item] = delivery.items;
			expect(item.json).toMatchObject({ id: created.json.id, status: 'succeeded' });
			// What "Upload to S3" uploads: binary "data", named by the node's {{ $binary.data.fileName }}.
			expect(item.binary!.data.fileName).toBe(`${created.json.id}-0.png`);
			const png = decodePng(Buffer.from(item.binary!.data.data, 'base64'));
			expect([png.width, png.height]).toEqual([512, 512]);
			await eventually(() => server.webhookDeliveries.every((entry) => entry.status !== null));
			expect(server.webhookDeliveries.map((entry) => entry.status)).toEqual([200]);
		} finally {
			await listener.close();
		}
	});
});
