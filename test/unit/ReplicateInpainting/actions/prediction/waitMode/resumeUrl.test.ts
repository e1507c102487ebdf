/** What a prediction's webhook URL says in Wait Mode: Webhook: the resume URL and the item. */
import {
	ITEM_PARAM,
	itemUrl,
	readItemIndex,
	reportsElsewhere,
} from '../../../../../../nodes/ReplicateInpainting/actions/prediction/waitMode/resumeUrl';

const RESUME = 'http://n8n.example/webhook-waiting/42?signature=tok123';
const queryOf = (url: string) => Object.fromEntries(new URL(url).searchParams);

describe('itemUrl and readItemIndex', () => {
	it("names the item and keeps n8n's own query (signature); the length does not grow with the item count", () => {
		const url = itemUrl(RESUME, 99);
		expect(queryOf(url)).toEqual({ signature: 'tok123', [ITEM_PARAM]: '99' });
		expect(readItemIndex(queryOf(url), 100)).toBe(99);
		expect(itemUrl(RESUME, 0).length).toBe(url.length - 1);
	});

	it('replaces an item already in the URL', () => {
		const url = new URL(itemUrl(itemUrl(RESUME, 3), 4));
		expect(url.searchParams.getAll(ITEM_PARAM)).toEqual(['4']);
	});

	it.each([
		['missing', {}],
		['out of range', { [ITEM_PARAM]: '3' }],
		['negative', { [ITEM_PARAM]: '-1' }],
		['fractional', { [ITEM_PARAM]: '1.5' }],
		['not a number', { [ITEM_PARAM]: 'x' }],
		['repeated', { [ITEM_PARAM]: ['0', '1'] }],
		['absurdly long', { [ITEM_PARAM]: '0001' }],
	])('names no item when it is %s', (_name, query) => {
		expect(readItemIndex(query, 3)).toBeUndefined();
	});
});

describe('reportsElsewhere', () => {
	const url = itemUrl(RESUME, 2);
	const query = queryOf(url);

	it('accepts a prediction created for exactly this URL (execution and item)', () => {
		expect(reportsElsewhere(url, '42', query)).toBe(false);
	});

	it.each([
		['another execution', url.replace('/42?', '/43?')],
		['another item', itemUrl(RESUME, 1)],
		['a webhook that is no URL', 'not a url'],
		['a webhook that is no text', 42],
	])('refuses one created for %s', (_name, webhook) => {
		expect(reportsElsewhere(webhook, '42', query)).toBe(true);
	});

	it('leaves the decision to the record when the body names no webhook', () => {
		expect(reportsElsewhere(undefined, '42', query)).toBe(false);
		expect(reportsElsewhere(null, '42', query)).toBe(false);
	});
});
