// /: every host as a tile (worst first), firing alerts and open incidents
// (live), a checks summary and this month's uptime against the target.
// Requests do not grow with the number of hosts: one inventory call and one
// PromQL query per metric over all hosts.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, promQuery, useApi, useEvents, type VectorSample } from '../api';
import { formatBytesRate, formatPercent, formatUptime } from '../format';
import { setQuery, useLocation } from '../router';
import type { PageProps } from '../routes';
import { Empty, ErrorBox, Loading, PageHead, RelTime, Status, type Tone } from '../widgets';

/** The availability target the month's uptime is compared with, in percent. */
export const UPTIME_TARGET = 99.9;

export interface Host {
  instance: string;
  hostname: string;
  os: string;
  kernel: string;
  arch: string;
  cpus: number;
  memory_bytes: number;
  labels: Record<string, string>;
  boot_time: string | null;
  last_seen: string | null;
  status: 'up' | 'down' | string;
  status_since: string | null;
  heartbeat_interval_seconds: number;
}

export type HostState = 'up' | 'down' | 'stale';

/**
 * down: the inventory says so; stale: up in the inventory but its heartbeats
 * or its metrics stopped arriving (more than 3 intervals, at least 2 min).
 */
export function hostState(h: Host, hasMetrics: boolean, now = Date.now()): HostState {
  if (h.status === 'down') return 'down';
  const last = h.last_seen ? Date.parse(h.last_seen) : 0;
  const limit = Math.max(120, 3 * (h.heartbeat_interval_seconds || 15)) * 1000;
  if (!last || now - last > limit || !hasMetrics) return 'stale';
  return 'up';
}

const STATE_TONE: Record<HostState, Tone> = { up: 'ok', down: 'bad', stale: 'warn' };
const STATE_TEXT: Record<HostState, string> = { up: 'Up', down: 'Down', stale: 'Stale' };

/** Usage above which a value is shown as a warning, and as bad. */
const WARN = 80;
const BAD = 90;

// Virtual and loopback devices and in-memory file systems are left out of "now" figures.
const NET_DEV = 'device!~"lo|veth.*|docker.*|br-.*|virbr.*|cni.*|flannel.*|cali.*|ifb.*|tun.*|wg.*"';
const FS_SEL = 'fstype!~"tmpfs|ramfs|devtmpfs|overlay|squashfs|nsfs|tracefs|fuse\\\\..*|autofs|proc|sysfs|cgroup2?"';

export const QUERIES = {
  cpu: `100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{job="node",mode="idle"}[2m])))`,
  mem: `100 * (1 - node_memory_MemAvailable_bytes{job="node"} / node_memory_MemTotal_bytes{job="node"})`,
  disk: `topk by (instance) (1, 100 * (1 - node_filesystem_avail_bytes{job="node",${FS_SEL}} / node_filesystem_size_bytes{job="node",${FS_SEL}}))`,
  netIn: `sum by (instance) (rate(node_network_receive_bytes_total{job="node",${NET_DEV}}[2m]))`,
  netOut: `sum by (instance) (rate(node_network_transmit_bytes_total{job="node",${NET_DEV}}[2m]))`,
};

interface Metrics {
  cpu: number;
  mem: number;
  disk: number;
  mount: string;
  netIn: number;
  netOut: number;
}

interface Row {
  host: Host;
  state: HostState;
  m: Partial<Metrics>;
  worst: number;
}

function byInstance(samples: VectorSample[]): Map<string, VectorSample> {
  const m = new Map<string, VectorSample>();
  for (const s of samples) m.set(s.metric.instance ?? '', s);
  return m;
}

type MetricMaps = Partial<Record<keyof typeof QUERIES, Map<string, VectorSample>>>;

/** The five by-instance queries, each a map from instance to its sample. */
async function loadMetrics(signal: AbortSignal): Promise<{ maps: MetricMaps; error?: string }> {
  const keys = Object.keys(QUERIES) as (keyof typeof QUERIES)[];
  const results = await Promise.allSettled(keys.map((k) => promQuery(QUERIES[k], undefined, signal)));
  const maps: MetricMaps = {};
  let error: string | undefined;
  results.forEach((r, i) => {
    if (r.status === 'fulfilled' && r.value.resultType === 'vector') maps[keys[i]] = byInstance(r.value.result);
    else if (r.status === 'rejected') error = r.reason instanceof Error ? r.reason.message : String(r.reason);
  });
  return { maps, error };
}

/** Joins the inventory with the metrics (undefined while they load: hosts count as reporting). */
export function buildRows(hosts: Host[], maps: MetricMaps | undefined, now = Date.now()): Row[] {
  const rows = hosts.map((h) => {
    const get = (k: keyof typeof QUERIES) => {
      const s = maps?.[k]?.get(h.instance);
      return s ? parseFloat(s.value[1]) : undefined;
    };
    const m: Partial<Metrics> = {
      cpu: get('cpu'),
      mem: get('mem'),
      disk: get('disk'),
      mount: maps?.disk?.get(h.instance)?.metric.mountpoint,
      netIn: get('netIn'),
      netOut: get('netOut'),
    };
    const state = hostState(h, !maps || m.cpu !== undefined || m.mem !== undefined, now);
    const worst = Math.max(m.cpu ?? 0, m.mem ?? 0, m.disk ?? 0);
    return { host: h, state, m, worst };
  });
  return sortWorstFirst(rows);
}

/** How many of n items to render now: a first screenful at once, the rest a moment later. */
function useProgressive(n: number, first = 120): number {
  const [limit, setLimit] = useState(first);
  useEffect(() => {
    if (limit >= n) return;
    const t = setTimeout(() => setLimit(n), 30);
    return () => clearTimeout(t);
  }, [n, limit]);
  return Math.min(n, limit);
}

const STATE_RANK: Record<HostState, number> = { down: 0, stale: 1, up: 2 };

/** Down first, then stale, then by the highest of CPU, memory and disk use; then by name. */
export function sortWorstFirst<T extends { state: HostState; worst: number; host: { instance: string } }>(rows: T[]): T[] {
  return rows.sort((a, b) => STATE_RANK[a.state] - STATE_RANK[b.state] || b.worst - a.worst || a.host.instance.localeCompare(b.host.instance));
}

/** Whether a host matches the filter text (name, OS, state, label values; all words must match). */
export function matchesFilter(r: { host: Host; state: HostState }, filter: string): boolean {
  const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
  if (!words.length) return true;
  const hay = [r.host.instance, r.host.hostname, r.host.os, r.state, ...Object.entries(r.host.labels ?? {}).map(([k, v]) => `${k}=${v}`)].join(' ').toLowerCase();
  return words.every((w) => hay.includes(w));
}

function tone(v: number | undefined): Tone {
  if (v === undefined) return 'muted';
  return v >= BAD ? 'bad' : v >= WARN ? 'warn' : 'ok';
}

function Meter(p: { label: string; value?: number; title?: string }) {
  const t = tone(p.value);
  return (
    <div class={'meter ' + t} title={p.title}>
      <span class="meter-label">{p.label}</span>
      <span class="meter-bar" aria-hidden="true">
        <span style={{ width: Math.min(100, Math.max(0, p.value ?? 0)) + '%' }} />
      </span>
      <span class="meter-value">
        {t === 'bad' || t === 'warn' ? <span aria-label={t === 'bad' ? 'critical' : 'high'}>{t === 'bad' ? '✖ ' : '▲ '}</span> : null}
        {formatPercent(p.value)}
      </span>
    </div>
  );
}

function Tile(p: { r: Row }) {
  const { host: h, state, m } = p.r;
  return (
    <li class={'htile ' + state}>
      <a href={'/hosts/' + encodeURIComponent(h.instance)} aria-label={`${h.instance}: ${STATE_TEXT[state]}`}>
        <div class="tile-head">
          <span class="tile-name" title={h.instance}>{h.instance}</span>
          <Status tone={STATE_TONE[state]} text={STATE_TEXT[state]} />
        </div>
        {state === 'up' && m.cpu === undefined && m.mem === undefined ? (
          <p class="tile-why">Loading figures…</p>
        ) : state === 'up' ? (
          <>
            <Meter label="CPU" value={m.cpu} />
            <Meter label="Mem" value={m.mem} />
            <Meter label="Disk" value={m.disk} title={m.mount ? `Fullest file system: ${m.mount}` : undefined} />
            <div class="tile-net">
              <span title="Network in, all interfaces">↓ {formatBytesRate(m.netIn)}</span>
              <span title="Network out, all interfaces">↑ {formatBytesRate(m.netOut)}</span>
            </div>
          </>
        ) : (
          <p class="tile-why">
            {state === 'down' ? 'No heartbeat since ' : 'Last data '}
            <RelTime t={h.last_seen} />
            {state === 'stale' && ' — the agent reports but sends no metrics, or is late.'}
          </p>
        )}
      </a>
    </li>
  );
}

// ---------------------------------------------------------------- alerts and incidents

interface AmAlert {
  fingerprint: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  status: { state: string };
}

interface Incident {
  id: number;
  title: string;
  status: string;
  severity: string;
  host?: string;
  service?: string;
  opened_at: string;
  acknowledged_by?: string;
}

function sevTone(s: string | undefined): Tone {
  return s === 'critical' ? 'bad' : s === 'warning' ? 'warn' : 'info';
}

function Live() {
  const alerts = useApi((signal) => api<AmAlert[]>('/api/v2/alerts', { query: { active: true, silenced: false, inhibited: false }, signal }), []);
  const incidents = useApi((signal) => api<{ incidents: Incident[]; total: number }>('/api/v1/incidents', { query: { status: 'open,acknowledged', limit: 10 }, signal }), []);
  // Refetch on live events, at most once a second.
  const timer = useRef<ReturnType<typeof setTimeout>>();
  const stream = useEvents(['incident', 'alert'], (e) => {
    if (timer.current) return;
    timer.current = setTimeout(() => {
      timer.current = undefined;
      if (e.kind !== 'incident') alerts.reload();
      if (e.kind !== 'alert') incidents.reload();
    }, 1000);
  });
  useEffect(() => () => clearTimeout(timer.current), []);
  // And every minute, should the stream be cut.
  useEffect(() => {
    const t = setInterval(() => {
      alerts.reload();
      incidents.reload();
    }, 60000);
    return () => clearInterval(t);
  }, []);

  const firing = (alerts.data ?? []).slice().sort((a, b) => (a.labels.severity === 'critical' ? 0 : 1) - (b.labels.severity === 'critical' ? 0 : 1) || b.startsAt.localeCompare(a.startsAt));
  return (
    <div class="live">
      <section class="panel" aria-labelledby="h-alerts">
        <header class="panel-head">
          <h2 id="h-alerts">
            Firing alerts {alerts.data && <span class="count">{firing.length}</span>}
          </h2>
          <span class={'stream ' + stream} title="Live updates from the server">
            {stream === 'open' ? '● live' : stream === 'connecting' ? '○ connecting…' : '✖ not live, retrying'}
          </span>
        </header>
        {alerts.error ? (
          <ErrorBox error={alerts.error} retry={alerts.reload} what="alerts" />
        ) : !alerts.data ? (
          <Loading what="alerts" />
        ) : firing.length === 0 ? (
          <Empty>No firing alerts.</Empty>
        ) : (
          <ul class="list">
            {firing.slice(0, 5).map((a) => (
              <li>
                <Status tone={sevTone(a.labels.severity)} text={a.labels.severity || 'alert'} />{' '}
                <strong>{a.labels.alertname}</strong>
                {a.labels.instance && (
                  <>
                    {' on '}
                    <a href={'/hosts/' + encodeURIComponent(a.labels.instance)}>{a.labels.instance}</a>
                  </>
                )}
                <span class="muted small">
                  {' '}
                  since <RelTime t={a.startsAt} />
                </span>
                {a.annotations.summary && <div class="small muted">{a.annotations.summary}</div>}
              </li>
            ))}
          </ul>
        )}
        <p class="more">
          <a href="/alerts">{firing.length > 5 ? `All ${firing.length} alerts, silences and maintenance →` : 'Alerts, silences and maintenance →'}</a>
        </p>
      </section>
      <section class="panel" aria-labelledby="h-inc">
        <header class="panel-head">
          <h2 id="h-inc">
            Open incidents {incidents.data && <span class="count">{incidents.data.total}</span>}
          </h2>
        </header>
        {incidents.error ? (
          <ErrorBox error={incidents.error} retry={incidents.reload} what="incidents" />
        ) : !incidents.data ? (
          <Loading what="incidents" />
        ) : incidents.data.incidents.length === 0 ? (
          <Empty>No open incidents.</Empty>
        ) : (
          <ul class="list">
            {incidents.data.incidents.map((i) => (
              <li>
                <Status tone={i.status === 'open' ? sevTone(i.severity) : 'muted'} text={i.status === 'acknowledged' ? 'acknowledged' : i.severity || 'open'} />{' '}
                <a href={'/incidents/' + i.id}>
                  #{i.id} {i.title}
                </a>
                <span class="muted small">
                  {' '}
                  opened <RelTime t={i.opened_at} />
                  {i.acknowledged_by && ` · taken by ${i.acknowledged_by}`}
                </span>
              </li>
            ))}
          </ul>
        )}
        <p class="more">
          <a href="/incidents">All incidents →</a>
        </p>
      </section>
    </div>
  );
}

// ---------------------------------------------------------------- checks

interface CheckUptime {
  percent: number | null;
}
export interface CheckView {
  name: string;
  state: string;
  uptime: Record<string, CheckUptime>;
}

const CHECK_STATES: { state: string; tone: Tone; text: string }[] = [
  { state: 'down', tone: 'bad', text: 'down' },
  { state: 'degraded', tone: 'warn', text: 'degraded' },
  { state: 'up', tone: 'ok', text: 'up' },
  { state: 'unknown', tone: 'muted', text: 'unknown' },
  { state: 'pending', tone: 'muted', text: 'pending' },
];

function thisMonth(d = new Date()) {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}`;
}

/** Each check's uptime this month, from the list (which carries the calendar month's window besides 24h/7d/30d). */
export function monthUptimes(checks: CheckView[], month = thisMonth()): { name: string; percent: number | null }[] {
  return checks.map((c) => {
    const u = c.uptime?.[month] ?? Object.entries(c.uptime ?? {}).find(([k]) => /^\d{4}-\d{2}$/.test(k))?.[1];
    return { name: c.name, percent: u?.percent ?? null };
  });
}

function Checks() {
  const list = useApi((signal) => api<CheckView[]>('/api/v1/checks', { signal }), []);
  const month = { data: list.data ? monthUptimes(list.data) : undefined };
  useEffect(() => {
    const t = setInterval(list.reload, 60000);
    return () => clearInterval(t);
  }, []);
  const counts = new Map<string, number>();
  for (const c of list.data ?? []) counts.set(c.state, (counts.get(c.state) ?? 0) + 1);
  const known = (month.data ?? []).filter((u) => u.percent !== null) as { name: string; percent: number }[];
  const worst = known.reduce<{ name: string; percent: number } | null>((w, u) => (!w || u.percent < w.percent ? u : w), null);
  const avg = known.length ? known.reduce((s, u) => s + u.percent, 0) / known.length : null;
  const below = known.filter((u) => u.percent < UPTIME_TARGET).length;
  const monthName = new Date().toLocaleString('en', { month: 'long', year: 'numeric' });
  return (
    <section class="panel checks-sum" aria-labelledby="h-checks">
      <header class="panel-head">
        <h2 id="h-checks">Checks</h2>
        <a href="/checks">All checks →</a>
      </header>
      {list.error ? (
        <ErrorBox error={list.error} retry={list.reload} what="checks" />
      ) : !list.data ? (
        <Loading what="checks" />
      ) : list.data.length === 0 ? (
        <Empty>No checks are configured. Checks are defined in the server's configuration file (see the checks documentation).</Empty>
      ) : (
        <div class="checks-body">
          <ul class="counts" aria-label="Checks by state">
            {CHECK_STATES.filter((s) => counts.get(s.state)).map((s) => (
              <li>
                <a href={'/checks?state=' + s.state}>
                  <span class="big">{counts.get(s.state)}</span> <Status tone={s.tone} text={s.text} />
                </a>
              </li>
            ))}
          </ul>
          <div class="uptime">
            <h3>Uptime in {monthName}</h3>
            {!month.data ? (
              <Loading what="uptime" />
            ) : !worst ? (
              <Empty>Nothing known yet this month.</Empty>
            ) : (
              <>
                <p class="uptime-main">
                  <span class={'big ' + (worst.percent >= UPTIME_TARGET ? 'ok' : 'bad')}>{formatUptime(worst.percent)}</span>{' '}
                  <Status tone={worst.percent >= UPTIME_TARGET ? 'ok' : 'bad'} text={worst.percent >= UPTIME_TARGET ? 'meets target' : 'below target'} />
                </p>
                <p class="small">
                  Worst check: <a href={'/checks/' + encodeURIComponent(worst.name)}>{worst.name}</a>. Target {UPTIME_TARGET} %.
                  <br />
                  Average over {known.length} checks: {formatUptime(avg)}
                  {below > 0 ? `; ${below} below target.` : '; all meet the target.'}
                </p>
              </>
            )}
          </div>
        </div>
      )}
    </section>
  );
}

// ---------------------------------------------------------------- page

export default function Overview(_p: PageProps) {
  const loc = useLocation();
  const filter = loc.query.get('q') ?? '';
  const [text, setText] = useState(filter);
  // The inventory and the metrics load side by side; tiles show as soon as the inventory is in.
  const hosts = useApi((signal) => api<Host[]>('/api/v1/hosts', { signal }), []);
  const metrics = useApi(loadMetrics, []);
  useEffect(() => {
    const t = setInterval(() => {
      if (document.visibilityState === 'hidden') return;
      hosts.reload();
      metrics.reload();
    }, 30000);
    return () => clearInterval(t);
  }, []);
  // The filter updates the URL a little after typing stops.
  useEffect(() => {
    const t = setTimeout(() => setQuery({ q: text.trim() || null }), 250);
    return () => clearTimeout(t);
  }, [text]);
  const rows = useMemo(() => buildRows(hosts.data ?? [], metrics.data?.maps), [hosts.data, metrics.data]);
  const shown = useMemo(() => rows.filter((r) => matchesFilter(r, filter)), [rows, filter]);
  const limit = useProgressive(shown.length);
  const count = { up: 0, down: 0, stale: 0 } as Record<HostState, number>;
  for (const r of rows) count[r.state]++;

  return (
    <>
      <PageHead title="Overview" sub={hosts.data ? `${rows.length} ${rows.length === 1 ? "host" : "hosts"}: ${count.up} up, ${count.down} down, ${count.stale} stale` : undefined} />
      <div class="overview-top">
        <Live />
        <Checks />
      </div>
      <section aria-labelledby="h-hosts">
        <header class="hosts-head">
          <h2 id="h-hosts">Hosts</h2>
          <label class="filter">
            <span class="visually-hidden">Filter hosts</span>
            <input type="search" placeholder="Filter: name, OS, label, down…" value={text} onInput={(e) => setText((e.target as HTMLInputElement).value)} />
          </label>
          <span class="muted small">Worst first · CPU, memory and fullest disk use · network now</span>
        </header>
        {hosts.error && !hosts.data ? (
          <ErrorBox error={hosts.error} retry={hosts.reload} what="the hosts" />
        ) : !hosts.data ? (
          <Loading what="hosts" />
        ) : rows.length === 0 ? (
          <Empty>No hosts yet. Install the agent on a host (see the agent documentation); it appears here after its first heartbeat.</Empty>
        ) : (
          <>
            {hosts.error && <ErrorBox error={hosts.error} retry={hosts.reload} what="fresh data (showing the last)" />}
            {(metrics.error || metrics.data?.error) && (
              <ErrorBox error={metrics.error ?? new Error(metrics.data?.error)} retry={metrics.reload} what="some figures" />
            )}
            {shown.length === 0 ? (
              <Empty>No host matches “{filter}”.</Empty>
            ) : (
              <ul class="tiles">
                {shown.slice(0, limit).map((r) => (
                  <Tile key={r.host.instance} r={r} />
                ))}
              </ul>
            )}
          </>
        )}
      </section>
    </>
  );
}
