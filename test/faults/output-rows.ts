/**
 * Rows of the fault matrix for outputs: removed, expired, missing, oversized, not fetchable, not
 * images. Redirects are followed (without credentials) and their target checked (issue 10 item 9).
 */
import type { NodeRow } from './node-row';
import { downloads, OUTPUT, SUCCESS_WITH_IMAGE } from './node-row';

const EXPIRED_HINT = /about an hour after they finish/;

export const outputRows: NodeRow[] = [
	{
		fault: 'data_removed',
		operation: 'createAndWait',
		arrange: (s) => s.scriptNextPrediction({ dataRemoved: true }),
		expect: {
			outcome: 'error',
			message: (ctx) =>
				`The outputs of prediction ${ctx.id} are no longer available (data_removed is true)`,
			description: EXPIRED_HINT,
		},
	},
	{
		fault: 'data_removed',
		operation: 'get',
		seed: { until: 'terminal', script: { dataRemoved: true } },
		expect: {
			outcome: 'error',
			message: (ctx) =>
				`The outputs of prediction ${ctx.id} are no longer available (data_removed is true)`,
			description: EXPIRED_HINT,
		},
	},
	...[404, 410].map(
		(status): NodeRow => ({
			fault: `${status} on download`,
			operation: 'get',
			seed: { until: 'terminal' },
			arrange: (s) =>
				s.inject({ origin: 'output', path: OUTPUT, kind: 'status', status, body: 'Not Found' }),
			expect: {
				outcome: 'error',
				message: (ctx) =>
					`The outputs of prediction ${ctx.id} are no longer available (HTTP ${status} for output 0)`,
				description: EXPIRED_HINT,
			},
			check: (ctx) => expect(downloads(ctx)).toHaveLength(1),
		}),
	),
	{
		fault: 'succeeded without output',
		operation: 'createAndWait',
		arrange: (s) => s.scriptNextPrediction({ noOutput: true }),
		expect: {
			outcome: 'error',
			message: (ctx) => `Prediction ${ctx.id} succeeded but returned no output files`,
		},
	},
	{
		fault: 'oversized output (3 MB, Max Output Size 1 MB)',
		operation: 'createAndWait',
		options: { maxOutputSizeMb: 1 },
		arrange: (s) => s.scriptNextPrediction({ outputBytes: 3 * 1024 * 1024 }),
		expect: {
			outcome: 'error',
			message: (ctx) =>
				`Output 0 of prediction ${ctx.id} is larger than the Max Output Size (3145728 > 1048576 bytes)`,
		},
	},
	{
		fault: 'oversized output (3 MB, Max Output Size 1 MB)',
		operation: 'get',
		seed: { until: 'terminal', script: { outputBytes: 3 * 1024 * 1024 } },
		options: { maxOutputSizeMb: 1 },
		expect: {
			outcome: 'error',
			message: (ctx) =>
				`Output 0 of prediction ${ctx.id} is larger than the Max Output Size (3145728 > 1048576 bytes)`,
		},
	},
	{
		fault: 'file: output URI',
		operation: 'createAndWait',
		arrange: (s) => s.scriptNextPrediction({ outputUrlScheme: 'file' }),
		expect: {
			outcome: 'error',
			message: (ctx) =>
				`Output 0 of prediction ${ctx.id} has a URL the node will not fetch: "file:///tmp/fake-replicate/${ctx.id}/out-0.png"`,
		},
		check: (ctx) => expect(downloads(ctx)).toHaveLength(0),
	},
	{
		fault: 'file: output URI',
		operation: 'get',
		seed: { until: 'terminal', script: { outputUrlScheme: 'file' } },
		expect: {
			outcome: 'error',
			message: (ctx) =>
				`Output 0 of prediction ${ctx.id} has a URL the node will not fetch: "file:///tmp/fake-replicate/${ctx.id}/out-0.png"`,
		},
	},
	{
		fault: 'output redirects to another origin that answers JSON',
		operation: 'createAndWait',
		arrange: (s, sink) =>
			s.inject({
				origin: 'output',
				path: OUTPUT,
				kind: 'status',
				status: 302,
				headers: { location: `${sink.origin}/elsewhere.json` },
				body: '',
			}),
		expect: {
			outcome: 'error',
			message: (ctx) =>
				`Output 0 of prediction ${ctx.id} is not an image (application/json, and its bytes are no PNG, JPEG, WebP, GIF, BMP or TIFF file)`,
		},
		check: (ctx) =>
			expect(ctx.sink.requests.some((request) => request.url === '/elsewhere.json')).toBe(true),
	},
	{
		fault: 'output answers an HTML page with 200',
		operation: 'get',
		seed: { until: 'terminal' },
		arrange: (s) => s.inject({ origin: 'output', path: OUTPUT, kind: 'non-json' }),
		expect: {
			outcome: 'error',
			message: (ctx) =>
				`Output 0 of prediction ${ctx.id} is not an image (text/html, and its bytes are no PNG, JPEG, WebP, GIF, BMP or TIFF file)`,
		},
	},
	{
		fault: 'output redirects to another origin that serves the image',
		operation: 'createAndWait',
		arrange: (s) =>
			s.inject({
				origin: 'output',
				path: OUTPUT,
				kind: 'status',
				status: 302,
				headers: {
					location: `${s.outputOrigin.replace('127.0.0.1', 'localhost')}/samples/image.png`,
				},
				body: '',
			}),
		expect: SUCCESS_WITH_IMAGE,
		check: (ctx) => {
			expect(
				ctx.requests.filter(
					(request) =>
						request.origin === 'output' &&
						request.path === '/samples/image.png' &&
						request.headers.host.startsWith('localhost:'),
				),
			).toHaveLength(1);
			expect(ctx.run.items[0].binary!.data).toMatchObject({
				mimeType: 'image/png',
				fileName: `${ctx.id}-0.png`,
			});
		},
	},
];
