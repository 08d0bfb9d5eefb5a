/**
 * The `lookup_account` tool: the household's account as the agent may tell a caller about it —
 * who the members are, how they are related and what they do for the household, and its time
 * zone. Only a verified member gets it: caller ID alone is not proof.
 */
import type { PrismaClient } from '../db/index.js';
import type { AgentTool } from './tool-runner.js';

export const LOOKUP_ACCOUNT_TOOL = 'lookup_account';

/** `lookup_account`, read from the database at each call, so it is never stale. */
export function lookupAccountTool(prisma: PrismaClient): AgentTool {
  return {
    definition: {
      name: LOOKUP_ACCOUNT_TOOL,
      description:
        "Look up this household's account: its members (name, relationship, role), its time zone and who is " +
        'on this call. Use it when you need to know who someone is.',
      parameters: { type: 'object', properties: {}, additionalProperties: false },
    },
    async run({ scope }) {
      if (scope.memberId === null || !scope.callerVerified) {
        return {
          ok: false,
          output:
            'The account is shown only to a verified member of the household. Ask the caller to verify first ' +
            '(their PIN on a phone call).',
        };
      }
      const household = await prisma.household.findUnique({
        where: { id: scope.householdId },
        select: {
          name: true,
          timezone: true,
          members: { select: { id: true, name: true, relationship: true, role: true }, orderBy: { createdAt: 'asc' } },
        },
      });
      if (!household) return { ok: false, output: 'The household no longer exists.' };
      const members = household.members.map((member) => {
        const about = [member.relationship, member.role === 'member' ? undefined : member.role].filter(Boolean);
        const you = member.id === scope.memberId ? ' — on this call' : '';
        return `- ${member.name}${about.length > 0 ? ` (${about.join(', ')})` : ''}${you}`;
      });
      return {
        ok: true,
        output: [`Household: ${household.name} (time zone ${household.timezone})`, 'Members:', ...members].join('\n'),
      };
    },
  };
}
