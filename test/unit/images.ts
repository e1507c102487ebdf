/** Image file heads for the unit tests: what the sniffer sees of real files. */
export const hex = (text: string) => Buffer.from(text.replace(/\s/g, ''), 'hex');
export const latin1 = (text: string) => Buffer.from(text, 'latin1');

/** Each format's first 16 bytes as real files start. */
export const IMAGE_HEADS = {
	'image/png': hex('89504e47 0d0a1a0a 0000000d 49484452'),
	'image/jpeg': hex('ffd8ffe0 00104a46 49460001 01000001'),
	'image/gif': latin1('GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00'),
	'image/webp': latin1('RIFF\x24\x00\x00\x00WEBPVP8 '),
	'image/bmp': latin1('BM\x36\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00'),
	'image/tiff': hex('49492a00 08000000 0e000001 03000100'),
} as const;
