// Unit tests of the pure helpers behind the router, time range, charts,
// overview and explorer.
import { describe, expect, it } from 'vitest';
import { matchPath } from './router';
import { parseTimeRange, resolveRange, stepFor } from './timerange';
import { hostState, matchesFilter, sortWorstFirst, type Host } from './pages/Overview';
import { suggest, wordAt } from './pages/Explore';
import { hostSelector } from './pages/Host';
import { safeNext } from './pages/Login';

describe('matchPath', () => {
  it.each([
    ['/', '/', {}],
    ['/hosts/:instance', '/hosts/db-1', { instance: 'db-1' }],
    ['/hosts/:instance', '/hosts/a%2Fb%20c', { instance: 'a/b c' }],
    ['/hosts/:instance', '/hosts', null],
    ['/checks', '/checks/x', null],
    ['/incidents/:id', '/incidents/12/', { id: '12' }],
    ['/hosts/:instance', '/hosts/%E0%A4%A', null],
  ])('%s ~ %s', (pattern, path, want) => expect(matchPath(pattern, path)).toEqual(want));
});

describe('time range', () => {
  it('defaults to the last hour, no refresh', () => {
    expect(parseTimeRange(new URLSearchParams(''))).toEqual({ range: '1h', from: 0, to: 0, refresh: 0, refreshText: 'off' });
  });
  it('reads relative, absolute and refresh', () => {
    expect(parseTimeRange(new URLSearchParams('range=7d&refresh=30s'))).toMatchObject({ range: '7d', refresh: 30 });
    expect(parseTimeRange(new URLSearchParams('from=100&to=200&range=1h'))).toMatchObject({ range: '', from: 100, to: 200 });
    expect(parseTimeRange(new URLSearchParams('from=200&to=100'))).toMatchObject({ range: '1h' });
    expect(parseTimeRange(new URLSearchParams('range=bogus&refresh=2s'))).toMatchObject({ range: '1h', refresh: 0 });
  });
  it('resolves bounds', () => {
    expect(resolveRange(parseTimeRange(new URLSearchParams('range=15m')), 10000)).toEqual({ start: 9100, end: 10000 });
    expect(resolveRange(parseTimeRange(new URLSearchParams('from=5&to=9')), 10000)).toEqual({ start: 5, end: 9 });
  });
  it('sizes steps to the width, tidy and at least the scrape interval', () => {
    expect(stepFor(0, 3600, 600)).toBe(15); // 12 s/point → the 15 s floor
    expect(stepFor(0, 86400, 600)).toBe(300); // 288 s → 5 min
    expect(stepFor(0, 30 * 86400, 800)).toBe(7200); // 6480 s → 2 h
    expect(stepFor(0, 3600, 0)).toBe(600); // at least 10 points
  });
});

const host = (over: Partial<Host>): Host => ({
  instance: 'h',
  hostname: 'h',
  os: 'Debian',
  kernel: '',
  arch: '',
  cpus: 1,
  memory_bytes: 0,
  labels: {},
  boot_time: null,
  last_seen: new Date(1_000_000).toISOString(),
  status: 'up',
  status_since: null,
  heartbeat_interval_seconds: 15,
  ...over,
});

describe('overview', () => {
  const now = 1_000_000 + 30_000;
  it('host state', () => {
    expect(hostState(host({}), true, now)).toBe('up');
    expect(hostState(host({ status: 'down' }), true, now)).toBe('down');
    expect(hostState(host({}), false, now)).toBe('stale');
    expect(hostState(host({}), true, 1_000_000 + 200_000)).toBe('stale');
    expect(hostState(host({ last_seen: null }), true, now)).toBe('stale');
  });
  it('sorts down, stale, then by highest use, then name', () => {
    const rows = [
      { host: host({ instance: 'b' }), state: 'up' as const, worst: 10 },
      { host: host({ instance: 'a' }), state: 'up' as const, worst: 10 },
      { host: host({ instance: 'c' }), state: 'up' as const, worst: 95 },
      { host: host({ instance: 'd' }), state: 'stale' as const, worst: 0 },
      { host: host({ instance: 'e' }), state: 'down' as const, worst: 0 },
    ];
    expect(sortWorstFirst(rows).map((r) => r.host.instance)).toEqual(['e', 'd', 'c', 'a', 'b']);
  });
  it('filters on name, OS, state and labels, every word', () => {
    const r = { host: host({ instance: 'db-1', labels: { env: 'prod' } }), state: 'down' as const };
    expect(matchesFilter(r, '')).toBe(true);
    expect(matchesFilter(r, 'DB')).toBe(true);
    expect(matchesFilter(r, 'env=prod down')).toBe(true);
    expect(matchesFilter(r, 'debian web')).toBe(false);
  });
});

describe('explore completion', () => {
  it('finds the metric word at the caret', () => {
    expect(wordAt('rate(node_cpu', 13)).toEqual({ word: 'node_cpu', start: 5 });
    expect(wordAt('up{job="node_x"}', 14).word).toBe('');
    expect(wordAt('up{instan', 9).word).toBe('');
    expect(wordAt('x + 12', 6).word).toBe('');
  });
  it('suggests prefix matches first', () => {
    const names = ['node_load1', 'go_goroutines', 'node_cpu_seconds_total', 'saypro_node_up'];
    expect(suggest(names, 'node')).toEqual(['node_load1', 'node_cpu_seconds_total', 'saypro_node_up']);
    expect(suggest(names, 'n')).toEqual([]);
    expect(suggest(names, 'node_load1')).toEqual([]);
  });
});

describe('host and login helpers', () => {
  it('escapes the instance in selectors', () => {
    expect(hostSelector('a"b\\c')).toBe('job="node",instance="a\\"b\\\\c"');
  });
  it('only follows local next paths', () => {
    expect(safeNext('/hosts/x?range=1h')).toBe('/hosts/x?range=1h');
    expect(safeNext('//evil.example')).toBeNull();
    expect(safeNext('https://evil.example')).toBeNull();
    expect(safeNext('/\\evil')).toBeNull();
    expect(safeNext('/login?next=/')).toBeNull();
    expect(safeNext(null)).toBeNull();
  });
});
