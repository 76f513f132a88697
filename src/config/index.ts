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
} from './schema.js';
export { parseDuration } from './duration.js';
export { configuredLabels, exposedName, splitToolName, TOOL_SEPARATOR } from './tools.js';
