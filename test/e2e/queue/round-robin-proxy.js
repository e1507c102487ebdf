#!/usr/bin/env node
'use strict';
/*
 * The load balancer in front of the queue-mode e2e's n8n webhook processes (run-queue.sh):
 *
 *   node round-robin-proxy.js <port> <record file> <name>=<http://host:port> …
 *
 * Listens on 127.0.0.1:<port> and sends each incoming request to the next backend in turn,
 * strictly alternating whatever the path, with method, path, headers and body unchanged (as a
 * load balancer without sticky sessions does). A backend that does not answer (down, restarting)
 * gets no second try: the caller receives 502, as from a balancer without health checks, and
 * Replicate retries a webhook call that got a non-2xx answer.
 *
 * Every request is appended to <record file> when it ends, one JSON line
 * {seq, at, ms, method, path, backend, status}: its arrival number (backend = backends[seq mod n]),
 * arrival time, how long the answer took, and status 502 with `error` when the backend did not
 * answer; so the checks can tell which process served which resume call. Prints "listening" when ready.
 * Plain JavaScript on the system Node, like the check scripts.
 */
const fs = require('node:fs');
const http = require('node:http');

const [port, recordFile, ...backendArgs] = process.argv.slice(2);
const backends = backendArgs.map((arg) => {
	const [name, url] = arg.split(/=(.*)/s);
	return { name, url: new URL(url) };
});
if (!port || !recordFile || backends.length < 2 || backends.some((b) => !b.name)) {
	console.error('usage: round-robin-proxy.js <port> <record file> <name>=<url> <name>=<url> …');
	process.exit(2);
}

let arrivals = 0;
const server = http.createServer((incoming, answer) => {
	const seq = arrivals++;
	const backend = backends[seq % backends.length];
	const at = Date.now();
	const record = (outcome) =>
		fs.appendFileSync(
			recordFile,
			`${JSON.stringify({ seq, at, ms: Date.now() - at, method: incoming.method, path: incoming.url, backend: backend.name, ...outcome })}\n`,
		);
	// No keep-alive towards the backends: a restarted process must not inherit a dead socket.
	const outgoing = http.request(
		{
			host: backend.url.hostname,
			port: backend.url.port,
			method: incoming.method,
			path: incoming.url,
			headers: incoming.headers,
			agent: false,
		},
		(response) => {
			answer.writeHead(response.statusCode ?? 502, response.headers);
			response.pipe(answer);
			response.on('end', () => record({ status: response.statusCode }));
		},
	);
	outgoing.on('error', (error) => {
		record({ status: 502, error: error.message });
		if (answer.headersSent) return answer.destroy();
		answer.writeHead(502, { 'content-type': 'text/plain' });
		answer.end(`Bad Gateway: ${backend.name} did not answer (${error.message})\n`);
	});
	incoming.pipe(outgoing);
});
server.listen(Number(port), '127.0.0.1', () => console.log('listening'));
const stop = () => {
	server.close(() => process.exit(0));
	server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
