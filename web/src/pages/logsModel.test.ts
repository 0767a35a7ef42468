import { describe, expect, it } from 'vitest';
import {
  activeFilters,
  addFilter,
  addToHistogram,
  apiParams,
  emptyMessage,
  entryFields,
  entryKey,
  filterFor,
  formatLogTime,
  hasFilters,
  histogramSeries,
  histogramStep,
  incidentInstance,
  incidentLogsHref,
  logsHref,
  logsSearch,
  normalizeSearch,
  normSeverity,
  parseTime,
  prependLive,
  presetActive,
  PRESETS,
  readLogsState,
  regexProblem,
  removeFilter,
  severityColor,
  severityRank,
  severityTone,
  severityWord,
  sortSeverities,
  splitField,
  stackBars,
  tailParams,
  type LogEntry,
} from './logsModel';

const entry = (over: Partial<LogEntry> = {}): LogEntry => ({
  time: '2026-11-22T10:00:00.123456789Z',
  host: 'web-1',
  source: 'auth',
  service: 'sshd',
  severity: 'info',
  message: 'Accepted publickey for ann',
  ...over,
});

describe('severities', () => {
  it('orders most severe first, unknown last', () => {
    expect(severityRank('emerg')).toBe(0);
    expect(severityRank('debug')).toBe(7);
    expect(severityRank('')).toBe(8);
    expect(severityRank('bogus')).toBe(8);
    expect(sortSeverities(['info', '', 'err', 'INFO', 'crit', 'unknown'])).toEqual(['crit', 'err', 'info', '']);
  });
  it('normalises names', () => {
    expect(normSeverity('WARNING')).toBe('warning');
    expect(normSeverity('unknown')).toBe('');
    expect(normSeverity(undefined)).toBe('');
  });
  it('has a colour, a tone and words for each', () => {
    for (const s of ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug', '']) expect(severityColor(s)).toMatch(/^#[0-9a-f]{6}$/);
    expect(severityColor('nonsense')).toBe(severityColor(''));
    expect(severityTone('crit')).toBe('bad');
    expect(severityTone('err')).toBe('bad');
    expect(severityTone('warning')).toBe('warn');
    expect(severityTone('info')).toBe('info');
    expect(severityTone('debug')).toBe('muted');
    expect(severityTone('')).toBe('muted');
    expect(severityWord('err')).toBe('error');
    expect(severityWord('crit')).toBe('critical');
    expect(severityWord('')).toBe('unknown');
    expect(severityWord('notice')).toBe('notice');
  });
});

describe('URL state', () => {
  it('defaults to the last hour, no filters', () => {
    const s = readLogsState(new URLSearchParams(''));
    expect(s).toEqual({ q: '', regex: '', host: [], source: [], service: [], severity: [], field: [], range: '1h', from: 0, to: 0, live: false });
    expect(logsSearch(s)).toBe('');
    expect(hasFilters(s)).toBe(false);
  });
  it('reads repeated keys and comma lists, drops bad values', () => {
    const s = readLogsState(new URLSearchParams('host=a&host=b&severity=err,crit&severity=bogus&field=event:ssh_failed&field=nocolon&q=failed+password&regex=%5Euser&range=24h&live=1'));
    expect(s.host).toEqual(['a', 'b']);
    expect(s.severity).toEqual(['err', 'crit']);
    expect(s.field).toEqual(['event:ssh_failed']);
    expect(s.q).toBe('failed password');
    expect(s.regex).toBe('^user');
    expect(s.range).toBe('24h');
    expect(s.live).toBe(true);
    expect(readLogsState(new URLSearchParams('range=forever')).range).toBe('1h');
  });
  it('round-trips through the URL', () => {
    const q = 'q=oom&host=a&host=b&source=kern&severity=err&field=event%3Aoom_kill&from=1000&to=2000&live=1';
    expect(logsSearch(readLogsState(new URLSearchParams(q)))).toBe(q);
    expect(logsSearch(readLogsState(new URLSearchParams('range=7d')))).toBe('range=7d');
  });
  it('takes start/end in RFC 3339 or seconds as the absolute range', () => {
    const s = readLogsState(new URLSearchParams('start=2026-11-22T10:00:00Z&end=1795860000'));
    expect(s.range).toBe('');
    expect(s.from).toBe(Date.parse('2026-11-22T10:00:00Z') / 1000);
    expect(s.to).toBe(1795860000);
    // A start without an end runs to now.
    const open = readLogsState(new URLSearchParams('start=1000'));
    expect(open.from).toBe(1000);
    expect(open.to).toBeGreaterThan(1_700_000_000);
    // Bounds the wrong way round: the default range.
    expect(readLogsState(new URLSearchParams('start=2000&end=1000')).range).toBe('1h');
  });
  it('rewrites start/end to from/to, keeping the rest', () => {
    expect(normalizeSearch(new URLSearchParams('host=a&range=1h'))).toBeNull();
    const out = new URLSearchParams(normalizeSearch(new URLSearchParams('start=1000&end=2000&host=a&range=1h'))!);
    expect(out.get('from')).toBe('1000');
    expect(out.get('to')).toBe('2000');
    expect(out.get('host')).toBe('a');
    expect(out.has('range') || out.has('start') || out.has('end')).toBe(false);
    expect(normalizeSearch(new URLSearchParams('start=junk&host=a'))).toBe('host=a');
  });
  it('parses times', () => {
    expect(parseTime('1700000000')).toBe(1700000000);
    expect(parseTime('1700000000000')).toBe(1700000000);
    expect(parseTime('2026-11-22T10:00:00.5Z')).toBe(Date.parse('2026-11-22T10:00:00.5Z') / 1000);
    expect(parseTime('yesterday')).toBeNaN();
    expect(parseTime('')).toBeNaN();
  });
});

describe('API queries', () => {
  const s = readLogsState(new URLSearchParams('q=+failed+&regex=u.er&host=a&host=b&severity=err&field=event:ssh_failed&range=6h&live=1'));
  it('sends the filters with the bounds, repeated keys, no UI-only keys', () => {
    const p = new URLSearchParams(apiParams(s, 1000.4, 2000.2, { limit: 100, cursor: undefined }));
    expect(p.get('start')).toBe('1000');
    expect(p.get('end')).toBe('2001');
    expect(p.getAll('host')).toEqual(['a', 'b']);
    expect(p.getAll('severity')).toEqual(['err']);
    expect(p.getAll('field')).toEqual(['event:ssh_failed']);
    expect(p.get('q')).toBe('failed');
    expect(p.get('regex')).toBe('u.er');
    expect(p.get('limit')).toBe('100');
    expect(p.has('cursor') || p.has('range') || p.has('live')).toBe(false);
  });
  it('tails with the filters only', () => {
    const p = new URLSearchParams(tailParams(s));
    expect(p.has('start') || p.has('end')).toBe(false);
    expect(p.getAll('host')).toEqual(['a', 'b']);
    expect(p.get('q')).toBe('failed');
  });
});

describe('filters', () => {
  const s = readLogsState(new URLSearchParams('host=a'));
  it('adds without repeats and removes', () => {
    const t = addFilter(addFilter(s, 'host', 'b'), 'host', 'b');
    expect(t.host).toEqual(['a', 'b']);
    expect(removeFilter(t, 'host', 'a').host).toEqual(['b']);
    expect(addFilter(s, 'host', '')).toBe(s);
    expect(activeFilters(addFilter(t, 'field', 'status_class:5xx'))).toEqual([
      ['host', 'a'],
      ['host', 'b'],
      ['field', 'status_class:5xx'],
    ]);
  });
  it('maps a clicked field to its filter', () => {
    expect(filterFor('host', 'db-1')).toEqual({ key: 'host', value: 'db-1' });
    expect(filterFor('severity', 'ERR')).toEqual({ key: 'severity', value: 'err' });
    expect(filterFor('user', 'root:x')).toEqual({ key: 'field', value: 'user:root:x' });
    expect(splitField('user:root:x')).toEqual(['user', 'root:x']);
  });
  it('knows when a preset is on', () => {
    const sec = PRESETS.find((p) => p.name === 'Security events')!;
    expect(sec.set).toEqual({ source: ['auth'] });
    expect(presetActive(readLogsState(new URLSearchParams('source=auth')), sec.set)).toBe(true);
    expect(presetActive(readLogsState(new URLSearchParams('source=auth&source=kern')), sec.set)).toBe(false);
    expect(presetActive(s, sec.set)).toBe(false);
  });
  it('checks a regex for what RE2 refuses', () => {
    expect(regexProblem('')).toBe('');
    expect(regexProblem('^Failed .* from (\\d+\\.){3}\\d+')).toBe('');
    expect(regexProblem('(')).toMatch(/Not a valid regular expression/);
    expect(regexProblem('foo(?!bar)')).toMatch(/Look-ahead/);
    expect(regexProblem('(a)\\1')).toMatch(/Back-references/);
  });
  it('words the empty result', () => {
    expect(emptyMessage(readLogsState(new URLSearchParams('')))).toBe('No logs in this range — widen the range.');
    expect(emptyMessage(s)).toMatch(/remove a filter or widen the range/);
    expect(emptyMessage(readLogsState(new URLSearchParams('live=1')))).toMatch(/as they arrive/);
  });
});

describe('histogram', () => {
  it('picks tidy steps for about 60 buckets', () => {
    expect(histogramStep(0, 3600)).toBe(60);
    expect(histogramStep(0, 900)).toBe(15);
    expect(histogramStep(0, 86400)).toBe(1800);
    expect(histogramStep(0, 30 * 86400)).toBe(43200);
    expect(histogramStep(0, 365 * 86400)).toBe(7 * 86400); // 6.08 days → whole days
    expect(histogramStep(0, 10)).toBe(1);
  });
  it('lays buckets on the full grid, split by severity', () => {
    const h = histogramSeries(
      {
        step_seconds: 60,
        total: 9,
        buckets: [
          { time: new Date(120_000).toISOString(), count: 5, by_severity: { info: 3, err: 1, unknown: 1 } },
          { time: '240', count: 4, by_severity: { info: 2 } }, // 2 not split: unknown
          { time: new Date(999_000).toISOString(), count: 7 }, // outside: ignored
        ],
      },
      90,
      300,
    );
    expect(h.xs).toEqual([60, 120, 180, 240, 300]);
    expect(h.severities).toEqual(['err', 'info', '']);
    expect(h.counts).toEqual([
      [0, 1, 0, 0, 0],
      [0, 3, 0, 2, 0],
      [0, 1, 0, 2, 0],
    ]);
    expect(h.totals).toEqual([0, 5, 0, 4, 0]);
    expect(h.total).toBe(9);
    const st = stackBars(h);
    expect(st.severities).toEqual(['', 'info', 'err']);
    expect(st.data).toEqual([
      [0, 5, 0, 4, 0],
      [0, 4, 0, 2, 0],
      [0, 1, 0, 0, 0],
    ]);
  });
  it('has one series when the server does not split', () => {
    const h = histogramSeries({ step_seconds: 0, total: 2, buckets: [{ time: '0', count: 2 }] }, 0, 3600);
    expect(h.step).toBe(60);
    expect(h.severities).toEqual(['*']);
    expect(h.counts[0][0]).toBe(2);
    expect(addToHistogram(h, [entry({ time: new Date(61_000).toISOString() })]).counts[0][1]).toBe(1);
  });
  it('counts live entries in, growing the grid and adding severities in order', () => {
    const h = histogramSeries({ step_seconds: 60, total: 1, buckets: [{ time: '0', count: 1, by_severity: { info: 1 } }] }, 0, 60);
    const g = addToHistogram(h, [
      entry({ time: new Date(30_000).toISOString(), severity: 'err' }),
      entry({ time: new Date(150_000).toISOString(), severity: 'debug' }),
      entry({ time: new Date(-5_000).toISOString() }), // before the grid: left out
    ]);
    expect(g.xs).toEqual([0, 60, 120]);
    expect(g.severities).toEqual(['err', 'info', 'debug']);
    expect(g.counts).toEqual([
      [1, 0, 0],
      [1, 0, 0],
      [0, 0, 1],
    ]);
    expect(g.totals).toEqual([2, 0, 1]);
    expect(g.total).toBe(3);
    expect(h.xs).toEqual([0, 60]); // not changed in place
  });
});

describe('entries', () => {
  it('prepends live entries newest first, without repeats, capped', () => {
    const old = [entry({ message: 'b' }), entry({ message: 'a' })];
    const r = prependLive(old, [entry({ message: 'b' }), entry({ message: 'c' }), entry({ message: 'd' })], 3);
    expect(r.list.map((e) => e.message)).toEqual(['d', 'c', 'b']);
    expect(r.cut).toBe(1);
    expect(prependLive(old, [], 10).list).toEqual(old);
  });
  it('keys entries by content', () => {
    expect(entryKey(entry())).toBe(entryKey(entry()));
    expect(entryKey(entry())).not.toBe(entryKey(entry({ host: 'web-2' })));
  });
  it('lists attributes then parsed fields by name', () => {
    expect(entryFields(entry({ service: '', severity: 'unknown', fields: { user: 'ann', event: 'ssh_accepted', empty: '' } }))).toEqual([
      ['host', 'web-1'],
      ['source', 'auth'],
      ['severity', 'unknown'],
      ['event', 'ssh_accepted'],
      ['user', 'ann'],
    ]);
  });
  it('formats times short today, with the date before', () => {
    const t = new Date(2026, 10, 22, 14, 3, 7, 45).toISOString();
    expect(formatLogTime(t, new Date(2026, 10, 22, 18).getTime())).toBe('14:03:07.045');
    expect(formatLogTime(t, new Date(2026, 10, 23, 1).getTime())).toBe('Nov 22 14:03:07');
    expect(formatLogTime('junk')).toBe('junk');
  });
});

describe('links', () => {
  it('links to a host’s logs with the page’s range', () => {
    expect(logsHref({ host: 'db 1' }, new URLSearchParams('range=6h&refresh=30s'))).toBe('/logs?host=db+1&range=6h');
    expect(logsHref({ host: 'a', source: 'auth' }, new URLSearchParams('from=1&to=2'))).toBe('/logs?host=a&source=auth&from=1&to=2');
    expect(logsHref({})).toBe('/logs');
  });
  it('finds an incident’s instance', () => {
    expect(incidentInstance({ group_labels: { instance: 'web-1' } })).toBe('web-1');
    expect(incidentInstance({ group_labels: {}, alerts: [{ labels: { instance: 'a' } }, { labels: { instance: 'a' } }] })).toBe('a');
    expect(incidentInstance({ group_labels: {}, alerts: [{ labels: { instance: 'a' } }, { labels: { instance: 'b' } }] })).toBe('');
    expect(incidentInstance({})).toBe('');
  });
  it('links to an incident’s window: 5 min before it opened until resolved or now', () => {
    const opened = '2026-11-22T10:00:00Z';
    const o = Date.parse(opened) / 1000;
    const resolved = new URLSearchParams(
      incidentLogsHref({ opened_at: opened, resolved_at: '2026-11-22T10:30:00Z', group_labels: { instance: 'web-1' } }).split('?')[1],
    );
    expect(resolved.get('start')).toBe(String(o - 300));
    expect(resolved.get('end')).toBe(String(o + 1800));
    expect(resolved.get('host')).toBe('web-1');
    const open = new URLSearchParams(incidentLogsHref({ opened_at: opened, resolved_at: null }, (o + 600) * 1000).split('?')[1]);
    expect(open.get('end')).toBe(String(o + 600));
    expect(open.has('host')).toBe(false);
    // The link opens the page on that window.
    const s = readLogsState(resolved);
    expect([s.from, s.to, s.host]).toEqual([o - 300, o + 1800, ['web-1']]);
  });
});
