import { decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose';
import { sha256Hex, type KeyStore } from '../crypto/index.js';
import {
  actChain,
  AGENT_TOKEN_TYP,
  agentClaims,
  type AgentClaims,
  type AgentIdentity,
} from './claims.js';
import type { Revocation } from './revocation.js';

/** Why a credential was refused. Returned, not thrown: a bad token is an expected outcome. */
export type TokenRejection =
  | 'TOKEN_MISSING'
  | 'TOKEN_MALFORMED'
  | 'TOKEN_BAD_TYPE'
  | 'TOKEN_BAD_ALG'
  | 'TOKEN_UNKNOWN_KEY'
  | 'TOKEN_BAD_SIGNATURE'
  | 'TOKEN_EXPIRED'
  | 'TOKEN_NOT_YET_VALID'
  | 'TOKEN_WRONG_ISSUER'
  | 'TOKEN_WRONG_AUDIENCE'
  | 'TOKEN_LIFETIME_TOO_LONG'
  | 'TOKEN_BAD_CLAIMS'
  | 'TOKEN_BAD_LINEAGE'
  | 'TOKEN_REVOKED';

export type VerifyResult =
  | { readonly ok: true; readonly identity: AgentIdentity }
  | { readonly ok: false; readonly code: TokenRejection; readonly message: string };

export interface IdentitySettings {
  readonly issuer: string;
  readonly audience: string;
  readonly trustDomain: string;
  readonly defaultTtlMs: number;
  readonly maxTtlMs: number;
  /** Deepest delegation allowed (a root orchestrator is depth 0). */
  readonly maxDepth: number;
}

export interface IdentityDeps {
  readonly keys: KeyStore;
  readonly settings: IdentitySettings;
  /** Injected clock, ms since the epoch. */
  readonly now: () => number;
}

/** At most this much clock difference between issuer and verifier is tolerated. */
export const CLOCK_SKEW_S = 60;

function reject(code: TokenRejection, message: string): VerifyResult {
  return { ok: false, code, message };
}

/** Lineage claims must agree with each other; a mismatch means the token was not made by exchange. */
function lineageProblem(c: AgentClaims, maxDepth: number): string | undefined {
  const chain = actChain(c.act);
  if (chain[0] !== c.client_id) return 'act.sub is not the client_id';
  if (chain.length !== c.depth + 1) return 'the act chain does not match the depth';
  if (c.ancestor_jtis.length !== c.depth) return 'ancestor_jtis does not match the depth';
  if (c.parent_jti !== c.ancestor_jtis[0]) return 'parent_jti is not the first ancestor';
  if (c.depth > maxDepth) return `delegation depth ${c.depth} exceeds the maximum of ${maxDepth}`;
  return undefined;
}

function toIdentity(c: AgentClaims): AgentIdentity {
  return {
    id: c.client_id,
    name: c.agent.name,
    version: c.agent.version,
    ...(c.agent.digest ? { digest: c.agent.digest } : {}),
    principal: c.sub,
    run: c.run,
    credential: c.jti,
    scope: c.scope.split(' ').filter(Boolean),
    depth: c.depth,
    ancestors: actChain(c.act).slice(1),
    ancestorCredentials: c.ancestor_jtis,
    expiresAt: c.exp * 1000,
  };
}

/**
 * Verifies an agent credential: signature first (key by `kid`, algorithm pinned to that key,
 * key material in headers ignored), then type, issuer, audience, time, claim shape and lineage.
 * Revocation is not checked here; `createVerifier` adds it.
 */
export async function verifyAgentToken(deps: IdentityDeps, token: string): Promise<VerifyResult> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    return reject('TOKEN_MALFORMED', 'the credential is not a well-formed JWT');
  }
  if (typeof header.kid !== 'string')
    return reject('TOKEN_UNKNOWN_KEY', 'the credential names no signing key');
  const key = deps.keys.get(header.kid);
  if (!key)
    return reject('TOKEN_UNKNOWN_KEY', 'the credential was signed by an unknown or retired key');
  if (header.alg !== key.alg) {
    return reject('TOKEN_BAD_ALG', `the credential's algorithm is not the one pinned for its key`);
  }
  let payload: unknown;
  try {
    const res = await jwtVerify(token, key.publicKey, {
      algorithms: [key.alg],
      typ: AGENT_TOKEN_TYP,
      issuer: deps.settings.issuer,
      audience: deps.settings.audience,
      clockTolerance: CLOCK_SKEW_S,
      currentDate: new Date(deps.now()),
      requiredClaims: ['iat', 'nbf', 'exp', 'jti', 'sub'],
    });
    payload = res.payload;
  } catch (err) {
    return mapJoseError(err);
  }
  const parsed = agentClaims.safeParse(payload);
  if (!parsed.success)
    return reject('TOKEN_BAD_CLAIMS', 'the credential lacks required agent claims');
  const c = parsed.data;
  // Lifetime is bounded here too, so a key that leaks cannot mint long-lived credentials unnoticed.
  if (c.exp - c.iat > Math.ceil(deps.settings.maxTtlMs / 1000)) {
    return reject(
      'TOKEN_LIFETIME_TOO_LONG',
      'the credential lives longer than identity.max_ttl allows',
    );
  }
  const lineage = lineageProblem(c, deps.settings.maxDepth);
  if (lineage)
    return reject('TOKEN_BAD_LINEAGE', `the credential's lineage is inconsistent: ${lineage}`);
  return { ok: true, identity: toIdentity(c) };
}

function mapJoseError(err: unknown): VerifyResult {
  if (err instanceof joseErrors.JWTExpired)
    return reject('TOKEN_EXPIRED', 'the credential has expired');
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf' || err.claim === 'iat')
      return reject('TOKEN_NOT_YET_VALID', 'the credential is not valid yet');
    if (err.claim === 'iss')
      return reject('TOKEN_WRONG_ISSUER', 'the credential was issued by another issuer');
    if (err.claim === 'aud')
      return reject('TOKEN_WRONG_AUDIENCE', 'the credential is meant for another audience');
    if (err.claim === 'typ')
      return reject('TOKEN_BAD_TYPE', 'the credential is not a Gatehouse agent credential');
    return reject('TOKEN_BAD_CLAIMS', 'the credential lacks required claims');
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) {
    return reject('TOKEN_BAD_SIGNATURE', 'the credential signature does not verify');
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed)
    return reject('TOKEN_BAD_ALG', 'the credential algorithm is not allowed');
  return reject('TOKEN_MALFORMED', 'the credential is not a valid JWT');
}

/** Looks up whether an identity is revoked; consulted on every verification, cached or not. */
export type RevocationCheck = (
  identity: AgentIdentity,
) => Revocation | undefined | Promise<Revocation | undefined>;

/**
 * A verifier with a bounded cache of verified credentials keyed by the token's SHA-256, valid until
 * each token expires. Revocation is checked on every call, so it takes effect even for cached tokens.
 * @example const verify = createVerifier(deps, (id) => revocations.match(id));
 */
export function createVerifier(
  deps: IdentityDeps,
  revoked: RevocationCheck = () => undefined,
  maxEntries = 10_000,
): (token: string) => Promise<VerifyResult> {
  // Entries remember their key, so retiring a key also stops its cached credentials.
  const cache = new Map<string, { identity: AgentIdentity; kid: string }>();
  const checkRevoked = async (identity: AgentIdentity): Promise<VerifyResult> => {
    const r = await revoked(identity);
    if (r)
      return reject(
        'TOKEN_REVOKED',
        `the credential was revoked (${r.kind} ${r.value}: ${r.reason})`,
      );
    return { ok: true, identity };
  };
  return async (token) => {
    const h = sha256Hex(token);
    const hit = cache.get(h);
    if (hit) {
      const fresh = deps.now() < hit.identity.expiresAt + CLOCK_SKEW_S * 1000;
      if (fresh && deps.keys.get(hit.kid)) return checkRevoked(hit.identity);
      cache.delete(h);
    }
    const res = await verifyAgentToken(deps, token);
    if (!res.ok) return res;
    if (cache.size >= maxEntries) {
      const oldest = cache.keys().next();
      if (!oldest.done) cache.delete(oldest.value);
    }
    cache.set(h, { identity: res.identity, kid: kidOf(token) ?? '' });
    return checkRevoked(res.identity);
  };
}

function kidOf(token: string): string | undefined {
  try {
    const kid = decodeProtectedHeader(token).kid;
    return typeof kid === 'string' ? kid : undefined;
  } catch {
    return undefined;
  }
}
