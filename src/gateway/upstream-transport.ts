import {
  getDefaultEnvironment,
  StdioClientTransport,
} from '@modelcontextprotocol/sdk/client/stdio.js';
import { readFileSync } from 'node:fs';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Logger } from 'pino';
import { isStdioUpstream, type UpstreamConfig } from '../config/index.js';
import { HttpClientTransport } from './http-transport.js';

/** A fresh transport to an upstream: a child process over stdio, or Streamable HTTP. */
export function makeTransport(name: string, c: UpstreamConfig, log: Logger): Transport {
  if (isStdioUpstream(c)) {
    const t = new StdioClientTransport({
      command: c.command,
      args: c.args,
      env: { ...getDefaultEnvironment(), ...c.env },
      ...(c.cwd ? { cwd: c.cwd } : {}),
      stderr: 'pipe',
    });
    t.stderr?.on('data', (chunk: Buffer) => {
      log.debug(
        { upstream: name, stderr: chunk.toString('utf8').slice(0, 2000) },
        'upstream stderr',
      );
    });
    return t;
  }
  return new HttpClientTransport(new URL(c.url), {
    headers: c.headers,
    ...(c.ca ? { ca: readFileSync(c.ca, 'utf8') } : {}),
  });
}
