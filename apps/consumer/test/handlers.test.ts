import { EVENT_TYPES, type EventHandlers } from '@verihook/events';
import { describe, expect, it } from 'vitest';
import type { Tx } from '../src/db/index.ts';
import { handlers } from '../src/handlers/index.ts';

describe('handlers', () => {
  it('has one handler for every event type', () => {
    const built = handlers({} as Tx);

    expect(Object.keys(built).sort()).toEqual([...EVENT_TYPES].sort());
  });

  it('is a map the compiler refuses when an event type is missing', () => {
    // @ts-expect-error organization.domain_deleted and two others have no handler
    const incomplete: EventHandlers<Promise<void>> = {
      'organization.domain_created': async () => {},
    };

    expect(Object.keys(incomplete)).toEqual(['organization.domain_created']);
  });
});
