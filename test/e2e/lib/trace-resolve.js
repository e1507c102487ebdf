'use strict';
/*
 * Preloaded into a real n8n (NODE_OPTIONS="--require <this file>") to record, inside n8n's own
 * process, where the community package's files find the modules they import by bare name
 * (zod, n8n-workflow, …): n8n puts its own node_modules on NODE_PATH before it loads community
 * packages, and this shows whether that is enough.
 *
 *   N8N_E2E_RESOLVE_LOG      file to append JSON lines to: {pid, request, from, resolved | error}
 *   N8N_E2E_RESOLVE_PACKAGE  path fragment of the package's folder, e.g. /node_modules/n8n-nodes-x/
 *
 * Does nothing unless both are set; never changes what gets resolved.
 */
const fs = require('node:fs');
const Module = require('node:module');

const logFile = process.env.N8N_E2E_RESOLVE_LOG;
const marker = process.env.N8N_E2E_RESOLVE_PACKAGE;

if (logFile && marker) {
	const original = Module._resolveFilename;
	const seen = new Set();
	const record = (entry) => {
		const key = `${entry.request}\0${entry.from}\0${entry.resolved ?? entry.error}`;
		if (seen.has(key)) return;
		seen.add(key);
		try {
			fs.appendFileSync(logFile, `${JSON.stringify({ pid: process.pid, ...entry })}\n`);
		} catch {
			// tracing must never break n8n
		}
	};
	Module._resolveFilename = function traceResolve(request, parent, ...rest) {
		const from = parent && parent.filename;
		const watched =
			typeof request === 'string' &&
			typeof from === 'string' &&
			from.includes(marker) &&
			!request.startsWith('.') &&
			!request.startsWith('/') &&
			!Module.isBuiltin(request);
		if (!watched) return original.call(this, request, parent, ...rest);
		try {
			const resolved = original.call(this, request, parent, ...rest);
			record({ request, from, resolved });
			return resolved;
		} catch (error) {
			record({ request, from, error: String(error && error.message).split('\n')[0] });
			throw error;
		}
	};
}
