// The pure logic of the logs page (/logs): the page state in the URL and the
// API query strings made from it, severities (order, colours, words),
// histogram buckets laid on a full time grid and stacked by severity, the
// live tail's capped list, and the links other pages make to it.
import { formatExactTime } from '../format';
import type { Tone } from '../widgets';

/** One stored log entry as the API answers it. */
export interface LogEntry {
  time: string;
  host: string;
  source: string;
  service: string;
  severity: string;
  message: string;
  fields?: Record<string, string>;
}

export interface LogsPage {
  entries: LogEntry[];
  next_cursor?: string;
}

export interface HistBucket {
  time: string;
  count: number;
  by_severity?: Record<string, number>;
}

export interface Histogram {
  step_seconds: number;
  total: number;
  buckets: HistBucket[];
}

export interface FieldValue {
  value: string;
  count: number;
}

export interface LogFields {
  hosts?: FieldValue[];
  sources?: FieldValue[];
  services?: FieldValue[];
  severities?: FieldValue[];
}

export interface LogStatus {
  read_only: boolean;
  reason?: string;
  disk_bytes?: number;
  entries_ingested?: number;
  dropped?: Record<string, number>;
}

// ---------------------------------------------------------------- severities

/** The syslog severities, most severe first; '' (unknown) comes after debug. */
export const SEVERITIES = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'] as const;

/** The severities "errors and worse" stands for. */
export const ERRORS_AND_WORSE = ['emerg', 'alert', 'crit', 'err'];

/** '' for unknown severities, whatever the server calls them. */
export function normSeverity(s: string | undefined | null): string {
  const v = (s ?? '').toLowerCase();
  return (SEVERITIES as readonly string[]).includes(v) ? v : '';
}

/** 0 (emerg) … 7 (debug); 8 for unknown. */
export function severityRank(s: string): number {
  const i = (SEVERITIES as readonly string[]).indexOf(normSeverity(s));
  return i < 0 ? SEVERITIES.length : i;
}

/** Severities sorted most severe first, unknown last, without repeats. */
export function sortSeverities(list: string[]): string[] {
  return [...new Set(list.map(normSeverity))].sort((a, b) => severityRank(a) - severityRank(b));
}

const COLORS: Record<string, string> = {
  emerg: '#7f1d1d',
  alert: '#991b1b',
  crit: '#b91c1c',
  err: '#dc2626',
  warning: '#d97706',
  notice: '#0891b2',
  info: '#2563eb',
  debug: '#64748b',
  '': '#94a3b8',
};

/** The colour of a severity in the histogram and its legend. */
export function severityColor(s: string): string {
  return COLORS[normSeverity(s)];
}

/** The severity in words: "error", "warning", "unknown". */
export function severityWord(s: string): string {
  switch (normSeverity(s)) {
    case 'emerg':
      return 'emergency';
    case 'crit':
      return 'critical';
    case 'err':
      return 'error';
    case '':
      return 'unknown';
    default:
      return normSeverity(s);
  }
}

/** The tone of a severity's badge. */
export function severityTone(s: string): Tone {
  const r = severityRank(s);
  if (r <= 3) return 'bad';
  if (r === 4) return 'warn';
  if (r <= 6) return 'info';
  return 'muted';
}

// ---------------------------------------------------------------- URL state

/** The filter keys that are also entry attributes. */
export const FILTER_KEYS = ['host', 'source', 'service', 'severity'] as const;
export type FilterKey = (typeof FILTER_KEYS)[number];

export interface LogsState {
  q: string;
  regex: string;
  host: string[];
  source: string[];
  service: string[];
  severity: string[];
  /** Parsed-field filters as "name:value". */
  field: string[];
  /** The relative range ("1h"), or '' when from/to are set. */
  range: string;
  from: number;
  to: number;
  live: boolean;
}

const RANGE_RE = /^\d+(ms|s|m|h|d|w|y)$/;

function values(q: URLSearchParams, key: string): string[] {
  // Repeated keys and comma lists both work: ?severity=err&severity=crit or ?severity=err,crit.
  const out: string[] = [];
  for (const v of q.getAll(key)) for (const part of key === 'field' ? [v] : v.split(',')) if (part.trim() && !out.includes(part.trim())) out.push(part.trim());
  return out;
}

/**
 * A time given as RFC 3339 or Unix seconds (or milliseconds), as Unix
 * seconds; NaN when it is neither.
 */
export function parseTime(s: string | null | undefined): number {
  if (!s) return NaN;
  const t = s.trim();
  if (/^\d+(\.\d+)?$/.test(t)) {
    const n = parseFloat(t);
    return n > 1e11 ? n / 1000 : n;
  }
  if (!/^\d{4}-\d{2}-\d{2}T/.test(t)) return NaN;
  const ms = Date.parse(t);
  return Number.isFinite(ms) ? ms / 1000 : NaN;
}

/** Reads the page state from the URL query. start/end (RFC 3339 or seconds) count as from/to. */
export function readLogsState(q: URLSearchParams): LogsState {
  let from = parseTime(q.get('from') ?? q.get('start'));
  let to = parseTime(q.get('to') ?? q.get('end'));
  if (Number.isFinite(from) && !Number.isFinite(to) && (q.has('start') || q.has('from'))) to = Math.ceil(Date.now() / 1000);
  const abs = Number.isFinite(from) && Number.isFinite(to) && from > 0 && to > from;
  const r = q.get('range') ?? '';
  if (!abs) from = to = 0;
  return {
    q: q.get('q') ?? '',
    regex: q.get('regex') ?? '',
    host: values(q, 'host'),
    source: values(q, 'source'),
    service: values(q, 'service'),
    severity: values(q, 'severity').map(normSeverity).filter(Boolean),
    field: values(q, 'field').filter((f) => f.indexOf(':') > 0),
    range: abs ? '' : RANGE_RE.test(r) ? r : '1h',
    from: abs ? Math.floor(from) : 0,
    to: abs ? Math.ceil(to) : 0,
    live: q.get('live') === '1',
  };
}

/** The URL query of a state: canonical order, defaults left out, filters repeated. */
export function logsSearch(s: LogsState): string {
  const out = new URLSearchParams();
  if (s.q) out.set('q', s.q);
  if (s.regex) out.set('regex', s.regex);
  for (const k of FILTER_KEYS) for (const v of s[k]) out.append(k, v);
  for (const f of s.field) out.append('field', f);
  if (s.range) {
    if (s.range !== '1h') out.set('range', s.range);
  } else {
    out.set('from', String(s.from));
    out.set('to', String(s.to));
  }
  if (s.live) out.set('live', '1');
  return out.toString();
}

/**
 * When the URL carries start/end (links from other pages), the query the
 * page should replace it with (from/to, as the time range picker reads
 * them); null when nothing needs changing. Other parameters are kept.
 */
export function normalizeSearch(q: URLSearchParams): string | null {
  if (!q.has('start') && !q.has('end')) return null;
  const s = readLogsState(q);
  const out = new URLSearchParams(q);
  out.delete('start');
  out.delete('end');
  if (s.range) {
    out.delete('from');
    out.delete('to');
  } else {
    out.set('from', String(s.from));
    out.set('to', String(s.to));
    out.delete('range');
  }
  return out.toString();
}

/** The filters alone (no time, no live): the API parameters they make. */
function filterParams(s: LogsState, out: URLSearchParams) {
  for (const k of FILTER_KEYS) for (const v of s[k]) out.append(k, v);
  for (const f of s.field) out.append('field', f);
  if (s.q.trim()) out.set('q', s.q.trim());
  if (s.regex) out.set('regex', s.regex);
}

/** The API query (query, histogram) of a state over start..end (Unix seconds). */
export function apiParams(s: LogsState, start: number, end: number, extra: Record<string, string | number | undefined> = {}): string {
  const out = new URLSearchParams();
  out.set('start', String(Math.floor(start)));
  out.set('end', String(Math.ceil(end)));
  filterParams(s, out);
  for (const [k, v] of Object.entries(extra)) if (v !== undefined && v !== '') out.set(k, String(v));
  return out.toString();
}

/** The query of /api/v1/logs/tail: the filters, no time. */
export function tailParams(s: LogsState): string {
  const out = new URLSearchParams();
  filterParams(s, out);
  return out.toString();
}

/** Whether any filter (not the time) narrows the entries. */
export function hasFilters(s: LogsState): boolean {
  return !!(s.q.trim() || s.regex || s.field.length || FILTER_KEYS.some((k) => s[k].length));
}

/** The field filter value "name:value". */
export function fieldFilter(name: string, value: string): string {
  return name + ':' + value;
}

/** "name:value" → [name, value]. */
export function splitField(f: string): [string, string] {
  const i = f.indexOf(':');
  return i < 0 ? [f, ''] : [f.slice(0, i), f.slice(i + 1)];
}

/** The key a clicked field filters on: host, source, service, severity as such, others as field. */
export function filterFor(name: string, value: string): { key: FilterKey | 'field'; value: string } {
  if ((FILTER_KEYS as readonly string[]).includes(name)) return { key: name as FilterKey, value: name === 'severity' ? normSeverity(value) : value };
  return { key: 'field', value: fieldFilter(name, value) };
}

/** The state with a filter value added (no repeat). */
export function addFilter(s: LogsState, key: FilterKey | 'field', value: string): LogsState {
  if (!value || s[key].includes(value)) return s;
  return { ...s, [key]: [...s[key], value] };
}

/** The state without a filter value. */
export function removeFilter(s: LogsState, key: FilterKey | 'field', value: string): LogsState {
  return { ...s, [key]: s[key].filter((v) => v !== value) };
}

/** Every active filter as [key, value] pairs, in URL order (for chips). */
export function activeFilters(s: LogsState): [FilterKey | 'field', string][] {
  const out: [FilterKey | 'field', string][] = [];
  for (const k of FILTER_KEYS) for (const v of s[k]) out.push([k, v]);
  for (const f of s.field) out.push(['field', f]);
  return out;
}

/** The quick filters: name, and the filters they set (replacing the same keys). */
export const PRESETS: { name: string; title: string; set: Partial<Record<FilterKey, string[]>> }[] = [
  { name: 'Security events', title: 'Logins, sudo, users and groups added: the auth log (source=auth)', set: { source: ['auth'] } },
  { name: 'Errors and worse', title: 'Severity error, critical, alert and emergency', set: { severity: ERRORS_AND_WORSE } },
];

/** Whether a preset's filters are all set in the state. */
export function presetActive(s: LogsState, set: Partial<Record<FilterKey, string[]>>): boolean {
  return Object.entries(set).every(([k, vs]) => vs!.length === s[k as FilterKey].length && vs!.every((v) => s[k as FilterKey].includes(v)));
}

/** A regular expression's problem in words, or ''. The server uses RE2: no look-around, no back-references. */
export function regexProblem(re: string): string {
  if (!re) return '';
  if (/\(\?<?[=!]/.test(re)) return 'Look-ahead and look-behind, (?=…) (?!…), are not supported (RE2 syntax).';
  if (/\\[1-9]/.test(re)) return 'Back-references such as \\1 are not supported (RE2 syntax).';
  try {
    new RegExp(re);
  } catch (e) {
    return 'Not a valid regular expression: ' + (e instanceof Error ? e.message.replace(/^Invalid regular expression: /, '') : String(e));
  }
  return '';
}

// ---------------------------------------------------------------- histogram

const TIDY = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];

/** A tidy bucket width in seconds for about `buckets` buckets over start..end. */
export function histogramStep(start: number, end: number, buckets = 60): number {
  const raw = Math.max(1, (end - start) / Math.max(1, buckets));
  for (const t of TIDY) if (t >= raw) return t;
  return Math.ceil(raw / 86400) * 86400;
}

export interface HistSeries {
  /** Bucket starts, Unix seconds, every step from the first bucket to the last. */
  xs: number[];
  step: number;
  /** The severities present, most severe first ('' unknown last; ['*'] when the server did not split). */
  severities: string[];
  /** Counts per severity, aligned on xs. */
  counts: number[][];
  /** Entries per bucket. */
  totals: number[];
  total: number;
}

/**
 * Lays the server's buckets on a full grid start..end (missing buckets are
 * zeros), split by severity, so the bars sit where their time is.
 */
export function histogramSeries(h: Histogram, start: number, end: number): HistSeries {
  const step = h.step_seconds > 0 ? h.step_seconds : histogramStep(start, end);
  const first = Math.floor(start / step) * step;
  const n = Math.max(1, Math.floor((Math.max(end, start) - first) / step) + 1);
  const xs = Array.from({ length: n }, (_, i) => first + i * step);
  const split = h.buckets.some((b) => b.by_severity && Object.keys(b.by_severity).length > 0);
  const sevs = split ? sortSeverities(h.buckets.flatMap((b) => Object.keys(b.by_severity ?? {}))) : ['*'];
  const counts = sevs.map(() => new Array<number>(n).fill(0));
  const totals = new Array<number>(n).fill(0);
  let total = 0;
  for (const b of h.buckets) {
    const t = parseTime(b.time);
    if (!Number.isFinite(t)) continue;
    const i = Math.floor((t - first) / step + 1e-9);
    if (i < 0 || i >= n) continue;
    totals[i] += b.count;
    total += b.count;
    if (!split) {
      counts[0][i] += b.count;
      continue;
    }
    let known = 0;
    for (const [sev, c] of Object.entries(b.by_severity ?? {})) {
      counts[sevs.indexOf(normSeverity(sev))][i] += c;
      known += c;
    }
    // A bucket whose split does not add up: the rest is unknown.
    if (known < b.count) {
      let u = sevs.indexOf('');
      if (u < 0) {
        sevs.push('');
        counts.push(new Array<number>(n).fill(0));
        u = sevs.length - 1;
      }
      counts[u][i] += b.count - known;
    }
  }
  return { xs, step, severities: sevs, counts, totals, total };
}

/**
 * Cumulative sums bottom (most severe) up, in drawing order: the tallest
 * (all severities) first, so each shorter bar is drawn over the taller one.
 */
export function stackBars(h: HistSeries): { severities: string[]; data: number[][] } {
  const acc = new Array<number>(h.xs.length).fill(0);
  const cum = h.counts.map((c) => c.map((v, i) => (acc[i] += v)));
  return { severities: [...h.severities].reverse(), data: cum.reverse() };
}

/** Counts entries of the live tail into the histogram, growing its grid to their time. */
export function addToHistogram(h: HistSeries, entries: LogEntry[]): HistSeries {
  if (entries.length === 0 || h.xs.length === 0) return h;
  const xs = [...h.xs];
  const severities = [...h.severities];
  const counts = h.counts.map((c) => [...c]);
  const totals = [...h.totals];
  let total = h.total;
  for (const e of entries) {
    const t = parseTime(e.time);
    if (!Number.isFinite(t) || t < xs[0]) continue;
    let i = Math.floor((t - xs[0]) / h.step);
    if (i >= xs.length + 1440) continue; // far in the future: a clock problem, not a bar
    while (i >= xs.length) {
      xs.push(xs[xs.length - 1] + h.step);
      totals.push(0);
      for (const c of counts) c.push(0);
    }
    const sev = severities[0] === '*' ? '*' : normSeverity(e.severity);
    let k = severities.indexOf(sev);
    if (k < 0) {
      // Keep the order: most severe first, unknown last.
      k = severities.findIndex((s) => severityRank(s) > severityRank(sev));
      if (k < 0) k = severities.length;
      severities.splice(k, 0, sev);
      counts.splice(k, 0, new Array<number>(xs.length).fill(0));
    }
    counts[k][i]++;
    totals[i]++;
    total++;
  }
  return { xs, step: h.step, severities, counts, totals, total };
}

// ---------------------------------------------------------------- entries

/** A key for an entry: the same entry from the query and the tail gets the same key. */
export function entryKey(e: LogEntry): string {
  return `${e.time}\u0000${e.host}\u0000${e.source}\u0000${e.service}\u0000${e.message}`;
}

/**
 * Puts live entries (oldest first, as they arrived) on top of the list,
 * newest first, skipping ones already shown, keeping at most cap. Returns
 * the list and how many were cut from its end.
 */
export function prependLive(list: LogEntry[], incoming: LogEntry[], cap: number): { list: LogEntry[]; cut: number } {
  const seen = new Set(list.slice(0, 500).map(entryKey));
  const fresh: LogEntry[] = [];
  for (let i = incoming.length - 1; i >= 0; i--) {
    const k = entryKey(incoming[i]);
    if (seen.has(k)) continue;
    seen.add(k);
    fresh.push(incoming[i]);
  }
  const all = fresh.concat(list);
  return all.length > cap ? { list: all.slice(0, cap), cut: all.length - cap } : { list: all, cut: 0 };
}

/** The fields of an entry to show expanded: the attributes, then the parsed fields by name. */
export function entryFields(e: LogEntry): [string, string][] {
  const out: [string, string][] = [];
  for (const k of FILTER_KEYS) if (e[k]) out.push([k, k === 'severity' ? normSeverity(e[k]) || e[k] : e[k]]);
  for (const k of Object.keys(e.fields ?? {}).sort()) if (e.fields![k] !== '') out.push([k, e.fields![k]]);
  return out;
}

function pad(n: number, w = 2) {
  return String(n).padStart(w, '0');
}

/** An entry's time for the list: "14:03:07.123" today, "Nov 22 14:03:07" otherwise. */
export function formatLogTime(t: string, now: number = Date.now()): string {
  const ms = Date.parse(t);
  if (!Number.isFinite(ms)) return t;
  const d = new Date(ms);
  const n = new Date(now);
  const hms = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  if (d.getFullYear() === n.getFullYear() && d.getMonth() === n.getMonth() && d.getDate() === n.getDate()) return `${hms}.${pad(d.getMilliseconds(), 3)}`;
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getMonth()];
  return `${mon} ${d.getDate()} ${hms}`;
}

/** The exact time of an entry for its tooltip, with the fraction the server keeps. */
export function exactLogTime(t: string): string {
  const frac = /\.(\d+)/.exec(t.replace(/^[^T]*T/, ''))?.[1];
  const base = formatExactTime(t);
  return frac && base ? base.replace(/(\d{2}:\d{2}:\d{2})/, `$1.${frac}`) : base || t;
}

/** What to say when a search finds nothing. */
export function emptyMessage(s: LogsState): string {
  if (s.live) return hasFilters(s) ? 'No entries match these filters yet; new ones appear here as they arrive.' : 'No entries yet; new ones appear here as they arrive.';
  if (hasFilters(s)) return 'No logs match these filters in this range — remove a filter or widen the range.';
  return 'No logs in this range — widen the range.';
}

// ---------------------------------------------------------------- links

/** A link to the logs page with some filters and the time range of another page (range, from, to). */
export function logsHref(filters: Partial<Record<FilterKey, string>>, time?: URLSearchParams | { start: number; end: number }): string {
  const out = new URLSearchParams();
  for (const k of FILTER_KEYS) if (filters[k]) out.set(k, filters[k]!);
  if (time instanceof URLSearchParams) {
    for (const k of ['range', 'from', 'to']) if (time.get(k)) out.set(k, time.get(k)!);
  } else if (time) {
    out.set('start', String(Math.floor(time.start)));
    out.set('end', String(Math.ceil(time.end)));
  }
  const s = out.toString();
  return '/logs' + (s ? '?' + s : '');
}

/** The host (instance label) an incident is about, when its labels carry one. */
export function incidentInstance(inc: { group_labels?: Record<string, string>; alerts?: { labels: Record<string, string> }[] }): string {
  if (inc.group_labels?.instance) return inc.group_labels.instance;
  const set = new Set((inc.alerts ?? []).map((a) => a.labels?.instance).filter(Boolean));
  return set.size === 1 ? [...set][0] : '';
}

/**
 * The logs of an incident's window: from 5 minutes before it opened to when
 * it was resolved (or now), on its host when the labels name one.
 */
export function incidentLogsHref(
  inc: { opened_at: string; resolved_at: string | null; group_labels?: Record<string, string>; alerts?: { labels: Record<string, string> }[] },
  now: number = Date.now(),
): string {
  const start = Date.parse(inc.opened_at) / 1000 - 300;
  const resolved = inc.resolved_at ? Date.parse(inc.resolved_at) / 1000 : NaN;
  const end = Number.isFinite(resolved) ? resolved : now / 1000;
  const host = incidentInstance(inc);
  return logsHref(host ? { host } : {}, { start, end: Math.max(end, start + 60) });
}
