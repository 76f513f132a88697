import type { Logger } from 'pino';
import { exposedName, type Config } from '../config/index.js';
import { Upstream, type UpstreamStatus } from './upstream.js';

/** The tools every configured upstream offers right now, under their exposed names. */
export interface Inventory {
  readonly tools: readonly { readonly id: string; readonly inputSchema: unknown }[];
  /** Upstreams that could not be reached, with why. */
  readonly unreachable: readonly UpstreamStatus[];
}

/**
 * Connects to every upstream once, lists its tools and disconnects (for `gatehouse policy schema`).
 * @example const { tools } = await takeInventory(config, log);
 */
export async function takeInventory(config: Config, log: Logger): Promise<Inventory> {
  const upstreams = Object.entries(config.upstreams).map(
    ([name, u]) => new Upstream(name, u, u.timeout ?? config.limits.upstream_timeout, log),
  );
  try {
    await Promise.all(upstreams.map((u) => u.whenSettled()));
    const tools = upstreams.flatMap((u) =>
      u.listTools().map((t) => ({
        id: exposedName(config, u.name, t.name),
        inputSchema: t.inputSchema,
      })),
    );
    const unreachable = upstreams.map((u) => u.status()).filter((s) => s.state !== 'up');
    return { tools, unreachable };
  } finally {
    await Promise.all(upstreams.map((u) => u.close()));
  }
}
