/**
 * zod schemas for what operators send: the single source for validation, types and (later)
 * the OpenAPI document.
 */
import { z } from 'zod';

export const E164_PATTERN = /^\+[1-9]\d{1,14}$/;

export const e164 = z
  .string()
  .regex(
    E164_PATTERN,
    'must be an E.164 phone number: "+" then country code and number, digits only, e.g. +14155550100',
  )
  .describe('Phone number in E.164 form, e.g. +14155550100');

export const timeZone = z
  .string()
  .refine((zone) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: zone });
      return true;
    } catch {
      return false;
    }
  }, 'must be an IANA time zone such as Europe/London or America/New_York')
  .describe('IANA time zone of the household');

export const locale = z
  .string()
  .refine((tag) => {
    try {
      return Intl.getCanonicalLocales(tag).length === 1;
    } catch {
      return false;
    }
  }, 'must be a BCP 47 language tag such as en-US or fr-FR')
  .describe('BCP 47 language tag');

export const agentSettingsSchema = z
  .strictObject({
    model: z.string().min(1).max(100).optional().describe('Model id for this household (else the server default)'),
    voice: z.string().min(1).max(50).optional().describe('Realtime voice name'),
    instructions: z.string().max(4000).optional().describe('Extra instructions appended to the base prompt'),
  })
  .describe('Agent settings for the household');

export const householdCreateSchema = z.strictObject({
  name: z.string().trim().min(1).max(200),
  timezone: timeZone.default('UTC'),
  locale: locale.default('en-US'),
  agentSettings: agentSettingsSchema.default({}),
});

export const memberRoleSchema = z.enum(['member', 'caregiver', 'guardian']);

export const memberCreateSchema = z.strictObject({
  name: z.string().trim().min(1).max(200),
  relationship: z.string().trim().min(1).max(100).optional(),
  phone: e164.optional(),
  role: memberRoleSchema.default('member'),
});

export const phoneLineCreateSchema = z.strictObject({
  number: e164,
  householdId: z.uuid().optional().describe('Household this number routes to; omit to let callers choose'),
  label: z.string().trim().min(1).max(100).optional(),
});

export type HouseholdCreate = z.input<typeof householdCreateSchema>;
export type MemberCreate = z.input<typeof memberCreateSchema>;
export type PhoneLineCreate = z.input<typeof phoneLineCreateSchema>;
