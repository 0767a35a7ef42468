import { describe, expect, it } from 'vitest';
import {
  alertState,
  amErrorText,
  applyAlertEvent,
  groupAlerts,
  isMaintenance,
  matchersErrors,
  matchersForAlert,
  matcherText,
  matchesLabels,
  parseMatcher,
  parseMatchers,
  parseSpan,
  runbookOf,
  splitSilences,
  toAMMatcher,
  toMatcher,
  windowName,
  type AMAlert,
  type Silence,
} from './pages/alertsModel';

function alert(name: string, sev: string, start: string, extra: Partial<AMAlert> = {}): AMAlert {
  return {
    fingerprint: name + start,
    labels: { alertname: name, severity: sev },
    annotations: {},
    startsAt: start,
    status: { state: 'active', silencedBy: [], inhibitedBy: [], mutedBy: [] },
    ...extra,
  };
}

describe('parseMatcher', () => {
  it.each([
    ['instance=db1', { name: 'instance', op: '=', value: 'db1' }],
    ['instance = "db 1"', { name: 'instance', op: '=', value: 'db 1' }],
    ['job!="node"', { name: 'job', op: '!=', value: 'node' }],
    ['instance=~"db-.*"', { name: 'instance', op: '=~', value: 'db-.*' }],
    ["severity!~'info|warning'", { name: 'severity', op: '!~', value: 'info|warning' }],
    ['x="a\\"b"', { name: 'x', op: '=', value: 'a"b' }],
    ['empty=""', { name: 'empty', op: '=', value: '' }],
  ])('%s', (text, want) => {
    expect(parseMatcher(text)).toEqual(want);
  });
  it.each(['', '=x', '1abc=x', 'a b=c', 'name'])('refuses %j', (text) => {
    expect(parseMatcher(text)).toBeNull();
  });
});

describe('parseMatchers', () => {
  it('reads a list with braces and commas inside quotes', () => {
    expect(parseMatchers('{alertname="A", msg=~"a,b", x!=y}')).toEqual([
      { name: 'alertname', op: '=', value: 'A' },
      { name: 'msg', op: '=~', value: 'a,b' },
      { name: 'x', op: '!=', value: 'y' },
    ]);
  });
  it('is empty for nothing and null for garbage', () => {
    expect(parseMatchers('  ')).toEqual([]);
    expect(parseMatchers('a=b, nonsense')).toBeNull();
  });
});

describe('matcher conversion and text', () => {
  it('round-trips every operator through the API form', () => {
    for (const op of ['=', '!=', '=~', '!~'] as const) {
      const m = { name: 'a', op, value: 'v' };
      expect(toMatcher(toAMMatcher(m))).toEqual(m);
    }
  });
  it('treats a missing isEqual as equal (older Alertmanagers)', () => {
    expect(toMatcher({ name: 'a', value: 'x', isRegex: true })).toEqual({ name: 'a', op: '=~', value: 'x' });
  });
  it('quotes values', () => {
    expect(matcherText({ name: 'instance', value: 'db-.*', isRegex: true, isEqual: true })).toBe('instance=~"db-.*"');
    expect(matcherText({ name: 'a', op: '!=', value: 'say "hi"' })).toBe('a!="say \\"hi\\""');
  });
});

describe('matching', () => {
  const labels = { alertname: 'HostDown', instance: 'db-1', severity: 'critical' };
  it('anchors regular expressions', () => {
    expect(matchesLabels([{ name: 'instance', op: '=~', value: 'db-.*' }], labels)).toBe(true);
    expect(matchesLabels([{ name: 'instance', op: '=~', value: 'db' }], labels)).toBe(false);
    expect(matchesLabels([{ name: 'instance', op: '!~', value: 'web-.*' }], labels)).toBe(true);
  });
  it('treats a missing label as empty', () => {
    expect(matchesLabels([{ name: 'team', op: '=', value: '' }], labels)).toBe(true);
    expect(matchesLabels([{ name: 'team', op: '!=', value: 'web' }], labels)).toBe(true);
  });
  it('needs all matchers, and at least one', () => {
    expect(matchesLabels([], labels)).toBe(false);
    expect(
      matchesLabels(
        [
          { name: 'alertname', op: '=', value: 'HostDown' },
          { name: 'severity', op: '=', value: 'warning' },
        ],
        labels,
      ),
    ).toBe(false);
  });
});

describe('matchersErrors', () => {
  it('accepts a usual silence', () => {
    expect(matchersErrors([{ name: 'instance', op: '=', value: 'db1' }])).toEqual([]);
  });
  it('asks for a matcher', () => {
    expect(matchersErrors([])).toEqual(['Add at least one matcher.']);
  });
  it('names bad rows', () => {
    const errs = matchersErrors([
      { name: '', op: '=', value: 'x' },
      { name: '9x', op: '=', value: 'x' },
      { name: 'a', op: '=~', value: '(' },
    ]);
    expect(errs).toHaveLength(3);
    expect(errs[0]).toMatch(/^Matcher 1: Enter a label name/);
    expect(errs[1]).toMatch(/^Matcher 2: "9x" is not a label name/);
    expect(errs[2]).toMatch(/^Matcher 3: "\(" is not a valid regular expression/);
  });
  it('refuses a silence that would mute everything', () => {
    expect(matchersErrors([{ name: 'a', op: '=~', value: '.*' }])[0]).toMatch(/must not match an empty label/);
    expect(matchersErrors([{ name: 'a', op: '!=', value: 'x' }])[0]).toMatch(/must not match an empty label/);
    expect(
      matchersErrors([
        { name: 'a', op: '=~', value: '.*' },
        { name: 'b', op: '=', value: 'x' },
      ]),
    ).toEqual([]);
  });
});

describe('matchersForAlert', () => {
  it('puts alertname first, the rest sorted', () => {
    expect(matchersForAlert({ severity: 'critical', instance: 'web-1', alertname: 'X' }).map((m) => m.name)).toEqual(['alertname', 'instance', 'severity']);
  });
});

describe('parseSpan', () => {
  it.each([
    ['2h', 7200],
    ['90m', 5400],
    ['1d12h', 129600],
    ['1w', 604800],
    [' 1h 30m ', 5400],
    ['45s', 45],
  ])('%s', (s, want) => expect(parseSpan(s)).toBe(want));
  it.each(['', 'h', '2x', '2', '-1h'])('refuses %j', (s) => expect(parseSpan(s)).toBeNaN());
});

describe('alerts', () => {
  it('tells the state from the status', () => {
    expect(alertState(alert('A', 'x', '2026-01-01T00:00:00Z'))).toBe('firing');
    expect(alertState(alert('A', 'x', '2026-01-01T00:00:00Z', { status: { state: 'suppressed', silencedBy: ['s'], inhibitedBy: [] } }))).toBe('silenced');
    expect(alertState(alert('A', 'x', '2026-01-01T00:00:00Z', { status: { state: 'suppressed', silencedBy: [], inhibitedBy: ['f'] } }))).toBe('inhibited');
    expect(alertState(alert('A', 'x', '2026-01-01T00:00:00Z', { status: { state: 'suppressed', silencedBy: [], inhibitedBy: [], mutedBy: ['nights'] } }))).toBe('muted');
  });
  it('groups by alertname, notifying and severe groups first, newest alert first', () => {
    const silenced = { state: 'suppressed', silencedBy: ['s'], inhibitedBy: [] };
    const gs = groupAlerts([
      alert('Info', 'info', '2026-01-01T00:00:00Z'),
      alert('Crit', 'critical', '2026-01-01T00:00:00Z', { status: silenced }),
      alert('Warn', 'warning', '2026-01-01T00:00:00Z'),
      alert('Warn', 'critical', '2026-01-02T00:00:00Z'),
    ]);
    expect(gs.map((g) => g.name)).toEqual(['Warn', 'Info', 'Crit']);
    expect(gs[0].severity).toBe('critical');
    expect(gs[0].alerts[0].startsAt).toBe('2026-01-02T00:00:00Z');
    expect(gs[0].active).toBe(2);
    expect(gs[2].active).toBe(0);
  });
  it('applies live events', () => {
    const a = alert('A', 'warning', '2026-01-01T00:00:00Z');
    let list = applyAlertEvent([], { fingerprint: 'f1', status: 'firing', labels: { alertname: 'B' }, startsAt: '2026-01-01T00:00:00Z' });
    expect(list.map((x) => x.fingerprint)).toEqual(['f1']);
    list = applyAlertEvent([...list, a], { fingerprint: 'f1', status: 'resolved', labels: { alertname: 'B' }, startsAt: '2026-01-01T00:00:00Z' });
    expect(list).toEqual([a]);
  });
  it('finds runbook links, only http(s) or absolute paths', () => {
    expect(runbookOf({ annotations: { runbook_url: 'https://x/y' } })).toBe('https://x/y');
    expect(runbookOf({ annotations: { runbook_url: '/runbooks/HostDown' } })).toBe('/runbooks/HostDown');
    expect(runbookOf({ annotations: { runbook_url: 'javascript:alert(1)' } })).toBe('');
    expect(runbookOf({})).toBe('');
  });
});

describe('silences', () => {
  const s = (id: string, state: string, start: string, end: string, extra: Partial<Silence> = {}): Silence => ({
    id,
    status: { state },
    matchers: [],
    startsAt: start,
    endsAt: end,
    createdBy: 'alice',
    comment: '',
    ...extra,
  });
  it('splits and sorts by state', () => {
    const r = splitSilences([
      s('a2', 'active', '2026-01-01T00:00:00Z', '2026-01-03T00:00:00Z'),
      s('a1', 'active', '2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z'),
      s('p', 'pending', '2026-02-01T00:00:00Z', '2026-02-02T00:00:00Z'),
      s('e1', 'expired', '2025-01-01T00:00:00Z', '2025-01-02T00:00:00Z'),
      s('e2', 'expired', '2025-02-01T00:00:00Z', '2025-02-02T00:00:00Z'),
    ]);
    expect(r.active.map((x) => x.id)).toEqual(['a1', 'a2']);
    expect(r.pending.map((x) => x.id)).toEqual(['p']);
    expect(r.expired.map((x) => x.id)).toEqual(['e2', 'e1']);
  });
  it('recognises maintenance windows', () => {
    const w = s('w', 'pending', '2026-01-01T03:00:00Z', '2026-01-01T05:00:00Z', {
      createdBy: 'SayPro maintenance window',
      annotations: { 'saypro.maintenance_window': 'db-patching' },
    });
    expect(isMaintenance(w)).toBe(true);
    expect(windowName(w)).toBe('db-patching');
    expect(isMaintenance(s('x', 'active', '', ''))).toBe(false);
  });
});

describe('amErrorText', () => {
  it('reads the forms Alertmanager answers with', () => {
    expect(amErrorText('invalid silence: x', 400)).toBe('invalid silence: x');
    expect(amErrorText({ code: 601, message: 'bad id' }, 422)).toBe('bad id');
    expect(amErrorText(null, 500)).toBe('The server answered 500.');
  });
});
