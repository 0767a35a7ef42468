import { describe, expect, it } from 'vitest';
import { monthUptimes } from './Overview';

describe('monthUptimes', () => {
  it('reads the calendar month from the check list, and null when unknown', () => {
    const got = monthUptimes(
      [
        { name: 'shop', state: 'up', uptime: { '24h': { percent: 100 } as never, '2026-11': { percent: 99.5 } as never } },
        { name: 'api', state: 'up', uptime: { '24h': { percent: 100 } as never } },
      ],
      '2026-11',
    );
    expect(got).toEqual([
      { name: 'shop', percent: 99.5 },
      { name: 'api', percent: null },
    ]);
  });
});
