/**
 * Which agent session an upstream's own requests and log messages belong to. One upstream
 * connection is shared by every agent, and the wire does not say which call a server request is
 * about, so the gateway goes by the calls in flight: when exactly one session is waiting on the
 * upstream, it is that session's; otherwise nobody can tell, and nothing is guessed.
 */
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestId } from '@modelcontextprotocol/sdk/types.js';
import type { AgentIdentity } from '../identity/index.js';

/** The agent session and verified agent an upstream request is made for. */
export interface CallOwner {
  /** The agent-facing MCP session the request came in on. */
  readonly session: Server;
  /** The verified agent behind that request. */
  readonly agent: AgentIdentity;
  /**
   * The agent's own request this upstream request serves. Server requests and log messages for it
   * travel on that request's stream (Streamable HTTP), so they reach the agent before the answer.
   */
  readonly requestId?: RequestId;
}

/** The upstream requests in flight, by the agent session they were made for. */
export class InFlight {
  private readonly bySession = new Map<Server, CallOwner[]>();

  /** Counts a request for `owner` until the returned function is called (once). */
  begin(owner: CallOwner): () => void {
    const list = this.bySession.get(owner.session) ?? [];
    list.push(owner);
    this.bySession.set(owner.session, list);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      const at = list.indexOf(owner);
      if (at !== -1) list.splice(at, 1);
      if (list.length === 0 && this.bySession.get(owner.session) === list)
        this.bySession.delete(owner.session);
    };
  }

  /** Sessions with at least one request in flight. */
  sessions(): number {
    return this.bySession.size;
  }

  /**
   * The owner a server request belongs to: the most recent request in flight of the one session
   * that has any; undefined when no session or more than one has requests in flight.
   */
  sole(): CallOwner | undefined {
    if (this.bySession.size !== 1) return undefined;
    const [list] = this.bySession.values();
    return list?.[list.length - 1];
  }
}
