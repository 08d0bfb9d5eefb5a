import type { Call } from '../db/index.js';
import type { SessionScope } from '../memory/index.js';

/** The memory scope of a call or chat: its household, its member, and whether they verified. */
export function callScope(call: Call): SessionScope {
  return {
    organizationId: call.organizationId,
    householdId: call.householdId,
    memberId: call.memberId,
    callId: call.id,
    callerVerified: call.callerVerified,
  };
}
