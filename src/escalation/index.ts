/**
 * Escalation (DESIGN.md §6): on-call staff, who is on call when, and policies whose levels page
 * people one after another until someone acknowledges. Built so far: the policy model, paging by
 * SMS and voice call through the official Twilio SDK, and Standard Webhooks deliveries. The
 * `escalate` tool, the durable paging chain and acknowledgements come next (issue 11).
 */
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
