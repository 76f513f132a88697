import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import type { PolicyEngine } from '../policy/index.js';
import type { Store } from '../store/index.js';
import { ToolCatalog } from './catalog.js';
import { Gate } from './gate.js';
import { createSessionServer, type Identify } from './session.js';
import { Upstream, type UpstreamStatus } from './upstream.js';

export interface GatewayDeps {
  readonly config: Config;
  readonly store: Store;
  readonly engine: () => PolicyEngine;
  readonly log: Logger;
  readonly now: () => number;
}

export interface Gateway {
  readonly gate: Gate;
  /** A new agent-facing MCP session. */
  newSession(identify: Identify): Server;
  /** Resolves when every upstream has made its first connection attempt. */
  whenSettled(): Promise<void>;
  status(): UpstreamStatus[];
  close(): Promise<void>;
}

/**
 * Connects every configured upstream and puts the gate in front of them.
 * @example const gw = createGateway({ config, store, engine: () => engine, log, now: Date.now });
 */
export function createGateway(deps: GatewayDeps): Gateway {
  const { config, log } = deps;
  const catalog = new ToolCatalog(config, log);
  const sessions = new Set<Server>();
  const upstreams: Upstream[] = [];
  const onToolsChanged = () => {
    catalog.rebuild(upstreams);
    for (const s of sessions) void s.sendToolListChanged().catch(() => undefined);
  };
  for (const [name, u] of Object.entries(config.upstreams)) {
    upstreams.push(
      new Upstream(name, u, u.timeout ?? config.limits.upstream_timeout, log, onToolsChanged),
    );
  }
  const gate = new Gate({ catalog, engine: deps.engine, store: deps.store, log, now: deps.now });
  return {
    gate,
    newSession(identify) {
      const server = createSessionServer(gate, identify);
      sessions.add(server);
      server.onclose = () => sessions.delete(server);
      return server;
    },
    async whenSettled() {
      await Promise.all(upstreams.map((u) => u.whenSettled()));
    },
    status: () => upstreams.map((u) => u.status()),
    async close() {
      await Promise.all([...sessions].map((s) => s.close().catch(() => undefined)));
      await Promise.all(upstreams.map((u) => u.close()));
    },
  };
}
