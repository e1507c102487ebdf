/**
 * The codex files decide where n8n's nodes panel lists the nodes. n8n's editor (1.123 and 2.40,
 * `filterOutAiNodes` in the editor bundle) hides from the panel's search every node whose codex
 * categories include "AI" unless its AI subcategories include "Root Nodes"; both nodes were
 * unfindable by name that way. These checks keep them out of that filter and findable by alias.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

interface Codex {
	node: string;
	categories?: string[];
	subcategories?: Record<string, string[]>;
	alias?: string[];
}

const codexFiles = [
	'nodes/ReplicateInpainting/ReplicateInpainting.node.json',
	'nodes/ReplicateInpaintingTrigger/ReplicateInpaintingTrigger.node.json',
];

function readCodex(path: string): Codex {
	return JSON.parse(readFileSync(join(__dirname, '..', '..', path), 'utf8')) as Codex;
}

/** The editor's rule, as a predicate: would the nodes panel's search hide this node? */
function hiddenFromPanelSearch(codex: Codex): boolean {
	const isAi = codex.categories?.includes('AI') ?? false;
	const isRoot = codex.subcategories?.AI?.includes('Root Nodes') ?? false;
	return isAi && !isRoot;
}

it.each(codexFiles)('%s is not hidden by the nodes panel AI filter', (path) => {
	const codex = readCodex(path);
	expect(codex.categories?.length).toBeGreaterThan(0);
	expect(hiddenFromPanelSearch(codex)).toBe(false);
});

it.each(codexFiles)('%s is found by "replicate" and "inpaint"', (path) => {
	const codex = readCodex(path);
	expect(codex.alias).toEqual(expect.arrayContaining(['replicate', 'inpaint']));
});

it('the predicate catches the codex that hid the nodes', () => {
	expect(
		hiddenFromPanelSearch({
			node: 'x',
			categories: ['AI'],
			subcategories: { AI: ['Image Generation'] },
		}),
	).toBe(true);
});
