/**
 * The fake Replicate as a separate process (tools/fake-replicate/cli.ts), so its CPU and memory stay out of
 * the figures of the process being measured; steered and read through its /__admin endpoints.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';

import { request } from 'undici';

import type { FakeReplicateStats } from '../tools/fake-replicate';

export interface ServerInfo {
	apiUrl: string;
	outputOrigin: string;
	token: string;
	sampleImageUrl: string;
	sampleMaskUrl: string;
	adminUrl: string;
}

export interface ServerOptions {
	modelTimeMs: number;
	honourPreferWait: boolean;
}

/** What /__admin/requests lists (abbreviated bodies). */
export interface ServerRequest {
	origin: 'api' | 'output';
	method: string;
	path: string;
	query: string;
	headers: Record<string, string>;
	at: number;
}

/** The fields of a prediction the bench reads. */
export interface ServerPrediction {
	id: string;
	status: string;
	created_at: string;
	completed_at: string | null;
	output: string[] | null;
}

/** What /__admin/stats answers: the server's stats() as JSON. */
export type ServerStats = FakeReplicateStats;

export class BenchServer {
	private constructor(
		readonly info: ServerInfo,
		private readonly child: ChildProcess,
	) {}

	static async start(options: ServerOptions): Promise<BenchServer> {
		// Compiled to .build/bench/server.js; the server CLI to .build/tools/fake-replicate/cli.js.
		const cli = path.join(__dirname, '..', 'tools', 'fake-replicate', 'cli.js');
		const args = [cli, '--model-time-ms', String(options.modelTimeMs)];
		if (!options.honourPreferWait) args.push('--no-prefer-wait');
		const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
		const lines = createInterface({ input: child.stdout! });
		const info = await new Promise<ServerInfo>((resolve, reject) => {
			child.once('error', reject);
			child.once('exit', (code) =>
				reject(new Error(`the fake Replicate exited early (code ${code})`)),
			);
			lines.once('line', (line) => {
				try {
					resolve(JSON.parse(line) as ServerInfo);
				} catch (error) {
					reject(error as Error);
				}
			});
		});
		child.removeAllListeners('exit');
		return new BenchServer(info, child);
	}

	private async admin<T>(method: 'GET' | 'POST', route: string, body?: unknown): Promise<T> {
		const response = await request(`${this.info.adminUrl}${route}`, {
			method,
			headers: body === undefined ? {} : { 'content-type': 'application/json' },
			body: body === undefined ? undefined : JSON.stringify(body),
		});
		const text = await response.body.text();
		if (response.statusCode >= 400)
			throw new Error(`admin ${method} ${route}: HTTP ${response.statusCode} ${text}`);
		return (text ? JSON.parse(text) : undefined) as T;
	}

	/** Clears the request log, scripts and counters (predictions stay). */
	async reset(): Promise<void> {
		await this.admin('POST', '/reset');
	}

	async setOptions(options: Partial<ServerOptions>): Promise<void> {
		await this.admin('POST', '/options', options);
	}

	/** Scripts the next `times` predictions, e.g. their output size. */
	async script(script: { outputBytes?: number; times: number }): Promise<void> {
		await this.admin('POST', '/script', script);
	}

	async requests(): Promise<ServerRequest[]> {
		return await this.admin<ServerRequest[]>('GET', '/requests');
	}

	async predictions(): Promise<ServerPrediction[]> {
		return await this.admin<ServerPrediction[]>('GET', '/predictions');
	}

	async stats(): Promise<ServerStats> {
		return await this.admin<ServerStats>('GET', '/stats');
	}

	async stop(): Promise<void> {
		if (this.child.exitCode !== null) return;
		await new Promise<void>((resolve) => {
			this.child.once('exit', () => resolve());
			this.child.kill('SIGTERM');
		});
	}
}
