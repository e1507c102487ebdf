/** The UI's limits and defaults are the schema's: a drift between them would let bad input through the form. */
import type { INodeProperties } from 'n8n-workflow';

import { ReplicateInpainting } from '../../nodes/ReplicateInpainting/ReplicateInpainting.node';
import {
	DEFAULTS,
	DIMENSIONS,
	MODEL_NAME,
	RANGES,
	SCHEDULER_NAMES,
	SCHEDULERS,
} from '../../nodes/ReplicateInpainting/schema/modelInput';

const properties = new ReplicateInpainting().description.properties;

function shownFor(operation: string): INodeProperties[] {
	return properties.filter((p) => p.displayOptions?.show?.operation?.includes(operation));
}

function optionsOf(operation: string): INodeProperties[] {
	return shownFor(operation).find((p) => p.name === 'options')?.options as INodeProperties[];
}

/** The create operations' copy of a tuning field, in their Options collection. */
function option(name: string, operation = 'createAndWait'): INodeProperties {
	const found = optionsOf(operation).find((p) => p.name === name);
	if (!found) throw new Error(`no option ${name}`);
	return found;
}

it.each([
	['width', 'width'],
	['height', 'height'],
])("%s offers exactly the model's dimensions, defaulting to its default", (name, apiName) => {
	const property = option(name);
	expect(property.options?.map((entry) => (entry as { value: number }).value)).toEqual(DIMENSIONS);
	expect(property.default).toBe(DEFAULTS[apiName as 'width' | 'height']);
});

it.each([
	['numOutputs', 'num_outputs'],
	['numInferenceSteps', 'num_inference_steps'],
	['guidanceScale', 'guidance_scale'],
] as const)("%s has the model's range and default", (name, apiName) => {
	const property = option(name);
	expect(property.typeOptions).toMatchObject({
		minValue: RANGES[apiName].min,
		maxValue: RANGES[apiName].max,
	});
	expect(property.default).toBe(DEFAULTS[apiName]);
});

it("scheduler, version and safety checker default to the model's defaults; schedulers are named in words", () => {
	const scheduler = option('scheduler');
	const offered = scheduler.options as Array<{ name: string; value: string }>;
	expect(offered.map((entry) => entry.value).sort()).toEqual([...SCHEDULERS].sort());
	expect(offered.map((entry) => entry.name)).toEqual(
		SCHEDULERS.map((value) => SCHEDULER_NAMES[value]),
	);
	expect(offered.every((entry) => entry.name !== entry.value)).toBe(true);
	expect(scheduler.default).toBe(DEFAULTS.scheduler);
	// Empty: the built-in model runs the version it was built for (checkItem), any other its latest.
	expect(option('modelVersion').default).toEqual({ mode: 'list', value: '' });
	expect(option('disableSafetyChecker').default).toBe(DEFAULTS.disable_safety_checker);
});

it("Prompt is required and empty (the model's own default would be painted for anyone who forgot it)", () => {
	const prompt = shownFor('createAndWait').find((p) => p.name === 'prompt');
	expect(prompt).toMatchObject({ required: true, default: '' });
	expect(prompt?.placeholder).toMatch(/^e\.g\. /);
});

it('Seed starts empty (random), not at 0, which would read as a fixed seed', () => {
	expect(option('seed')).toMatchObject({ default: '', placeholder: 'Random' });
});

it.each(['createAndWait', 'createOnly'])(
	'%s shows the fields a user must set first, everything else in one Options collection',
	(operation) => {
		const names = shownFor(operation).map((p) => p.name);
		expect(names.slice(0, 8)).toEqual([
			'model',
			'prompt',
			'imageSource',
			'imageUrl',
			'imageBinaryProperty',
			'maskSource',
			'maskUrl',
			'maskBinaryProperty',
		]);
		expect(names[names.length - 1]).toBe('options');
		// The built-in model's form shows for it alone; any other model gets the Model Inputs mapper.
		const shown = (name: string) => shownFor(operation).find((p) => p.name === name);
		expect(shown('prompt')?.displayOptions?.show?.model).toEqual([MODEL_NAME]);
		expect(shown('modelInputs')?.displayOptions?.hide?.model).toEqual([MODEL_NAME]);
		expect(shown('model')?.default).toEqual({ mode: 'list', value: MODEL_NAME });
		expect(
			names.filter(
				(name) => shownFor(operation).find((p) => p.name === name)?.type === 'collection',
			),
		).toEqual(['options']);
		expect(optionsOf(operation).map((p) => p.name)).toEqual(
			expect.arrayContaining([
				'modelVersion',
				'width',
				'height',
				'numOutputs',
				'scheduler',
				'seed',
				'negativePrompt',
			]),
		);
	},
);

it.each(['createAndWait', 'createOnly', 'get', 'cancel'])(
	'%s lists its options in alphabetical order',
	(operation) => {
		const labels = optionsOf(operation).map((p) => p.displayName);
		expect(labels).toEqual([...labels].sort((a, b) => a.localeCompare(b)));
	},
);

it('Get shows Timeout only when it waits for completion', () => {
	const timeout = optionsOf('get').find((p) => p.name === 'timeout');
	expect(timeout?.displayOptions).toEqual({ show: { '/waitForCompletion': [true] } });
	expect(shownFor('get').map((p) => p.name)).toEqual([
		'predictionId',
		'waitForCompletion',
		'options',
	]);
});

it('binary inputs say "Binary Field Name", and the mask field says how to get two files onto one item', () => {
	const fields = shownFor('createAndWait');
	expect(fields.find((p) => p.name === 'imageBinaryProperty')?.displayName).toBe(
		'Image Binary Field Name',
	);
	expect(fields.find((p) => p.name === 'maskBinaryProperty')?.hint).toMatch(/Merge node/);
	expect(fields.find((p) => p.name === 'maskUrl')?.placeholder).toContain('mask.png');
});

it('the canvas subtitle names the operation as the form does', () => {
	const { subtitle } = new ReplicateInpainting().description;
	const operation = properties.find((p) => p.name === 'operation')!;
	const names = (operation.options as Array<{ name: string; value: string }>).map(
		({ name, value }) => [value, name],
	);
	// The expression body is a JSON object indexed by the operation: evaluate that object.
	const table = JSON.parse(
		/^=\{\{ (\{.*\})\[\$parameter\["operation"\]\] \}\}$/.exec(subtitle ?? '')![1],
	) as Record<string, string>;
	expect(Object.entries(table)).toEqual(names);
	expect(table.createAndWait).toBe('Create and Wait');
});
