/**
 * Telephone audio as Twilio carries it: G.711 μ-law, 8 kHz, mono, in 20 ms frames of 160 bytes.
 * Encode/decode, framing, a small WAV reader and writer, and text to μ-law through `espeak-ng`.
 * Everything but `speechToMulaw` is pure and synchronous.
 */
import { spawn } from 'node:child_process';
import { HearthError, UnavailableError, ValidationError } from '../errors.js';

/** μ-law of a zero sample: what Twilio plays as silence. */
export const MULAW_SILENCE_BYTE = 0xff;
/** Twilio's sample rate for Media Streams. */
export const TWILIO_SAMPLE_RATE_HZ = 8000;
/** One byte per sample at 8 kHz. */
export const MULAW_BYTES_PER_MS = 8;
/** Twilio sends (and plays) audio in 20 ms frames. */
export const TWILIO_FRAME_MS = 20;
export const TWILIO_FRAME_BYTES = TWILIO_FRAME_MS * MULAW_BYTES_PER_MS;

const MULAW_BIAS = 0x84;
/** Largest magnitude μ-law can carry once the bias is added (G.711). */
const MULAW_CLIP = 32_635;

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_MULAW = 7;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
/** Longest clip we read; a WAV claiming more is a mistake, not a phone call. */
const MAX_WAV_DURATION_MS = 30 * 60 * 1000;
/** espeak-ng's output for a long paragraph is a few MB; this bounds a runaway process. */
const MAX_ESPEAK_OUTPUT_BYTES = 64 * 1024 * 1024;

/** A WAV file we cannot read: the message says what was found and what is supported. */
export class AudioFormatError extends ValidationError {}

/** Text-to-speech is unavailable: `espeak-ng` is not installed or failed. */
export class SpeechSynthesisError extends UnavailableError {}

/** Encodes one 16-bit linear PCM sample as a G.711 μ-law byte. */
export function linearToMulaw(sample: number): number {
  let magnitude = Math.trunc(sample);
  const sign = magnitude < 0 ? 0x80 : 0;
  if (sign) magnitude = -magnitude;
  if (magnitude > MULAW_CLIP) magnitude = MULAW_CLIP;
  magnitude += MULAW_BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (magnitude & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (magnitude >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

const MULAW_DECODE_TABLE = (() => {
  const table = new Int16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    const inverted = ~byte & 0xff;
    const exponent = (inverted >> 4) & 0x07;
    const magnitude = ((((inverted & 0x0f) << 3) + MULAW_BIAS) << exponent) - MULAW_BIAS;
    table[byte] = inverted & 0x80 ? -magnitude : magnitude;
  }
  return table;
})();

/** Decodes one G.711 μ-law byte to a 16-bit linear PCM sample. */
export function mulawToLinear(byte: number): number {
  return MULAW_DECODE_TABLE[byte & 0xff] ?? 0;
}

/** Encodes 16-bit linear PCM samples as μ-law bytes. */
export function encodeMulaw(samples: ArrayLike<number>): Buffer {
  const out = Buffer.allocUnsafe(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = linearToMulaw(samples[i] ?? 0);
  return out;
}

/** Decodes μ-law bytes to 16-bit linear PCM samples. */
export function decodeMulaw(mulaw: Uint8Array): Int16Array {
  const out = new Int16Array(mulaw.length);
  for (let i = 0; i < mulaw.length; i++) out[i] = MULAW_DECODE_TABLE[mulaw[i] ?? MULAW_SILENCE_BYTE] ?? 0;
  return out;
}

/** `ms` of μ-law silence. */
export function mulawSilence(ms: number): Buffer {
  return Buffer.alloc(Math.max(0, Math.round(ms * MULAW_BYTES_PER_MS)), MULAW_SILENCE_BYTE);
}

/** Duration of μ-law audio at 8 kHz, in ms. */
export function mulawDurationMs(mulaw: Uint8Array): number {
  return mulaw.length / MULAW_BYTES_PER_MS;
}

/** Splits μ-law audio into 20 ms frames as Twilio sends them; the last one is padded with silence. */
export function frameMulaw(mulaw: Uint8Array, frameBytes = TWILIO_FRAME_BYTES): Buffer[] {
  if (!Number.isInteger(frameBytes) || frameBytes <= 0) throw new RangeError('frameBytes must be a positive integer');
  const frames: Buffer[] = [];
  for (let offset = 0; offset < mulaw.length; offset += frameBytes) {
    const frame = Buffer.alloc(frameBytes, MULAW_SILENCE_BYTE);
    frame.set(mulaw.subarray(offset, offset + frameBytes));
    frames.push(frame);
  }
  return frames;
}

/** Root-mean-square level of μ-law audio in linear units (0 for digital silence, ~32k at full scale). */
export function mulawRms(mulaw: Uint8Array): number {
  if (mulaw.length === 0) return 0;
  let sum = 0;
  for (const sample of decodeMulaw(mulaw)) sum += sample * sample;
  return Math.sqrt(sum / mulaw.length);
}

/**
 * Resamples mono PCM to 8 kHz by linear interpolation. When downsampling, a moving average as
 * wide as the rate ratio runs first: without it, speech energy above 4 kHz folds back as hiss.
 */
export function resampleTo8k(samples: Int16Array, sampleRateHz: number): Int16Array {
  if (sampleRateHz === TWILIO_SAMPLE_RATE_HZ) return samples;
  const ratio = sampleRateHz / TWILIO_SAMPLE_RATE_HZ;
  let source: ArrayLike<number> = samples;
  const width = Math.round(ratio);
  if (width > 1) {
    const smoothed = new Float64Array(samples.length);
    let sum = 0;
    for (let i = 0; i < samples.length; i++) {
      sum += samples[i] ?? 0;
      if (i >= width) sum -= samples[i - width] ?? 0;
      smoothed[i] = sum / Math.min(i + 1, width);
    }
    source = smoothed;
  }
  const outLength = Math.floor(samples.length / ratio);
  const out = new Int16Array(outLength);
  for (let i = 0; i < outLength; i++) {
    const position = i * ratio;
    const index = Math.floor(position);
    const a = source[index] ?? 0;
    const b = source[index + 1] ?? a;
    out[i] = Math.round(a + (b - a) * (position - index));
  }
  return out;
}

interface WavFormat {
  format: number;
  channels: number;
  sampleRateHz: number;
  bitsPerSample: number;
  blockAlign: number;
}

/** Describes a WAV for error messages. */
function describe(format: WavFormat): string {
  const name =
    format.format === WAVE_FORMAT_PCM
      ? 'PCM'
      : format.format === WAVE_FORMAT_MULAW
        ? 'μ-law'
        : `format ${format.format}`;
  return `${name} ${format.bitsPerSample}-bit, ${format.channels} channel(s), ${format.sampleRateHz} Hz`;
}

const SUPPORTED_WAV = 'Supported: PCM 16-bit or μ-law (format 7) 8-bit, mono or stereo, any sample rate';

/** Reads the `fmt ` and `data` chunks of a RIFF/WAVE file. */
function readWavChunks(wav: Uint8Array): { format: WavFormat; data: Buffer } {
  const buf = Buffer.from(wav.buffer, wav.byteOffset, wav.byteLength);
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') {
    throw new AudioFormatError(`Not a WAV file (no RIFF/WAVE header). ${SUPPORTED_WAV}.`);
  }
  let format: WavFormat | undefined;
  let data: Buffer | undefined;
  let offset = 12;
  while (offset + 8 <= buf.length) {
    const id = buf.toString('ascii', offset, offset + 4);
    const declared = buf.readUInt32LE(offset + 4);
    const start = offset + 8;
    // Streamed WAVs (espeak-ng --stdout) declare a huge data size they never wrote: read what is there.
    const end = Math.min(start + declared, buf.length);
    if (id === 'fmt ') {
      if (end - start < 16) throw new AudioFormatError('The WAV file has a truncated fmt chunk.');
      let tag = buf.readUInt16LE(start);
      if (tag === WAVE_FORMAT_EXTENSIBLE && end - start >= 26) tag = buf.readUInt16LE(start + 24);
      format = {
        format: tag,
        channels: buf.readUInt16LE(start + 2),
        sampleRateHz: buf.readUInt32LE(start + 4),
        blockAlign: buf.readUInt16LE(start + 12),
        bitsPerSample: buf.readUInt16LE(start + 14),
      };
    } else if (id === 'data') {
      data = buf.subarray(start, end);
      break;
    }
    offset = start + declared + (declared % 2);
  }
  if (!format) throw new AudioFormatError('The WAV file has no fmt chunk.');
  if (!data) throw new AudioFormatError('The WAV file has no data chunk.');
  return { format, data };
}

/**
 * Reads a WAV file into 8 kHz mono μ-law, ready for Twilio. μ-law 8 kHz mono passes through
 * untouched; PCM 16-bit (or μ-law at another rate or with two channels) is mixed down and resampled.
 */
export function wavToMulaw(wav: Uint8Array): Buffer {
  const { format, data } = readWavChunks(wav);
  const bytesPerSample = format.bitsPerSample / 8;
  const supported =
    ((format.format === WAVE_FORMAT_PCM && format.bitsPerSample === 16) ||
      (format.format === WAVE_FORMAT_MULAW && format.bitsPerSample === 8)) &&
    (format.channels === 1 || format.channels === 2) &&
    format.sampleRateHz >= 4000 &&
    format.sampleRateHz <= 192_000;
  if (!supported) throw new AudioFormatError(`Unsupported WAV audio: ${describe(format)}. ${SUPPORTED_WAV}.`);
  const frameBytes = bytesPerSample * format.channels;
  const frames = Math.floor(data.length / frameBytes);
  if (frames / format.sampleRateHz > MAX_WAV_DURATION_MS / 1000) {
    throw new AudioFormatError(`The WAV file is longer than ${MAX_WAV_DURATION_MS / 60_000} minutes.`);
  }
  if (format.format === WAVE_FORMAT_MULAW && format.channels === 1 && format.sampleRateHz === TWILIO_SAMPLE_RATE_HZ) {
    return Buffer.from(data.subarray(0, frames));
  }
  const mono = new Int16Array(frames);
  for (let i = 0; i < frames; i++) {
    let sum = 0;
    for (let channel = 0; channel < format.channels; channel++) {
      const at = i * frameBytes + channel * bytesPerSample;
      sum += format.format === WAVE_FORMAT_PCM ? data.readInt16LE(at) : mulawToLinear(data[at] ?? MULAW_SILENCE_BYTE);
    }
    mono[i] = Math.round(sum / format.channels);
  }
  return encodeMulaw(resampleTo8k(mono, format.sampleRateHz));
}

/** Writes 8 kHz mono μ-law as a WAV file (format 7), as `sox` does for `-e u-law`. */
export function mulawToWav(mulaw: Uint8Array): Buffer {
  // fmt is 18 bytes (cbSize 0) and a fact chunk follows: RIFF requires both for non-PCM formats.
  const header = Buffer.alloc(58);
  const padding = mulaw.length % 2;
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(50 + mulaw.length + padding, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(18, 16);
  header.writeUInt16LE(WAVE_FORMAT_MULAW, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(TWILIO_SAMPLE_RATE_HZ, 24);
  header.writeUInt32LE(TWILIO_SAMPLE_RATE_HZ, 28);
  header.writeUInt16LE(1, 32);
  header.writeUInt16LE(8, 34);
  header.writeUInt16LE(0, 36);
  header.write('fact', 38, 'ascii');
  header.writeUInt32LE(4, 42);
  header.writeUInt32LE(mulaw.length, 46);
  header.write('data', 50, 'ascii');
  header.writeUInt32LE(mulaw.length, 54);
  return Buffer.concat([header, mulaw, Buffer.alloc(padding)]);
}

export interface SpeechOptions {
  /** An espeak-ng voice, e.g. `en-gb` or `en-us` (default `en-gb`). */
  voice?: string;
  /** Speaking rate in words per minute (espeak-ng's default is 175). */
  wordsPerMinute?: number;
  /** The program to run; default `espeak-ng` from PATH. */
  command?: string;
}

/**
 * Speaks `text` with `espeak-ng` and returns it as 8 kHz μ-law. Throws `SpeechSynthesisError`
 * when espeak-ng is not installed.
 *
 * @example
 * const mulaw = await speechToMulaw('When is mum’s physio?');
 */
export async function speechToMulaw(text: string, options: SpeechOptions = {}): Promise<Buffer> {
  if (text.trim() === '') throw new ValidationError('speechToMulaw needs some text to speak.');
  const command = options.command ?? 'espeak-ng';
  const args = ['--stdout', '--stdin', '-v', options.voice ?? 'en-gb'];
  if (options.wordsPerMinute !== undefined) args.push('-s', String(Math.round(options.wordsPerMinute)));
  const wav = await new Promise<Buffer>((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let size = 0;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_ESPEAK_OUTPUT_BYTES) child.kill();
      else chunks.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'ENOENT'
          ? new SpeechSynthesisError(
              `${command} is not installed (not found on PATH), so text cannot be spoken. Install it ` +
                '(Debian/Ubuntu: `sudo apt-get install espeak-ng`; macOS: `brew install espeak-ng`), ' +
                'or pass an audio file (a WAV) instead of text.',
              { cause: error },
            )
          : new SpeechSynthesisError(`Could not run ${command}: ${error.message}`, { cause: error }),
      );
    });
    child.on('close', (code) => {
      // After a spawn 'error' the promise is already rejected; this second settle is a no-op.
      if (code === 0 && size <= MAX_ESPEAK_OUTPUT_BYTES) resolve(Buffer.concat(chunks));
      else reject(new SpeechSynthesisError(`${command} failed (exit ${code}): ${stderr.trim() || 'no output'}`));
    });
    // EPIPE when the program exits early is reported through 'close'.
    child.stdin.on('error', () => {});
    child.stdin.end(text, 'utf8');
  });
  try {
    return wavToMulaw(wav);
  } catch (error) {
    if (error instanceof HearthError) {
      throw new SpeechSynthesisError(`${command} produced audio Hearth cannot read: ${error.message}`, {
        cause: error,
      });
    }
    throw error;
  }
}
