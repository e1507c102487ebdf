/**
 * What users do today, against the same server, one item after another:
 * (a) the n8n HTTP Request + Wait loop: create without Prefer, then GET every 5 s until terminal;
 * (b) the official client's run() in a loop: create with `Prefer: wait=60`, poll every 500 ms
 *     while not terminal (always, behind a gateway that ignores Prefer: wait).
 * Both download every output (into memory, as such a loop would) before the next item.
 */
import { Agent, request } from 'undici';

import { DEFAULT_MODEL_VERSION } from '../nodes/ReplicateInpainting/schema/modelInput';
import type { ItemSummary, WorkerConfig } from './protocol';

const TERMINAL = new Set(['succeeded', 'failed', 'canceled', 'aborted']);

export const BASELINE_POLL_MS = { baselineA: 5_000, baselineB: 500 } as const;

interface ApiPrediction {
	id: string;
	status: string;
	output: string[] | string | null;
	input?: { prompt?: string };
	urls: { get: string };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Loads and exercises undici once (an authenticated API call and one file download, no
 * prediction), so that the loop's RSS baseline is taken with its HTTP client in memory, as the
 * node's is after its warm-up.
 */
export async function warmUpBaseline(config: WorkerConfig): Promise<void> {
	const account = await request(`${config.apiUrl}/account`, {
		headers: { authorization: `Bearer ${config.token}` },
	});
	await account.body.text();
	const sample = await request(config.sampleImageUrl);
	await sample.body.arrayBuffer();
}

export async function runBaseline(
	kind: 'baselineA' | 'baselineB',
	config: WorkerConfig,
	prompts: string[],
): Promise<ItemSummary[]> {
	const dispatcher = new Agent({ keepAliveTimeout: 30_000 });
	const auth = { authorization: `Bearer ${config.token}`, 'user-agent': `bench-${kind}` };
	const api = async (
		method: 'GET' | 'POST',
		url: string,
		body?: unknown,
		extra: Record<string, string> = {},
	) => {
		const response = await request(url, {
			method,
			dispatcher,
			headers: {
				...auth,
				...extra,
				...(body === undefined ? {} : { 'content-type': 'application/json' }),
			},
			body: body === undefined ? undefined : JSON.stringify(body),
			headersTimeout: 120_000,
		});
		const text = await response.body.text();
		if (response.statusCode >= 400)
			throw new Error(`${method} ${url}: HTTP ${response.statusCode} ${text.slice(0, 200)}`);
		return JSON.parse(text) as ApiPrediction;
	};
	const outputs: ItemSummary[] = [];
	try {
		for (let index = 0; index < config.items; index++) {
			const body = {
				version: DEFAULT_MODEL_VERSION.split(':')[1],
				input: {
					prompt: prompts[index],
					image: config.sampleImageUrl,
					mask: config.sampleMaskUrl,
					width: config.width,
					height: config.height,
					num_outputs: config.numOutputs,
				},
			};
			let prediction = await api(
				'POST',
				`${config.apiUrl}/predictions`,
				body,
				kind === 'baselineB' ? { prefer: 'wait=60' } : {},
			);
			while (!TERMINAL.has(prediction.status)) {
				await sleep(BASELINE_POLL_MS[kind]);
				prediction = await api('GET', prediction.urls.get);
			}
			const urls = prediction.status === 'succeeded' ? [prediction.output ?? []].flat() : [];
			let bytes = 0;
			for (const url of urls) {
				const response = await request(url, { dispatcher });
				const content = Buffer.from(await response.body.arrayBuffer());
				if (response.statusCode >= 400) throw new Error(`GET ${url}: HTTP ${response.statusCode}`);
				bytes += content.length;
			}
			outputs.push({
				inputIndex: index,
				predictionId: prediction.id,
				status: prediction.status,
				prompt: prediction.input?.prompt,
				files: urls.length,
				bytes,
				storedById: 0,
			});
		}
	} finally {
		await dispatcher.close();
	}
	return outputs;
}
