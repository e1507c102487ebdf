/** Headers of an answer, whatever case the server gave their names. */
import { headerValue } from '../../../nodes/shared/headers';

describe('headerValue', () => {
	it('finds a header in any case, as text; null is none', () => {
		expect(headerValue({ 'Content-Type': 'image/png' }, 'content-type')).toBe('image/png');
		expect(headerValue({ 'content-length': 1024 }, 'Content-Length')).toBe('1024');
		expect(headerValue({ 'retry-after': null }, 'retry-after')).toBeUndefined();
		expect(headerValue({}, 'retry-after')).toBeUndefined();
	});
});
