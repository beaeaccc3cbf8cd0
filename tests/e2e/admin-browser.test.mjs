// The admin web page (/admin) in a real browser: Debian's chromium driven by playwright-core,
// against the real gemgate binary and the stand-in upstream. One operator session walks through
// login, dashboard, adding keys, a key disabled by the upstream, bulk actions on 1000+ keys,
// settings validation, log filters, client tokens and logout; a second run checks the Chinese UI.
// Every step saves a screenshot in tests/artifacts/screenshots/ (kept as test artifacts).
// Needs `npm ci` in tests/ and /usr/bin/chromium.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {startStack, requestUntil} from '../support/stack.mjs';
import {poolKey, clientToken, call, generate, eventually} from '../support/gateway.mjs';
import {launchBrowser, openPage as openPageIn, shot, stepper, login, pollKeys, gotoView, logRows}
  from './support/admin-page.mjs';

const ADMIN_TOKEN = 'e2e-admin-token-Zq81Lm42Xc09Vb77';
const PERF_KEYS = 1200;

let fake, s, browser;
const validKey = poolKey('Valid');
const clientTok = clientToken('browser');

before(async () => {
  browser = await launchBrowser();
  fake = await startFakeGemini();
  s = await startStack({fake, keys: [validKey], tokens: [clientTok], authToken: ADMIN_TOKEN});
});

after(async () => {
  await browser?.close();
  await s?.close();
  await fake?.close();
});

/** The admin API as a script calls it (Bearer), for setting up and cross-checking. */
function adminApi(p, opts = {}) {
  return call(s.gw, `/admin/api/${p}`, {...opts, headers: {authorization: `Bearer ${ADMIN_TOKEN}`, ...opts.headers}});
}

const openPage = (locale) => openPageIn(browser, s.gw.url, locale);

test('operator session in English', {timeout: 240000}, async (t) => {
  const step = stepper(t);
  const {context, page} = await openPage('en-US');
  const invalidKey = poolKey('Invalid');
  const validKey2 = poolKey('Valid');
  let invalidId = null;
  let cookieBeforeLogout = null;

  await step('01 /admin without a session goes to the login page; a wrong token is refused', async () => {
    const res = await page.goto('/admin');
    assert.equal(new URL(page.url()).pathname, '/admin/login', 'redirected to the login page');
    assert.equal(res.status(), 200);
    await page.getByTestId('login-token').fill('not-the-admin-token');
    await page.getByTestId('login-submit').click();
    const err = page.getByTestId('login-error');
    await err.waitFor({state: 'visible'});
    assert.match(await err.textContent(), /wrong admin token/i);
    assert.equal(new URL(page.url()).pathname, '/admin/login');
    await shot(page, 'en-01-login-wrong-token');
  });

  await step('02 the right token opens the dashboard', async () => {
    await page.getByTestId('login-token').fill(ADMIN_TOKEN);
    await page.getByTestId('login-submit').click();
    await page.waitForURL((u) => u.pathname === '/admin' || u.pathname === '/admin/');
    await page.locator('[data-testid=view-dashboard][data-loaded=true]').waitFor();
    assert.equal((await page.getByTestId('count-all').locator('.card-value').textContent()).trim(), '1');
    assert.equal((await page.getByTestId('count-active').locator('.card-value').textContent()).trim(), '1');
    assert.equal(await page.locator('[data-testid=chart-requests] svg').count(), 1, 'requests chart drawn');
    assert.equal(await page.locator('[data-testid=chart-tokens] svg').count(), 1, 'tokens chart drawn');
    const cookies = await context.cookies();
    const sess = cookies.find((c) => c.name === 'gemgate_session');
    assert.ok(sess, 'session cookie set');
    assert.ok(sess.httpOnly, 'session cookie is HttpOnly');
    assert.equal(sess.sameSite, 'Strict');
    cookieBeforeLogout = `${sess.name}=${sess.value}`;
    await shot(page, 'en-02-dashboard-empty');
  });

  await step('03 the add-keys dialog reports added, duplicates and rejected', async () => {
    await gotoView(page, 'keys');
    await page.getByTestId('add-keys').click();
    const dialog = page.getByTestId('add-keys-dialog');
    await dialog.waitFor();
    const malformed = `AIza${'x'.repeat(300)}`;  // longer than any key may be
    await page.getByTestId('add-keys-input').fill(`${validKey2}\n${invalidKey}, ${validKey}\n${malformed}`);
    assert.match(await page.getByTestId('add-keys-count').textContent(), /4/);
    await page.getByTestId('add-keys-submit').click();
    await page.getByTestId('add-keys-result').waitFor({state: 'visible'});
    const num = async (id) => (await page.getByTestId(id).locator('.stat-value').textContent()).trim();
    assert.equal(await num('add-added'), '2');
    assert.equal(await num('add-duplicates'), '1');
    assert.equal(await num('add-rejected'), '1');
    const rejected = await page.getByTestId('add-rejected-list').locator('li').allTextContents();
    assert.equal(rejected.length, 1);
    assert.match(rejected[0], /Item 4/, 'the 4th pasted item is the rejected one');
    assert.ok(!rejected[0].includes(malformed), 'the rejected text is masked, not repeated');
    await shot(page, 'en-03-add-keys-result');
    await page.getByTestId('add-keys-close').click();
    await dialog.waitFor({state: 'detached'});
    const rows = await pollKeys(page, (r) => r.length === 3, 'three keys listed');
    assert.ok(rows.every((r) => r.status === 'active'));
    assert.equal((await page.getByTestId('tab-all').locator('.tab-count').textContent()).trim(), '3');
  });

  await step('04 traffic through the gateway disables the invalid key; the table shows it', async () => {
    // Client calls until the gateway has tried the invalid key (it fails over to a valid one).
    await requestUntil(s, () => fake.callsFor(invalidKey) > 0, {max: 30, allowErrors: true});
    for (let i = 0; i < 4; i++) await generate(s.gw, `more traffic ${i}`, {token: clientTok});
    await page.getByTestId('key-search').fill(invalidKey.slice(0, 16));  // ≥ 12 characters of a key
    const rows = await pollKeys(page, (r) => r.length === 1 && r[0].status === 'disabled',
                                'the invalid key shown as disabled');
    invalidId = rows[0].id;
    assert.ok(rows[0].reason.trim() && rows[0].reason.trim() !== '—', `a reason is shown (${rows[0].reason})`);
    assert.match(rows[0].reason, /invalid/i);
    await shot(page, 'en-04-key-disabled');
    await page.getByTestId('key-search').fill('');
    await pollKeys(page, (r) => r.length === 3, 'search cleared');
    assert.equal((await page.getByTestId('tab-disabled').locator('.tab-count').textContent()).trim(), '1');
    await page.getByTestId('tab-disabled').click();
    const dis = await pollKeys(page, (r) => r.length === 1, 'the disabled tab lists one key');
    assert.equal(dis[0].id, invalidId);
    await page.getByTestId('tab-all').click();
    await pollKeys(page, (r) => r.length === 3, 'all keys again');
  });

  await step('05 bulk verify on the selected page shows progress and a summary with the failure', async () => {
    await page.getByTestId('select-page').check();
    assert.match(await page.getByTestId('bulk-count').textContent(), /3 selected/);
    await page.getByTestId('bulk-verify').click();
    await page.getByTestId('bulk-dialog').waitFor();
    await page.getByTestId('bulk-summary').waitFor({state: 'visible', timeout: 30000});
    const num = async (id) => (await page.getByTestId(id).locator('.stat-value').textContent()).trim();
    assert.equal(await num('bulk-succeeded'), '2');
    assert.equal(await num('bulk-failed'), '1');
    const failures = await page.getByTestId('bulk-failures').locator('li').allTextContents();
    assert.equal(failures.length, 1);
    assert.ok(failures[0].includes(`#${invalidId}`), `the failure names key #${invalidId}: ${failures[0]}`);
    assert.equal(await page.getByTestId('bulk-progress').evaluate((p) => p.value === p.max), true);
    await shot(page, 'en-05-bulk-verify-summary');
    await page.getByTestId('bulk-close').click();
    await page.getByTestId('bulk-bar').waitFor({state: 'hidden'});  // the selection is cleared
  });

  await step('06 per-row actions: disable, enable, reset, verify, and delete after a confirmation', async () => {
    const spare = poolKey('Spare');
    assert.ok((await adminApi('keys', {body: {keys: [spare]}})).json.added === 1);
    await page.getByTestId('key-search').fill(spare);
    let [row] = await pollKeys(page, (r) => r.length === 1, 'the spare key listed');
    const tr = page.locator(`[data-testid=key-row][data-key-id="${row.id}"]`);
    const toastSays = async (re) => page.locator('.toast', {hasText: re}).last().waitFor();
    await tr.getByTestId('row-disable').click();
    await toastSays(new RegExp(`#${row.id} disabled`));
    [row] = await pollKeys(page, (r) => r[0]?.status === 'disabled', 'spare key disabled');
    assert.match(row.reason, /admin/i, `reason says the admin did it: ${row.reason}`);
    await tr.getByTestId('row-enable').click();
    [row] = await pollKeys(page, (r) => r[0]?.status === 'active', 'spare key enabled again');
    await tr.getByTestId('row-reset').click();
    await toastSays(new RegExp(`#${row.id} reset`));
    await tr.getByTestId('row-verify').click();
    await toastSays(new RegExp(`#${row.id} works`));
    await tr.getByTestId('row-delete').click();
    await page.getByTestId('confirm-dialog').waitFor();
    await shot(page, 'en-06-row-delete-confirm');
    await page.getByTestId('confirm-cancel').click();
    await pollKeys(page, (r) => r.length === 1, 'cancel keeps the key');
    await tr.getByTestId('row-delete').click();
    await page.getByTestId('confirm-ok').click();
    await pollKeys(page, (r) => r.length === 0, 'the spare key deleted');
    const left = (await adminApi(`keys?q=${encodeURIComponent(spare)}`)).json;
    assert.equal(left.total, 0, 'deleted on the server');
    await page.getByTestId('key-search').fill('');
    await pollKeys(page, (r) => r.length === 3, 'three keys again');
  });

  await step(`07 ${PERF_KEYS} more keys: paging, search and "all matching" bulk stay fast`, async () => {
    const perf = Array.from({length: PERF_KEYS}, () => poolKey('Perf'));
    const add = await adminApi('keys', {body: {text: perf.join('\n')}});
    assert.ok(add.status === 200 || add.status === 201, `POST /admin/api/keys: ${add.status} ${add.text.slice(0, 200)}`);
    assert.equal(add.json.added, PERF_KEYS);
    let t0 = Date.now();
    await page.reload();
    await page.locator('[data-testid=key-row]').first().waitFor();
    await page.locator('[data-testid=view-keys]:not([data-loading])').waitFor();
    const loadMs = Date.now() - t0;
    assert.equal(await page.locator('[data-testid=key-row]').count(), 50, 'only one page in the DOM');
    assert.equal((await page.getByTestId('tab-all').locator('.tab-count').textContent()).trim(), (PERF_KEYS + 3).toLocaleString('en'));
    t0 = Date.now();
    await page.getByTestId('pager-next').click();  // sets data-loading before it returns
    await page.locator('[data-testid=view-keys]:not([data-loading])').waitFor();
    const pageMs = Date.now() - t0;
    assert.equal(await page.locator('[data-testid=pager] .pager-input').inputValue(), '2');
    assert.equal(await page.locator('[data-testid=key-row]').count(), 50);
    t0 = Date.now();
    await page.getByTestId('key-search').fill(perf[777].slice(-12));
    await pollKeys(page, (r) => r.length === 1, 'search finds one key among many', 5000);
    const searchMs = Date.now() - t0;
    t.diagnostic(`${PERF_KEYS + 3} keys: first page ${loadMs} ms, next page ${pageMs} ms, search ${searchMs} ms`);
    assert.ok(loadMs < 3000 && pageMs < 2000 && searchMs < 3000, 'interactive at 1000+ keys');
    // Select every key matching "Perf" (more than one page) and disable them in one bulk action.
    await page.getByTestId('key-search').fill('AIzaSyPerf');
    await pollKeys(page, (r) => r.length === 50, 'a full page of Perf keys', 5000);
    await page.getByTestId('select-page').check();
    await page.getByTestId('select-all-matching').click();
    assert.match(await page.getByTestId('bulk-count').textContent(), new RegExp(`All ${PERF_KEYS.toLocaleString('en')} matching`));
    await page.getByTestId('bulk-disable').click();
    await page.getByTestId('confirm-ok').click();
    await page.getByTestId('bulk-summary').waitFor({state: 'visible', timeout: 60000});
    assert.equal((await page.getByTestId('bulk-succeeded').locator('.stat-value').textContent()).trim(),
                 PERF_KEYS.toLocaleString('en'));
    assert.equal((await page.getByTestId('bulk-failed').locator('.stat-value').textContent()).trim(), '0');
    await shot(page, 'en-07-bulk-disable-all-matching');
    await page.getByTestId('bulk-close').click();
    const counts = (await adminApi('keys?status=disabled&per_page=1')).json;
    assert.equal(counts.counts.disabled, PERF_KEYS + 1, 'the server has them all disabled');
    // Delete them again (also through "all matching") so the pool is small for the next steps.
    await page.getByTestId('key-search').fill('AIzaSyPerf');
    await pollKeys(page, (r) => r.length === 50 && r.every((k) => k.status === 'disabled'), 'perf keys disabled', 5000);
    await page.getByTestId('select-page').check();
    await page.getByTestId('select-all-matching').click();
    await page.getByTestId('bulk-delete').click();
    await page.getByTestId('confirm-ok').click();
    await page.getByTestId('bulk-summary').waitFor({state: 'visible', timeout: 60000});
    await page.getByTestId('bulk-close').click();
    await page.getByTestId('key-search').fill('');
    await pollKeys(page, (r) => r.length === 3, 'back to three keys', 5000);
  });

  await step('08 settings: a bad value shows the server\'s message next to the field; a good one is saved', async () => {
    await gotoView(page, 'settings');
    await page.locator('[data-testid=view-settings][data-loaded=true]').waitFor();
    const input = page.getByTestId('setting-max_retries');
    await input.fill('-1');
    const [resp] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/admin/api/settings') && r.request().method() === 'PATCH'),
      page.getByTestId('settings-save').click(),
    ]);
    assert.equal(resp.status(), 400, 'the server refuses -1');
    const body = await resp.json();
    assert.equal(body.error.field, 'max_retries', 'the error names the field');
    const err = page.getByTestId('error-max_retries');
    await err.waitFor({state: 'visible'});
    assert.equal((await err.textContent()).trim(), body.error.message, 'the server\'s message is shown');
    await shot(page, 'en-08-settings-validation-error');
    await input.fill('5');
    const [ok] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/admin/api/settings') && r.request().method() === 'PATCH'),
      page.getByTestId('settings-save').click(),
    ]);
    assert.equal(ok.status(), 200);
    assert.deepEqual(JSON.parse(ok.request().postData()), {max_retries: 5}, 'only the changed field is sent');
    const stored = (await adminApi('settings')).json.items.find((i) => i.name === 'max_retries');
    assert.equal(stored.value, 5);
    assert.equal(stored.overridden, true);
    await page.reload();
    await page.locator('[data-testid=view-settings][data-loaded=true]').waitFor();
    assert.equal(await page.getByTestId('setting-max_retries').inputValue(), '5');
    assert.equal(await page.getByTestId('error-max_retries').isVisible(), false);
    await shot(page, 'en-09-settings-saved');
  });

  await step('09 the dashboard shows the traffic, the failures and the busiest keys', async () => {
    await gotoView(page, 'dashboard');
    await page.locator('[data-testid=view-dashboard][data-loaded=true]').waitFor();
    const stats = (await adminApi('stats?window=1h')).json;
    const shown = (await page.getByTestId('w-1h-requests').locator('.metric-value').textContent()).trim();
    assert.ok(stats.totals.requests >= 5, `the gateway counted the traffic (${stats.totals.requests})`);
    assert.ok(Number(shown.replace(/,/g, '')) >= 5, `1 h requests shown: ${shown}`);
    assert.ok(await page.locator('[data-testid=chart-requests] rect.chart-bar').count() > 0, 'bars drawn');
    assert.ok(await page.locator('[data-testid=chart-tokens] path.chart-line').count() === 1, 'token line drawn');
    assert.ok(await page.locator('[data-testid=top-keys] tbody a').count() >= 1, 'top keys listed');
    assert.match(await page.getByTestId('top-models').textContent(), /gemini-2\.5-flash/);
    assert.equal((await page.getByTestId('count-disabled').locator('.card-value').textContent()).trim(), '1');
    await page.getByTestId('chart-tab-24h').click();
    await page.locator('[data-testid=chart-tab-24h][aria-selected=true]').waitFor();
    await shot(page, 'en-10-dashboard-traffic');
  });

  await step('10 logs: filter the error log by key and the request log by status class', async () => {
    await gotoView(page, 'logs');
    let rows = await eventually(async () => {
      await page.getByTestId('logs-refresh').click();
      const r = await logRows(page);
      return r.length >= 5 ? r : null;
    }, {timeoutMs: 15000, intervalMs: 500, what: 'request log rows'});
    await page.getByTestId('filter-status').fill('2xx');
    await page.getByTestId('filter-apply').click();
    rows = await logRows(page);
    assert.ok(rows.length >= 5, 'successful requests listed');
    assert.ok(rows.every((r) => /^2\d\d$/.test(r.status)), `only 2xx: ${rows.map((r) => r.status)}`);
    await page.getByTestId('filter-status').fill('5xx');
    await page.getByTestId('filter-apply').click();
    rows = await logRows(page);
    assert.ok(rows.every((r) => /^5\d\d$/.test(r.status)), 'only 5xx (or none)');
    await page.getByTestId('filter-status').fill('abc');
    await page.getByTestId('filter-apply').click();
    await page.getByTestId('filter-error').waitFor({state: 'visible'});
    await page.getByTestId('filter-clear').click();
    await page.getByTestId('logs-tab-error').click();
    await page.getByTestId('filter-key').fill(String(invalidId));
    await page.getByTestId('filter-apply').click();
    rows = await eventually(async () => {
      const r = await logRows(page);
      if (r.length >= 1) return r;
      await page.getByTestId('logs-refresh').click();
      return null;
    }, {timeoutMs: 10000, intervalMs: 500, what: 'error log rows of the invalid key'});
    assert.ok(rows.every((r) => r.key === `#${invalidId}`), `only key #${invalidId}: ${rows.map((r) => r.key)}`);
    await shot(page, 'en-11-logs-error-by-key');
    await page.getByTestId('logs-tab-request').click();
    await page.getByTestId('filter-key').fill('');
    await page.getByTestId('filter-status').fill('2xx');
    await page.getByTestId('filter-apply').click();
    await logRows(page);
    await shot(page, 'en-12-logs-requests-2xx');
  });

  await step('11 a new client token is shown once, works, and is masked afterwards', async () => {
    await gotoView(page, 'tokens');
    await page.locator('[data-testid=view-tokens][data-loaded=true]').waitFor();
    await page.getByTestId('token-label').fill('e2e browser');
    await page.getByTestId('token-create').click();
    await page.getByTestId('new-token-dialog').waitFor();
    const token = await page.getByTestId('new-token-value').inputValue();
    assert.ok(token.length >= 16, 'a full token is shown');
    assert.match(await page.getByTestId('new-token-dialog').textContent(), /will not be shown again/);
    await page.getByTestId('copy-token').click();
    await page.getByTestId('copy-status').filter({hasText: /./}).waitFor();
    await shot(page, 'en-13-token-created-once');
    const r = await generate(s.gw, 'hello with the new token', {token});
    assert.equal(r.status, 200, 'the new token is accepted by the gateway');
    await page.getByTestId('new-token-close').click();
    await page.getByTestId('new-token-dialog').waitFor({state: 'detached'});
    const row = page.locator('[data-testid=token-row]', {hasText: 'e2e browser'});
    await row.waitFor();
    const masked = await row.locator('code').textContent();
    assert.equal(masked, `${token.slice(0, 4)}…${token.slice(-4)}`);
    assert.ok(!(await page.content()).includes(token), 'the full token is gone from the page');
    const storage = await page.evaluate(() => JSON.stringify({...localStorage, ...sessionStorage}));
    assert.ok(!storage.includes(token) && !storage.includes(ADMIN_TOKEN), 'no secret in web storage');
    assert.ok(!page.url().includes(token));
    await shot(page, 'en-14-tokens-list');
  });

  await step('12 the session cookie alone cannot change anything (CSRF rule)', async () => {
    // A form post from another site would carry the cookie but not a JSON content type.
    const status = await page.evaluate(async () => (await fetch('/admin/api/tokens', {
      method: 'POST', credentials: 'same-origin', headers: {'content-type': 'text/plain'},
      body: '{"label":"csrf"}'})).status);
    assert.equal(status, 403);
    const tokens = (await adminApi('tokens')).json.items;
    assert.ok(!tokens.some((x) => x.label === 'csrf'), 'no token was created');
  });

  await step('13 logout ends the session for good', async () => {
    await page.getByTestId('logout').click();
    await page.waitForURL((u) => u.pathname === '/admin/login');
    await page.goto('/admin');
    assert.equal(new URL(page.url()).pathname, '/admin/login', '/admin needs a new login');
    const api = await page.evaluate(async () => (await fetch('/admin/api/session')).status);
    assert.equal(api, 401);
    const replay = await call(s.gw, '/admin/api/keys', {headers: {cookie: cookieBeforeLogout}});
    assert.equal(replay.status, 401, 'the old session cookie is revoked on the server');
    await shot(page, 'en-15-logged-out');
  });

  await step('14 no script error or CSP violation on any page', async () => {
    assert.deepEqual(page.problems, []);
  });
  await context.close();
});

test('the UI follows a Chinese browser and the language switch', {timeout: 120000}, async (t) => {
  const step = stepper(t);
  const {context, page} = await openPage('zh-CN');

  await step('01 the login page is in Chinese', async () => {
    await page.goto('/admin/login');
    await page.getByTestId('login-submit').waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'zh-CN');
    assert.equal((await page.locator('h1').textContent()).trim(), '登录');
    await page.getByTestId('login-token').fill('wrong');
    await page.getByTestId('login-submit').click();
    await page.getByTestId('login-error').waitFor({state: 'visible'});
    assert.equal((await page.getByTestId('login-error').textContent()).trim(), '管理令牌错误。');
    await shot(page, 'zh-01-login');
  });

  await step('02 dashboard, keys, settings and logs are in Chinese', async () => {
    await login(page, ADMIN_TOKEN);
    await page.locator('[data-testid=view-dashboard][data-loaded=true]').waitFor();
    const nav = await page.locator('.nav a').allTextContents();
    assert.deepEqual(nav, ['概览', '密钥', '客户端令牌', '设置', '日志']);
    assert.equal((await page.getByTestId('logout').textContent()).trim(), '退出登录');
    assert.match(await page.getByTestId('window-1h').textContent(), /最近 1 小时/);
    await shot(page, 'zh-02-dashboard');
    await gotoView(page, 'keys');
    await page.locator('[data-testid=key-row]').first().waitFor();
    assert.match(await page.getByTestId('status-tabs').textContent(), /全部.*可用.*冷却中.*已禁用/);
    assert.equal((await page.getByTestId('add-keys').textContent()).trim(), '添加密钥');
    const badge = await page.locator('[data-testid=key-row] .badge').first().textContent();
    assert.match(badge.trim(), /^(可用|冷却中|已禁用)$/);
    await shot(page, 'zh-03-keys');
    await gotoView(page, 'settings');
    await page.locator('[data-testid=view-settings][data-loaded=true]').waitFor();
    assert.equal((await page.getByTestId('settings-save').textContent()).trim(), '保存修改');
    await shot(page, 'zh-04-settings');
    await gotoView(page, 'logs');
    await logRows(page);
    assert.equal((await page.getByTestId('logs-tab-request').textContent()).trim(), '请求日志');
    await shot(page, 'zh-05-logs');
  });

  await step('03 switching to English is remembered across reloads', async () => {
    await page.getByTestId('lang-select').selectOption('en');
    await page.locator('.nav a[data-view=keys]', {hasText: 'Keys'}).waitFor();
    await page.reload();
    await page.getByTestId('view-logs').waitFor();
    assert.equal((await page.locator('.nav a[data-view=keys]').textContent()).trim(), 'Keys');
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
    await page.getByTestId('lang-select').selectOption('zh-CN');
    await page.locator('.nav a[data-view=keys]', {hasText: '密钥'}).waitFor();
  });

  await step('04 no script error or CSP violation', async () => {
    assert.deepEqual(page.problems, []);
  });
  await context.close();
});
