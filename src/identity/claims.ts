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

export const buildDigest = z
  .string()
  .regex(/^sha256:[0-9a-f]{64}$/, 'must be sha256:<64 hex digits>');

/** `spiffe://<trust-domain>/agent/<name>/<instance>` */
export const agentId = z
  .string()
  .regex(
    /^spiffe:\/\/[a-z0-9.-]{1,253}\/agent\/[A-Za-z0-9][A-Za-z0-9._-]{0,63}\/[A-Za-z0-9_-]{1,64}$/,
    'must be spiffe://<trust-domain>/agent/<name>/<instance>',
  );

/** RFC 8693 actor chain: the current agent, whose `act` is its parent, up to the root orchestrator. */
export interface ActClaim {
  readonly sub: string;
  readonly act?: ActClaim;
}
const actClaim: z.ZodType<ActClaim> = z.lazy(() =>
  z.object({ sub: agentId, act: actClaim.optional() }).loose(),
);

/** Upper bound on any delegation chain, whatever the configured maximum. */
export const DEPTH_HARD_LIMIT = 16;

/**
 * Claims of an agent credential, checked after its signature. The layout follows RFC 8693 and
 * RFC 9068 so it can later be swapped for standard tokens: `sub` is the human, `client_id` the agent.
 */
export const agentClaims = z.object({
  iss: z.string(),
  aud: z.union([z.string(), z.array(z.string())]),
  sub: principalId,
  sub_profile: z.literal('user'),
  client_id: agentId,
  client_profile: z.literal('ai_agent'),
  act: actClaim,
  agent: z.object({ name: agentName, version: agentVersion, digest: buildDigest.optional() }),
  run: runId,
  scope: z.string().max(4096),
  depth: z.number().int().min(0).max(DEPTH_HARD_LIMIT),
  /** The credential this one was exchanged from (absent for a root credential). */
  parent_jti: z.string().min(16).optional(),
  /** Credential ids of every ancestor, parent first; revoking any of them revokes this one. */
  ancestor_jtis: z.array(z.string().min(16)).max(DEPTH_HARD_LIMIT),
  jti: z.string().min(16),
  iat: z.number().int(),
  nbf: z.number().int(),
  exp: z.number().int(),
});
export type AgentClaims = z.infer<typeof agentClaims>;

/** What the gate knows about a verified caller. */
export interface AgentIdentity {
  /** SPIFFE-style id of this agent instance (`client_id`). */
  readonly id: string;
  readonly name: string;
  readonly version: string;
  /** Build digest of the agent, when its launcher gave one. */
  readonly digest?: string;
  /** Human principal, `user:<id>`. */
  readonly principal: string;
  readonly run: string;
  /** Credential id (`jti`). */
  readonly credential: string;
  /** Tool-name patterns this credential may reach (`*` wildcard). */
  readonly scope: readonly string[];
  /** 0 for a root orchestrator, parent's depth + 1 for a subagent. */
  readonly depth: number;
  /** Agent ids of the ancestors, parent first, root orchestrator last. */
  readonly ancestors: readonly string[];
  /** Credential ids of the ancestors, parent first. */
  readonly ancestorCredentials: readonly string[];
  /** Expiry, ms since the epoch. */
  readonly expiresAt: number;
}

/** The root orchestrator of an identity's tree (itself when it is the root). */
export function rootOf(identity: AgentIdentity): string {
  return identity.ancestors.at(-1) ?? identity.id;
}

/** Flattens an `act` chain to agent ids, current agent first. */
export function actChain(act: ActClaim): string[] {
  const out: string[] = [];
  for (let a: ActClaim | undefined = act; a && out.length <= DEPTH_HARD_LIMIT; a = a.act)
    out.push(a.sub);
  return out;
}

/** Builds the nested `act` claim from agent ids, current agent first. */
export function nestAct(ids: readonly string[]): ActClaim {
  const [first, ...rest] = ids;
  if (first === undefined) throw new TypeError('an act chain needs at least one agent');
  return rest.length === 0 ? { sub: first } : { sub: first, act: nestAct(rest) };
}
