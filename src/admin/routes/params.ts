/** Path parameters shared by the admin routes. */
import { z } from 'zod';
import { blockLabel } from '../memory-schemas.js';
import { uuid } from '../schemas.js';

export const householdParams = z.object({ householdId: uuid.describe('Household id') });
export const memberParams = householdParams.extend({ memberId: uuid.describe('Member id') });
export const householdBlockParams = householdParams.extend({ label: blockLabel });
export const memberBlockParams = memberParams.extend({ label: blockLabel });
export const callParams = householdParams.extend({ callId: uuid.describe('Call id') });
export const passageParams = householdParams.extend({ passageId: uuid.describe('Passage id') });
export const phoneLineParams = z.object({ phoneLineId: uuid.describe('Phone line id') });
export const apiKeyParams = z.object({ keyId: uuid.describe('API key id') });
