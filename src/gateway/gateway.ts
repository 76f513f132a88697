import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import type { PolicyService } from '../policy/index.js';
import type { RunTracker } from '../provenance/index.js';
import type { Approvals } from '../approvals/index.js';
import type { Store } from '../store/index.js';
import type { AgentIdentity } from '../identity/index.js';
import { GatehouseError } from '../errors/index.js';
import { ToolCatalog } from './catalog.js';
import { ContentCatalog } from './content.js';

export type GatewayErrorCode = 'GATEWAY_NAME_CLASH';
import { decideCall, type DecidedCall, type ToolSpec } from './decide-call.js';
import { Decider } from './decider.js';
import { Gate } from './gate.js';
import { PinGuard } from './pins.js';
import { ResultRecorder } from './results.js';
import { createSessionServer, type Identify } from './session.js';
import { Subscriptions } from './subscriptions.js';
import { Upstream, type UpstreamEvents, type UpstreamStatus } from './upstream.js';

export interface GatewayDeps {
  readonly config: Config;
  readonly store: Store;
  readonly policy: PolicyService;
  readonly runs: RunTracker;
  readonly approvals: Approvals;
  readonly log: Logger;
  readonly now: () => number;
  /**
   * Connect the configured upstreams (default). Off for a process that only decides calls made
   * elsewhere (the standalone Claude Code hook): tools are then decided with their config labels.
   */
  readonly connect?: boolean;
}

export interface Gateway {
  readonly gate: Gate;
  /** The one decision function, shared with the decision API. */
  readonly decider: Decider;
  readonly catalog: ToolCatalog;
  /** Every upstream's resources, templates and prompts as agents see them. */
  readonly content: ContentCatalog;
  /** Records results (the gateway's own, and those runtimes report), labelled and observed. */
  readonly results: ResultRecorder;
  /**
   * Decides a call made outside the MCP gateway (the decision API): a tool the gateway serves is
   * checked against its input schema first; any other tool is decided with the labels from config.
   */
  decideCall(
    agent: AgentIdentity,
    tool: ToolSpec,
    args: Record<string, unknown>,
  ): Promise<DecidedCall>;
  /** Tells every agent session that its tool list may have changed (after a policy change). */
  notifyToolsChanged(): void;
  /** Re-checks tool pins now (after an approval through this process); announces what changed. */
  refreshPins(): Promise<void>;
  /** A new agent-facing MCP session. */
  newSession(identify: Identify): Server;
  /**
   * Resolves when every upstream has made its first connection attempt; rejects (GATEWAY_NAME_CLASH)
   * when two upstreams offer a tool or a prompt under the same name, which is then served by neither.
   */
  whenSettled(): Promise<void>;
  status(): UpstreamStatus[];
  close(): Promise<void>;
}

/**
 * Connects every configured upstream and puts the gate in front of them.
 * @example const gw = createGateway({ config, store, policy, runs: new RunTracker({ retainMs: 3_600_000 }), log, now: Date.now });
 */
export function createGateway(deps: GatewayDeps): Gateway {
  const { config, log } = deps;
  const catalog = new ToolCatalog(config, log);
  const content = new ContentCatalog(config, log);
  const subscriptions = new Subscriptions(log);
  const sessions = new Set<Server>();
  const upstreams: Upstream[] = [];
  const broadcast = (send: (s: Server) => Promise<void>) => {
    for (const s of sessions) void send(s).catch(() => undefined);
  };
  const notify = () => broadcast((s) => s.sendToolListChanged());
  const pins = new PinGuard({
    entries: () => catalog.all(),
    store: deps.store,
    newTools: config.tools.new,
    log,
    now: deps.now,
    onChange: notify,
  });
  // Until its pin is checked, a new or changed definition has no verdict and is refused. Sessions
  // hear of the new list once the check is done: from the guard when the usable tools changed, or
  // here (the definitions may differ in fields a pin does not cover, such as _meta).
  const onToolsChanged = () => {
    catalog.rebuild(upstreams);
    void pins.check().then((announced) => announced || notify());
  };
  const events: UpstreamEvents = {
    toolsChanged: onToolsChanged,
    resourcesChanged: () => {
      content.rebuild(upstreams);
      broadcast((s) => s.sendResourceListChanged());
    },
    promptsChanged: () => {
      content.rebuild(upstreams);
      broadcast((s) => s.sendPromptListChanged());
    },
    resourceUpdated: (up, uri) => subscriptions.updated(up, uri),
    // The gate exists by the time an upstream can ask anything.
    gate: {
      decideSampling: (agent, server, params) => gate.decideSampling(agent, server, params),
      decideElicitation: (agent, server, params) => gate.decideElicitation(agent, server, params),
    },
  };
  for (const [name, u] of deps.connect === false ? [] : Object.entries(config.upstreams)) {
    upstreams.push(new Upstream(name, u, u.timeout ?? config.limits.upstream_timeout, log, events));
  }
  const { policy, runs } = deps;
  const decider = new Decider({
    policy,
    store: deps.store,
    runs,
    log,
    now: deps.now,
    retention: config.audit.arguments,
  });
  const results = new ResultRecorder({
    config,
    store: deps.store,
    runs,
    now: deps.now,
    log: deps.log,
  });
  const gate = new Gate({
    catalog,
    pins,
    policy,
    decider,
    runs,
    approvals: deps.approvals,
    results,
    config,
  });
  return {
    gate,
    decider,
    catalog,
    content,
    results,
    decideCall: (agent, spec, args) =>
      decideCall({ config, catalog, pins, decider, approvals: deps.approvals }, agent, spec, args),
    notifyToolsChanged: notify,
    refreshPins: () => pins.refresh(),
    newSession(identify) {
      const server = createSessionServer({ gate, content, subscriptions }, identify);
      sessions.add(server);
      server.onclose = () => {
        sessions.delete(server);
        subscriptions.dropSession(server);
        for (const u of upstreams) u.dropSession(server);
      };
      return server;
    },
    async whenSettled() {
      await Promise.all(upstreams.map((u) => u.whenSettled()));
      await pins.idle();
      const named = (kind: string, clashes: ReadonlyMap<string, readonly string[]>) =>
        [...clashes].map(([n, servers]) => `${kind} "${n}" (from ${servers.join(' and ')})`);
      const clashes = [...named('tool', catalog.clashes()), ...named('prompt', content.clashes())];
      if (clashes.length > 0) {
        throw new GatehouseError<GatewayErrorCode>(
          'GATEWAY_NAME_CLASH',
          `names clash: ${clashes.join(', ')}; set prefix: true on all but one of those upstreams`,
        );
      }
    },
    status: () => upstreams.map((u) => u.status()),
    async close() {
      await Promise.all([...sessions].map((s) => s.close().catch(() => undefined)));
      await Promise.all(upstreams.map((u) => u.close()));
    },
  };
}
