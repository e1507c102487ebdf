'use strict';
/*
 * What the e2e check scripts share (check-run.js, queue/check-queue.js, webhook-mode.js): JSON
 * files, expectations that fail a check with a message, notes printed under a passed check, the
 * credential they import into n8n, the test server's /__admin routes, signing in to n8n as its
 * owner, and the command line of a check script. Plain JavaScript on the system Node, like them.
 */
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

/** The repository's root. */
const ROOT = path.resolve(__dirname, '../../..');
const CREDENTIAL_TYPE = 'replicateInpaintingApi';
const NODE_TYPE = 'n8n-nodes-replicate-inpainting.replicateInpainting';

const readJson = (file) => JSON.parse(fs.readFileSync(file, 'utf8'));
const writeJson = (file, value) => fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** One failed expectation: the message says what was expected and what was found. */
class CheckFailure extends Error {}
function expect(condition, message) {
	if (!condition) throw new CheckFailure(message);
}
function expectEqual(actual, expected, what) {
	try {
		assert.deepStrictEqual(actual, expected);
	} catch {
		throw new CheckFailure(
			`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`,
		);
	}
}
/** What a log shows of a failure: the message of a failed expectation, the stack of anything else. */
const failureText = (error) => (error instanceof CheckFailure ? error.message : error.stack);

/** Info lines printed under a check (what was seen), so a log shows more than "ok". */
const notes = [];
const note = (line) => notes.push(line);

/** A variable the calling shell script must have set. */
function requiredEnv(name) {
	const value = process.env[name];
	if (!value) throw new Error(`${name} is not set`);
	return value;
}

/** A credential as `n8n import:credentials` reads it, pointing at the test server (its server.json). */
function credential(id, name, server, apiToken = server.token) {
	return { id, name, type: CREDENTIAL_TYPE, data: { apiToken, baseUrl: server.apiUrl } };
}

/** GET (or `init`) the test server's /__admin/<route>; `server` is its server.json. */
async function admin(server, route, init) {
	const response = await fetch(`${server.adminUrl}/${route}`, init);
	if (!response.ok) throw new Error(`test server ${route}: HTTP ${response.status}`);
	return response.status === 204 ? undefined : response.json();
}

/** The owner of every e2e instance (n8n's REST API wants one signed in). */
const OWNER = {
	email: 'e2e@example.com',
	firstName: 'E2E',
	lastName: 'Test',
	password: 'E2e-test-passw0rd',
};

/**
 * Signs in as the owner of the n8n at `baseUrl`: sets the owner up (a fresh instance has none) or,
 * when an earlier `n8n start` on that user folder did, logs in. Returns the n8n-auth cookie; it is
 * bound to `browserId`, so every request with it sends that browser-id header.
 */
async function ownerCookie(baseUrl, browserId) {
	const headers = { 'content-type': 'application/json', 'browser-id': browserId };
	let response = await fetch(`${baseUrl}/rest/owner/setup`, {
		method: 'POST',
		headers,
		body: JSON.stringify(OWNER),
	});
	if (!response.ok) {
		response = await fetch(`${baseUrl}/rest/login`, {
			method: 'POST',
			headers,
			body: JSON.stringify({
				emailOrLdapLoginId: OWNER.email,
				email: OWNER.email,
				password: OWNER.password,
			}),
		});
	}
	expect(
		response.ok,
		`owner setup / login: HTTP ${response.status} ${(await response.text()).slice(0, 300)}`,
	);
	const cookie = (response.headers.getSetCookie?.() ?? [response.headers.get('set-cookie') ?? ''])
		.map((c) => c.split(';')[0])
		.find((c) => c.startsWith('n8n-auth='));
	expect(cookie, 'owner setup / login set no n8n-auth cookie');
	return cookie;
}

/**
 * The command line of a check script, `<command> <dir> [args]`: runs commands[command] (prepare,
 * …) as it is, or the check checks[command], then prints the notes and, if it failed, why.
 * Exit 0 = passed, 1 = the check failed, 2 = wrong usage or the script itself broke.
 */
function runCheckScript(script, commands, checks) {
	const main = async () => {
		const [command, dir, ...args] = process.argv.slice(2);
		if (!command || !dir) {
			console.error(`usage: ${script} ${Object.keys(commands).join('|')}|<check> <dir> [args]`);
			process.exit(2);
		}
		if (commands[command]) return await commands[command](dir, ...args);
		const check = checks[command];
		if (!check) {
			console.error(`unknown check ${command}; known: ${Object.keys(checks).join(', ')}`);
			process.exit(2);
		}
		try {
			await check(dir, ...args);
			for (const line of notes) console.log(`    ${line}`);
		} catch (error) {
			for (const line of notes) console.log(`    ${line}`);
			console.log(`    ${failureText(error).split('\n').join('\n    ')}`);
			process.exitCode = 1;
		}
	};
	main().catch((error) => {
		console.error(error.stack);
		process.exit(2);
	});
}

module.exports = {
	ROOT,
	CREDENTIAL_TYPE,
	NODE_TYPE,
	readJson,
	writeJson,
	sleep,
	CheckFailure,
	expect,
	expectEqual,
	failureText,
	notes,
	note,
	requiredEnv,
	credential,
	admin,
	ownerCookie,
	runCheckScript,
};
