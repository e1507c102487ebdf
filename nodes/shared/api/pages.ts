/** Replicate's cursor-paged lists (`{results, next}`), as every list endpoint answers them. */
import type { IDataObject } from 'n8n-workflow';

export interface ListPage {
	results: IDataObject[];
	/** The cursor of the next page; none on the last. */
	cursor?: string;
}

/**
 * `next` is a full URL on Replicate's host: only its cursor goes back, through the credential's
 * base URL (a gateway's prefix stays; the token never follows a URL from an answer).
 */
export function readPage(answer: IDataObject | undefined): ListPage {
	const results = Array.isArray(answer?.results) ? (answer.results as IDataObject[]) : [];
	let cursor: string | undefined;
	if (typeof answer?.next === 'string' && answer.next !== '') {
		try {
			cursor = new URL(answer.next).searchParams.get('cursor') ?? undefined;
		} catch {
			cursor = undefined;
		}
	}
	return { results, cursor };
}
