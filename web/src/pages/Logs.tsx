// /logs: search the stored log entries. A text search (and an optional RE2
// regular expression), filters by host, source, service and severity (the
// values offered come from /api/v1/logs/fields), quick filters such as
// "Security events", the time range picker, a histogram of entries over time
// coloured by severity (drag across it to zoom), the entries newest first
// (expand one for its parsed fields; a field's value adds a filter), "Load
// older" pages, and a live tail (/api/v1/logs/tail, server-sent events) that
// puts new entries on top and pauses while you scroll. Everything but the
// expanded entries is in the URL.
import { Fragment } from 'preact';
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { api, ApiError, errorMessage, loadSession, redirectToLogin, useApi } from '../api';
import { axisTime, zoomOnSelect } from '../chart';
import { formatBytes, formatNumber, formatShortTime } from '../format';
import type { PageProps } from '../routes';
import { navigate, useLocation } from '../router';
import { resolveRange, setAbsoluteRange, setRelativeRange, TimeRangePicker, useRefreshTick, useTimeRange } from '../timerange';
import { Empty, ErrorBox, Loading, PageHead, Status, TableHead } from '../widgets';
import {
  activeFilters,
  addFilter,
  addToHistogram,
  apiParams,
  emptyMessage,
  entryFields,
  entryKey,
  exactLogTime,
  filterFor,
  formatLogTime,
  hasFilters,
  histogramSeries,
  histogramStep,
  logsSearch,
  normalizeSearch,
  parseTime,
  PRESETS,
  presetActive,
  prependLive,
  readLogsState,
  regexProblem,
  removeFilter,
  severityColor,
  severityTone,
  severityWord,
  sortSeverities,
  splitField,
  stackBars,
  tailParams,
  type FieldValue,
  type FilterKey,
  type HistSeries,
  type Histogram,
  type LogEntry,
  type LogFields,
  type LogsPage,
  type LogsState,
  type LogStatus,
} from './logsModel';

/** Entries a page of the list asks for. */
const PAGE = 100;
/** Most entries the list keeps while tailing. */
const LIVE_CAP = 1000;

/** Goes to the state; replace: no new history entry (typing, filters). */
function go(s: LogsState, opts: { replace?: boolean } = { replace: true }) {
  const keep = new URLSearchParams(window.location.search).get('refresh');
  const q = logsSearch(s) + (keep ? (logsSearch(s) ? '&' : '') + 'refresh=' + encodeURIComponent(keep) : '');
  navigate('/logs' + (q ? '?' + q : ''), opts);
}

function notFound(e: unknown): boolean {
  return e instanceof ApiError && e.status === 404;
}

export default function Logs(_p: PageProps) {
  const loc = useLocation();
  const tr = useTimeRange();
  const tick = useRefreshTick();
  const s = readLogsState(loc.query);

  // Links from other pages carry start/end: the page keeps from/to like the time range picker.
  useEffect(() => {
    const n = normalizeSearch(loc.query);
    if (n !== null) navigate('/logs' + (n ? '?' + n : ''), { replace: true });
  }, [loc.search]);

  // The bounds, resolved once per change (a relative range moves with the refresh tick only).
  const bounds = useMemo(() => resolveRange(tr), [tr.range, tr.from, tr.to, tick]);
  const step = histogramStep(bounds.start, bounds.end);
  const queryKey = apiParams(s, bounds.start, bounds.end);
  const badRegex = regexProblem(s.regex);

  const status = useApi((signal) => api<LogStatus>('/api/v1/logs/status', { signal }), []);
  const fields = useApi((signal) => api<LogFields>('/api/v1/logs/fields?' + apiParams(readLogsState(new URLSearchParams()), bounds.start, bounds.end), { signal }), [bounds.start, bounds.end]);
  const hist = useApi(
    (signal) => (badRegex ? Promise.resolve(null) : api<Histogram>('/api/v1/logs/histogram?' + apiParams(s, bounds.start, bounds.end, { step }), { signal })),
    [queryKey, step],
  );

  // The list: the first page, older pages appended, live entries prepended.
  const [list, setList] = useState<{ key: string; entries: LogEntry[]; cursor?: string; loading: boolean; error?: unknown; olderError?: unknown; cut: number }>({
    key: '',
    entries: [],
    loading: true,
    cut: 0,
  });
  const [reloadN, setReloadN] = useState(0);
  const liveRef = useRef(s.live);
  liveRef.current = s.live;
  useEffect(() => {
    if (badRegex) {
      setList({ key: queryKey, entries: [], loading: false, cut: 0 });
      return;
    }
    const ac = new AbortController();
    setList((l) => ({ ...l, loading: true, error: undefined }));
    api<LogsPage>('/api/v1/logs/query?' + apiParams(s, bounds.start, bounds.end, { limit: PAGE }), { signal: ac.signal }).then(
      (r) =>
        setList((l) => {
          const entries = r.entries ?? [];
          // While tailing, live entries newer than the answer stay on top.
          const newest = entries.length ? parseTime(entries[0].time) : -Infinity;
          const keep = liveRef.current ? l.entries.filter((e) => parseTime(e.time) > newest).reverse() : [];
          return { key: queryKey, entries: prependLive(entries, keep, LIVE_CAP).list, cursor: r.next_cursor || undefined, loading: false, cut: 0 };
        }),
      (e) => {
        if (!ac.signal.aborted) setList((l) => ({ ...l, key: queryKey, loading: false, error: e }));
      },
    );
    return () => ac.abort();
  }, [queryKey, reloadN]);

  const loadOlder = async () => {
    const cursor = list.cursor;
    if (!cursor) return;
    setList((l) => ({ ...l, loading: true, olderError: undefined }));
    try {
      const r = await api<LogsPage>('/api/v1/logs/query?' + apiParams(s, bounds.start, bounds.end, { limit: PAGE, cursor }));
      setList((l) => (l.key === queryKey ? { ...l, entries: l.entries.concat(r.entries ?? []), cursor: r.next_cursor || undefined, loading: false } : l));
    } catch (e) {
      setList((l) => ({ ...l, loading: false, olderError: e }));
    }
  };

  // The histogram, with live entries counted in.
  const [liveHist, setLiveHist] = useState<HistSeries | null>(null);
  const baseHist = useMemo(() => (hist.data ? histogramSeries(hist.data, bounds.start, bounds.end) : null), [hist.data]);
  useEffect(() => setLiveHist(null), [baseHist]);
  const shownHist = liveHist ?? baseHist;

  // Live tail.
  const listRef = useRef<HTMLDivElement>(null);
  const [scrolledAway, setScrolledAway] = useState(false);
  const [held, setHeld] = useState(false);
  const paused = held || scrolledAway;
  const pending = useRef<LogEntry[]>([]);
  const [pendingN, setPendingN] = useState(0);
  const [dropped, setDropped] = useState({ server: 0, skipped: 0 });
  const pausedRef = useRef(paused);
  pausedRef.current = paused;
  const flush = () => {
    const batch = pending.current;
    if (batch.length === 0) return;
    pending.current = [];
    setPendingN(0);
    setList((l) => {
      const r = prependLive(l.entries, batch, LIVE_CAP);
      return { ...l, entries: r.list, cut: l.cut + r.cut };
    });
    setLiveHist((h) => addToHistogram(h ?? baseHistRef.current ?? emptyHist(step), batch));
  };
  const baseHistRef = useRef(baseHist);
  baseHistRef.current = baseHist;
  const forbidden = [list.error, status.error, hist.error].find((e) => e instanceof ApiError && e.status === 403);
  const tailKey = tailParams(s);
  const tail = useTail(s.live && !badRegex && !forbidden, tailKey, (es) => {
    pending.current.push(...es);
    if (pending.current.length > LIVE_CAP) {
      const over = pending.current.length - LIVE_CAP;
      pending.current.splice(0, over);
      setDropped((d) => ({ ...d, skipped: d.skipped + over }));
    }
    setPendingN(pending.current.length);
  }, (n) => setDropped((d) => ({ ...d, server: d.server + n })));
  // Show what arrived every 300 ms unless paused.
  useEffect(() => {
    if (!s.live) return;
    const t = setInterval(() => {
      if (!pausedRef.current) flush();
    }, 300);
    return () => clearInterval(t);
  }, [s.live, queryKey]);
  useEffect(() => {
    pending.current = [];
    setPendingN(0);
    setDropped({ server: 0, skipped: 0 });
  }, [tailKey, s.live]);
  // Pause while the top of the list is scrolled out of view (reading older entries).
  useEffect(() => {
    if (!s.live) return;
    const onScroll = () => {
      const top = listRef.current?.getBoundingClientRect().top ?? 0;
      setScrolledAway(top < -40);
    };
    onScroll();
    window.addEventListener('scroll', onScroll, { passive: true });
    return () => window.removeEventListener('scroll', onScroll);
  }, [s.live]);

  const toggleLive = () => {
    setHeld(false);
    // The tail follows now: an absolute range from the past would make no sense with it.
    if (!s.live && !s.range) go({ ...s, live: true, range: '1h', from: 0, to: 0 }, { replace: false });
    else go({ ...s, live: !s.live });
  };
  const resume = () => {
    setHeld(false);
    listRef.current?.scrollIntoView({ block: 'start' });
    setScrolledAway(false);
    flush();
  };

  const addF = (key: FilterKey | 'field', value: string) => go(addFilter(s, key, value), { replace: false });
  const apiMissing = notFound(list.error) || (notFound(status.error) && !list.entries.length);
  const st = status.data;

  return (
    <>
      <PageHead title="Logs" sub="Search the log lines of every host: syslog, auth, kernel, web servers and the journal">
        <TimeRangePicker />
      </PageHead>
      {st?.read_only && (
        <p class="state error" role="alert">
          The log store is read-only{st.reason ? `: ${st.reason}` : ''}. New lines are not stored until it has room again
          {st.disk_bytes ? ` (it uses ${formatBytes(st.disk_bytes)})` : ''}.
        </p>
      )}
      {apiMissing ? (
        <Empty>This server does not store logs: its log API is missing. Update the server, or turn the log store on in its configuration.</Empty>
      ) : forbidden ? (
        <ErrorBox error={forbidden} what="the logs" />
      ) : (
        <>
          <SearchBar s={s} />
          <FilterBar s={s} fields={fields.data} failed={!!fields.error} onAdd={addF} />
          <HistogramPanel h={badRegex ? null : shownHist} note={badRegex ? 'Correct the regular expression to count the entries.' : ''} loading={hist.loading && !hist.data && !badRegex} error={badRegex ? undefined : hist.error} start={bounds.start} end={bounds.end} onSeverity={(sev) => addF('severity', sev)} />
          <section class="panel log-list" aria-labelledby="log-entries" ref={listRef}>
            <header class="log-list-head">
              <h2 id="log-entries">
                Entries{' '}
                <span class="al-count" title="Entries in the list">
                  {list.entries.length}
                  {list.cursor ? '+' : ''}
                </span>
              </h2>
              <div class="log-live">
                <button type="button" class={s.live ? 'primary' : ''} aria-pressed={s.live} onClick={toggleLive} title="Follow new entries as they arrive">
                  Live tail
                </button>
                {s.live && (
                  <>
                    <button type="button" aria-pressed={held} onClick={() => (held ? resume() : setHeld(true))}>
                      {held ? 'Resume' : 'Pause'}
                    </button>
                    <span class={'al-live ' + tail.state} role="status">
                      <span aria-hidden="true">{tail.state === 'open' ? '●' : '○'}</span>{' '}
                      {tail.state === 'open' ? (paused ? 'Live, paused' : 'Live') : tail.state === 'connecting' ? 'Connecting…' : `Live tail stopped: ${tail.error || 'the server closed it'}; retrying`}
                    </span>
                  </>
                )}
              </div>
            </header>
            {s.live && (paused || pendingN > 0 || dropped.server > 0 || dropped.skipped > 0 || list.cut > 0) && (
              <p class="log-live-note small" role="status">
                {paused && pendingN > 0 && (
                  <button type="button" class="primary" onClick={resume}>
                    Show {pendingN} new {pendingN === 1 ? 'entry' : 'entries'}
                  </button>
                )}
                {paused && pendingN === 0 && <span>Paused{scrolledAway ? ' while you scroll; scroll to the top to go on' : ''}.</span>}
                {dropped.server > 0 && <span class="warn-text">{formatNumber(dropped.server)} entries dropped by the server: they came faster than this page could take them. Narrow the filters.</span>}
                {dropped.skipped > 0 && <span class="warn-text">{formatNumber(dropped.skipped)} entries skipped while paused.</span>}
                {list.cut > 0 && <span class="muted">Showing the newest {LIVE_CAP}; {formatNumber(list.cut)} older ones left the list.</span>}
              </p>
            )}
            {badRegex ? (
              <p class="state error" role="alert">
                {badRegex}
              </p>
            ) : list.error && list.key === queryKey ? (
              <SearchError error={list.error} retry={() => setReloadN((n) => n + 1)} />
            ) : list.loading && list.key !== queryKey ? (
              <Loading what="log entries" />
            ) : list.entries.length === 0 ? (
              <Empty>
                {emptyMessage(s)}{' '}
                {!s.live && <WiderRanges current={s.range} />}
                {hasFilters(s) && (
                  <button type="button" class="link" onClick={() => go({ ...s, q: '', regex: '', host: [], source: [], service: [], severity: [], field: [] }, { replace: false })}>
                    Remove all filters
                  </button>
                )}
              </Empty>
            ) : (
              <Entries entries={list.entries} onFilter={addF} />
            )}
            {list.cursor && list.key === queryKey && !list.error && (
              <p class="pager">
                <button type="button" onClick={loadOlder} disabled={list.loading}>
                  {list.loading ? 'Loading…' : 'Load older'}
                </button>
              </p>
            )}
            {!!list.olderError && <ErrorBox error={list.olderError} retry={loadOlder} what="older entries" />}
            {!list.cursor && list.entries.length > 0 && !list.loading && <p class="small muted log-end">No older entries in this range.</p>}
          </section>
        </>
      )}
    </>
  );
}

function emptyHist(step: number): HistSeries {
  const now = Math.floor(Date.now() / 1000 / step) * step;
  return { xs: [now], step, severities: [], counts: [], totals: [0], total: 0 };
}

/** A search that failed: the server's words for a bad query, or the usual error box. */
function SearchError(p: { error: unknown; retry: () => void }) {
  if (p.error instanceof ApiError && p.error.status === 400)
    return (
      <p class="state error" role="alert">
        The server could not run this search: {p.error.message}
      </p>
    );
  return <ErrorBox error={p.error} retry={p.retry} what="the log entries" />;
}

function WiderRanges(p: { current: string }) {
  const wider = ['1h', '6h', '24h', '7d', '30d'].filter((r) => !p.current || ['15m', '1h', '6h', '24h', '7d'].indexOf(p.current) < ['15m', '1h', '6h', '24h', '7d', '30d'].indexOf(r));
  if (!wider.length) return null;
  return (
    <span class="log-wider">
      Try the last{' '}
      {wider.slice(0, 3).map((r, i) => (
        <>
          {i > 0 && ', '}
          <button type="button" class="link" onClick={() => setRelativeRange(r)}>
            {r}
          </button>
        </>
      ))}
      .
    </span>
  );
}

/** The text search and the regular expression, sent after a pause in typing or on Enter. */
function SearchBar(p: { s: LogsState }) {
  const [q, setQ] = useState(p.s.q);
  const [re, setRe] = useState(p.s.regex);
  const [showRe, setShowRe] = useState(!!p.s.regex);
  useEffect(() => setQ(p.s.q), [p.s.q]);
  useEffect(() => {
    setRe(p.s.regex);
    if (p.s.regex) setShowRe(true);
  }, [p.s.regex]);
  const timer = useRef<ReturnType<typeof setTimeout>>();
  const latest = useRef(p.s);
  latest.current = p.s;
  const send = (nq: string, nre: string) => {
    clearTimeout(timer.current);
    const s = latest.current;
    if (nq === s.q && nre === s.regex) return;
    if (regexProblem(nre)) return;
    go({ ...s, q: nq, regex: nre });
  };
  const later = (nq: string, nre: string) => {
    clearTimeout(timer.current);
    timer.current = setTimeout(() => send(nq, nre), 500);
  };
  useEffect(() => () => clearTimeout(timer.current), []);
  const problem = regexProblem(re);
  return (
    <form
      class="log-search"
      role="search"
      aria-label="Search logs"
      onSubmit={(e) => {
        e.preventDefault();
        send(q, re);
      }}
    >
      <label class="field log-q">
        <span>Search</span>
        <input
          type="search"
          value={q}
          placeholder='Words must all appear; "quoted phrase"; not case-sensitive'
          onInput={(e) => {
            const v = (e.target as HTMLInputElement).value;
            setQ(v);
            later(v, re);
          }}
        />
      </label>
      {showRe && (
        <label class="field log-re">
          <span>Regular expression on the message (RE2)</span>
          <input
            class="mono"
            value={re}
            placeholder="e.g. ^Failed password for .* from 203\.0\.113\."
            aria-invalid={!!problem}
            aria-describedby={problem ? 'log-re-problem' : undefined}
            onInput={(e) => {
              const v = (e.target as HTMLInputElement).value;
              setRe(v);
              later(q, v);
            }}
          />
          {problem && (
            <span id="log-re-problem" class="error-text small">
              {problem}
            </span>
          )}
        </label>
      )}
      <div class="log-search-buttons">
        <button type="submit" class="primary">
          Search
        </button>
        <button
          type="button"
          class="link"
          aria-expanded={showRe}
          onClick={() => {
            if (showRe && re) {
              setRe('');
              send(q, '');
            }
            setShowRe(!showRe);
          }}
        >
          {showRe ? 'No regular expression' : 'Regular expression…'}
        </button>
      </div>
    </form>
  );
}

const PICKERS: [FilterKey, keyof LogFields, string][] = [
  ['host', 'hosts', 'Host'],
  ['source', 'sources', 'Source'],
  ['service', 'services', 'Service'],
  ['severity', 'severities', 'Severity'],
];

/** Pickers for host, source, service and severity, the quick filters and the active filters as chips. */
function FilterBar(p: { s: LogsState; fields?: LogFields; failed: boolean; onAdd: (k: FilterKey | 'field', v: string) => void }) {
  const s = p.s;
  const active = activeFilters(s);
  return (
    <div class="log-filters">
      <div class="filters">
        {PICKERS.map(([key, from, label]) => {
          const plural = from;
          let opts: FieldValue[] = (p.fields?.[from] ?? []).filter((v) => !s[key].includes(v.value));
          if (key === 'severity') {
            const order = sortSeverities(opts.map((o) => o.value));
            opts = order.map((v) => opts.find((o) => (o.value || '') === v || (v === '' && o.value === 'unknown'))!).filter((o) => o && o.value);
          }
          return (
            <label class="field">
              <span>{label}</span>
              <select
                value=""
                disabled={!opts.length}
                onChange={(e) => {
                  const v = (e.target as HTMLSelectElement).value;
                  (e.target as HTMLSelectElement).value = '';
                  if (v) p.onAdd(key, v);
                }}
              >
                <option value="">{opts.length ? `Add a ${label.toLowerCase()}…` : p.fields ? `No other ${plural}` : p.failed ? 'Not available' : 'Loading…'}</option>
                {opts.map((o) => (
                  <option value={o.value}>
                    {key === 'severity' ? severityWord(o.value) : o.value} ({formatNumber(o.count)})
                  </option>
                ))}
              </select>
            </label>
          );
        })}
        <div class="field log-presets" role="group" aria-label="Quick filters">
          <span>Quick filters</span>
          <div>
            {PRESETS.map((pr) => {
              const on = presetActive(s, pr.set);
              return (
                <button
                  type="button"
                  class={'al-chip' + (on ? ' on' : '')}
                  aria-pressed={on}
                  title={pr.title}
                  onClick={() => {
                    const next = { ...s };
                    for (const [k, vs] of Object.entries(pr.set)) next[k as FilterKey] = on ? [] : [...vs!];
                    go(next, { replace: false });
                  }}
                >
                  {pr.name}
                </button>
              );
            })}
          </div>
        </div>
      </div>
      {active.length > 0 && (
        <ul class="log-chips" aria-label="Active filters">
          {active.map(([k, v]) => {
            const [name, value] = k === 'field' ? splitField(v) : [k, k === 'severity' ? severityWord(v) : v];
            return (
              <li>
                <span class="mono">
                  {name}={value}
                </span>
                <button type="button" class="link" aria-label={`Remove the filter ${name}=${value}`} onClick={() => go(removeFilter(s, k, v), { replace: false })}>
                  ✕
                </button>
              </li>
            );
          })}
          {active.length > 1 && (
            <li class="log-chip-clear">
              <button type="button" class="link" onClick={() => go({ ...s, host: [], source: [], service: [], severity: [], field: [] }, { replace: false })}>
                Clear filters
              </button>
            </li>
          )}
        </ul>
      )}
    </div>
  );
}

function useWidth(ref: { current: HTMLElement | null }): number {
  const [w, setW] = useState(0);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    setW(el.clientWidth);
    if (typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(() => setW(el.clientWidth));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return w;
}

/** Entries over time as bars stacked by severity; drag across it to zoom into that time. */
function HistogramPanel(p: { h: HistSeries | null; note?: string; loading: boolean; error: unknown; start: number; end: number; onSeverity: (s: string) => void }) {
  const boxRef = useRef<HTMLDivElement>(null);
  const plotRef = useRef<HTMLDivElement>(null);
  const uRef = useRef<uPlot | null>(null);
  const width = useWidth(boxRef);
  const [hover, setHover] = useState<number | null>(null);
  const h = p.h;
  const HEIGHT = 130;
  useEffect(() => {
    const el = plotRef.current;
    if (!el || !h || h.total === 0 || width === 0) {
      uRef.current?.destroy();
      uRef.current = null;
      return;
    }
    const st = stackBars(h);
    const lo = Math.min(h.xs[0], p.start);
    const hi = Math.max(h.xs[h.xs.length - 1] + h.step, p.end);
    const span = hi - lo;
    const bars = uPlot.paths.bars!({ size: [0.9, 80], align: 1 });
    const opts: uPlot.Options = {
      width,
      height: HEIGHT,
      padding: [6, 20, 0, 0],
      legend: { show: false },
      cursor: { drag: { x: true, y: false, setScale: false }, points: { show: false } },
      select: { show: true, left: 0, top: 0, width: 0, height: 0 },
      scales: {
        x: { time: true, range: () => [lo, hi] },
        y: { range: (_u, _min, max) => [0, Math.max(1, (max ?? 0) * 1.08)] },
      },
      axes: [
        { stroke: '#475569', grid: { show: false }, ticks: { stroke: '#cbd5e1' }, size: 32, values: (_u, splits) => splits.map((v) => axisTime(v, span)) },
        {
          stroke: '#475569',
          grid: { stroke: '#e2e8f0' },
          ticks: { stroke: '#cbd5e1' },
          size: 44,
          values: (_u, splits) => splits.map((v) => (Number.isInteger(v) ? formatNumber(v) : '')),
        },
      ],
      series: [
        {},
        ...st.severities.map((sev) => ({
          label: sev === '*' ? 'entries' : severityWord(sev),
          fill: sev === '*' ? '#2563eb' : severityColor(sev),
          stroke: sev === '*' ? '#2563eb' : severityColor(sev),
          width: 0,
          paths: bars,
          points: { show: false },
        })),
      ],
      hooks: {
        setSelect: [zoomOnSelect(setAbsoluteRange, 2)],
        setCursor: [
          (u) => {
            const left = u.cursor.left ?? -1;
            if (left < 0) return setHover(null);
            const t = u.posToVal(left, 'x');
            const i = Math.floor((t - h.xs[0]) / h.step);
            setHover(i >= 0 && i < h.xs.length ? i : null);
          },
        ],
      },
    };
    uRef.current?.destroy();
    uRef.current = new uPlot(opts, [h.xs, ...st.data] as uPlot.AlignedData, el);
  }, [h, width > 0, p.start, p.end]);
  useEffect(() => {
    if (uRef.current && width > 0) uRef.current.setSize({ width, height: HEIGHT });
  }, [width]);
  useEffect(() => () => uRef.current?.destroy(), []);

  const sevTotals = h ? h.severities.map((sev, k) => [sev, h.counts[k].reduce((a, b) => a + b, 0)] as [string, number]) : [];
  return (
    <figure class="chart log-hist" aria-busy={p.loading} aria-label="Entries over time">
      <figcaption>
        <span class="chart-title">Entries over time</span>
        <span class="small muted">
          {h ? `${formatNumber(h.total)} in this range, ${formatStep(h.step)} a bar` : ''}
        </span>
      </figcaption>
      <div class="chart-plot" ref={boxRef} style={{ minHeight: HEIGHT + 'px' }}>
        <div ref={plotRef} />
        {p.loading && <p class="chart-msg">Loading…</p>}
        {!p.loading && !!p.error && (
          <p class="chart-msg error" role="alert">
            Could not count the entries: {errorMessage(p.error)}
          </p>
        )}
        {!p.loading && !p.error && h && h.total === 0 && <p class="chart-msg">No entries in this range.</p>}
        {p.note && <p class="chart-msg">{p.note}</p>}
      </div>
      {h && h.total > 0 && (
        <p class="chart-note log-hist-note">
          {hover !== null && h.xs[hover] !== undefined ? (
            <span>
              {formatShortTime(h.xs[hover] * 1000)}–{formatShortTime((h.xs[hover] + h.step) * 1000)}: <strong>{formatNumber(h.totals[hover])}</strong>
              {h.severities[0] !== '*' &&
                h.severities
                  .map((sev, k) => [sev, h.counts[k][hover]] as [string, number])
                  .filter(([, c]) => c > 0)
                  .map(([sev, c]) => `, ${formatNumber(c)} ${severityWord(sev)}`)
                  .join('')}
            </span>
          ) : h.severities[0] === '*' ? (
            <span>Drag across the bars to zoom in; Back zooms out.</span>
          ) : (
            <>
              {sevTotals.map(([sev, c]) => (
                <button type="button" class="log-legend" title={`Show only ${severityWord(sev)} entries`} onClick={() => sev && p.onSeverity(sev)} disabled={!sev}>
                  <span class="log-swatch" style={{ background: severityColor(sev) }} aria-hidden="true" />
                  {severityWord(sev)} {formatNumber(c)}
                </button>
              ))}
              <span class="muted">Drag across the bars to zoom in.</span>
            </>
          )}
        </p>
      )}
    </figure>
  );
}

function formatStep(s: number): string {
  if (s % 86400 === 0) return s / 86400 + ' d';
  if (s % 3600 === 0) return s / 3600 + ' h';
  if (s % 60 === 0) return s / 60 + ' min';
  return s + ' s';
}

/** The entries, newest first; a row expands to its fields, whose values filter. */
function Entries(p: { entries: LogEntry[]; onFilter: (k: FilterKey | 'field', v: string) => void }) {
  const [open, setOpen] = useState<Set<string>>(new Set());
  const now = Date.now();
  const toggle = (k: string) =>
    setOpen((o) => {
      const n = new Set(o);
      if (n.has(k)) n.delete(k);
      else n.add(k);
      return n;
    });
  return (
    <div class="table-wrap">
      <table class="stack log-table">
        <TableHead cols={['Time', 'Host', 'Severity', 'Source · service', 'Message']} />
        <tbody>
          {p.entries.map((e, i) => {
            const k = entryKey(e);
            const isOpen = open.has(k);
            const id = 'log-e-' + i;
            return (
              <Fragment key={k}>
                <tr class={'log-row' + (isOpen ? ' open' : '')}>
                  <td class="log-time nowrap" data-label="Time">
                    <button type="button" class="link plain" aria-expanded={isOpen} aria-controls={isOpen ? id : undefined} title={exactLogTime(e.time) + ' — show the fields'} onClick={() => toggle(k)}>
                      <span aria-hidden="true" class="log-caret">
                        {isOpen ? '▾' : '▸'}
                      </span>{' '}
                      {formatLogTime(e.time, now)}
                    </button>
                  </td>
                  <td class="log-host" data-label="Host">
                    {e.host}
                  </td>
                  <td data-label="Severity">{e.severity ? <Status tone={severityTone(e.severity)} text={severityWord(e.severity)} /> : <span class="muted small">–</span>}</td>
                  <td class="log-src" data-label="Source">
                    {e.source}
                    {e.service && <span class="muted"> · {e.service}</span>}
                  </td>
                  <td class="log-msg mono">{e.message}</td>
                </tr>
                {isOpen && (
                  <tr class="log-detail" id={id}>
                    <td colSpan={5}>
                      <p class="small muted">{exactLogTime(e.time)} — click a value to filter on it</p>
                      <ul class="log-fields" aria-label="Fields">
                        {entryFields(e).map(([name, value]) => {
                          const f = filterFor(name, value);
                          return (
                            <li>
                              <span class="k">{name}</span>
                              <button type="button" class="link plain mono" title={`Add the filter ${name}=${value}`} onClick={() => p.onFilter(f.key, f.value)}>
                                {value}
                              </button>
                            </li>
                          );
                        })}
                      </ul>
                    </td>
                  </tr>
                )}
              </Fragment>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

type TailState = 'connecting' | 'open' | 'down';

/**
 * Follows /api/v1/logs/tail?<query> while on: entries come in batches to
 * onEntries, the server's dropped counts to onDropped. After an HTTP error
 * (EventSource gives up) it asks /api/v1/logs/status why (a 401 goes to the
 * login page, a 403 says so) and tries again with backoff.
 */
function useTail(on: boolean, query: string, onEntries: (e: LogEntry[]) => void, onDropped: (n: number) => void): { state: TailState; error: string } {
  const [state, setState] = useState<{ state: TailState; error: string }>({ state: 'connecting', error: '' });
  const cb = useRef({ onEntries, onDropped });
  cb.current = { onEntries, onDropped };
  useEffect(() => {
    if (!on) return;
    let es: EventSource | null = null;
    let stopped = false;
    let delay = 1000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const connect = () => {
      if (stopped) return;
      setState({ state: 'connecting', error: '' });
      es = new EventSource('/api/v1/logs/tail' + (query ? '?' + query : ''), { withCredentials: true });
      es.onopen = () => {
        delay = 1000;
        setState({ state: 'open', error: '' });
      };
      es.addEventListener('log', ((ev: MessageEvent) => {
        try {
          const e = JSON.parse(ev.data) as LogEntry;
          if (e && typeof e.message === 'string') cb.current.onEntries([e]);
        } catch {
          /* not an entry */
        }
      }) as EventListener);
      es.addEventListener('dropped', ((ev: MessageEvent) => {
        try {
          const n = Number(JSON.parse(ev.data)?.count);
          if (n > 0) cb.current.onDropped(n);
        } catch {
          /* ignore */
        }
      }) as EventListener);
      es.onerror = () => {
        if (!es || es.readyState !== EventSource.CLOSED) {
          setState((s) => (s.state === 'open' ? { state: 'connecting', error: '' } : s));
          return; // the browser retries by itself
        }
        es = null;
        // Why did it fail? The same filters on the status and query endpoints say it in words.
        api('/api/v1/logs/query?' + query + (query ? '&' : '') + 'limit=1', { noRedirect: true })
          .then(() => setState({ state: 'down', error: '' }))
          .catch((e) => {
            if (e instanceof ApiError && e.status === 401) {
              loadSession()
                .then((s) => s.state === 'anonymous' && redirectToLogin())
                .catch(() => {});
            }
            setState({ state: 'down', error: errorMessage(e).replace(/\.$/, '') });
          });
        timer = setTimeout(connect, delay);
        delay = Math.min(delay * 2, 30000);
      };
    };
    connect();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      es?.close();
    };
  }, [on, query]);
  return state;
}
