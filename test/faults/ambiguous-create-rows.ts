/**
 * Rows of the fault matrix for an ambiguous create (issue 10 item 2): the create may have made a
 * prediction though its answer was lost; the node finds it with GET /predictions and adopts it,
 * and never sends the create twice.
 */
import type { NodeRow } from './node-row';
import {
	adopted,
	all,
	CREATE,
	createPosts,
	listings,
	notMade,
	ON_CREATE,
	onePost,
	searched,
	SUCCESS_WITH_IMAGE,
} from './node-row';

const MAY_EXIST = 'Creating the prediction failed, and a prediction may have been created anyway: ';
/** The create is made, then its connection is reset: the answer is lost. */
const RESET_AFTER_CREATE = { ...ON_CREATE, kind: 'reset-before-response' } as const;

export const ambiguousCreateRows: NodeRow[] = [
	{
		fault: 'reset after the create was sent',
		operation: 'createAndWait',
		arrange: (s) => s.inject(RESET_AFTER_CREATE),
		expect: SUCCESS_WITH_IMAGE,
		check: adopted,
	},
	{
		fault: 'reset after the create was sent',
		operation: 'createOnly',
		arrange: (s) => s.inject(RESET_AFTER_CREATE),
		expect: { outcome: 'success' },
		// Adopted with its webhook: Replicate still calls it when the prediction completes.
		check: all(adopted, (ctx) => expect(ctx.created[0].status).not.toBe('canceled')),
	},
	{
		fault: '502 after the create was made',
		operation: 'createAndWait',
		arrange: (s) => s.inject({ ...ON_CREATE, kind: 'status', status: 502, afterHandling: true }),
		expect: SUCCESS_WITH_IMAGE,
		check: adopted,
	},
	{
		fault: 'reset after the create was sent, 3 items with the same input, list pages of 1',
		operation: 'createAndWait',
		items: 3,
		sameInput: true,
		// One prediction per page, newest first: the one to adopt is behind a cursor.
		server: { modelTimeMs: 1_500, pageSize: 1 },
		arrange: (s) => s.inject({ ...RESET_AFTER_CREATE, skip: 1 }),
		expect: { outcome: 'success', status: 'succeeded', items: 3 },
		// Each item has its own prediction: the one that lost its answer took the one no other claimed.
		check: all(searched, (ctx) => {
			expect(createPosts(ctx)).toHaveLength(3);
			expect(ctx.created).toHaveLength(3);
			expect(new Set(ctx.run.items.map((item) => item.json.id))).toEqual(
				new Set(ctx.created.map((prediction) => prediction.id)),
			);
			expect(listings(ctx).some((request) => request.query.startsWith('?cursor='))).toBe(true);
		}),
	},
	{
		fault: 'reset before the create was handled',
		operation: 'createAndWait',
		arrange: (s) => s.inject({ ...ON_CREATE, kind: 'reset-before-handling' }),
		...notMade(
			'Could not reach the Replicate API (POST /predictions): ECONNRESET (socket hang up)',
		),
	},
	{
		fault: 'reset after the create was sent, and no list endpoint (404)',
		operation: 'createAndWait',
		arrange: (s) => {
			s.inject(RESET_AFTER_CREATE);
			s.inject({ method: 'GET', path: CREATE, kind: 'status', status: 404, times: 10 });
		},
		expect: {
			outcome: 'error',
			message: () =>
				`${MAY_EXIST}Could not reach the Replicate API (POST /predictions): ECONNRESET (socket hang up)`,
			description:
				/^Looking for it failed too: Replicate API error 404 on GET \/predictions: Not Found\n/,
		},
		// Left to Replicate's Cancel-After: the node cannot see it.
		check: all(onePost, searched, (ctx) => expect(ctx.created[0].deadline).not.toBeNull()),
	},
];
