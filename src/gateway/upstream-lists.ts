/**
 * Fetching an upstream's tools, resources, resource templates and prompts. Upstreams are not
 * trusted to be finite or well-formed: paging stops after MAX_PAGES; resource, template and prompt
 * lists keep at most a fixed number of entries, and drop entries with oversized or unusable
 * identifiers or repeated ones (tools are judged by the catalog and their pins).
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type {
  Prompt,
  Resource,
  ResourceTemplate,
  ServerCapabilities,
  Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from 'pino';
import { MAX_TEMPLATE_LENGTH } from './uri-template.js';

const MAX_PAGES = 100;
const MAX_ENTRIES = 10_000;
const MAX_TEMPLATES = 1_000;
/** Longer URIs are neither listed nor accepted from agents. */
export const MAX_URI_LENGTH = 4096;
const MAX_NAME_LENGTH = 512;
const MAX_PROMPT_ARGUMENTS = 64;
/** Prompt names agents see: printable, no control characters, bounded. */
export const PROMPT_NAME = /^[^\p{C}]{1,128}$/u;

interface Paged<T> {
  readonly items: readonly T[];
  readonly nextCursor?: string | undefined;
}

/** Every page of a list, bounded in pages and entries; `key` drops repeats, `keep` the unusable. */
async function fetchPaged<T>(
  page: (cursor: string | undefined) => Promise<Paged<T>>,
  key: (item: T) => string,
  keep: (item: T) => boolean,
  maxEntries: number,
): Promise<{ items: T[]; dropped: number }> {
  const items: T[] = [];
  const seen = new Set<string>();
  let dropped = 0;
  let cursor: string | undefined;
  for (let n = 0; n < MAX_PAGES; n++) {
    const res = await page(cursor);
    for (const item of res.items) {
      const k = key(item);
      if (items.length >= maxEntries || seen.has(k) || !keep(item)) {
        dropped++;
        continue;
      }
      seen.add(k);
      items.push(item);
    }
    cursor = res.nextCursor;
    if (!cursor) break;
  }
  return { items, dropped };
}

/** The upstream's tools, every page (bounded: a hostile upstream must not page forever). */
export async function fetchTools(client: Client, timeout: number): Promise<Tool[]> {
  const all: Tool[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const res = await client.listTools(cursor ? { cursor } : {}, { timeout });
    all.push(...res.tools);
    cursor = res.nextCursor;
    if (!cursor) break;
  }
  return all;
}

const nameOk = (name: string) => name.length > 0 && name.length <= MAX_NAME_LENGTH;
const uriOk = (uri: string) => uri.length > 0 && uri.length <= MAX_URI_LENGTH;

type Listed<T> = Promise<{ items: T[]; dropped: number }>;

/** The upstream's resources, each URI once. */
function fetchResources(client: Client, timeout: number): Listed<Resource> {
  return fetchPaged(
    async (cursor) => {
      const r = await client.listResources(cursor ? { cursor } : {}, { timeout });
      return { items: r.resources, nextCursor: r.nextCursor };
    },
    (r) => r.uri,
    (r) => uriOk(r.uri) && nameOk(r.name),
    MAX_ENTRIES,
  );
}

/** The upstream's resource templates, each template once. */
function fetchTemplates(client: Client, timeout: number): Listed<ResourceTemplate> {
  return fetchPaged(
    async (cursor) => {
      const r = await client.listResourceTemplates(cursor ? { cursor } : {}, { timeout });
      return { items: r.resourceTemplates, nextCursor: r.nextCursor };
    },
    (t) => t.uriTemplate,
    (t) =>
      t.uriTemplate.length > 0 && t.uriTemplate.length <= MAX_TEMPLATE_LENGTH && nameOk(t.name),
    MAX_TEMPLATES,
  );
}

/** The upstream's prompts, each name once. */
function fetchPrompts(client: Client, timeout: number): Listed<Prompt> {
  return fetchPaged(
    async (cursor) => {
      const r = await client.listPrompts(cursor ? { cursor } : {}, { timeout });
      return { items: r.prompts, nextCursor: r.nextCursor };
    },
    (p) => p.name,
    (p) => PROMPT_NAME.test(p.name) && (p.arguments?.length ?? 0) <= MAX_PROMPT_ARGUMENTS,
    MAX_ENTRIES,
  );
}

export type ListName = 'resources' | 'templates' | 'prompts';

/** One upstream's resources, templates and prompts as it last listed them. */
export class ContentLists {
  resources: Resource[] = [];
  templates: ResourceTemplate[] = [];
  prompts: Prompt[] = [];
  /** Per list, the latest fetch started: an older one finishing late must not win. */
  private readonly started = { resources: 0, templates: 0, prompts: 0 };

  constructor(
    private readonly upstream: string,
    private readonly log: Logger,
  ) {}

  /**
   * Fetches each list the upstream declared (the others become empty). A failed fetch keeps the
   * old list: the upstream still serves what it listed before, and an empty list would hide it.
   */
  async refresh(
    client: Client,
    lists: readonly ListName[],
    o: {
      capabilities: ServerCapabilities | undefined;
      timeout: number;
      /** False once the connection is no longer the upstream's current one. */
      current: () => boolean;
    },
  ): Promise<void> {
    await Promise.all(lists.map((list) => this.refreshOne(client, list, o)));
  }

  private async refreshOne(
    client: Client,
    list: ListName,
    o: { capabilities: ServerCapabilities | undefined; timeout: number; current: () => boolean },
  ): Promise<void> {
    const declared = list === 'prompts' ? o.capabilities?.prompts : o.capabilities?.resources;
    const seq = ++this.started[list];
    if (!declared) {
      this[list] = [];
      return;
    }
    const keep = <T>(fetched: { items: T[]; dropped: number }, set: (items: T[]) => void) => {
      if (seq !== this.started[list] || !o.current()) return;
      if (fetched.dropped > 0)
        this.log.warn(
          { upstream: this.upstream, list, dropped: fetched.dropped },
          'upstream list entries dropped (repeated, oversized or beyond the limit)',
        );
      set(fetched.items);
    };
    try {
      if (list === 'resources')
        keep(await fetchResources(client, o.timeout), (items) => (this.resources = items));
      else if (list === 'templates')
        keep(await fetchTemplates(client, o.timeout), (items) => (this.templates = items));
      else keep(await fetchPrompts(client, o.timeout), (items) => (this.prompts = items));
    } catch (err) {
      this.log.warn(
        { upstream: this.upstream, list, err: (err as Error).message },
        'cannot fetch an upstream list; keeping the previous one',
      );
    }
  }
}
