/**
 * Gatehouse for agent runtimes: the typed client of the HTTP API, the Claude Agent SDK's
 * `canUseTool` callback and `guard()` for any async tool function. (The gateway and the Claude Code
 * hook are run with the `gatehouse` command.)
 */
export * from './client/index.js';
export {
  defaultOutput,
  gatehouseCanUseTool,
  guard,
  GuardError,
  type CanUseTool,
  type CanUseToolContext,
  type GatehouseCanUseToolOptions,
  type GuardErrorCode,
  type GuardOptions,
  type PermissionResult,
  type ReportedOutput,
} from './adapters/agent-sdk.js';
export { claudeToolName, type MappedTool } from './adapters/tool-names.js';
export { GatehouseError, isGatehouseError } from './errors/index.js';
