import { describe, expect, it } from 'vitest';
import {
  certWords,
  countStates,
  daysLeft,
  filterChecks,
  monthKey,
  promString,
  sortChecks,
  stateWords,
  whereText,
  withDurations,
  worstLocation,
  type Check,
} from './pages/checksModel';

function check(name: string, state: string, extra: Partial<Check> = {}): Check {
  return {
    name,
    kind: 'http',
    target: 'https://' + name + '.example.com/',
    interval_seconds: 60,
    timeout_seconds: 10,
    latency_threshold_seconds: 3,
    run_on: 'server',
    state,
    locations: [{ location: 'server', state, since: '2026-11-01T00:00:00Z', last_duration_seconds: 0.1 }],
    uptime: {},
    ...extra,
  };
}

const up = (p: number | null) => ({ '24h': { from: '', to: '', percent: p, up_seconds: 0, degraded_seconds: 0, down_seconds: 0, unknown_seconds: 0, downs: 0 } });

describe('states', () => {
  it('has words and tones', () => {
    expect(stateWords('down')).toEqual(['bad', 'Down']);
    expect(stateWords('degraded')).toEqual(['warn', 'Degraded']);
    expect(stateWords('up')).toEqual(['ok', 'Up']);
    expect(stateWords('whatever')).toEqual(['muted', 'Unknown']);
  });
  it('finds the worst location', () => {
    const c = check('a', 'down', {
      locations: [
        { location: 'a', state: 'up', since: '', last_duration_seconds: 0 },
        { location: 'b', state: 'down', reason: 'refused', since: '', last_duration_seconds: 0 },
        { location: 'c', state: 'degraded', since: '', last_duration_seconds: 0 },
      ],
    });
    expect(worstLocation(c)?.location).toBe('b');
    expect(worstLocation(check('x', 'pending', { locations: [] }))).toBeUndefined();
  });
});

describe('whereText', () => {
  it('says where', () => {
    expect(whereText(check('a', 'up'))).toBe('server');
    expect(whereText({ run_on: 'agents{role=web,site=jhb}', locations: [] })).toBe('agents role=web, site=jhb (none reporting yet)');
    expect(whereText({ run_on: 'agents{role=web}', locations: check('a', 'up').locations })).toBe('agents role=web (1 place)');
  });
});

describe('certificates', () => {
  const now = Date.parse('2026-11-01T00:00:00Z');
  it('counts days', () => {
    expect(daysLeft(now / 1000 + 86400 * 3, now)).toBe(3);
  });
  it('warns against the threshold', () => {
    expect(certWords(40, 14)).toEqual(['ok', '40 d']);
    expect(certWords(10.7, 14)).toEqual(['warn', '10 d']);
    expect(certWords(2.5, 14)).toEqual(['bad', '2 d']);
    expect(certWords(0.25, 14)).toEqual(['bad', '6 h']);
    expect(certWords(-0.5, 14)).toEqual(['bad', 'expired']);
    expect(certWords(-3.2, 14)).toEqual(['bad', 'expired 3 d ago']);
    expect(certWords(20, 21)).toEqual(['warn', '20 d']);
  });
});

describe('filterChecks', () => {
  const list = [
    check('shop', 'down', { labels: { team: 'web' } }),
    check('db', 'degraded', { kind: 'postgres' }),
    check('api', 'up', { description: 'Public API' }),
    check('new', 'pending'),
  ];
  it('filters by state and problems', () => {
    expect(filterChecks(list, { state: 'down', text: '' }).map((c) => c.name)).toEqual(['shop']);
    expect(filterChecks(list, { state: 'problems', text: '' }).map((c) => c.name)).toEqual(['shop', 'db']);
    expect(filterChecks(list, { state: '', text: '' })).toHaveLength(4);
  });
  it('filters by every word of the text, in names, kinds, labels and descriptions', () => {
    expect(filterChecks(list, { state: '', text: 'team=web' }).map((c) => c.name)).toEqual(['shop']);
    expect(filterChecks(list, { state: '', text: 'POSTGRES' }).map((c) => c.name)).toEqual(['db']);
    expect(filterChecks(list, { state: '', text: 'public api' }).map((c) => c.name)).toEqual(['api']);
    expect(filterChecks(list, { state: '', text: 'public shop' })).toEqual([]);
  });
});

describe('sortChecks', () => {
  const list = [check('b', 'up', { uptime: up(99) }), check('a', 'down', { uptime: up(50) }), check('c', 'degraded', { uptime: up(null) }), check('d', 'up', { uptime: up(100) })];
  it('puts the worst state first, ties by name', () => {
    expect(sortChecks(list, 'state', false).map((c) => c.name)).toEqual(['a', 'c', 'b', 'd']);
    expect(sortChecks(list, 'state', true).map((c) => c.name)).toEqual(['b', 'd', 'c', 'a']);
  });
  it('sorts numbers with missing ones last both ways', () => {
    expect(sortChecks(list, 'uptime24h', false).map((c) => c.name)).toEqual(['a', 'b', 'd', 'c']);
    expect(sortChecks(list, 'uptime24h', true).map((c) => c.name)).toEqual(['d', 'b', 'a', 'c']);
  });
  it('uses extra numbers', () => {
    const lat: Record<string, number> = { a: 0.5, b: 0.1, d: 2 };
    expect(sortChecks(list, 'latency', true, (c) => ({ latency: lat[c.name] })).map((c) => c.name)).toEqual(['d', 'a', 'b', 'c']);
  });
  it('does not change its input', () => {
    const copy = [...list];
    sortChecks(list, 'name', true);
    expect(list).toEqual(copy);
  });
});

describe('withDurations', () => {
  it('measures each state until the next change at its location', () => {
    const now = Date.parse('2026-11-01T01:00:00Z');
    const rows = withDurations(
      [
        { check: 'x', location: 'server', time: '2026-11-01T00:00:00Z', state: 'down' },
        { check: 'x', location: 'server', time: '2026-11-01T00:10:00Z', state: 'up' },
        { check: 'x', location: 'web-1', time: '2026-11-01T00:30:00Z', state: 'down' },
      ],
      now,
    );
    expect(rows.map((r) => [r.location, r.state, r.lasted, r.current])).toEqual([
      ['web-1', 'down', 1800, true],
      ['server', 'up', 3000, true],
      ['server', 'down', 600, false],
    ]);
  });
});

describe('small helpers', () => {
  it('counts results worst first', () => {
    expect(countStates([{ state: 'up' }, { state: 'down' }, { state: 'up' }])).toEqual([
      ['down', 1],
      ['up', 2],
    ]);
  });
  it('names the month', () => {
    expect(monthKey(new Date(2026, 0, 15))).toBe('2026-01');
  });
  it('quotes PromQL strings', () => {
    expect(promString('a"b\\c')).toBe('"a\\"b\\\\c"');
  });
});
