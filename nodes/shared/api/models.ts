/** Replicate's models resource: a model's versions (the Model Version picker). */
import type { TransportContext } from '../transport/request';
import { apiRequest } from '../transport/request';
import type { RetryPolicy } from '../transport/retry';
import type { ListPage } from './pages';
import { readPage } from './pages';

/** One page of `owner/name`'s versions, newest first. */
export async function listModelVersions(
	context: TransportContext,
	model: string,
	cursor: string | undefined,
	policy: RetryPolicy,
): Promise<ListPage> {
	return readPage(
		await apiRequest(
			context,
			{
				method: 'GET',
				path: `/models/${model}/versions`,
				kind: 'repeatable',
				qs: cursor ? { cursor } : undefined,
			},
			policy,
		),
	);
}
