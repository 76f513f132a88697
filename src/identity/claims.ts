import { z } from 'zod';

/** `typ` header of Gatehouse agent credentials (RFC 8725 §3.11: explicit typing). */
export const AGENT_TOKEN_TYP = 'gatehouse-agent+jwt';

export const agentName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1-64 letters, digits, ".", "_" or "-"');
export const agentVersion = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9.+_-]{0,63}$/,
    'must be 1-64 letters, digits, ".", "+", "_" or "-"',
  );
export const principalId = z
  .string()
  .regex(/^user:[A-Za-z0-9._@+-]{1,128}$/, 'must look like user:<id>, e.g. user:alice');
export const runId = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be 1-128 characters of [A-Za-z0-9._:-]');

/**
 * Claims of an agent credential, checked after its signature. The layout follows RFC 8693 and
 * RFC 9068 so it can later be swapped for standard tokens: `sub` is the human, `client_id` the agent.
 */
export const agentClaims = z.object({
  iss: z.string(),
  aud: z.union([z.string(), z.array(z.string())]),
  sub: principalId,
  sub_profile: z.literal('user'),
  client_id: z.string().startsWith('spiffe://'),
  client_profile: z.literal('ai_agent'),
  act: z.object({ sub: z.string() }).loose(),
  agent: z.object({ name: agentName, version: agentVersion }),
  run: runId,
  scope: z.string(),
  depth: z.number().int().min(0),
  jti: z.string().min(16),
  iat: z.number().int(),
  nbf: z.number().int(),
  exp: z.number().int(),
});
export type AgentClaims = z.infer<typeof agentClaims>;

/** What the gate knows about a verified caller. */
export interface AgentIdentity {
  /** SPIFFE-style id of this agent instance. */
  readonly id: string;
  readonly name: string;
  readonly version: string;
  /** Human principal, `user:<id>`. */
  readonly principal: string;
  readonly run: string;
  /** Credential id (`jti`). */
  readonly credential: string;
  /** Tool-name patterns this credential may reach (`*` wildcard). */
  readonly scope: readonly string[];
  readonly depth: number;
  /** Expiry, ms since the epoch. */
  readonly expiresAt: number;
}
