// Unit tests of the admin page's non-DOM code (admin/web/format.js, chart.js, i18n.js,
// settings-meta.js) and
// static checks of admin/web/ that the browser suite cannot see at a glance: every string used
// exists in English and Chinese, the Chinese is Chinese, and nothing breaks the server's CSP
// (no inline script/style, no eval, no third-party URL). Needs no browser and no gateway.

import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const WEB = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../admin/web');
const read = (f) => fs.readFileSync(path.join(WEB, f), 'utf8');
// The page's modules are browser ES modules in .js files (no package.json in admin/web); the
// three tested here import nothing, so they load as data: URLs without copying them.
const load = (f) => import(`data:text/javascript;base64,${Buffer.from(read(f)).toString('base64')}`);

const F = await load('format.js');
const {niceScale} = await load('chart.js');
const I = await load('i18n.js');
const M = await load('settings-meta.js');
const files = fs.readdirSync(WEB);
const jsFiles = files.filter((f) => f.endsWith('.js'));
const htmlFiles = files.filter((f) => f.endsWith('.html'));

test('splitKeys accepts any separator and keeps the order', () => {
  assert.deepEqual(F.splitKeys('a\nb, c;d\t e\r\n\n,,f  '), ['a', 'b', 'c', 'd', 'e', 'f']);
  assert.deepEqual(F.splitKeys(''), []);
  assert.deepEqual(F.splitKeys(' \n ,; '), []);
  assert.deepEqual(F.splitKeys(undefined), []);
});

test('maskSecret shows only the first and last four characters', () => {
  assert.equal(F.maskSecret('AIzaSyABCDEFGHIJKLMNOPQRSTUVWXYZ0123456'), 'AIza…3456');
  assert.equal(F.maskSecret('short'), '…');
  assert.equal(F.maskSecret('12345678'), '…');
  assert.equal(F.maskSecret('123456789'), '1234…6789');
});

test('buildQuery leaves out empty values and encodes the rest', () => {
  assert.equal(F.buildQuery({}), '');
  assert.equal(F.buildQuery({a: '', b: null, c: undefined}), '');
  assert.equal(F.buildQuery({status: 'all', q: 'a b&c', page: 2, zero: 0}), '?status=all&q=a+b%26c&page=2&zero=0');
});

test('isStatusFilter: a code or a class', () => {
  for (const ok of ['429', '200', '5xx', '4XX', '1xx']) assert.ok(F.isStatusFilter(ok), ok);
  for (const bad of ['', '42', '4290', '6xx', 'xx', '4x', 'abc', '0']) assert.ok(!F.isStatusFilter(bad), bad);
});

test('chunk and pageCount', () => {
  assert.deepEqual(F.chunk([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]]);
  assert.deepEqual(F.chunk([], 3), []);
  assert.equal(F.pageCount(0, 50), 1);
  assert.equal(F.pageCount(50, 50), 1);
  assert.equal(F.pageCount(51, 50), 2);
  assert.equal(F.pageCount(1203, 50), 25);
});

test('number, percent and duration formats', () => {
  assert.equal(F.fmtInt(1234567, 'en'), '1,234,567');
  assert.equal(F.fmtInt(null), '—');
  assert.equal(F.fmtCompact(9999, 'en'), '9,999');
  assert.equal(F.fmtCompact(1234567, 'en'), '1.2M');
  assert.equal(F.fmtCompact(123456, 'zh-CN'), '12.3万');
  assert.equal(F.fmtPercent(1, 0), '—');
  assert.equal(F.fmtPercent(1, 3), '33%');
  assert.equal(F.fmtPercent(1, 200), '0.5%');
  assert.equal(F.fmtPercent(0, 5), '0%');
  assert.equal(F.fmtDuration(850), '850 ms');
  assert.equal(F.fmtDuration(1234), '1.23 s');
  assert.equal(F.fmtDuration(125000), '2 min 5 s');
});

test('times: never is a dash; relative times in both languages', () => {
  const now = Date.UTC(2026, 0, 2, 12, 0, 0);
  assert.equal(F.fmtTime(0), '—');
  assert.equal(F.fmtRelative(0, now), '—');
  assert.equal(F.fmtRelative(now - 3 * 60e3, now, 'en'), '3 minutes ago');
  assert.equal(F.fmtRelative(now + 30e3, now, 'en'), 'in 30 seconds');
  assert.equal(F.fmtRelative(now - 2 * 3600e3, now, 'zh-CN'), '2小时前');
  assert.equal(F.fmtRelative(now - 3 * 86400e3, now, 'en'), '3 days ago');
});

test('fmtSoon: the time of day within 20 hours, with the date after that', () => {
  const now = Date.UTC(2026, 0, 10, 12, 0, 0);
  assert.match(F.fmtSoon(now + 90e3, now, 'en'), /^\d\d:\d\d:\d\d$/);
  assert.match(F.fmtSoon(now + 3 * 86400e3, now, 'en'), /\d\d\/\d\d.*\d\d:\d\d:\d\d/);
  assert.equal(F.fmtSoon(0, now), '—');
});

test('settings-meta: every known setting has one group, English and Chinese texts', () => {
  const grouped = M.SETTING_GROUPS.flatMap((g) => g.names);
  assert.equal(new Set(grouped).size, grouped.length, 'no setting in two groups');
  assert.deepEqual([...grouped].sort(), Object.keys(M.SETTING_TEXT).sort(), 'groups and texts list the same settings');
  for (const [name, m] of Object.entries(M.SETTING_TEXT)) {
    assert.ok(m.en && m.en !== name, `${name}: an English label`);
    assert.match(m.zh, /[\u4e00-\u9fff]/, `${name}: a Chinese label`);
    assert.match(m.zh_desc, /[\u4e00-\u9fff]/, `${name}: a Chinese description`);
  }
  for (const g of [...M.SETTING_GROUPS.map((x) => x.id), M.OTHER_GROUP]) {
    assert.ok(M.GROUP_TITLES.en[g], `group ${g} has an English title`);
    assert.match(M.GROUP_TITLES['zh-CN'][g], /[\u4e00-\u9fff]/, `group ${g} has a Chinese title`);
  }
});

test('settings-meta: grouping keeps page order and puts unknown settings under "other"', () => {
  const items = [{name: 'log_max_rows'}, {name: 'brand_new', description: 'New.'}, {name: 'max_retries'},
                 {name: 'max_failures'}];
  const groups = M.groupSettings(items);
  assert.deepEqual(groups.map((g) => [g.id, g.items.map((i) => i.name)]),
                   [['retry', ['max_retries', 'max_failures']], ['logs', ['log_max_rows']], ['other', ['brand_new']]]);
  assert.deepEqual(M.settingText({name: 'brand_new', description: 'New.'}, 'zh-CN'), {label: 'brand_new', description: 'New.'});
  assert.deepEqual(M.settingText({name: 'max_retries', description: 'Server text.'}, 'en'),
                   {label: 'Attempts per request', description: 'Server text.'});
  assert.match(M.settingText({name: 'max_retries', description: 'Server text.'}, 'zh-CN').description, /[\u4e00-\u9fff]/);
  assert.equal(M.groupTitle('retry', 'zh-CN'), '重试与密钥健康');
  assert.equal(M.groupTitle('retry', 'fr'), 'Retries and key health');
});

test('datetime-local values round-trip', () => {
  const ms = new Date(2026, 4, 17, 9, 5).getTime();
  assert.equal(F.toLocalInput(ms), '2026-05-17T09:05');
  assert.equal(F.fromLocalInput('2026-05-17T09:05'), ms);
  assert.equal(F.fromLocalInput(''), null);
  assert.equal(F.fromLocalInput('yesterday'), null);
  assert.equal(F.toLocalInput(0), '');
});

test('parseSettingInput checks the syntax of each type', () => {
  assert.deepEqual(F.parseSettingInput('int', ' 42 '), {ok: true, value: 42});
  assert.deepEqual(F.parseSettingInput('int', '-1'), {ok: true, value: -1});  // range is the server's call
  assert.equal(F.parseSettingInput('int', '4.5').ok, false);
  assert.equal(F.parseSettingInput('int', '').ok, false);
  assert.equal(F.parseSettingInput('int', '1e3').ok, false);
  assert.equal(F.parseSettingInput('int', '99999999999999999999').ok, false);
  assert.deepEqual(F.parseSettingInput('bool', true), {ok: true, value: true});
  assert.deepEqual(F.parseSettingInput('bool', false), {ok: true, value: false});
  assert.deepEqual(F.parseSettingInput('json', '{"a":[1,2]}'), {ok: true, value: {a: [1, 2]}});
  const bad = F.parseSettingInput('json', '{a:1}');
  assert.equal(bad.ok, false);
  assert.equal(bad.error, 'json');
  assert.ok(bad.detail);
  assert.deepEqual(F.parseSettingInput('string', 'gemini-2.5-flash'), {ok: true, value: 'gemini-2.5-flash'});
});

test('settingsPatch sends only what changed', () => {
  const items = [
    {name: 'max_retries', type: 'int', value: 3, default: 3, overridden: false},
    {name: 'cooldown_default_s', type: 'int', value: 90, default: 60, overridden: true},
    {name: 'model', type: 'string', value: 'a', default: 'a', overridden: false},
    {name: 'map', type: 'json', value: {x: 1, y: [1, 2]}, default: {}, overridden: true},
    {name: 'proxy', type: 'secret', value: {set: true}, default: {set: false}, overridden: true},
    {name: 'flag', type: 'bool', value: false, default: false, overridden: false},
  ];
  assert.deepEqual(F.settingsPatch(items, {}), {});
  assert.deepEqual(F.settingsPatch(items, {
    max_retries: {value: 3},                   // same value: left out
    model: {reset: true},                      // not overridden: nothing to reset
    map: {value: {y: [1, 2], x: 1}},           // same JSON, other key order: left out
    proxy: {value: ''},                        // a secret left empty is unchanged
    flag: {value: true},
  }), {flag: true});
  assert.deepEqual(F.settingsPatch(items, {
    max_retries: {value: 5}, cooldown_default_s: {reset: true}, proxy: {value: 'p@ss'},
    map: {value: {x: 2}},
  }), {max_retries: 5, cooldown_default_s: null, proxy: 'p@ss', map: {x: 2}});
  assert.deepEqual(F.settingsPatch(items, {proxy: {reset: true}}), {proxy: null});
});

test('debounce runs once after the pause; cancel drops it', async () => {
  let n = 0;
  const d = F.debounce(() => { n++; }, 30);
  d(); d(); d();
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(n, 1);
  d();
  d.cancel();
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(n, 1);
});

test('niceScale gives round integer axes that cover the data', () => {
  assert.deepEqual(niceScale(0), {max: 1, step: 1, ticks: [0, 1]});
  for (const max of [1, 2, 3, 7, 10, 13, 99, 101, 1234, 987654]) {
    const s = niceScale(max);
    assert.ok(s.max >= max, `${max}: axis covers the data`);
    assert.ok(Number.isInteger(s.step) && s.step >= 1, `${max}: integer step ${s.step}`);
    assert.match(String(s.step), /^[125]0*$/, `${max}: step ${s.step} is 1, 2 or 5 × 10^k`);
    assert.equal(s.ticks[0], 0);
    assert.equal(s.ticks.at(-1), s.max);
    assert.ok(s.ticks.length >= 2 && s.ticks.length <= 9, `${max}: ${s.ticks.length} ticks`);
  }
});

test('pickLanguage: saved choice, then the browser, then English', () => {
  assert.equal(I.pickLanguage(null, ['zh-CN', 'en']), 'zh-CN');
  assert.equal(I.pickLanguage(null, ['zh-TW']), 'zh-CN');
  assert.equal(I.pickLanguage(null, ['fr-FR', 'en-GB', 'zh']), 'en');
  assert.equal(I.pickLanguage(null, ['de']), 'en');
  assert.equal(I.pickLanguage(null, []), 'en');
  assert.equal(I.pickLanguage('en', ['zh-CN']), 'en');
  assert.equal(I.pickLanguage('zh-CN', ['en']), 'zh-CN');
  assert.equal(I.pickLanguage('klingon', ['zh-CN']), 'zh-CN');
});

test('t() fills parameters and falls back to English, then the key', () => {
  assert.equal(I.t('pager.range', {first: 1, last: 50, total: 99}, 'en'), '1–50 of 99');
  assert.equal(I.t('pager.range', {first: 1, last: 50, total: 99}, 'zh-CN'), '第 1–50 条，共 99 条');
  assert.equal(I.t('no.such.key', {}, 'zh-CN'), 'no.such.key');
});

test('English and Chinese tables have the same keys and placeholders, and the Chinese is Chinese', () => {
  const en = I.STRINGS.en, zh = I.STRINGS['zh-CN'];
  assert.deepEqual(Object.keys(zh).sort(), Object.keys(en).sort());
  const holes = (s) => (s.match(/\{\w+\}/g) || []).sort().join();
  // Strings that are the same in both languages on purpose (a key prefix, a product word).
  const same = new Set(['add.placeholder', 'col.tokens']);
  for (const k of Object.keys(en)) {
    assert.equal(holes(zh[k]), holes(en[k]), `placeholders of ${k}`);
    if (same.has(k)) continue;
    assert.match(zh[k], /[\u4e00-\u9fff]/, `${k} is Chinese: "${zh[k]}"`);
    assert.notEqual(zh[k], en[k], `${k} is translated`);
  }
});

test('every string the page uses exists', () => {
  const en = I.STRINGS.en;
  const used = new Set();
  for (const f of jsFiles) {
    for (const m of read(f).matchAll(/\bt\(\s*'([\w.]+)'/g)) used.add(m[1]);
    for (const m of read(f).matchAll(/\?\s*'([a-z]+\.[\w.]+)'\s*:/g)) used.add(m[1]);  // t(c ? 'a.b' : ...)
  }
  for (const f of htmlFiles) {
    for (const m of read(f).matchAll(/data-i18n(?:-[\w-]+)?="([\w.]+)"/g)) used.add(m[1]);
  }
  // Keys built from a template literal, expanded over the values the code passes.
  const families = {
    'action.': ['verify', 'reset', 'enable', 'disable', 'delete'],
    'status.': ['active', 'cooling', 'disabled'],
    'window.': ['1m', '1h', '24h', '30d'],
    'nav.': ['dashboard', 'keys', 'tokens', 'settings', 'logs'],
    'keys.done_': ['reset', 'enable', 'disable'],
    'keys.bulk_confirm_': ['delete', 'disable'],
    'logs.kind_': ['request', 'error'],
    'logs.range_': ['any', '1h', '24h', '7d', 'custom'],
    'logs.confirm_': ['selected', 'filter', 'all'],
    'settings.bad_': ['int', 'json'],
    'dash.by_': ['requests', 'failures'],
    'col.': ['time', 'status', 'method', 'path', 'model', 'key_id', 'token_id', 'latency', 'attempts',
             'stream', 'tokens', 'error', 'kind', 'route', 'message'],
  };
  for (const [prefix, values] of Object.entries(families)) for (const v of values) used.add(prefix + v);
  for (const v of ['selected', 'filter', 'all']) used.add(`logs.delete_${v}_title`);
  const missing = [...used].filter((k) => !(k in en));
  assert.deepEqual(missing, []);
  assert.ok(used.size > 150, `found ${used.size} used strings`);
});

test('the page keeps to the server\'s CSP and loads nothing from elsewhere', () => {
  for (const f of htmlFiles) {
    const html = read(f);
    assert.doesNotMatch(html, /<style\b/i, `${f}: no <style> block`);
    assert.doesNotMatch(html, /\sstyle\s*=/i, `${f}: no style attribute`);
    assert.doesNotMatch(html, /\son[a-z]+\s*=/i, `${f}: no inline event handler`);
    for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
      assert.match(m[1], /src="\/admin\/assets\/[\w.-]+\.js"/, `${f}: scripts come from /admin/assets/`);
      assert.equal(m[2].trim(), '', `${f}: no inline script`);
    }
    for (const m of html.matchAll(/(?:src|href)="([^"#]+)"/g)) {
      assert.match(m[1], /^\/admin\/assets\//, `${f}: ${m[1]} is served by gemgate`);
      assert.ok(files.includes(m[1].slice('/admin/assets/'.length)), `${f}: ${m[1]} exists`);
    }
  }
  // Code without its comments (whole-line // comments and /* */ blocks), for the checks below.
  const code = (src) => src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const refuse = (re, text, what) => {
    const m = re.exec(text);
    assert.ok(!m, `${what}: found "${m && m[0]}"`);
  };
  for (const f of jsFiles) {
    const js = code(read(f));
    refuse(/\binnerHTML\b|\bouterHTML\b|insertAdjacentHTML|document\.write/, js, `${f}: no HTML injection`);
    refuse(/\beval\s*\(|new\s+Function\b|setTimeout\(\s*['"`]/, js, `${f}: no eval`);
    refuse(/\.style\b|'style'|setAttribute\(\s*'style'/, js, `${f}: no inline styles`);
    refuse(/\b(?:localStorage|sessionStorage)\.setItem\((?!STORAGE_KEY)/, js, `${f}: only the language is stored`);
    refuse(/\bdocument\.cookie\b/, js, `${f}: the session cookie is HttpOnly and never touched`);
    for (const m of js.matchAll(/https?:\/\/[^\s'"`]+/g)) {
      assert.equal(m[0], 'http://www.w3.org/2000/svg', `${f}: no outside URL (${m[0]})`);
    }
    for (const m of js.matchAll(/^import\b[^'"]*['"]([^'"]+)['"]/gm)) {
      assert.match(m[1], /^\.\/[\w-]+\.js$/, `${f}: relative import ${m[1]}`);
      assert.ok(files.includes(m[1].slice(2)), `${f}: ${m[1]} exists`);
    }
  }
  const css = read('styles.css');
  assert.doesNotMatch(css, /@import|url\(\s*['"]?https?:/i, 'styles.css loads nothing from elsewhere');
});
