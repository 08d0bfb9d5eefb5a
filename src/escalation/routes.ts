/**
 * The escalation's own HTTP edge, for the people paged rather than operators: Twilio's SMS
 * replies (`ACK <code>`) and paging calls' keypresses, both signed by Twilio, and the page's
 * acknowledgement link, signed by Hearth. Opening the link shows a page with a button; only the
 * button acknowledges (link previewers open links too). The same signed link also acknowledges
 * as JSON at `POST /v1/escalations/:id/ack` without an API key.
 */
import express from 'express';
import MessagingResponse from 'twilio/lib/twiml/MessagingResponse.js';
import VoiceResponse from 'twilio/lib/twiml/VoiceResponse.js';
import { z } from 'zod';
import { ValidationError } from '../errors.js';
import { formBody, jsonBody, zodDetails } from '../http.js';
import { parseTwilioRequest, type TwilioWebhookSettings, twilioWebhook } from '../twilio-webhooks.js';
import type { EscalationDesk } from './desk.js';
import { ACK_LINK_PATH, PAGE_KEYPRESS_PATH } from './paging.js';

const FORM_LIMIT_BYTES = 16 * 1024;
const MAX_INSTRUCTIONS_CHARS = 2000;

const smsReplySchema = z.looseObject({
  From: z.string().min(1).max(32),
  Body: z.string().max(1600),
});
const keypressSchema = z.looseObject({ Digits: z.string().max(20).default('') });
const pageQuerySchema = z.object({ page: z.uuid() });
const linkSchema = z.object({
  escalationId: z.uuid(),
  staffId: z.uuid(),
  token: z.string().min(1).max(200),
  instructions: z.string().trim().max(MAX_INSTRUCTIONS_CHARS).optional(),
});

function parse<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw new ValidationError('The request is invalid.', { details: zodDetails(parsed.error, where) });
  return parsed.data;
}

export function escalationRoutes(options: {
  desk: EscalationDesk;
  twilio: TwilioWebhookSettings;
  bodyLimitBytes: number;
}): express.Router {
  const { desk } = options;
  const router = express.Router();
  const webhook = twilioWebhook(options.twilio);

  router.post('/twilio/sms', ...webhook, async (req, res) => {
    const reply = parseTwilioRequest(smsReplySchema, req.body);
    const response = new MessagingResponse();
    response.message(await desk.acknowledgeBySms({ from: reply.From, body: reply.Body }));
    res.type('text/xml').send(response.toString());
  });

  router.post(PAGE_KEYPRESS_PATH, ...webhook, async (req, res) => {
    const { page } = parse(pageQuerySchema, req.query, 'query');
    const { Digits } = parseTwilioRequest(keypressSchema, req.body);
    const response = new VoiceResponse();
    response.say(await desk.acknowledgeByKeypress({ pageId: page, digits: Digits }));
    response.hangup();
    res.type('text/xml').send(response.toString());
  });

  router.get(`${ACK_LINK_PATH}/:escalationId`, async (req, res) => {
    const link = parse(linkSchema, { ...req.params, staffId: req.query.staff, token: req.query.token }, 'query');
    const { staff, escalation } = await desk.escalationForLink(link);
    res.setHeader('Cache-Control', 'no-store');
    res.type('html').send(
      page(
        `${escalation.severity} escalation: ${escalation.household.name}`,
        `<p>${escapeHtml(escalation.reason)}</p>${escalation.summary ? `<pre>${escapeHtml(escalation.summary)}</pre>` : ''}
<p>Status: <strong>${escalation.status}</strong>${escalation.acknowledgedBy ? ` (acknowledged by ${escapeHtml(escalation.acknowledgedBy)})` : ''}.</p>
<form method="post">
<input type="hidden" name="staff" value="${escapeHtml(staff.id)}"><input type="hidden" name="token" value="${escapeHtml(link.token)}">
<label>Instructions for next time (optional)<br><textarea name="instructions" rows="3" cols="40" maxlength="${MAX_INSTRUCTIONS_CHARS}"></textarea></label>
<p><button type="submit">Acknowledge as ${escapeHtml(staff.name)}</button></p>
</form>`,
      ),
    );
  });

  router.post(`${ACK_LINK_PATH}/:escalationId`, ...formBody(FORM_LIMIT_BYTES), async (req, res) => {
    const body = z.looseObject({ staff: z.unknown(), token: z.unknown(), instructions: z.unknown() }).parse(req.body);
    const link = parse(
      linkSchema,
      { ...req.params, staffId: body.staff, token: body.token, instructions: body.instructions || undefined },
      'body',
    );
    const outcome = await desk.acknowledgeByLink(link);
    const { escalation } = outcome;
    res.setHeader('Cache-Control', 'no-store');
    res
      .type('html')
      .send(
        page(
          outcome.first ? 'Acknowledged' : 'Already acknowledged',
          outcome.first
            ? `<p>Thank you. Paging has stopped for: ${escapeHtml(escalation.reason)}</p>`
            : `<p>${escapeHtml(escalation.acknowledgedBy ?? 'Someone')} acknowledged first; yours is recorded too.</p>`,
        ),
      );
  });

  // With an API key the admin API's own route answers; with a page's link, this one.
  const withoutApiKey: express.RequestHandler = (req, _res, next) => {
    next(req.headers.authorization ? 'router' : undefined);
  };
  router.post(
    '/v1/escalations/:escalationId/ack',
    withoutApiKey,
    ...jsonBody(options.bodyLimitBytes),
    async (req, res) => {
      const link = parse(linkSchema, { ...req.body, ...req.params }, 'body');
      const { first, escalation } = await desk.acknowledgeByLink(link);
      res.json({
        first,
        escalation: {
          id: escalation.id,
          status: escalation.status,
          acknowledgedBy: escalation.acknowledgedBy,
          acknowledgedAt: escalation.acknowledgedAt?.toISOString() ?? null,
          instructions: escalation.instructions,
        },
      });
    },
  );
  return router;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Hearth</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem}pre{white-space:pre-wrap;background:#f4f4f4;padding:.5rem}</style>
</head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}
