'use strict';
/** Small helpers over n8n's editor (its own data-test-id attributes), shared by the 2.x and 1.x steps. */

/** The names the nodes panel lists after typing `term` into its search bar. */
async function searchNames(page, term) {
	const bar = page.getByTestId('node-creator-search-bar');
	await bar.fill('');
	await bar.fill(term);
	// The list re-renders while the search settles.
	await page.waitForTimeout(800);
	return await page.getByTestId('node-creator-item-name').allTextContents();
}

/** Opens the package's entry in the nodes panel (its actions and triggers); returns the panel's text. */
async function openNodeEntry(page) {
	await page
		.getByTestId('node-creator-item-name')
		.filter({ hasText: /^Replicate Inpainting$/ })
		.first()
		.click();
	return await page.getByTestId('node-creator').innerText();
}

/** A fresh workflow with a Manual Trigger; returns with the panel closed. */
async function workflowWithManualTrigger(page, n8n) {
	await page.goto(`${n8n}/workflow/new`);
	await page.getByTestId('canvas-add-button').click();
	await searchNames(page, 'manual');
	await page.keyboard.press('Enter');
	await page.getByTestId('canvas-handle-plus').first().waitFor();
	// Some versions open the trigger's panel on adding it.
	if (await page.getByTestId('ndv').isVisible()) await closeNdv(page);
}

/**
 * The parameter names shown inside `root` in display order (from n8n's parameter-input-<name>
 * ids, less the ids of an input's own parts).
 */
async function parameterNames(root) {
	return await root.evaluate((element) =>
		[...element.querySelectorAll('[data-test-id^="parameter-input-"]')]
			.map((input) => input.getAttribute('data-test-id').slice('parameter-input-'.length))
			.filter((name) => !['field', 'item', 'hint'].includes(name))
			.filter((name, index, all) => all.indexOf(name) === index),
	);
}

/** The node panel's parameter names in display order. */
async function visibleParameters(page) {
	return await parameterNames(page.getByTestId('node-parameters'));
}

/** The shown value of an options/string parameter. */
async function parameterValue(page, name) {
	const input = page.getByTestId(`parameter-input-${name}`).locator('input, textarea').first();
	return await input.inputValue();
}

/** Picks an entry of an options parameter's dropdown by its name. */
async function choose(page, name, optionName) {
	await page.getByTestId(`parameter-input-${name}`).click();
	const item = page
		.locator('.el-select-dropdown__item:visible')
		.filter({ has: page.getByText(optionName, { exact: true }) })
		.first();
	await item.click();
	await page.waitForTimeout(300);
}

/**
 * The option names the Options collection's "Add Option" list offers. With a single option n8n
 * adds it at once instead of listing it: then that option's label is returned.
 */
async function collectionOptions(page) {
	const before = await visibleParameters(page);
	await page.getByTestId('collection-parameter-add').click();
	const options = page.getByTestId('collection-parameter-option');
	const listed = await options
		.first()
		.waitFor({ timeout: 5_000 })
		.then(
			() => true,
			() => false,
		);
	if (!listed) {
		const added = (await visibleParameters(page)).filter((name) => !before.includes(name));
		const labels = [];
		for (const name of added) {
			const item = page
				.getByTestId('node-parameters')
				.locator('[data-test-id=parameter-item]')
				.filter({ has: page.getByTestId(`parameter-input-${name}`) });
			labels.push((await item.last().innerText()).split('\n')[0].trim());
		}
		return labels;
	}
	const names = await options.allTextContents();
	await page.keyboard.press('Escape');
	return names.map((name) => name.trim());
}

/** Closes n8n's notifications, so they do not cover a screenshot. */
async function dismissToasts(page) {
	await page.waitForTimeout(500);
	for (const button of await page.locator('.el-notification__closeBtn').all())
		await button.click().catch(() => {});
	await page.waitForTimeout(500);
}

/** Closes the node panel (1.x has no close button test id: Escape does it there). */
async function closeNdv(page) {
	await page
		.getByTestId('ndv-close-button')
		.click({ timeout: 5_000 })
		.catch(async () => await page.keyboard.press('Escape'));
	await page
		.getByTestId('ndv')
		.waitFor({ state: 'hidden' })
		.catch(() => {});
}

module.exports = {
	closeNdv,
	dismissToasts,
	searchNames,
	openNodeEntry,
	workflowWithManualTrigger,
	parameterNames,
	visibleParameters,
	parameterValue,
	choose,
	collectionOptions,
};
