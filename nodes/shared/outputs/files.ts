/**
 * Which parts of a prediction's output are files. Models answer one URL, a list of URLs, an
 * object holding URLs next to text (`{images: [url, url], caption: '…'}`), or text alone; every
 * URL anywhere in it is a file, everything else stays JSON.
 */

/** One file in the output: its URL and where it sat (`output`, `output[1]`, `output.images[0]`). */
export interface OutputFile {
	url: string;
	path: string;
}

/** A data URI's head as RFC 2397 writes it; a caption such as "data: 3 images" is not one. */
export const DATA_URI = /^data:([\w.+-]+\/[\w.+-]+)?((?:;[^;,\s]*)*?)(;base64)?,(.*)$/is;

/**
 * A whole string that is a URL with an authority (`https://…`, also `file://…`, `s3://…`, which
 * the download refuses by name rather than dropping a file the user expects), or a data URI.
 */
function isFileUrl(text: string): boolean {
	return /^[a-z][a-z0-9+.-]*:\/\/\S+$/i.test(text) || DATA_URI.test(text);
}

/** `output.images`, or `output["two words"]` for a key that is no identifier. */
function keyPath(path: string, key: string): string {
	return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/** The output's files in a stable order: depth first, arrays in order, objects in key order. */
export function outputFiles(output: unknown, path = 'output'): OutputFile[] {
	if (typeof output === 'string') return isFileUrl(output) ? [{ url: output, path }] : [];
	if (Array.isArray(output))
		return output.flatMap((entry, index) => outputFiles(entry, `${path}[${index}]`));
	if (output !== null && typeof output === 'object')
		return Object.entries(output).flatMap(([key, value]) => outputFiles(value, keyPath(path, key)));
	return [];
}

/** Nothing at all: null, '', or lists and objects of nothing (a number or `false` is something). */
export function isEmptyOutput(output: unknown): boolean {
	if (output === null || output === undefined || output === '') return true;
	if (Array.isArray(output)) return output.every(isEmptyOutput);
	if (typeof output === 'object') return Object.values(output).every(isEmptyOutput);
	return false;
}
