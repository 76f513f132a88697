/** Helpers for the resource and prompt pass-through tests: fixture upstreams and paging. */
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { REPO_ROOT } from './gatehouse.js';

export const EVERYTHING = join(REPO_ROOT, 'node_modules/.bin/mcp-server-everything');
export const CONTENT_SERVER = join(REPO_ROOT, 'dist/test/fixtures/content-server.js');
export const ALLOW_ALL = { 'all.cedar': '@id("all") permit (principal, action, resource);' };

/**
 * Every call allowed, and servers may ask back (sampling and elicitation): a permit for
 * "everything" does not grant those, a permit must name the actions.
 */
export const ALLOW_ALL_AND_ASKING = {
  ...ALLOW_ALL,
  'ask.cedar':
    '@id("servers-ask") permit (principal, action in [Action::"create_message", Action::"elicit"], resource);',
};

/** YAML lines declaring the content fixture as upstream `name` with `key=value` options. */
export function contentUpstream(name: string, options: string[], more: string[] = []): string[] {
  const args = [CONTENT_SERVER, `name=${name}`, ...options].map((a) => JSON.stringify(a));
  return [`  ${name}:`, '    command: node', `    args: [${args.join(', ')}]`, ...more];
}

/** YAML lines declaring server-everything (stdio) as upstream `everything`. */
export const EVERYTHING_UPSTREAM = [
  '  everything:',
  `    command: ${EVERYTHING}`,
  '    args: [stdio]',
];

/** A client straight to an upstream, to compare with what Gatehouse answers. */
export async function directClient(command: string, args: string[]): Promise<Client> {
  const c = new Client({ name: 'direct', version: '1' });
  await c.connect(new StdioClientTransport({ command, args, stderr: 'ignore' }));
  return c;
}

/** The content fixture, started directly with the same options as its upstream entry. */
export function directContent(name: string, options: string[]): Promise<Client> {
  return directClient('node', [CONTENT_SERVER, `name=${name}`, ...options]);
}

/** Every page of a list, with the cursors between them. */
export async function collect<T>(
  list: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor?: string | undefined }>,
): Promise<{ items: T[]; pages: number[]; cursors: string[] }> {
  const items: T[] = [];
  const pages: number[] = [];
  const cursors: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await list(cursor);
    items.push(...page.items);
    pages.push(page.items.length);
    cursor = page.nextCursor;
    if (cursor) cursors.push(cursor);
  } while (cursor && pages.length < 1000);
  return { items, pages, cursors };
}

/** A Gatehouse cursor's content (it is base64url JSON; clients treat it as opaque). */
export function decoded(cursor: string): unknown {
  return JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
}
