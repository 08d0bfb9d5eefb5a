/**
 * Recorded messages the call plays itself, when the model cannot speak: 8 kHz μ-law, as Twilio
 * plays it, made once with espeak-ng and sox (assets/voice/README.md says how).
 */
import { readFile } from 'node:fs/promises';

const CONNECTION_LOST_URL = new URL('../../assets/voice/connection-lost.ulaw', import.meta.url);
let connectionLost: Promise<Buffer> | undefined;

/** "I'm sorry, I've lost my connection. I've told the staff, and someone will call you back. Goodbye." */
export function connectionLostMessage(): Promise<Buffer> {
  connectionLost ??= readFile(CONNECTION_LOST_URL);
  return connectionLost;
}
