/**
 * Dates in a household's timezone: rendering "now" for the prompt, and turning the dates a
 * model passes to search tools ("2026-11-20", or a date-time) into instants.
 */

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?$/;
const MS_PER_DAY = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

const knownTimeZones = new Map<string, string>();

/** A timezone Intl knows, else UTC (households are validated at the edge; this is the fallback). */
export function safeTimeZone(timeZone: string): string {
  // Building a formatter to find out costs about a millisecond; every compiled context asks.
  let known = knownTimeZones.get(timeZone);
  if (known === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone });
      known = timeZone;
    } catch {
      known = 'UTC';
    }
    knownTimeZones.set(timeZone, known);
  }
  return known;
}

function partsFormatter(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      weekday: 'long',
      year: 'numeric',
      month: 'long',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

type ZonedParts = { year: number; month: number; day: number; hour: number; minute: number; second: number };

function zonedParts(instant: Date, timeZone: string): ZonedParts & { weekday: string; monthName: string } {
  const parts = Object.fromEntries(
    partsFormatter(timeZone)
      .formatToParts(instant)
      .map((p) => [p.type, p.value]),
  );
  return {
    year: Number(parts.year),
    month: MONTHS.indexOf(parts.month ?? '') + 1,
    monthName: parts.month ?? '',
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    weekday: parts.weekday ?? '',
  };
}

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

const pad = (value: number) => String(value).padStart(2, '0');

/** "Thursday, 26 November 2026, 14:05" in `timeZone`; built from parts so it does not vary with ICU versions. */
export function formatDateTime(instant: Date, timeZone: string): string {
  const p = zonedParts(instant, timeZone);
  return `${p.weekday}, ${p.day} ${p.monthName} ${p.year}, ${pad(p.hour)}:${pad(p.minute)}`;
}

/** "2026-11-26 14:05" in `timeZone`, for search results. */
export function formatShortDateTime(instant: Date, timeZone: string): string {
  const p = zonedParts(instant, timeZone);
  return `${p.year}-${pad(p.month)}-${pad(p.day)} ${pad(p.hour)}:${pad(p.minute)}`;
}

/** The instant at which the wall-clock time `local` happens in `timeZone`. */
function zonedInstant(local: ZonedParts, timeZone: string): Date {
  const wall = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second);
  const offsetAt = (instant: number) => {
    const p = zonedParts(new Date(instant), timeZone);
    return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(instant / 1000) * 1000;
  };
  const first = wall - offsetAt(wall);
  // Across a DST change the offset at the guess differs from the offset at the answer.
  const second = wall - offsetAt(first);
  return new Date(second);
}

/**
 * Parses a bound a model gave: a date ("2026-11-20": the whole day in `timeZone`, so `end`
 * includes that day), a local date-time (in `timeZone`), or an ISO date-time with an offset.
 * Undefined when the text is none of these.
 */
export function parseDateBound(text: string, bound: 'start' | 'end', timeZone: string): Date | undefined {
  const date = DATE_ONLY.exec(text);
  if (date) {
    const [year, month, day] = date.slice(1).map(Number) as [number, number, number];
    if (!isRealDate(year, month, day)) return undefined;
    const start = zonedInstant({ year, month, day, hour: 0, minute: 0, second: 0 }, timeZone);
    if (bound === 'start') return start;
    const next = new Date(Date.UTC(year, month - 1, day) + MS_PER_DAY);
    const nextStart = zonedInstant(
      {
        year: next.getUTCFullYear(),
        month: next.getUTCMonth() + 1,
        day: next.getUTCDate(),
        hour: 0,
        minute: 0,
        second: 0,
      },
      timeZone,
    );
    return new Date(nextStart.getTime() - 1);
  }
  const local = LOCAL_DATE_TIME.exec(text);
  if (local) {
    const [year, month, day, hour, minute, second = 0] = local.slice(1).map((part) => Number(part ?? 0)) as number[];
    if (!isRealDate(year!, month!, day!) || hour! > 23 || minute! > 59 || second > 59) return undefined;
    return zonedInstant({ year: year!, month: month!, day: day!, hour: hour!, minute: minute!, second }, timeZone);
  }
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text)) return undefined;
  const instant = new Date(text);
  return Number.isNaN(instant.getTime()) ? undefined : instant;
}

function isRealDate(year: number, month: number, day: number): boolean {
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}
