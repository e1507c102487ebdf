/**
 * Binary inputs: an item's Image and Mask files become what Replicate accepts, a data URI or a
 * file uploaded to `/files` (streamed from n8n's binary store where n8n keeps it there).
 */
import type { IBinaryData, IExecuteFunctions } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import type { BinaryStream, UploadedFile } from '../../shared/api/files';
import { uploadFile } from '../../shared/api/files';
import { IMAGE_FORMATS, IMAGE_SNIFF_BYTES, sniffImageType } from '../../shared/imageType';
import type { UploadRoute } from '../../shared/options';
import { ExecutionStoppedError } from '../../shared/pause';
import type { RetryPolicy } from '../../shared/transport/retry';

/** Replicate recommends data URIs only for small files. */
export const DATA_URI_MAX_BYTES = 256 * 1024;
/** A gateway without `/files`: larger data URIs still work, up to a point. */
export const DATA_URI_FALLBACK_MAX_BYTES = 10 * 1024 * 1024;

/** Which input a binary file is for: its API name (`image`, `image_input[1]`) and its label. */
export interface BinaryInputField {
	field: string;
	/** The form field the user named the binary field in, as the form shows it. */
	label: string;
}

export interface BinaryImage extends BinaryInputField {
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

/** Reads and checks a binary input; fails (before any request) when it is missing or no image. */
export async function readBinaryImage(
	context: IExecuteFunctions,
	itemIndex: number,
	{ field, label: fieldLabel }: BinaryInputField,
	property: string,
): Promise<BinaryImage> {
	const label = `${fieldLabel} (${field}): "${property}"`;
	const binaries = context.getInputData()[itemIndex]?.binary ?? {};
	if (!property || !binaries[property]) {
		const available = Object.keys(binaries);
		throw new NodeOperationError(
			context.getNode(),
			`${label}: the input item has no binary field of that name`,
			{
				itemIndex,
				description: available.length
					? `Binary fields on this item: ${available.join(', ')}. Set ${fieldLabel} to one of them. To bring an image and a mask from two nodes onto one item, use a Merge node (Combine, By Position).`
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
		image = { field, label: fieldLabel, property, size: storedSize, open };
		head = await headOf(await open(), IMAGE_SNIFF_BYTES);
	} else {
		const content = await context.helpers.getBinaryDataBuffer(itemIndex, property);
		image = { field, label: fieldLabel, property, size: content.length, content };
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
		fileName: metadata.fileName ?? `${field.replace(/\W+/g, '_')}.${mimeType.split('/')[1]}`,
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
	// A failure to read the file here (n8n's binary store) fails the upload too: told apart from
	// the network's, so the message says which it was.
	let readFailure: Error | undefined;
	const content = async () => {
		const opening = image.open ? image.open() : contentOf(context, image, itemIndex);
		// Noted here; the failure itself goes on to the upload, which fails with it.
		opening.catch((error: Error) => (readFailure ??= error));
		const file = await opening;
		if (!Buffer.isBuffer(file)) file.once('error', (error: Error) => (readFailure ??= error));
		return file;
	};
	try {
		uploaded = await uploadFile(
			context,
			{
				fileName: image.fileName,
				mimeType: image.mimeType,
				size: image.size,
				metadata: { source: 'n8n-nodes-replicate-inpainting', field: image.field },
				content,
			},
			policy,
			itemIndex,
		);
	} catch (error) {
		failure = error;
	}
	if (uploaded) {
		uploads.push(uploaded);
		return uploaded.url;
	}
	if (readFailure && !(failure instanceof ExecutionStoppedError)) {
		throw new NodeOperationError(
			context.getNode(),
			`${image.label} (${image.field}): could not read the input file "${image.fileName}" from n8n's binary data store: ${readFailure.message}`,
			{
				itemIndex,
				description:
					"Nothing was created for this item. The file went missing or unreadable in n8n's binary data storage (the filesystem path, S3 or the database) after the item was checked; run the item again.",
			},
		);
	}
	const notServed = failure instanceof NodeApiError && failure.httpCode === '404';
	if (!notServed) throw failure;
	if (image.size <= DATA_URI_FALLBACK_MAX_BYTES) return await toDataUri(context, image, itemIndex);
	throw new NodeOperationError(
		context.getNode(),
		`${image.label} (${image.field}): the API has no files endpoint (404 on POST /files) and the file is too large for a data URI (${image.size} bytes, at most ${DATA_URI_FALLBACK_MAX_BYTES})`,
		{ itemIndex, description: 'Pass the image as a public URL instead, or make it smaller.' },
	);
}
