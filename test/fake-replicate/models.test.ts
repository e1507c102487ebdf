/**
 * The fake Replicate's models API over HTTP: each catalog model with Replicate's model object and
 * its Cog schema, versions (listed and one by one), collections and search, and Replicate's bare
 * 404 for what does not exist.
 */
import { CATALOG, catalogModel, catalogVersion } from '../../tools/fake-replicate/catalog';
import { MODEL_VERSION_ID } from '../../tools/fake-replicate';
import { useFakeReplicate } from '../support/fakeReplicate';

const server = useFakeReplicate({ pageSize: 1 });

async function get(path: string): Promise<{ status: number; json: any }> {
	const response = await fetch(`${server.apiUrl}${path}`, {
		headers: { authorization: `Bearer ${server.token}` },
	});
	return { status: response.status, json: await response.json() };
}

const NOT_FOUND = { detail: 'Not found.', status: 404 };
const HEX64 = /^[0-9a-f]{64}$/;

describe('the catalog', () => {
	it('holds the six models of issue 20, each with versions of 64-hex ids, newest first', () => {
		expect(CATALOG.map((m) => `${m.owner}/${m.name}`)).toEqual([
			'stability-ai/stable-diffusion-inpainting',
			'black-forest-labs/flux-fill-pro',
			'black-forest-labs/flux-fill-dev',
			'ideogram-ai/ideogram-v3-turbo',
			'black-forest-labs/flux-kontext-pro',
			'google/nano-banana',
		]);
		for (const model of CATALOG) {
			expect(model.versions.length).toBeGreaterThan(0);
			for (const version of model.versions) expect(version.id).toMatch(HEX64);
			const dates = model.versions.map((v) => v.created_at);
			expect(dates).toEqual([...dates].sort().reverse());
		}
	});

	it('marks which models run by name (official) and which by version', () => {
		const official = Object.fromEntries(
			CATALOG.map((m) => [`${m.owner}/${m.name}`, m.is_official]),
		);
		expect(official).toEqual({
			'stability-ai/stable-diffusion-inpainting': false,
			'black-forest-labs/flux-fill-pro': true,
			'black-forest-labs/flux-fill-dev': false,
			'ideogram-ai/ideogram-v3-turbo': true,
			'black-forest-labs/flux-kontext-pro': true,
			'google/nano-banana': true,
		});
	});

	it('finds a model by name (case-insensitively) and a version by id', () => {
		expect(catalogModel('Google/Nano-Banana')?.name).toBe('nano-banana');
		expect(catalogModel('google/nano')).toBeUndefined();
		expect(catalogVersion(MODEL_VERSION_ID)?.model.name).toBe('stable-diffusion-inpainting');
		expect(catalogVersion('0'.repeat(64))).toBeUndefined();
	});

	it('writes choices as Cog does: allOf/$ref to a named enumeration, or inline where the page shows it', () => {
		const input = (name: string) =>
			catalogModel(name)!.versions[0].openapi_schema.components.schemas;
		const fillPro = input('black-forest-labs/flux-fill-pro');
		expect(fillPro.Input.properties).toMatchObject({
			outpaint: {
				allOf: [{ $ref: '#/components/schemas/outpaint' }],
				default: 'None',
				'x-order': 3,
			},
			steps: { type: 'integer', title: 'Steps', minimum: 1, maximum: 50, default: 50 },
		});
		expect((fillPro.Input.properties as any).outpaint.type).toBeUndefined();
		expect(fillPro.outpaint).toMatchObject({
			type: 'string',
			enum: expect.arrayContaining(['Make square']),
		});
		expect(fillPro.Output).toEqual({ type: 'string', title: 'Output', format: 'uri' });
		const ideogram = input('ideogram-ai/ideogram-v3-turbo');
		expect((ideogram.Input.properties as any).magic_prompt_option).toMatchObject({
			type: 'string',
			enum: ['Auto', 'On', 'Off'],
		});
		expect((input('google/nano-banana').Input.properties as any).image_input).toMatchObject({
			type: 'array',
			items: { type: 'string', format: 'uri' },
		});
	});
});

describe('GET /models/{owner}/{name}', () => {
	it("answers Replicate's model object with the latest version's schema", async () => {
		const { status, json } = await get('/models/black-forest-labs/flux-fill-pro');
		expect(status).toBe(200);
		expect(json).toMatchObject({
			url: 'https://replicate.com/black-forest-labs/flux-fill-pro',
			owner: 'black-forest-labs',
			name: 'flux-fill-pro',
			visibility: 'public',
			is_official: true,
			default_example: null,
			latest_version: {
				id: '9609ba7331ed872c99f81c92c69a9ee52a50d8aba99f636173e0674d997efd0c',
				openapi_schema: { components: { schemas: { Input: { required: ['image'] } } } },
			},
		});
		expect(server.stats().byRoute['GET /models/{owner}/{name}']).toBe(1);
	});

	it("gives the built-in model's version its real schema (REFERENCE.md §1)", async () => {
		const { json } = await get('/models/stability-ai/stable-diffusion-inpainting');
		expect(json.is_official).toBe(false);
		expect(json.latest_version.id).toBe(MODEL_VERSION_ID);
		const input = json.latest_version.openapi_schema.components.schemas.Input;
		expect(input.required).toEqual(['image', 'mask']);
		expect(Object.keys(input.properties)).toEqual([
			'prompt',
			'negative_prompt',
			'image',
			'mask',
			'width',
			'height',
			'num_outputs',
			'num_inference_steps',
			'guidance_scale',
			'scheduler',
			'seed',
			'disable_safety_checker',
		]);
		expect(input.properties.width).toMatchObject({ type: 'integer', default: 512, 'x-order': 4 });
		expect(input.properties.width.enum).toHaveLength(16);
		expect(input.properties.guidance_scale).toMatchObject({
			default: 7.5,
			minimum: 1,
			maximum: 20,
		});
	});

	it.each([
		'/models/someone/else',
		'/models/someone/else/versions',
		`/models/google/nano-banana/versions/${MODEL_VERSION_ID}`,
	])('%s is a bare 404', async (path) => {
		expect(await get(path)).toEqual({ status: 404, json: NOT_FOUND });
	});
});

describe('versions', () => {
	it('lists a versioned model newest first in cursor pages, and serves each by id', async () => {
		const first = await get('/models/black-forest-labs/flux-fill-dev/versions');
		expect(first.json.results.map((v: { id: string }) => v.id.slice(0, 8))).toEqual(['a053f841']);
		expect(first.json.next).toEqual(expect.any(String));
		const next = await fetch(first.json.next, {
			headers: { authorization: `Bearer ${server.token}` },
		});
		const second = (await next.json()) as any;
		expect(second.results.map((v: { id: string }) => v.id.slice(0, 8))).toEqual(['cf33291a']);
		expect(second.next).toBeNull();

		const id = second.results[0].id;
		const one = await get(`/models/black-forest-labs/flux-fill-dev/versions/${id}`);
		expect(one.status).toBe(200);
		expect(one.json).toMatchObject({ id, cog_version: expect.any(String) });
		const input = one.json.openapi_schema.components.schemas.Input;
		expect(input.properties.megapixels).toBeUndefined();
		expect(input.properties.output_format).toMatchObject({
			type: 'string',
			enum: ['webp', 'jpg', 'png'],
		});
		expect(server.stats().byRoute['GET /models/{owner}/{name}/versions/{id}']).toBe(1);
	});
});

describe('collections and search', () => {
	it('GET /collections/image-editing holds every catalog model as a model object', async () => {
		const { status, json } = await get('/collections/image-editing');
		expect(status).toBe(200);
		expect(json).toMatchObject({ slug: 'image-editing', name: expect.any(String) });
		expect(json.models.map((m: { name: string }) => m.name)).toHaveLength(CATALOG.length);
		expect(json.models[0].latest_version.openapi_schema.components.schemas.Input).toBeDefined();
		expect(await get('/collections/nothing-here')).toEqual({ status: 404, json: NOT_FOUND });
	});

	it('GET /search finds models by name, description or tag, best first, with metadata', async () => {
		const { status, json } = await get('/search?query=INPAINT&limit=2');
		expect(status).toBe(200);
		expect(json.query).toBe('INPAINT');
		expect(json.models).toHaveLength(2);
		expect(json.models[0]).toMatchObject({
			model: { owner: expect.any(String), latest_version: expect.any(Object) },
			metadata: { tags: expect.arrayContaining(['inpainting']), score: expect.any(Number) },
		});
		expect(json.pages).toEqual([]);
		const banana = await get('/search?query=gemini');
		expect(banana.json.models.map((m: any) => m.model.name)).toEqual(['nano-banana']);
		const editing = await get('/search?query=editing');
		expect(editing.json.collections).toContainEqual(
			expect.objectContaining({ slug: 'image-editing' }),
		);
		expect((await get('/search?query=zzzz')).json.models).toEqual([]);
		expect((await get('/search')).status).toBe(400);
		expect(server.stats().byRoute['GET /search']).toBe(5);
	});
});
