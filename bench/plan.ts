/**
 * What the bench runs: the five cases with their defaults, and the command-line flags that select
 * and override them.
 */
import type { RunKind } from './protocol';

export const MB = 1024 * 1024;

/** One measured run of a case: the node in one binary mode, or a baseline. */
export interface RunPlan {
	label: string;
	kind: RunKind;
	binaryDataMode: 'default' | 'filesystem';
	/** A diagnostic run: full GC this often, to show retained memory apart from GC lag; no target. */
	gcEveryMs?: number;
	/** This run's model time T, where it differs from the case's (case 2's sweep). */
	modelTimeMs?: number;
	/** Case 5: a model other than the built-in one, run from its schema (`owner/name`). */
	schemaModel?: string;
}

export interface CaseDef {
	id: number;
	title: string;
	items: number;
	modelTimeMs: number;
	concurrency: number;
	honourPreferWait: boolean;
	numOutputs: number;
	size: number;
	/** Outputs padded (a valid PNG with a private chunk) to this many bytes; 0 = as rendered. */
	outputBytes: number;
	/** Case 4: each item's image input is a file of this many bytes (read into n8n's binary store). */
	inputBytes?: number;
	runs: RunPlan[];
}

const NODE_RUN: RunPlan = { label: 'node', kind: 'node', binaryDataMode: 'default' };
const BASELINES: RunPlan[] = [
	{ label: '(a) create, poll every 5 s, one by one', kind: 'baselineA', binaryDataMode: 'default' },
	{
		label: '(b) Prefer: wait, poll 500 ms, one by one',
		kind: 'baselineB',
		binaryDataMode: 'default',
	},
];

/** As large as an uncompressed 1024×1024 RGB image: the upper end of a real 1024² PNG. */
const CASE3_OUTPUT_BYTES = 3 * MB;
/** Case 2 runs the node at each of these T (s), so the poll schedule is not tuned to one T. */
const CASE2_SWEEP_S = [8, 9, 10, 11, 12];
/** Case 3's filesystem figure is the median of this many runs. */
const CASE3_REPEATS = 3;
const CASE4_INPUT_BYTES = 25 * MB;
/** Case 5's schema models: an official one (run by name) and a versioned one (run by version id). */
const CASE5_SCHEMA_MODELS = ['black-forest-labs/flux-fill-pro', 'black-forest-labs/flux-fill-dev'];
const CASE_IDS = [1, 2, 3, 4, 5];

/** Case 1's load; case 5 runs the same load with schema models beside the built-in one. */
const CASE_1_LOAD = {
	items: 40,
	modelTimeMs: 2_000,
	concurrency: 8,
	honourPreferWait: true,
	numOutputs: 1,
	size: 512,
	outputBytes: 0,
};

function defaultCases(): CaseDef[] {
	return [
		{
			id: 1,
			title: 'many items, the server honours Prefer: wait',
			...CASE_1_LOAD,
			runs: [NODE_RUN, ...BASELINES],
		},
		{
			id: 2,
			title: 'a gateway that ignores Prefer: wait (polling)',
			items: 16,
			modelTimeMs: 10_000,
			concurrency: 8,
			honourPreferWait: false,
			numOutputs: 1,
			size: 512,
			outputBytes: 0,
			runs: [
				...CASE2_SWEEP_S.map((t) => ({
					...NODE_RUN,
					label: `node, T = ${t} s`,
					modelTimeMs: t * 1000,
				})),
				...BASELINES,
			],
		},
		{
			id: 3,
			title: 'memory: 4 outputs of 1024×1024 per item, n8n filesystem and memory binary modes',
			items: 40,
			modelTimeMs: 2_000,
			concurrency: 8,
			honourPreferWait: true,
			numOutputs: 4,
			size: 1024,
			outputBytes: CASE3_OUTPUT_BYTES,
			runs: [
				...Array.from(
					{ length: CASE3_REPEATS },
					(_, k): RunPlan => ({
						label: `node, filesystem mode, run ${k + 1}`,
						kind: 'node',
						binaryDataMode: 'filesystem',
					}),
				),
				{ label: 'node, memory (default) mode', kind: 'node', binaryDataMode: 'default' },
				{
					label: 'diagnostic: node, filesystem mode, full GC every 100 ms',
					kind: 'node',
					binaryDataMode: 'filesystem',
					gcEveryMs: 100,
				},
			],
		},
		{
			id: 4,
			title:
				"streamed inputs: a 25 MB image per item, uploaded to /files from n8n's filesystem binary store",
			items: 20,
			modelTimeMs: 2_000,
			concurrency: 4,
			honourPreferWait: true,
			numOutputs: 1,
			size: 512,
			outputBytes: 0,
			inputBytes: CASE4_INPUT_BYTES,
			runs: [{ label: 'node, filesystem mode', kind: 'node', binaryDataMode: 'filesystem' }],
		},
		{
			id: 5,
			title: "any model: a schema model through case 1's path, next to the built-in model",
			...CASE_1_LOAD,
			runs: [
				{ ...NODE_RUN, label: 'node, built-in model (as case 1)' },
				...CASE5_SCHEMA_MODELS.map(
					(model): RunPlan => ({ ...NODE_RUN, label: `node, ${model}`, schemaModel: model }),
				),
			],
		},
	];
}

const USAGE = `npm run bench [-- options]
  --case 1,2,3,4,5    cases to run (repeatable; default all five)
  --load              a second process keeps one core busy for the whole bench
  --cpu-prof DIR      write a V8 CPU profile of each node run (the measured run only) to DIR
  --n N               items (overrides every selected case)
  --t SECONDS         model time T
  --c C               Max Concurrent Predictions of the node
  --outputs K         outputs per prediction
  --size PX           width and height (multiple of 64, ≤ 1024)
  --output-bytes B    pad each output file to B bytes (0 = as rendered; case 3 default ${CASE3_OUTPUT_BYTES})
  --modes LIST        case 3 binary modes: filesystem,default
  --no-diagnostic     skip case 3's diagnostic run (filesystem mode with a full GC every 100 ms)
  --baselines         also run the baselines in case 3
  --no-baselines      skip the baselines (node only)
  --dump DIR          write each run's raw records (server requests, predictions, worker result) as JSON
  --help`;

export interface Overrides {
	cases?: number[];
	items?: number;
	modelTimeMs?: number;
	concurrency?: number;
	numOutputs?: number;
	size?: number;
	outputBytes?: number;
	modes?: Array<'filesystem' | 'default'>;
	baselines?: boolean;
	diagnostic?: boolean;
	/** Directory to write each run's raw server records and worker result to (JSON). */
	dump?: string;
	load?: boolean;
	cpuProf?: string;
}

type NumberOverride =
	| 'items'
	| 'modelTimeMs'
	| 'concurrency'
	| 'numOutputs'
	| 'size'
	| 'outputBytes';

/** Flags that take a number: the override they set, whether 0 is allowed, the unit's factor. */
const NUMBER_FLAGS = new Map<string, { key: NumberOverride; allowZero?: boolean; scale?: number }>([
	['--n', { key: 'items' }],
	['--t', { key: 'modelTimeMs', allowZero: true, scale: 1000 }],
	['--c', { key: 'concurrency' }],
	['--outputs', { key: 'numOutputs' }],
	['--size', { key: 'size' }],
	['--output-bytes', { key: 'outputBytes', allowZero: true }],
]);

/** Flags that take a directory. */
const DIRECTORY_FLAGS = new Map<string, 'dump' | 'cpuProf'>([
	['--dump', 'dump'],
	['--cpu-prof', 'cpuProf'],
]);

/** Flags that take no value: what each sets. */
const SWITCHES = new Map<string, Overrides>([
	['--load', { load: true }],
	['--baselines', { baselines: true }],
	['--no-baselines', { baselines: false }],
	['--no-diagnostic', { diagnostic: false }],
]);

/** `--flag value` or `--flag=value`; prints the usage and exits on --help. */
export function parseArgs(argv: string[]): Overrides {
	const overrides: Overrides = {};
	const positive = (flag: string, raw: string | undefined, allowZero = false): number => {
		const value = Number(raw);
		if (raw === undefined || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
			throw new Error(`${flag} needs a ${allowZero ? 'non-negative' : 'positive'} number`);
		}
		return value;
	};
	for (let i = 0; i < argv.length; i++) {
		const arg = argv[i];
		const eq = arg.indexOf('=');
		const flag = eq > 0 ? arg.slice(0, eq) : arg;
		const value = () => (eq > 0 ? arg.slice(eq + 1) : argv[++i]);
		switch (flag) {
			case '--case':
			case '--cases':
				overrides.cases = [
					...(overrides.cases ?? []),
					...String(value())
						.split(',')
						.map((part) => {
							const id = Number(part.trim());
							if (!CASE_IDS.includes(id))
								throw new Error(`--case takes one of ${CASE_IDS.join(', ')} (got "${part}")`);
							return id;
						}),
				];
				break;
			case '--modes':
				overrides.modes = String(value())
					.split(',')
					.map((mode) => {
						const trimmed = mode.trim();
						if (trimmed !== 'filesystem' && trimmed !== 'default')
							throw new Error(`--modes takes filesystem and/or default (got "${mode}")`);
						return trimmed;
					});
				break;
			case '--help':
			case '-h':
				process.stdout.write(`${USAGE}\n`);
				process.exit(0);
				break;
			default: {
				const number = NUMBER_FLAGS.get(flag);
				const directory = DIRECTORY_FLAGS.get(flag);
				const setting = SWITCHES.get(flag);
				if (number)
					overrides[number.key] = Math.round(
						positive(flag, value(), number.allowZero) * (number.scale ?? 1),
					);
				else if (directory) overrides[directory] = String(value());
				else if (setting) Object.assign(overrides, setting);
				else throw new Error(`unknown argument ${arg}\n${USAGE}`);
			}
		}
	}
	return overrides;
}

/** The default cases, selected and overridden by the flags. */
export function plannedCases(o: Overrides): CaseDef[] {
	const cases = defaultCases();
	const selected = o.cases ? cases.filter((c) => o.cases!.includes(c.id)) : cases;
	return selected.map((c) => {
		let runs = c.runs;
		if (o.modelTimeMs !== undefined) {
			// --t: one node run at that T instead of the sweep.
			const sweep = runs.filter((run) => run.modelTimeMs !== undefined);
			if (sweep.length)
				runs = [
					{ ...sweep[0], label: 'node', modelTimeMs: undefined },
					...runs.filter((run) => run.modelTimeMs === undefined),
				];
		}
		if (c.id === 3 && o.modes) runs = runs.filter((run) => o.modes!.includes(run.binaryDataMode));
		if (o.baselines === false) runs = runs.filter((run) => run.kind === 'node');
		if (o.diagnostic === false) runs = runs.filter((run) => run.gcEveryMs === undefined);
		if (o.baselines === true && !runs.some((run) => run.kind !== 'node'))
			runs = [...runs, ...BASELINES];
		return {
			...c,
			items: o.items ?? c.items,
			modelTimeMs: o.modelTimeMs ?? c.modelTimeMs,
			concurrency: o.concurrency ?? c.concurrency,
			numOutputs: o.numOutputs ?? c.numOutputs,
			size: o.size ?? c.size,
			outputBytes: o.outputBytes ?? c.outputBytes,
			runs,
		};
	});
}

/** One line: the case's N, T, C, outputs and server behaviour. */
export function describeCase(def: CaseDef): string {
	const size = `${def.size}×${def.size}`;
	const bytes =
		def.outputBytes > 0
			? `, each output padded to ${(def.outputBytes / MB).toFixed(2)} MB`
			: ', outputs as rendered';
	return (
		`N = ${def.items}, T = ${def.modelTimeMs / 1000} s, C = ${def.concurrency}, ${def.numOutputs} output(s) of ${size}${bytes}; ` +
		`server ${def.honourPreferWait ? 'honours' : 'ignores'} Prefer: wait`
	);
}
