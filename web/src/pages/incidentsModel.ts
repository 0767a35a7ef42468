// Pure logic of the incident pages: API types (docs/incidents.md), filters
// in the URL, statistics summed over keys, timeline wording, the explore
// window. Unit-tested in src/incidentsModel.test.ts.
import type { Tone } from '../widgets';

export interface IncidentAlert {
  fingerprint: string;
  state: 'firing' | 'resolved' | string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  starts_at: string;
  ends_at: string | null;
}

export interface TimelineEntry {
  id: number;
  time: string;
  kind: string;
  actor: string;
  message: string;
  detail?: unknown;
}

export interface Incident {
  id: number;
  title: string;
  status: 'open' | 'acknowledged' | 'resolved' | string;
  severity: string;
  service: string;
  host: string;
  group_key: string;
  receiver: string;
  group_labels: Record<string, string>;
  root_cause: string;
  opened_at: string;
  acknowledged_at: string | null;
  acknowledged_by: string;
  resolved_at: string | null;
  resolved_by: string;
  updated_at: string;
  mtta_seconds: number | null;
  mttr_seconds: number | null;
  url: string;
  alerts?: IncidentAlert[];
  timeline?: TimelineEntry[];
}

export interface IncidentStat {
  key: string;
  incidents: number;
  acknowledged: number;
  resolved: number;
  mtta_seconds: number;
  mttr_seconds: number;
}

export const STATUSES = ['open', 'acknowledged', 'resolved'] as const;
export const SEVERITIES = ['critical', 'warning', 'info'] as const;

export function statusWords(status: string): [Tone, string] {
  switch (status) {
    case 'open':
      return ['bad', 'Open'];
    case 'acknowledged':
      return ['warn', 'Acknowledged'];
    case 'resolved':
      return ['ok', 'Resolved'];
    default:
      return ['muted', status || 'unknown'];
  }
}

export function severityTone(sev: string | undefined): Tone {
  switch ((sev ?? '').toLowerCase()) {
    case 'critical':
    case 'error':
    case 'page':
      return 'bad';
    case 'warning':
    case 'warn':
      return 'warn';
    case 'info':
      return 'info';
    default:
      return 'muted';
  }
}

/** The list's filter, as kept in the URL. status "" means unresolved (open and acknowledged), "all" every status. */
export interface IncidentFilter {
  status: string;
  severity: string;
  service: string;
  host: string;
  page: number;
}

export const PAGE_SIZE = 50;

export function readFilter(q: URLSearchParams): IncidentFilter {
  const page = parseInt(q.get('page') ?? '1', 10);
  return {
    status: q.get('status') ?? '',
    severity: q.get('severity') ?? '',
    service: q.get('service') ?? '',
    host: q.get('host') ?? '',
    page: Number.isFinite(page) && page > 0 ? page : 1,
  };
}

/** The API status parameter of a filter's status. */
export function apiStatus(status: string): string | undefined {
  if (status === 'all') return undefined;
  if (status === '') return 'open,acknowledged';
  return status;
}

/** The query of GET /api/v1/incidents for a filter. */
export function listQuery(f: IncidentFilter): Record<string, string | number | undefined> {
  return {
    status: apiStatus(f.status),
    severity: f.severity || undefined,
    service: f.service || undefined,
    host: f.host || undefined,
    limit: PAGE_SIZE,
    offset: (f.page - 1) * PAGE_SIZE,
  };
}

/** Whether an incident belongs in a list with this filter (for live updates). */
export function matchesFilter(inc: Pick<Incident, 'status' | 'severity' | 'service' | 'host'>, f: IncidentFilter): boolean {
  const st = apiStatus(f.status);
  if (st && !st.split(',').includes(inc.status)) return false;
  if (f.severity && inc.severity !== f.severity) return false;
  if (f.service && inc.service !== f.service) return false;
  if (f.host && inc.host !== f.host) return false;
  return true;
}

export interface StatsSummary {
  incidents: number;
  acknowledged: number;
  resolved: number;
  /** Means over the acknowledged / resolved incidents; null when there are none. */
  mtta: number | null;
  mttr: number | null;
}

/** Sums stats over keys; the means are weighted by the incidents they are means of. */
export function summarize(stats: IncidentStat[]): StatsSummary {
  let incidents = 0;
  let acknowledged = 0;
  let resolved = 0;
  let ta = 0;
  let tr = 0;
  for (const s of stats) {
    incidents += s.incidents;
    acknowledged += s.acknowledged;
    resolved += s.resolved;
    ta += s.mtta_seconds * s.acknowledged;
    tr += s.mttr_seconds * s.resolved;
  }
  return { incidents, acknowledged, resolved, mtta: acknowledged ? ta / acknowledged : null, mttr: resolved ? tr / resolved : null };
}

const KIND_WORDS: Record<string, [string, string]> = {
  opened: ['⚑', 'Opened'],
  alert_firing: ['▲', 'Alert firing'],
  alert_resolved: ['✔', 'Alert resolved'],
  notified: ['✉', 'Notification'],
  acknowledged: ['✓', 'Acknowledged'],
  note: ['✎', 'Note'],
  updated: ['⟳', 'Updated'],
  resolved: ['✔', 'Resolved'],
  reopened: ['↺', 'Reopened'],
};

/** An icon and words for a timeline entry's kind. */
export function kindWords(kind: string): [string, string] {
  return KIND_WORDS[kind] ?? ['•', kind.replace(/_/g, ' ')];
}

/** Whether a notification entry reports a failure. */
export function isFailure(e: TimelineEntry): boolean {
  return e.kind === 'notified' && /\bfailed\b|\berror\b/i.test(e.message);
}

/**
 * The time window worth looking at for an incident, in Unix seconds: from
 * 15 minutes before its first alert (or its opening) to 15 minutes after it
 * was resolved, or now.
 */
export function incidentWindow(inc: Pick<Incident, 'opened_at' | 'resolved_at' | 'alerts'>, now = Date.now()): { from: number; to: number } {
  let start = Date.parse(inc.opened_at);
  for (const a of inc.alerts ?? []) {
    const t = Date.parse(a.starts_at);
    if (Number.isFinite(t) && t < start) start = t;
  }
  const end = inc.resolved_at ? Math.min(Date.parse(inc.resolved_at) + 15 * 60e3, now) : now;
  return { from: Math.floor((start - 15 * 60e3) / 1000), to: Math.ceil(Math.max(end, start + 60e3) / 1000) };
}

/** A PromQL expression showing the incident's alerts over time. */
export function alertsExpr(inc: Pick<Incident, 'alerts' | 'group_labels'>): string {
  const names = [...new Set((inc.alerts ?? []).map((a) => a.labels.alertname).filter(Boolean))];
  if (names.length === 0 && inc.group_labels?.alertname) names.push(inc.group_labels.alertname);
  if (names.length === 0) return 'ALERTS';
  const esc = (s: string) => s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&').replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  return names.length === 1 ? `ALERTS{alertname="${names[0].replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"}` : `ALERTS{alertname=~"${names.map(esc).join('|')}"}`;
}

/** Seconds between two times (ISO strings), or null. */
export function between(from: string | null | undefined, to: string | null | undefined): number | null {
  if (!from || !to) return null;
  const a = Date.parse(from);
  const b = Date.parse(to);
  return Number.isFinite(a) && Number.isFinite(b) ? (b - a) / 1000 : null;
}

/** Whether a host value names a host page (not a URL or host:port target of a check). */
export function hostLink(host: string): boolean {
  return !!host && !host.includes('/') && !/:\d+$/.test(host);
}

export interface TimelineRow extends TimelineEntry {
  /** How many entries of the same kind and message in a row this one stands for (1: itself). */
  repeats: number;
  /** The time of the oldest of them. */
  firstTime: string;
}

/**
 * Newest-first timeline rows, with runs of entries of the same kind and
 * message (a flapping alert firing again, a notification re-sent) folded
 * into their newest one. Notes are never folded.
 */
export function foldTimeline(entries: TimelineEntry[]): TimelineRow[] {
  const newest = [...entries].sort((a, b) => Date.parse(b.time) - Date.parse(a.time) || b.id - a.id);
  const out: TimelineRow[] = [];
  for (const e of newest) {
    const last = out[out.length - 1];
    if (last && e.kind !== 'note' && last.kind === e.kind && last.message === e.message) {
      last.repeats++;
      last.firstTime = e.time;
      continue;
    }
    out.push({ ...e, repeats: 1, firstTime: e.time });
  }
  return out;
}
