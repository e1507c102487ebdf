/**
 * Option resolution: defaults filled in, and a value outside its
 * declared range fails naming the option as the form labels it and the value, before any request.
 */
import { NodeOperationError } from 'n8n-workflow';

import { resolveOptions } from '../../../nodes/shared/options';
import { node } from '../fixtures';

function failure(given: Record<string, unknown>, itemIndex?: number): NodeOperationError {
	try {
		resolveOptions(node, given as never, itemIndex);
	} catch (error) {
		expect(error).toBeInstanceOf(NodeOperationError);
		return error as NodeOperationError;
	}
	throw new Error(`resolveOptions accepted ${JSON.stringify(given)}`);
}

describe('resolveOptions', () => {
	it('fills in every default when nothing is set (the README options table)', () => {
		expect(resolveOptions(node, {})).toEqual({
			timeout: 600,
			downloadOutputs: true,
			outputLayout: 'itemPerImage',
			binaryPropertyName: 'data',
			extraInput: '{}',
			uploadRoute: 'auto',
			maxRetries: 4,
			maxOutputSizeMb: 50,
			keepUploadedFiles: false,
			maxConcurrent: 5,
		});
	});

	it('keeps what is set and defaults the rest', () => {
		const options = resolveOptions(node, {
			timeout: 30,
			maxRetries: 0,
			outputLayout: 'allOnOneItem',
			downloadOutputs: false,
		});
		expect(options.timeout).toBe(30);
		expect(options.maxRetries).toBe(0);
		expect(options.outputLayout).toBe('allOnOneItem');
		expect(options.downloadOutputs).toBe(false);
		expect(options.maxConcurrent).toBe(5);
		expect(options.uploadRoute).toBe('auto');
	});

	it.each([
		['timeout', 1],
		['timeout', 86_400],
		['maxRetries', 0],
		['maxRetries', 10],
		['maxOutputSizeMb', 1],
		['maxOutputSizeMb', 1_024],
		['maxConcurrent', 1],
		['maxConcurrent', 50],
	])('accepts %s = %d (an end of its range)', (name, value) => {
		expect(resolveOptions(node, { [name]: value })[name as 'timeout']).toBe(value);
	});

	it.each([
		[{ timeout: 0 }, 'Invalid option Timeout (Seconds): 0 must be from 1 to 86400'],
		[{ timeout: 86_401 }, 'Invalid option Timeout (Seconds): 86401 must be from 1 to 86400'],
		[{ timeout: '600' }, 'Invalid option Timeout (Seconds): "600" must be a number'],
		// From an expression: shown as it is, not as JSON's null.
		[{ timeout: NaN }, 'Invalid option Timeout (Seconds): NaN must be a number'],
		[{ maxRetries: Infinity }, 'Invalid option Max Retries: Infinity must be a number'],
		[{ maxRetries: -1 }, 'Invalid option Max Retries: -1 must be from 0 to 10'],
		[{ maxRetries: 11 }, 'Invalid option Max Retries: 11 must be from 0 to 10'],
		[{ maxOutputSizeMb: 0.5 }, 'Invalid option Max Output Size (MB): 0.5 must be from 1 to 1024'],
		[{ maxConcurrent: 51 }, 'Invalid option Max Concurrent Predictions: 51 must be from 1 to 50'],
		[{ downloadOutputs: 'yes' }, 'Invalid option Download Outputs: "yes" must be true or false'],
		[{ keepUploadedFiles: 1 }, 'Invalid option Keep Uploaded Files: 1 must be true or false'],
		[
			{ binaryPropertyName: '  ' },
			'Invalid option Output Binary Field Name: "  " must be a non-empty name',
		],
		[
			{ outputLayout: 'grid' },
			'Invalid option Output Layout: "grid" must be one of itemPerImage, allOnOneItem',
		],
		[
			{ uploadRoute: 'ftp' },
			'Invalid option Binary Upload: "ftp" must be one of auto, dataUri, upload',
		],
	])('refuses %j: %s', (given, message) => {
		expect(failure(given).message).toBe(message);
	});

	it('names the item when it has one, and reports the first bad option in the order given', () => {
		const error = failure({ timeout: 1, maxRetries: 99, maxConcurrent: 0 }, 3);
		expect(error.message).toBe('Invalid option Max Retries (item 3): 99 must be from 0 to 10');
		expect(error.context.itemIndex).toBe(3);
	});

	it('leaves fields it does not declare (the model input options) to the schema', () => {
		const options = resolveOptions(node, { width: 500, seed: 'x' }) as unknown as Record<
			string,
			unknown
		>;
		expect([options.width, options.seed, options.timeout]).toEqual([500, 'x', 600]);
	});
});
