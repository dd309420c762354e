// Recognizing database errors across drivers (postgres.js, PGlite) and drizzle's wrapper.

interface DriverError {
  code?: unknown;
  constraint_name?: unknown;
  constraint?: unknown;
  cause?: unknown;
}

function driverErrors(error: unknown): DriverError[] {
  const chain: DriverError[] = [];
  let current: unknown = error;
  while (current && typeof current === 'object' && chain.length < 5) {
    chain.push(current as DriverError);
    current = (current as DriverError).cause;
  }
  return chain;
}

/** The constraint a unique violation (SQLSTATE 23505) hit, or undefined for any other error. */
export function uniqueViolation(error: unknown): string | undefined {
  const found = driverErrors(error).find((entry) => entry.code === '23505');
  if (!found) return undefined;
  const name = found.constraint_name ?? found.constraint;
  return typeof name === 'string' ? name : '';
}

/** Whether PostgreSQL refused text it cannot store: a NUL character (22021, or 22P05 in jsonb). */
export function unstorableText(error: unknown): boolean {
  return driverErrors(error).some((entry) => entry.code === '22021' || entry.code === '22P05');
}
