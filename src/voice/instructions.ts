/** What a phone call adds to the compiled memory: who is on the line, and how to speak on a phone. */

/** Who is calling, as the webhook and the PIN check established it. */
export interface CallerContext {
  /** The member the number (or the PIN) identified; undefined for an unknown caller. */
  memberName: string | undefined;
  /** Whether the caller proved who they are (a known number without a PIN, or the right PIN). */
  verified: boolean;
  /** Whether the caller should be asked for a PIN on the keypad. */
  pinRequested: boolean;
}

/** The model's instructions for a call: the caller's compiled memory, then the call's own rules. */
export function voiceInstructions(input: { compiled: string; caller: CallerContext }): string {
  const { caller } = input;
  const who = caller.memberName
    ? `The caller is ${caller.memberName}, ${caller.verified ? 'verified' : 'not verified yet'}.`
    : 'The caller is not a known member of the household, and not verified.';
  const pin = caller.pinRequested
    ? 'Before anything private, ask them to enter their PIN on the phone keypad, followed by the hash key; ' +
      'you will be told whether it was right.'
    : '';
  const unverified = caller.verified
    ? ''
    : 'Until the caller is verified, share nothing private: only what the memory above shows you.';
  return [
    input.compiled,
    '<phone_call>',
    'You are speaking on the telephone. Keep each reply short and natural to hear; no lists or markup.',
    who,
    pin,
    unverified,
    'When the caller says goodbye, say goodbye briefly and use end_call.',
    '</phone_call>',
  ]
    .filter(Boolean)
    .join('\n');
}
