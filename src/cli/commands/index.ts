export { registerAudit } from './audit.js';
export { registerApprovals } from './approvals.js';
export { registerIdentity } from './identity.js';
export { registerPolicy } from './policy.js';
export { registerConfig, registerDecisions } from './records.js';
export { registerRuntimes } from './runtimes.js';
export { registerServe } from './serve.js';
export { registerTools } from './tools.js';
export { configOption, urlOption, type CommandContext, type RegisterCommands } from './shared.js';
