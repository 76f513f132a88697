import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { canonicalJson, sha256Hex } from '../crypto/index.js';
import { MAX_TOOL_DEFINITION_BYTES } from '../store/index.js';

/** The fields of a tool that reach an agent's context and that a pin covers. */
const PINNED_FIELDS = [
  'name',
  'title',
  'description',
  'inputSchema',
  'outputSchema',
  'annotations',
] as const;

/** A tool definition reduced to what is pinned, with its hash and canonical text. */
export interface PinnedDefinition {
  /** `sha256:<hex>` of `canonical`. */
  readonly hash: string;
  /** RFC 8785 canonical JSON of the pinned fields. Attacker-controlled text. */
  readonly canonical: string;
  /** Over MAX_TOOL_DEFINITION_BYTES: never stored, never approved. */
  readonly oversize: boolean;
}

/**
 * Pins the definition an upstream presents, under the upstream's ORIGINAL tool name (before the
 * gateway renames it to `<server>__<tool>`): renaming a server must not look like a rug pull, and
 * the hash says what the upstream itself said. Absent fields are left out, not written as null.
 * @example pinnedDefinition({ name: 'refund', inputSchema: { type: 'object' } }).hash // 'sha256:…'
 */
export function pinnedDefinition(tool: Tool): PinnedDefinition {
  const picked: Record<string, unknown> = {};
  for (const field of PINNED_FIELDS) {
    if (tool[field] !== undefined) picked[field] = tool[field];
  }
  const canonical = canonicalJson(picked);
  return {
    hash: `sha256:${sha256Hex(canonical)}`,
    canonical,
    oversize: Buffer.byteLength(canonical) > MAX_TOOL_DEFINITION_BYTES,
  };
}
