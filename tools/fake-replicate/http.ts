/** HTTP plumbing of the fake Replicate: bodies in (decoded, multipart), replies out, problem JSON. */
import type http from 'node:http';
import { pipeline } from 'node:stream';
import zlib from 'node:zlib';

import type { Reply } from './types';
import type { Problem } from './validation';

const MAX_BODY_BYTES = 110 * 1024 * 1024;

export function problem(
	status: number,
	title: string,
	detail: string,
	extra?: Record<string, unknown>,
): Reply {
	return { status, json: { title, detail, status, ...extra } };
}

export function fromProblem(p: Problem): Reply {
	const { title, detail, status, ...rest } = p;
	return { status, json: { title, detail, status, ...rest } };
}

export const NOT_FOUND = (): Reply =>
	problem(404, 'Not found', 'The requested resource could not be found');
export const UNAUTHENTICATED = (): Reply =>
	problem(401, 'Unauthenticated', 'You did not pass a valid authentication token');

export function flattenHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
	const flat: Record<string, string> = {};
	for (const [name, value] of Object.entries(headers)) {
		if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
	}
	return flat;
}

export function headerValue(req: http.IncomingMessage, name: string): string | undefined {
	const value = req.headers[name];
	return Array.isArray(value) ? value.join(', ') : value;
}

export class BodyError extends Error {
	constructor(
		readonly status: number,
		message: string,
	) {
		super(message);
	}
}

export async function readBody(req: http.IncomingMessage): Promise<Buffer> {
	const chunks: Buffer[] = [];
	let size = 0;
	for await (const chunk of req) {
		size += (chunk as Buffer).length;
		if (size > MAX_BODY_BYTES)
			throw new BodyError(413, `Request body exceeds ${MAX_BODY_BYTES} bytes`);
		chunks.push(chunk as Buffer);
	}
	const raw = Buffer.concat(chunks);
	const encoding = (headerValue(req, 'content-encoding') ?? 'identity').trim().toLowerCase();
	try {
		if (encoding === 'identity' || encoding === '') return raw;
		if (encoding === 'gzip' || encoding === 'x-gzip')
			return zlib.gunzipSync(raw, { maxOutputLength: MAX_BODY_BYTES });
		if (encoding === 'deflate') return zlib.inflateSync(raw, { maxOutputLength: MAX_BODY_BYTES });
		if (encoding === 'br')
			return zlib.brotliDecompressSync(raw, { maxOutputLength: MAX_BODY_BYTES });
	} catch (error) {
		throw new BodyError(
			400,
			`Could not decode the ${encoding} request body: ${(error as Error).message}`,
		);
	}
	throw new BodyError(415, `Unsupported Content-Encoding ${encoding}`);
}

interface MultipartPart {
	name: string;
	filename?: string;
	contentType?: string;
	data: Buffer;
}

function headerParams(value: string): Record<string, string> {
	const params: Record<string, string> = {};
	for (const match of value.matchAll(/;\s*([^=;\s]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/g)) {
		const key = match[1].toLowerCase();
		params[key] = match[2] !== undefined ? match[2].replace(/\\(.)/g, '$1') : match[3].trim();
	}
	return params;
}

/** Parses multipart/form-data (RFC 7578); null when the body is not well formed. */
export function parseMultipart(body: Buffer, contentType: string): MultipartPart[] | null {
	const boundary = headerParams(contentType).boundary;
	if (!boundary) return null;
	const delimiter = Buffer.from(`--${boundary}`);
	const parts: MultipartPart[] = [];
	let position = body.indexOf(delimiter);
	if (position < 0) return null;
	for (;;) {
		position += delimiter.length;
		if (body.toString('latin1', position, position + 2) === '--') return parts;
		if (body.toString('latin1', position, position + 2) !== '\r\n') return null;
		position += 2;
		const headerEnd = body.indexOf('\r\n\r\n', position);
		if (headerEnd < 0) return null;
		const headers: Record<string, string> = {};
		for (const line of body.toString('utf8', position, headerEnd).split('\r\n')) {
			const colon = line.indexOf(':');
			if (colon > 0)
				headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
		}
		const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headerEnd + 4);
		if (next < 0) return null;
		const disposition = headers['content-disposition'] ?? '';
		if (!/^form-data\b/i.test(disposition)) return null;
		const params = headerParams(disposition);
		let filename = params.filename;
		const extended = params['filename*'];
		if (extended) {
			const m = /^[^']*'[^']*'(.*)$/.exec(extended);
			try {
				filename = decodeURIComponent(m ? m[1] : extended);
			} catch {
				filename = extended;
			}
		}
		if (params.name === undefined) return null;
		parts.push({
			name: params.name,
			filename,
			contentType: headers['content-type'],
			data: body.subarray(headerEnd + 4, next),
		});
		position = next + 2;
	}
}

/** Writes a reply: JSON or bytes, gzip for clients that ask, HEAD without a body, streams piped. */
export function write(req: http.IncomingMessage, res: http.ServerResponse, reply: Reply): void {
	if (res.headersSent || res.destroyed) return;
	const headers: Record<string, string | number> = { ...reply.headers };
	const head = req.method === 'HEAD';
	if (reply.stream && reply.length !== undefined) {
		res.writeHead(reply.status, {
			'content-type': reply.contentType ?? 'application/octet-stream',
			'content-length': reply.length,
			...headers,
		});
		if (head) return void res.end();
		pipeline(reply.stream(), res, () => undefined);
		return;
	}
	let body: Buffer;
	let contentType = reply.contentType;
	if (reply.json !== undefined) {
		body = Buffer.from(JSON.stringify(reply.json));
		contentType ??= reply.status >= 400 ? 'application/problem+json' : 'application/json';
	} else {
		body =
			typeof reply.body === 'string' ? Buffer.from(reply.body) : (reply.body ?? Buffer.alloc(0));
	}
	if (contentType && reply.status !== 204) headers['content-type'] = contentType;
	// Compress JSON for clients that ask, as Replicate's CDN does.
	const acceptsGzip = /\bgzip\b/i.test(headerValue(req, 'accept-encoding') ?? '');
	if (acceptsGzip && body.length >= 1024 && contentType !== 'image/png') {
		body = zlib.gzipSync(body, { level: 1 });
		headers['content-encoding'] = 'gzip';
		headers.vary = 'Accept-Encoding';
	}
	if (reply.status !== 204) headers['content-length'] = body.length;
	res.writeHead(reply.status, headers);
	res.end(head || reply.status === 204 ? undefined : body);
}
