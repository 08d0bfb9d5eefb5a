/** Path parameters shared by the admin routes. */
import { z } from 'zod';
import { blockLabel } from '../memory-schemas.js';

export const householdParams = z.object({ householdId: z.uuid().describe('Household id') });
export const memberParams = householdParams.extend({ memberId: z.uuid().describe('Member id') });
export const householdBlockParams = householdParams.extend({ label: blockLabel });
export const memberBlockParams = memberParams.extend({ label: blockLabel });
export const callParams = householdParams.extend({ callId: z.uuid().describe('Call id') });
export const passageParams = householdParams.extend({ passageId: z.uuid().describe('Passage id') });
export const phoneLineParams = z.object({ phoneLineId: z.uuid().describe('Phone line id') });
export const apiKeyParams = z.object({ keyId: z.uuid().describe('API key id') });
