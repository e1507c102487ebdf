'use strict';
/*
 * An output file a workflow wrote to disk, for the check scripts (check-run.js,
 * models/check-models.js): a PNG that decodes, byte for byte what the test server serves at the
 * output's URL. Reads PNGs with the test server's decoder from .build.
 */
const fs = require('node:fs');
const path = require('node:path');

const { CheckFailure, expect, ROOT } = require('./checks');

/** The decoded image of the file at `file`, after checking it against the output at `url`. */
async function expectWrittenOutput(file, url) {
	const { decodePng, isPng } = require(path.join(ROOT, '.build/tools/fake-replicate/png.js'));
	const name = path.basename(file);
	const bytes = fs.readFileSync(file);
	expect(isPng(bytes), `${name} does not start with the PNG signature`);
	let image;
	try {
		image = decodePng(bytes);
	} catch (error) {
		throw new CheckFailure(`${name} does not decode as a PNG: ${error.message}`);
	}
	expect(typeof url === 'string', `${name}: its item has no output_url`);
	const served = Buffer.from(await (await fetch(url)).arrayBuffer());
	expect(
		served.equals(bytes),
		`${name} (${bytes.length} bytes) differs from the file the server serves at ${url} (${served.length} bytes)`,
	);
	return image;
}

module.exports = { expectWrittenOutput };
