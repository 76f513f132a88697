import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  getDefaultEnvironment,
  StdioClientTransport,
} from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CallToolResultSchema,
  ToolListChangedNotificationSchema,
  type CallToolResult,
  type Progress,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from 'pino';
import { isStdioUpstream, type UpstreamConfig } from '../config/index.js';
import { VERSION } from '../version.js';
import { fetchWithOwnSignal } from './fetch.js';

export type UpstreamState = 'connecting' | 'up' | 'down' | 'closed';

export interface UpstreamStatus {
  readonly name: string;
  readonly state: UpstreamState;
  readonly tools: number;
  readonly restarts: number;
  readonly lastError?: string;
}

/** Gatehouse's identity toward upstream servers. */
const CLIENT_INFO = { name: 'gatehouse', version: VERSION };
const MAX_BACKOFF_MS = 30_000;
/** Starting a server (spawn, initialize, list tools) may take longer than one call should. */
const MIN_CONNECT_TIMEOUT_MS = 15_000;

/**
 * One upstream MCP server: a client connection that is (re)established in the background, the
 * upstream's tool list, and calls bounded by a timeout. A crash never throws into the gateway;
 * callers get a clear error and the connection is restarted with backoff.
 */
export class Upstream {
  private client: Client | undefined;
  private state: UpstreamState = 'connecting';
  private tools: Tool[] = [];
  private restarts = 0;
  private lastError: string | undefined;
  private backoffMs = 250;
  private retryTimer: NodeJS.Timeout | undefined;
  private ready: Promise<void>;

  constructor(
    readonly name: string,
    private readonly config: UpstreamConfig,
    private readonly timeoutMs: number,
    private readonly log: Logger,
    private readonly onToolsChanged: () => void,
  ) {
    this.ready = this.connect();
  }

  /** Resolves once the first connection attempt has finished, whether or not it succeeded. */
  whenSettled(): Promise<void> {
    return this.ready;
  }

  status(): UpstreamStatus {
    return {
      name: this.name,
      state: this.state,
      tools: this.tools.length,
      restarts: this.restarts,
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  /** The upstream's tools as it last listed them (kept while it restarts). */
  listTools(): readonly Tool[] {
    return this.tools;
  }

  /**
   * Calls a tool upstream. Resolves with the upstream's result, or rejects with a clear error
   * when the upstream is down, hangs past the timeout, or fails.
   */
  async callTool(
    name: string,
    args: Record<string, unknown>,
    signal?: AbortSignal,
    onprogress?: (p: Progress) => void,
  ): Promise<CallToolResult> {
    const client = this.client;
    if (!client || this.state !== 'up') {
      throw new Error(
        `upstream server "${this.name}" is not available right now (${this.state}); try again shortly`,
      );
    }
    return client.request(
      { method: 'tools/call', params: { name, arguments: args } },
      CallToolResultSchema,
      {
        timeout: this.timeoutMs,
        ...(signal ? { signal } : {}),
        // The SDK then sends its own progress token upstream and hands back what arrives for it.
        ...(onprogress ? { onprogress } : {}),
      },
    );
  }

  async close(): Promise<void> {
    this.state = 'closed';
    clearTimeout(this.retryTimer);
    const c = this.client;
    this.client = undefined;
    await c?.close().catch(() => undefined);
  }

  private connectTimeoutMs(): number {
    return Math.max(this.timeoutMs, MIN_CONNECT_TIMEOUT_MS);
  }

  private makeTransport(): Transport {
    const c = this.config;
    if (isStdioUpstream(c)) {
      const t = new StdioClientTransport({
        command: c.command,
        args: c.args,
        env: { ...getDefaultEnvironment(), ...c.env },
        ...(c.cwd ? { cwd: c.cwd } : {}),
        stderr: 'pipe',
      });
      t.stderr?.on('data', (chunk: Buffer) => {
        this.log.debug(
          { upstream: this.name, stderr: chunk.toString('utf8').slice(0, 2000) },
          'upstream stderr',
        );
      });
      return t;
    }
    return new StreamableHTTPClientTransport(new URL(c.url), {
      requestInit: { headers: c.headers },
      fetch: fetchWithOwnSignal,
    });
  }

  private async connect(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'connecting';
    const client = new Client(CLIENT_INFO, { capabilities: {} });
    client.onclose = () => this.lost(client, 'the connection closed');
    client.onerror = (err) =>
      this.log.debug({ upstream: this.name, err: err.message }, 'upstream transport error');
    try {
      await client.connect(this.makeTransport(), { timeout: this.connectTimeoutMs() });
      this.tools = await this.fetchTools(client);
      client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
        try {
          this.tools = await this.fetchTools(client);
          this.onToolsChanged();
        } catch (err) {
          this.log.warn(
            { upstream: this.name, err: (err as Error).message },
            'cannot refresh upstream tools',
          );
        }
      });
      // close() may have been called while connecting.
      if ((this.state as UpstreamState) === 'closed') {
        await client.close();
        return;
      }
      this.client = client;
      this.state = 'up';
      this.backoffMs = 250;
      this.lastError = undefined;
      this.log.info({ upstream: this.name, tools: this.tools.length }, 'upstream connected');
      this.onToolsChanged();
    } catch (err) {
      await client.close().catch(() => undefined);
      this.lost(client, (err as Error).message);
    }
  }

  private async fetchTools(client: Client): Promise<Tool[]> {
    const all: Tool[] = [];
    let cursor: string | undefined;
    // Bounded: a hostile upstream must not page forever.
    for (let page = 0; page < 100; page++) {
      const res = await client.listTools(cursor ? { cursor } : {}, {
        timeout: this.connectTimeoutMs(),
      });
      all.push(...res.tools);
      cursor = res.nextCursor;
      if (!cursor) break;
    }
    return all;
  }

  private lost(client: Client, why: string): void {
    if (this.state === 'closed') return;
    if (this.client && this.client !== client) return; // an older connection closing late
    if (this.state === 'down' && this.retryTimer) return;
    this.client = undefined;
    this.state = 'down';
    this.lastError = why;
    this.log.warn(
      { upstream: this.name, err: why, retryInMs: this.backoffMs },
      'upstream unavailable; will reconnect',
    );
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.restarts++;
      this.ready = this.connect();
    }, this.backoffMs);
    this.retryTimer.unref();
    this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
  }
}
