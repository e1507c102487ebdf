/** Which parts of an output are files, in which order, and where each sat. */
import { isEmptyOutput, outputFiles } from '../../../../nodes/shared/outputs/files';

const A = 'https://replicate.delivery/x/a.png';
const B = 'https://replicate.delivery/x/b.webp';
const PNG_URI = 'data:image/png;base64,iVBORw0KGgo=';

describe('outputFiles', () => {
	it('one URL is the output itself', () => {
		expect(outputFiles(A)).toEqual([{ url: A, path: 'output' }]);
	});

	it('a list keeps its order and names each index', () => {
		expect(outputFiles([A, B])).toEqual([
			{ url: A, path: 'output[0]' },
			{ url: B, path: 'output[1]' },
		]);
	});

	it('an object holding URLs next to text: the URLs in key order, the caption stays JSON', () => {
		const output = { caption: 'a cat on a sofa', images: [A, B], seed: 42, nsfw: false };
		expect(outputFiles(output)).toEqual([
			{ url: A, path: 'output.images[0]' },
			{ url: B, path: 'output.images[1]' },
		]);
	});

	it('walks depth first through nested lists and objects', () => {
		const output = {
			first: { mask: B, 'the image': A },
			rest: [[A], { nested: [null, B] }],
			last: PNG_URI,
		};
		expect(outputFiles(output)).toEqual([
			{ url: B, path: 'output.first.mask' },
			{ url: A, path: 'output.first["the image"]' },
			{ url: A, path: 'output.rest[0][0]' },
			{ url: B, path: 'output.rest[1].nested[1]' },
			{ url: PNG_URI, path: 'output.last' },
		]);
	});

	it('takes data URIs and http(s) URLs of any case', () => {
		expect(outputFiles(['data:,hello', 'HTTP://example.com/x', PNG_URI]).map((f) => f.url)).toEqual(
			['data:,hello', 'HTTP://example.com/x', PNG_URI],
		);
	});

	it('keeps URLs of other schemes, so the download refuses them by name instead of dropping them', () => {
		expect(outputFiles(['file:///tmp/out.png', 's3://bucket/out.png'])).toEqual([
			{ url: 'file:///tmp/out.png', path: 'output[0]' },
			{ url: 's3://bucket/out.png', path: 'output[1]' },
		]);
	});

	it.each([
		['text', 'A cat sitting on a red sofa.'],
		['text that starts like a data URI', 'data: 3 images were made'],
		['text that holds a URL', 'see https://replicate.com/p/abc'],
		['a word with a colon', 'note: done'],
		['a URL without anything after the scheme', 'https://'],
		['numbers and booleans', [1, 2.5, true, false]],
		['null and empty things', [null, '', [], {}]],
		['an object of text', { text: 'hello', tokens: 5 }],
	])('finds no file in %s', (_what, output) => {
		expect(outputFiles(output)).toEqual([]);
	});
});

describe('isEmptyOutput', () => {
	it.each([null, undefined, '', [], {}, [null, ''], { images: [] }])(
		'%p is no output',
		(output) => {
			expect(isEmptyOutput(output)).toBe(true);
		},
	);

	it.each([0, false, 'text', [A], { caption: 'x' }, [[0]]])('%p is an output', (output) => {
		expect(isEmptyOutput(output)).toBe(false);
	});
});
