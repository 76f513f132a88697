/**
 * Benchmark upstream over stdio: the echo server (lib/echo-server.ts) on this process's stdin and
 * stdout. Launched by the benchmark's client directly, or by `gatehouse stdio` as its upstream.
 */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { echoServer } from './lib/echo-server.js';

await echoServer().connect(new StdioServerTransport());
