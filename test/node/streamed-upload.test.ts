/**
 * Binary inputs n8n keeps in its binary store (filesystem mode) are streamed into the `/files`
 * upload rather than read whole: the server must receive exactly the file's bytes, also when the
 * first attempt fails and the upload is made again from a fresh stream.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { Container } from '@n8n/di';
import { BinaryDataConfig } from 'n8n-core';

import { ReplicateInpainting } from '../../nodes/ReplicateInpainting/ReplicateInpainting.node';
import { runWorkflow } from '../harness';
import { makeSamplePng, paddedPng } from '../../tools/fake-replicate';
import { credentialOptions, serverCredential } from '../support/credentials';
import { useFakeReplicate } from '../support/fakeReplicate';
import { apiRequests, createRequests, eventually, NODE_NAME, readFileWorkflow } from './support';

const server = useFakeReplicate({ modelTimeMs: 50 });
let dir: string;
let imagePath: string;
let image: Buffer;

beforeAll(async () => {
	dir = mkdtempSync(path.join(os.tmpdir(), 'streamed-upload-'));
	// 3 MB: above the data-URI limit (256 KB), so it is uploaded.
	image = Buffer.concat([...paddedPng(makeSamplePng(64, 64, 'image'), 3 * 1024 * 1024)]);
	imagePath = path.join(dir, 'photo.png');
	writeFileSync(imagePath, image);
});

afterAll(async () => {
	rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
	server.set({ filesEndpoint: true });
});

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

async function run(binaryDataMode: 'filesystem' | 'default') {
	const result = await runWorkflow({
		workflow: readFileWorkflow(`={{ "${imagePath}" }}`, {
			prompt: 'a red armchair',
			imageSource: 'binary',
			maskSource: 'url',
			maskUrl: server.sampleMaskUrl,
			options: { keepUploadedFiles: true },
		}),
		nodeTypes: [ReplicateInpainting],
		...credentialOptions(serverCredential(server)),
		binaryDataMode,
	});
	const error = result.nodeError(NODE_NAME);
	if (error) throw error;
	return result;
}

async function uploadedBytes(url: string): Promise<Buffer> {
	const response = await fetch(`${url}/download`, {
		headers: { authorization: `Bearer ${server.token}` },
	});
	expect(response.status).toBe(200);
	return Buffer.from(await response.arrayBuffer());
}

describe.each(['filesystem', 'default'] as const)(
	'a 3 MB binary input in %s mode',
	(binaryDataMode) => {
		test('reaches /files byte for byte, with its length declared', async () => {
			await run(binaryDataMode);
			const uploads = apiRequests(server).filter(
				(request) => request.method === 'POST' && /\/files$/.test(request.path),
			);
			expect(uploads).toHaveLength(1);
			expect(uploads[0].headers['content-length']).toMatch(/^\d+$/);
			expect(uploads[0].headers['transfer-encoding']).toBeUndefined();
			const input = (createRequests(server)[0].json as { input: Record<string, string> }).input;
			expect(sha256(await uploadedBytes(input.image))).toBe(sha256(image));
		});

		test('a failed upload is made again from the start of the file', async () => {
			server.inject({ kind: 'status', status: 503, method: 'POST', path: /^\/files$/ });
			await run(binaryDataMode);
			const uploads = apiRequests(server).filter(
				(request) => request.method === 'POST' && /\/files$/.test(request.path),
			);
			expect(uploads).toHaveLength(2);
			const input = (createRequests(server)[0].json as { input: Record<string, string> }).input;
			expect(sha256(await uploadedBytes(input.image))).toBe(sha256(image));
		});

		test('a gateway without /files gets the whole file as a data URI', async () => {
			server.set({ filesEndpoint: false });
			await run(binaryDataMode);
			const input = (createRequests(server)[0].json as { input: Record<string, string> }).input;
			expect(input.image).toBe(`data:image/png;base64,${image.toString('base64')}`);
		});
	},
);

test("a stored input that can no longer be read says so (not as the network's fault), naming the field and the file", async () => {
	const pair = mkdtempSync(path.join(os.tmpdir(), 'unreadable-upload-'));
	writeFileSync(path.join(pair, 'a.png'), image);
	writeFileSync(path.join(pair, 'b.png'), image);
	// Item 0's upload is held by the server; meanwhile n8n's stored copies go, so item 1's
	// upload cannot open its file.
	server.inject({ kind: 'delay', ms: 1_500, method: 'POST', path: /^\/files$/ });
	const uploadsSeen = () =>
		apiRequests(server).filter(
			(request) => request.method === 'POST' && /\/files$/.test(request.path),
		).length;
	const running = runWorkflow({
		workflow: readFileWorkflow(`={{ "${pair}/*.png" }}`, {
			prompt: 'a red armchair',
			imageSource: 'binary',
			maskSource: 'url',
			maskUrl: server.sampleMaskUrl,
			options: { maxConcurrent: 1 },
		}),
		nodeTypes: [ReplicateInpainting],
		...credentialOptions(serverCredential(server)),
		binaryDataMode: 'filesystem',
	});
	try {
		expect(await eventually(() => uploadsSeen() === 1, 10_000)).toBe(true);
		const store = Container.get(BinaryDataConfig).localStoragePath;
		for (const entry of readdirSync(store, { recursive: true, withFileTypes: true }))
			if (entry.isFile()) rmSync(path.join(entry.parentPath, entry.name));
		const result = await running;
		expect(result.nodeError(NODE_NAME)?.message).toMatch(
			/^Image Binary Field Name \(image\): could not read the input file "b\.png" from n8n's binary data store: File not found/,
		);
		// Item 1 sent nothing: one upload and one create, item 0's.
		expect(uploadsSeen()).toBe(1);
		expect(createRequests(server)).toHaveLength(1);
	} finally {
		rmSync(pair, { recursive: true, force: true });
	}
});
