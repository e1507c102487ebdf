/**
 * What the unit tests share: the node they run as, the fake clock, and image file heads (what the
 * sniffer sees of real files).
 */
import type { INode } from 'n8n-workflow';

export const T0 = Date.parse('2026-11-29T17:00:00Z');

/**
 * Every test of the calling scope on jest's fake clock, starting at T0; with `noJitter` the
 * backoff's jitter sits at its lower end (half the exponential delay), so waits are exact.
 */
export function useFakeClock({ noJitter = false } = {}): void {
	beforeEach(() => {
		jest.useFakeTimers();
		jest.setSystemTime(T0);
		if (noJitter) jest.spyOn(Math, 'random').mockReturnValue(0);
	});
	afterEach(() => {
		jest.useRealTimers();
		jest.restoreAllMocks();
	});
}

export const node: INode = {
	id: '1',
	name: 'Replicate Inpainting',
	type: 'n8n-nodes-replicate-inpainting.replicateInpainting',
	typeVersion: 1,
	position: [0, 0],
	parameters: {},
};

export const hex = (text: string) => Buffer.from(text.replace(/\s/g, ''), 'hex');
export const latin1 = (text: string) => Buffer.from(text, 'latin1');

/** Each format's first 16 bytes as real files start. */
export const IMAGE_HEADS = {
	'image/png': hex('89504e47 0d0a1a0a 0000000d 49484452'),
	'image/jpeg': hex('ffd8ffe0 00104a46 49460001 01000001'),
	'image/gif': latin1('GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00'),
	'image/webp': latin1('RIFF\x24\x00\x00\x00WEBPVP8 '),
	'image/bmp': latin1('BM\x36\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00'),
	'image/tiff': hex('49492a00 08000000 0e000001 03000100'),
} as const;
