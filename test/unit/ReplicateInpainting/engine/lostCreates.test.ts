/**
 * Finding the prediction a create made when its answer was lost: which listed
 * prediction a create can have made (`madeBy`), and the ledger that lets each prediction be taken
 * by one create only.
 */
import type { CreateBody } from '../../../../nodes/ReplicateInpainting/engine/lostCreates';
import {
	CLOCK_TOLERANCE_MS,
	ledgerFor,
	madeBy,
} from '../../../../nodes/ReplicateInpainting/engine/lostCreates';
import type { TransportContext } from '../../../../nodes/shared/transport/request';
import {
	DEFAULT_MODEL_VERSION,
	MODEL_VERSION_ID,
} from '../../../../nodes/ReplicateInpainting/schema/modelInput';
import { node, T0, useFakeClock } from '../../fixtures';

const body: CreateBody = {
	version: DEFAULT_MODEL_VERSION,
	input: { prompt: 'a chair', image: 'https://x/i.png', mask: 'https://x/m.png', width: 512 },
};

describe('madeBy', () => {
	it('matches the version id and every field sent, allowing defaults Replicate filled in', () => {
		expect(
			madeBy({ version: MODEL_VERSION_ID, input: { ...body.input, num_outputs: 1 } }, body),
		).toBe(true);
		// The version as sent (owner/name:id) or as Replicate lists it (the id): the same.
		expect(
			madeBy(
				{ version: MODEL_VERSION_ID, input: body.input },
				{ ...body, version: MODEL_VERSION_ID },
			),
		).toBe(true);
		expect(madeBy({ version: DEFAULT_MODEL_VERSION, input: body.input }, body)).toBe(true);
	});

	it('an official model, created by name, is matched by the model its prediction names', () => {
		const byName: CreateBody = { version: 'black-forest-labs/flux-fill-pro', input: body.input };
		const listed = { model: 'black-forest-labs/flux-fill-pro', version: 'a'.repeat(64) };
		expect(madeBy({ ...listed, input: body.input }, byName)).toBe(true);
		expect(
			madeBy({ ...listed, model: 'black-forest-labs/flux-fill-dev', input: body.input }, byName),
		).toBe(false);
		expect(madeBy({ ...listed, input: { ...body.input, prompt: 'other' } }, byName)).toBe(false);
	});

	it('takes a nested object echoed back with its keys in another order as the same', () => {
		const nested: CreateBody = {
			...body,
			input: { ...body.input, extra: { a: 1, b: { c: 2, d: 3 } } },
		};
		expect(
			madeBy(
				{
					version: MODEL_VERSION_ID,
					input: { ...nested.input, extra: { b: { d: 3, c: 2 }, a: 1 } },
				},
				nested,
			),
		).toBe(true);
		expect(
			madeBy(
				{
					version: MODEL_VERSION_ID,
					input: { ...nested.input, extra: { b: { d: 3, c: 9 }, a: 1 } },
				},
				nested,
			),
		).toBe(false);
	});

	it('compares nested values (from Extra Input) by value', () => {
		const nested: CreateBody = { ...body, input: { ...body.input, extra: { a: [1, 2] } } };
		expect(
			madeBy(
				{ version: MODEL_VERSION_ID, input: { ...nested.input, extra: { a: [1, 2] } } },
				nested,
			),
		).toBe(true);
		expect(
			madeBy(
				{ version: MODEL_VERSION_ID, input: { ...nested.input, extra: { a: [2, 1] } } },
				nested,
			),
		).toBe(false);
	});

	it('refuses another version, a changed, a differently typed or a missing field, or no input', () => {
		expect(madeBy({ version: '0'.repeat(64), input: body.input }, body)).toBe(false);
		expect(
			madeBy({ version: MODEL_VERSION_ID, input: { ...body.input, prompt: 'a table' } }, body),
		).toBe(false);
		expect(
			madeBy({ version: MODEL_VERSION_ID, input: { ...body.input, width: '512' } }, body),
		).toBe(false);
		const { width: _width, ...withoutWidth } = body.input;
		expect(madeBy({ version: MODEL_VERSION_ID, input: withoutWidth }, body)).toBe(false);
		expect(madeBy({ version: MODEL_VERSION_ID }, body)).toBe(false);
		expect(madeBy({ version: MODEL_VERSION_ID, input: 'a chair' }, body)).toBe(false);
		expect(madeBy({ input: body.input }, body)).toBe(false);
	});
});

describe('the create ledger (fake clock)', () => {
	let baseUrl = 0;
	/** A context that only names a base URL: each test gets a ledger of its own. */
	const contextFor = () =>
		({
			getNode: () => node,
			getCredentials: async () => ({ baseUrl: `https://api${++baseUrl}.test/v1` }),
		}) as unknown as TransportContext;

	useFakeClock();

	it('allows 10 s of clock skew when comparing creation times', () => {
		expect(CLOCK_TOLERANCE_MS).toBe(10_000);
	});

	it('one ledger per base URL, trailing slash or not', async () => {
		const fixed = {
			getNode: () => node,
			getCredentials: async () => ({ baseUrl: 'https://shared.test/v1/' }),
		} as unknown as TransportContext;
		const same = {
			getNode: () => node,
			getCredentials: async () => ({ baseUrl: 'https://shared.test/v1' }),
		} as unknown as TransportContext;
		expect(await ledgerFor(fixed)).toBe(await ledgerFor(same));
		expect(await ledgerFor(contextFor())).not.toBe(await ledgerFor(same));
	});

	it('lets one create take a prediction; the claim is forgotten after 15 minutes', async () => {
		const ledger = await ledgerFor(contextFor());
		expect(ledger.claim('p1')).toBe(true);
		expect(ledger.claim('p1')).toBe(false);
		expect(ledger.claim('p2')).toBe(true);
		jest.setSystemTime(T0 + 15 * 60_000);
		expect(ledger.claim('p1')).toBe(false);
		jest.setSystemTime(T0 + 15 * 60_000 + 1);
		expect(ledger.claim('p1')).toBe(true);
	});

	it('knows creates on their way with the same body (twins) until they settle', async () => {
		const ledger = await ledgerFor(contextFor());
		const first = ledger.begin(body);
		jest.setSystemTime(T0 + 250);
		const twin = ledger.begin({ version: MODEL_VERSION_ID, input: { ...body.input } });
		const other = ledger.begin({ ...body, input: { ...body.input, prompt: 'a table' } });
		expect([first.sentAt, twin.sentAt]).toEqual([T0, T0 + 250]);
		expect(ledger.twins(first)).toEqual([twin]);
		expect(ledger.twins(other)).toEqual([]);
		let settled = false;
		void twin.settled.then(() => (settled = true));
		twin.settle();
		await Promise.resolve();
		expect(settled).toBe(true);
		expect(ledger.twins(first)).toEqual([]);
		expect(ledger.pending.size).toBe(2);
	});
});
