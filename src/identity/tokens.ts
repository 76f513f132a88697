import { decodeProtectedHeader, errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { newId, sha256Hex, type KeyStore } from '../crypto/index.js';
import { GatehouseError } from '../errors/index.js';
import { AGENT_TOKEN_TYP, agentClaims, type AgentClaims, type AgentIdentity } from './claims.js';

export type IdentityErrorCode = 'TTL_TOO_LONG' | 'BAD_MINT_REQUEST';

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
  | 'TOKEN_BAD_CLAIMS';

export type VerifyResult =
  | { readonly ok: true; readonly identity: AgentIdentity }
  | { readonly ok: false; readonly code: TokenRejection; readonly message: string };

export interface IdentitySettings {
  readonly issuer: string;
  readonly audience: string;
  readonly trustDomain: string;
  readonly defaultTtlMs: number;
  readonly maxTtlMs: number;
}

export interface IdentityDeps {
  readonly keys: KeyStore;
  readonly settings: IdentitySettings;
  /** Injected clock, ms since the epoch. */
  readonly now: () => number;
}

export interface MintRequest {
  readonly agent: { readonly name: string; readonly version: string };
  readonly principal: string;
  readonly ttlMs?: number;
  readonly run?: string;
  readonly scope?: readonly string[];
}

/** At most this much clock difference between issuer and verifier is tolerated. */
export const CLOCK_SKEW_S = 60;

/**
 * Mints a short-lived root agent credential.
 * @example const { token } = await mintAgentToken(deps, { agent: { name: 'support-bot', version: '1.4.0' }, principal: 'user:alice' });
 */
export async function mintAgentToken(
  deps: IdentityDeps,
  req: MintRequest,
): Promise<{ token: string; claims: AgentClaims }> {
  const ttl = req.ttlMs ?? deps.settings.defaultTtlMs;
  if (ttl <= 0 || ttl > deps.settings.maxTtlMs) {
    throw new GatehouseError<IdentityErrorCode>(
      'TTL_TOO_LONG',
      `a credential may live at most ${Math.floor(deps.settings.maxTtlMs / 1000)} s (identity.max_ttl)`,
    );
  }
  const nowS = Math.floor(deps.now() / 1000);
  const instance = newId('i').slice(2, 18);
  const clientId = `spiffe://${deps.settings.trustDomain}/agent/${req.agent.name}/${instance}`;
  const draft = {
    iss: deps.settings.issuer,
    aud: deps.settings.audience,
    sub: req.principal,
    sub_profile: 'user' as const,
    client_id: clientId,
    client_profile: 'ai_agent' as const,
    act: { sub: clientId },
    agent: { name: req.agent.name, version: req.agent.version },
    run: req.run ?? newId('run'),
    scope: (req.scope ?? ['*']).join(' '),
    depth: 0,
    jti: newId('cred'),
    iat: nowS,
    nbf: nowS,
    exp: nowS + Math.floor(ttl / 1000),
  };
  const parsed = agentClaims.safeParse(draft);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new GatehouseError<IdentityErrorCode>(
      'BAD_MINT_REQUEST',
      `cannot mint credential: ${fields}`,
    );
  }
  const key = deps.keys.current();
  const token = await new SignJWT(parsed.data)
    .setProtectedHeader({ alg: key.alg, typ: AGENT_TOKEN_TYP, kid: key.kid })
    .sign(key.privateKey);
  return { token, claims: parsed.data };
}

function reject(code: TokenRejection, message: string): VerifyResult {
  return { ok: false, code, message };
}

/**
 * Verifies an agent credential: signature first (key by `kid`, algorithm pinned to that key,
 * key material in headers ignored), then type, issuer, audience, time and claim shape.
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
  if (!key) return reject('TOKEN_UNKNOWN_KEY', 'the credential was signed by an unknown key');
  if (header.alg !== key.alg)
    return reject('TOKEN_BAD_ALG', `the credential's algorithm is not the one pinned for its key`);
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
  return {
    ok: true,
    identity: {
      id: c.client_id,
      name: c.agent.name,
      version: c.agent.version,
      principal: c.sub,
      run: c.run,
      credential: c.jti,
      scope: c.scope.split(' ').filter(Boolean),
      depth: c.depth,
      expiresAt: c.exp * 1000,
    },
  };
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

/** A bounded cache of verified credentials keyed by the token's hash, valid until each token expires. */
export function cachedVerifier(
  deps: IdentityDeps,
  maxEntries = 10_000,
): (token: string) => Promise<VerifyResult> {
  const cache = new Map<string, AgentIdentity>();
  return async (token) => {
    const h = sha256Hex(token);
    const hit = cache.get(h);
    if (hit) {
      if (deps.now() < hit.expiresAt + CLOCK_SKEW_S * 1000) return { ok: true, identity: hit };
      cache.delete(h);
    }
    const res = await verifyAgentToken(deps, token);
    if (res.ok) {
      if (cache.size >= maxEntries) {
        const oldest = cache.keys().next();
        if (!oldest.done) cache.delete(oldest.value);
      }
      cache.set(h, res.identity);
    }
    return res;
  };
}
