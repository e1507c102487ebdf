/**
 * Binary inputs n8n keeps in its binary store (filesystem mode) are streamed into the `/files`
 * upload rather than read whole: the server must receive exactly the file's bytes, also when the
 * first attempt fails and the upload is made again from a fresh stream.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { ReplicateInpainting } from '../../nodes/ReplicateInpainting/ReplicateInpainting.node';
import { runWorkflow } from '../harness';
import { makeSamplePng, paddedPng } from '../../tools/fake-replicate';
import { credentialOptions, serverCredential } from '../support/credentials';
import { useFakeReplicate } from '../support/fakeReplicate';
import { apiRequests, createRequests, NODE_NAME, readFileWorkflow } from './support';

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
