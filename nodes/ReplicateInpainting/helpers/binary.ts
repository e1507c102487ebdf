/**
 * Binary data in and out: input files become what Replicate accepts (a data URI, or a file
 * uploaded to `/files`), output URLs become n8n binary data.
 */
import type { IBinaryData, IDataObject, IExecuteFunctions } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { withPredictionId } from './errors';
import { IMAGE_FORMATS, IMAGE_SNIFF_BYTES, sniffImageType } from './imageType';
import type { Prediction } from './prediction';
import type { RetryPolicy, TransportContext } from '../transport';
import { apiRequest, downloadOutput, ExecutionStoppedError, networkErrorCode } from '../transport';

/** Replicate recommends data URIs only for small files. */
export const DATA_URI_MAX_BYTES = 256 * 1024;
/** A gateway without `/files`: larger data URIs still work, up to a point. */
export const DATA_URI_FALLBACK_MAX_BYTES = 10 * 1024 * 1024;

export type ImageField = 'image' | 'mask';
export type UploadRoute = 'auto' | 'dataUri' | 'upload';

/** A file in n8n's binary store, as n8n's helpers hand it out. */
type BinaryStream = Awaited<ReturnType<IExecuteFunctions['helpers']['getBinaryStream']>>;

export interface BinaryImage {
	field: ImageField;
	property: string;
	fileName: string;
	mimeType: string;
	/** bytes */
	size: number;
	/** The bytes, when n8n keeps the file in memory or it is small enough for a data URI. */
	content?: Buffer;
	/** Opens the file anew (each upload attempt), when it stays in n8n's binary store. */
	open?: () => Promise<BinaryStream>;
}

/** Read size of a stored input file streamed into an upload. */
const UPLOAD_CHUNK_BYTES = 256 * 1024;

/** The first bytes of a stream; the stream is closed afterwards. */
async function headOf(stream: BinaryStream, bytes: number): Promise<Buffer> {
	const chunks: Buffer[] = [];
	let size = 0;
	try {
		for await (const chunk of stream) {
			chunks.push(chunk as Buffer);
			size += (chunk as Buffer).length;
			if (size >= bytes) break;
		}
	} finally {
		stream.destroy();
	}
	return Buffer.concat(chunks, size).subarray(0, bytes);
}

/** The form field a binary input is named in, as the user sees it. */
const FIELD_LABEL: Record<ImageField, string> = {
	image: 'Image Binary Field Name',
	mask: 'Mask Binary Field Name',
};

/** Reads and checks a binary input; fails (before any request) when it is missing or no image. */
export async function readBinaryImage(
	context: IExecuteFunctions,
	itemIndex: number,
	field: ImageField,
	property: string,
): Promise<BinaryImage> {
	const label = `${FIELD_LABEL[field]} (${field}): "${property}"`;
	const binaries = context.getInputData()[itemIndex]?.binary ?? {};
	if (!property || !binaries[property]) {
		const available = Object.keys(binaries);
		throw new NodeOperationError(
			context.getNode(),
			`${label}: the input item has no binary field of that name`,
			{
				itemIndex,
				description: available.length
					? `Binary fields on this item: ${available.join(', ')}. Set ${FIELD_LABEL[field]} to one of them. To bring an image and a mask from two nodes onto one item, use a Merge node (Combine, By Position).`
					: 'This item carries no binary data. Connect a node that outputs a file (Read/Write Files from Disk, HTTP Request, a form or trigger), or use a URL.',
			},
		);
	}
	const metadata = binaries[property];
	// A file n8n keeps in its binary store (filesystem, S3) is streamed into its upload rather
	// than read whole: only its first bytes are read here, to check that it is an image.
	const storedId = metadata.id;
	const storedSize = storedId ? await storedFileSize(context, storedId, metadata) : undefined;
	let image: Omit<BinaryImage, 'mimeType' | 'fileName'>;
	let head: Buffer;
	if (storedId && storedSize !== undefined && storedSize > DATA_URI_MAX_BYTES) {
		const open = async () => await context.helpers.getBinaryStream(storedId, UPLOAD_CHUNK_BYTES);
		image = { field, property, size: storedSize, open };
		head = await headOf(await open(), IMAGE_SNIFF_BYTES);
	} else {
		const content = await context.helpers.getBinaryDataBuffer(itemIndex, property);
		image = { field, property, size: content.length, content };
		head = content.subarray(0, IMAGE_SNIFF_BYTES);
	}
	const mimeType = sniffImageType(head);
	if (!mimeType) {
		throw new NodeOperationError(
			context.getNode(),
			`${label}: the file is not an image (${metadata.fileName ?? 'unnamed file'}, ${metadata.mimeType ?? 'unknown type'}, ${image.size} bytes)`,
			{ itemIndex, description: `Allowed: ${IMAGE_FORMATS} files.` },
		);
	}
	return {
		...image,
		fileName: metadata.fileName ?? `${field}.${mimeType.split('/')[1]}`,
		mimeType,
	};
}

/** The size n8n recorded for a stored file (`bytes` on newer n8n, else the store's metadata). */
async function storedFileSize(
	context: IExecuteFunctions,
	id: string,
	metadata: IBinaryData,
): Promise<number | undefined> {
	if (typeof metadata.bytes === 'number') return metadata.bytes;
	const stored = await context.helpers.getBinaryMetadata(id);
	return typeof stored?.fileSize === 'number' ? stored.fileSize : undefined;
}

/** The whole file, for a data URI (read from n8n's store only now, when it was streamed so far). */
async function contentOf(
	context: IExecuteFunctions,
	image: BinaryImage,
	itemIndex: number,
): Promise<Buffer> {
	return image.content ?? (await context.helpers.getBinaryDataBuffer(itemIndex, image.property));
}

export async function toDataUri(
	context: IExecuteFunctions,
	image: BinaryImage,
	itemIndex: number,
): Promise<string> {
	return `data:${image.mimeType};base64,${(await contentOf(context, image, itemIndex)).toString('base64')}`;
}

/** Files the node uploaded for one prediction, to delete once it is terminal. */
export interface UploadedFile {
	id: string;
	url: string;
}

/** The multipart body's bytes around the file, and its length. */
function multipartFrame(image: BinaryImage, boundary: string) {
	const part = (name: string, value: string) =>
		`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
	const safeName = image.fileName.replace(/["\r\n]/g, '_');
	const head = Buffer.from(
		`--${boundary}\r\nContent-Disposition: form-data; name="content"; filename="${safeName}"\r\nContent-Type: ${image.mimeType}\r\n\r\n`,
	);
	const tail = Buffer.from(
		'\r\n' +
			part('filename', safeName) +
			part('type', image.mimeType) +
			part(
				'metadata',
				JSON.stringify({ source: 'n8n-nodes-replicate-inpainting', field: image.field }),
			) +
			`--${boundary}--\r\n`,
	);
	return { head, tail, length: head.length + image.size + tail.length };
}

/**
 * The body of one upload attempt: in memory for a file n8n holds in memory, else written as a
 * stream from n8n's binary store (`compose` wraps the file in the part headers without the
 * `stream` module, which the community lint does not allow).
 */
async function multipartBody(
	context: IExecuteFunctions,
	image: BinaryImage,
	itemIndex: number,
	head: Buffer,
	tail: Buffer,
): Promise<Buffer | NodeJS.ReadableStream> {
	if (!image.open) return Buffer.concat([head, await contentOf(context, image, itemIndex), tail]);
	const file = await image.open();
	return file.compose(async function* (source: AsyncIterable<Buffer>) {
		yield head;
		for await (const chunk of source) yield chunk;
		yield tail;
	});
}

async function uploadFile(
	context: IExecuteFunctions,
	image: BinaryImage,
	policy: RetryPolicy,
	itemIndex: number,
): Promise<UploadedFile> {
	const boundary = `----n8nReplicateInpainting${Date.now().toString(16)}${Math.random().toString(16).slice(2)}`;
	const { head, tail, length } = multipartFrame(image, boundary);
	const answer = await apiRequest<IDataObject>(
		context,
		{
			method: 'POST',
			path: '/files',
			// An upload is free and expires by itself: repeating one after a fault costs nothing.
			kind: 'repeatable',
			// A fresh body per attempt: a stream is read once.
			body: async () => await multipartBody(context, image, itemIndex, head, tail),
			headers: {
				'Content-Type': `multipart/form-data; boundary=${boundary}`,
				'Content-Length': String(length),
			},
			timeoutMs: 120_000,
			itemIndex,
		},
		policy,
	);
	const url = (answer?.urls as IDataObject | undefined)?.get;
	if (typeof answer?.id !== 'string' || typeof url !== 'string') {
		const message =
			'Unexpected answer from the Replicate API on POST /files: no "id" or "urls.get"';
		throw new NodeApiError(context.getNode(), { message }, { message, itemIndex });
	}
	return { id: answer.id, url };
}

/**
 * The URI to send for a binary input: a data URI when small (or forced), else an upload; a
 * gateway that has no `/files` (404) gets a data URI up to 10 MB.
 */
export async function binaryImageToUri(
	context: IExecuteFunctions,
	image: BinaryImage,
	route: UploadRoute,
	policy: RetryPolicy,
	itemIndex: number,
	uploads: UploadedFile[],
): Promise<string> {
	const useDataUri = route === 'dataUri' || (route === 'auto' && image.size <= DATA_URI_MAX_BYTES);
	if (useDataUri) return await toDataUri(context, image, itemIndex);
	let uploaded: UploadedFile | undefined;
	let failure: unknown;
	try {
		uploaded = await uploadFile(context, image, policy, itemIndex);
	} catch (error) {
		failure = error;
	}
	if (uploaded) {
		uploads.push(uploaded);
		return uploaded.url;
	}
	const notServed = failure instanceof NodeApiError && failure.httpCode === '404';
	if (!notServed) throw failure;
	if (image.size <= DATA_URI_FALLBACK_MAX_BYTES) return await toDataUri(context, image, itemIndex);
	throw new NodeOperationError(
		context.getNode(),
		`${FIELD_LABEL[image.field]} (${image.field}): the API has no files endpoint (404 on POST /files) and the file is too large for a data URI (${image.size} bytes, at most ${DATA_URI_FALLBACK_MAX_BYTES})`,
		{ itemIndex, description: 'Pass the image as a public URL instead, or make it smaller.' },
	);
}

/** Deletes uploaded files; a failed delete is only a warning (they expire after 24 h anyway). */
export async function deleteUploads(
	context: TransportContext,
	uploads: Array<Pick<UploadedFile, 'id'>>,
	policy: RetryPolicy,
): Promise<string[]> {
	const warnings: string[] = [];
	for (const upload of uploads.splice(0)) {
		try {
			await apiRequest(
				context,
				{ method: 'DELETE', path: `/files/${encodeURIComponent(upload.id)}`, kind: 'cleanup' },
				policy,
			);
		} catch (error) {
			warnings.push(`Could not delete uploaded file ${upload.id}: ${(error as Error).message}`);
		}
	}
	return warnings;
}

/* ----------------------------------------------------------------------------------------- */

/** What downloading outputs needs of n8n: the node's execute context and the trigger's webhook context. */
export interface DownloadContext extends TransportContext {
	helpers: TransportContext['helpers'] & Pick<IExecuteFunctions['helpers'], 'prepareBinaryData'>;
}

const EXTENSION_BY_MIME: Record<string, string> = {
	'image/png': 'png',
	'image/jpeg': 'jpg',
	'image/webp': 'webp',
	'image/gif': 'gif',
};

function outputUrls(prediction: Prediction): string[] {
	const { output } = prediction;
	if (typeof output === 'string') return [output];
	if (Array.isArray(output))
		return output.filter((entry): entry is string => typeof entry === 'string');
	return [];
}

function expiredError(
	context: DownloadContext,
	prediction: Prediction,
	itemIndex: number,
	detail: string,
) {
	const error = new NodeOperationError(
		context.getNode(),
		`The outputs of prediction ${prediction.id} are no longer available (${detail})`,
		{
			itemIndex,
			description:
				'Replicate deletes the inputs and outputs of API predictions about an hour after they finish. Download them right away (the Download Outputs option), or run the prediction again.',
		},
	);
	return withPredictionId(error, prediction.id);
}

/** Named after what the bytes are, whatever the URL's extension says. */
function outputFileName(prediction: Prediction, index: number, mimeType: string): string {
	return `${prediction.id}-${index}.${EXTENSION_BY_MIME[mimeType] ?? mimeType.split('/')[1]}`;
}

function mimeFromHeaders(headers: Record<string, unknown>): string | undefined {
	const key = Object.keys(headers).find((name) => name.toLowerCase() === 'content-type');
	const value = key ? String(headers[key]) : '';
	return value.split(';')[0].trim() || undefined;
}

function tooLarge(
	context: DownloadContext,
	prediction: Prediction,
	index: number,
	bytes: string,
	max: number,
	itemIndex: number,
) {
	const error = new NodeOperationError(
		context.getNode(),
		`Output ${index} of prediction ${prediction.id} is larger than the Max Output Size (${bytes} > ${max} bytes)`,
		{
			itemIndex,
			description:
				'Raise the Max Output Size option, or turn off Download Outputs to get the URLs only.',
		},
	);
	return withPredictionId(error, prediction.id);
}

export interface DownloadOptions {
	policy: RetryPolicy;
	maxBytes: number;
	itemIndex: number;
}

/** Downloads every output of a succeeded prediction into n8n binary data, in output order. */
export async function downloadPredictionOutputs(
	context: DownloadContext,
	prediction: Prediction,
	options: DownloadOptions,
): Promise<IBinaryData[]> {
	const { itemIndex } = options;
	const urls = outputUrls(prediction);
	if (urls.length === 0) {
		if (prediction.data_removed === true)
			throw expiredError(context, prediction, itemIndex, 'data_removed is true');
		const message = `Prediction ${prediction.id} succeeded but returned no output files`;
		throw withPredictionId(
			new NodeApiError(context.getNode(), { message }, { message, itemIndex }),
			prediction.id,
		);
	}
	const binaries: IBinaryData[] = [];
	for (const [index, url] of urls.entries()) {
		binaries.push(await downloadOne(context, prediction, index, url, options));
	}
	return binaries;
}

/** The response message itself, rather than a decompressing stream piped from it. */
function isUndecodedResponse(body: unknown): boolean {
	const message = body as { statusCode?: unknown; headers?: unknown } | null;
	return typeof message?.statusCode === 'number' && typeof message.headers === 'object';
}

type PeekableStream = NodeJS.ReadableStream & {
	read(): Buffer | null;
	unshift(chunk: Buffer): void;
	readableEnded: boolean;
	destroy(error?: Error): void;
	resume(): void;
};

/** The first bytes of a stream, put back so that whoever reads it next gets the whole body. */
async function peek(stream: PeekableStream, bytes: number): Promise<Buffer> {
	const chunks: Buffer[] = [];
	let size = 0;
	while (size < bytes && !stream.readableEnded) {
		const chunk = stream.read() as Buffer | null;
		if (chunk) {
			chunks.push(chunk);
			size += chunk.length;
			continue;
		}
		await new Promise<void>((resolve, reject) => {
			const done = () => {
				stream.removeListener('readable', done);
				stream.removeListener('end', done);
				stream.removeListener('error', failed);
				resolve();
			};
			const failed = (error: Error) => {
				stream.removeListener('readable', done);
				stream.removeListener('end', done);
				reject(error);
			};
			stream.once('readable', done);
			stream.once('end', done);
			stream.once('error', failed);
		});
	}
	const head = Buffer.concat(chunks, size);
	if (head.length > 0) stream.unshift(head);
	return head.subarray(0, bytes);
}

/** An output whose bytes are no image (an error page, JSON from a redirect target): never stored. */
function notAnImage(
	context: DownloadContext,
	prediction: Prediction,
	index: number,
	declared: string | undefined,
	itemIndex: number,
) {
	const error = new NodeOperationError(
		context.getNode(),
		`Output ${index} of prediction ${prediction.id} is not an image (${declared ?? 'no declared type'}, and its bytes are no ${IMAGE_FORMATS} file)`,
		{
			itemIndex,
			description:
				'The output URL (or where it redirected to) answered something else than the image, for example an error page. Nothing was saved. Check the prediction on Replicate, or turn off Download Outputs to get the URLs only.',
		},
	);
	return withPredictionId(error, prediction.id);
}

const NETWORK_WORDS: Record<string, string> = {
	ECONNRESET: 'connection reset',
	EPIPE: 'connection reset',
	ECONNREFUSED: 'connection refused',
	ETIMEDOUT: 'timed out',
	ESOCKETTIMEDOUT: 'timed out',
	ECONNABORTED: 'timed out',
	ERR_STREAM_PREMATURE_CLOSE: 'connection closed before the end of the file',
	ENOTFOUND: 'host not found',
	EAI_AGAIN: 'host not found',
	EHOSTUNREACH: 'host unreachable',
	ENETUNREACH: 'network unreachable',
};

/** A download that failed on the network (after its retries): say which output of which prediction. */
function downloadFailed(
	context: DownloadContext,
	prediction: Prediction,
	index: number,
	failure: unknown,
	itemIndex: number,
) {
	const code = networkErrorCode(failure);
	const text = failure instanceof Error ? failure.message : String(failure);
	const words =
		(code && NETWORK_WORDS[code]) ??
		(/aborted/i.test(text) ? 'connection aborted' : 'network error');
	const message = `Downloading output ${index} of prediction ${prediction.id} failed: ${words}`;
	const error = new NodeApiError(
		context.getNode(),
		{ message },
		{
			message,
			itemIndex,
			description: `${code ? `${code}: ` : ''}${text}\nThe prediction itself succeeded: Get with its ID downloads the outputs again (for about an hour).`,
		},
	);
	error.message = message;
	return withPredictionId(error, prediction.id);
}

async function downloadOne(
	context: DownloadContext,
	prediction: Prediction,
	index: number,
	url: string,
	options: DownloadOptions,
): Promise<IBinaryData> {
	const { itemIndex, maxBytes } = options;
	const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
	if (scheme === 'data') {
		const match = /^data:([^;,]+)?((?:;[^;,]*)*?)(;base64)?,(.*)$/s.exec(url);
		if (!match)
			throw withPredictionId(
				new NodeOperationError(
					context.getNode(),
					`Output ${index} of prediction ${prediction.id} is a malformed data URI`,
					{ itemIndex },
				),
				prediction.id,
			);
		const content = match[3]
			? Buffer.from(match[4], 'base64')
			: Buffer.from(decodeURIComponent(match[4]));
		if (content.length > maxBytes)
			throw tooLarge(context, prediction, index, String(content.length), maxBytes, itemIndex);
		const mimeType = sniffImageType(content.subarray(0, IMAGE_SNIFF_BYTES));
		if (!mimeType) throw notAnImage(context, prediction, index, match[1], itemIndex);
		return await context.helpers.prepareBinaryData(
			content,
			outputFileName(prediction, index, mimeType),
			mimeType,
		);
	}
	if (scheme !== 'http' && scheme !== 'https') {
		const error = new NodeOperationError(
			context.getNode(),
			`Output ${index} of prediction ${prediction.id} has a URL the node will not fetch: "${url.slice(0, 100)}"`,
			{ itemIndex, description: 'Only http(s) and data: output URIs are downloaded.' },
		);
		throw withPredictionId(error, prediction.id);
	}
	let result: Awaited<ReturnType<typeof downloadOutput<IBinaryData>>> | undefined;
	let failure: unknown;
	try {
		result = await downloadOutput(context, { url }, options.policy, async (response) => {
			const body = response.body as PeekableStream;
			const declared = Number(
				Object.entries(response.headers).find(
					([name]) => name.toLowerCase() === 'content-length',
				)?.[1],
			);
			if (Number.isFinite(declared) && declared > maxBytes) {
				body.resume();
				throw tooLarge(context, prediction, index, String(declared), maxBytes, itemIndex);
			}
			// The bytes decide what the file is, not the Content-Type (a redirect target may answer JSON).
			const mimeType = sniffImageType(await peek(body, IMAGE_SNIFF_BYTES));
			if (!mimeType) {
				body.destroy();
				throw notAnImage(context, prediction, index, mimeFromHeaders(response.headers), itemIndex);
			}
			if (Number.isFinite(declared) && isUndecodedResponse(response.body)) {
				// The HTTP response itself (nothing decompressed it): Node's parser ends its body at the
				// declared length, which is within the limit, so it streams straight into n8n's binary
				// store. In filesystem mode the file then never sits in memory as a whole.
				const stored = await context.helpers.prepareBinaryData(
					body as unknown as Parameters<IExecuteFunctions['helpers']['prepareBinaryData']>[0],
					outputFileName(prediction, index, mimeType),
					mimeType,
				);
				if (stored.bytes !== undefined && stored.bytes !== declared) {
					// Repeated by the download's retries, as a connection lost mid-body is.
					throw Object.assign(
						new Error(`Output ${index} ended after ${stored.bytes} of ${declared} bytes`),
						{
							code: 'ERR_STREAM_PREMATURE_CLOSE',
						},
					);
				}
				return stored;
			}
			// Read with a running count, for servers that send no Content-Length or a compressed body.
			// n8n's community rules allow no stream import, so the file is gathered here and stored once.
			const chunks: Buffer[] = [];
			let received = 0;
			for await (const chunk of body as AsyncIterable<Buffer>) {
				received += chunk.length;
				if (received > maxBytes) {
					body.destroy();
					throw tooLarge(context, prediction, index, `more than ${maxBytes}`, maxBytes, itemIndex);
				}
				chunks.push(chunk);
			}
			const content = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, received);
			return await context.helpers.prepareBinaryData(
				content,
				outputFileName(prediction, index, mimeType),
				mimeType,
			);
		});
	} catch (error) {
		failure = error;
	}
	if (!result) {
		if (
			failure instanceof ExecutionStoppedError ||
			failure instanceof NodeOperationError ||
			failure instanceof NodeApiError
		)
			throw failure;
		throw downloadFailed(context, prediction, index, failure, itemIndex);
	}
	if (result.value) return result.value;
	if (result.statusCode === 404 || result.statusCode === 410) {
		throw expiredError(
			context,
			prediction,
			itemIndex,
			`HTTP ${result.statusCode} for output ${index}`,
		);
	}
	const message = `Downloading output ${index} of prediction ${prediction.id} failed with HTTP ${result.statusCode}`;
	throw withPredictionId(
		new NodeApiError(
			context.getNode(),
			{ message },
			{ message, itemIndex, httpCode: String(result.statusCode) },
		),
		prediction.id,
	);
}
