import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  CallToolResultSchema,
  ErrorCode,
  McpError,
  PromptListChangedNotificationSchema,
  ResourceListChangedNotificationSchema,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
  type CallToolResult,
  type CompleteRequest,
  type CompleteResult,
  type GetPromptResult,
  type Progress,
  type Prompt,
  type ReadResourceResult,
  type Resource,
  type ResourceTemplate,
  type ServerCapabilities,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from 'pino';
import type { UpstreamConfig } from '../config/index.js';
import { VERSION } from '../version.js';
import { InFlight, type CallOwner } from './routing.js';
import { SessionConnections } from './upstream-sessions.js';
import { relayServerRequests, type ServerRequestGate } from './server-requests.js';
import { ContentLists, fetchTools, MAX_URI_LENGTH, type ListName } from './upstream-lists.js';
import { makeTransport } from './upstream-transport.js';

export type UpstreamState = 'connecting' | 'up' | 'down' | 'closed';

export interface UpstreamStatus {
  readonly name: string;
  readonly state: UpstreamState;
  readonly tools: number;
  readonly restarts: number;
  readonly lastError?: string;
}

/** What happens on an upstream that the gateway needs to hear about; every member optional. */
export interface UpstreamEvents {
  /** The tool list was (re)fetched. */
  readonly toolsChanged?: () => void;
  /** The resource or template list was (re)fetched. */
  readonly resourcesChanged?: () => void;
  /** The prompt list was (re)fetched. */
  readonly promptsChanged?: () => void;
  /** The upstream says a subscribed resource changed. */
  readonly resourceUpdated?: (upstream: Upstream, uri: string) => void;
  /** Decides sampling and elicitation requests; absent: they are refused. */
  readonly gate?: ServerRequestGate;
}

/** Gatehouse's identity toward upstream servers. */
const CLIENT_INFO = { name: 'gatehouse', version: VERSION };
/**
 * What Gatehouse can relay from an upstream to the agent whose call is in flight: sampling and
 * form elicitation (whether that agent's own client can answer is checked per request).
 */
const CLIENT_CAPABILITIES = { sampling: {}, elicitation: { form: {} } };
const MAX_BACKOFF_MS = 30_000;
/** Starting a server (spawn, initialize, list tools) may take longer than one call should. */
const MIN_CONNECT_TIMEOUT_MS = 15_000;

/**
 * One upstream MCP server: a client connection that is (re)established in the background, the
 * upstream's tools, resources, templates and prompts, and requests bounded by a timeout. A crash
 * never throws into the gateway; callers get a clear error and the connection is restarted with
 * backoff.
 */
export class Upstream {
  private client: Client | undefined;
  /** The connection made last (live, or still connecting): only its messages count. */
  private latest: Client | undefined;
  private state: UpstreamState = 'connecting';
  private capabilities: ServerCapabilities | undefined;
  private tools: Tool[] = [];
  private readonly lists: ContentLists;
  private readonly inflight = new InFlight();
  /** URIs subscribed upstream on behalf of agent sessions; subscribed again after a reconnect. */
  private readonly subscribed = new Set<string>();
  private restarts = 0;
  private lastError: string | undefined;
  private backoffMs = 250;
  private retryTimer: NodeJS.Timeout | undefined;
  private ready: Promise<void>;
  /** The agent sessions' own connections, for `connection: per_session`. */
  private readonly sessions: SessionConnections | undefined;

  constructor(
    readonly name: string,
    private readonly config: UpstreamConfig,
    private readonly timeoutMs: number,
    private readonly log: Logger,
    private readonly events: UpstreamEvents = {},
    /** A connection of one agent session's own: it lists nothing and announces nothing. */
    private readonly sessionOnly = false,
  ) {
    this.lists = new ContentLists(name, log);
    this.sessions =
      config.connection === 'per_session' && !sessionOnly
        ? new SessionConnections(
            name,
            () => new Upstream(name, config, timeoutMs, log, { gate: events.gate }, true),
          )
        : undefined;
    this.ready = this.connect();
  }

  /** Closes the connection a session had of its own (per_session), once the session ended. */
  dropSession(session: Server): void {
    this.sessions?.drop(session);
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

  /** The upstream's resources as it last listed them. */
  listResources(): readonly Resource[] {
    return this.lists.resources;
  }

  /** The upstream's resource templates as it last listed them. */
  listResourceTemplates(): readonly ResourceTemplate[] {
    return this.lists.templates;
  }

  /** The upstream's prompts (under its own names) as it last listed them. */
  listPrompts(): readonly Prompt[] {
    return this.lists.prompts;
  }

  /** Whether the upstream declared resources when it last connected. */
  hasResources(): boolean {
    return this.capabilities?.resources !== undefined;
  }

  /**
   * Calls a tool upstream. Resolves with the upstream's result, or rejects with a clear error
   * when the upstream is down, hangs past the timeout, or fails. `owner` receives what the
   * upstream asks while the call runs (sampling, elicitation, log messages).
   */
  async callTool(
    name: string,
    args: Record<string, unknown>,
    signal?: AbortSignal,
    onprogress?: (p: Progress) => void,
    owner?: CallOwner,
  ): Promise<CallToolResult> {
    // A session with a connection of its own (per_session) is served by it.
    if (this.sessions && owner)
      return (await this.sessions.for(owner.session)).callTool(
        name,
        args,
        signal,
        onprogress,
        owner,
      );
    return this.owned(owner, (client) =>
      client.request(
        { method: 'tools/call', params: { name, arguments: args } },
        CallToolResultSchema,
        {
          ...this.options(signal),
          // The SDK then sends its own progress token upstream and hands back what arrives for it.
          ...(onprogress ? { onprogress } : {}),
        },
      ),
    );
  }

  /** Reads a resource upstream for `owner`. */
  async readResource(
    uri: string,
    owner: CallOwner,
    signal?: AbortSignal,
  ): Promise<ReadResourceResult> {
    if (this.sessions)
      return (await this.sessions.for(owner.session)).readResource(uri, owner, signal);
    return this.owned(owner, (client) => client.readResource({ uri }, this.options(signal)));
  }

  /** Gets a prompt upstream (by the upstream's own name) for `owner`. */
  async getPrompt(
    name: string,
    args: Record<string, string> | undefined,
    owner: CallOwner,
    signal?: AbortSignal,
  ): Promise<GetPromptResult> {
    if (this.sessions)
      return (await this.sessions.for(owner.session)).getPrompt(name, args, owner, signal);
    return this.owned(owner, (client) =>
      client.getPrompt({ name, ...(args ? { arguments: args } : {}) }, this.options(signal)),
    );
  }

  /** Asks the upstream to complete an argument; no suggestions when it does not do completions. */
  async complete(
    params: CompleteRequest['params'],
    owner: CallOwner,
    signal?: AbortSignal,
  ): Promise<CompleteResult> {
    if (!this.capabilities?.completions) return { completion: { values: [] } };
    if (this.sessions)
      return (await this.sessions.for(owner.session)).complete(params, owner, signal);
    return this.owned(owner, (client) => client.complete(params, this.options(signal)));
  }

  /** Subscribes to a resource upstream (the gateway does this once per URI). */
  async subscribe(uri: string): Promise<void> {
    if (!this.capabilities?.resources?.subscribe)
      throw new McpError(
        ErrorCode.InvalidParams,
        `upstream server "${this.name}" does not support resource subscriptions`,
      );
    // Recorded first: an unsubscribe while this is pending must still reach the upstream.
    this.subscribed.add(uri);
    try {
      await this.owned(undefined, (client) =>
        client.subscribeResource({ uri }, this.options(undefined)),
      );
    } catch (err) {
      this.subscribed.delete(uri);
      throw err;
    }
  }

  /** Ends a subscription made with subscribe(). */
  async unsubscribe(uri: string): Promise<void> {
    if (!this.subscribed.delete(uri)) return;
    await this.owned(undefined, (client) =>
      client.unsubscribeResource({ uri }, this.options(undefined)),
    );
  }

  private options(signal: AbortSignal | undefined): { timeout: number; signal?: AbortSignal } {
    return { timeout: this.timeoutMs, ...(signal ? { signal } : {}) };
  }

  /** Runs one request on the live connection, counted as in flight for `owner` meanwhile. */
  private async owned<T>(
    owner: CallOwner | undefined,
    send: (c: Client) => Promise<T>,
  ): Promise<T> {
    const client = this.client;
    if (!client || this.state !== 'up') {
      throw new Error(
        `upstream server "${this.name}" is not available right now (${this.state}); try again shortly`,
      );
    }
    const end = owner ? this.inflight.begin(owner) : undefined;
    try {
      return await send(client);
    } finally {
      end?.();
    }
  }

  async close(): Promise<void> {
    this.state = 'closed';
    clearTimeout(this.retryTimer);
    const c = this.client;
    this.client = undefined;
    await Promise.all([c?.close().catch(() => undefined), this.sessions?.closeAll()]);
  }

  private connectTimeoutMs(): number {
    return Math.max(this.timeoutMs, MIN_CONNECT_TIMEOUT_MS);
  }

  private async connect(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'connecting';
    const client = new Client(CLIENT_INFO, { capabilities: CLIENT_CAPABILITIES });
    this.latest = client;
    // While connecting, a failure is reported below with its cause; the SDK closes the client
    // first, and "the connection closed" would hide why.
    let connected = false;
    client.onclose = () => {
      if (connected) this.lost(client, 'the connection closed');
    };
    client.onerror = (err) =>
      this.log.debug({ upstream: this.name, err: err.message }, 'upstream transport error');
    this.listen(client);
    try {
      await client.connect(makeTransport(this.name, this.config, this.log), {
        timeout: this.connectTimeoutMs(),
      });
      this.capabilities = client.getServerCapabilities();
      // A server of resources or prompts only has no tools to list; a session's own connection
      // lists nothing (the shared one does, for everyone).
      this.tools =
        this.capabilities?.tools && !this.sessionOnly
          ? await fetchTools(client, this.connectTimeoutMs())
          : [];
      if (!this.sessionOnly) await this.refresh(client, 'resources', 'templates', 'prompts');
      // close() may have been called while connecting.
      if ((this.state as UpstreamState) === 'closed') {
        await client.close();
        return;
      }
      this.client = client;
      this.state = 'up';
      connected = true;
      this.backoffMs = 250;
      this.lastError = undefined;
      this.log.info(
        {
          upstream: this.name,
          tools: this.tools.length,
          resources: this.lists.resources.length,
          prompts: this.lists.prompts.length,
        },
        'upstream connected',
      );
      this.resubscribe(client);
      this.events.toolsChanged?.();
      this.events.resourcesChanged?.();
      this.events.promptsChanged?.();
    } catch (err) {
      await client.close().catch(() => undefined);
      this.lost(client, (err as Error).message);
    }
  }

  /** Whether messages from `client` still count (not an older connection's, not after close). */
  private current(client: Client): boolean {
    return this.state !== 'closed' && this.latest === client;
  }

  /** Notifications and server requests, installed before connecting so none is missed. */
  private listen(client: Client): void {
    relayServerRequests(client, {
      upstream: this.name,
      inflight: this.inflight,
      gate: this.events.gate,
      timeoutMs: this.timeoutMs,
      log: this.log,
    });
    client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
      if (!this.current(client) || this.sessionOnly) return;
      try {
        this.tools = await fetchTools(client, this.connectTimeoutMs());
        this.events.toolsChanged?.();
      } catch (err) {
        this.log.warn(
          { upstream: this.name, err: (err as Error).message },
          'cannot refresh upstream tools',
        );
      }
    });
    client.setNotificationHandler(ResourceListChangedNotificationSchema, async () => {
      if (!this.current(client) || this.sessionOnly) return;
      // Templates have no notification of their own: they change with the resources.
      await this.refresh(client, 'resources', 'templates');
      this.events.resourcesChanged?.();
    });
    client.setNotificationHandler(PromptListChangedNotificationSchema, async () => {
      if (!this.current(client) || this.sessionOnly) return;
      await this.refresh(client, 'prompts');
      this.events.promptsChanged?.();
    });
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
      const { uri } = n.params;
      if (!this.current(client) || uri.length > MAX_URI_LENGTH || !this.subscribed.has(uri)) return;
      this.events.resourceUpdated?.(this, uri);
    });
  }

  private refresh(client: Client, ...lists: ListName[]): Promise<void> {
    return this.lists.refresh(client, lists, {
      capabilities: this.capabilities,
      timeout: this.connectTimeoutMs(),
      current: () => this.current(client),
    });
  }

  /** A new connection starts without the subscriptions the old one had. */
  private resubscribe(client: Client): void {
    if (!this.capabilities?.resources?.subscribe) return;
    for (const uri of this.subscribed) {
      client.subscribeResource({ uri }, this.options(undefined)).catch((err: unknown) => {
        this.log.warn(
          { upstream: this.name, uri: uri.slice(0, 256), err: (err as Error).message },
          'cannot subscribe again after reconnecting',
        );
      });
    }
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
