// /checks/{name}: one check's state and reason now at each location, the
// last ping of a heartbeat check, latency (and success) charts with the time
// range picker and state changes marked, the last runs, uptime over 24 h,
// 7 d, 30 d, this month and a chosen month, and the history of state changes.
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, useApi } from '../api';
import { Chart, type Marker } from '../chart';
import { formatDuration, formatExactTime, formatUptime } from '../format';
import type { PageProps } from '../routes';
import { setQuery, useLocation } from '../router';
import { TimeRangePicker, useRefreshTick } from '../timerange';
import { Empty, ErrorBox, Loading, PageHead, RelTime, Status, TableHead } from '../widgets';
import { countStates, hasCert, monthKey, promString, stateWords, whereText, withDurations, type CheckDetailData, type Uptime } from './checksModel';

function UptimeRow(p: { label: string; u?: Uptime; title?: string }) {
  const u = p.u;
  return (
    <tr>
      <th scope="row" title={p.title}>
        {p.label}
      </th>
      <td data-label="Uptime" class={'num' + (u?.percent !== null && u?.percent !== undefined && u.percent < 99 ? ' ck-low' : '')}>
        {u?.percent === null || u?.percent === undefined ? <span class="muted">no data</span> : formatUptime(u.percent)}
      </td>
      <td data-label="Downs" class="num">
        {u ? u.downs : '–'}
      </td>
      <td data-label="Down" class="num">
        {u ? formatDuration(u.down_seconds) : '–'}
      </td>
      <td data-label="Degraded" class="num">
        {u ? formatDuration(u.degraded_seconds) : '–'}
      </td>
      <td data-label="Unknown" class="num" title="Time with no knowledge: the server stopped, an agent went silent, or before the check existed">
        {u ? formatDuration(u.unknown_seconds) : '–'}
      </td>
    </tr>
  );
}

function UptimeTable(p: { uptime: Record<string, Uptime>; month: string; chosen: string; caption: string }) {
  return (
    <table class="stack cd-uptime">
      <caption class="sr-only">{p.caption}</caption>
      <thead>
        <tr>
          <th scope="col">Window</th>
          <th scope="col" class="num">
            Uptime
          </th>
          <th scope="col" class="num">
            Downs
          </th>
          <th scope="col" class="num">
            Down
          </th>
          <th scope="col" class="num">
            Degraded
          </th>
          <th scope="col" class="num">
            Unknown
          </th>
        </tr>
      </thead>
      <tbody>
        <UptimeRow label="Last 24 hours" u={p.uptime['24h']} />
        <UptimeRow label="Last 7 days" u={p.uptime['7d']} />
        <UptimeRow label="Last 30 days" u={p.uptime['30d']} />
        <UptimeRow label={`This month (${p.month})`} u={p.uptime[p.month]} />
        {p.chosen && p.chosen !== p.month && <UptimeRow label={`Month ${p.chosen}`} u={p.uptime[p.chosen]} />}
      </tbody>
    </table>
  );
}

export default function CheckDetail(p: PageProps) {
  const name = p.params.name;
  const loc = useLocation();
  const chosen = /^\d{4}-\d{2}$/.test(loc.query.get('month') ?? '') ? (loc.query.get('month') as string) : '';
  const tick = useRefreshTick();
  const [poll, setPoll] = useState(0);
  useEffect(() => {
    const t = setInterval(() => document.visibilityState !== 'hidden' && setPoll((x) => x + 1), 30000);
    return () => clearInterval(t);
  }, []);
  const [showAll, setShowAll] = useState(false);
  const q = useApi((signal) => api<CheckDetailData>('/api/v1/checks/' + encodeURIComponent(name), { query: { month: chosen || undefined }, signal }), [name, chosen, tick, poll]);
  const c = q.data;
  useEffect(() => {
    document.title = `${name} · Checks · SayPro Monitor`;
  }, [name]);

  if (!c && q.error) {
    return (
      <>
        <p class="small inc-crumb">
          <a href="/checks">← Checks</a>
        </p>
        <PageHead title={name} />
        {q.error instanceof ApiError && q.error.status === 404 ? (
          <p class="state empty">
            There is no check named “{name}”. It may have been removed from the configuration; see the <a href="/checks">list of checks</a>.
          </p>
        ) : (
          <ErrorBox error={q.error} retry={q.reload} what="the check" />
        )}
      </>
    );
  }
  if (!c) return <Loading what="the check" />;

  const [tone, word] = stateWords(c.state);
  const sel = `job="checks",check=${promString(c.name)}`;
  const many = c.locations.length > 1;
  const changes = withDurations(c.changes);
  // Changes to unknown are mostly restarts of the server: they would crowd the charts.
  const markers: Marker[] = changes
    .filter((ch) => ch.state !== 'unknown')
    .slice(0, 12)
    .map((ch) => ({ time: Date.parse(ch.time) / 1000, label: (many ? ch.location + ' ' : '') + ch.state }));
  const month = monthKey();
  const heartbeat = c.kind === 'heartbeat';
  const byLoc = new Map<string, typeof c.results>();
  for (const r of c.results) {
    const l = byLoc.get(r.location) ?? [];
    l.push(r);
    byLoc.set(r.location, l);
  }

  return (
    <>
      <p class="small inc-crumb">
        <a href="/checks">← Checks</a>
      </p>
      <PageHead
        title={c.name}
        sub={
          <span class="inc-badges">
            <Status tone={tone} text={word} />
            <span>{c.kind}</span>
            {c.target && <span class="ca-wrap mono small">{c.target}</span>}
          </span>
        }
      />
      {c.description && <p class="cd-desc">{c.description}</p>}
      {q.error ? <ErrorBox error={q.error} retry={q.reload} what="the latest state (showing the last one loaded)" /> : null}

      <div class="cd-top">
        <section class="panel" aria-labelledby="cd-now">
          <h2 id="cd-now">Now</h2>
          {c.locations.length === 0 ? (
            <Empty>{c.run_on === 'server' ? 'Not run yet: the first run is due within one interval.' : `No agent has reported this check yet. It runs on the agents with ${c.run_on.replace(/^agents\{(.*)\}$/, '$1').split(',').join(', ')}; they pick it up at their next heartbeat.`}</Empty>
          ) : (
            <table class="stack">
              <TableHead cols={['Location', 'State', 'Reason', 'Last run']} />
              <tbody>
                {c.locations.map((l) => {
                  const [t, w] = stateWords(l.state);
                  return (
                    <tr>
                      <td data-label="Location">{l.location === 'server' ? 'server' : <a href={'/hosts/' + encodeURIComponent(l.location)}>{l.location}</a>}</td>
                      <td data-label="State">
                        <div>
                          <Status tone={t} text={w} />
                          <div class="small muted">
                            since <RelTime t={l.since} />
                          </div>
                        </div>
                      </td>
                      <td data-label="Reason" class="ca-wrap">
                        {l.reason || <span class="muted">{l.state === 'up' ? 'passed' : '–'}</span>}
                      </td>
                      <td data-label="Last run">
                        <div>
                          <RelTime t={l.last_run} never="not yet" />
                          {l.last_run && !heartbeat && <div class="small muted">took {formatDuration(l.last_duration_seconds)}</div>}
                        </div>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
          {heartbeat && (
            <div class="cd-ping">
              <h3>Last ping</h3>
              {c.last_ping ? (
                <dl class="inc-facts">
                  <dt>When</dt>
                  <dd>
                    <RelTime t={c.last_ping.time} /> <span class="small muted">· {formatExactTime(c.last_ping.time)}</span>
                  </dd>
                  <dt>Result</dt>
                  <dd>{c.last_ping.failed ? <Status tone="bad" text="The job reported a failure" /> : <Status tone="ok" text="Success" />}</dd>
                  {c.last_ping.runtime_seconds ? (
                    <>
                      <dt>Run time</dt>
                      <dd>{formatDuration(c.last_ping.runtime_seconds)}</dd>
                    </>
                  ) : null}
                  {c.last_ping.message ? (
                    <>
                      <dt>Message</dt>
                      <dd>
                        <pre class="cd-msg">{c.last_ping.message}</pre>
                      </dd>
                    </>
                  ) : null}
                </dl>
              ) : (
                <Empty>No ping has arrived yet. The job pings /api/v1/heartbeat/&lt;token&gt; when it finishes (see docs/checks.md).</Empty>
              )}
            </div>
          )}
        </section>

        <section class="panel" aria-labelledby="cd-settings">
          <h2 id="cd-settings">Settings</h2>
          <dl class="inc-facts">
            <dt>Runs on</dt>
            <dd>{whereText(c)}</dd>
            <dt>{heartbeat ? "Checked every" : "Every"}</dt>
            <dd>{formatDuration(c.interval_seconds)}</dd>
            {!heartbeat && (
              <>
                <dt>Timeout</dt>
                <dd>{formatDuration(c.timeout_seconds)}</dd>
                <dt>Degraded when</dt>
                <dd>
                  slower than {formatDuration(c.latency_threshold_seconds)}
                  {hasCert(c.kind) && c.cert_expiry_threshold_days ? `, or a certificate expires within ${Math.round(c.cert_expiry_threshold_days)} days` : ''}
                </dd>
              </>
            )}
            {c.labels && Object.keys(c.labels).length > 0 && (
              <>
                <dt>Labels</dt>
                <dd>
                  <ul class="al-labels">
                    {Object.entries(c.labels).map(([k, v]) => (
                      <li>
                        <span class="k">{k}</span>=<span class="v">{v}</span>
                      </li>
                    ))}
                  </ul>
                </dd>
              </>
            )}
          </dl>
          {byLoc.size > 0 && (
            <>
              <h3>Last runs</h3>
              {[...byLoc.entries()].map(([l, rs]) => {
                const oldestFirst = [...rs].reverse();
                return (
                  <div class="cd-runs">
                    {many && <div class="small">{l}</div>}
                    <p class="small muted">
                      {countStates(rs)
                        .map(([s, n]) => `${n} ${stateWords(s)[1].toLowerCase()}`)
                        .join(', ')}{' '}
                      of the last {rs.length}, oldest left
                    </p>
                    <ol class="cd-strip" aria-hidden="true">
                      {oldestFirst.map((r) => (
                        <li class={'cd-run ' + r.state} title={`${formatExactTime(r.time)}: ${stateWords(r.state)[1]}${r.reason ? ' — ' + r.reason : ''}, ${formatDuration(r.duration_seconds)}`} />
                      ))}
                    </ol>
                  </div>
                );
              })}
            </>
          )}
        </section>
      </div>

      <div class="cd-charts-head">
        <h2>{heartbeat ? 'Job run time' : 'Latency'}</h2>
        <TimeRangePicker />
      </div>
      <div class="grid cd-charts">
        {heartbeat ? (
          <Chart title="Run time reported by the job" unit="seconds" queries={[{ expr: `saypro_heartbeat_runtime_seconds{${sel}}`, legend: many ? '{{location}}' : 'run time' }]} markers={markers} minStep={60} />
        ) : (
          <Chart
            title="Duration of each run"
            unit="seconds"
            queries={[{ expr: `probe_duration_seconds{${sel}}`, legend: many ? '{{location}}' : 'duration' }]}
            markers={markers}
            link={{ href: `/explore?q=${encodeURIComponent(`probe_duration_seconds{${sel}}`)}`, text: 'Explore' }}
          />
        )}
        <Chart title="Success (1: up or degraded, 0: down)" unit="number" yMin={0} yMax={1} height={140} queries={[{ expr: `probe_success{${sel}}`, legend: many ? '{{location}}' : 'success' }]} markers={markers} />
      </div>

      <section class="panel" aria-labelledby="cd-uptime">
        <div class="cd-uptime-head">
          <h2 id="cd-uptime">Uptime</h2>
          <label class="inc-inline">
            <span>Another month</span>
            <input type="month" value={chosen} max={month} onChange={(e) => setQuery({ month: (e.target as HTMLInputElement).value || null })} />
          </label>
        </div>
        <p class="small muted">The share of the known time the check was up or degraded; time when nothing was known counts neither way.</p>
        <UptimeTable uptime={c.uptime} month={month} chosen={chosen} caption="Uptime of the check (its worst location)" />
        {c.uptime_by_location &&
          Object.entries(c.uptime_by_location).map(([l, u]) => (
            <>
              <h3>At {l}</h3>
              <UptimeTable uptime={u} month={month} chosen={chosen} caption={`Uptime at ${l}`} />
            </>
          ))}
      </section>

      <section class="panel" aria-labelledby="cd-history">
        <h2 id="cd-history">History of state changes</h2>
        {changes.length === 0 ? (
          <Empty>No state changes recorded{chosen ? ` in ${chosen}` : ''}.</Empty>
        ) : (
          <>
            <p class="small muted">
              {chosen ? `Changes in ${chosen}` : `The newest ${changes.length}`}, newest first.
            </p>
            <table class="stack">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  {many && <th scope="col">Location</th>}
                  <th scope="col">Became</th>
                  <th scope="col">Reason</th>
                  <th scope="col" class="num">
                    Lasted
                  </th>
                </tr>
              </thead>
              <tbody>
                {(showAll ? changes : changes.slice(0, 20)).map((ch) => {
                  const [t, w] = stateWords(ch.state);
                  return (
                    <tr>
                      <td data-label="When">
                        <div>
                          <RelTime t={ch.time} />
                          <div class="small muted">{formatExactTime(ch.time)}</div>
                        </div>
                      </td>
                      {many && <td data-label="Location">{ch.location}</td>}
                      <td data-label="Became">
                        <Status tone={t} text={w} />
                      </td>
                      <td data-label="Reason" class="ca-wrap">
                        {ch.reason || <span class="muted">–</span>}
                      </td>
                      <td data-label="Lasted" class="num">
                        {formatDuration(ch.lasted)}
                        {ch.current && <span class="small muted"> so far</span>}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
            {changes.length > 20 && !showAll && (
              <p>
                <button type="button" onClick={() => setShowAll(true)}>
                  Show all {changes.length} changes
                </button>
              </p>
            )}
          </>
        )}
      </section>
    </>
  );
}
