// Structured log lines: one JSON object per line on stdout. Never pass a secret or a body.
export type Log = (entry: Record<string, unknown>) => void;

/** Writes each entry as one JSON line, with the time first. */
export const jsonLog: Log = (entry) => {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`);
};

/** Drops every entry: the default for tests and for apps that bring their own logger. */
export const silentLog: Log = () => {};

/** An error as one log field: its stack where it has one. */
export function errorText(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
