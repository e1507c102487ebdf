/** Replicate's cursor pages. */
import { readPage } from '../../../../nodes/shared/api/pages';

describe('readPage', () => {
	it('takes only the cursor from `next`, never its host', () => {
		expect(
			readPage({
				results: [{ id: 'p1' }],
				next: 'https://evil.example/v1/predictions?cursor=cD0yMDI2&x=1',
			}),
		).toEqual({ results: [{ id: 'p1' }], cursor: 'cD0yMDI2' });
	});

	it('the last page has no cursor; a malformed answer is an empty page', () => {
		expect(readPage({ results: [], next: null })).toEqual({ results: [], cursor: undefined });
		expect(readPage({ results: 'x', next: 'not a url' })).toEqual({
			results: [],
			cursor: undefined,
		});
		expect(readPage(undefined)).toEqual({ results: [], cursor: undefined });
	});
});
