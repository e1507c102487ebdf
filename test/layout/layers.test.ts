/**
 * The house rules of nodes/ (docs/ARCHITECTURE.md, Layout), checked on the source: every import
 * points down the layers, the trigger takes nothing from the action node's folders, and a file is
 * one idea (no separator between halves; no small file split off for a single importer).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../..');

/** Lowest first; a file may import from its own layer or any below it. */
const LAYERS: Array<{ name: string; matches: RegExp }> = [
	{ name: 'leaf', matches: /^nodes\/shared\/(errors|pause|imageType|headers)\.ts$/ },
	{ name: 'transport', matches: /^nodes\/shared\/transport\// },
	{ name: 'api', matches: /^nodes\/shared\/api\// },
	{ name: 'shared services', matches: /^nodes\/shared\/(outputs\/|webhooks\/|options\.ts$)/ },
	{ name: 'node engine', matches: /^nodes\/ReplicateInpainting\/(engine|schema|methods)\// },
	{ name: 'operations', matches: /^nodes\/ReplicateInpainting\/actions\// },
	{ name: 'node types', matches: /\.(node|credentials)\.ts$/ },
];

function layerOf(file: string): number {
	const index = LAYERS.findIndex((layer) => layer.matches.test(file));
	if (index < 0) throw new Error(`${file} is in no layer`);
	return index;
}

function sourceFiles(dir: string): string[] {
	return fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
		const relative = `${dir}/${entry.name}`;
		if (entry.isDirectory()) return sourceFiles(relative);
		return entry.name.endsWith('.ts') ? [relative] : [];
	});
}

/** The project files a file imports (relative specifiers only), as repo paths. */
function projectImports(file: string): string[] {
	const text = fs.readFileSync(path.join(root, file), 'utf8');
	const specifiers = [...text.matchAll(/from '(\.[^']+)'/g)].map((match) => match[1]);
	return specifiers.map((specifier) => {
		const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
		return fs.existsSync(path.join(root, target, 'index.ts'))
			? `${target}/index.ts`
			: `${target}.ts`;
	});
}

const linesOf = (file: string) => fs.readFileSync(path.join(root, file), 'utf8').split('\n');

const files = [...sourceFiles('nodes'), ...sourceFiles('credentials')];

describe('layers of nodes/', () => {
	it('finds the tree it checks', () => {
		expect(files).toContain('nodes/shared/transport/request.ts');
		expect(files).toContain('nodes/ReplicateInpaintingTrigger/ReplicateInpaintingTrigger.node.ts');
	});

	it('every import points to its own layer or one below', () => {
		const upward = files.flatMap((file) =>
			projectImports(file)
				.filter((target) => layerOf(target) > layerOf(file))
				.map(
					(target) =>
						`${file} (${LAYERS[layerOf(file)].name}) imports ${target} (${LAYERS[layerOf(target)].name})`,
				),
		);
		expect(upward).toEqual([]);
	});

	it('leaf modules import nothing of the project', () => {
		const leafImports = files
			.filter((file) => layerOf(file) === 0)
			.flatMap((file) => projectImports(file).map((target) => `${file} imports ${target}`));
		expect(leafImports).toEqual([]);
	});

	it('nothing shared, and not the trigger, imports from the action node', () => {
		const reaching = files
			.filter((file) => !file.startsWith('nodes/ReplicateInpainting/'))
			.flatMap((file) =>
				projectImports(file)
					.filter((target) => target.startsWith('nodes/ReplicateInpainting/'))
					.map((target) => `${file} imports ${target}`),
			);
		expect(reaching).toEqual([]);
	});

	it('every import names a file that exists', () => {
		const missing = files.flatMap((file) =>
			projectImports(file)
				.filter((target) => !fs.existsSync(path.join(root, target)))
				.map((target) => `${file} imports ${target}`),
		);
		expect(missing).toEqual([]);
	});

	// One idea per file, in two checkable halves. A separator comment (a line of dashes, equals
	// signs or a #region) between two parts says they are two files. And a small file that only
	// one other file imports was split off by size, not by idea: it belongs in its importer.
	it('no file has a separator between two halves', () => {
		const separated = files.flatMap((file) =>
			linesOf(file)
				.map((line, index) => ({ line, number: index + 1 }))
				.filter(({ line }) => /^\s*(\/\/|\/?\*)\s*([-=*#]{4,}|#?region\b)/.test(line))
				.map(({ number }) => `${file}:${number}`),
		);
		expect(separated).toEqual([]);
	});

	// Node types, operations, indexes and API resource modules (one per Replicate resource) are
	// files by rule, whatever their size.
	it('no other file under 40 lines has only one importer', () => {
		const importers = new Map<string, number>();
		for (const file of files)
			for (const target of new Set(projectImports(file)))
				importers.set(target, (importers.get(target) ?? 0) + 1);
		const byRule = /(\.node|\.credentials|\.operation|\/index)\.ts$|^nodes\/shared\/api\//;
		const splinters = files
			.filter((file) => !byRule.test(file) && linesOf(file).length < 40)
			.filter((file) => importers.get(file) === 1)
			.map((file) => `${file}: ${linesOf(file).length} lines, imported only once`);
		expect(splinters).toEqual([]);
	});
});
