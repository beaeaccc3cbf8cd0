// DOM helpers shared by the views: element builder (text only, never innerHTML, so nothing the
// API returns can inject markup), dialogs on <dialog>, toasts, status badges and the pager.

import {t} from './i18n.js';
import {fmtInt, pageCount} from './format.js';

/**
 * h('button', {class: 'btn', onclick: fn, dataset: {id: 1}, disabled: true}, 'text', child...)
 * Attributes whose value is false/null/undefined are left out; `on*` functions become listeners.
 */
export function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k === 'value') e.value = v;
    else if (k === 'checked') e.checked = !!v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  append(e, children);
  return e;
}

/** Replaces el's children; null/false/undefined children are skipped (unlike replaceChildren). */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

function append(e, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Shows a short message in the corner for a few seconds. kind: 'ok' | 'error' | 'info'. */
export function toast(message, kind = 'info') {
  let box = document.getElementById('toasts');
  if (!box) {
    box = h('div', {id: 'toasts', class: 'toasts', 'aria-live': 'polite'});
    document.body.append(box);
  }
  const item = h('div', {class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : 'status'},
                 message);
  box.append(item);
  setTimeout(() => item.remove(), kind === 'error' ? 8000 : 4000);
}

/**
 * Opens a modal dialog. body: nodes; buttons: [{label, cls, value, onclick?}] (a button without
 * onclick closes the dialog with its value; onclick may return false to keep it open).
 * Returns {dialog, body, footer, closed: Promise<value>, close(value)}.
 */
export function openDialog({title, body = [], buttons = [], cls = '', testid}) {
  const footer = h('div', {class: 'dialog-footer'});
  const content = h('div', {class: 'dialog-body'}, body);
  const dialog = h('dialog', {class: `dialog ${cls}`, 'data-testid': testid,
                              'aria-labelledby': 'dlg-title'},
                   h('form', {method: 'dialog', class: 'dialog-form'},
                     h('header', {class: 'dialog-header'},
                       h('h2', {id: 'dlg-title'}, title),
                       h('button', {type: 'button', class: 'icon-btn', 'aria-label': t('close'),
                                    onclick: () => close(undefined)}, '×')),
                     content, footer));
  let resolve;
  const closed = new Promise((r) => { resolve = r; });
  const close = (value) => {
    if (dialog.open) dialog.close();
    dialog.remove();
    resolve(value);
  };
  dialog.addEventListener('cancel', (ev) => { ev.preventDefault(); close(undefined); });
  const setButtons = (list) => {
    footer.replaceChildren(...list.map((b) => h('button', {
      type: 'button', class: `btn ${b.cls || ''}`, 'data-testid': b.testid,
      onclick: async (ev) => {
        if (b.onclick) {
          const keep = await b.onclick(ev);
          if (keep === false) return;
        }
        close(b.value);
      },
    }, b.label)));
  };
  setButtons(buttons);
  document.body.append(dialog);
  dialog.showModal();
  return {dialog, body: content, footer, closed, close, setButtons};
}

/** Asks for confirmation; resolves true only when the user confirmed. */
export async function confirmDialog({title, message, confirmLabel, danger = true}) {
  const d = openDialog({
    title, body: [h('p', {class: 'confirm-text'}, message)], testid: 'confirm-dialog',
    buttons: [{label: t('cancel'), value: false, cls: 'btn-ghost', testid: 'confirm-cancel'},
              {label: confirmLabel || t('confirm'), value: true,
               cls: danger ? 'btn-danger' : 'btn-primary', testid: 'confirm-ok'}],
  });
  return (await d.closed) === true;
}

/** A coloured badge for a key status (active / cooling / disabled). */
export function statusBadge(status) {
  return h('span', {class: `badge badge-${status}`, 'data-status': status}, t(`status.${status}`));
}

/** A badge for an HTTP status code (2xx green, 4xx amber, 5xx/0 red). */
export function httpBadge(code) {
  const c = Number(code) || 0;
  const cls = c >= 200 && c < 400 ? 'ok' : c >= 400 && c < 500 ? 'warn' : 'bad';
  return h('span', {class: `badge badge-http-${cls}`}, c ? String(c) : '—');
}

/**
 * The pager under a table: "1–50 of 1,234", prev/next, page number input and page size.
 * onChange({page, per_page}) is called with the new values.
 */
export function pager({page, per_page, total, lang, onChange, sizes = [20, 50, 100, 200]}) {
  const pages = pageCount(total, per_page);
  const first = total ? (page - 1) * per_page + 1 : 0;
  const last = Math.min(total, page * per_page);
  const input = h('input', {type: 'number', min: 1, max: pages, value: page, class: 'pager-input',
                            'aria-label': t('pager.page_label')});
  input.addEventListener('change', () => {
    const p = Math.min(pages, Math.max(1, Math.floor(Number(input.value) || 1)));
    onChange({page: p, per_page});
  });
  const size = h('select', {class: 'pager-size', 'aria-label': t('pager.size')},
                 sizes.map((s) => h('option', {value: s, selected: s === per_page},
                                    t('pager.per_page', {n: s}))));
  size.addEventListener('change', () => onChange({page: 1, per_page: Number(size.value)}));
  return h('div', {class: 'pager', 'data-testid': 'pager'},
           h('span', {class: 'pager-range'},
             t('pager.range', {first: fmtInt(first, lang), last: fmtInt(last, lang),
                               total: fmtInt(total, lang)})),
           h('span', {class: 'pager-controls'},
             h('button', {type: 'button', class: 'btn btn-small', disabled: page <= 1,
                          'data-testid': 'pager-prev',
                          onclick: () => onChange({page: page - 1, per_page})}, t('pager.prev')),
             h('label', {class: 'pager-label'}, t('pager.page'), input,
               t('pager.of', {pages: fmtInt(pages, lang)})),
             h('button', {type: 'button', class: 'btn btn-small', disabled: page >= pages,
                          'data-testid': 'pager-next',
                          onclick: () => onChange({page: page + 1, per_page})}, t('pager.next')),
             size));
}

/** An empty-table row spanning `cols` columns. */
export function emptyRow(cols, text) {
  return h('tr', {class: 'empty-row'}, h('td', {colspan: cols}, text));
}

/** Copies text to the clipboard; falls back to selecting `input` for Ctrl+C. */
export async function copyText(text, input) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    if (input) { input.focus(); input.select(); }
    try { return document.execCommand('copy'); } catch { return false; }
  }
}
