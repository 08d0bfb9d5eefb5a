/**
 * Twilio's incoming-call webhook, after its signature is checked: find the household by the
 * number called and the member by the number calling, start the call once per CallSid, and say
 * how to answer it — connect the media stream, or a short spoken message and a hang-up.
 */
import { z } from 'zod';
import { type CallLifecycle, CallLimitError } from '../calls/index.js';
import type { PrismaClient } from '../db/index.js';
import type { Logger } from '../logger.js';
import { type VoiceDefaults, voiceSettings } from './settings.js';

/** The fields of Twilio's incoming-call request Hearth reads; Twilio sends many more. */
export const incomingCallSchema = z.looseObject({
  CallSid: z.string().regex(/^CA[0-9A-Za-z]{32}$/, 'must be a Twilio call sid (CA and 32 characters)'),
  From: z.string().min(1).max(64),
  To: z.string().min(1).max(64),
});
export type IncomingCall = z.infer<typeof incomingCallSchema>;

export type CallAnswer =
  | { kind: 'connect'; callId: string }
  /** Not an error: the caller hears `say`, then the line hangs up. */
  | { kind: 'decline'; say: string; reason: 'unknown_number' | 'call_limit' | 'ended' };

export const DECLINE_UNKNOWN_NUMBER = 'Sorry, this number is not set up to take calls yet. Goodbye.';
export const DECLINE_CALL_LIMIT =
  'Sorry, every line for this household is busy right now. Please call again in a few minutes. Goodbye.';
const DECLINE_ENDED = 'This call has already ended. Goodbye.';

/** Decides how to answer an incoming call, starting it (once per CallSid) when it is taken. */
export async function answerIncomingCall(
  deps: { prisma: PrismaClient; calls: CallLifecycle; logger: Logger; defaults: VoiceDefaults },
  incoming: IncomingCall,
): Promise<CallAnswer> {
  const { prisma, calls, logger } = deps;
  const line = await prisma.phoneLine.findUnique({
    where: { number: incoming.To },
    select: { organizationId: true, household: { select: { id: true, agentSettings: true } } },
  });
  if (!line?.household) {
    logger.warn({ callSid: incoming.CallSid }, 'incoming call to a number no household owns');
    return { kind: 'decline', say: DECLINE_UNKNOWN_NUMBER, reason: 'unknown_number' };
  }
  const household = line.household;
  // Caller ID identifies a member, but can be spoofed: a member with a PIN must still enter it.
  const member = await prisma.member.findFirst({
    where: { organizationId: line.organizationId, householdId: household.id, phone: incoming.From },
    select: { id: true, pinHash: true },
  });
  const { maxConcurrentCalls } = voiceSettings(household.agentSettings, deps.defaults);
  try {
    const call = await calls.start({
      householdId: household.id,
      memberId: member?.id ?? null,
      channel: 'voice',
      callerVerified: member !== null && member.pinHash === null,
      phone: { callSid: incoming.CallSid, from: incoming.From, to: incoming.To },
      maxLiveCalls: maxConcurrentCalls,
    });
    if (call.status === 'completed' || call.status === 'failed') {
      return { kind: 'decline', say: DECLINE_ENDED, reason: 'ended' };
    }
    return { kind: 'connect', callId: call.id };
  } catch (error) {
    if (!(error instanceof CallLimitError)) throw error;
    logger.warn({ callSid: incoming.CallSid, householdId: household.id }, 'incoming call declined: call limit');
    return { kind: 'decline', say: DECLINE_CALL_LIMIT, reason: 'call_limit' };
  }
}
