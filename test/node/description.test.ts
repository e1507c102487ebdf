/** The UI's limits and defaults are the schema's: a drift between them would let bad input through the form. */
import type { INodeProperties } from 'n8n-workflow';

import { ReplicateInpainting } from '../../nodes/ReplicateInpainting/ReplicateInpainting.node';
import { DEFAULTS, DEFAULT_MODEL_VERSION, DIMENSIONS, RANGES, SCHEDULERS } from '../../nodes/ReplicateInpainting/schema/modelInput';

const properties = new ReplicateInpainting().description.properties;

/** The create operations' copy of a field (the same field exists once per operation). */
function field(name: string, parent?: string): INodeProperties {
	const scope = parent
		? (properties.find((p) => p.name === parent && p.displayOptions?.show?.operation?.includes('createAndWait'))
				?.options as INodeProperties[])
		: properties.filter((p) => p.displayOptions?.show?.operation?.includes('createAndWait'));
	const found = scope.find((p) => p.name === name);
	if (!found) throw new Error(`no field ${name}`);
	return found;
}

it.each([
	['width', 'width'],
	['height', 'height'],
])('%s offers exactly the model\'s dimensions, defaulting to its default', (name, apiName) => {
	const property = field(name);
	expect(property.options?.map((option) => (option as { value: number }).value)).toEqual(DIMENSIONS);
	expect(property.default).toBe(DEFAULTS[apiName as 'width' | 'height']);
});

it.each([
	['numOutputs', 'num_outputs'],
	['numInferenceSteps', 'num_inference_steps'],
	['guidanceScale', 'guidance_scale'],
] as const)('%s has the model\'s range and default', (name, apiName) => {
	const property = field(name);
	expect(property.typeOptions).toMatchObject({ minValue: RANGES[apiName].min, maxValue: RANGES[apiName].max });
	expect(property.default).toBe(DEFAULTS[apiName]);
});

it('scheduler, prompt, version and safety checker default to the model\'s defaults', () => {
	expect(field('scheduler').options?.map((option) => (option as { value: string }).value)).toEqual([...SCHEDULERS]);
	expect(field('scheduler').default).toBe(DEFAULTS.scheduler);
	expect(field('prompt').default).toBe(DEFAULTS.prompt);
	expect(field('modelVersion').default).toBe(DEFAULT_MODEL_VERSION);
	expect(field('disableSafetyChecker', 'additionalFields').default).toBe(DEFAULTS.disable_safety_checker);
});
