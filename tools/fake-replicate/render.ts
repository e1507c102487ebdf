/**
 * How any catalog model's outputs are painted from its inputs, by the kind of edit it does
 * (catalog/cog.ts's EditKind): a mask model repaints the mask's area of its image, an instruction
 * model shows its input images side by side, tinted by the prompt, and a run without an input image
 * (text-to-image) paints plain stripes. Also what the outputs are: how many, one URL or an array,
 * and the file extension asked for.
 */
import {
	decodeInputImage,
	inpaint,
	paintFor,
	prepareDecoded,
	resizeNearest,
	toLuminance,
	toRgb,
	type InpaintParams,
	type PreparedInputs,
} from './inpaint';
import { inputProperties, isUriField } from './inputSchema';
import type { RasterImage } from './png';
import type { RunTarget } from './validation';

/** What a prediction's outputs are painted from, decoded once. */
export type Canvas =
	| { kind: 'mask'; prepared: PreparedInputs }
	| { kind: 'instruction'; width: number; height: number; rgb: Buffer }
	| { kind: 'plain'; width: number; height: number };

/** A text-to-image run's size when the input names none. */
const PLAIN_LONG_SIDE = 512;

/** The `format: uri` inputs (and arrays of them) the model fetches, in the schema's order. */
export function uriFields(target: RunTarget): string[] {
	return inputProperties(target.version.openapi_schema)
		.filter(([, property]) => isUriField(property))
		.map(([name]) => name);
}

function decodeAll(files: Map<string, Buffer[]>): Map<string, RasterImage[]> {
	const decoded = new Map<string, RasterImage[]>();
	for (const [field, list] of files) {
		decoded.set(
			field,
			list.map((bytes, i) => decodeInputImage(bytes, list.length > 1 ? `${field}[${i}]` : field)),
		);
	}
	return decoded;
}

function integerInput(input: Record<string, unknown>, name: string): number | undefined {
	const value = input[name];
	return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}

function plainSize(input: Record<string, unknown>): { width: number; height: number } {
	const width = integerInput(input, 'width');
	const height = integerInput(input, 'height');
	if (width && height) return { width, height };
	const ratio = /^(\d+):(\d+)$/.exec(String(input.aspect_ratio ?? ''));
	if (!ratio) return { width: PLAIN_LONG_SIDE, height: PLAIN_LONG_SIDE };
	const [w, h] = [Number(ratio[1]), Number(ratio[2])];
	const scale = PLAIN_LONG_SIDE / Math.max(w, h, 1);
	return { width: Math.max(1, Math.round(w * scale)), height: Math.max(1, Math.round(h * scale)) };
}

/** Alpha as a mask (transparent = repaint), for an image that carries its mask (flux-fill-pro). */
function alphaMask(image: RasterImage): Buffer {
	const { width, height, channels, data } = image;
	const mask = Buffer.alloc(width * height);
	if (channels !== 2 && channels !== 4) return mask;
	for (let i = 0; i < width * height; i++) mask[i] = 255 - data[i * channels + channels - 1];
	return mask;
}

function maskCanvas(
	image: RasterImage,
	mask: RasterImage | undefined,
	repaint: 'white' | 'black',
	input: Record<string, unknown>,
): Canvas {
	let luma = mask ? toLuminance(mask) : alphaMask(image);
	// The painter repaints white; a model that repaints black sees its mask inverted.
	if (mask && repaint === 'black') luma = Buffer.from(luma.map((v) => 255 - v));
	const width = integerInput(input, 'width') ?? image.width;
	const height = integerInput(input, 'height') ?? image.height;
	return { kind: 'mask', prepared: prepareDecoded(image, luma, mask ?? image, width, height) };
}

/** The input images side by side, each scaled to the first one's height. */
function instructionCanvas(images: RasterImage[]): Canvas {
	const height = images[0].height;
	const widths = images.map((image) =>
		Math.max(1, Math.round((image.width * height) / image.height)),
	);
	const width = widths.reduce((sum, w) => sum + w, 0);
	const rgb = Buffer.alloc(width * height * 3);
	let left = 0;
	images.forEach((image, k) => {
		const tile = resizeNearest(toRgb(image), image.width, image.height, 3, widths[k], height);
		for (let y = 0; y < height; y++)
			tile.copy(rgb, (y * width + left) * 3, y * widths[k] * 3, (y + 1) * widths[k] * 3);
		left += widths[k];
	});
	return { kind: 'instruction', width, height, rgb };
}

/**
 * Decodes the fetched inputs (every one: a file that is no image fails the prediction, as the real
 * model's PIL would) and lays out what the outputs are painted from.
 */
export function prepareCanvas(
	target: RunTarget,
	input: Record<string, unknown>,
	files: Map<string, Buffer[]>,
): Canvas {
	const decoded = decodeAll(files);
	const edit = target.model.edit;
	if (edit.kind === 'mask') {
		const image = decoded.get(edit.image)?.[0];
		if (image) return maskCanvas(image, decoded.get(edit.mask)?.[0], edit.repaint, input);
	} else {
		const images = decoded.get(edit.images) ?? [];
		if (images.length > 0) return instructionCanvas(images);
	}
	return { kind: 'plain', ...plainSize(input) };
}

/** One output: the mask's area repainted, the instruction's images tinted, or plain stripes. */
export function paint(canvas: Canvas, params: InpaintParams): RasterImage {
	if (canvas.kind === 'mask') return inpaint(canvas.prepared, params);
	const { width, height } = canvas;
	if (canvas.kind === 'plain') {
		const everywhere = Buffer.alloc(width * height, 255);
		const rgb = Buffer.alloc(width * height * 3);
		return inpaint({ width, height, rgb, maskLuma: everywhere }, params);
	}
	return { width, height, channels: 3, data: tint(canvas.rgb, paintFor(params).colourA) };
}

/** Each pixel halfway to the prompt's colour: visibly changed, still the input. */
export function tint(rgb: Buffer, colour: number[]): Buffer {
	const out = Buffer.alloc(rgb.length);
	for (let i = 0; i < rgb.length; i++) out[i] = (rgb[i] + colour[i % 3]) >> 1;
	return out;
}

const EXTENSIONS = new Set(['png', 'jpg', 'jpeg', 'webp']);

/**
 * What the outputs are, by the version's Output schema: an array (`num_outputs` of them where the
 * model has that input) or one URL; the extension is the `output_format` asked for (the bytes are
 * PNG whatever it says: the fake encodes PNG only).
 */
export function outputShape(
	target: RunTarget,
	input: Record<string, unknown>,
): { array: boolean; count: number; extension: string } {
	const output = target.version.openapi_schema.components.schemas.Output ?? {};
	const array = output.type === 'array';
	const format = String(input.output_format ?? 'png');
	return {
		array,
		count: array ? (integerInput(input, 'num_outputs') ?? 1) : 1,
		extension: EXTENSIONS.has(format) ? format : 'png',
	};
}
