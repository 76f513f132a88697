export {
  loadPolicyDir,
  policySetHash,
  type LoadOptions,
  type LoadResult,
  type PolicyInfo,
  type PolicySet,
} from './loader.js';
export {
  createEngine,
  type Decision,
  type EngineOptions,
  type PolicyEngine,
  type PolicyMode,
} from './engine.js';
export {
  actionOf,
  FRESH_RUN,
  isToolCall,
  targets,
  MAX_ELICITATION_FIELDS,
  MAX_FIELD_NAME,
  kindOfAction,
  recordedAction,
  type TargetKind,
  type ArgProvenance,
  type ArgsProvenance,
  type DecisionRequest,
  type PolicyAgent,
  type RunContext,
  type ToolRef,
  type TrustLevel,
} from './request.js';
export type { Outcome, Verdict } from './variant.js';
export { lockdownProblem, type Lockdown } from './lockdown.js';
export {
  BASE_SCHEMA,
  CALL_TOOL,
  CREATE_MESSAGE,
  CREDENTIAL_SCOPE,
  ELICIT,
  GET_PROMPT,
  INPUT_SCHEMA,
  READ_RESOURCE,
  RESERVED_ACTIONS,
  TOOL_PIN,
} from './schema.js';
export { toCedarValue, type ArgumentProblem } from './cedar-value.js';
export {
  PolicyService,
  type LockdownResult,
  type PolicyServiceOptions,
  type ReloadResult,
} from './service.js';
export { toolActionsSchema, type ToolForSchema, type ToolSchemaResult } from './tool-schema.js';
export { explain, type Explanation, type PolicyNote, type ScopePart } from './explain.js';
export {
  recordRequest,
  replay,
  type ReplayedCall,
  type ReplayReport,
  type ReplaySkip,
  type SkipReason,
} from './replay.js';
export {
  loadPolicyTests,
  parsePolicyTestFile,
  policyTestFileSchema,
  type LoadedPolicyTests,
  type PolicyTestCase,
  type PolicyTestFile,
} from './testing-format.js';
export { runPolicyTests, type PolicyTestResult, type ResolveLabels } from './testing.js';
