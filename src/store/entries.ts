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
 * An entry serialised except for its place. Canonical JSON sorts keys, so `index` and `prev` fall
 * between fixed groups of members: `parts` are the canonical members (without braces) whose keys
 * sort before `index`, between `index` and `prev`, and after `prev`. Preparing is the costly part
 * (RFC 8785 over nested values) and is done by the caller; the log writer only joins and hashes.
 */
export interface PreparedEntry {
  readonly type: EntryBody['type'];
  readonly time: number;
  readonly parts: readonly [string, string, string];
}

const RESERVED = new Set<string>(['index', 'prev', 'v', 'time', 'type']);

/** The inner text of a canonical object: its members without the braces. */
const members = (o: Record<string, unknown>) => canonicalJson(o).slice(1, -1);

/** @example placeEntry(prepareEntry(eventEntry(e)), 0, GENESIS_PREV) */
export function prepareEntry(body: EntryBody): PreparedEntry {
  const groups: [Record<string, unknown>, Record<string, unknown>, Record<string, unknown>] = [
    {},
    {},
    {},
  ];
  const put = (k: string, value: unknown) => {
    // Plain assignment would turn a `__proto__` key into a prototype; entry fields never use it.
    if (k === '__proto__') throw new TypeError('an entry field may not be named __proto__');
    groups[k < 'index' ? 0 : k < 'prev' ? 1 : 2][k] = value;
  };
  put('v', ENTRY_VERSION);
  put('time', new Date(body.time).toISOString());
  put('type', body.type);
  for (const [k, value] of Object.entries(body.fields)) {
    if (RESERVED.has(k)) throw new TypeError(`an entry field may not be named ${k}`);
    put(k, value);
  }
  return {
    type: body.type,
    time: body.time,
    parts: [members(groups[0]), members(groups[1]), members(groups[2])],
  };
}

/**
 * The leaf bytes and RFC 6962 leaf hash of an entry placed at `index` after a leaf hashed `prev`:
 * exactly RFC 8785 of the whole entry, `index` and `prev` joined in at their sorted places.
 */
export function placeEntry(entry: PreparedEntry, index: number, prev: string): PlacedEntry {
  const [before, between, after] = entry.parts;
  const pieces = [before, `"index":${index}`, between, `"prev":${JSON.stringify(prev)}`, after];
  const text = `{${pieces.filter((p) => p !== '').join(',')}}`;
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
      run: {
        lowest_trust: d.run.lowestTrust,
        sources: d.run.sources,
        ...(d.run.args ? { args_provenance: d.run.args } : {}),
      },
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
    run: {
      lowestTrust: e.run.lowest_trust,
      sources: e.run.sources,
      ...(e.run.args_provenance ? { args: e.run.args_provenance } : {}),
    },
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
  readonly run: {
    lowest_trust: DecisionRecord['run']['lowestTrust'];
    sources: string[];
    args_provenance?: DecisionRecord['run']['args'];
  };
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
      ...(r.source ? { source: r.source } : {}),
      ...(r.origin ? { origin: r.origin } : {}),
      ...(r.approvedInRuntime ? { approved_in_runtime: true } : {}),
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
