/**
 * Escalation (DESIGN.md §6): on-call staff, who is on call when, and policies whose levels page
 * people one after another until someone acknowledges. So far: the policy model; paging, the
 * `escalate` tool and acknowledgements come next (issue 11).
 */
export {
  type EscalationLevel,
  escalationLevelSchema,
  escalationLevelsSchema,
  namedStaff,
  pageChannelSchema,
} from './policy.js';
