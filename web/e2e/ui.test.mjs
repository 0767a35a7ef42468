// Browser tests of the web UI: headless Chromium (Debian's /usr/bin/chromium)
// driven by playwright-core against a running server.
//
//	SAYPRO_URL=http://127.0.0.1:9900 SAYPRO_ADMIN_PASSWORD=… \
//	SAYPRO_SUPPORT_USER=alice SAYPRO_SUPPORT_PASSWORD=… \
//	SAYPRO_SCREENSHOTS=/tmp/shots node --test web/e2e/ui.test.mjs
//
// The server needs: its own host's agent (on by default), at least one
// check, and a firing alert that opened an incident. e2e/ui_test.go
// (TestBrowser) starts such a server and runs these tests.
//
// The logs test runs when GET /api/v1/logs/status answers 200 and the test
// has a way to send log lines to the server, one of (see sendLogLines):
//
//	SAYPRO_AGENT_TOKEN=…          an agent token: POST /api/v1/agent/logs
//	SAYPRO_SYSLOG_ADDR=udp://127.0.0.1:5514 (or tcp://…)  the syslog listener
//	SAYPRO_LOG_FILE=/tmp/…/app.log  a file the server's own agent tails
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { appendFileSync, mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DESKTOP, PHONE, apiCall, apiData, env, launch, loginUI, newContext, screenshot, settle, waitForCharts } from './helpers.mjs';

const BASE = env('SAYPRO_URL').replace(/\/$/, '');
const ADMIN_PASSWORD = env('SAYPRO_ADMIN_PASSWORD');
const SUPPORT_USER = env('SAYPRO_SUPPORT_USER', '');
const SUPPORT_PASSWORD = env('SAYPRO_SUPPORT_PASSWORD', '');
const SHOTS = env('SAYPRO_SCREENSHOTS', '') || mkdtempSync(join(tmpdir(), 'saypro-screenshots-'));
const T = { timeout: 90_000 };

let browser;
let closeBrowser;
before(async () => {
  ({ browser, close: closeBrowser } = await launch());
  console.log(`# screenshots go to ${SHOTS}`);
});
after(async () => {
  await closeBrowser?.();
});

/** Every SPA route of the contract, as screenshot name and path (filled in once the ids are known). */
function pages(ids) {
  return [
    ['overview', '/'],
    ['account', '/account'],
    ['host', '/hosts/' + encodeURIComponent(ids.host)],
    ['checks', '/checks'],
    ['check', '/checks/' + encodeURIComponent(ids.check)],
    ['alerts', '/alerts'],
    ['incidents', '/incidents'],
    ['incident', '/incidents/' + ids.incident],
    ['explore', '/explore'],
    ['logs', '/logs'],
    ['home-sysadmin', '/home/sysadmin'],
    ['home-devops', '/home/devops'],
    ['home-support', '/home/support'],
    ['admin-users', '/admin/users'],
    ['admin-tokens', '/admin/tokens'],
    ['admin-audit', '/admin/audit'],
  ];
}

describe('admin', () => {
  let context;
  let page;
  const ids = {};

  const pageErrors = [];

  before(async () => {
    context = await newContext(browser, BASE, DESKTOP);
    page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(`${page.url()}: ${e.message}`));
  });
  after(async () => {
    await context?.close();
  });

  it('logs in through the login page', T, async () => {
    // Not logged in: any page sends the browser to the login page.
    await page.goto('/alerts');
    await page.waitForURL((u) => u.pathname === '/login');
    assert.equal(new URL(page.url()).searchParams.get('next'), '/alerts');
    await page.goto('/login');
    await page.getByRole('button', { name: 'Log in' }).waitFor();
    await screenshot(page, SHOTS, 'login');

    // A wrong password is refused with a message.
    await page.getByLabel('User name').fill('admin');
    await page.getByLabel('Password', { exact: true }).fill('not the password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').filter({ hasText: /wrong user name or password/i }).waitFor();

    await loginUI(page, 'admin', ADMIN_PASSWORD);
    await page.getByRole('navigation', { name: 'Main' }).getByTitle('Your role').filter({ hasText: 'admin' }).waitFor();

    const hosts = await apiData(context, '/api/v1/hosts');
    assert.ok(hosts.length > 0, 'the inventory has a host');
    ids.host = env('SAYPRO_HOST', '') || hosts[0].instance;
    const checks = await apiData(context, '/api/v1/checks');
    assert.ok(checks.length > 0, 'the server has a check');
    ids.check = checks[0].name;
    const inc = await apiData(context, '/api/v1/incidents?status=open,acknowledged');
    const always = inc.incidents.find((i) => i.title === 'AlwaysFiring') ?? inc.incidents[0];
    assert.ok(always, 'an incident is open');
    ids.incident = always.id;
  });

  it("shows the local host's tile with values on the overview", T, async () => {
    await page.goto('/');
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    const tile = page.getByRole('link', { name: `${ids.host}: Up`, exact: true });
    await tile.waitFor();
    // CPU, memory and disk use as numbers with a unit.
    await page.waitForFunction((a) => (a.innerText.match(/\d+(\.\d+)?\s?%/g) ?? []).length >= 3, await tile.elementHandle());
    const text = await tile.innerText();
    for (const label of ['CPU', 'Mem', 'Disk']) assert.match(text, new RegExp(label + '[^%]*\\d\\s?%'), `the tile shows ${label}: ${text}`);
    // The firing alert and its incident are listed.
    await page.getByRole('region', { name: /Firing alerts/ }).getByText('AlwaysFiring').first().waitFor();
    await page.getByRole('region', { name: /Open incidents/ }).getByRole('link', { name: new RegExp(`#${ids.incident}\\b`) }).waitFor();
    await screenshot(page, SHOTS, 'overview');

    // The same page on a phone: no horizontal scrolling.
    const phone = await browser.newContext({ baseURL: BASE, viewport: PHONE, deviceScaleFactor: 1, storageState: await context.storageState() });
    try {
      const p = await phone.newPage();
      await p.goto('/');
      await p.getByRole('link', { name: `${ids.host}: Up`, exact: true }).waitFor();
      await screenshot(p, SHOTS, 'overview-phone');
      const { scroll, client } = await p.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
      assert.ok(scroll <= client + 1, `the overview scrolls sideways on a phone: ${scroll} px wide in ${client} px`);
    } finally {
      await phone.close();
    }
  });

  it('opens the host page and draws its charts with data', T, async () => {
    await page.goto('/');
    await page.getByRole('link', { name: `${ids.host}: Up`, exact: true }).click();
    await page.waitForURL((u) => u.pathname === '/hosts/' + encodeURIComponent(ids.host));
    await page.getByRole('heading', { name: ids.host, level: 1 }).waitFor();
    // A fresh server has a minute or two of data: the last 15 minutes show it
    // as lines rather than a few pixels at the right edge.
    await page.getByRole('radiogroup', { name: 'Range' }).getByRole('radio', { name: '15m' }).click();
    await page.getByRole('radio', { name: '15m', checked: true }).waitFor();
    await waitForCharts(page, 2);
    // The legend shows each series' latest value, and the value under the cursor.
    const chart = page.locator('.uplot').filter({ has: page.locator('canvas') }).first();
    const valueOf = async () => (await chart.locator('.u-legend .u-series:not(:first-child) .u-value').allTextContents()).filter((v) => /\d/.test(v));
    assert.ok((await valueOf()).length > 0, 'the legend shows latest values');
    await chart.scrollIntoViewIfNeeded();
    const box = await chart.locator('.u-over').boundingBox();
    assert.ok(box, 'the chart has a plot area');
    // Where there is no data yet the cursor has no values: a fresh server's
    // minute of data is a few pixels wide at the right, so move left from the
    // right edge a little at a time until the legend has values.
    const handle = await chart.elementHandle();
    let under = false;
    for (let f = 0.998; f > 0.5; f -= 0.006) {
      await page.mouse.move(box.x + box.width * f, box.y + box.height / 2);
      under = await page
        .waitForFunction(
          (el) => /\d/.test(el.querySelector('.u-legend .u-series:first-child .u-value')?.textContent ?? '') && [...el.querySelectorAll('.u-legend .u-series:not(:first-child) .u-value')].some((v) => /\d/.test(v.textContent)),
          handle,
          { timeout: 150 },
        )
        .then(() => true, () => false);
      if (under) break;
    }
    assert.ok(under, `the legend shows values under the cursor: ${JSON.stringify(await chart.locator('.u-legend .u-value').allTextContents())}`);
  });

  it('runs a PromQL query in the explorer: graph and table', T, async () => {
    await page.goto('/explore');
    await page.getByRole('heading', { name: 'Explore', level: 1 }).waitFor();
    const expr = `node_load1{instance="${ids.host}"}`;
    await page.getByRole('combobox', { name: 'PromQL query' }).fill(expr);
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await waitForCharts(page, 1);
    assert.match(decodeURIComponent(page.url()), /node_load1/, 'the query is kept in the URL');
    await page.getByRole('tab', { name: 'Table' }).click();
    const table = page.getByRole('table').filter({ hasText: ids.host });
    await table.waitFor();
    assert.ok((await table.getByRole('row').count()) >= 2, 'the table has a header and a row');
    await table.getByRole('columnheader', { name: 'Value' }).waitFor();
    await table.getByRole('cell').filter({ hasText: /^\d+(\.\d+)?(e[-+]?\d+)?$/ }).first().waitFor();
  });

  it('creates a silence on the alerts page and expires it', T, async () => {
    const comment = `e2e silence ${Date.now()}`;
    await page.goto('/alerts');
    await page.getByRole('heading', { name: 'Alerts', level: 1 }).waitFor();
    await page.getByText('AlwaysFiring').first().waitFor();
    await page.getByRole('button', { name: 'New silence' }).click();
    const form = page.getByRole('form', { name: 'New silence' });
    await form.getByLabel('Label name 1').fill('alertname');
    await form.getByLabel('Value 1').fill('AlwaysFiring');
    await form.getByLabel('Comment').fill(comment);
    // The form says which firing alerts it would mute.
    await form.getByText(/Silences 1 alert firing now: AlwaysFiring/).waitFor();
    await form.getByRole('button', { name: 'Create silence' }).click();
    const row = page.getByRole('row').filter({ hasText: comment });
    await row.waitFor();
    await row.getByText('Active').waitFor();
    let silences = await apiData(context, '/api/v2/silences');
    const s = silences.find((x) => x.comment === comment);
    assert.ok(s, 'the silence exists');
    assert.equal(s.status.state, 'active');
    assert.equal(s.createdBy, 'admin');
    await screenshot(page, SHOTS, 'alerts-silences');

    await row.getByRole('button', { name: 'Expire' }).click();
    await row.getByRole('group', { name: 'Confirm' }).getByRole('button', { name: 'Yes, expire' }).click();
    await row.waitFor({ state: 'detached' }); // expired silences are hidden by default
    silences = await apiData(context, '/api/v2/silences');
    assert.equal(silences.find((x) => x.id === s.id).status.state, 'expired');
  });

  it('acknowledges an incident on its page', T, async () => {
    await page.goto('/incidents/' + ids.incident);
    await page.getByRole('heading', { level: 1 }).filter({ hasText: 'AlwaysFiring' }).waitFor();
    await page.getByRole('button', { name: 'Acknowledge', exact: true }).click();
    // The page follows: no more Acknowledge button, and who took it.
    await page.getByRole('button', { name: 'Acknowledge', exact: true }).waitFor({ state: 'detached' });
    await page.locator('dd').filter({ hasText: 'admin' }).first().waitFor();
    const inc = await apiData(context, '/api/v1/incidents/' + ids.incident);
    const i = inc.incident ?? inc;
    assert.equal(i.status, 'acknowledged');
    assert.equal(i.acknowledged_by, 'admin');
  });

  it('screenshots every page at 1280×800', T, async () => {
    for (const [name, path] of pages(ids)) {
      await page.goto(path);
      await screenshot(page, SHOTS, name);
      // Never a blank page or an unhandled error.
      const text = await page.locator('main').innerText();
      assert.ok(text.trim().length > 0, `${path} shows nothing`);
    }
  });

  it('logs out', T, async () => {
    await page.goto('/');
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL((u) => u.pathname === '/login');
    const r = await apiCall(context, 'GET', '/api/v1/auth/session');
    assert.equal(r.status, 401, 'the session has ended');
    await page.goto('/');
    await page.waitForURL((u) => u.pathname === '/login');
  });

  it('threw no uncaught errors in the pages', () => {
    assert.deepEqual(pageErrors, []);
  });
});

describe('support user', { skip: !SUPPORT_USER && 'SAYPRO_SUPPORT_USER is not set' }, () => {
  let context;
  let page;

  const pageErrors = [];

  before(async () => {
    context = await newContext(browser, BASE, DESKTOP);
    page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(`${page.url()}: ${e.message}`));
  });
  after(async () => {
    await context?.close();
  });

  it('logs in and sees the overview, alerts and incidents', T, async () => {
    await loginUI(page, SUPPORT_USER, SUPPORT_PASSWORD);
    await page.getByRole('navigation', { name: 'Main' }).getByTitle('Your role').filter({ hasText: 'support' }).waitFor();
    // Admin pages are not offered.
    assert.equal(await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: /admin/i }).count(), 0);

    await page.goto('/');
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    await page.getByRole('link', { name: /: Up$/ }).first().waitFor();
    await settle(page);
    await page.goto('/alerts');
    await page.getByRole('heading', { name: /alerts/i, level: 1 }).waitFor();
    await page.getByText('AlwaysFiring').first().waitFor();
    await settle(page);
    await page.goto('/incidents');
    await page.getByRole('heading', { name: /incidents/i, level: 1 }).waitFor();
    await page.getByText('AlwaysFiring').first().waitFor();
    await settle(page);
  });

  it('is refused a write: creating a silence', T, async () => {
    await page.goto('/alerts');
    await page.getByRole('heading', { name: /alerts/i, level: 1 }).waitFor();
    await settle(page);
    // Controls the role lacks are hidden (the contract); should one be
    // offered anyway, using it must show the server's refusal.
    const control = page.getByRole('button', { name: /new silence|create silence|add silence/i });
    if ((await control.count()) > 0 && (await control.first().isEnabled())) {
      // The control is offered: using it must show the server's refusal.
      await control.first().click();
      const form = page.locator('form').filter({ has: page.getByRole('button', { name: /create|save/i }) }).last();
      await form.getByRole('textbox', { name: /matchers?/i }).first().fill('alertname="AlwaysFiring"');
      await form.getByRole('textbox', { name: /comment|reason/i }).first().fill('support may not');
      await form.getByRole('button', { name: /create|save/i }).first().click();
      await page.getByText('Your role (support) may not do this').first().waitFor();
    }
    // The server is the real guard: a direct write with the session is refused.
    const now = Date.now();
    const r = await apiCall(context, 'POST', '/api/v2/silences', {
      matchers: [{ name: 'alertname', value: 'AlwaysFiring', isRegex: false, isEqual: true }],
      startsAt: new Date(now).toISOString(),
      endsAt: new Date(now + 3600_000).toISOString(),
      createdBy: SUPPORT_USER,
      comment: 'support may not',
    });
    assert.equal(r.status, 403, `POST /api/v2/silences as support: ${r.status} ${r.text}`);
    // Nor may it list users: the page says so, and so does the server.
    await page.goto('/admin/users');
    await page.getByRole('alert').filter({ hasText: 'Your role (support) may not' }).waitFor();
    assert.equal((await apiCall(context, 'GET', '/api/v1/users')).status, 403);
  });

  it('logs out', T, async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL((u) => u.pathname === '/login');
    assert.equal((await apiCall(context, 'GET', '/api/v1/auth/session')).status, 401);
  });

  it('threw no uncaught errors in the pages', () => {
    assert.deepEqual(pageErrors, []);
  });
});

/**
 * Sends log lines to the server by the first means the environment offers:
 * an agent token (a log batch to the agent endpoint), the syslog listener
 * (RFC 5424 messages, one datagram or newline-framed TCP line each), or a
 * file the server's own agent tails (RFC 3339 stamped syslog file lines).
 * Returns false when there is none.
 */
async function sendLogLines(host, app, lines) {
  const now = new Date();
  const token = env('SAYPRO_AGENT_TOKEN', '');
  if (token) {
    const res = await fetch(BASE + '/api/v1/agent/logs', {
      method: 'POST',
      headers: { Authorization: 'Bearer ' + token, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        host,
        entries: lines.map((l) => ({ time: now.toISOString(), source: 'syslog', file: '/var/log/syslog', format: 'syslog', message: `${now.toISOString()} ${host} ${app}[4242]: ${l}` })),
      }),
    });
    assert.ok(res.status === 204 || res.status === 200, `POST /api/v1/agent/logs: ${res.status} ${await res.text()}`);
    return true;
  }
  const addr = env('SAYPRO_SYSLOG_ADDR', '');
  if (addr) {
    const u = new URL(addr.includes('://') ? addr : 'udp://' + addr);
    const msgs = lines.map((l) => `<14>1 ${now.toISOString()} ${host} ${app} 4242 - - ${l}`);
    if (u.protocol === 'tcp:') {
      await new Promise((resolve, reject) => {
        const c = connect(Number(u.port), u.hostname, () => c.end(msgs.map((m) => m + '\n').join(''), resolve));
        c.on('error', reject);
      });
    } else {
      const sock = createSocket(u.hostname.includes(':') ? 'udp6' : 'udp4');
      for (const m of msgs) await new Promise((resolve, reject) => sock.send(m, Number(u.port), u.hostname, (e) => (e ? reject(e) : resolve())));
      sock.close();
    }
    return true;
  }
  const file = env('SAYPRO_LOG_FILE', '');
  if (file) {
    appendFileSync(file, lines.map((l) => `${now.toISOString()} ${host} ${app}[4242]: ${l}\n`).join(''));
    return true;
  }
  return false;
}

/** Waits until the logs histogram has bars drawn: pixels of the severities' colours (from its legend) or of the single series. */
async function waitForBars(page, timeout = 30_000) {
  await page.waitForFunction(
    () => {
      const canvas = document.querySelector('.log-hist .uplot canvas');
      if (!canvas || !canvas.width) return false;
      const parse = (c) => (c.match(/\d+/g) ?? []).slice(0, 3).map(Number);
      const colours = [[37, 99, 235], ...[...document.querySelectorAll('.log-hist .log-swatch')].map((el) => parse(getComputedStyle(el).backgroundColor))];
      const d = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let hits = 0;
      for (let i = 0; i < d.length && hits <= 20; i += 4) {
        if (d[i + 3] < 200) continue;
        if (colours.some(([r, g, b]) => Math.abs(d[i] - r) + Math.abs(d[i + 1] - g) + Math.abs(d[i + 2] - b) < 12)) hits++;
      }
      return hits > 20;
    },
    undefined,
    { timeout, polling: 250 },
  );
}

describe('logs', () => {
  let context;
  let page;
  let skip = '';
  const pageErrors = [];

  before(async () => {
    context = await newContext(browser, BASE, DESKTOP);
    page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(`${page.url()}: ${e.message}`));
    await loginUI(page, 'admin', ADMIN_PASSWORD);
    const r = await apiCall(context, 'GET', '/api/v1/logs/status');
    if (r.status !== 200) skip = `GET /api/v1/logs/status answered ${r.status}: this server has no log store`;
  });
  after(async () => {
    await context?.close();
  });

  it('searches logs, draws the histogram, zooms and tails new entries live', T, async (t) => {
    if (skip) return t.skip(skip);
    const host = env('SAYPRO_HOST', '') || 'e2e-host';
    const tag = 'e2e' + Date.now().toString(36);
    const sent = await sendLogLines(host, 'e2eapp', [`${tag} apple order placed`, `${tag} banana payment failed`, `${tag} apple stock low`]);
    if (!sent) return t.skip('no way to send log lines: set SAYPRO_AGENT_TOKEN, SAYPRO_SYSLOG_ADDR or SAYPRO_LOG_FILE');
    // Stored and searchable before the page is opened.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const r = await apiData(context, `/api/v1/logs/query?q=${tag}&limit=10`);
      if ((r.entries ?? []).length >= 3) break;
      assert.ok(Date.now() < deadline, `the 3 lines tagged ${tag} were not searchable within 60 s: ${JSON.stringify(r)}`);
      await new Promise((res) => setTimeout(res, 500));
    }

    // The page shows entries and the histogram.
    await page.goto('/logs');
    await page.getByRole('heading', { name: 'Logs', level: 1 }).waitFor();
    const rows = page.locator('table.log-table tbody tr.log-row');
    await rows.first().waitFor();
    await waitForBars(page);

    // A search term narrows the list, and is kept in the URL.
    const search = page.getByRole('searchbox', { name: 'Search' });
    await search.fill(tag);
    await page.waitForFunction((tag) => {
      const msgs = [...document.querySelectorAll('table.log-table tbody tr.log-row .log-msg')].map((e) => e.textContent);
      return msgs.length === 3 && msgs.every((m) => m.includes(tag));
    }, tag);
    await search.fill(`${tag} apple`);
    await page.waitForFunction(() => document.querySelectorAll('table.log-table tbody tr.log-row').length === 2);
    assert.deepEqual((await rows.locator('.log-msg').allTextContents()).map((m) => m.includes('apple')), [true, true]);
    assert.equal(new URL(page.url()).searchParams.get('q'), `${tag} apple`);

    // An entry expands to its fields; a field's value adds a filter.
    await rows.first().getByRole('button', { expanded: false }).click();
    const detail = page.locator('tr.log-detail').first();
    await detail.getByText('host', { exact: true }).waitFor();
    await detail.getByRole('button', { name: host, exact: true }).first().click();
    await page.waitForURL((u) => u.searchParams.getAll('host').includes(host));
    await page.getByRole('list', { name: 'Active filters' }).getByText(`host=${host}`).waitFor();
    await page.waitForFunction(() => document.querySelectorAll('table.log-table tbody tr.log-row').length === 2);
    await screenshot(page, SHOTS, 'logs-search');

    // Dragging across the histogram zooms into that time.
    await waitForBars(page);
    const over = await page.locator('.log-hist .u-over').boundingBox();
    await page.mouse.move(over.x + over.width * 0.4, over.y + over.height / 2);
    await page.mouse.down();
    await page.mouse.move(over.x + over.width * 0.999, over.y + over.height / 2, { steps: 8 });
    await page.mouse.up();
    await page.waitForURL((u) => u.searchParams.has('from') && u.searchParams.has('to'));
    await page.getByRole('button', { name: 'reset zoom' }).waitFor();

    // Live tail: a new line appears at the top without reloading.
    await page.getByRole('button', { name: 'Live tail' }).click();
    await page.waitForURL((u) => u.searchParams.get('live') === '1');
    await page.locator('.log-live .al-live.open').waitFor();
    await sendLogLines(host, 'e2eapp', [`${tag} apple arrived live`]);
    await rows.first().filter({ hasText: `${tag} apple arrived live` }).waitFor({ timeout: 30_000 });
    assert.equal(await rows.count(), 3);
    await screenshot(page, SHOTS, 'logs-live');

    // The same page on a phone: no sideways scrolling.
    const phone = await browser.newContext({ baseURL: BASE, viewport: PHONE, deviceScaleFactor: 1, storageState: await context.storageState() });
    try {
      const p = await phone.newPage();
      await p.goto(`/logs?q=${tag}`);
      await p.locator('table.log-table tbody tr.log-row').first().waitFor();
      await screenshot(p, SHOTS, 'logs-phone');
      const { scroll, client } = await p.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
      assert.ok(scroll <= client + 1, `the logs page scrolls sideways on a phone: ${scroll} px wide in ${client} px`);
    } finally {
      await phone.close();
    }
  });

  it('threw no uncaught errors in the pages', () => {
    assert.deepEqual(pageErrors, []);
  });
});
