// The keys view's long-running actions: the "add keys" dialog (reports added / duplicates /
// rejected with reasons) and bulk actions with a progress bar, a cancel button and a result
// summary listing each failure. Large jobs are sent in chunks so progress is real.

import {get, post} from './api.js';
import {t, lang} from './i18n.js';
import {h, fill, openDialog, toast} from './ui.js';
import {fmtInt, splitKeys, maskSecret, chunk} from './format.js';

const ADD_CHUNK = 1000;      // keys per POST /admin/api/keys
const VERIFY_CHUNK = 20;     // verify probes Google: small chunks keep the progress bar moving
const BULK_CHUNK = 200;
const LIST_PAGE = 500;       // page size when collecting "all matching" ids
const MAX_LISTED = 200;      // failures listed in the summary

/**
 * The keys of the add dialog's text, one entry per key: a line with options ("key,weight=2,
 * group=paid") stays whole (the server reads its options), other lines split into keys at any
 * separator. Each entry remembers its line, so a refused option names the line the user sees.
 */
function splitEntries(text) {
  const out = [];
  String(text || '').split('\n').forEach((line, i) => {
    if (line.includes('=')) {
      if (line.trim()) out.push({text: line.trim(), key: line.split(',')[0].trim(), line: i + 1});
    } else {
      for (const k of splitKeys(line)) out.push({text: k, key: k, line: i + 1});
    }
  });
  return out;
}

/** Opens the add-keys dialog; resolves when it is closed (after adding or not). */
export function openAddKeysDialog() {
  const area = h('textarea', {class: 'keys-input', rows: 8, spellcheck: 'false', autocomplete: 'off',
                              'data-testid': 'add-keys-input', placeholder: t('add.placeholder'),
                              'aria-label': t('add.label')});
  const count = h('p', {class: 'muted small', 'data-testid': 'add-keys-count'}, t('add.detected', {n: 0}));
  const result = h('div', {class: 'add-result', 'data-testid': 'add-keys-result', hidden: true});
  const progress = h('progress', {class: 'progress', max: 1, value: 0, hidden: true});
  area.addEventListener('input', () => {
    count.textContent = t('add.detected', {n: fmtInt(splitEntries(area.value).length, lang())});
  });
  const d = openDialog({
    title: t('add.title'), testid: 'add-keys-dialog', cls: 'dialog-wide',
    body: [h('p', {class: 'muted'}, t('add.hint')), area, count, progress, result],
    buttons: [{label: t('cancel'), cls: 'btn-ghost', testid: 'add-keys-cancel'},
              {label: t('add.submit'), cls: 'btn-primary', testid: 'add-keys-submit', onclick: submit}],
  });

  async function submit() {
    const entries = splitEntries(area.value);
    const keys = entries.map((e) => e.key);
    if (!keys.length) {
      toast(t('add.empty'), 'error');
      area.focus();
      return false;
    }
    area.disabled = true;
    d.setButtons([]);
    progress.hidden = false;
    progress.max = keys.length;
    progress.value = 0;
    const sum = {added: 0, duplicates: 0, rejected: 0, items: []};
    let offset = 0;
    let error = null;
    for (const part of chunk(entries, ADD_CHUNK)) {
      try {
        // One entry per line: the server's line numbers and item indexes are the entries'.
        const r = await post('keys', {text: part.map((e) => e.text).join('\n')});
        sum.added += r.added || 0;
        sum.duplicates += r.duplicates || 0;
        sum.rejected += r.rejected || 0;
        for (const it of r.rejected_items || []) {
          sum.items.push({index: offset + it.index, reason: it.reason});
        }
      } catch (e) {
        // "line 3: weight: ..." of this chunk → the line of the text the user typed.
        const m = /^line (\d+):/.exec(e.message || '');
        const entry = m ? part[Number(m[1]) - 1] : null;
        error = entry ? new Error(e.message.replace(/^line \d+:/, `line ${entry.line}:`)) : e;
        break;
      }
      offset += part.length;
      progress.value = offset;
    }
    progress.hidden = true;
    showAddResult(result, sum, keys, error, keys.length - offset);
    area.value = '';  // the secrets do not stay on screen
    area.disabled = false;
    d.setButtons([{label: t('add.more'), cls: 'btn-ghost', testid: 'add-keys-more',
                   onclick: () => { result.hidden = true; restoreButtons(); return false; }},
                  {label: t('close'), cls: 'btn-primary', testid: 'add-keys-close'}]);
    return false;
  }

  function restoreButtons() {
    count.textContent = t('add.detected', {n: 0});
    d.setButtons([{label: t('cancel'), cls: 'btn-ghost', testid: 'add-keys-cancel'},
                  {label: t('add.submit'), cls: 'btn-primary', testid: 'add-keys-submit', onclick: submit}]);
  }
  area.focus();
  return d.closed;
}

function showAddResult(box, sum, keys, error, notSent) {
  const stat = (cls, label, n, testid) => h('div', {class: `stat ${cls}`, 'data-testid': testid},
                                            h('span', {class: 'stat-value'}, fmtInt(n, lang())),
                                            h('span', {class: 'stat-label'}, label));
  fill(box,
      h('div', {class: 'stats-row'},
        stat('ok', t('add.added'), sum.added, 'add-added'),
        stat('warn', t('add.duplicates'), sum.duplicates, 'add-duplicates'),
        stat('bad', t('add.rejected'), sum.rejected, 'add-rejected')),
      sum.items.length
          ? h('ul', {class: 'failure-list', 'data-testid': 'add-rejected-list'},
              sum.items.slice(0, MAX_LISTED).map((it) => h('li', {},
                h('span', {class: 'muted'}, t('add.line', {n: it.index + 1})), ' ',
                h('code', {}, maskSecret(keys[it.index])), ' — ', it.reason || '?')))
          : null,
      error ? h('p', {class: 'form-error', role: 'alert'},
                t('add.error', {msg: error.message, n: fmtInt(notSent, lang())})) : null);
  box.hidden = false;
}

/** All ids matching a status/search filter, page by page (for "all matching" bulk actions). */
async function collectIds({status, q}, onProgress, isCancelled) {
  const ids = [];
  for (let page = 1; ; page++) {
    const r = await get('keys', {status, q, page, per_page: LIST_PAGE});
    for (const k of r.items || []) ids.push(k.id);
    onProgress(ids.length, r.total);
    const per = r.per_page || LIST_PAGE;
    if (!r.items || r.items.length < per || ids.length >= r.total || isCancelled()) break;
  }
  return ids;
}

/**
 * Runs a bulk action on target {ids} or {status, q, total} (all keys matching the filter) in a
 * progress dialog. Resolves with {succeeded, failed} once the user closed the summary.
 */
export async function runBulk(action, target) {
  let cancelled = false;
  const bar = h('progress', {class: 'progress', max: 1, value: 0, 'data-testid': 'bulk-progress'});
  const status = h('p', {class: 'progress-text', 'data-testid': 'bulk-progress-text'}, t('bulk.starting'));
  const summary = h('div', {class: 'bulk-summary', 'data-testid': 'bulk-summary', hidden: true});
  const d = openDialog({
    title: t('bulk.title', {action: t(`action.${action}`)}), testid: 'bulk-dialog', cls: 'dialog-wide',
    body: [bar, status, summary],
    buttons: [{label: t('bulk.stop'), cls: 'btn-ghost', testid: 'bulk-stop',
               onclick: () => { cancelled = true; status.textContent = t('bulk.stopping'); return false; }}],
  });
  const res = {succeeded: 0, failed: 0, failures: []};
  let error = null;
  try {
    let ids = target.ids;
    if (!ids) {
      status.textContent = t('bulk.collecting');
      ids = await collectIds(target, (n, total) => {
        bar.max = Math.max(1, total);
        bar.value = n;
        status.textContent = t('bulk.collected', {n: fmtInt(n, lang()), total: fmtInt(total, lang())});
      }, () => cancelled);
    }
    bar.max = Math.max(1, ids.length);
    bar.value = 0;
    let done = 0;
    for (const part of chunk(ids, action === 'verify' ? VERIFY_CHUNK : BULK_CHUNK)) {
      if (cancelled) break;
      const r = await post('keys/bulk', {action, ids: part});
      for (const it of r.results || []) {
        if (it.ok) res.succeeded++;
        else { res.failed++; res.failures.push(it); }
      }
      done += part.length;
      bar.value = done;
      status.textContent = t('bulk.progress', {done: fmtInt(done, lang()), total: fmtInt(ids.length, lang()),
                                               ok: fmtInt(res.succeeded, lang()), bad: fmtInt(res.failed, lang())});
    }
    res.notRun = ids.length - done;
  } catch (e) {
    error = e;
  }
  status.textContent = cancelled ? t('bulk.stopped') : error ? t('bulk.error', {msg: error.message}) : t('bulk.done');
  fill(summary,
      h('div', {class: 'stats-row'},
        h('div', {class: 'stat ok', 'data-testid': 'bulk-succeeded'},
          h('span', {class: 'stat-value'}, fmtInt(res.succeeded, lang())), h('span', {class: 'stat-label'}, t('bulk.succeeded'))),
        h('div', {class: `stat${res.failed ? ' bad' : ''}`, 'data-testid': 'bulk-failed'},
          h('span', {class: 'stat-value'}, fmtInt(res.failed, lang())), h('span', {class: 'stat-label'}, t('bulk.failed'))),
        res.notRun ? h('div', {class: 'stat'},
                       h('span', {class: 'stat-value'}, fmtInt(res.notRun, lang())), h('span', {class: 'stat-label'}, t('bulk.not_run')))
                   : null),
      res.failures.length
          ? h('ul', {class: 'failure-list', 'data-testid': 'bulk-failures'},
              res.failures.slice(0, MAX_LISTED).map((f) => h('li', {}, h('code', {}, `#${f.id}`), ' — ', f.reason || '?')),
              res.failures.length > MAX_LISTED
                  ? h('li', {class: 'muted'}, t('bulk.more', {n: fmtInt(res.failures.length - MAX_LISTED, lang())}))
                  : null)
          : null);
  summary.hidden = false;
  d.setButtons([{label: t('close'), cls: 'btn-primary', testid: 'bulk-close'}]);
  await d.closed;
  return res;
}
