/** The files API (/files): uploads as multipart, listed, fetched, downloaded, deleted, expiring after 24 h. */
import crypto from 'node:crypto';

import { isRecord, iso, randomId, type ServerCore } from './core';
import { headerValue, NOT_FOUND, parseMultipart, problem } from './http';
import type { ApiRoute, Exchange, Reply } from './types';

const MAX_FILE_BYTES = 100 * 1024 * 1024;
const FILE_LIFETIME_MS = 24 * 60 * 60 * 1000;

interface FileObject {
	id: string;
	name: string;
	content_type: string;
	size: number;
	etag: string;
	checksums: { sha256: string; md5: string };
	metadata: Record<string, unknown>;
	created_at: string;
	expires_at: string;
	urls: { get: string };
}

interface StoredFile {
	object: FileObject;
	content: Buffer;
	seq: number;
	expiresMs: number;
}

export class FilesApi {
	/** every upload since the last reset: its size and sha256 (kept after a delete) */
	readonly uploads: Array<{ size: number; sha256: string }> = [];
	private readonly files = new Map<string, StoredFile>();

	readonly routes: ApiRoute[] = [
		{
			method: 'POST',
			pattern: /^\/files$/,
			name: 'POST /files',
			files: true,
			handle: (ex) => this.upload(ex),
		},
		{
			method: 'GET',
			pattern: /^\/files$/,
			name: 'GET /files',
			files: true,
			handle: (ex) => this.list(ex),
		},
		{
			method: 'GET',
			pattern: /^\/files\/([^/]+)$/,
			name: 'GET /files/{id}',
			files: true,
			handle: (_ex, id) => {
				const file = this.find(id);
				return file ? { status: 200, json: file.object } : NOT_FOUND();
			},
		},
		{
			method: 'DELETE',
			pattern: /^\/files\/([^/]+)$/,
			name: 'DELETE /files/{id}',
			files: true,
			handle: (_ex, id) => {
				if (!this.find(id)) return NOT_FOUND();
				this.files.delete(id);
				return { status: 204 };
			},
		},
		{
			method: 'GET',
			pattern: /^\/files\/([^/]+)\/download$/,
			name: 'GET /files/{id}/download',
			files: true,
			handle: (_ex, id) => {
				const file = this.find(id);
				return file
					? { status: 200, body: file.content, contentType: file.object.content_type }
					: NOT_FOUND();
			},
		},
	];

	constructor(private readonly core: ServerCore) {}

	/** Files still stored (not deleted, not expired). */
	count(): number {
		return [...this.files.keys()].filter((id) => this.find(id) !== undefined).length;
	}

	find(id: string): StoredFile | undefined {
		const file = this.files.get(id);
		if (file && file.expiresMs <= Date.now()) {
			this.files.delete(id);
			return undefined;
		}
		return file;
	}

	private upload(ex: Exchange): Reply {
		const contentType = headerValue(ex.req, 'content-type') ?? '';
		if (!/^multipart\/form-data\b/i.test(contentType)) {
			return problem(
				400,
				'Bad Request',
				'Expected a multipart/form-data body with a "content" part',
			);
		}
		const parts = parseMultipart(ex.body, contentType);
		if (!parts) return problem(400, 'Bad Request', 'Malformed multipart/form-data body');
		const field = (name: string) => parts.find((p) => p.name === name);
		const content = field('content');
		if (!content) return problem(400, 'Bad Request', 'The multipart body has no "content" part');
		if (content.data.length > MAX_FILE_BYTES)
			return problem(413, 'Payload Too Large', `Files are limited to ${MAX_FILE_BYTES} bytes`);
		let metadata: Record<string, unknown> = {};
		const metadataPart = field('metadata');
		if (metadataPart) {
			try {
				const parsed: unknown = JSON.parse(metadataPart.data.toString('utf8'));
				if (!isRecord(parsed)) throw new Error('not an object');
				metadata = parsed;
			} catch {
				return problem(400, 'Bad Request', 'metadata must be a JSON object');
			}
		}
		const now = Date.now();
		const id = randomId(36);
		const md5 = crypto.createHash('md5').update(content.data).digest('hex');
		const object: FileObject = {
			id,
			name: field('filename')?.data.toString('utf8') || content.filename || 'file',
			content_type:
				field('type')?.data.toString('utf8') || content.contentType || 'application/octet-stream',
			size: content.data.length,
			etag: md5,
			checksums: { sha256: crypto.createHash('sha256').update(content.data).digest('hex'), md5 },
			metadata,
			created_at: iso(now),
			expires_at: iso(now + FILE_LIFETIME_MS),
			urls: { get: `${this.core.apiUrl}/files/${id}` },
		};
		this.files.set(id, {
			object,
			content: Buffer.from(content.data),
			seq: ++this.core.sequence,
			expiresMs: now + FILE_LIFETIME_MS,
		});
		this.uploads.push({ size: object.size, sha256: object.checksums.sha256 });
		return { status: 201, json: object };
	}

	private list(ex: Exchange): Reply {
		const items = [...this.files.keys()]
			.map((id) => this.find(id))
			.filter((f): f is StoredFile => f !== undefined)
			.map((f) => ({ seq: f.seq, value: f.object }));
		return this.core.page(ex, items, '/files');
	}
}
