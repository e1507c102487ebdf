/**
 * Output files are public URLs on Replicate's delivery host: fetched without credentials, so the
 * token never reaches them, with the same retry loop as API calls.
 */
import { childSignal } from '../pause';
import type { TransportContext } from './request';
import type { RetryPolicy } from './retry';
import { attemptTimeout, DEFAULT_TIMEOUT_MS, withRetries } from './retry';

export interface DownloadRequest {
	url: string;
	timeoutMs?: number;
}

export interface DownloadedResponse {
	statusCode: number;
	headers: Record<string, unknown>;
	body: NodeJS.ReadableStream;
}

/**
 * Fetches `request.url` as a stream that `consume` reads. A failure while reading (a reset)
 * repeats the whole download, so `consume` must be repeatable.
 * Returns the error status (after retries) or what `consume` returned.
 */
export async function downloadOutput<R>(
	context: TransportContext,
	request: DownloadRequest,
	policy: RetryPolicy,
	consume: (response: DownloadedResponse) => Promise<R>,
): Promise<{ statusCode: number; headers: Record<string, unknown>; value?: R }> {
	return await withRetries('repeatable', policy, async () => {
		const answer = (await context.helpers.httpRequest({
			method: 'GET',
			url: request.url,
			encoding: 'stream',
			returnFullResponse: true,
			ignoreHttpStatusErrors: true,
			timeout: attemptTimeout(request.timeoutMs ?? DEFAULT_TIMEOUT_MS, policy.deadline),
			...(policy.signal ? { abortSignal: childSignal(policy.signal) } : {}),
		})) as DownloadedResponse;
		if (answer.statusCode >= 400) {
			// A body nobody reads would keep its socket open while we wait to retry.
			(answer.body as NodeJS.ReadableStream & { resume(): void }).resume();
			return { statusCode: answer.statusCode, headers: answer.headers };
		}
		return { statusCode: answer.statusCode, headers: answer.headers, value: await consume(answer) };
	});
}
