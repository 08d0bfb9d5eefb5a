/**
 * What the agent knows of escalation, for every call and conversation of a household: the
 * household's rule for what always needs a person, and its open and recent episodes — when,
 * why, how far the paging went, who answered, how it ended, and what the responder said to do
 * next time. A caller at 11 pm about "the breathing thing again" meets an agent that knows.
 */

import { z } from 'zod';
import type { PrismaClient } from '../db/index.js';

/** How far back episodes are recalled unless the household says otherwise. */
export const DEFAULT_HISTORY_DAYS = 7;
/** Kept within this, like a block: the newest episodes stay, the oldest are dropped first. */
export const MAX_ESCALATION_CONTEXT_CHARS = 3000;
const MAX_EPISODES = 20;

// Read leniently: the admin API validates agentSettings on the way in.
const settingsSchema = z.object({
  escalateWhen: z.string().trim().min(1).optional().catch(undefined),
  escalationHistoryDays: z.number().int().min(1).max(90).optional().catch(undefined),
});

/** The `<escalation>` section of a household's context; empty when it has neither a rule nor episodes. */
export async function escalationContext(
  prisma: PrismaClient,
  input: { householdId: string; now?: Date },
): Promise<string> {
  const now = input.now ?? new Date();
  const household = await prisma.household.findUnique({
    where: { id: input.householdId },
    select: { agentSettings: true, timezone: true },
  });
  if (!household) return '';
  const parsed = settingsSchema.safeParse(household.agentSettings);
  const settings = parsed.success ? parsed.data : {};
  const days = settings.escalationHistoryDays ?? DEFAULT_HISTORY_DAYS;
  const since = new Date(now.getTime() - days * 86_400_000);
  const episodes = await prisma.escalation.findMany({
    where: { householdId: input.householdId, OR: [{ createdAt: { gte: since } }, { status: 'open' }] },
    orderBy: { createdAt: 'desc' },
    take: MAX_EPISODES,
  });
  if (!settings.escalateWhen && episodes.length === 0) return '';
  const when = new Intl.DateTimeFormat('en-GB', {
    timeZone: household.timezone,
    dateStyle: 'medium',
    timeStyle: 'short',
  });
  const lines = episodes.map((episode) => {
    const parts = [`- ${when.format(episode.createdAt)}, ${episode.severity}: ${episode.reason}.`];
    parts.push(`Status: ${episode.status}, paging reached level ${episode.level}.`);
    if (episode.acknowledgedBy) parts.push(`Acknowledged by ${episode.acknowledgedBy}.`);
    if (episode.outcome) parts.push(`Outcome: ${episode.outcome}`);
    if (episode.instructions) parts.push(`The responder's instructions for next time: ${episode.instructions}`);
    return parts.join(' ');
  });
  const head = [
    '<escalation>',
    settings.escalateWhen
      ? `This household asks for a person (use the escalate tool) when: ${settings.escalateWhen}`
      : '',
    episodes.length > 0 ? `Episodes in the last ${days} days, newest first:` : '',
  ].filter(Boolean);
  // Newest first, so trimming to the limit drops the oldest.
  const kept: string[] = [];
  let size = head.join('\n').length + '</escalation>'.length;
  for (const line of lines) {
    if (size + line.length + 1 > MAX_ESCALATION_CONTEXT_CHARS) break;
    kept.push(line);
    size += line.length + 1;
  }
  return [...head, ...kept, '</escalation>'].join('\n');
}
