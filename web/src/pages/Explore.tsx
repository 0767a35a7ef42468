// /explore: a PromQL box (Enter runs, Shift+Enter adds a line) with metric
// name completion, and the result as a graph or a table. The query, tab,
// range and stacking are kept in the URL.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, errorMessage, promQuery, useApi, type PromResult, type SamplePair } from '../api';
import { Chart } from '../chart';
import { formatExactTime, formatLabels, formatNumber, type Unit } from '../format';
import { navigate, setQuery, useLocation } from '../router';
import type { PageProps } from '../routes';
import { resolveRange, TimeRangePicker, useRefreshTick, useTimeRange } from '../timerange';
import { Empty, ErrorBox, Loading, PageHead } from '../widgets';

/** The metric-name-like word that ends at pos in text, and where it starts. */
export function wordAt(text: string, pos: number): { word: string; start: number } {
  let i = pos;
  while (i > 0 && /[a-zA-Z0-9_:]/.test(text[i - 1])) i--;
  const word = text.slice(i, pos);
  // Not a metric name: numbers, or inside {…} (label names) or "…" (values).
  const before = text.slice(0, i);
  const inBraces = before.lastIndexOf('{') > before.lastIndexOf('}');
  const quotes = (before.match(/"/g) ?? []).length % 2 === 1;
  if (!/^[a-zA-Z_:]/.test(word) || inBraces || quotes) return { word: '', start: pos };
  return { word, start: i };
}

/** Up to max names that contain word, those starting with it first. */
export function suggest(names: string[], word: string, max = 12): string[] {
  if (word.length < 2) return [];
  const w = word.toLowerCase();
  const prefix: string[] = [];
  const inside: string[] = [];
  for (const n of names) {
    const l = n.toLowerCase();
    if (l === w) continue;
    if (l.startsWith(w)) prefix.push(n);
    else if (l.includes(w)) inside.push(n);
    if (prefix.length >= max) break;
  }
  return [...prefix, ...inside].slice(0, max);
}

const UNITS: { value: Unit; text: string }[] = [
  { value: 'number', text: 'number' },
  { value: 'percent', text: '%' },
  { value: 'bytes', text: 'bytes' },
  { value: 'bytes/s', text: 'bytes/s' },
  { value: 'seconds', text: 'seconds' },
  { value: 'ops/s', text: 'per second' },
];

function QueryBox(p: { initial: string; onRun: (q: string) => void }) {
  const [text, setText] = useState(p.initial);
  const [pos, setPos] = useState(0);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const ta = useRef<HTMLTextAreaElement>(null);
  useEffect(() => setText(p.initial), [p.initial]);
  const names = useApi((signal) => api<string[]>('/api/v1/label/__name__/values', { signal }), []);
  const { word, start } = wordAt(text, pos);
  const items = useMemo(() => (open ? suggest(names.data ?? [], word) : []), [names.data, word, open]);
  useEffect(() => setActive(0), [word]);

  function accept(name: string) {
    const next = text.slice(0, start) + name + text.slice(pos);
    setText(next);
    setOpen(false);
    const caret = start + name.length;
    requestAnimationFrame(() => {
      ta.current?.focus();
      ta.current?.setSelectionRange(caret, caret);
      setPos(caret);
    });
  }

  function onKeyDown(e: KeyboardEvent) {
    if (items.length) {
      if (e.key === 'ArrowDown') {
        e.preventDefault();
        setActive((active + 1) % items.length);
        return;
      }
      if (e.key === 'ArrowUp') {
        e.preventDefault();
        setActive((active - 1 + items.length) % items.length);
        return;
      }
      if (e.key === 'Tab' || (e.key === 'Enter' && !e.shiftKey)) {
        e.preventDefault();
        accept(items[active]);
        return;
      }
      if (e.key === 'Escape') {
        setOpen(false);
        return;
      }
    }
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      setOpen(false);
      p.onRun(text.trim());
    }
  }

  const rows = Math.min(8, Math.max(2, text.split('\n').length));
  return (
    <div class="querybox">
      <label for="promql" class="visually-hidden">
        PromQL query
      </label>
      <div class="combo">
        <textarea
          id="promql"
          ref={ta}
          class="mono"
          rows={rows}
          spellcheck={false}
          autoComplete="off"
          placeholder='A PromQL expression, e.g. rate(node_network_receive_bytes_total{job="node"}[5m])'
          value={text}
          role="combobox"
          aria-expanded={items.length > 0}
          aria-controls="promql-suggest"
          aria-autocomplete="list"
          aria-activedescendant={items.length ? 'sug-' + active : undefined}
          onInput={(e) => {
            const el = e.target as HTMLTextAreaElement;
            setText(el.value);
            setPos(el.selectionStart);
            setOpen(true);
          }}
          onKeyDown={onKeyDown}
          onClick={(e) => setPos((e.target as HTMLTextAreaElement).selectionStart)}
          onBlur={() => setTimeout(() => setOpen(false), 150)}
        />
        {items.length > 0 && (
          <ul id="promql-suggest" role="listbox" class="suggest" aria-label="Metric names">
            {items.map((n, i) => (
              <li id={'sug-' + i} role="option" aria-selected={i === active} class={i === active ? 'on' : ''} onMouseDown={(e) => (e.preventDefault(), accept(n))}>
                {n}
              </li>
            ))}
          </ul>
        )}
      </div>
      <div class="querybar">
        <button type="button" class="primary" onClick={() => p.onRun(text.trim())}>
          Run
        </button>
        <span class="small muted">Enter runs · Shift+Enter adds a line · Tab completes a metric name</span>
        {names.error ? <span class="small muted">(metric names could not be loaded: {errorMessage(names.error)})</span> : null}
      </div>
    </div>
  );
}

function pairText(v: SamplePair) {
  return v[1];
}

function ResultTable(p: { expr: string; time: number | undefined }) {
  const tick = useRefreshTick();
  const r = useApi((signal) => promQuery(p.expr, p.time, signal), [p.expr, p.time, tick]);
  if (r.error) return <ErrorBox error={r.error} retry={r.reload} />;
  if (!r.data) return <Loading what="the result" />;
  const d: PromResult = r.data;
  if (d.resultType === 'scalar' || d.resultType === 'string')
    return (
      <div class="panel">
        <p>
          <strong>{d.resultType === 'scalar' ? 'Scalar' : 'String'}:</strong> <code>{pairText(d.result)}</code>{' '}
          <span class="small muted">at {formatExactTime(d.result[0])}</span>
        </p>
      </div>
    );
  if (d.result.length === 0) return <Empty>The query returned no series at this time.</Empty>;
  const shown = d.result.slice(0, 1000);
  return (
    <>
      <p class="small muted">
        {d.result.length} series{d.result.length > shown.length && `, the first ${shown.length} shown`} · evaluated at {formatExactTime(p.time ?? Date.now() / 1000)}
      </p>
      <div class="table-wrap">
        <table class="result">
          <thead>
            <tr>
              <th scope="col">Series</th>
              <th scope="col" class="num">
                {d.resultType === 'vector' ? 'Value' : 'Values (value @ time)'}
              </th>
            </tr>
          </thead>
          <tbody>
            {d.resultType === 'vector'
              ? shown.map((s: any) => (
                  <tr>
                    <td class="mono series">{formatLabels(s.metric, false)}</td>
                    <td class="num mono" title={formatNumber(parseFloat(s.value[1]))}>
                      {s.value[1]}
                    </td>
                  </tr>
                ))
              : shown.map((s: any) => (
                  <tr>
                    <td class="mono series">{formatLabels(s.metric, false)}</td>
                    <td class="num mono values">
                      {(s.values as SamplePair[]).slice(-50).map((v) => (
                        <div title={formatExactTime(v[0])}>
                          {v[1]} @ {v[0]}
                        </div>
                      ))}
                      {s.values.length > 50 && <div class="muted">… {s.values.length - 50} earlier</div>}
                    </td>
                  </tr>
                ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

export default function Explore(_p: PageProps) {
  const loc = useLocation();
  const tr = useTimeRange();
  const expr = loc.query.get('q') ?? '';
  const tab = loc.query.get('tab') === 'table' ? 'table' : 'graph';
  const stacked = loc.query.get('stacked') === '1';
  const unit = (UNITS.find((u) => u.value === loc.query.get('unit'))?.value ?? 'number') as Unit;
  const [result, setResult] = useState<{ error?: string; series: number; ms: number } | null>(null);
  useEffect(() => setResult(null), [expr]);

  function run(q: string) {
    const s = new URLSearchParams(loc.search);
    if (q) s.set('q', q);
    else s.delete('q');
    navigate('/explore?' + s.toString());
  }
  // The table shows the instant at the end of the range (now for a relative range).
  const time = tr.range ? undefined : resolveRange(tr).end;

  return (
    <>
      <PageHead title="Explore" sub="Query the metrics with PromQL." />
      <QueryBox initial={expr} onRun={run} />
      {result?.error && tab === 'graph' && (
        <p class="state error query-error" role="alert">
          {result.error}
        </p>
      )}
      <div class="explore-bar">
        <div class="tabs" role="tablist" aria-label="Result view">
          <button type="button" role="tab" aria-selected={tab === 'graph'} class={tab === 'graph' ? 'on' : ''} onClick={() => setQuery({ tab: null })}>
            Graph
          </button>
          <button type="button" role="tab" aria-selected={tab === 'table'} class={tab === 'table' ? 'on' : ''} onClick={() => setQuery({ tab: 'table' })}>
            Table
          </button>
        </div>
        {tab === 'graph' && (
          <>
            <label class="inline">
              <input type="checkbox" checked={stacked} onChange={(e) => setQuery({ stacked: (e.target as HTMLInputElement).checked ? '1' : null })} /> Stacked
            </label>
            <label class="inline">
              Unit{' '}
              <select value={unit} onChange={(e) => setQuery({ unit: (e.target as HTMLSelectElement).value === 'number' ? null : (e.target as HTMLSelectElement).value })}>
                {UNITS.map((u) => (
                  <option value={u.value}>{u.text}</option>
                ))}
              </select>
            </label>
          </>
        )}
        <TimeRangePicker />
      </div>
      {!expr ? (
        <Empty>Type a query above and press Enter. Start typing a metric name (node_, probe_, saypro_ …) to see suggestions.</Empty>
      ) : tab === 'graph' ? (
        <>
          <Chart title={expr.length > 90 ? expr.slice(0, 90) + '…' : expr} queries={[{ expr }]} unit={unit} stacked={stacked} height={320} maxSeries={100} eager onResult={setResult} />
          {result && !result.error && (
            <p class="small muted">
              {result.series} series · {result.ms} ms
            </p>
          )}
        </>
      ) : (
        <ResultTable expr={expr} time={time} />
      )}
    </>
  );
}
