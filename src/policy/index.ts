export { loadPolicyDir, type LoadResult, type PolicyInfo, type PolicySet } from './loader.js';
export {
  createEngine,
  CALL_TOOL,
  type Decision,
  type DecisionRequest,
  type PolicyEngine,
  type ToolRef,
} from './engine.js';
export { toCedarValue, type ArgumentProblem } from './cedar-value.js';
