import { pino, type Logger } from 'pino';

/**
 * Structured logs go to stderr, always: in stdio mode stdout carries the MCP protocol.
 * @example const log = createLogger('info');
 */
export function createLogger(level: string = process.env.GATEHOUSE_LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { service: 'gatehouse' } }, pino.destination({ fd: 2, sync: false }));
}

/** A logger that discards everything (tests, benchmarks). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

export type { Logger } from 'pino';
