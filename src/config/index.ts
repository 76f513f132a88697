export { loadConfig, listenUrl, parseConfig, formatIssues, type ConfigErrorCode } from './load.js';
export {
  serverName,
  toolLabels,
  configSchema,
  isStdioUpstream,
  trustLevel,
  type Config,
  type TrustLevel,
  type ToolConfig,
  type UpstreamConfig,
  type StdioUpstreamConfig,
  type HttpUpstreamConfig,
  type ArgumentsRetention,
  type RuntimeToolsConfig,
} from './schema.js';
export {
  CLAUDE_CODE_DEFAULTS,
  CLAUDE_CODE_SERVER,
  CLAUDE_CODE_TOOL_SCHEMAS,
  runtimeToolArgNames,
  runtimeToolServers,
  runtimeToolsForSchema,
  serverTrust,
  toolSettings,
  type ToolSettings,
  type ToolsConfig,
} from './runtime-tools.js';
export { parseDuration } from './duration.js';
export { configuredLabels, exposedName, splitToolName, TOOL_SEPARATOR } from './tools.js';
