export {
  Approvals,
  mayAnswer,
  type AnswerResult,
  type ApprovalsOptions,
  type HeldCall,
  type HoldOptions,
  type HoldResult,
} from './service.js';
export { webhookAnnouncer, webhookBody, type WebhookOptions } from './webhook.js';
