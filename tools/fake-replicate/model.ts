/**
 * The model, whichever the prediction runs: fetches its inputs (every `format: uri` input, data
 * URIs, uploaded files, 127.0.0.1 URLs), decodes them and renders its outputs (render.ts), with
 * bounded caches of decoded inputs and rendered PNGs.
 */
import http from 'node:http';

import { LOOPBACK_HOSTS, type ServerCore } from './core';
import type { FilesApi } from './files';
import { InputImageError } from './inpaint';
import { decodeDataUri } from './inputSchema';
import { encodePngAsync } from './png';
import { outputShape, paint, prepareCanvas, uriFields, type Canvas } from './render';
import { TERMINAL, type Run } from './types';

const MAX_INPUT_DOWNLOAD_BYTES = 64 * 1024 * 1024;
const RENDER_CACHE_BYTES = 256 * 1024 * 1024;
const PREPARED_CACHE_ENTRIES = 8;

export class Model {
	private readonly renderCache = new Map<string, Buffer>();
	private renderCacheBytes = 0;
	private readonly renders = new Map<string, Promise<Buffer>>();
	private readonly prepared = new Map<string, Canvas>();

	constructor(
		private readonly core: ServerCore,
		private readonly files: FilesApi,
	) {}

	/** Drops what is cached of a prediction whose data Replicate has removed. */
	forget(id: string): void {
		this.prepared.delete(id);
		for (const key of [...this.renderCache.keys()]) {
			if (key.startsWith(`${id}/`)) {
				this.renderCacheBytes -= this.renderCache.get(key)?.length ?? 0;
				this.renderCache.delete(key);
			}
		}
	}

	async loadInputs(run: Run): Promise<void> {
		const files = new Map<string, Buffer[]>();
		await Promise.all(
			uriFields(run.target).map(async (field) => {
				const value = run.input[field];
				if (value === undefined || value === null) return;
				const urls = (Array.isArray(value) ? value : [value]) as string[];
				const labels = urls.map((_, i) => (Array.isArray(value) ? `${field}[${i}]` : field));
				files.set(
					field,
					await Promise.all(urls.map((url, i) => this.fetchInput(run, labels[i], url))),
				);
			}),
		);
		if (TERMINAL.has(run.prediction.status)) return;
		// Decoding here is what makes a bad input fail the prediction, as the real model does.
		const canvas = prepareCanvas(run.target, run.input, files);
		run.inputBytes = files;
		this.rememberPrepared(run.prediction.id, canvas);
		// Render while the decoded inputs are at hand ("the model runs"); downloads then hit the cache.
		const script = run.script;
		if (!script.noOutput && !script.dataRemoved && script.outputUrlScheme !== 'file')
			this.renderMissing(run, outputShape(run.target, run.input).count);
	}

	private async fetchInput(run: Run, field: string, value: string): Promise<Buffer> {
		if (value.startsWith('data:')) {
			const decoded = decodeDataUri(value);
			if (!decoded)
				throw new InputImageError(`cannot identify image file '${field}' (malformed data URI)`);
			return decoded.bytes;
		}
		const url = new URL(value);
		const filesPath = `${this.core.options.prefix}/files/`;
		if (url.origin === this.core.apiOrigin && url.pathname.startsWith(filesPath)) {
			const fileId = url.pathname.slice(filesPath.length).replace(/\/download$/, '');
			const file = this.files.find(fileId);
			if (!file)
				throw new Error(
					`Failed to download ${field}: file ${fileId} does not exist (deleted or expired)`,
				);
			return file.content;
		}
		if (!LOOPBACK_HOSTS.has(url.hostname) && url.hostname !== '::1') {
			throw new Error(
				`Failed to download ${field} from ${url.host}: this fake Replicate fetches only 127.0.0.1 URLs, never the internet`,
			);
		}
		if (url.protocol !== 'http:')
			throw new Error(
				`Failed to download ${field}: the fake Replicate fetches only http:// on 127.0.0.1`,
			);
		return this.httpGet(url, run.abort.signal, field);
	}

	private httpGet(url: URL, signal: AbortSignal, field: string): Promise<Buffer> {
		return new Promise((resolve, reject) => {
			const request = http.get(
				url,
				{
					agent: this.core.outgoingAgent,
					signal,
					timeout: 15_000,
					headers: { 'user-agent': 'fake-replicate-model/1' },
				},
				(response) => {
					if (response.statusCode !== 200) {
						response.resume();
						return reject(
							new Error(
								`Failed to download ${field}: HTTP ${response.statusCode} from ${url.href}`,
							),
						);
					}
					const chunks: Buffer[] = [];
					let size = 0;
					response.on('data', (chunk: Buffer) => {
						size += chunk.length;
						if (size > MAX_INPUT_DOWNLOAD_BYTES) {
							request.destroy();
							reject(
								new Error(
									`Failed to download ${field}: larger than ${MAX_INPUT_DOWNLOAD_BYTES} bytes`,
								),
							);
						} else chunks.push(chunk);
					});
					response.on('end', () => resolve(Buffer.concat(chunks)));
					response.on('error', reject);
				},
			);
			request.on('timeout', () => request.destroy(new Error('timed out')));
			request.on('error', (error) =>
				reject(new Error(`Failed to download ${field} from ${url.href}: ${error.message}`)),
			);
		});
	}

	private rememberPrepared(id: string, prepared: Canvas): void {
		this.prepared.delete(id);
		this.prepared.set(id, prepared);
		while (this.prepared.size > PREPARED_CACHE_ENTRIES)
			this.prepared.delete(this.prepared.keys().next().value as string);
	}

	private preparedFor(run: Run): Canvas {
		const id = run.prediction.id;
		const cached = this.prepared.get(id);
		if (cached) {
			this.rememberPrepared(id, cached);
			return cached;
		}
		if (!run.inputBytes) throw new Error(`inputs of ${id} are gone`);
		const prepared = prepareCanvas(run.target, run.input, run.inputBytes);
		this.rememberPrepared(id, prepared);
		return prepared;
	}

	/**
	 * Outputs are rendered while the prediction processes and cached as compressed PNGs (bounded;
	 * rendering is deterministic, so an evicted one is rendered again on download). All of a
	 * prediction's outputs are rendered together, so its inputs are decoded once.
	 */
	renderOutput(run: Run, index: number): Promise<Buffer> {
		const key = `${run.prediction.id}/${index}`;
		const cached = this.renderCache.get(key);
		if (cached) {
			this.renderCache.delete(key);
			this.renderCache.set(key, cached);
			return Promise.resolve(cached);
		}
		if (!this.renders.has(key)) this.renderMissing(run, outputShape(run.target, run.input).count);
		return (
			this.renders.get(key) ?? Promise.reject(new Error(`output ${key} could not be rendered`))
		);
	}

	private renderMissing(run: Run, count: number): void {
		const input = run.input;
		let prepared: Canvas | undefined;
		for (let index = 0; index < count; index++) {
			const key = `${run.prediction.id}/${index}`;
			if (this.renderCache.has(key) || this.renders.has(key)) continue;
			let render: Promise<Buffer>;
			try {
				prepared ??= this.preparedFor(run);
				const image = paint(prepared, {
					prompt: typeof input.prompt === 'string' ? input.prompt : '',
					negativePrompt: typeof input.negative_prompt === 'string' ? input.negative_prompt : '',
					seed: run.seed,
					index,
				});
				render = encodePngAsync(image, { level: 1, filter: 2 }).then((png) => {
					if (!run.purged) this.cacheRender(key, png);
					return png;
				});
			} catch (error) {
				render = Promise.reject(error);
			}
			this.renders.set(key, render);
			const forget = () => this.renders.delete(key);
			render.then(forget, forget);
		}
	}

	private cacheRender(key: string, png: Buffer): void {
		this.renderCache.set(key, png);
		this.renderCacheBytes += png.length;
		for (const [oldKey, old] of this.renderCache) {
			if (this.renderCacheBytes <= RENDER_CACHE_BYTES) break;
			this.renderCache.delete(oldKey);
			this.renderCacheBytes -= old.length;
		}
	}
}
