/**
 * Escalation (DESIGN.md §6): on-call staff, who is on call when, and policies whose levels page
 * people one after another until someone acknowledges. Built so far: the policy model, paging by
 * SMS and voice call through the official Twilio SDK, Standard Webhooks deliveries, and
 * acknowledgement (the first wins; later ones are kept) and resolution. The `escalate` tool and
 * the durable paging chain come next (issue 11).
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
export {
  type EscalationLevel,
  escalationLevelSchema,
  escalationLevelsSchema,
  namedStaff,
  pageChannelSchema,
} from './policy.js';
export { createTwilioPager, PageDeliveryError, pageTwiml, type TwilioPager } from './twilio-pager.js';
export {
  deliverWebhook,
  generateWebhookSecret,
  nextRetryDelayMs,
  type WebhookAttempt,
  webhookPayload,
} from './webhooks.js';
