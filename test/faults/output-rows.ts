/**
 * Rows of the fault matrix for outputs: removed, expired, missing, oversized, not fetchable, not
 * images, text where files were expected. Redirects are followed (without credentials) and their
 * target checked (issue 10 item 9).
 */
import type { Expected, NodeRow } from './node-row';
import { downloads, ON_DOWNLOAD, ON_GET, scriptedPrediction, SUCCESS_WITH_IMAGE } from './node-row';

const EXPIRED_HINT = /about an hour after they finish/;

/** Get's answer carries `reshape(output)` as the output (the files stay on the server). */
const getAnswersOutput = (reshape: (urls: string[]) => unknown) =>
	({
		...ON_GET,
		kind: 'mangle',
		mutate: (body: { output: string[] }) => ({ ...body, output: reshape(body.output) }),
	}) as const;

/** The download answered 302 to `location`. */
const redirectedTo = (location: string) =>
	({ ...ON_DOWNLOAD, kind: 'status', status: 302, headers: { location }, body: '' }) as const;

const DATA_REMOVED: Expected = {
	outcome: 'error',
	message: (ctx) =>
		`The outputs of prediction ${ctx.id} are no longer available (data_removed is true)`,
	description: EXPIRED_HINT,
};
const OVERSIZED: Expected = {
	outcome: 'error',
	message: (ctx) =>
		`Output 0 of prediction ${ctx.id} is larger than the Max Output Size (3145728 > 1048576 bytes)`,
};
const FILE_URI: Expected = {
	outcome: 'error',
	message: (ctx) =>
		`Output 0 of prediction ${ctx.id} has a URL the node will not fetch: "file:///tmp/fake-replicate/${ctx.id}/out-0.png"`,
};

export const outputRows: NodeRow[] = [
	...scriptedPrediction(
		'data_removed',
		{ dataRemoved: true },
		{ createAndWait: { expect: DATA_REMOVED }, get: { expect: DATA_REMOVED } },
	),
	...[404, 410].map(
		(status): NodeRow => ({
			fault: `${status} on download`,
			operation: 'get',
			seed: { until: 'terminal' },
			arrange: (s) => s.inject({ ...ON_DOWNLOAD, kind: 'status', status, body: 'Not Found' }),
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
		fault: 'succeeded with text only (no file in the output)',
		operation: 'get',
		seed: { until: 'terminal' },
		arrange: (s) => s.inject(getAnswersOutput(() => ({ text: 'A red armchair.', tokens: 4 }))),
		expect: { outcome: 'success', status: 'succeeded', binaries: 0 },
		check: (ctx) => {
			expect(ctx.run.items[0].json.output).toEqual({ text: 'A red armchair.', tokens: 4 });
			expect(downloads(ctx)).toHaveLength(0);
		},
	},
	{
		fault: 'file: URI inside an object output',
		operation: 'get',
		seed: { until: 'terminal' },
		arrange: (s) =>
			s.inject(
				getAnswersOutput(([url]) => ({ caption: 'x', images: [url, 'file:///etc/passwd'] })),
			),
		expect: {
			outcome: 'error',
			message: (ctx) =>
				`Output 1 at output.images[1] of prediction ${ctx.id} has a URL the node will not fetch: "file:///etc/passwd"`,
		},
	},
	...scriptedPrediction(
		'oversized output (3 MB, Max Output Size 1 MB)',
		{ outputBytes: 3 * 1024 * 1024 },
		{
			createAndWait: { options: { maxOutputSizeMb: 1 }, expect: OVERSIZED },
			get: { options: { maxOutputSizeMb: 1 }, expect: OVERSIZED },
		},
	),
	...scriptedPrediction(
		'file: output URI',
		{ outputUrlScheme: 'file' },
		{
			createAndWait: {
				expect: FILE_URI,
				check: (ctx) => expect(downloads(ctx)).toHaveLength(0),
			},
			get: { expect: FILE_URI },
		},
	),
	{
		fault: 'output redirects to another origin that answers JSON',
		operation: 'createAndWait',
		arrange: (s, sink) => s.inject(redirectedTo(`${sink.origin}/elsewhere.json`)),
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
		arrange: (s) => s.inject({ ...ON_DOWNLOAD, kind: 'non-json' }),
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
			s.inject(
				redirectedTo(`${s.outputOrigin.replace('127.0.0.1', 'localhost')}/samples/image.png`),
			),
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
