// Pure logic of the check pages: API types (docs/checks.md), state words,
// filtering and sorting the list, certificate expiry, where a check runs,
// durations of state changes. Unit-tested in src/checksModel.test.ts.
import type { Tone } from '../widgets';

export interface Uptime {
  from: string;
  to: string;
  percent: number | null;
  up_seconds: number;
  degraded_seconds: number;
  down_seconds: number;
  unknown_seconds: number;
  downs: number;
}

export interface CheckLocation {
  location: string;
  state: string;
  reason?: string;
  since: string;
  last_run?: string;
  last_duration_seconds: number;
}

export interface Check {
  name: string;
  kind: string;
  target?: string;
  description?: string;
  interval_seconds: number;
  timeout_seconds: number;
  labels?: Record<string, string>;
  latency_threshold_seconds: number;
  cert_expiry_threshold_days?: number;
  run_on: string;
  state: string;
  locations: CheckLocation[];
  uptime: Record<string, Uptime>;
  uptime_by_location?: Record<string, Record<string, Uptime>>;
}

export interface CheckResult {
  location: string;
  time: string;
  state: string;
  reason?: string;
  duration_seconds: number;
}

export interface StateChange {
  check: string;
  location: string;
  time: string;
  state: string;
  reason?: string;
}

export interface CheckDetailData extends Check {
  last_ping?: { time: string; failed: boolean; runtime_seconds?: number; message?: string };
  results: CheckResult[];
  changes: StateChange[];
}

export const CHECK_STATES = ['down', 'degraded', 'unknown', 'pending', 'up'] as const;

const RANK: Record<string, number> = { down: 4, degraded: 3, unknown: 2, pending: 1, up: 0 };

/** How bad a state is: down 4 … up 0. */
export function stateRank(s: string): number {
  return RANK[s] ?? 2;
}

export function stateWords(state: string): [Tone, string] {
  switch (state) {
    case 'up':
      return ['ok', 'Up'];
    case 'degraded':
      return ['warn', 'Degraded'];
    case 'down':
      return ['bad', 'Down'];
    case 'pending':
      return ['muted', 'Pending'];
    default:
      return ['muted', 'Unknown'];
  }
}

/** The location whose state is the check's (the worst), for its reason and since. */
export function worstLocation(c: Pick<Check, 'locations'>): CheckLocation | undefined {
  let w: CheckLocation | undefined;
  for (const l of c.locations) if (!w || stateRank(l.state) > stateRank(w.state)) w = l;
  return w;
}

/** Where a check runs, in words: "server", or "agents role=web (3 places)". */
export function whereText(c: Pick<Check, 'run_on' | 'locations'>): string {
  if (c.run_on === 'server') return 'server';
  const m = /^agents\{(.*)\}$/.exec(c.run_on);
  const sel = m ? m[1].split(',').join(', ') : c.run_on;
  const n = c.locations.length;
  return `agents ${sel}` + (n ? ` (${n} ${n === 1 ? 'place' : 'places'})` : ' (none reporting yet)');
}

/** Kinds whose checks read a certificate. */
export function hasCert(kind: string): boolean {
  return kind === 'http' || kind === 'tls' || kind === 'tcp';
}

/** Days until an expiry time (Unix seconds), at now (ms). */
export function daysLeft(expiry: number, now = Date.now()): number {
  return (expiry * 1000 - now) / 86400e3;
}

/** "expired 2 days ago", "in 3 days", "in 10 h" with a tone against the check's threshold. */
export function certWords(days: number, thresholdDays = 14): [Tone, string] {
  if (days < 0) {
    const a = -days;
    return ['bad', a < 1 ? 'expired' : `expired ${Math.floor(a)} d ago`];
  }
  const text = days < 1 ? `${Math.max(1, Math.floor(days * 24))} h` : `${Math.floor(days)} d`;
  if (days < Math.min(3, thresholdDays)) return ['bad', text];
  if (days < thresholdDays) return ['warn', text];
  return ['ok', text];
}

export interface CheckFilter {
  state: string;
  text: string;
}

/** "problems" selects down, degraded and unknown; a state its own; "" all. */
export function filterChecks<T extends Check>(list: T[], f: CheckFilter): T[] {
  const words = f.text.trim().toLowerCase().split(/\s+/).filter(Boolean);
  return list.filter((c) => {
    if (f.state === 'problems' ? !['down', 'degraded', 'unknown'].includes(c.state) : f.state && c.state !== f.state) return false;
    if (!words.length) return true;
    const hay = [c.name, c.kind, c.target ?? '', c.description ?? '', c.run_on, ...Object.entries(c.labels ?? {}).map(([k, v]) => `${k}=${v}`), ...c.locations.map((l) => `${l.location} ${l.reason ?? ''}`)]
      .join(' ')
      .toLowerCase();
    return words.every((w) => hay.includes(w));
  });
}

export type SortKey = 'state' | 'name' | 'kind' | 'latency' | 'uptime24h' | 'uptime7d' | 'uptime30d' | 'cert';

export interface Extra {
  /** Last run's duration (worst location), seconds. */
  latency?: number;
  /** Days to certificate expiry. */
  cert?: number;
}

/**
 * Sorts checks by a key; ties by name. "state" puts the worst first;
 * missing numbers go last whatever the direction.
 */
export function sortChecks<T extends Check>(list: T[], key: SortKey, desc: boolean, extra: (c: T) => Extra = () => ({})): T[] {
  const num = (c: T): number | undefined => {
    switch (key) {
      case 'latency':
        return extra(c).latency;
      case 'cert':
        return extra(c).cert;
      case 'uptime24h':
        return c.uptime['24h']?.percent ?? undefined;
      case 'uptime7d':
        return c.uptime['7d']?.percent ?? undefined;
      case 'uptime30d':
        return c.uptime['30d']?.percent ?? undefined;
      default:
        return undefined;
    }
  };
  const dir = desc ? -1 : 1;
  return [...list].sort((a, b) => {
    let r = 0;
    if (key === 'state') r = (stateRank(b.state) - stateRank(a.state)) * dir;
    else if (key === 'name') r = a.name.localeCompare(b.name) * dir;
    else if (key === 'kind') r = a.kind.localeCompare(b.kind) * dir;
    else {
      const x = num(a);
      const y = num(b);
      if (x === undefined && y === undefined) r = 0;
      else if (x === undefined) return 1;
      else if (y === undefined) return -1;
      else r = (x - y) * dir;
    }
    return r || a.name.localeCompare(b.name);
  });
}

export interface ChangeRow extends StateChange {
  /** How long the state lasted (until the next change at the same location, or now), seconds. */
  lasted: number;
  /** Whether the state still holds. */
  current: boolean;
}

/** Newest-first changes with how long each state lasted. */
export function withDurations(changes: StateChange[], now = Date.now()): ChangeRow[] {
  const sorted = [...changes].sort((a, b) => Date.parse(b.time) - Date.parse(a.time));
  const next = new Map<string, number>(); // location → time of the newer change
  return sorted.map((c) => {
    const t = Date.parse(c.time);
    const end = next.get(c.location);
    next.set(c.location, t);
    return { ...c, lasted: ((end ?? now) - t) / 1000, current: end === undefined };
  });
}

/** Counts of results by state, worst first: [["down", 2], ["up", 58]]. */
export function countStates(results: { state: string }[]): [string, number][] {
  const m = new Map<string, number>();
  for (const r of results) m.set(r.state, (m.get(r.state) ?? 0) + 1);
  return [...m.entries()].sort((a, b) => stateRank(b[0]) - stateRank(a[0]));
}

/** The name of this calendar month's uptime window ("2026-11"). */
export function monthKey(d = new Date()): string {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}`;
}

/** A PromQL string literal for a label value. */
export function promString(v: string): string {
  return '"' + v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') + '"';
}
