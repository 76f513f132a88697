/**
 * The resources, resource templates and prompts of every upstream, as agents see them: prompts
 * under their exposed names (`<server>__<prompt>`, like tools), resources under their real URIs
 * (tool results link to them), and the routing of a URI to the one upstream that serves it.
 */
import {
  ErrorCode,
  McpError,
  type Prompt,
  type Resource,
  type ResourceTemplate,
} from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from 'pino';
import { exposedName, type Config } from '../config/index.js';
import type { Source } from './cursors.js';
import type { Upstream } from './upstream.js';
import { PROMPT_NAME } from './upstream-lists.js';
import { compileUriTemplate, matchesUriTemplate, type UriTemplate } from './uri-template.js';

/** A resource or prompt an agent asks for, as the policy hooks of the Gate see it. */
export interface ContentTarget {
  readonly kind: 'resource' | 'prompt';
  readonly server: string;
  /** The URI (a template's URI template when listing templates), or the exposed prompt name. */
  readonly id: string;
  /** The upstream's own prompt name, or the resource's name (its URI when unnamed). */
  readonly name: string;
  readonly uri?: string;
  readonly upstream: Upstream;
}

export interface PromptEntry {
  readonly target: ContentTarget;
  /** The prompt as agents see it (renamed to its exposed name). */
  readonly def: Prompt;
}

export interface ResourceEntry {
  readonly target: ContentTarget;
  readonly def: Resource;
}

export interface TemplateEntry {
  readonly target: ContentTarget;
  readonly def: ResourceTemplate;
  /** Undefined when the template is beyond what routing matches (it is still listed). */
  readonly matcher: UriTemplate | undefined;
}

/** Builds the merged lists from the upstreams' caches and routes URIs among them. */
export class ContentCatalog {
  private prompts = new Map<string, PromptEntry>();
  private clashing = new Map<string, string[]>();
  private promptLists: Source<PromptEntry>[] = [];
  private resourceLists: Source<ResourceEntry>[] = [];
  private templateLists: Source<TemplateEntry>[] = [];
  private byUri = new Map<string, ResourceEntry[]>();
  private upstreams: readonly Upstream[] = [];

  constructor(
    private readonly config: Pick<Config, 'upstreams'>,
    private readonly log: Logger,
  ) {}

  /** Rebuilds everything from what each upstream last listed. */
  rebuild(upstreams: readonly Upstream[]): void {
    this.upstreams = upstreams;
    this.rebuildPrompts(upstreams);
    this.resourceLists = upstreams.map((up) => ({
      server: up.name,
      items: up.listResources().map((def) => ({
        def,
        target: {
          kind: 'resource',
          server: up.name,
          id: def.uri,
          name: def.name,
          uri: def.uri,
          upstream: up,
        },
      })),
    }));
    this.templateLists = upstreams.map((up) => ({
      server: up.name,
      items: up.listResourceTemplates().map((def) => ({
        def,
        matcher: compileUriTemplate(def.uriTemplate),
        target: {
          kind: 'resource',
          server: up.name,
          id: def.uriTemplate,
          name: def.name,
          upstream: up,
        },
      })),
    }));
    const byUri = new Map<string, ResourceEntry[]>();
    for (const list of this.resourceLists)
      for (const e of list.items) byUri.set(e.def.uri, [...(byUri.get(e.def.uri) ?? []), e]);
    this.byUri = byUri;
  }

  private rebuildPrompts(upstreams: readonly Upstream[]): void {
    const next = new Map<string, PromptEntry>();
    const clashes = new Map<string, string[]>();
    const lists = new Map<string, PromptEntry[]>();
    for (const up of upstreams) {
      lists.set(up.name, []);
      for (const prompt of up.listPrompts()) {
        const id = exposedName(this.config, up.name, prompt.name);
        const other = next.get(id);
        if (other || clashes.has(id)) {
          // Two servers under one name: serving either could send a request to the wrong one.
          clashes.set(id, [...(clashes.get(id) ?? [other?.target.server ?? '']), up.name]);
          next.delete(id);
          continue;
        }
        if (!PROMPT_NAME.test(id)) {
          this.log.warn(
            { upstream: up.name, prompt: prompt.name },
            'prompt not exposed: name too long',
          );
          continue;
        }
        const target: ContentTarget = {
          kind: 'prompt',
          server: up.name,
          id,
          name: prompt.name,
          upstream: up,
        };
        next.set(id, { target, def: { ...prompt, name: id } });
      }
    }
    for (const [id, servers] of clashes)
      this.log.error({ prompt: id, upstreams: servers }, 'prompt not served: its name clashes');
    for (const e of next.values()) lists.get(e.target.server)?.push(e);
    this.prompts = next;
    this.clashing = clashes;
    this.promptLists = upstreams.map((up) => ({
      server: up.name,
      items: lists.get(up.name) ?? [],
    }));
  }

  /** Prompt names more than one upstream offers (none of them is served), with those upstreams. */
  clashes(): ReadonlyMap<string, readonly string[]> {
    return this.clashing;
  }

  /** The prompt agents know as `id`. */
  prompt(id: string): PromptEntry | undefined {
    return this.prompts.get(id);
  }

  /** Served prompts, per upstream in config order (for paging). */
  promptSources(): readonly Source<PromptEntry>[] {
    return this.promptLists;
  }

  resourceSources(): readonly Source<ResourceEntry>[] {
    return this.resourceLists;
  }

  templateSources(): readonly Source<TemplateEntry>[] {
    return this.templateLists;
  }

  /**
   * The upstream serving `uri`: the one that lists it or has a template matching it, else the
   * only upstream with resources at all. Two upstreams that could serve it are refused (never
   * guessed); none is McpError InvalidParams "unknown resource".
   */
  route(uri: string): ContentTarget {
    const listed = (this.byUri.get(uri) ?? []).map((e) => e.target);
    // Templates are checked even for a listed URI: a server listing a URI another server's
    // template covers must not take its reads silently.
    const templated = this.templateLists
      .flatMap((l) => l.items)
      .filter(
        (t) =>
          t.def.uriTemplate === uri ||
          (t.matcher !== undefined && matchesUriTemplate(t.matcher, uri)),
      )
      .map((t) => t.target);
    const one = this.single(uri, [...listed, ...templated]);
    if (one) return listed[0] ?? { ...one, id: uri, name: uri, uri };
    const withResources = this.upstreams.filter((u) => u.hasResources());
    const [only] = withResources;
    if (only && withResources.length === 1)
      return { kind: 'resource', server: only.name, id: uri, name: uri, uri, upstream: only };
    throw new McpError(ErrorCode.InvalidParams, `unknown resource: ${uri.slice(0, 256)}`);
  }

  /** The one upstream among `targets`; undefined when none; refused when several. */
  private single(uri: string, targets: readonly ContentTarget[]): ContentTarget | undefined {
    const servers = [...new Set(targets.map((t) => t.server))];
    if (servers.length > 1)
      throw new McpError(
        ErrorCode.InvalidParams,
        `resource ${uri.slice(0, 256)} is served by more than one upstream (${servers.join(', ')}); Gatehouse does not guess which`,
      );
    return targets[0];
  }
}
