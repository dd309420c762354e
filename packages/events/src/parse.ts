import type { z } from 'zod';
import { EVENT_TYPES, type EventOfType, type EventType, VerihookEvent } from './schemas.js';

/** One thing wrong with an event: where it is (`data.organization_id`) and what is wrong. */
export interface EventIssue {
  path: string;
  code: string;
  message: string;
}

/** The reason a payload is not a Verihook event, naming every offending field. */
export class EventParseError extends Error {
  override readonly name = 'EventParseError';
  readonly code: 'invalid_json' | 'invalid_event';
  readonly issues: EventIssue[];

  constructor(
    code: 'invalid_json' | 'invalid_event',
    issues: EventIssue[],
    options?: ErrorOptions,
  ) {
    const summary = issues.map((issue) => `${issue.path || '(root)'}: ${issue.message}`).join('; ');
    super(`${code === 'invalid_json' ? 'Invalid JSON' : 'Invalid event'}: ${summary}`, options);
    this.code = code;
    this.issues = issues;
  }
}

/** The result of `safeParseEvent`: the typed event, or the error. */
export type ParseEventResult =
  | { success: true; event: VerihookEvent }
  | { success: false; error: EventParseError };

function toIssues(error: z.ZodError): EventIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    code: issue.code,
    message: issue.message,
  }));
}

function decode(input: unknown): unknown {
  if (typeof input !== 'string' && !(input instanceof Uint8Array)) return input;
  const text =
    typeof input === 'string' ? input : new TextDecoder('utf-8', { fatal: true }).decode(input);
  return JSON.parse(text);
}

/**
 * Checks a payload (an object, a JSON string or the raw body bytes) and returns the typed event,
 * or an `EventParseError` listing every offending field. Unknown extra fields are kept.
 */
export function safeParseEvent(input: unknown): ParseEventResult {
  let value: unknown;
  try {
    value = decode(input);
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : String(cause);
    return {
      success: false,
      error: new EventParseError('invalid_json', [{ path: '', code: 'invalid_json', message }], {
        cause,
      }),
    };
  }

  const result = VerihookEvent.safeParse(value);
  if (result.success) return { success: true, event: result.data };
  return { success: false, error: new EventParseError('invalid_event', toIssues(result.error)) };
}

/** Like `safeParseEvent`, but throws the `EventParseError`. */
export function parseEvent(input: unknown): VerihookEvent {
  const result = safeParseEvent(input);
  if (!result.success) throw result.error;
  return result.event;
}

/** Whether a string names one of Verihook's event types. */
export function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && (EVENT_TYPES as readonly string[]).includes(value);
}

/** Narrows an event to one type: `if (isEvent(event, 'organization.domain_deleted')) …`. */
export function isEvent<T extends EventType>(
  event: VerihookEvent,
  type: T,
): event is EventOfType<T> {
  return event.type === type;
}

/** Marks the end of an exhaustive `switch (event.type)`: it does not compile if a type is left out. */
export function assertNever(value: never): never {
  throw new Error(
    `Unexpected event type: ${JSON.stringify((value as { type?: unknown })?.type ?? value)}`,
  );
}

/** A handler for every event type, checked by the compiler: leave one out and it does not compile. */
export type EventHandlers<R = void> = { [T in EventType]: (event: EventOfType<T>) => R };

/** Calls the handler for the event's type from a map that must cover every type. */
export function dispatchEvent<R>(event: VerihookEvent, handlers: EventHandlers<R>): R {
  const handler = handlers[event.type] as (event: VerihookEvent) => R;
  return handler(event);
}
