import { createRequire } from 'node:module';

/** Gatehouse's version, from package.json, for MCP implementation info and `--version`. */
export const VERSION: string = (
  createRequire(import.meta.url)('../../package.json') as { version: string }
).version;
