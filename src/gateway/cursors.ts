/**
 * Paging over the merged lists of every upstream. A cursor names the upstream and the offset in
 * its list where the next page starts; it is opaque to clients (base64url JSON) and checked on the
 * way in, since clients may send anything.
 */
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

/** Entries per page of a gateway list response. */
export const PAGE_SIZE = 100;
const MAX_CURSOR_LENGTH = 512;

const CursorSchema = z
  .object({
    s: z.string().min(1).max(128),
    o: z.number().int().min(0).max(1_000_000),
  })
  .strict();

/** Where the next page starts: upstream `s`, offset `o` in that upstream's list. */
export type Cursor = z.infer<typeof CursorSchema>;

/** One upstream's list, in gateway order. */
export interface Source<T> {
  readonly server: string;
  readonly items: readonly T[];
}

export interface Page<T> {
  readonly items: T[];
  readonly nextCursor?: string;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify({ s: c.s, o: c.o }), 'utf8').toString('base64url');
}

function invalidCursor(): McpError {
  return new McpError(ErrorCode.InvalidParams, 'invalid cursor');
}

/** Decodes a client's cursor; throws McpError InvalidParams "invalid cursor" for anything else. */
export function decodeCursor(cursor: string): Cursor {
  // Buffer's base64url decoding skips what it does not understand: check the alphabet first.
  if (cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor))
    throw invalidCursor();
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  const parsed = CursorSchema.safeParse(raw);
  if (!parsed.success) throw invalidCursor();
  return parsed.data;
}

/**
 * One page of the visible entries of `sources`, in order, starting at `cursor`. Offsets count every
 * entry of an upstream's list, visible or not, so what one agent may see does not shift another's
 * pages. The next cursor points at the next visible entry; there is none when nothing is left.
 */
export function pageOf<T>(
  sources: readonly Source<T>[],
  cursor: string | undefined,
  visible: (item: T, server: string) => boolean,
  pageSize = PAGE_SIZE,
  /**
   * At most this many entries are checked for one page: deciding visibility costs, and a long list
   * of hidden entries must not hold the event loop. A page may then be short, with a next cursor.
   */
  maxChecked = pageSize * 10,
): Page<T> {
  let s = 0;
  let o = 0;
  if (cursor !== undefined) {
    const c = decodeCursor(cursor);
    s = sources.findIndex((src) => src.server === c.s);
    if (s === -1) throw invalidCursor();
    // A list that shrank since the cursor was handed out simply continues with the next upstream.
    o = c.o;
  }
  const items: T[] = [];
  let checked = 0;
  for (; s < sources.length; s++, o = 0) {
    const src = sources[s] as Source<T>;
    for (; o < src.items.length; o++) {
      if (checked === maxChecked) return { items, nextCursor: encodeCursor({ s: src.server, o }) };
      checked++;
      const item = src.items[o] as T;
      if (!visible(item, src.server)) continue;
      if (items.length === pageSize)
        return { items, nextCursor: encodeCursor({ s: src.server, o }) };
      items.push(item);
    }
  }
  return { items };
}
