/**
 * Test audio on top of Hearth's own μ-law codec (src/voice/audio.ts): a deterministic tone and a
 * loudness measure. No test framework here: the demo reuses it.
 */
import { encodeMulaw, MULAW_BYTES_PER_MS, mulawToLinear, TWILIO_SAMPLE_RATE_HZ } from '../../src/voice/audio.js';

export { MULAW_BYTES_PER_MS, mulawSilence } from '../../src/voice/audio.js';

const DEFAULT_TONE_HZ = 440;
// Loud enough to read as speech, well clear of clipping.
const DEFAULT_TONE_AMPLITUDE = 8_000;

/** The mean absolute linear amplitude of μ-law bytes (0 for silence, thousands for speech). */
export function meanAmplitude(bytes: Uint8Array): number {
  if (bytes.length === 0) return 0;
  let sum = 0;
  for (const byte of bytes) sum += Math.abs(mulawToLinear(byte));
  return sum / bytes.length;
}

/** `durationMs` of a sine tone: deterministic, non-silent audio. */
export function mulawTone(durationMs: number, options: { frequencyHz?: number; amplitude?: number } = {}): Buffer {
  const frequencyHz = options.frequencyHz ?? DEFAULT_TONE_HZ;
  const amplitude = options.amplitude ?? DEFAULT_TONE_AMPLITUDE;
  const samples = Array.from(
    { length: Math.round(durationMs * MULAW_BYTES_PER_MS) },
    (_, i) => amplitude * Math.sin((2 * Math.PI * frequencyHz * i) / TWILIO_SAMPLE_RATE_HZ),
  );
  return encodeMulaw(samples);
}
