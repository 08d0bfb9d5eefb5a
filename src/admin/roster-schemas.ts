/** zod schemas for the on-call roster: staff, their shifts, and escalation policies. */
import { z } from 'zod';
import { escalationLevelSchema, escalationLevelsSchema } from '../escalation/index.js';
import { keysetQuery } from './pagination.js';
import { e164, instant, someField, storedText, timestamp, timeZone, uuid } from './schemas.js';

/** Longest single shift: a roster is made of shifts, not of open-ended duty. */
export const MAX_SHIFT_DAYS = 31;

const staffName = storedText().trim().min(1).max(200).describe('Name as staff and callers know them');
const webhookUrl = z
  .url({ protocol: /^https?$/ })
  .max(2000)
  .describe('Where this person’s pages are also posted (signed, Standard Webhooks)');

export const staffCreateSchema = z
  .strictObject({
    name: staffName,
    phone: e164.optional(),
    email: z.email().max(320).optional(),
    webhookUrl: webhookUrl.optional(),
    timezone: timeZone.default('UTC').describe('IANA time zone the person works in'),
    householdId: uuid.optional().describe('Only for this household; omit for every household'),
  })
  .refine(
    (staff) => staff.phone || staff.email || staff.webhookUrl,
    'give at least one way to reach them: phone, email or webhookUrl',
  )
  .meta({ id: 'OnCallStaffCreate' });

export const staffUpdateSchema = someField(
  z.strictObject({
    name: staffName.optional(),
    phone: e164.nullable().optional(),
    email: z.email().max(320).nullable().optional(),
    webhookUrl: webhookUrl.nullable().optional(),
    timezone: timeZone.optional(),
  }),
).meta({ id: 'OnCallStaffUpdate' });

export const staffSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    phone: z.string().nullable(),
    email: z.string().nullable(),
    webhookUrl: z.string().nullable(),
    timezone: z.string(),
    householdId: z.uuid().nullable(),
    createdAt: timestamp,
    updatedAt: timestamp,
    webhookSecret: z
      .string()
      .optional()
      .describe('Signs this person’s webhook pages (`whsec_…`): shown once, when a webhookUrl is first set'),
  })
  .meta({ id: 'OnCallStaff' });

export const shiftCreateSchema = z
  .strictObject({
    staffId: uuid.describe('Who is on call'),
    startsAt: instant('Start of the shift (ISO 8601)'),
    endsAt: instant('End of the shift (ISO 8601), after its start'),
    householdId: uuid.optional().describe('Only for this household; omit for every household'),
  })
  .refine((shift) => shift.endsAt > shift.startsAt, { message: 'must be after startsAt', path: ['endsAt'] })
  .refine((shift) => shift.endsAt.getTime() - shift.startsAt.getTime() <= MAX_SHIFT_DAYS * 86_400_000, {
    message: `a shift lasts at most ${MAX_SHIFT_DAYS} days`,
    path: ['endsAt'],
  })
  .meta({ id: 'OnCallShiftCreate' });

export const shiftSchema = z
  .object({
    id: z.uuid(),
    staffId: z.uuid(),
    householdId: z.uuid().nullable(),
    startsAt: timestamp,
    endsAt: timestamp,
    createdAt: timestamp,
  })
  .meta({ id: 'OnCallShift' });

export const shiftListQuery = z.strictObject({
  ...keysetQuery,
  at: instant('Only the shifts covering this moment (ISO 8601): who is on call then').optional(),
  staffId: uuid.optional().describe('Only this person’s shifts'),
});

const policyName = storedText().trim().min(1).max(200).describe('Name operators know the policy by');

export const policyCreateSchema = z
  .strictObject({
    name: policyName,
    householdId: uuid.optional().describe('The household it applies to; omit for the organization’s default'),
    levels: escalationLevelsSchema,
  })
  .meta({ id: 'EscalationPolicyCreate' });

export const policyUpdateSchema = someField(
  z.strictObject({ name: policyName.optional(), levels: escalationLevelsSchema.optional() }),
).meta({ id: 'EscalationPolicyUpdate' });

export const policySchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    householdId: z.uuid().nullable(),
    levels: z.array(escalationLevelSchema),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'EscalationPolicy' });

export type StaffCreate = z.input<typeof staffCreateSchema>;
export type StaffUpdate = z.output<typeof staffUpdateSchema>;
export type StaffView = z.infer<typeof staffSchema>;
export type ShiftCreate = z.output<typeof shiftCreateSchema>;
export type ShiftView = z.infer<typeof shiftSchema>;
export type PolicyCreate = z.input<typeof policyCreateSchema>;
export type PolicyUpdate = z.output<typeof policyUpdateSchema>;
export type PolicyView = z.infer<typeof policySchema>;
