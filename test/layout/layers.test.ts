/**
 * The house rules of nodes/ (README, Layout), checked on the source: every import points down
 * the layers, and the trigger takes nothing from the action node's folders.
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
	{ name: 'node helpers', matches: /^nodes\/ReplicateInpainting\/(helpers|schema|methods)\// },
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
	return specifiers.map((specifier) =>
		path.posix.normalize(path.posix.join(path.posix.dirname(file), `${specifier}.ts`)),
	);
}

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

	it('no file under nodes/ or credentials/ is over 250 lines', () => {
		const long = files
			.map((file) => ({
				file,
				lines: fs.readFileSync(path.join(root, file), 'utf8').split('\n').length,
			}))
			.filter(({ lines }) => lines > 250)
			.map(({ file, lines }) => `${file}: ${lines} lines`);
		expect(long).toEqual([]);
	});
});
