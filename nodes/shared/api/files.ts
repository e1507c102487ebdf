/**
 * Replicate's files resource: uploads of binary inputs too large for a data URI (multipart,
 * streamed from n8n's binary store where it keeps the file), and their deletion.
 */
import { randomBytes } from 'node:crypto';

import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';
import { NodeApiError } from 'n8n-workflow';

import type { TransportContext } from '../transport/request';
import { apiRequest } from '../transport/request';
import type { RetryPolicy } from '../transport/retry';
import { readPage } from './pages';

/** A file in n8n's binary store, as n8n's helpers hand it out. */
export type BinaryStream = Awaited<ReturnType<IExecuteFunctions['helpers']['getBinaryStream']>>;

export interface FileToUpload {
	fileName: string;
	mimeType: string;
	/** bytes */
	size: number;
	metadata: IDataObject;
	/** The file's bytes for one attempt: a stream is read once, so each attempt opens it anew. */
	content: () => Promise<Buffer | BinaryStream>;
}

/** A file the node uploaded for one prediction, to delete once it is terminal. */
export interface UploadedFile {
	id: string;
	url: string;
}

/** The multipart body's bytes around the file, and its length. */
function multipartFrame(file: FileToUpload, boundary: string) {
	const part = (name: string, value: string) =>
		`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
	const safeName = file.fileName.replace(/["\r\n]/g, '_');
	const head = Buffer.from(
		`--${boundary}\r\nContent-Disposition: form-data; name="content"; filename="${safeName}"\r\nContent-Type: ${file.mimeType}\r\n\r\n`,
	);
	const tail = Buffer.from(
		'\r\n' +
			part('filename', safeName) +
			part('type', file.mimeType) +
			part('metadata', JSON.stringify(file.metadata)) +
			`--${boundary}--\r\n`,
	);
	return { head, tail, length: head.length + file.size + tail.length };
}

/**
 * The body of one attempt: bytes in memory, or the stored file written as a stream (`compose`
 * wraps it in the part headers without the `stream` module, which the community lint forbids).
 */
async function multipartBody(
	file: FileToUpload,
	head: Buffer,
	tail: Buffer,
): Promise<Buffer | NodeJS.ReadableStream> {
	const content = await file.content();
	if (Buffer.isBuffer(content)) return Buffer.concat([head, content, tail]);
	return content.compose(async function* (source: AsyncIterable<Buffer>) {
		yield head;
		for await (const chunk of source) yield chunk;
		yield tail;
	});
}

/**
 * POST /files. A 404 (a gateway without it) reaches the caller as a NodeApiError with httpCode 404.
 * An upload is free, so a fault repeats it; but an attempt whose answer was lost (a reset, a
 * timeout, a Stop while it was on the wire) may have stored a file nobody would delete. Each
 * upload carries a mark of its own in its metadata, and after such an attempt the files with that
 * mark, but for the one kept, are found (GET /files) and deleted.
 */
export async function uploadFile(
	context: TransportContext,
	file: FileToUpload,
	policy: RetryPolicy,
	itemIndex: number,
): Promise<UploadedFile> {
	const mark = randomBytes(12).toString('hex');
	const marked = { ...file, metadata: { ...file.metadata, upload: mark } };
	const boundary = `----n8nReplicateInpainting${mark}`;
	const { head, tail, length } = multipartFrame(marked, boundary);
	let attempts = 0;
	let uploaded: UploadedFile | undefined;
	try {
		const answer = await apiRequest<IDataObject>(
			context,
			{
				method: 'POST',
				path: '/files',
				kind: 'repeatable',
				body: async () => {
					attempts++;
					return await multipartBody(marked, head, tail);
				},
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
		uploaded = { id: answer.id, url };
		return uploaded;
	} finally {
		// Every attempt but the one kept may have left a file.
		if (attempts > (uploaded ? 1 : 0)) await deleteLostUploads(context, mark, uploaded?.id, policy);
	}
}

/**
 * Deletes the files carrying `mark` but `kept`, among the newest (a lost upload is among the
 * last). Best effort: what stays expires after 24 h.
 */
async function deleteLostUploads(
	context: TransportContext,
	mark: string,
	kept: string | undefined,
	policy: RetryPolicy,
): Promise<void> {
	try {
		const page = readPage(
			await apiRequest(context, { method: 'GET', path: '/files', kind: 'cleanup' }, policy),
		);
		const lost = page.results.filter(
			(stored) =>
				(stored.metadata as IDataObject | undefined)?.upload === mark && stored.id !== kept,
		);
		await deleteUploads(
			context,
			lost.map((stored) => ({ id: String(stored.id) })),
			policy,
		);
	} catch {
		// Nothing to do: the files expire.
	}
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
