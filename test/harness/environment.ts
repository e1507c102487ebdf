/**
 * Process environment for n8n-core, applied before anything asks the DI container for n8n's
 * settings. n8n reads its configuration lazily (on the first `Container.get` of a config class),
 * so importing this module first is enough; engine.ts does.
 */
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Everything the harness writes (n8n's user folder, binary-data storage) lives under here. */
export const harnessRootDir = mkdtempSync(path.join(realpathSync(tmpdir()), 'n8n-harness-'));

// Without this n8n-core creates ~/.n8n/config (with a fresh encryption key) on first use.
process.env.N8N_USER_FOLDER ??= path.join(harnessRootDir, 'user');

// n8n 2.x only lets "Read/Write Files from Disk" touch ~/.n8n-files unless told otherwise; tests
// read fixtures from the project and write into temp dirs.
process.env.N8N_RESTRICT_FILE_ACCESS_TO ??= [realpathSync(tmpdir()), process.cwd()].join(';');

let tempDirCount = 0;

/** A fresh directory under the harness root, removed with it. */
export function makeHarnessTempDir(prefix: string): string {
	const dir = path.join(harnessRootDir, `${prefix}-${++tempDirCount}`);
	mkdirSync(dir, { recursive: true });
	return dir;
}

function removeHarnessRootDir(): void {
	rmSync(harnessRootDir, { recursive: true, force: true });
}

// Under jest, clean up after the test file (this module is normally imported while the file is
// collected); when imported from inside a test, or outside jest, at process exit.
const insideJestTest =
	typeof expect === 'function' && expect.getState().currentTestName !== undefined;
if (typeof afterAll === 'function' && !insideJestTest) afterAll(removeHarnessRootDir);
else process.once('exit', removeHarnessRootDir);
