// The admin page at a desktop (1440x900) and a phone (390x844) width, in English and Chinese,
// against traffic with failures: every navigation tab reachable and clickable, no sideways
// overflow of the page or of the logs table (its error column visible), settings grouped with
// labels and descriptions in the chosen language, Google's error text in the request log, a
// key's drill-down listing that key's failed attempts, a key cooling for one model showing the
// model and until when, and no "—" row in the Models table. Screenshots of each view in each
// size and language go to tests/artifacts/screenshots/views-<lang>-<width>-<view>.png.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {startStack} from '../support/stack.mjs';
import {poolKey, call, generate} from '../support/gateway.mjs';
import {launchBrowser, openPage, shot, stepper, login, gotoView, logRows} from './support/admin-page.mjs';

const ADMIN_TOKEN = 'e2e-views-admin-token-Rt55Kp20Wq81';
const SIZES = {desktop: {width: 1440, height: 900}, phone: {width: 390, height: 844}};
const VIEWS = ['dashboard', 'keys', 'tokens', 'settings', 'logs'];
const LONG_MODEL = 'gemini-2.5-flash-preview-long-model-name-09-2025';

let fake, s, browser, ids;
const quota = poolKey('Valid'), overload = poolKey('Overload'), valid = poolKey('Valid');

before(async () => {
  browser = await launchBrowser();
  fake = await startFakeGemini();
  s = await startStack({fake, keys: [quota, overload, valid], authToken: ADMIN_TOKEN});
  // The first key is out of quota for gemini-2.5-flash only (5 minutes, Google's RetryInfo).
  fake.setKeyMode(quota, 'quota', {retryDelay: 300, models: ['gemini-2.5-flash']});
  for (let i = 0; i < 4; i++) await generate(s.gw, `hi ${i}`, {token: s.token});
  await generate(s.gw, 'bad [[status=400]]', {token: s.token});
  await generate(s.gw, 'x', {token: s.token, model: LONG_MODEL});  // 404 with a long model name
  await call(s.gw, '/v1beta/models', {headers: {'x-goog-api-key': s.token}});  // no model
  const keys = (await adminApi('keys')).json.items;
  const idOf = (secret) => keys.find((k) => k.masked === `${secret.slice(0, 4)}…${secret.slice(-4)}`).id;
  ids = {quota: idOf(quota), overload: idOf(overload), valid: idOf(valid)};
});

after(async () => {
  await browser?.close();
  await s?.close();
  await fake?.close();
});

function adminApi(p) {
  return call(s.gw, `/admin/api/${p}`, {headers: {authorization: `Bearer ${ADMIN_TOKEN}`}});
}

async function open(locale, size) {
  const {context, page} = await openPage(browser, s.gw.url, locale, SIZES[size]);
  await login(page, ADMIN_TOKEN);
  await page.locator('[data-testid=view-dashboard][data-loaded=true]').waitFor();
  return {context, page};
}

/** Horizontal overflow of the page itself (a phone must never scroll sideways). */
const pageOverflow = (page) => page.evaluate(() => document.documentElement.scrollWidth -
                                                   document.documentElement.clientWidth);

for (const [locale, L] of [['en-US', 'en'], ['zh-CN', 'zh']]) {
  for (const size of ['desktop', 'phone']) {
    const W = SIZES[size].width;
    test(`views in ${L} at ${W} px`, {timeout: 120000}, async (t) => {
      const step = stepper(t);
      const {context, page} = await open(locale, size);
      const zh = L === 'zh';

      await step('every navigation tab is visible, inside the window and opens its view', async () => {
        for (const v of VIEWS) {
          const a = page.locator(`.nav a[data-view=${v}]`);
          const box = await a.boundingBox();
          assert.ok(box && box.width > 20, `${v} tab is laid out`);
          assert.ok(box.x >= 0 && box.x + box.width <= W + 0.5, `${v} tab inside the ${W} px window: ${JSON.stringify(box)}`);
          // Not covered or clipped: the element at the tab's centre is the tab.
          const hit = await page.evaluate(([x, y, view]) => document.elementFromPoint(x, y)?.closest('a')?.dataset.view === view,
                                          [box.x + box.width / 2, box.y + box.height / 2, v]);
          assert.ok(hit, `${v} tab can be clicked where it is drawn`);
          await a.click();
          await page.getByTestId(`view-${v}`).waitFor();
          assert.equal(await page.locator(`.nav a[data-view=${v}][aria-current=page]`).count(), 1);
        }
      });

      await step('dashboard: no "—" row in Models; no sideways scrolling', async () => {
        await gotoView(page, 'dashboard');
        await page.locator('[data-testid=view-dashboard][data-loaded=true]').waitFor();
        const models = await page.locator('[data-testid=top-models] tbody td:first-child').allTextContents();
        assert.ok(models.includes('gemini-2.5-flash'), `models: ${models}`);
        assert.ok(!models.some((m) => m.trim() === '—' || m.trim() === ''), `no unnamed model row: ${JSON.stringify(models)}`);
        assert.equal(await pageOverflow(page), 0, 'the page does not scroll sideways');
        await shot(page, `views-${L}-${W}-dashboard`);
      });

      await step('keys: the key cooling for one model shows that model and until when', async () => {
        await gotoView(page, 'keys');
        const row = page.locator(`[data-testid=key-row][data-key-id="${ids.quota}"]`);
        await row.waitFor();
        const cd = row.getByTestId('key-cooldown');
        assert.equal(await cd.count(), 1);
        const text = await cd.textContent();
        assert.match(text, /gemini-2\.5-flash/);
        assert.match(text, zh ? /配额用尽，冷却至 \d\d:\d\d:\d\d/ : /out of quota until \d\d:\d\d:\d\d/, text);
        assert.ok(await cd.isVisible());
        assert.equal(await page.locator(`[data-testid=key-row][data-key-id="${ids.valid}"] [data-testid=key-cooldown]`).count(), 0);
        assert.equal(await pageOverflow(page), 0, 'the page does not scroll sideways (the table scrolls in its panel)');
        await shot(page, `views-${L}-${W}-keys`);
      });

      await step('tokens view fits', async () => {
        await gotoView(page, 'tokens');
        await page.locator('[data-testid=view-tokens][data-loaded=true]').waitFor();
        assert.equal(await pageOverflow(page), 0);
        await shot(page, `views-${L}-${W}-tokens`);
      });

      await step('settings are grouped, with labels and descriptions in the chosen language', async () => {
        await gotoView(page, 'settings');
        await page.locator('[data-testid=view-settings][data-loaded=true]').waitFor();
        const groups = await page.locator('.settings-group > legend').allTextContents();
        assert.ok(groups.length >= 5, `grouped: ${groups}`);
        assert.ok(!groups.includes(zh ? '其他' : 'Other'), `every setting has its group: ${groups}`);
        const items = (await adminApi('settings')).json.items;
        for (const item of items) {
          const label = (await page.getByTestId(`label-${item.name}`).textContent()).trim();
          const desc = (await page.getByTestId(`desc-${item.name}`).textContent()).trim();
          assert.notEqual(label, item.name, `${item.name} has a label, not its identifier`);
          if (zh) {
            assert.match(label, /[\u4e00-\u9fff]/, `${item.name}: Chinese label (${label})`);
            assert.match(desc, /[\u4e00-\u9fff]/, `${item.name}: Chinese description (${desc})`);
            assert.notEqual(desc, item.description, `${item.name}: not the English description`);
          } else {
            assert.equal(desc, item.description, `${item.name}: the server's description`);
          }
        }
        const retry = page.getByTestId('settings-group-retry');
        assert.equal(await retry.getByTestId('setting-max_retries').count(), 1, 'max_retries in the retry group');
        assert.equal(await pageOverflow(page), 0);
        await shot(page, `views-${L}-${W}-settings`);
      });

      await step('logs: Google\'s error text in the row; the error column fits at this width', async () => {
        await gotoView(page, 'logs');
        await logRows(page);
        const errors = await page.getByTestId('log-error').allTextContents();
        assert.ok(errors.some((e) => /INVALID_ARGUMENT: Request contains an invalid argument/.test(e)), `errors: ${errors}`);
        assert.ok(errors.some((e) => /NOT_FOUND/.test(e)), 'the 404 says why');
        if (size === 'desktop') {
          const wrap = page.getByTestId('logs-table-wrap');
          const [sw, cw] = await wrap.evaluate((w) => [w.scrollWidth, w.clientWidth]);
          assert.ok(sw <= cw, `the logs table fits at ${W} px (scrollWidth ${sw} > clientWidth ${cw})`);
          const wbox = await wrap.boundingBox();
          const cell = page.getByTestId('log-error').filter({hasText: 'INVALID_ARGUMENT'}).first();
          const cbox = await cell.boundingBox();
          assert.ok(cbox.x >= wbox.x && cbox.x + cbox.width <= wbox.x + wbox.width + 0.5, 'the error column is inside the table\'s box');
          assert.ok(await cell.isVisible());
        }
        assert.equal(await pageOverflow(page), 0);
        await shot(page, `views-${L}-${W}-logs`);
      });

      await step('the key drill-down shows that key\'s failed attempts', async () => {
        await gotoView(page, 'keys');
        await page.locator(`[data-testid=key-row][data-key-id="${ids.overload}"] a`).first().click();
        await page.getByTestId('view-logs').waitFor();
        const reqRows = await logRows(page);
        // The requests it failed in are listed though another key answered them ...
        assert.ok(reqRows.length >= 1, 'request rows of the key');
        const failed = await page.getByTestId('log-failed-keys').allTextContents();
        assert.ok(failed.length >= 1 && failed.every((c) => c.includes(`#${ids.overload}`)), `failed keys: ${failed}`);
        // ... and its failed attempts, with Google's words.
        const box = page.getByTestId('key-failures');
        await box.waitFor();
        const rows = box.getByTestId('key-failure');
        assert.ok(await rows.count() >= 1, 'failed attempts listed');
        assert.match(await rows.first().textContent(), /UNAVAILABLE: The model is overloaded/);
        assert.match(await box.locator('h2').textContent(), new RegExp(`#${ids.overload}`));
        assert.equal(await pageOverflow(page), 0);
        await shot(page, `views-${L}-${W}-key-drilldown`);
        await box.getByTestId('key-failures-all').click();
        await page.locator('[data-testid=logs-tab-error][aria-selected=true]').waitFor();
        const errRows = await logRows(page);
        assert.ok(errRows.length >= 1 && errRows.every((r) => r.key === `#${ids.overload}`));
      });

      await step('no script error or CSP violation', async () => {
        assert.deepEqual(page.problems, []);
      });
      await context.close();
    });
  }
}
