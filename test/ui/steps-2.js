'use strict';
/**
 * The checks on n8n 2.x: credential, nodes panel, the node's panel per operation, a run, the
 * trigger, then any model (steps-model.js).
 */
const {
	closeNdv,
	dismissToasts,
	searchNames,
	workflowWithManualTrigger,
	visibleParameters,
	parameterValue,
	choose,
	collectionOptions,
	openNodeEntry,
} = require('./panel');
const anyModel = require('./steps-model');

const SEARCH_TERMS = ['replicate', 'inpaint'];
const ACTIONS = [
	'Inpaint an image and wait for the result',
	'Start an inpainting prediction',
	'Get a prediction',
	'Cancel a prediction',
];
// The README's tables: the fields each operation shows, in order, and the Options it offers.
const CREATE_FIELDS = [
	'operation',
	'model',
	'prompt',
	'imageSource',
	'imageUrl',
	'maskSource',
	'maskUrl',
];
const MODEL_OPTIONS = [
	'Disable Safety Checker',
	'Guidance Scale',
	'Height',
	'Inference Steps',
	'Model Version',
	'Negative Prompt',
	'Number of Outputs',
	'Scheduler',
	'Seed',
	'Width',
];
const EXPECTED = {
	'Create and Wait': {
		fields: [...CREATE_FIELDS, 'waitMode'],
		options: [
			...MODEL_OPTIONS,
			'Binary Upload',
			'Download Outputs',
			'Extra Input (JSON)',
			'Keep Uploaded Files',
			'Max Concurrent Predictions',
			'Max Output Size (MB)',
			'Max Retries',
			'Output Binary Field Name',
			'Output Layout',
			'Timeout (Seconds)',
		],
	},
	'Create Only': {
		fields: [...CREATE_FIELDS, 'webhookUrl'],
		options: [
			...MODEL_OPTIONS,
			'Binary Upload',
			'Extra Input (JSON)',
			'Max Concurrent Predictions',
			'Max Retries',
			'Timeout (Seconds)',
		],
	},
	Get: {
		fields: ['operation', 'predictionId', 'waitForCompletion'],
		// Timeout only with Wait for Completion (checked below).
		options: [
			'Download Outputs',
			'Max Output Size (MB)',
			'Max Retries',
			'Output Binary Field Name',
			'Output Layout',
		],
	},
	Cancel: { fields: ['operation', 'predictionId'], options: ['Max Retries'] },
};

function sameSet(actual, expected) {
	return actual.length === expected.length && expected.every((name) => actual.includes(name));
}

async function credential(t) {
	const { page, check, expect, server } = t;
	await check(
		page,
		'credential modal: a wrong token fails Test with a message that names the API Token',
		async () => {
			await page.goto(`${t.N8N}/home/credentials/create`);
			await page.getByTestId('new-credential-type-select').locator('input').fill('Replicate');
			await page
				.getByTestId('new-credential-type-select-option')
				.filter({ hasText: t.CREDENTIAL_TYPE_NAME })
				.click();
			await page.getByTestId('new-credential-type-button').click();
			await page
				.getByTestId('parameter-input-apiToken')
				.locator('input')
				.fill('r8_wrong_token_for_the_ui_test');
			await page.getByTestId('parameter-input-baseUrl').locator('input').fill(server.apiUrl);
			await page.getByTestId('credential-save-button').click();
			const dialog = page.getByTestId('credential-edit-dialog');
			await dialog.getByText('Couldn’t connect with these settings').waitFor();
			await dialog.getByText('More details').click();
			await dialog
				.getByText(/HTTP 401/)
				.first()
				.waitFor({ timeout: 10_000 })
				.catch(() => {});
			const text = await dialog.innerText();
			expect(
				/The API Token was refused \(HTTP 401\)/.test(text),
				`no helpful message in the modal:\n${text.slice(0, 800)}`,
			);
			return 'shows "The API Token was refused (HTTP 401). Paste a token from …"';
		},
	);
	await check(
		page,
		'credential modal: a Base URL without /v1 fails Test with a message that names the Base URL',
		async () => {
			await page.getByTestId('parameter-input-apiToken').locator('input').fill(server.token);
			await page
				.getByTestId('parameter-input-baseUrl')
				.locator('input')
				.fill(server.apiUrl.replace(/\/v1$/, ''));
			await page.getByTestId('credential-save-button').click();
			const dialog = page.getByTestId('credential-edit-dialog');
			await dialog
				.getByText(/does not serve the Replicate API/)
				.first()
				.waitFor({ timeout: 30_000 })
				.catch(async () => {
					await dialog
						.getByText('More details')
						.click()
						.catch(() => {});
				});
			const text = await dialog.innerText();
			expect(
				/Base URL does not serve the Replicate API \(HTTP 404/.test(text),
				`no helpful message:\n${text.slice(0, 800)}`,
			);
			return 'shows "The Base URL does not serve the Replicate API (HTTP 404 on GET /account) … ends in /v1"';
		},
	);
	await check(
		page,
		'credential modal: the right token and Base URL test successfully',
		async () => {
			await page.getByTestId('parameter-input-baseUrl').locator('input').fill(server.apiUrl);
			await page.getByTestId('credential-save-button').click();
			await page.getByTestId('credentials-config-container-test-success').waitFor();
			await dismissToasts(page);
			await t.documentShot(page, 'credential.png');
			return 'Connection tested successfully';
		},
	);
	await page.keyboard.press('Escape');
}

async function nodesPanel(t) {
	const { page, check, expect } = t;
	await check(
		page,
		'nodes panel, empty workflow (trigger panel): found by "replicate" and "inpaint"; the trigger shows as a trigger',
		async () => {
			await page.goto(`${t.N8N}/workflow/new`);
			await page.getByTestId('canvas-add-button').click();
			for (const term of SEARCH_TERMS) {
				const names = await searchNames(page, term);
				expect(names.includes(t.NODE_NAME), `"${term}" found ${JSON.stringify(names)}`);
			}
			const panel = await openNodeEntry(page);
			expect(
				/Triggers \(\d\)/.test(panel) && panel.includes('On completed'),
				`no trigger listed:\n${panel}`,
			);
			return 'one entry for node and trigger; its Triggers list starts with "On completed"';
		},
	);
	await check(
		page,
		'trigger added from the panel: its panel shows the notice and both webhook URLs',
		async () => {
			await page.getByText('On completed', { exact: true }).click();
			await page.getByTestId('ndv').waitFor();
			const ndv = page.getByTestId('ndv');
			// n8n shows the URLs collapsed for community triggers (only its own Form/Chat/MCP triggers open them).
			if (!(await ndv.getByText('Production URL', { exact: true }).first().isVisible())) {
				await ndv.getByText('Webhook URLs').first().click();
			}
			await ndv.getByText('Production URL', { exact: true }).first().click();
			const production = await ndv
				.getByText(/\/webhook\/\S+\/replicate-inpainting/)
				.first()
				.innerText();
			const notice = await ndv
				.getByText(/paste the Production URL/)
				.first()
				.innerText();
			expect(/published/.test(notice), `notice: ${notice}`);
			await t.documentShot(page, 'trigger.png');
			await ndv.getByText('Test URL', { exact: true }).first().click();
			const test = await ndv
				.getByText(/\/webhook-test\/\S+\/replicate-inpainting/)
				.first()
				.innerText();
			expect(Boolean(production && test), 'URLs missing');
			const subtitle = await page
				.locator('[data-test-id=canvas-node]')
				.first()
				.innerText()
				.catch(() => '');
			await closeNdv(page);
			return `URLs …/webhook/…/replicate-inpainting and …/webhook-test/…; canvas: ${subtitle.replace(/\s+/g, ' ').trim()}`;
		},
	);

	await workflowWithManualTrigger(page, t.N8N);
	await check(
		page,
		'nodes panel after a trigger: found by "replicate" and "inpaint" at the top level, in "Action in an app" and in "AI"',
		async () => {
			const found = [];
			for (const entry of [null, 'Action in an app', 'AI']) {
				await page.getByTestId('canvas-handle-plus').first().click();
				if (entry) await page.getByTestId('node-creator').getByText(entry, { exact: true }).click();
				for (const term of SEARCH_TERMS) {
					const names = await searchNames(page, term);
					expect(
						names.includes(t.NODE_NAME),
						`${entry ?? 'top level'}: "${term}" found ${JSON.stringify(names)}`,
					);
				}
				found.push(entry ?? 'top level');
				await page.keyboard.press('Escape');
				await page.keyboard.press('Escape');
				await page
					.getByTestId('node-creator')
					.waitFor({ state: 'hidden' })
					.catch(() => {});
			}
			return found.join(', ');
		},
	);
	await check(
		page,
		"the node's actions list shows its four operations, and its triggers as triggers",
		async () => {
			await page.getByTestId('canvas-handle-plus').first().click();
			await searchNames(page, 'inpaint');
			const panel = await openNodeEntry(page);
			for (const action of ACTIONS)
				expect(panel.includes(action), `no action "${action}":\n${panel}`);
			expect(/Actions \(4\)/.test(panel) && /Triggers \(4\)/.test(panel), `sections:\n${panel}`);
			await t.documentShot(page, 'nodes-panel.png');
			return ACTIONS.join(' / ');
		},
	);
}

async function createAndWaitPanel(t) {
	const { page, check, expect, server } = t;
	await check(
		page,
		'Create and Wait: the fields a user must set first, Prompt empty, everything else under Options in alphabetical order',
		async () => {
			await page.getByText(ACTIONS[0], { exact: true }).click();
			await page.getByTestId('ndv').waitFor();
			const fields = await visibleParameters(page);
			expect(
				JSON.stringify(fields.slice(0, EXPECTED['Create and Wait'].fields.length)) ===
					JSON.stringify(EXPECTED['Create and Wait'].fields),
				`fields: ${fields}`,
			);
			expect((await parameterValue(page, 'prompt')) === '', 'Prompt is not empty');
			expect((await parameterValue(page, 'imageSource')) === 'URL', 'Image Source is not URL');
			const options = await collectionOptions(page);
			expect(sameSet(options, EXPECTED['Create and Wait'].options), `options: ${options}`);
			expect(
				JSON.stringify(options) === JSON.stringify([...options].sort((a, b) => a.localeCompare(b))),
				`not alphabetical: ${options}`,
			);
			await t.documentShot(page, 'create-and-wait.png');
			return `${fields.join(', ')}; Options: ${options.length}, alphabetical`;
		},
	);
	await check(
		page,
		'Image Source "Binary File" shows Image Binary Field Name "data"; the mask\'s says how to merge two files',
		async () => {
			await choose(page, 'imageSource', 'Binary File');
			await choose(page, 'maskSource', 'Binary File');
			const fields = await visibleParameters(page);
			expect(
				fields.includes('imageBinaryProperty') && fields.includes('maskBinaryProperty'),
				`fields: ${fields}`,
			);
			expect((await parameterValue(page, 'imageBinaryProperty')) === 'data', 'image default');
			expect((await parameterValue(page, 'maskBinaryProperty')) === 'mask', 'mask default');
			const text = await page.getByTestId('node-parameters').innerText();
			expect(
				text.includes('Image Binary Field Name') && /Merge node/.test(text),
				'labels or hint missing',
			);
			await choose(page, 'imageSource', 'URL');
			await choose(page, 'maskSource', 'URL');
			return 'data / mask, with the Merge hint';
		},
	);
	await check(
		page,
		'Execute step on URL inputs shows the prediction and its image in the Binary view',
		async () => {
			await page
				.getByTestId('parameter-input-prompt')
				.locator('textarea')
				.fill('a red leather armchair, studio lighting');
			await page
				.getByTestId('parameter-input-imageUrl')
				.locator('input')
				.fill(server.sampleImageUrl);
			await page.getByTestId('parameter-input-maskUrl').locator('input').fill(server.sampleMaskUrl);
			await page.getByTestId('node-execute-button').click();
			const output = page.getByTestId('output-panel');
			// With binary data n8n opens the Binary view by itself.
			await output
				.getByText(/-0\.png/)
				.first()
				.waitFor({ timeout: 120_000 });
			const binaryText = await output.innerText();
			expect(
				/image\/png/.test(binaryText),
				`no PNG in the Binary view:\n${binaryText.slice(0, 600)}`,
			);
			await output.getByRole('button', { name: 'View' }).first().click();
			await output.locator('img, embed, iframe').first().waitFor();
			await t.documentShot(page, 'output.png');
			await output.getByText('Back to list').click();
			await output.getByTestId('radio-button-table').click();
			await output.getByText('output_url').first().waitFor();
			const headers = await output.locator('th').allInnerTexts();
			const columns = headers.map((text) => text.trim()).filter(Boolean);
			expect(columns[0] === 'status', `table columns start with ${columns.slice(0, 4)}`);
			const table = await output.innerText();
			expect(/succeeded/.test(table), 'status succeeded not shown');
			t.predictionId = /(\w+)-0\.png/.exec(binaryText)?.[1];
			return `binary ${/(\S+-0\.png)/.exec(binaryText)?.[1] ?? 'image'}; table columns ${columns.slice(0, 4).join(', ')}, …`;
		},
	);
	await check(
		page,
		'Create Only, Get and Cancel show the fields and Options the README lists; Get shows Timeout only when waiting',
		async () => {
			const seen = [];
			for (const operation of ['Create Only', 'Get', 'Cancel']) {
				await choose(page, 'operation', operation);
				const fields = await visibleParameters(page);
				const expected = EXPECTED[operation];
				expect(
					JSON.stringify(fields.slice(0, expected.fields.length)) ===
						JSON.stringify(expected.fields),
					`${operation} fields: ${fields}`,
				);
				const options = await collectionOptions(page);
				expect(sameSet(options, expected.options), `${operation} options: ${options}`);
				seen.push(`${operation}: ${fields.join(', ')} + ${options.length} options`);
			}
			await choose(page, 'operation', 'Get');
			await page.getByTestId('parameter-input-waitForCompletion').locator('.el-switch').click();
			// The Prediction picker lists the prediction Execute step just made (GET /predictions).
			await page.getByTestId('rlc-input').first().click();
			const entry = page.getByTestId('rlc-item').filter({ hasText: t.predictionId ?? '(no id)' });
			await entry.first().waitFor();
			const label = (await entry.first().innerText()).trim();
			expect(/ · succeeded · \d{4}-/.test(label), `picker entry: ${label}`);
			await entry.first().click();
			expect(
				(await page.getByTestId('rlc-input').first().inputValue()).includes(t.predictionId),
				'picked value',
			);
			seen.push(`Get's picker lists "${label}"`);
			const waiting = await collectionOptions(page);
			expect(
				waiting.includes('Timeout (Seconds)'),
				`no Timeout with Wait for Completion: ${waiting}`,
			);
			await choose(page, 'operation', 'Create and Wait');
			return seen.join('; ');
		},
	);
	await closeNdv(page);
	await check(page, 'the canvas subtitle names the operation ("Create and Wait")', async () => {
		const nodes = await page.getByTestId('canvas-node').allInnerTexts();
		const ours = nodes.find((text) => text.includes(t.NODE_NAME)) ?? '';
		expect(
			ours.includes('Create and Wait') && !ours.includes('createAndWait'),
			`node on canvas: ${ours}`,
		);
		return ours.replace(/\s+/g, ' ').trim();
	});
}

exports.run = async function run(t) {
	await credential(t);
	await nodesPanel(t);
	await createAndWaitPanel(t);
	await anyModel.run(t);
};

exports.nodesPanel = nodesPanel;
