/**
 * The typed client for Gatehouse's HTTP API (`gatehouse/client`): for any TypeScript agent or
 * runtime that is not an MCP client of the gateway.
 */
export {
  DEFAULT_TIMEOUT_MS,
  GatehouseClient,
  type ContentBlock,
  type DecideRequest,
  type ExchangeRequest,
  type GatehouseClientOptions,
  type ResultReport,
} from './client.js';
export { GatehouseClientError, type ClientErrorCode } from './errors.js';
export { decideWaitingForApproval, type WaitOptions } from './wait.js';
export type {
  ApprovalAnswer,
  DecisionAnswer,
  EntryAnswer,
  ExchangeAnswer,
  InputAnswer,
  Provenance,
  Receipt,
  ResultAnswer,
  RunAnswer,
} from './answers.js';
