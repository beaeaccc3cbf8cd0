// The client token editor of the admin page in a real browser (Debian's chromium through
// playwright-core): the tokens view shows each token's policy and usage bars against its
// limits; the editor changes every policy field (saved through PATCH, checked through the API),
// refuses a bad limit in the page and shows the server's refusal next to the field it names;
// a disabled token is refused by the gateway at once; the editor is Chinese in the Chinese UI.
// Screenshots go to tests/artifacts/screenshots/. Needs `npm ci` in tests/ and /usr/bin/chromium.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {startStack} from '../support/stack.mjs';
import {call, generate, clientToken} from '../support/gateway.mjs';
import {launchBrowser, openPage, shot, stepper, login, gotoView} from './support/admin-page.mjs';

const ADMIN_TOKEN = 'e2e-tokens-admin-token-Hq72Ws19Lp04';

let fake, s, browser;
const tenant = clientToken('tenant');

before(async () => {
  browser = await launchBrowser();
  fake = await startFakeGemini();
  s = await startStack({fake, authToken: ADMIN_TOKEN});
});

after(async () => {
  await browser?.close();
  await s?.close();
  await fake?.close();
});

function adminApi(p, opts = {}) {
  return call(s.gw, `/admin/api/${p}`, {...opts, headers: {authorization: `Bearer ${ADMIN_TOKEN}`}});
}

async function tokenById(id) {
  return (await adminApi('tokens')).json.items.find((x) => x.id === id);
}

test('the token editor in English: policy, usage bars, edits, errors', {timeout: 180000}, async (t) => {
  const step = stepper(t);
  const created = await adminApi('tokens', {body: {label: 'tenant one', token: tenant, rpm: 10,
                                                   daily_tokens: 100000}});
  assert.equal(created.status, 201, created.text);
  const id = created.json.id;
  for (let i = 0; i < 3; i++) assert.equal((await generate(s.gw, `use ${i}`, {token: tenant})).status, 200);
  const {context, page} = await openPage(browser, s.gw.url, 'en-US');
  await login(page, ADMIN_TOKEN);
  await page.locator('[data-testid=view-dashboard][data-loaded=true]').waitFor();
  const row = () => page.locator(`[data-testid=token-row][data-token-id="${id}"]`);

  await step('the row shows the policy and usage bars against the limits', async () => {
    await gotoView(page, 'tokens');
    await page.locator('[data-testid=view-tokens][data-loaded=true]').waitFor();
    await row().waitFor();
    assert.match(await row().getByTestId('token-policy').textContent(), /every model/);
    const rpm = row().getByTestId('token-usage-rpm');
    assert.match(await rpm.textContent(), /3 \/ 10/);
    assert.equal(await rpm.locator('progress').getAttribute('max'), '10');
    const daily = row().getByTestId('token-usage-daily');
    assert.equal(await daily.locator('progress').count(), 1, 'a bar against the daily quota');
    assert.match(await daily.textContent(), /\/ 100,000/);
    assert.equal(await row().getByTestId('token-usage-monthly').locator('progress').count(), 0,
                 'no bar without a monthly quota');
    await shot(page, 'tokens-en-01-policy-and-usage');
  });

  await step('the editor saves every field; the API has them', async () => {
    await row().getByTestId('token-edit').click();
    const d = page.getByTestId('token-edit-dialog');
    await d.waitFor();
    assert.equal(await d.getByTestId('token-edit-rpm').inputValue(), '10');
    await d.getByTestId('token-edit-label').fill('tenant renamed');
    await d.getByTestId('token-edit-models').fill('gemini-2.5-flash, gemini-*-lite');
    await d.getByTestId('token-edit-rpm').fill('20');
    await d.getByTestId('token-edit-tpm').fill('5000');
    await d.getByTestId('token-edit-daily_tokens').fill('');
    await d.getByTestId('token-edit-monthly_tokens').fill('3000000');
    await d.getByTestId('token-edit-expires_at').fill('2099-12-31T23:30');
    await d.getByTestId('token-edit-key_group').fill('paid');
    await shot(page, 'tokens-en-02-editor');
    await d.getByTestId('token-edit-save').click();
    await d.waitFor({state: 'detached'});
    const it = await tokenById(id);
    assert.equal(it.label, 'tenant renamed');
    assert.deepEqual(it.models, ['gemini-2.5-flash', 'gemini-*-lite']);
    assert.deepEqual([it.rpm, it.tpm, it.daily_tokens, it.monthly_tokens, it.key_group, it.enabled],
                     [20, 5000, 0, 3000000, 'paid', true]);
    assert.ok(it.expires_at > Date.UTC(2099, 11, 30) && it.expires_at < Date.UTC(2100, 0, 2), `${it.expires_at}`);
    await page.locator(`[data-testid=token-row][data-token-id="${id}"]`, {hasText: 'tenant renamed'}).waitFor();
    assert.match(await row().getByTestId('token-policy').textContent(), /gemini-2\.5-flash, gemini-\*-lite/);
    assert.equal((await generate(s.gw, 'pro', {token: tenant, model: 'gemini-2.5-pro'})).status, 403,
                 'the allowed models apply at once');
  });

  await step('a bad limit is refused in the page; a bad model is refused by the server at its field', async () => {
    await row().getByTestId('token-edit').click();
    const d = page.getByTestId('token-edit-dialog');
    await d.waitFor();
    await d.getByTestId('token-edit-rpm').fill('-3');
    await d.getByTestId('token-edit-save').click();
    await d.getByTestId('token-edit-error-rpm').waitFor({state: 'visible'});
    assert.match(await d.getByTestId('token-edit-error-rpm').textContent(), /whole number/);
    await d.getByTestId('token-edit-rpm').fill('20');
    await d.getByTestId('token-edit-models').fill('bad model!');
    await d.getByTestId('token-edit-save').click();
    const err = d.getByTestId('token-edit-error-models');
    await err.waitFor({state: 'visible'});
    assert.match(await err.textContent(), /models/);
    await shot(page, 'tokens-en-03-editor-error');
    await d.getByTestId('token-edit-cancel').click();
    await d.waitFor({state: 'detached'});
    assert.deepEqual((await tokenById(id)).models, ['gemini-2.5-flash', 'gemini-*-lite'], 'nothing saved');
  });

  await step('disabling the token refuses it at once and shows a badge', async () => {
    await row().getByTestId('token-edit').click();
    const d = page.getByTestId('token-edit-dialog');
    await d.waitFor();
    await d.getByTestId('token-edit-enabled').uncheck();
    await d.getByTestId('token-edit-save').click();
    await d.waitFor({state: 'detached'});
    assert.equal((await tokenById(id)).enabled, false);
    assert.equal((await generate(s.gw, 'off', {token: tenant})).status, 401);
    await page.locator(`[data-testid=token-row][data-token-id="${id}"] .badge-disabled`).waitFor();
    await shot(page, 'tokens-en-04-disabled');
    assert.deepEqual(page.problems, []);
  });
  await context.close();
});

test('the token editor in Chinese', {timeout: 120000}, async () => {
  const {context, page} = await openPage(browser, s.gw.url, 'zh-CN');
  await login(page, ADMIN_TOKEN);
  await page.locator('[data-testid=view-dashboard][data-loaded=true]').waitFor();
  await gotoView(page, 'tokens');
  await page.locator('[data-testid=view-tokens][data-loaded=true]').waitFor();
  const first = page.locator('[data-testid=token-row]').first();
  assert.match(await first.getByTestId('token-usage-daily').textContent(), /今日用量/);
  await first.getByTestId('token-edit').click();
  const d = page.getByTestId('token-edit-dialog');
  await d.waitFor();
  const text = await d.textContent();
  for (const word of ['允许的模型', '每分钟请求数', '每日令牌用量', '过期时间', '密钥分组', '启用', '保存']) {
    assert.ok(text.includes(word), `the editor shows ${word}`);
  }
  await shot(page, 'tokens-zh-01-editor');
  await d.getByTestId('token-edit-cancel').click();
  assert.deepEqual(page.problems, []);
  await context.close();
});
