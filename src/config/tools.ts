import type { Config } from './schema.js';
import { toolSettings, type ToolsConfig } from './runtime-tools.js';

/** Between server and tool in the names agents see: `<server>__<tool>`. */
export const TOOL_SEPARATOR = '__';

/**
 * The name agents see for an upstream's tool: `<server>__<tool>`, or the tool's own name for an
 * upstream configured with `prefix: false`.
 * @example exposedName(config, 'payments', 'refund') // 'payments__refund'
 */
export function exposedName(
  config: Pick<Config, 'upstreams'>,
  server: string,
  name: string,
): string {
  return config.upstreams[server]?.prefix === false ? name : `${server}${TOOL_SEPARATOR}${name}`;
}

/**
 * Splits a name agents see into its server and the upstream's own tool name; undefined when it is
 * not one. Server names cannot contain the separator, so the first one splits.
 * @example splitToolName('payments__refund') // { server: 'payments', name: 'refund' }
 */
export function splitToolName(id: string): { server: string; name: string } | undefined {
  const at = id.indexOf(TOOL_SEPARATOR);
  if (at <= 0 || at + TOOL_SEPARATOR.length >= id.length) return undefined;
  return { server: id.slice(0, at), name: id.slice(at + TOOL_SEPARATOR.length) };
}

/**
 * The labels the config gives a tool (`upstreams.<server>.tools.<name>.labels`, or
 * `runtime_tools.<server>.tools.<name>.labels`, Claude Code's defaults included), if any.
 * @example configuredLabels(config, 'claude', 'Bash') // { access: 'write', blast_radius: 'high' }
 */
export function configuredLabels(
  config: ToolsConfig,
  server: string,
  name: string,
): Readonly<Record<string, string>> | undefined {
  return toolSettings(config, server, name).settings?.labels;
}
