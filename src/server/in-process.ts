import type { Config } from '../config/index.js';
import type { Logger } from '../log/index.js';
import { createApp } from './http.js';
import { openRuntime, type Runtime } from './runtime.js';

/** The Host this in-process app answers to (it has no socket; DNS rebinding cannot reach it). */
const HOST = 'gatehouse.in-process';

/**
 * A Gatehouse in this process, reached through its own HTTP app without a socket. It serves the
 * control plane (the decision API the hook needs), not MCP: MCP sessions live as long as an agent
 * stays connected, which a short-lived process cannot offer, and the one MCP implementation is the
 * node-native one of the HTTP listener.
 */
export interface InProcessGatehouse {
  readonly rt: Runtime;
  /** The base URL to give a client together with `fetch`. */
  readonly url: string;
  /** Sends a request to the in-process app: the same control-plane routes, checks and answers as over HTTP. */
  readonly fetch: (req: Request) => Promise<Response>;
  close(): Promise<void>;
}

/**
 * Opens a Gatehouse from a config inside this process, standalone (no upstream connections, no
 * listener, no watchers), for a short-lived runtime such as the Claude Code hook: its requests
 * take exactly the path HTTP requests take.
 * @example const gh = await openInProcess(loadConfig('gatehouse.yaml'), silentLogger()); new GatehouseClient({ url: gh.url, fetch: gh.fetch, token });
 */
export async function openInProcess(
  config: Config,
  log: Logger,
  opts: { now?: () => number } = {},
): Promise<InProcessGatehouse> {
  const rt = await openRuntime(config, log, { ...opts, standalone: true });
  const hosts = new Set([HOST]);
  const app = createApp(rt, () => hosts);
  return {
    rt,
    url: `http://${HOST}`,
    async fetch(req) {
      const headers = new Headers(req.headers);
      headers.set('host', HOST);
      return app.fetch(new Request(req, { headers }));
    },
    close: () => rt.close(),
  };
}
