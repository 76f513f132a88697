/**
 * Tool names as agent runtimes give them, mapped to the names Gatehouse decides: Claude Code's
 * built-ins are the tools of the `claude` runtime server (`Bash` → `claude__Bash`), and MCP tools
 * keep their server (`mcp__payments__refund` → `payments__refund`), so the same policy applies
 * whether a tool is reached through the gateway or directly by the runtime.
 */
import { CLAUDE_CODE_SERVER, serverName } from '../config/index.js';

const TOOL = /^[A-Za-z0-9_-]{1,64}$/;
const MCP_PREFIX = 'mcp__';

export type MappedTool =
  | {
      readonly ok: true;
      readonly tool: string;
      /** The tool is reached through the Gatehouse MCP gateway, which decides and records it. */
      readonly viaGateway?: true;
    }
  | { readonly ok: false; readonly reason: string };

/**
 * The Gatehouse tool for a Claude Code (or Agent SDK) tool name; a name that cannot be mapped is
 * refused, never guessed. `gatewayServer` names the MCP server that is Gatehouse's own gateway
 * (`mcp__gatehouse__payments__refund` is then `payments__refund`, decided by the gateway).
 * @example claudeToolName('Bash') // { ok: true, tool: 'claude__Bash' }
 * @example claudeToolName('mcp__payments__refund') // { ok: true, tool: 'payments__refund' }
 */
export function claudeToolName(name: string, gatewayServer?: string): MappedTool {
  if (name.startsWith(MCP_PREFIX)) {
    const rest = name.slice(MCP_PREFIX.length);
    const at = rest.indexOf('__');
    const server = at > 0 ? rest.slice(0, at) : '';
    const tool = at > 0 ? rest.slice(at + 2) : '';
    if (!serverName.safeParse(server).success)
      return {
        ok: false,
        reason: `MCP server "${shown(server)}" of tool "${shown(name)}" is not a Gatehouse server name (letters, digits and "-"); rename the server in the MCP configuration`,
      };
    if (gatewayServer !== undefined && server === gatewayServer) {
      if (!TOOL.test(tool))
        return { ok: false, reason: `tool "${shown(name)}" cannot be named for policy` };
      return { ok: true, tool, viaGateway: true };
    }
    const id = `${server}__${tool}`;
    if (!TOOL.test(tool) || !TOOL.test(id))
      return { ok: false, reason: `tool "${shown(name)}" cannot be named for policy` };
    return { ok: true, tool: id };
  }
  const id = `${CLAUDE_CODE_SERVER}__${name}`;
  if (!/^[A-Za-z0-9-][A-Za-z0-9_-]*$/.test(name) || name.includes('__') || !TOOL.test(id))
    return { ok: false, reason: `tool "${shown(name)}" cannot be named for policy` };
  return { ok: true, tool: id };
}

/** Attacker-influenced text, made short and printable for a reason. */
function shown(s: string): string {
  const clean = s.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 80 ? `${clean.slice(0, 80)}...` : clean;
}
