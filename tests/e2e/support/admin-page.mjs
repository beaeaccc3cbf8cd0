// Browser helpers of the admin page suites (tests/e2e/admin-browser.test.mjs): launching
// Debian's chromium through playwright-core, a fresh context per run that records script
// errors and CSP violations, screenshots into tests/artifacts/screenshots/, numbered steps, and
// small readers of the page's tables (by their data-testid hooks).

import fs from 'node:fs';
import path from 'node:path';
import {REPO_ROOT, eventually} from '../../support/gateway.mjs';

export const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
export const SHOTS = path.join(REPO_ROOT, 'tests', 'artifacts', 'screenshots');

/**
 * Launches headless chromium (CHROMIUM_BIN, else /usr/bin/chromium) with a temporary profile
 * that playwright deletes on close. Creates the screenshot folder.
 */
export async function launchBrowser() {
  let chromium;
  try {
    ({chromium} = await import('playwright-core'));
  } catch (e) {
    throw new Error(`playwright-core is not installed: run \`npm ci\` in tests/ (${e.message})`);
  }
  if (!fs.existsSync(CHROMIUM)) throw new Error(`chromium not found at ${CHROMIUM} (apt install chromium)`);
  fs.mkdirSync(SHOTS, {recursive: true});
  return chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * A fresh browser context (its own cookies and storage, i.e. a fresh profile) and page that
 * records script errors and CSP violations; console messages about failed HTTP status codes
 * are expected (401 before login, 400 validation) and not counted. `viewport` defaults to a
 * laptop's 1366x900.
 */
export async function openPage(browser, baseURL, locale, viewport = {width: 1366, height: 900}) {
  const context = await browser.newContext({locale, viewport, baseURL});
  const page = await context.newPage();
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) page.problems.push(`console: ${m.text()}`);
  });
  page.on('response', (r) => {
    if (r.url().includes('/admin/assets/') && r.status() !== 200) page.problems.push(`asset ${r.status()}: ${r.url()}`);
  });
  page.setDefaultTimeout(10000);
  return {context, page};
}

/** Saves a screenshot: the whole page, or only the viewport while a modal dialog is open. */
export async function shot(page, name) {
  const dialogOpen = (await page.locator('dialog[open]').count()) > 0;
  await page.screenshot({path: path.join(SHOTS, `${name}.png`), fullPage: !dialogOpen});
}

/** Runs numbered steps as subtests; after a failure the remaining steps are skipped, not run. */
export function stepper(t) {
  let broken = null;
  return async (name, fn) => t.test(name, async (st) => {
    if (broken) return st.skip(`skipped: "${broken}" failed`);
    try {
      await fn(st);
    } catch (e) {
      broken = name;
      throw e;
    }
  });
}

export async function login(page, token) {
  await page.goto('/admin/login');
  await page.getByTestId('login-token').fill(token);
  await page.getByTestId('login-submit').click();
}

/** Clicks the keys view's refresh until pred(rows) holds (rows = [{id, status, reason}]). */
export async function pollKeys(page, pred, what, timeoutMs = 15000) {
  return eventually(async () => {
    await page.getByTestId('keys-refresh').click();
    await page.locator('[data-testid=view-keys]:not([data-loading])').waitFor();
    const rows = await page.locator('[data-testid=key-row]').evaluateAll((trs) => trs.map((tr) => ({
      id: Number(tr.dataset.keyId), status: tr.dataset.status,
      reason: tr.querySelector('[data-testid=key-reason]').textContent})));
    return pred(rows) ? rows : null;
  }, {timeoutMs, intervalMs: 500, what});
}

export async function gotoView(page, name) {
  await page.locator(`.nav a[data-view=${name}]`).click();
  await page.getByTestId(`view-${name}`).waitFor();
}

export async function logRows(page) {
  await page.locator('[data-testid=view-logs]:not([data-loading])').waitFor();
  return page.locator('[data-testid=log-row]').evaluateAll((trs) => trs.map((tr) => ({
    id: tr.dataset.logId, status: tr.querySelector('[data-testid=log-status]').textContent.trim(),
    key: tr.querySelector('[data-testid=log-key]').textContent.trim()})));
}

