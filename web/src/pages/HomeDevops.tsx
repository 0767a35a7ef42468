// The DevOps home: error rates and latencies of the checks over the page's
// time range, HTTP status codes, the alerts of the last 24 hours, and
// latency over time. A few queries `by (check)` cover every check.
import { useEffect, useState } from 'preact/hooks';
import { api, promQuery, useApi, type VectorSample } from '../api';
import { Chart } from '../chart';
import { formatDuration, formatExactTime, formatPercent, promDuration } from '../format';
import type { PageProps } from '../routes';
import { resolveRange, TimeRangePicker, useRefreshTick, useTimeRange } from '../timerange';
import { Empty, ErrorBox, PageHead, RelTime, Status, type Tone, TableHead } from '../widgets';

interface CheckView {
  name: string;
  kind: string;
  description?: string;
  state: string;
  latency_threshold_seconds: number;
}

interface RuleAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: string;
  activeAt: string;
}

const HTTP_TEXT: Record<number, string> = {
  200: 'OK', 201: 'Created', 204: 'No Content', 301: 'Moved Permanently', 302: 'Found', 304: 'Not Modified',
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 408: 'Request Timeout',
  429: 'Too Many Requests', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};

/** An HTTP status code in words with a tone: "503 Service Unavailable". */
export function httpStatus(code: number): { text: string; tone: Tone } {
  if (!Number.isFinite(code) || code <= 0) return { text: 'no answer', tone: 'bad' };
  const text = `${code} ${HTTP_TEXT[code] ?? ''}`.trim();
  return { text, tone: code >= 500 ? 'bad' : code >= 400 ? 'warn' : 'ok' };
}

const STATE_TONE: Record<string, Tone> = { up: 'ok', degraded: 'warn', down: 'bad', unknown: 'muted', pending: 'muted' };

function byCheck(v: VectorSample[] | undefined): Map<string, number> {
  const m = new Map<string, number>();
  for (const s of v ?? []) m.set(s.metric.check ?? '', parseFloat(s.value[1]));
  return m;
}

export default function HomeDevops(_p: PageProps) {
  const tr = useTimeRange();
  const tick = useRefreshTick();
  const [now, setNow] = useState(() => Date.now() / 1000);
  useEffect(() => setNow(Date.now() / 1000), [tr.range, tr.from, tr.to, tick]);
  const { start, end } = resolveRange(tr, now);
  const w = promDuration(Math.max(60, end - start));
  const sel = 'job="checks"';

  const checks = useApi((signal) => api<CheckView[]>('/api/v1/checks', { signal }), [tick]);
  const stats = useApi(
    async (signal) => {
      const q = (e: string) => promQuery(e, end, signal).then((r) => (r.resultType === 'vector' ? r.result : []));
      const [p50, p95, fail, code, badCodes] = await Promise.all([
        q(`max by (check) (quantile_over_time(0.5, probe_duration_seconds{${sel}}[${w}]))`),
        q(`max by (check) (quantile_over_time(0.95, probe_duration_seconds{${sel}}[${w}]))`),
        q(`100 * (1 - min by (check) (avg_over_time(probe_success{${sel}}[${w}])))`),
        q(`max by (check) (last_over_time(probe_http_status_code{${sel}}[${w}]))`),
        q(`100 * max by (check) (avg_over_time((probe_http_status_code{${sel}} >= bool 400 or probe_http_status_code{${sel}} == bool 0)[${w}:1m]))`),
      ]);
      return { p50: byCheck(p50), p95: byCheck(p95), fail: byCheck(fail), code: byCheck(code), badCodes: byCheck(badCodes) };
    },
    [w, end],
  );
  const alerts24 = useApi(
    async (signal) => {
      const [hist, now] = await Promise.all([
        promQuery('max_over_time(timestamp(ALERTS{alertstate="firing"})[24h:1m])', undefined, signal).then((r) => (r.resultType === 'vector' ? r.result : [])),
        api<{ alerts: RuleAlert[] }>('/api/v1/alerts', { signal }).then((d) => d.alerts ?? []),
      ]);
      return { hist, now };
    },
    [tick],
  );

  const list = (checks.data ?? []).slice().sort((a, b) => {
    const fa = stats.data?.fail.get(a.name) ?? 0;
    const fb = stats.data?.fail.get(b.name) ?? 0;
    return fb - fa || (stats.data?.p95.get(b.name) ?? 0) - (stats.data?.p95.get(a.name) ?? 0) || a.name.localeCompare(b.name);
  });
  const httpChecks = stats.data ? list.filter((c) => c.kind === 'http' || stats.data!.code.has(c.name)) : [];

  // One row per alert (name + identifying labels), firing now first, then by last time seen.
  const firingNow = new Map<string, RuleAlert>();
  for (const a of alerts24.data?.now ?? []) if (a.state === 'firing') firingNow.set(alertKey(a.labels), a);
  const rows = (alerts24.data?.hist ?? [])
    .map((s) => {
      const labels = { ...s.metric };
      delete labels.__name__;
      delete labels.alertstate;
      const k = alertKey(labels);
      return { labels, last: parseFloat(s.value[1]), now: firingNow.get(k) };
    })
    .sort((a, b) => Number(!!b.now) - Number(!!a.now) || b.last - a.last);

  return (
    <>
      <PageHead title="Errors and latency" sub="How the checked services answer: failures, slowness, HTTP status codes and recent alerts.">
        <TimeRangePicker />
      </PageHead>

      <section class="panel">
        <h2>Checks over the {tr.range ? 'last ' + tr.range : 'selected range'}</h2>
        {checks.error !== null && <ErrorBox error={checks.error} retry={checks.reload} what="the checks" />}
        {stats.error !== null && <ErrorBox error={stats.error} retry={stats.reload} what="the latencies" />}
        {checks.loading && !checks.data && <p class="muted">Loading…</p>}
        {checks.data && list.length === 0 && <Empty>No checks are configured. Add checks under checks: in the configuration file.</Empty>}
        {list.length > 0 && (
          <div class="table-wrap">
            <table class="stack devops-checks" aria-busy={stats.loading}>
              <thead>
                <tr>
                  <th scope="col">Check</th>
                  <th scope="col">Now</th>
                  <th scope="col" class="num">
                    Failed runs
                  </th>
                  <th scope="col" class="num" title="Half of the runs were faster than this">
                    Median time
                  </th>
                  <th scope="col" class="num" title="95 % of the runs were faster than this">
                    95th percentile
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.map((c) => {
                  const fail = stats.data?.fail.get(c.name);
                  const p50 = stats.data?.p50.get(c.name);
                  const p95 = stats.data?.p95.get(c.name);
                  const slow = p95 !== undefined && p95 > c.latency_threshold_seconds;
                  return (
                    <tr>
                      <td data-label="Check">
                        <a href={'/checks/' + encodeURIComponent(c.name)}>{c.name}</a>
                        <span class="small muted"> {c.kind}</span>
                        {c.description && <div class="small muted">{c.description}</div>}
                      </td>
                      <td data-label="Now">
                        <Status tone={STATE_TONE[c.state] ?? 'muted'} text={c.state} />
                      </td>
                      <td data-label="Failed runs" class={'num ' + (fail ? (fail >= 5 ? 'bad-text' : 'warn-text') : '')}>
                        {fail === undefined ? '–' : fail === 0 ? 'none' : formatPercent(fail)}
                      </td>
                      <td data-label="Median time" class="num">
                        {formatDuration(p50)}
                      </td>
                      <td data-label="95th percentile" class={'num ' + (slow ? 'warn-text' : '')} title={slow ? `Above the check's threshold of ${formatDuration(c.latency_threshold_seconds)}` : undefined}>
                        {slow && '▲ '}
                        {formatDuration(p95)}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <div class="home-grid">
        <Chart
          title="Check response time"
          queries={[{ expr: `max by (check) (probe_duration_seconds{${sel}})`, legend: '{{check}}' }]}
          unit="seconds"
          height={220}
        />
        <Chart
          title="Failed check runs (%)"
          queries={[{ expr: `100 * (1 - min by (check) (probe_success{${sel}}))`, legend: '{{check}}' }]}
          unit="percent"
          yMax={100}
          height={220}
        />
      </div>
      <p class="small muted note">
        Release markers: deploys are not recorded by SayPro Monitor yet, so the charts show no release markers. They will appear here once deploys
        are recorded.
      </p>

      <div class="home-grid">
        <section class="panel">
          <h2>HTTP status codes</h2>
          <p class="small muted panel-note">The last answer of each web check, and how often it answered with an error (4xx, 5xx or none) in the range.</p>
          {stats.data && httpChecks.length === 0 && <Empty>No web (http) checks are configured.</Empty>}
          {httpChecks.length > 0 && (
            <table class="top">
              <thead>
                <tr>
                  <th scope="col">Check</th>
                  <th scope="col">Last answer</th>
                  <th scope="col" class="num">
                    Error answers
                  </th>
                </tr>
              </thead>
              <tbody>
                {httpChecks.map((c) => {
                  const st = httpStatus(stats.data!.code.get(c.name) ?? 0);
                  // A check that never got an answer has no status codes: its failed runs are its error answers.
                  const bad = stats.data!.badCodes.get(c.name) ?? stats.data!.fail.get(c.name);
                  return (
                    <tr>
                      <td>
                        <a href={'/checks/' + encodeURIComponent(c.name)}>{c.name}</a>
                      </td>
                      <td>
                        <Status tone={st.tone} text={st.text} />
                      </td>
                      <td class={'num ' + (bad ? 'bad-text' : '')}>{bad === undefined ? '–' : bad === 0 ? 'none' : formatPercent(bad)}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
        </section>

        <section class="panel">
          <h2>Alerts of the last 24 hours</h2>
          {alerts24.error !== null && <ErrorBox error={alerts24.error} retry={alerts24.reload} what="the alerts" />}
          {alerts24.loading && !alerts24.data && <p class="muted">Loading…</p>}
          {alerts24.data && rows.length === 0 && <Empty>No alert fired in the last 24 hours.</Empty>}
          {rows.length > 0 && (
            <table class="top stack">
              <TableHead cols={['Alert', 'State', 'Last firing']} />
              <tbody>
                {rows.map((r) => (
                  <tr>
                    <td data-label="Alert">
                      <strong>{r.labels.alertname}</strong>
                      {r.labels.severity && <span class={'badge sev-' + r.labels.severity}>{r.labels.severity}</span>}
                      <div class="small muted break">{alertWhere(r.labels)}</div>
                      {r.now?.annotations.summary && <div class="small">{r.now.annotations.summary}</div>}
                    </td>
                    <td data-label="State">
                      {r.now ? (
                        <Status tone="bad" text="Firing" title={'Since ' + formatExactTime(r.now.activeAt)} />
                      ) : (
                        <Status tone="ok" text="Resolved" />
                      )}
                      {r.now && (
                        <div class="small muted">
                          since <RelTime t={r.now.activeAt} />
                        </div>
                      )}
                    </td>
                    <td data-label="Last firing">{r.now ? 'now' : <RelTime t={r.last} />}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <p class="small">
            <a href="/alerts">All alerts and silences →</a>
          </p>
        </section>
      </div>
    </>
  );
}

/** The identity of an alert: its labels without the state. */
function alertKey(labels: Record<string, string>): string {
  return Object.keys(labels)
    .filter((k) => k !== 'alertstate' && k !== '__name__')
    .sort()
    .map((k) => k + '=' + labels[k])
    .join(',');
}

/** Where an alert is: its check, host or mount point, in a few words. */
function alertWhere(l: Record<string, string>): string {
  const parts: string[] = [];
  if (l.check) parts.push('check ' + l.check);
  else if (l.instance) parts.push(l.instance);
  if (l.mountpoint) parts.push(l.mountpoint);
  if (l.device && !l.mountpoint) parts.push(l.device);
  return parts.join(' · ');
}
