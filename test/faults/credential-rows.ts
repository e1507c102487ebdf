/**
 * Rows of the fault matrix for the credential's Test button (n8n's CredentialsTester, as
 * test/harness testCredential runs it): what it answers, and where the token went.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import type { CredentialTestResult } from '../harness';
import type { FakeReplicate } from '../../tools/fake-replicate';
import type { Sink } from './support';

export interface CredentialRow {
	fault: string;
	/** The Base URL to test, and what to close afterwards. */
	arrange: (
		server: FakeReplicate,
		sink: Sink,
	) => Promise<{ baseUrl: string; token?: string; close?: () => Promise<void> }>;
	expect: (result: CredentialTestResult) => void;
}

/** A Base URL that answers every request with `status` and a Location on the sink (another origin). */
async function redirecting(status: number, sink: Sink) {
	const redirector = http.createServer((req, res) => {
		req.resume();
		res.writeHead(status, { location: `${sink.origin}/v1${req.url?.replace(/^\/v1/, '') ?? '/'}` });
		res.end();
	});
	await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
	return {
		baseUrl: `http://127.0.0.1:${(redirector.address() as AddressInfo).port}/v1`,
		close: async () =>
			await new Promise<void>((resolve) => {
				redirector.close(() => resolve());
				redirector.closeAllConnections();
			}),
	};
}

/**
 * n8n 2.x keeps the request error as the cause and shows the credential's own rule message; n8n
 * 1.x and the harness's n8n-workflow 2.8 drop that cause, and n8n shows its own text with the
 * status. Both name the redirect's status; ours also says why.
 */
const REDIRECT_FAILED =
	/^(The Base URL redirects \(HTTP 30\d\), and the node sends the API token only to the Base URL itself|Request failed with status code 30\d$)/;

export const credentialRows: CredentialRow[] = [
	{
		fault: 'right token (control)',
		arrange: async (server) => ({ baseUrl: server.apiUrl }),
		expect: (result) => expect(result.status).toBe('OK'),
	},
	{
		fault: 'wrong token',
		arrange: async (server) => ({ baseUrl: server.apiUrl, token: 'r8_wrong_token_for_the_matrix' }),
		expect: (result) => expect(result.status).toBe('Error'),
	},
	...[301, 302, 307, 308].map(
		(status): CredentialRow => ({
			fault: `Base URL answers ${status} to another origin`,
			arrange: async (_server, sink) => await redirecting(status, sink),
			expect: (result) => {
				expect(result.status).toBe('Error');
				expect(result.message).toMatch(REDIRECT_FAILED);
				expect(result.message).toContain(String(status));
			},
		}),
	),
];
