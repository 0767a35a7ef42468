// The chart component: uPlot over Prometheus range queries. It fetches only
// while visible, sizes the query step to its pixel width, follows the page's
// time range (drag to zoom sets it) and auto-refresh, draws event markers as
// vertical lines and resizes with its container.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { errorMessage, promRange, type Labels, type MatrixSeries } from './api';
import { formatExactTime, formatShortTime, formatValue, promDuration, type Unit } from './format';
import { resolveRange, setAbsoluteRange, stepFor, useRefreshTick, useTimeRange } from './timerange';

/**
 * Replaces $__rate in expr with a window for rate() that suits the step: at
 * least 4 scrapes (1m) and at least two steps, so no sample falls between windows.
 */
/** A uPlot setSelect hook that zooms the time range to a dragged
 * selection of at least minSeconds, then clears the selection. */
export function zoomOnSelect(setRange: (from: number, to: number) => void, minSeconds: number) {
  return (u: uPlot) => {
    if (u.select.width > 4) {
      const from = u.posToVal(u.select.left, 'x');
      const to = u.posToVal(u.select.left + u.select.width, 'x');
      if (to - from >= minSeconds) setRange(from, to);
    }
    u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
  };
}

export function withRateWindow(expr: string, step: number): string {
  return expr.replace(/\$__rate\b/g, promDuration(Math.max(60, 2 * step)));
}

export interface ChartQuery {
  /** PromQL; $__rate stands for a rate() window fitted to the step. */
  expr: string;
  /**
   * The series name: a template with {{label}} placeholders ("{{device}} read"),
   * a function of the labels, or nothing (the labels other than job and instance).
   */
  legend?: string | ((m: Labels) => string);
}

export interface Marker {
  /** Unix seconds. */
  time: number;
  label: string;
}

export interface ChartProps {
  title: string;
  queries: ChartQuery[];
  unit?: Unit;
  stacked?: boolean;
  /** Height of the plot area in pixels (default 200). */
  height?: number;
  /** Fixed y bounds; by default the axis starts at 0 and fits the data. */
  yMin?: number;
  yMax?: number;
  markers?: Marker[];
  /** Smallest step in seconds (default 15, the scrape interval). */
  minStep?: number;
  /** Most series drawn (default 40); the rest are left out with a note. */
  maxSeries?: number;
  /** Fetch even when not visible (default false). */
  eager?: boolean;
  /** A link under the title, e.g. to the explorer with the queries. */
  link?: { href: string; text: string };
  /** Told after every fetch: the error, or how many series came. */
  onResult?: (r: { error?: string; series: number; ms: number }) => void;
}

const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#65a30d', '#9333ea', '#0d9488', '#ea580c', '#4f46e5', '#be123c', '#15803d', '#a16207', '#475569'];

/** The colour of the i-th series. */
export function seriesColor(i: number): string {
  return PALETTE[i % PALETTE.length];
}

/** The display name of a series. */
export function seriesName(m: Labels, legend?: ChartQuery['legend']): string {
  if (typeof legend === 'function') return legend(m);
  if (typeof legend === 'string') return legend.replace(/\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g, (_, k) => m[k] ?? '');
  const keys = Object.keys(m).filter((k) => k !== '__name__' && k !== 'job' && k !== 'instance');
  if (keys.length === 0) return m.__name__ ?? (m.instance ? m.instance : 'value');
  return keys
    .sort()
    .map((k) => `${k}=${m[k]}`)
    .join(', ');
}

interface Built {
  data: uPlot.AlignedData;
  raw: (number | null)[][];
  names: string[];
  dropped: number;
}

/** Puts range results on one time axis start, start+step, … end. */
export function alignSeries(results: { series: MatrixSeries[]; legend?: ChartQuery['legend'] }[], start: number, end: number, step: number, maxSeries: number): Built {
  const n = Math.floor((end - start) / step) + 1;
  const xs = new Array<number>(n);
  for (let i = 0; i < n; i++) xs[i] = start + i * step;
  const raw: (number | null)[][] = [];
  const names: string[] = [];
  let total = 0;
  for (const r of results) {
    for (const s of r.series) {
      total++;
      if (raw.length >= maxSeries) continue;
      const ys = new Array<number | null>(n).fill(null);
      for (const [t, v] of s.values) {
        const i = Math.round((t - start) / step);
        if (i >= 0 && i < n) {
          const f = parseFloat(v);
          ys[i] = Number.isFinite(f) ? f : null;
        }
      }
      raw.push(ys);
      names.push(seriesName(s.metric, r.legend));
    }
  }
  return { data: [xs, ...raw] as uPlot.AlignedData, raw, names, dropped: total - raw.length };
}

/** Cumulative sums for a stacked chart, and the bands that fill between them. */
export function stack(raw: (number | null)[][]): { data: (number | null)[][]; bands: uPlot.Band[] } {
  if (raw.length === 0) return { data: [], bands: [] };
  const n = raw[0].length;
  const acc = new Array<number>(n).fill(0);
  const data = raw.map((ys) =>
    ys.map((v, i) => {
      if (v === null) return null;
      acc[i] += v;
      return acc[i];
    }),
  );
  const bands: uPlot.Band[] = [];
  for (let i = 1; i < raw.length; i++) bands.push({ series: [i + 1, i] });
  return { data, bands };
}

function lastValue(ys: (number | null)[]): number | null {
  for (let i = ys.length - 1; i >= 0; i--) if (ys[i] !== null) return ys[i];
  return null;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** A time-axis label in local 24-hour time; with the date when the range spans days. */
export function axisTime(t: number, span: number): string {
  const d = new Date(t * 1000);
  const hm = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  const day = `${MONTHS[d.getMonth()]} ${d.getDate()}`;
  if (span > 4 * 86400) return d.getHours() === 0 && d.getMinutes() === 0 ? day : `${day} ${hm}`;
  if (span > 86400 / 2 && d.getHours() === 0 && d.getMinutes() === 0) return day;
  return hm;
}

function useVisible(ref: { current: Element | null }, eager: boolean): boolean {
  const [visible, setVisible] = useState(eager || typeof IntersectionObserver === 'undefined');
  useEffect(() => {
    if (eager || !ref.current || typeof IntersectionObserver === 'undefined') return;
    const io = new IntersectionObserver((entries) => setVisible(entries.some((e) => e.isIntersecting)), { rootMargin: '200px' });
    io.observe(ref.current);
    return () => io.disconnect();
  }, [eager]);
  return visible;
}

function useWidth(ref: { current: HTMLElement | null }): number {
  const [w, setW] = useState(0);
  useLayoutEffect(() => {
    if (!ref.current) return;
    setW(ref.current.clientWidth);
    if (typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(() => {
      if (ref.current) setW(ref.current.clientWidth);
    });
    ro.observe(ref.current);
    return () => ro.disconnect();
  }, []);
  return w;
}

export function Chart(p: ChartProps) {
  const boxRef = useRef<HTMLDivElement>(null);
  const plotRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLDivElement>(null);
  const uRef = useRef<uPlot | null>(null);
  const visible = useVisible(boxRef, !!p.eager);
  const width = useWidth(plotRef);
  const tr = useTimeRange();
  const tick = useRefreshTick();
  const [state, setState] = useState<{ built?: Built; start: number; end: number; step: number; error?: string; loading: boolean }>({ start: 0, end: 0, step: 0, loading: true });
  // The step changes with the width only in coarse buckets, so resizing by a few pixels does not refetch.
  const widthBucket = Math.max(1, Math.round(width / 100));
  const exprKey = p.queries.map((q) => q.expr).join('\n');
  const [fetchedKey, setFetchedKey] = useState('');
  const key = [exprKey, tr.range, tr.from, tr.to, tick, widthBucket].join('|');

  useEffect(() => {
    if (!visible || width === 0 || key === fetchedKey) return;
    const ac = new AbortController();
    const { start, end } = resolveRange(tr);
    const step = stepFor(start, end, width, p.minStep ?? 15);
    const alignedStart = Math.floor(start / step) * step;
    const alignedEnd = Math.floor(end / step) * step;
    setState((s) => ({ ...s, loading: true, error: undefined }));
    const t0 = Date.now();
    Promise.all(p.queries.map((q) => promRange(withRateWindow(q.expr, step), alignedStart, alignedEnd, step, ac.signal).then((r) => ({ series: r.resultType === 'matrix' ? r.result : [], legend: q.legend }))))
      .then((results) => {
        if (ac.signal.aborted) return;
        const built = alignSeries(results, alignedStart, alignedEnd, step, p.maxSeries ?? 40);
        setState({ built, start, end, step, loading: false });
        setFetchedKey(key);
        p.onResult?.({ series: built.names.length + built.dropped, ms: Date.now() - t0 });
      })
      .catch((e) => {
        if (ac.signal.aborted || (e instanceof DOMException && e.name === 'AbortError')) return;
        setState((s) => ({ ...s, error: errorMessage(e), loading: false }));
        setFetchedKey(key);
        p.onResult?.({ error: errorMessage(e), series: 0, ms: Date.now() - t0 });
      });
    return () => ac.abort();
  }, [visible, key, width > 0]);

  // Draw (or redraw) the plot when the data, size or options change.
  const markersKey = (p.markers ?? []).map((m) => m.time).join(',');
  const rangeRef = useRef({ start: 0, end: 0 });
  rangeRef.current = { start: state.start, end: state.end };
  const markersRef = useRef<Marker[]>([]);
  markersRef.current = p.markers ?? [];
  useEffect(() => {
    const el = canvasRef.current;
    const b = state.built;
    if (!el || !b || b.names.length === 0 || width === 0) {
      uRef.current?.destroy();
      uRef.current = null;
      return;
    }
    const unit = p.unit ?? 'number';
    const stacked = !!p.stacked && b.raw.length > 1;
    const st = stacked ? stack(b.raw) : { data: b.raw, bands: [] as uPlot.Band[] };
    const data = [b.data[0], ...st.data] as uPlot.AlignedData;
    const opts: uPlot.Options = {
      width,
      height: p.height ?? 200,
      padding: [8, 8, 0, 0],
      cursor: { drag: { x: true, y: false, setScale: false }, points: { size: 6 } },
      select: { show: true, left: 0, top: 0, width: 0, height: 0 },
      legend: { show: true, live: true },
      bands: st.bands,
      scales: {
        x: { time: true, range: () => [rangeRef.current.start, rangeRef.current.end] },
        y: {
          range: (_u, min, max) => {
            let lo = p.yMin ?? Math.min(0, min ?? 0);
            let hi = p.yMax ?? (max === null || max === undefined || max <= lo ? lo + 1 : max * 1.05);
            if (p.yMax !== undefined && max !== null && max !== undefined && max > p.yMax) hi = max;
            return [lo, hi];
          },
        },
      },
      axes: [
        {
          stroke: '#475569',
          grid: { stroke: '#e2e8f0' },
          ticks: { stroke: '#cbd5e1' },
          values: (_u, splits) => splits.map((v) => axisTime(v, rangeRef.current.end - rangeRef.current.start)),
        },
        {
          stroke: '#475569',
          grid: { stroke: '#e2e8f0' },
          ticks: { stroke: '#cbd5e1' },
          // Wide enough for the longest label ("512 MiB/s").
          // Tick (10 px) and gap (5 px) come before the text, about 7.5 px a character.
          size: (_u, values) => Math.ceil(22 + 7.5 * Math.max(4, ...(values ?? []).map((v) => String(v).length))),
          values: (_u, splits) => splits.map((v) => formatValue(v, unit)),
        },
      ],
      series: [
        { label: 'Time', value: (_u, v) => (v === null || v === undefined ? '–' : formatShortTime(v * 1000)) },
        ...b.names.map((name, i) => ({
          label: name,
          stroke: seriesColor(i),
          width: 1.5,
          fill: stacked ? seriesColor(i) + '55' : undefined,
          spanGaps: false,
          points: { show: false },
          // Under the cursor: the value there; otherwise the latest value.
          value: (_u: uPlot, _v: number | null, _si: number, idx: number | null) => formatValue(idx === null ? lastValue(b.raw[i]) : b.raw[i][idx], unit),
        })),
      ],
      hooks: {
        setSelect: [zoomOnSelect(setAbsoluteRange, 30)],
        draw: [
          (u) => {
            const ms = markersRef.current;
            if (!ms.length) return;
            const ctx = u.ctx;
            const { left, top, width: w, height: h } = u.bbox;
            ctx.save();
            ctx.strokeStyle = '#b45309';
            ctx.fillStyle = '#b45309';
            ctx.lineWidth = 1.5 * devicePixelRatio;
            ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
            ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
            for (const m of ms) {
              const x = u.valToPos(m.time, 'x', true);
              if (x < left || x > left + w) continue;
              ctx.beginPath();
              ctx.moveTo(x, top);
              ctx.lineTo(x, top + h);
              ctx.stroke();
              ctx.fillText(m.label, Math.min(x + 3 * devicePixelRatio, left + w - ctx.measureText(m.label).width), top + 11 * devicePixelRatio);
            }
            ctx.restore();
          },
        ],
      },
    };
    uRef.current?.destroy();
    uRef.current = new uPlot(opts, data, el);
  }, [state.built, p.stacked, p.unit, markersKey, p.height]);

  // Resizing only resizes; a new fetch follows when the width bucket changes.
  useEffect(() => {
    if (uRef.current && width > 0) uRef.current.setSize({ width, height: p.height ?? 200 });
  }, [width]);
  useEffect(() => () => uRef.current?.destroy(), []);

  const b = state.built;
  const empty = !!b && b.names.length === 0;
  const inRange = (p.markers ?? []).filter((m) => m.time >= state.start && m.time <= state.end);
  return (
    <figure class="chart" ref={boxRef} aria-busy={state.loading}>
      <figcaption>
        <span class="chart-title">{p.title}</span>
        {p.link && (
          <a class="chart-link" href={p.link.href}>
            {p.link.text}
          </a>
        )}
      </figcaption>
      <div class="chart-plot" ref={plotRef} style={{ minHeight: (p.height ?? 200) + 'px' }}>
        <div ref={canvasRef} />
        {!b && !state.error && <p class="chart-msg">Loading…</p>}
        {empty && !state.error && <p class="chart-msg">No data in this time range.</p>}
        {state.error && (
          <p class="chart-msg error" role="alert">
            Could not load this chart: {state.error}
          </p>
        )}
      </div>
      {b && b.dropped > 0 && <p class="chart-note">Showing {b.names.length} of {b.names.length + b.dropped} series.</p>}
      {inRange.length > 0 && (
        <p class="chart-note markers">
          {inRange.map((m) => (
            <span title={formatExactTime(m.time)}>
              ┆ {m.label} {formatShortTime(m.time * 1000)}
            </span>
          ))}
        </p>
      )}
    </figure>
  );
}
