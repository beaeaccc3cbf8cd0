// Logs view: request and error logs, newest first, one server-side page at a time, with filters
// (time range, key id, model, status code or class), row details, and delete selected /
// delete matching the filter / clear all (each confirmed).

import {get, del} from './api.js';
import {t, lang} from './i18n.js';
import {h, toast, confirmDialog, openDialog, httpBadge, pager, emptyRow} from './ui.js';
import {fmtInt, fmtTime, fmtDuration, isStatusFilter, toLocalInput, fromLocalInput} from './format.js';

const RANGES = {any: 0, '1h': 3600e3, '24h': 86400e3, '7d': 7 * 86400e3};

/** Mounts the view into root; returns its cleanup function. */
export function mount(root, {params}) {
  let alive = true;
  const state = {
    kind: params.get('kind') === 'error' ? 'error' : 'request',
    filter: {key: params.get('key') || '', model: params.get('model') || '', status: params.get('status') || '',
             range: 'any', from: '', to: ''},
    page: 1, per_page: 50, data: null, selected: new Set(), seq: 0,
  };
  const f = {
    range: h('select', {'data-testid': 'filter-range'},
             [...Object.keys(RANGES), 'custom'].map((r) => h('option', {value: r}, t(`logs.range_${r}`)))),
    from: h('input', {type: 'datetime-local', 'data-testid': 'filter-from', 'aria-label': t('logs.from')}),
    to: h('input', {type: 'datetime-local', 'data-testid': 'filter-to', 'aria-label': t('logs.to')}),
    key: h('input', {type: 'text', inputmode: 'numeric', class: 'narrow', value: state.filter.key,
                     placeholder: t('logs.key_ph'), 'data-testid': 'filter-key'}),
    model: h('input', {type: 'text', value: state.filter.model, placeholder: t('logs.model_ph'), 'data-testid': 'filter-model'}),
    status: h('input', {type: 'text', class: 'narrow', list: 'status-options', value: state.filter.status,
                        placeholder: t('logs.status_ph'), 'data-testid': 'filter-status'}),
  };
  const filterError = h('p', {class: 'form-error', role: 'alert', 'data-testid': 'filter-error', hidden: true});
  const customBox = h('span', {class: 'custom-range', hidden: true},
                      h('label', {}, t('logs.from'), f.from), h('label', {}, t('logs.to'), f.to));
  const tabs = h('div', {class: 'tabs', role: 'tablist'});
  const thead = h('thead');
  const tbody = h('tbody', {'data-testid': 'logs-body'});
  const pagerBox = h('div');
  // With a key filter on the request log: that key's latest failed attempts in Google's words,
  // from the error log (one row per failed attempt), above the requests it answered or failed in.
  const failures = h('div', {class: 'attempt-failures', 'data-testid': 'key-failures', hidden: true});
  const selInfo = h('span', {class: 'muted small', 'data-testid': 'logs-selected'});
  const delSelected = h('button', {type: 'button', class: 'btn btn-small btn-danger', disabled: true,
                                   'data-testid': 'logs-delete-selected', onclick: () => remove('selected')},
                        t('logs.delete_selected'));
  const form = h('form', {class: 'filters', 'data-testid': 'logs-filters'},
                 h('label', {}, t('logs.time'), f.range), customBox,
                 h('label', {}, t('col.key_id'), f.key), h('label', {}, t('col.model'), f.model),
                 h('label', {}, t('col.status'), f.status),
                 h('datalist', {id: 'status-options'}, ['2xx', '4xx', '5xx', '400', '401', '403', '429', '500', '503']
                     .map((v) => h('option', {value: v}))),
                 h('button', {type: 'submit', class: 'btn btn-primary', 'data-testid': 'filter-apply'}, t('logs.apply')),
                 h('button', {type: 'button', class: 'btn btn-ghost', 'data-testid': 'filter-clear', onclick: clearFilters},
                   t('logs.clear_filters')));
  form.addEventListener('submit', (ev) => { ev.preventDefault(); apply(); });
  f.range.addEventListener('change', () => {
    customBox.hidden = f.range.value !== 'custom';
    if (f.range.value === 'custom' && !f.from.value) f.from.value = toLocalInput(Date.now() - 86400e3);
    if (f.range.value !== 'custom') apply();
  });

  root.append(
      h('div', {class: 'view-head'}, h('h1', {}, t('nav.logs')),
        h('div', {class: 'view-actions'},
          h('button', {type: 'button', class: 'btn', 'data-testid': 'logs-refresh', onclick: () => load()}, t('refresh')))),
      h('section', {class: 'panel'}, tabs, form, filterError,
        h('div', {class: 'toolbar toolbar-actions'}, selInfo, h('span', {class: 'spacer'}), delSelected,
          h('button', {type: 'button', class: 'btn btn-small btn-danger-ghost', 'data-testid': 'logs-delete-filtered',
                       onclick: () => remove('filter')}, t('logs.delete_filtered')),
          h('button', {type: 'button', class: 'btn btn-small btn-danger-ghost', 'data-testid': 'logs-clear-all',
                       onclick: () => remove('all')}, t('logs.clear_all'))),
        failures,
        h('div', {class: 'table-wrap', 'data-testid': 'logs-table-wrap'},
          h('table', {class: 'table logs-table', 'data-testid': 'logs-table'}, thead, tbody)),
        pagerBox));

  function clearFilters() {
    f.range.value = 'any';
    customBox.hidden = true;
    for (const k of ['from', 'to', 'key', 'model', 'status']) f[k].value = '';
    apply();
  }

  /** Reads the form; returns the API's filter object, or null (with a message) when invalid. */
  function readFilter() {
    const key = f.key.value.trim(), status = f.status.value.trim().toLowerCase();
    let msg = '';
    if (key && !/^\d+$/.test(key)) msg = t('logs.bad_key');
    else if (status && !isStatusFilter(status)) msg = t('logs.bad_status');
    let from = null, to = null;
    if (f.range.value === 'custom') {
      from = fromLocalInput(f.from.value);
      to = fromLocalInput(f.to.value);
      if (from && to && from >= to) msg = t('logs.bad_range');
    } else if (RANGES[f.range.value]) {
      from = Date.now() - RANGES[f.range.value];
    }
    filterError.textContent = msg;
    filterError.hidden = !msg;
    if (msg) return null;
    return {from, to, key: key || null, model: f.model.value.trim() || null, status: status || null};
  }

  function apply() {
    const flt = readFilter();
    if (!flt) return;
    state.filter = flt;
    state.page = 1;
    state.selected.clear();
    load();
  }

  function renderTabs() {
    tabs.replaceChildren(...['request', 'error'].map((k) => h('button', {
      type: 'button', role: 'tab', class: `tab${state.kind === k ? ' active' : ''}`, 'data-testid': `logs-tab-${k}`,
      'aria-selected': state.kind === k ? 'true' : 'false',
      onclick: () => { if (state.kind !== k) { state.kind = k; state.page = 1; state.selected.clear(); load(); } },
    }, t(`logs.kind_${k}`))));
  }

  // Few enough columns to fit 1440 px with long paths, models and errors (see .logs-table in
  // styles.css): method and stream ride with the path; the full row is under Details.
  const COLS = {
    request: ['time', 'status', 'path', 'model', 'key_id', 'token_id', 'latency', 'attempts', 'tokens', 'error'],
    error: ['time', 'status', 'kind', 'key_id', 'model', 'route', 'message'],
  };
  const clip = (cls, text) => h('div', {class: `clip ${cls}`, title: text || ''}, text || '—');

  function cell(row, c) {
    const L = lang();
    switch (c) {
      case 'time': return h('td', {class: 'nowrap'}, fmtTime(row.time, L));
      case 'status': return h('td', {'data-testid': 'log-status'}, httpBadge(row.status));
      case 'key_id': return h('td', {'data-testid': 'log-key'}, row.key_id == null ? '—' : `#${row.key_id}`,
                              row.failed_key_ids?.length
                                  ? h('span', {class: 'keys-tried', 'data-testid': 'log-failed-keys'},
                                      t('logs.failed_keys', {ids: row.failed_key_ids.map((id) => `#${id}`).join(', ')}))
                                  : null);
      case 'token_id': return h('td', {}, row.token_id == null ? '—' : `#${row.token_id}`);
      case 'latency': return h('td', {class: 'num'}, fmtDuration(row.latency_ms));
      case 'attempts': return h('td', {class: 'num'}, fmtInt(row.attempts, L));
      case 'stream': return h('td', {}, row.stream ? t('yes') : t('no'));
      case 'tokens': return h('td', {class: 'num', title: `${t('logs.prompt')}: ${fmtInt(row.prompt_tokens, L)}\n${
          t('logs.completion')}: ${fmtInt(row.completion_tokens, L)}`}, fmtInt(row.total_tokens, L));
      case 'model': return h('td', {}, clip('clip-model', row.model));
      case 'path': return h('td', {}, h('div', {class: 'clip clip-path', title: `${row.method} ${row.path}`},
                                        h('span', {class: 'method'}, row.method), row.path || '—'),
                            row.stream ? h('span', {class: 'badge badge-info'}, t('col.stream')) : null);
      case 'route': return h('td', {}, clip('clip-model', row.route));
      case 'error': case 'message':
        return h('td', {class: 'err', 'data-testid': 'log-error'},
                 row[c] ? h('span', {class: 'err-text', title: row[c]}, row[c]) : '—');
      default: return h('td', {}, row[c] === undefined || row[c] === '' ? '—' : String(row[c]));
    }
  }

  function render() {
    const cols = COLS[state.kind];
    const items = state.data?.items || [];
    const all = h('input', {type: 'checkbox', 'aria-label': t('keys.select_page'), 'data-testid': 'logs-select-page',
                            checked: items.length > 0 && items.every((r) => state.selected.has(r.id))});
    all.addEventListener('change', () => {
      for (const r of items) { if (all.checked) state.selected.add(r.id); else state.selected.delete(r.id); }
      render();
    });
    thead.replaceChildren(h('tr', {}, h('th', {class: 'sel'}, all), cols.map((c) => h('th', {}, t(`col.${c}`))), h('th')));
    const frag = document.createDocumentFragment();
    if (!items.length) frag.append(emptyRow(cols.length + 2, t('logs.none')));
    for (const r of items) {
      const box = h('input', {type: 'checkbox', checked: state.selected.has(r.id), 'aria-label': `#${r.id}`});
      box.addEventListener('change', () => {
        if (box.checked) state.selected.add(r.id); else state.selected.delete(r.id);
        updateSelection();
      });
      frag.append(h('tr', {'data-log-id': r.id, 'data-testid': 'log-row'}, h('td', {class: 'sel'}, box),
                    cols.map((c) => cell(r, c)),
                    h('td', {}, h('button', {type: 'button', class: 'btn btn-small btn-ghost',
                                             onclick: () => details(r)}, t('logs.details')))));
    }
    tbody.replaceChildren(frag);
    pagerBox.replaceChildren(pager({page: state.data?.page || 1, per_page: state.data?.per_page || state.per_page,
                                    total: state.data?.total || 0, lang: lang(),
                                    onChange: ({page, per_page}) => { state.page = page; state.per_page = per_page; load(); }}));
    updateSelection();
  }

  function updateSelection() {
    const n = state.selected.size;
    selInfo.textContent = t('logs.total', {n: fmtInt(state.data?.total || 0, lang())}) +
        (n ? ` · ${t('keys.n_selected', {n: fmtInt(n, lang())})}` : '');
    delSelected.disabled = n === 0;
  }

  function details(r) {
    openDialog({title: t('logs.details_title', {id: r.id}), cls: 'dialog-wide',
                body: [h('pre', {class: 'json'}, JSON.stringify(r, null, 2))],
                buttons: [{label: t('close'), cls: 'btn-primary'}]});
  }

  function apiFilter() {
    const x = state.filter;
    return {from: x.from, to: x.to, key: x.key, model: x.model, status: x.status};
  }

  function renderFailures(key, data) {
    failures.hidden = !key;
    if (!key) return failures.replaceChildren();
    const L = lang();
    const items = data?.items || [];
    failures.replaceChildren(
        h('div', {class: 'panel-head'},
          h('h2', {}, t('logs.key_failures', {id: key, n: fmtInt(data?.total || 0, L)})),
          data?.total ? h('button', {type: 'button', class: 'btn btn-small', 'data-testid': 'key-failures-all',
                                     onclick: () => { state.kind = 'error'; state.page = 1; state.selected.clear(); load(); }},
                          t('logs.key_failures_all')) : null),
        items.length
            ? h('div', {class: 'table-wrap'}, h('table', {class: 'table logs-table'}, h('tbody', {}, items.map((r) => h('tr', {'data-testid': 'key-failure'},
                h('td', {class: 'nowrap'}, fmtTime(r.time, L)), h('td', {}, httpBadge(r.status)),
                h('td', {class: 'err'}, h('span', {class: 'err-text', title: r.message}, r.message || '—')),
                h('td', {}, clip('clip-model', r.model)), h('td', {class: 'nowrap'}, r.kind))))))
            : h('p', {class: 'muted small'}, t('logs.key_no_failures')));
  }

  async function load() {
    const seq = ++state.seq;
    renderTabs();
    root.dataset.loading = 'true';
    try {
      const key = state.kind === 'request' ? state.filter.key : null;
      const [data, failed] = await Promise.all([
        get('logs', {kind: state.kind, ...apiFilter(), page: state.page, per_page: state.per_page}),
        key ? get('logs', {kind: 'error', from: state.filter.from, to: state.filter.to, key, page: 1, per_page: 10})
            : null]);
      if (!alive || seq !== state.seq) return;
      state.data = data;
      renderFailures(key, failed);
      render();
    } catch (e) {
      if (alive && seq === state.seq) toast(t('load_failed', {msg: e.message}), 'error');
    } finally {
      if (seq === state.seq) delete root.dataset.loading;
    }
  }

  async function remove(mode) {
    const kindLabel = t(`logs.kind_${state.kind}`);
    const n = mode === 'selected' ? state.selected.size : mode === 'filter' ? state.data?.total || 0 : null;
    const ok = await confirmDialog({title: t(`logs.delete_${mode}_title`),
                                    message: t(`logs.confirm_${mode}`, {n: fmtInt(n ?? 0, lang()), kind: kindLabel}),
                                    confirmLabel: t('action.delete')});
    if (!ok) return;
    const body = {kind: state.kind};
    if (mode === 'selected') body.ids = [...state.selected];
    else if (mode === 'filter') {
      body.filter = Object.fromEntries(Object.entries(apiFilter()).filter(([, v]) => v !== null && v !== ''));
      if (body.filter.key) body.filter.key = Number(body.filter.key);
    } else body.all = true;
    try {
      const r = await del('logs', body);
      toast(t('logs.deleted', {n: fmtInt(r.deleted || 0, lang())}), 'ok');
      state.selected.clear();
    } catch (e) {
      toast(t('action_failed', {msg: e.message}), 'error');
    }
    load();
  }

  if (state.filter.key || state.filter.model || state.filter.status) state.filter = readFilter() || state.filter;
  load();
  return () => { alive = false; };
}
