// /checks: every check with its state (worst location) and reason, kind,
// target, where it runs, a 24-hour latency sparkline (one range query for all
// checks), uptime over 24 h / 7 d / 30 d and days to certificate expiry (one
// instant query); filtered by state and text, sorted by any column, all kept
// in the URL. The list is fetched again every 30 s, the queries every 5 min.
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { api, promQuery, promRange, useApi } from '../api';
import { alignSeries } from '../chart';
import { formatDuration, formatExactTime, formatUptime } from '../format';
import type { PageProps } from '../routes';
import { setQuery, useLocation } from '../router';
import { Empty, ErrorBox, Loading, PageHead, RelTime, Status } from '../widgets';
import {
  certWords,
  CHECK_STATES,
  daysLeft,
  filterChecks,
  hasCert,
  sortChecks,
  stateWords,
  whereText,
  worstLocation,
  type Check,
  type SortKey,
} from './checksModel';

const SPARK_RANGE = 24 * 3600;
const SPARK_STEP = 900;

export interface Spark {
  xs: number[];
  ys: (number | null)[];
}

/** Whether the element has come near the viewport once. */
function useSeen(ref: { current: Element | null }): boolean {
  const [seen, setSeen] = useState(typeof IntersectionObserver === 'undefined');
  useEffect(() => {
    if (seen || !ref.current) return;
    const io = new IntersectionObserver((es) => {
      if (es.some((e) => e.isIntersecting)) {
        setSeen(true);
        io.disconnect();
      }
    }, { rootMargin: '300px' });
    io.observe(ref.current);
    return () => io.disconnect();
  }, [seen]);
  return seen;
}

/** A small uPlot line without axes, drawn once it scrolls into view; label is its text for everyone. */
export function Sparkline(p: { data: Spark; label: string; warnAbove?: number; width?: number; height?: number }) {
  const box = useRef<HTMLDivElement>(null);
  const seen = useSeen(box);
  const width = p.width ?? 120;
  const height = p.height ?? 30;
  useEffect(() => {
    if (!seen || !box.current) return;
    const max = Math.max(0, ...p.data.ys.map((v) => v ?? 0));
    const slow = p.warnAbove !== undefined && max > p.warnAbove;
    const color = slow ? '#b45309' : '#2563eb';
    const u = new uPlot(
      {
        width,
        height,
        padding: [2, 1, 2, 1],
        cursor: { show: false },
        select: { show: false, left: 0, top: 0, width: 0, height: 0 },
        legend: { show: false },
        scales: { x: { time: false }, y: { range: (_u, _min, mx) => [0, mx && mx > 0 ? mx * 1.1 : 1] } },
        axes: [{ show: false }, { show: false }],
        // A few points alone draw no line: show them as dots.
        series: [{}, { stroke: color, width: 1.5, fill: color + '22', points: { show: p.data.ys.filter((v) => v !== null).length < 4, size: 4, fill: color }, spanGaps: false }],
      },
      [p.data.xs, p.data.ys] as uPlot.AlignedData,
      box.current,
    );
    return () => u.destroy();
  }, [seen, p.data, p.warnAbove]);
  return <div ref={box} class="ck-spark" style={{ width: width + 'px', height: height + 'px' }} role="img" aria-label={p.label} title={p.label} />;
}

/** The text of a latency sparkline: typical and peak. */
function sparkText(s: Spark): string {
  const vs = s.ys.filter((v): v is number => v !== null);
  if (!vs.length) return 'No latency data in the last 24 hours';
  const sorted = [...vs].sort((a, b) => a - b);
  return `Last 24 h: median ${formatDuration(sorted[Math.floor(sorted.length / 2)])}, peak ${formatDuration(sorted[sorted.length - 1])} (15-minute averages)`;
}

const COLUMNS: [SortKey | null, string, string][] = [
  ['name', 'Check', ''],
  ['state', 'State', ''],
  ['kind', 'Kind', ''],
  [null, 'Where', ''],
  ['latency', 'Latency, 24 h', ''],
  ['uptime24h', '24 h', 'num'],
  ['uptime7d', '7 d', 'num'],
  ['uptime30d', '30 d', 'num'],
  ['cert', 'Certificate', 'num'],
];

export default function Checks(_p: PageProps) {
  const loc = useLocation();
  const state = loc.query.get('state') ?? '';
  const text = loc.query.get('q') ?? '';
  const sort = (COLUMNS.some(([k]) => k === loc.query.get('sort')) ? loc.query.get('sort') : 'state') as SortKey;
  const desc = loc.query.get('dir') === 'desc';
  const [tick, setTick] = useState(0);
  const [slowTick, setSlowTick] = useState(0);
  useEffect(() => {
    let n = 0;
    const t = setInterval(() => {
      if (document.visibilityState === 'hidden') return;
      n++;
      setTick((x) => x + 1);
      if (n % 10 === 0) setSlowTick((x) => x + 1);
    }, 30000);
    return () => clearInterval(t);
  }, []);

  const list = useApi((signal) => api<Check[]>('/api/v1/checks', { signal }), [tick]);
  const sparks = useApi(
    async (signal) => {
      const end = Math.floor(Date.now() / 1000 / SPARK_STEP) * SPARK_STEP;
      const start = end - SPARK_RANGE;
      const r = await promRange(`max by (check) (avg_over_time(probe_duration_seconds{job="checks",kind!="heartbeat"}[${SPARK_STEP}s]))`, start, end, SPARK_STEP, signal);
      const b = alignSeries([{ series: r.resultType === 'matrix' ? r.result : [], legend: (m) => m.check ?? '' }], start, end, SPARK_STEP, 100000);
      const xs = b.data[0] as number[];
      const m = new Map<string, Spark>();
      b.names.forEach((n, i) => m.set(n, { xs, ys: b.raw[i] }));
      return m;
    },
    [slowTick],
  );
  const certs = useApi(
    async (signal) => {
      const r = await promQuery('min by (check) (probe_ssl_earliest_cert_expiry{job="checks"})', undefined, signal);
      const m = new Map<string, number>();
      if (r.resultType === 'vector') for (const s of r.result) m.set(s.metric.check ?? '', daysLeft(parseFloat(s.value[1])));
      return m;
    },
    [slowTick],
  );

  const [draft, setDraft] = useState(text);
  useEffect(() => setDraft(text), [text]);
  const timer = useRef<ReturnType<typeof setTimeout>>();
  const onText = (v: string) => {
    setDraft(v);
    clearTimeout(timer.current);
    timer.current = setTimeout(() => setQuery({ q: v.trim() || null }), 250);
  };

  const all = list.data ?? [];
  const counts = new Map<string, number>();
  for (const c of all) counts.set(c.state, (counts.get(c.state) ?? 0) + 1);
  const latency = (c: Check) => {
    const w = worstLocation(c);
    return w?.last_run ? w.last_duration_seconds : undefined;
  };
  const rows = sortChecks(filterChecks(all, { state, text }), sort, desc, (c) => ({ latency: c.kind === 'heartbeat' ? undefined : latency(c), cert: certs.data?.get(c.name) }));
  const sortValue = sort + (desc ? ':desc' : '');
  const setSort = (k: SortKey) => {
    if (k === sort) setQuery({ dir: desc ? null : 'desc' });
    else setQuery({ sort: k === 'state' ? null : k, dir: null });
  };

  return (
    <>
      <PageHead title="Checks" sub="Health checks from the configuration: their state now, latency and uptime.">
        {list.data && (
          <ul class="ck-counts" aria-label="Checks by state">
            {CHECK_STATES.filter((s) => counts.get(s)).map((s) => {
              const [tone, word] = stateWords(s);
              return (
                <li>
                  <button type="button" class={'ck-count' + (state === s ? ' on' : '')} aria-pressed={state === s} onClick={() => setQuery({ state: state === s ? null : s })} title={`Show only ${word.toLowerCase()} checks`}>
                    <Status tone={tone} text={`${counts.get(s)} ${word.toLowerCase()}`} />
                  </button>
                </li>
              );
            })}
          </ul>
        )}
      </PageHead>

      <form class="ck-filters" role="search" aria-label="Filter checks" onSubmit={(e) => e.preventDefault()}>
        <label class="field">
          <span>State</span>
          <select value={state} onChange={(e) => setQuery({ state: (e.target as HTMLSelectElement).value || null })}>
            <option value="">All</option>
            <option value="problems">Problems (down, degraded, unknown)</option>
            {CHECK_STATES.map((s) => (
              <option value={s}>{stateWords(s)[1]}</option>
            ))}
          </select>
        </label>
        <label class="field ck-search">
          <span>Search</span>
          <input type="search" value={draft} placeholder="name, target, kind, label=value, reason" onInput={(e) => onText((e.target as HTMLInputElement).value)} />
        </label>
        <label class="field ck-sort-sm">
          <span>Sort by</span>
          <select onChange={(e) => {
            const [k, d] = (e.target as HTMLSelectElement).value.split(':');
            setQuery({ sort: k === 'state' ? null : k, dir: d ? 'desc' : null });
          }}>
            <option value="state" selected={sortValue === 'state'}>Worst state first</option>
            <option value="name" selected={sortValue === 'name'}>Name</option>
            <option value="latency:desc" selected={sortValue === 'latency:desc'}>Slowest first</option>
            <option value="uptime24h" selected={sortValue === 'uptime24h'}>Lowest uptime (24 h) first</option>
            <option value="uptime30d" selected={sortValue === 'uptime30d'}>Lowest uptime (30 d) first</option>
            <option value="cert" selected={sortValue === 'cert'}>Certificate expiring first</option>
          </select>
        </label>
      </form>

      {!list.data && list.error ? <ErrorBox error={list.error} retry={list.reload} what="the checks" /> : null}
      {!list.data && !list.error && <Loading what="checks" />}
      {list.data && list.error ? <ErrorBox error={list.error} retry={list.reload} what="the latest states (showing the last ones loaded)" /> : null}
      {list.data && all.length === 0 && (
        <Empty>
          No checks are configured. Add them under <code>checks:</code> in the configuration file (see docs/checks.md) and reload the server.
        </Empty>
      )}
      {list.data && all.length > 0 && rows.length === 0 && <Empty>No check matches these filters.</Empty>}
      {sparks.error ? <p class="small muted">Latency sparklines are not available: {String((sparks.error as Error).message ?? sparks.error)}</p> : null}
      {rows.length > 0 && (
        <table class="stack ck-table">
          <thead>
            <tr>
              {COLUMNS.map(([k, label, cls]) => (
                <th scope="col" class={cls} aria-sort={k && k === sort ? (desc ? 'descending' : 'ascending') : undefined}>
                  {k ? (
                    <button type="button" class="ck-sort" onClick={() => setSort(k)}>
                      {label}
                      <span aria-hidden="true" class="ck-arrow">
                        {k === sort ? (desc ? '▼' : '▲') : ''}
                      </span>
                    </button>
                  ) : (
                    label
                  )}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((c) => {
              const w = worstLocation(c);
              const [tone, word] = stateWords(c.state);
              const spark = sparks.data?.get(c.name);
              const cert = certs.data?.get(c.name);
              const lat = latency(c);
              return (
                <tr class={'ck-row ' + c.state}>
                  <td data-label="Check" class="ca-wrap ck-name">
                    <div>
                      <a href={'/checks/' + encodeURIComponent(c.name)}>{c.name}</a>
                      {c.target && <div class="small muted ck-target">{c.target}</div>}
                      {c.description && <div class="small">{c.description}</div>}
                    </div>
                  </td>
                  <td data-label="State" class="ca-wrap">
                    <div>
                      <Status tone={tone} text={word} />
                      {w && (
                        <div class="small muted">
                          since <RelTime t={w.since} />
                        </div>
                      )}
                      {w?.reason && c.state !== 'up' && <div class="small ck-reason">{w.reason}</div>}
                    </div>
                  </td>
                  <td data-label="Kind">{c.kind}</td>
                  <td data-label="Where" class="ca-wrap small">
                    {whereText(c)}
                  </td>
                  <td data-label="Latency" class="ck-lat">
                    {c.kind === 'heartbeat' ? (
                      <span class="small muted">heartbeat: see the check</span>
                    ) : (
                      <div class="ck-lat-in">
                        {spark ? <Sparkline data={spark} label={sparkText(spark)} warnAbove={c.latency_threshold_seconds} /> : <span class="ck-spark-empty small muted">{sparks.loading ? '…' : 'no data'}</span>}
                        <span class={'small' + (lat !== undefined && lat > c.latency_threshold_seconds ? ' warn-text' : '')} title={w?.last_run ? `Last run ${formatExactTime(w.last_run)}; slower than ${formatDuration(c.latency_threshold_seconds)} is degraded` : 'Not run yet'}>
                          {lat === undefined ? '–' : formatDuration(lat)}
                        </span>
                      </div>
                    )}
                  </td>
                  {(['24h', '7d', '30d'] as const).map((k) => {
                    const u = c.uptime[k];
                    const pct = u?.percent ?? null;
                    return (
                      <td data-label={'Uptime ' + k.replace('h', ' h').replace('d', ' d')} class={'num' + (pct !== null && pct < 99 ? ' ck-low' : '')} title={u ? `${u.downs} down${u.downs === 1 ? '' : 's'}; ${formatDuration(u.down_seconds)} down, ${formatDuration(u.unknown_seconds)} unknown` : ''}>
                        {pct === null ? <span class="muted">no data</span> : formatUptime(pct)}
                      </td>
                    );
                  })}
                  <td data-label="Certificate" class={'num' + (cert === undefined ? ' ck-empty' : '')}>
                    {cert !== undefined ? (
                      (() => {
                        const [t, txt] = certWords(cert, c.cert_expiry_threshold_days ?? 14);
                        return <Status tone={t} text={txt} title={`The certificate expires ${formatExactTime(Date.now() + cert * 86400e3)}`} />;
                      })()
                    ) : (
                      <span class="muted">{hasCert(c.kind) ? '–' : ''}</span>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </>
  );
}
