/**
 * Escalation (DESIGN.md §6): on-call staff, who is on call when, and policies whose levels page
 * people one after another until someone acknowledges. The desk is the surface: the agent's
 * `escalate` tool, every way to acknowledge, and the durable jobs that page, time out and deliver
 * webhooks; `routes.ts` is its HTTP edge (Twilio's SMS replies and keypresses, the page's link).
 */
export {
  ACK_LINK_TTL_SECONDS,
  type AckOutcome,
  ackLinkToken,
  acknowledgeEscalation,
  resolveEscalation,
  validAckLinkToken,
} from './acknowledgements.js';
export { DEFAULT_HISTORY_DAYS, escalationContext, MAX_ESCALATION_CONTEXT_CHARS } from './context.js';
export { ACK_DIGIT, createEscalationDesk, ESCALATE_TOOL, EscalationDesk, type EscalationDeskDeps } from './desk.js';
export { recordEvent, WEBHOOK_DELIVERY_JOB } from './events.js';
export { ACK_LINK_PATH, LEVEL_TIMEOUT_JOB, PAGE_KEYPRESS_PATH, SEND_PAGE_JOB } from './paging.js';
export {
  type EscalationLevel,
  escalationLevelSchema,
  escalationLevelsSchema,
  namedStaff,
  pageChannelSchema,
} from './policy.js';
export { escalationRoutes } from './routes.js';
export { createTwilioPager, PageDeliveryError, pageTwiml, type TwilioPager } from './twilio-pager.js';
export {
  deliverWebhook,
  endpointEventTypeSchema,
  generateWebhookSecret,
  newSealedWebhookSecret,
  nextRetryDelayMs,
  PAGE_EVENT_TYPE,
  type WebhookAttempt,
  webhookPayload,
  webhookUrlSchema,
} from './webhooks.js';
