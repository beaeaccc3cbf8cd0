// Client tokens view: the tokens clients use to call gemgate (masked) with their policy and
// usage bars against their limits, creating one (shown once in a dialog with a copy button, then
// forgotten by the page), editing its policy (tokens-edit.js) and deleting one.

import {get, post, del} from './api.js';
import {t, lang} from './i18n.js';
import {h, toast, confirmDialog, openDialog, emptyRow, copyText} from './ui.js';
import {fmtTime, fmtRelative} from './format.js';
import {editToken, usageCell, policyCell} from './tokens-edit.js';

/** Mounts the view into root; returns its cleanup function. */
export function mount(root) {
  let alive = true;
  const tbody = h('tbody', {'data-testid': 'tokens-body'});
  const label = h('input', {type: 'text', maxlength: 100, 'data-testid': 'token-label',
                            placeholder: t('tokens.label_ph'), 'aria-label': t('col.label')});
  const custom = h('input', {type: 'password', autocomplete: 'new-password', spellcheck: 'false',
                             'data-testid': 'token-custom', placeholder: t('tokens.custom_ph'),
                             'aria-label': t('tokens.custom')});
  const form = h('form', {class: 'inline-form', 'data-testid': 'token-form'},
                 h('label', {}, h('span', {}, t('col.label')), label),
                 h('label', {}, h('span', {}, t('tokens.custom')), custom),
                 h('button', {type: 'submit', class: 'btn btn-primary', 'data-testid': 'token-create'},
                   t('tokens.create')));
  form.addEventListener('submit', create);

  root.append(
      h('div', {class: 'view-head'}, h('h1', {}, t('nav.tokens')),
        h('div', {class: 'view-actions'},
          h('button', {type: 'button', class: 'btn', onclick: () => load()}, t('refresh')))),
      h('section', {class: 'panel'}, h('h2', {}, t('tokens.new')),
        h('p', {class: 'muted small'}, t('tokens.hint')), form),
      h('section', {class: 'panel'},
        h('div', {class: 'table-wrap'},
          h('table', {class: 'table', 'data-testid': 'tokens-table'},
            h('thead', {}, h('tr', {}, h('th', {}, t('col.id')), h('th', {}, t('col.label')),
                              h('th', {}, t('col.token')), h('th', {}, t('tokens.col_policy')),
                              h('th', {}, t('tokens.col_usage')), h('th', {}, t('col.created')),
                              h('th', {}, t('col.last_used')), h('th', {}, t('col.actions')))),
            tbody))));

  async function load() {
    try {
      const r = await get('tokens');
      if (!alive) return;
      const now = Date.now();
      const rows = (r.items || []).map((it) => h('tr', {'data-token-id': it.id, 'data-testid': 'token-row'},
        h('td', {}, `#${it.id}`),
        h('td', {}, it.label || h('span', {class: 'muted'}, '—')),
        h('td', {}, h('code', {class: 'masked'}, it.masked)),
        h('td', {}, policyCell(it)),
        h('td', {}, usageCell(it)),
        h('td', {title: fmtTime(it.created_at, lang())}, fmtRelative(it.created_at, now, lang())),
        h('td', {title: fmtTime(it.last_used_at, lang())}, fmtRelative(it.last_used_at, now, lang())),
        h('td', {class: 'actions'},
          h('button', {type: 'button', class: 'btn btn-small', 'data-testid': 'token-edit',
                       onclick: async () => { if (await editToken(it)) load(); }}, t('tokens.edit')),
          h('button', {type: 'button', class: 'btn btn-small btn-danger-ghost', 'data-testid': 'token-delete',
                       onclick: () => remove(it)}, t('action.delete')))));
      tbody.replaceChildren(...(rows.length ? rows : [emptyRow(8, t('tokens.none'))]));
      root.dataset.loaded = 'true';
    } catch (e) {
      if (alive) toast(t('load_failed', {msg: e.message}), 'error');
    }
  }

  async function create(ev) {
    ev.preventDefault();
    const body = {};
    if (label.value.trim()) body.label = label.value.trim();
    if (custom.value) body.token = custom.value;
    const btn = form.querySelector('button[type=submit]');
    btn.disabled = true;
    try {
      const r = await post('tokens', body);
      label.value = '';
      custom.value = '';
      await showOnce(r);
      load();
    } catch (e) {
      toast(t('action_failed', {msg: e.message}), 'error');
    } finally {
      btn.disabled = false;
    }
  }

  async function remove(it) {
    const ok = await confirmDialog({title: t('tokens.delete_title'),
                                    message: t('tokens.delete_confirm', {label: it.label || it.masked}),
                                    confirmLabel: t('action.delete')});
    if (!ok) return;
    try {
      await del(`tokens/${encodeURIComponent(it.id)}`);
      toast(t('tokens.deleted'), 'ok');
    } catch (e) {
      toast(t('action_failed', {msg: e.message}), 'error');
    }
    load();
  }

  load();
  return () => { alive = false; };
}

/** Shows a new token once; the input is emptied when the dialog closes. */
async function showOnce(r) {
  const input = h('input', {type: 'text', readonly: true, value: r.token, class: 'secret-once',
                            spellcheck: 'false', 'data-testid': 'new-token-value', 'aria-label': t('col.token')});
  const copied = h('span', {class: 'muted small', 'aria-live': 'polite', 'data-testid': 'copy-status'});
  const copy = h('button', {type: 'button', class: 'btn', 'data-testid': 'copy-token', onclick: async () => {
    copied.textContent = (await copyText(input.value, input)) ? t('tokens.copied') : t('tokens.copy_manual');
  }}, t('tokens.copy'));
  const d = openDialog({
    title: t('tokens.created_title'), testid: 'new-token-dialog',
    body: [h('p', {class: 'warning', role: 'alert'}, t('tokens.once_warning')),
           h('p', {}, t('tokens.created_for', {label: r.label || '—', masked: r.masked})),
           h('div', {class: 'copy-row'}, input, copy), copied],
    buttons: [{label: t('tokens.done'), cls: 'btn-primary', testid: 'new-token-close'}],
  });
  input.select();
  await d.closed;
  input.value = '';
}
