/**
 * Pinned tool definitions ("rug pull" protection), as stored. A definition is what an upstream
 * presents for one tool (name, title, description, schemas, annotations): attacker-controlled text
 * that reaches the agent's context, so it is pinned by hash and a change waits for a person.
 */

/** Definitions larger than this (as canonical JSON) are never stored and never approved. */
export const MAX_TOOL_DEFINITION_BYTES = 64 * 1024;

/**
 * `approved`: the presented definition is the approved one. `changed`: the upstream now presents
 * another definition, held until a person approves it. `new_pending`: a tool first seen under
 * `tools.new: approve`, held until a person approves it.
 */
export type PinState = 'approved' | 'changed' | 'new_pending';

export interface ToolPinRecord {
  /** Exposed tool id, `<server>__<tool>`. */
  readonly tool: string;
  readonly server: string;
  /** The upstream's own tool name. */
  readonly name: string;
  readonly state: PinState;
  /** `sha256:<hex>` of the approved definition; absent while a new tool waits. */
  readonly approvedHash?: string;
  /** The approved definition as canonical JSON text. */
  readonly approvedDefinition?: string;
  /** The definition presented but not approved (`changed`, `new_pending`). */
  readonly pendingHash?: string;
  readonly pendingDefinition?: string;
  readonly firstSeen: number;
  readonly updated: number;
  /** Who approved the approved definition: a person's key name, `local`, or `gatehouse` (automatic). */
  readonly approvedBy?: string;
  readonly approvedAt?: number;
}

/** One tool definition as an upstream presented it. */
export interface ToolObservation {
  readonly tool: string;
  readonly server: string;
  readonly name: string;
  /** `sha256:<hex>` of `definition`. */
  readonly hash: string;
  /** Canonical JSON text, at most MAX_TOOL_DEFINITION_BYTES. Attacker-controlled. */
  readonly definition: string;
}

export interface ObserveOptions {
  /** `allow`: a tool seen for the first time is pinned and usable; `approve`: it waits. */
  readonly newTools: 'allow' | 'approve';
  readonly time: number;
}

export interface ApproveToolRequest {
  /** Who approves (recorded). */
  readonly by: string;
  readonly time: number;
  /** Approve only if the presented definition still has this hash (what the person reviewed). */
  readonly hash?: string;
}

export type ApproveToolResult =
  | { readonly ok: true; readonly pin: ToolPinRecord }
  | {
      readonly ok: false;
      readonly code: 'not_found' | 'nothing_pending' | 'hash_mismatch';
      readonly pin?: ToolPinRecord;
    };
