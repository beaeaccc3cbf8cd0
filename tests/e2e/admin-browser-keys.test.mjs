// The keys view's policy editor in a real browser (Debian's chromium): the table shows each
// key's policy and last minute, the editor saves weight/group/limits/proxy/note with PATCH, a
// refused value is shown next to its field with the dialog kept open, the proxy's password is
// never on the page, saving the form unchanged keeps the proxy, the add dialog accepts lines
// with options and names a bad line, and the Chinese page is translated. Screenshots go to
// tests/artifacts/screenshots/keys-policy-*.png.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {startStack} from '../support/stack.mjs';
import {poolKey, call, generate} from '../support/gateway.mjs';
import {launchBrowser, openPage, shot, stepper, login, gotoView} from './support/admin-page.mjs';

const ADMIN_TOKEN = 'e2e-keys-admin-token-Hq72Wd10Pz55';
const PROXY_PASSWORD = 'browser-proxy-pw-31337';

let fake, s, browser;
const first = poolKey('Valid'), second = poolKey('Valid');

before(async () => {
  browser = await launchBrowser();
  fake = await startFakeGemini();
  s = await startStack({fake, keys: [first, second], authToken: ADMIN_TOKEN});
  for (let i = 0; i < 3; i++) await generate(s.gw, `hi ${i}`, {token: s.token});
});

after(async () => {
  await browser?.close();
  await s?.close();
  await fake?.close();
});

function adminApi(p, opts = {}) {
  return call(s.gw, `/admin/api/${p}`, {...opts, headers: {authorization: `Bearer ${ADMIN_TOKEN}`}});
}

async function keyOf(secret) {
  const items = (await adminApi('keys?per_page=500')).json.items;
  return items.find((k) => k.masked === `${secret.slice(0, 4)}…${secret.slice(-4)}`);
}

async function openKeys(locale) {
  const {context, page} = await openPage(browser, s.gw.url, locale);
  await login(page, ADMIN_TOKEN);
  await page.locator('[data-testid=view-dashboard][data-loaded=true]').waitFor();
  await gotoView(page, 'keys');
  await page.locator('[data-testid=key-row]').first().waitFor();
  return {context, page};
}

test('editing a key\'s policy in English', {timeout: 120000}, async (t) => {
  const step = stepper(t);
  const {context, page} = await openKeys('en-US');
  const k = await keyOf(first);
  const row = () => page.locator(`[data-testid=key-row][data-key-id="${k.id}"]`);

  await step('01 the table shows policy and last-minute columns', async () => {
    assert.match(await row().getByTestId('key-last-minute').textContent(), /\d+ req · \d+(\.\d+)?k? tok/);
    assert.equal((await row().getByTestId('key-policy').textContent()).trim(), '—', 'defaults show as —');
  });

  await step('02 a refused value is shown next to its field; the dialog stays open', async () => {
    await row().getByTestId('row-edit').click();
    const dialog = page.getByTestId('key-edit-dialog');
    await dialog.waitFor();
    assert.equal(await page.getByTestId('key-edit-weight').inputValue(), '1');
    await page.getByTestId('key-edit-weight').fill('0');
    await page.getByTestId('key-edit-save').click();
    const err = page.getByTestId('key-edit-weight-error');
    await err.waitFor({state: 'visible'});
    assert.match(await err.textContent(), /weight/);
    assert.equal(await page.getByTestId('key-edit-weight').getAttribute('aria-invalid'), 'true');
    assert.ok(await dialog.isVisible(), 'still open');
    await shot(page, 'keys-policy-en-error');
  });

  await step('03 saving weight, group, limits, proxy and note; the row and the API follow', async () => {
    await page.getByTestId('key-edit-weight').fill('3');
    await page.getByTestId('key-edit-group').fill('paid');
    await page.getByTestId('key-edit-rpm').fill('60');
    await page.getByTestId('key-edit-tpm').fill('100000');
    await page.getByTestId('key-edit-proxy').fill(`http://kp:${PROXY_PASSWORD}@127.0.0.1:3128`);
    await page.getByTestId('key-edit-note').fill('team A');
    await page.getByTestId('key-edit-save').click();
    await page.getByTestId('key-edit-dialog').waitFor({state: 'detached'});
    const j = await keyOf(first);
    assert.deepEqual([j.weight, j.group, j.rpm, j.tpm, j.note], [3, 'paid', 60, 100000, 'team A']);
    assert.equal(j.proxy, 'http://kp:***@127.0.0.1:3128');
    await page.locator('[data-testid=view-keys]:not([data-loading])').waitFor();
    const policy = await row().getByTestId('key-policy').textContent();
    assert.match(policy, /×3 · paid · own proxy/);
    assert.match(policy, /team A/);
    assert.match(await row().getByTestId('key-last-minute').textContent(), /\/60 req · .*\/100K tok/i);
    assert.ok(!(await page.content()).includes(PROXY_PASSWORD), 'the proxy password is not on the page');
    await shot(page, 'keys-policy-en-saved');
  });

  await step('04 the editor shows the masked proxy; saving another field keeps the real one', async () => {
    await row().getByTestId('row-edit').click();
    assert.equal(await page.getByTestId('key-edit-proxy').inputValue(), 'http://kp:***@127.0.0.1:3128');
    await page.getByTestId('key-edit-note').fill('team B');
    await page.getByTestId('key-edit-save').click();
    await page.getByTestId('key-edit-dialog').waitFor({state: 'detached'});
    const j = await keyOf(first);
    assert.equal(j.note, 'team B');
    assert.equal(j.proxy, 'http://kp:***@127.0.0.1:3128');
    // Cleared again so the key serves directly for the rest of the suite.
    await adminApi(`keys/${k.id}`, {method: 'PATCH', body: {proxy: '', rpm: 0, tpm: 0}});
  });

  await step('05 the add dialog takes lines with options and names a bad line', async () => {
    const extra = poolKey('Valid');
    await page.getByTestId('add-keys').click();
    await page.getByTestId('add-keys-input').fill(`${extra},weight=2,group=free\nAIzaSyWhatever_0000000000000000000,weight=0`);
    assert.match(await page.getByTestId('add-keys-count').textContent(), /2/);
    await page.getByTestId('add-keys-submit').click();
    await page.getByTestId('add-keys-result').waitFor({state: 'visible'});
    assert.match(await page.getByTestId('add-keys-result').textContent(), /line 2: weight/);
    await page.getByTestId('add-keys-close').click();
    assert.equal(await keyOf(extra), undefined, 'a refused import adds nothing');
    await page.getByTestId('add-keys').click();
    await page.getByTestId('add-keys-input').fill(`${extra},weight=2,group=free`);
    await page.getByTestId('add-keys-submit').click();
    await page.getByTestId('add-keys-result').waitFor({state: 'visible'});
    assert.equal((await page.getByTestId('add-added').locator('.stat-value').textContent()).trim(), '1');
    await page.getByTestId('add-keys-close').click();
    const j = await keyOf(extra);
    assert.deepEqual([j.weight, j.group], [2, 'free']);
  });

  assert.deepEqual(page.problems, [], 'no script errors or CSP violations');
  await context.close();
});

test('the key editor in Chinese', {timeout: 60000}, async () => {
  const {context, page} = await openKeys('zh-CN');
  const k = await keyOf(second);
  await page.locator(`[data-testid=key-row][data-key-id="${k.id}"]`).getByTestId('row-edit').click();
  const dialog = page.getByTestId('key-edit-dialog');
  await dialog.waitFor();
  const text = await dialog.textContent();
  for (const word of ['权重', '分组', '每分钟请求数', '代理', '备注', '保存']) assert.ok(text.includes(word), word);
  await shot(page, 'keys-policy-zh-editor');
  await page.getByTestId('key-edit-cancel').click();
  assert.deepEqual(page.problems, []);
  await context.close();
});
