// /incidents: the incidents, newest first, filtered by status, severity,
// service and host (kept in the URL), 50 a page, with MTTA and MTTR over a
// chosen period from /api/v1/incidents/stats. Live: incident events refetch
// the page.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, useApi, useEvents } from '../api';
import { formatDuration, formatExactTime } from '../format';
import type { PageProps } from '../routes';
import { setQuery, useLocation } from '../router';
import { Empty, ErrorBox, Loading, PageHead, RelTime, Status, TableHead } from '../widgets';
import {
  hostLink,
  listQuery,
  matchesFilter,
  PAGE_SIZE,
  readFilter,
  severityTone,
  SEVERITIES,
  statusWords,
  summarize,
  type Incident,
  type IncidentStat,
} from './incidentsModel';

const PERIODS: [string, string, number][] = [
  ['7d', 'last 7 days', 7 * 86400],
  ['30d', 'last 30 days', 30 * 86400],
  ['90d', 'last 90 days', 90 * 86400],
  ['all', 'all time', 0],
];

function Stats(p: { tick: number }) {
  const loc = useLocation();
  const period = PERIODS.find(([k]) => k === loc.query.get('period')) ?? PERIODS[1];
  const q = useApi(
    async (signal) => {
      const from = period[2] ? new Date(Date.now() - period[2] * 1000).toISOString() : undefined;
      const [sev, svc] = await Promise.all([
        api<{ stats: IncidentStat[] }>('/api/v1/incidents/stats', { query: { by: 'severity', from }, signal }),
        api<{ stats: IncidentStat[] }>('/api/v1/incidents/stats', { query: { by: 'service', from }, signal }),
      ]);
      return { sev: sev.stats ?? [], svc: svc.stats ?? [] };
    },
    [period[0], p.tick],
  );
  const s = q.data ? summarize(q.data.sev) : null;
  const worst = q.data ? [...q.data.svc].sort((a, b) => b.incidents - a.incidents).slice(0, 5) : [];
  return (
    <section class="panel inc-stats" aria-labelledby="inc-stats-title">
      <header class="inc-stats-head">
        <h2 id="inc-stats-title">Response times</h2>
        <label class="inc-inline">
          <span>Period</span>
          <select value={period[0]} onChange={(e) => setQuery({ period: (e.target as HTMLSelectElement).value === '30d' ? null : (e.target as HTMLSelectElement).value })}>
            {PERIODS.map(([k, label]) => (
              <option value={k}>{label}</option>
            ))}
          </select>
        </label>
      </header>
      {!q.data && q.error ? <ErrorBox error={q.error} retry={q.reload} what="the statistics" /> : null}
      {!q.data && !q.error && <Loading what="statistics" />}
      {s && (
        <>
          <dl class="inc-kpis">
            <div>
              <dt>Incidents</dt>
              <dd>{s.incidents}</dd>
            </div>
            <div>
              <dt title="Mean time to acknowledge, over the acknowledged incidents">MTTA</dt>
              <dd>{s.mtta === null ? '–' : formatDuration(s.mtta)}</dd>
              <dd class="small muted">{s.acknowledged} acknowledged</dd>
            </div>
            <div>
              <dt title="Mean time to resolve, over the resolved incidents">MTTR</dt>
              <dd>{s.mttr === null ? '–' : formatDuration(s.mttr)}</dd>
              <dd class="small muted">{s.resolved} resolved</dd>
            </div>
          </dl>
          {q.data!.sev.length > 0 && (
            <table class="inc-mini">
              <caption class="sr-only">By severity</caption>
              <thead>
                <tr>
                  <th scope="col">Severity</th>
                  <th scope="col" class="num">Incidents</th>
                  <th scope="col" class="num">MTTA</th>
                  <th scope="col" class="num">MTTR</th>
                </tr>
              </thead>
              <tbody>
                {q.data!.sev.map((r) => (
                  <tr>
                    <th scope="row">
                      <Status tone={severityTone(r.key)} text={r.key || 'none'} />
                    </th>
                    <td class="num">{r.incidents}</td>
                    <td class="num">{r.acknowledged ? formatDuration(r.mtta_seconds) : '–'}</td>
                    <td class="num">{r.resolved ? formatDuration(r.mttr_seconds) : '–'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {worst.length > 0 && (
            <p class="small inc-worst">
              Most incidents:{' '}
              {worst.map((w, i) => (
                <>
                  {i > 0 && ', '}
                  <a href={'/incidents?status=all&service=' + encodeURIComponent(w.key)}>{w.key || '(no service)'}</a> {w.incidents}
                </>
              ))}
            </p>
          )}
        </>
      )}
    </section>
  );
}

export default function Incidents(_p: PageProps) {
  const loc = useLocation();
  const f = readFilter(loc.query);
  const [tick, setTick] = useState(0);
  const list = useApi((signal) => api<{ incidents: Incident[]; total: number }>('/api/v1/incidents', { query: listQuery(f), signal }), [f.status, f.severity, f.service, f.host, f.page, tick]);
  const timer = useRef<ReturnType<typeof setTimeout>>();
  const [fresh, setFresh] = useState<Set<number>>(new Set());
  const stream = useEvents(['incident'], (e) => {
    const inc = e.data?.incident as Incident | undefined;
    if (e.kind === 'incident' && inc && !matchesFilter(inc, f) && !list.data?.incidents.some((x) => x.id === inc.id)) return;
    if (inc) setFresh((s) => new Set(s).add(inc.id));
    clearTimeout(timer.current);
    timer.current = setTimeout(() => setTick((t) => t + 1), 800);
  });
  useEffect(() => () => clearTimeout(timer.current), []);
  useEffect(() => {
    if (!fresh.size) return;
    const t = setTimeout(() => setFresh(new Set()), 4000);
    return () => clearTimeout(t);
  }, [fresh]);

  // Services and hosts to choose from: those of the incidents seen in the stats.
  const keys = useApi(
    async (signal) => {
      const [svc, host] = await Promise.all([
        api<{ stats: IncidentStat[] }>('/api/v1/incidents/stats', { query: { by: 'service' }, signal }),
        api<{ stats: IncidentStat[] }>('/api/v1/incidents/stats', { query: { by: 'host' }, signal }),
      ]);
      return { services: svc.stats.map((s) => s.key).filter(Boolean).sort(), hosts: host.stats.map((s) => s.key).filter(Boolean).sort() };
    },
    [tick > 0 ? Math.floor(tick / 10) : 0],
  );

  const set = (k: string, v: string) => setQuery({ [k]: v || null, page: null });
  const total = list.data?.total ?? 0;
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const first = (f.page - 1) * PAGE_SIZE;
  const filtered = f.status !== '' || f.severity || f.service || f.host;

  return (
    <>
      <PageHead title="Incidents" sub="Opened by the Alertmanager when a group of alerts fires; acknowledge, note and resolve them here.">
        <span class={'al-live ' + stream} role="status">
          <span aria-hidden="true">{stream === 'open' ? '●' : '○'}</span> {stream === 'open' ? 'Live' : stream === 'connecting' ? 'Connecting…' : 'Live updates paused, retrying'}
        </span>
      </PageHead>
      <div class="inc-layout">
        <div class="inc-main">
          <form class="inc-filters" role="search" aria-label="Filter incidents" onSubmit={(e) => e.preventDefault()}>
            <label class="field">
              <span>Status</span>
              <select value={f.status} onChange={(e) => set('status', (e.target as HTMLSelectElement).value)}>
                <option value="">Unresolved</option>
                <option value="open">Open</option>
                <option value="acknowledged">Acknowledged</option>
                <option value="resolved">Resolved</option>
                <option value="all">All</option>
              </select>
            </label>
            <label class="field">
              <span>Severity</span>
              <select value={f.severity} onChange={(e) => set('severity', (e.target as HTMLSelectElement).value)}>
                <option value="">Any</option>
                {SEVERITIES.map((s) => (
                  <option value={s}>{s}</option>
                ))}
              </select>
            </label>
            <label class="field">
              <span>Service</span>
              <input list="inc-services" value={f.service} placeholder="any" onChange={(e) => set('service', (e.target as HTMLInputElement).value.trim())} />
            </label>
            <label class="field">
              <span>Host</span>
              <input list="inc-hosts" value={f.host} placeholder="any" onChange={(e) => set('host', (e.target as HTMLInputElement).value.trim())} />
            </label>
            <datalist id="inc-services">{keys.data?.services.map((s) => <option value={s} />)}</datalist>
            <datalist id="inc-hosts">{keys.data?.hosts.map((s) => <option value={s} />)}</datalist>
            {filtered && (
              <button type="button" class="link inc-clear" onClick={() => setQuery({ status: null, severity: null, service: null, host: null, page: null })}>
                Clear filters
              </button>
            )}
          </form>

          {!list.data && list.error ? <ErrorBox error={list.error} retry={list.reload} what="the incidents" /> : null}
          {!list.data && !list.error && <Loading what="incidents" />}
          {list.data && list.error ? <ErrorBox error={list.error} retry={list.reload} what="the latest incidents (showing the last ones loaded)" /> : null}
          {list.data && list.data.incidents.length === 0 && (
            <Empty>
              {f.page > 1
                ? 'No incidents on this page.'
                : f.status === '' && !f.severity && !f.service && !f.host
                  ? 'No open or acknowledged incidents. Choose status “All” to see resolved ones.'
                  : 'No incidents match these filters.'}
            </Empty>
          )}
          {list.data && list.data.incidents.length > 0 && (
            <>
              <p class="small muted inc-count" aria-live="polite">
                {total === list.data.incidents.length ? `${total} incident${total === 1 ? '' : 's'}` : `${first + 1}–${first + list.data.incidents.length} of ${total}`}
              </p>
              <table class="stack inc-table">
                <TableHead cols={['Incident', 'Status', 'Severity', 'Service', 'Host', 'Opened', 'Duration']} />
                <tbody>
                  {list.data.incidents.map((inc) => {
                    const [tone, word] = statusWords(inc.status);
                    const dur = inc.resolved_at ? inc.mttr_seconds : (Date.now() - Date.parse(inc.opened_at)) / 1000;
                    return (
                      <tr class={fresh.has(inc.id) ? 'inc-fresh' : ''}>
                        <td data-label="Incident" class="ca-wrap">
                          <a href={'/incidents/' + inc.id}>
                            <span class="muted">#{inc.id}</span> {inc.title}
                          </a>
                        </td>
                        <td data-label="Status">
                          <Status tone={tone} text={word} title={inc.acknowledged_by ? `Acknowledged by ${inc.acknowledged_by}` : undefined} />
                          {inc.acknowledged_by && inc.status !== 'open' && <div class="small muted">by {inc.status === 'resolved' && inc.resolved_by ? inc.resolved_by : inc.acknowledged_by}</div>}
                        </td>
                        <td data-label="Severity">
                          <Status tone={severityTone(inc.severity)} text={inc.severity} />
                        </td>
                        <td data-label="Service" class="ca-wrap">
                          {inc.service ? (
                            <button type="button" class="link" title="Show only this service" onClick={() => set('service', inc.service)}>
                              {inc.service}
                            </button>
                          ) : (
                            <span class="muted">–</span>
                          )}
                        </td>
                        <td data-label="Host" class="ca-wrap">
                          {inc.host ? hostLink(inc.host) ? <a href={'/hosts/' + encodeURIComponent(inc.host)}>{inc.host}</a> : inc.host : <span class="muted">–</span>}
                        </td>
                        <td data-label="Opened">
                          <RelTime t={inc.opened_at} />
                        </td>
                        <td data-label="Duration" title={inc.resolved_at ? `Resolved ${formatExactTime(inc.resolved_at)}` : 'Still unresolved'}>
                          {formatDuration(dur)}
                          {!inc.resolved_at && <span class="muted small"> so far</span>}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
              {pages > 1 && (
                <nav class="inc-pager" aria-label="Pages">
                  <button type="button" disabled={f.page <= 1} onClick={() => setQuery({ page: f.page - 1 > 1 ? String(f.page - 1) : null })}>
                    ← Newer
                  </button>
                  <span>
                    Page {f.page} of {pages}
                  </span>
                  <button type="button" disabled={f.page >= pages} onClick={() => setQuery({ page: String(f.page + 1) })}>
                    Older →
                  </button>
                </nav>
              )}
            </>
          )}
        </div>
        <aside class="inc-side">
          <Stats tick={Math.floor(tick / 5)} />
        </aside>
      </div>
    </>
  );
}
