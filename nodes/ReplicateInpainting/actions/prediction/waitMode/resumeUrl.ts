/**
 * What a prediction's webhook URL says: the execution's resume URL (n8n's, with its own query
 * such as `signature`) and which item the prediction is for. Bounded, whatever the item count:
 * everything else is in the execution's record (record.ts).
 */
export const ITEM_PARAM = 'replicate_item';

/** The resume URL for item `itemIndex`'s prediction. */
export function itemUrl(resumeUrl: string, itemIndex: number): string {
	const url = new URL(resumeUrl);
	url.searchParams.set(ITEM_PARAM, String(itemIndex));
	return url.toString();
}

/** The item a resume call's query names, or undefined when it names none of `itemCount`. */
export function readItemIndex(query: unknown, itemCount: number): number | undefined {
	const raw = (query as Record<string, unknown> | undefined)?.[ITEM_PARAM];
	if (typeof raw !== 'string' || !/^\d{1,3}$/.test(raw)) return undefined;
	const itemIndex = Number(raw);
	return itemIndex < itemCount ? itemIndex : undefined;
}

/**
 * Whether a delivered prediction was created to report to another URL than the one called: its
 * own `webhook`, which Replicate signs with the rest of the body, must name this execution and
 * this URL's item (a genuine delivery of another execution, posted here, is refused). False when
 * the body names no webhook (a gateway may leave it out): then the execution's record decides.
 */
export function reportsElsewhere(webhook: unknown, executionId: string, query: unknown): boolean {
	if (webhook === undefined || webhook === null) return false;
	let url: URL;
	try {
		url = new URL(String(webhook));
	} catch {
		return true;
	}
	const item = (query as Record<string, unknown> | undefined)?.[ITEM_PARAM];
	const pathExecution = url.pathname.split('/').filter(Boolean).at(-1);
	return pathExecution !== executionId || url.searchParams.get(ITEM_PARAM) !== item;
}

/** The execution a context belongs to (parking and resuming alike). */
export function executionIdOf(context: { getExecutionId(): string | undefined }): string {
	return String(context.getExecutionId() ?? '');
}
