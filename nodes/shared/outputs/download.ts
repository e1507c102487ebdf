/**
 * A succeeded prediction's output URLs become n8n binary data: fetched without credentials
 * (transport/download), judged by their bytes (never by a name or a declared type), held to the
 * Max Output Size, and streamed into n8n's binary store where the answer allows it.
 */
import type { IBinaryData, IExecuteFunctions, INode } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import type { Prediction } from '../api/predictions';
import { withPredictionId } from '../errors';
import { headerValue } from '../headers';
import { IMAGE_FORMATS, IMAGE_SNIFF_BYTES, sniffImageType } from '../imageType';
import { ExecutionStoppedError } from '../pause';
import type { TransportContext } from '../transport/request';
import type { DownloadedResponse } from '../transport/download';
import { downloadOutput } from '../transport/download';
import type { RetryPolicy } from '../transport/retry';
import { networkErrorCode } from '../transport/retry';
import type { OutputFile } from './files';
import { DATA_URI, isEmptyOutput, outputFiles } from './files';

/** What downloading outputs needs of n8n: the node's execute context and the webhook contexts. */
export interface DownloadContext extends TransportContext {
	helpers: TransportContext['helpers'] & Pick<IExecuteFunctions['helpers'], 'prepareBinaryData'>;
}

export interface DownloadOptions {
	policy: RetryPolicy;
	maxBytes: number;
	itemIndex: number;
}

type StoreInput = Parameters<IExecuteFunctions['helpers']['prepareBinaryData']>[0];

const EXTENSION_BY_MIME: Record<string, string> = {
	'image/png': 'png',
	'image/jpeg': 'jpg',
	'image/webp': 'webp',
	'image/gif': 'gif',
};

/** Named after what the bytes are, whatever the URL's extension says. */
function outputFileName({ prediction, index }: OneOutput, mimeType: string): string {
	return `${prediction.id}-${index}.${EXTENSION_BY_MIME[mimeType] ?? mimeType.split('/')[1]}`;
}

/**
 * Downloads every file of a succeeded prediction's output into n8n binary data, in the order of
 * `outputFiles`. An output of text or numbers only is a result too: it has no files, and its
 * item carries the JSON alone.
 */
export async function downloadPredictionOutputs(
	context: DownloadContext,
	prediction: Prediction,
	options: DownloadOptions,
): Promise<IBinaryData[]> {
	const ref: OutputRef = { node: context.getNode(), prediction, itemIndex: options.itemIndex };
	const files = outputFiles(prediction.output);
	if (files.length === 0) {
		if (prediction.data_removed === true) throw expiredError(ref, 'data_removed is true');
		if (isEmptyOutput(prediction.output)) throw noOutputError(ref);
	}
	const binaries: IBinaryData[] = [];
	for (const [index, file] of files.entries()) {
		binaries.push(await downloadOne(context, { ...ref, index, file }, options));
	}
	return binaries;
}

/** An output sent inline as a data URI. */
async function storeDataUri(
	context: DownloadContext,
	output: OneOutput,
	maxBytes: number,
): Promise<IBinaryData> {
	const match = DATA_URI.exec(output.file.url);
	if (!match) throw outputError(output, 'is a malformed data URI');
	const content = match[3]
		? Buffer.from(match[4], 'base64')
		: Buffer.from(decodeURIComponent(match[4]));
	if (content.length > maxBytes) throw tooLarge(output, String(content.length), maxBytes);
	const mimeType = sniffImageType(content.subarray(0, IMAGE_SNIFF_BYTES));
	if (!mimeType) throw notAnImage(output, match[1]);
	return await context.helpers.prepareBinaryData(
		content,
		outputFileName(output, mimeType),
		mimeType,
	);
}

async function downloadOne(
	context: DownloadContext,
	output: OneOutput,
	options: DownloadOptions,
): Promise<IBinaryData> {
	const { url } = output.file;
	const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
	if (scheme === 'data') return await storeDataUri(context, output, options.maxBytes);
	if (scheme !== 'http' && scheme !== 'https') {
		throw outputError(
			output,
			`has a URL the node will not fetch: "${url.slice(0, 100)}"`,
			'Only http(s) and data: output URIs are downloaded.',
		);
	}
	let result: Awaited<ReturnType<typeof downloadOutput<IBinaryData>>> | undefined;
	let failure: unknown;
	try {
		result = await downloadOutput(
			context,
			{ url },
			options.policy,
			async (response) => await storeResponse(context, output, response, options.maxBytes),
		);
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
		throw downloadFailed(output, failure);
	}
	if (result.value) return result.value;
	if (result.statusCode === 404 || result.statusCode === 410) {
		throw expiredError(output, `HTTP ${result.statusCode} for output ${output.index}`);
	}
	throw downloadStatusError(output, result.statusCode);
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

/** The response message itself, rather than a decompressing stream piped from it. */
function isUndecodedResponse(body: unknown): boolean {
	const message = body as { statusCode?: unknown; headers?: unknown } | null;
	return typeof message?.statusCode === 'number' && typeof message.headers === 'object';
}

/** One attempt's answer into n8n's binary store (repeated whole by the download's retries). */
async function storeResponse(
	context: DownloadContext,
	output: OneOutput,
	response: DownloadedResponse,
	maxBytes: number,
): Promise<IBinaryData> {
	const body = response.body as PeekableStream;
	const declared = Number(headerValue(response.headers, 'content-length'));
	if (Number.isFinite(declared) && declared > maxBytes) {
		body.resume();
		throw tooLarge(output, String(declared), maxBytes);
	}
	// The bytes decide what the file is, not the Content-Type (a redirect target may answer JSON).
	const mimeType = sniffImageType(await peek(body, IMAGE_SNIFF_BYTES));
	if (!mimeType) {
		body.destroy();
		const declaredType = headerValue(response.headers, 'content-type')?.split(';')[0].trim();
		throw notAnImage(output, declaredType || undefined);
	}
	const fileName = outputFileName(output, mimeType);
	if (Number.isFinite(declared) && isUndecodedResponse(response.body)) {
		// The HTTP response itself (nothing decompressed it): Node's parser ends its body at the
		// declared length, which is within the limit, so it streams straight into n8n's binary
		// store. In filesystem mode the file then never sits in memory as a whole.
		const stored = await context.helpers.prepareBinaryData(
			body as unknown as StoreInput,
			fileName,
			mimeType,
		);
		if (stored.bytes !== undefined && stored.bytes !== declared) {
			// Repeated by the download's retries, as a connection lost mid-body is.
			throw Object.assign(
				new Error(`Output ${output.index} ended after ${stored.bytes} of ${declared} bytes`),
				{ code: 'ERR_STREAM_PREMATURE_CLOSE' },
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
			throw tooLarge(output, `more than ${maxBytes}`, maxBytes);
		}
		chunks.push(chunk);
	}
	const content = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, received);
	return await context.helpers.prepareBinaryData(content, fileName, mimeType);
}

/**
 * The output being fetched: which prediction's, for which input item. What goes wrong with it is
 * said per output and prediction, with the prediction ID attached (the prediction itself
 * succeeded and can be fetched again).
 */
interface OutputRef {
	node: INode;
	prediction: Prediction;
	itemIndex: number;
}

/** One file of the output: its place in `outputFiles`' order, and its URL and path. */
interface OneOutput extends OutputRef {
	index: number;
	file: OutputFile;
}

/**
 * `output 1`, and where it sat when that is not plain from the index (`output 1 at
 * output.images[0]`): an object output is named by its keys.
 */
function outputName({ index, file }: OneOutput): string {
	const plain = file.path === 'output' || file.path === `output[${index}]`;
	return plain ? `output ${index}` : `output ${index} at ${file.path}`;
}

function expiredError({ node, prediction, itemIndex }: OutputRef, detail: string) {
	const error = new NodeOperationError(
		node,
		`The outputs of prediction ${prediction.id} are no longer available (${detail})`,
		{
			itemIndex,
			description:
				'Replicate deletes the inputs and outputs of API predictions about an hour after they finish. Download them right away (the Download Outputs option), or run the prediction again.',
		},
	);
	return withPredictionId(error, prediction.id);
}

function noOutputError({ node, prediction, itemIndex }: OutputRef) {
	const message = `Prediction ${prediction.id} succeeded but returned no output files`;
	return withPredictionId(
		new NodeApiError(node, { message }, { message, itemIndex }),
		prediction.id,
	);
}

function outputError(output: OneOutput, problem: string, description?: string) {
	const { node, prediction, itemIndex } = output;
	const name = outputName(output);
	const error = new NodeOperationError(
		node,
		`${name[0].toUpperCase()}${name.slice(1)} of prediction ${prediction.id} ${problem}`,
		{ itemIndex, description },
	);
	return withPredictionId(error, prediction.id);
}

function tooLarge(output: OneOutput, bytes: string, max: number) {
	return outputError(
		output,
		`is larger than the Max Output Size (${bytes} > ${max} bytes)`,
		'Raise the Max Output Size option, or turn off Download Outputs to get the URLs only.',
	);
}

/**
 * An output whose bytes are no image (an error page, JSON from a redirect target): never stored.
 */
function notAnImage(output: OneOutput, declared: string | undefined) {
	return outputError(
		output,
		`is not an image (${declared ?? 'no declared type'}, and its bytes are no ${IMAGE_FORMATS} file)`,
		'The output URL (or where it redirected to) answered something else than the image, for example an error page. Nothing was saved. Check the prediction on Replicate, or turn off Download Outputs to get the URLs only.',
	);
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

/** A download that failed on the network (after its retries). */
function downloadFailed(output: OneOutput, failure: unknown) {
	const { node, prediction, itemIndex } = output;
	const code = networkErrorCode(failure);
	const text = failure instanceof Error ? failure.message : String(failure);
	const words =
		(code && NETWORK_WORDS[code]) ??
		(/aborted/i.test(text) ? 'connection aborted' : 'network error');
	const message = `Downloading ${outputName(output)} of prediction ${prediction.id} failed: ${words}`;
	const error = new NodeApiError(
		node,
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

/** The output URL answered an error status (after retries). */
function downloadStatusError(output: OneOutput, statusCode: number) {
	const { node, prediction, itemIndex } = output;
	const message = `Downloading ${outputName(output)} of prediction ${prediction.id} failed with HTTP ${statusCode}`;
	return withPredictionId(
		new NodeApiError(node, { message }, { message, itemIndex, httpCode: String(statusCode) }),
		prediction.id,
	);
}
