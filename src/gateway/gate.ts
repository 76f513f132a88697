import {
  ErrorCode,
  McpError,
  type CallToolResult,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from 'pino';
import { jsonDigest, newId } from '../crypto/index.js';
import { scopeAllows, type AgentIdentity } from '../identity/index.js';
import { CALL_TOOL, type Decision, type PolicyEngine, type ToolRef } from '../policy/index.js';
import type { Store } from '../store/index.js';
import type { ToolCatalog } from './catalog.js';

export interface GateDeps {
  readonly catalog: ToolCatalog;
  /** The current engine; a function so that a reload can swap it atomically. */
  readonly engine: () => PolicyEngine;
  readonly store: Store;
  readonly log: Logger;
  readonly now: () => number;
}

function toolError(text: string, meta?: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text }], isError: true, ...(meta ? { _meta: meta } : {}) };
}

function deniedResult(d: Decision): CallToolResult {
  const who = d.policies.length > 0 ? d.policies.join(', ') : 'none (default deny)';
  return toolError(
    `Denied by Gatehouse (decision ${d.id}): ${d.reason}. Deciding policies: ${who}.`,
    {
      'gatehouse/decision': { id: d.id, outcome: d.outcome, policies: d.policies },
    },
  );
}

/**
 * The gate every tool call passes: scope, input schema, policy, record, then upstream.
 * Nothing reaches an upstream unless policy allowed it and the decision was recorded.
 */
export class Gate {
  constructor(private readonly deps: GateDeps) {}

  /** The tools this agent could call under some arguments. */
  listTools(agent: AgentIdentity): Tool[] {
    const engine = this.deps.engine();
    const out: Tool[] = [];
    for (const entry of this.deps.catalog.all()) {
      if (scopeAllows(agent.scope, entry.ref.id) && engine.couldAllow(agent, entry.ref))
        out.push(entry.def);
    }
    return out;
  }

  /**
   * Decides and, when allowed, forwards one call. Unknown tools are a JSON-RPC error; every other
   * refusal is a tool result with `isError` naming the reason.
   */
  async callTool(
    agent: AgentIdentity,
    name: string,
    rawArgs: Record<string, unknown> | undefined,
    signal?: AbortSignal,
  ): Promise<CallToolResult> {
    const { catalog, log } = this.deps;
    const entry = catalog.get(name);
    if (!entry) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name}`);
    const args = rawArgs ?? {};
    const check = catalog.checkArgs(entry, args);
    if (!check.ok) return toolError(`Invalid arguments for ${name}: ${check.message}`);

    const decision = this.decide(agent, entry.ref, args);
    try {
      await this.deps.store.appendDecision({
        id: decision.id,
        time: this.deps.now(),
        agent: {
          id: agent.id,
          name: agent.name,
          version: agent.version,
          principal: agent.principal,
          run: agent.run,
          credential: agent.credential,
          depth: agent.depth,
          ancestors: agent.ancestors,
        },
        action: CALL_TOOL,
        tool: name,
        server: entry.ref.server,
        argsDigest: jsonDigest(args),
        outcome: decision.outcome,
        policies: decision.policies,
        reason: decision.reason,
        policySetHash: decision.policySetHash,
      });
    } catch (err) {
      log.error(
        { err: (err as Error).message, decision: decision.id },
        'cannot record decision; call refused',
      );
      return toolError(
        `Gatehouse could not record the decision for this call, so it was not forwarded (decision ${decision.id}).`,
      );
    }
    log.info(
      {
        decision: decision.id,
        outcome: decision.outcome,
        tool: name,
        agent: agent.name,
        policies: decision.policies,
      },
      'decision',
    );
    if (decision.outcome !== 'allow') return deniedResult(decision);
    try {
      return await entry.upstream.callTool(entry.ref.name, args, signal);
    } catch (err) {
      // A JSON-RPC error from the upstream itself is passed through as one.
      if (
        err instanceof McpError &&
        err.code !== (ErrorCode.RequestTimeout as number) &&
        err.code !== (ErrorCode.ConnectionClosed as number)
      ) {
        throw err;
      }
      const why =
        err instanceof McpError && err.code === (ErrorCode.RequestTimeout as number)
          ? `did not answer within the timeout`
          : `failed: ${(err as Error).message}`;
      return toolError(`Upstream server "${entry.ref.server}" ${why} (decision ${decision.id}).`);
    }
  }

  private decide(agent: AgentIdentity, tool: ToolRef, args: Record<string, unknown>): Decision {
    const engine = this.deps.engine();
    if (!scopeAllows(agent.scope, tool.id)) {
      return {
        id: newId('dec'),
        outcome: 'deny',
        policies: [],
        reason: `${tool.id} is outside the scope of this credential`,
        policySetHash: engine.policySetHash,
      };
    }
    return engine.decide({ agent, tool, args });
  }
}
