/**
 * The audit log's entry format, shared by every store backend. Each record the store keeps becomes
 * one entry: an object serialised as RFC 8785 canonical JSON whose exact bytes are an RFC 6962 leaf.
 * Entries are also hash-chained (`prev` = the previous leaf hash) so an offline verifier can name
 * the first entry that was edited, dropped or moved, not only the checkpoint that no longer matches.
 */
import { canonicalJson, sha256Bytes } from '../crypto/index.js';
import type { AdminEvent, DecisionRecord, ResultRecord } from './types.js';

export const ENTRY_VERSION = 1;
/** `prev` of entry 0. */
export const GENESIS_PREV = '0'.repeat(64);
/** RFC 6962 leaf hash prefix. */
const LEAF_PREFIX = 0x00;

/** An entry before the log places it (no `index`, `prev` or `v` yet). */
export interface EntryBody {
  readonly type: 'decision' | 'result' | 'event';
  /** ms since the epoch; written as RFC 3339 UTC. */
  readonly time: number;
  readonly fields: Readonly<Record<string, unknown>>;
}

/** Where an entry landed: its index and RFC 6962 leaf hash (hex). Enough to fetch a proof later. */
export interface AuditReceipt {
  readonly index: number;
  readonly leafHash: string;
}

/** A placed entry: its leaf bytes and leaf hash. */
export interface PlacedEntry {
  readonly index: number;
  readonly leaf: Uint8Array;
  readonly hash: Uint8Array;
}

/**
 * An entry serialised except for its place: its top-level members as canonical `"key":value` text,
 * sorted by key. Preparing is the costly part (RFC 8785 over nested values); it is done by the
 * caller, so the log writer only splices in `index` and `prev` and hashes.
 */
export interface PreparedEntry {
  readonly type: EntryBody['type'];
  readonly time: number;
  readonly members: readonly string[];
  /** The keys of `members`, in the same (sorted) order. */
  readonly keys: readonly string[];
}

const PLACE_KEYS = ['index', 'prev'] as const;
const RESERVED = new Set<string>([...PLACE_KEYS, 'v', 'time', 'type']);

/** @example placeEntry(prepareEntry(eventEntry(e)), 0, GENESIS_PREV) */
export function prepareEntry(body: EntryBody): PreparedEntry {
  const all: Record<string, unknown> = {
    v: ENTRY_VERSION,
    time: new Date(body.time).toISOString(),
    type: body.type,
  };
  for (const [k, value] of Object.entries(body.fields)) {
    if (RESERVED.has(k)) throw new TypeError(`an entry field may not be named ${k}`);
    if (value !== undefined) all[k] = value;
  }
  // Default sort compares UTF-16 code units: the order RFC 8785 prescribes.
  const keys = Object.keys(all).sort();
  const members = keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(all[k])}`);
  return { type: body.type, time: body.time, members, keys };
}

/**
 * The leaf bytes and RFC 6962 leaf hash of an entry placed at `index` after a leaf hashed `prev`:
 * exactly RFC 8785 of the whole entry, `index` and `prev` merged in at their sorted places.
 */
export function placeEntry(entry: PreparedEntry, index: number, prev: string): PlacedEntry {
  const place = [`"index":${index}`, `"prev":${JSON.stringify(prev)}`];
  let text = '{';
  let next = 0;
  entry.keys.forEach((key, i) => {
    while (next < PLACE_KEYS.length && (PLACE_KEYS[next] as string) < key) {
      text += `${text.length > 1 ? ',' : ''}${place[next] as string}`;
      next += 1;
    }
    text += `${text.length > 1 ? ',' : ''}${entry.members[i] as string}`;
  });
  for (; next < PLACE_KEYS.length; next += 1) {
    text += `${text.length > 1 ? ',' : ''}${place[next] as string}`;
  }
  text += '}';
  // One buffer holds 0x00 || leaf, so the leaf hash is one call over it (this is the hot path).
  const prefixed = Buffer.allocUnsafe(Buffer.byteLength(text) + 1);
  prefixed[0] = LEAF_PREFIX;
  prefixed.write(text, 1, 'utf8');
  const leaf = new Uint8Array(prefixed.buffer, prefixed.byteOffset + 1, prefixed.length - 1);
  return { index, leaf, hash: sha256Bytes(prefixed) };
}

export function decisionEntry(d: DecisionRecord): EntryBody {
  return {
    type: 'decision',
    time: d.time,
    fields: {
      id: d.id,
      agent: d.agent,
      action: d.action,
      tool: { name: d.tool, server: d.server, labels: d.labels },
      args_digest: d.argsDigest,
      ...(d.args !== undefined ? { args: d.args } : {}),
      ...(d.argsRedacted?.length ? { args_redacted: d.argsRedacted } : {}),
      run: { lowest_trust: d.run.lowestTrust, sources: d.run.sources },
      outcome: d.outcome,
      policies: d.policies,
      reason: d.reason,
      policy_set_hash: d.policySetHash,
      ...(d.shadow ? { shadow: d.shadow } : {}),
    },
  };
}

/** The decision record a decision entry holds (the inverse of `decisionEntry`). */
export function decisionFromEntry(e: DecisionEntryJson): DecisionRecord {
  return {
    id: e.id,
    time: Date.parse(e.time),
    agent: e.agent,
    action: e.action,
    tool: e.tool.name,
    server: e.tool.server,
    labels: e.tool.labels,
    argsDigest: e.args_digest,
    ...(e.args !== undefined ? { args: e.args } : {}),
    ...(e.args_redacted ? { argsRedacted: e.args_redacted } : {}),
    run: { lowestTrust: e.run.lowest_trust, sources: e.run.sources },
    outcome: e.outcome,
    policies: e.policies,
    reason: e.reason,
    policySetHash: e.policy_set_hash,
    ...(e.shadow ? { shadow: e.shadow } : {}),
  };
}

/** A decision entry as parsed back from its leaf (written by this code, so trusted in shape). */
export interface DecisionEntryJson {
  readonly id: string;
  readonly time: string;
  readonly agent: DecisionRecord['agent'];
  readonly action: string;
  readonly tool: { name: string; server: string; labels: Record<string, string> };
  readonly args_digest: string;
  readonly args?: unknown;
  readonly args_redacted?: string[];
  readonly run: { lowest_trust: DecisionRecord['run']['lowestTrust']; sources: string[] };
  readonly outcome: DecisionRecord['outcome'];
  readonly policies: string[];
  readonly reason: string;
  readonly policy_set_hash: string;
  readonly shadow?: DecisionRecord['shadow'];
}

export function resultEntry(r: ResultRecord): EntryBody {
  return {
    type: 'result',
    time: r.time,
    fields: {
      decision: r.decisionId,
      agent: { id: r.agent.id, run: r.agent.run },
      tool: { name: r.tool, server: r.server },
      status: r.status,
      ...(r.resultDigest ? { result_digest: r.resultDigest } : {}),
      ...(r.detail ? { detail: r.detail } : {}),
      trust: r.trust,
    },
  };
}

export function eventEntry(e: AdminEvent): EntryBody {
  return {
    type: 'event',
    time: e.time,
    fields: { kind: e.kind, actor: e.actor, detail: e.detail },
  };
}
