import type { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import { isGatehouseError } from '../errors/index.js';
import {
  agentName,
  agentVersion,
  buildDigest,
  principalId,
  runId,
  SCOPE_PATTERN,
} from '../identity/index.js';
import { parseBody, person } from './auth.js';
import { apiError, json } from './responses.js';
import type { Runtime } from './runtime.js';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const CONTROL_BODY_LIMIT = 64 * 1024;

const scopeString = z
  .string()
  .max(4096)
  .refine(
    (s) => s.split(' ').every((p) => SCOPE_PATTERN.test(p)),
    'must be space-separated tool-name patterns',
  );

/** RFC 8693 request, plus the child agent's name and version. Every field is attacker-controlled. */
const exchangeBody = z.object({
  grant_type: z.literal(TOKEN_EXCHANGE_GRANT, { error: `must be ${TOKEN_EXCHANGE_GRANT}` }),
  subject_token: z.string().min(1).max(16_384),
  subject_token_type: z.enum([JWT_TOKEN_TYPE, ACCESS_TOKEN_TYPE]).optional(),
  scope: scopeString.optional(),
  agent_name: agentName,
  agent_version: agentVersion,
  agent_digest: buildDigest.optional(),
  /** Requested lifetime in seconds. */
  requested_ttl: z.coerce.number().int().positive().optional(),
});

const mintBody = z.strictObject({
  agent: z.strictObject({ name: agentName, version: agentVersion, digest: buildDigest.optional() }),
  principal: principalId,
  ttl_seconds: z.number().int().positive().optional(),
  run: runId.optional(),
  scope: z.array(z.string().regex(SCOPE_PATTERN)).max(64).optional(),
});

const revocationBody = z
  .strictObject({
    jti: z.string().min(1).max(256).optional(),
    agent: z
      .string()
      .regex(
        /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}@[A-Za-z0-9][A-Za-z0-9.+_-]{0,63}$/,
        'must be NAME@VERSION',
      )
      .optional(),
    run: runId.optional(),
    subtree: z.string().min(1).max(512).optional(),
    reason: z.string().min(1).max(500),
  })
  .refine((b) => [b.jti, b.agent, b.run, b.subtree].filter((v) => v !== undefined).length === 1, {
    message: 'give exactly one of jti, agent, run, subtree',
  });

/** Registers the control plane: JWKS, token exchange, minting and revocation. */
export function registerControlRoutes(app: Hono, rt: Runtime): void {
  const limit = bodyLimit({
    maxSize: CONTROL_BODY_LIMIT,
    onError: () => apiError(413, 'invalid_request', 'the request body is too large'),
  });

  app.get('/.well-known/jwks.json', () =>
    json(rt.authority.jwks(), 200, { 'cache-control': 'public, max-age=60' }),
  );

  app.post('/v1/token/exchange', limit, async (c) => {
    const b = await parseBody(c, exchangeBody);
    if (b instanceof Response) return b;
    const res = await rt.authority.exchange({
      subjectToken: b.subject_token,
      agent: {
        name: b.agent_name,
        version: b.agent_version,
        ...(b.agent_digest ? { digest: b.agent_digest } : {}),
      },
      ...(b.scope !== undefined ? { scope: b.scope.split(' ') } : {}),
      ...(b.requested_ttl !== undefined ? { ttlMs: b.requested_ttl * 1000 } : {}),
    });
    if (!res.ok) return apiError(400, res.error, res.message);
    rt.log.info(
      {
        parent: res.claims.parent_jti,
        child: res.claims.jti,
        agent: b.agent_name,
        depth: res.claims.depth,
      },
      'token exchanged',
    );
    return json({
      access_token: res.token,
      issued_token_type: JWT_TOKEN_TYPE,
      token_type: 'Bearer',
      expires_in: res.claims.exp - Math.floor(rt.authority.deps.now() / 1000),
      scope: res.claims.scope,
    });
  });

  app.post('/v1/token/mint', limit, async (c) => {
    const who = await person(rt, c, ['admin']);
    if (who instanceof Response) return who;
    const b = await parseBody(c, mintBody);
    if (b instanceof Response) return b;
    try {
      const { token, claims } = await rt.authority.mint({
        agent: b.agent,
        principal: b.principal,
        ...(b.ttl_seconds !== undefined ? { ttlMs: b.ttl_seconds * 1000 } : {}),
        ...(b.run !== undefined ? { run: b.run } : {}),
        ...(b.scope !== undefined ? { scope: b.scope } : {}),
      });
      rt.log.info({ by: who.name, jti: claims.jti, agent: claims.agent.name }, 'credential minted');
      return json(
        {
          access_token: token,
          token_type: 'Bearer',
          expires_in: claims.exp - claims.iat,
          jti: claims.jti,
        },
        201,
      );
    } catch (err) {
      return apiError(400, 'invalid_request', (err as Error).message);
    }
  });

  app.get('/v1/keys', async (c) => {
    const who = await person(rt, c, ['admin']);
    if (who instanceof Response) return who;
    return json({ keys: rt.authority.listKeys() });
  });

  app.post('/v1/keys/rotate', async (c) => {
    const who = await person(rt, c, ['admin']);
    if (who instanceof Response) return who;
    const key = await rt.authority.rotateKey(who.name);
    rt.log.warn({ by: who.name, kid: key.kid }, 'signing key rotated');
    return json({ key }, 201);
  });

  app.post('/v1/keys/:kid/retire', async (c) => {
    const who = await person(rt, c, ['admin']);
    if (who instanceof Response) return who;
    try {
      const key = await rt.authority.retireKey(c.req.param('kid'), who.name);
      rt.log.warn({ by: who.name, kid: key.kid }, 'signing key retired');
      return json({ key });
    } catch (err) {
      if (isGatehouseError(err, 'KEY_NOT_FOUND')) return apiError(404, 'not_found', err.message);
      if (isGatehouseError(err, 'KEY_LAST_ACTIVE')) return apiError(409, 'conflict', err.message);
      throw err;
    }
  });

  app.post('/v1/revocations', limit, async (c) => {
    const who = await person(rt, c, ['admin']);
    if (who instanceof Response) return who;
    const b = await parseBody(c, revocationBody);
    if (b instanceof Response) return b;
    const [kind, value] = (['jti', 'agent', 'run', 'subtree'] as const)
      .map((k) => [k, b[k]] as const)
      .find(([, v]) => v !== undefined) ?? ['jti', ''];
    const added = await rt.authority.revoke({
      kind,
      value: value ?? '',
      reason: b.reason,
      by: who.name,
    });
    rt.log.warn({ by: who.name, kind, value }, 'revocation');
    return json({ revoked: { kind, value }, new: added }, added ? 201 : 200);
  });
}
