/**
 * Resource subscriptions of agent sessions over shared upstream connections: an upstream is asked
 * once per URI, however many sessions subscribe, and released when the last of them unsubscribes
 * or closes. An update is delivered only to the sessions subscribed to that URI on that upstream.
 */
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from 'pino';
import type { ContentTarget } from './content.js';
import type { Upstream } from './upstream.js';

const MAX_PER_SESSION = 1_000;
const MAX_TOTAL = 10_000;

interface Subscription {
  readonly upstream: Upstream;
  readonly uri: string;
  readonly sessions: Set<Server>;
  /** The upstream's answer to the one subscribe request. */
  readonly ready: Promise<void>;
}

const keyOf = (server: string, uri: string) => `${server}\n${uri}`;

export class Subscriptions {
  private readonly subs = new Map<string, Subscription>();
  /** Per session: URI → subscription key. */
  private readonly bySession = new Map<Server, Map<string, string>>();

  constructor(private readonly log: Logger) {}

  /** Subscribes `session` to the target's URI; resolves once the upstream has agreed. */
  async subscribe(session: Server, target: ContentTarget): Promise<void> {
    const uri = target.uri ?? target.id;
    const mine = this.bySession.get(session) ?? new Map<string, string>();
    if (mine.has(uri)) return;
    if (mine.size >= MAX_PER_SESSION)
      throw new McpError(
        ErrorCode.InvalidRequest,
        'too many resource subscriptions in this session',
      );
    const key = keyOf(target.server, uri);
    let sub = this.subs.get(key);
    if (!sub) {
      if (this.subs.size >= MAX_TOTAL)
        throw new McpError(ErrorCode.InvalidRequest, 'too many resource subscriptions; try later');
      const ready = target.upstream.subscribe(uri);
      ready.catch(() => undefined); // awaited below; a late failure must not go unhandled
      sub = { upstream: target.upstream, uri, sessions: new Set(), ready };
      this.subs.set(key, sub);
    }
    sub.sessions.add(session);
    mine.set(uri, key);
    this.bySession.set(session, mine);
    try {
      await sub.ready;
    } catch (err) {
      // Nothing was subscribed upstream: nothing to release there.
      this.forget(session, uri, false);
      throw err;
    }
  }

  /** Ends the session's subscription to `uri` (nothing happens when it has none). */
  unsubscribe(session: Server, uri: string): void {
    this.forget(session, uri, true);
  }

  /** Ends every subscription of a closed session. */
  dropSession(session: Server): void {
    for (const uri of [...(this.bySession.get(session)?.keys() ?? [])])
      this.forget(session, uri, true);
  }

  /** Delivers an upstream's `notifications/resources/updated` to the sessions subscribed to it. */
  updated(upstream: Upstream, uri: string): void {
    const sub = this.subs.get(keyOf(upstream.name, uri));
    if (!sub) return;
    for (const s of sub.sessions) void s.sendResourceUpdated({ uri }).catch(() => undefined);
  }

  private forget(session: Server, uri: string, release: boolean): void {
    const mine = this.bySession.get(session);
    const key = mine?.get(uri);
    if (!mine || key === undefined) return;
    mine.delete(uri);
    if (mine.size === 0) this.bySession.delete(session);
    const sub = this.subs.get(key);
    if (!sub) return;
    sub.sessions.delete(session);
    if (sub.sessions.size > 0) return;
    this.subs.delete(key);
    if (!release) return;
    sub.upstream.unsubscribe(uri).catch((err: unknown) => {
      this.log.warn(
        { upstream: sub.upstream.name, uri: uri.slice(0, 256), err: (err as Error).message },
        'cannot unsubscribe upstream',
      );
    });
  }
}
