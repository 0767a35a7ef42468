import { describe, expect, it } from 'vitest';
import {
  formatBytes,
  formatBytesRate,
  formatDuration,
  formatExactTime,
  formatLabels,
  formatNumber,
  formatPercent,
  formatShortTime,
  formatUptime,
  formatValue,
  parseDuration,
  promDuration,
  timeAgo,
  utcOffset,
} from './format';

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [512, '512 B'],
    [1024, '1 KiB'],
    [1536, '1.5 KiB'],
    [10.5 * 1024 * 1024, '10.5 MiB'],
    [123.4 * 1024 ** 3, '123 GiB'],
    [2 * 1024 ** 4, '2 TiB'],
    [-2048, '-2 KiB'],
    [NaN, '–'],
    [null, '–'],
  ])('%s → %s', (n, want) => expect(formatBytes(n as number)).toBe(want));
  it('rates', () => expect(formatBytesRate(2048)).toBe('2 KiB/s'));
});

describe('formatPercent', () => {
  it.each([
    [0, '0 %'],
    [12.345, '12.3 %'],
    [100, '100 %'],
    [99.96, '100 %'],
    [0.04, '<0.1 %'],
    [Infinity, '–'],
  ])('%s → %s', (n, want) => expect(formatPercent(n)).toBe(want));
  it('uptime never rounds up to 100', () => {
    expect(formatUptime(99.9999)).toBe('99.999 %');
    expect(formatUptime(99.95)).toBe('99.95 %');
    expect(formatUptime(100)).toBe('100 %');
    expect(formatUptime(97.126)).toBe('97.12 %');
  });
});

describe('formatNumber', () => {
  it.each([
    [0, '0'],
    [0.5, '0.5'],
    [3, '3'],
    [1234, '1.23k'],
    [1234567, '1.23M'],
    [0.001, '1.0e-3'],
  ])('%s → %s', (n, want) => expect(formatNumber(n)).toBe(want));
});

describe('formatDuration', () => {
  it.each([
    [0, '0 s'],
    [0.35, '350 ms'],
    [0.0004, '400 µs'],
    [5.25, '5.3 s'],
    [42, '42 s'],
    [125, '2 min 5 s'],
    [3600, '1 h'],
    [3660, '1 h 1 min'],
    [90000, '1 d 1 h'],
    [86405, '1 d'],
    [-60, '-1 min'],
  ])('%s → %s', (n, want) => expect(formatDuration(n)).toBe(want));
});

describe('timeAgo', () => {
  const now = Date.UTC(2026, 4, 1, 12, 0, 0);
  it.each([
    [now - 3000, 'just now'],
    [now - 45000, '45 s ago'],
    [now - 180000, '3 min ago'],
    [now - 2 * 3600000, '2 h ago'],
    [now - 3 * 86400000, '3 d ago'],
    [now - 40 * 86400000, '40 d ago'],
    [now - 70 * 86400000, '2 months ago'],
    [now - 800 * 86400000, '2 years ago'],
    [now + 300000, 'in 5 min'],
  ])('%s', (t, want) => expect(timeAgo(t, now)).toBe(want));
  it('accepts seconds, strings and nothing', () => {
    expect(timeAgo(now / 1000 - 120, now)).toBe('2 min ago');
    expect(timeAgo(new Date(now - 60000).toISOString(), now)).toBe('1 min ago');
    expect(timeAgo(null, now)).toBe('never');
    expect(timeAgo('0001-01-01T00:00:00Z', now)).toBe('never');
  });
});

describe('exact and short times', () => {
  it('formats local time with its offset', () => {
    const d = new Date(2026, 0, 2, 3, 4, 5);
    expect(formatExactTime(d)).toBe('2026-01-02 03:04:05 ' + utcOffset(d));
    expect(formatExactTime(null)).toBe('');
  });
  it('offset text', () => {
    const fake = { getTimezoneOffset: () => -120 } as Date;
    expect(utcOffset(fake)).toBe('UTC+02:00');
    expect(utcOffset({ getTimezoneOffset: () => 330 } as Date)).toBe('UTC-05:30');
    expect(utcOffset({ getTimezoneOffset: () => 0 } as Date)).toBe('UTC');
  });
  it('short time: hours today, date otherwise', () => {
    const now = new Date(2026, 4, 1, 18, 0, 0);
    expect(formatShortTime(new Date(2026, 4, 1, 9, 5), now)).toBe('09:05');
    expect(formatShortTime(new Date(2026, 3, 30, 23, 59), now)).toBe('Apr 30 23:59');
  });
});

describe('durations for queries', () => {
  it.each([
    ['15m', 900],
    ['1h', 3600],
    ['7d', 604800],
    ['30s', 30],
    ['1w', 604800],
    ['x', NaN],
    ['', NaN],
  ])('parse %s', (s, want) => expect(parseDuration(s)).toBe(want));
  it.each([
    [3600, '1h'],
    [90, '90s'],
    [120, '2m'],
    [86400 * 30, '30d'],
    [0.2, '1s'],
  ])('promDuration %s', (n, want) => expect(promDuration(n)).toBe(want));
});

describe('formatValue and labels', () => {
  it('by unit', () => {
    expect(formatValue(50, 'percent')).toBe('50 %');
    expect(formatValue(1024, 'bytes')).toBe('1 KiB');
    expect(formatValue(1024, 'bytes/s')).toBe('1 KiB/s');
    expect(formatValue(0.2, 'seconds')).toBe('200 ms');
    expect(formatValue(1500, 'ops/s')).toBe('1.5k/s');
  });
  it('labels sorted, name optional', () => {
    expect(formatLabels({ __name__: 'up', job: 'node', instance: 'a' })).toBe('{instance="a", job="node"}');
    expect(formatLabels({ __name__: 'up', job: 'node' }, false)).toBe('up{job="node"}');
    expect(formatLabels({ __name__: 'up' }, false)).toBe('up');
  });
});
