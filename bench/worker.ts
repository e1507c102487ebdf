/**
 * One measured run in its own process (forked by run.ts with --expose-gc), so that the peak RSS of
 * one run never mixes with another's: the node through n8n's engine, or one of the baselines.
 *
 * Protocol: parent sends `config`; worker loads what it needs and answers `ready`; for the node the
 * parent then asks for a `warmup` (one item, so n8n's lazily loaded modules and services are in
 * memory before the baseline RSS is taken); then `go`: full GC, baseline RSS, reset of the kernel's
 * peak-RSS counter, the run with a 20 ms RSS sampler, and the `result`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

import { runBaseline, warmUpBaseline } from './baselines';
import type {
	ItemSummary,
	ParentMessage,
	WorkerConfig,
	WorkerMessage,
	WorkerResult,
} from './protocol';

const SAMPLE_EVERY_MS = 20;

function send(message: WorkerMessage): void {
	process.send!(message);
}

function fullGc(): void {
	const gc = (globalThis as { gc?: () => void }).gc;
	if (gc) {
		gc();
		gc();
	}
}

/** Resets VmHWM to the current RSS (Linux ≥ 4.0); false where that is not allowed. */
function resetPeakRss(): boolean {
	try {
		writeFileSync('/proc/self/clear_refs', '5');
		return true;
	} catch {
		return false;
	}
}

function kernelPeakRss(): number | null {
	try {
		const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
		return match ? Number(match[1]) * 1024 : null;
	} catch {
		return null;
	}
}

function promptsFor(count: number): string[] {
	return Array.from({ length: count }, (_, index) => `bench item ${index}: a red armchair`);
}

type NodeRunner = (config: WorkerConfig, items: number, warmUp?: boolean) => Promise<ItemSummary[]>;

async function loadNodeRunner(): Promise<NodeRunner> {
	// Only the node's runs load n8n.
	const { runWorkflow } = await import('../test/harness');
	const { binaryItem, inpaintingWorkflow, readFileWorkflow, CREDENTIAL_ID, NODE_NAME } =
		await import('../test/node/support');
	const { ReplicateInpainting } = await import(
		'../nodes/ReplicateInpainting/ReplicateInpainting.node'
	);
	const { credentialOptions } = await import('../test/support/credentials');
	const { makeSamplePng } = await import('../tools/fake-replicate');
	return async (config, items, warmUp = false) => {
		const prompts = promptsFor(items);
		const maxConcurrent = config.concurrency;
		const options = {
			width: config.width,
			height: config.height,
			numOutputs: config.numOutputs,
			maxConcurrent,
		};
		// Case 5 warms up with the built-in model: the node keeps a model's schema for a minute in the
		// process, so a warm-up with the schema model would hide the one read an execution pays.
		const schemaModel = warmUp ? undefined : config.schemaModel;
		// Case 4: Read/Write Files puts each file into binary `data` (in n8n's store), the node uploads it.
		const files = config.inputFiles?.slice(0, items);
		let workflow;
		let inputItems;
		if (schemaModel) {
			// Case 5: the model's own form (Model Inputs), image and mask from the item's binary fields.
			workflow = inpaintingWorkflow({
				operation: 'createAndWait',
				model: { __rl: true, mode: 'name', value: schemaModel },
				modelInputs: {
					mappingMode: 'defineBelow',
					value: {
						prompt: '={{ $json.prompt }}',
						image: 'data',
						mask: 'mask',
						output_format: 'png',
					},
					matchingColumns: [],
					schema: [],
				},
				options: { maxConcurrent },
			});
			const image = makeSamplePng(config.width, config.height, 'image');
			const mask = makeSamplePng(config.width, config.height, 'mask');
			inputItems = prompts.map((prompt) =>
				binaryItem(
					{
						data: { content: image, fileName: 'image.png', mimeType: 'image/png' },
						mask: { content: mask, fileName: 'mask.png', mimeType: 'image/png' },
					},
					{ prompt },
				),
			);
		} else if (files) {
			workflow = readFileWorkflow('={{ $json.path }}', {
				operation: 'createAndWait',
				imageSource: 'binary',
				maskSource: 'url',
				maskUrl: config.sampleMaskUrl,
				prompt: '=bench item {{ $itemIndex }}: a red armchair',
				options,
			});
			inputItems = files.map((file) => ({ json: { path: file } }));
		} else {
			workflow = inpaintingWorkflow({
				operation: 'createAndWait',
				imageSource: 'url',
				imageUrl: config.sampleImageUrl,
				maskSource: 'url',
				maskUrl: config.sampleMaskUrl,
				prompt: '={{ $json.prompt }}',
				options,
			});
			inputItems = prompts.map((prompt) => ({ json: { prompt } }));
		}
		const result = await runWorkflow({
			workflow,
			nodeTypes: [ReplicateInpainting],
			...credentialOptions({ apiToken: config.token, baseUrl: config.apiUrl }, CREDENTIAL_ID),
			inputItems,
			binaryDataMode: config.binaryDataMode,
		});
		const error = result.nodeError(NODE_NAME);
		if (error) throw new Error(`the node failed: ${error.message}`);
		return result.items(NODE_NAME).map((item) => {
			const paired = item.pairedItem;
			const inputIndex =
				typeof paired === 'object' && paired !== null && !Array.isArray(paired) ? paired.item : -1;
			const binaries = Object.values(item.binary ?? {});
			return {
				inputIndex,
				predictionId: String(item.json.id),
				status: String(item.json.status),
				prompt: (item.json.input as { prompt?: string } | undefined)?.prompt,
				files: binaries.length,
				bytes: binaries.reduce((sum, binary) => sum + (binary.bytes ?? 0), 0),
				storedById: binaries.filter((binary) => binary.id !== undefined).length,
			};
		});
	};
}

async function main(): Promise<void> {
	let config: WorkerConfig | undefined;
	let runNode: NodeRunner | undefined;
	process.on('message', (message: ParentMessage) => {
		void handle(message).catch((error: unknown) => {
			process.stderr.write(`bench worker: ${(error as Error).stack ?? String(error)}\n`);
			process.exit(3);
		});
	});

	async function handle(message: ParentMessage): Promise<void> {
		if (message.type === 'config') {
			config = message.config;
			if (config.kind === 'node') runNode = await loadNodeRunner();
			send({ type: 'ready' });
			return;
		}
		// process.exit runs the harness's exit hook, which removes its temp dir (binary data files).
		if (message.type === 'exit') process.exit(0);
		if (!config) throw new Error('no config yet');
		if (message.type === 'warmup') {
			let error: string | undefined;
			try {
				if (runNode) await runNode(config, 1, true);
				else await warmUpBaseline(config);
			} catch (failure) {
				error = (failure as Error).message;
			}
			send({ type: 'warmed', error });
			return;
		}
		// go
		const prompts = promptsFor(config.items);
		fullGc();
		const before = process.memoryUsage();
		const baselineRss = before.rss;
		const heap = {
			baselineHeapTotal: before.heapTotal,
			peakHeapTotal: before.heapTotal,
			baselineExternal: before.external,
			peakExternal: before.external,
		};
		const hwmReset = resetPeakRss();
		let sampledPeakRss = baselineRss;
		let samples = 0;
		// The sampler's own CPU is counted apart: it runs per wall-clock second, not per prediction,
		// and the baselines run 8× longer than the node.
		let samplerCpu = 0;
		const sample = () => {
			const before = process.cpuUsage();
			samples++;
			const now = process.memoryUsage();
			sampledPeakRss = Math.max(sampledPeakRss, now.rss);
			heap.peakHeapTotal = Math.max(heap.peakHeapTotal, now.heapTotal);
			heap.peakExternal = Math.max(heap.peakExternal, now.external);
			const spent = process.cpuUsage(before);
			samplerCpu += spent.user + spent.system;
		};
		const sampler = setInterval(sample, SAMPLE_EVERY_MS);
		const gc = (globalThis as { gc?: () => void }).gc;
		const collector =
			config.gcEveryMs && gc ? setInterval(() => gc(), config.gcEveryMs) : undefined;
		const profiler = config.cpuProfile ? new Session() : undefined;
		if (profiler) {
			profiler.connect();
			await profiler.post('Profiler.enable');
			await profiler.post('Profiler.start');
		}
		const cpuBefore = process.cpuUsage();
		const startedAt = Date.now();
		let outputs: ItemSummary[] = [];
		let error: string | undefined;
		try {
			outputs =
				config.kind === 'node'
					? await runNode!(config, config.items)
					: await runBaseline(config.kind, config, prompts);
		} catch (failure) {
			error = (failure as Error).message;
		}
		const endedAt = Date.now();
		const cpu = process.cpuUsage(cpuBefore);
		if (profiler) {
			const { profile } = await profiler.post('Profiler.stop');
			writeFileSync(config.cpuProfile!, JSON.stringify(profile));
			profiler.disconnect();
		}
		clearInterval(sampler);
		clearInterval(collector);
		sample();
		const result: WorkerResult = {
			startedAt,
			endedAt,
			baselineRss,
			sampledPeakRss,
			hwmRss: hwmReset ? kernelPeakRss() : null,
			samples,
			heap,
			outputs,
			cpuUserMicros: cpu.user,
			cpuSystemMicros: cpu.system,
			samplerCpuMicros: samplerCpu,
			error,
		};
		send({ type: 'result', result });
	}
}

void main();
