/**
 * Rows of the fault matrix for inputs refused before anything is sent or paid for: data URIs are
 * decoded and sniffed (issue 10 item 7), an empty Webhook Events selection is refused (item 10).
 */
import { makeSamplePng } from '../../tools/fake-replicate';
import type { NodeRow } from './node-row';
import { SUCCESS_WITH_IMAGE } from './node-row';

export const inputRows: NodeRow[] = [
	{
		fault: 'Image URL is a text/plain data URI',
		operation: 'createAndWait',
		parameters: { imageUrl: 'data:text/plain;base64,aGVsbG8gd29ybGQ=' },
		expect: {
			outcome: 'error',
			message: () =>
				'Invalid input (item 0): Image URL (image): "data:text/plain;base64,aGVsbG8gd29ybGQ=" is a data URI of type text/plain whose bytes are no PNG, JPEG, WebP, GIF, BMP or TIFF image',
		},
		check: (ctx) => expect(ctx.requests).toHaveLength(0),
	},
	{
		fault: 'Mask URL is an empty PNG data URI',
		operation: 'createOnly',
		parameters: { maskUrl: 'data:image/png;base64,' },
		expect: {
			outcome: 'error',
			message: () =>
				'Invalid input (item 0): Mask URL (mask): "data:image/png;base64," is an empty data URI: it carries no image',
		},
		check: (ctx) => expect(ctx.requests).toHaveLength(0),
	},
	{
		fault: 'Image URL is a PNG data URI (control)',
		operation: 'createAndWait',
		parameters: {
			imageUrl: `data:image/png;base64,${makeSamplePng(64, 64, 'image').toString('base64')}`,
		},
		expect: SUCCESS_WITH_IMAGE,
	},
	{
		fault: 'empty Webhook Events',
		operation: 'createOnly',
		parameters: { webhookEvents: [] },
		expect: {
			outcome: 'error',
			message: () =>
				'Invalid input (item 0): Webhook Events (webhook_events_filter): [] must name at least one of start, output, logs, completed (Completed: one call when the prediction has finished)',
		},
		check: (ctx) => expect(ctx.requests).toHaveLength(0),
	},
];
