'use strict';
/**
 * Any model in the editor (issue 20): the Model picker finds black-forest-labs/flux-fill-pro, its
 * own inputs appear as typed fields under Model Inputs (n8n's resource mapper), and Execute step
 * runs it on a photo and a mask of the incoming item and shows the image.
 *
 * The expected fields come from the test server's copy of the model's schema (GET /models/…), so
 * the form is held to the schema a user's model really has, not to a list kept here.
 */
const { closeNdv, dismissToasts, parameterNames } = require('./panel');

const MODEL = 'black-forest-labs/flux-fill-pro';
const SEARCH = 'flux fill';
const CREDENTIAL_TYPE = 'replicateInpaintingApi';
const PROMPT = 'a red leather armchair, studio lighting';
// The issue's three kinds, by fields flux-fill-pro has: the test fails if the schema loses them.
const TYPED_EXAMPLES = { output_format: 'enum', steps: 'number', prompt_upsampling: 'boolean' };
// How n8n draws each field type (2.x and 1.x markup alike).
const NUMBER_INPUT = '[data-test-id=input-number], .el-input-number';
const SWITCH = '.el-switch, [role=switch]';

/** The model's Input schema from the test server, as Replicate's API serves it. */
async function modelInputSchema(server) {
	const response = await fetch(`${server.apiUrl}/models/${MODEL}`, {
		headers: { authorization: `Bearer ${server.token}` },
	});
	if (!response.ok) throw new Error(`GET /models/${MODEL}: HTTP ${response.status}`);
	const model = await response.json();
	return model.latest_version.openapi_schema.components.schemas;
}

/** Each input's kind as a form shows it: enum (with its values), number, boolean, or text. */
function fieldKinds(schemas) {
	const input = schemas.Input;
	return Object.entries(input.properties)
		.sort(([, a], [, b]) => (a['x-order'] ?? 0) - (b['x-order'] ?? 0))
		.map(([id, property]) => {
			const ref = property.allOf?.[0]?.$ref;
			const choices = property.enum ?? (ref ? schemas[ref.split('/').pop()].enum : undefined);
			if (choices) return { id, kind: 'enum', values: choices.map(String) };
			if (property.type === 'integer' || property.type === 'number') return { id, kind: 'number' };
			if (property.type === 'boolean') return { id, kind: 'boolean' };
			return { id, kind: 'text' };
		});
}

/** n8n's REST API from inside the signed-in page (its cookie and browser id). */
async function rest(page, method, path, body) {
	return await page.evaluate(
		async ({ method, path, body }) => {
			const response = await fetch(`/rest${path}`, {
				method,
				headers: {
					'content-type': 'application/json',
					'browser-id': localStorage.getItem('n8n-browserId') ?? '',
				},
				body: body === undefined ? undefined : JSON.stringify(body),
			});
			const text = await response.text();
			if (!response.ok) throw new Error(`${method} /rest${path}: HTTP ${response.status} ${text}`);
			return JSON.parse(text).data;
		},
		{ method, path, body },
	);
}

/** The package's credential (the 2.x run made one in the modal; 1.x gets one here). */
async function credentialFor(t) {
	const existing = (await rest(t.page, 'GET', '/credentials')).find(
		(credential) => credential.type === CREDENTIAL_TYPE,
	);
	if (existing) return { id: existing.id, name: existing.name };
	const made = await rest(t.page, 'POST', '/credentials', {
		name: 'Replicate (test server)',
		type: CREDENTIAL_TYPE,
		data: { apiToken: t.server.token, baseUrl: t.server.apiUrl },
	});
	return { id: made.id, name: made.name };
}

/** An HTTP Request node that downloads a file into a binary field, keeping the item's others. */
function download(name, url, field, x) {
	return {
		id: `ui-${field}`,
		name,
		type: 'n8n-nodes-base.httpRequest',
		typeVersion: 4.2,
		position: [x, 0],
		parameters: {
			url,
			options: { response: { response: { responseFormat: 'file', outputPropertyName: field } } },
		},
	};
}

/**
 * Manual Trigger → Photo → Mask → Replicate Inpainting (Create and Wait, every parameter at its
 * default): the incoming item carries the photo in `data` and the mask in `mask`.
 */
async function workflowWithPhotoAndMask(t) {
	const credential = await credentialFor(t);
	const nodes = [
		{
			id: 'ui-trigger',
			name: 'When clicking ‘Execute workflow’',
			type: 'n8n-nodes-base.manualTrigger',
			typeVersion: 1,
			position: [0, 0],
			parameters: {},
		},
		download('Photo', t.server.sampleImageUrl, 'data', 220),
		download('Mask', t.server.sampleMaskUrl, 'mask', 440),
		{
			id: 'ui-model',
			name: t.NODE_NAME,
			type: `${t.PACKAGE}.replicateInpainting`,
			typeVersion: 1,
			position: [660, 0],
			parameters: { operation: 'createAndWait' },
			credentials: { [CREDENTIAL_TYPE]: credential },
		},
	];
	const chain = (to) => ({ main: [[{ node: to, type: 'main', index: 0 }]] });
	const workflow = await rest(t.page, 'POST', '/workflows', {
		name: 'Any model: flux-fill-pro',
		active: false,
		nodes,
		connections: {
			[nodes[0].name]: chain('Photo'),
			Photo: chain('Mask'),
			Mask: chain(t.NODE_NAME),
		},
		settings: { executionOrder: 'v1' },
	});
	return workflow.id;
}

/** The search box of an open resource locator dropdown (n8n puts the test id on its wrapper). */
function pickerSearch(page) {
	return page.locator('[data-test-id=rlc-search] input, input[data-test-id=rlc-search]').first();
}

/** The entries an open resource locator dropdown lists, as one line each. */
async function pickerEntries(page) {
	const texts = await page.getByTestId('rlc-item').allInnerTexts();
	return texts.map((text) => text.replace(/\s+/g, ' ').trim());
}

/** A field of the Model Inputs form; one the form lists under "Add field" is added first. */
async function mapperField(page, id) {
	const fields = page.getByTestId('mapping-fields-container');
	const field = fields.getByTestId(`parameter-input-${id}`);
	if ((await field.count()) === 0 && (await fields.getByTestId('add-fields-select').count()) > 0) {
		await fields.getByTestId('add-fields-select').getByRole('button').first().click();
		await page
			.getByRole('menuitem', { name: new RegExp(id) })
			.first()
			.click();
	}
	await field.first().waitFor();
	return field.first();
}

/** What the form draws for a field: its dropdown's entries, or the kind of input it is. */
async function shownKind(page, field) {
	if ((await field.locator(SWITCH).count()) > 0) return { kind: 'boolean' };
	if ((await field.locator(NUMBER_INPUT).count()) > 0) return { kind: 'number' };
	if ((await field.locator('.el-select').count()) > 0) {
		await field.click();
		const entries = page.locator('.el-select-dropdown__item:visible');
		await entries.first().waitFor({ timeout: 10_000 });
		const values = (await entries.allInnerTexts()).map((text) => text.trim());
		await page.keyboard.press('Escape');
		return { kind: 'enum', values };
	}
	return { kind: 'text' };
}

/** Types a value into a text field of the form. */
async function fillText(page, id, value) {
	const field = await mapperField(page, id);
	await field.locator('input, textarea').first().fill(value);
	await page.keyboard.press('Tab');
}

exports.run = async function run(t) {
	const { page, check, expect, server } = t;
	const schemas = await modelInputSchema(server).catch((error) => error);
	const picked = await check(
		page,
		`Model picker (From List): searching "${SEARCH}" lists ${MODEL}, and picking it sets the model`,
		async () => {
			if (schemas instanceof Error) throw schemas;
			const workflowId = await workflowWithPhotoAndMask(t);
			await page.goto(`${t.N8N}/workflow/${workflowId}`);
			await page.getByTestId('canvas-node').filter({ hasText: t.NODE_NAME }).first().dblclick();
			await page.getByTestId('ndv').waitFor();
			const picker = page.getByTestId('resource-locator-model');
			await picker.waitFor({ timeout: 10_000 });
			const mode = await picker.getByTestId('rlc-mode-selector').locator('input').inputValue();
			expect(/list/i.test(mode), `the picker starts in mode "${mode}", not From List`);
			await picker.getByTestId('rlc-input').click();
			const items = page.getByTestId('rlc-item');
			await items.first().waitFor();
			const unfiltered = await pickerEntries(page);
			await pickerSearch(page).fill(SEARCH);
			// The search's answer replaces the first list: 1.x keeps showing that a while, and both
			// empty it while the search runs.
			await page
				.waitForFunction((before) => {
					const now = [...document.querySelectorAll('[data-test-id=rlc-item]')];
					const lines = now.map((item) => item.innerText.replace(/\s+/g, ' ').trim());
					return lines.length > 0 && lines.join('\n') !== before;
				}, unfiltered.join('\n'))
				.catch(() => {});
			const listed = await pickerEntries(page);
			expect(
				listed.join('\n') !== unfiltered.join('\n'),
				`the search changed nothing: ${listed.join(' | ')}`,
			);
			const entry = items.filter({ hasText: 'flux-fill-pro' });
			expect((await entry.count()) > 0, `the search lists no flux-fill-pro: ${listed.join(' | ')}`);
			await entry.first().click();
			const chosen = await picker.getByTestId('rlc-input').inputValue();
			expect(chosen.includes('flux-fill-pro'), `the picker shows "${chosen}"`);
			return `${unfiltered.length} listed, ${listed.length} found: ${listed.join(' | ')}; chosen "${chosen}"`;
		},
	);
	// The form and the run need the picked model: without it they could only time out.
	if (!picked) return;
	await check(
		page,
		`Model Inputs shows ${MODEL}'s fields in the schema's order with their types: a dropdown for an enum, a number, a switch`,
		async () => {
			const expected = fieldKinds(schemas);
			const fields = page.getByTestId('mapping-fields-container');
			await fields.waitFor({ timeout: 30_000 });
			// The mapper heads its fields with the node's valuesLabel.
			const label = (await fields.innerText()).split('\n')[0].trim();
			expect(/^(Model )?Inputs$/.test(label), `the form is headed "${label}", not "Inputs"`);
			for (const name of ['imageSource', 'maskSource'])
				expect(
					(await page.getByTestId(`parameter-input-${name}`).count()) === 0,
					`the built-in model's ${name} still shows`,
				);
			for (const { id } of expected) await mapperField(page, id);
			const order = await parameterNames(fields);
			const wanted = expected.map((field) => field.id);
			expect(
				JSON.stringify(order) === JSON.stringify(wanted),
				`fields ${order.join(', ')}; the schema's x-order: ${wanted.join(', ')}`,
			);
			// Every field as the schema types it: the text ones too, so a number drawn as text fails.
			const typed = [];
			for (const want of expected) {
				const got = await shownKind(page, await mapperField(page, want.id));
				expect(
					got.kind === want.kind,
					`${want.id} shows as ${got.kind}, the schema says ${want.kind}`,
				);
				if (want.kind === 'enum')
					expect(
						JSON.stringify(got.values) === JSON.stringify(want.values),
						`${want.id} offers ${got.values.join(', ')}; the schema: ${want.values.join(', ')}`,
					);
				typed.push(`${want.id} ${got.kind}${got.values ? ` [${got.values.join(', ')}]` : ''}`);
			}
			for (const [id, kind] of Object.entries(TYPED_EXAMPLES))
				expect(
					typed.some((line) => line.startsWith(`${id} ${kind}`)),
					`${id} is no ${kind}`,
				);
			return typed.join('; ');
		},
	);
	await check(
		page,
		`Execute step runs ${MODEL} on the item's binary fields (image "data", mask "mask") and shows the image`,
		async () => {
			await fillText(page, 'prompt', PROMPT);
			await fillText(page, 'image', 'data');
			await fillText(page, 'mask', 'mask');
			await page.getByTestId('node-execute-button').click();
			const output = page.getByTestId('output-panel');
			// With binary data n8n opens the Binary view by itself.
			await output
				.getByText(/image\/(png|jpeg|webp)/)
				.first()
				.waitFor({ timeout: 120_000 });
			const binaryText = await output.innerText();
			await output.getByTestId('radio-button-json').click();
			await output.getByText(MODEL).first().waitFor({ timeout: 10_000 });
			const json = await output.innerText();
			expect(
				new RegExp(`"?model"?\\s*:\\s*"${MODEL}"`).test(json),
				`the output's model is not ${MODEL}:\n${json.slice(0, 800)}`,
			);
			await output.getByTestId('radio-button-binary').click();
			await output.getByRole('button', { name: 'View' }).first().click();
			await output.locator('img').first().waitFor();
			const size = await output
				.locator('img')
				.first()
				.evaluate((image) => `${image.naturalWidth}×${image.naturalHeight}`);
			expect(!size.startsWith('0×'), 'the image did not load');
			// The screenshot: the Model picker at the top of the panel, its whole form below it.
			const viewport = page.viewportSize();
			await page.setViewportSize({ width: viewport.width, height: 1000 });
			await page.getByTestId('resource-locator-model').evaluate((picker) =>
				(picker.closest('[data-test-id=parameter-item]') ?? picker).scrollIntoView({
					block: 'start',
				}),
			);
			await dismissToasts(page);
			await t.documentShot(page, 'images/flux-fill-pro.png');
			await page.setViewportSize(viewport);
			const mime = /image\/\w+/.exec(binaryText)?.[0];
			return `model ${MODEL}; binary ${mime}, shown at ${size}`;
		},
	);
	await closeNdv(page);
};
