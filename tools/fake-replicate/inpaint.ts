import crypto from 'node:crypto';

import { decodePng, isPng, type RasterImage } from './png';

/** Thrown when an input cannot be used; the message becomes the prediction's `error`. */
export class InputImageError extends Error {}

/** The image and mask as the model sees them: RGB and luminance, both already width×height. */
export interface PreparedInputs {
	width: number;
	height: number;
	rgb: Buffer;
	maskLuma: Buffer;
}

export interface InpaintParams {
	prompt: string;
	negativePrompt: string;
	seed: number;
	/** index of the output (out-<index>.png), so several outputs differ */
	index: number;
}

/** Values above this are "white" in the mask and get repainted. */
export const MASK_THRESHOLD = 127;

const OTHER_FORMATS: Array<[string, (b: Buffer) => boolean]> = [
	['JPEG', (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff],
	['GIF', (b) => b.toString('latin1', 0, 4) === 'GIF8'],
	['WebP', (b) => b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP'],
	['BMP', (b) => b.toString('latin1', 0, 2) === 'BM'],
];

/** Decodes like the model's PIL.Image.open, with the same leading words in its error. */
export function decodeInputImage(bytes: Buffer, field: string): RasterImage {
	if (!isPng(bytes)) {
		const format = OTHER_FORMATS.find(([, test]) => bytes.length >= 12 && test(bytes))?.[0];
		const why = format ? `${format} data; this fake model decodes PNG only` : 'not a PNG file';
		throw new InputImageError(`cannot identify image file '${field}' (${why})`);
	}
	try {
		return decodePng(bytes);
	} catch (error) {
		throw new InputImageError(
			`cannot identify image file '${field}' (${(error as Error).message})`,
		);
	}
}

/** PIL convert('RGB'): drops alpha, spreads gray. */
export function toRgb(image: RasterImage): Buffer {
	const { width, height, channels, data } = image;
	if (channels === 3) return data;
	const out = Buffer.alloc(width * height * 3);
	for (let i = 0, n = width * height; i < n; i++) {
		if (channels === 1 || channels === 2) {
			const v = data[i * channels];
			out[i * 3] = v;
			out[i * 3 + 1] = v;
			out[i * 3 + 2] = v;
		} else {
			out[i * 3] = data[i * 4];
			out[i * 3 + 1] = data[i * 4 + 1];
			out[i * 3 + 2] = data[i * 4 + 2];
		}
	}
	return out;
}

/** PIL convert('L'): ITU-R 601-2 luma, alpha ignored. */
export function toLuminance(image: RasterImage): Buffer {
	const { width, height, channels, data } = image;
	if (channels === 1) return data;
	const out = Buffer.alloc(width * height);
	for (let i = 0, n = width * height; i < n; i++) {
		if (channels <= 2) out[i] = data[i * channels];
		else {
			const p = i * channels;
			out[i] = ((data[p] * 299 + data[p + 1] * 587 + data[p + 2] * 114) / 1000) | 0;
		}
	}
	return out;
}

/** Hot loops here avoid global lookups (Math.*): inside jest's vm context each one costs ~100 ns. */
export function resizeNearest(
	data: Buffer,
	width: number,
	height: number,
	channels: number,
	toWidth: number,
	toHeight: number,
): Buffer {
	if (width === toWidth && height === toHeight) return data;
	const out = Buffer.alloc(toWidth * toHeight * channels);
	const columns = new Int32Array(toWidth);
	for (let x = 0; x < toWidth; x++)
		columns[x] = Math.min(width - 1, Math.floor(((x + 0.5) * width) / toWidth)) * channels;
	for (let y = 0; y < toHeight; y++) {
		const srcRow =
			Math.min(height - 1, Math.floor(((y + 0.5) * height) / toHeight)) * width * channels;
		const dstRow = y * toWidth * channels;
		for (let x = 0; x < toWidth; x++) {
			for (let c = 0; c < channels; c++)
				out[dstRow + x * channels + c] = data[srcRow + columns[x] + c];
		}
	}
	return out;
}

export function prepareInputs(
	imageBytes: Buffer,
	maskBytes: Buffer,
	width: number,
	height: number,
): PreparedInputs {
	const image = decodeInputImage(imageBytes, 'image');
	const mask = decodeInputImage(maskBytes, 'mask');
	return prepareDecoded(image, toLuminance(mask), mask, width, height);
}

/** The decoded image and a mask's luminance (of `maskSize`'s dimensions), both resized to width×height. */
export function prepareDecoded(
	image: RasterImage,
	maskLuma: Buffer,
	maskSize: { width: number; height: number },
	width: number,
	height: number,
): PreparedInputs {
	return {
		width,
		height,
		rgb: resizeNearest(toRgb(image), image.width, image.height, 3, width, height),
		maskLuma: resizeNearest(maskLuma, maskSize.width, maskSize.height, 1, width, height),
	};
}

/** Two colours and a stripe period derived from the prompt, seed and output index. */
export function paintFor(params: InpaintParams): {
	colourA: number[];
	colourB: number[];
	period: number;
} {
	const hash = crypto
		.createHash('sha256')
		.update(
			`${params.prompt}\u0000${params.negativePrompt}\u0000${params.seed}\u0000${params.index}`,
		)
		.digest();
	return {
		colourA: [hash[0], hash[1], hash[2]],
		colourB: [hash[3], hash[4], hash[5]],
		period: 8 + (hash[6] % 24),
	};
}

/** Crude but real inpainting: white-masked pixels become diagonal stripes, the rest keep the image. */
export function inpaint(prepared: PreparedInputs, params: InpaintParams): RasterImage {
	const { width, height, rgb, maskLuma } = prepared;
	const { colourA, colourB, period } = paintFor(params);
	const out = Buffer.from(rgb);
	for (let y = 0; y < height; y++) {
		for (let x = 0; x < width; x++) {
			const i = y * width + x;
			if (maskLuma[i] <= MASK_THRESHOLD) continue;
			const colour = ((x + y) / period) & 1 ? colourA : colourB;
			out[i * 3] = colour[0];
			out[i * 3 + 1] = colour[1];
			out[i * 3 + 2] = colour[2];
		}
	}
	return { width, height, channels: 3, data: out };
}
