/** Which image a file is, from its first bytes: never from a name or a declared type. */
import { IMAGE_SNIFF_BYTES, sniffImageType } from '../../../nodes/shared/imageType';
import { hex, IMAGE_HEADS, latin1 } from '../fixtures';

describe('sniffImageType', () => {
	it('reads its answer from at most 16 bytes', () => {
		expect(IMAGE_SNIFF_BYTES).toBe(16);
	});

	it.each(Object.entries(IMAGE_HEADS))('%s by its magic number', (mimeType, head) => {
		expect(head.length).toBe(IMAGE_SNIFF_BYTES);
		expect(sniffImageType(head)).toBe(mimeType);
	});

	it('knows big-endian TIFF and GIF87a as well', () => {
		expect(sniffImageType(hex('4d4d002a 00000008'))).toBe('image/tiff');
		expect(sniffImageType(latin1('GIF87a'))).toBe('image/gif');
	});

	it.each([
		['an empty file', Buffer.alloc(0)],
		['a PNG signature with one byte changed', hex('89504e47 0d0a1a0b 0000000d 49484452')],
		['a PNG signature cut short', hex('89504e47 0d0a1a')],
		['JPEG without its third marker byte', hex('ffd8fe')],
		['a RIFF file that is audio', latin1('RIFF\x24\x00\x00\x00WAVEfmt ')],
		['a RIFF header without its type', latin1('RIFF')],
		['an HTML error page', latin1('<!DOCTYPE html><html>')],
		['a JSON error', latin1('{"detail":"Not found"}')],
		['an SVG (text, not pixels)', latin1('<svg xmlns="http://www.w3.org/2000/svg">')],
		['a PDF', latin1('%PDF-1.7\n')],
		['TIFF-like bytes in the wrong order', hex('49490000 2a000000')],
	])('refuses %s', (_what, head) => {
		expect(sniffImageType(head)).toBeUndefined();
	});
});
