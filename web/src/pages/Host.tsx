// /hosts/{instance}: the host's inventory entry and its charts (CPU, load,
// memory, disks, file systems, network), with reboots and agent restarts
// marked on every chart. Charts fetch only when scrolled into view.
import { api, ApiError, useApi } from '../api';
import { Chart, type ChartQuery, type Marker } from '../chart';
import { formatBytes, formatDuration } from '../format';
import type { PageProps } from '../routes';
import { useLocation } from '../router';
import { TimeRangePicker, useRefreshTick } from '../timerange';
import { Empty, ErrorBox, Loading, PageHead, RelTime, Status } from '../widgets';
import { logsHref } from './logsModel';
import { hostState, type Host } from './Overview';

interface HostEvent {
  time: string;
  kind: string;
  message: string;
}

const FS = 'fstype!~"tmpfs|ramfs|devtmpfs|overlay|squashfs|nsfs|tracefs|fuse\\\\..*|autofs|proc|sysfs|cgroup2?"';
const NET = 'device!~"lo|veth.*|docker.*|br-.*|virbr.*|cni.*|flannel.*|cali.*"';

/** The PromQL label selector for one host, with quotes and backslashes escaped. */
export function hostSelector(instance: string): string {
  return `job="node",instance="${instance.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

interface Panel {
  title: string;
  unit: 'percent' | 'bytes' | 'bytes/s' | 'number' | 'ops/s';
  queries: ChartQuery[];
  stacked?: boolean;
  yMax?: number;
}

/** The charts of a host, in order. */
export function panels(sel: string): Panel[] {
  return [
    {
      title: 'CPU by mode',
      unit: 'percent',
      stacked: true,
      yMax: 100,
      queries: [
        {
          expr: `100 * sum by (mode) (rate(node_cpu_seconds_total{${sel},mode!="idle"}[$__rate])) / scalar(count(node_cpu_seconds_total{${sel},mode="idle"}))`,
          legend: '{{mode}}',
        },
      ],
    },
    {
      title: 'Load average',
      unit: 'number',
      queries: [
        { expr: `node_load1{${sel}}`, legend: '1 min' },
        { expr: `node_load5{${sel}}`, legend: '5 min' },
        { expr: `node_load15{${sel}}`, legend: '15 min' },
        { expr: `count(node_cpu_seconds_total{${sel},mode="idle"})`, legend: 'CPUs' },
      ],
    },
    {
      title: 'Memory',
      unit: 'bytes',
      queries: [
        { expr: `node_memory_MemTotal_bytes{${sel}} - node_memory_MemAvailable_bytes{${sel}}`, legend: 'used' },
        { expr: `node_memory_Cached_bytes{${sel}} + node_memory_SReclaimable_bytes{${sel}}`, legend: 'cache' },
        { expr: `node_memory_Buffers_bytes{${sel}}`, legend: 'buffers' },
        { expr: `node_memory_SwapTotal_bytes{${sel}} - node_memory_SwapFree_bytes{${sel}}`, legend: 'swap used' },
        { expr: `node_memory_MemTotal_bytes{${sel}}`, legend: 'total' },
      ],
    },
    {
      title: 'Disk I/O',
      unit: 'bytes/s',
      queries: [
        { expr: `rate(node_disk_read_bytes_total{${sel}}[$__rate])`, legend: '{{device}} read' },
        { expr: `rate(node_disk_written_bytes_total{${sel}}[$__rate])`, legend: '{{device}} write' },
      ],
    },
    {
      title: 'Disk utilisation (time busy)',
      unit: 'percent',
      yMax: 100,
      queries: [{ expr: `100 * rate(node_disk_io_time_seconds_total{${sel}}[$__rate])`, legend: '{{device}}' }],
    },
    {
      title: 'File system space used',
      unit: 'percent',
      yMax: 100,
      queries: [{ expr: `100 * (1 - node_filesystem_avail_bytes{${sel},${FS}} / node_filesystem_size_bytes{${sel},${FS}})`, legend: '{{mountpoint}}' }],
    },
    {
      title: 'File system inodes used',
      unit: 'percent',
      yMax: 100,
      queries: [{ expr: `100 * (1 - node_filesystem_files_free{${sel},${FS}} / node_filesystem_files{${sel},${FS}} > 0)`, legend: '{{mountpoint}}' }],
    },
    {
      title: 'Network bandwidth',
      unit: 'bytes/s',
      queries: [
        { expr: `rate(node_network_receive_bytes_total{${sel},${NET}}[$__rate])`, legend: '{{device}} in' },
        { expr: `rate(node_network_transmit_bytes_total{${sel},${NET}}[$__rate])`, legend: '{{device}} out' },
      ],
    },
    {
      title: 'Network errors and drops (packets)',
      unit: 'ops/s',
      queries: [
        { expr: `rate(node_network_receive_errs_total{${sel},${NET}}[$__rate])`, legend: '{{device}} in errors' },
        { expr: `rate(node_network_transmit_errs_total{${sel},${NET}}[$__rate])`, legend: '{{device}} out errors' },
        { expr: `rate(node_network_receive_drop_total{${sel},${NET}}[$__rate])`, legend: '{{device}} in drops' },
        { expr: `rate(node_network_transmit_drop_total{${sel},${NET}}[$__rate])`, legend: '{{device}} out drops' },
      ],
    },
  ];
}

/** A link to the explorer with the query and the page's time range. */
export function exploreHref(expr: string, q: URLSearchParams): string {
  const out = new URLSearchParams({ q: expr.replace(/\$__rate/g, '5m'), tab: 'graph' });
  for (const k of ['range', 'from', 'to']) if (q.get(k)) out.set(k, q.get(k)!);
  return '/explore?' + out.toString();
}

const MARKED = new Set(['reboot', 'agent_restart']);

function HostHeader(p: { host: Host; events: HostEvent[] }) {
  const h = p.host;
  const state = hostState(h, true);
  const boot = h.boot_time ? Date.parse(h.boot_time) : 0;
  const tone = state === 'up' ? 'ok' : state === 'down' ? 'bad' : 'warn';
  return (
    <section class="panel host-info" aria-label="Host details">
      <dl>
        <div>
          <dt>Status</dt>
          <dd>
            <Status tone={tone} text={state === 'up' ? 'Up' : state === 'down' ? 'Down' : 'Stale'} /> <span class="small muted">since <RelTime t={h.status_since} /></span>
          </dd>
        </div>
        <div>
          <dt>Last seen</dt>
          <dd>
            <RelTime t={h.last_seen} />
          </dd>
        </div>
        <div>
          <dt>Uptime</dt>
          <dd title={h.boot_time ? 'Booted ' + new Date(boot).toString() : undefined}>{boot ? formatDuration((Date.now() - boot) / 1000) : '–'}</dd>
        </div>
        <div>
          <dt>OS</dt>
          <dd>{h.os || '–'}</dd>
        </div>
        <div>
          <dt>Kernel</dt>
          <dd>
            {h.kernel || '–'} {h.arch}
          </dd>
        </div>
        <div>
          <dt>CPUs · memory</dt>
          <dd>
            {h.cpus || '–'} · {h.memory_bytes ? formatBytes(h.memory_bytes) : '–'}
          </dd>
        </div>
        {Object.keys(h.labels ?? {}).length > 0 && (
          <div class="wide">
            <dt>Labels</dt>
            <dd>
              {Object.entries(h.labels).map(([k, v]) => (
                <code class="label">
                  {k}={v}
                </code>
              ))}
            </dd>
          </div>
        )}
      </dl>
      {p.events.length > 0 && (
        <details class="events">
          <summary>Recent events ({p.events.length})</summary>
          <ul class="list">
            {p.events.map((e) => (
              <li>
                <RelTime t={e.time} /> — {e.message}
              </li>
            ))}
          </ul>
        </details>
      )}
    </section>
  );
}

export default function HostPage(p: PageProps) {
  const instance = p.params.instance;
  const loc = useLocation();
  const tick = useRefreshTick();
  const info = useApi(
    (signal) => api<{ host: Host; events: HostEvent[] }>('/api/v1/hosts/' + encodeURIComponent(instance), { query: { limit: 100 }, signal }),
    [instance, tick],
  );
  const sel = hostSelector(instance);
  const q = loc.query;
  const markers: Marker[] = (info.data?.events ?? [])
    .filter((e) => MARKED.has(e.kind))
    .map((e) => ({ time: Date.parse(e.time) / 1000, label: e.kind === 'reboot' ? 'reboot' : 'agent restart' }));
  const notFound = info.error instanceof ApiError && info.error.status === 404;

  return (
    <>
      <PageHead title={instance} sub={info.data ? info.data.host.hostname !== instance ? info.data.host.hostname : 'Host' : undefined}>
        <TimeRangePicker />
      </PageHead>
      {notFound ? (
        <Empty>
          No host named “{instance}” has sent a heartbeat. Check the name, or see all hosts on the <a href="/">overview</a>.
        </Empty>
      ) : info.error && !info.data ? (
        <ErrorBox error={info.error} retry={info.reload} what="this host" />
      ) : !info.data ? (
        <Loading what="the host" />
      ) : (
        <HostHeader host={info.data.host} events={info.data.events} />
      )}
      {!notFound && (
        <>
          <p class="small muted hint">
            Drag across a chart to zoom in; Back zooms out. Dashed lines mark reboots and agent restarts.{' '}
            <a href={exploreHref(`{${sel}}`, q)}>Explore this host's metrics →</a>
            {' · '}
            <a href={logsHref({ host: instance }, q)}>Logs</a>
            {' · '}
            <a href={logsHref({ host: instance, source: 'auth' }, q)} title="Logins, sudo, users and groups added on this host">
              Security events
            </a>
          </p>
          <div class="grid charts">
            {panels(sel).map((c) => (
              <Chart
                key={c.title}
                title={c.title}
                unit={c.unit}
                stacked={c.stacked}
                yMax={c.yMax}
                queries={c.queries}
                markers={markers}
                link={{ href: exploreHref(c.queries[0].expr, q), text: 'Explore' }}
              />
            ))}
          </div>
        </>
      )}
    </>
  );
}
