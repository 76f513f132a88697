/**
 * The resource, prompt and completion requests of an agent session: lists paged over every
 * upstream, reads and prompts through the Gate's hooks, subscriptions shared per URI. Everything
 * an agent sends is bounded here before it is routed anywhere.
 */
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CompleteRequestSchema,
  ErrorCode,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
  type CompleteRequest,
} from '@modelcontextprotocol/sdk/types.js';
import type { AgentIdentity } from '../identity/index.js';
import type { ContentCatalog, ContentTarget } from './content.js';
import { pageOf, type Page } from './cursors.js';
import type { Gate } from './gate.js';
import type { CallOwner } from './routing.js';
import type { Extra, Identify } from './session.js';
import type { Subscriptions } from './subscriptions.js';
import { MAX_URI_LENGTH } from './upstream-lists.js';

export interface ContentDeps {
  readonly gate: Gate;
  readonly content: ContentCatalog;
  readonly subscriptions: Subscriptions;
}

const MAX_NAME = 256;
const MAX_ARGUMENTS = 64;
const MAX_VALUE = 64 * 1024;
const MAX_COMPLETION_VALUE = 4096;

const invalid = (message: string) => new McpError(ErrorCode.InvalidParams, message);

/** A `.` or `..` path segment, its dots or slashes percent-encoded or not. */
const DOT_SEGMENT = /(^|[/\\]|%2f|%5c)(\.|%2e){1,2}([/\\?#]|%2f|%5c|$)/i;

function checkUri(uri: string): string {
  if (uri.length === 0 || uri.length > MAX_URI_LENGTH)
    throw invalid(`a resource URI must have 1 to ${MAX_URI_LENGTH} characters`);
  // Policy matches URIs as text (`resource.uri like "file:///srv/docs/*"`): a URI that climbs out
  // of a path is refused rather than normalised one way here and another way upstream.
  if (DOT_SEGMENT.test(uri)) throw invalid('a resource URI must not have "." or ".." segments');
  return uri;
}

function checkArgs(
  args: Record<string, string> | undefined,
  maxValue: number,
): Record<string, string> | undefined {
  if (!args) return undefined;
  const entries = Object.entries(args);
  if (entries.length > MAX_ARGUMENTS) throw invalid(`at most ${MAX_ARGUMENTS} arguments`);
  for (const [k, v] of entries)
    if (k.length > MAX_NAME || v.length > maxValue)
      throw invalid(`argument ${k.slice(0, 64)} too long`);
  return args;
}

function nextCursor<T>(page: Page<T>): { nextCursor?: string } {
  return page.nextCursor ? { nextCursor: page.nextCursor } : {};
}

/** Installs the resources, prompts and completion handlers on an agent-facing session. */
export function serveContent(server: Server, deps: ContentDeps, identify: Identify): void {
  const { gate, content, subscriptions } = deps;
  const owner = (agent: AgentIdentity, extra: Extra): CallOwner => ({
    session: server,
    agent,
    requestId: extra.requestId,
  });
  /** A resource the agent may see; hidden ones are as unknown as missing ones. */
  const visibleResource = (agent: AgentIdentity, uri: string): ContentTarget => {
    const target = content.route(checkUri(uri));
    if (!gate.canSee(agent, target)) throw invalid(`unknown resource: ${uri.slice(0, 256)}`);
    return target;
  };

  server.setRequestHandler(ListResourcesRequestSchema, async (req, extra) => {
    const agent = await identify(extra);
    const page = pageOf(content.resourceSources(), req.params?.cursor, (e) =>
      gate.canSee(agent, e.target),
    );
    return { resources: page.items.map((e) => e.def), ...nextCursor(page) };
  });
  server.setRequestHandler(ListResourceTemplatesRequestSchema, async (req, extra) => {
    const agent = await identify(extra);
    const page = pageOf(content.templateSources(), req.params?.cursor, (e) =>
      gate.canSee(agent, e.target),
    );
    return { resourceTemplates: page.items.map((e) => e.def), ...nextCursor(page) };
  });
  server.setRequestHandler(ReadResourceRequestSchema, async (req, extra) => {
    const agent = await identify(extra);
    const target = content.route(checkUri(req.params.uri));
    return gate.readResource(agent, target, owner(agent, extra), extra.signal);
  });
  server.setRequestHandler(SubscribeRequestSchema, async (req, extra) => {
    const agent = await identify(extra);
    await subscriptions.subscribe(server, visibleResource(agent, req.params.uri));
    return {};
  });
  server.setRequestHandler(UnsubscribeRequestSchema, async (req, extra) => {
    await identify(extra);
    subscriptions.unsubscribe(server, checkUri(req.params.uri));
    return {};
  });

  server.setRequestHandler(ListPromptsRequestSchema, async (req, extra) => {
    const agent = await identify(extra);
    const page = pageOf(content.promptSources(), req.params?.cursor, (e) =>
      gate.canSee(agent, e.target),
    );
    return { prompts: page.items.map((e) => e.def), ...nextCursor(page) };
  });
  server.setRequestHandler(GetPromptRequestSchema, async (req, extra) => {
    const agent = await identify(extra);
    const { name } = req.params;
    const entry = name.length <= MAX_NAME ? content.prompt(name) : undefined;
    if (!entry) throw invalid(`unknown prompt: ${name.slice(0, 128)}`);
    const args = checkArgs(req.params.arguments, MAX_VALUE);
    return gate.getPrompt(agent, entry.target, args, owner(agent, extra), extra.signal);
  });

  server.setRequestHandler(CompleteRequestSchema, async (req, extra) => {
    const agent = await identify(extra);
    const { ref, argument, context } = req.params;
    if (argument.name.length > MAX_NAME || argument.value.length > MAX_COMPLETION_VALUE)
      throw invalid('completion argument too long');
    const contextArgs = checkArgs(context?.arguments, MAX_COMPLETION_VALUE);
    let target: ContentTarget;
    let upstreamRef: CompleteRequest['params']['ref'];
    if (ref.type === 'ref/prompt') {
      const entry = ref.name.length <= MAX_NAME ? content.prompt(ref.name) : undefined;
      if (!entry || !gate.canSee(agent, entry.target))
        throw invalid(`unknown prompt: ${ref.name.slice(0, 128)}`);
      target = entry.target;
      upstreamRef = { type: 'ref/prompt', name: target.name };
    } else {
      target = visibleResource(agent, ref.uri);
      upstreamRef = { type: 'ref/resource', uri: ref.uri };
    }
    const params: CompleteRequest['params'] = {
      ref: upstreamRef,
      argument: { name: argument.name, value: argument.value },
      ...(contextArgs ? { context: { arguments: contextArgs } } : {}),
    };
    const result = await target.upstream.complete(params, owner(agent, extra), extra.signal);
    gate.observeCompletion(agent, target, result.completion.values);
    return result;
  });
}
