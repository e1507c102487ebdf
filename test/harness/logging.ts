import { Logger as BackendLogger } from '@n8n/backend-common';
import { Container } from '@n8n/di';
import type { Logger, LogMetadata } from 'n8n-workflow';
import { LoggerProxy } from 'n8n-workflow';

type LogLevel = 'error' | 'warn' | 'info' | 'debug';

/** Turns errors into plain data so their message/description reach the captured line. */
function serializeMetadata(metadata: LogMetadata): string {
	const seen = new WeakSet<object>();
	return JSON.stringify(metadata, (_key, value: unknown) => {
		if (value instanceof Error) {
			const { name, message, stack } = value;
			return { ...value, name, message, stack };
		}
		if (typeof value === 'object' && value !== null) {
			if (seen.has(value)) return '[Circular]';
			seen.add(value);
		}
		if (typeof value === 'bigint') return value.toString();
		return value;
	});
}

/**
 * Stands in for n8n's winston logger (both `LoggerProxy` and the DI `Logger` that n8n-core's
 * services and `this.logger` in nodes use): nothing is printed, every line at every level is kept,
 * so tests can assert what n8n would have logged.
 */
export class CapturingLogger implements Logger {
	/** Every line since the logger was installed. */
	readonly lines: string[] = [];

	private readonly listeners = new Set<string[]>();

	/** Collects the lines logged until the returned function is called. */
	startCapture(): { lines: string[]; stop: () => void } {
		const lines: string[] = [];
		this.listeners.add(lines);
		return { lines, stop: () => this.listeners.delete(lines) };
	}

	error(message: string, metadata?: LogMetadata): void {
		this.log('error', message, metadata);
	}

	warn(message: string, metadata?: LogMetadata): void {
		this.log('warn', message, metadata);
	}

	info(message: string, metadata?: LogMetadata): void {
		this.log('info', message, metadata);
	}

	debug(message: string, metadata?: LogMetadata): void {
		this.log('debug', message, metadata);
	}

	/** n8n-core services call `logger.scoped('…')`; scopes only filter output, which we keep whole. */
	scoped(): this {
		return this;
	}

	private log(level: LogLevel, message: string, metadata?: LogMetadata): void {
		const meta = metadata && Object.keys(metadata).length ? ` ${serializeMetadata(metadata)}` : '';
		const line = `[${level}] ${message}${meta}`;
		this.lines.push(line);
		for (const listener of this.listeners) listener.push(line);
	}
}

export const harnessLogger = new CapturingLogger();

let installed = false;

/** Routes n8n's logging to `harnessLogger`; must run before any n8n service is created. */
export function installHarnessLogger(): void {
	if (installed) return;
	installed = true;
	LoggerProxy.init(harnessLogger);
	Container.set(BackendLogger, harnessLogger as unknown as BackendLogger);
}
