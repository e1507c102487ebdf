/**
 * Rows of the fault matrix for Wait Mode: Webhook (issue 19): calls in any order, in other
 * processes and across restarts; a last item whose create failed; many failed items; a genuine
 * delivery of another execution; a park that fails after it uploaded files; warnings. Each row
 * runs on a fresh server and records what the matrix totals: executions resumed by a call that
 * did not belong to them (forged-executions) and files left on the server (uploads-left).
 */
import type { INodeExecutionData } from 'n8n-workflow';

import { makeSamplePng } from '../../tools/fake-replicate';
import type { FakeReplicate } from '../../tools/fake-replicate';
import type { WaitingServer } from '../harness';
import {
	binaryItem,
	createRequests,
	eventually,
	NODE_NAME,
	park,
	resumeCallsInProcesses,
	urlInputs,
} from '../node/support';
import { keyOf, signedHeaders } from '../trigger/support';
import type { DeliveryRow } from './delivery-rows';

const items = (...prompts: string[]) => prompts.map((prompt) => ({ json: { prompt } }));
const perItemPrompt = { prompt: '={{ $json.prompt }}' };
const prompts = (output: INodeExecutionData[]) =>
	output.map((item) => (item.json.input as { prompt: string } | undefined)?.prompt);

/** Runs `row` with the resume calls in other processes ('fresh': a restart before each call). */
function inProcesses(processes: 'fresh' | number, run: DeliveryRow['run']): DeliveryRow['run'] {
	return async (server, waiting, tally) => {
		const restore = resumeCallsInProcesses(processes);
		try {
			await run(server, waiting, tally);
		} finally {
			restore();
		}
	};
}

/** Three items whose predictions finish in reverse order of creation: the calls come 2, 1, 0. */
async function reverseOrder(server: FakeReplicate, waiting: WaitingServer) {
	server.scriptNextPrediction({ modelTimeMs: 1_600 });
	server.scriptNextPrediction({ modelTimeMs: 800 });
	server.scriptNextPrediction({ modelTimeMs: 100 });
	const { executionId } = await park(
		waiting,
		server,
		{ ...urlInputs(server), ...perItemPrompt },
		{ inputItems: items('a', 'b', 'c') },
	);
	const done = await waiting.finished(executionId);
	const calls = waiting.calls.filter((call) => call.executionId === executionId);
	expect(done.status).toBe('success');
	expect(prompts(done.items(NODE_NAME))).toEqual(['a', 'b', 'c']);
	expect(calls.map((call) => call.resumed)).toEqual([false, false, true]);
	expect(createRequests(server)).toHaveLength(3);
}

/** Two items with an image and a mask each, uploaded with POST /files. */
const UPLOADING = {
	prompt: 'a park that cannot go on',
	imageSource: 'binary',
	maskSource: 'binary',
	options: { uploadRoute: 'upload' },
};
const twoUploads = () =>
	[0, 1].map(() =>
		binaryItem({
			data: { content: makeSamplePng(64, 64, 'image'), fileName: 'a.png', mimeType: 'image/png' },
			mask: { content: makeSamplePng(64, 64, 'mask'), fileName: 'm.png', mimeType: 'image/png' },
		}),
	);
/** No file left on the server and no prediction running, within a few seconds. */
const cleanedUp = async (server: FakeReplicate) =>
	await eventually(() => server.stats().files === 0 && server.stats().running === 0, 8_000);

/** A call signed as Replicate signs it, to `url`. */
async function post(server: FakeReplicate, url: string, body: unknown): Promise<number> {
	const text = JSON.stringify(body);
	const response = await fetch(url, {
		method: 'POST',
		headers: signedHeaders(server, text, { key: keyOf(server.webhookSecret) }),
		body: text,
	});
	return response.status;
}

export const waitModeRows: DeliveryRow[] = [
	{
		name: 'the last-created prediction finishes first, a restart before every call',
		run: inProcesses('fresh', async (server, waiting) => await reverseOrder(server, waiting)),
	},
	{
		name: 'calls split over two webhook processes, round-robin',
		run: inProcesses(2, async (server, waiting) => await reverseOrder(server, waiting)),
	},
	{
		name: "Continue On Fail, the last item's create refused (422), calls in other processes",
		run: inProcesses('fresh', async (server, waiting) => {
			server.scriptNextPrediction({ modelTimeMs: 400 });
			server.scriptNextPrediction({ modelTimeMs: 100 });
			server.inject({
				method: 'POST',
				path: /\/predictions$/,
				kind: 'status',
				status: 422,
				skip: 2,
			});
			const { executionId } = await park(
				waiting,
				server,
				{ ...urlInputs(server), ...perItemPrompt },
				{ inputItems: items('a', 'b', 'c'), continueOnFail: true },
			);
			const output = (await waiting.finished(executionId)).items(NODE_NAME);
			expect(output.map((item) => item.json.status ?? 'error')).toEqual([
				'succeeded',
				'succeeded',
				'error',
			]);
			expect(output[2].json.error).toMatch(/422/);
		}),
	},
	{
		name: '60 items of which 57 invalid (Continue On Fail): short resume URLs, one resume',
		run: inProcesses('fresh', async (server, waiting) => {
			const prompts60 = Array.from({ length: 60 }, (_, n) => (n % 20 === 0 ? `ok ${n}` : 'bad'));
			const { executionId } = await park(
				waiting,
				server,
				{
					...urlInputs(server),
					...perItemPrompt,
					options: { width: '={{ $json.prompt === "bad" ? 500 : 512 }}' },
				},
				{ inputItems: items(...prompts60), continueOnFail: true },
			);
			const webhooks = createRequests(server).map(
				(request) => (request.json as { webhook: string }).webhook,
			);
			expect(webhooks).toHaveLength(3);
			expect(Math.max(...webhooks.map((url) => url.length))).toBeLessThan(200);
			const output = (await waiting.finished(executionId)).items(NODE_NAME);
			expect(output).toHaveLength(60);
			expect(output.filter((item) => item.json.status === 'succeeded')).toHaveLength(3);
			expect(output[1].json.error).toMatch(/^Invalid input \(item 1\)/);
		}),
	},
	{
		name: "a genuine delivery of another execution posted to this one's URL: 400, nothing changes",
		run: async (server, waiting, tally) => {
			server.scriptNextPrediction({ modelTimeMs: 1_500 });
			server.scriptNextPrediction({ modelTimeMs: 1_500 });
			await park(waiting, server, { ...urlInputs(server), prompt: 'A' });
			const b = await park(waiting, server, { ...urlInputs(server), prompt: 'B' });
			const predictionA = [...server.predictions.values()].find(
				(prediction) => (prediction.input as { prompt: string }).prompt === 'A',
			);
			const urlB = (createRequests(server)[1].json as { webhook: string }).webhook;
			const status = await post(server, urlB, predictionA);
			if (status < 400) tally.forgedExecutions++;
			expect(status).toBe(400);
			const done = await waiting.finished(b.executionId);
			expect(prompts(done.items(NODE_NAME))).toEqual(['B']);
		},
	},
	{
		name: 'a later create refused (422) after uploads: every uploaded file deleted, nothing left running',
		run: async (server, waiting) => {
			server.set({ modelTimeMs: 30_000 });
			server.inject({
				method: 'POST',
				path: /\/predictions$/,
				kind: 'status',
				status: 422,
				skip: 1,
			});
			const { parked } = await park(waiting, server, UPLOADING, { inputItems: twoUploads() });
			expect(parked.status).toBe('error');
			expect(await cleanedUp(server)).toBe(true);
		},
	},
	{
		name: 'a Stop during the creates, after uploads: every uploaded file deleted, nothing left running',
		run: async (server, waiting) => {
			server.set({ modelTimeMs: 30_000 });
			// The second create's answer is held: the Stop comes while it is on the wire.
			server.inject({ method: 'POST', path: /\/predictions$/, kind: 'delay', ms: 3_000, skip: 1 });
			const { parked } = await park(waiting, server, UPLOADING, {
				inputItems: twoUploads(),
				stopAfterMs: 1_500,
			});
			expect(parked.status).toBe('canceled');
			expect(await cleanedUp(server)).toBe(true);
		},
	},
	{
		name: 'a create whose answer was lost (reset), adopted: the warning is logged',
		run: async (server, waiting) => {
			server.inject({ method: 'POST', path: /\/predictions$/, kind: 'reset-before-response' });
			const { executionId, parked } = await park(waiting, server, urlInputs(server));
			expect(parked.logs.some((line) => /the answer to its create was lost/.test(line))).toBe(true);
			expect(createRequests(server)).toHaveLength(1);
			expect((await waiting.finished(executionId)).status).toBe('success');
		},
	},
];
