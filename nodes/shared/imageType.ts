/** Which image format a file is, from its first bytes (never from a name or a declared type). */

/** Enough bytes for every signature below. */
export const IMAGE_SNIFF_BYTES = 16;

/** Magic numbers of the image formats the model's loader reads. */
const IMAGE_SIGNATURES: Array<{ mimeType: string; matches: (head: Buffer) => boolean }> = [
	{
		mimeType: 'image/png',
		matches: (h) => h.subarray(0, 8).equals(Buffer.from('89504e470d0a1a0a', 'hex')),
	},
	{ mimeType: 'image/jpeg', matches: (h) => h[0] === 0xff && h[1] === 0xd8 && h[2] === 0xff },
	{ mimeType: 'image/gif', matches: (h) => h.subarray(0, 4).toString('latin1') === 'GIF8' },
	{
		mimeType: 'image/webp',
		matches: (h) =>
			h.subarray(0, 4).toString('latin1') === 'RIFF' &&
			h.subarray(8, 12).toString('latin1') === 'WEBP',
	},
	{ mimeType: 'image/bmp', matches: (h) => h.subarray(0, 2).toString('latin1') === 'BM' },
	{
		mimeType: 'image/tiff',
		matches: (h) => ['49492a00', '4d4d002a'].includes(h.subarray(0, 4).toString('hex')),
	},
];

export function sniffImageType(head: Buffer): string | undefined {
	return IMAGE_SIGNATURES.find((signature) => signature.matches(head))?.mimeType;
}

export const IMAGE_FORMATS = 'PNG, JPEG, WebP, GIF, BMP or TIFF';
