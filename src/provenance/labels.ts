import type {
  CallToolResult,
  GetPromptResult,
  ReadResourceResult,
} from '@modelcontextprotocol/sdk/types.js';
import { serverTrust, toolSettings, type ToolsConfig, type TrustLevel } from '../config/index.js';
import type { ToolRef } from '../policy/index.js';

/** Where a tool result came from and how far it can be trusted. */
export interface ResultLabel {
  readonly trust: TrustLevel;
  /** As run provenance and reasons name it: the tool, and the domain when one is known. */
  readonly source: string;
  readonly server: string;
  readonly tool: string;
  /** The domain a URL-fetching tool read from, lower case. */
  readonly domain?: string;
}

function domainTrust(
  domains: Readonly<Record<string, TrustLevel>>,
  host: string,
): TrustLevel | undefined {
  // Own keys only: a host named `constructor` or `__proto__` must not read Object.prototype.
  const own = (key: string) => (Object.hasOwn(domains, key) ? domains[key] : undefined);
  const exact = own(host);
  if (exact !== undefined) return exact;
  // The most specific wildcard wins: *.docs.example.com before *.example.com.
  for (let at = host.indexOf('.'); at >= 0; at = host.indexOf('.', at + 1)) {
    const t = own(`*${host.slice(at)}`);
    if (t !== undefined) return t;
  }
  return undefined;
}

/**
 * The label of what `tool` returned for `args` (an upstream's tool or an agent runtime's, such as
 * `claude__WebFetch`): the tool's trust, else its server's; for a tool
 * that fetches URLs, the trust its config gives the URL's domain (anything unlisted or unreadable
 * gets the configured default, untrusted unless said otherwise).
 * @example labelResult(config, webFetch, { url: 'https://forum.example.net/t/1' }) // { trust: 'untrusted', source: 'web__fetch forum.example.net', ... }
 */
export function labelResult(
  config: ToolsConfig,
  tool: Pick<ToolRef, 'id' | 'server' | 'name'>,
  /** Attacker-controlled: the call's arguments, the URL among them. */
  args: Readonly<Record<string, unknown>>,
): ResultLabel {
  const { settings, serverTrust } = toolSettings(config, tool.server, tool.name);
  const base = { server: tool.server, tool: tool.id };
  const trust: TrustLevel = settings?.trust ?? serverTrust;
  const urls = settings?.urls;
  if (!urls) return { ...base, trust, source: tool.id };
  const raw = args[urls.argument];
  let host: string | undefined;
  try {
    host = typeof raw === 'string' ? new URL(raw).hostname.toLowerCase() : undefined;
  } catch {
    host = undefined;
  }
  if (!host) return { ...base, trust: urls.default, source: `${tool.id} (unreadable URL)` };
  const byDomain = domainTrust(urls.domains, host) ?? urls.default;
  return { ...base, trust: byDomain, source: `${tool.id} ${host}`, domain: host };
}

/**
 * The text a result puts in the agent's context: text content, embedded resource text, resource
 * links and structured content; images and audio carry no values to trace.
 */
export function resultTexts(result: CallToolResult): string[] {
  const texts: string[] = [];
  for (const item of result.content ?? []) {
    if (item.type === 'text') texts.push(item.text);
    else if (item.type === 'resource' && 'text' in item.resource) texts.push(item.resource.text);
    else if (item.type === 'resource_link') texts.push(`${item.uri} ${item.name}`);
  }
  if (result.structuredContent !== undefined) texts.push(JSON.stringify(result.structuredContent));
  return texts;
}

/**
 * The label of a resource's contents or a prompt's messages: the trust of the server that served
 * them (a resource from an untrusted server is untrusted content in the run).
 * @example labelContent(config, { kind: 'resource', id: 'file:///a.txt', server: 'docs' }) // { trust: 'internal', source: 'docs file:///a.txt', ... }
 */
export function labelContent(
  config: ToolsConfig,
  target: {
    readonly kind: 'resource' | 'prompt' | 'sampling';
    readonly id: string;
    readonly server: string;
  },
): ResultLabel {
  const trust = serverTrust(config, target.server);
  const source =
    target.kind === 'resource'
      ? `${target.server} ${target.id.slice(0, 200)}`
      : target.kind === 'prompt'
        ? `${target.id} (prompt)`
        : `${target.server} (sampling)`;
  return { trust, source, server: target.server, tool: target.id };
}

/** The text a resource read puts in the agent's context (binary blobs carry no values to trace). */
export function resourceTexts(result: ReadResourceResult): string[] {
  const texts: string[] = [];
  for (const c of result.contents)
    if ('text' in c && typeof c.text === 'string') texts.push(c.text);
  return texts;
}

/** The text a prompt puts in the agent's context: its description and its messages. */
export function promptTexts(result: Pick<GetPromptResult, 'description' | 'messages'>): string[] {
  const texts = resultTexts({ content: result.messages.map((m) => m.content) });
  if (typeof result.description === 'string') texts.push(result.description);
  return texts;
}
