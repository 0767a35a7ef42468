// The sysadmin's home: hardware and capacity over all hosts. Every panel is
// one `by (instance)` query over all hosts (topk/bottomk on the server), so
// the page costs the same handful of requests with 5 or 500 hosts.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, errorMessage, promQuery, useApi, type VectorSample } from '../api';
import { formatBytes, formatExactTime, formatFullIn, formatNumber, formatPercent } from '../format';
import type { PageProps } from '../routes';
import { setQuery, useLocation } from '../router';
import { Empty, ErrorBox, PageHead, RelTime, TableHead } from '../widgets';

const NODE = 'job="node"';
/** Real filesystems: no memory-backed, overlay or pseudo filesystems. */
const FS = `job="node",fstype!~"tmpfs|ramfs|devtmpfs|overlay|squashfs|nsfs|autofs|fuse\\\\..*|proc|sysfs"`;
const TOP = 10;

const Q = {
  hosts: `count(node_boot_time_seconds{${NODE}})`,
  cpuHot: `count(100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{${NODE},mode="idle"}[5m]))) > 90)`,
  diskHot: `count(100 * (1 - node_filesystem_avail_bytes{${FS}} / node_filesystem_size_bytes{${FS}}) > 90)`,
  cpu: `topk(${TOP}, 100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{${NODE},mode="idle"}[5m]))))`,
  mem: `topk(${TOP}, 100 * (1 - node_memory_MemAvailable_bytes{${NODE}} / node_memory_MemTotal_bytes{${NODE}}))`,
  disk: `topk(${TOP}, 100 * (1 - node_filesystem_avail_bytes{${FS}} / node_filesystem_size_bytes{${FS}}))`,
  inodes: `topk(${TOP}, 100 * (1 - node_filesystem_files_free{${FS}} / (node_filesystem_files{${FS}} > 0)))`,
  swap: `topk(${TOP}, 100 * (1 - node_memory_SwapFree_bytes{${NODE}} / (node_memory_SwapTotal_bytes{${NODE}} > 0)))`,
  load: `topk(${TOP}, node_load5{${NODE}} / on (instance) count by (instance) (node_cpu_seconds_total{${NODE},mode="idle"}))`,
};

/**
 * Days until each filesystem is full at the trend of the last `w` (6h or
 * 1d): free space divided by what predict_linear says it loses in a day;
 * only filesystems that fill within 90 days, soonest first.
 */
export function fillQuery(w: string, k = TOP): string {
  const avail = `node_filesystem_avail_bytes{${FS}}`;
  return `bottomk(${k}, (${avail} / ((${avail} - predict_linear(${avail}[${w}], 86400)) > 0)) < 90)`;
}

/** Free and total bytes of the filesystems of these hosts (a regex of the names, escaped). */
function sizeQuery(instances: string[]): string {
  const re = instances.map((i) => i.replace(/[\\.+*?()|[\]{}^$]/g, '\\\\$&')).join('|');
  return `{__name__=~"node_filesystem_(avail|size)_bytes",${FS},instance=~"${re}"}`;
}

interface HostDown {
  instance: string;
  status_since: string | null;
  last_seen: string | null;
}

type Vec = VectorSample[];

function vec(r: Awaited<ReturnType<typeof promQuery>>): Vec {
  return r.resultType === 'vector' ? r.result : [];
}

/**
 * Runs the instant queries in parallel; each result shows as soon as it
 * arrives, and a failing panel does not blank the others.
 */
function useInstant(exprs: Record<string, string>, tick: number) {
  const key = JSON.stringify(exprs);
  const [res, setRes] = useState<{ data: Record<string, Vec>; errors: Record<string, unknown>; pending: number; at: number }>({ data: {}, errors: {}, pending: 1, at: 0 });
  useEffect(() => {
    const ac = new AbortController();
    const names = Object.keys(exprs);
    setRes((r) => ({ ...r, pending: names.length }));
    for (const n of names)
      promQuery(exprs[n], undefined, ac.signal).then(
        (r) => {
          if (ac.signal.aborted) return;
          setRes((x) => {
            const errors = { ...x.errors };
            delete errors[n];
            return { data: { ...x.data, [n]: vec(r) }, errors, pending: x.pending - 1, at: Date.now() };
          });
        },
        (err) => {
          if (ac.signal.aborted) return;
          setRes((x) => ({ ...x, errors: { ...x.errors, [n]: err }, pending: x.pending - 1 }));
        },
      );
    return () => ac.abort();
  }, [key, tick]);
  return { ...res, loading: res.pending > 0 };
}

function hostHref(instance: string) {
  return '/hosts/' + encodeURIComponent(instance);
}

/** A bar with the value in words; the tone comes with a word too (never colour alone). */
function Bar(p: { pct: number; text: string; warn?: number; bad?: number }) {
  const warn = p.warn ?? 80;
  const bad = p.bad ?? 90;
  const tone = p.pct >= bad ? 'bad' : p.pct >= warn ? 'warn' : 'ok';
  const w = Math.max(0, Math.min(100, p.pct));
  return (
    <span class={'bar ' + tone}>
      <span class="bar-track" aria-hidden="true">
        <span class="bar-fill" style={{ width: w + '%' }} />
      </span>
      <span class="bar-text">
        {p.text}
        {tone === 'bad' ? ' ✖' : tone === 'warn' ? ' ▲' : ''}
      </span>
    </span>
  );
}

function Panel(p: { title: string; note?: ComponentChildren; error?: unknown; loading: boolean; children: ComponentChildren; empty?: string; rows: number; actions?: ComponentChildren }) {
  return (
    <section class="panel home-panel">
      <header class="panel-head">
        <h2>{p.title}</h2>
        {p.actions}
      </header>
      {p.note && <p class="small muted panel-note">{p.note}</p>}
      {p.error ? (
        <ErrorBox error={p.error} what="this panel" />
      ) : p.loading && p.rows === 0 ? (
        <p class="muted">Loading…</p>
      ) : p.rows === 0 ? (
        <Empty>{p.empty ?? 'Nothing to show.'}</Empty>
      ) : (
        p.children
      )}
    </section>
  );
}

function TopTable(p: { rows: Vec; head: string; label?: (m: Record<string, string>) => string; value: (v: number) => ComponentChildren; labelHead?: string }) {
  return (
    <table class="top">
      <thead>
        <tr>
          <th scope="col">Host</th>
          {p.label && <th scope="col">{p.labelHead}</th>}
          <th scope="col" class="num">
            {p.head}
          </th>
        </tr>
      </thead>
      <tbody>
        {p.rows.map((s) => (
          <tr>
            <td class="host-cell">
              <a href={hostHref(s.metric.instance ?? '')}>{s.metric.instance ?? '?'}</a>
            </td>
            {p.label && <td class="mono small">{p.label(s.metric)}</td>}
            <td class="num">{p.value(parseFloat(s.value[1]))}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function sortDesc(v: Vec | undefined): Vec {
  return (v ?? []).slice().sort((a, b) => parseFloat(b.value[1]) - parseFloat(a.value[1]));
}

function Tile(p: { label: string; value: ComponentChildren; tone?: 'ok' | 'warn' | 'bad'; sub?: ComponentChildren }) {
  return (
    <div class={'tile ' + (p.tone ?? '')}>
      <div class="tile-value">{p.value}</div>
      <div class="tile-label">{p.label}</div>
      {p.sub && <div class="tile-sub small">{p.sub}</div>}
    </div>
  );
}

export default function HomeSysadmin(_p: PageProps) {
  const loc = useLocation();
  const trend = loc.query.get('trend') === '1d' ? '1d' : '6h';
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const t = setInterval(() => {
      if (document.visibilityState !== 'hidden') setTick((n) => n + 1);
    }, 60000);
    return () => clearInterval(t);
  }, []);
  const r = useInstant({ ...Q, fill: fillQuery(trend) }, tick);
  const fillHosts = [...new Set((r.data.fill ?? []).map((s) => s.metric.instance))].sort();
  const sizes = useApi(
    (signal) => (fillHosts.length ? promQuery(sizeQuery(fillHosts), undefined, signal).then(vec) : Promise.resolve([] as Vec)),
    [fillHosts.join('|'), tick],
  );
  const down = useApi((signal) => api<HostDown[]>('/api/v1/hosts', { query: { status: 'down' }, signal }), [tick]);

  const n = (k: string) => {
    const v = r.data[k];
    if (!v) return undefined;
    return v.length ? parseFloat(v[0].value[1]) : 0;
  };
  const hosts = n('hosts');
  const downList = down.data ?? [];
  const detail = new Map<string, { avail?: number; size?: number }>();
  for (const s of sizes.data ?? []) {
    const key = s.metric.instance + '\u0000' + s.metric.mountpoint;
    const d = detail.get(key) ?? {};
    if (s.metric.__name__ === 'node_filesystem_size_bytes') d.size = parseFloat(s.value[1]);
    else d.avail = parseFloat(s.value[1]);
    detail.set(key, d);
  }
  const fill = (r.data.fill ?? []).slice().sort((a, b) => parseFloat(a.value[1]) - parseFloat(b.value[1]));
  const cpuHot = n('cpuHot');
  const diskHot = n('diskHot');
  const soon = fill.filter((s) => parseFloat(s.value[1]) < 7).length;

  return (
    <>
      <PageHead title="Hardware and capacity" sub="All hosts: what is busy, what is filling up, what is down. Each host name opens its page.">
        <span class="small muted" title={r.at ? formatExactTime(r.at) : ''}>
          {r.loading ? 'Updating…' : r.at ? 'Updated ' + new Date(r.at).toLocaleTimeString() : ''}
        </span>
        <button type="button" onClick={() => setTick((t) => t + 1)}>
          ↻ Refresh
        </button>
      </PageHead>

      <div class="tiles" aria-label="Summary">
        <Tile label="hosts sending metrics" value={hosts === undefined ? '…' : formatNumber(hosts, 0)} />
        <Tile
          label={downList.length === 1 ? 'host down' : 'hosts down'}
          value={down.data ? downList.length : '…'}
          tone={down.data ? (downList.length ? 'bad' : 'ok') : undefined}
          sub={down.data && (downList.length ? '✖ agents silent' : '✔ all agents report')}
        />
        <Tile
          label="hosts with CPU above 90 %"
          value={cpuHot === undefined ? '…' : cpuHot}
          tone={cpuHot === undefined ? undefined : cpuHot ? 'warn' : 'ok'}
          sub={cpuHot === undefined ? '' : cpuHot ? '▲ busy' : '✔ none'}
        />
        <Tile
          label="filesystems above 90 % full"
          value={diskHot === undefined ? '…' : diskHot}
          tone={diskHot === undefined ? undefined : diskHot ? 'bad' : 'ok'}
          sub={diskHot === undefined ? '' : diskHot ? '✖ clean up or grow' : '✔ none'}
        />
        <Tile
          label="filesystems full within 7 days"
          value={r.data.fill ? (soon >= TOP ? TOP + '+' : soon) : '…'}
          tone={r.data.fill ? (soon ? 'bad' : 'ok') : undefined}
          sub={r.data.fill ? (soon ? `✖ at the ${trend} trend` : '✔ none') : ''}
        />
      </div>

      <div class="home-grid">
        <Panel
          title="Filesystems that fill up soonest"
          note={`At the rate free space changed over the last ${trend === '6h' ? '6 hours' : 'day'} (linear prediction). Only filesystems that would be full within 90 days.`}
          error={r.errors.fill} loading={!r.data.fill}
          rows={fill.length}
          empty={`No filesystem fills up within 90 days at the trend of the last ${trend === '6h' ? '6 hours' : 'day'}.`}
          actions={
            <div class="seg small-seg" role="radiogroup" aria-label="Trend over">
              {(['6h', '1d'] as const).map((w) => (
                <button type="button" role="radio" aria-checked={trend === w} class={trend === w ? 'on' : ''} onClick={() => setQuery({ trend: w === '6h' ? null : w })}>
                  {w === '6h' ? 'trend 6 h' : 'trend 1 d'}
                </button>
              ))}
            </div>
          }
        >
          <table class="top stack fill">
            <thead>
              <tr>
                <th scope="col">Host</th>
                <th scope="col">Mount point</th>
                <th scope="col">When full</th>
                <th scope="col" class="num">
                  Free
                </th>
              </tr>
            </thead>
            <tbody>
              {fill.map((s) => {
                const days = parseFloat(s.value[1]);
                const d = detail.get(s.metric.instance + '\u0000' + s.metric.mountpoint);
                const used = d?.avail !== undefined && d.size ? 100 * (1 - d.avail / d.size) : undefined;
                return (
                  <tr>
                    <td class="host-cell" data-label="Host">
                      <a href={hostHref(s.metric.instance)}>{s.metric.instance}</a>
                    </td>
                    <td class="mono small" data-label="Mount point">
                      {s.metric.mountpoint}
                    </td>
                    <td data-label="When full" class={days < 7 ? 'bad-text' : days < 30 ? 'warn-text' : ''}>
                      {days < 7 ? '✖ ' : days < 30 ? '▲ ' : ''}
                      {formatFullIn(days)}
                    </td>
                    <td class="num" data-label="Free">
                      {d?.avail !== undefined ? formatBytes(d.avail) : '–'}
                      {used !== undefined && <div class="small muted">{formatPercent(used)} used</div>}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </Panel>

        <Panel title="Hosts down" note="Hosts whose agent stopped sending heartbeats." error={down.error} loading={down.loading} rows={downList.length} empty="No host is down: every agent reports.">
          <table class="top">
            <TableHead cols={['Host', 'Down since', 'Last heard from']} />
            <tbody>
              {downList.map((h) => (
                <tr>
                  <td class="host-cell">
                    <a href={hostHref(h.instance)}>{h.instance}</a>
                  </td>
                  <td class="bad-text">
                    ✖ <RelTime t={h.status_since} />
                  </td>
                  <td>
                    <RelTime t={h.last_seen} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </Panel>

        <Panel title="Busiest CPUs" note="Share of CPU time not idle, over the last 5 minutes." error={r.errors.cpu} loading={!r.data.cpu} rows={r.data.cpu?.length ?? 0} empty="No CPU data: no host sends metrics.">
          <TopTable rows={sortDesc(r.data.cpu)} head="CPU busy" value={(v) => <Bar pct={v} text={formatPercent(v)} />} />
        </Panel>

        <Panel title="Most memory used" note="Memory in use: total minus what is available to programs." error={r.errors.mem} loading={!r.data.mem} rows={r.data.mem?.length ?? 0} empty="No memory data.">
          <TopTable rows={sortDesc(r.data.mem)} head="Memory used" value={(v) => <Bar pct={v} text={formatPercent(v)} />} />
        </Panel>

        <Panel title="Fullest filesystems" note="Space used, as free space is reported to ordinary users." error={r.errors.disk} loading={!r.data.disk} rows={r.data.disk?.length ?? 0} empty="No filesystem data.">
          <TopTable rows={sortDesc(r.data.disk)} head="Used" labelHead="Mount point" label={(m) => m.mountpoint ?? ''} value={(v) => <Bar pct={v} text={formatPercent(v)} />} />
        </Panel>

        <Panel title="Inode use" note="Files and directories use inodes; when they run out, no new file can be made even with space left." error={r.errors.inodes} loading={!r.data.inodes} rows={r.data.inodes?.length ?? 0} empty="No inode data (some filesystems do not report inodes).">
          <TopTable rows={sortDesc(r.data.inodes)} head="Inodes used" labelHead="Mount point" label={(m) => m.mountpoint ?? ''} value={(v) => <Bar pct={v} text={formatPercent(v)} />} />
        </Panel>

        <Panel title="Swap use" note="Hosts without swap are left out." error={r.errors.swap} loading={!r.data.swap} rows={r.data.swap?.length ?? 0} empty="No host uses swap, or none has swap.">
          <TopTable rows={sortDesc(r.data.swap)} head="Swap used" value={(v) => <Bar pct={v} text={formatPercent(v)} warn={50} bad={80} />} />
        </Panel>

        <Panel title="Load per core" note="5-minute load average divided by the number of CPUs; above 1 means work is waiting." error={r.errors.load} loading={!r.data.load} rows={r.data.load?.length ?? 0} empty="No load data.">
          <TopTable rows={sortDesc(r.data.load)} head="Load per core" value={(v) => <Bar pct={Math.min(100, v * 50)} text={formatNumber(v)} warn={50} bad={100} />} />
        </Panel>
      </div>
      {Object.keys(r.errors).length > 0 && Object.keys(r.data).length === 0 && (
        <p class="state error" role="alert">
          The server could not answer the queries: {errorMessage(Object.values(r.errors)[0])}
        </p>
      )}
    </>
  );
}
