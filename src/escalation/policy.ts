/**
 * An escalation policy's levels: who is paged at each level, on which channels, how long Hearth
 * waits for an acknowledgement before the next level, and how many times a level is repeated
 * first. Stored whole as JSON on the policy row; this schema is the one description of it.
 */
import { z } from 'zod';

/** Longest a level waits for an acknowledgement: a day. */
export const MAX_ACK_TIMEOUT_SECONDS = 86_400;
/** Shortest: a person needs time to read a page and answer it. */
export const MIN_ACK_TIMEOUT_SECONDS = 30;

export const pageChannelSchema = z.enum(['sms', 'voice', 'webhook']).describe('How a person is paged');

export const levelTargetSchema = z
  .union([
    z.strictObject({ staffId: z.uuid().toLowerCase().describe('A member of the on-call staff') }),
    z.strictObject({ onCall: z.literal(true).describe('Whoever is on call at the moment of the page') }),
  ])
  .describe('A person to page: someone named, or whoever the on-call schedule says');

export const escalationLevelSchema = z
  .strictObject({
    targets: z.array(levelTargetSchema).min(1).max(10),
    channels: z
      .array(pageChannelSchema)
      .min(1)
      .refine((channels) => new Set(channels).size === channels.length, 'must not repeat a channel'),
    ackTimeoutSeconds: z
      .number()
      .int()
      .min(MIN_ACK_TIMEOUT_SECONDS)
      .max(MAX_ACK_TIMEOUT_SECONDS)
      .describe('How long to wait for an acknowledgement before repeating or moving on'),
    repeat: z.number().int().min(0).max(5).default(0).describe('Times the level is paged again before the next one'),
  })
  .meta({ id: 'EscalationLevel' });

export const escalationLevelsSchema = z
  .array(escalationLevelSchema)
  .min(1)
  .max(10)
  .describe('Levels in order: level 1 is paged first');

export type EscalationLevel = z.output<typeof escalationLevelSchema>;

/** The staff a policy's levels name, to check they are the organization's. */
export function namedStaff(levels: readonly EscalationLevel[]): string[] {
  return [...new Set(levels.flatMap((level) => level.targets.flatMap((t) => ('staffId' in t ? [t.staffId] : []))))];
}
