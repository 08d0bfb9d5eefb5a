/**
 * G.711 μ-law at 8 kHz, as Twilio and the Realtime API's `audio/pcmu` carry it: one byte a sample,
 * 160 bytes a 20 ms frame, 0xFF for silence. Enough to make test audio and to measure it; no test
 * framework here, the CLI demo reuses it.
 */

export const MULAW_SAMPLE_RATE_HZ = 8_000;
export const MULAW_BYTES_PER_MILLISECOND = MULAW_SAMPLE_RATE_HZ / 1_000;
/** μ-law's encoding of 0. */
export const MULAW_SILENCE_BYTE = 0xff;

const BIAS = 0x84;
const CLIP = 32_635;
const DEFAULT_TONE_HZ = 440;
// Loud enough to read as speech, well clear of clipping.
const DEFAULT_TONE_AMPLITUDE = 8_000;

/** One μ-law byte to a 16-bit linear sample. */
export function mulawToLinear(byte: number): number {
  const u = ~byte & 0xff;
  const exponent = (u >> 4) & 0x07;
  const magnitude = ((((u & 0x0f) << 3) + BIAS) << exponent) - BIAS;
  return u & 0x80 ? -magnitude : magnitude;
}

/** A 16-bit linear sample to one μ-law byte. */
export function linearToMulaw(sample: number): number {
  const sign = sample < 0 ? 0x80 : 0;
  let magnitude = Math.min(Math.abs(Math.round(sample)), CLIP) + BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (magnitude & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (magnitude >> (exponent + 3)) & 0x0f;
  magnitude = ~(sign | (exponent << 4) | mantissa);
  return magnitude & 0xff;
}

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
  const samples = Math.round(durationMs * MULAW_BYTES_PER_MILLISECOND);
  const bytes = Buffer.alloc(samples);
  for (let i = 0; i < samples; i++) {
    bytes[i] = linearToMulaw(amplitude * Math.sin((2 * Math.PI * frequencyHz * i) / MULAW_SAMPLE_RATE_HZ));
  }
  return bytes;
}

/** `durationMs` of digital silence. */
export function mulawSilence(durationMs: number): Buffer {
  return Buffer.alloc(Math.round(durationMs * MULAW_BYTES_PER_MILLISECOND), MULAW_SILENCE_BYTE);
}
