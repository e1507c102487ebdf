/**
 * The output origin (a second host, no auth, like Replicate's CDN): the sample image and mask
 * tests use as inputs, and each prediction's rendered outputs.
 */
import { Readable } from 'node:stream';
import zlib from 'node:zlib';

import type { Model } from './model';
import { makeSamplePng } from './png';
import type { PredictionsApi } from './predictions';
import type { Exchange, Reply } from './types';

/** `png` grown to `totalBytes` (a script's outputBytes), in pieces, so a large output is streamed. */
export function* paddedPng(png: Buffer, totalBytes: number): Generator<Buffer> {
	// An ancillary, private chunk ('paDd') before IEND: decoders skip it, so the file stays a valid PNG.
	const padLength = totalBytes - png.length - 12;
	yield png.subarray(0, png.length - 12);
	const header = Buffer.alloc(8);
	header.writeUInt32BE(padLength, 0);
	header.write('paDd', 4, 'latin1');
	yield header;
	let crc = zlib.crc32(header.subarray(4));
	const zeros = Buffer.alloc(64 * 1024);
	for (let left = padLength; left > 0; left -= zeros.length) {
		const piece = left >= zeros.length ? zeros : zeros.subarray(0, left);
		crc = zlib.crc32(piece, crc);
		yield piece;
	}
	const tail = Buffer.alloc(4);
	tail.writeUInt32BE(crc >>> 0, 0);
	yield tail;
	yield png.subarray(png.length - 12);
}

/**
 * An output file: `.png`, or the `.jpg`/`.webp` an `output_format` asked for (the route keeps its
 * `.png` name in the counters). The bytes are PNG whatever the extension says.
 */
const OUTPUT_PATH = /^\/([^/]+)\/out-(\d+)\.(?:png|jpe?g|webp)$/;

export class OutputOrigin {
	private readonly samples = new Map<string, Buffer>();

	constructor(
		private readonly predictions: PredictionsApi,
		private readonly model: Model,
	) {}

	/** The route a request counts under in stats().byRoute. */
	routeName(method: string, path: string): string {
		if (OUTPUT_PATH.test(path)) return `output ${method} /{id}/out-{k}.png`;
		if (path.startsWith('/samples/')) return `output ${method} /samples/{name}`;
		return 'output unmatched';
	}

	async handle(ex: Exchange): Promise<Reply> {
		if (ex.method !== 'GET' && ex.method !== 'HEAD')
			return {
				status: 405,
				body: 'Method Not Allowed',
				contentType: 'text/plain',
				headers: { allow: 'GET, HEAD' },
			};
		const notFound: Reply = {
			status: 404,
			body: 'Not Found',
			contentType: 'text/plain; charset=utf-8',
		};
		const sample = /^\/samples\/(image|mask)\.png$/.exec(ex.path);
		if (sample) {
			const width = Number(ex.url.searchParams.get('width') ?? 512);
			const height = Number(ex.url.searchParams.get('height') ?? 512);
			if (
				!(
					Number.isInteger(width) &&
					Number.isInteger(height) &&
					width > 0 &&
					height > 0 &&
					width * height <= 4096 * 4096
				)
			)
				return notFound;
			const key = `${sample[1]}:${width}x${height}`;
			let png = this.samples.get(key);
			if (!png) {
				png = makeSamplePng(width, height, sample[1] as 'image' | 'mask');
				this.samples.set(key, png);
			}
			return { status: 200, body: png, contentType: 'image/png' };
		}
		const output = OUTPUT_PATH.exec(ex.path);
		if (!output) return notFound;
		const run = this.predictions.findRun(output[1]);
		const index = Number(output[2]);
		if (
			!run ||
			run.prediction.status !== 'succeeded' ||
			run.purged ||
			!run.prediction.output ||
			run.script.outputUrlScheme === 'file'
		)
			return notFound;
		// Only the URL the prediction gave, extension included.
		if (![run.prediction.output].flat()[index]?.endsWith(ex.path)) return notFound;
		const png = await this.model.renderOutput(run, index);
		const headers = { 'cache-control': 'public, max-age=3600' };
		const padTo = run.script.outputBytes ?? 0;
		if (padTo >= png.length + 12) {
			return {
				status: 200,
				contentType: 'image/png',
				headers,
				length: padTo,
				stream: () => Readable.from(paddedPng(png, padTo)),
			};
		}
		return { status: 200, body: png, contentType: 'image/png', headers };
	}
}
