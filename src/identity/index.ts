export {
  AGENT_TOKEN_TYP,
  DEPTH_HARD_LIMIT,
  actChain,
  agentId,
  agentName,
  agentVersion,
  buildDigest,
  nestAct,
  principalId,
  rootOf,
  runId,
  type ActClaim,
  type AgentClaims,
  type AgentIdentity,
} from './claims.js';
export {
  mintAgentToken,
  exchangeToken,
  type AgentDescriptor,
  type ExchangeError,
  type ExchangeRequest,
  type ExchangeResult,
  type IdentityErrorCode,
  type MintRequest,
} from './issue.js';
export {
  verifyAgentToken,
  createVerifier,
  CLOCK_SKEW_S,
  type IdentityDeps,
  type IdentitySettings,
  type RevocationCheck,
  type TokenRejection,
  type VerifyResult,
} from './verify.js';
export { RevocationSet, type Revocation, type RevocationKind } from './revocation.js';
export { scopeAllows, scopeWidening, patternCovers, SCOPE_PATTERN } from './scope.js';
export { Authority } from './authority.js';
export {
  createAdminKey,
  checkAdminKey,
  looksLikeAdminKey,
  personGroups,
  personName,
  personRole,
  type PersonCheck,
} from './people.js';
