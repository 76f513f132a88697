import type { AgentIdentity, IdentitySettings } from '../../src/identity/index.js';
import type { ToolRef } from '../../src/policy/index.js';

/** A verified agent identity for unit tests (what the verifier would return). */
export function agent(overrides: Partial<AgentIdentity> = {}): AgentIdentity {
  return {
    id: 'spiffe://test.local/agent/support-bot/i1',
    name: 'support-bot',
    version: '1.4.0',
    principal: 'user:alice',
    run: 'run-1',
    credential: 'cred_0123456789abcdef',
    scope: ['*'],
    depth: 0,
    ancestors: [],
    ancestorCredentials: [],
    expiresAt: Date.now() + 60_000,
    ...overrides,
  };
}

export function tool(server: string, name: string, labels: Record<string, string> = {}): ToolRef {
  return { id: `${server}__${name}`, server, name, labels };
}

/** Identity settings for unit tests: 15 min default lifetime, 1 h maximum, depth 4. */
export const TEST_SETTINGS: IdentitySettings = {
  issuer: 'gatehouse',
  audience: 'gatehouse',
  trustDomain: 'test.local',
  defaultTtlMs: 15 * 60_000,
  maxTtlMs: 60 * 60_000,
  maxDepth: 4,
};
