// The time range shared by the charts of a page, kept in the URL query
// (range=1h, or from=&to= in Unix seconds after a zoom; refresh=30s) so that
// links keep it, with auto-refresh.
import { useEffect, useState } from 'preact/hooks';
import { formatExactTime, formatShortTime, parseDuration } from './format';
import { location, onLocation, setQuery, useLocation } from './router';

export const RANGES = ['15m', '1h', '6h', '24h', '7d', '30d'] as const;
export const REFRESHES = ['off', '10s', '30s', '1m'] as const;
export const DEFAULT_RANGE = '1h';

export interface TimeRange {
  /** The relative range ("1h") or '' when from/to are set. */
  range: string;
  /** Absolute bounds in Unix seconds (0 when relative). */
  from: number;
  to: number;
  /** Auto-refresh period in seconds, 0 when off. */
  refresh: number;
  refreshText: string;
}

/** Reads the time range from a query string. */
export function parseTimeRange(q: URLSearchParams): TimeRange {
  const from = Number(q.get('from'));
  const to = Number(q.get('to'));
  const r = q.get('range') ?? '';
  const refreshText = (REFRESHES as readonly string[]).includes(q.get('refresh') ?? '') ? (q.get('refresh') as string) : 'off';
  const refresh = refreshText === 'off' ? 0 : parseDuration(refreshText);
  if (Number.isFinite(from) && Number.isFinite(to) && from > 0 && to > from) return { range: '', from, to, refresh, refreshText };
  const range = parseDuration(r) > 0 ? r : DEFAULT_RANGE;
  return { range, from: 0, to: 0, refresh, refreshText };
}

/** The bounds in Unix seconds, "now" for a relative range. */
export function resolveRange(tr: TimeRange, now = Date.now() / 1000): { start: number; end: number } {
  if (!tr.range) return { start: tr.from, end: tr.to };
  const end = Math.floor(now);
  return { start: end - parseDuration(tr.range), end };
}

/**
 * A step for a range query: about one point per `pxPerPoint` pixels of a
 * chart `width` wide, at least `min` seconds, rounded to a tidy number.
 */
export function stepFor(start: number, end: number, width: number, min = 15, pxPerPoint = 2): number {
  const points = Math.max(10, Math.floor(width / pxPerPoint));
  const raw = Math.max(min, (end - start) / points);
  const tidy = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];
  for (const t of tidy) if (t >= raw) return t;
  return Math.ceil(raw / 86400) * 86400;
}

// One ticker for the whole page: every chart refreshes on the same tick.
let tick = 0;
let timer: ReturnType<typeof setInterval> | undefined;
let timerPeriod = 0;
const tickListeners = new Set<(n: number) => void>();

function syncTimer() {
  if (typeof window === 'undefined') return;
  const period = parseTimeRange(location().query).refresh;
  if (period === timerPeriod) return;
  if (timer) clearInterval(timer);
  timer = undefined;
  timerPeriod = period;
  if (period > 0)
    timer = setInterval(() => {
      if (document.visibilityState === 'hidden') return;
      tick++;
      for (const l of tickListeners) l(tick);
    }, period * 1000);
}
if (typeof window !== 'undefined') {
  onLocation(syncTimer);
  queueMicrotask(syncTimer);
}

/** Increments on every auto-refresh tick; use it as an effect dependency. */
export function useRefreshTick(): number {
  const [n, setN] = useState(tick);
  useEffect(() => {
    syncTimer();
    tickListeners.add(setN);
    return () => {
      tickListeners.delete(setN);
    };
  }, []);
  return n;
}

/** Triggers a refresh of everything that uses useRefreshTick now. */
export function refreshNow() {
  tick++;
  for (const l of tickListeners) l(tick);
}

/** The page's time range (from the URL). */
export function useTimeRange(): TimeRange {
  const loc = useLocation();
  return parseTimeRange(loc.query);
}

/** Sets absolute bounds (after a zoom); adds a history entry so Back undoes it. */
export function setAbsoluteRange(from: number, to: number) {
  setQuery({ from: String(Math.floor(from)), to: String(Math.ceil(to)), range: null }, { replace: false });
}

export function setRelativeRange(range: string) {
  setQuery({ range: range === DEFAULT_RANGE ? null : range, from: null, to: null }, { replace: false });
}

/** The picker: range buttons, auto-refresh and a refresh button. */
export function TimeRangePicker(props: { class?: string }) {
  const tr = useTimeRange();
  const [id] = useState(() => 'refresh-' + Math.random().toString(36).slice(2, 7));
  return (
    <div class={'timerange ' + (props.class ?? '')} role="group" aria-label="Time range">
      <div class="seg" role="radiogroup" aria-label="Range">
        {RANGES.map((r) => (
          <button type="button" role="radio" aria-checked={tr.range === r} class={tr.range === r ? 'on' : ''} onClick={() => setRelativeRange(r)}>
            {r}
          </button>
        ))}
      </div>
      {!tr.range && (
        <span class="abs" title={`${formatExactTime(tr.from)} to ${formatExactTime(tr.to)}`}>
          {formatShortTime(tr.from * 1000)} – {formatShortTime(tr.to * 1000)}
          <button type="button" class="link" onClick={() => setRelativeRange(DEFAULT_RANGE)} title="Back to the last hour">
            reset zoom
          </button>
        </span>
      )}
      <label class="refresh" for={id}>
        Auto-refresh
        <select id={id} value={tr.refreshText} onChange={(e) => setQuery({ refresh: (e.target as HTMLSelectElement).value === 'off' ? null : (e.target as HTMLSelectElement).value })}>
          {REFRESHES.map((r) => (
            <option value={r}>{r}</option>
          ))}
        </select>
      </label>
      <button type="button" onClick={refreshNow} title="Fetch the data again now">
        ↻ Refresh
      </button>
    </div>
  );
}
