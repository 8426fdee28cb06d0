// Small assertion helpers shared by the end-to-end scripts. Failures throw a CheckError whose message
// names the step and the mismatch; the scripts print it and exit non-zero. Values that could be personal
// data (names, national ids) are never put into a message: callers compare those with `same`/`present`
// and the message only says which field differed.

export class CheckError extends Error {
  override name = "CheckError";
}

export function fail(step: string, message: string): never {
  throw new CheckError(`${step}: ${message}`);
}

/** A required environment variable, trimmed. */
export function env(name: string): string {
  const value = process.env[name]?.trim();
  if (!value) {
    throw new CheckError(`environment variable ${name} is not set`);
  }
  return value;
}

/**
 * Fails unless `actual === expected`; both are printed (use only for non-personal values). The type comes
 * from `actual` alone (`NoInfer`), so comparing a field with a value its contract type cannot hold (an enum
 * member that was renamed, say) is a type error, not a silent runtime failure.
 */
export function eq<T extends string | number | boolean | null | undefined>(
  step: string,
  field: string,
  actual: T,
  expected: NoInfer<T>,
): void {
  if (actual !== expected) {
    fail(step, `${field}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

/** Like `eq`, but never prints the values (names, national ids). */
export function same<T>(step: string, field: string, actual: T, expected: NoInfer<T>): void {
  if (actual !== expected) {
    fail(step, `${field} differs from what was sent (values not shown: personal data)`);
  }
}

export function truthy(step: string, what: string, condition: boolean): void {
  if (!condition) {
    fail(step, what);
  }
}

/** Fails unless every expected value is in `actual` (order ignored; values printed). */
export function includesAll<T extends string>(step: string, field: string, actual: readonly T[], expected: readonly NoInfer<T>[]): void {
  const missing = expected.filter((e) => !actual.includes(e));
  if (missing.length > 0) {
    fail(step, `${field}: missing ${JSON.stringify(missing)} in ${JSON.stringify(actual)}`);
  }
}

/** The non-personal parts of an RFC 9457 problem body, or a short description of another body. */
export function describeBody(body: unknown): string {
  if (body === undefined || body === null) {
    return "no body";
  }
  if (typeof body !== "object") {
    return `body ${JSON.stringify(String(body).slice(0, 200))}`;
  }
  const keep = ["type", "title", "status", "detail", "errors", "conflicting_id"];
  const picked = Object.fromEntries(Object.entries(body).filter(([key]) => keep.includes(key)));
  return Object.keys(picked).length > 0 ? `problem ${JSON.stringify(picked)}` : "a body that is not a problem";
}

/** The date `days` after an ISO date (YYYY-MM-DD), in the calendar (no time zone involved). */
export function addDays(isoDate: string, days: number): string {
  const d = new Date(`${isoDate}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** The date `months` after an ISO date; day-of-month overflow rolls over like JavaScript's Date does. */
export function addMonths(isoDate: string, months: number): string {
  const d = new Date(`${isoDate}T00:00:00Z`);
  d.setUTCMonth(d.getUTCMonth() + months);
  return d.toISOString().slice(0, 10);
}

/** Today in Norway (the server's notion of "today" for dates such as `decided_on` and `valid_from`). */
export function osloToday(now: Date = new Date()): string {
  // en-CA formats as YYYY-MM-DD.
  return new Intl.DateTimeFormat("en-CA", {
    timeZone: "Europe/Oslo",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).format(now);
}

/** Prints one line for a passed step. */
export function ok(step: string, detail: string): void {
  console.log(`ok   ${step.padEnd(34)} ${detail}`);
}
