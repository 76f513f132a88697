/** Identity of the agent behind a recorded decision, copied from its verified credential. */
export interface AgentRef {
  /** SPIFFE-style agent id (`client_id`). */
  readonly id: string;
  readonly name: string;
  readonly version: string;
  /** The human principal, e.g. `user:alice`. */
  readonly principal: string;
  readonly run: string;
  /** Credential id (`jti`). */
  readonly credential: string;
}

export type Outcome = 'allow' | 'deny';

/** One decision of the gate, as stored. */
export interface DecisionRecord {
  readonly id: string;
  /** Milliseconds since the epoch. */
  readonly time: number;
  readonly agent: AgentRef;
  readonly action: string;
  /** Exposed tool name, `<server>__<tool>`. */
  readonly tool: string;
  readonly server: string;
  /** `sha256:<hex>` of the RFC 8785 canonical arguments. */
  readonly argsDigest: string;
  readonly outcome: Outcome;
  /** Stable ids of the deciding policies. */
  readonly policies: readonly string[];
  readonly reason: string;
  readonly policySetHash: string;
}

export interface DecisionQuery {
  /** At most this many, newest first. */
  readonly limit: number;
  readonly tool?: string;
  readonly agentName?: string;
}

/**
 * Storage behind the gate. Every operation is async so that a networked database (PostgreSQL)
 * can implement the same interface; callers make no assumption about SQLite.
 */
export interface Store {
  appendDecision(record: DecisionRecord): Promise<void>;
  listDecisions(query: DecisionQuery): Promise<DecisionRecord[]>;
  getDecision(id: string): Promise<DecisionRecord | undefined>;
  close(): Promise<void>;
}
