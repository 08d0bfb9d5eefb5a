import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HearthError } from '../../src/errors.js';
import {
  AudioFormatError,
  decodeMulaw,
  encodeMulaw,
  frameMulaw,
  linearToMulaw,
  MULAW_BYTES_PER_MS,
  MULAW_SILENCE_BYTE,
  mulawDurationMs,
  mulawRms,
  mulawSilence,
  mulawToLinear,
  mulawToWav,
  SpeechSynthesisError,
  speechToMulaw,
  TWILIO_FRAME_BYTES,
  wavToMulaw,
} from '../../src/voice/audio.js';

const FIXTURES = new URL('../fixtures/audio/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, FIXTURES));
const hasEspeak = spawnSync('espeak-ng', ['--version']).error === undefined;

/** A PCM WAV (format 1) as most tools write it. */
function pcmWav(
  samples: Int16Array,
  sampleRateHz: number,
  channels: number,
  options: { bits?: number; format?: number; dataSize?: number } = {},
) {
  const bits = options.bits ?? 16;
  const data = Buffer.alloc((samples.length * bits) / 8);
  if (bits === 16) for (const [i, s] of samples.entries()) data.writeInt16LE(s, i * 2);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(options.format ?? 1, 20);
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(sampleRateHz, 24);
  header.writeUInt32LE((sampleRateHz * channels * bits) / 8, 28);
  header.writeUInt16LE((channels * bits) / 8, 32);
  header.writeUInt16LE(bits, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(options.dataSize ?? data.length, 40);
  return Buffer.concat([header, data]);
}

function sine(frequencyHz: number, sampleRateHz: number, seconds: number, amplitude: number, channels = 1) {
  const frames = Math.round(sampleRateHz * seconds);
  const out = new Int16Array(frames * channels);
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < channels; c++) {
      out[i * channels + c] = Math.round(amplitude * Math.sin((2 * Math.PI * frequencyHz * i) / sampleRateHz));
    }
  }
  return out;
}

describe('G.711 μ-law', () => {
  it('encodes the known values: 0 is 0xFF (silence), full scale is 0x80/0x00', () => {
    expect(linearToMulaw(0)).toBe(0xff);
    expect(MULAW_SILENCE_BYTE).toBe(0xff);
    expect(mulawToLinear(0xff)).toBe(0);
    expect(mulawToLinear(0x7f)).toBe(0);
    expect(linearToMulaw(32_767)).toBe(0x80);
    expect(linearToMulaw(-32_768)).toBe(0x00);
    expect(mulawToLinear(0x80)).toBe(32_124);
    expect(mulawToLinear(0x00)).toBe(-32_124);
  });

  it('round-trips every code, and every sample within G.711 quantization error', () => {
    for (let byte = 0; byte < 256; byte++) {
      // 0x7F is "negative zero": it decodes to 0, which encodes as 0xFF.
      expect(linearToMulaw(mulawToLinear(byte))).toBe(byte === 0x7f ? 0xff : byte);
    }
    let worst = 0;
    for (let sample = -32_768; sample <= 32_767; sample += 3) {
      const error = Math.abs(mulawToLinear(linearToMulaw(sample)) - sample);
      // Half a step: a 4-bit mantissa gives steps of about 1/16 of the value; clipping above 32,635.
      const allowed = Math.abs(sample) > 32_635 ? 700 : 8 + Math.abs(sample) / 32;
      expect(error).toBeLessThanOrEqual(allowed);
      worst = Math.max(worst, error);
    }
    expect(worst).toBeGreaterThan(0);
  });

  it('encodes and decodes buffers', () => {
    const samples = Int16Array.from([0, 100, -100, 1000, -1000, 30_000]);
    const decoded = decodeMulaw(encodeMulaw(samples));
    expect([...decoded].map((s, i) => Math.abs(s - (samples[i] ?? 0)) <= 8 + Math.abs(samples[i] ?? 0) / 32)).toEqual(
      Array(6).fill(true),
    );
  });

  it('makes silence: 8 bytes a millisecond of 0xFF, with no energy', () => {
    const silence = mulawSilence(20);
    expect(silence.length).toBe(TWILIO_FRAME_BYTES);
    expect(MULAW_BYTES_PER_MS * 20).toBe(160);
    expect(silence.every((b) => b === 0xff)).toBe(true);
    expect(mulawRms(silence)).toBe(0);
  });
});

describe('framing', () => {
  it('splits into 160-byte frames and pads the last with silence', () => {
    const audio = Buffer.alloc(400, 0x10);
    const frames = frameMulaw(audio);
    expect(frames.map((f) => f.length)).toEqual([160, 160, 160]);
    expect(frames[2]?.subarray(0, 80).every((b) => b === 0x10)).toBe(true);
    expect(frames[2]?.subarray(80).every((b) => b === 0xff)).toBe(true);
  });

  it('gives whole frames for whole frames, and none for nothing', () => {
    expect(frameMulaw(Buffer.alloc(320, 1)).length).toBe(2);
    expect(frameMulaw(Buffer.alloc(0))).toEqual([]);
    expect(() => frameMulaw(Buffer.alloc(10), 0)).toThrow(RangeError);
  });
});

describe('WAV', () => {
  it.each([
    ['adaeze-physio-reminder.wav', 4786],
    ['chidi-asks-physio.wav', 3124],
    ['stop-wait.wav', 2267],
  ])('reads the fixture %s: 8 kHz μ-law, %i ms, with speech in it', (name, durationMs) => {
    const wav = fixture(name);
    expect(wav.readUInt16LE(20)).toBe(7);
    expect(wav.readUInt32LE(24)).toBe(8000);
    const mulaw = wavToMulaw(wav);
    expect(mulawDurationMs(mulaw)).toBeCloseTo(durationMs, -1);
    expect(mulawRms(mulaw)).toBeGreaterThan(500);
    // Passed through untouched: the bytes are the file's data chunk.
    expect(wav.toString('ascii', 50, 54)).toBe('data');
    expect(wav.subarray(58, 58 + mulaw.length).equals(mulaw)).toBe(true);
  });

  it('writes μ-law WAVs it (and the format-7 layout sox uses) can read back', () => {
    const audio = encodeMulaw(sine(440, 8000, 0.1, 8000)).subarray(0, 801);
    const wav = mulawToWav(audio);
    expect(wav.toString('ascii', 0, 4)).toBe('RIFF');
    expect(wav.readUInt32LE(4)).toBe(wav.length - 8);
    expect(wavToMulaw(wav).equals(audio)).toBe(true);
  });

  it('resamples PCM 16-bit stereo at 16 kHz to 8 kHz mono', () => {
    const mulaw = wavToMulaw(pcmWav(sine(440, 16_000, 1, 10_000, 2), 16_000, 2));
    expect(mulaw.length).toBe(8000);
    // A sine of amplitude A has an RMS of A/√2.
    expect(mulawRms(mulaw)).toBeGreaterThan(6500);
    expect(mulawRms(mulaw)).toBeLessThan(7500);
  });

  it('reads a streamed WAV whose header claims more data than there is (espeak-ng --stdout)', () => {
    const wav = pcmWav(sine(300, 22_050, 0.5, 5000), 22_050, 1, { dataSize: 0x7ffff000 });
    expect(mulawDurationMs(wavToMulaw(wav))).toBeCloseTo(500, -1);
  });

  it.each([
    ['not a WAV', Buffer.from('ID3 this is an mp3'), /Not a WAV file/],
    ['24-bit PCM', pcmWav(new Int16Array(30), 44_100, 1, { bits: 24 }), /Unsupported WAV audio: PCM 24-bit/],
    ['float', pcmWav(new Int16Array(30), 44_100, 1, { bits: 32, format: 3 }), /format 3 32-bit.*Supported: PCM 16-bit/],
    ['six channels', pcmWav(new Int16Array(60), 48_000, 6), /6 channel/],
    ['no data chunk', pcmWav(new Int16Array(0), 8000, 1).subarray(0, 36), /no data chunk/],
  ])('refuses %s with an AudioFormatError that says what is supported', (_name, wav, message) => {
    const attempt = () => wavToMulaw(wav);
    expect(attempt).toThrow(AudioFormatError);
    expect(attempt).toThrow(HearthError);
    expect(attempt).toThrow(message);
  });
});

describe('speechToMulaw', () => {
  it('tells the user to install espeak-ng or pass an audio file when it is missing', async () => {
    const attempt = speechToMulaw('Hello', { command: 'hearth-test-no-such-espeak' });
    await expect(attempt).rejects.toThrow(SpeechSynthesisError);
    await expect(attempt).rejects.toThrow(/not installed.*apt-get install espeak-ng.*pass an audio file/s);
  });

  it.skipIf(!hasEspeak)('speaks text as 8 kHz μ-law (skipped when espeak-ng is not installed)', async () => {
    const mulaw = await speechToMulaw('When is mum’s physio?');
    expect(mulawDurationMs(mulaw)).toBeGreaterThan(800);
    expect(mulawDurationMs(mulaw)).toBeLessThan(5000);
    expect(mulawRms(mulaw)).toBeGreaterThan(500);
  });
});
