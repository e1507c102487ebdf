import zlib from 'node:zlib';

/** Decoded pixels: 8-bit samples, rows top to bottom, `channels` samples per pixel. */
export interface RasterImage {
	width: number;
	height: number;
	/** 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA */
	channels: 1 | 2 | 3 | 4;
	data: Buffer;
}

export type PngFilter = 0 | 1 | 2 | 3 | 4;

export interface EncodeOptions {
	/** zlib level; 1 by default because the server encodes many large outputs. */
	level?: number;
	/** Filter used on every row (default Paeth), or 'cycle' to rotate through all five (for decoder tests). */
	filter?: PngFilter | 'cycle';
}

export class PngDecodeError extends Error {}

export const PNG_SIGNATURE = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);

/** Refuse anything bigger, like PIL's decompression-bomb guard (but lower, to protect the test process). */
export const MAX_DECODE_PIXELS = 4096 * 4096;

const COLOR_TYPE_BY_CHANNELS = { 1: 0, 2: 4, 3: 2, 4: 6 } as const;
const CHANNELS_BY_COLOR_TYPE: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const ALLOWED_DEPTHS: Record<number, number[]> = {
	0: [1, 2, 4, 8, 16],
	2: [8, 16],
	3: [1, 2, 4, 8],
	4: [8, 16],
	6: [8, 16],
};

export function isPng(buf: Buffer): boolean {
	return buf.length >= 8 && buf.subarray(0, 8).equals(PNG_SIGNATURE);
}

export function pngChunk(type: string, data: Buffer): Buffer {
	const chunk = Buffer.alloc(12 + data.length);
	chunk.writeUInt32BE(data.length, 0);
	chunk.write(type, 4, 'latin1');
	data.copy(chunk, 8);
	chunk.writeUInt32BE(zlib.crc32(chunk.subarray(4, 8 + data.length)), 8 + data.length);
	return chunk;
}

export function ihdrChunk(
	width: number,
	height: number,
	bitDepth: number,
	colorType: number,
	interlace = 0,
): Buffer {
	const ihdr = Buffer.alloc(13);
	ihdr.writeUInt32BE(width, 0);
	ihdr.writeUInt32BE(height, 4);
	ihdr[8] = bitDepth;
	ihdr[9] = colorType;
	ihdr[10] = 0;
	ihdr[11] = 0;
	ihdr[12] = interlace;
	return pngChunk('IHDR', ihdr);
}

// Hot loops avoid global lookups (Math.*) and per-byte switches: inside jest's vm context a global
// lookup costs ~100 ns, and the server encodes up to 160 megapixel-sized outputs per benchmark.
function paeth(a: number, b: number, c: number): number {
	let pa = b - c;
	let pb = a - c;
	let pc = pa + pb;
	if (pa < 0) pa = -pa;
	if (pb < 0) pb = -pb;
	if (pc < 0) pc = -pc;
	if (pa <= pb && pa <= pc) return a;
	return pb <= pc ? b : c;
}

/** Filters one row: out[o..] = filter(row[r..]) given the prior row prior[p..] (zeros for the first row). */
function filterRow(
	filter: PngFilter,
	row: Buffer,
	r: number,
	prior: Buffer,
	p: number,
	out: Buffer,
	o: number,
	length: number,
	bpp: number,
): void {
	switch (filter) {
		case 0:
			row.copy(out, o, r, r + length);
			return;
		case 1:
			for (let i = 0; i < length; i++) out[o + i] = row[r + i] - (i >= bpp ? row[r + i - bpp] : 0);
			return;
		case 2:
			for (let i = 0; i < length; i++) out[o + i] = row[r + i] - prior[p + i];
			return;
		case 3:
			for (let i = 0; i < length; i++)
				out[o + i] = row[r + i] - (((i >= bpp ? row[r + i - bpp] : 0) + prior[p + i]) >> 1);
			return;
		case 4:
			for (let i = 0; i < bpp && i < length; i++) out[o + i] = row[r + i] - prior[p + i];
			for (let i = bpp; i < length; i++)
				out[o + i] = row[r + i] - paeth(row[r + i - bpp], prior[p + i], prior[p + i - bpp]);
			return;
	}
}

/** Reverses filterRow in place: row[r..] holds filtered bytes and becomes the reconstructed row. */
function unfilterRow(
	filter: number,
	row: Buffer,
	r: number,
	prior: Buffer,
	p: number,
	length: number,
	bpp: number,
): void {
	switch (filter) {
		case 0:
			return;
		case 1:
			for (let i = bpp; i < length; i++) row[r + i] += row[r + i - bpp];
			return;
		case 2:
			for (let i = 0; i < length; i++) row[r + i] += prior[p + i];
			return;
		case 3:
			for (let i = 0; i < length; i++)
				row[r + i] += ((i >= bpp ? row[r + i - bpp] : 0) + prior[p + i]) >> 1;
			return;
		case 4:
			for (let i = 0; i < bpp && i < length; i++) row[r + i] += prior[p + i];
			for (let i = bpp; i < length; i++)
				row[r + i] += paeth(row[r + i - bpp], prior[p + i], prior[p + i - bpp]);
			return;
		default:
			throw new PngDecodeError(`invalid filter type ${filter}`);
	}
}

/** Builds the filtered scanlines (filter byte + row) that go into IDAT. */
export function filterScanlines(image: RasterImage, filter: PngFilter | 'cycle' = 4): Buffer {
	const { width, height, channels, data } = image;
	const stride = width * channels;
	if (data.length < stride * height)
		throw new Error(`pixel buffer too short: ${data.length} < ${stride * height}`);
	const out = Buffer.alloc((stride + 1) * height);
	const zeros = Buffer.alloc(stride);
	for (let y = 0; y < height; y++) {
		const rowFilter = filter === 'cycle' ? ((y % 5) as PngFilter) : filter;
		const dst = y * (stride + 1);
		out[dst] = rowFilter;
		const prior = y > 0 ? data : zeros;
		filterRow(
			rowFilter,
			data,
			y * stride,
			prior,
			y > 0 ? (y - 1) * stride : 0,
			out,
			dst + 1,
			stride,
			channels,
		);
	}
	return out;
}

function assemblePng(image: RasterImage, idat: Buffer): Buffer {
	return Buffer.concat([
		PNG_SIGNATURE,
		ihdrChunk(image.width, image.height, 8, COLOR_TYPE_BY_CHANNELS[image.channels]),
		pngChunk('IDAT', idat),
		pngChunk('IEND', Buffer.alloc(0)),
	]);
}

export function encodePng(image: RasterImage, options: EncodeOptions = {}): Buffer {
	const raw = filterScanlines(image, options.filter ?? 4);
	return assemblePng(image, zlib.deflateSync(raw, { level: options.level ?? 1 }));
}

/** Same as encodePng but deflates on libuv's thread pool, so big outputs don't stall the event loop. */
export async function encodePngAsync(
	image: RasterImage,
	options: EncodeOptions = {},
): Promise<Buffer> {
	const raw = filterScanlines(image, options.filter ?? 4);
	const idat = await new Promise<Buffer>((resolve, reject) =>
		zlib.deflate(raw, { level: options.level ?? 1 }, (error, result) =>
			error ? reject(error) : resolve(result),
		),
	);
	return assemblePng(image, idat);
}

function unfilter(raw: Buffer, rowBytes: number, height: number, bpp: number): Buffer {
	const out = Buffer.alloc(rowBytes * height);
	const zeros = Buffer.alloc(rowBytes);
	for (let y = 0; y < height; y++) {
		const filter = raw[y * (rowBytes + 1)];
		const dst = y * rowBytes;
		raw.copy(out, dst, y * (rowBytes + 1) + 1, (y + 1) * (rowBytes + 1));
		if (filter > 4) throw new PngDecodeError(`invalid filter type ${filter} on row ${y}`);
		unfilterRow(filter, out, dst, y > 0 ? out : zeros, y > 0 ? dst - rowBytes : 0, rowBytes, bpp);
	}
	return out;
}

/**
 * Decodes a non-interlaced PNG of any standard colour type and bit depth to 8-bit samples.
 * Palette images become RGB (RGBA when they carry tRNS). Throws PngDecodeError on anything else.
 */
export function decodePng(buf: Buffer): RasterImage {
	if (!isPng(buf)) throw new PngDecodeError('not a PNG file (bad signature)');
	let offset = 8;
	let header: { width: number; height: number; depth: number; colorType: number } | undefined;
	let palette: Buffer | undefined;
	let transparency: Buffer | undefined;
	const idat: Buffer[] = [];
	let ended = false;
	while (offset < buf.length) {
		if (offset + 12 > buf.length) throw new PngDecodeError('truncated chunk header');
		const length = buf.readUInt32BE(offset);
		const type = buf.toString('latin1', offset + 4, offset + 8);
		if (length > 0x7fffffff || offset + 12 + length > buf.length)
			throw new PngDecodeError(`truncated ${type} chunk`);
		const data = buf.subarray(offset + 8, offset + 8 + length);
		const crc = buf.readUInt32BE(offset + 8 + length);
		if (zlib.crc32(buf.subarray(offset + 4, offset + 8 + length)) !== crc)
			throw new PngDecodeError(`CRC mismatch in ${type} chunk`);
		offset += 12 + length;
		if (!header && type !== 'IHDR') throw new PngDecodeError('first chunk is not IHDR');
		if (type === 'IHDR') {
			if (length !== 13) throw new PngDecodeError('bad IHDR length');
			const width = data.readUInt32BE(0);
			const height = data.readUInt32BE(4);
			const depth = data[8];
			const colorType = data[9];
			if (width === 0 || height === 0) throw new PngDecodeError('zero image size');
			if (width * height > MAX_DECODE_PIXELS)
				throw new PngDecodeError(`image of ${width}x${height} exceeds the decoder's pixel limit`);
			if (!ALLOWED_DEPTHS[colorType]?.includes(depth))
				throw new PngDecodeError(`unsupported colour type ${colorType} with bit depth ${depth}`);
			if (data[10] !== 0 || data[11] !== 0)
				throw new PngDecodeError('unknown compression or filter method');
			if (data[12] !== 0) throw new PngDecodeError('interlaced PNGs are not supported');
			header = { width, height, depth, colorType };
		} else if (type === 'PLTE') {
			if (length % 3 !== 0 || length === 0) throw new PngDecodeError('bad PLTE length');
			palette = data;
		} else if (type === 'tRNS') {
			transparency = data;
		} else if (type === 'IDAT') {
			idat.push(data);
		} else if (type === 'IEND') {
			ended = true;
			break;
		} else if ((type.charCodeAt(0) & 0x20) === 0) {
			throw new PngDecodeError(`unknown critical chunk ${type}`);
		}
	}
	if (!header) throw new PngDecodeError('missing IHDR');
	if (!ended) throw new PngDecodeError('truncated PNG (no IEND)');
	if (idat.length === 0) throw new PngDecodeError('missing IDAT');
	const { width, height, depth, colorType } = header;
	if (colorType === 3 && !palette) throw new PngDecodeError('palette image without PLTE');

	const samplesPerPixel = CHANNELS_BY_COLOR_TYPE[colorType];
	const rowBytes = Math.ceil((width * samplesPerPixel * depth) / 8);
	const bpp = Math.max(1, (samplesPerPixel * depth) / 8);
	const expected = (rowBytes + 1) * height;
	let raw: Buffer;
	try {
		raw = zlib.inflateSync(Buffer.concat(idat), { maxOutputLength: expected + 1024 });
	} catch (error) {
		throw new PngDecodeError(`corrupt image data: ${(error as Error).message}`);
	}
	if (raw.length < expected) throw new PngDecodeError('image data is truncated');
	const rows = unfilter(raw, rowBytes, height, bpp);

	// Expand to one 8-bit sample per channel (8-bit rows already are that).
	const sampleCount = width * samplesPerPixel;
	let samples = rows;
	if (depth !== 8) {
		samples = Buffer.alloc(sampleCount * height);
		const maxValue = (1 << Math.min(depth, 8)) - 1;
		const grayScale = Array.from({ length: maxValue + 1 }, (_, v) =>
			Math.round((v * 255) / maxValue),
		);
		for (let y = 0; y < height; y++) {
			const row = y * rowBytes;
			for (let s = 0; s < sampleCount; s++) {
				let v: number;
				if (depth === 16) v = rows[row + s * 2];
				else {
					const bit = s * depth;
					v = (rows[row + (bit >> 3)] >> (8 - depth - (bit & 7))) & maxValue;
					if (colorType === 0) v = grayScale[v];
				}
				samples[y * sampleCount + s] = v;
			}
		}
	}
	if (colorType !== 3)
		return { width, height, channels: samplesPerPixel as RasterImage['channels'], data: samples };

	const paletteData = palette as Buffer;
	const entries = paletteData.length / 3;
	const channels = transparency ? 4 : 3;
	const out = Buffer.alloc(width * height * channels);
	for (let i = 0; i < width * height; i++) {
		const index = samples[i];
		if (index >= entries) throw new PngDecodeError(`palette index ${index} out of range`);
		out[i * channels] = paletteData[index * 3];
		out[i * channels + 1] = paletteData[index * 3 + 1];
		out[i * channels + 2] = paletteData[index * 3 + 2];
		if (transparency)
			out[i * channels + 3] = index < transparency.length ? transparency[index] : 255;
	}
	return { width, height, channels, data: out };
}

/** Pixels of the sample inputs: a colourful gradient image, or a mask with a white centre rectangle on black. */
export function makeSampleImage(
	width: number,
	height: number,
	kind: 'image' | 'mask',
): RasterImage {
	if (kind === 'mask') {
		const data = Buffer.alloc(width * height);
		const x0 = Math.floor(width / 4);
		const x1 = Math.ceil((width * 3) / 4);
		const y0 = Math.floor(height / 4);
		const y1 = Math.ceil((height * 3) / 4);
		for (let y = y0; y < y1; y++) data.fill(255, y * width + x0, y * width + x1);
		return { width, height, channels: 1, data };
	}
	const data = Buffer.alloc(width * height * 3);
	const cx = width / 2;
	const cy = height / 2;
	const ringWidth = Math.max(4, width / 16);
	const sqrt = Math.sqrt;
	const xSpan = Math.max(1, width - 1);
	const ySpan = Math.max(1, height - 1);
	for (let y = 0; y < height; y++) {
		const green = ((y * 255) / ySpan) | 0;
		for (let x = 0; x < width; x++) {
			const i = (y * width + x) * 3;
			const ring = ((sqrt((x - cx) * (x - cx) + (y - cy) * (y - cy)) / ringWidth) | 0) & 1;
			data[i] = ((x * 255) / xSpan) | 0;
			data[i + 1] = green;
			data[i + 2] = ring ? 200 : 60;
		}
	}
	return { width, height, channels: 3, data };
}

export function makeSamplePng(width: number, height: number, kind: 'image' | 'mask'): Buffer {
	return encodePng(makeSampleImage(width, height, kind), { level: 6 });
}
