/**
 * What a new user does with this package in n8n's editor, in a real browser (Debian's chromium
 * driven by playwright-core), against a real n8n started by run-ui.sh with the package installed
 * as a community package and the credential pointing at the project's test server.
 *
 *   node test/ui/ui-test.js 2|1
 * Environment (set by run-ui.sh): UI_N8N_URL, UI_N8N_VERSION, UI_SERVER_JSON (the test server's
 * {apiUrl, token, sampleImageUrl, …}), UI_WORK (a scratch folder), UI_DOCS (where screenshots go,
 * 2.x only), UI_CHROMIUM, UI_N8N_LOG.
 *
 * Prints "ok - …" / "not ok - …" per check and "# totals N passed, M failed"; exits 1 on a failure.
 */
'use strict';

const fs = require('fs');
const path = require('path');
const { chromium, selectors } = require('playwright-core');

const line = process.argv[2] === '1' ? 1 : 2;
const N8N = process.env.UI_N8N_URL;
const VERSION = process.env.UI_N8N_VERSION ?? '?';
const server = JSON.parse(fs.readFileSync(process.env.UI_SERVER_JSON, 'utf8'));
const WORK = process.env.UI_WORK ?? fs.mkdtempSync('/tmp/ui-');
const DOCS = process.env.UI_DOCS;
const OWNER = {
	email: 'owner@example.com',
	firstName: 'Ada',
	lastName: 'Owner',
	password: 'Passw0rd-for-ui-tests',
};
const PACKAGE = 'n8n-nodes-replicate-inpainting';
const NODE_NAME = 'Replicate Inpainting';
const TRIGGER_NAME = 'Replicate Inpainting Trigger';
const CREDENTIAL_TYPE_NAME = 'Replicate Inpainting API';
// Generous: the machine is shared, and n8n's editor is a large bundle.
const STEP_TIMEOUT_MS = 60_000;

selectors.setTestIdAttribute('data-test-id');

let passed = 0;
let failed = 0;
const consoleErrors = [];

function ok(name, detail) {
	passed++;
	console.log(`ok - n8n ${VERSION}: ${name}${detail ? ` (${detail})` : ''}`);
}

function notOk(name, error) {
	failed++;
	console.log(`not ok - n8n ${VERSION}: ${name}`);
	console.log(
		`    ${String(error?.stack ?? error)
			.split('\n')
			.slice(0, 6)
			.join('\n    ')}`,
	);
}

/** Runs one check; a failing check is reported with a screenshot and the run goes on. */
async function check(page, name, body) {
	try {
		const detail = await body();
		ok(name, detail);
		return true;
	} catch (error) {
		notOk(name, error);
		const shot = path.join(WORK, `failed-${passed + failed}.png`);
		await page.screenshot({ path: shot }).catch(() => {});
		console.log(`    screenshot: ${shot}`);
		return false;
	}
}

function expect(condition, message) {
	if (!condition) throw new Error(message);
}

/** A screenshot for the README: PNG, only from the 2.x run. */
async function documentShot(target, file, options = {}) {
	if (!DOCS || line !== 2) return;
	const shot = path.join(DOCS, file);
	fs.mkdirSync(path.dirname(shot), { recursive: true });
	// Let panels finish sliding and fading in.
	await new Promise((resolve) => setTimeout(resolve, 1000));
	await target.screenshot({ path: shot, ...options });
}

async function launch() {
	return await chromium.launch({
		executablePath: process.env.UI_CHROMIUM ?? '/usr/bin/chromium',
		// REFERENCE.md §6; playwright-core adds --headless itself, and a fresh user data dir per launch.
		args: [
			'--headless',
			'--no-sandbox',
			'--disable-gpu',
			'--disable-background-networking',
			'--disable-component-update',
			'--no-first-run',
			'--disable-sync',
		],
	});
}

async function ownerSetup(page) {
	await page.goto(`${N8N}/setup`);
	await page.locator('input[type=password]').waitFor();
	if (new URL(page.url()).pathname.startsWith('/signin')) {
		// Only when run again against the same n8n (UI_HOLD while developing the test).
		await page.locator('input[type=text], input[type=email]').first().fill(OWNER.email);
		await page.locator('input[name=password]').fill(OWNER.password);
		await page.getByRole('button', { name: 'Sign in' }).click();
		await page.waitForURL((url) => !url.pathname.startsWith('/signin'));
		return 'the owner existed already: signed in';
	}
	await page.locator('input[name=email]').fill(OWNER.email);
	await page.locator('input[name=firstName]').fill(OWNER.firstName);
	await page.locator('input[name=lastName]').fill(OWNER.lastName);
	await page.locator('input[name=password]').fill(OWNER.password);
	await page.getByRole('button', { name: 'Next' }).click();
	await page.waitForURL((url) => !url.pathname.startsWith('/setup'), { timeout: STEP_TIMEOUT_MS });
	return `signed in as ${OWNER.email}, at ${new URL(page.url()).pathname}`;
}

async function main() {
	const browser = await launch();
	const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
	context.setDefaultTimeout(STEP_TIMEOUT_MS);
	const page = await context.newPage();
	page.on('console', (message) => {
		if (message.type() === 'error') consoleErrors.push(message.text());
	});
	page.on('pageerror', (error) => consoleErrors.push(`pageerror: ${error.message}`));
	try {
		const setUp = await check(page, 'owner setup', () => ownerSetup(page));
		if (!setUp) return;
		const steps = line === 2 ? require('./steps-2') : require('./steps-1');
		await steps.run({
			page,
			check,
			expect,
			documentShot,
			server,
			N8N,
			NODE_NAME,
			TRIGGER_NAME,
			CREDENTIAL_TYPE_NAME,
			PACKAGE,
		});
		await check(page, 'no browser console error caused by the package', async () => {
			const ours = consoleErrors.filter((text) => /replicate|inpaint/i.test(text));
			expect(ours.length === 0, `console errors naming the package:\n${ours.join('\n')}`);
			return `${consoleErrors.length} console error(s) in all, none naming the package`;
		});
	} finally {
		fs.writeFileSync(path.join(WORK, 'browser-console.txt'), consoleErrors.join('\n'));
		await browser.close();
		console.log(`# totals ${passed} passed, ${failed} failed`);
		process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
	}
}

if (require.main === module) {
	main().catch((error) => {
		console.error(error);
		process.exit(1);
	});
}
