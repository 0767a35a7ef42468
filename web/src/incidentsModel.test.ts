import { describe, expect, it } from 'vitest';
import {
  alertsExpr,
  apiStatus,
  between,
  incidentWindow,
  isFailure,
  kindWords,
  listQuery,
  matchesFilter,
  readFilter,
  statusWords,
  summarize,
} from './pages/incidentsModel';

describe('filters', () => {
  it('reads the URL with defaults', () => {
    expect(readFilter(new URLSearchParams(''))).toEqual({ status: '', severity: '', service: '', host: '', page: 1 });
    expect(readFilter(new URLSearchParams('status=resolved&severity=critical&service=shop&host=db-1&page=3'))).toEqual({
      status: 'resolved',
      severity: 'critical',
      service: 'shop',
      host: 'db-1',
      page: 3,
    });
    expect(readFilter(new URLSearchParams('page=-2')).page).toBe(1);
    expect(readFilter(new URLSearchParams('page=x')).page).toBe(1);
  });
  it('maps the status choice to the API', () => {
    expect(apiStatus('')).toBe('open,acknowledged');
    expect(apiStatus('all')).toBeUndefined();
    expect(apiStatus('open')).toBe('open');
  });
  it('builds the list query with paging', () => {
    expect(listQuery({ status: 'all', severity: '', service: 'shop', host: '', page: 3 })).toEqual({
      status: undefined,
      severity: undefined,
      service: 'shop',
      host: undefined,
      limit: 50,
      offset: 100,
    });
  });
  it('matches incidents for live updates', () => {
    const inc = { status: 'acknowledged', severity: 'warning', service: 'shop', host: 'db-1' };
    expect(matchesFilter(inc, readFilter(new URLSearchParams('')))).toBe(true);
    expect(matchesFilter({ ...inc, status: 'resolved' }, readFilter(new URLSearchParams('')))).toBe(false);
    expect(matchesFilter({ ...inc, status: 'resolved' }, readFilter(new URLSearchParams('status=all')))).toBe(true);
    expect(matchesFilter(inc, readFilter(new URLSearchParams('severity=critical')))).toBe(false);
    expect(matchesFilter(inc, readFilter(new URLSearchParams('host=db-1&service=shop')))).toBe(true);
  });
});

describe('summarize', () => {
  it('weights the means by the incidents they cover', () => {
    const s = summarize([
      { key: 'a', incidents: 4, acknowledged: 4, resolved: 3, mtta_seconds: 100, mttr_seconds: 1000 },
      { key: 'b', incidents: 2, acknowledged: 0, resolved: 1, mtta_seconds: 0, mttr_seconds: 4000 },
    ]);
    expect(s).toEqual({ incidents: 6, acknowledged: 4, resolved: 4, mtta: 100, mttr: 1750 });
  });
  it('has no means without acknowledged or resolved incidents', () => {
    expect(summarize([{ key: '', incidents: 2, acknowledged: 0, resolved: 0, mtta_seconds: 0, mttr_seconds: 0 }])).toEqual({
      incidents: 2,
      acknowledged: 0,
      resolved: 0,
      mtta: null,
      mttr: null,
    });
    expect(summarize([]).mtta).toBeNull();
  });
});

describe('words', () => {
  it('names statuses with a tone', () => {
    expect(statusWords('open')).toEqual(['bad', 'Open']);
    expect(statusWords('acknowledged')[0]).toBe('warn');
    expect(statusWords('resolved')[0]).toBe('ok');
  });
  it('names timeline kinds, unknown ones readably', () => {
    expect(kindWords('alert_firing')[1]).toBe('Alert firing');
    expect(kindWords('something_new')[1]).toBe('something new');
  });
  it('spots failed notifications', () => {
    const e = (message: string) => ({ id: 1, time: '', kind: 'notified', actor: 'alertmanager', message });
    expect(isFailure(e('sending to webhook[1] (receiver oncall) failed: connection refused, will retry'))).toBe(true);
    expect(isFailure(e('sent to slack[0] (receiver oncall): 2 firing'))).toBe(false);
  });
});

describe('incidentWindow', () => {
  const now = Date.parse('2026-11-20T12:00:00Z');
  it('spans the first alert to the resolution, with margins', () => {
    const w = incidentWindow(
      {
        opened_at: '2026-11-20T03:12:40Z',
        resolved_at: '2026-11-20T03:58:10Z',
        alerts: [{ fingerprint: '', state: 'resolved', labels: {}, annotations: {}, starts_at: '2026-11-20T03:12:10Z', ends_at: null }],
      },
      now,
    );
    expect(w.from).toBe(Date.parse('2026-11-20T02:57:10Z') / 1000);
    expect(w.to).toBe(Date.parse('2026-11-20T04:13:10Z') / 1000);
  });
  it('ends now while unresolved, and never after now', () => {
    expect(incidentWindow({ opened_at: '2026-11-20T11:00:00Z', resolved_at: null }, now).to).toBe(now / 1000);
    expect(incidentWindow({ opened_at: '2026-11-20T11:00:00Z', resolved_at: '2026-11-20T11:55:00Z' }, now).to).toBe(now / 1000);
  });
});

describe('alertsExpr', () => {
  const al = (name: string) => ({ fingerprint: name, state: 'firing', labels: { alertname: name }, annotations: {}, starts_at: '', ends_at: null });
  it('selects the alerts of the incident', () => {
    expect(alertsExpr({ alerts: [al('DiskFull')], group_labels: {} })).toBe('ALERTS{alertname="DiskFull"}');
    expect(alertsExpr({ alerts: [al('A'), al('B'), al('A')], group_labels: {} })).toBe('ALERTS{alertname=~"A|B"}');
    expect(alertsExpr({ alerts: [], group_labels: { alertname: 'G' } })).toBe('ALERTS{alertname="G"}');
    expect(alertsExpr({ alerts: [], group_labels: {} })).toBe('ALERTS');
  });
});

describe('between', () => {
  it('gives seconds or null', () => {
    expect(between('2026-11-20T03:12:40Z', '2026-11-20T03:17:02Z')).toBe(262);
    expect(between(null, '2026-11-20T03:17:02Z')).toBeNull();
  });
});

describe('hostLink', () => {
  it('links host names, not check targets', async () => {
    const { hostLink } = await import('./pages/incidentsModel');
    expect(hostLink('web-1')).toBe(true);
    expect(hostLink('db1.example.com')).toBe(true);
    expect(hostLink('http://127.0.0.1:9931/metrics')).toBe(false);
    expect(hostLink('127.0.0.1:1')).toBe(false);
    expect(hostLink('')).toBe(false);
  });
});

describe('foldTimeline', () => {
  it('folds runs of the same kind and message into the newest, newest first, never notes', async () => {
    const { foldTimeline } = await import('./pages/incidentsModel');
    const e = (id: number, kind: string, message: string) => ({ id, time: `2026-11-20T03:${String(id).padStart(2, '0')}:00Z`, kind, actor: 'x', message });
    const rows = foldTimeline([
      e(1, 'opened', 'opened: A'),
      e(2, 'alert_firing', 'A firing again'),
      e(3, 'alert_firing', 'A firing again'),
      e(4, 'alert_firing', 'A firing again'),
      e(5, 'note', 'same'),
      e(6, 'note', 'same'),
      e(7, 'alert_firing', 'A firing again'),
    ]);
    expect(rows.map((r) => [r.id, r.repeats])).toEqual([
      [7, 1],
      [6, 1],
      [5, 1],
      [4, 3],
      [1, 1],
    ]);
    expect(rows[3].firstTime).toBe('2026-11-20T03:02:00Z');
  });
});
