/**
 * Line-based unified diffs between two versions of a block, for its history. Blocks are a few
 * thousand characters, so the quadratic longest-common-subsequence table is cheap.
 */

const CONTEXT_LINES = 3;
/** Beyond this many table cells the diff degrades to "all old lines out, all new lines in". */
const MAX_TABLE_CELLS = 4_000_000;

type Op = { kind: ' ' | '-' | '+'; line: string };

/** The unified diff from `before` to `after`, headed `--- from` / `+++ to`; '' when equal. */
export function unifiedDiff(input: { before: string; after: string; from: string; to: string }): string {
  if (input.before === input.after) return '';
  const ops = diffLines(splitLines(input.before), splitLines(input.after));
  const lines = [`--- ${input.from}`, `+++ ${input.to}`];
  for (const [start, end] of hunkRanges(ops)) lines.push(hunkHeader(ops, start, end), ...renderOps(ops, start, end));
  return lines.join('\n');
}

function splitLines(text: string): string[] {
  return text === '' ? [] : text.split('\n');
}

function diffLines(a: string[], b: string[]): Op[] {
  if (a.length * b.length > MAX_TABLE_CELLS) {
    return [...a.map((line) => ({ kind: '-' as const, line })), ...b.map((line) => ({ kind: '+' as const, line }))];
  }
  // lcs[i][j]: length of the longest common subsequence of a[i..] and b[j..].
  const lcs = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      ops.push({ kind: ' ', line: a[i++]! });
      j++;
    } else if (j < b.length && (i === a.length || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) {
      ops.push({ kind: '+', line: b[j++]! });
    } else {
      ops.push({ kind: '-', line: a[i++]! });
    }
  }
  // Conventional order within a change: removals before additions.
  return reorderChanges(ops);
}

function reorderChanges(ops: Op[]): Op[] {
  const result: Op[] = [];
  let run: Op[] = [];
  const flush = () => {
    result.push(...run.filter((op) => op.kind === '-'), ...run.filter((op) => op.kind === '+'));
    run = [];
  };
  for (const op of ops) {
    if (op.kind === ' ') {
      flush();
      result.push(op);
    } else {
      run.push(op);
    }
  }
  flush();
  return result;
}

/** [start, end) op ranges of each hunk: changes with their context, merged when contexts touch. */
function hunkRanges(ops: Op[]): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  ops.forEach((op, index) => {
    if (op.kind === ' ') return;
    const start = Math.max(0, index - CONTEXT_LINES);
    const end = Math.min(ops.length, index + CONTEXT_LINES + 1);
    const last = ranges.at(-1);
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else ranges.push([start, end]);
  });
  return ranges;
}

function hunkHeader(ops: Op[], start: number, end: number): string {
  const count = (from: number, to: number, side: '-' | '+') =>
    ops.slice(from, to).filter((op) => op.kind === ' ' || op.kind === side).length;
  const range = (side: '-' | '+') => {
    const length = count(start, end, side);
    const before = count(0, start, side);
    // As GNU diff: an empty range is numbered by the line before it, a one-line range has no length.
    if (length === 1) return `${before + 1}`;
    return `${length === 0 ? before : before + 1},${length}`;
  };
  return `@@ -${range('-')} +${range('+')} @@`;
}

function renderOps(ops: Op[], start: number, end: number): string[] {
  return ops.slice(start, end).map((op) => `${op.kind}${op.line}`);
}
