// Keys view: the pool's keys, one server-side page at a time (only that page is in the DOM, so
// 10,000 keys cost the same as 10), with status tabs and counts, a debounced search, per-row
// actions and a selection for bulk actions (keys-actions.js runs those and the add dialog).

import {get, post, del} from './api.js';
import {t, lang} from './i18n.js';
import {h, fill, toast, confirmDialog, statusBadge, pager, emptyRow} from './ui.js';
import {fmtInt, fmtCompact, fmtTime, fmtRelative, fmtSoon, debounce} from './format.js';
import {openAddKeysDialog, runBulk} from './keys-actions.js';
import {openKeyEditor, policySummary, lastMinuteText} from './keys-edit.js';

const STATUSES = ['all', 'active', 'cooling', 'disabled'];
const REFRESH_MS = 10000;
const COLS = 13;

/** Mounts the view into root; returns its cleanup function. */
export function mount(root, {params}) {
  const state = {
    status: STATUSES.includes(params.get('status')) ? params.get('status') : 'all',
    q: params.get('q') || '',
    page: 1, per_page: 50,
    data: null,
    selected: new Set(),   // ids picked on any page
    allMatching: false,    // "all N matching keys" instead of `selected`
    seq: 0, timer: null, alive: true,
  };
  const tabs = h('div', {class: 'tabs', role: 'tablist', 'data-testid': 'status-tabs'});
  const search = h('input', {type: 'search', class: 'search', value: state.q, 'data-testid': 'key-search',
                             placeholder: t('keys.search'), 'aria-label': t('keys.search')});
  const auto = h('input', {type: 'checkbox', 'data-testid': 'keys-auto-refresh'});
  const bulkBar = h('div', {class: 'bulk-bar', 'data-testid': 'bulk-bar', hidden: true});
  const pageBox = h('input', {type: 'checkbox', 'aria-label': t('keys.select_page'), 'data-testid': 'select-page'});
  const tbody = h('tbody', {'data-testid': 'keys-body'});
  const pagerBox = h('div');

  root.append(
      h('div', {class: 'view-head'},
        h('h1', {}, t('nav.keys')),
        h('div', {class: 'view-actions'},
          h('label', {class: 'check'}, auto, t('auto_refresh')),
          h('button', {type: 'button', class: 'btn', 'data-testid': 'keys-refresh', onclick: () => load()}, t('refresh')),
          h('button', {type: 'button', class: 'btn btn-primary', 'data-testid': 'add-keys',
                       onclick: () => openAddKeysDialog().then(() => load())}, t('keys.add')))),
      h('section', {class: 'panel'},
        h('div', {class: 'toolbar'}, tabs, search),
        bulkBar,
        h('div', {class: 'table-wrap'},
          h('table', {class: 'table keys-table', 'data-testid': 'keys-table'},
            h('thead', {}, h('tr', {},
              h('th', {class: 'sel'}, pageBox), h('th', {}, t('col.id')), h('th', {}, t('col.key')),
              h('th', {}, t('col.status')), h('th', {}, t('col.reason')), h('th', {class: 'num'}, t('col.failures_now')),
              h('th', {}, t('col.policy')), h('th', {}, t('col.last_minute')),
              h('th', {class: 'num'}, t('col.calls_24h')), h('th', {class: 'num'}, t('col.tokens_24h')),
              h('th', {}, t('col.last_used')), h('th', {}, t('col.last_checked')), h('th', {}, t('col.actions')))),
            tbody)),
        pagerBox));

  const onSearch = debounce(() => {
    if (search.value.trim() === state.q) return;  // e.g. a space typed: same search
    state.q = search.value.trim();
    state.page = 1;
    clearSelection();
    load();
  }, 300);
  search.addEventListener('input', onSearch);
  pageBox.addEventListener('change', () => {
    for (const k of state.data?.items || []) {
      if (pageBox.checked) state.selected.add(k.id); else state.selected.delete(k.id);
    }
    state.allMatching = false;
    renderRows();
    renderBulk();
  });

  function clearSelection() {
    state.selected.clear();
    state.allMatching = false;
  }

  function renderTabs() {
    const counts = state.data?.counts || {};
    tabs.replaceChildren(...STATUSES.map((s) => h('button', {
      type: 'button', role: 'tab', class: `tab${state.status === s ? ' active' : ''}`,
      'aria-selected': state.status === s ? 'true' : 'false', 'data-testid': `tab-${s}`,
      onclick: () => {
        if (state.status === s) return;
        state.status = s;
        state.page = 1;
        clearSelection();
        load();
      },
    }, t(s === 'all' ? 'keys.tab_all' : `status.${s}`),
       h('span', {class: 'tab-count'}, counts[s] === undefined ? '' : fmtInt(counts[s], lang())))));
  }

  function matchingCount() {
    return state.data ? state.data.total : 0;
  }

  function renderBulk() {
    const n = state.allMatching ? matchingCount() : state.selected.size;
    bulkBar.hidden = n === 0;
    if (!n) return;
    const items = state.data?.items || [];
    const pageAll = items.length > 0 && items.every((k) => state.selected.has(k.id));
    const act = (action, cls = '') => h('button', {
      type: 'button', class: `btn btn-small ${cls}`, 'data-testid': `bulk-${action}`,
      onclick: () => bulk(action),
    }, t(`action.${action}`));
    fill(bulkBar,
        h('span', {class: 'bulk-count', 'data-testid': 'bulk-count'},
          state.allMatching ? t('keys.all_matching_selected', {n: fmtInt(n, lang())})
                            : t('keys.n_selected', {n: fmtInt(n, lang())})),
        !state.allMatching && pageAll && matchingCount() > items.length
            ? h('button', {type: 'button', class: 'link-btn', 'data-testid': 'select-all-matching',
                           onclick: () => { state.allMatching = true; renderBulk(); renderRows(); }},
                t('keys.select_all_matching', {n: fmtInt(matchingCount(), lang())}))
            : null,
        h('span', {class: 'spacer'}),
        act('verify'), act('reset'), act('enable'), act('disable'), act('delete', 'btn-danger'),
        h('button', {type: 'button', class: 'btn btn-small btn-ghost', 'data-testid': 'bulk-clear',
                     onclick: () => { clearSelection(); renderRows(); renderBulk(); }}, t('keys.clear_selection')));
  }

  // One line per model the key cannot serve right now: which model, why, and until when. A key
  // cooling for one model still serves the others, so the badge alone would not tell.
  function cooldownText(k) {
    const now = Date.now();
    const L = lang();
    return (k.cooldowns || []).filter((c) => c.until > now)
        .map((c) => t(c.kind === 'circuit' ? 'keys.cooldown_circuit' : 'keys.cooldown_quota', {
          model: c.model === '*' ? t('keys.cooldown_all_models') : c.model,
          time: fmtSoon(c.until, now, L), rel: fmtRelative(c.until, now, L)}));
  }

  function row(k) {
    const now = Date.now();
    const checked = state.allMatching || state.selected.has(k.id);
    const box = h('input', {type: 'checkbox', checked, disabled: state.allMatching,
                            'aria-label': t('keys.select_row', {id: k.id})});
    box.addEventListener('change', () => {
      if (box.checked) state.selected.add(k.id); else state.selected.delete(k.id);
      syncPageBox();
      renderBulk();
    });
    const btn = (action, label, cls = '') => h('button', {
      type: 'button', class: `btn btn-small ${cls}`, 'data-testid': `row-${action}`,
      onclick: (ev) => rowAction(k, action, ev.currentTarget),
    }, label);
    const reason = [k.reason, k.last_error && k.last_error !== k.reason ? k.last_error : '']
        .filter(Boolean).join(' · ');
    return h('tr', {'data-key-id': k.id, 'data-status': k.status, 'data-testid': 'key-row'},
             h('td', {class: 'sel'}, box),
             h('td', {}, h('a', {href: `#/logs?key=${encodeURIComponent(k.id)}`, title: t('dash.show_logs')}, `#${k.id}`)),
             h('td', {}, h('code', {class: 'masked'}, k.masked)),
             h('td', {}, statusBadge(k.status),
               cooldownText(k).map((c) => h('span', {class: 'cooldown', 'data-testid': 'key-cooldown'}, c))),
             h('td', {class: 'reason', 'data-testid': 'key-reason', title: reason}, reason || '—'),
             h('td', {class: 'num'}, fmtInt(k.failures, lang())),
             h('td', {class: 'policy', 'data-testid': 'key-policy', title: [k.proxy, k.note].filter(Boolean).join(' · ')},
               policySummary(k) || '—', k.note ? h('span', {class: 'muted small key-note'}, k.note) : null),
             h('td', {class: 'last-minute', 'data-testid': 'key-last-minute'},
               lastMinuteText(k, (n) => fmtCompact(n, lang()))),
             h('td', {class: 'num'}, fmtInt(k.calls_24h, lang())),
             h('td', {class: 'num'}, fmtCompact(k.tokens_24h, lang())),
             h('td', {title: fmtTime(k.last_used_at, lang())}, fmtRelative(k.last_used_at, now, lang())),
             h('td', {title: fmtTime(k.last_checked_at, lang())}, fmtRelative(k.last_checked_at, now, lang())),
             h('td', {class: 'actions'},
               btn('edit', t('action.edit')), btn('verify', t('action.verify')), btn('reset', t('action.reset')),
               k.status === 'disabled' ? btn('enable', t('action.enable')) : btn('disable', t('action.disable')),
               btn('delete', t('action.delete'), 'btn-danger-ghost')));
  }

  function syncPageBox() {
    const items = state.data?.items || [];
    const n = items.filter((k) => state.allMatching || state.selected.has(k.id)).length;
    pageBox.checked = items.length > 0 && n === items.length;
    pageBox.indeterminate = n > 0 && n < items.length;
  }

  function renderRows() {
    const items = state.data?.items || [];
    const frag = document.createDocumentFragment();
    if (!items.length) frag.append(emptyRow(COLS, state.q || state.status !== 'all' ? t('keys.none_match') : t('keys.none')));
    for (const k of items) frag.append(row(k));
    tbody.replaceChildren(frag);
    syncPageBox();
  }

  function render() {
    renderTabs();
    renderRows();
    renderBulk();
    pagerBox.replaceChildren(pager({
      page: state.data.page, per_page: state.data.per_page, total: state.data.total, lang: lang(),
      onChange: ({page, per_page}) => { state.page = page; state.per_page = per_page; load(); },
    }));
  }

  async function load() {
    const seq = ++state.seq;
    root.dataset.loading = 'true';
    try {
      const data = await get('keys', {status: state.status, q: state.q, page: state.page, per_page: state.per_page});
      if (!state.alive || seq !== state.seq) return;  // a newer request is on its way
      state.data = data;
      state.page = data.page || state.page;
      render();
    } catch (e) {
      if (state.alive && seq === state.seq) toast(t('load_failed', {msg: e.message}), 'error');
    } finally {
      if (seq === state.seq) delete root.dataset.loading;
    }
  }

  async function rowAction(k, action, button) {
    if (action === 'edit') {
      if (await openKeyEditor(k)) load();
      return;
    }
    if (action === 'delete') {
      const ok = await confirmDialog({title: t('keys.delete_title'),
                                      message: t('keys.delete_one', {key: k.masked, id: k.id}),
                                      confirmLabel: t('action.delete')});
      if (!ok) return;
    }
    button.disabled = true;
    button.classList.add('busy');
    try {
      if (action === 'delete') {
        await del(`keys/${encodeURIComponent(k.id)}`);
        state.selected.delete(k.id);
        toast(t('keys.deleted', {id: k.id}), 'ok');
      } else if (action === 'verify') {
        const r = await post(`keys/${encodeURIComponent(k.id)}/verify`);
        if (r.ok) toast(t('keys.verify_ok', {id: k.id}), 'ok');
        else toast(t('keys.verify_failed', {id: k.id, reason: r.reason || '?'}), 'error');
      } else {
        await post(`keys/${encodeURIComponent(k.id)}/${action}`);
        toast(t(`keys.done_${action}`, {id: k.id}), 'ok');
      }
    } catch (e) {
      toast(t('action_failed', {msg: e.message}), 'error');
    } finally {
      button.disabled = false;
      button.classList.remove('busy');
    }
    load();
  }

  async function bulk(action) {
    const target = state.allMatching ? {status: state.status, q: state.q, total: matchingCount()}
                                     : {ids: [...state.selected]};
    const n = state.allMatching ? matchingCount() : state.selected.size;
    if (action === 'delete' || action === 'disable') {
      const ok = await confirmDialog({title: t(`action.${action}`),
                                      message: t(`keys.bulk_confirm_${action}`, {n: fmtInt(n, lang())}),
                                      confirmLabel: t(`action.${action}`)});
      if (!ok) return;
    }
    await runBulk(action, target);
    // The summary told what happened; start the next action from a clean selection (an
    // "all matching" set may not match any more after e.g. disable).
    clearSelection();
    load();
  }

  function schedule() {
    clearTimeout(state.timer);
    state.timer = setTimeout(async () => {
      if (auto.checked && !document.hidden && !document.querySelector('dialog[open]')) await load();
      if (state.alive) schedule();
    }, REFRESH_MS);
  }

  renderTabs();
  tbody.append(emptyRow(COLS, t('loading')));
  load();
  schedule();
  return () => { state.alive = false; clearTimeout(state.timer); onSearch.cancel(); };
}
