export {
  assertNever,
  dispatchEvent,
  type EventHandlers,
  type EventIssue,
  EventParseError,
  isEvent,
  isEventType,
  type ParseEventResult,
  parseEvent,
  safeParseEvent,
} from './parse.js';
export * from './schemas.js';
