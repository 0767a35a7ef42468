// The UI benchmark's browser part (run by bench/ui/run.sh): headless
// Chromium, 1280×800, against a server seeded with BENCH_HOSTS hosts.
//
//   - overview: from navigation (performance.timeOrigin) to every host's
//     tile rendered with its CPU, memory and disk figures; the API requests
//     the page made until then and their bytes;
//   - host page: from navigation to every chart in the first screen drawn
//     with data (uPlot canvases with a series on them).
//
// Each is measured BENCH_RUNS times in a fresh browser context (empty
// cache, the session cookie only) after one warm-up; medians are reported.
// Prints a markdown table on stdout; BENCH_JSON names a file for every run's
// figures. Exits 1 if a page did not get there within BENCH_PAGE_TIMEOUT_MS.
//
//	SAYPRO_URL=… SAYPRO_ADMIN_PASSWORD=… BENCH_HOSTS=500 node bench/ui/measure.mjs
import { writeFileSync } from 'node:fs';
import { DESKTOP, env, launch } from '../../web/e2e/helpers.mjs';

const BASE = env('SAYPRO_URL').replace(/\/$/, '');
const PASSWORD = env('SAYPRO_ADMIN_PASSWORD');
const HOSTS = parseInt(env('BENCH_HOSTS', '500'), 10);
const RUNS = parseInt(env('BENCH_RUNS', '5'), 10);
const HOST = env('BENCH_HOST_PAGE', 'host-1');
const TIMEOUT = parseInt(env('BENCH_PAGE_TIMEOUT_MS', '120000'), 10);

/** Records the API requests of a page: path, start, bytes received (headers + body). */
function recordRequests(page) {
  const reqs = [];
  const byReq = new Map();
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (!u.pathname.startsWith('/api/')) return;
    const rec = { path: u.pathname, method: r.method(), started: Date.now(), bytes: 0, done: false, stream: u.pathname === '/api/v1/events' };
    reqs.push(rec);
    byReq.set(r, rec);
  });
  page.on('requestfinished', async (r) => {
    const rec = byReq.get(r);
    if (!rec) return;
    try {
      const s = await r.sizes();
      rec.bytes = s.responseHeadersSize + s.responseBodySize;
    } catch {
      /* page gone */
    }
    rec.done = true;
  });
  page.on('requestfailed', (r) => {
    const rec = byReq.get(r);
    if (rec) rec.done = true;
  });
  return reqs;
}

/** All assets (non-API) bytes, for context. */
function recordAssets(page) {
  const assets = { count: 0, bytes: 0 };
  page.on('requestfinished', async (r) => {
    if (new URL(r.url()).pathname.startsWith('/api/')) return;
    try {
      const s = await r.sizes();
      assets.count++;
      assets.bytes += s.responseHeadersSize + s.responseBodySize;
    } catch {
      /* page gone */
    }
  });
  return assets;
}

async function settleRequests(reqs, ms = 1000) {
  // Let in-flight answers land (the event stream never ends; it is left out).
  const until = Date.now() + ms * 5;
  while (Date.now() < until && reqs.some((r) => !r.done && !r.stream)) await new Promise((r) => setTimeout(r, 50));
}

function summarize(reqs) {
  const plain = reqs.filter((r) => !r.stream);
  const byPath = {};
  for (const r of plain) {
    const k = r.method + ' ' + r.path;
    byPath[k] = byPath[k] ?? { count: 0, bytes: 0 };
    byPath[k].count++;
    byPath[k].bytes += r.bytes;
  }
  return { count: plain.length, bytes: plain.reduce((s, r) => s + r.bytes, 0), streams: reqs.length - plain.length, byPath };
}

async function overviewRun(browser, storageState) {
  const context = await browser.newContext({ baseURL: BASE, viewport: DESKTOP, deviceScaleFactor: 1, storageState });
  try {
    const page = await context.newPage();
    const reqs = recordRequests(page);
    const assets = recordAssets(page);
    await page.goto('/', { waitUntil: 'commit' });
    const handle = await page.waitForFunction(
      (n) => {
        // A tile is its host's link, named "<instance>: <state>"; with values
        // it shows CPU, memory and disk use in per cent.
        const tiles = document.querySelectorAll('main a[href^="/hosts/"][aria-label]');
        if (tiles.length < n) return false;
        let withValues = 0;
        for (const t of tiles) {
          if ((t.textContent.match(/\d(\.\d+)?\s?%/g) ?? []).length >= 3) withValues++;
        }
        return withValues >= n ? { ms: performance.now(), tiles: tiles.length, withValues } : false;
      },
      HOSTS,
      { polling: 'raf', timeout: TIMEOUT },
    );
    const r = await handle.jsonValue();
    const nav = await page.evaluate(() => {
      const n = performance.getEntriesByType('navigation')[0];
      return { domContentLoaded: n.domContentLoadedEventEnd, load: n.loadEventEnd };
    });
    const tEnd = Date.now();
    await settleRequests(reqs);
    const atTiles = summarize(reqs.filter((q) => q.started <= tEnd));
    return { tilesMs: r.ms, tiles: r.tiles, ...nav, requests: atTiles, assets: { ...assets } };
  } finally {
    await context.close();
  }
}

async function hostRun(browser, storageState) {
  const context = await browser.newContext({ baseURL: BASE, viewport: DESKTOP, deviceScaleFactor: 1, storageState });
  try {
    const page = await context.newPage();
    const reqs = recordRequests(page);
    await page.goto('/hosts/' + encodeURIComponent(HOST), { waitUntil: 'commit' });
    const handle = await page.waitForFunction(
      () => {
        const inView = (el) => {
          const b = el.getBoundingClientRect();
          return b.bottom > 0 && b.top < window.innerHeight && b.width > 0;
        };
        // Every chart is a <figure aria-busy> (web/src/chart.tsx).
        const charts = [...document.querySelectorAll('main figure[aria-busy]')].filter(inView);
        if (charts.length === 0) return false;
        let drawn = 0;
        for (const ch of charts) {
          const c = ch.querySelector('.uplot canvas');
          if (!c || !c.width) continue;
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          let coloured = 0;
          for (let i = 0; i < d.length && coloured <= 20; i += 4) {
            if (d[i + 3] >= 128 && Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 80) coloured++;
          }
          if (coloured > 20) drawn++;
        }
        return drawn === charts.length ? { ms: performance.now(), charts: charts.length } : false;
      },
      null,
      { polling: 'raf', timeout: TIMEOUT },
    );
    const r = await handle.jsonValue();
    const tEnd = Date.now();
    await settleRequests(reqs);
    const atCharts = summarize(reqs.filter((q) => q.started <= tEnd));
    return { chartsMs: r.ms, charts: r.charts, requests: atCharts };
  } finally {
    await context.close();
  }
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const { browser, close } = await launch();
const out = { hosts: HOSTS, runs: RUNS, viewport: DESKTOP, host: HOST, overview: [], hostPage: [], errors: [] };
try {
  const login = await browser.newContext({ baseURL: BASE });
  const res = await login.request.post('/api/v1/auth/login', { data: { username: 'admin', password: PASSWORD } });
  if (!res.ok()) throw new Error(`login: ${res.status()} ${await res.text()}`);
  const storageState = await login.storageState();
  await login.close();

  for (const [name, fn, list] of [
    ['overview', overviewRun, out.overview],
    ['host page', hostRun, out.hostPage],
  ]) {
    for (let i = 0; i <= RUNS; i++) {
      try {
        const r = await fn(browser, storageState);
        if (i > 0) list.push(r); // run 0 warms the server up
        console.error(`${name} run ${i}${i === 0 ? ' (warm-up)' : ''}: ${JSON.stringify({ ms: r.tilesMs ?? r.chartsMs, requests: r.requests.count, bytes: r.requests.bytes })}`);
      } catch (e) {
        out.errors.push(`${name} run ${i}: ${e.message.split('\n')[0]}`);
        console.error(`${name} run ${i} failed: ${e.message.split('\n')[0]}`);
        break;
      }
    }
  }
} finally {
  await close();
}
const stat = (xs) => (xs.length ? { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) } : null);
const kib = (b) => (b / 1024).toFixed(1) + ' KiB';
const ms = (x) => Math.round(x) + ' ms';
const n = (x) => String(Math.round(x));
const rows = [
  [`overview: navigation → all ${HOSTS} tiles with values`, stat(out.overview.map((r) => r.tilesMs)), ms],
  ['overview: API requests until then (event stream apart)', stat(out.overview.map((r) => r.requests.count)), n],
  ['overview: API bytes received until then', stat(out.overview.map((r) => r.requests.bytes)), kib],
  ['overview: DOMContentLoaded', stat(out.overview.map((r) => r.domContentLoaded)), ms],
  ['overview: page assets (HTML, JS, CSS) received', stat(out.overview.map((r) => r.assets.bytes)), kib],
  [`host page (${HOST}): navigation → charts of the first screen drawn`, stat(out.hostPage.map((r) => r.chartsMs)), ms],
  ['host page: charts in the first screen', stat(out.hostPage.map((r) => r.charts)), n],
  ['host page: API requests until then', stat(out.hostPage.map((r) => r.requests.count)), n],
  ['host page: API bytes received until then', stat(out.hostPage.map((r) => r.requests.bytes)), kib],
];
out.summary = Object.fromEntries(rows.map(([k, v]) => [k, v]));
const lines = [`| measure (${out.overview.length} overview runs, ${out.hostPage.length} host page runs) | median | min | max |`, '|---|---:|---:|---:|'];
for (const [k, v, f] of rows) lines.push(v ? `| ${k} | ${f(v.median)} | ${f(v.min)} | ${f(v.max)} |` : `| ${k} | n/a | | |`);
const last = out.overview.at(-1);
if (last) {
  lines.push('', 'API requests of the last overview run until its tiles were complete:', '', '| request | count | bytes |', '|---|---:|---:|');
  for (const [k, v] of Object.entries(last.requests.byPath).sort((a, b) => b[1].bytes - a[1].bytes)) lines.push(`| ${k} | ${v.count} | ${kib(v.bytes)} |`);
  if (last.requests.streams) lines.push(`| GET /api/v1/events (live stream, left out above) | ${last.requests.streams} | |`);
}
const lastHost = out.hostPage.at(-1);
if (lastHost) {
  lines.push('', 'API requests of the last host page run until its charts were drawn:', '', '| request | count | bytes |', '|---|---:|---:|');
  for (const [k, v] of Object.entries(lastHost.requests.byPath).sort((a, b) => b[1].bytes - a[1].bytes)) lines.push(`| ${k} | ${v.count} | ${kib(v.bytes)} |`);
}
if (out.errors.length) lines.push('', 'Failures:', ...out.errors.map((e) => '- ' + e));
const json = env('BENCH_JSON', '');
if (json) writeFileSync(json, JSON.stringify(out, null, 2) + '\n');
console.log(lines.join('\n'));
process.exitCode = out.errors.length ? 1 : 0;
