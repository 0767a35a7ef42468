// Pure logic of the alerts page: Alertmanager API v2 types, alert grouping
// and state, silence matchers (parsing, validation, matching), durations.
// No DOM, no requests except amCall: unit-tested in src/alertsModel.test.ts.
import { ApiError, clearSession, redirectToLogin, session } from '../api';

export interface AMAlert {
  fingerprint: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt?: string;
  updatedAt?: string;
  generatorURL?: string;
  receivers?: { name: string }[];
  status: { state: 'active' | 'suppressed' | 'unprocessed' | string; silencedBy: string[]; inhibitedBy: string[]; mutedBy?: string[] };
}

export type MatchOp = '=' | '!=' | '=~' | '!~';
export const OPS: MatchOp[] = ['=', '!=', '=~', '!~'];

export interface Matcher {
  name: string;
  op: MatchOp;
  value: string;
}

/** A matcher as the Alertmanager API v2 carries it. */
export interface AMMatcher {
  name: string;
  value: string;
  isRegex: boolean;
  isEqual?: boolean;
}

export interface Silence {
  id: string;
  status: { state: 'active' | 'pending' | 'expired' | string };
  matchers: AMMatcher[];
  startsAt: string;
  endsAt: string;
  updatedAt?: string;
  createdBy: string;
  comment: string;
  annotations?: Record<string, string>;
}

/** createdBy of the silences that maintenance windows make (internal/alertmanager/maintenance.go). */
export const MAINTENANCE_CREATOR = 'SayPro maintenance window';
const WINDOW_ANNOTATION = 'saypro.maintenance_window';

export function isMaintenance(s: Silence): boolean {
  return s.createdBy === MAINTENANCE_CREATOR || !!s.annotations?.[WINDOW_ANNOTATION];
}

/** The maintenance window's name of a silence, or ''. */
export function windowName(s: Silence): string {
  return s.annotations?.[WINDOW_ANNOTATION] ?? '';
}

export function toMatcher(m: AMMatcher): Matcher {
  const eq = m.isEqual !== false;
  return { name: m.name, value: m.value, op: m.isRegex ? (eq ? '=~' : '!~') : eq ? '=' : '!=' };
}

export function toAMMatcher(m: Matcher): AMMatcher {
  return { name: m.name.trim(), value: m.value, isRegex: m.op === '=~' || m.op === '!~', isEqual: m.op === '=' || m.op === '=~' };
}

/** instance=~"db-.*" */
export function matcherText(m: Matcher | AMMatcher): string {
  const mm = 'op' in m ? m : toMatcher(m);
  return `${mm.name}${mm.op}${JSON.stringify(mm.value)}`;
}

const NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * Parses one matcher written as text: name=value, name!="value",
 * name=~"db-.*", name!~'x'. Returns null when it is not one.
 */
export function parseMatcher(text: string): Matcher | null {
  const m = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$/.exec(text);
  if (!m) return null;
  let v = m[3];
  if (v.length >= 2 && ((v[0] === '"' && v[v.length - 1] === '"') || (v[0] === "'" && v[v.length - 1] === "'"))) {
    if (v[0] === '"') {
      try {
        v = JSON.parse(v);
      } catch {
        return null;
      }
    } else v = v.slice(1, -1);
  }
  return { name: m[1], op: m[2] as MatchOp, value: v };
}

/** Parses "a=b, c=~"x.*"" or "{a="b",c!="d"}" into matchers; null when one part is not a matcher. */
export function parseMatchers(text: string): Matcher[] | null {
  let t = text.trim();
  if (t.startsWith('{') && t.endsWith('}')) t = t.slice(1, -1);
  if (!t.trim()) return [];
  // Split on commas outside quotes.
  const parts: string[] = [];
  let cur = '';
  let q: string | null = null;
  for (let i = 0; i < t.length; i++) {
    const c = t[i];
    if (q) {
      if (c === '\\' && i + 1 < t.length) {
        cur += c + t[++i];
        continue;
      }
      if (c === q) q = null;
    } else if (c === '"' || c === "'") q = c;
    else if (c === ',') {
      parts.push(cur);
      cur = '';
      continue;
    }
    cur += c;
  }
  parts.push(cur);
  const out: Matcher[] = [];
  for (const p of parts) {
    if (!p.trim()) continue;
    const m = parseMatcher(p);
    if (!m) return null;
    out.push(m);
  }
  return out;
}

/** An anchored RegExp as Alertmanager uses it, or null when invalid. */
function anchored(re: string): RegExp | null {
  try {
    return new RegExp('^(?:' + re + ')$');
  } catch {
    return null;
  }
}

/** Whether the matcher selects the label value ("" when the label is absent). */
export function matchValue(m: Matcher, value: string | undefined): boolean {
  const v = value ?? '';
  switch (m.op) {
    case '=':
      return v === m.value;
    case '!=':
      return v !== m.value;
    case '=~':
      return !!anchored(m.value)?.test(v);
    case '!~':
      return !anchored(m.value)?.test(v);
  }
}

/** Whether all matchers select the label set. */
export function matchesLabels(ms: Matcher[], labels: Record<string, string>): boolean {
  return ms.length > 0 && ms.every((m) => matchValue(m, labels[m.name.trim()]));
}

/** A problem of one matcher row, or '' when it is fine. */
export function matcherError(m: Matcher): string {
  const name = m.name.trim();
  if (!name) return 'Enter a label name.';
  if (!NAME_RE.test(name)) return `"${name}" is not a label name: use letters, digits and _, not starting with a digit.`;
  if ((m.op === '=~' || m.op === '!~') && !anchored(m.value)) return `"${m.value}" is not a valid regular expression.`;
  return '';
}

/**
 * Problems of a set of matchers as a whole, in words; empty when it can be
 * sent. Alertmanager refuses a silence none of whose matchers needs a
 * non-empty label (it would mute every alert).
 */
export function matchersErrors(ms: Matcher[]): string[] {
  const errs: string[] = [];
  if (ms.length === 0) return ['Add at least one matcher.'];
  ms.forEach((m, i) => {
    const e = matcherError(m);
    if (e) errs.push(`Matcher ${i + 1}: ${e}`);
  });
  if (errs.length === 0 && ms.every((m) => matchValue(m, ''))) errs.push('At least one matcher must not match an empty label, or the silence would mute every alert.');
  return errs;
}

/** Matchers that select exactly this alert: one = per label. */
export function matchersForAlert(labels: Record<string, string>): Matcher[] {
  const keys = Object.keys(labels).sort((a, b) => (a === 'alertname' ? -1 : b === 'alertname' ? 1 : a.localeCompare(b)));
  return keys.map((k) => ({ name: k, op: '=' as MatchOp, value: labels[k] }));
}

/** "2h", "90m", "1d12h", "1w", "45s" → seconds; NaN when not a duration. */
export function parseSpan(s: string): number {
  const t = s.trim().replace(/\s+/g, '');
  if (!t || !/^(\d+(\.\d+)?(w|d|h|m|s))+$/.test(t)) return NaN;
  const mult: Record<string, number> = { w: 604800, d: 86400, h: 3600, m: 60, s: 1 };
  let total = 0;
  for (const [, n, , u] of t.matchAll(/(\d+(\.\d+)?)(w|d|h|m|s)/g)) total += parseFloat(n) * mult[u];
  return total;
}

// ---------------------------------------------------------------- alerts

export type AlertShown = 'firing' | 'silenced' | 'inhibited' | 'muted';

/** What happens to the alert: firing (notifies), silenced, inhibited or muted by a time interval. */
export function alertState(a: AMAlert): AlertShown {
  if (a.status.silencedBy?.length) return 'silenced';
  if (a.status.inhibitedBy?.length) return 'inhibited';
  if (a.status.mutedBy?.length || a.status.state === 'suppressed') return 'muted';
  return 'firing';
}

const SEV_RANK: Record<string, number> = { critical: 3, error: 3, page: 3, warning: 2, warn: 2, info: 1, none: 0 };

export function severityRank(sev: string | undefined): number {
  return SEV_RANK[(sev ?? '').toLowerCase()] ?? 1.5;
}

export interface AlertGroup {
  name: string;
  alerts: AMAlert[];
  /** The highest severity of its alerts. */
  severity: string;
  /** How many of them notify (not silenced, inhibited or muted). */
  active: number;
}

/**
 * Groups alerts by alertname: groups with notifying alerts first, then by
 * highest severity and name; alerts in a group newest first.
 */
export function groupAlerts(alerts: AMAlert[]): AlertGroup[] {
  const by = new Map<string, AMAlert[]>();
  for (const a of alerts) {
    const n = a.labels.alertname ?? '(no alertname)';
    const l = by.get(n);
    if (l) l.push(a);
    else by.set(n, [a]);
  }
  const groups: AlertGroup[] = [];
  for (const [name, list] of by) {
    list.sort((x, y) => Date.parse(y.startsAt) - Date.parse(x.startsAt) || x.fingerprint.localeCompare(y.fingerprint));
    let severity = '';
    for (const a of list) if (!severity || severityRank(a.labels.severity) > severityRank(severity)) severity = a.labels.severity ?? '';
    groups.push({ name, alerts: list, severity, active: list.filter((a) => alertState(a) === 'firing').length });
  }
  groups.sort((a, b) => Number(b.active > 0) - Number(a.active > 0) || severityRank(b.severity) - severityRank(a.severity) || a.name.localeCompare(b.name));
  return groups;
}

/** Labels worth showing beside an alert: all but alertname and severity. */
export function shownLabels(labels: Record<string, string>): [string, string][] {
  return Object.entries(labels)
    .filter(([k]) => k !== 'alertname' && k !== 'severity')
    .sort(([a], [b]) => a.localeCompare(b));
}

/** The runbook link of an alert, when its annotations have one. */
export function runbookOf(a: { annotations?: Record<string, string> }): string {
  const an = a.annotations ?? {};
  const u = an.runbook_url || an.runbook || '';
  return /^(https?:\/\/|\/)/.test(u) ? u : '';
}

// ---------------------------------------------------------------- silences

/** Silences split for display: active, pending (not started) and expired, each sorted. */
export function splitSilences(all: Silence[]) {
  const active: Silence[] = [];
  const pending: Silence[] = [];
  const expired: Silence[] = [];
  for (const s of all) {
    if (s.status.state === 'active') active.push(s);
    else if (s.status.state === 'pending') pending.push(s);
    else expired.push(s);
  }
  active.sort((a, b) => Date.parse(a.endsAt) - Date.parse(b.endsAt));
  pending.sort((a, b) => Date.parse(a.startsAt) - Date.parse(b.startsAt));
  expired.sort((a, b) => Date.parse(b.endsAt) - Date.parse(a.endsAt));
  return { active, pending, expired };
}

/** Applies an alert event of /api/v1/events to the list shown; returns a new list. */
export function applyAlertEvent(list: AMAlert[], e: { fingerprint: string; status: string; labels: Record<string, string>; annotations?: Record<string, string>; startsAt: string }): AMAlert[] {
  const rest = list.filter((a) => a.fingerprint !== e.fingerprint);
  if (e.status === 'resolved') return rest;
  const old = list.find((a) => a.fingerprint === e.fingerprint);
  return [
    ...rest,
    {
      fingerprint: e.fingerprint,
      labels: e.labels,
      annotations: e.annotations ?? {},
      startsAt: e.startsAt,
      status: old?.status ?? { state: 'active', silencedBy: [], inhibitedBy: [], mutedBy: [] },
      receivers: old?.receivers,
      generatorURL: old?.generatorURL,
    },
  ];
}

// ---------------------------------------------------------------- requests

/**
 * Calls the Alertmanager API v2, whose errors are a JSON string or
 * {"message"} rather than our envelope; sends the CSRF token on writes.
 */
export async function amCall<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && session.csrf) headers['X-CSRF-Token'] = session.csrf;
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin', signal });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError(0, 'The server could not be reached.', 'network');
  }
  const text = await res.text();
  let payload: unknown = null;
  try {
    payload = text ? JSON.parse(text) : null;
  } catch {
    payload = text;
  }
  if (res.status === 401) {
    clearSession();
    redirectToLogin();
  }
  if (!res.ok) {
    throw new ApiError(res.status, amErrorText(payload, res.status), 'alertmanager');
  }
  return payload as T;
}

/** The message of an Alertmanager API error body. */
export function amErrorText(payload: unknown, status: number): string {
  if (typeof payload === 'string' && payload.trim()) return payload.trim();
  if (payload && typeof payload === 'object') {
    const p = payload as Record<string, unknown>;
    if (typeof p.error === 'string') return p.error;
    if (typeof p.message === 'string') return p.message;
  }
  return `The server answered ${status}.`;
}
