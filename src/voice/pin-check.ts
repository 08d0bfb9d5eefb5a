/**
 * Caller verification by PIN on the keypad (DTMF). Caller ID can be spoofed, so a member whose
 * number matched but who has a PIN, or an unknown caller, enters their PIN followed by `#`; it is
 * checked against the PIN hashes of the member the number matched, or of every member of the
 * household with a PIN (an unknown caller). Three wrong tries and the keypad is ignored for the call.
 */
import type { PrismaClient } from '../db/index.js';
import { verifySecret } from '../secrets.js';

export const MAX_PIN_TRIES = 3;
/** PINs are 4–8 digits (the admin API's rule); more keys without `#` is not a PIN. */
const MAX_PIN_DIGITS = 8;

export type PinOutcome =
  | { kind: 'verified'; member: { id: string; name: string } }
  | { kind: 'wrong'; triesLeft: number }
  /** No tries left, or nobody in the household has a PIN to check against. */
  | { kind: 'locked' };

/** What the model is told after a PIN, so it can tell the caller. */
export function pinOutcomeNote(outcome: PinOutcome): string {
  switch (outcome.kind) {
    case 'verified':
      return `The caller entered the right PIN: they are ${outcome.member.name}, now verified.`;
    case 'wrong':
      return `The PIN entered was wrong. ${outcome.triesLeft} ${outcome.triesLeft === 1 ? 'try' : 'tries'} left.`;
    case 'locked':
      return 'No PIN tries are left: the caller stays unverified for this call. Help with anything not private.';
  }
}

/** Collects keys and checks the PIN when `#` is pressed. */
export class PinCheck {
  readonly #prisma: PrismaClient;
  readonly #household: { id: string; organizationId: string };
  readonly #memberId: string | null;
  #digits = '';
  #tries = 0;
  #done = false;

  constructor(input: {
    prisma: PrismaClient;
    household: { id: string; organizationId: string };
    /** The member the caller's number matched; null for an unknown caller. */
    memberId: string | null;
  }) {
    this.#prisma = input.prisma;
    this.#household = input.household;
    this.#memberId = input.memberId;
  }

  /** One key; resolves to undefined until `#` ends a PIN, then to what the PIN proved. */
  async press(digit: string): Promise<PinOutcome | undefined> {
    if (this.#done) return undefined;
    if (digit === '*') {
      this.#digits = '';
      return undefined;
    }
    if (digit !== '#') {
      if (/^\d$/.test(digit) && this.#digits.length < MAX_PIN_DIGITS) this.#digits += digit;
      return undefined;
    }
    const pin = this.#digits;
    this.#digits = '';
    const member = pin ? await this.#match(pin) : undefined;
    if (member) {
      this.#done = true;
      return { kind: 'verified', member };
    }
    this.#tries++;
    if (this.#tries >= MAX_PIN_TRIES) {
      this.#done = true;
      return { kind: 'locked' };
    }
    return { kind: 'wrong', triesLeft: MAX_PIN_TRIES - this.#tries };
  }

  async #match(pin: string): Promise<{ id: string; name: string } | undefined> {
    const candidates = await this.#prisma.member.findMany({
      where: {
        organizationId: this.#household.organizationId,
        householdId: this.#household.id,
        pinHash: { not: null },
        ...(this.#memberId ? { id: this.#memberId } : {}),
      },
      select: { id: true, name: true, pinHash: true },
    });
    for (const candidate of candidates) {
      if (candidate.pinHash && (await verifySecret(pin, candidate.pinHash))) {
        return { id: candidate.id, name: candidate.name };
      }
    }
    return undefined;
  }
}
