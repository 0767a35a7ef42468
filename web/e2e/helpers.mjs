// Helpers of the browser tests (ui.test.mjs) and the UI benchmark
// (bench/ui): Debian's Chromium driven by playwright-core, logging in,
// waiting for a page to settle, screenshots, API calls with the session.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.SAYPRO_CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

/** The value of env variable name; throws when it is required and missing. */
export function env(name, fallback) {
  const v = process.env[name];
  if (v !== undefined && v !== '') return v;
  if (fallback !== undefined) return fallback;
  throw new Error(`environment variable ${name} is not set`);
}

/**
 * Launches Chromium. Each launch gets a fresh user-data directory:
 * playwright-core creates a new temporary profile for every plain launch
 * (it refuses --user-data-dir there; launchPersistentContext would tie the
 * profile to a single context, and the tests need several) and removes it
 * when the browser closes.
 */
export async function launch() {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  const close = async () => {
    await browser.close().catch(() => {});
  };
  return { browser, close };
}

/** A new context on baseURL at the given viewport, with console errors collected. */
export async function newContext(browser, baseURL, viewport = DESKTOP) {
  const context = await browser.newContext({ baseURL, viewport, deviceScaleFactor: 1, locale: 'en-GB', timezoneId: 'UTC' });
  context.setDefaultTimeout(20_000);
  return context;
}

/** Logs in through the login page and waits to leave it. */
export async function loginUI(page, user, password) {
  await page.goto('/login');
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL((u) => u.pathname !== '/login');
  // The header shows who is logged in (a link to their account).
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: user, exact: true }).waitFor();
}

/** The session's CSRF token (GET /api/v1/auth/session with the context's cookie). */
export async function csrfToken(context) {
  const res = await context.request.get('/api/v1/auth/session');
  if (!res.ok()) throw new Error(`GET /api/v1/auth/session: ${res.status()} ${await res.text()}`);
  return (await res.json()).data.csrf_token;
}

/** Calls the API with the context's session (and CSRF token for writes); returns {status, body}. */
export async function apiCall(context, method, path, body) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET') headers['X-CSRF-Token'] = await csrfToken(context);
  const res = await context.request.fetch(path, { method, headers, data: body === undefined ? undefined : body });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status(), text, json };
}

/** GET path's data, failing on anything but 2xx. */
export async function apiData(context, path) {
  const r = await apiCall(context, 'GET', path);
  if (r.status < 200 || r.status > 299) throw new Error(`GET ${path}: ${r.status} ${r.text.slice(0, 300)}`);
  return r.json?.data ?? r.json;
}

/**
 * Waits until the page has settled: a heading is shown, and no loading state
 * ("Loading…", aria-busy) is left. Charts load only while in view (and give
 * up when scrolled away), so the page is walked down a screen at a time,
 * each screen waited for, then scrolled back to the top. Returns false
 * (does not throw) when the page did not settle within timeout: a
 * screenshot of a page still loading is still worth having.
 */
export async function settle(page, timeout = 15_000) {
  await page.locator('h1').first().waitFor();
  const deadline = Date.now() + timeout;
  const quiet = (inViewOnly) =>
    page.waitForFunction(
      (inViewOnly) => {
        const shown = (el) => {
          if (el.getClientRects().length === 0) return false;
          if (!inViewOnly) return true;
          const b = el.getBoundingClientRect();
          return b.bottom > 0 && b.top < window.innerHeight;
        };
        const busy = [...document.querySelectorAll('[aria-busy="true"], .state.loading')].some(shown);
        const loadingText = [...document.querySelectorAll('main p, main span, main td')].some((el) => shown(el) && /^Loading\b.*…$/.test(el.textContent.trim()));
        return !busy && !loadingText;
      },
      inViewOnly,
      { timeout: Math.max(1, deadline - Date.now()), polling: 100 },
    );
  try {
    for (let y = 0; ; ) {
      await page.evaluate((y) => window.scrollTo(0, y), y);
      await quiet(true);
      const { height, inner } = await page.evaluate(() => ({ height: document.documentElement.scrollHeight, inner: window.innerHeight }));
      if (y + inner >= height) break;
      y += Math.max(200, inner - 100);
    }
    await page.evaluate(() => window.scrollTo(0, 0));
    await quiet(false);
    return true;
  } catch {
    await page.evaluate(() => window.scrollTo(0, 0));
    return false;
  }
}

/** Saves a full-page screenshot as dir/name.png (after settle) and returns its path. */
export async function screenshot(page, dir, name) {
  mkdirSync(dir, { recursive: true });
  const settled = await settle(page);
  if (!settled) console.log(`# note: ${name}: ${page.url()} still showed a loading state after 15 s; screenshot taken anyway`);
  const path = join(dir, name + '.png');
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * Whether a uPlot canvas has a series line drawn: pixels of a saturated
 * colour (the series palette), not only the grey axes and grid.
 */
export async function canvasHasSeries(canvas) {
  return canvas.evaluate((c) => {
    const ctx = c.getContext('2d');
    if (!ctx || c.width === 0 || c.height === 0) return false;
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    let coloured = 0;
    for (let i = 0; i < d.length; i += 4) {
      const [r, g, b, a] = [d[i], d[i + 1], d[i + 2], d[i + 3]];
      if (a < 128) continue;
      const max = Math.max(r, g, b);
      const min = Math.min(r, g, b);
      if (max - min > 80) coloured++; // saturated: a series, not the grey grid
      if (coloured > 20) return true;
    }
    return false;
  });
}

/** Waits until at least n uPlot charts on the page have a series drawn. */
export async function waitForCharts(page, n = 1, timeout = 30_000) {
  await page.waitForFunction(
    (n) => {
      let drawn = 0;
      for (const c of document.querySelectorAll('.uplot canvas')) {
        const ctx = c.getContext('2d');
        if (!ctx || !c.width || !c.height) continue;
        const d = ctx.getImageData(0, 0, c.width, c.height).data;
        let coloured = 0;
        for (let i = 0; i < d.length && coloured <= 20; i += 4) {
          if (d[i + 3] >= 128 && Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 80) coloured++;
        }
        if (coloured > 20) drawn++;
      }
      return drawn >= n;
    },
    n,
    { timeout, polling: 200 },
  );
}
