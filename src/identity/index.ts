export {
  AGENT_TOKEN_TYP,
  agentName,
  agentVersion,
  principalId,
  runId,
  type AgentClaims,
  type AgentIdentity,
} from './claims.js';
export {
  mintAgentToken,
  verifyAgentToken,
  cachedVerifier,
  CLOCK_SKEW_S,
  type IdentityDeps,
  type IdentityErrorCode,
  type IdentitySettings,
  type MintRequest,
  type TokenRejection,
  type VerifyResult,
} from './tokens.js';
