export { createGateway, type Gateway, type GatewayDeps } from './gateway.js';
export { decideCall, type ApprovalRef, type DecidedCall, type ToolSpec } from './decide-call.js';
export { Gate } from './gate.js';
export type { Identify } from './session.js';
export type { UpstreamStatus } from './upstream.js';
export { Decider, type Decided } from './decider.js';
export { ToolCatalog, type CatalogEntry } from './catalog.js';
export { takeInventory, type Inventory } from './inventory.js';
export { PinGuard, type PinGuardDeps, type PinVerdict } from './pins.js';
export {
  provenanceJson,
  reportResult,
  ResultRecorder,
  type ProvenanceJson,
  type ReportedResult,
  type ReportOutcome,
  type ResultCall,
  type ToolOutput,
} from './results.js';
export { ContentCatalog, type ContentTarget } from './content.js';
export {
  ContentGate,
  DENIED_CODE,
  type ContentGateDeps,
  type GatedContent,
} from './content-gate.js';
export type { CallOwner } from './routing.js';
export type { ServerRequestGate, ServerRequestVerdict } from './server-requests.js';
