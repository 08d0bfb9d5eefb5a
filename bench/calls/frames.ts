/**
 * The bench's 20 ms μ-law frames: silence with a timestamp in the first bytes (a marker, then
 * `performance.now()` as a float64), read back where the frame arrives in the same process.
 */
export const FRAME_BYTES = 160;
const MARKER = 0xb7;
const SILENCE = 0xff;

/** A silent frame stamped now. */
export function stampedFrame(): Buffer {
  const frame = Buffer.alloc(FRAME_BYTES, SILENCE);
  stamp(frame);
  return frame;
}

/** Overwrites the frame's stamp with now. */
export function stamp(frame: Buffer): void {
  frame[0] = MARKER;
  frame.writeDoubleLE(performance.now(), 1);
}

/** The frame's stamp, if it has one. */
export function readStamp(frame: Buffer): number | undefined {
  return frame.length >= 9 && frame[0] === MARKER ? frame.readDoubleLE(1) : undefined;
}
