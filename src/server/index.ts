export {
  openRuntime,
  openLocalAdmin,
  openAuditLog,
  logKeyPath,
  openPolicy,
  identitySettings,
  type LocalAdmin,
  type Runtime,
  type RuntimeOptions,
  type OpenRuntimeOptions,
} from './runtime.js';
export { createApp, startHttpServer, type HttpServer } from './http.js';
export { openInProcess, type InProcessGatehouse } from './in-process.js';
export { serveStdio, type StdioErrorCode } from './stdio.js';
export { TOKEN_EXCHANGE_GRANT, JWT_TOKEN_TYPE } from './control.js';
export { decisionJson, verdictJson } from './policy-routes.js';
export { approvalJson, type ApprovalJson } from './approval-routes.js';
export { approveProblem, pinJson, type ToolPinJson } from './tool-routes.js';
