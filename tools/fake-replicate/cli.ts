/**
 * Runs the fake Replicate as its own process, for a real n8n or a benchmark:
 *   node .build/tools/fake-replicate/cli.js [--port N] [--output-port N] [--prefix /v1] [--model-time-ms N]
 *     [--start-delay-ms N] [--retention-ms N] [--webhook-retries N] [--webhook-retry-delay-ms N]
 *     [--no-prefer-wait] [--no-files] [--token T]
 * Prints one JSON line {apiUrl, outputOrigin, token, sampleImageUrl, sampleMaskUrl, webhookSecret, adminUrl}
 * and runs until SIGTERM/SIGINT. Steer it through /__admin/* on the API origin.
 */
import { startFakeReplicate } from './server';
import type { FakeReplicateOptions } from './types';

function parseArgs(argv: string[]): FakeReplicateOptions {
	const options: FakeReplicateOptions = {};
	const numberAfter = (flag: string, value: string | undefined): number => {
		const n = Number(value);
		if (value === undefined || !Number.isFinite(n) || n < 0)
			throw new Error(`${flag} needs a non-negative number`);
		return n;
	};
	for (let i = 0; i < argv.length; i++) {
		const flag = argv[i];
		const [name, inline] = flag.includes('=')
			? [flag.slice(0, flag.indexOf('=')), flag.slice(flag.indexOf('=') + 1)]
			: [flag, undefined];
		const value = () => inline ?? argv[++i];
		switch (name) {
			case '--port':
				options.port = numberAfter(name, value());
				break;
			case '--output-port':
				options.outputPort = numberAfter(name, value());
				break;
			case '--prefix':
				options.prefix = value();
				break;
			case '--model-time-ms':
				options.modelTimeMs = numberAfter(name, value());
				break;
			case '--start-delay-ms':
				options.startDelayMs = numberAfter(name, value());
				break;
			case '--retention-ms':
				options.retentionMs = numberAfter(name, value());
				break;
			case '--webhook-retries':
				options.webhookRetries = numberAfter(name, value());
				break;
			case '--webhook-retry-delay-ms':
				options.webhookRetryDelayMs = numberAfter(name, value());
				break;
			case '--no-prefer-wait':
				options.honourPreferWait = false;
				break;
			case '--no-files':
				options.filesEndpoint = false;
				break;
			case '--token':
				options.token = value();
				break;
			default:
				throw new Error(`unknown argument ${flag}`);
		}
	}
	return options;
}

async function main(): Promise<void> {
	const fake = await startFakeReplicate(parseArgs(process.argv.slice(2)));
	process.stdout.write(
		`${JSON.stringify({
			apiUrl: fake.apiUrl,
			outputOrigin: fake.outputOrigin,
			token: fake.token,
			sampleImageUrl: fake.sampleImageUrl,
			sampleMaskUrl: fake.sampleMaskUrl,
			webhookSecret: fake.webhookSecret,
			adminUrl: `${fake.apiOrigin}/__admin`,
		})}\n`,
	);
	const stop = () => {
		fake.close().then(
			() => process.exit(0),
			() => process.exit(1),
		);
	};
	process.once('SIGTERM', stop);
	process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
	process.stderr.write(`fake-replicate: ${(error as Error).message}\n`);
	process.exit(2);
});
