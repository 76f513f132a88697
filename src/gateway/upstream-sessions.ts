/**
 * One upstream connection per agent session, for an upstream configured `connection: per_session`.
 * A shared connection cannot tell which agent a server's own request (sampling, elicitation, a log
 * message) is for while several agents have calls in flight on it; a connection of one session's
 * own can. Each costs a connection (for a stdio server, a process), so it is opt-in and bounded.
 */
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Upstream } from './upstream.js';

/** Agent sessions with a connection of their own, per upstream. */
export const MAX_SESSION_CONNECTIONS = 256;

export class SessionConnections {
  private readonly bySession = new Map<Server, Upstream>();

  constructor(
    private readonly name: string,
    /** Opens a connection that serves one session: it lists nothing and announces nothing. */
    private readonly open: () => Upstream,
  ) {}

  /** The session's own connection, opened on first use; rejects when none can be had. */
  async for(session: Server): Promise<Upstream> {
    let u = this.bySession.get(session);
    if (!u) {
      if (this.bySession.size >= MAX_SESSION_CONNECTIONS)
        throw new Error(
          `upstream server "${this.name}" already has ${MAX_SESSION_CONNECTIONS} agent sessions with a connection of their own; try again later`,
        );
      u = this.open();
      this.bySession.set(session, u);
    }
    await u.whenSettled();
    return u;
  }

  /** Closes the connection of a session that ended. */
  drop(session: Server): void {
    const u = this.bySession.get(session);
    if (!u) return;
    this.bySession.delete(session);
    void u.close();
  }

  /** How many sessions have a connection of their own now. */
  size(): number {
    return this.bySession.size;
  }

  async closeAll(): Promise<void> {
    const all = [...this.bySession.values()];
    this.bySession.clear();
    await Promise.all(all.map((u) => u.close()));
  }
}
