import { SignJWT } from 'jose';
import { newId } from '../crypto/index.js';
import { GatehouseError } from '../errors/index.js';
import { AGENT_TOKEN_TYP, agentClaims, nestAct, type AgentClaims } from './claims.js';
import { SCOPE_PATTERN, scopeWidening } from './scope.js';
import type { IdentityDeps, VerifyResult } from './verify.js';

export type IdentityErrorCode = 'TTL_TOO_LONG' | 'BAD_MINT_REQUEST';

export interface AgentDescriptor {
  readonly name: string;
  readonly version: string;
  /** `sha256:<hex>` build digest, when known. */
  readonly digest?: string;
}

export interface MintRequest {
  readonly agent: AgentDescriptor;
  readonly principal: string;
  readonly ttlMs?: number;
  readonly run?: string;
  readonly scope?: readonly string[];
}

function badRequest(message: string): GatehouseError<IdentityErrorCode> {
  return new GatehouseError<IdentityErrorCode>('BAD_MINT_REQUEST', message);
}

function newInstance(): string {
  return newId('i').slice(2, 18);
}

/** Validates and signs a claim set with the current key. */
async function sign(
  deps: IdentityDeps,
  draft: AgentClaims,
): Promise<{ token: string; claims: AgentClaims }> {
  const parsed = agentClaims.safeParse(draft);
  if (!parsed.success) {
    throw badRequest(
      `cannot issue credential: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  const bad = parsed.data.scope.split(' ').filter((p) => !SCOPE_PATTERN.test(p));
  if (bad.length > 0)
    throw badRequest(
      `scope patterns may hold only letters, digits, "_", "-" and "*": ${bad.join(', ')}`,
    );
  const key = deps.keys.current();
  const token = await new SignJWT(parsed.data)
    .setProtectedHeader({ alg: key.alg, typ: AGENT_TOKEN_TYP, kid: key.kid })
    .sign(key.privateKey);
  return { token, claims: parsed.data };
}

/**
 * Mints a short-lived root agent credential (an orchestrator, depth 0).
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
  const clientId = `spiffe://${deps.settings.trustDomain}/agent/${req.agent.name}/${newInstance()}`;
  return sign(deps, {
    iss: deps.settings.issuer,
    aud: deps.settings.audience,
    sub: req.principal,
    sub_profile: 'user',
    client_id: clientId,
    client_profile: 'ai_agent',
    act: { sub: clientId },
    agent: { ...req.agent },
    run: req.run ?? newId('run'),
    scope: (req.scope ?? ['*']).join(' '),
    depth: 0,
    ancestor_jtis: [],
    jti: newId('cred'),
    iat: nowS,
    nbf: nowS,
    exp: nowS + Math.floor(ttl / 1000),
  });
}

/** RFC 8693 token exchange: a credential holder asks for a narrower credential for a subagent. */
export interface ExchangeRequest {
  /** Attacker-controlled: the parent's credential. */
  readonly subjectToken: string;
  readonly agent: AgentDescriptor;
  /** Requested scope; omitted means the parent's scope. */
  readonly scope?: readonly string[];
  /** Requested lifetime; omitted means the default, cut to the parent's expiry. */
  readonly ttlMs?: number;
}

/** OAuth error codes (RFC 6749 §5.2, RFC 8693 §2.2.2). */
export type ExchangeError =
  'invalid_request' | 'invalid_grant' | 'invalid_scope' | 'invalid_target';

export type ExchangeResult =
  | { readonly ok: true; readonly token: string; readonly claims: AgentClaims }
  | { readonly ok: false; readonly error: ExchangeError; readonly message: string };

/**
 * Issues a subagent credential: scope ⊆ parent's, expiry ≤ parent's, depth + 1 ≤ max, same run and
 * human, `act` chain extended. Any widening is refused, never silently narrowed.
 * @example const r = await exchangeToken(deps, verify, { subjectToken, agent: { name: 'researcher', version: '1.0.0' } });
 */
export async function exchangeToken(
  deps: IdentityDeps,
  verify: (token: string) => Promise<VerifyResult>,
  req: ExchangeRequest,
): Promise<ExchangeResult> {
  const fail = (error: ExchangeError, message: string): ExchangeResult => ({
    ok: false,
    error,
    message,
  });
  const parentResult = await verify(req.subjectToken);
  if (!parentResult.ok)
    return fail('invalid_grant', `subject_token was refused: ${parentResult.message}`);
  const parent = parentResult.identity;
  const depth = parent.depth + 1;
  if (depth > deps.settings.maxDepth) {
    return fail(
      'invalid_request',
      `delegation depth ${depth} would exceed the maximum of ${deps.settings.maxDepth}`,
    );
  }
  const scope = req.scope ?? parent.scope;
  const widening = scopeWidening(parent.scope, scope);
  if (widening.length > 0) {
    return fail(
      'invalid_scope',
      `requested scope is wider than the parent's: ${widening.join(', ')} not within "${parent.scope.join(' ')}"`,
    );
  }
  const now = deps.now();
  const parentExpS = Math.floor(parent.expiresAt / 1000);
  const nowS = Math.floor(now / 1000);
  let expS: number;
  if (req.ttlMs !== undefined) {
    if (req.ttlMs <= 0 || req.ttlMs > deps.settings.maxTtlMs) {
      return fail(
        'invalid_request',
        `a credential may live at most ${Math.floor(deps.settings.maxTtlMs / 1000)} s`,
      );
    }
    expS = nowS + Math.floor(req.ttlMs / 1000);
    if (expS > parentExpS)
      return fail(
        'invalid_request',
        `the requested lifetime would outlive the parent credential (expires in ${parentExpS - nowS} s)`,
      );
  } else {
    expS = Math.min(parentExpS, nowS + Math.floor(deps.settings.defaultTtlMs / 1000));
  }
  if (expS <= nowS)
    return fail('invalid_grant', 'the parent credential expires too soon to delegate');
  const clientId = `spiffe://${deps.settings.trustDomain}/agent/${req.agent.name}/${newInstance()}`;
  try {
    const issued = await sign(deps, {
      iss: deps.settings.issuer,
      aud: deps.settings.audience,
      sub: parent.principal,
      sub_profile: 'user',
      client_id: clientId,
      client_profile: 'ai_agent',
      act: nestAct([clientId, parent.id, ...parent.ancestors]),
      agent: { ...req.agent },
      run: parent.run,
      scope: scope.join(' '),
      depth,
      parent_jti: parent.credential,
      ancestor_jtis: [parent.credential, ...parent.ancestorCredentials],
      jti: newId('cred'),
      iat: nowS,
      nbf: nowS,
      exp: expS,
    });
    return { ok: true, ...issued };
  } catch (err) {
    if (err instanceof GatehouseError) return fail('invalid_request', err.message);
    throw err;
  }
}
