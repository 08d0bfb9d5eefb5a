/**
 * zod schemas for households, members and phone lines: what operators send and what they get
 * back. The single source for validation, TypeScript types and the OpenAPI document.
 */
import { z } from 'zod';

export const E164_PATTERN = /^\+[1-9]\d{1,14}$/;

/** The largest Postgres `integer` (int4): every whole number that reaches a query stays at or below it. */
export const PG_INT_MAX = 2_147_483_647;

// Postgres stores years 4713 BC to 294276 AD, but an instant before year 1 fails on its way there
// (a 500), and zod reads ISO 8601 with four-digit years: so years 0001 to 9999, in UTC.
const EARLIEST_INSTANT_MS = Date.parse('0001-01-01T00:00:00Z');
const LATEST_INSTANT_MS = Date.parse('9999-12-31T23:59:59.999Z');

/**
 * An id (UUID) as a client sends it, read in lower case. Postgres matches a uuid in any case, but
 * what is compared or recorded as text (a conversation's member, audit entries) must be one
 * spelling of it: every id a request carries, in its path, query or body, goes through this.
 */
export const uuid = z.uuid().toLowerCase();

/** Text for a Postgres text column, which cannot hold the NUL character (\u0000). */
export function storedText() {
  return z.string().refine((value) => !value.includes('\u0000'), 'must not contain the NUL character (\\u0000)');
}

/** Whether `instant` lies in the years 0001 to 9999 (UTC), which every layer down to Postgres accepts. */
export function isStorableInstant(instant: Date): boolean {
  const ms = instant.getTime();
  return ms >= EARLIEST_INSTANT_MS && ms <= LATEST_INSTANT_MS;
}

/** An ISO 8601 date-time (with Z or an offset) read as a Date in the years 0001 to 9999 (UTC). */
export function instant(description: string) {
  return z.iso
    .datetime({ offset: true })
    .transform((raw) => new Date(raw))
    .refine(isStorableInstant, 'must fall between the years 0001 and 9999 (UTC)')
    .describe(description);
}

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

export const timestamp = z.iso.datetime().describe('ISO 8601 timestamp (UTC)');

/** Query filter: items at or after a time. */
export const fromTime = instant('Only items at or after this time (ISO 8601, e.g. 2025-01-31T00:00:00Z)');

/** Query filter: items before a time. */
export const toTime = instant('Only items before this time (ISO 8601)');

/** What a Letta client set on a household's agent that Hearth has no setting of its own for. */
const lettaAgentSchema = z
  .strictObject({
    description: storedText().max(2000).optional(),
    tags: z.array(storedText().max(100)).max(50).optional(),
    tools: z.array(storedText().max(100)).max(50).optional().describe('Tool names the agent chose (aliases kept)'),
    metadata: z
      .record(z.string().max(100), z.union([storedText().max(1000), z.number(), z.boolean(), z.null()]))
      .optional()
      .describe('Flat key-value data the client attached'),
    embedding: storedText().max(200).optional().describe('The embedding handle asked for'),
    agentType: storedText().max(100).optional(),
  })
  .describe('Set through the Letta-compatible API (/v1/agents); Hearth itself does not read it');

export const agentSettingsSchema = z
  .strictObject({
    model: storedText().min(1).max(100).optional().describe('Model id for this household (else the server default)'),
    voice: storedText().min(1).max(50).optional().describe('Realtime voice name'),
    realtimeModel: storedText()
      .min(1)
      .max(100)
      .optional()
      .describe('Realtime speech model for phone calls (else the server default)'),
    maxConcurrentCalls: z
      .number()
      .int()
      .min(1)
      .max(100)
      .optional()
      .describe('Phone calls the household may have at once (else the server default, 3)'),
    instructions: storedText().max(4000).optional().describe('Extra instructions appended to the base prompt'),
    escalateWhen: storedText()
      .trim()
      .min(1)
      .max(1000)
      .optional()
      .describe('What always needs a person, e.g. "breathing trouble at night"; the agent escalates then'),
    escalationHistoryDays: z
      .number()
      .int()
      .min(1)
      .max(90)
      .optional()
      .describe('How many days of escalations the agent recalls (default 7)'),
    letta: lettaAgentSchema.optional(),
  })
  .describe('Agent settings for the household; an update replaces the whole object')
  .meta({ id: 'AgentSettings' });

const householdName = storedText().trim().min(1).max(200).describe('Name operators know the household by');

/** Rejects an update that changes nothing, so a typo'd field name is never a silent no-op. */
export function someField<T extends z.ZodObject>(schema: T) {
  return schema.refine((value) => Object.keys(value).length > 0, 'send at least one field to change');
}

export const householdCreateSchema = z
  .strictObject({
    name: householdName,
    timezone: timeZone.default('UTC'),
    locale: locale.default('en-US'),
    agentSettings: agentSettingsSchema.default({}),
  })
  .meta({ id: 'HouseholdCreate' });

export const householdUpdateSchema = someField(
  z.strictObject({
    name: householdName.optional(),
    timezone: timeZone.optional(),
    locale: locale.optional(),
    agentSettings: agentSettingsSchema.optional(),
  }),
).meta({ id: 'HouseholdUpdate' });

export const householdSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    timezone: z.string(),
    locale: z.string(),
    agentSettings: agentSettingsSchema,
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'Household' });

export const memberRoleSchema = z
  .enum(['member', 'caregiver', 'guardian'])
  .describe('member: calls for themselves; caregiver and guardian: look after others');

const memberName = storedText().trim().min(1).max(200);
const relationship = storedText().trim().min(1).max(100).describe('e.g. grandmother, son, carer');

export const memberCreateSchema = z
  .strictObject({
    name: memberName,
    relationship: relationship.optional(),
    phone: e164.optional().describe('Caller ID that identifies this member; unique within the organization'),
    role: memberRoleSchema.default('member'),
  })
  .meta({ id: 'MemberCreate' });

export const memberUpdateSchema = someField(
  z.strictObject({
    name: memberName.optional(),
    relationship: relationship.nullable().optional().describe('null clears it'),
    phone: e164.nullable().optional().describe('null clears it'),
    role: memberRoleSchema.optional(),
  }),
).meta({ id: 'MemberUpdate' });

export const pinSchema = z
  .strictObject({
    pin: z
      .string()
      .regex(/^\d{4,8}$/, 'must be 4 to 8 digits')
      .describe('Digits the member keys in to verify themselves on a call'),
  })
  .meta({ id: 'PinSet' });

export const memberSchema = z
  .object({
    id: z.uuid(),
    householdId: z.uuid(),
    name: z.string(),
    relationship: z.string().nullable(),
    phone: z.string().nullable(),
    role: memberRoleSchema,
    hasPin: z.boolean().describe('Whether a PIN is set (the PIN itself is stored hashed and never returned)'),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'Member' });

const lineLabel = storedText().trim().min(1).max(100);

export const phoneLineCreateSchema = z
  .strictObject({
    number: e164,
    householdId: uuid.optional().describe('Household this number routes to; omit to let callers choose'),
    label: lineLabel.optional(),
  })
  .meta({ id: 'PhoneLineCreate' });

export const phoneLineUpdateSchema = someField(
  z.strictObject({
    householdId: uuid.nullable().optional().describe('null: callers choose the household'),
    label: lineLabel.nullable().optional(),
  }),
).meta({ id: 'PhoneLineUpdate' });

export const phoneLineSchema = z
  .object({
    id: z.uuid(),
    number: z.string(),
    householdId: z.uuid().nullable(),
    label: z.string().nullable(),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'PhoneLine' });

export type HouseholdCreate = z.input<typeof householdCreateSchema>;
export type HouseholdUpdate = z.output<typeof householdUpdateSchema>;
export type HouseholdView = z.infer<typeof householdSchema>;
export type MemberCreate = z.input<typeof memberCreateSchema>;
export type MemberUpdate = z.output<typeof memberUpdateSchema>;
export type MemberView = z.infer<typeof memberSchema>;
export type PhoneLineCreate = z.input<typeof phoneLineCreateSchema>;
export type PhoneLineUpdate = z.output<typeof phoneLineUpdateSchema>;
export type PhoneLineView = z.infer<typeof phoneLineSchema>;
