/** Messages between the bench (parent) and a measured run in its own child process (worker.ts). */

export type RunKind = 'node' | 'baselineA' | 'baselineB';

export interface WorkerConfig {
	kind: RunKind;
	apiUrl: string;
	token: string;
	sampleImageUrl: string;
	sampleMaskUrl: string;
	items: number;
	/** Max Concurrent Predictions (the node only; the baselines run one item after another). */
	concurrency: number;
	width: number;
	height: number;
	numOutputs: number;
	binaryDataMode: 'default' | 'filesystem';
	/** Diagnostic: a full GC this often during the run, so RSS shows retained memory only. */
	gcEveryMs?: number;
	/** Case 4: one image file per item, read by n8n's Read/Write Files node into the node's binary input. */
	inputFiles?: string[];
	/** Write a V8 CPU profile of the measured run (not of loading and warm-up) to this file. */
	cpuProfile?: string;
	/**
	 * Case 5: the node runs this model (`owner/name`) from its schema, image and mask from each
	 * item's binary fields; unset: the built-in model with its own form, image and mask as URLs.
	 */
	schemaModel?: string;
}

export type ParentMessage =
	| { type: 'config'; config: WorkerConfig }
	| { type: 'warmup' }
	| { type: 'go' }
	| { type: 'exit' };

export interface ItemSummary {
	/** Input item the output belongs to (pairedItem for the node, the loop index for the baselines). */
	inputIndex: number;
	predictionId: string;
	status: string;
	/** The prompt the prediction ran with, to check that outputs follow input order. */
	prompt?: string;
	files: number;
	bytes: number;
	/** Files stored by id (n8n's filesystem mode) rather than in memory. */
	storedById: number;
}

export interface WorkerResult {
	startedAt: number;
	endedAt: number;
	/** RSS after warm-up and a full GC, just before the measured run. */
	baselineRss: number;
	/** Highest RSS seen by the 20 ms sampler during the run. */
	sampledPeakRss: number;
	/** The kernel's VmHWM for the run (reset just before it via /proc/self/clear_refs), or null. */
	hwmRss: number | null;
	samples: number;
	/** V8 figures at the baseline and their peaks during the run (to tell heap from buffers). */
	heap: {
		baselineHeapTotal: number;
		peakHeapTotal: number;
		baselineExternal: number;
		peakExternal: number;
	};
	outputs: ItemSummary[];
	/** CPU time (user + system) of this process during the run, µs. */
	cpuUserMicros: number;
	cpuSystemMicros: number;
	/** Of that, the CPU time of the RSS sampler itself (subtracted in CPU per prediction). */
	samplerCpuMicros: number;
	error?: string;
}

export type WorkerMessage =
	| { type: 'ready' }
	| { type: 'warmed'; error?: string }
	| { type: 'result'; result: WorkerResult };
