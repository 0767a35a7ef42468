import { describe, expect, it } from 'vitest';
import { formatFullIn, formatSince, passwordHint, roleRank, rolesUpTo, TOKEN_EXPIRIES } from './format';

describe('roles', () => {
  it('orders admin above sysadmin and devops, which are equal, above support', () => {
    expect(roleRank('admin')).toBeGreaterThan(roleRank('sysadmin'));
    expect(roleRank('sysadmin')).toBe(roleRank('devops'));
    expect(roleRank('devops')).toBeGreaterThan(roleRank('support'));
    expect(roleRank('nobody')).toBe(0);
  });
  it('offers token roles not above the own role', () => {
    expect(rolesUpTo('admin')).toEqual(['admin', 'sysadmin', 'devops', 'support']);
    expect(rolesUpTo('sysadmin')).toEqual(['sysadmin', 'support']);
    expect(rolesUpTo('devops')).toEqual(['devops', 'support']);
    expect(rolesUpTo('support')).toEqual(['support']);
    expect(rolesUpTo('')).toEqual([]);
  });
  it('has expiries as Go durations, never as empty', () => {
    expect(TOKEN_EXPIRIES.map((e) => e.value)).toEqual(['720h', '2160h', '8760h', '']);
  });
});

describe('formatFullIn', () => {
  it.each([
    [null, '–'],
    [Infinity, 'not filling up'],
    [0, 'full now'],
    [-1, 'full now'],
    [0.02, 'full within the hour'],
    [0.5, 'full in 12 h'],
    [1.99, 'full in 47 h'],
    [2, 'full in 2 days'],
    [17.8, 'full in 17 days'],
    [400, 'full in 1 year'],
    [800, 'full in 2 years'],
  ] as [number | null, string][])('%s days → %s', (d, want) => {
    expect(formatFullIn(d)).toBe(want);
  });
});

describe('formatSince', () => {
  it('gives the clock time and how long', () => {
    const now = new Date(2026, 10, 22, 10, 54, 0);
    expect(formatSince(new Date(2026, 10, 22, 10, 42, 0), now)).toBe('since 10:42 (12 min)');
    expect(formatSince(new Date(2026, 10, 22, 10, 53, 40), now)).toBe('since 10:53 (under a minute)');
    expect(formatSince(new Date(2026, 10, 22, 10, 32, 50), now)).toBe('since 10:32 (21 min)');
    expect(formatSince(new Date(2026, 10, 22, 8, 10, 0), now)).toBe('since 08:10 (2 h 44 min)');
    expect(formatSince(new Date(2026, 10, 20, 9, 0, 0), now)).toBe('since Nov 20 09:00 (2 d 1 h)');
  });
});

describe('passwordHint', () => {
  it('counts what is missing', () => {
    expect(passwordHint('').ok).toBe(false);
    expect(passwordHint('abc').text).toBe('9 more characters needed (at least 12).');
    expect(passwordHint('abcdefghijk').text).toBe('1 more character needed (at least 12).');
    expect(passwordHint('            ').ok).toBe(false);
    expect(passwordHint('correct horse').ok).toBe(true);
    expect(passwordHint('ääääääääääää').ok).toBe(true);
  });
});
