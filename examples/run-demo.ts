/**
 * `npm run demo`: runs examples/inpaint.workflow.json through n8n's workflow engine.
 * Without REPLICATE_API_TOKEN it starts the project's Replicate-compatible server on 127.0.0.1;
 * with it, the real API (or REPLICATE_BASE_URL, for a gateway) is used and the run is paid.
 * Inputs are written to out/input/, results to out/.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ICredentialDataDecryptedObject } from 'n8n-workflow';

import { ReplicateInpainting } from '../nodes/ReplicateInpainting/ReplicateInpainting.node';
import { runWorkflow } from '../test/harness';
import type { FakeReplicate } from '../tools/fake-replicate';
import { makeSamplePng, startFakeReplicate } from '../tools/fake-replicate';
import { credentialOptions, serverCredential } from '../test/support/credentials';

const projectRoot = path.resolve(__dirname, '..', '..');
const workflowFile = path.join(projectRoot, 'examples', 'inpaint.workflow.json');
const CREDENTIAL_ID = 'replicate-inpainting-demo';

async function main(): Promise<void> {
	// The workflow's file paths (out/input/…, out/…) are relative to the project folder.
	process.chdir(projectRoot);
	const inputDir = path.join(projectRoot, 'out', 'input');
	mkdirSync(inputDir, { recursive: true });
	writeFileSync(path.join(inputDir, 'image.png'), makeSamplePng(512, 512, 'image'));
	writeFileSync(path.join(inputDir, 'mask.png'), makeSamplePng(512, 512, 'mask'));

	const token = process.env.REPLICATE_API_TOKEN;
	let server: FakeReplicate | undefined;
	let credential: ICredentialDataDecryptedObject;
	if (token) {
		credential = {
			apiToken: token,
			baseUrl: process.env.REPLICATE_BASE_URL ?? 'https://api.replicate.com/v1',
		};
		console.log(
			`Using the Replicate API at ${credential.baseUrl} (this prediction is billed to your account).`,
		);
	} else {
		server = await startFakeReplicate({ modelTimeMs: 1_500 });
		credential = serverCredential(server);
		console.log(
			`No REPLICATE_API_TOKEN: using the built-in Replicate-compatible server at ${server.apiUrl}.`,
		);
	}

	const started = Date.now();
	try {
		const result = await runWorkflow({
			workflow: workflowFile,
			nodeTypes: [ReplicateInpainting],
			...credentialOptions(credential, CREDENTIAL_ID),
		});
		if (result.status !== 'success') {
			const error = result.error;
			console.error(`Workflow ${result.status}: ${error?.message ?? 'no error message'}`);
			if (error?.description) console.error(error.description);
			process.exitCode = 1;
			return;
		}
		const predictions = result.items('Replicate Inpainting');
		const written = result.items('Write Result');
		const prediction = predictions[0].json as {
			id: string;
			status: string;
			created_at?: string;
			completed_at?: string;
			metrics?: { predict_time?: number };
		};
		const total =
			prediction.created_at && prediction.completed_at
				? (Date.parse(prediction.completed_at) - Date.parse(prediction.created_at)) / 1000
				: undefined;
		console.log(`Prediction ${prediction.id}: ${prediction.status}`);
		console.log(
			`  model time ${prediction.metrics?.predict_time?.toFixed(2) ?? '?'} s, created→completed ${total?.toFixed(2) ?? '?'} s, workflow ${((Date.now() - started) / 1000).toFixed(2)} s`,
		);
		for (const item of written) {
			console.log(`  wrote ${path.resolve(projectRoot, String(item.json.fileName ?? ''))}`);
		}
	} finally {
		await server?.close();
	}
}

main().catch((error: unknown) => {
	console.error(error);
	process.exitCode = 1;
});
